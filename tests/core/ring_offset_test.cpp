// QueueShared::offset is pos % ring_bytes for every position, whatever its
// lap memo (lap_start) holds: kept up by a putter's next_lap, stale, or
// ahead of the position.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "core/queue/layout.hpp"

namespace polyipc {
namespace {

const uint64_t kCapacities[] = {256, 1000, 1 << 20, 3 << 20, (4 << 20) + 8192, (uint64_t{1} << 40) - 8};

std::unique_ptr<QueueShared> ring_of(uint64_t capacity) {
  auto s = std::make_unique<QueueShared>();
  s->ring_bytes = capacity;
  return s;
}

TEST(RingOffset, HeadAndTailWalkingManyLaps) {
  std::mt19937_64 rng(7);
  for (uint64_t cap : kCapacities) {
    auto s = ring_of(cap);
    std::uniform_int_distribution<uint64_t> step(8, std::max<uint64_t>(cap / 3, 8));
    uint64_t head = 0, tail = 0;
    for (int i = 0; i < 20000; ++i) {
      // a putter: records never cross the ring's end, the tail jumps to the next lap
      const uint64_t rec = step(rng);
      tail = rec <= s->to_end(tail) ? tail + rec : s->next_lap(tail) + rec;
      if (tail - head > cap) head = tail - std::uniform_int_distribution<uint64_t>(0, cap)(rng);
      ASSERT_EQ(s->offset(tail), tail % cap) << "capacity " << cap << " tail " << tail;
      ASSERT_EQ(s->offset(head), head % cap) << "capacity " << cap << " head " << head;
    }
    EXPECT_EQ(s->lap_start % cap, 0u);
    EXPECT_GT(s->lap_start, 0u);
  }
}

TEST(RingOffset, AnyPositionAgainstAnyMemo) {
  std::mt19937_64 rng(11);
  for (uint64_t cap : kCapacities) {
    auto s = ring_of(cap);
    for (int i = 0; i < 20000; ++i) {
      // memos a process may find: zero (an older queue), a multiple far behind
      // or ahead of the position (another process's racing store)
      const uint64_t pos = rng() >> 4;
      const uint64_t lap = pos / cap;
      const uint64_t memo_laps[] = {0, lap, lap + 1, lap + 2, lap + 3, lap > 2 ? lap - 2 : 0, lap * 2, lap / 2};
      s->lap_start = memo_laps[i % 8] * cap;
      ASSERT_EQ(s->offset(pos), pos % cap) << "capacity " << cap << " pos " << pos << " memo laps "
                                           << memo_laps[i % 8];
      // the lap boundaries themselves, from whatever memo the last call left
      for (uint64_t p : {lap * cap, lap * cap + cap - 1, (lap + 1) * cap, lap ? lap * cap - 1 : 0})
        ASSERT_EQ(s->offset(p), p % cap) << "capacity " << cap << " pos " << p;
    }
  }
}

}  // namespace
}  // namespace polyipc
