#include "core/segment/sleeper_tally.hpp"

#include "core/clock.hpp"

namespace polyipc {

void SleeperTally::init(Segment& segment, std::initializer_list<std::atomic<uint32_t>*> counts) noexcept {
  header_ = segment.header();
  owner_ = segment.token();
  tally_ = segment.slot() >= 0 ? header_->sleeper_tally[segment.slot()] : nullptr;
  n_counts_ = 0;
  for (std::atomic<uint32_t>* c : counts)
    if (n_counts_ < kMaxCounts) counts_[n_counts_++] = c;
}

void SleeperTally::woke_nobody() noexcept {
  if (!header_) return;
  const int64_t now = monotonic_ns();
  if (now < next_heal_ns_.load(std::memory_order_relaxed)) return;
  next_heal_ns_.store(now + kHealIntervalNs, std::memory_order_relaxed);
  heal();
}

uint32_t SleeperTally::heal() noexcept {
  if (!header_) return 0;
  uint32_t healed = 0;
  for (uint32_t i = 0; i < kMaxAttached; ++i) {
    std::atomic<uint32_t>* tally = header_->sleeper_tally[i];
    bool owed = false;
    for (unsigned c = 0; c < kMaxCounts; ++c) owed |= tally[c].load(std::memory_order_seq_cst) != 0;
    if (!owed) continue;
    // A free slot with a tally: its dead process's slot was freed by an
    // attacher that found the table full; the tally is still owed.
    uint64_t token = header_->attached[i].load(std::memory_order_seq_cst);
    if (token == kSlotBeingHealed || token == owner_ || (token != 0 && is_alive(token))) continue;
    if (!header_->attached[i].compare_exchange_strong(token, kSlotBeingHealed, std::memory_order_seq_cst)) continue;
    for (unsigned c = 0; c < kMaxCounts; ++c) {
      const uint32_t n = tally[c].exchange(0, std::memory_order_seq_cst);
      if (n == 0 || c >= n_counts_) continue;
      counts_[c]->fetch_sub(n, std::memory_order_seq_cst);
      healed += n;
    }
    header_->attached[i].store(0, std::memory_order_seq_cst);
  }
  if (healed) header_->dead_sleepers_healed.fetch_add(healed, std::memory_order_relaxed);
  return healed;
}

}  // namespace polyipc
