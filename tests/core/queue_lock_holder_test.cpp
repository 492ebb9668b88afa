// A process killed while it holds a queue's lock wedges nobody: the next
// locker recovers the lock (OWNER_DEAD inside the core), repairs, and the
// queue keeps every message it had.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/queue/layout.hpp"
#include "core/queue/queue.hpp"
#include "core/sync/journal.hpp"

namespace polyipc {

struct QueueTestPeer {
  static void lock(Queue& q) { ASSERT_EQ(q.lock(Deadline::forever()), Status::Ok); }
  // Takes one side's lock (FIFO: the put or the get lock; 2: both) and dies in
  // the middle of a transaction that scrambles that side's words.
  [[noreturn]] static void die_mid_transaction(Queue& q, int side, int ready_fd) {
    QueueShared& s = *q.s_;
    Queue::Side which = side == 0 ? Queue::Side::Put : side == 1 ? Queue::Side::Get : Queue::Side::Both;
    if (q.lock_side(which, Deadline::forever()) != Status::Ok) _exit(3);
    Transaction tx(side == 0 ? s.put_journal : s.get_journal, s.base());
    if (side != 1) {
      tx.set(s.ps.tail, s.ps.tail + 4096);
      tx.set(s.ps.produced, s.ps.produced + 7);
    }
    if (side != 0) {
      tx.set(s.record(s.cs.head)->state, kDead);
      tx.set(s.cs.head, s.cs.head + 100);
      tx.set(s.cs.consumed, s.cs.consumed + 1);
    }
    char c = 1;
    (void)!write(ready_fd, &c, 1);
    for (;;) pause();  // killed here, mid-transaction, holding the lock(s)
  }
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

// The same with a half-done transaction, holding the put lock, the get lock
// or both (FIFO), and the first call after the kill a put or a get.
void KillMidTransaction(int side, bool put_first) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  QueueOptions opts;
  opts.format = Format::Bytes;
  const std::string name = unique_name("midtx") + "-" + std::to_string(side) + (put_first ? "p" : "g");
  auto q = Queue::open(name, OpenMode::CreateOnly, opts);
  ErrorText e;
  ASSERT_EQ(q->put("kept1", 5, 0, Deadline::after(0), e), Status::Ok);
  ASSERT_EQ(q->put("kept2", 5, 0, Deadline::after(0), e), Status::Ok);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto mine = Queue::open(name, OpenMode::OpenOnly, opts);
    QueueTestPeer::die_mid_transaction(*mine, side, ready[1]);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  close(ready[0]);
  close(ready[1]);

  char buf[16];
  size_t len = 0;
  auto into = [](void* ctx, size_t n) -> void* { return n <= 16 ? ctx : nullptr; };
  std::vector<std::string> got;
  auto get = [&](int64_t timeout) {
    Status st = q->get(into, buf, &len, Deadline::after(timeout), e);
    ASSERT_EQ(st, Status::Ok) << e.text;
    got.emplace_back(buf, len);
  };
  if (put_first) {
    ASSERT_EQ(q->put("after", 5, 0, Deadline::after(2'000'000'000), e), Status::Ok) << e.text;
    get(2'000'000'000);
  } else {
    get(2'000'000'000);
    ASSERT_EQ(q->put("after", 5, 0, Deadline::after(2'000'000'000), e), Status::Ok) << e.text;
  }
  get(0);
  get(0);
  EXPECT_EQ(got, (std::vector<std::string>{"kept1", "kept2", "after"}));
  EXPECT_EQ(q->get(into, buf, &len, Deadline::after(0), e), Status::Empty);
  auto stat = nlohmann::json::parse(q->stat_json());
  EXPECT_GE(stat["counters"]["owner_dead_recoveries"], 1);
  EXPECT_EQ(stat["used_bytes"], 0);
  EXPECT_EQ(stat["depth"], 0);
  q.reset();
  unlink_object(name);
}

TEST(QueueLockHolder, KilledMidTransactionHoldingThePutLock) {
  KillMidTransaction(0, true);
  KillMidTransaction(0, false);
}
TEST(QueueLockHolder, KilledMidTransactionHoldingTheGetLock) {
  KillMidTransaction(1, true);
  KillMidTransaction(1, false);
}
TEST(QueueLockHolder, KilledMidTransactionHoldingBothLocks) {
  KillMidTransaction(2, true);
  KillMidTransaction(2, false);
}

}  // namespace
}  // namespace polyipc
