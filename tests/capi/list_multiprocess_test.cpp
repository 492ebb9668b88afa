// List across real processes (fork): concurrent appends keep each
// appender's order and lose nothing, and a process killed with SIGKILL at
// random moments while appending and popping never leaves a torn value, a
// lost acknowledged append or a wedged list.
#include <sys/mman.h>

#include <atomic>
#include <random>
#include <thread>

#include "common.hpp"
#include "shared_containers.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class ListMp : public CapiTest {};

TEST_F(ListMp, ConcurrentAppendsKeepEachProcessesOrder) {
  const std::string name = Name("l");
  constexpr int kProcs = 3, kEach = 1000;
  polyipc_list_options o = ListOpts(1 << 20, kProcs * kEach);
  {
    List l;
    CAPI_ASSERT_OK(polyipc_list_open(name.c_str(), POLYIPC_CREATE_ONLY, &o, l.out(), &e));
  }
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pids.push_back(kids.Add(Spawn([&, p] {
      List l;
      CHILD_REQUIRE(polyipc_list_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, l.out(), nullptr) == 0);
      for (int i = 0; i < kEach; ++i) {
        const std::string v = json{{"p", p}, {"i", i}}.dump();
        CHILD_REQUIRE(polyipc_list_append(l, v.c_str(), nullptr) == 0);
      }
      return 0;
    })));
  }
  for (pid_t pid : pids) EXPECT_EQ(0, kids.Wait(pid, 60s));
  List l;
  CAPI_ASSERT_OK(polyipc_list_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, l.out(), &e));
  const json items = json::parse(ListItems(l));
  ASSERT_EQ(items.size(), size_t(kProcs * kEach));
  std::vector<int> next(kProcs, 0);
  for (const json& v : items) ASSERT_EQ(v["i"].get<int>(), next[v["p"].get<int>()]++) << v.dump();
}

struct Progress {
  std::atomic<uint64_t> acked;     // operations the child saw succeed
  std::atomic<uint64_t> appended;  // the last value it appended (acknowledged)
};

// 60 times: a child appends {"n": k} and pops the first value, in a loop on a small list that compacts often; it is
// SIGKILLed after a random number of acknowledged operations. Afterwards the
// values are whole, strictly increasing, end with the last acknowledged
// append (or one later), and the list takes new appends at once.
TEST_F(ListMp, WriterKilledAtRandomMomentsLeavesNoTornOrLostValue) {
  const char* s = std::getenv("CAPITEST_SEED");
  const uint64_t seed = s ? std::strtoull(s, nullptr, 10) : std::random_device{}();
  std::printf("CAPITEST_SEED=%llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  const std::string name = Name("l");
  polyipc_list_options o = ListOpts(4096, 64);
  List l;
  CAPI_ASSERT_OK(polyipc_list_open(name.c_str(), POLYIPC_CREATE_ONLY, &o, l.out(), &e));
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* progress = new (mem) Progress();
  uint64_t next_n = 0;
  for (int run = 0; run < 60; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    progress->acked = 0;
    const uint64_t kill_after = std::uniform_int_distribution<uint64_t>(1, 300)(rng);
    const uint64_t start_n = next_n;
    Children kids;
    pid_t writer = kids.Add(Spawn([&] {
      List mine;
      CHILD_REQUIRE(polyipc_list_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == 0);
      for (uint64_t n = start_n;; ++n) {
        const std::string v = "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + std::string(n % 30, 'p') + "\"}";
        CHILD_REQUIRE(polyipc_list_append(mine, v.c_str(), nullptr) == 0);
        progress->appended = n;
        progress->acked.fetch_add(1);
        if (n != start_n) {  // one pop per append: the list keeps its length however long the child runs
          char* out = nullptr;
          CHILD_REQUIRE(polyipc_list_pop(mine, 0, &out, nullptr, nullptr) == 0);
          polyipc_free(out);
        }
      }
    }));
    const auto deadline = Clock::now() + 20s;
    while (progress->acked.load() < kill_after && Clock::now() < deadline) std::this_thread::yield();
    ASSERT_GE(progress->acked.load(), kill_after) << "the writer made no progress";
    kill(writer, SIGKILL);
    EXPECT_EQ(128 + SIGKILL, kids.Wait(writer, 10s));
    const uint64_t acked = progress->appended;
    const json items = json::parse(ListItems(l));
    ASSERT_FALSE(items.empty());
    int64_t prev = -1;
    for (const json& v : items) {
      const int64_t n = v.at("n").get<int64_t>();
      EXPECT_GT(n, prev) << items.dump();
      EXPECT_EQ(v.at("pad").get<std::string>(), std::string(n % 30, 'p')) << "torn value " << v.dump();
      prev = n;
    }
    EXPECT_GE(prev, static_cast<int64_t>(acked)) << "an acknowledged append was lost: " << items.dump();
    uint64_t len = 0;
    CAPI_ASSERT_OK(polyipc_list_len(l, &len, &e));
    EXPECT_EQ(len, items.size());
    next_n = static_cast<uint64_t>(prev) + 2;
    // Not wedged; keep the list short so the next child has room.
    const std::string v = "{\"n\":" + std::to_string(next_n) + ",\"pad\":\"" + std::string(next_n % 30, 'p') + "\"}";
    CAPI_ASSERT_OK(polyipc_list_append(l, v.c_str(), &e));
    ++next_n;
    while (len-- > 8) {
      char* out = nullptr;
      CAPI_ASSERT_OK(polyipc_list_pop(l, 0, &out, nullptr, &e));
      polyipc_free(out);
    }
    if (HasFailure()) break;
  }
  char* stat = nullptr;
  CAPI_ASSERT_OK(polyipc_list_stat_json(l, &stat, &e));
  json st = TakeJson(stat);
  std::printf("after 60 kills: %lld appends, %lld compactions, %lld dead lock holders recovered\n",
              (long long)st["counters"]["appends"].get<int64_t>(), (long long)st["counters"]["compactions"].get<int64_t>(),
              (long long)st["counters"]["owner_dead_recoveries"].get<int64_t>());
  munmap(mem, 4096);
}

}  // namespace
