// Condition: a condition variable bound to a named Lock or RLock
// (multiprocessing.Condition). Waiters take numbered slots under the lock,
// so notify(n) wakes exactly the n longest waiting, a notify is never lost
// to a waiter that timed out, and a dead waiter's slot is skipped.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/lock.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

struct ConditionShared {
  static constexpr uint32_t kMaxWaiters = 256;
  char lock_name[kMaxNameLength + 1];  // fixed at creation
  // Changed only by a holder of the lock.
  alignas(64) uint64_t next_ticket;
  struct Waiter {
    std::atomic<uint64_t> token;  // ProcessToken of the waiter, 0 = free slot
    uint64_t ticket;              // arrival order
    std::atomic<uint32_t> notified;
    uint32_t pad;
  } waiters[kMaxWaiters];
  alignas(64) WakeWord wake;
  alignas(64) std::atomic<uint64_t> waits, notifies, timeouts;
};

class Condition {
 public:
  // lock_name: the Lock or RLock it is bound to ("" = "<name>.lock", opened
  // or created). An existing condition bound to another lock is Incompatible.
  static std::unique_ptr<Condition> open(const std::string& name, OpenMode mode, const std::string& lock_name,
                                         const SyncOptions& options);
  ~Condition();

  const std::string& name() const noexcept { return segment_->name(); }
  Lock& lock() noexcept { return *lock_; }

  // The caller holds the lock. Releases it, sleeps until notified or the
  // deadline, takes it back: Ok (notified), Timeout, OwnerDead (notified or
  // not: the lock was re-taken from a dead holder), NotOwner (lock not held).
  Status wait(const Deadline& deadline, ErrorText& error);
  // The caller holds the lock. Wakes up to n waiters, longest waiting first.
  Status notify(uint64_t n, ErrorText& error);
  Status notify_all(ErrorText& error) { return notify(UINT64_MAX, error); }

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Condition() = default;
  Status require_lock(const char* what, ErrorText& error) const;

  std::unique_ptr<Segment> segment_;
  ConditionShared* s_ = nullptr;
  SleeperTally tally_;  // wake.sleepers
  std::unique_ptr<Lock> lock_;
};

}  // namespace polyipc
