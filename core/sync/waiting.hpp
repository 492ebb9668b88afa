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

// Spins until done(), or until spin_ns have passed or the monotonic time
// until_ns. Returns how many looks it took to see done() (0: it never did).
// The clock is read once per kLooksPerClock looks.
constexpr int kLooksPerClock = 64;
template <class Done>
int spin_until(Done done, int64_t spin_ns = kSpinNs, int64_t until_ns = INT64_MAX) noexcept {
  const int64_t start = monotonic_ns();
  const int64_t stop = until_ns - start < spin_ns ? until_ns : start + spin_ns;
  for (int i = 1;; ++i) {
    if (done()) return i;
    cpu_relax();
    if (i % kLooksPerClock == 0) {
      const int64_t now = monotonic_ns();
      if (now >= stop) return 0;
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
// only looks once. Returns spin_until's count of looks.
template <class Done>
int spin_within(SpinBudget& budget, Done done, int64_t until_ns = INT64_MAX) noexcept {
  const int64_t spin_ns = budget.ns();
  const int looks = spin_ns == 0 ? (done() ? 1 : 0) : spin_until(done, spin_ns, until_ns);
  budget.spun(looks > 0);
  return looks;
}

// From the monotonic time start (about now), looks at done() every every_ns
// (spinning in between, since each look may cost the other side a cache
// line) until it holds or the time is until_ns. Returns the time since start.
template <class Done>
int64_t look_every(int64_t every_ns, int64_t start, int64_t until_ns, Done done) noexcept {
  int64_t now = start;
  for (int64_t look = start + every_ns; now < until_ns; now = monotonic_ns()) {
    if (now >= look) {
      if (done()) break;
      look = now + every_ns;
    }
    cpu_relax();
  }
  return now - start;
}

// A consumer that keeps up with a slightly slower producer finds the channel
// empty after every message and sees the next one at once. Each message
// then costs the producer a wait for the lines the consumer reads and
// writes to come back (its locked instructions wait for them): 64 B JSON
// puts ran at 130-170 ns a message beside such a consumer, 56 ns alone. So
// such a consumer lingers up to kLingerNs before it takes, while the
// producer runs on alone, and then takes what came in one run; it lingers
//  - after a wait that ended within kQuickLooks looks, and
//  - while streaming (its last linger paid), when it finds fewer than kFew
//    messages: it is catching up with the producer again.
// A linger ends early once the channel is half full, so that the producer
// never waits for room meanwhile. It paid when a message came at least every
// kPaysBelowNs on average: the rate at which that cost matters. A first
// linger is a short probe (kProbeNs); after one that did not pay (a
// ping-pong peer waits for this side's answer; a slow producer), the
// consumer takes at once for the next kRestWaits waits. The price is
// latency while streaming: up to kLingerNs a message (docs/design-notes.md).
// Threads of a handle share it: a heuristic, so relaxed accesses do.
class Linger {
 public:
  static constexpr int kQuickLooks = 16;  // ~0.25 us of looks here
  static constexpr int64_t kLingerNs = 8'000, kProbeNs = 1'000, kLookEveryNs = 1'000, kPaysBelowNs = 250;
  static constexpr uint64_t kFew = 64;
  static constexpr uint32_t kRestWaits = 256;

  // After a wait that saw a change at look `looks` (0: it did not).
  bool after_wait(int looks) noexcept {
    if (looks == 0 || looks > kQuickLooks) return false;
    const uint32_t resting = resting_.load(std::memory_order_relaxed);
    if (resting != 0) resting_.store(resting - 1, std::memory_order_relaxed);
    return resting == 0;
  }
  // With `waiting` messages in sight (at least one) and none looked at yet.
  bool catching_up(uint64_t waiting) const noexcept {
    return waiting < kFew && streaming_.load(std::memory_order_relaxed);
  }
  // Lingers (kLingerNs while streaming, else kProbeNs) until until_ns at the
  // latest, or until half_full() (asked every kLookEveryNs, since each look
  // costs the producer a line). Returns the time it lingered.
  template <class HalfFull>
  int64_t linger(int64_t until_ns, HalfFull half_full) noexcept {
    const int64_t start = monotonic_ns();
    const int64_t ns = streaming_.load(std::memory_order_relaxed) ? kLingerNs : kProbeNs;
    return look_every(kLookEveryNs, start, until_ns - start < ns ? until_ns : start + ns, half_full);
  }
  // `came` messages came during a linger of lingered_ns.
  void found(uint64_t came, int64_t lingered_ns) noexcept {
    if (lingered_ns <= 0) return;  // the caller's deadline allowed none: no evidence either way
    const bool paid = came > 0 && lingered_ns / static_cast<int64_t>(came) <= kPaysBelowNs;
    if (streaming_.load(std::memory_order_relaxed) != paid) streaming_.store(paid, std::memory_order_relaxed);
    if (!paid) resting_.store(kRestWaits, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint32_t> resting_{0};
  std::atomic<bool> streaming_{false};
};

// A producer that finds its channel full and puts again as soon as one
// message's room comes back writes the lines the consumer has just read, and
// each of its looks at the consumer's position takes the line the consumer
// writes on every take: a consumer doing 240 ns of work a message ran 20-45%
// slower beside such a producer than alone. So a producer that found no room
// lingers until half the channel is free (or kLingerNs have passed, or its
// deadline), looking every Linger::kLookEveryNs; then it puts in one run
// while the consumer reads far behind. A linger in which the consumer made
// less than min_progress says it is too slow for lingering to pay (it would
// only burn CPU before the producer sleeps): the next Linger::kRestWaits
// waits skip it. Threads of a handle share it: a heuristic, relaxed.
class RoomLinger {
 public:
  static constexpr int64_t kLingerNs = 50'000;

  // False while resting (and counts the rest down): wait as before.
  bool worth_it() noexcept {
    const uint32_t resting = resting_.load(std::memory_order_relaxed);
    if (resting == 0) return true;
    resting_.store(resting - 1, std::memory_order_relaxed);
    return false;
  }
  // progress(): a count the consumer moves forward as it takes (messages or bytes).
  template <class HalfFree, class Progress>
  void linger(int64_t until_ns, HalfFree half_free, Progress progress, uint64_t min_progress) noexcept {
    const uint64_t progress0 = progress();
    const int64_t start = monotonic_ns();
    const int64_t stop = until_ns - start < kLingerNs ? until_ns : start + kLingerNs;
    bool freed = false;
    const int64_t lingered = look_every(Linger::kLookEveryNs, start, stop, [&] { return freed = half_free(); });
    if (!freed && lingered >= kLingerNs && progress() - progress0 < min_progress)
      resting_.store(Linger::kRestWaits, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint32_t> resting_{0};
};

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
