// Large queues' rings are kRingSlack longer than their capacity, so that a
// putter refilling a full ring never writes the lines its getter has just
// read. The slack is invisible: the queue holds exactly what its capacity
// says, no more and no less.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/queue/layout.hpp"
#include "core/queue/queue.hpp"
#include "core/segment/segment.hpp"

namespace polyipc {

struct QueueTestPeer {
  static const QueueShared& shared(const Queue& q) { return *q.s_; }
};

namespace {

constexpr size_t kMessage = 1 << 20;

std::unique_ptr<Queue> bytes_queue(const std::string& name, uint64_t capacity) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  QueueOptions opts;
  opts.format = Format::Bytes;
  opts.capacity_bytes = capacity;
  return Queue::open(name, OpenMode::CreateOnly, opts);
}

// How many kMessage records fit, put with timeout 0 until FULL.
size_t fill(Queue& q, const std::vector<char>& msg) {
  ErrorText err;
  size_t n = 0;
  while (q.put(msg.data(), msg.size(), 0, Deadline::after(0), err) == Status::Ok) ++n;
  return n;
}

TEST(QueueRingSlack, LargeQueueHoldsExactlyItsCapacityAndKeepsTheSlackFreeWhileStreaming) {
  const std::string name = "slack-" + std::to_string(getpid());
  const uint64_t capacity = kSlackFrom;
  auto q = bytes_queue(name, capacity);
  const QueueShared& s = QueueTestPeer::shared(*q);
  EXPECT_EQ(s.ring_bytes, capacity + kRingSlack);
  EXPECT_EQ(nlohmann::json::parse(q->stat_json())["capacity_bytes"], capacity);

  std::vector<char> msg(kMessage), out(kMessage);
  const size_t fits = capacity / record_size(kMessage);
  ASSERT_EQ(fill(*q, msg), fits);  // the slack holds nothing

  // Streaming through a full ring for several laps: the put always finds
  // exactly one message's room, and never comes within the slack of the head.
  ErrorText err;
  for (int i = 0; i < 100; ++i) {
    size_t len = 0;
    auto into = [](void* buf, size_t) -> void* { return buf; };
    ASSERT_EQ(q->get(into, out.data(), &len, Deadline::after(0), err), Status::Ok) << err.text;
    msg[0] = char(i);
    ASSERT_EQ(q->put(msg.data(), msg.size(), 0, Deadline::after(0), err), Status::Ok) << err.text;
    ASSERT_EQ(q->put(msg.data(), msg.size(), 0, Deadline::after(0), err), Status::Full);
    ASSERT_GE(s.ring_bytes - (s.ps.tail - s.cs.head), kRingSlack) << "round " << i;
  }
  EXPECT_GT(s.ps.tail, 3 * s.ring_bytes);  // several laps, over the ring's end each time
  q.reset();
  unlink_object(name);
}

TEST(QueueRingSlack, SmallQueueHasNone) {
  const std::string name = "noslack-" + std::to_string(getpid());
  const uint64_t capacity = kSlackFrom - 8;
  auto q = bytes_queue(name, capacity);
  EXPECT_EQ(QueueTestPeer::shared(*q).ring_bytes, capacity);
  std::vector<char> msg(kMessage);
  EXPECT_EQ(fill(*q, msg), capacity / record_size(kMessage));
  q.reset();
  unlink_object(name);
}

}  // namespace
}  // namespace polyipc
