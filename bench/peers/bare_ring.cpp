// bench/peers/bare_ring.cpp: the physical reference. A single-producer /
// single-consumer ring in MAP_SHARED memory, variable-length records
// [u32 len | payload] aligned to 8 bytes, busy polling on both sides, the
// other side's index cached so the shared cache lines move only when needed.
// No locks, no syscalls, no validation: a real queue's ceiling, except where
// the ring is full of large messages: its putter then writes the lines its
// getter has just read, which polyipc's large rings avoid (a slack, see
// docs/design-notes.md), so at 1 MiB polyipc beats it. (After
// ~1024 pauses of polling it calls sched_yield, so that a peer sharing the CPU with
// it on a loaded 2-vCPU machine gets to run; uncontended it never sleeps.)
#include <sched.h>

#include "peers.hpp"

namespace bench {
namespace {

struct alignas(64) RingHdr {
  alignas(64) std::atomic<uint64_t> head;  // bytes ever written (producer)
  alignas(64) std::atomic<uint64_t> tail;  // bytes ever read (consumer)
};

class BareRing {
 public:
  static constexpr bool kMulti = false;
  static constexpr uint32_t kWrap = 0xffffffffu;

  explicit BareRing(const Spec& s) {
    cap_ = 1;
    while (cap_ < std::max<uint64_t>(s.capacity_bytes, 4 * (s.max_msg + 8))) cap_ <<= 1;
    map_len_ = sizeof(RingHdr) + cap_;
    void* p = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw NotAvailable("mmap failed");
    h_ = new (p) RingHdr();
    data_ = static_cast<char*>(p) + sizeof(RingHdr);
  }
  ~BareRing() { munmap(h_, map_len_); }
  void attach(Role) {}

  void send(const void* p, size_t n) {
    const uint64_t rec = (8 + n + 7) & ~uint64_t(7);
    uint64_t head = h_->head.load(std::memory_order_relaxed), spins = 0;
    uint64_t off = head & (cap_ - 1);
    const uint64_t skip = off + rec > cap_ ? cap_ - off : 0;  // record would cross the end
    while (head + skip + rec - tail_cache_ > cap_) {
      tail_cache_ = h_->tail.load(std::memory_order_acquire);
      if (head + skip + rec - tail_cache_ > cap_) relax(spins);
    }
    if (skip) {
      *reinterpret_cast<uint32_t*>(data_ + off) = kWrap;
      head += skip;
      off = 0;
    }
    *reinterpret_cast<uint32_t*>(data_ + off) = uint32_t(n);
    memcpy(data_ + off + 8, p, n);
    h_->head.store(head + rec, std::memory_order_release);
  }

  size_t recv(void* buf, size_t cap) {
    uint64_t tail = h_->tail.load(std::memory_order_relaxed), spins = 0;
    for (;;) {
      while (head_cache_ == tail) {
        head_cache_ = h_->head.load(std::memory_order_acquire);
        if (head_cache_ == tail) relax(spins);
      }
      const uint64_t off = tail & (cap_ - 1);
      const uint32_t n = *reinterpret_cast<const uint32_t*>(data_ + off);
      if (n == kWrap) {
        tail += cap_ - off;
        h_->tail.store(tail, std::memory_order_release);
        continue;
      }
      if (n > cap) throw std::runtime_error("bare ring: buffer too small");
      memcpy(buf, data_ + off + 8, n);
      h_->tail.store(tail + ((8 + n + 7) & ~uint64_t(7)), std::memory_order_release);
      return n;
    }
  }

 private:
  static void relax(uint64_t& spins) {
    if (++spins < 1024) cpu_relax();
    else sched_yield();
  }
  RingHdr* h_;
  char* data_;
  uint64_t cap_, map_len_;
  uint64_t tail_cache_ = 0, head_cache_ = 0;  // per process (copied at fork)
};

}  // namespace
PeerOps peer_bare_ring() { return make_ops<BareRing>(); }
}  // namespace bench
