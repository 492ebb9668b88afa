// A process killed while it holds a queue's lock wedges nobody: the next
// locker recovers the lock (OWNER_DEAD inside the core), repairs, and the
// queue keeps every message it had.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/queue/queue.hpp"

namespace polyipc {

struct QueueTestPeer {
  static void lock(Queue& q) { ASSERT_EQ(q.lock(Deadline::forever()), Status::Ok); }
};

namespace {

std::string unique_name(const char* base) { return std::string(base) + "-" + std::to_string(getpid()); }

TEST(QueueLockHolder, KilledHoldingTheLockLeavesTheQueueUsable) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  QueueOptions opts;
  opts.format = Format::Bytes;
  const std::string name = unique_name("lockholder");
  auto q = Queue::open(name, OpenMode::CreateOnly, opts);
  ErrorText e;
  ASSERT_EQ(q->put("kept", 4, 0, Deadline::after(0), e), Status::Ok);

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto mine = Queue::open(name, OpenMode::OpenOnly, opts);
    QueueTestPeer::lock(*mine);
    char c = 1;
    (void)!write(ready[1], &c, 1);
    pause();  // killed here, holding the lock
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);  // the child holds the lock now
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);

  // Bounded: a wedged lock would make these time out rather than hang.
  ASSERT_EQ(q->put("after", 5, 0, Deadline::after(2'000'000'000), e), Status::Ok) << e.text;
  char buf[16];
  size_t len = 0;
  auto into = [](void* ctx, size_t n) -> void* { return n <= 16 ? ctx : nullptr; };
  ASSERT_EQ(q->get(into, buf, &len, Deadline::after(2'000'000'000), e), Status::Ok) << e.text;
  EXPECT_EQ(std::string(buf, len), "kept");
  ASSERT_EQ(q->get(into, buf, &len, Deadline::after(0), e), Status::Ok) << e.text;
  EXPECT_EQ(std::string(buf, len), "after");
  auto stat = nlohmann::json::parse(q->stat_json());
  EXPECT_EQ(stat["counters"]["owner_dead_recoveries"], 1);
  unlink_object(name);
}

}  // namespace
}  // namespace polyipc
