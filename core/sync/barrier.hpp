// Barrier: `parties` processes (or threads) meet; each wait returns its
// arrival index (0 first, parties - 1 last), as threading.Barrier does. A
// timeout, an abort or a waiting process that dies breaks it for every
// waiter (Status::Broken) until reset().
//
// wait() is arrive() then await(): bindings that wait in slices to stay
// responsive call await() repeatedly (its Timeout keeps the arrival) and
// abort() when they give up, since giving up breaks the barrier.
#pragma once
#include <atomic>
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

struct BarrierShared {
  static constexpr uint32_t kMaxParties = 256;
  static constexpr uint64_t kNotBroken = UINT64_MAX;
  uint64_t parties;  // fixed at creation
  alignas(64) RobustMutex mutex;
  // Changed only through a Transaction on `journal` (base: this struct).
  alignas(64) uint64_t count;       // arrivals in this generation
  uint64_t generation;
  uint64_t broken_generation;       // the generation that was broken, or kNotBroken
  Journal journal;
  struct Waiter {
    uint64_t token;  // ProcessToken of arrival i
    uint64_t generation;
  } waiters[kMaxParties];
  alignas(64) WakeWord wake;
  alignas(64) std::atomic<uint64_t> rounds, breaks, owner_dead_recoveries;
};

class Barrier {
 public:
  // parties: 1..kMaxParties. An existing barrier with other parties is Incompatible.
  static std::unique_ptr<Barrier> open(const std::string& name, OpenMode mode, uint64_t parties,
                                       const SyncOptions& options);
  ~Barrier();

  const std::string& name() const noexcept { return segment_->name(); }
  uint64_t parties() const noexcept { return s_->parties; }

  // Arrives and waits: Ok with *index; Broken; Timeout (the barrier is then broken for all).
  Status wait(const Deadline& deadline, uint64_t* index, ErrorText& error);
  // Arrives; *ticket names the arrival for await(). Broken if it is broken.
  Status arrive(uint64_t* ticket, ErrorText& error);
  // Waits for the arrival's round to complete: Ok with *index, Broken, or
  // Timeout with the arrival still counted (call again, or abort()).
  Status await(uint64_t ticket, const Deadline& deadline, uint64_t* index, ErrorText& error);
  // Gives up an arrival (after await's Timeout, or on cancellation): breaks
  // the barrier, unless the ticket's round completed meanwhile (then Ok and
  // *index). Unlike abort(), it can never break a later round.
  Status cancel(uint64_t ticket, uint64_t* index, ErrorText& error);
  void abort();
  void reset();
  uint64_t n_waiting() const noexcept;
  bool broken() const noexcept;

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Barrier() = default;
  void lock();
  void break_locked();
  pid_t dead_waiter(uint64_t generation) const;

  std::unique_ptr<Segment> segment_;
  BarrierShared* s_ = nullptr;
  SleeperTally tally_;  // wake.sleepers
};

}  // namespace polyipc
