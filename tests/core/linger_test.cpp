// Linger: when a consumer that keeps up with a slightly slower producer waits
// before taking, so that it takes messages in runs. It lingers after quick
// waits and, while streaming, when it is catching up; a linger that found
// too few messages makes it take at once for kRestWaits waits; a first
// linger is a short probe; a linger ends at its deadline or once the
// channel is half full. RoomLinger, its mirror for producers, at the end.
#include <gtest/gtest.h>

#include "core/sync/waiting.hpp"

namespace polyipc {
namespace {

TEST(Linger, OnlyAfterAQuickWait) {
  Linger l;
  EXPECT_FALSE(l.after_wait(0));  // the wait saw nothing
  EXPECT_FALSE(l.after_wait(Linger::kQuickLooks + 1));
  EXPECT_TRUE(l.after_wait(1));
  EXPECT_TRUE(l.after_wait(Linger::kQuickLooks));
}

TEST(Linger, ALingerThatFoundTooLittleRestsIt) {
  Linger l;
  l.found(1, Linger::kLingerNs);  // one message in a whole linger: a ping-pong peer
  for (uint32_t i = 0; i < Linger::kRestWaits; ++i) ASSERT_FALSE(l.after_wait(1)) << i;
  EXPECT_TRUE(l.after_wait(1));
}

TEST(Linger, NothingFoundRestsItToo) {
  Linger l;
  l.found(0, Linger::kProbeNs);
  EXPECT_FALSE(l.after_wait(1));
}

TEST(Linger, ALingerTheDeadlineCutToNothingTellsNothing) {
  Linger l;
  l.found(3, 0);  // not "3 messages in no time": streaming
  EXPECT_FALSE(l.catching_up(1));
  l.found(0, 0);  // nor "nothing came": rest
  EXPECT_TRUE(l.after_wait(1));
}

TEST(Linger, CatchingUpOnlyWhileStreaming) {
  Linger l;
  EXPECT_FALSE(l.catching_up(1));  // not streaming yet
  l.found(Linger::kLingerNs / Linger::kPaysBelowNs, Linger::kLingerNs);  // a message every kPaysBelowNs: paid
  EXPECT_TRUE(l.catching_up(1));
  EXPECT_TRUE(l.catching_up(Linger::kFew - 1));
  EXPECT_FALSE(l.catching_up(Linger::kFew));  // well behind: take at once
  EXPECT_TRUE(l.after_wait(1));
  l.found(Linger::kLingerNs / Linger::kPaysBelowNs - 1, Linger::kLingerNs);  // a little slower: not paid
  EXPECT_FALSE(l.catching_up(1));
  EXPECT_FALSE(l.after_wait(1));
}

TEST(Linger, EndsAtTheFirstLookThatFindsItHalfFull) {
  Linger l;
  l.found(Linger::kProbeNs / Linger::kPaysBelowNs, Linger::kProbeNs);  // streaming: the full linger
  int looks = 0;
  l.linger(INT64_MAX, [&] { return ++looks, true; });
  EXPECT_EQ(looks, 1);  // not kLingerNs / kLookEveryNs
}

TEST(Linger, AProbeFirstThenTheFullLingerWhileStreaming) {
  Linger l;
  int looks = 0;
  EXPECT_GE(l.linger(INT64_MAX, [&] { return ++looks, false; }), Linger::kProbeNs);
  EXPECT_LE(looks, Linger::kProbeNs / Linger::kLookEveryNs);
  l.found(Linger::kProbeNs / Linger::kPaysBelowNs, Linger::kProbeNs);  // it paid
  looks = 0;
  EXPECT_GE(l.linger(INT64_MAX, [&] { return ++looks, false; }), Linger::kLingerNs);
  EXPECT_LE(looks, Linger::kLingerNs / Linger::kLookEveryNs);  // each look costs the producer a line
}

TEST(Linger, NeverPastTheCallersDeadline) {
  Linger l;
  int looks = 0;
  const int64_t lingered = l.linger(monotonic_ns(), [&] { return ++looks, false; });
  EXPECT_EQ(lingered, 0);
  EXPECT_EQ(looks, 0);
}

// RoomLinger: a producer that found its channel full waits for half of it
// to drain; a linger in which the consumer made too little progress rests it.

TEST(RoomLinger, EndsAtTheFirstLookThatFindsHalfFree) {
  RoomLinger r;
  ASSERT_TRUE(r.worth_it());
  int looks = 0;
  uint64_t progress = 0;
  r.linger(INT64_MAX, [&] { return ++looks, true; }, [&] { return progress; }, 2);
  EXPECT_EQ(looks, 1);
  EXPECT_TRUE(r.worth_it());  // it paid: no rest
}

TEST(RoomLinger, AConsumerThatTookTooLittleRestsIt) {
  RoomLinger r;
  uint64_t progress = 0;
  int looks = 0;
  r.linger(INT64_MAX, [&] { return ++looks, false; }, [&] { return progress++; }, 2);  // one message in it
  EXPECT_LE(looks, RoomLinger::kLingerNs / Linger::kLookEveryNs);  // each look may cost the consumer a line
  for (uint32_t i = 0; i < Linger::kRestWaits; ++i) ASSERT_FALSE(r.worth_it()) << i;
  EXPECT_TRUE(r.worth_it());
}

TEST(RoomLinger, AConsumerThatTookEnoughKeepsItOn) {
  RoomLinger r;
  uint64_t progress = 0;
  r.linger(INT64_MAX, [] { return false; }, [&] { return (progress++) * 2; }, 2);  // two messages in it
  EXPECT_TRUE(r.worth_it());
}

TEST(RoomLinger, NeverPastTheCallersDeadlineAndACutLingerTellsNothing) {
  RoomLinger r;
  int looks = 0;
  const int64_t until = monotonic_ns() + Linger::kLookEveryNs / 2;
  r.linger(until, [&] { return ++looks, false; }, [] { return uint64_t{0}; }, 2);
  EXPECT_GE(monotonic_ns(), until);
  EXPECT_EQ(looks, 0);  // over before its first look
  EXPECT_TRUE(r.worth_it());  // too short to say the consumer is slow
}

}  // namespace
}  // namespace polyipc
