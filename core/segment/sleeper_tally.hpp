// Sleeper counts that heal. A futex word has a shared count of the threads
// asleep on it, so that a waker makes no system call when nobody sleeps. A
// process that dies asleep (kill -9, or an exit while a thread waits) never
// takes its count back, and every later wake-up then pays a system call for
// nobody (a queue's put + get went from 162 to 469 ns).
//
// So each attached handle also tallies, in its slot of the segment header,
// how many of its threads each count includes: the count first, then the
// tally, on the way in; the reverse on the way out. A process that dies
// between the two leaves a count no tally covers (the old cost, rarely),
// never a tally the count lacks. Whoever finds a slot's process dead claims
// the slot with one CAS, takes its tally off the counts and frees the slot:
// only the dead are ever taken off, so no live sleeper goes uncounted (a
// waker skipping a live sleeper would be a lost wake-up).
#pragma once
#include <atomic>
#include <cstdint>
#include <initializer_list>

#include "core/segment/segment.hpp"

namespace polyipc {

class SleeperTally {
 public:
  static constexpr unsigned kMaxCounts = 4;  // a slot's tally has one word per count

  // counts: the object's sleeper counts, in an order every process agrees on
  // (it names the tally's fields). Call once, after the segment is open.
  void init(Segment& segment, std::initializer_list<std::atomic<uint32_t>*> counts) noexcept;

  // A thread of this process starts or stops being counted in *count (one
  // of the counts given to init).
  void enter(std::atomic<uint32_t>& count) noexcept {
    count.fetch_add(1, std::memory_order_seq_cst);
    if (std::atomic<uint32_t>* t = tally_of(count)) t->fetch_add(1, std::memory_order_seq_cst);
  }
  void leave(std::atomic<uint32_t>& count) noexcept {
    if (std::atomic<uint32_t>* t = tally_of(count)) t->fetch_sub(1, std::memory_order_seq_cst);
    count.fetch_sub(1, std::memory_order_seq_cst);
  }

  // A futex wake-up that woke nobody although a count said someone sleeps:
  // maybe a dead process is still counted. Heals at most every
  // kHealIntervalNs per handle (looking costs a /proc read per slot).
  void woke_nobody() noexcept;
  // Takes the tallies of dead processes off the counts; returns how many
  // sleepers it took off.
  uint32_t heal() noexcept;

  static constexpr int64_t kHealIntervalNs = 100'000'000;

 private:
  // This handle's tally of count, or nullptr when this process does not
  // tally: a forked child using its parent's handle counts under the
  // parent's slot, where the parent's death would take it off while it sleeps.
  std::atomic<uint32_t>* tally_of(const std::atomic<uint32_t>& count) const noexcept {
    if (!tally_ || self_token() != owner_) return nullptr;
    for (unsigned i = 0; i < n_counts_; ++i)
      if (counts_[i] == &count) return &tally_[i];
    return nullptr;
  }

  SegmentHeader* header_ = nullptr;
  std::atomic<uint32_t>* tally_ = nullptr;  // this handle's slot: one word per count
  ProcessToken owner_ = 0;
  std::atomic<uint32_t>* counts_[kMaxCounts] = {};
  unsigned n_counts_ = 0;
  std::atomic<int64_t> next_heal_ns_{0};
};

}  // namespace polyipc
