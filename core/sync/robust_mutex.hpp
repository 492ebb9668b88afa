// A process-shared, robust mutex: when its holder dies, the next locker gets
// it with Status::OwnerDead, repairs the protected state, then calls
// mark_consistent(). Uncontended lock/unlock stay in user space.
#pragma once
#include <pthread.h>

#include <cstdint>

#include "core/clock.hpp"
#include "core/status.hpp"

namespace polyipc {

class RobustMutex {
 public:
  enum class Type { Normal, ErrorCheck, Recursive };
  void init(Type type = Type::Normal);  // once, by the creator of the segment
  // Ok, OwnerDead (locked: repair, then mark_consistent) or Timeout.
  // An ErrorCheck mutex the caller holds already: Timeout when the deadline
  // is immediate, else Status::InvalidArg (it would wait for itself forever).
  Status lock(const Deadline& deadline);
  // Ok, OwnerDead or Timeout (held by someone else), without waiting.
  Status try_lock();
  // glibc's answer as is (0, EBUSY, EOWNERDEAD, ...): the inlined fast path.
  int try_lock_raw() noexcept { return pthread_mutex_trylock(&m_); }
  void unlock() noexcept { pthread_mutex_unlock(&m_); }
  // Ok, or NotOwner when the calling thread does not hold it.
  Status unlock_checked() noexcept { return pthread_mutex_unlock(&m_) == 0 ? Status::Ok : Status::NotOwner; }
  void mark_consistent() noexcept { pthread_mutex_consistent(&m_); }

  // What glibc records, read without locking (diagnostics and ownership checks).
  pid_t holder_tid() const noexcept;           // 0 when free
  bool held_by_caller() const noexcept;        // by the calling thread
  // By any thread of this process. A held robust mutex sits in its holder
  // thread's robust list, which glibc and the kernel walk: its mapping must
  // not be unmapped while this is true.
  bool held_in_this_process() const noexcept;
  uint32_t depth() const noexcept;             // recursion depth while held (1 for non-recursive)

 private:
  bool spin(int spins, Status* st);

  pthread_mutex_t m_;
};

// The calling thread's kernel id.
pid_t current_tid() noexcept;

}  // namespace polyipc
