// Lock and RLock: a named, robust, process-shared mutex owned by the thread
// that acquired it (multiprocessing.Lock / RLock, made robust). A holder that
// dies hands the lock to the next acquirer with Status::OwnerDead; release by
// a thread that does not hold it is Status::NotOwner.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/robust_mutex.hpp"

namespace polyipc {

struct SyncOptions {
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
};

struct LockShared {
  RobustMutex mutex;
  uint64_t acquires;  // changed by the holder only, in the mutex's cache line
  alignas(64) std::atomic<uint64_t> owner_dead_recoveries, timeouts;
};

class Lock {
 public:
  // kind: Kind::Lock or Kind::RLock. Throws Error.
  static std::unique_ptr<Lock> open(const std::string& name, OpenMode mode, Kind kind, const SyncOptions& options);
  // Either kind, whichever the name holds (a new one is a Lock): a Condition's lock.
  static std::unique_ptr<Lock> open_any(const std::string& name, OpenMode mode, const SyncOptions& options);
  ~Lock();

  const std::string& name() const noexcept { return segment_->name(); }
  bool recursive() const noexcept { return kind_ == Kind::RLock; }

  // Ok; OwnerDead (acquired; the previous holder died holding it); Timeout;
  // InvalidArg when a Lock (not RLock) is acquired again by its holder.
  Status acquire(const Deadline& deadline, ErrorText& error) {
    // Inlined: the uncontended path is one trylock (for an RLock also the
    // holder's re-entry), everything else goes the long way.
    const int rc = s_->mutex.try_lock_raw();
    if (rc == 0) {
      ++s_->acquires;
      return Status::Ok;
    }
    return acquire_slow(rc, deadline, error);
  }
  // Ok, or NotOwner when the calling thread does not hold it.
  Status release(ErrorText& error) {
    return s_->mutex.unlock_checked() == Status::Ok ? Status::Ok : release_failed(error);
  }
  bool locked() const noexcept { return s_->mutex.holder_tid() != 0; }
  // How many times the calling thread holds it (0: not held by this thread).
  uint32_t held_by_caller() const noexcept { return s_->mutex.held_by_caller() ? s_->mutex.depth() : 0; }

  // For Condition::wait: release every level the caller holds, then take
  // them all back (waiting as long as it takes, as Python does).
  uint32_t release_all() noexcept;
  Status reacquire(uint32_t depth, ErrorText& error);

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Lock() = default;
  const char* kname() const noexcept { return kind_name(kind_); }
  Status acquire_slow(int trylock_rc, const Deadline& deadline, ErrorText& error);
  Status release_failed(ErrorText& error);
  Status finish_acquire(Status st, ErrorText& error);

  std::unique_ptr<Segment> segment_;
  LockShared* s_ = nullptr;
  Kind kind_ = Kind::Lock;
};

}  // namespace polyipc
