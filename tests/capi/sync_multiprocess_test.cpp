// The synchronisation primitives across real processes (fork), with kill -9:
// mutual exclusion, OWNER_DEAD hand-over and repair, semaphore slots that come
// back from a dead holder, events and barriers across processes, a
// condition-based bounded buffer. Waits are bounded; no sleep synchronises.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "common.hpp"
#include "sync_handles.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class SyncMp : public CapiTest {};

template <class T>
T* MapShared() {
  void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) T();
}

// Plain (non-atomic) shared words: only the lock under test protects them.
uint64_t Read(const uint64_t& w) { return *const_cast<const volatile uint64_t*>(&w); }
void Write(uint64_t& w, uint64_t v) { *const_cast<volatile uint64_t*>(&w) = v; }

TEST_F(SyncMp, LockExcludesAcrossProcesses) {
  struct Shared {
    uint64_t counter;
    std::atomic<int> started;
  };
  auto* sh = MapShared<Shared>();
  std::string n = Name("l");
  constexpr int kProcs = 4, kIters = 20000;
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p)
    pids.push_back(kids.Add(Spawn([&] {
      Lock l;
      CHILD_REQUIRE(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), nullptr) == 0);
      ++sh->started;  // start together, so that the processes really compete
      auto gate = Clock::now() + 10s;
      while (sh->started.load() < kProcs && Clock::now() < gate) std::this_thread::yield();
      for (int i = 0; i < kIters; ++i) {
        CHILD_REQUIRE(polyipc_lock_acquire(l, 10 * kSec, nullptr) == 0);
        Write(sh->counter, Read(sh->counter) + 1);
        CHILD_REQUIRE(polyipc_lock_release(l, nullptr) == 0);
      }
      return 0;
    })));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 60s));
  EXPECT_EQ(uint64_t{kProcs} * kIters, sh->counter);
}

// A holder killed with kill -9 while others (a thread here) are blocked: the
// blocked acquirer gets the lock with OWNER_DEAD, and the lock stays usable.
TEST_F(SyncMp, HolderKilledHandsTheLockOverWithOwnerDead) {
  std::string n = Name("l");
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  Pipe ready;
  Children kids;
  pid_t holder = kids.Add(Spawn([&] {
    Lock mine;
    CHILD_REQUIRE(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, nullptr, mine.out(), nullptr) == 0);
    CHILD_REQUIRE(polyipc_lock_acquire(mine, 0, nullptr) == 0);
    ready.WriteByte();
    for (;;) pause();  // held until killed
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  std::atomic<int> rc{-1};
  Err msg;
  std::thread blocked([&] { rc = polyipc_lock_acquire(l, 20 * kSec, &msg); });
  kill(holder, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(holder, 10s));
  blocked.join();
  EXPECT_EQ(POLYIPC_ERR_OWNER_DEAD, rc.load()) << msg.Msg();
  EXPECT_TRUE(ContainsI(msg.Msg(), n)) << msg.Msg();
  // Acquired by the thread, which has exited: the next acquirer sees that death too.
  EXPECT_ST(POLYIPC_ERR_OWNER_DEAD, polyipc_lock_acquire(l, 5 * kSec, nullptr));
  CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, 0, &e));
  CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
  char* j = nullptr;
  CAPI_ASSERT_OK(polyipc_lock_stat_json(l, &j, &e));
  EXPECT_EQ(2, TakeJson(j)["counters"]["owner_dead_recoveries"].get<int>());
}

// Workers update a two-word record under the lock with an undo marker; one is
// killed with kill -9 at a random moment, possibly mid-update. Whoever gets
// OWNER_DEAD repairs; in the end the record is exact and nobody wedged.
TEST_F(SyncMp, KilledMidUpdateIsRepairedByTheNextHolder) {
  struct Shared {
    uint64_t value, done[4];           // value == sum(done) when consistent
    uint64_t pending, old_value, old_done, who;
    std::atomic<uint64_t> progress, repairs;
  };
  std::mt19937_64 rng(std::random_device{}());
  for (int run = 0; run < 5; ++run) {
    auto* sh = MapShared<Shared>();
    std::string n = Name("l" + std::to_string(run));
    constexpr int kProcs = 3, kIters = 100000;
    Children kids;
    std::vector<pid_t> pids;
    for (int p = 0; p < kProcs; ++p)
      pids.push_back(kids.Add(Spawn([&, p] {
        Lock l;
        CHILD_REQUIRE(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), nullptr) == 0);
        // worker 0 runs until it is killed, so the kill always lands mid-work
        for (int i = 0; p == 0 || i < kIters; ++i) {
          int rc = polyipc_lock_acquire(l, 20 * kSec, nullptr);
          CHILD_REQUIRE(rc == 0 || rc == POLYIPC_ERR_OWNER_DEAD);
          if (Read(sh->pending)) {
            CHILD_REQUIRE(rc == POLYIPC_ERR_OWNER_DEAD);  // a torn update only after a death
            Write(sh->value, Read(sh->old_value));
            Write(sh->done[Read(sh->who)], Read(sh->old_done));
            Write(sh->pending, 0);
            sh->repairs++;
          }
          Write(sh->old_value, Read(sh->value));
          Write(sh->old_done, Read(sh->done[p]));
          Write(sh->who, p);
          Write(sh->pending, 1);
          Write(sh->value, Read(sh->value) + 1);
          Write(sh->done[p], Read(sh->done[p]) + 1);
          Write(sh->pending, 0);
          CHILD_REQUIRE(polyipc_lock_release(l, nullptr) == 0);
          if (p == 0) sh->progress++;
        }
        return 0;
      })));
    // Kill worker 0 after a random amount of progress (observed, not slept for).
    const uint64_t kill_at = std::uniform_int_distribution<uint64_t>(1000, 50000)(rng);
    auto deadline = Clock::now() + 30s;
    while (sh->progress.load() < kill_at && Clock::now() < deadline) std::this_thread::yield();
    kill(pids[0], SIGKILL);
    EXPECT_EQ(128 + SIGKILL, kids.Wait(pids[0], 10s));
    for (int p = 1; p < kProcs; ++p) EXPECT_EQ(0, kids.Wait(pids[p], 60s)) << "run " << run;
    // A last acquire repairs a kill that landed after the others finished.
    Lock l;
    CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, nullptr, l.out(), &e));
    int rc = polyipc_lock_acquire(l, 5 * kSec, nullptr);
    ASSERT_TRUE(rc == 0 || rc == POLYIPC_ERR_OWNER_DEAD) << St(rc);
    if (sh->pending) {
      ASSERT_EQ(POLYIPC_ERR_OWNER_DEAD, rc);
      sh->value = sh->old_value;
      sh->done[sh->who] = sh->old_done;
      sh->pending = 0;
    }
    CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
    EXPECT_EQ(sh->done[0] + sh->done[1] + sh->done[2], sh->value) << "run " << run;
    EXPECT_EQ(uint64_t{kIters}, sh->done[1]);
    EXPECT_EQ(uint64_t{kIters}, sh->done[2]);
  }
}

// Semaphore(3) shared by 12 processes: the most ever inside at once is 3,
// measured with a shared counter, never assumed.
TEST_F(SyncMp, SemaphoreOfThreeAdmitsExactlyThree) {
  struct Shared {
    std::atomic<int> inside, most, started;
  };
  auto* sh = MapShared<Shared>();
  std::string n = Name("s");
  Semaphore s;
  CAPI_ASSERT_OK(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 3, 0, nullptr, s.out(), &e));
  constexpr int kProcs = 12, kIters = 300;
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p)
    pids.push_back(kids.Add(Spawn([&] {
      Semaphore mine;
      CHILD_REQUIRE(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, 0, nullptr, mine.out(), nullptr) == 0);
      // Start together, so that the processes really compete.
      ++sh->started;
      auto gate = Clock::now() + 10s;
      while (sh->started.load() < kProcs && Clock::now() < gate) std::this_thread::yield();
      for (int i = 0; i < kIters; ++i) {
        CHILD_REQUIRE(polyipc_semaphore_acquire(mine, 20 * kSec, nullptr) == 0);
        int now = ++sh->inside;
        int most = sh->most.load();
        while (now > most && !sh->most.compare_exchange_weak(most, now)) {
        }
        // A moment inside, giving the CPU away (2 cores here), so others arrive meanwhile.
        for (int k = 0; k < 3; ++k) std::this_thread::yield();
        --sh->inside;
        CHILD_REQUIRE(polyipc_semaphore_release(mine, 1, nullptr) == 0);
      }
      return 0;
    })));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 120s));
  EXPECT_EQ(3, sh->most.load());
  uint64_t v = 0;
  CAPI_ASSERT_OK(polyipc_semaphore_value(s, &v, &e));
  EXPECT_EQ(3u, v);
}

TEST_F(SyncMp, SemaphoreSlotsOfAKilledHolderComeBack) {
  std::string n = Name("s");
  Semaphore s;
  CAPI_ASSERT_OK(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 2, 0, nullptr, s.out(), &e));
  Pipe ready;
  Children kids;
  pid_t holder = kids.Add(Spawn([&] {
    Semaphore mine;
    CHILD_REQUIRE(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, 0, nullptr, mine.out(), nullptr) == 0);
    CHILD_REQUIRE(polyipc_semaphore_acquire_n(mine, 2, 0, nullptr) == 0);
    ready.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_semaphore_acquire(s, 0, nullptr));
  std::atomic<int> rc{-1};
  std::thread blocked([&] { rc = polyipc_semaphore_acquire_n(s, 2, 20 * kSec, nullptr); });
  kill(holder, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(holder, 10s));
  blocked.join();
  EXPECT_EQ(0, rc.load());  // both slots came back
  char* j = nullptr;
  CAPI_ASSERT_OK(polyipc_semaphore_stat_json(s, &j, &e));
  EXPECT_EQ(2, TakeJson(j)["counters"]["slots_returned_by_dead_holders"].get<int>());
  CAPI_ASSERT_OK(polyipc_semaphore_release(s, 2, &e));
}

TEST_F(SyncMp, EventSetWakesWaitersInOtherProcesses) {
  std::string n = Name("e");
  Event ev;
  CAPI_ASSERT_OK(polyipc_event_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, ev.out(), &e));
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < 4; ++p)
    pids.push_back(kids.Add(Spawn([&] {
      Event mine;
      CHILD_REQUIRE(polyipc_event_open(n.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == 0);
      CHILD_REQUIRE(polyipc_event_wait(mine, 20 * kSec, nullptr) == 0);
      return 0;
    })));
  for (pid_t p : pids) EXPECT_TRUE(WaitUntilSleeping(p, 10s));
  EXPECT_TRUE(WaitForStat(n, {"sleeping", "waiters"}, 4, 10s)) << "the stat counts the four asleep";
  CAPI_ASSERT_OK(polyipc_event_set(ev, &e));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 10s));
  EXPECT_TRUE(WaitForStat(n, {"sleeping", "waiters"}, 0, 10s));
}

TEST_F(SyncMp, BarrierAcrossProcessesForManyRounds) {
  constexpr int kProcs = 4, kRounds = 100;
  struct Shared {
    uint64_t index[kProcs][kRounds];
  };
  auto* sh = MapShared<Shared>();
  std::string n = Name("b");
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p)
    pids.push_back(kids.Add(Spawn([&, p] {
      Barrier b;
      CHILD_REQUIRE(polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, kProcs, nullptr, b.out(), nullptr) == 0);
      for (int r = 0; r < kRounds; ++r) CHILD_REQUIRE(polyipc_barrier_wait(b, 20 * kSec, &sh->index[p][r], nullptr) == 0);
      return 0;
    })));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 60s));
  for (int r = 0; r < kRounds; ++r) {
    std::set<uint64_t> seen;
    for (int p = 0; p < kProcs; ++p) seen.insert(sh->index[p][r]);
    EXPECT_EQ((std::set<uint64_t>{0, 1, 2, 3}), seen) << "round " << r;
  }
}

TEST_F(SyncMp, AWaiterKilledBreaksTheBarrier) {
  std::string n = Name("b");
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 3, nullptr, b.out(), &e));
  Children kids;
  pid_t waiter = kids.Add(Spawn([&] {
    Barrier mine;
    CHILD_REQUIRE(polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_ONLY, 3, nullptr, mine.out(), nullptr) == 0);
    uint64_t i;
    polyipc_barrier_wait(mine, 60 * kSec, &i, nullptr);
    return 1;
  }));
  uint32_t waiting = 0;
  auto deadline = Clock::now() + 10s;
  while (waiting < 1 && Clock::now() < deadline) polyipc_barrier_n_waiting(b, &waiting, nullptr);
  ASSERT_EQ(1u, waiting);
  kill(waiter, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(waiter, 10s));
  uint64_t idx;
  Err e1;
  auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_BROKEN, polyipc_barrier_wait(b, 20 * kSec, &idx, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "died")) << e1.Msg();
  EXPECT_LT(SecondsSince(t0), 5.0);
}

// A bounded buffer of 4 slots in shared memory, guarded by a Condition, from
// a producer process to a consumer process: every item, in order.
TEST_F(SyncMp, ConditionBoundedBufferAcrossProcesses) {
  struct Shared {
    uint64_t items[4];
    uint64_t head, count;
  };
  auto* sh = MapShared<Shared>();
  std::string n = Name("c");
  constexpr uint64_t kItems = 3000;
  Children kids;
  pid_t producer = kids.Add(Spawn([&] {
    Condition c;
    CHILD_REQUIRE(polyipc_condition_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, nullptr, c.out(), nullptr) == 0);
    for (uint64_t i = 0; i < kItems; ++i) {
      CHILD_REQUIRE(polyipc_condition_acquire(c, 20 * kSec, nullptr) == 0);
      while (Read(sh->count) == 4) CHILD_REQUIRE(polyipc_condition_wait(c, 20 * kSec, nullptr) == 0);
      Write(sh->items[(Read(sh->head) + Read(sh->count)) % 4], i);
      Write(sh->count, Read(sh->count) + 1);
      CHILD_REQUIRE(polyipc_condition_notify_all(c, nullptr) == 0);
      CHILD_REQUIRE(polyipc_condition_release(c, nullptr) == 0);
    }
    return 0;
  }));
  pid_t consumer = kids.Add(Spawn([&] {
    Condition c;
    CHILD_REQUIRE(polyipc_condition_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, nullptr, c.out(), nullptr) == 0);
    for (uint64_t i = 0; i < kItems; ++i) {
      CHILD_REQUIRE(polyipc_condition_acquire(c, 20 * kSec, nullptr) == 0);
      while (Read(sh->count) == 0) CHILD_REQUIRE(polyipc_condition_wait(c, 20 * kSec, nullptr) == 0);
      CHILD_REQUIRE(Read(sh->items[Read(sh->head)]) == i);
      Write(sh->head, (Read(sh->head) + 1) % 4);
      Write(sh->count, Read(sh->count) - 1);
      CHILD_REQUIRE(polyipc_condition_notify_all(c, nullptr) == 0);
      CHILD_REQUIRE(polyipc_condition_release(c, nullptr) == 0);
    }
    return 0;
  }));
  EXPECT_EQ(0, kids.Wait(producer, 60s));
  EXPECT_EQ(0, kids.Wait(consumer, 60s));
}

}  // namespace
