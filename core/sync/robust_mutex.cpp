#include "core/sync/robust_mutex.hpp"

#include <cerrno>

#include "core/sync/futex.hpp"

namespace polyipc {

void RobustMutex::init() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  int rc = pthread_mutex_init(&m_, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) throw_os_error(rc, "robust mutex init");
}

Status RobustMutex::lock(const Deadline& deadline) {
  // Critical sections are short: spinning briefly avoids a sleep and a wake-up.
  // Spin on a plain read of glibc's lock word and only try when it looks
  // free, so waiters do not keep stealing the cache line from the holder.
  for (int i = 0; i < 200; ++i) {
    if (__atomic_load_n(&m_.__data.__lock, __ATOMIC_RELAXED) == 0) {
      int rc = pthread_mutex_trylock(&m_);
      if (rc == 0) return Status::Ok;
      if (rc == EOWNERDEAD) return Status::OwnerDead;
      if (rc != EBUSY) throw_os_error(rc, "robust mutex");
    }
    cpu_relax();
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
    default: throw_os_error(rc, "robust mutex");
  }
}

}  // namespace polyipc
