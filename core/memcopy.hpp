// Copies between process memory and shared memory. Large copies use
// `rep movsb`, which on this class of CPU (ERMS/FSRM) stays near memory
// bandwidth where glibc's memcpy drops off for sizes around 1 MiB.
#pragma once
#include <cstddef>
#include <cstring>

namespace polyipc {

inline void copy_bytes(void* dst, const void* src, size_t n) noexcept {
#if defined(__x86_64__)
  if (n >= 4096) {
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    return;
  }
#endif
  std::memcpy(dst, src, n);
}

}  // namespace polyipc
