// Process-shared futex wait/wake on a 32-bit word in shared memory.
#pragma once
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.hpp"

namespace polyipc {

// Sleeps while *word == expected, until woken or until the absolute monotonic
// time until_ns (INT64_MAX: no limit). Spurious returns are possible.
inline void futex_wait(std::atomic<uint32_t>* word, uint32_t expected, int64_t until_ns) noexcept {
  static_assert(sizeof(std::atomic<uint32_t>) == 4, "futex word must be 32 bits");
  timespec ts = to_timespec(until_ns);
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time; not private: shared memory.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_BITSET, expected,
          until_ns == INT64_MAX ? nullptr : &ts, nullptr, FUTEX_BITSET_MATCH_ANY);
}

// Returns how many sleepers it woke.
inline long futex_wake_all(std::atomic<uint32_t>* word) noexcept {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace polyipc
