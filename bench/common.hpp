// bench/common.hpp: the scenario drivers shared by every peer of polyipc_bench.
//
// A peer is a "channel" class with this shape (see peers/*.cpp):
//   explicit Chan(const Spec&);              // parent, before fork: create the object
//   void attach(Role);                       // child, after fork: open its end
//   void send(const void*, size_t);          // blocking
//   size_t recv(void*, size_t cap);          // blocking, returns the message length
//   static constexpr bool kMulti;            // several producers/consumers at once
//   (optional) send_many / recv_many         // batch calls, used when Spec::batch
// ~Chan() runs in the parent only (children leave with _exit) and removes the object.
//
// Message protocol, identical for every peer: data messages are exactly
// Spec::msg_size bytes; a 2-byte message "[]" ends the warm-up and a 1-byte
// message "0" ends the timed phase (both valid JSON for JSON-format queues).
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace bench {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline double cpu_seconds_self() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// ---- load of the rest of the machine (shared by polyipc_bench and polyipc_sync_bench) ----
// How busy the rest of the machine was during a cell: /proc/stat busy time
// minus our own CPU (this process and every child it reaped, python included).
struct CpuSnap {
  double busy = 0, steal = 0, ours = 0;
  uint64_t t = 0;
};
inline CpuSnap cpu_snap() {
  CpuSnap s;
  s.t = now_ns();
  FILE* f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  if (f) {
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7]) != 8)
      memset(v, 0, sizeof v);
    fclose(f);
  }
  const double tick = double(sysconf(_SC_CLK_TCK));
  s.busy = double(v[0] + v[1] + v[2] + v[5] + v[6]) / tick;
  s.steal = double(v[7]) / tick;
  rusage a, b;
  getrusage(RUSAGE_SELF, &a);
  getrusage(RUSAGE_CHILDREN, &b);
  auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  s.ours = sec(a.ru_utime) + sec(a.ru_stime) + sec(b.ru_utime) + sec(b.ru_stime);
  return s;
}
// Cores other processes used between two snapshots, and cores stolen by the hypervisor.
inline double other_cores(const CpuSnap& a, const CpuSnap& b) {
  const double wall = double(b.t - a.t) * 1e-9;
  return wall > 0 ? std::max(0.0, ((b.busy - a.busy) - (b.ours - a.ours)) / wall) : 0.0;
}
inline double steal_cores(const CpuSnap& a, const CpuSnap& b) {
  const double wall = double(b.t - a.t) * 1e-9;
  return wall > 0 ? (b.steal - a.steal) / wall : 0.0;
}

// Thrown by a channel constructor when the peer cannot run this scenario here
// (a system limit, a missing feature): the cell is reported as N/A.
struct NotAvailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Role { Producer, Consumer };

struct Spec {
  std::string name;            // unique per cell; peers derive their object names from it
  size_t msg_size = 64;        // data message size
  size_t max_msg = 64;         // largest message the channel must carry
  uint64_t capacity_bytes = 4u << 20;  // payload memory the queue should hold
  int producers = 1, consumers = 1;
  int queues_in_cell = 1;      // channels alive at once (rtt uses 2)
  bool format_json = false;    // polyipc: JSON format (validating put)
  bool payload_json = false;   // data is a valid JSON document padded to msg_size
  bool batch = false;          // use send_many/recv_many
  bool zero_copy = false;      // polyipc: reserve/commit and borrow/release (the consumer reads 8 bytes in place)
};

struct Params {
  double seconds = 0.5;        // timed phase of a throughput cell
  double warm_seconds = 0.1;   // warm-up of a throughput cell (bounded by warm_max too)
  uint64_t warm_max = 200000;
  int rtt_iters = 20000;
  int rtt_warm = 2000;
  double idle_seconds = 10.0;
  int sporadic_msgs = 2000;    // timed messages of a sporadic cell (after sporadic_warm)
  int sporadic_warm = 200;
  int sporadic_gap_us = 200;   // between a sporadic cell's sends
  int batch = 64;              // messages per put_many
  double cell_timeout = 60.0;  // a cell that takes longer is killed and reported as hung
  bool pin = false;            // --pin: fixed CPUs for the processes of tput and rtt cells
};

// --pin: process k of a cell (producers first, then consumers; pinger, then
// ponger) runs on CPU k mod the CPUs online. 1P/1C and rtt then use two
// CPUs, and 2P/2C puts a producer and a consumer on each: the placement where
// two producers run at once and meet at the lock. Unpinned, the scheduler
// moves between placements and a cell's rate with them (docs/benchmarks.md).
inline void pin_process(const Params& p, int k) {
  if (!p.pin) return;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(int(k % std::max(1L, cpus)), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) throw std::runtime_error(std::string("--pin: ") + strerror(errno));
}

struct Result {
  bool ok = false;
  std::string note;            // N/A reason or error text
  double msgs = 0, seconds = 0, rate = 0, mbps = 0, cpu = 0;  // cpu: cores busy over the timed phase
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, max = 0;     // ns (round trips)
  double idle_cpu_pct = 0, wakeups_per_s = 0, wake_latency_us = 0;  // idle getter
  double consumer_cpu_us = 0;  // sporadic: the consumer's CPU per message (p50/p99: send-to-receive latency)
  double other_load = 0;       // cores used by other processes of the machine during the cell
  double steal = 0;            // cores stolen by the hypervisor during the cell
  int attempts = 1;
  static Result na(const std::string& why) {
    Result r;
    r.note = why;
    return r;
  }
};

// ---- process-shared control block -------------------------------------------
inline long futex_call(std::atomic<uint32_t>* a, int op, uint32_t val, const timespec* ts) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), op, val, ts, nullptr, 0);
}
inline void futex_wait(std::atomic<uint32_t>* a, uint32_t val, int64_t timeout_ns) {
  timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
  futex_call(a, FUTEX_WAIT, val, timeout_ns >= 0 ? &ts : nullptr);
}
inline void futex_wake(std::atomic<uint32_t>* a) { futex_call(a, FUTEX_WAKE, INT_MAX, nullptr); }

constexpr int kMaxProcs = 8;

struct Ctl {
  std::atomic<uint32_t> arrived;  // children bump it at each barrier
  std::atomic<uint32_t> phase;    // the parent releases barrier k by storing k
  std::atomic<uint32_t> failed;
  std::atomic<uint32_t> ready;
  uint64_t t0_ns;
  uint64_t count[kMaxProcs];
  uint64_t tend_ns[kMaxProcs];
  uint64_t tstart_ns[kMaxProcs];
  uint64_t put_ns[kMaxProcs];
  double cpu_s[kMaxProcs];
  double wall_s[kMaxProcs];
  double vcsw[kMaxProcs];
  double p50, p99, p999, mean, max;
  char err[512];
};

inline void child_barrier(Ctl* c, uint32_t k) {
  c->arrived.fetch_add(1);
  futex_wake(&c->arrived);
  uint32_t v;
  while ((v = c->phase.load(std::memory_order_acquire)) < k) futex_wait(&c->phase, v, -1);
}

// Forks children, runs barriers for them, reaps them, kills them on failure or hang.
class Group {
 public:
  Group() {
    void* p = mmap(nullptr, sizeof(Ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap control block failed");
    ctl = new (p) Ctl();
  }
  ~Group() {
    kill_all();
    munmap(ctl, sizeof(Ctl));
  }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  Ctl* ctl;

  void spawn(const std::function<void()>& fn) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      try {
        fn();
        _exit(0);
      } catch (const std::exception& e) {
        fail(e.what());
      } catch (...) {
        fail("unknown exception");
      }
      _exit(1);
    }
    pids_.push_back(pid);
    status_.push_back(-1);
  }
  void fail(const char* msg) {
    if (ctl->failed.exchange(1) == 0) snprintf(ctl->err, sizeof ctl->err, "%s", msg);
  }
  // Waits until `target` barrier arrivals; false on child death or deadline.
  bool wait_arrived(uint32_t target, uint64_t deadline) {
    uint32_t v;
    while ((v = ctl->arrived.load()) < target) {
      if (now_ns() > deadline || reap_some() || ctl->failed.load()) return false;
      futex_wait(&ctl->arrived, v, 20000000);
    }
    return true;
  }
  void release(uint32_t k) {
    ctl->t0_ns = now_ns();
    ctl->phase.store(k, std::memory_order_release);
    futex_wake(&ctl->phase);
  }
  // Waits for every child; false (and kills the rest) on failure or deadline.
  bool wait_all(uint64_t deadline) {
    for (;;) {
      bool bad = reap_some();
      bool all = std::all_of(status_.begin(), status_.end(), [](int s) { return s != -1; });
      if (bad || ctl->failed.load()) {
        kill_all();
        return false;
      }
      if (all) return true;
      if (now_ns() > deadline) {
        kill_all();
        hung = true;
        return false;
      }
      usleep(5000);
    }
  }
  std::string error() const {
    if (hung) return "HUNG (killed after the cell timeout)";
    if (ctl->err[0]) return ctl->err;
    return "a child failed";
  }
  void kill_all() {
    for (size_t i = 0; i < pids_.size(); ++i)
      if (status_[i] == -1) {
        kill(pids_[i], SIGKILL);
        int st;
        waitpid(pids_[i], &st, 0);
        status_[i] = 255;
      }
  }
  bool hung = false;

 private:
  // Reaps exited children; true if one of them failed.
  bool reap_some() {
    bool bad = false;
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (status_[i] != -1) continue;
      int st;
      pid_t r = waitpid(pids_[i], &st, WNOHANG);
      if (r == pids_[i]) {
        status_[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (status_[i] != 0) {
          bad = true;
          if (!ctl->err[0]) snprintf(ctl->err, sizeof ctl->err, "child exited with status %d", status_[i]);
        }
      }
    }
    return bad;
  }
  std::vector<pid_t> pids_;
  std::vector<int> status_;
};

// ---- payloads -----------------------------------------------------------------
inline void fill_payload(char* buf, size_t size, bool json) {
  if (json) {
    static const char pre[] = "{\"id\":123456,\"name\":\"worker-7\",\"ok\":true,\"v\":[1,2,3],\"p\":\"";
    size_t pl = sizeof(pre) - 1;
    if (size < pl + 2) throw std::runtime_error("JSON payload needs at least 60 bytes");
    memcpy(buf, pre, pl);
    memset(buf + pl, 'x', size - pl - 2);
    memcpy(buf + size - 2, "\"}", 2);
  } else {
    for (size_t i = 0; i < size; ++i) buf[i] = char('a' + i % 26);
  }
}
// A new value for the JSON payload's "id" (its six digits at kJsonIdAt),
// so that no two neighbouring messages are the same text: 100000..999999, in
// place, like an odometer.
constexpr size_t kJsonIdAt = 6;
inline void next_json_id(char* doc) {
  char* d = doc + kJsonIdAt + 5;
  while (*d == '9' && d > doc + kJsonIdAt) *d-- = '0';
  *d = *d == '9' ? '1' : static_cast<char>(*d + 1);
}
static const char kStop[] = "0";     // 1 byte: end of the timed phase
static const char kWarmEnd[] = "[]"; // 2 bytes: end of the warm-up

template <class T>
struct HasBatch {
  template <class U>
  static auto test(int) -> decltype(&U::send_many, std::true_type());
  template <class>
  static std::false_type test(...);
  static constexpr bool value = decltype(test<T>(0))::value;
};

// ---- throughput: P producers, C consumers (P == C), fixed duration -------------
template <class Chan>
void tput_producer(Chan& ch, const Spec& s, const Params& p, Ctl* ctl, int idx) {
  ch.attach(Role::Producer);
  const int B = s.batch ? p.batch : 1;
  std::vector<char> buf(s.msg_size * B);
  for (int b = 0; b < B; ++b) fill_payload(buf.data() + b * s.msg_size, s.msg_size, s.payload_json);
  const bool stamp = !s.payload_json && s.msg_size >= 8;
  child_barrier(ctl, 1);
  uint64_t warm_end = now_ns() + uint64_t(p.warm_seconds * 1e9);
  for (uint64_t n = 0; n < p.warm_max; ++n) {
    if ((n & 15) == 0 && now_ns() > warm_end) break;
    ch.send(buf.data(), s.msg_size);
  }
  ch.send(kWarmEnd, 2);
  child_barrier(ctl, 2);
  const uint64_t t0 = ctl->t0_ns;
  const uint64_t deadline = t0 + uint64_t(p.seconds * 1e9);
  const double c0 = cpu_seconds_self();
  const uint64_t check = s.msg_size < 4096 ? 64 : 1;
  uint64_t seq = 0;
  bool batched = false;
  if constexpr (HasBatch<Chan>::value) {
    if (s.batch) {
      batched = true;
      std::vector<const void*> ptrs(B);
      std::vector<size_t> lens(B, s.msg_size);
      for (int b = 0; b < B; ++b) ptrs[b] = buf.data() + b * s.msg_size;
      while (now_ns() < deadline) {
        if (stamp)
          for (int b = 0; b < B; ++b) {
            uint64_t q = seq + b;
            memcpy(buf.data() + b * s.msg_size, &q, 8);
          }
        ch.send_many(ptrs.data(), lens.data(), size_t(B));
        seq += B;
      }
    }
  }
  while (!batched) {
    for (uint64_t k = 0; k < check; ++k, ++seq) {
      if (stamp) memcpy(buf.data(), &seq, 8);
      if (s.payload_json) next_json_id(buf.data());
      ch.send(buf.data(), s.msg_size);
    }
    if (now_ns() >= deadline) break;
  }
  ch.send(kStop, 1);
  ctl->cpu_s[idx] = cpu_seconds_self() - c0;
  ctl->count[idx] = seq;
}

template <class Chan>
void tput_consumer(Chan& ch, const Spec& s, const Params&, Ctl* ctl, int idx) {
  ch.attach(Role::Consumer);
  const bool check_order = !s.payload_json && s.msg_size >= 8 && s.producers == 1 && s.consumers == 1;
  const size_t cap = std::max<size_t>(s.max_msg, s.batch ? size_t(256) << 10 : 0);
  std::vector<char> buf(cap);
  child_barrier(ctl, 1);
  for (;;) {
    size_t n = ch.recv(buf.data(), cap);
    if (n == 2) break;
    if (n != s.msg_size) throw std::runtime_error("warm-up: wrong message length " + std::to_string(n));
  }
  child_barrier(ctl, 2);
  const double c0 = cpu_seconds_self();
  uint64_t count = 0;
  auto bad = [&](const char* what, uint64_t got) {
    char m[160];
    snprintf(m, sizeof m, "consumer: %s (message %llu, got %llu)", what, (unsigned long long)count,
             (unsigned long long)got);
    throw std::runtime_error(m);
  };
  bool batched = false;
  if constexpr (HasBatch<Chan>::value) {
    if (s.batch) {
      batched = true;
      std::vector<size_t> lens(4096);
      for (;;) {
        size_t got = ch.recv_many(buf.data(), cap, lens.data(), lens.size());
        const char* m = buf.data();
        bool stop = false;
        for (size_t i = 0; i < got; ++i) {
          if (lens[i] == 1) {
            stop = true;
            if (i + 1 != got) bad("messages after the stop message", got);
            break;
          }
          if (lens[i] != s.msg_size) bad("wrong length", lens[i]);
          if (check_order) {
            uint64_t q;
            memcpy(&q, m, 8);
            if (q != count) bad("out of order", q);
          }
          ++count;
          m += lens[i];
        }
        if (stop) break;
      }
    }
  }
  while (!batched) {
    size_t n = ch.recv(buf.data(), cap);
    if (n == 1) break;
    if (n != s.msg_size) bad("wrong length", n);
    if (check_order) {
      uint64_t q;
      memcpy(&q, buf.data(), 8);
      if (q != count) bad("out of order", q);
    }
    ++count;
  }
  ctl->tend_ns[idx] = now_ns();
  ctl->cpu_s[kMaxProcs / 2 + idx] = cpu_seconds_self() - c0;
  ctl->count[kMaxProcs / 2 + idx] = count;
}

// The channel of a cell, or null with *why set when the peer cannot run the
// cell here (NotAvailable).
template <class Chan>
std::unique_ptr<Chan> open_channel(const Spec& s, std::string* why) {
  try {
    return std::make_unique<Chan>(s);
  } catch (const NotAvailable& e) {
    *why = e.what();
    return nullptr;
  }
}

// Releases a group of n children through their one barrier and waits for
// them: "" or the error of the cell.
inline std::string run_children(Group& g, uint32_t n, const Params& p) {
  const uint64_t deadline = now_ns() + uint64_t(p.cell_timeout * 1e9);
  if (!g.wait_arrived(n, deadline)) return "ERROR " + g.error();
  g.release(1);
  if (!g.wait_all(deadline)) return "ERROR " + g.error();
  return "";
}

// The q quantile of sorted samples.
inline double quantile(const std::vector<uint64_t>& sorted, double q) {
  return double(sorted[std::min(sorted.size() - 1, size_t(q * double(sorted.size())))]);
}

template <class Chan>
Result run_tput(const Spec& s, const Params& p) {
  if ((s.producers > 1 || s.consumers > 1) && !Chan::kMulti)
    return Result::na("single-producer/single-consumer only");
  Group g;
  std::string why;
  std::unique_ptr<Chan> ch = open_channel<Chan>(s, &why);
  if (!ch) return Result::na(why);
  const int P = s.producers, C = s.consumers;
  for (int i = 0; i < P; ++i) g.spawn([&, i] { pin_process(p, i), tput_producer(*ch, s, p, g.ctl, i); });
  for (int i = 0; i < C; ++i) g.spawn([&, i] { pin_process(p, P + i), tput_consumer(*ch, s, p, g.ctl, i); });
  const uint64_t deadline = now_ns() + uint64_t(p.cell_timeout * 1e9);
  Result r;
  if (!g.wait_arrived(P + C, deadline)) return Result::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_arrived(2 * (P + C), deadline)) return Result::na("ERROR " + g.error());
  g.release(2);
  if (!g.wait_all(deadline)) return Result::na("ERROR " + g.error());
  uint64_t sent = 0, got = 0, tend = 0;
  double cpu = 0;
  for (int i = 0; i < P; ++i) sent += g.ctl->count[i], cpu += g.ctl->cpu_s[i];
  for (int i = 0; i < C; ++i) {
    got += g.ctl->count[kMaxProcs / 2 + i];
    cpu += g.ctl->cpu_s[kMaxProcs / 2 + i];
    tend = std::max(tend, g.ctl->tend_ns[i]);
  }
  if (sent != got)
    return Result::na("ERROR sent " + std::to_string(sent) + " but received " + std::to_string(got));
  r.ok = true;
  r.msgs = double(got);
  r.seconds = double(tend - g.ctl->t0_ns) * 1e-9;
  r.rate = r.msgs / r.seconds;
  r.mbps = r.rate * double(s.msg_size) / 1e6;
  r.cpu = cpu / r.seconds;
  return r;
}

// ---- ping-pong round trip over two channels -----------------------------------
template <class Chan>
Result run_rtt(const Spec& s0, const Params& p) {
  Spec sa = s0, sb = s0;
  sa.name += "a";
  sb.name += "b";
  sa.queues_in_cell = sb.queues_in_cell = 2;
  Group g;
  std::string why;
  std::unique_ptr<Chan> ping = open_channel<Chan>(sa, &why), pong;
  if (ping) pong = open_channel<Chan>(sb, &why);
  if (!pong) return Result::na(why);
  Ctl* ctl = g.ctl;
  g.spawn([&] {  // pinger: measures
    pin_process(p, 0);
    ping->attach(Role::Producer);
    pong->attach(Role::Consumer);
    std::vector<char> buf(s0.max_msg), in(s0.max_msg);
    fill_payload(buf.data(), s0.msg_size, s0.payload_json);
    std::vector<uint64_t> lat(size_t(p.rtt_iters));
    child_barrier(ctl, 1);
    const double c0 = cpu_seconds_self();
    const uint64_t t0 = now_ns();
    for (int i = -p.rtt_warm; i < p.rtt_iters; ++i) {
      uint64_t a = now_ns();
      ping->send(buf.data(), s0.msg_size);
      size_t n = pong->recv(in.data(), in.size());
      uint64_t b = now_ns();
      if (n != s0.msg_size) throw std::runtime_error("rtt: wrong reply length");
      if (i >= 0) lat[size_t(i)] = b - a;
    }
    ctl->wall_s[0] = double(now_ns() - t0) * 1e-9;
    ping->send(kStop, 1);
    ctl->cpu_s[0] = cpu_seconds_self() - c0;
    double sum = 0;
    for (uint64_t v : lat) sum += double(v);
    std::sort(lat.begin(), lat.end());
    ctl->p50 = quantile(lat, 0.50);
    ctl->p99 = quantile(lat, 0.99);
    ctl->p999 = quantile(lat, 0.999);
    ctl->max = double(lat.back());
    ctl->mean = sum / double(lat.size());
  });
  g.spawn([&] {  // ponger: echoes
    pin_process(p, 1);
    ping->attach(Role::Consumer);
    pong->attach(Role::Producer);
    std::vector<char> buf(s0.max_msg);
    child_barrier(ctl, 1);
    const double c0 = cpu_seconds_self();
    for (;;) {
      size_t n = ping->recv(buf.data(), buf.size());
      if (n == 1) break;
      pong->send(buf.data(), n);
    }
    ctl->cpu_s[1] = cpu_seconds_self() - c0;
  });
  if (std::string err = run_children(g, 2, p); !err.empty()) return Result::na(err);
  Result r;
  r.ok = true;
  r.p50 = ctl->p50;
  r.p99 = ctl->p99;
  r.p999 = ctl->p999;
  r.mean = ctl->mean;
  r.max = ctl->max;
  r.msgs = double(p.rtt_iters);
  r.seconds = ctl->wall_s[0];
  r.rate = r.msgs / r.seconds;
  r.cpu = (ctl->cpu_s[0] + ctl->cpu_s[1]) / r.seconds;
  return r;
}

// ---- sporadic messages: what a waiting consumer costs -------------------------
// The producer sends a message every sporadic_gap_us (sleeping in between, as
// a service between requests does), stamped with its send time; the consumer
// reports the latency from send to receive and its own CPU per message. A
// consumer that spins before it sleeps answers sooner and burns CPU between
// messages; one that sleeps at once pays the wake-up on each.
template <class Chan>
Result run_sporadic(const Spec& s, const Params& p) {
  Group g;
  std::string why;
  std::unique_ptr<Chan> ch = open_channel<Chan>(s, &why);
  if (!ch) return Result::na(why);
  Ctl* ctl = g.ctl;
  const int total = p.sporadic_warm + p.sporadic_msgs;
  g.spawn([&] {  // producer
    pin_process(p, 0);
    ch->attach(Role::Producer);
    std::vector<char> buf(s.max_msg);
    fill_payload(buf.data(), s.msg_size, false);
    child_barrier(ctl, 1);
    const uint64_t t0 = now_ns();
    for (int i = 0; i < total; ++i) {
      const uint64_t at = t0 + uint64_t(i) * uint64_t(p.sporadic_gap_us) * 1000;
      const timespec ts{time_t(at / 1000000000), long(at % 1000000000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
      }
      const uint64_t sent = now_ns();
      memcpy(buf.data(), &sent, sizeof sent);
      ch->send(buf.data(), s.msg_size);
    }
    ch->send(kStop, 1);
  });
  g.spawn([&] {  // consumer
    pin_process(p, 1);
    ch->attach(Role::Consumer);
    std::vector<char> buf(s.max_msg);
    std::vector<uint64_t> lat;
    lat.reserve(size_t(p.sporadic_msgs));
    child_barrier(ctl, 1);
    double c0 = 0;
    for (int i = 0;; ++i) {
      if (i == p.sporadic_warm) c0 = cpu_seconds_self();
      const size_t n = ch->recv(buf.data(), buf.size());
      if (n == 1) break;
      if (n != s.msg_size) throw std::runtime_error("sporadic: wrong message length");
      uint64_t sent;
      memcpy(&sent, buf.data(), sizeof sent);
      if (i >= p.sporadic_warm) lat.push_back(now_ns() - sent);
    }
    if (lat.size() != size_t(p.sporadic_msgs)) throw std::runtime_error("sporadic: messages lost");
    ctl->cpu_s[1] = cpu_seconds_self() - c0;
    std::sort(lat.begin(), lat.end());
    ctl->p50 = quantile(lat, 0.50);
    ctl->p99 = quantile(lat, 0.99);
  });
  if (std::string err = run_children(g, 2, p); !err.empty()) return Result::na(err);
  Result r;
  r.ok = true;
  r.msgs = double(p.sporadic_msgs);
  r.p50 = ctl->p50;
  r.p99 = ctl->p99;
  r.consumer_cpu_us = ctl->cpu_s[1] * 1e6 / r.msgs;
  return r;
}

// What a peer offers to the driver.
struct PeerOps {
  std::function<Result(const Spec&, const Params&)> tput, rtt, sporadic;
};
template <class Chan>
PeerOps make_ops() {
  return PeerOps{&run_tput<Chan>, &run_rtt<Chan>, &run_sporadic<Chan>};
}

// Capacity in messages that gives about s.capacity_bytes of payload.
inline size_t slots_for(const Spec& s, size_t lo, size_t hi) {
  size_t n = size_t(s.capacity_bytes / std::max<size_t>(s.max_msg, 1));
  return std::max(lo, std::min(hi, n));
}

}  // namespace bench
