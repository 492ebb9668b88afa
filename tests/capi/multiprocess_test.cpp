// Queues across real processes: forked children and exec'd capi_helper
// programs. Synchronisation is by pipes, the queue itself, and /proc (to know a
// child is asleep in a blocking call); every wait is bounded.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class MultiProcess : public CapiTest {};

template <typename T>
T* SharedPage() {
  void* p = mmap(nullptr, sizeof(T) < 4096 ? 4096 : sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) T();
}

std::vector<uint32_t> ReadU32File(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<uint32_t> v(s.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), s.data(), v.size() * 4);
  return v;
}

// 2 producers x 2 consumers, 200k JSON messages, in exec'd processes: each
// message is received exactly once and each consumer sees each producer's
// sequence numbers increasing.
TEST_F(MultiProcess, ProducersConsumers2x2) {
  constexpr uint64_t kPerProducer = 100000;
  std::string name = Name("q");
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &q, &e));
  std::string dir = "/tmp/" + Namespace();
  ASSERT_EQ(0, system(("mkdir -p " + dir).c_str()));
  std::string out[2] = {dir + "/consumer0.bin", dir + "/consumer1.bin"};
  Children kids;
  auto t0 = Clock::now();
  // consumer 0 uses get, consumer 1 get_many; producer 0 put, producer 1 put_many
  pid_t c0 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "consume", name, out[0], "1"}));
  pid_t c1 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "consume", name, out[1], "32"}));
  pid_t p0 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "produce", name, "0", std::to_string(kPerProducer), "1"}));
  pid_t p1 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "produce", name, "1", std::to_string(kPerProducer), "16"}));
  EXPECT_EQ(0, kids.Wait(p0, 200s));
  EXPECT_EQ(0, kids.Wait(p1, 200s));
  CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));  // the consumers drain, then see CLOSED
  EXPECT_EQ(0, kids.Wait(c0, 60s));
  EXPECT_EQ(0, kids.Wait(c1, 60s));
  std::printf("2x2: %llu messages in %.2f s\n", (unsigned long long)(2 * kPerProducer), SecondsSince(t0));

  std::vector<uint8_t> seen[2] = {std::vector<uint8_t>(kPerProducer, 0), std::vector<uint8_t>(kPerProducer, 0)};
  size_t total = 0;
  for (int c = 0; c < 2; ++c) {
    std::vector<uint32_t> v = ReadU32File(out[c]);
    ASSERT_EQ(0u, v.size() % 2);
    int64_t last[2] = {-1, -1};
    for (size_t i = 0; i < v.size(); i += 2) {
      uint32_t p = v[i], seq = v[i + 1];
      ASSERT_LT(p, 2u);
      ASSERT_LT(seq, kPerProducer);
      ASSERT_GT(int64_t(seq), last[p]) << "consumer " << c << " saw producer " << p << " out of order";
      last[p] = seq;
      ASSERT_EQ(0, seen[p][seq]) << "producer " << p << " seq " << seq << " received twice";
      seen[p][seq] = 1;
    }
    total += v.size() / 2;
    std::printf("consumer %d received %zu\n", c, v.size() / 2);
    unlink(out[c].c_str());
  }
  rmdir(dir.c_str());
  EXPECT_EQ(2 * kPerProducer, total);
  for (int p = 0; p < 2; ++p) {
    for (uint64_t s = 0; s < kPerProducer; ++s) ASSERT_EQ(1, seen[p][s]) << "lost producer " << p << " seq " << s;
  }
  EXPECT_EQ(0u, Size(q));
}

// LIFO and PRIORITY queues under 2 producers x 2 consumers: every message
// exactly once (the order is the queue's, so only delivery is checked).
TEST_F(MultiProcess, LifoAndPriorityExactlyOnceAcrossProcesses) {
  constexpr uint64_t kPerProducer = 30000;
  for (uint32_t order : {uint32_t(POLYIPC_LIFO), uint32_t(POLYIPC_PRIORITY)}) {
    SCOPED_TRACE(order == POLYIPC_LIFO ? "LIFO" : "PRIORITY");
    std::string name = Name(order == POLYIPC_LIFO ? "lifo" : "prio");
    auto o = Opts(order);
    o.capacity_bytes = 256 * 1024;
    Queue q;
    CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
    std::string dir = "/tmp/" + Namespace();
    ASSERT_EQ(0, system(("mkdir -p " + dir).c_str()));
    std::string out[2] = {dir + "/c0.bin", dir + "/c1.bin"};
    Children kids;
    pid_t c0 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "consume", name, out[0], "1"}));
    pid_t c1 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "consume", name, out[1], "8"}));
    std::string p0_batch = order == POLYIPC_PRIORITY ? "0" : "1";
    pid_t p0 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "produce", name, "0", std::to_string(kPerProducer), p0_batch}));
    pid_t p1 = kids.Add(SpawnExec({CAPI_HELPER_PATH, "produce", name, "1", std::to_string(kPerProducer), "8"}));
    EXPECT_EQ(0, kids.Wait(p0, 120s));
    EXPECT_EQ(0, kids.Wait(p1, 120s));
    CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));
    EXPECT_EQ(0, kids.Wait(c0, 60s));
    EXPECT_EQ(0, kids.Wait(c1, 60s));
    std::vector<uint8_t> seen[2] = {std::vector<uint8_t>(kPerProducer, 0), std::vector<uint8_t>(kPerProducer, 0)};
    size_t total = 0;
    for (int c = 0; c < 2; ++c) {
      std::vector<uint32_t> v = ReadU32File(out[c]);
      for (size_t i = 0; i + 1 < v.size(); i += 2) {
        ASSERT_LT(v[i], 2u);
        ASSERT_LT(v[i + 1], kPerProducer);
        ASSERT_EQ(0, seen[v[i]][v[i + 1]]) << "received twice";
        seen[v[i]][v[i + 1]] = 1;
      }
      total += v.size() / 2;
      unlink(out[c].c_str());
    }
    rmdir(dir.c_str());
    EXPECT_EQ(2 * kPerProducer, total);
  }
}

// Getters in other processes, already asleep in a FOREVER get, get_into and
// get_many, are woken by close_writes and return CLOSED.
TEST_F(MultiProcess, BlockedGettersWokenByCloseWrites) {
  std::string name = Name("q");
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &q, &e));
  Children kids;
  Pipe ready;
  std::vector<pid_t> pids;
  for (int kind = 0; kind < 3; ++kind) {
    pids.push_back(kids.Add(Spawn([&, kind] {
      q.Forget();
      ready.CloseRead();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      CHILD_REQUIRE(ready.WriteByte());
      int rc;
      char buf[64];
      size_t len = 0, lens[4], done = 99;
      if (kind == 0) {
        void* data = nullptr;
        rc = polyipc_queue_get(h, &data, &len, POLYIPC_FOREVER, nullptr);
      } else if (kind == 1) {
        rc = polyipc_queue_get_into(h, buf, sizeof buf, &len, POLYIPC_FOREVER, nullptr);
      } else {
        rc = polyipc_queue_get_many(h, buf, sizeof buf, lens, 4, &done, POLYIPC_FOREVER, nullptr);
        CHILD_REQUIRE(done == 0);
      }
      if (rc != POLYIPC_ERR_CLOSED) std::fprintf(stderr, "child kind %d got %s\n", kind, St(rc).c_str());
      CHILD_REQUIRE(rc == POLYIPC_ERR_CLOSED);
      polyipc_queue_close(h);
      return 0;
    })));
  }
  for (int i = 0; i < 3; ++i) {
    char c;
    ASSERT_TRUE(ready.ReadByte(&c, 10000));
  }
  for (pid_t p : pids) ASSERT_TRUE(WaitUntilSleeping(p, 10s)) << "child " << p << " is not blocked";
  for (pid_t p : pids) {
    int st;
    ASSERT_EQ(0, waitpid(p, &st, WNOHANG)) << "a getter returned before close_writes";
  }
  CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 10s));
}

// A putter asleep on a full queue in another process is woken by close_writes
// and gets CLOSED; what was in the queue is still drained.
TEST_F(MultiProcess, BlockedPutterWokenByCloseWrites) {
  std::string name = Name("q");
  auto o = Opts();
  o.max_items = 1;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  CAPI_ASSERT_OK(Put(q, "\"only\"", 0, &e));
  Children kids;
  Pipe ready;
  pid_t pid = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(ready.WriteByte());
    int rc = polyipc_queue_put(h, "\"blocked\"", 9, POLYIPC_FOREVER, nullptr);
    if (rc != POLYIPC_ERR_CLOSED) std::fprintf(stderr, "putter got %s\n", St(rc).c_str());
    CHILD_REQUIRE(rc == POLYIPC_ERR_CLOSED);
    return 0;
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  ASSERT_TRUE(WaitUntilSleeping(pid, 10s));
  CAPI_ASSERT_OK(polyipc_queue_close_writes(q, &e));
  EXPECT_EQ(0, kids.Wait(pid, 10s));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("\"only\"", m);
  EXPECT_ST(POLYIPC_ERR_CLOSED, Get(q, &m, 0));
}

// A getter asleep in another process is woken by a put, and a putter asleep on
// a full queue is woken by a get.
TEST_F(MultiProcess, BlockedCallsWokenAcrossProcesses) {
  std::string name = Name("q");
  auto o = Opts();
  o.max_items = 2;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Children kids;
  Pipe ready;
  pid_t getter = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(ready.WriteByte());
    void* data = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &data, &len, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(std::string(static_cast<char*>(data), len) == "{\"wake\":1}");
    polyipc_free(data);
    return 0;
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  ASSERT_TRUE(WaitUntilSleeping(getter, 10s));
  CAPI_ASSERT_OK(Put(q, "{\"wake\":1}", 0, &e));
  EXPECT_EQ(0, kids.Wait(getter, 10s));

  CAPI_ASSERT_OK(Put(q, "1", 0, &e));
  CAPI_ASSERT_OK(Put(q, "2", 0, &e));
  pid_t putter = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(ready.WriteByte());
    CHILD_REQUIRE(polyipc_queue_put(h, "3", 1, POLYIPC_FOREVER, nullptr) == POLYIPC_OK);
    return 0;
  }));
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  ASSERT_TRUE(WaitUntilSleeping(putter, 10s));
  std::string m;
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("1", m);
  EXPECT_EQ(0, kids.Wait(putter, 10s));
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("2", m);
  CAPI_ASSERT_OK(Get(q, &m, 0, &e));
  EXPECT_EQ("3", m);
}

// Any negative timeout blocks (POLYIPC_FOREVER is "< 0"), and a huge positive
// one blocks too (no overflow into "expired"): a getter with each is still
// asleep until a put wakes it.
TEST_F(MultiProcess, NegativeAndHugeTimeoutsBlock) {
  std::string name = Name("q");
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &q, &e));
  for (int64_t timeout : {int64_t(-1), int64_t(-5), INT64_MIN, INT64_MAX, INT64_MAX - 1}) {
    SCOPED_TRACE("timeout " + std::to_string(timeout));
    Children kids;
    Pipe ready;
    pid_t pid = kids.Add(Spawn([&] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
      CHILD_REQUIRE(ready.WriteByte());
      void* d = nullptr;
      size_t len = 0;
      int rc = polyipc_queue_get(h, &d, &len, timeout, nullptr);
      if (rc) std::fprintf(stderr, "get with timeout %lld: %s\n", (long long)timeout, St(rc).c_str());
      CHILD_REQUIRE(rc == POLYIPC_OK);
      polyipc_free(d);
      return 0;
    }));
    char c;
    ASSERT_TRUE(ready.ReadByte(&c, 10000));
    // asleep, or already returned (wrongly: there is no message yet)
    auto deadline = Clock::now() + 10s;
    int st = 0;
    pid_t r = 0;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && !WaitUntilSleeping(pid, 20ms) && Clock::now() < deadline) {
    }
    if (r == pid) {
      kids.Wait(pid, 0ms);  // already reaped; forget it
      ADD_FAILURE() << "get returned at once, without a message";
      continue;
    }
    ASSERT_TRUE(WaitUntilSleeping(pid, 10s));
    ASSERT_EQ(0, waitpid(pid, &st, WNOHANG)) << "the getter returned without a message";
    CAPI_ASSERT_OK(Put(q, "1", 0, &e));
    EXPECT_EQ(0, kids.Wait(pid, 10s));
  }
}

// A lease held for a long time by one process (a slow task) must not stop the
// others: the space of messages taken and done after it is reused.
TEST_F(MultiProcess, LongLeaseDoesNotBlockTheQueue) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES, 1);
  o.capacity_bytes = 64 * 1024;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  CAPI_ASSERT_OK(Put(q, "slow task", 0, &e));
  Children kids;
  Pipe up, down;
  pid_t slow = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    void* d = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 5 * kSec, nullptr) == POLYIPC_OK);
    polyipc_free(d);
    CHILD_REQUIRE(up.WriteByte());
    char c;
    CHILD_REQUIRE(down.ReadByte(&c, 60000));
    CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
    polyipc_queue_close(h);
    return 0;
  }));
  char c;
  ASSERT_TRUE(up.ReadByte(&c, 10000));
  const std::string msg(200, 'f');
  for (int i = 0; i < 2000; ++i) {
    Err e;
    int rc = Put(q, msg, 0, &e);
    if (rc != POLYIPC_OK) {
      ADD_FAILURE() << "after " << i << " fast tasks, with " << Size(q) << " message(s) queued and one lease held: "
                    << St(rc) << ": " << e.Msg();
      break;
    }
    std::string m;
    ASSERT_ST(POLYIPC_OK, Get(q, &m));
    ASSERT_ST(POLYIPC_OK, polyipc_queue_task_done(q, nullptr));
  }
  ASSERT_TRUE(down.WriteByte());
  EXPECT_EQ(0, kids.Wait(slow, 10s));
  std::string m;
  while (Get(q, &m, 0) == POLYIPC_OK) polyipc_queue_task_done(q, nullptr);
  CAPI_EXPECT_OK(polyipc_queue_join(q, 5 * kSec, &e));
}

// A consumer whose threads finish items out of order ends each item by its
// bytes: killed afterwards, it leaves exactly its unfinished item behind.
// (Plain task_done ends the oldest: "a" would count as done and be lost,
// and the finished "c" would run again.)
TEST_F(MultiProcess, TaskDoneMessageEndsThatItemSoADeadConsumerLeavesOnlyItsUnfinishedOne) {
  std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  for (const char* m : {"\"a\"", "\"b\"", "\"c\""}) CAPI_ASSERT_OK(Put(q, m, 0, &e));
  Children kids;
  Pipe up;
  pid_t consumer = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    for (int i = 0; i < 3; ++i) {
      void* d = nullptr;
      size_t len = 0;
      CHILD_REQUIRE(polyipc_queue_get(h, &d, &len, 5 * kSec, nullptr) == POLYIPC_OK);
      polyipc_free(d);
    }
    // "c" and "b" are done, "a" (the oldest) is still being worked on.
    CHILD_REQUIRE(polyipc_queue_task_done_message(h, "\"c\"", 3, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_queue_task_done_message(h, "\"b\"", 3, nullptr) == POLYIPC_OK);
    polyipc_error err;
    CHILD_REQUIRE(polyipc_queue_task_done_message(h, "\"b\"", 3, &err) == POLYIPC_ERR_INVALID_ARG);
    CHILD_REQUIRE(std::string(err.message).find(name) != std::string::npos);
    CHILD_REQUIRE(polyipc_queue_task_done_message(h, nullptr, 3, &err) == POLYIPC_ERR_INVALID_ARG);
    CHILD_REQUIRE(up.WriteByte());
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(up.ReadByte(&c, 10000));
  kill(consumer, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(consumer, 10s));
  std::string m;
  ASSERT_ST(POLYIPC_OK, Get(q, &m, 5 * kSec));  // handed out again once the death is noticed
  EXPECT_EQ("\"a\"", m);
  EXPECT_ST(POLYIPC_ERR_EMPTY, Get(q, &m, 0));
  CAPI_ASSERT_OK(polyipc_queue_task_done_message(q, m.data(), m.size(), &e));
  CAPI_EXPECT_OK(polyipc_queue_join(q, 0, &e));
}

// join() in a joiner process returns only after consumer processes have
// task_done'd every item.
TEST_F(MultiProcess, JoinAcrossProcesses) {
  constexpr int kItems = 50;
  std::string name = Name("q");
  Queue q;
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  for (int i = 0; i < kItems; ++i) CAPI_ASSERT_OK(Put(q, "{\"item\":" + std::to_string(i) + "}", 0, &e));
  auto* completed = SharedPage<std::atomic<int>>();
  Children kids;

  Pipe joiner_ready, joiner_done;
  pid_t joiner = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(joiner_ready.WriteByte());
    int rc = polyipc_queue_join(h, 60 * kSec, nullptr);
    int n = completed->load();
    CHILD_REQUIRE(joiner_done.WriteByte());
    if (rc != POLYIPC_OK || n != kItems) std::fprintf(stderr, "joiner: %s, completed %d\n", St(rc).c_str(), n);
    CHILD_REQUIRE(rc == POLYIPC_OK);
    CHILD_REQUIRE(n == kItems);
    return 0;
  }));
  char c;
  ASSERT_TRUE(joiner_ready.ReadByte(&c, 10000));
  ASSERT_TRUE(WaitUntilSleeping(joiner, 10s));

  Pipe to_parent[2], to_child[2];
  pid_t consumers[2];
  for (int i = 0; i < 2; ++i) {
    consumers[i] = kids.Add(Spawn([&, i] {
      q.Forget();
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) == POLYIPC_OK);
      int k = 0;
      for (;;) {
        void* data = nullptr;
        size_t len = 0;
        int rc = polyipc_queue_get(h, &data, &len, 0, nullptr);
        if (rc == POLYIPC_ERR_EMPTY) break;
        CHILD_REQUIRE(rc == POLYIPC_OK);
        polyipc_free(data);
        ++k;
      }
      CHILD_REQUIRE(to_parent[i].WriteByte(static_cast<char>(k)));
      char cmd;
      CHILD_REQUIRE(to_child[i].ReadByte(&cmd, 30000));
      int hold = cmd == 'h' ? 1 : 0;
      for (int j = 0; j < k - hold; ++j) {
        completed->fetch_add(1);  // before task_done: the joiner must see all
        CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
      }
      CHILD_REQUIRE(to_parent[i].WriteByte('b'));
      CHILD_REQUIRE(to_child[i].ReadByte(&cmd, 30000));
      for (int j = 0; j < hold; ++j) {
        completed->fetch_add(1);
        CHILD_REQUIRE(polyipc_queue_task_done(h, nullptr) == POLYIPC_OK);
      }
      polyipc_queue_close(h);
      return 0;
    }));
  }
  int k[2];
  for (int i = 0; i < 2; ++i) {
    char kc;
    ASSERT_TRUE(to_parent[i].ReadByte(&kc, 30000));
    k[i] = kc;
  }
  ASSERT_EQ(kItems, k[0] + k[1]);
  int holder = k[0] > 0 ? 0 : 1;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(to_child[i].WriteByte(i == holder ? 'h' : 'a'));
  for (int i = 0; i < 2; ++i) {
    char b;
    ASSERT_TRUE(to_parent[i].ReadByte(&b, 30000));
  }
  EXPECT_EQ(kItems - 1, completed->load());
  // one item is still leased: join times out, and the joiner is still waiting
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_queue_join(q, 200 * kMs, nullptr));
  EXPECT_FALSE(joiner_done.Readable(0)) << "join returned with work outstanding";
  ASSERT_TRUE(to_child[holder].WriteByte('c'));
  ASSERT_TRUE(to_child[1 - holder].WriteByte('c'));
  EXPECT_TRUE(joiner_done.ReadByte(&c, 10000)) << "join did not return after the last task_done";
  EXPECT_EQ(0, kids.Wait(joiner, 10s));
  for (pid_t p : consumers) EXPECT_EQ(0, kids.Wait(p, 10s));
  CAPI_EXPECT_OK(polyipc_queue_join(q, 0, &e));
  munmap(completed, 4096);
}

// 16 processes race OPEN_OR_CREATE on one new name: all succeed and all get
// the same object. Repeated on fresh names to give the race a chance.
TEST_F(MultiProcess, OpenOrCreateRace16) {
  constexpr int kProcs = 16, kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::string name = Name("r" + std::to_string(round));
    Children kids;
    Pipe start;
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
      pids.push_back(kids.Add(Spawn([&, i] {
        start.CloseWrite();
        char c;
        start.Readable(30000);
        CHILD_REQUIRE(read(start.r(), &c, 1) == 0);  // EOF: all start together
        auto o = Opts();
        polyipc_queue* h = nullptr;
        polyipc_error e{};
        int rc = polyipc_queue_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, &o, &h, &e);
        if (rc) std::fprintf(stderr, "open: %s %s\n", St(rc).c_str(), e.message);
        CHILD_REQUIRE(rc == POLYIPC_OK);
        std::string m = "{\"child\":" + std::to_string(i) + "}";
        rc = polyipc_queue_put(h, m.data(), m.size(), 5 * kSec, &e);
        if (rc) std::fprintf(stderr, "put: %s %s\n", St(rc).c_str(), e.message);
        CHILD_REQUIRE(rc == POLYIPC_OK);
        polyipc_queue_close(h);
        return 0;
      })));
    }
    start.CloseWrite();
    for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 30s)) << "round " << round;
    Queue q;
    CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e));
    EXPECT_EQ(uint64_t(kProcs), Size(q)) << "round " << round;
    std::set<int> children;
    std::string m;
    while (Get(q, &m, 0) == POLYIPC_OK) children.insert(json::parse(m).at("child").get<int>());
    EXPECT_EQ(size_t(kProcs), children.size()) << "round " << round;
    q.Reset();
    CAPI_EXPECT_OK(polyipc_unlink(name.c_str(), &e));
  }
}

// 16 processes race CREATE_ONLY: exactly one creates, the others get EXISTS.
TEST_F(MultiProcess, CreateOnlyRace16) {
  constexpr int kProcs = 16, kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::string name = Name("r" + std::to_string(round));
    Children kids;
    Pipe start;
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
      pids.push_back(kids.Add(Spawn([&] {
        start.CloseWrite();
        char c;
        start.Readable(30000);
        CHILD_REQUIRE(read(start.r(), &c, 1) == 0);
        polyipc_queue* h = nullptr;
        int rc = polyipc_queue_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &h, nullptr);
        if (rc == POLYIPC_ERR_EXISTS) return 10;
        CHILD_REQUIRE(rc == POLYIPC_OK);
        CHILD_REQUIRE(polyipc_queue_put(h, "1", 1, 0, nullptr) == POLYIPC_OK);
        polyipc_queue_close(h);
        return 0;
      })));
    }
    start.CloseWrite();
    int created = 0, exists = 0;
    for (pid_t p : pids) {
      int rc = kids.Wait(p, 30s);
      if (rc == 0) ++created;
      else if (rc == 10) ++exists;
      else ADD_FAILURE() << "child exit " << rc;
    }
    EXPECT_EQ(1, created) << "round " << round;
    EXPECT_EQ(kProcs - 1, exists) << "round " << round;
    Queue q;
    CAPI_ASSERT_OK(OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e));
    EXPECT_EQ(1u, Size(q));
    q.Reset();
    CAPI_EXPECT_OK(polyipc_unlink(name.c_str(), &e));
  }
}

// An ephemeral queue lives while any process is attached, and goes when the
// last one detaches.
TEST_F(MultiProcess, EphemeralLivesWhileAnyProcessIsAttached) {
  std::string name = Name("q");
  auto o = Opts();
  o.ephemeral = 1;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  CAPI_ASSERT_OK(Put(q, "\"hello\"", 0, &e));
  Children kids;
  Pipe up, down;
  pid_t child = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(up.WriteByte());
    char c;
    CHILD_REQUIRE(down.ReadByte(&c, 30000));
    void* data = nullptr;
    size_t len = 0;
    CHILD_REQUIRE(polyipc_queue_get(h, &data, &len, 0, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(std::string(static_cast<char*>(data), len) == "\"hello\"");
    polyipc_free(data);
    polyipc_queue_close(h);
    CHILD_REQUIRE(up.WriteByte());
    CHILD_REQUIRE(down.ReadByte(&c, 30000));  // exit only when the parent has looked
    return 0;
  }));
  char c;
  ASSERT_TRUE(up.ReadByte(&c, 10000));
  q.Reset();  // the creator detaches; the child is still attached
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK)) << "removed while a process is attached";
  ASSERT_TRUE(down.WriteByte());
  ASSERT_TRUE(up.ReadByte(&c, 10000));  // the child closed its handle
  EXPECT_NE(0, access(ShmPath(name).c_str(), F_OK)) << "still there after the last detach";
  Queue x;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &x, nullptr));
  ASSERT_TRUE(down.WriteByte());
  EXPECT_EQ(0, kids.Wait(child, 10s));
}

// An ephemeral queue whose only process died without detaching is removed by
// gc; a persistent one is not.
TEST_F(MultiProcess, GcRemovesEphemeralOfDeadProcess) {
  std::string eph = Name("eph"), keep = Name("keep");
  Children kids;
  pid_t child = kids.Add(Spawn([&] {
    auto o = Opts();
    polyipc_queue *a = nullptr, *b = nullptr;
    o.ephemeral = 1;
    CHILD_REQUIRE(polyipc_queue_open(eph.c_str(), POLYIPC_CREATE_ONLY, &o, &a, nullptr) == POLYIPC_OK);
    o.ephemeral = 0;
    CHILD_REQUIRE(polyipc_queue_open(keep.c_str(), POLYIPC_CREATE_ONLY, &o, &b, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_queue_put(a, "1", 1, 0, nullptr) == POLYIPC_OK);
    kill(getpid(), SIGKILL);  // dies attached
    return 99;
  }));
  EXPECT_EQ(128 + SIGKILL, kids.Wait(child, 10s));
  ASSERT_EQ(0, access(ShmPath(eph).c_str(), F_OK));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_gc_json(&text, &e));
  json j = TakeJson(text);
  ASSERT_TRUE(j.is_object()) << j.dump();
  ASSERT_TRUE(j.contains("removed") && j["removed"].is_array()) << j.dump();
  ASSERT_TRUE(j.contains("stale") && j["stale"].is_array()) << j.dump();
  EXPECT_NE(std::string::npos, j["removed"].dump().find(eph)) << j.dump();
  EXPECT_EQ(std::string::npos, j["removed"].dump().find(keep)) << j.dump();
  EXPECT_NE(0, access(ShmPath(eph).c_str(), F_OK));
  Queue x;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(eph, POLYIPC_OPEN_ONLY, nullptr, &x, nullptr));
  CAPI_EXPECT_OK(OpenQ(keep, POLYIPC_OPEN_ONLY, nullptr, &x, &e));
}

// The last handle of an ephemeral queue closing while another process opens it
// with OPEN_OR_CREATE: the opener always ends up attached to the queue that
// the name holds (never to an orphan removed under it).
// OPEN_OR_CREATE in a child, saying why on stderr when it fails.
int OpenSaying(const std::string& name, const polyipc_queue_options& o, polyipc_queue** h) {
  polyipc_error err{};
  const int rc = polyipc_queue_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, &o, h, &err);
  if (rc != POLYIPC_OK) std::fprintf(stderr, "child %d: open: %s: %s\n", getpid(), St(rc).c_str(), err.message);
  return rc;
}

TEST_F(MultiProcess, EphemeralLastCloseRacesWithOpen) {
  auto o = Opts();
  o.ephemeral = 1;
  int orphaned = 0;
  for (int round = 0; round < 150; ++round) {
    std::string name = Name("r" + std::to_string(round));
    Children kids;
    Pipe start, up, down;
    pid_t closer = kids.Add(Spawn([&] {
      start.CloseWrite();
      char c;
      start.Readable(30000);
      CHILD_REQUIRE(read(start.r(), &c, 1) == 0);
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(OpenSaying(name, o, &h) == POLYIPC_OK);
      polyipc_queue_close(h);
      return 0;
    }));
    pid_t opener = kids.Add(Spawn([&] {
      start.CloseWrite();
      char c;
      start.Readable(30000);
      CHILD_REQUIRE(read(start.r(), &c, 1) == 0);
      polyipc_queue* h = nullptr;
      CHILD_REQUIRE(OpenSaying(name, o, &h) == POLYIPC_OK);
      CHILD_REQUIRE(polyipc_queue_put(h, "\"opener\"", 8, 0, nullptr) == POLYIPC_OK);
      CHILD_REQUIRE(up.WriteByte());
      CHILD_REQUIRE(down.ReadByte(&c, 30000));
      polyipc_queue_close(h);
      return 0;
    }));
    start.CloseWrite();
    char c;
    ASSERT_TRUE(up.ReadByte(&c, 30000));
    ASSERT_EQ(0, kids.Wait(closer, 30s));
    // the opener is attached: the name must hold its queue, with its message
    Queue q;
    Err e;
    int rc = OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e);
    if (rc != POLYIPC_OK || Size(q) != 1) {
      ++orphaned;
      ADD_FAILURE() << "round " << round << ": the opener's queue is not the one named '" << name << "': " << St(rc)
                    << " " << e.Msg() << (rc == POLYIPC_OK ? " (a different, empty queue)" : "");
    }
    q.Reset();
    ASSERT_TRUE(down.WriteByte());
    ASSERT_EQ(0, kids.Wait(opener, 30s));
    EXPECT_NE(0, access(ShmPath(name).c_str(), F_OK)) << "round " << round << ": not removed after the last close";
    if (orphaned >= 3) break;
  }
}

// gc leaves an ephemeral queue alone while a live process is attached.
TEST_F(MultiProcess, GcSparesEphemeralWithLiveProcess) {
  std::string name = Name("q");
  auto o = Opts();
  o.ephemeral = 1;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  // a second process attached and died: one live process (us) remains
  Children kids;
  pid_t pid = kids.Add(Spawn([&] {
    q.Forget();
    polyipc_queue* h = nullptr;
    CHILD_REQUIRE(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == POLYIPC_OK);
    kill(getpid(), SIGKILL);
    return 99;
  }));
  EXPECT_EQ(128 + SIGKILL, kids.Wait(pid, 10s));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_gc_json(&text, &e));
  json j = TakeJson(text);
  EXPECT_EQ(std::string::npos, j.value("removed", json::array()).dump().find(name)) << j.dump();
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK));
  CAPI_EXPECT_OK(Put(q, "1", 0, &e));
  q.Reset();
  EXPECT_NE(0, access(ShmPath(name).c_str(), F_OK)) << "the last live handle closed";
}

// POLYIPC_NAMESPACE is a name like any other: one holding a path is refused.
TEST_F(MultiProcess, BadNamespaceRejected) {
  for (std::string ns : std::vector<std::string>{"../evil", "a/b", "", std::string(300, 'n'), "sp ace"}) {
    SCOPED_TRACE("POLYIPC_NAMESPACE='" + ns + "'");
    int rc = WaitChild(SpawnExec({CAPI_HELPER_PATH, "open-status", "q"}, {"POLYIPC_NAMESPACE=" + ns}), 30s);
    if (ns.empty()) {
      // unset-like: the default namespace, or refused; never a stray object
      EXPECT_TRUE(rc == POLYIPC_OK || rc == POLYIPC_ERR_INVALID_ARG) << St(rc);
      if (rc == POLYIPC_OK) WaitChild(SpawnExec({CAPI_HELPER_PATH, "unlink", "q"}, {"POLYIPC_NAMESPACE=" + ns}), 30s);
      continue;
    }
    EXPECT_EQ(St(POLYIPC_ERR_INVALID_ARG), St(rc));
    if (rc == POLYIPC_OK) WaitChild(SpawnExec({CAPI_HELPER_PATH, "unlink", "q"}, {"POLYIPC_NAMESPACE=" + ns}), 30s);
  }
}

// Namespaces separate objects of the same name (the helper runs in another one).
TEST_F(MultiProcess, NamespaceIsolation) {
  std::string name = Name("q");
  std::string other = Namespace() + "-other";
  std::string env = "POLYIPC_NAMESPACE=" + other;
  std::string other_path = "/dev/shm/polyipc." + other + "." + name;
  EXPECT_EQ(0, WaitChild(SpawnExec({CAPI_HELPER_PATH, "put", name, "\"elsewhere\""}, {env}), 30s));
  EXPECT_EQ(0, access(other_path.c_str(), F_OK)) << other_path;
  Queue q;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(name, POLYIPC_OPEN_ONLY, nullptr, &q, nullptr));
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, nullptr, &q, &e));
  EXPECT_EQ(0u, Size(q));
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK)) << ShmPath(name);
  EXPECT_EQ(0, WaitChild(SpawnExec({CAPI_HELPER_PATH, "unlink", name}, {env}), 30s));
  EXPECT_NE(0, access(other_path.c_str(), F_OK));
  EXPECT_EQ(0, access(ShmPath(name).c_str(), F_OK));
  if (access(other_path.c_str(), F_OK) == 0) shm_unlink(("/polyipc." + other + "." + name).c_str());
}

}  // namespace

namespace {
// Message i of the large-message stream: its index, then bytes derived from
// it every 4093 bytes (cheap to check, so the consumer keeps up and is often
// copying one out while the producer writes the next).
size_t LargeLen(uint64_t i) {
  const size_t sizes[] = {1 << 20, 40000, 1500000, 300000, 1 << 20, 700000};
  return sizes[i % 6] + i % 61;
}
std::string LargeMsg(uint64_t i) {
  std::string m(LargeLen(i), '\0');
  std::memcpy(&m[0], &i, sizeof i);
  for (size_t k = sizeof i; k < m.size(); k += 4093) m[k] = char(i * 31 + k);
  return m;
}
bool IsLargeMsg(const char* m, size_t len, uint64_t i) {
  if (len != LargeLen(i) || std::memcmp(m, &i, sizeof i) != 0) return false;
  for (size_t k = sizeof i; k < len; k += 4093)
    if (m[k] != char(i * 31 + k)) return false;
  return true;
}
}  // namespace

// How a stream's producer puts a message, and how its consumer takes one and
// hands its bytes to `check` (false: stop).
using PutLarge = std::function<bool(polyipc_queue*, const std::string&)>;
using TakeLarge = std::function<bool(polyipc_queue*, const std::function<bool(const char*, size_t)>& check)>;

// kCount large messages through a 16 MiB ring, from one producer to a
// consumer killed at random moments four times, then a last one. Each next
// consumer goes on where the last acknowledged message left off (or one later:
// the killed one may have finished taking it); every message whole and in order.
void StreamLargeMessagesAcrossConsumerKills(const std::string& name, const PutLarge& put, const TakeLarge& take) {
  constexpr uint64_t kCount = 1500;
  polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 16u << 20;
  Queue q;
  Err e;
  ASSERT_EQ(POLYIPC_OK, OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e)) << e.Msg();
  struct Shared {
    std::atomic<uint64_t> acked{0};  // messages the current consumer verified (its next index)
    std::atomic<uint64_t> bad{0};
  };
  Shared* sh = SharedPage<Shared>();
  Children kids;
  pid_t producer = kids.Add(Spawn([&] {
    Queue p;
    CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &p) == POLYIPC_OK);
    for (uint64_t i = 0; i < kCount; ++i) CHILD_REQUIRE(put(p, LargeMsg(i)));
    return 0;
  }));
  auto consume = [&](uint64_t from) {
    return Spawn([&, from] {
      Queue c;
      CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &c) == POLYIPC_OK);
      uint64_t next = from;
      while (next < kCount) {
        bool ok = false;
        CHILD_REQUIRE(take(c, [&](const char* m, size_t len) {
          uint64_t i = UINT64_MAX;
          if (len >= sizeof i) std::memcpy(&i, m, sizeof i);
          if (next == from && i == from + 1 && from > 0) next = i;
          ok = i == next && IsLargeMsg(m, len, i);
          if (!ok) sh->bad.store(i + 1);
          return ok;
        }));
        if (!ok) return 1;
        sh->acked.store(++next);
      }
      return 0;
    });
  };
  std::mt19937_64 rng(std::random_device{}());
  for (int kill_no = 0; kill_no < 4; ++kill_no) {
    const uint64_t from = sh->acked.load();
    pid_t c = kids.Add(consume(from));
    // Let it take a few, then kill it mid-stream (often mid-copy or mid-borrow).
    const uint64_t target = from + 20 + rng() % 60;
    auto deadline = Clock::now() + 30s;
    while (sh->acked.load() < target && Clock::now() < deadline) std::this_thread::yield();
    kill(c, SIGKILL);
    EXPECT_EQ(kids.Wait(c, 10s), 128 + SIGKILL);
    ASSERT_EQ(sh->bad.load(), 0u) << "consumer " << kill_no << " saw a wrong message";
  }
  pid_t last = kids.Add(consume(sh->acked.load()));
  EXPECT_EQ(0, kids.Wait(last, 120s));
  EXPECT_EQ(0, kids.Wait(producer, 120s));
  EXPECT_EQ(sh->bad.load(), 0u) << "a wrong message: index " << sh->bad.load() - 1;
  EXPECT_EQ(sh->acked.load(), kCount);
  EXPECT_EQ(0u, Size(q));
}

// Copying: the consumer copies each message out while the producer writes the
// next (the ring then wraps early to stay in cache-hot memory, behind a pad).
TEST_F(MultiProcess, LargeMessagesStreamInOrderAcrossConsumerKills) {
  std::vector<char> buf(2 << 20);
  StreamLargeMessagesAcrossConsumerKills(
      Name("large"), [](polyipc_queue* p, const std::string& m) { return Put(p, m, 30 * kSec) == POLYIPC_OK; },
      [&](polyipc_queue* c, const std::function<bool(const char*, size_t)>& check) {
        size_t len = 0;
        if (polyipc_queue_get_into(c, buf.data(), buf.size(), &len, 30 * kSec, nullptr) != POLYIPC_OK) return false;
        check(buf.data(), len);
        return true;
      });
}

// Zero copy: the producer fills reservations, the consumer checks each message
// in place and releases it. That consumer waits for the producer, asleep, so
// the producer wraps early behind a record still Ready (the getter takes it
// first on waking). A message borrowed by a killed consumer comes back.
TEST_F(MultiProcess, LargeZeroCopyMessagesStreamInOrderAcrossBorrowerKills) {
  StreamLargeMessagesAcrossConsumerKills(
      Name("large-zc"),
      [](polyipc_queue* p, const std::string& m) {
        void* data = nullptr;
        uint64_t ticket = 0;
        if (polyipc_queue_reserve(p, m.size(), &data, &ticket, 30 * kSec, nullptr) != POLYIPC_OK) return false;
        std::memcpy(data, m.data(), m.size());
        return polyipc_queue_commit(p, ticket, nullptr) == POLYIPC_OK;
      },
      [](polyipc_queue* c, const std::function<bool(const char*, size_t)>& check) {
        const void* data = nullptr;
        size_t len = 0;
        uint64_t ticket = 0;
        if (polyipc_queue_borrow(c, &data, &len, &ticket, 30 * kSec, nullptr) != POLYIPC_OK) return false;
        if (!check(static_cast<const char*>(data), len)) return true;  // keep it borrowed: the test failed
        return polyipc_queue_release(c, ticket, nullptr) == POLYIPC_OK;
      });
}

// The same stream with the producer killed at random moments (often with a
// reservation open, sometimes just after an early wrap): the consumer, alive
// throughout, sees every message whole, in order, with nothing lost but what
// was never acknowledged (a message whose put returned but was not yet counted
// is sent again by the next producer: seen twice in a row, which is allowed).
TEST_F(MultiProcess, LargeMessagesStreamInOrderAcrossProducerKills) {
  constexpr uint64_t kCount = 1500;
  polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
  o.capacity_bytes = 16u << 20;
  const std::string name = Name("large-p");
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  struct Shared {
    std::atomic<uint64_t> put{0};  // messages acknowledged by producers (the next index to send)
    std::atomic<uint64_t> got{0};
    std::atomic<uint64_t> bad{0};
  };
  Shared* sh = SharedPage<Shared>();
  Children kids;
  pid_t consumer = kids.Add(Spawn([&] {
    Queue c;
    CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &c) == POLYIPC_OK);
    std::vector<char> buf(2 << 20);
    uint64_t next = 0;
    while (next < kCount) {
      size_t len = 0;
      CHILD_REQUIRE(polyipc_queue_get_into(c, buf.data(), buf.size(), &len, 60 * kSec, nullptr) == POLYIPC_OK);
      uint64_t i = UINT64_MAX;
      if (len >= sizeof i) std::memcpy(&i, buf.data(), sizeof i);
      if (next > 0 && i == next - 1 && IsLargeMsg(buf.data(), len, i)) continue;  // sent again
      if (i != next || !IsLargeMsg(buf.data(), len, i)) {
        sh->bad.store(i + 1);
        return 1;
      }
      sh->got.store(++next);
    }
    return 0;
  }));
  auto produce = [&] {
    return Spawn([&] {
      Queue p;
      CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &p) == POLYIPC_OK);
      for (uint64_t i = sh->put.load(); i < kCount; ++i) {
        const std::string m = LargeMsg(i);
        CHILD_REQUIRE(Put(p, m, 60 * kSec) == POLYIPC_OK);
        sh->put.store(i + 1);
      }
      return 0;
    });
  };
  std::mt19937_64 rng(std::random_device{}());
  for (int kill_no = 0; kill_no < 4; ++kill_no) {
    pid_t p = kids.Add(produce());
    const uint64_t target = sh->put.load() + 20 + rng() % 60;
    auto deadline = Clock::now() + 30s;
    while (sh->put.load() < target && Clock::now() < deadline) std::this_thread::yield();
    kill(p, SIGKILL);
    EXPECT_EQ(kids.Wait(p, 10s), 128 + SIGKILL);
    ASSERT_EQ(sh->bad.load(), 0u) << "the consumer saw a wrong message after producer kill " << kill_no;
  }
  pid_t last = kids.Add(produce());
  EXPECT_EQ(0, kids.Wait(last, 120s));
  EXPECT_EQ(0, kids.Wait(consumer, 120s));
  EXPECT_EQ(sh->bad.load(), 0u) << "a wrong message: index " << sh->bad.load() - 1;
  EXPECT_EQ(sh->got.load(), kCount);
  EXPECT_EQ(0u, Size(q));
}
