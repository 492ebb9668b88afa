// Semaphore and BoundedSemaphore (max > 0), shared by name. Slots are
// counted per holder process, so the slots a killed process held come back.
// A release first gives back the releasing process's own slots, then other
// holders' (a semaphore used as a signal is released by someone else), so
// value + slots held stays exact.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/journal.hpp"
#include "core/sync/lock.hpp"
#include "core/sync/robust_mutex.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

struct SemaphoreOptions : SyncOptions {
  uint64_t initial = 1;
  uint64_t max = 0;             // 0: unbounded; else release past it is InvalidArg
  bool check_existing = true;   // false: take an existing semaphore whatever its max
};

struct SemaphoreShared {
  static constexpr uint32_t kMaxHolders = 256;
  uint64_t max;  // fixed at creation
  alignas(64) RobustMutex mutex;
  // Changed only through a Transaction on `journal` (base: this struct).
  alignas(64) uint64_t value;
  Journal journal;
  struct Holder {
    uint64_t token;  // ProcessToken, 0 = free
    uint64_t count;
  } holders[kMaxHolders];
  alignas(64) WakeWord released;
  alignas(64) std::atomic<int64_t> last_reap_ns;
  std::atomic<uint64_t> acquires, releases, timeouts, slots_returned, owner_dead_recoveries;
};

class Semaphore {
 public:
  static std::unique_ptr<Semaphore> open(const std::string& name, OpenMode mode, const SemaphoreOptions& options);
  ~Semaphore();

  const std::string& name() const noexcept { return segment_->name(); }
  uint64_t max() const noexcept { return s_->max; }

  // Takes n slots at once (n = 0 returns at once). Ok or Timeout; InvalidArg
  // when n exceeds a bounded semaphore's maximum; NoMemory when more than
  // kMaxHolders processes hold slots.
  Status acquire(uint64_t n, const Deadline& deadline, ErrorText& error);
  // Gives n slots back. InvalidArg when a bounded semaphore would exceed its max.
  Status release(uint64_t n, ErrorText& error);
  // Takes every slot available now; returns how many.
  uint64_t drain();
  // The free slots, after taking back those of holders that died.
  uint64_t value();

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Semaphore() = default;
  Status lock(const Deadline& deadline);
  void reap_dead_holders(bool force);
  int64_t my_holder(bool claim);
  Status take(uint64_t n, ErrorText& error);  // under the lock, value >= n

  std::unique_ptr<Segment> segment_;
  SemaphoreShared* s_ = nullptr;
  SleeperTally tally_;  // released.sleepers
  SpinBudget acquire_spin_;  // before sleeping on released
  int64_t holder_hint_ = -1;
};

}  // namespace polyipc
