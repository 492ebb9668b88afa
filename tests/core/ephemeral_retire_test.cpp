// Removing an ephemeral object races with opening it (core/segment): an
// opener that finds the object being removed waits for its remover to
// unlink it, then creates a new one; a remover killed between marking the
// object retired and unlinking it does not leave the name unusable.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "core/segment/segment.hpp"
#include "core/status.hpp"

namespace polyipc {
namespace {

class EphemeralRetireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("POLYIPC_NAMESPACE", ("coretest-retire-" + std::to_string(getpid())).c_str(), 1);
    name_ = "eph-" + std::to_string(getpid());
  }
  void TearDown() override {
    try {
      unlink_object(name_);
    } catch (const Error&) {
    }
  }
  static SegmentSpec Spec() {
    SegmentSpec spec;
    spec.kind = Kind::Event;  // any kind: the test owns the body
    spec.body_size = 64;
    spec.ephemeral = true;
    return spec;
  }
  std::string name_;
};

// A child attaches, marks the object retired, as a remover does first, and
// dies before it can unlink it: nobody live is attached, and every opener
// backs off on seeing `retired`. The next opener must still get the name.
TEST_F(EphemeralRetireTest, ARemoverKilledBeforeUnlinkingLeavesTheNameUsable) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto seg = Segment::open(name_, OpenMode::OpenOrCreate, Spec());
      seg->header()->retired.store(1);
      _exit(seg->created() ? 0 : 2);  // dies attached, without detaching or unlinking
    } catch (...) {
      _exit(3);
    }
  }
  int status = 0;
  ASSERT_EQ(child, waitpid(child, &status, 0));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Segment> seg;
  ASSERT_NO_THROW(seg = Segment::open(name_, OpenMode::OpenOrCreate, Spec()));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(seg->created()) << "a new object under the name, not the retired one";
  EXPECT_EQ(0u, seg->header()->retired.load());
  EXPECT_LT(waited, 3.0) << "the remover's work is finished after about a second";
  // and it is an ordinary object again: a second handle attaches to it
  auto other = Segment::open(name_, OpenMode::OpenOnly, Spec());
  EXPECT_EQ(2u, other->live_attached());
}

}  // namespace
}  // namespace polyipc
