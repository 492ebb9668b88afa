// Event: a shared flag that waiters sleep on (multiprocessing.Event). One
// futex word holds the flag and a generation, so a waiter woken by set()
// returns true even if clear() came before it ran, as Python's does.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/segment/segment.hpp"
#include "core/segment/sleeper_tally.hpp"
#include "core/status.hpp"
#include "core/sync/lock.hpp"

namespace polyipc {

struct EventShared {
  alignas(64) std::atomic<uint32_t> word;  // generation << 1 | set
  std::atomic<uint32_t> sleepers;
  alignas(64) std::atomic<uint64_t> sets, clears, waits, timeouts;
};

class Event {
 public:
  static std::unique_ptr<Event> open(const std::string& name, OpenMode mode, const SyncOptions& options);
  ~Event();

  const std::string& name() const noexcept { return segment_->name(); }
  void set() noexcept;
  void clear() noexcept;
  bool is_set() const noexcept { return s_->word.load(std::memory_order_acquire) & 1; }
  // Ok once set (or already set), Timeout when the deadline passes first.
  Status wait(const Deadline& deadline, ErrorText& error) { return wait_since(observe(), deadline, error); }
  // For waits in slices: observe() once, then wait_since(token) per slice;
  // a set() after observe() counts even if clear() followed it.
  uint32_t observe() const noexcept { return s_->word.load(std::memory_order_acquire); }
  Status wait_since(uint32_t token, const Deadline& deadline, ErrorText& error);

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Event() = default;
  std::unique_ptr<Segment> segment_;
  EventShared* s_ = nullptr;
  SleeperTally tally_;  // sleepers
};

}  // namespace polyipc
