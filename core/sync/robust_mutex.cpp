#include "core/sync/robust_mutex.hpp"

#include <cerrno>
#include <cstdio>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/sync/futex.hpp"

namespace polyipc {

pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

void RobustMutex::init(Type type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attr, type == Type::Recursive    ? PTHREAD_MUTEX_RECURSIVE
                                   : type == Type::ErrorCheck ? PTHREAD_MUTEX_ERRORCHECK
                                                              : PTHREAD_MUTEX_NORMAL);
  int rc = pthread_mutex_init(&m_, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) throw_os_error(rc, "robust mutex init");
}

Status RobustMutex::try_lock() {
  int rc = pthread_mutex_trylock(&m_);
  switch (rc) {
    case 0: return Status::Ok;
    case EOWNERDEAD: return Status::OwnerDead;
    case EBUSY: return Status::Timeout;
    default: throw_os_error(rc, "robust mutex");
  }
}

namespace {
// A critical section here lasts ~100 ns, so a waiter spins ~0.5 us (a pause
// is ~25-30 ns), yields for up to 20 us, and only then sleeps in the kernel.
constexpr int kSpins = 16;
constexpr int64_t kYieldNs = 20'000;
}  // namespace

// Up to `spins` pauses on a plain read of glibc's lock word, trying only when
// it looks free, so waiters do not keep stealing the cache line from the
// holder. true: *st is the answer (Ok or OwnerDead: locked).
bool RobustMutex::spin(int spins, Status* st) {
  for (int i = 0; i < spins; ++i) {
    if (__atomic_load_n(&m_.__data.__lock, __ATOMIC_RELAXED) == 0 && (*st = try_lock()) != Status::Timeout)
      return true;
    cpu_relax();
  }
  return false;
}

Status RobustMutex::lock(const Deadline& deadline) {
  Status st;
  if (spin(kSpins, &st)) return st;
  // Yield before sleeping. With more runnable processes than cores (two
  // producers and two consumers on two), a waiter that spins on holds a core
  // that another process needs to make progress: the consumer beside it, or
  // a holder that was preempted. 2P/2C with the two producers on different
  // cores ran at 3.7-5.4M msg/s spinning, 7.7-13.9M yielding (docs/benchmarks.md).
  // With nobody else to run, sched_yield returns at once (~0.6 us here).
  if (!deadline.is_immediate()) {
    const int64_t stop = deadline.until_ns(kYieldNs);
    while (monotonic_ns() < stop) {
      sched_yield();
      if (spin(kSpins, &st)) return st;
    }
  }
  int rc;
  if (deadline.is_forever()) {
    rc = pthread_mutex_lock(&m_);
  } else {
    timespec ts = to_timespec(deadline.until_ns(-1));
    rc = deadline.is_immediate() ? pthread_mutex_trylock(&m_) : pthread_mutex_clocklock(&m_, CLOCK_MONOTONIC, &ts);
  }
  switch (rc) {
    case 0: return Status::Ok;
    case EOWNERDEAD: return Status::OwnerDead;
    case ETIMEDOUT:
    case EBUSY: return Status::Timeout;
    case EDEADLK: return Status::InvalidArg;
    default: throw_os_error(rc, "robust mutex");
  }
}

pid_t RobustMutex::holder_tid() const noexcept {
  // For robust mutexes the lock word itself holds the owner's tid.
  return static_cast<pid_t>(__atomic_load_n(&m_.__data.__lock, __ATOMIC_RELAXED) & FUTEX_TID_MASK);
}

bool RobustMutex::held_by_caller() const noexcept { return holder_tid() == current_tid(); }

bool RobustMutex::held_in_this_process() const noexcept {
  const pid_t holder = holder_tid();
  if (holder == 0) return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d", static_cast<int>(holder));
  return ::access(path, F_OK) == 0;
}

uint32_t RobustMutex::depth() const noexcept {
  if (holder_tid() == 0) return 0;
  uint32_t count = __atomic_load_n(&m_.__data.__count, __ATOMIC_RELAXED);
  return count == 0 ? 1 : count;
}

}  // namespace polyipc
