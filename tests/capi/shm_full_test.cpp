// A full /dev/shm (Docker gives containers 64 MiB by default). tmpfs finds a
// page it cannot supply only when it is first written, and the kernel then
// kills the writer with SIGBUS: a put, a send or a write into shared memory
// would crash the process. polyipc gives objects their pages when it creates
// them, and a pipe's ring as senders reach it, so the caller gets NO_MEMORY
// naming the object instead, and nothing already sent is lost.
//
// Each test runs in a forked child with a mount namespace of its own, where a
// 2 MiB tmpfs stands in for /dev/shm (root only: skipped otherwise).
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common.hpp"
#include "pipe_shm_handles.hpp"

namespace capitest {
namespace {

constexpr int kCannotMount = 77;

class ShmFullTest : public CapiTest {
 protected:
  // Runs fn in a child whose /dev/shm is a fresh tmpfs of `bytes`.
  void InSmallDevShm(uint64_t bytes, const std::function<int()>& fn) {
    Children children;
    const pid_t pid = children.Add(Spawn([&] {
      const std::string opts = "size=" + std::to_string(bytes) + ",mode=1777";
      if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("tmpfs", "/dev/shm", "tmpfs", 0, opts.c_str()) != 0) {
        std::perror("mounting a small tmpfs on /dev/shm");
        return kCannotMount;
      }
      return fn();
    }));
    const int rc = children.Wait(pid, std::chrono::seconds(60));
    if (rc == kCannotMount) GTEST_SKIP() << "needs CAP_SYS_ADMIN to mount a small tmpfs on /dev/shm";
    ASSERT_NE(128 + SIGBUS, rc) << "the child was killed by SIGBUS";
    ASSERT_EQ(0, rc) << "the child failed a check (its stderr says which), or died (128 + signal)";
  }

  static bool Exists(const std::string& name) {
    struct stat st {};
    return ::stat(ShmPath(name).c_str(), &st) == 0;
  }
};

TEST_F(ShmFullTest, AQueueLargerThanTheRoomLeftIsNoMemoryAtOpenAndLeavesNothing) {
  const std::string held = Name("held"), q = Name("q");
  InSmallDevShm(2 << 20, [&] {
    // 1.5 MiB of shared memory leaves about half a MiB.
    Shm shm;
    Err e;
    CHILD_REQUIRE(polyipc_shm_open(held.c_str(), POLYIPC_CREATE_ONLY, 3 << 19, nullptr, shm.out(), &e) == POLYIPC_OK);
    // A 1 MiB queue used to open here and kill its first putter past the
    // room left with SIGBUS.
    polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
    o.capacity_bytes = 1 << 20;
    Queue queue;
    CHILD_REQUIRE(OpenQ(q, POLYIPC_OPEN_OR_CREATE, &o, &queue, &e) == POLYIPC_ERR_NO_MEMORY);
    CHILD_REQUIRE(e.code == POLYIPC_ERR_NO_MEMORY);
    CHILD_REQUIRE(ContainsI(e.Msg(), "queue '" + q + "'"));
    CHILD_REQUIRE(ContainsI(e.Msg(), "/dev/shm has no room"));
    CHILD_REQUIRE(!Exists(q));  // no half-made object under the name
    // The block that is there works in full, to its last byte.
    void* data = nullptr;
    uint64_t size = 0;
    CHILD_REQUIRE(polyipc_shm_data(shm, &data, &size, &e) == POLYIPC_OK);
    std::memset(data, 0x5a, size);
    // And once it is gone, the queue fits.
    shm.Reset();
    CHILD_REQUIRE(polyipc_unlink(held.c_str(), &e) == POLYIPC_OK);
    CHILD_REQUIRE(OpenQ(q, POLYIPC_OPEN_OR_CREATE, &o, &queue, &e) == POLYIPC_OK);
    const std::string m(4000, 'm');
    int puts = 0;
    while (Put(queue, m) == POLYIPC_OK) ++puts;  // every page of the ring written
    CHILD_REQUIRE(puts > 200);
    std::string got;
    for (int i = 0; i < puts; ++i) CHILD_REQUIRE(Get(queue, &got) == POLYIPC_OK && got == m);
    return 0;
  });
}

TEST_F(ShmFullTest, SharedMemoryLargerThanTheRoomLeftIsNoMemory) {
  const std::string name = Name("m");
  InSmallDevShm(2 << 20, [&] {
    Shm shm;
    Err e;
    CHILD_REQUIRE(polyipc_shm_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, 3 << 20, nullptr, shm.out(), &e) ==
                  POLYIPC_ERR_NO_MEMORY);
    CHILD_REQUIRE(ContainsI(e.Msg(), "shared_memory '" + name + "'"));
    CHILD_REQUIRE(ContainsI(e.Msg(), "/dev/shm has no room"));
    CHILD_REQUIRE(!Exists(name));
    return 0;
  });
}

TEST_F(ShmFullTest, APipeWhoseRingOutgrowsDevShmSaysNoMemoryAndLosesNothing) {
  const std::string name = Name("p");
  InSmallDevShm(2 << 20, [&] {
    // A 4 MiB ring in 2 MiB of tmpfs: it gets pages as the sender reaches them.
    polyipc_pipe_options o;
    polyipc_pipe_options_init(&o);
    o.duplex = 0;
    o.format = POLYIPC_FORMAT_BYTES;
    o.capacity_bytes = 4 << 20;
    PipeEnd a, b;
    Err e;
    const char* pipe = name.c_str();
    CHILD_REQUIRE(polyipc_pipe_open(pipe, POLYIPC_CREATE_ONLY, POLYIPC_END_A, &o, a.out(), &e) == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_pipe_open(pipe, POLYIPC_OPEN_ONLY, POLYIPC_END_B, nullptr, b.out(), &e) == POLYIPC_OK);
    std::string m(64 << 10, 'p');
    int sent = 0;
    int st;
    for (;;) {  // nobody receives: the ring only grows
      std::snprintf(&m[0], 16, "%015d", sent);
      e.Reset();
      if ((st = polyipc_pipe_send(a, m.data(), m.size(), 0, &e)) != POLYIPC_OK) break;
      ++sent;
    }
    std::fprintf(stderr, "sent %d messages of 64 KiB, then: %s\n", sent, e.Msg().c_str());
    CHILD_REQUIRE(st == POLYIPC_ERR_NO_MEMORY);  // not FULL: the ring has room, /dev/shm has not
    CHILD_REQUIRE(sent >= 16 && sent < 60);
    CHILD_REQUIRE(ContainsI(e.Msg(), "pipe '" + name + "'"));
    CHILD_REQUIRE(ContainsI(e.Msg(), "/dev/shm has no room"));
    // Everything sent arrives, in order.
    std::string buf(m.size(), '\0');
    for (int i = 0; i < sent; ++i) {
      size_t n = 0;
      CHILD_REQUIRE(polyipc_pipe_recv_into(b, &buf[0], buf.size(), &n, 0, &e) == POLYIPC_OK);
      CHILD_REQUIRE(n == m.size() && std::stoi(buf.substr(0, 15)) == i);
    }
    // Emptied, the ring starts again where it has pages: the pipe goes on.
    std::snprintf(&m[0], 16, "%015d", sent);
    CHILD_REQUIRE(polyipc_pipe_send(a, m.data(), m.size(), 0, &e) == POLYIPC_OK);
    size_t n = 0;
    CHILD_REQUIRE(polyipc_pipe_recv_into(b, &buf[0], buf.size(), &n, 0, &e) == POLYIPC_OK && buf == m);
    return 0;
  });
}

}  // namespace
}  // namespace capitest
