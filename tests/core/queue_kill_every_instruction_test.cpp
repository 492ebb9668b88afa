// A process killed at any instruction of a queue operation leaves a queue
// that the next caller repairs: a child is single-stepped (ptrace) through
// one put / get / put_many / get_many / withdraw (and more, below) and
// SIGKILLed after k instructions, for every k until the operation completes. After each kill the queue must still
// hold exactly the messages it had, in order, plus or minus the one the child
// was putting or taking, with no torn message and no leaked space.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/queue/queue.hpp"
#include "kill_after.hpp"

namespace polyipc {
namespace {

std::string Msg(int i) { return "message-" + std::to_string(i) + std::string(i % 7, '.'); }

std::vector<std::string> Drain(Queue& q) {
  std::vector<std::string> out;
  char buf[4096];
  auto into = [](void* ctx, size_t n) -> void* { return n <= 4096 ? ctx : nullptr; };
  for (;;) {
    ErrorText e;
    size_t len = 0;
    Status st = q.get(into, buf, &len, Deadline::after(0), e);
    if (st == Status::Empty) return out;
    EXPECT_EQ(st, Status::Ok) << e.text;
    if (st != Status::Ok) return out;
    out.emplace_back(buf, len);
  }
}

// Runs op on a handle of its own in a traced child, kills it after k
// instructions; returns false once the child finished op before k instructions.
bool KillAfter(const std::string& name, const QueueOptions& opts, long k, const std::function<void(Queue&)>& op) {
  return polyipc::KillAfter(k, [&]() -> std::function<void()> {
    std::shared_ptr<Queue> q = Queue::open(name, OpenMode::OpenOnly, opts);
    return [q, &op] { op(*q); };
  });
}

struct Case {
  const char* what;
  int preload;                        // messages put before the child runs
  std::function<void(Queue&)> setup;  // after preloading, before the child
  std::function<void(Queue&)> op;     // the child's operation
  // Acceptable drained sequences, given the preloaded messages and a final "after".
  std::function<bool(const std::vector<std::string>&)> ok;
};

void Put(Queue& q, const std::string& m) {
  ErrorText e;
  ASSERT_EQ(q.put(m.data(), m.size(), 0, Deadline::after(0), e), Status::Ok) << e.text;
}

void RunCase(const Case& c, Order order = Order::Fifo) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  QueueOptions opts;
  opts.format = Format::Bytes;
  opts.order = order;
  opts.capacity_bytes = 1024;
  long kills = 0;
  for (long k = 0;; k += 1 + k / 400) {  // every instruction for the first 400, then sparser
    SCOPED_TRACE(std::string(c.what) + ", killed after " + std::to_string(k) + " instructions");
    const std::string name = "killstep-" + std::to_string(getpid());
    auto q = Queue::open(name, OpenMode::CreateOnly, opts);
    if (c.setup) c.setup(*q);
    for (int i = 0; i < c.preload; ++i) Put(*q, Msg(i));
    bool killed = KillAfter(name, opts, k, c.op);
    Put(*q, "after");
    std::vector<std::string> got = Drain(*q);
    EXPECT_TRUE(c.ok(got)) << "drained " << nlohmann::json(got).dump();
    auto stat = nlohmann::json::parse(q->stat_json());
    EXPECT_EQ(stat["depth"], 0);
    EXPECT_EQ(stat["used_bytes"], 0) << "space leaked";
    EXPECT_EQ(stat["in_flight"], 0);
    q.reset();
    unlink_object(name);
    if (::testing::Test::HasFailure() || !killed) break;
    ++kills;
  }
  std::printf("%s: %ld kills\n", c.what, kills);
}

// preload messages 0..n-1, then "after"; extra: what the child may have added at the end.
bool Exactly(const std::vector<std::string>& got, int first, int n, const std::vector<std::string>& extra) {
  std::vector<std::string> want;
  for (int i = first; i < n; ++i) want.push_back(Msg(i));
  std::vector<std::string> with = want;
  with.insert(with.end(), extra.begin(), extra.end());
  want.push_back("after");
  with.push_back("after");
  return got == want || got == with;
}

TEST(QueueKillEveryInstruction, Put) {
  RunCase({"put", 3, nullptr, [](Queue& q) { Put(q, "child"); },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {"child"}); }});
}

TEST(QueueKillEveryInstruction, PutMany) {
  RunCase({"put_many", 2, nullptr,
           [](Queue& q) {
             const char* d[3] = {"c1", "c2", "c3"};
             size_t lens[3] = {2, 2, 2}, done = 0;
             ErrorText e;
             q.put_many(reinterpret_cast<const void* const*>(d), lens, 3, &done, Deadline::after(0), e);
           },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 2, {"c1", "c2", "c3"}); }});
}

TEST(QueueKillEveryInstruction, Get) {
  RunCase({"get", 3, nullptr,
           [](Queue& q) {
             char buf[64];
             size_t len;
             ErrorText e;
             q.get([](void* ctx, size_t) -> void* { return ctx; }, buf, &len, Deadline::after(0), e);
           },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {}) || Exactly(g, 1, 3, {}); }});
}

TEST(QueueKillEveryInstruction, GetMany) {
  RunCase({"get_many", 3, nullptr,
           [](Queue& q) {
             char buf[256];
             size_t lens[8], done = 0;
             ErrorText e;
             q.get_many(buf, sizeof buf, lens, 8, &done, Deadline::after(0), e);
           },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {}) || Exactly(g, 3, 3, {}); }});
}

// A pool's cancel: the waiting message with these bytes leaves the queue,
// from the middle (its record dies in place) or at the head (the head moves).
void Withdraw(Queue& q, const std::string& m) {
  bool withdrawn = false;
  ErrorText e;
  q.withdraw(m.data(), m.size(), &withdrawn, e);
}

TEST(QueueKillEveryInstruction, WithdrawFromTheMiddle) {
  RunCase({"withdraw (middle)", 3, nullptr, [](Queue& q) { Withdraw(q, Msg(1)); },
           [](const std::vector<std::string>& g) {
             return Exactly(g, 0, 3, {}) || g == std::vector<std::string>{Msg(0), Msg(2), "after"};
           }});
}

TEST(QueueKillEveryInstruction, WithdrawAtTheHead) {
  RunCase({"withdraw (head)", 3, nullptr, [](Queue& q) { Withdraw(q, Msg(0)); },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {}) || Exactly(g, 1, 3, {}); }});
}

// Both locks: the ring is empty with its tail near the end, so the put
// restarts it at the beginning (moves head and tail in one transaction).
TEST(QueueKillEveryInstruction, PutThatRestartsTheEmptyRing) {
  const std::string big(100, 'b');
  RunCase({"put restarting the ring", 0,
           [big](Queue& q) {
             char buf[256];
             size_t len;
             for (int i = 0; i < 7; ++i) {  // 7 records of 144 bytes: the tail ends 16 bytes short of the end
               Put(q, big);
               ErrorText e;
               ASSERT_EQ(q.get([](void* ctx, size_t) -> void* { return ctx; }, buf, &len, Deadline::after(0), e),
                         Status::Ok);
             }
           },
           [big](Queue& q) { Put(q, big); },
           [big](const std::vector<std::string>& g) { return Exactly(g, 0, 0, {big}); }});
}

// Zero copy: a borrowed message is Reading until released (a death before
// then gives it back); a reservation is Reserved until committed (a death
// before then drops it and its space comes back).
TEST(QueueKillEveryInstruction, BorrowAndRelease) {
  RunCase({"borrow and release", 3, nullptr,
           [](Queue& q) {
             const void* data;
             size_t len;
             uint64_t ticket;
             ErrorText e;
             if (q.borrow(&data, &len, &ticket, Deadline::after(0), e) == Status::Ok) q.release(ticket, e);
           },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {}) || Exactly(g, 1, 3, {}); }});
}

TEST(QueueKillEveryInstruction, ReserveAndCommit) {
  RunCase({"reserve and commit", 3, nullptr,
           [](Queue& q) {
             void* data;
             uint64_t ticket;
             ErrorText e;
             if (q.reserve(5, 0, &data, &ticket, Deadline::after(0), e) != Status::Ok) return;
             std::memcpy(data, "child", 5);
             q.commit(ticket, true, e);
           },
           [](const std::vector<std::string>& g) { return Exactly(g, 0, 3, {"child"}); }});
}

// LIFO keeps one lock; the heap changes in the same transactions.
TEST(QueueKillEveryInstruction, LifoGet) {
  RunCase({"lifo get", 3, nullptr,
           [](Queue& q) {
             char buf[64];
             size_t len;
             ErrorText e;
             q.get([](void* ctx, size_t) -> void* { return ctx; }, buf, &len, Deadline::after(0), e);
           },
           [](const std::vector<std::string>& g) {
             std::vector<std::string> all{"after", Msg(2), Msg(1), Msg(0)}, less{"after", Msg(1), Msg(0)};
             return g == all || g == less;
           }},
          Order::Lifo);
}

}  // namespace
}  // namespace polyipc
