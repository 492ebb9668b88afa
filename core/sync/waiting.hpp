// Sleeping until a shared word changes: spin briefly, then futex-wait with a
// sleeper count so that wakers make no syscall when nobody sleeps. Waits end
// at least every slice so callers can re-check their peers' liveness.
#pragma once
#include <sched.h>

#include <atomic>
#include <climits>
#include <cstdint>

#include "core/clock.hpp"
#include "core/segment/sleeper_tally.hpp"
#include "core/sync/futex.hpp"

namespace polyipc {

// Before sleeping, a waiter spins: the other side usually answers within a
// microsecond or two, and a sleep and its wake-up cost 15-25 us on this VM.
// Past the first kPureSpinNs it yields between looks: with more runnable
// processes than cores, the process it waits for may need its core
// (sched_yield returns at once when nobody does).
constexpr int64_t kSpinNs = 20'000;
constexpr int64_t kPureSpinNs = 3'000;

// Spins until done() (true), or until spin_ns have passed or the monotonic
// time until_ns (false). The clock is read once per 64 looks.
template <class Done>
bool spin_until(Done done, int64_t spin_ns = kSpinNs, int64_t until_ns = INT64_MAX) noexcept {
  const int64_t start = monotonic_ns();
  const int64_t stop = until_ns - start < spin_ns ? until_ns : start + spin_ns;
  for (int i = 1;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 0) {
      const int64_t now = monotonic_ns();
      if (now >= stop) return false;
      if (now - start > kPureSpinNs) sched_yield();
    }
  }
}

// How long a handle's waiters spin before they sleep, learnt from their
// recent waits. Spinning pays when the other side answers within the spin (a
// ping-pong peer, a busy stream) and only burns CPU when it does not: a
// consumer taking a message every 200 us spent 43 us of CPU a message with
// kSpinNs of spin, 8 us with none. So a spin that runs out halves the
// budget (down to none), and a change seen while spinning, or soon after
// falling asleep (when a full spin would have seen it), restores kSpinNs.
// Threads of one handle share it: a heuristic, so relaxed accesses do.
class SpinBudget {
 public:
  int64_t ns() const noexcept { return ns_.load(std::memory_order_relaxed); }
  // A spin ended: changed, or it ran out.
  void spun(bool changed) noexcept {
    const int64_t half = ns() / 2;
    ns_.store(changed ? kSpinNs : half < kMinSpinNs ? 0 : half, std::memory_order_relaxed);
  }
  // A sleep was ended by a wake-up after slept_ns.
  void woke_after(int64_t slept_ns) noexcept {
    if (slept_ns < kSpinNs) ns_.store(kSpinNs, std::memory_order_relaxed);
  }

 private:
  static constexpr int64_t kMinSpinNs = 1'000;
  std::atomic<int64_t> ns_{kSpinNs};
};

// spin_until with a budget that learns (see SpinBudget); with none left it
// only looks once.
template <class Done>
bool spin_within(SpinBudget& budget, Done done, int64_t until_ns = INT64_MAX) noexcept {
  const int64_t spin_ns = budget.ns();
  const bool changed = spin_ns == 0 ? done() : spin_until(done, spin_ns, until_ns);
  budget.spun(changed);
  return changed;
}

// Every call that counts a sleeper or wakes one takes the handle's
// SleeperTally, so that a process that dies asleep is taken off `sleepers`.
struct WakeWord {
  std::atomic<uint32_t> seq{0};       // bumped by every wake-up
  std::atomic<uint32_t> sleepers{0};  // threads asleep here (the tally heals the dead)

  uint32_t observe() const noexcept { return seq.load(std::memory_order_seq_cst); }

  void wake_all(SleeperTally& tally) noexcept {
    seq.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) != 0) wake(tally);
  }

  // A cheaper wake for hot paths: nothing at all unless someone sleeps. The
  // caller published its change with a seq_cst store or fence before, and
  // sleepers register (sleepers++, then observe, then re-check) in that order.
  void wake_sleepers(SleeperTally& tally) noexcept {
    if (sleepers.load(std::memory_order_seq_cst) == 0) return;
    seq.fetch_add(1, std::memory_order_seq_cst);
    wake(tally);
  }

  // Returns once seq != seen, slice_ns has passed, or the deadline has; spins
  // spin_ns first. False when the deadline has passed (and nothing changed).
  bool wait(uint32_t seen, const Deadline& deadline, int64_t slice_ns, SleeperTally& tally,
            int64_t spin_ns = 0) noexcept {
    if (deadline.is_immediate()) return seq.load() != seen;
    if (spin_ns > 0 && spin_until([&] { return changed_from(seen); }, spin_ns)) return true;
    return sleep(seen, deadline, slice_ns, tally);
  }
  // The same, spinning first for as long as budget has learnt pays.
  bool wait(uint32_t seen, const Deadline& deadline, int64_t slice_ns, SleeperTally& tally,
            SpinBudget& budget) noexcept {
    if (deadline.is_immediate()) return seq.load() != seen;
    if (spin_within(budget, [&] { return changed_from(seen); })) return true;
    const int64_t asleep_at = monotonic_ns();
    const bool done = sleep(seen, deadline, slice_ns, tally);
    if (changed_from(seen)) budget.woke_after(monotonic_ns() - asleep_at);
    return done;
  }

 private:
  bool changed_from(uint32_t seen) const noexcept { return seq.load(std::memory_order_acquire) != seen; }
  bool sleep(uint32_t seen, const Deadline& deadline, int64_t slice_ns, SleeperTally& tally) noexcept {
    if (deadline.expired()) return seq.load() != seen;
    tally.enter(sleepers);
    if (seq.load(std::memory_order_seq_cst) == seen) futex_wait(&seq, seen, deadline.until_ns(slice_ns));
    tally.leave(sleepers);
    return seq.load() != seen || !deadline.expired();
  }
  void wake(SleeperTally& tally) noexcept {
    if (futex_wake_all(&seq) == 0) tally.woke_nobody();
  }
};

// How often waiters look for dead peers (holders, waiters) while they sleep.
constexpr int64_t kLivenessSliceNs = 100'000'000;

}  // namespace polyipc
