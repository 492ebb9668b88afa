// kill -9 at random moments: of producers mid-put (single and batch), of
// consumers mid-get, of a joinable consumer holding leases. Afterwards nothing
// is wedged, no record is torn, no acknowledged put is lost, and leased work is
// redelivered.
//
// The kill moment is random (a random count of messages observed through the
// queue, or a usleep of random length used only as the moment to kill); no test
// relies on timing for correctness. CAPITEST_SEED=<n> reproduces a run's choices.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "common.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class Crash : public CapiTest {
 protected:
  void SetUp() override {
    const char* s = std::getenv("CAPITEST_SEED");
    seed_ = s ? std::strtoull(s, nullptr, 10) : std::random_device{}();
    rng_.seed(seed_);
    RecordProperty("seed", std::to_string(seed_));
    std::printf("CAPITEST_SEED=%llu\n", (unsigned long long)seed_);
  }
  uint64_t Rand(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

struct Shared {
  std::atomic<uint64_t> acked;    // number of puts (or gets) acknowledged by the child
  std::atomic<uint64_t> started;  // the child has opened its handle
};

Shared* MapShared() {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) Shared();
}

// Bounded: the child has opened its handle (or 10 s passed).
void WaitStarted(Shared* sh) {
  auto deadline = Clock::now() + 10s;
  while (sh->started.load() == 0 && Clock::now() < deadline) std::this_thread::yield();
}

// Messages are checkable from their content alone: run, seq and a pad derived
// from both, of varying length (records of many sizes wrap the ring anywhere).
std::string Pad(uint64_t run, uint64_t seq) {
  size_t n = (seq * 37 + run * 11) % 300;
  std::string s(n, 'a');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (seq * 3 + i + run) % 26);
  return s;
}
std::string Message(uint64_t run, uint64_t seq) {
  return "{\"run\":" + std::to_string(run) + ",\"seq\":" + std::to_string(seq) + ",\"pad\":\"" + Pad(run, seq) + "\"}";
}
// The seq of a valid message of `run`, or -1 (torn, foreign, garbage).
int64_t SeqOf(const std::string& m, uint64_t run) {
  json j = json::parse(m, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j.contains("run")) return -1;
  uint64_t seq = j["seq"].get<uint64_t>();
  if (j["run"].get<uint64_t>() != run || m != Message(run, seq)) return -1;
  return static_cast<int64_t>(seq);
}

// After a crash: the queue still works (bounded), and is empty at the end.
void CheckNotWedged(polyipc_queue* q, uint64_t run) {
  std::string probe = "{\"probe\":" + std::to_string(run) + "}";
  auto t0 = Clock::now();
  CAPI_ASSERT_OK(Put(q, probe, 5 * kSec, &e));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 5 * kSec, &e));
  EXPECT_EQ(probe, m);
  EXPECT_LT(SecondsSince(t0), 5.0);
  EXPECT_EQ(0u, Size(q));
}

// A producer putting as fast as it can (batch > 1: put_many of random sizes up
// to batch) is SIGKILLed at a random moment, again and again, on one queue.
void KillProducerRuns(std::mt19937_64& rng, int runs, size_t batch, const std::string& name) {
  auto rand = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  auto o = Opts();
  o.capacity_bytes = 256 * 1024;  // small: the ring wraps often
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Shared* sh = MapShared();
  uint64_t extra_total = 0;
  for (int run = 0; run < runs; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    sh->acked.store(0);
    sh->started.store(0);
    Children kids;
    pid_t pid = kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      sh->started.store(1);
      std::mt19937_64 crng(run * 7919 + 1);
      std::vector<std::string> msgs;
      std::vector<const void*> ptrs;
      std::vector<size_t> lens;
      for (uint64_t seq = 0;;) {
        if (batch <= 1) {
          std::string m = Message(run, seq);
          CHILD_REQUIRE(polyipc_queue_put(h, m.data(), m.size(), POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
          ++seq;
        } else {
          size_t n = 1 + crng() % batch;
          msgs.clear();
          ptrs.clear();
          lens.clear();
          for (size_t i = 0; i < n; ++i) msgs.push_back(Message(run, seq + i));
          for (auto& m : msgs) {
            ptrs.push_back(m.data());
            lens.push_back(m.size());
          }
          size_t done = 0;
          int rc = polyipc_queue_put_many(h, ptrs.data(), lens.data(), n, &done, POLYIPC_FOREVER, nullptr);
          CHILD_REQUIRE(rc == POLYIPC_OK || ((rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) && done > 0));
          seq += done;
        }
        sh->acked.store(seq, std::memory_order_release);
      }
    }));
    // consume some while it runs, in order
    uint64_t next = 0;
    int how = static_cast<int>(rand(0, 2));
    if (how == 0) {
      // kill after a random number of messages taken off the queue
      uint64_t k = rand(1, 3000);
      while (next < k) {
        std::string m;
        Err e;
        int rc = Get(q, &m, 10 * kSec, &e);
        ASSERT_ST(POLYIPC_OK, rc) << e.Msg();
        ASSERT_EQ(int64_t(next), SeqOf(m, run)) << "torn, lost or reordered: " << m.substr(0, 120);
        ++next;
      }
    } else if (how == 1) {
      // kill when a random number of messages is in the queue
      uint64_t k = rand(1, 600);
      auto deadline = Clock::now() + 10s;
      while (Size(q) < k && Clock::now() < deadline) std::this_thread::yield();
      ASSERT_GE(Size(q), k) << "the producer stalled";
    } else {
      // kill after a random delay (the delay is only the kill moment)
      WaitStarted(sh);
      usleep(static_cast<useconds_t>(rand(0, 3000)));
    }
    kill(pid, SIGKILL);
    ASSERT_EQ(128 + SIGKILL, kids.Wait(pid, 10s));
    uint64_t acked = sh->acked.load(std::memory_order_acquire);
    // drain: every acknowledged put is there exactly once, in order, untorn
    for (;;) {
      std::string m;
      Err e;
      int rc = Get(q, &m, 0, &e);
      if (rc == POLYIPC_ERR_EMPTY) break;
      ASSERT_ST(POLYIPC_OK, rc) << e.Msg();
      ASSERT_EQ(int64_t(next), SeqOf(m, run)) << "torn, lost or reordered: " << m.substr(0, 120);
      ++next;
    }
    ASSERT_GE(next, acked) << "an acknowledged put was lost";
    ASSERT_LE(next, acked + (batch <= 1 ? 1 : batch)) << "more unacknowledged puts than one call can make";
    extra_total += next - acked;
    CheckNotWedged(q, run);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf("%d kills, %llu unacknowledged puts were delivered\n", runs, (unsigned long long)extra_total);
  munmap(sh, 4096);
}

TEST_F(Crash, KillProducerMidPut) { KillProducerRuns(rng_, 150, 1, Name("q")); }

TEST_F(Crash, KillProducerMidPutMany) { KillProducerRuns(rng_, 60, 16, Name("q")); }

// Two producers contend for the queue; one is SIGKILLed at a random moment
// (often while it holds or waits for the queue's lock). The survivor carries on
// and finishes; both streams arrive complete, in order and untorn.
TEST_F(Crash, KillOneOfTwoContendingProducers) {
  constexpr uint64_t kSurvivorCount = 3000;
  std::string name = Name("q");
  auto o = Opts();
  o.capacity_bytes = 128 * 1024;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Shared* sh = MapShared();  // acked: the victim's count
  for (int run = 0; run < 30; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const uint64_t victim_run = 2 * run, survivor_run = 2 * run + 1;
    sh->acked.store(0);
    sh->started.store(0);
    Children kids;
    auto producer = [&](uint64_t run_id, uint64_t count, bool record) {
      return Spawn([&, run_id, count, record] {
        q.Forget();
        polyipc_queue* h = nullptr;
        CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
        if (record) sh->started.store(1);
        for (uint64_t seq = 0; seq < count; ++seq) {
          std::string m = Message(run_id, seq);
          CHILD_REQUIRE(polyipc_queue_put(h, m.data(), m.size(), POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
          if (record) sh->acked.store(seq + 1, std::memory_order_release);
        }
        polyipc_queue_close(h);
        return 0;
      });
    };
    pid_t victim = kids.Add(producer(victim_run, UINT64_MAX, true));
    pid_t survivor = kids.Add(producer(survivor_run, kSurvivorCount, false));
    uint64_t next[2] = {0, 0};  // victim, survivor
    auto take = [&](int64_t timeout) {
      std::string m;
      Err e;
      int rc = Get(q, &m, timeout, &e);
      if (rc == POLYIPC_ERR_EMPTY || rc == POLYIPC_ERR_TIMEOUT) return false;
      EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
      if (rc != POLYIPC_OK) return false;
      json j = json::parse(m, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("run")) << "torn: " << m.substr(0, 120);
      if (!j.is_object() || !j.contains("run")) return false;
      uint64_t r = j["run"].get<uint64_t>();
      EXPECT_TRUE(r == victim_run || r == survivor_run) << m.substr(0, 120);
      int who = r == survivor_run ? 1 : 0;
      EXPECT_EQ(int64_t(next[who]), SeqOf(m, r)) << "torn, lost or reordered: " << m.substr(0, 120);
      ++next[who];
      return !::testing::Test::HasFailure();
    };
    uint64_t k = Rand(0, 2500);
    for (uint64_t i = 0; i < k; ++i) ASSERT_TRUE(take(10 * kSec)) << "stalled after " << i;
    if (k == 0) WaitStarted(sh);
    kill(victim, SIGKILL);
    ASSERT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
    uint64_t acked = sh->acked.load(std::memory_order_acquire);
    // the survivor must get through: keep taking until its stream is complete
    while (next[1] < kSurvivorCount) ASSERT_TRUE(take(10 * kSec)) << "survivor stream stalled at " << next[1];
    ASSERT_EQ(0, kids.Wait(survivor, 10s));
    while (take(0)) {
    }
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(kSurvivorCount, next[1]);
    ASSERT_GE(next[0], acked) << "an acknowledged put of the killed producer was lost";
    ASSERT_LE(next[0], acked + 1);
    CheckNotWedged(q, run);
  }
  munmap(sh, 4096);
}

// A consumer taking messages as fast as it can is SIGKILLed at random moments;
// a non-joinable get is not a lease, so at most the one message it was taking
// is gone; nothing is duplicated, torn or wedged.
TEST_F(Crash, KillConsumerMidGet) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON);
  o.capacity_bytes = 256 * 1024;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Shared* sh = MapShared();
  for (int run = 0; run < 60; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    constexpr uint64_t kCount = 800;
    for (uint64_t s = 0; s < kCount; ++s) ASSERT_ST(POLYIPC_OK, Put(q, Message(run, s), 0));
    sh->acked.store(0);
    sh->started.store(0);
    Children kids;
    pid_t pid = kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      sh->started.store(1);
      std::vector<char> buf(4096);
      for (uint64_t n = 0;; ++n) {
        size_t len = 0;
        int rc = (n % 2) ? polyipc_queue_get_into(h, buf.data(), buf.size(), &len, POLYIPC_FOREVER, nullptr)
                         : [&] {
                             void* d = nullptr;
                             int r = polyipc_queue_get(h, &d, &len, POLYIPC_FOREVER, nullptr);
                             if (r == POLYIPC_OK) std::memcpy(buf.data(), d, len);
                             polyipc_free(d);
                             return r;
                           }();
        CHILD_REQUIRE(rc == POLYIPC_OK);
        CHILD_REQUIRE(SeqOf(std::string(buf.data(), len), run) == int64_t(n));
        sh->acked.store(n + 1, std::memory_order_release);
      }
    }));
    if (Rand(0, 1)) {
      uint64_t k = Rand(0, kCount - 1);
      auto deadline = Clock::now() + 10s;
      while (sh->acked.load() < k && Clock::now() < deadline) std::this_thread::yield();
      ASSERT_GE(sh->acked.load(), k) << "the consumer stalled";
    } else {
      WaitStarted(sh);
      usleep(static_cast<useconds_t>(Rand(0, 2000)));
    }
    kill(pid, SIGKILL);
    int st = kids.Wait(pid, 10s);
    ASSERT_TRUE(st == 128 + SIGKILL) << "consumer exited with " << st;
    uint64_t acked = sh->acked.load();
    // what is left continues where the consumer stopped (at most one lost)
    uint64_t first = UINT64_MAX, next = 0, n = 0;
    for (;;) {
      std::string m;
      Err e;
      int rc = Get(q, &m, 0, &e);
      if (rc == POLYIPC_ERR_EMPTY) break;
      ASSERT_ST(POLYIPC_OK, rc) << e.Msg();
      int64_t seq = SeqOf(m, run);
      ASSERT_GE(seq, 0) << "torn message: " << m.substr(0, 120);
      if (first == UINT64_MAX) first = next = seq;
      ASSERT_EQ(int64_t(next), seq) << "hole or reordering";
      ++next;
      ++n;
    }
    if (n > 0) {
      ASSERT_GE(first, acked) << "a message taken by the consumer is still in the queue";
      ASSERT_LE(first, acked + 1) << "more than the message being taken was lost";
      ASSERT_EQ(kCount, next);
    } else {
      ASSERT_GE(acked + 1, kCount);
    }
    CheckNotWedged(q, run);
  }
  munmap(sh, 4096);
}

// A joinable consumer takes items (leases) and is SIGKILLed before task_done:
// another consumer gets them, and join() returns.
TEST_F(Crash, KillJoinableConsumerHoldingLeases) {
  constexpr int kItems = 20, kTakenByVictim = 5;
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  for (int i = 0; i < kItems; ++i) CAPI_ASSERT_OK(Put(q, "{\"item\":" + std::to_string(i) + "}", 0, &e));
  Children kids;

  // a joiner waiting from before the crash
  Pipe joiner_ready;
  pid_t joiner = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(joiner_ready.WriteByte());
    int rc = polyipc_queue_join(h, 30 * kSec, nullptr);
    if (rc) std::fprintf(stderr, "joiner: %s\n", St(rc).c_str());
    CHILD_REQUIRE(rc == POLYIPC_OK);
    return 0;
  }));
  char c;
  ASSERT_TRUE(joiner_ready.ReadByte(&c, 10000));

  Pipe victim_ready;
  pid_t victim = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    for (int i = 0; i < kTakenByVictim; ++i) {
      void* d = nullptr;
      size_t len = 0;
      CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 5 * kSec, nullptr) == POLYIPC_OK);
      polyipc_free(d);
    }
    CHILD_REQUIRE(victim_ready.WriteByte());
    for (;;) pause();  // holds its leases until killed
  }));
  ASSERT_TRUE(victim_ready.ReadByte(&c, 10000));
  EXPECT_EQ(uint64_t(kItems - kTakenByVictim), Size(q));
  kill(victim, SIGKILL);
  ASSERT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));

  Pipe report;
  pid_t rescuer = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    std::vector<int> got;
    while (got.size() < size_t(kItems)) {
      void* d = nullptr;
      size_t len = 0;
      int rc = polyipc_queue_get(h, &d, &len, 10 * kSec, nullptr);
      if (rc) std::fprintf(stderr, "rescuer: get #%zu: %s\n", got.size(), St(rc).c_str());
      CHILD_REQUIRE(rc == POLYIPC_OK);
      got.push_back(json::parse(std::string(static_cast<char*>(d), len)).at("item").get<int>());
      polyipc_free(d);
      CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
    }
    for (int i : got) CHILD_REQUIRE(report.WriteByte(static_cast<char>(i)));
    // nothing more: every item was delivered to it once
    void* d = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 0, nullptr) == POLYIPC_ERR_EMPTY);
    polyipc_queue_close(h);
    return 0;
  }));
  std::multiset<int> got;
  for (int i = 0; i < kItems; ++i) {
    char b;
    ASSERT_TRUE(report.ReadByte(&b, 30000)) << "the rescuer got only " << got.size() << " items";
    got.insert(b);
  }
  EXPECT_EQ(0, kids.Wait(rescuer, 30s));
  std::multiset<int> want;
  for (int i = 0; i < kItems; ++i) want.insert(i);
  EXPECT_EQ(want, got) << "each item, redelivered ones included, exactly once";
  auto t0 = Clock::now();
  CAPI_EXPECT_OK(polyipc_queue_join(q, 10 * kSec, &e));
  EXPECT_LT(SecondsSince(t0), 10.0);
  EXPECT_EQ(0, kids.Wait(joiner, 15s));
  EXPECT_EQ(0u, Size(q));
}

// Large messages (>= 32 KiB) are copied outside the queue's lock. A producer
// killed mid-copy leaves no torn or half-written record and does not block the
// ring; a consumer killed mid-copy loses nothing (the message returns).
std::string LargeMessage(uint64_t run, uint64_t seq, size_t min = 32 * 1024, size_t spread = 160 * 1024) {
  size_t n = min + (seq * 7919 + run * 104729) % spread;
  std::string s(n, '\0');
  std::snprintf(&s[0], 40, "%llu:%llu:", (unsigned long long)run, (unsigned long long)seq);
  for (size_t i = 40; i < n; ++i) s[i] = static_cast<char>((i * 131 + seq * 7 + run) & 0xFF);
  return s;
}
int64_t LargeSeqOf(const std::string& m, uint64_t run, size_t min = 32 * 1024, size_t spread = 160 * 1024) {
  unsigned long long r = 0, seq = 0;
  if (m.size() < 40 || std::sscanf(m.c_str(), "%llu:%llu:", &r, &seq) != 2 || r != run) return -1;
  return m == LargeMessage(run, seq, min, spread) ? static_cast<int64_t>(seq) : -1;
}

TEST_F(Crash, KillProducerMidLargePut) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 2 << 20;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Shared* sh = MapShared();
  for (int run = 0; run < 40; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    sh->acked.store(0);
    sh->started.store(0);
    Children kids;
    pid_t pid = kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      sh->started.store(1);
      for (uint64_t seq = 0;; ++seq) {
        std::string m = LargeMessage(run, seq);
        CHILD_REQUIRE(polyipc_queue_put(h, m.data(), m.size(), POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
        sh->acked.store(seq + 1, std::memory_order_release);
      }
    }));
    uint64_t next = 0;
    if (Rand(0, 1)) {
      uint64_t k = Rand(1, 60);
      for (; next < k; ++next) {
        std::string m;
        Err e;
        ASSERT_ST(POLYIPC_OK, Get(q, &m, 10 * kSec, &e)) << e.Msg();
        ASSERT_EQ(int64_t(next), LargeSeqOf(m, run)) << "torn, lost or reordered";
      }
    } else {
      WaitStarted(sh);
      usleep(static_cast<useconds_t>(Rand(0, 5000)));
    }
    kill(pid, SIGKILL);
    ASSERT_EQ(128 + SIGKILL, kids.Wait(pid, 10s));
    uint64_t acked = sh->acked.load(std::memory_order_acquire);
    for (;;) {
      std::string m;
      Err e;
      int rc = Get(q, &m, 0, &e);
      if (rc == POLYIPC_ERR_EMPTY) break;
      ASSERT_ST(POLYIPC_OK, rc) << e.Msg();
      ASSERT_EQ(int64_t(next), LargeSeqOf(m, run)) << "torn, lost or reordered";
      ++next;
    }
    ASSERT_GE(next, acked) << "an acknowledged put was lost";
    ASSERT_LE(next, acked + 1);
    // the dead producer's half-written record holds no space: the empty queue
    // takes a message of nearly its whole capacity at once
    {
      ASSERT_EQ(0u, Size(q));
      std::string nearly_all(o.capacity_bytes - 64 * 1024, 'n'), m;
      Err e;
      EXPECT_ST(POLYIPC_OK, Put(q, nearly_all, 0, &e)) << "empty queue, producer dead: " << e.Msg();
      if (Size(q) == 1) {
        ASSERT_ST(POLYIPC_OK, Get(q, &m, 0));
      }
    }
    // the ring is not blocked by a half-written record: wrap it twice
    for (int i = 0; i < 30; ++i) {
      std::string big = LargeMessage(1000 + run, i), m;
      Err e;
      ASSERT_ST(POLYIPC_OK, Put(q, big, 5 * kSec, &e)) << "ring blocked after the kill: " << e.Msg();
      ASSERT_ST(POLYIPC_OK, Get(q, &m, 5 * kSec, &e)) << e.Msg();
      ASSERT_EQ(big, m);
    }
    CheckNotWedged(q, run);
  }
  munmap(sh, 4096);
}

TEST_F(Crash, KillConsumerMidLargeGet) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 16 << 20;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Shared* sh = MapShared();
  constexpr size_t kMin = 256 * 1024, kSpread = 768 * 1024;  // long copies: kills land inside them
  for (int run = 0; run < 40; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    constexpr uint64_t kCount = 10;
    for (uint64_t s = 0; s < kCount; ++s) ASSERT_ST(POLYIPC_OK, Put(q, LargeMessage(run, s, kMin, kSpread), 0));
    sh->acked.store(0);
    sh->started.store(0);
    Children kids;
    pid_t pid = kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      sh->started.store(1);
      std::vector<char> buf(kMin + kSpread);
      for (uint64_t n = 0;; ++n) {
        size_t len = 0;
        CHILD_REQUIRE(polyipc_queue_get_into(h, buf.data(), buf.size(), &len, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
        CHILD_REQUIRE(LargeSeqOf(std::string(buf.data(), len), run, kMin, kSpread) == int64_t(n));
        sh->acked.store(n + 1, std::memory_order_release);
      }
    }));
    WaitStarted(sh);
    usleep(static_cast<useconds_t>(Rand(0, 3000)));
    kill(pid, SIGKILL);
    ASSERT_EQ(128 + SIGKILL, kids.Wait(pid, 10s));
    uint64_t acked = sh->acked.load();
    uint64_t first = UINT64_MAX, next = 0;
    for (;;) {
      std::string m;
      Err e;
      int rc = Get(q, &m, 0, &e);
      if (rc == POLYIPC_ERR_EMPTY) break;
      ASSERT_ST(POLYIPC_OK, rc) << e.Msg();
      int64_t seq = LargeSeqOf(m, run, kMin, kSpread);
      ASSERT_GE(seq, 0) << "torn message";
      if (first == UINT64_MAX) first = next = seq;
      ASSERT_EQ(int64_t(next), seq) << "hole or reordering";
      ++next;
    }
    // nothing turns up later: what a dead reader was copying is back in its place at once
    {
      std::string m;
      int rc = Get(q, &m, 300 * kMs);  // longer than the library's 100 ms reaping interval
      ASSERT_ST(POLYIPC_ERR_TIMEOUT, rc)
          << "after the drain found the queue EMPTY, a message turned up (seq " << LargeSeqOf(m, run, kMin, kSpread)
          << "; acked " << acked << ", first drained " << (first == UINT64_MAX ? -1 : int64_t(first))
          << "): the message a killed consumer was copying was invisible to get(timeout 0) and came back later, "
             "out of order";
    }
    if (first != UINT64_MAX) {
      ASSERT_GE(first, acked) << "a message the consumer had is still in the queue";
      ASSERT_LE(first, acked + 1);
      ASSERT_EQ(kCount, next);
    } else {
      ASSERT_GE(acked + 1, kCount);
    }
    CheckNotWedged(q, run);
  }
  munmap(sh, 4096);
}

// Getters and putters SIGKILLed while asleep in the queue leave nothing that
// stops later sleepers from being woken.
TEST_F(Crash, KilledSleepersDoNotBreakWakeups) {
  std::string name = Name("q");
  auto o = Opts();
  o.max_items = 1;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  auto sleeper = [&](Pipe& ready, bool getter) {
    return Spawn([&, getter] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      CHILD_REQUIRE(ready.WriteByte());
      if (getter) {
        void* d = nullptr;
        size_t len = 0;
        CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
        polyipc_free(d);
      } else {
        CHILD_REQUIRE(polyipc_queue_put(h, "2", 1, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
      }
      return 0;
    });
  };
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Children kids;
    Pipe ready;
    char c;
    // getters: kill three asleep, then one more must still be woken by a put
    std::vector<pid_t> doomed;
    for (int i = 0; i < 3; ++i) {
      doomed.push_back(kids.Add(sleeper(ready, true)));
      ASSERT_TRUE(ready.ReadByte(&c, 10000));
      ASSERT_TRUE(WaitUntilSleeping(doomed.back(), 10s));
    }
    for (pid_t p : doomed) {
      kill(p, SIGKILL);
      ASSERT_EQ(128 + SIGKILL, kids.Wait(p, 10s));
    }
    pid_t getter = kids.Add(sleeper(ready, true));
    ASSERT_TRUE(ready.ReadByte(&c, 10000));
    ASSERT_TRUE(WaitUntilSleeping(getter, 10s));
    CAPI_ASSERT_OK(Put(q, "1", 0, &e));
    EXPECT_EQ(0, kids.Wait(getter, 10s)) << "a getter was not woken after killed getters";
    // putters on a full queue: the same
    CAPI_ASSERT_OK(Put(q, "1", 0, &e));
    doomed.clear();
    for (int i = 0; i < 3; ++i) {
      doomed.push_back(kids.Add(sleeper(ready, false)));
      ASSERT_TRUE(ready.ReadByte(&c, 10000));
      ASSERT_TRUE(WaitUntilSleeping(doomed.back(), 10s));
    }
    for (pid_t p : doomed) {
      kill(p, SIGKILL);
      ASSERT_EQ(128 + SIGKILL, kids.Wait(p, 10s));
    }
    pid_t putter = kids.Add(sleeper(ready, false));
    ASSERT_TRUE(ready.ReadByte(&c, 10000));
    ASSERT_TRUE(WaitUntilSleeping(putter, 10s));
    std::string m;
    CAPI_ASSERT_OK(Get(q, &m, 0, &e));
    EXPECT_EQ("1", m);
    EXPECT_EQ(0, kids.Wait(putter, 10s)) << "a putter was not woken after killed putters";
    CAPI_ASSERT_OK(Get(q, &m, 5 * kSec, &e));
    EXPECT_EQ("2", m);
    EXPECT_EQ(0u, Size(q));
  }
}

// A joinable consumer holding leases is SIGKILLed while another consumer is
// already asleep in get(FOREVER) on the empty queue: the sleeper is given the
// dead consumer's items without any further put.
TEST_F(Crash, LeasesOfAKilledConsumerWakeASleepingConsumer) {
  constexpr int kItems = 3;
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  for (int i = 0; i < kItems; ++i) CAPI_ASSERT_OK(Put(q, std::to_string(i), 0, &e));
  Children kids;
  Pipe victim_ready;
  pid_t victim = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    for (int i = 0; i < kItems; ++i) {
      void* d = nullptr;
      size_t len = 0;
      CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 5 * kSec, nullptr) == POLYIPC_OK);
      polyipc_free(d);
    }
    CHILD_REQUIRE(victim_ready.WriteByte());
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(victim_ready.ReadByte(&c, 10000));
  ASSERT_EQ(0u, Size(q));
  Pipe sleeper_ready, got;
  pid_t sleeper = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(sleeper_ready.WriteByte());
    for (int i = 0; i < kItems; ++i) {
      void* d = nullptr;
      size_t len = 0;
      CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
      polyipc_free(d);
      CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
      CHILD_REQUIRE(got.WriteByte());
    }
    return 0;
  }));
  ASSERT_TRUE(sleeper_ready.ReadByte(&c, 10000));
  ASSERT_TRUE(WaitUntilSleeping(sleeper, 10s));
  kill(victim, SIGKILL);
  ASSERT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
  auto t0 = Clock::now();
  for (int i = 0; i < kItems; ++i) {
    ASSERT_TRUE(got.ReadByte(&c, 10000)) << "the sleeping consumer got " << i << " of " << kItems
                                         << " redelivered items within 10 s";
  }
  std::printf("redelivered to a sleeper in %.3f s\n", SecondsSince(t0));
  EXPECT_EQ(0, kids.Wait(sleeper, 10s));
  CAPI_EXPECT_OK(polyipc_queue_join(q, 10 * kSec, &e));
}

}  // namespace

// End of stream on a joinable queue is not the end of the work: while a taken
// item is outstanding, a getter on the closed, empty queue keeps waiting, so
// when the taker is killed the item comes back to it and join() returns.
TEST_F(Crash, ClosedJoinableQueueStillRedeliversAKilledTakersItem) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  CAPI_ASSERT_OK(Put(q, "{\"item\":1}", 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));
  Children kids;
  Pipe victim_ready;
  pid_t victim = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    void* d = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 5 * kSec, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(victim_ready.WriteByte());
    for (;;) pause();  // holds the item until killed
  }));
  char c;
  ASSERT_TRUE(victim_ready.ReadByte(&c, 10000));
  // The queue is closed and empty, but the item is out: no CLOSED yet.
  std::string m;
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &m, 0));
  Pipe rescued;
  pid_t rescuer = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    void* d = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 10 * kSec, nullptr) == POLYIPC_OK);  // blocks until the kill
    polyipc_free(d);
    CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 10 * kSec, nullptr) == POLYIPC_ERR_CLOSED);  // now the end
    CHILD_REQUIRE(rescued.WriteByte());
    return 0;
  }));
  kill(victim, SIGKILL);
  ASSERT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
  ASSERT_TRUE(rescued.ReadByte(&c, 15000));
  EXPECT_EQ(0, kids.Wait(rescuer, 10s));
  CAPI_EXPECT_OK(polyipc_queue_join(q, 5 * kSec, &e));
  EXPECT_ST(POLYIPC_ERR_CLOSED, Get(q, &m, 0));
}

// The stat counts getters asleep in get. Getters killed there lose nothing
// and wedge nothing (killed_sleepers_test.cpp: and they stop being counted).
TEST_F(Crash, GettersAsleepShowInTheStatAndKillingThemLosesNothing) {
  const std::string name = Name("q");
  auto o = Opts();
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Children kids;
  std::vector<pid_t> getters;
  for (int i = 0; i < 2; ++i) {
    getters.push_back(kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
      void* d = nullptr;
      size_t len = 0;
      polyipc_queue_get(h, &d, &len, POLYIPC_FOREVER, nullptr);  // killed in here
      return 1;
    })));
  }
  ASSERT_TRUE(WaitForStat(name, {"sleeping", "getters"}, 2, 10s));
  for (pid_t g : getters) {
    kill(g, SIGKILL);
    ASSERT_EQ(128 + SIGKILL, kids.Wait(g, 10s));
  }
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  CAPI_ASSERT_OK(Put(q, "2", 0, &e));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0));
  EXPECT_EQ(m, "1");  // nothing lost
  CAPI_ASSERT_OK(Get(q, &m, 0));
  EXPECT_EQ(m, "2");
}
