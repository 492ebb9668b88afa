// Pipes, shared memory and Value/Array across real processes (fork), with
// kill -9: end of stream when the peer dies, exact atomic counters, bytes
// written by one process and read by another.
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "common.hpp"
#include "pipe_shm_handles.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class PipeShmMp : public CapiTest {};

TEST_F(PipeShmMp, PingPongAcrossProcesses) {
  std::string n = Name("p");
  constexpr int kRounds = 20000;
  Children kids;
  pid_t pong = kids.Add(Spawn([&] {
    PipeEnd b;
    CHILD_REQUIRE(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_B, nullptr, b.out(), nullptr) == 0);
    char buf[64];
    for (int i = 0; i < kRounds; ++i) {
      size_t len = 0;
      CHILD_REQUIRE(polyipc_pipe_recv_into(b, buf, sizeof buf, &len, 20 * kSec, nullptr) == 0);
      CHILD_REQUIRE(std::string(buf, len) == std::to_string(i));
      CHILD_REQUIRE(polyipc_pipe_send(b, buf, len, 20 * kSec, nullptr) == 0);
    }
    return 0;
  }));
  PipeEnd a;
  CAPI_ASSERT_OK(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, nullptr, a.out(), &e));
  char buf[64];
  for (int i = 0; i < kRounds; ++i) {
    std::string m = std::to_string(i);
    ASSERT_EQ(0, polyipc_pipe_send(a, m.data(), m.size(), 20 * kSec, nullptr));
    size_t len = 0;
    ASSERT_EQ(0, polyipc_pipe_recv_into(a, buf, sizeof buf, &len, 20 * kSec, nullptr)) << "round " << i;
    ASSERT_EQ(m, std::string(buf, len));
  }
  EXPECT_EQ(0, kids.Wait(pong, 20s));
  // the child exited: its end is closed
  size_t len = 0;
  EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_pipe_recv_into(a, buf, sizeof buf, &len, 5 * kSec, nullptr));
}

// kill -9 of the sender: the receiver gets what was sent, then CLOSED, within
// about 100 ms of the death, while blocked in recv.
TEST_F(PipeShmMp, SenderKilledIsEndOfStreamForABlockedReceiver) {
  std::string n = Name("p");
  PipeEnd b;
  CAPI_ASSERT_OK(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_B, nullptr, b.out(), &e));
  Pipe ready;
  Children kids;
  pid_t sender = kids.Add(Spawn([&] {
    PipeEnd a;
    CHILD_REQUIRE(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_END_A, nullptr, a.out(), nullptr) == 0);
    for (int i = 0; i < 3; ++i) CHILD_REQUIRE(polyipc_pipe_send(a, "7", 1, 0, nullptr) == 0);
    ready.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  for (int i = 0; i < 3; ++i) {
    void* d;
    size_t len;
    CAPI_ASSERT_OK(polyipc_pipe_recv(b, &d, &len, 0, &e));
    polyipc_free(d);
  }
  std::atomic<int> rc{-1};
  std::atomic<int64_t> woke_ns{0};
  std::thread blocked([&] {
    void* d;
    size_t len;
    rc = polyipc_pipe_recv(b, &d, &len, 20 * kSec, nullptr);
    woke_ns = Clock::now().time_since_epoch().count();
  });
  auto killed_at = Clock::now();
  kill(sender, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(sender, 10s));
  blocked.join();
  EXPECT_EQ(POLYIPC_ERR_CLOSED, rc.load());
  double after = std::chrono::duration<double>(Clock::time_point(Clock::duration(woke_ns.load())) - killed_at).count();
  EXPECT_LT(after, 1.0) << "noticed " << after << " s after the kill";
  RecordProperty("eof_after_kill_ms", std::to_string(static_cast<int>(after * 1000)));
}

// kill -9 of the receiver: a sender blocked on a full pipe gets CLOSED.
TEST_F(PipeShmMp, ReceiverKilledIsBrokenPipeForABlockedSender) {
  std::string n = Name("p");
  polyipc_pipe_options o;
  polyipc_pipe_options_init(&o);
  o.capacity_bytes = 256;
  PipeEnd a;
  CAPI_ASSERT_OK(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, &o, a.out(), &e));
  Pipe ready;
  Children kids;
  pid_t receiver = kids.Add(Spawn([&] {
    PipeEnd b;
    CHILD_REQUIRE(polyipc_pipe_open(n.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_END_B, nullptr, b.out(), nullptr) == 0);
    ready.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  while (polyipc_pipe_send(a, "[1,2,3,4,5,6,7,8]", 17, 0, nullptr) == 0) {
  }
  std::atomic<int> rc{-1};
  std::thread blocked([&] { rc = polyipc_pipe_send(a, "[1,2,3,4,5,6,7,8]", 17, 20 * kSec, nullptr); });
  kill(receiver, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(receiver, 10s));
  blocked.join();
  EXPECT_EQ(POLYIPC_ERR_CLOSED, rc.load());
}

TEST_F(PipeShmMp, SharedMemoryWrittenByOneProcessIsReadByAnother) {
  std::string n = Name("m");
  constexpr uint64_t kSize = 1 << 20;
  Children kids;
  pid_t writer = kids.Add(Spawn([&] {
    Shm m;
    CHILD_REQUIRE(polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, kSize, nullptr, m.out(), nullptr) == 0);
    void* p = nullptr;
    CHILD_REQUIRE(polyipc_shm_data(m, &p, nullptr, nullptr) == 0);
    for (uint64_t i = 0; i < kSize; ++i) static_cast<unsigned char*>(p)[i] = static_cast<unsigned char>(i * 131 + 5);
    return 0;
  }));
  ASSERT_EQ(0, kids.Wait(writer, 20s));
  Shm m;
  CAPI_ASSERT_OK(polyipc_shm_open(n.c_str(), POLYIPC_OPEN_ONLY, 0, nullptr, m.out(), &e));
  void* p = nullptr;
  uint64_t size = 0;
  CAPI_ASSERT_OK(polyipc_shm_data(m, &p, &size, &e));
  ASSERT_EQ(kSize, size);
  for (uint64_t i = 0; i < kSize; ++i)
    ASSERT_EQ(static_cast<unsigned char>(i * 131 + 5), static_cast<unsigned char*>(p)[i]) << "byte " << i;
}

TEST_F(PipeShmMp, ValueAddedByFourProcessesEndsExact) {
  std::string n = Name("v");
  constexpr int kProcs = 4, kAdds = 250000;
  Children kids;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p)
    pids.push_back(kids.Add(Spawn([&] {
      Array v;
      CHILD_REQUIRE(polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 1, nullptr, v.out(), nullptr) == 0);
      for (int i = 0; i < kAdds; ++i) CHILD_REQUIRE(polyipc_array_add_i64(v, 0, 1, nullptr, nullptr) == 0);
      return 0;
    })));
  for (pid_t p : pids) EXPECT_EQ(0, kids.Wait(p, 60s));
  Array v;
  CAPI_ASSERT_OK(polyipc_array_open(n.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_INT64, 0, nullptr, v.out(), &e));
  int64_t total = 0;
  CAPI_ASSERT_OK(polyipc_array_load_i64(v, 0, &total, &e));
  EXPECT_EQ(int64_t{kProcs} * kAdds, total);
}

TEST_F(PipeShmMp, ArrayLockHolderKilledHandsItOverWithOwnerDead) {
  std::string n = Name("v");
  Array v;
  CAPI_ASSERT_OK(polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_DOUBLE, 2, nullptr, v.out(), &e));
  Pipe ready;
  Children kids;
  pid_t holder = kids.Add(Spawn([&] {
    Array mine;
    CHILD_REQUIRE(polyipc_array_open(n.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_DOUBLE, 0, nullptr, mine.out(), nullptr) == 0);
    CHILD_REQUIRE(polyipc_array_acquire(mine, 0, nullptr) == 0);
    ready.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(ready.ReadByte(&c, 10000));
  kill(holder, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(holder, 10s));
  EXPECT_ST(POLYIPC_ERR_OWNER_DEAD, polyipc_array_acquire(v, 5 * kSec, nullptr));
  CAPI_ASSERT_OK(polyipc_array_release(v, &e));
}

}  // namespace
