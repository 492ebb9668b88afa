// bench/peers/polyipc.cpp: the library under test, through its C API only:
// POLYIPC_OPEN_OR_CREATE in the parent and again in every child, get_into with
// a reusable buffer, POLYIPC_FOREVER timeouts, put_many/get_many for batches.
// Objects live in POLYIPC_NAMESPACE (the driver sets bench-<pid>).
#include "peers.hpp"

#ifndef POLYIPC_BENCH_NO_LIB
#include "polyipc.h"

namespace bench {
namespace {

[[noreturn]] void fail(const char* what, int rc, const polyipc_error& e) {
  char m[400];
  snprintf(m, sizeof m, "%s: %s (%d): %s", what, polyipc_status_name(rc), rc, e.message);
  throw std::runtime_error(m);
}

polyipc_queue* open_queue(const std::string& name, const Spec& s) {
  polyipc_queue_options o;
  polyipc_queue_options_init(&o);
  o.format = s.format_json ? POLYIPC_FORMAT_JSON : POLYIPC_FORMAT_BYTES;
  o.capacity_bytes = s.capacity_bytes;
  polyipc_queue* q = nullptr;
  polyipc_error e{};
  int rc = polyipc_queue_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, &o, &q, &e);
  if (rc != POLYIPC_OK) fail(("polyipc_queue_open " + name).c_str(), rc, e);
  return q;
}

class PolyQueue {
 public:
  static constexpr bool kMulti = true;
  explicit PolyQueue(const Spec& s) : spec_(s), name_("bench-" + s.name) {
    polyipc_unlink(name_.c_str(), nullptr);
    q_ = open_queue(name_, s);
  }
  ~PolyQueue() {
    polyipc_queue_close(q_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  // The parent's handle is left alone in the child (never closed there): each
  // process opens the queue by name, as real users do.
  void attach(Role) { q_ = open_queue(name_, spec_); }
  void send(const void* p, size_t n) {
    polyipc_error e;
    if (spec_.zero_copy) {
      void* at = nullptr;
      uint64_t ticket = 0;
      int rc = polyipc_queue_reserve(q_, n, &at, &ticket, POLYIPC_FOREVER, &e);
      if (rc != POLYIPC_OK) fail("polyipc_queue_reserve", rc, e);
      memcpy(at, p, n);
      if ((rc = polyipc_queue_commit(q_, ticket, &e)) != POLYIPC_OK) fail("polyipc_queue_commit", rc, e);
      return;
    }
    int rc = polyipc_queue_put(q_, p, n, POLYIPC_FOREVER, &e);
    if (rc != POLYIPC_OK) fail("polyipc_queue_put", rc, e);
  }
  size_t recv(void* buf, size_t cap) {
    polyipc_error e;
    size_t len = 0;
    if (spec_.zero_copy) {  // what the consumer reads: the sequence number
      const void* at = nullptr;
      uint64_t ticket = 0;
      int rc = polyipc_queue_borrow(q_, &at, &len, &ticket, POLYIPC_FOREVER, &e);
      if (rc != POLYIPC_OK) fail("polyipc_queue_borrow", rc, e);
      memcpy(buf, at, std::min<size_t>({len, cap, 8}));
      if ((rc = polyipc_queue_release(q_, ticket, &e)) != POLYIPC_OK) fail("polyipc_queue_release", rc, e);
      return len;
    }
    int rc = polyipc_queue_get_into(q_, buf, cap, &len, POLYIPC_FOREVER, &e);
    if (rc != POLYIPC_OK) fail("polyipc_queue_get_into", rc, e);
    return len;
  }
  void send_many(const void* const* ptrs, const size_t* lens, size_t count) {
    size_t at = 0;
    while (at < count) {
      polyipc_error e;
      size_t done = 0;
      int rc = polyipc_queue_put_many(q_, ptrs + at, lens + at, count - at, &done, POLYIPC_FOREVER, &e);
      at += done;
      if (rc == POLYIPC_OK) break;
      if (rc != POLYIPC_ERR_FULL && rc != POLYIPC_ERR_TIMEOUT) fail("polyipc_queue_put_many", rc, e);
      ++partial_;
    }
  }
  size_t recv_many(void* buf, size_t cap, size_t* lens, size_t max) {
    polyipc_error e;
    size_t done = 0;
    int rc = polyipc_queue_get_many(q_, buf, cap, lens, max, &done, POLYIPC_FOREVER, &e);
    if (rc != POLYIPC_OK) fail("polyipc_queue_get_many", rc, e);
    if (done == 0) throw std::runtime_error("polyipc_queue_get_many: OK with 0 messages under FOREVER");
    return done;
  }

 private:
  Spec spec_;
  std::string name_;
  polyipc_queue* q_ = nullptr;
  uint64_t partial_ = 0;
};

}  // namespace

bool polyipc_available() { return true; }
PeerOps peer_polyipc() { return make_ops<PolyQueue>(); }

// A getter blocked in get_into for p.idle_seconds; its CPU time (getrusage of
// the getter itself, around the call) over the wall time it was blocked.
Result polyipc_idle_getter(const Params& p, int64_t timeout_ns) {
  Spec s;
  s.name = "idle" + std::to_string(timeout_ns < 0 ? 0 : 1) + "-" + std::to_string(now_ns() % 1000000);
  const std::string name = "bench-" + s.name;
  polyipc_unlink(name.c_str(), nullptr);
  polyipc_queue* q = nullptr;
  try {
    q = open_queue(name, s);
  } catch (const std::exception& e) {
    return Result::na(std::string("ERROR ") + e.what());
  }
  Group g;
  Ctl* ctl = g.ctl;
  g.spawn([&] {
    polyipc_queue* mine = open_queue(name, s);
    std::vector<char> buf(4096);
    size_t len = 0;
    polyipc_error e;
    rusage a, b;
    ctl->ready.store(1);
    futex_wake(&ctl->ready);
    getrusage(RUSAGE_SELF, &a);
    uint64_t t0 = now_ns();
    int rc = polyipc_queue_get_into(mine, buf.data(), buf.size(), &len, timeout_ns, &e);
    uint64_t t1 = now_ns();
    getrusage(RUSAGE_SELF, &b);
    if (rc != POLYIPC_OK) fail("idle get_into", rc, e);
    auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    ctl->cpu_s[0] = sec(b.ru_utime) + sec(b.ru_stime) - sec(a.ru_utime) - sec(a.ru_stime);
    ctl->vcsw[0] = double(b.ru_nvcsw - a.ru_nvcsw) + double(b.ru_nivcsw - a.ru_nivcsw);
    ctl->wall_s[0] = double(t1 - t0) * 1e-9;
    ctl->tend_ns[0] = t1;
  });
  const uint64_t deadline = now_ns() + uint64_t((p.idle_seconds + 30) * 1e9);
  while (ctl->ready.load() == 0 && now_ns() < deadline) futex_wait(&ctl->ready, 0, 20000000);
  usleep(useconds_t(p.idle_seconds * 1e6));
  const char msg[] = "{\"wake\":1}";
  ctl->put_ns[0] = now_ns();
  polyipc_error e;
  int rc = polyipc_queue_put(q, msg, sizeof msg - 1, POLYIPC_FOREVER, &e);
  Result r;
  bool ok = rc == POLYIPC_OK && g.wait_all(deadline);
  polyipc_queue_close(q);
  polyipc_unlink(name.c_str(), nullptr);
  if (rc != POLYIPC_OK) return Result::na(std::string("ERROR put: ") + e.message);
  if (!ok) return Result::na("ERROR " + g.error());
  r.ok = true;
  r.seconds = ctl->wall_s[0];
  r.idle_cpu_pct = 100.0 * ctl->cpu_s[0] / r.seconds;
  r.wakeups_per_s = ctl->vcsw[0] / r.seconds;
  r.wake_latency_us = double(ctl->tend_ns[0] - ctl->put_ns[0]) * 1e-3;
  return r;
}

}  // namespace bench

#else  // built without the library: the driver runs the peers only

namespace bench {
bool polyipc_available() { return false; }
PeerOps peer_polyipc() { return PeerOps{}; }
Result polyipc_idle_getter(const Params&, int64_t) { return Result::na("built without polyipc"); }
}  // namespace bench

#endif
