// SpinBudget: how long a handle's waiters spin before they sleep. A spin that
// runs out halves it (down to none), a change seen while spinning or soon
// after falling asleep restores it, and with none left a waiter looks once.
#include <gtest/gtest.h>

#include "core/sync/waiting.hpp"

namespace polyipc {
namespace {

TEST(SpinBudget, StartsAtTheFullSpin) {
  SpinBudget b;
  EXPECT_EQ(b.ns(), kSpinNs);
}

TEST(SpinBudget, SpinsThatRunOutHalveItDownToNone) {
  SpinBudget b;
  b.spun(false);
  EXPECT_EQ(b.ns(), kSpinNs / 2);
  int misses = 1;
  while (b.ns() > 0 && misses < 64) b.spun(false), ++misses;
  EXPECT_EQ(b.ns(), 0);
  EXPECT_LE(misses, 6);  // 20 us -> 10 -> 5 -> 2.5 -> 1.25 -> none
  b.spun(false);
  EXPECT_EQ(b.ns(), 0);
}

TEST(SpinBudget, AChangeSeenWhileSpinningRestoresIt) {
  SpinBudget b;
  for (int i = 0; i < 10; ++i) b.spun(false);
  ASSERT_EQ(b.ns(), 0);
  b.spun(true);
  EXPECT_EQ(b.ns(), kSpinNs);
}

TEST(SpinBudget, AWakeUpSoonAfterFallingAsleepRestoresIt) {
  SpinBudget b;
  for (int i = 0; i < 10; ++i) b.spun(false);
  b.woke_after(kSpinNs * 3);  // a full spin would not have seen it either
  EXPECT_EQ(b.ns(), 0);
  b.woke_after(kSpinNs / 4);
  EXPECT_EQ(b.ns(), kSpinNs);
}

TEST(SpinBudget, WithNoneLeftAWaiterLooksOnce) {
  SpinBudget b;
  for (int i = 0; i < 10; ++i) b.spun(false);
  int looks = 0;
  EXPECT_FALSE(spin_within(b, [&] { return ++looks, false; }));
  EXPECT_EQ(looks, 1);
  EXPECT_TRUE(spin_within(b, [&] { return ++looks, true; }));
  EXPECT_EQ(b.ns(), kSpinNs);  // that look saw the change
}

TEST(SpinBudget, AFullBudgetSpinsUntilTheChange) {
  SpinBudget b;
  int looks = 0;
  EXPECT_TRUE(spin_within(b, [&] { return ++looks == 100; }));
  EXPECT_EQ(looks, 100);
  EXPECT_EQ(b.ns(), kSpinNs);
}

}  // namespace
}  // namespace polyipc
