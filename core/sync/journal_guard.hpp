// Holds a robust mutex that guards journaled state, for one call. When the
// previous holder died, its interrupted transaction is rolled back before
// the caller sees the state, so every call starts from a committed one.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/sync/journal.hpp"
#include "core/sync/robust_mutex.hpp"

namespace polyipc {

class JournalGuard {
 public:
  // base: the region the journal's offsets are relative to.
  JournalGuard(RobustMutex& mutex, Journal& journal, void* base, std::atomic<uint64_t>& recoveries) : mutex_(mutex) {
    if (mutex_.lock(Deadline::forever()) == Status::OwnerDead) {
      roll_back(journal, base);
      recoveries.fetch_add(1, std::memory_order_relaxed);
      mutex_.mark_consistent();
    }
  }
  ~JournalGuard() { mutex_.unlock(); }
  JournalGuard(const JournalGuard&) = delete;
  JournalGuard& operator=(const JournalGuard&) = delete;

 private:
  RobustMutex& mutex_;
};

}  // namespace polyipc
