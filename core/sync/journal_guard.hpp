// Holds a robust mutex that guards journaled state, for one call. When the
// previous holder died, its interrupted transaction is rolled back before
// the caller sees the state, so every call starts from a committed one.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/sync/journal.hpp"
#include "core/sync/robust_mutex.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

// A journaled version word (+1 per change) and the word its watchers sleep
// on: a guard that saw the version move wakes them once it lets go.
struct ChangeSignal {
  const uint64_t* version = nullptr;
  WakeWord* changed = nullptr;
  SleeperTally* tally = nullptr;  // the handle's, for changed.sleepers
};

class JournalGuard {
 public:
  // base: the region the journal's offsets are relative to.
  JournalGuard(RobustMutex& mutex, Journal& journal, void* base, std::atomic<uint64_t>& recoveries,
               ChangeSignal signal = {})
      : mutex_(mutex), signal_(signal) {
    if (mutex_.lock(Deadline::forever()) == Status::OwnerDead) {
      roll_back(journal, base);
      recoveries.fetch_add(1, std::memory_order_relaxed);
      mutex_.mark_consistent();
      recovered_ = true;  // the dead holder may have committed a change and died before its wake-up
    }
    if (signal_.version) version_at_lock_ = load_word(signal_.version);
  }
  ~JournalGuard() {
    const bool changed = signal_.version && (recovered_ || load_word(signal_.version) != version_at_lock_);
    mutex_.unlock();
    if (changed) signal_.changed->wake_all(*signal_.tally);
  }
  JournalGuard(const JournalGuard&) = delete;
  JournalGuard& operator=(const JournalGuard&) = delete;

 private:
  RobustMutex& mutex_;
  ChangeSignal signal_;
  uint64_t version_at_lock_ = 0;
  bool recovered_ = false;
};

// Waits until the journaled *version differs from seen: Ok with *version_out,
// or Timeout. Wakers call changed.wake_all(...) after the change commits (the
// guard above does), so a waiter that saw the old version and then the old
// wake count cannot miss it; a waker killed in between costs one slice.
inline Status wait_version_change(const uint64_t* version, WakeWord& changed, SleeperTally& tally, uint64_t seen,
                                  const Deadline& deadline, uint64_t* version_out) noexcept {
  for (;;) {
    const uint32_t wakes = changed.observe();
    const uint64_t now = load_word(version);
    *version_out = now;
    if (now != seen) return Status::Ok;
    if (deadline.expired()) return Status::Timeout;
    changed.wait(wakes, deadline, kLivenessSliceNs, tally);
  }
}

}  // namespace polyipc
