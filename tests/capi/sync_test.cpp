// Lock, RLock, Semaphore, Event, Condition and Barrier through the C API, in
// one process (threads stand in for other holders): semantics, ownership and
// bad input. Cross-process behaviour and kill -9 are in sync_multiprocess_test.
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "common.hpp"
#include "sync_handles.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class Sync : public CapiTest {};

// ---- lock -------------------------------------------------------------------

TEST_F(Sync, LockAcquireReleaseLocked) {
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  int locked = -1;
  CAPI_ASSERT_OK(polyipc_lock_locked(l, &locked, &e));
  EXPECT_EQ(0, locked);
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, POLYIPC_FOREVER, &e));
  CAPI_ASSERT_OK(polyipc_lock_locked(l, &locked, &e));
  EXPECT_EQ(1, locked);
  uint32_t depth = 9;
  CAPI_ASSERT_OK(polyipc_lock_held(l, &depth, &e));
  EXPECT_EQ(1u, depth);
  CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
  CAPI_ASSERT_OK(polyipc_lock_locked(l, &locked, &e));
  EXPECT_EQ(0, locked);
}

TEST_F(Sync, LockReleaseByNonHolderIsNotOwner) {
  Lock l;
  std::string n = Name("l");
  CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  Err e1;
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_lock_release(l, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), n) && ContainsI(e1.Msg(), "not held")) << e1.Msg();
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, 0, &e));
  // another thread may neither release it nor take it
  std::thread([&] {
    Err e2;
    EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_lock_release(l, &e2));
    EXPECT_TRUE(ContainsI(e2.Msg(), "does not hold")) << e2.Msg();
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(l, 0, &e2));
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(l, 20 * kMs, &e2));
  }).join();
  CAPI_EXPECT_OK(polyipc_lock_release(l, &e));
}

TEST_F(Sync, LockIsNotRecursive) {
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, POLYIPC_FOREVER, &e));
  Err e1;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(l, 0, &e1));  // acquire(False): not acquired
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_acquire(l, POLYIPC_FOREVER, &e1));  // would wait for itself
  EXPECT_TRUE(ContainsI(e1.Msg(), "rlock")) << e1.Msg();
  CAPI_EXPECT_OK(polyipc_lock_release(l, &e));
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_lock_release(l, nullptr));
}

TEST_F(Sync, LockBlockedAcquirerGetsItOnRelease) {
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, POLYIPC_FOREVER, &e));
  std::atomic<int> got{-1};
  std::thread t([&] {
    got = polyipc_lock_acquire(l, 10 * kSec, nullptr);
    if (got == 0) polyipc_lock_release(l, nullptr);
  });
  CAPI_EXPECT_OK(polyipc_lock_release(l, &e));
  t.join();
  EXPECT_EQ(0, got.load());
}

TEST_F(Sync, LockTimeoutsOfEverySign) {
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  for (int64_t t : {int64_t{-1}, int64_t{-12345}, INT64_MIN, int64_t{0}, int64_t{1}, INT64_MAX}) {
    CAPI_EXPECT_OK(polyipc_lock_acquire(l, t, &e));
    CAPI_EXPECT_OK(polyipc_lock_release(l, &e));
  }
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, 0, &e));
  std::thread([&] {
    auto t0 = Clock::now();
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(l, 30 * kMs, nullptr));
    EXPECT_GE(SecondsSince(t0), 0.029);
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(l, 1, nullptr));
  }).join();
  CAPI_EXPECT_OK(polyipc_lock_release(l, &e));
}

TEST_F(Sync, RLockCountsExactly) {
  Lock r;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("r").c_str(), POLYIPC_OPEN_OR_CREATE, 1, nullptr, r.out(), &e));
  for (int i = 0; i < 5; ++i) CAPI_ASSERT_OK(polyipc_lock_acquire(r, 0, &e));
  uint32_t depth = 0;
  CAPI_ASSERT_OK(polyipc_lock_held(r, &depth, &e));
  EXPECT_EQ(5u, depth);
  std::thread([&] {
    uint32_t d = 9;
    EXPECT_EQ(0, polyipc_lock_held(r, &d, nullptr));
    EXPECT_EQ(0u, d);
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_lock_acquire(r, 0, nullptr));
    EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_lock_release(r, nullptr));
  }).join();
  for (int i = 0; i < 5; ++i) CAPI_ASSERT_OK(polyipc_lock_release(r, &e));
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_lock_release(r, nullptr));
  int locked = 1;
  CAPI_ASSERT_OK(polyipc_lock_locked(r, &locked, &e));
  EXPECT_EQ(0, locked);
}

TEST_F(Sync, ThreadThatDiesHoldingALockHandsItOverWithOwnerDead) {
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  std::thread([&] { EXPECT_EQ(0, polyipc_lock_acquire(l, 0, nullptr)); }).join();  // exits holding it
  Err e1;
  EXPECT_ST(POLYIPC_ERR_OWNER_DEAD, polyipc_lock_acquire(l, 5 * kSec, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "died")) << e1.Msg();
  uint32_t depth = 0;
  CAPI_ASSERT_OK(polyipc_lock_held(l, &depth, &e));
  EXPECT_EQ(1u, depth);  // held, and usable afterwards
  CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(l, 0, &e));
  CAPI_ASSERT_OK(polyipc_lock_release(l, &e));
}

TEST_F(Sync, ClosingAHandleDoesNotReleaseAndDoesNotCrash) {
  std::string n = Name("l");
  {
    Lock l;
    CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
    CAPI_ASSERT_OK(polyipc_lock_acquire(l, 0, &e));
  }  // closed while held
  Lock again;
  CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, nullptr, again.out(), &e));
  uint32_t depth = 0;
  CAPI_ASSERT_OK(polyipc_lock_held(again, &depth, &e));
  EXPECT_EQ(1u, depth);
  CAPI_ASSERT_OK(polyipc_lock_release(again, &e));
}

TEST_F(Sync, WrongKindUnderANameIsIncompatible) {
  std::string n = Name("x");
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  Lock r;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 1, nullptr, r.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), n) && ContainsI(e1.Msg(), "lock")) << e1.Msg();
  Event ev;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_event_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, ev.out(), &e1));
  Semaphore s;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_ONLY, 1, 0, nullptr, s.out(), &e1));
  Barrier b;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 2, nullptr, b.out(), &e1));
  Queue q;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, OpenQ(n, POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "holds a lock")) << e1.Msg();
  // and a queue's name opened as a lock
  std::string qn = Name("q");
  CAPI_ASSERT_OK(OpenQ(qn, POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e));
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_lock_open(qn.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, r.out(), &e1));
  Condition c;  // a condition whose lock name holds a queue
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE,
            polyipc_condition_open(Name("c").c_str(), POLYIPC_OPEN_OR_CREATE, qn.c_str(), nullptr, c.out(), &e1));
}

TEST_F(Sync, BadInputIsInvalidArg) {
  Lock l;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open(nullptr, POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open("a/b", POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "a/b")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open("", POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open("..", POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open("ok", POLYIPC_OPEN_OR_CREATE, 0, nullptr, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open("ok", (polyipc_open_mode)7, 0, nullptr, l.out(), &e1));
  polyipc_sync_options o;
  polyipc_sync_options_init(&o);
  o.mode = 01777;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open(Name("m").c_str(), POLYIPC_OPEN_OR_CREATE, 0, &o, l.out(), &e1));
  o.mode = 0600;
  o.struct_size = 2;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_open(Name("m").c_str(), POLYIPC_OPEN_OR_CREATE, 0, &o, l.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_lock_open(Name("none").c_str(), POLYIPC_OPEN_ONLY, 0, nullptr, l.out(), &e1));
  // NULL handles and outputs never crash
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_acquire(nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_release(nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_locked(nullptr, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_acquire(nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_release(nullptr, 1, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_event_set(nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_event_wait(nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_condition_wait(nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_condition_notify(nullptr, 1, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_barrier_wait(nullptr, 0, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_barrier_abort(nullptr, &e1));
  polyipc_lock_close(nullptr);
  polyipc_semaphore_close(nullptr);
  polyipc_event_close(nullptr);
  polyipc_condition_close(nullptr);
  polyipc_barrier_close(nullptr);
  CAPI_ASSERT_OK(polyipc_lock_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_locked(l, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_lock_held(l, nullptr, nullptr));  // err may be NULL too
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(Name("b").c_str(), POLYIPC_OPEN_OR_CREATE, 1, nullptr, b.out(), &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_barrier_wait(b, 0, nullptr, &e1));
}

TEST_F(Sync, ObjectsAre0600ByDefault) {
  std::string n = Name("l");
  Lock l;
  CAPI_ASSERT_OK(polyipc_lock_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, l.out(), &e));
  struct stat st;
  ASSERT_EQ(0, stat(ShmPath(n).c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  polyipc_sync_options o;
  polyipc_sync_options_init(&o);
  o.mode = 0640;
  Event ev;
  std::string en = Name("e");
  CAPI_ASSERT_OK(polyipc_event_open(en.c_str(), POLYIPC_OPEN_OR_CREATE, &o, ev.out(), &e));
  ASSERT_EQ(0, stat(ShmPath(en).c_str(), &st));
  EXPECT_EQ(0640u, st.st_mode & 0777);
}

// ---- semaphore --------------------------------------------------------------

TEST_F(Sync, SemaphoreCountsAndTimesOut) {
  Semaphore s;
  CAPI_ASSERT_OK(polyipc_semaphore_open(Name("s").c_str(), POLYIPC_OPEN_OR_CREATE, 2, 0, nullptr, s.out(), &e));
  CAPI_ASSERT_OK(polyipc_semaphore_acquire(s, 0, &e));
  CAPI_ASSERT_OK(polyipc_semaphore_acquire(s, 0, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_semaphore_acquire(s, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_semaphore_acquire(s, 20 * kMs, nullptr));
  uint64_t v = 9;
  CAPI_ASSERT_OK(polyipc_semaphore_value(s, &v, &e));
  EXPECT_EQ(0u, v);
  CAPI_ASSERT_OK(polyipc_semaphore_release(s, 5, &e));  // unbounded: may exceed the initial value
  CAPI_ASSERT_OK(polyipc_semaphore_value(s, &v, &e));
  EXPECT_EQ(5u, v);
  CAPI_ASSERT_OK(polyipc_semaphore_acquire_n(s, 4, 0, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_semaphore_acquire_n(s, 2, 0, nullptr));  // all or none
  CAPI_ASSERT_OK(polyipc_semaphore_value(s, &v, &e));
  EXPECT_EQ(1u, v);
  CAPI_ASSERT_OK(polyipc_semaphore_acquire_n(s, 0, 0, &e));
  uint64_t taken = 0;
  CAPI_ASSERT_OK(polyipc_semaphore_drain(s, &taken, &e));
  EXPECT_EQ(1u, taken);
  CAPI_ASSERT_OK(polyipc_semaphore_value(s, &v, &e));
  EXPECT_EQ(0u, v);
}

TEST_F(Sync, SemaphoreReleaseWakesABlockedAcquirer) {
  Semaphore s;
  CAPI_ASSERT_OK(polyipc_semaphore_open(Name("s").c_str(), POLYIPC_OPEN_OR_CREATE, 0, 0, nullptr, s.out(), &e));
  std::atomic<int> got{-1};
  std::thread t([&] { got = polyipc_semaphore_acquire(s, 10 * kSec, nullptr); });
  CAPI_ASSERT_OK(polyipc_semaphore_release(s, 1, &e));
  t.join();
  EXPECT_EQ(0, got.load());
}

TEST_F(Sync, BoundedSemaphoreRefusesToGrowPastItsMaximum) {
  std::string n = Name("s");
  Semaphore s;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 3, 2, nullptr, s.out(), &e1));
  CAPI_ASSERT_OK(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 2, 2, nullptr, s.out(), &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_release(s, 1, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), n) && ContainsI(e1.Msg(), "too many")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_acquire_n(s, 3, 0, &e1));  // can never succeed
  CAPI_ASSERT_OK(polyipc_semaphore_acquire(s, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_semaphore_release(s, 2, &e1));
  CAPI_ASSERT_OK(polyipc_semaphore_release(s, 1, &e));
  // reopening with another maximum is INCOMPATIBLE; OPEN_ONLY takes it as it is
  Semaphore other;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 1, 0, nullptr, other.out(), &e1));
  CAPI_ASSERT_OK(polyipc_semaphore_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, 0, nullptr, other.out(), &e));
  uint64_t v = 0;
  CAPI_ASSERT_OK(polyipc_semaphore_value(other, &v, &e));
  EXPECT_EQ(2u, v);
}

// ---- event ------------------------------------------------------------------

TEST_F(Sync, EventSetClearWait) {
  Event ev;
  CAPI_ASSERT_OK(polyipc_event_open(Name("e").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, ev.out(), &e));
  int set = -1;
  CAPI_ASSERT_OK(polyipc_event_is_set(ev, &set, &e));
  EXPECT_EQ(0, set);
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_event_wait(ev, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_event_wait(ev, 20 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_event_set(ev, &e));
  CAPI_ASSERT_OK(polyipc_event_set(ev, &e));  // idempotent
  CAPI_ASSERT_OK(polyipc_event_is_set(ev, &set, &e));
  EXPECT_EQ(1, set);
  CAPI_ASSERT_OK(polyipc_event_wait(ev, 0, &e));
  CAPI_ASSERT_OK(polyipc_event_wait(ev, POLYIPC_FOREVER, &e));
  CAPI_ASSERT_OK(polyipc_event_clear(ev, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_event_wait(ev, 0, nullptr));
}

// A set followed at once by a clear, between two slices of a waiter, still counts.
TEST_F(Sync, EventPulseBetweenSlicesIsNotMissed) {
  Event ev;
  CAPI_ASSERT_OK(polyipc_event_open(Name("e").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, ev.out(), &e));
  uint32_t token = 0;
  CAPI_ASSERT_OK(polyipc_event_token(ev, &token, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_event_wait_since(ev, token, 1 * kMs, nullptr));  // a slice
  CAPI_ASSERT_OK(polyipc_event_set(ev, &e));
  CAPI_ASSERT_OK(polyipc_event_clear(ev, &e));
  CAPI_EXPECT_OK(polyipc_event_wait_since(ev, token, 0, &e));  // the next slice sees the pulse
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_event_wait(ev, 0, nullptr));  // a plain wait does not
}

TEST_F(Sync, EventSetWakesEveryWaiter) {
  Event ev;
  CAPI_ASSERT_OK(polyipc_event_open(Name("e").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, ev.out(), &e));
  std::atomic<int> woken{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] { woken += polyipc_event_wait(ev, 10 * kSec, nullptr) == 0; });
  CAPI_ASSERT_OK(polyipc_event_set(ev, &e));
  for (auto& t : ts) t.join();
  EXPECT_EQ(4, woken.load());
}

// ---- condition --------------------------------------------------------------

TEST_F(Sync, ConditionRequiresItsLock) {
  Condition c;
  std::string n = Name("c");
  CAPI_ASSERT_OK(polyipc_condition_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, nullptr, c.out(), &e));
  Err e1;
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_condition_wait(c, 0, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), n + ".lock")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_condition_notify(c, 1, &e1));
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_condition_notify_all(c, &e1));
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_condition_release(c, &e1));
  // wait with a timeout: TIMEOUT, and the lock is held again afterwards
  CAPI_ASSERT_OK(polyipc_condition_acquire(c, 0, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_condition_wait(c, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_condition_wait(c, 20 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_condition_notify(c, 1, &e));  // nobody waits: fine
  CAPI_ASSERT_OK(polyipc_condition_release(c, &e));
  // bound to another lock than it was created with: INCOMPATIBLE
  Condition other;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE,
            polyipc_condition_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, Name("other").c_str(), nullptr, other.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "bound to lock")) << e1.Msg();
}

// notify(1) wakes exactly one waiter, the longest waiting; notify_all the rest.
TEST_F(Sync, ConditionNotifyWakesExactlyN) {
  std::string n = Name("c"), ln = Name("l");
  Condition c;
  CAPI_ASSERT_OK(polyipc_condition_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, ln.c_str(), nullptr, c.out(), &e));
  std::atomic<int> woken{0}, waiting{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&] {
      EXPECT_EQ(0, polyipc_condition_acquire(c, 10 * kSec, nullptr));
      ++waiting;
      int rc = polyipc_condition_wait(c, 20 * kSec, nullptr);
      woken += rc == 0;
      EXPECT_EQ(0, polyipc_condition_release(c, nullptr));
    });
  auto waiting_in_stat = [&] {
    char* j = nullptr;
    polyipc_condition_stat_json(c, &j, nullptr);
    return TakeJson(j).value("waiting", -1);
  };
  auto deadline = Clock::now() + 10s;
  while ((waiting.load() < 3 || waiting_in_stat() < 3) && Clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(3, waiting_in_stat());
  CAPI_ASSERT_OK(polyipc_condition_acquire(c, POLYIPC_FOREVER, &e));
  CAPI_ASSERT_OK(polyipc_condition_notify(c, 1, &e));
  CAPI_ASSERT_OK(polyipc_condition_release(c, &e));
  while (woken.load() < 1 && Clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(1, woken.load());
  EXPECT_EQ(2, waiting_in_stat());  // the other two were not notified
  CAPI_ASSERT_OK(polyipc_condition_acquire(c, POLYIPC_FOREVER, &e));
  CAPI_ASSERT_OK(polyipc_condition_notify_all(c, &e));
  CAPI_ASSERT_OK(polyipc_condition_release(c, &e));
  for (auto& t : ts) t.join();
  EXPECT_EQ(3, woken.load());
}

TEST_F(Sync, ConditionOverAnRLockRestoresTheDepth) {
  std::string ln = Name("r");
  Lock r;
  CAPI_ASSERT_OK(polyipc_lock_open(ln.c_str(), POLYIPC_OPEN_OR_CREATE, 1, nullptr, r.out(), &e));
  Condition c;
  CAPI_ASSERT_OK(polyipc_condition_open(Name("c").c_str(), POLYIPC_OPEN_OR_CREATE, ln.c_str(), nullptr, c.out(), &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(r, 0, &e));
  CAPI_ASSERT_OK(polyipc_lock_acquire(r, 0, &e));
  std::atomic<bool> other_got_it{false};
  std::thread t([&] {  // can only get the rlock while the waiter has released every level
    if (polyipc_lock_acquire(r, 10 * kSec, nullptr) == 0) {
      other_got_it = true;
      polyipc_lock_release(r, nullptr);
    }
  });
  while (!other_got_it.load()) {
    int rc = polyipc_condition_wait(c, 5 * kMs, nullptr);
    if (rc != POLYIPC_ERR_TIMEOUT) break;
  }
  t.join();
  EXPECT_TRUE(other_got_it.load());
  uint32_t depth = 0;
  CAPI_ASSERT_OK(polyipc_lock_held(r, &depth, &e));
  EXPECT_EQ(2u, depth);
  CAPI_ASSERT_OK(polyipc_lock_release(r, &e));
  CAPI_ASSERT_OK(polyipc_lock_release(r, &e));
}

// ---- barrier ----------------------------------------------------------------

TEST_F(Sync, BarrierGivesEachArrivalItsIndex) {
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(Name("b").c_str(), POLYIPC_OPEN_OR_CREATE, 4, nullptr, b.out(), &e));
  uint32_t parties = 0;
  CAPI_ASSERT_OK(polyipc_barrier_parties(b, &parties, &e));
  EXPECT_EQ(4u, parties);
  for (int round = 0; round < 20; ++round) {
    std::vector<uint64_t> idx(4, 99);
    std::vector<int> rc(4, -1);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { rc[i] = polyipc_barrier_wait(b, 10 * kSec, &idx[i], nullptr); });
    for (auto& t : ts) t.join();
    std::set<uint64_t> seen(idx.begin(), idx.end());
    EXPECT_EQ((std::set<uint64_t>{0, 1, 2, 3}), seen);
    for (int r : rc) EXPECT_EQ(0, r);
  }
  uint32_t waiting = 9;
  CAPI_ASSERT_OK(polyipc_barrier_n_waiting(b, &waiting, &e));
  EXPECT_EQ(0u, waiting);
}

TEST_F(Sync, BarrierTimeoutBreaksItForEveryoneUntilReset) {
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(Name("b").c_str(), POLYIPC_OPEN_OR_CREATE, 3, nullptr, b.out(), &e));
  std::atomic<int> other{-1};
  std::thread t([&] {
    uint64_t i;
    other = polyipc_barrier_wait(b, 20 * kSec, &i, nullptr);
  });
  uint32_t waiting = 0;
  auto deadline = Clock::now() + 10s;
  while (waiting < 1 && Clock::now() < deadline) polyipc_barrier_n_waiting(b, &waiting, nullptr);
  uint64_t idx;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_barrier_wait(b, 30 * kMs, &idx, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "broken")) << e1.Msg();
  t.join();
  EXPECT_EQ(POLYIPC_ERR_BROKEN, other.load());
  int broken = 0;
  CAPI_ASSERT_OK(polyipc_barrier_broken(b, &broken, &e));
  EXPECT_EQ(1, broken);
  EXPECT_ST(POLYIPC_ERR_BROKEN, polyipc_barrier_wait(b, 0, &idx, nullptr));
  CAPI_ASSERT_OK(polyipc_barrier_reset(b, &e));
  CAPI_ASSERT_OK(polyipc_barrier_broken(b, &broken, &e));
  EXPECT_EQ(0, broken);
}

TEST_F(Sync, BarrierAbortAndResetBreakWaiters) {
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(Name("b").c_str(), POLYIPC_OPEN_OR_CREATE, 2, nullptr, b.out(), &e));
  for (bool use_reset : {false, true}) {
    std::atomic<int> rc{-1};
    std::thread t([&] {
      uint64_t i;
      rc = polyipc_barrier_wait(b, 20 * kSec, &i, nullptr);
    });
    uint32_t waiting = 0;
    auto deadline = Clock::now() + 10s;
    while (waiting < 1 && Clock::now() < deadline) polyipc_barrier_n_waiting(b, &waiting, nullptr);
    if (use_reset) CAPI_ASSERT_OK(polyipc_barrier_reset(b, &e));
    else CAPI_ASSERT_OK(polyipc_barrier_abort(b, &e));
    t.join();
    EXPECT_EQ(POLYIPC_ERR_BROKEN, rc.load()) << (use_reset ? "reset" : "abort");
    CAPI_ASSERT_OK(polyipc_barrier_reset(b, &e));
  }
}

TEST_F(Sync, BarrierArriveThenAwaitInSlices) {
  Barrier b;
  CAPI_ASSERT_OK(polyipc_barrier_open(Name("b").c_str(), POLYIPC_OPEN_OR_CREATE, 2, nullptr, b.out(), &e));
  uint64_t ticket = 0, idx = 9;
  CAPI_ASSERT_OK(polyipc_barrier_arrive(b, &ticket, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_barrier_await(b, ticket, 0, &idx, nullptr));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_barrier_await(b, ticket, 10 * kMs, &idx, nullptr));  // not broken
  int broken = 1;
  CAPI_ASSERT_OK(polyipc_barrier_broken(b, &broken, &e));
  EXPECT_EQ(0, broken);
  uint64_t other_idx = 9;
  std::thread([&] { EXPECT_EQ(0, polyipc_barrier_wait(b, 10 * kSec, &other_idx, nullptr)); }).join();
  CAPI_ASSERT_OK(polyipc_barrier_await(b, ticket, 10 * kSec, &idx, &e));
  EXPECT_EQ(0u, idx);
  EXPECT_EQ(1u, other_idx);
}

TEST_F(Sync, BarrierPartiesAreChecked) {
  Barrier b;
  Err e1;
  std::string n = Name("b");
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, b.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 257, nullptr, b.out(), &e1));
  CAPI_ASSERT_OK(polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 3, nullptr, b.out(), &e));
  Barrier other;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_barrier_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 4, nullptr, other.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "3 parties")) << e1.Msg();
}

}  // namespace
