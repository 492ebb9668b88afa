// Zero-copy reserve/commit and borrow/release: the bytes are written and read
// in the ring itself. Semantics in one process, bad tickets, and processes
// killed holding a reservation or a borrowed message.
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <random>

#include "common.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class ZeroCopy : public CapiTest {
 protected:
  Queue Open(const std::string& tag, uint32_t format = POLYIPC_FORMAT_JSON, uint32_t joinable = 0,
             uint64_t capacity = 1 << 20) {
    polyipc_queue_options o = Opts(POLYIPC_FIFO, format, joinable);
    o.capacity_bytes = capacity;
    Queue q;
    Err e;
    EXPECT_ST(POLYIPC_OK, OpenQ(Name(tag), POLYIPC_OPEN_OR_CREATE, &o, &q, &e)) << e.Msg();
    return q;
  }
  // reserve + write + commit
  int PutZc(polyipc_queue* q, const std::string& msg, Err* e) {
    void* data = nullptr;
    uint64_t ticket = 0;
    int rc = polyipc_queue_reserve(q, msg.size(), &data, &ticket, 0, e);
    if (rc != POLYIPC_OK) return rc;
    std::memcpy(data, msg.data(), msg.size());
    return polyipc_queue_commit(q, ticket, e);
  }
};

TEST_F(ZeroCopy, ReservedBytesArriveAsAMessageAndBorrowedOnesLeaveOnRelease) {
  Queue q = Open("q");
  Err e;
  ASSERT_ST(POLYIPC_OK, PutZc(q, R"({"n":1})", &e)) << e.Msg();
  ASSERT_ST(POLYIPC_OK, Put(q, R"({"n":2})"));
  EXPECT_EQ(Size(q), 2u);

  const void* data = nullptr;
  size_t len = 0;
  uint64_t ticket = 0;
  ASSERT_ST(POLYIPC_OK, polyipc_queue_borrow(q, &data, &len, &ticket, 0, &e)) << e.Msg();
  EXPECT_EQ(std::string(static_cast<const char*>(data), len), R"({"n":1})");
  EXPECT_EQ(Size(q), 1u);  // taken, as a get takes it
  // Others get what is behind it meanwhile (FIFO).
  std::string next;
  ASSERT_ST(POLYIPC_OK, Get(q, &next));
  EXPECT_EQ(next, R"({"n":2})");
  ASSERT_ST(POLYIPC_OK, polyipc_queue_release(q, ticket, &e)) << e.Msg();
  EXPECT_EQ(Size(q), 0u);
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &next));
}

TEST_F(ZeroCopy, ManyRoundsReuseTheRing) {
  // 64 KiB ring, 4000 messages of ~1 KiB: the ring wraps dozens of times.
  Queue q = Open("wrap", POLYIPC_FORMAT_BYTES, 0, 64 << 10);
  for (int i = 0; i < 4000; ++i) {
    std::string msg(900 + i % 200, char('a' + i % 26));
    Err e;
    ASSERT_ST(POLYIPC_OK, PutZc(q, msg, &e)) << i << ": " << e.Msg();
    const void* data;
    size_t len;
    uint64_t ticket;
    ASSERT_ST(POLYIPC_OK, polyipc_queue_borrow(q, &data, &len, &ticket, 0, &e)) << e.Msg();
    ASSERT_EQ(std::string(static_cast<const char*>(data), len), msg) << i;
    ASSERT_ST(POLYIPC_OK, polyipc_queue_release(q, ticket, &e)) << e.Msg();
  }
  EXPECT_EQ(Size(q), 0u);
}

// get_many takes the ready messages in ring order, past open reservations,
// until one does not fit its buffer or count: random puts, batches,
// reservations committed or cancelled out of order, and gets of every kind,
// through a 4 KiB ring that wraps hundreds of times, against a model.
TEST_F(ZeroCopy, GetManyAroundOpenReservationsMatchesAModel) {
  Queue q = Open("model", POLYIPC_FORMAT_BYTES, 0, 4096);
  std::mt19937 rng(2026);
  struct Slot {
    std::string msg;
    bool reserved;
    uint64_t ticket;  // while reserved
  };
  std::deque<Slot> model;  // in ring order
  int next = 0, taken = 0;
  auto message = [&] {
    std::string m = std::to_string(next++) + ":";
    m.resize(m.size() + rng() % 300, char('a' + next % 26));
    return m;
  };
  auto open_reservations = [&] {
    return std::count_if(model.begin(), model.end(), [](const Slot& s) { return s.reserved; });
  };
  for (int step = 0; step < 20000; ++step) {
    Err e;
    const unsigned op = rng() % 10;
    if (op < 3) {  // put, or a batch of puts
      std::vector<std::string> msgs(op == 0 ? 1 + rng() % 8 : 1);
      for (auto& m : msgs) m = message();
      std::vector<const void*> ptrs;
      std::vector<size_t> lens;
      for (auto& m : msgs) ptrs.push_back(m.data()), lens.push_back(m.size());
      size_t done = 0;
      const int rc = polyipc_queue_put_many(q, ptrs.data(), lens.data(), msgs.size(), &done, 0, &e);
      ASSERT_TRUE(rc == POLYIPC_OK || rc == POLYIPC_ERR_FULL) << e.Msg();
      for (size_t i = 0; i < done; ++i) model.push_back({msgs[i], false, 0});
    } else if (op < 5 && open_reservations() < 3) {  // reserve, filled now, committed later
      const std::string m = message();
      void* data = nullptr;
      uint64_t ticket = 0;
      const int rc = polyipc_queue_reserve(q, m.size(), &data, &ticket, 0, &e);
      ASSERT_TRUE(rc == POLYIPC_OK || rc == POLYIPC_ERR_FULL) << e.Msg();
      if (rc != POLYIPC_OK) continue;
      std::memcpy(data, m.data(), m.size());
      model.push_back({m, true, ticket});
    } else if (op < 6 && open_reservations() > 0) {  // commit or cancel one, not the oldest first
      std::vector<size_t> open;
      for (size_t i = 0; i < model.size(); ++i)
        if (model[i].reserved) open.push_back(i);
      const size_t i = open[rng() % open.size()];
      if (rng() % 4 == 0) {
        ASSERT_ST(POLYIPC_OK, polyipc_queue_cancel(q, model[i].ticket, &e)) << e.Msg();
        model.erase(model.begin() + i);
      } else {
        ASSERT_ST(POLYIPC_OK, polyipc_queue_commit(q, model[i].ticket, &e)) << e.Msg();
        model[i].reserved = false;
      }
    } else {  // get_many with a random buffer and count
      const size_t cap = 1 + rng() % 1200, max = 1 + rng() % 12;
      std::vector<char> buf(cap);
      std::vector<size_t> lens(max);
      size_t done = 0;
      const int rc = polyipc_queue_get_many(q, buf.data(), cap, lens.data(), max, &done, 0, &e);
      // the model: ready slots in ring order, while each fits
      std::vector<size_t> want;
      size_t used = 0;
      for (size_t i = 0; i < model.size() && want.size() < max; ++i) {
        if (model[i].reserved) continue;
        if (model[i].msg.size() > cap - used) break;
        used += model[i].msg.size();
        want.push_back(i);
      }
      const bool any_ready = open_reservations() < static_cast<long>(model.size());
      if (!any_ready) {
        ASSERT_ST(POLYIPC_ERR_EMPTY, rc) << "step " << step;
        continue;
      }
      if (want.empty()) {
        ASSERT_ST(POLYIPC_ERR_TOO_LARGE, rc) << "step " << step;
        continue;
      }
      ASSERT_ST(POLYIPC_OK, rc) << "step " << step << ": " << e.Msg();
      ASSERT_EQ(done, want.size()) << "step " << step;
      size_t at = 0;
      for (size_t k = 0; k < done; ++k) {
        ASSERT_EQ(std::string(buf.data() + at, lens[k]), model[want[k]].msg) << "step " << step << ", message " << k;
        at += lens[k];
      }
      for (size_t k = done; k-- > 0;) model.erase(model.begin() + want[k]);
      taken += static_cast<int>(done);
    }
    ASSERT_EQ(Size(q), model.size() - open_reservations()) << "step " << step << " op " << op;
  }
  EXPECT_GT(taken, 5000);
}

TEST_F(ZeroCopy, CancelDropsTheReservationAndInvalidJsonIsDroppedOnCommit) {
  Queue q = Open("drop");
  Err e;
  void* data;
  uint64_t ticket;
  ASSERT_ST(POLYIPC_OK, polyipc_queue_reserve(q, 5, &data, &ticket, 0, &e));
  std::memcpy(data, "{\"a\":", 5);
  ASSERT_ST(POLYIPC_OK, polyipc_queue_cancel(q, ticket, &e)) << e.Msg();
  EXPECT_EQ(Size(q), 0u);

  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON, PutZc(q, "{\"a\":", &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "invalid JSON")) << e.Msg();
  EXPECT_TRUE(ContainsI(e.Msg(), Name("drop"))) << e.Msg();
  EXPECT_EQ(Size(q), 0u);
  // The space came back: a ring-full of messages still fits.
  ASSERT_ST(POLYIPC_OK, PutZc(q, "[1,2,3]", &e)) << e.Msg();
  std::string got;
  ASSERT_ST(POLYIPC_OK, Get(q, &got));
  EXPECT_EQ(got, "[1,2,3]");
}

TEST_F(ZeroCopy, BadTicketsAndArgumentsAreCleanErrors) {
  Queue q = Open("bad");
  Err e;
  void* data = nullptr;
  const void* cdata = nullptr;
  size_t len = 0;
  uint64_t ticket = 0;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_release(q, 12345, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "ticket")) << e.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_commit(q, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_cancel(q, UINT64_MAX, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_reserve(q, 8, nullptr, &ticket, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_reserve(q, 8, &data, nullptr, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_borrow(q, &cdata, nullptr, &ticket, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_borrow(nullptr, &cdata, &len, &ticket, 0, &e));
  EXPECT_ST(POLYIPC_ERR_EMPTY, polyipc_queue_borrow(q, &cdata, &len, &ticket, 0, &e));
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_queue_reserve(q, 2u << 20, &data, &ticket, 0, &e));
  EXPECT_EQ(data, nullptr);  // outputs untouched on failure

  // A reservation's ticket does not release, a borrowed one does not commit,
  // and each ends once.
  ASSERT_ST(POLYIPC_OK, polyipc_queue_reserve(q, 2, &data, &ticket, 0, &e));
  std::memcpy(data, "42", 2);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_release(q, ticket, &e));
  ASSERT_ST(POLYIPC_OK, polyipc_queue_commit(q, ticket, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_commit(q, ticket, &e));
  uint64_t borrowed;
  ASSERT_ST(POLYIPC_OK, polyipc_queue_borrow(q, &cdata, &len, &borrowed, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_commit(q, borrowed, &e));
  ASSERT_ST(POLYIPC_OK, polyipc_queue_release(q, borrowed, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_release(q, borrowed, &e));
  EXPECT_EQ(Size(q), 0u);
}

// LIFO and PRIORITY queues lend in their own order; a reservation there has
// priority 0 (after every negative one, before every positive one).
TEST_F(ZeroCopy, LifoAndPriorityQueuesBorrowInTheirOrder) {
  for (uint32_t order : {POLYIPC_LIFO, POLYIPC_PRIORITY}) {
    SCOPED_TRACE(order == POLYIPC_LIFO ? "lifo" : "priority");
    polyipc_queue_options o = Opts(order, POLYIPC_FORMAT_JSON);
    Queue q;
    Err e;
    ASSERT_ST(POLYIPC_OK, OpenQ(Name(order == POLYIPC_LIFO ? "lifo" : "prio"), POLYIPC_OPEN_OR_CREATE, &o, &q, &e));
    ASSERT_ST(POLYIPC_OK, PutP(q, "1", 5));
    ASSERT_ST(POLYIPC_OK, PutZc(q, "2", &e)) << e.Msg();
    ASSERT_ST(POLYIPC_OK, PutP(q, "3", -5));
    // Both give 3, 2, 1: LIFO newest first; PRIORITY -5, then 0 (the reservation), then 5.
    const std::string want = "321";
    for (int i = 0; i < 3; ++i) {
      const void* data;
      size_t len;
      uint64_t ticket;
      ASSERT_ST(POLYIPC_OK, polyipc_queue_borrow(q, &data, &len, &ticket, 0, &e)) << e.Msg();
      ASSERT_EQ(std::string(static_cast<const char*>(data), len), std::string(1, want[i])) << "take " << i;
      ASSERT_ST(POLYIPC_OK, polyipc_queue_release(q, ticket, &e)) << e.Msg();
    }
    EXPECT_EQ(Size(q), 0u);
    ASSERT_ST(POLYIPC_OK, Put(q, "4"));  // the space came back
    std::string got;
    ASSERT_ST(POLYIPC_OK, Get(q, &got));
    EXPECT_EQ(got, "4");
  }
}

TEST_F(ZeroCopy, AJoinableBorrowIsALeaseUntilTaskDone) {
  Queue q = Open("join", POLYIPC_FORMAT_JSON, 1);
  Err e;
  ASSERT_ST(POLYIPC_OK, PutZc(q, "7", &e));
  const void* data;
  size_t len;
  uint64_t ticket;
  ASSERT_ST(POLYIPC_OK, polyipc_queue_borrow(q, &data, &len, &ticket, 0, &e));
  ASSERT_ST(POLYIPC_OK, polyipc_queue_release(q, ticket, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 1 * kMs, &e));  // not done yet
  ASSERT_ST(POLYIPC_OK, polyipc_queue_task_done(q, &e));
  EXPECT_ST(POLYIPC_OK, polyipc_queue_join(q, 0, &e));
}

// A process killed holding a borrowed message: the message goes back to the
// queue and the next getter has it; a process killed holding a reservation:
// the space comes back and nothing half-written is ever seen.
TEST_F(ZeroCopy, KilledBorrowerGivesTheMessageBackAndKilledReserverLosesOnlyItsReservation) {
  Queue q = Open("kill", POLYIPC_FORMAT_BYTES, 0, 64 << 10);
  const std::string name = Name("kill");
  const std::string big(40 << 10, 'b');  // two do not fit the ring at once
  ASSERT_ST(POLYIPC_OK, Put(q, big));
  Children kids;
  Pipe ready;
  pid_t borrower = kids.Add(Spawn([&] {
    Queue c;
    polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
    CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &c) == POLYIPC_OK);
    const void* data;
    size_t len;
    uint64_t ticket;
    CHILD_REQUIRE(polyipc_queue_borrow(c, &data, &len, &ticket, 0, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(len == big.size());
    ready.WriteByte();
    for (;;) pause();  // killed holding it
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  EXPECT_EQ(Size(q), 0u);
  kill(borrower, SIGKILL);
  EXPECT_EQ(kids.Wait(borrower, 10s), 128 + SIGKILL);
  std::string got;
  Err e;
  ASSERT_ST(POLYIPC_OK, Get(q, &got, 5 * kSec, &e)) << e.Msg();  // redelivered
  EXPECT_EQ(got, big);

  Pipe reserved;
  pid_t reserver = kids.Add(Spawn([&] {
    Queue c;
    polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
    CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &c) == POLYIPC_OK);
    void* data;
    uint64_t ticket;
    CHILD_REQUIRE(polyipc_queue_reserve(c, big.size(), &data, &ticket, 0, nullptr) == POLYIPC_OK);
    std::memset(data, 'x', big.size() / 2);  // half written
    reserved.WriteByte();
    for (;;) pause();
  }));
  ASSERT_TRUE(reserved.ReadByte(&c, 10000));
  kill(reserver, SIGKILL);
  EXPECT_EQ(kids.Wait(reserver, 10s), 128 + SIGKILL);
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &got));  // nothing half-written shows
  // The reserved space comes back: a message that needs it fits (within 5 s).
  ASSERT_ST(POLYIPC_OK, Put(q, big, 5 * kSec, &e)) << e.Msg();
  ASSERT_ST(POLYIPC_OK, Get(q, &got));
  EXPECT_EQ(got, big);
}

}  // namespace
