// Dict across real processes (fork): compare-and-set increments from several
// processes are exact, and a writer killed with SIGKILL at random moments
// (mid-set, mid-compaction, holding the lock) never leaves a torn entry, a
// lost acknowledged set or a wedged dict.
#include <sys/mman.h>

#include <atomic>
#include <random>
#include <thread>

#include "common.hpp"
#include "shared_containers.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class DictMp : public CapiTest {};

// 4 processes x 300 increments of one counter, each a get + compare_and_set
// retried until it swaps, plus a key of its own per process: the counter ends
// at exactly 1200.
TEST_F(DictMp, CompareAndSetIncrementsFromFourProcessesAreExact) {
  const std::string name = Name("d");
  constexpr int kProcs = 4, kIncrements = 300;
  {
    Dict d;
    CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, d.out(), &e));
    CAPI_ASSERT_OK(polyipc_dict_set(d, "counter", "0", &e));
  }
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pids.push_back(kids.Add(Spawn([&, p] {
      Dict d;
      CHILD_REQUIRE(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, d.out(), nullptr) == 0);
      for (int i = 0; i < kIncrements; ++i) {
        for (int attempt = 0;; ++attempt) {
          CHILD_REQUIRE(attempt < 100000);
          char* cur = nullptr;
          int found = 0;
          CHILD_REQUIRE(polyipc_dict_get(d, "counter", &cur, nullptr, &found, nullptr) == 0 && found);
          const std::string next = std::to_string(std::stoll(cur) + 1);
          int swapped = 0;
          int rc = polyipc_dict_compare_and_set(d, "counter", cur, next.c_str(), &swapped, nullptr);
          polyipc_free(cur);
          CHILD_REQUIRE(rc == 0);
          if (swapped) break;
        }
        const std::string key = "proc-" + std::to_string(p);
        CHILD_REQUIRE(polyipc_dict_set(d, key.c_str(), std::to_string(i + 1).c_str(), nullptr) == 0);
      }
      return 0;
    })));
  }
  for (pid_t pid : pids) EXPECT_EQ(0, kids.Wait(pid, 60s));
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, d.out(), &e));
  EXPECT_EQ(GetS(d, "counter"), std::to_string(kProcs * kIncrements));
  for (int p = 0; p < kProcs; ++p) EXPECT_EQ(GetS(d, "proc-" + std::to_string(p)), std::to_string(kIncrements));
  EXPECT_EQ(Len(d), 1u + kProcs);
}

struct Progress {
  std::atomic<uint64_t> acked;  // sets the child saw succeed
  std::atomic<uint64_t> last_key, last_seq;
};

// The value the writer sets for (key, seq): checkable from its content alone,
// of varying length so that the 2 KiB dict compacts every few sets.
std::string Value(uint64_t key, uint64_t seq) {
  return "{\"key\":" + std::to_string(key) + ",\"seq\":" + std::to_string(seq) + ",\"pad\":\"" +
         std::string((seq * 37 + key * 11) % 120, 'p') + "\"}";
}

// Two processes take turns through one dict, each sleeping in wait_change
// (no timeout) until the other has written: 200 hand-offs, none missed.
TEST_F(DictMp, WaitChangeWakesAWatcherInAnotherProcess) {
  const std::string name = Name("d");
  constexpr int kRounds = 200;
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, d.out(), &e));
  // Waits until key holds n: read the version, then the value, then wait from that version.
  auto await = [](polyipc_dict* dict, const char* key, int n) {
    for (;;) {
      uint64_t v = 0;
      if (polyipc_dict_version(dict, &v, nullptr) != 0) return false;
      if (GetS(dict, key) == std::to_string(n)) return true;
      if (polyipc_dict_wait_change(dict, v, POLYIPC_FOREVER, nullptr, nullptr) != 0) return false;
    }
  };
  Children kids;
  const auto start = std::chrono::steady_clock::now();
  pid_t child = kids.Add(Spawn([&] {
    Dict mine;
    CHILD_REQUIRE(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == 0);
    for (int i = 1; i <= kRounds; ++i) {
      CHILD_REQUIRE(await(mine, "ping", i));
      CHILD_REQUIRE(polyipc_dict_set(mine, "pong", std::to_string(i).c_str(), nullptr) == 0);
    }
    return 0;
  }));
  for (int i = 1; i <= kRounds; ++i) {
    CAPI_ASSERT_OK(polyipc_dict_set(d, "ping", std::to_string(i).c_str(), &e));
    ASSERT_TRUE(await(d, "pong", i)) << "round " << i;
  }
  EXPECT_EQ(0, kids.Wait(child, 60s));
  std::printf("%d hand-offs through wait_change in %.1f ms\n", kRounds,
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

// The stat counts watchers asleep in wait_change; one killed there leaves
// the dict usable (it stays counted: docs/design-notes.md, "Waiting").
TEST_F(DictMp, WatchersAsleepShowInTheStatAndKillingOneLeavesTheDictUsable) {
  const std::string name = Name("d");
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, d.out(), &e));
  Children kids;
  pid_t watcher = kids.Add(Spawn([&] {
    Dict mine;
    CHILD_REQUIRE(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == 0);
    for (;;) polyipc_dict_wait_change(mine, 0, POLYIPC_FOREVER, nullptr, nullptr);  // killed in here
    return 1;
  }));
  ASSERT_TRUE(WaitForStat(name, {"sleeping_watchers"}, 1, 10s));
  kill(watcher, SIGKILL);
  ASSERT_EQ(128 + SIGKILL, kids.Wait(watcher, 10s));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "k", "1", &e));
  EXPECT_EQ(GetS(d, "k"), "1");
}

// 60 times: a child sets keys k0..k7 in a loop and is SIGKILLed after a random
// number of acknowledged sets (plus a random few microseconds). Afterwards
// every value is one the child wrote for that key, the last acknowledged set
// is there (or a later one), and the dict takes new sets at once.
TEST_F(DictMp, WriterKilledAtRandomMomentsLeavesNoTornOrLostEntry) {
  const char* s = std::getenv("CAPITEST_SEED");
  const uint64_t seed = s ? std::strtoull(s, nullptr, 10) : std::random_device{}();
  std::printf("CAPITEST_SEED=%llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  const std::string name = Name("d");
  polyipc_dict_options o = DictOpts(2048, 16);
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, &o, d.out(), &e));
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* progress = new (mem) Progress();
  uint64_t seq_base = 0;
  for (int run = 0; run < 60; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    progress->acked = 0;
    const uint64_t kill_after = std::uniform_int_distribution<uint64_t>(1, 400)(rng);
    const uint64_t extra_us = std::uniform_int_distribution<uint64_t>(0, 30)(rng);
    Children kids;
    pid_t writer = kids.Add(Spawn([&] {
      Dict mine;
      CHILD_REQUIRE(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == 0);
      for (uint64_t seq = seq_base;; ++seq) {
        const uint64_t key = seq % 8;
        const std::string k = "k" + std::to_string(key);
        CHILD_REQUIRE(polyipc_dict_set(mine, k.c_str(), Value(key, seq).c_str(), nullptr) == 0);
        progress->last_key = key;
        progress->last_seq = seq;
        progress->acked.fetch_add(1);
      }
    }));
    const auto deadline = Clock::now() + 20s;
    while (progress->acked.load() < kill_after && Clock::now() < deadline) std::this_thread::yield();
    ASSERT_GE(progress->acked.load(), kill_after) << "the writer made no progress";
    // A random moment past the kill_after-th set (only the moment of the kill).
    const auto until = Clock::now() + std::chrono::microseconds(extra_us);
    while (Clock::now() < until) {
    }
    kill(writer, SIGKILL);
    EXPECT_EQ(128 + SIGKILL, kids.Wait(writer, 10s));
    const uint64_t acked_key = progress->last_key, acked_seq = progress->last_seq;
    seq_base = acked_seq + 2;  // past anything the child may have set unacknowledged

    // Every entry is whole and the child's own; the last acknowledged set stands.
    char* items = nullptr;
    CAPI_ASSERT_OK(polyipc_dict_items(d, &items, &e));
    json all = TakeJson(items);
    ASSERT_LE(all.size(), 8u) << all.dump();
    for (auto& [k, v] : all.items()) {
      ASSERT_EQ("k" + std::to_string(v["key"].get<uint64_t>()), k) << all.dump();
      EXPECT_EQ(json::parse(Value(v["key"], v["seq"])), v) << "torn value for " << k;
    }
    const json last = all["k" + std::to_string(acked_key)];
    ASSERT_TRUE(last.is_object()) << all.dump();
    EXPECT_GE(last["seq"].get<uint64_t>(), acked_seq) << "an acknowledged set was lost";
    EXPECT_EQ(Len(d), all.size());
    // Not wedged: a set from this process goes through at once.
    CAPI_ASSERT_OK(polyipc_dict_set(d, "k0", Value(0, seq_base).c_str(), &e));
    ++seq_base;
    if (HasFailure()) break;
  }
  char* stat = nullptr;
  CAPI_ASSERT_OK(polyipc_dict_stat_json(d, &stat, &e));
  json st = TakeJson(stat);
  std::printf("after 60 kills: %lld sets, %lld compactions, %lld dead lock holders recovered\n",
              (long long)st["counters"]["sets"].get<int64_t>(), (long long)st["counters"]["compactions"].get<int64_t>(),
              (long long)st["counters"]["owner_dead_recoveries"].get<int64_t>());
  EXPECT_GT(st["counters"]["compactions"].get<int64_t>(), 0);
  munmap(mem, 4096);
}

}  // namespace
