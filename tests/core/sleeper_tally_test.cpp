// SleeperTally takes the sleepers of dead processes off a shared count, and
// only theirs: a live process's sleepers, a forked child sleeping on its
// parent's handle, and a dead process's count without a tally stay counted.
// Real processes: children count themselves in, then stay or are killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <new>

#include "core/segment/segment.hpp"
#include "core/segment/sleeper_tally.hpp"

namespace polyipc {
namespace {

struct Counts {
  std::atomic<uint32_t> a{0}, b{0};
};

class SleeperTallyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
    name_ = "tally-" + std::to_string(getpid());
    segment_ = Segment::open(name_, OpenMode::CreateOnly, Spec());
    counts_ = static_cast<Counts*>(segment_->body());
    tally_.init(*segment_, {&counts_->a, &counts_->b});
  }
  void TearDown() override {
    for (pid_t p : children_) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    segment_.reset();
    unlink_object(name_);
  }
  SegmentSpec Spec() const {
    SegmentSpec spec;
    spec.kind = Kind::Event;  // any kind: the test owns the body
    spec.body_size = sizeof(Counts);
    spec.init_body = [](void* body) { new (body) Counts(); };
    return spec;
  }

  // A child that counts `n` sleepers in (a: field 0, b: field 1), on its own
  // handle or, with own_handle false, on the parent's; then waits to be killed.
  pid_t CountedChild(uint32_t in_a, uint32_t in_b, bool own_handle = true, bool tally = true) {
    int ready[2];
    EXPECT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
      std::unique_ptr<Segment> mine;
      SleeperTally t;
      if (own_handle) {
        mine = Segment::open(name_, OpenMode::OpenOnly, Spec());
        t.init(*mine, {&counts_->a, &counts_->b});
      }
      SleeperTally& use = own_handle ? t : tally_;
      for (uint32_t i = 0; i < in_a; ++i) tally ? use.enter(counts_->a) : (void)counts_->a.fetch_add(1);
      for (uint32_t i = 0; i < in_b; ++i) tally ? use.enter(counts_->b) : (void)counts_->b.fetch_add(1);
      char c = 1;
      (void)!write(ready[1], &c, 1);
      for (;;) pause();
    }
    close(ready[1]);
    char c;
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    children_.push_back(pid);
    return pid;
  }
  void Kill(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    children_.erase(std::find(children_.begin(), children_.end(), pid));
  }

  std::string name_;
  std::unique_ptr<Segment> segment_;
  Counts* counts_ = nullptr;
  SleeperTally tally_;
  std::vector<pid_t> children_;
};

TEST_F(SleeperTallyTest, TakesOffTheDeadAndOnlyTheDead) {
  pid_t live = CountedChild(2, 1);
  pid_t dead = CountedChild(3, 4);
  tally_.enter(counts_->a);  // this process: alive
  EXPECT_EQ(counts_->a.load(), 6u);
  EXPECT_EQ(counts_->b.load(), 5u);
  EXPECT_EQ(tally_.heal(), 0u) << "nobody has died yet";
  Kill(dead);
  EXPECT_EQ(tally_.heal(), 7u);
  EXPECT_EQ(counts_->a.load(), 3u);  // the live child's 2 and ours
  EXPECT_EQ(counts_->b.load(), 1u);
  EXPECT_EQ(tally_.heal(), 0u) << "a slot is healed once";
  tally_.leave(counts_->a);
  Kill(live);
  EXPECT_EQ(tally_.heal(), 3u);
  EXPECT_EQ(counts_->a.load(), 0u);
  EXPECT_EQ(counts_->b.load(), 0u);
  EXPECT_EQ(segment_->live_attached(), 1u);
}

// A forked child sleeping on its parent's handle is not tallied: the
// parent's slot must never carry a sleeper that outlives the parent's tally.
TEST_F(SleeperTallyTest, AForkedChildOnItsParentsHandleIsCountedButNotTallied) {
  pid_t child = CountedChild(1, 0, /*own_handle=*/false);
  EXPECT_EQ(counts_->a.load(), 1u);
  EXPECT_EQ(segment_->header()->sleeper_tally[segment_->slot()][0].load(), 0u);
  Kill(child);
  EXPECT_EQ(tally_.heal(), 0u);
  EXPECT_EQ(counts_->a.load(), 1u) << "untallied: stays counted (a cost, never a lost wake-up)";
}

// A process that dies between counting in and tallying (here: a count with
// no tally at all) leaves a count heal() never takes: never too much.
TEST_F(SleeperTallyTest, ACountWithoutATallyIsNeverTakenOff) {
  pid_t child = CountedChild(2, 0, true, /*tally=*/false);
  Kill(child);
  EXPECT_EQ(tally_.heal(), 0u);
  EXPECT_EQ(counts_->a.load(), 2u);
}

// When the table is full, attach() frees dead slots without their tallies;
// a later heal() still takes what a freed slot's process owed.
TEST_F(SleeperTallyTest, AFreedSlotsTallyIsStillTakenOff) {
  pid_t dead = CountedChild(0, 2);
  Kill(dead);
  SegmentHeader* h = segment_->header();
  for (uint32_t i = 0; i < kMaxAttached; ++i) {
    uint64_t t = h->attached[i].load();
    if (t != 0 && t != segment_->token()) h->attached[i].store(0);  // what attach() does to a dead slot
  }
  EXPECT_EQ(tally_.heal(), 2u);
  EXPECT_EQ(counts_->b.load(), 0u);
}

// A wake-up that woke nobody heals at once on a handle's first one (then at
// most once per interval, so the /proc reads stay off hot paths).
TEST_F(SleeperTallyTest, AWakeUpThatWokeNobodyHeals) {
  Kill(CountedChild(1, 0));
  tally_.woke_nobody();
  EXPECT_EQ(counts_->a.load(), 0u);
}

}  // namespace
}  // namespace polyipc
