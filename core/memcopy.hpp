// Copies between process memory and shared memory. Large copies use
// `rep movsb`, which on this class of CPU (ERMS/FSRM) stays near memory
// bandwidth where glibc's memcpy drops off for sizes around 1 MiB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace polyipc {

// memcpy of at most 64 bytes without a call into glibc: two overlapping
// fixed-size moves. Most messages are small, and a call per copy cost more
// than the copy.
[[gnu::always_inline]] inline void copy_upto_64(char* d, const char* s, size_t n) noexcept {
  struct B16 { char b[16]; };
  struct B32 { char b[32]; };
  auto two = [&](auto tag) {
    constexpr size_t k = sizeof(tag);
    decltype(tag) a, b;
    __builtin_memcpy(&a, s, k);
    __builtin_memcpy(&b, s + n - k, k);
    __builtin_memcpy(d, &a, k);
    __builtin_memcpy(d + n - k, &b, k);
  };
  if (n >= 32) {
    two(B32{});
  } else if (n >= 16) {
    two(B16{});
  } else if (n >= 8) {
    two(uint64_t{});
  } else if (n >= 4) {
    two(uint32_t{});
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

// The same for up to ~1 KiB (the JSON validator's padded copy): beyond 64
// bytes, a loop of 16-byte moves. Reads exactly src[0..n).
inline void copy_small(char* d, const char* s, size_t n) noexcept {
  if (n <= 64) return copy_upto_64(d, s, n);
  for (size_t i = 0; i + 16 <= n; i += 16) {
    __builtin_memcpy(d + i, s + i, 16);
    __asm__("" : "+r"(i));  // keep it a loop of moves, not a call or rep movs
  }
  __builtin_memcpy(d + n - 16, s + n - 16, 16);
}

[[gnu::always_inline]] inline void copy_bytes(void* dst, const void* src, size_t n) noexcept {
  if (n <= 64) {
    copy_upto_64(static_cast<char*>(dst), static_cast<const char*>(src), n);
    return;
  }
#if defined(__x86_64__)
  if (n >= 4096) {
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    return;
  }
#endif
  std::memcpy(dst, src, n);
}

}  // namespace polyipc
