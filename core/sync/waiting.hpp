// Sleeping until a shared word changes: spin briefly, then futex-wait with a
// sleeper count so that wakers make no syscall when nobody sleeps. Waits end
// at least every slice so callers can re-check their peers' liveness.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/clock.hpp"
#include "core/sync/futex.hpp"

namespace polyipc {

// Sleeper counts heal themselves. A process killed while counted as a
// sleeper would otherwise leave the count high for good, and every later
// wake-up would be a futex syscall (measured: put+get 162 -> 469 ns after
// three getters were killed asleep). A wake that woke nobody proves that no
// thread sleeps on the word, and one about to sleep finds the word changed
// (wakers change it before waking), so the waker takes one count off; the
// counted threads take themselves off the same way, never below zero.
// Sleepers must read the word they sleep on before counting themselves, or
// count themselves under a lock their wakers hold (the queue does).
inline void release_sleeper(std::atomic<uint32_t>& sleepers) noexcept {
  uint32_t n = sleepers.load(std::memory_order_seq_cst);
  while (n != 0 && !sleepers.compare_exchange_weak(n, n - 1, std::memory_order_seq_cst)) {
  }
}

// futex_wake_all(word) for a word with a sleeper count, healing the count.
inline void wake_and_heal(std::atomic<uint32_t>* word, std::atomic<uint32_t>& sleepers) noexcept {
  if (futex_wake_all(word) == 0) release_sleeper(sleepers);
}

struct WakeWord {
  std::atomic<uint32_t> seq{0};       // bumped by every wake-up
  std::atomic<uint32_t> sleepers{0};  // may stay high after a sleeper dies: costs a syscall, never a lost wake

  uint32_t observe() const noexcept { return seq.load(std::memory_order_seq_cst); }

  void wake_all() noexcept {
    seq.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) != 0) wake_and_heal(&seq, sleepers);
  }

  // A cheaper wake for hot paths: nothing at all unless someone sleeps. The
  // caller published its change with a seq_cst store or fence before, and
  // sleepers register (sleepers++, then observe, then re-check) in that order.
  void wake_sleepers() noexcept {
    if (sleepers.load(std::memory_order_seq_cst) == 0) return;
    seq.fetch_add(1, std::memory_order_seq_cst);
    wake_and_heal(&seq, sleepers);
  }

  // Returns once seq != seen, slice_ns has passed, or the deadline has; spins
  // spin_ns first. False when the deadline has passed (and nothing changed).
  bool wait(uint32_t seen, const Deadline& deadline, int64_t slice_ns, int64_t spin_ns = 0) noexcept {
    if (deadline.is_immediate()) return seq.load() != seen;
    if (spin_ns > 0) {
      const int64_t start = monotonic_ns();
      do {
        for (int i = 0; i < 64; ++i) {
          if (seq.load(std::memory_order_acquire) != seen) return true;
          cpu_relax();
        }
      } while (monotonic_ns() - start < spin_ns);
    }
    if (deadline.expired()) return seq.load() != seen;
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (seq.load(std::memory_order_seq_cst) == seen) futex_wait(&seq, seen, deadline.until_ns(slice_ns));
    release_sleeper(sleepers);
    return seq.load() != seen || !deadline.expired();
  }
};

// How often waiters look for dead peers (holders, waiters) while they sleep.
constexpr int64_t kLivenessSliceNs = 100'000'000;

}  // namespace polyipc
