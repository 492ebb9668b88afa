// bench/ipc_bench.cpp: polyipc_ipc_bench, polyipc's pipes and shared memory
// side by side with a Unix socketpair, pipe(2) and Python's
// multiprocessing.Pipe, in one interleaved run (driver: bench/ipc).
//
// Same method as polyipc_bench and polyipc_sync_bench: every scenario x peer
// is a cell; a round runs every scenario and within it every peer (the order
// rotates per round); the whole is repeated R times. Ratios "polyipc / peer"
// are taken within a round and the median over rounds is reported. The load
// other processes put on the machine is measured beside every cell, and a
// cell run beside too much of it is re-run (the quietest attempt is kept).
//
// Message protocol, identical for every peer: every message is exactly the
// scenario's size; stream peers (socketpair, pipe(2)) read exactly that many
// bytes per message (a read loop, no framing, no read-ahead). Throughput: the
// first 8 bytes carry a sequence number (checked at the receiver) or
// kWarmEnd; the sender ends the timed phase by closing its end (EOF).
// Round trip: the ponger echoes until EOF.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "harness.hpp"
#include "report.hpp"
#include "polyipc.h"

#ifndef POLYIPC_BENCH_SOURCE_DIR
#define POLYIPC_BENCH_SOURCE_DIR "bench"
#endif

using namespace bench;
using nlohmann::json;

namespace {

// ---- options --------------------------------------------------------------------
struct Options : CommonOptions {
  Options() { py_script = POLYIPC_BENCH_SOURCE_DIR "/peers/mp_pipe.py"; }
  int rtt_iters = 20000, rtt_warm = 2000;  // round trips per cell (after the warm-up)
  double seconds = 0.5, warm_seconds = 0.1;  // throughput: timed phase, warm-up
  double copy_seconds = 0.3;                // shm-copy: timed phase per cell, in 30 batches
  uint64_t pipe_capacity = 0;               // polyipc pipe: bytes per direction (0: the library default)
  double cell_timeout = 60.0;
};

void usage() {
  printf(
      "usage: polyipc_ipc_bench [options]\n"
      "  --rounds R         repeat the whole interleaved run R times (default 3; 1 with --quick)\n"
      "  --quick            smoke run: fewer round trips, shorter cells\n"
      "  --only LIST        comma-separated scenarios: rtt-64, tput-64, tput-64K, shm-copy\n"
      "  --peers LIST       comma-separated peers to keep (polyipc rows are always kept)\n"
      "  --rtt-iters N      round trips per cell (default 20000, plus 2000 of warm-up)\n"
      "  --seconds S        throughput: timed phase per cell (default 0.5, after a 0.1 s warm-up)\n"
      "  --copy-seconds S   shm-copy: timed phase per cell, in 30 batches (default 0.3)\n"
      "  --capacity BYTES   polyipc pipe capacity per direction (default: the library's, 4 MiB)\n"
      "  --max-other L      re-run a cell when other processes used more than L cores meanwhile (default 0.35)\n"
      "  --retries N        at most N re-runs per cell (default 2; 0 disables)\n"
      "  --json FILE        write every cell and the summary as JSON\n"
      "  --py FILE          the Python peer script (default: the source tree's peers/mp_pipe.py)\n"
      "  --python EXE       the Python interpreter (default python3)\n"
      "peers: rtt-64:   polyipc_pipe polyipc_pipe_json socketpair pipe2 mp_pipe\n"
      "       tput-*:   polyipc_pipe socketpair pipe2 pipe2_1M\n"
      "       shm-copy: polyipc_shm private\n");
}

[[noreturn]] void poly_fail(const char* what, int rc, const polyipc_error& e) {
  char m[400];
  snprintf(m, sizeof m, "%s: %s (%d): %s", what, polyipc_status_name(rc), rc, e.message);
  throw std::runtime_error(m);
}
[[noreturn]] void sys_fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + strerror(err));
}

// ---- connections ---------------------------------------------------------------------
// A two-ended connection: made in the parent before fork; each child calls
// attach(side) (0 or 1) and keeps only its end; the parent calls
// parent_after_fork() to drop what it holds, so that closing an end is EOF.
// send() blocks until the whole message is handed over; recv() reads exactly
// one message of n bytes, false at EOF.
class Conn {
 public:
  virtual ~Conn() = default;
  virtual void attach(int side) = 0;
  virtual void parent_after_fork() {}
  virtual void send(const void* data, size_t n) = 0;
  virtual bool recv(void* buf, size_t n) = 0;
  virtual void close_end() = 0;
};

// polyipc pipe: end A in side 0, end B in side 1, opened by name in each child.
class PolyPipe final : public Conn {
 public:
  PolyPipe(const std::string& name, bool json_format, uint64_t capacity)
      : name_("ib-" + name), json_(json_format), capacity_(capacity) {
    polyipc_unlink(name_.c_str(), nullptr);
  }
  ~PolyPipe() override {
    if (p_) polyipc_pipe_close(p_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  void attach(int side) override {
    polyipc_pipe_options o;
    polyipc_pipe_options_init(&o);
    o.format = json_ ? POLYIPC_FORMAT_JSON : POLYIPC_FORMAT_BYTES;
    if (capacity_) o.capacity_bytes = capacity_;  // 0: the library's default
    int rc = polyipc_pipe_open(name_.c_str(), POLYIPC_OPEN_OR_CREATE, side == 0 ? POLYIPC_END_A : POLYIPC_END_B, &o,
                               &p_, &e_);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_pipe_open " + name_).c_str(), rc, e_);
  }
  void send(const void* d, size_t n) override {
    int rc = polyipc_pipe_send(p_, d, n, POLYIPC_FOREVER, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_pipe_send", rc, e_);
  }
  bool recv(void* buf, size_t n) override {
    size_t len = 0;
    int rc = polyipc_pipe_recv_into(p_, buf, n, &len, POLYIPC_FOREVER, &e_);
    if (rc == POLYIPC_ERR_CLOSED) return false;
    if (rc != POLYIPC_OK) poly_fail("polyipc_pipe_recv_into", rc, e_);
    if (len != n) throw std::runtime_error("polyipc pipe: message of " + std::to_string(len) + " bytes, expected " +
                                           std::to_string(n));
    return true;
  }
  void close_end() override {
    polyipc_pipe_close(p_);
    p_ = nullptr;
  }

 private:
  std::string name_;
  bool json_;
  uint64_t capacity_;
  polyipc_pipe* p_ = nullptr;
  polyipc_error e_{};
};

// A socketpair (one duplex socket per side) or two pipe(2)s (one per direction).
class FdPair final : public Conn {
 public:
  enum Kind { Socketpair, Pipe2, Pipe2Big };
  explicit FdPair(Kind k) {
    if (k == Socketpair) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) sys_fail("socketpair", errno);
      fd_[0][0] = fd_[0][1] = sv[0];
      fd_[1][0] = fd_[1][1] = sv[1];
    } else {
      int a[2], b[2];  // a: side 0 -> side 1, b: side 1 -> side 0
      if (pipe(a) != 0) sys_fail("pipe", errno);
      if (pipe(b) != 0) sys_fail("pipe", errno);
      fd_[0][0] = b[0], fd_[0][1] = a[1];
      fd_[1][0] = a[0], fd_[1][1] = b[1];
      if (k == Pipe2Big)
        for (int fd : {a[1], b[1]})
          if (fcntl(fd, F_SETPIPE_SZ, 1 << 20) < 0) {
            const int err = errno;
            close_all();
            throw NotAvailable(std::string("F_SETPIPE_SZ 1 MiB: ") + strerror(err));
          }
    }
  }
  ~FdPair() override { close_all(); }
  void attach(int side) override {
    side_ = side;
    for (int fd : {fd_[side ^ 1][0], fd_[side ^ 1][1]})
      if (fd != fd_[side][0] && fd != fd_[side][1] && fd >= 0) close(fd);
    fd_[side ^ 1][0] = fd_[side ^ 1][1] = -1;
  }
  void parent_after_fork() override { close_all(); }
  void send(const void* d, size_t n) override {
    const char* p = static_cast<const char*>(d);
    while (n > 0) {
      ssize_t w = write(fd_[side_][1], p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        sys_fail("write", errno);
      }
      p += w, n -= size_t(w);
    }
  }
  bool recv(void* buf, size_t n) override {
    char* p = static_cast<char*>(buf);
    size_t got = 0;
    while (got < n) {
      ssize_t r = read(fd_[side_][0], p + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        sys_fail("read", errno);
      }
      if (r == 0) {
        if (got == 0) return false;
        throw std::runtime_error("EOF inside a message");
      }
      got += size_t(r);
    }
    return true;
  }
  void close_end() override {
    const int r = fd_[side_][0], w = fd_[side_][1];
    if (r >= 0) close(r);
    if (w >= 0 && w != r) close(w);
    fd_[side_][0] = fd_[side_][1] = -1;
  }

 private:
  void close_all() {
    for (auto& s : fd_)
      for (int& fd : s)
        if (fd >= 0) {
          int f = fd;
          for (auto& s2 : fd_)
            for (int& g : s2)
              if (g == f) g = -1;
          close(f);
        }
  }
  int fd_[2][2] = {{-1, -1}, {-1, -1}};  // [side][0: read, 1: write]
  int side_ = 0;
};

// ---- results ------------------------------------------------------------------------
struct IpcResult {
  bool ok = false;
  std::string note;
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, max = 0;  // rtt, ns
  double rate = 0, gbps = 0, msgs = 0;                    // tput: msg/s, GB/s (1e9 bytes); shm-copy: gbps
  double gbps_best = 0;                                   // shm-copy: best batch
  double cpu = 0, seconds = 0;
  double other_load = 0, steal = 0;
  int attempts = 1;
  static IpcResult na(const std::string& why) {
    IpcResult r;
    r.note = why;
    return r;
  }
};


using ConnFactory = std::function<std::unique_ptr<Conn>()>;

// ---- scenario 1: round trip ------------------------------------------------------------
IpcResult run_rtt(const ConnFactory& make, size_t size, bool json_payload, const Options& o) {
  std::unique_ptr<Conn> c;
  try {
    c = make();
  } catch (const NotAvailable& e) {
    return IpcResult::na(e.what());
  }
  Group g;
  Ctl* ctl = g.ctl;
  const int iters = o.rtt_iters, warm = o.rtt_warm;
  g.spawn([&] {  // pinger: measures
    c->attach(0);
    std::vector<char> buf(size), in(size);
    fill_payload(buf.data(), size, json_payload);
    std::vector<uint64_t> lat(static_cast<size_t>(iters));
    child_barrier(ctl, 1);
    const double c0 = cpu_seconds_self();
    const uint64_t t0 = now_ns();
    for (int i = -warm; i < iters; ++i) {
      const uint64_t a = now_ns();
      c->send(buf.data(), size);
      if (!c->recv(in.data(), size)) throw std::runtime_error("rtt: EOF from the ponger");
      const uint64_t b = now_ns();
      if (i >= 0) lat[size_t(i)] = b - a;
    }
    ctl->wall_s[0] = double(now_ns() - t0) * 1e-9;
    if (memcmp(buf.data(), in.data(), size) != 0) throw std::runtime_error("rtt: the echo differs");
    ctl->cpu_s[0] = cpu_seconds_self() - c0;
    c->close_end();
    double sum = 0;
    for (uint64_t v : lat) sum += double(v);
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double q) { return double(lat[std::min(lat.size() - 1, size_t(q * double(lat.size())))]); };
    ctl->p50 = pct(0.50);
    ctl->p99 = pct(0.99);
    ctl->p999 = pct(0.999);
    ctl->max = double(lat.back());
    ctl->mean = sum / double(lat.size());
  });
  g.spawn([&] {  // ponger: echoes until EOF
    c->attach(1);
    std::vector<char> buf(size);
    child_barrier(ctl, 1);
    const double c0 = cpu_seconds_self();
    while (c->recv(buf.data(), size)) c->send(buf.data(), size);
    ctl->cpu_s[1] = cpu_seconds_self() - c0;
    c->close_end();
  });
  c->parent_after_fork();
  const uint64_t deadline = now_ns() + uint64_t(o.cell_timeout * 1e9);
  if (!g.wait_arrived(2, deadline)) return IpcResult::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_all(deadline)) return IpcResult::na("ERROR " + g.error());
  IpcResult r;
  r.ok = true;
  r.p50 = ctl->p50;
  r.p99 = ctl->p99;
  r.p999 = ctl->p999;
  r.mean = ctl->mean;
  r.max = ctl->max;
  r.msgs = double(iters);
  r.seconds = ctl->wall_s[0];
  r.rate = r.msgs / r.seconds;
  r.cpu = (ctl->cpu_s[0] + ctl->cpu_s[1]) / r.seconds;
  return r;
}

IpcResult run_python_rtt(const Options& o) {
  json j;
  std::string why;
  const std::string args =
      "--iters " + std::to_string(o.rtt_iters) + " --warm " + std::to_string(o.rtt_warm) + " --size 64";
  if (!run_python_peer(o, args, int(o.cell_timeout * 3), &j, &why)) return IpcResult::na(why);
  IpcResult r;
  r.ok = true;
  r.p50 = j.value("p50", 0.0);
  r.p99 = j.value("p99", 0.0);
  r.p999 = j.value("p999", 0.0);
  r.mean = j.value("mean", 0.0);
  r.max = j.value("max", 0.0);
  r.seconds = j.value("seconds", 0.0);
  r.msgs = j.value("iters", 0.0);
  if (r.seconds > 0) r.rate = r.msgs / r.seconds;
  return r;
}

// ---- scenario 2: one-way throughput ------------------------------------------------------
constexpr uint64_t kWarmEnd = ~uint64_t{0};

IpcResult run_tput(const ConnFactory& make, size_t size, const Options& o) {
  std::unique_ptr<Conn> c;
  try {
    c = make();
  } catch (const NotAvailable& e) {
    return IpcResult::na(e.what());
  }
  Group g;
  Ctl* ctl = g.ctl;
  g.spawn([&] {  // sender
    c->attach(0);
    std::vector<char> buf(size);
    fill_payload(buf.data(), size, false);
    child_barrier(ctl, 1);
    const uint64_t warm_end = now_ns() + uint64_t(o.warm_seconds * 1e9);
    for (uint64_t n = 0; n < 2000000; ++n) {
      if ((n & 15) == 0 && now_ns() > warm_end) break;
      memcpy(buf.data(), &n, 8);
      c->send(buf.data(), size);
    }
    memcpy(buf.data(), &kWarmEnd, 8);
    c->send(buf.data(), size);
    child_barrier(ctl, 2);
    const uint64_t deadline = ctl->t0_ns + uint64_t(o.seconds * 1e9);
    const double c0 = cpu_seconds_self();
    const uint64_t check = size < 4096 ? 64 : 1;
    uint64_t seq = 0;
    for (;;) {
      for (uint64_t k = 0; k < check; ++k, ++seq) {
        memcpy(buf.data(), &seq, 8);
        c->send(buf.data(), size);
      }
      if (now_ns() >= deadline) break;
    }
    ctl->count[0] = seq;
    ctl->cpu_s[0] = cpu_seconds_self() - c0;
    c->close_end();  // EOF ends the receiver's timed phase
  });
  g.spawn([&] {  // receiver
    c->attach(1);
    std::vector<char> buf(size);
    child_barrier(ctl, 1);
    for (;;) {
      if (!c->recv(buf.data(), size)) throw std::runtime_error("warm-up: EOF");
      uint64_t h;
      memcpy(&h, buf.data(), 8);
      if (h == kWarmEnd) break;
    }
    child_barrier(ctl, 2);
    const double c0 = cpu_seconds_self();
    uint64_t count = 0;
    while (c->recv(buf.data(), size)) {
      uint64_t h;
      memcpy(&h, buf.data(), 8);
      if (h != count)
        throw std::runtime_error("receiver: message " + std::to_string(count) + " carries " + std::to_string(h));
      ++count;
    }
    ctl->tend_ns[0] = now_ns();
    ctl->cpu_s[1] = cpu_seconds_self() - c0;
    ctl->count[1] = count;
  });
  c->parent_after_fork();
  const uint64_t deadline = now_ns() + uint64_t(o.cell_timeout * 1e9);
  if (!g.wait_arrived(2, deadline)) return IpcResult::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_arrived(4, deadline)) return IpcResult::na("ERROR " + g.error());
  g.release(2);
  if (!g.wait_all(deadline)) return IpcResult::na("ERROR " + g.error());
  if (ctl->count[0] != ctl->count[1])
    return IpcResult::na("ERROR sent " + std::to_string(ctl->count[0]) + " but received " +
                         std::to_string(ctl->count[1]));
  IpcResult r;
  r.ok = true;
  r.msgs = double(ctl->count[1]);
  r.seconds = double(ctl->tend_ns[0] - ctl->t0_ns) * 1e-9;
  r.rate = r.msgs / r.seconds;
  r.gbps = r.rate * double(size) / 1e9;
  r.cpu = (ctl->cpu_s[0] + ctl->cpu_s[1]) / r.seconds;
  return r;
}

// ---- scenario 3: copy-in bandwidth into shared memory --------------------------------------
// memcpy of 1 MiB from a private, warmed source into the destination, in 30
// batches of about copy_seconds / 30; GB/s of the median batch (and the best).
IpcResult run_copy(const std::string& name, bool shm, const Options& o) {
  constexpr size_t kSize = 1u << 20;
  polyipc_shm* m = nullptr;
  polyipc_error e{};
  const std::string nm = "ib-" + name;
  void* dst = nullptr;
  struct Cleanup {
    polyipc_shm*& m;
    void*& priv;
    const std::string& nm;
    ~Cleanup() {
      if (m) polyipc_shm_close(m), polyipc_unlink(nm.c_str(), nullptr);
      free(priv);
    }
  };
  void* priv = nullptr;
  Cleanup cleanup{m, priv, nm};
  if (shm) {
    polyipc_unlink(nm.c_str(), nullptr);
    int rc = polyipc_shm_open(nm.c_str(), POLYIPC_OPEN_OR_CREATE, kSize, nullptr, &m, &e);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_shm_open " + nm).c_str(), rc, e);
    uint64_t sz = 0;
    rc = polyipc_shm_data(m, &dst, &sz, &e);
    if (rc != POLYIPC_OK) poly_fail("polyipc_shm_data", rc, e);
    if (sz < kSize) throw std::runtime_error("polyipc_shm_data: block of " + std::to_string(sz) + " bytes");
  } else {
    if (posix_memalign(&priv, 4096, kSize) != 0) throw std::runtime_error("posix_memalign failed");
    dst = priv;
  }
  std::vector<char> src(kSize);
  fill_payload(src.data(), kSize, false);
  memset(dst, 1, kSize);  // both warmed: every page faulted in before the timed phase
  auto copy = [&] {
    memcpy(dst, src.data(), kSize);
    asm volatile("" : : "r"(dst) : "memory");  // the copy is not dead
  };
  int warm = 0;
  const uint64_t w0 = now_ns();
  do copy(), ++warm;
  while (now_ns() - w0 < 20000000 || warm < 8);
  const double est = double(now_ns() - w0) / warm;
  const int kBatches = 30;
  const int per = std::max(4, int(o.copy_seconds * 1e9 / kBatches / est));
  std::vector<double> gbps;
  const uint64_t t0 = now_ns();
  for (int b = 0; b < kBatches; ++b) {
    const uint64_t a = now_ns();
    for (int i = 0; i < per; ++i) copy();
    gbps.push_back(double(kSize) * per / double(now_ns() - a));
  }
  if (memcmp(dst, src.data(), kSize) != 0) throw std::runtime_error("copy check failed");
  IpcResult r;
  r.ok = true;
  r.seconds = double(now_ns() - t0) * 1e-9;
  r.msgs = double(per) * kBatches;
  r.gbps = median(gbps);
  r.gbps_best = vmax(gbps);
  return r;
}

// ---- scenarios and cells ---------------------------------------------------------------
enum class Kind { Rtt, Tput, Copy };
struct Scenario {
  std::string id, title;
  Kind kind;
  size_t size;
  std::vector<std::string> peers;  // row order; the first is the base of the ratios
};

std::vector<Scenario> scenarios() {
  return {
      {"rtt-64", "round trip of a 64 B message between two processes (ping-pong, one duplex connection)", Kind::Rtt,
       64, {"polyipc_pipe", "polyipc_pipe_json", "socketpair", "pipe2", "mp_pipe"}},
      {"tput-64", "one-way throughput, 64 B messages, sender and receiver processes", Kind::Tput, 64,
       {"polyipc_pipe", "socketpair", "pipe2", "pipe2_1M"}},
      {"tput-64K", "one-way throughput, 64 KiB messages, sender and receiver processes", Kind::Tput, 64 << 10,
       {"polyipc_pipe", "polyipc_pipe_1M", "socketpair", "pipe2", "pipe2_1M"}},
      {"shm-copy", "memcpy of 1 MiB from private memory into the destination, both warmed (GB/s)", Kind::Copy,
       1 << 20, {"polyipc_shm", "private"}},
  };
}

bool is_polyipc(const std::string& peer) { return peer.rfind("polyipc", 0) == 0; }

ConnFactory factory(const std::string& peer, const std::string& name, const Options& o) {
  if (peer == "polyipc_pipe") return [=] { return std::make_unique<PolyPipe>(name, false, o.pipe_capacity); };
  // The default before 2026-11-23: on this VM (1 MiB L2 per core) a ring that
  // fits L2 moves 64 KiB messages 2-3x slower (see docs/benchmarks.md).
  if (peer == "polyipc_pipe_1M") return [=] { return std::make_unique<PolyPipe>(name, false, 1u << 20); };
  if (peer == "polyipc_pipe_json") return [=] { return std::make_unique<PolyPipe>(name, true, o.pipe_capacity); };
  if (peer == "socketpair") return [] { return std::make_unique<FdPair>(FdPair::Socketpair); };
  if (peer == "pipe2") return [] { return std::make_unique<FdPair>(FdPair::Pipe2); };
  if (peer == "pipe2_1M") return [] { return std::make_unique<FdPair>(FdPair::Pipe2Big); };
  return nullptr;
}

IpcResult run_cell(const Options& o, const Scenario& sc, const std::string& peer, int round) {
  const std::string name = "r" + std::to_string(round) + "-" + sc.id + "-" + peer;
  try {
    switch (sc.kind) {
      case Kind::Rtt:
        if (peer == "mp_pipe") return run_python_rtt(o);
        if (auto f = factory(peer, name, o)) return run_rtt(f, sc.size, peer == "polyipc_pipe_json", o);
        break;
      case Kind::Tput:
        if (auto f = factory(peer, name, o)) return run_tput(f, sc.size, o);
        break;
      case Kind::Copy:
        return run_copy(name, peer == "polyipc_shm", o);
    }
  } catch (const std::exception& e) {
    return IpcResult::na(std::string("ERROR ") + e.what());
  }
  return IpcResult::na("unknown peer");
}

// ---- tables --------------------------------------------------------------------------
using Table = Results<IpcResult>;  // [scenario][peer][round]

double m_p50(const IpcResult& r) { return r.p50; }
double m_p99(const IpcResult& r) { return r.p99; }
double m_rate(const IpcResult& r) { return r.rate; }
double m_gbps(const IpcResult& r) { return r.gbps; }

double (*main_metric(Kind k))(const IpcResult&) { return k == Kind::Rtt ? m_p50 : k == Kind::Tput ? m_rate : m_gbps; }


void print_scenario(const Table& t, const Scenario& sc) {
  const std::string& base = sc.peers.front();
  const auto& cells = t.at(sc.id);
  if (sc.kind == Kind::Rtt)
    printf("%-18s %8s %8s %9s %9s %15s %6s %6s  %-24s %s\n", "peer", "p50 us", "p99 us", "p99.9 us", "max us",
           "p50 min..max", "CPU", "others", (base + "/peer p50").c_str(), "p99 ratio");
  else if (sc.kind == Kind::Tput)
    printf("%-18s %9s %8s %15s %6s %6s  %s\n", "peer", "msg/s", "GB/s", "GB/s min..max", "CPU", "others",
           (base + " / peer (rate)").c_str());
  else
    printf("%-18s %8s %15s %9s %6s  %s\n", "peer", "GB/s", "min..max", "best GB/s", "others",
           (base + " / peer (GB/s)").c_str());
  for (auto& peer : sc.peers) {
    auto it = cells.find(peer);
    if (it == cells.end()) continue;
    const auto& rs = it->second;
    const bool is_base = peer == base;
    std::string failed;
    size_t ok = 0;
    for (auto& r : rs) ok += r.ok;
    if (ok == 0) {
      printf("%-18s N/A: %s\n", peer.c_str(), first_note(rs).c_str());
      continue;
    }
    if (ok < rs.size()) failed = "  [" + std::to_string(rs.size() - ok) + "/" + std::to_string(rs.size()) +
                                 " rounds failed: " + first_note(rs) + "]";
    auto cpu = median(collect(rs, [](const IpcResult& r) { return r.cpu; }));
    if (sc.kind == Kind::Rtt) {
      auto p50 = collect(rs, m_p50);
      printf("%-18s %8.2f %8.2f %9.2f %9.1f %15s %6s %6.2f  %-24s %s%s\n", peer.c_str(), median(p50) / 1e3,
             median(collect(rs, m_p99)) / 1e3, median(collect(rs, [](const IpcResult& r) { return r.p999; })) / 1e3,
             median(collect(rs, [](const IpcResult& r) { return r.max; })) / 1e3,
             (fmt("%.2f", vmin(p50) / 1e3) + ".." + fmt("%.2f", vmax(p50) / 1e3)).c_str(),
             cpu > 0 ? fmt("%.0f%%", cpu * 100).c_str() : "?", others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p50)).c_str(),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p99)).c_str(), failed.c_str());
    } else if (sc.kind == Kind::Tput) {
      auto g = collect(rs, m_gbps);
      printf("%-18s %9s %8.3f %15s %5.0f%% %6.2f  %s%s\n", peer.c_str(), si(median(collect(rs, m_rate))).c_str(),
             median(g), (fmt("%.3f", vmin(g)) + ".." + fmt("%.3f", vmax(g))).c_str(), cpu * 100, others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate)).c_str(), failed.c_str());
    } else {
      auto g = collect(rs, m_gbps);
      printf("%-18s %8.2f %15s %9.2f %6.2f  %s%s\n", peer.c_str(), median(g),
             (fmt("%.2f", vmin(g)) + ".." + fmt("%.2f", vmax(g))).c_str(),
             vmax(collect(rs, [](const IpcResult& r) { return r.gbps_best; })), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_gbps)).c_str(), failed.c_str());
    }
  }
}

std::vector<Target> targets(const Table& t) {
  return {
      ratio_target(t, "pipe round trip p50 (64 B): polyipc_pipe / socketpair <= 0.5", "rtt-64", "polyipc_pipe",
                   "socketpair", m_p50, 0.5, false),
      ratio_target(t, "pipe throughput (64 KiB): polyipc_pipe / socketpair >= 3 (msg/s)", "tput-64K", "polyipc_pipe",
                   "socketpair", m_rate, 3.0, true),
      ratio_target(t, "pipe throughput (64 KiB), 1 MiB ring: polyipc_pipe_1M / socketpair (the old default)",
                   "tput-64K", "polyipc_pipe_1M", "socketpair", m_rate, 3.0, true, /*info=*/true),
      ratio_target(t, "shared memory 1 MiB copy-in: polyipc_shm / private >= 0.9 (expected ~1x)", "shm-copy",
                   "polyipc_shm", "private", m_gbps, 0.9, true, /*info=*/true),
  };
}

json result_json(const IpcResult& r) {
  json j = {{"ok", r.ok}};
  if (!r.ok) j["note"] = r.note;
  auto put = [&](const char* k, double v) {
    if (v != 0 && std::isfinite(v)) j[k] = v;
  };
  put("p50_ns", r.p50);
  put("p99_ns", r.p99);
  put("p999_ns", r.p999);
  put("mean_ns", r.mean);
  put("max_ns", r.max);
  put("msgs_per_s", r.rate);
  put("gb_per_s", r.gbps);
  put("gb_per_s_best_batch", r.gbps_best);
  put("messages", r.msgs);
  put("cpu_cores", r.cpu);
  put("seconds", r.seconds);
  return j;
}

std::string describe(const Scenario& sc, const IpcResult& r) {
  if (sc.kind == Kind::Rtt) return fmt("p50 %.2f us", r.p50 / 1e3) + fmt("  p99 %.2f us", r.p99 / 1e3) + fmt("  p99.9 %.2f us", r.p999 / 1e3);
  if (sc.kind == Kind::Tput) return si(r.rate) + " msg/s" + fmt("  %.3f GB/s", r.gbps) + fmt("  cpu %.0f%%", r.cpu * 100);
  return fmt("%.2f GB/s", r.gbps) + fmt(" (best batch %.2f)", r.gbps_best);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (Args a(argc, argv); a.next();) {
    if (parse_common_option(a, o)) continue;
    if (a.is("--rtt-iters")) o.rtt_iters = std::max(100, int(a.integer()));
    else if (a.is("--seconds")) o.seconds = std::max(0.02, a.number());
    else if (a.is("--copy-seconds")) o.copy_seconds = std::max(0.01, a.number());
    else if (a.is("--capacity")) o.pipe_capacity = std::max(64ull, strtoull(a.value(), nullptr, 10));
    else if (a.is("-h") || a.is("--help")) return usage(), 0;
    else return unknown_option(a, usage);
  }
  apply_quick(o);
  if (o.quick) {
    o.rtt_iters = std::min(o.rtt_iters, 3000);
    o.rtt_warm = 300;
    o.seconds = std::min(o.seconds, 0.15);
    o.warm_seconds = 0.03;
    o.copy_seconds = std::min(o.copy_seconds, 0.05);
  }
  const std::string ns = "ipcbench-" + std::to_string(getpid());
  setenv("POLYIPC_NAMESPACE", ns.c_str(), 1);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<Scenario> scs = select_scenarios(scenarios(), o, is_polyipc);
  if (scs.empty()) {
    fprintf(stderr, "nothing to run (check --only / --peers)\n");
    return 2;
  }

  RunTimes times;
  printf("polyipc_ipc_bench: %d round(s); %d round trips (+%d warm-up), %g s throughput cells (+%g s warm-up), "
         "%g s of copies per cell; polyipc pipe capacity %s per direction%s\n",
         o.rounds, o.rtt_iters, o.rtt_warm, o.seconds, o.warm_seconds, o.copy_seconds,
         o.pipe_capacity ? (std::to_string(o.pipe_capacity) + " bytes").c_str() : "the library's default",
         o.quick ? " (--quick)" : "");
  printf("machine: %ld CPUs online, load average %s at start; POLYIPC_NAMESPACE=%s; polyipc %s\n",
         sysconf(_SC_NPROCESSORS_ONLN), times.load_start.c_str(), ns.c_str(), polyipc_version());
  fflush(stdout);

  Table t;
  const json cells = run_rounds(
      o, scs, t, [&](const Scenario& sc, const std::string& peer, int r) { return run_cell(o, sc, peer, r); },
      [](const Scenario&) { return true; }, describe, result_json);
  times.finish();
  print_run_note(t, o, times);

  json summary = json::object();
  for (auto& sc : scs) {
    printf("\n== %s: %s ==\n", sc.id.c_str(), sc.title.c_str());
    print_scenario(t, sc);
    auto metric = main_metric(sc.kind);
    for (auto& peer : sc.peers) {
      auto& rs = t[sc.id][peer];
      json s = {{"rounds_ok", collect(rs, metric).size()}};
      auto med = [&](const char* k, double (*m)(const IpcResult&)) {
        auto v = collect(rs, m);
        if (!v.empty() && std::isfinite(median(v)) && median(v) != 0) s[k] = median(v);
      };
      med("p50_ns", m_p50);
      med("p99_ns", m_p99);
      med("p999_ns", [](const IpcResult& r) { return r.p999; });
      if (sc.kind != Kind::Rtt) med("gb_per_s", m_gbps);
      if (sc.kind == Kind::Tput) med("msgs_per_s", m_rate);
      med("cpu_cores", [](const IpcResult& r) { return r.cpu; });
      s["other_load_cores"] = others(rs);
      if (collect(rs, metric).empty()) s["note"] = first_note(rs);
      if (peer != sc.peers.front()) {
        auto v = ratios(t, sc.id, sc.peers.front(), peer, metric);
        if (!v.empty()) s["ratio_base_over_peer"] = median(v);
      }
      summary[sc.id][peer] = s;
    }
  }

  const json tj = report_targets(targets(t));
  warn_leftover_objects(ns);
  write_json_file(o,
                  {{"rtt_iters", o.rtt_iters},
                   {"rtt_warm", o.rtt_warm},
                   {"tput_seconds", o.seconds},
                   {"tput_warm_seconds", o.warm_seconds},
                   {"copy_seconds", o.copy_seconds},
                   {"pipe_capacity", o.pipe_capacity}},
                  times, cells, summary, tj);
  return 0;
}
