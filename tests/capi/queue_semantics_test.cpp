// Every queue call's semantics, in one process, against the contract in
// capi/include/polyipc.h.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common.hpp"

using namespace capitest;

namespace {

const char* OrderName(uint32_t order) {
  switch (order) {
    case POLYIPC_FIFO: return "FIFO";
    case POLYIPC_LIFO: return "LIFO";
    case POLYIPC_PRIORITY: return "PRIORITY";
  }
  return "?";
}

struct Item {
  std::string msg;
  int64_t priority;
};

// The order in which a queue of `order` hands out items put in this order.
std::vector<std::string> ExpectedOrder(uint32_t order, std::vector<Item> items) {
  if (order == POLYIPC_LIFO) std::reverse(items.begin(), items.end());
  if (order == POLYIPC_PRIORITY) {
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.priority < b.priority; });
  }
  std::vector<std::string> out;
  for (auto& i : items) out.push_back(i.msg);
  return out;
}

std::vector<std::string> DrainAll(polyipc_queue* q) {
  std::vector<std::string> got;
  for (;;) {
    std::string m;
    Err e;
    int rc = Get(q, &m, 0, &e);
    if (rc == POLYIPC_ERR_EMPTY) break;
    EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
    if (rc != POLYIPC_OK) break;
    got.push_back(m);
  }
  return got;
}

// A JSON array nested `depth` deep: [[[...]]].
std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
// {"a":{"a":...{}}} with `depth` objects.
std::string NestedObjects(size_t depth) {
  std::string s;
  for (size_t i = 1; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(depth - 1, '}');
  return s;
}

// ---------------------------------------------------------------------------
class QueueOrderTest : public CapiTest, public ::testing::WithParamInterface<uint32_t> {
 protected:
  uint32_t order() const { return GetParam(); }
  Queue Make(const std::string& tag, polyipc_queue_options o) {
    o.order = order();
    Queue q;
    Err e;
    int rc = OpenQ(Name(tag), POLYIPC_CREATE_ONLY, &o, &q, &e);
    EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
    return q;
  }
  Queue Make(const std::string& tag) { return Make(tag, Opts()); }
};

INSTANTIATE_TEST_SUITE_P(Orders, QueueOrderTest, ::testing::Values(POLYIPC_FIFO, POLYIPC_LIFO, POLYIPC_PRIORITY),
                         [](const ::testing::TestParamInfo<uint32_t>& i) { return OrderName(i.param); });

TEST_P(QueueOrderTest, PutGet) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  EXPECT_EQ(0u, Size(q));
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) {
    std::string m = "{\"i\":" + std::to_string(i) + "}";
    CAPI_ASSERT_OK(Put(q, m, 0, &e));
    items.push_back({m, 0});  // plain puts share one priority: FIFO among them
    EXPECT_EQ(uint64_t(i + 1), Size(q));
  }
  EXPECT_EQ(ExpectedOrder(POLYIPC_FIFO, items).size(), 10u);
  std::vector<std::string> got = DrainAll(q);
  if (order() == POLYIPC_LIFO) {
    EXPECT_EQ(ExpectedOrder(POLYIPC_LIFO, items), got);
  } else {
    EXPECT_EQ(ExpectedOrder(POLYIPC_FIFO, items), got);
  }
  EXPECT_EQ(0u, Size(q));
  std::string m;
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &m, 0));
}

TEST_P(QueueOrderTest, PutPriority) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::vector<Item> items = {
      {"\"five\"", 5}, {"\"one-a\"", 1}, {"\"three\"", 3}, {"\"one-b\"", 1}, {"\"minus-two\"", -2},
      {"\"max\"", INT64_MAX}, {"\"min\"", INT64_MIN}, {"\"one-c\"", 1}, {"\"zero\"", 0}, {"\"five-b\"", 5},
  };
  for (auto& it : items) CAPI_ASSERT_OK(PutP(q, it.msg, it.priority, 0, &e));
  EXPECT_EQ(items.size(), Size(q));
  // on FIFO/LIFO queues the priority is ignored
  EXPECT_EQ(ExpectedOrder(order(), items), DrainAll(q));
}

// A random sequence of puts (random priorities) and gets against a model.
TEST_P(QueueOrderTest, RandomOperationsMatchModel) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::mt19937 rng(12345 + order());
  std::vector<Item> model;  // in put order
  int next = 0;
  for (int step = 0; step < 3000; ++step) {
    bool put = model.empty() || rng() % 100 < 55;
    if (put) {
      int64_t prio = static_cast<int64_t>(rng() % 7) - 3;
      std::string m = "[" + std::to_string(next++) + "," + std::to_string(prio) + "]";
      ASSERT_ST(POLYIPC_OK, PutP(q, m, prio));
      model.push_back({m, prio});
    } else {
      std::string want = ExpectedOrder(order(), model).front();
      std::string got;
      ASSERT_ST(POLYIPC_OK, Get(q, &got));
      ASSERT_EQ(want, got) << "step " << step;
      auto it = std::find_if(model.begin(), model.end(), [&](const Item& i) { return i.msg == want; });
      model.erase(it);
    }
    ASSERT_EQ(model.size(), Size(q));
  }
  EXPECT_EQ(ExpectedOrder(order(), model), DrainAll(q));
}

TEST_P(QueueOrderTest, GetInto) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::vector<Item> items = {{"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", 2}, {"\"b\"", 1}, {"[1,2,3,4,5,6,7,8,9,10]", 3}};
  for (auto& it : items) CAPI_ASSERT_OK(PutP(q, it.msg, it.priority, 0, &e));
  std::vector<std::string> want = ExpectedOrder(order(), items);
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string& w = want[i];
    // too small by one byte: TOO_LARGE, *len = the size needed, message kept
    std::vector<char> small(w.size() - 1, '#');
    size_t len = 12345;
    Err e;
    EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_queue_get_into(q, small.data(), small.size(), &len, 0, &e));
    EXPECT_EQ(w.size(), len);
    EXPECT_EQ(POLYIPC_ERR_TOO_LARGE, e.code);
    EXPECT_EQ(want.size() - i, Size(q));
    // exact fit
    std::vector<char> buf(w.size(), '#');
    len = 0;
    CAPI_ASSERT_OK(polyipc_queue_get_into(q, buf.data(), buf.size(), &len, 0, &e));
    EXPECT_EQ(w.size(), len);
    EXPECT_EQ(w, std::string(buf.data(), len));
    EXPECT_EQ(want.size() - i - 1, Size(q));
  }
  char buf[64];
  size_t len = 777;
  EXPECT_ST(POLYIPC_ERR_EMPTY, polyipc_queue_get_into(q, buf, sizeof buf, &len, 0, nullptr));
  EXPECT_EQ(777u, len) << "*len must be untouched on EMPTY";
  // a larger buffer than needed
  CAPI_ASSERT_OK(Put(q, "{\"k\":true}", 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_get_into(q, buf, sizeof buf, &len, 0, &e));
  EXPECT_EQ("{\"k\":true}", std::string(buf, len));
}

TEST_P(QueueOrderTest, PutManyGetMany) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::vector<std::string> msgs;
  for (int i = 0; i < 20; ++i) msgs.push_back("{\"n\":" + std::to_string(i) + ",\"s\":\"" + std::string(i, 'x') + "\"}");
  std::vector<const void*> ptrs;
  std::vector<size_t> lens;
  for (auto& m : msgs) {
    ptrs.push_back(m.data());
    lens.push_back(m.size());
  }
  size_t done = 999;
  CAPI_ASSERT_OK(polyipc_queue_put_many(q, ptrs.data(), lens.data(), ptrs.size(), &done, 0, &e));
  EXPECT_EQ(msgs.size(), done);
  EXPECT_EQ(msgs.size(), Size(q));

  std::vector<Item> items;
  for (auto& m : msgs) items.push_back({m, 0});
  std::vector<std::string> want =
      order() == POLYIPC_LIFO ? ExpectedOrder(POLYIPC_LIFO, items) : ExpectedOrder(POLYIPC_FIFO, items);

  // max_count limits
  std::vector<char> buf(4096);
  std::vector<size_t> out_lens(64, 0);
  done = 999;
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, buf.data(), buf.size(), out_lens.data(), 3, &done, 0, &e));
  ASSERT_EQ(3u, done);
  size_t off = 0;
  for (size_t i = 0; i < done; ++i) {
    EXPECT_EQ(want[i], std::string(buf.data() + off, out_lens[i])) << i;
    off += out_lens[i];
  }
  EXPECT_EQ(msgs.size() - 3, Size(q));

  // the buffer limits: room for exactly the next two messages (plus one byte)
  size_t room = want[3].size() + want[4].size() + 1;
  std::vector<char> small(room);
  done = 999;
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, small.data(), small.size(), out_lens.data(), 64, &done, 0, &e));
  ASSERT_EQ(2u, done);
  EXPECT_EQ(want[3], std::string(small.data(), out_lens[0]));
  EXPECT_EQ(want[4], std::string(small.data() + out_lens[0], out_lens[1]));
  EXPECT_EQ(msgs.size() - 5, Size(q));

  // the rest: fewer than max_count are there
  done = 999;
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, buf.data(), buf.size(), out_lens.data(), 64, &done, 0, &e));
  ASSERT_EQ(msgs.size() - 5, done);
  off = 0;
  for (size_t i = 0; i < done; ++i) {
    EXPECT_EQ(want[5 + i], std::string(buf.data() + off, out_lens[i])) << i;
    off += out_lens[i];
  }
  EXPECT_EQ(0u, Size(q));

  // empty: EMPTY, *done = 0
  done = 999;
  EXPECT_ST(POLYIPC_ERR_EMPTY,
            polyipc_queue_get_many(q, buf.data(), buf.size(), out_lens.data(), 64, &done, 0, nullptr));
  EXPECT_EQ(0u, done);
}

TEST_P(QueueOrderTest, PutManyWithPrioritiesUsesDefaultPriority) {
  // put_many on a priority queue behaves like repeated plain puts: FIFO among them,
  // relative to put_priority items at the same default priority is not asserted.
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::vector<std::string> msgs = {"1", "2", "3", "4"};
  std::vector<const void*> ptrs;
  std::vector<size_t> lens;
  for (auto& m : msgs) {
    ptrs.push_back(m.data());
    lens.push_back(m.size());
  }
  size_t done = 0;
  CAPI_ASSERT_OK(polyipc_queue_put_many(q, ptrs.data(), lens.data(), ptrs.size(), &done, 0, &e));
  std::vector<std::string> got = DrainAll(q);
  std::vector<std::string> want = msgs;
  if (order() == POLYIPC_LIFO) std::reverse(want.begin(), want.end());
  EXPECT_EQ(want, got);
}

TEST_P(QueueOrderTest, PutManyPartialWhenFull) {
  auto o = Opts();
  o.max_items = 4;
  Queue q = Make("q", o);
  ASSERT_TRUE(q.get());
  CAPI_ASSERT_OK(Put(q, "\"first\"", 0, &e));
  std::vector<std::string> msgs = {"\"a\"", "\"b\"", "\"c\"", "\"d\"", "\"e\""};
  std::vector<const void*> ptrs;
  std::vector<size_t> lens;
  for (auto& m : msgs) {
    ptrs.push_back(m.data());
    lens.push_back(m.size());
  }
  size_t done = 999;
  Err e;
  int rc = polyipc_queue_put_many(q, ptrs.data(), lens.data(), ptrs.size(), &done, 0, &e);
  EXPECT_ST(POLYIPC_ERR_FULL, rc) << e.Msg();
  EXPECT_EQ(rc, e.code);
  EXPECT_EQ(3u, done);
  EXPECT_EQ(4u, Size(q));
  // full: nothing fits, FULL with *done = 0
  done = 999;
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_queue_put_many(q, ptrs.data() + 3, lens.data() + 3, 2, &done, 0, nullptr));
  EXPECT_EQ(0u, done);
  // with a timeout and no room for the first: TIMEOUT after the wait, *done = 0
  done = 999;
  auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_TIMEOUT,
            polyipc_queue_put_many(q, ptrs.data() + 3, lens.data() + 3, 2, &done, 100 * kMs, nullptr));
  double el = SecondsSince(t0);
  EXPECT_GE(el, 0.090);
  EXPECT_LT(el, 5.0);
  EXPECT_EQ(0u, done);
  // room for the first but not all: the first ones go in, the status says out of room
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  done = 999;
  rc = polyipc_queue_put_many(q, ptrs.data() + 3, lens.data() + 3, 2, &done, 0, nullptr);
  EXPECT_ST(POLYIPC_OK, rc);
  EXPECT_EQ(2u, done);
  done = 999;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  // room for one: it goes in at once, and the call does not wait again for the rest
  auto t1 = Clock::now();
  rc = polyipc_queue_put_many(q, ptrs.data(), lens.data(), 3, &done, 2 * kSec, nullptr);
  EXPECT_LT(SecondsSince(t1), 1.0) << "put_many waits only for room for the first message";
  EXPECT_TRUE(rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) << St(rc);
  EXPECT_EQ(1u, done);
  EXPECT_EQ(4u, Size(q));
  EXPECT_EQ(4u, DrainAll(q).size());
}

TEST_P(QueueOrderTest, PutManyStopsAtBadMessage) {
  // no digits in the name: the message must name message index 2
  std::string name = Track(std::string("putmanybad-") + (order() == POLYIPC_FIFO ? "fifo" : order() == POLYIPC_LIFO ? "lifo" : "prio"));
  auto o = Opts(order());
  o.max_message_bytes = 64;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  std::string big = "\"" + std::string(100, 'z') + "\"";
  struct Case {
    std::string bad;
    int status;
  } cases[] = {{"{\"broken\":", POLYIPC_ERR_INVALID_JSON}, {big, POLYIPC_ERR_TOO_LARGE}};
  for (auto& c : cases) {
    std::vector<std::string> msgs = {"\"m-a\"", "\"m-b\"", c.bad, "\"m-d\""};
    std::vector<const void*> ptrs;
    std::vector<size_t> lens;
    for (auto& m : msgs) {
      ptrs.push_back(m.data());
      lens.push_back(m.size());
    }
    size_t done = 999;
    Err e;
    int rc = polyipc_queue_put_many(q, ptrs.data(), lens.data(), ptrs.size(), &done, 0, &e);
    EXPECT_ST(c.status, rc);
    EXPECT_EQ(rc, e.code);
    EXPECT_EQ(2u, done);
    EXPECT_NE(std::string::npos, e.Msg().find(name)) << e.Msg();
    EXPECT_TRUE(ContainsWord(e.Msg(), "2")) << "message should name message 2: " << e.Msg();
    EXPECT_EQ(2u, Size(q));
    std::vector<std::string> got = DrainAll(q);
    std::vector<std::string> want = {"\"m-a\"", "\"m-b\""};
    if (order() == POLYIPC_LIFO) std::reverse(want.begin(), want.end());
    EXPECT_EQ(want, got);
  }
}

TEST_P(QueueOrderTest, GetManyFirstTooLarge) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::string m = "\"" + std::string(100, 'y') + "\"";
  CAPI_ASSERT_OK(Put(q, m, 0, &e));
  std::vector<char> buf(50);
  size_t lens[4] = {0, 0, 0, 0};
  size_t done = 999;
  Err e;
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_queue_get_many(q, buf.data(), buf.size(), lens, 4, &done, 0, &e));
  EXPECT_EQ(POLYIPC_ERR_TOO_LARGE, e.code);
  EXPECT_EQ(m.size(), lens[0]);
  EXPECT_EQ(0u, done);
  EXPECT_EQ(1u, Size(q));
  std::string got;
  CAPI_ASSERT_OK(Get(q, &got, 0, &e));
  EXPECT_EQ(m, got);
}

TEST_P(QueueOrderTest, CloseWritesDrainsThenClosed) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  Queue other;  // a second handle sees the same state
  CAPI_ASSERT_OK(OpenQ(Name("q"), POLYIPC_OPEN_ONLY, nullptr, &other, &e));
  std::vector<Item> items = {{"1", 3}, {"2", 1}, {"3", 2}, {"4", 0}};
  for (auto& i : items) CAPI_ASSERT_OK(PutP(q, i.msg, i.priority, 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));
  // puts after close: CLOSED, through any handle and any put call
  Err e;
  EXPECT_ST(POLYIPC_ERR_CLOSED, Put(q, "5", 0, &e));
  EXPECT_EQ(POLYIPC_ERR_CLOSED, e.code);
  EXPECT_ST(POLYIPC_ERR_CLOSED, Put(other, "5", kSec, nullptr));
  EXPECT_ST(POLYIPC_ERR_CLOSED, PutP(other, "5", 1, POLYIPC_FOREVER, nullptr));
  const void* p[1] = {"5"};
  size_t l[1] = {1};
  size_t done = 999;
  EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_queue_put_many(q, p, l, 1, &done, 0, nullptr));
  EXPECT_EQ(0u, done);
  EXPECT_EQ(4u, Size(q));
  // getters drain what is there, through get, get_into and get_many
  std::vector<std::string> want = ExpectedOrder(order(), items);
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ(want[0], m);
  char buf[16];
  size_t len = 0;
  CAPI_ASSERT_OK(polyipc_queue_get_into(other, buf, sizeof buf, &len, 0, &e));
  EXPECT_EQ(want[1], std::string(buf, len));
  size_t lens[4];
  done = 0;
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, buf, sizeof buf, lens, 4, &done, 0, &e));
  ASSERT_EQ(2u, done);
  EXPECT_EQ(want[2], std::string(buf, lens[0]));
  EXPECT_EQ(want[3], std::string(buf + lens[0], lens[1]));
  // then everyone gets CLOSED, at once, whatever the timeout
  for (int64_t t : {int64_t(0), 2 * kSec, POLYIPC_FOREVER}) {
    auto t0 = Clock::now();
    EXPECT_ST(POLYIPC_ERR_CLOSED, Get(q, &m, t, nullptr));
    EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_queue_get_into(other, buf, sizeof buf, &len, t, nullptr));
    EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_queue_get_many(q, buf, sizeof buf, lens, 4, &done, t, nullptr));
    EXPECT_LT(SecondsSince(t0), 1.0);
  }
  EXPECT_EQ(0u, Size(q));
  // a handle opened after the close sees it too
  Queue late;
  CAPI_ASSERT_OK(OpenQ(Name("q"), POLYIPC_OPEN_ONLY, nullptr, &late, &e));
  EXPECT_ST(POLYIPC_ERR_CLOSED, Get(late, &m, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_CLOSED, Put(late, "1", 0, nullptr));
}

TEST_P(QueueOrderTest, PeekJson) {
  Queue q = Make("q");
  ASSERT_TRUE(q.get());
  std::vector<Item> items = {{"{\"a\":1}", 4}, {"[true,null]", -1}, {"\"s\"", 4}, {"3.5", 0}};
  for (auto& i : items) CAPI_ASSERT_OK(PutP(q, i.msg, i.priority, 0, &e));
  std::vector<std::string> want = ExpectedOrder(order(), items);
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_peek_json(Name("q").c_str(), 3, &text, &e));
  json j = TakeJson(text);
  ASSERT_TRUE(j.is_array()) << j.dump();
  ASSERT_EQ(3u, j.size()) << j.dump();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(j[i].is_object()) << j.dump();
    EXPECT_EQ(json::parse(want[i]), j[i].at("message")) << j.dump();
    ASSERT_TRUE(j[i].at("priority").is_number_integer()) << j.dump();
    if (order() == POLYIPC_PRIORITY) {
      auto it = std::find_if(items.begin(), items.end(), [&](const Item& x) { return x.msg == want[i]; });
      EXPECT_EQ(it->priority, j[i]["priority"].get<int64_t>());
    }
  }
  // nothing was taken
  EXPECT_EQ(items.size(), Size(q));
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_peek_json(Name("q").c_str(), 100, &text, &e));
  j = TakeJson(text);
  ASSERT_EQ(items.size(), j.size());
  // after one get, peek shows the rest, in order
  std::string first;
  CAPI_ASSERT_OK(Get(q, &first, 0, &e));
  EXPECT_EQ(want[0], first);
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_peek_json(Name("q").c_str(), 100, &text, &e));
  j = TakeJson(text);
  ASSERT_EQ(items.size() - 1, j.size()) << j.dump();
  for (size_t i = 1; i < want.size(); ++i) EXPECT_EQ(json::parse(want[i]), j[i - 1].at("message")) << j.dump();
  want.erase(want.begin());
  EXPECT_EQ(want, DrainAll(q));
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_peek_json(Name("q").c_str(), 100, &text, &e));
  j = TakeJson(text);
  EXPECT_TRUE(j.is_array() && j.empty()) << j.dump();
}

TEST_P(QueueOrderTest, JoinableTaskDoneJoin) {
  Queue q = Make("q", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1));
  ASSERT_TRUE(q.get());
  Err e;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_task_done(q, &e));  // nothing outstanding
  EXPECT_EQ(POLYIPC_ERR_INVALID_ARG, e.code);
  CAPI_ASSERT_OK(polyipc_queue_join(q, 0, &e));  // nothing outstanding: returns at once
  CAPI_ASSERT_OK(PutP(q, "1", 1, 0, &e));
  CAPI_ASSERT_OK(PutP(q, "2", 2, 0, &e));
  // outstanding work: join with a timeout times out
  auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 100 * kMs, nullptr));
  EXPECT_GE(SecondsSince(t0), 0.090);
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ(0u, Size(q));
  // taken but not done: still outstanding
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 50 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_queue_task_done(q, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 50 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_queue_task_done(q, &e));
  CAPI_ASSERT_OK(polyipc_queue_join(q, 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_join(q, POLYIPC_FOREVER, &e));
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_task_done(q, &e));  // one too many
  EXPECT_EQ(POLYIPC_ERR_INVALID_ARG, e.code);
  EXPECT_NE(std::string::npos, e.Msg().find(Name("q"))) << e.Msg();
}

// ---------------------------------------------------------------------------
class QueueTest : public CapiTest {
 protected:
  Queue Make(const std::string& tag, const polyipc_queue_options& o) {
    Queue q;
    Err e;
    int rc = OpenQ(Name(tag), POLYIPC_CREATE_ONLY, &o, &q, &e);
    EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
    return q;
  }
  Queue Make(const std::string& tag) { return Make(tag, Opts()); }
};

TEST(Version, VersionFunctions) {
  ASSERT_NE(nullptr, polyipc_version());
  EXPECT_STREQ(POLYIPC_VERSION_STRING, polyipc_version());
  EXPECT_EQ(POLYIPC_VERSION_NUMBER, polyipc_version_number());
  EXPECT_EQ(POLYIPC_VERSION_MAJOR * 1000000 + POLYIPC_VERSION_MINOR * 1000 + POLYIPC_VERSION_PATCH,
            polyipc_version_number());
  std::string v = std::to_string(POLYIPC_VERSION_MAJOR) + "." + std::to_string(POLYIPC_VERSION_MINOR) + "." +
                  std::to_string(POLYIPC_VERSION_PATCH);
  EXPECT_EQ(v, polyipc_version());
}

TEST(Version, StatusNames) {
  for (int s = 0; s <= 17; ++s) {
    const char* n = polyipc_status_name(s);
    ASSERT_NE(nullptr, n) << s;
    std::string want = St(s).substr(0, St(s).find('('));
    EXPECT_EQ(want, n) << s;
    EXPECT_EQ(n, polyipc_status_name(s)) << "static text";
  }
  for (int s : {-1, 18, 1000, INT32_MAX, INT32_MIN}) {
    const char* n = polyipc_status_name(s);
    ASSERT_NE(nullptr, n) << s;
    EXPECT_GT(std::strlen(n), 0u) << s;
  }
}

TEST(Options, InitDefaults) {
  polyipc_queue_options o;
  std::memset(&o, 0xCD, sizeof o);
  polyipc_queue_options_init(&o);
  EXPECT_EQ(sizeof(polyipc_queue_options), o.struct_size);
  EXPECT_EQ(uint32_t(POLYIPC_FIFO), o.order);
  EXPECT_EQ(uint32_t(POLYIPC_FORMAT_JSON), o.format);
  EXPECT_EQ(0u, o.joinable);
  EXPECT_EQ(0u, o.max_items);
  EXPECT_EQ(uint64_t(1) << 20, o.capacity_bytes);
  EXPECT_EQ(0u, o.max_message_bytes);
  EXPECT_EQ(0600u, o.mode);
  EXPECT_EQ(0u, o.ephemeral);
}

TEST_F(QueueTest, NonBlockingTimeouts) {
  auto o = Opts();
  o.max_items = 1;
  Queue q = Make("q", o);
  std::string m;
  Err e;
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &m, 0, &e));
  EXPECT_EQ(POLYIPC_ERR_EMPTY, e.code);
  EXPECT_EQ("", m) << "output untouched on failure";
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_FULL, Put(q, "2", 0, &e));
  EXPECT_EQ(POLYIPC_ERR_FULL, e.code);
  EXPECT_ST(POLYIPC_ERR_FULL, PutP(q, "2", 1, 0, nullptr));
  EXPECT_EQ(1u, Size(q));
}

TEST_F(QueueTest, PositiveTimeouts) {
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  o.max_items = 1;
  Queue q = Make("q", o);
  const int64_t t = 200 * kMs;
  auto check = [&](const char* what, const std::function<int()>& call) {
    auto t0 = Clock::now();
    int rc = call();
    double el = SecondsSince(t0);
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, rc) << what;
    EXPECT_GE(el, 0.180) << what;
    EXPECT_LT(el, 5.0) << what;
  };
  std::string m;
  char buf[16];
  size_t len = 0, lens[2], done = 0;
  check("get", [&] { return Get(q, &m, t); });
  check("get_into", [&] { return polyipc_queue_get_into(q, buf, sizeof buf, &len, t, nullptr); });
  check("get_many", [&] { return polyipc_queue_get_many(q, buf, sizeof buf, lens, 2, &done, t, nullptr); });
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  check("put", [&] { return Put(q, "2", t); });
  check("put_priority", [&] { return PutP(q, "2", 5, t); });
  check("put_many", [&] {
    const void* p[1] = {"2"};
    size_t l[1] = {1};
    return polyipc_queue_put_many(q, p, l, 1, &done, t, nullptr);
  });
  check("join", [&] { return polyipc_queue_join(q, t, nullptr); });
  Err e;
  check("get with err", [&] {
    CAPI_EXPECT_OK(Get(q, &m, 0, &e));
    return Get(q, &m, t, &e);
  });
  EXPECT_EQ(POLYIPC_ERR_TIMEOUT, e.code);
}

TEST_F(QueueTest, BlockingGetWokenByPutFromThread) {
  Queue q = Make("q");
  std::thread t([&] {
    // the main thread blocks meanwhile; there is no ordering to wait for
    Put(q, "\"wake\"", POLYIPC_FOREVER);
  });
  std::string m;
  auto t0 = Clock::now();
  CAPI_EXPECT_OK(Get(q, &m, 10 * kSec, &e));
  EXPECT_LT(SecondsSince(t0), 5.0);
  EXPECT_EQ("\"wake\"", m);
  t.join();
}

TEST_F(QueueTest, MaxItemsBound) {
  auto o = Opts();
  o.max_items = 3;
  Queue q = Make("q", o);
  for (int i = 0; i < 3; ++i) CAPI_ASSERT_OK(Put(q, std::to_string(i), 0, &e));
  EXPECT_ST(POLYIPC_ERR_FULL, Put(q, "3", 0));
  EXPECT_EQ(3u, Size(q));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("0", m);
  CAPI_ASSERT_OK(Put(q, "3", 0, &e));
  EXPECT_ST(POLYIPC_ERR_FULL, Put(q, "4", 0));
  EXPECT_EQ((std::vector<std::string>{"1", "2", "3"}), DrainAll(q));
}

// In a ring larger than the 4 MiB the core keeps large messages to while the
// ring's start is free, messages of every size at every depth still come out
// whole and in order, and a full ring still holds close to its capacity.
TEST_F(QueueTest, LargeMessagesInABigRingKeepOrderAndUseAllOfIt) {
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 16u << 20;
  Queue q = Make("big", o);
  auto msg = [](uint64_t i) {
    const size_t sizes[] = {40000, 300000, 1 << 20, 1500000, 64, 33000, 700000};
    std::string m(sizes[i % 7] + i % 13, char('a' + i % 26));
    std::memcpy(&m[0], &i, sizeof i);
    return m;
  };
  uint64_t put = 0, got = 0;
  for (int round = 0; round < 60; ++round) {
    const int depth = 1 + (round * 7) % 9;  // 1..9 messages waiting at once
    while (put - got < uint64_t(depth)) CAPI_ASSERT_OK(Put(q, msg(put++), 0, &e));
    while (put - got > uint64_t(round % 3)) {
      std::string m;
      CAPI_ASSERT_OK(Get(q, &m, 0, &e));
      ASSERT_EQ(m, msg(got)) << "message " << got;
      ++got;
    }
  }
  while (got < put) {
    std::string m;
    CAPI_ASSERT_OK(Get(q, &m, 0, &e));
    ASSERT_EQ(m, msg(got)) << "message " << got;
    ++got;
  }
  // Full: 1 MiB messages fill at least 14 of the 16 MiB.
  const std::string mib(1 << 20, 'm');
  int n = 0;
  while (Put(q, mib, 0) == POLYIPC_OK) ++n;
  EXPECT_GE(n, 14);
  EXPECT_EQ(size_t(n), DrainAll(q).size());
}

TEST_F(QueueTest, CapacityBytesBound) {
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 64 * 1024;
  Queue q = Make("q", o);
  const std::string msg(10 * 1024, 'c');
  int n = 0;
  for (; n < 100; ++n) {
    int rc = Put(q, msg, 0);
    if (rc == POLYIPC_ERR_FULL) break;
    ASSERT_ST(POLYIPC_OK, rc);
  }
  EXPECT_GE(n, 1);
  EXPECT_LE(uint64_t(n) * msg.size(), o.capacity_bytes) << "more bytes stored than capacity_bytes";
  EXPECT_EQ(uint64_t(n), Size(q));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ(msg, m);
  CAPI_ASSERT_OK(Put(q, msg, 0, &e));
  EXPECT_ST(POLYIPC_ERR_FULL, Put(q, msg, 0));
  // smaller messages still fit where a big one does not
  EXPECT_EQ(uint64_t(n), Size(q));
  EXPECT_EQ(size_t(n), DrainAll(q).size());
  // many small messages cycle through a small ring
  for (int round = 0; round < 2000; ++round) {
    std::string s(1 + round % 3000, char('a' + round % 26));
    ASSERT_ST(POLYIPC_OK, Put(q, s, 0));
    ASSERT_ST(POLYIPC_OK, Get(q, &m, 0));
    ASSERT_EQ(s, m);
  }
}

TEST_F(QueueTest, MaxMessageBytes) {
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.max_message_bytes = 100;
  Queue q = Make("q", o);
  CAPI_ASSERT_OK(Put(q, std::string(100, 'a'), 0, &e));
  Err e;
  auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, Put(q, std::string(101, 'a'), POLYIPC_FOREVER, &e));
  EXPECT_LT(SecondsSince(t0), 1.0) << "a message that can never fit must not wait";
  EXPECT_NE(std::string::npos, e.Msg().find(Name("q"))) << e.Msg();
  EXPECT_EQ(1u, Size(q));
}

TEST_F(QueueTest, TooLargeForCapacityNeverWaits) {
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 64 * 1024;
  Queue q = Make("q", o);
  auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, Put(q, std::string(64 * 1024 + 1, 'x'), 5 * kSec));
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, PutP(q, std::string(200 * 1024, 'x'), 0, POLYIPC_FOREVER));
  EXPECT_LT(SecondsSince(t0), 1.0);
  EXPECT_EQ(0u, Size(q));
}

TEST_F(QueueTest, JsonFormatValidatesEveryPut) {
  Queue q = Make("q");
  const std::vector<std::string> valid = {
      "{}", "[]", "{\"a\":1}", "\"text\"", "42", "-0.5e-3", "true", "false", "null",
      " \t\r\n{ \"x\" : [1, 2, {\"y\": null}] }\n ", "\"\\u00e9\\n\\\"\"", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
      "[1e308, -1E-308, 0, 123456789012345678901234567890]", Nested(POLYIPC_JSON_MAX_DEPTH),
      "{\"a\":{\"b\":{\"c\":[[[{}]]]}}}", "-0", "0e0", "1E+2", "\"\\ud83d\\ude00\"", "\"\xf4\x8f\xbf\xbf\"",
      "\"\xed\x9f\xbf \xee\x80\x80\"", "\"\\/\\b\\f\\r\\t\\u0000\"", NestedObjects(POLYIPC_JSON_MAX_DEPTH),
  };
  for (auto& v : valid) {
    Err e;
    ASSERT_ST(POLYIPC_OK, Put(q, v, 0, &e)) << v.substr(0, 80) << ": " << e.Msg();
    std::string m;
    ASSERT_ST(POLYIPC_OK, Get(q, &m));
    EXPECT_EQ(v, m) << "the bytes put are the bytes got";
  }
  const std::vector<std::string> invalid = {
      "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "tru", "nul", "1 2", "{} {}", "[1] x", "01", "+1", ".5",
      "1.", "NaN", "Infinity", "\"unterminated", "\"bad escape \\x\"", "\"ctrl \x01 char\"", "\"\xff\"",
      "\"\xc0\xaf\"" /* overlong */, "\"\xed\xa0\x80\"" /* surrogate as UTF-8 */, "\"\xe2\x82\"" /* truncated */,
      "\"\xf4\x90\x80\x80\"" /* > U+10FFFF */, "{\"a\" 1}", "[1 2]", "{1:2}", std::string("\"a\0b\"", 5),
      std::string("1\0", 2), Nested(POLYIPC_JSON_MAX_DEPTH + 1), "//c\n1", "/*c*/1", "-", "1e", "1e+", "-01",
      "0x10", "[1,,2]", "{\"a\":}", "\"\\u12\"", "\"\\uZZZZ\"", "\"\xf5\x80\x80\x80\"", "\"\xe0\x80\xaf\"",
      "\"\x80\"", "[\"a\"", "{\"a\":1", "True", "[1]]", NestedObjects(POLYIPC_JSON_MAX_DEPTH + 1),
  };
  CAPI_ASSERT_OK(Put(q, "\"sentinel\"", 0, &e));
  for (auto& v : invalid) {
    Err e;
    EXPECT_ST(POLYIPC_ERR_INVALID_JSON, Put(q, v, 0, &e)) << "'" << v.substr(0, 80) << "'";
    EXPECT_EQ(POLYIPC_ERR_INVALID_JSON, e.code);
    EXPECT_ST(POLYIPC_ERR_INVALID_JSON, PutP(q, v, 3, 0, nullptr)) << "'" << v.substr(0, 80) << "'";
    EXPECT_EQ(1u, Size(q));
  }
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("\"sentinel\"", m);
}

TEST_F(QueueTest, BytesFormatCarriesAnyPayload) {
  Queue q = Make("q", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES));
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::vector<std::string> payloads = {
      all, std::string("\xff\xfe\x00\x01", 4), std::string(1, '\0'), "", "not json {", "\xc0\xaf",
      std::string(100000, '\x80'),
  };
  for (auto& p : payloads) {
    char dummy = 0;
    CAPI_ASSERT_OK(polyipc_queue_put(q, p.empty() ? &dummy : p.data(), p.size(), 0, &e));
  }
  EXPECT_EQ(payloads.size(), Size(q));
  for (auto& p : payloads) {
    void* data = reinterpret_cast<void*>(0x1);
    size_t len = 999;
    CAPI_ASSERT_OK(polyipc_queue_get(q, &data, &len, 0, &e));
    ASSERT_EQ(p.size(), len);
    if (len) {
      ASSERT_NE(nullptr, data);
      EXPECT_EQ(0, std::memcmp(p.data(), data, len));
    }
    polyipc_free(data == reinterpret_cast<void*>(0x1) ? nullptr : data);
  }
  // empty through get_into and the batch calls
  char dummy = 0, buf[8];
  size_t len = 999;
  CAPI_ASSERT_OK(polyipc_queue_put(q, &dummy, 0, 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_get_into(q, buf, sizeof buf, &len, 0, &e));
  EXPECT_EQ(0u, len);
  const void* ptrs[3] = {&dummy, "ab", &dummy};
  size_t lens[3] = {0, 2, 0}, done = 0;
  CAPI_ASSERT_OK(polyipc_queue_put_many(q, ptrs, lens, 3, &done, 0, &e));
  EXPECT_EQ(3u, done);
  size_t out_lens[3] = {9, 9, 9};
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, buf, sizeof buf, out_lens, 3, &done, 0, &e));
  ASSERT_EQ(3u, done);
  EXPECT_EQ(0u, out_lens[0]);
  EXPECT_EQ(2u, out_lens[1]);
  EXPECT_EQ(0u, out_lens[2]);
  EXPECT_EQ("ab", std::string(buf, 2));
}

TEST_F(QueueTest, PeekJsonBytes) {
  Queue q = Make("q", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES));
  std::string bin("\x00\xff\x10 binary \xc0", 11);
  CAPI_ASSERT_OK(Put(q, bin, 0, &e));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_peek_json(Name("q").c_str(), 10, &text, &e));
  json j = TakeJson(text);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
  ASSERT_TRUE(j[0].contains("base64")) << j.dump();
  EXPECT_EQ(bin, Base64Decode(j[0]["base64"].get<std::string>()));
  EXPECT_TRUE(j[0].contains("priority")) << j.dump();
  EXPECT_EQ(1u, Size(q));
}

TEST_F(QueueTest, JoinReturnsWhenAllDone) {
  Queue q = Make("q", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1));
  for (int i = 0; i < 100; ++i) CAPI_ASSERT_OK(Put(q, std::to_string(i), 0, &e));
  std::atomic<int> done{0};
  std::thread worker([&] {
    std::string m;
    while (Get(q, &m, 0) == POLYIPC_OK) {
      done.fetch_add(1);  // counted before task_done: join may only return after all
      polyipc_queue_task_done(q, nullptr);
    }
  });
  auto t0 = Clock::now();
  CAPI_EXPECT_OK(polyipc_queue_join(q, 10 * kSec, &e));
  EXPECT_LT(SecondsSince(t0), 9.0);
  EXPECT_EQ(100, done.load());
  worker.join();
}

TEST_F(QueueTest, TaskDoneOnNonJoinableFails) {
  Queue q = Make("q");
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  Err e;
  int rc = polyipc_queue_task_done(q, &e);
  EXPECT_NE(POLYIPC_OK, rc) << "task_done is joinable only";
  EXPECT_EQ(rc, e.code);
}

TEST_F(QueueTest, OpenModes) {
  std::string name = Name("q");
  Queue q;
  Err e;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e));
  EXPECT_EQ(POLYIPC_ERR_NOT_FOUND, e.code);
  EXPECT_NE(std::string::npos, e.Msg().find(name)) << e.Msg();
  EXPECT_EQ(nullptr, q.get());
  auto o = Opts();
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Queue q2;
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_EXISTS, OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q2, &e));
  EXPECT_EQ(POLYIPC_ERR_EXISTS, e.code);
  EXPECT_NE(std::string::npos, e.Msg().find(name)) << e.Msg();
  // OPEN_OR_CREATE and OPEN_ONLY of an existing name: the same object
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_OR_CREATE, &o, &q2, &e));
  Queue q3;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q3, &e));
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  CAPI_ASSERT_OK(Put(q2, "2", 0, &e));
  EXPECT_EQ(2u, Size(q3));
  std::string m;
  CAPI_ASSERT_OK(Get(q3, &m, 0, &e));
  EXPECT_EQ("1", m);
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("2", m);
  // OPEN_OR_CREATE of a new name creates it
  Queue q4;
  CAPI_ASSERT_OK(OpenQ(Name("fresh"), POLYIPC_OPEN_OR_CREATE, nullptr, &q4, &e));
  CAPI_ASSERT_OK(Put(q4, "4", 0, &e));
}

TEST_F(QueueTest, OptionsMismatchIncompatible) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 0);
  Queue q = Make("q", o);
  CAPI_ASSERT_OK(Put(q, "\"kept\"", 0, &e));
  struct Case {
    const char* what;
    polyipc_queue_options o;
  };
  std::vector<Case> cases = {{"order LIFO", Opts(POLYIPC_LIFO)},
                             {"order PRIORITY", Opts(POLYIPC_PRIORITY)},
                             {"format BYTES", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES)},
                             {"joinable", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1)}};
  for (auto& c : cases) {
    for (auto mode : {POLYIPC_OPEN_ONLY, POLYIPC_OPEN_OR_CREATE}) {
      Queue other;
      Err e;
      EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, OpenQ(name, mode, &c.o, &other, &e)) << c.what;
      EXPECT_EQ(POLYIPC_ERR_INCOMPATIBLE, e.code);
      EXPECT_NE(std::string::npos, e.Msg().find(name)) << e.Msg();
      EXPECT_EQ(nullptr, other.get());
    }
  }
  // where it does not matter, the existing queue is opened as it is
  auto o2 = Opts();
  o2.capacity_bytes = 4 << 20;
  o2.max_items = 7;
  o2.mode = 0644;
  Queue other;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_OR_CREATE, &o2, &other, &e));
  EXPECT_EQ(1u, Size(other));
  std::string m;
  CAPI_ASSERT_OK(Get(other, &m, 0, &e));
  EXPECT_EQ("\"kept\"", m);

  // the other way round: an existing LIFO/BYTES/joinable queue opened as FIFO/JSON
  Queue lifo = Make("lifo", Opts(POLYIPC_LIFO, POLYIPC_FORMAT_BYTES, 1));
  Queue x;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, OpenQ(Name("lifo"), POLYIPC_OPEN_OR_CREATE, &o, &x, nullptr));
}

TEST_F(QueueTest, EphemeralUnlinkedWhenLastHandleCloses) {
  std::string name = Name("q");
  auto o = Opts();
  o.ephemeral = 1;
  Queue a, b;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &a, &e));
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &b, &e));
  CAPI_ASSERT_OK(Put(a, "1", 0, &e));
  a.Reset();  // b still attached: the name stays
  {
    Queue c;
    CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &c, &e));
    EXPECT_EQ(1u, Size(c));
  }
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK));
  b.Reset();  // the last handle
  Queue d;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &d, nullptr));
  EXPECT_NE(0, access(ShmPath(name).c_str(), F_OK)) << ShmPath(name) << " still exists";
  // a non-ephemeral queue outlives its handles
  {
    Queue p = Make("persistent");
  }
  Queue p;
  CAPI_EXPECT_OK(OpenQ(Name("persistent"), POLYIPC_OPEN_ONLY, nullptr, &p, &e));
}

// The last close of an ephemeral queue that was unlinked and replaced by a new
// queue of the same name removes nothing but itself.
TEST_F(QueueTest, EphemeralLastCloseSparesAReplacement) {
  std::string name = Name("q");
  auto o = Opts();
  o.ephemeral = 1;
  Queue old_q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &old_q, &e));
  CAPI_ASSERT_OK(polyipc_unlink(name.c_str(), &e));
  Queue replacement;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &replacement, &e));
  CAPI_ASSERT_OK(Put(replacement, "\"keep me\"", 0, &e));
  old_q.Reset();  // the last handle of the old, unlinked queue
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK)) << "closing the old queue removed its replacement";
  Queue again;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &again, &e));
  EXPECT_EQ(1u, Size(again));
}

// Opening and closing many times leaks no file descriptors and no mappings.
TEST_F(QueueTest, OpenCloseLeaksNothing) {
  std::string name = Name("q");
  Queue keep = Make("q");
  auto count = [](const char* path, bool lines) {
    if (!lines) {
      int n = 0;
      for (auto& d : std::filesystem::directory_iterator(path)) (void)d, ++n;
      return n;
    }
    std::ifstream f(path);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>(), '\n'));
  };
  auto cycle = [&] {
    Queue q;
    CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e));
    CAPI_ASSERT_OK(Put(q, "1", 0, &e));
    std::string m;
    CAPI_ASSERT_OK(Get(q, &m, 0, &e));
    char* text = nullptr;
    CAPI_ASSERT_OK(polyipc_queue_stat_json(q, &text, &e));
    polyipc_free(text);
  };
  for (int i = 0; i < 10; ++i) cycle();  // warm-up
  int fds = count("/proc/self/fd", false), maps = count("/proc/self/maps", true);
  for (int i = 0; i < 2000; ++i) {
    cycle();
    if (HasFatalFailure()) return;
  }
  EXPECT_LE(count("/proc/self/fd", false), fds + 2) << "file descriptors leak";
  EXPECT_LE(count("/proc/self/maps", true), maps + 4) << "mappings leak";
}

TEST_F(QueueTest, UnlinkWhileAttached) {
  std::string name = Name("q");
  Queue q = Make("q");
  CAPI_ASSERT_OK(Put(q, "\"before\"", 0, &e));
  CAPI_ASSERT_OK(polyipc_unlink(name.c_str(), &e));
  EXPECT_NE(0, access(ShmPath(name).c_str(), F_OK));
  Queue x;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &x, nullptr));
  Err e;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_unlink(name.c_str(), &e));
  EXPECT_EQ(POLYIPC_ERR_NOT_FOUND, e.code);
  EXPECT_NE(std::string::npos, e.Msg().find(name)) << e.Msg();
  // the handle keeps working
  CAPI_ASSERT_OK(Put(q, "\"after\"", 0, &e));
  EXPECT_EQ(2u, Size(q));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("\"before\"", m);
  // a new queue of the same name is another object
  Queue fresh;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &fresh, &e));
  EXPECT_EQ(0u, Size(fresh));
  CAPI_ASSERT_OK(Put(fresh, "\"new\"", 0, &e));
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("\"after\"", m);
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &m, 0));
  CAPI_ASSERT_OK(Get(fresh, &m, 0, &e));
  EXPECT_EQ("\"new\"", m);
}

TEST_F(QueueTest, StatJson) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_PRIORITY, POLYIPC_FORMAT_JSON, 1);
  o.max_items = 50;
  Queue q = Make("q", o);
  for (int i = 0; i < 3; ++i) CAPI_ASSERT_OK(Put(q, std::to_string(i), 0, &e));
  const std::vector<std::string> depth_keys = {"depth"};
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_queue_stat_json(q, &text, &e));
  json j = TakeJson(text);
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_EQ(json(name), j.value("name", json())) << j.dump();
  EXPECT_EQ(json(true), j.value("joinable", json())) << j.dump();
  EXPECT_EQ(json(50), j.value("max_items", json())) << j.dump();
  int64_t depth = -1;
  std::string key;
  ASSERT_TRUE(FindNumber(j, depth_keys, &depth, &key)) << "no depth in " << j.dump();
  EXPECT_EQ(3, depth) << key << " in " << j.dump();

  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_stat_json(name.c_str(), &text, &e));  // by name, without attaching
  j = TakeJson(text);
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_EQ(json(name), j.value("name", json())) << j.dump();
  ASSERT_TRUE(FindNumber(j, {key}, &depth, nullptr)) << j.dump();
  EXPECT_EQ(2, depth) << j.dump();

  char* none = reinterpret_cast<char*>(0x1);
  Err e;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_stat_json(Name("missing").c_str(), &none, &e));
  EXPECT_EQ(reinterpret_cast<char*>(0x1), none);
  EXPECT_NE(std::string::npos, e.Msg().find(Name("missing"))) << e.Msg();
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_peek_json(Name("missing").c_str(), 1, &none, &e));
  EXPECT_EQ(reinterpret_cast<char*>(0x1), none);
}

TEST_F(QueueTest, ListJson) {
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_list_json(&text, &e));
  json j = TakeJson(text);
  ASSERT_TRUE(j.is_array()) << j.dump();
  EXPECT_TRUE(j.empty()) << "a fresh namespace: " << j.dump();

  Queue a = Make("a");
  Queue b = Make("b", Opts(POLYIPC_LIFO));
  for (int i = 0; i < 4; ++i) CAPI_ASSERT_OK(Put(b, "[]", 0, &e));
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_list_json(&text, &e));
  j = TakeJson(text);
  ASSERT_TRUE(j.is_array()) << j.dump();
  ASSERT_EQ(2u, j.size()) << j.dump();
  std::set<std::string> seen;
  for (auto& obj : j) {
    ASSERT_TRUE(obj.is_object()) << j.dump();
    std::string d = obj.dump();
    int64_t depth = -1;
    bool has_depth = FindNumber(obj, {"depth"}, &depth, nullptr);
    if (obj.value("name", json()) == json(Name("a"))) {
      seen.insert("a");
      EXPECT_TRUE(has_depth && depth == 0) << d;
    }
    if (obj.value("name", json()) == json(Name("b"))) {
      seen.insert("b");
      EXPECT_TRUE(has_depth && depth == 4) << d;
    }
  }
  EXPECT_EQ((std::set<std::string>{"a", "b"}), seen) << j.dump();
}

// A message that is not TOO_LARGE fits an empty queue, wherever the ring's
// read and write positions happen to be; one byte more is TOO_LARGE.
TEST_F(QueueTest, EmptyQueueTakesTheLargestMessageAtAnyRingPosition) {
  for (uint64_t capacity : {uint64_t(4096), uint64_t(65536), uint64_t(1) << 20}) {
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
    o.capacity_bytes = capacity;
    Queue q = Make("cap" + std::to_string(capacity), o);
    // the largest size put accepts on the empty queue
    uint64_t lo = 1, hi = capacity;  // lo accepted, > hi refused
    ASSERT_ST(POLYIPC_OK, Put(q, "x", 0));
    std::string m;
    ASSERT_ST(POLYIPC_OK, Get(q, &m));
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo + 1) / 2;
      int rc = Put(q, std::string(mid, 'L'), 0);
      if (rc == POLYIPC_OK) {
        ASSERT_ST(POLYIPC_OK, Get(q, &m));
        ASSERT_EQ(mid, m.size());
        lo = mid;
      } else {
        ASSERT_ST(POLYIPC_ERR_TOO_LARGE, rc) << "an empty queue refused " << mid << " bytes";
        hi = mid - 1;
      }
    }
    const uint64_t largest = lo;
    EXPECT_GE(largest, capacity / 2) << "most of the capacity should be usable by one message";
    // every ring position: shift it by small messages of assorted sizes, then the largest fits
    for (int shift = 0; shift < 60; ++shift) {
      std::string small(1 + (shift * 37) % 300, 's');
      for (int i = 0; i <= shift % 5; ++i) {
        ASSERT_ST(POLYIPC_OK, Put(q, small, 0));
        ASSERT_ST(POLYIPC_OK, Get(q, &m));
      }
      ASSERT_EQ(0u, Size(q));
      Err e;
      ASSERT_ST(POLYIPC_OK, Put(q, std::string(largest, 'L'), 0, &e)) << "shift " << shift << ": " << e.Msg();
      ASSERT_ST(POLYIPC_OK, Get(q, &m));
      ASSERT_EQ(largest, m.size());
      ASSERT_ST(POLYIPC_ERR_TOO_LARGE, Put(q, std::string(largest + 1, 'L'), 0)) << "shift " << shift;
    }
  }
}

// The space of messages already taken is reused while an older message stays:
// a LIFO bottom item or a PRIORITY item of low urgency must not make a queue
// holding one small message FULL.
TEST_F(QueueTest, LifoReusesSpaceWhileTheBottomItemStays) {
  auto o = Opts(POLYIPC_LIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 64 * 1024;
  Queue q = Make("q", o);
  CAPI_ASSERT_OK(Put(q, "bottom", 0, &e));
  const std::string msg(200, 'm');
  for (int i = 0; i < 2000; ++i) {
    Err e;
    ASSERT_ST(POLYIPC_OK, Put(q, msg, 0, &e)) << "after " << i << " put/get cycles, holding " << Size(q)
                                              << " message(s): " << e.Msg();
    std::string m;
    ASSERT_ST(POLYIPC_OK, Get(q, &m));
    ASSERT_EQ(msg, m);
  }
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("bottom", m);
}

TEST_F(QueueTest, PriorityReusesSpaceWhileALowUrgencyItemStays) {
  auto o = Opts(POLYIPC_PRIORITY, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 64 * 1024;
  Queue q = Make("q", o);
  CAPI_ASSERT_OK(PutP(q, "later", 100, 0, &e));
  const std::string msg(200, 'm');
  for (int i = 0; i < 2000; ++i) {
    Err e;
    ASSERT_ST(POLYIPC_OK, PutP(q, msg, 1, 0, &e)) << "after " << i << " put/get cycles, holding " << Size(q)
                                                  << " message(s): " << e.Msg();
    std::string m;
    ASSERT_ST(POLYIPC_OK, Get(q, &m));
    ASSERT_EQ(msg, m);
  }
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("later", m);
}

// get_into / get_many refusing a message for a small buffer take no lease.
TEST_F(QueueTest, JoinableTooLargeTakesNoLease) {
  Queue q = Make("q", Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1));
  CAPI_ASSERT_OK(Put(q, "\"0123456789\"", 0, &e));
  char buf[4];
  size_t len = 0, lens[2], done = 9;
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_queue_get_into(q, buf, sizeof buf, &len, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_queue_get_many(q, buf, sizeof buf, lens, 2, &done, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_queue_task_done(q, nullptr)) << "no lease was taken";
  EXPECT_EQ(1u, Size(q));
  // get_many leases what it takes: one task_done per message
  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  CAPI_ASSERT_OK(Put(q, "2", 0, &e));
  std::vector<char> big(64);
  CAPI_ASSERT_OK(polyipc_queue_get_many(q, big.data(), big.size(), lens, 2, &done, 0, &e));
  EXPECT_EQ(2u, done);
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 10 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_queue_task_done(q, &e));
  CAPI_ASSERT_OK(polyipc_queue_task_done(q, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 10 * kMs, nullptr)) << "one message still in the queue";
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  CAPI_ASSERT_OK(polyipc_queue_task_done(q, &e));
  CAPI_EXPECT_OK(polyipc_queue_join(q, 0, &e));
}

TEST_F(QueueTest, ThreadsShareOneHandle) {
  Queue q = Make("q");
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> got(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (Put(q, std::to_string(t * kEach + i), 10 * kSec) != POLYIPC_OK) failures++;
        std::string m;
        if (Get(q, &m, 10 * kSec) != POLYIPC_OK) {
          failures++;
          continue;
        }
        got[t].push_back(std::stoi(m));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
  std::vector<int> all;
  for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(size_t(kThreads * kEach), all.size());
  for (int i = 0; i < kThreads * kEach; ++i) ASSERT_EQ(i, all[i]);
  EXPECT_EQ(0u, Size(q));
}

}  // namespace
