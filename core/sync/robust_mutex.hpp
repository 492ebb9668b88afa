// A process-shared, robust mutex: when its holder dies, the next locker gets
// it with Status::OwnerDead, repairs the protected state, then calls
// mark_consistent(). Uncontended lock/unlock stay in user space.
#pragma once
#include <pthread.h>

#include "core/clock.hpp"
#include "core/status.hpp"

namespace polyipc {

class RobustMutex {
 public:
  void init();  // once, by the creator of the segment
  // Ok, OwnerDead (locked: repair, then mark_consistent) or Timeout.
  Status lock(const Deadline& deadline);
  void unlock() noexcept { pthread_mutex_unlock(&m_); }
  void mark_consistent() noexcept { pthread_mutex_consistent(&m_); }

 private:
  pthread_mutex_t m_;
};

}  // namespace polyipc
