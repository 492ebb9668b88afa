// Pipes, the wait over several pipes and queues, shared memory and
// Value/Array through the C API, in one process: semantics and bad input.
// Across processes and kill -9: pipe_shm_multiprocess_test.cpp.
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "common.hpp"
#include "pipe_shm_handles.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class PipeTest : public CapiTest {
 protected:
  polyipc_pipe_options Opts(uint32_t duplex = 1, uint32_t format = POLYIPC_FORMAT_JSON, uint64_t capacity = 0) {
    polyipc_pipe_options o;
    polyipc_pipe_options_init(&o);
    o.duplex = duplex;
    o.format = format;
    if (capacity) o.capacity_bytes = capacity;
    return o;
  }
  void OpenBoth(const std::string& name, const polyipc_pipe_options& o, PipeEnd* a, PipeEnd* b) {
    CAPI_ASSERT_OK(polyipc_pipe_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, &o, a->out(), &e));
    CAPI_ASSERT_OK(polyipc_pipe_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_B, &o, b->out(), &e));
  }
};

std::string Recv(polyipc_pipe* p, int64_t timeout_ns = 0, int* rc = nullptr) {
  void* d = nullptr;
  size_t n = 0;
  int r = polyipc_pipe_recv(p, &d, &n, timeout_ns, nullptr);
  if (rc) *rc = r;
  std::string s = r == 0 ? std::string(static_cast<char*>(d), n) : "";
  polyipc_free(d);
  return s;
}

TEST_F(PipeTest, DuplexCarriesMessagesBothWaysInOrder) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(), &a, &b);
  for (int i = 0; i < 100; ++i) {
    std::string m = "{\"i\":" + std::to_string(i) + "}";
    CAPI_ASSERT_OK(polyipc_pipe_send(a, m.data(), m.size(), 0, &e));
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ("{\"i\":" + std::to_string(i) + "}", Recv(b));
  CAPI_ASSERT_OK(polyipc_pipe_send(b, "[1]", 3, 0, &e));
  EXPECT_EQ("[1]", Recv(a));
  int rc = 0;
  Recv(b, 0, &rc);
  EXPECT_ST(POLYIPC_ERR_EMPTY, rc);
  Recv(b, 20 * kMs, &rc);
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, rc);
}

TEST_F(PipeTest, RingWrapsWithMessagesOfEverySize) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(1, POLYIPC_FORMAT_BYTES, 4096), &a, &b);
  std::string big(4088, 'x');  // the largest message: capacity - 8
  for (int i = 0; i < 3000; ++i) {
    std::string m = i % 500 == 499 ? big : std::string(static_cast<size_t>(i * 37 % 1800), static_cast<char>('a' + i % 26));
    CAPI_ASSERT_OK(polyipc_pipe_send(a, m.data(), m.size(), 5 * kSec, &e));
    char buf[4096];
    size_t n = 0;
    CAPI_ASSERT_OK(polyipc_pipe_recv_into(b, buf, sizeof buf, &n, 0, &e));
    ASSERT_EQ(m, std::string(buf, n)) << "message " << i;
  }
  // Large payloads (>= 4 KiB) start on a cache line behind a small pad record.
  PipeEnd c, d;
  OpenBoth(Name("big"), Opts(1, POLYIPC_FORMAT_BYTES, 65536), &c, &d);
  std::vector<char> in(65536);
  std::deque<std::string> pending;
  auto take = [&] {
    size_t n = 0;
    ASSERT_EQ(0, polyipc_pipe_recv_into(d, in.data(), in.size(), &n, 0, nullptr));
    ASSERT_EQ(pending.front(), std::string(in.data(), n));
    pending.pop_front();
  };
  for (int i = 0; i < 400; ++i) {
    std::string m(4096 + static_cast<size_t>(i * 977 % 40000), static_cast<char>('A' + i % 26));
    m[0] = static_cast<char>(i);
    int rc;
    while ((rc = polyipc_pipe_send(c, m.data(), m.size(), 0, nullptr)) == POLYIPC_ERR_FULL) take();
    ASSERT_ST(POLYIPC_OK, rc) << "message " << i;
    pending.push_back(m);
    if (i % 3 != 2) take();  // let some pile up, so records meet the end of the ring anywhere
  }
  while (!pending.empty()) take();
  Err e1;
  std::string too_big(4089, 'x');
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_pipe_send(a, too_big.data(), too_big.size(), 0, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "4089")) << e1.Msg();
}

TEST_F(PipeTest, ASenderStepsOverPadsTheReceiverHasNotReachedYet) {
  // 512-byte ring: X at 0, Y at 200; Z (300 bytes) pads 400..512 and then
  // finds no room (FULL). The receiver takes X and Y but stops at the pad, so
  // only the pad is left: a sender that waited for the receiver to step over
  // it would wait for a receiver that waits for it. W must go through at once.
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(1, POLYIPC_FORMAT_BYTES, 512), &a, &b);
  const std::string x(192, 'x'), y(192, 'y'), z(292, 'z'), w(440, 'w');
  CAPI_ASSERT_OK(polyipc_pipe_send(a, x.data(), x.size(), 0, &e));
  CAPI_ASSERT_OK(polyipc_pipe_send(a, y.data(), y.size(), 0, &e));
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_pipe_send(a, z.data(), z.size(), 0, nullptr));
  EXPECT_EQ(x, Recv(b));
  EXPECT_EQ(y, Recv(b));
  CAPI_ASSERT_OK(polyipc_pipe_send(a, w.data(), w.size(), 0, &e));
  EXPECT_EQ(w, Recv(b));
  int rc = 0;
  Recv(b, 0, &rc);
  EXPECT_ST(POLYIPC_ERR_EMPTY, rc);  // Z was refused whole: nothing of it arrives
  char* stat = nullptr;
  CAPI_ASSERT_OK(polyipc_pipe_stat_json(a, &stat, &e));
  const json j = json::parse(stat);
  polyipc_free(stat);
  EXPECT_EQ(j["a"]["pending_bytes"], 0) << j.dump();
  // counters, as every kind has them: x, y and w went from a; nothing from b
  EXPECT_EQ(j["counters"]["messages_from_a"], 3) << j.dump();
  EXPECT_EQ(j["counters"]["bytes_from_a"], x.size() + y.size() + w.size()) << j.dump();
  EXPECT_EQ(j["counters"]["messages_from_b"], 0) << j.dump();
  EXPECT_EQ(j["counters"]["bytes_from_b"], 0) << j.dump();
}

TEST_F(PipeTest, APipeWhoseReceiverKeepsUpTouchesAboutOneMiBOfItsRing) {
  // The default ring is 4 MiB per direction. 20 MB of 1 KB messages, each
  // received before the next is sent: the ring starts again at its beginning
  // whenever it is empty past 1 MiB, so tmpfs (which gives a page its memory
  // when it is first written) holds about 1 MiB for it, not 4.
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(1, POLYIPC_FORMAT_BYTES), &a, &b);
  const std::string m(1000, 'm');
  char buf[2048];
  for (int i = 0; i < 20000; ++i) {
    CAPI_ASSERT_OK(polyipc_pipe_send(a, m.data(), m.size(), 0, &e));
    size_t n = 0;
    CAPI_ASSERT_OK(polyipc_pipe_recv_into(b, buf, sizeof buf, &n, 0, &e));
    ASSERT_EQ(m.size(), n);
  }
  auto resident = [&] {
    struct stat st {};
    EXPECT_EQ(0, ::stat(ShmPath(Name("p")).c_str(), &st));
    return static_cast<uint64_t>(st.st_blocks) * 512;
  };
  EXPECT_LT(resident(), (3u << 20) / 2);
  // A burst that fills the ring does use all of it.
  int sent = 0;
  while (polyipc_pipe_send(a, m.data(), m.size(), 0, nullptr) == POLYIPC_OK) ++sent;
  EXPECT_GT(sent, 4000);
  EXPECT_GT(resident(), 4u << 20);
}

TEST_F(PipeTest, FullPipeBlocksUntilTheReceiverMakesRoom) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(1, POLYIPC_FORMAT_BYTES, 1024), &a, &b);
  std::string m(100, 'm');
  int sent = 0;
  while (polyipc_pipe_send(a, m.data(), m.size(), 0, nullptr) == 0) ++sent;
  EXPECT_EQ(9, sent);  // 108-byte records in 1024 bytes
  Err e1;
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_pipe_send(a, m.data(), m.size(), 0, &e1));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pipe_send(a, m.data(), m.size(), 10 * kMs, &e1));
  std::thread t([&] { EXPECT_EQ(0, polyipc_pipe_send(a, m.data(), m.size(), 10 * kSec, nullptr)); });
  EXPECT_EQ(m, Recv(b));
  t.join();
  for (int i = 0; i < sent; ++i) EXPECT_EQ(m, Recv(b));
}

TEST_F(PipeTest, OneWayPipeSendsOnlyFromA) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(0), &a, &b);
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_send(b, "1", 1, 0, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "cannot send")) << e1.Msg();
  void* d;
  size_t n;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_recv(a, &d, &n, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_poll(a, 0, &e1));
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "1", 1, 0, &e));
  EXPECT_EQ("1", Recv(b));
  // reopening as duplex: INCOMPATIBLE
  PipeEnd c;
  polyipc_pipe_options d2 = Opts(1);
  std::string n2 = Name("p");
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_pipe_open(n2.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, &d2, c.out(), &e1));
}

TEST_F(PipeTest, JsonPipeRejectsMalformedJsonAndLosesNothing) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(), &a, &b);
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "1", 1, 0, &e));
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON, polyipc_pipe_send(a, "{bad", 4, 0, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "byte 1")) << e1.Msg();
  EXPECT_EQ("1", Recv(b));
  int rc;
  Recv(b, 0, &rc);
  EXPECT_ST(POLYIPC_ERR_EMPTY, rc);
}

TEST_F(PipeTest, CloseOfTheOtherEndIsEndOfStreamAfterEverythingWasReceived) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(), &a, &b);
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "1", 1, 0, &e));
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "2", 1, 0, &e));
  // a blocked receiver is woken by the close, after the two messages
  CAPI_ASSERT_OK(polyipc_pipe_poll(b, 0, &e));
  EXPECT_EQ("1", Recv(b));
  EXPECT_EQ("2", Recv(b));
  std::atomic<int> rc{-1};
  std::thread blocked([&] {
    int r = 0;
    Recv(b, 20 * kSec, &r);
    rc = r;
  });
  a.out();  // closes end A
  blocked.join();
  EXPECT_EQ(POLYIPC_ERR_CLOSED, rc.load());
  Err e1;
  EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_pipe_poll(b, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_CLOSED, polyipc_pipe_send(b, "3", 1, 0, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "closed")) << e1.Msg();
}

TEST_F(PipeTest, RecvIntoTooSmallKeepsTheMessage) {
  PipeEnd a, b;
  OpenBoth(Name("p"), Opts(1, POLYIPC_FORMAT_BYTES), &a, &b);
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "hello", 5, 0, &e));
  char buf[3];
  size_t n = 0;
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_pipe_recv_into(b, buf, sizeof buf, &n, 0, nullptr));
  EXPECT_EQ(5u, n);
  EXPECT_EQ("hello", Recv(b));
  CAPI_ASSERT_OK(polyipc_pipe_send(a, "", 0, 0, &e));  // empty message in a bytes pipe
  CAPI_ASSERT_OK(polyipc_pipe_recv_into(b, nullptr, 0, &n, 0, &e));
  EXPECT_EQ(0u, n);
}

TEST_F(PipeTest, ReceiverWaitsForAnEndNeverOpened) {
  PipeEnd b;
  polyipc_pipe_options o = Opts();
  CAPI_ASSERT_OK(polyipc_pipe_open(Name("p").c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_B, &o, b.out(), &e));
  int rc;
  Recv(b, 0, &rc);
  EXPECT_ST(POLYIPC_ERR_EMPTY, rc);  // not CLOSED: A has not come yet
}

TEST_F(PipeTest, WaitReturnsTheReadyPipesAndQueues) {
  PipeEnd a1, b1, a2, b2;
  OpenBoth(Name("p1"), Opts(), &a1, &b1);
  OpenBoth(Name("p2"), Opts(), &a2, &b2);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(Name("q"), POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e));
  polyipc_waitable w[3] = {{b1, nullptr, 0}, {b2, nullptr, 0}, {nullptr, q, 0}};
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_wait(w, 3, 0, nullptr));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_wait(w, 3, 20 * kMs, nullptr));
  CAPI_ASSERT_OK(polyipc_pipe_send(a2, "2", 1, 0, &e));
  CAPI_ASSERT_OK(polyipc_wait(w, 3, 0, &e));
  EXPECT_EQ(0, w[0].ready);
  EXPECT_EQ(1, w[1].ready);
  EXPECT_EQ(0, w[2].ready);
  Recv(b2);
  // a sleeping wait is woken by a queue put and by a pipe send
  for (int which = 0; which < 2; ++which) {
    std::thread t([&] {
      std::this_thread::yield();
      if (which == 0) Put(q, "7", 0);
      else polyipc_pipe_send(a1, "1", 1, 0, nullptr);
    });
    CAPI_ASSERT_OK(polyipc_wait(w, 3, 10 * kSec, &e));
    t.join();
    EXPECT_EQ(which == 1, w[0].ready == 1);
    EXPECT_EQ(which == 0, w[2].ready == 1);
    if (which == 0) {
      std::string got;
      Get(q, &got);
    } else {
      Recv(b1);
    }
  }
  // end of stream counts as ready
  a1.out();
  CAPI_ASSERT_OK(polyipc_wait(w, 3, 5 * kSec, &e));
  EXPECT_EQ(1, w[0].ready);
  // bad input
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_wait(nullptr, 1, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_wait(w, 0, 0, &e1));
  polyipc_waitable both{b1, q, 0};
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_wait(&both, 1, 0, &e1));
}

TEST_F(PipeTest, BadInput) {
  PipeEnd p;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_open(nullptr, POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, nullptr, p.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_open("a/b", POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, nullptr, p.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_open(Name("p").c_str(), POLYIPC_OPEN_OR_CREATE, (polyipc_pipe_end)2, nullptr, p.out(), &e1));
  polyipc_pipe_options o = Opts(1, POLYIPC_FORMAT_JSON, 8);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_open(Name("p").c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, &o, p.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_send(nullptr, "1", 1, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_recv(nullptr, nullptr, nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_poll(nullptr, 0, &e1));
  polyipc_pipe_close(nullptr);
  CAPI_ASSERT_OK(polyipc_pipe_open(Name("p").c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_END_A, nullptr, p.out(), &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_send(p, nullptr, 5, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pipe_recv(p, nullptr, nullptr, 0, &e1));
  Queue q;  // a pipe's name opened as a queue
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, OpenQ(Name("p"), POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "holds a pipe")) << e1.Msg();
}

// ---- shared memory --------------------------------------------------------------

TEST_F(PipeTest, SharedMemoryIsSharedZeroedAndSized) {
  std::string n = Name("m");
  Shm m, m2;
  CAPI_ASSERT_OK(polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 10000, nullptr, m.out(), &e));
  void* p = nullptr;
  uint64_t size = 0;
  CAPI_ASSERT_OK(polyipc_shm_data(m, &p, &size, &e));
  EXPECT_EQ(10000u, size);
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % 4096);
  for (uint64_t i = 0; i < size; ++i) ASSERT_EQ(0, static_cast<char*>(p)[i]);
  std::memset(p, 7, size);
  CAPI_ASSERT_OK(polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, m2.out(), &e));  // any size
  void* p2 = nullptr;
  CAPI_ASSERT_OK(polyipc_shm_data(m2, &p2, &size, &e));
  EXPECT_EQ(10000u, size);
  EXPECT_EQ(7, static_cast<char*>(p2)[9999]);
  // unlinked: views stay valid
  CAPI_ASSERT_OK(polyipc_unlink(n.c_str(), &e));
  static_cast<char*>(p2)[0] = 9;
  EXPECT_EQ(9, static_cast<char*>(p)[0]);
}

TEST_F(PipeTest, SharedMemoryBadSizes) {
  std::string n = Name("m");
  Shm m;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_shm_open(n.c_str(), POLYIPC_CREATE_ONLY, 0, nullptr, m.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, m.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_NO_MEMORY, polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, uint64_t{1} << 43, nullptr, m.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "/dev/shm")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, UINT64_MAX, nullptr, m.out(), &e1));
  CAPI_ASSERT_OK(polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 4096, nullptr, m.out(), &e));
  Shm other;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_shm_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, 8192, nullptr, other.out(), &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "4096")) << e1.Msg();
  Array a;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 1, nullptr, a.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_shm_data(nullptr, nullptr, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_shm_data(m, nullptr, nullptr, &e1));
}

// ---- Value / Array ----------------------------------------------------------------

TEST_F(PipeTest, ArrayAtomicsOnInt64AndDouble) {
  Array a, d;
  CAPI_ASSERT_OK(polyipc_array_open(Name("a").c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 8, nullptr, a.out(), &e));
  int64_t v = -1, prev = -1, actual = -1;
  int swapped = -1;
  CAPI_ASSERT_OK(polyipc_array_load_i64(a, 7, &v, &e));
  EXPECT_EQ(0, v);
  CAPI_ASSERT_OK(polyipc_array_store_i64(a, 7, INT64_MAX, &e));
  CAPI_ASSERT_OK(polyipc_array_add_i64(a, 7, 1, &prev, &e));  // wraps
  EXPECT_EQ(INT64_MAX, prev);
  CAPI_ASSERT_OK(polyipc_array_load_i64(a, 7, &v, &e));
  EXPECT_EQ(INT64_MIN, v);
  CAPI_ASSERT_OK(polyipc_array_compare_exchange_i64(a, 7, 5, 6, &actual, &swapped, &e));
  EXPECT_EQ(0, swapped);
  EXPECT_EQ(INT64_MIN, actual);
  CAPI_ASSERT_OK(polyipc_array_compare_exchange_i64(a, 7, INT64_MIN, 6, &actual, &swapped, &e));
  EXPECT_EQ(1, swapped);
  CAPI_ASSERT_OK(polyipc_array_add_i64(a, 0, 3, nullptr, &e));
  uint64_t len = 0;
  CAPI_ASSERT_OK(polyipc_array_length(a, &len, &e));
  EXPECT_EQ(8u, len);

  CAPI_ASSERT_OK(polyipc_array_open(Name("d").c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_DOUBLE, 1, nullptr, d.out(), &e));
  double x = -1, px = -1;
  CAPI_ASSERT_OK(polyipc_array_add_f64(d, 0, 0.25, &px, &e));
  CAPI_ASSERT_OK(polyipc_array_add_f64(d, 0, 0.5, &px, &e));
  EXPECT_EQ(0.25, px);
  CAPI_ASSERT_OK(polyipc_array_load_f64(d, 0, &x, &e));
  EXPECT_EQ(0.75, x);
  CAPI_ASSERT_OK(polyipc_array_store_f64(d, 0, std::nan(""), &e));
  double nan = 0;
  CAPI_ASSERT_OK(polyipc_array_load_f64(d, 0, &nan, &e));
  CAPI_ASSERT_OK(polyipc_array_compare_exchange_f64(d, 0, nan, 1.0, &x, &swapped, &e));  // bits: NaN matches itself
  EXPECT_EQ(1, swapped);
  CAPI_ASSERT_OK(polyipc_array_compare_exchange_f64(d, 0, -0.0, 2.0, &x, &swapped, &e));  // -0.0 != 1.0
  EXPECT_EQ(0, swapped);
  EXPECT_EQ(1.0, x);
}

TEST_F(PipeTest, ArrayBadInput) {
  std::string n = Name("a");
  Array a;
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_array_open(n.c_str(), POLYIPC_CREATE_ONLY, POLYIPC_INT64, 0, nullptr, a.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, (polyipc_elem_type)5, 1, nullptr, a.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_NO_MEMORY, polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, uint64_t{1} << 40, nullptr, a.out(), &e1));
  CAPI_ASSERT_OK(polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 4, nullptr, a.out(), &e));
  int64_t v;
  EXPECT_ST(POLYIPC_ERR_OUT_OF_RANGE, polyipc_array_load_i64(a, 4, &v, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "index 4 out of range")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_OUT_OF_RANGE, polyipc_array_store_i64(a, UINT64_MAX, 1, &e1));
  double d;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_array_load_f64(a, 0, &d, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "int64")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_array_load_i64(a, 0, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_array_load_i64(nullptr, 0, &v, &e1));
  Array other;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_DOUBLE, 4, nullptr, other.out(), &e1));
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 5, nullptr, other.out(), &e1));
  CAPI_ASSERT_OK(polyipc_array_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 0, nullptr, other.out(), &e));
  // the optional lock
  CAPI_ASSERT_OK(polyipc_array_acquire(a, 0, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_array_acquire(other, 0, nullptr));  // same thread, not recursive
  std::thread([&] { EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_array_release(a, nullptr)); }).join();
  CAPI_ASSERT_OK(polyipc_array_release(a, &e));
  EXPECT_ST(POLYIPC_ERR_NOT_OWNER, polyipc_array_release(a, nullptr));
}

}  // namespace
