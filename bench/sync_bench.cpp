// bench/sync_bench.cpp: polyipc_sync_bench, polyipc's synchronisation
// primitives side by side with process-shared pthread mutexes,
// Boost.Interprocess named_mutex, POSIX named semaphores, a bare futex and
// Python's multiprocessing.Event, in one interleaved run (driver: bench/sync).
//
// Same method as polyipc_bench (bench/queue_bench.cpp): every scenario x peer
// is a cell; a round runs every scenario and within it every peer (the order
// rotates per round); the whole is repeated R times. Ratios "polyipc / peer"
// are taken within a round and the median over rounds is reported. The load
// other processes put on the machine is measured beside every cell, and a
// cell run beside too much of it is re-run (the quietest attempt is kept).
#include <fcntl.h>
#include <semaphore.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/interprocess/sync/named_mutex.hpp>
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
  Options() { py_script = POLYIPC_BENCH_SOURCE_DIR "/peers/mp_event.py"; }
  double pair_seconds = 0.3;    // uncontended: timed phase per cell (10 batches), after a 20 ms warm-up
  uint64_t handoffs = 1000000;  // handoff: counter increments per cell
  int wake_rounds = 2000;       // event-wake: measured set-to-wake rounds per cell
  int wake_warm = 100;
  int delay_min_us = 50, delay_max_us = 200;
  int pingpong_pairs = 2;        // sem-pingpong: pairs of processes (2 pairs: 4 processes)
  uint64_t round_trips = 100000;  // sem-pingpong: round trips per pair
  double cell_timeout = 60.0;
};

void usage() {
  printf(
      "usage: polyipc_sync_bench [options]\n"
      "  --rounds R        repeat the whole interleaved run R times (default 3; 1 with --quick)\n"
      "  --quick           smoke run: fewer pairs, handoffs and wake rounds\n"
      "  --only LIST       comma-separated scenarios: uncontended, handoff, event-wake, killed-sleepers,\n"
      "                    sem-pingpong\n"
      "  --peers LIST      comma-separated peers to keep (polyipc rows are always kept)\n"
      "  --pair-seconds S  uncontended timed phase per cell, in 10 batches (default 0.3)\n"
      "  --handoffs N      handoff cell length in counter increments (default 1000000)\n"
      "  --wake-rounds N   event-wake rounds per cell (default 2000, plus 100 of warm-up)\n"
      "  --pairs N         sem-pingpong: pairs of processes (default 2: more processes than 2 CPUs)\n"
      "  --round-trips N   sem-pingpong: round trips per pair (default 100000)\n"
      "  --max-other L     re-run a cell when other processes used more than L cores meanwhile (default 0.35)\n"
      "  --retries N       at most N re-runs per cell (default 2; 0 disables)\n"
      "  --json FILE       write every cell and the summary as JSON\n"
      "  --py FILE         the Python peer script (default: the source tree's peers/mp_event.py)\n"
      "  --python EXE      the Python interpreter (default python3)\n"
      "peers: uncontended: polyipc_lock pthread_pshared pthread_robust pthread_robust_ec boost_named_mutex\n"
      "                    posix_sem polyipc_semaphore\n"
      "       handoff:     polyipc_lock pthread_pshared pthread_robust_ec boost_named_mutex\n"
      "       event-wake:  polyipc_event futex mp_event\n"
      "       killed-sleepers: polyipc_queue_killed polyipc_queue\n"
      "       sem-pingpong: polyipc_semaphore posix_sem\n");
}

[[noreturn]] void poly_fail(const char* what, int rc, const polyipc_error& e) {
  char m[400];
  snprintf(m, sizeof m, "%s: %s (%d): %s", what, polyipc_status_name(rc), rc, e.message);
  throw std::runtime_error(m);
}
[[noreturn]] void sys_fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + strerror(err));
}

std::string g_prefix;  // "polyipc-syncbench-<pid>": OS object names of this run

// ---- locks --------------------------------------------------------------------------
// A lock peer: T(name) in the parent creates the object; attach() in a child
// (after fork) opens it again by name where the peer has names; lock()/unlock().
// ~T() runs in the parent only (children leave with _exit) and removes it.

class PolyLock {
 public:
  explicit PolyLock(const std::string& name) : name_("sb-" + name) {
    polyipc_unlink(name_.c_str(), nullptr);
    open();
  }
  ~PolyLock() {
    polyipc_lock_close(l_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  void attach() { open(); }  // the parent's handle is left alone in the child
  void lock() {
    int rc = polyipc_lock_acquire(l_, POLYIPC_FOREVER, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_lock_acquire", rc, e_);
  }
  void unlock() {
    int rc = polyipc_lock_release(l_, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_lock_release", rc, e_);
  }

 private:
  void open() {
    int rc = polyipc_lock_open(name_.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, &l_, &e_);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_lock_open " + name_).c_str(), rc, e_);
  }
  std::string name_;
  polyipc_lock* l_ = nullptr;
  polyipc_error e_{};
};

class PolySem {  // a polyipc_semaphore, unbounded: initial 1 makes it a lock
 public:
  explicit PolySem(const std::string& name, uint64_t initial = 1) : name_("sb-" + name), initial_(initial) {
    polyipc_unlink(name_.c_str(), nullptr);
    open();
  }
  ~PolySem() {
    polyipc_semaphore_close(s_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  void attach() { open(); }
  void lock() {
    int rc = polyipc_semaphore_acquire(s_, POLYIPC_FOREVER, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_semaphore_acquire", rc, e_);
  }
  void unlock() {
    int rc = polyipc_semaphore_release(s_, 1, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_semaphore_release", rc, e_);
  }

 private:
  void open() {
    int rc = polyipc_semaphore_open(name_.c_str(), POLYIPC_OPEN_OR_CREATE, initial_, 0, nullptr, &s_, &e_);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_semaphore_open " + name_).c_str(), rc, e_);
  }
  std::string name_;
  uint64_t initial_;
  polyipc_semaphore* s_ = nullptr;
  polyipc_error e_{};
};

// A put + get pair of 64 B on a BYTES queue, one thread. With Kills > 0 the
// queue first had that many getters killed while asleep in get (SIGKILL
// once the stat counts them and /proc shows them asleep): the cost of
// sleepers that died counted, which 0.6.1 heals on the first wake-up.
template <int Kills>
class PolyQueuePair {
 public:
  explicit PolyQueuePair(const std::string& name) : name_("sb-" + name) {
    polyipc_unlink(name_.c_str(), nullptr);
    polyipc_queue_options o;
    polyipc_queue_options_init(&o);
    o.format = POLYIPC_FORMAT_BYTES;
    int rc = polyipc_queue_open(name_.c_str(), POLYIPC_CREATE_ONLY, &o, &q_, &e_);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_queue_open " + name_).c_str(), rc, e_);
    std::vector<pid_t> kids;
    for (int i = 0; i < Kills; ++i) {
      fflush(nullptr);
      pid_t pid = fork();
      if (pid == 0) {
        polyipc_queue* h = nullptr;
        if (polyipc_queue_open(name_.c_str(), POLYIPC_OPEN_ONLY, &o, &h, nullptr) != POLYIPC_OK) _exit(1);
        char buf[64];
        size_t len = 0;
        polyipc_queue_get_into(h, buf, sizeof buf, &len, POLYIPC_FOREVER, nullptr);  // killed in here
        _exit(1);
      }
      if (pid < 0) sys_fail("fork", errno);
      kids.push_back(pid);
    }
    if (Kills > 0) {
      const uint64_t give_up = now_ns() + 10'000'000'000ull;
      while (sleeping_getters() != Kills || !all_asleep(kids)) {
        if (now_ns() > give_up) throw std::runtime_error("the getters to kill never fell asleep");
        usleep(1000);  // polling a bounded wait, before the timed part
      }
      for (pid_t pid : kids) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  }
  ~PolyQueuePair() {
    polyipc_queue_close(q_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  void lock() {
    int rc = polyipc_queue_put(q_, msg_, sizeof msg_, 0, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_queue_put", rc, e_);
  }
  void unlock() {
    size_t len = 0;
    int rc = polyipc_queue_get_into(q_, buf_, sizeof buf_, &len, 0, &e_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_queue_get_into", rc, e_);
  }

 private:
  int sleeping_getters() {
    char* text = nullptr;
    if (polyipc_queue_stat_json(q_, &text, nullptr) != POLYIPC_OK) return -1;
    int n = json::parse(text)["sleeping"]["getters"].get<int>();
    polyipc_free(text);
    return n;
  }
  static bool all_asleep(const std::vector<pid_t>& pids) {
    for (pid_t pid : pids) {
      std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
      std::string st((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto p = st.rfind(')');
      if (p == std::string::npos || p + 2 >= st.size() || st[p + 2] != 'S') return false;
    }
    return true;
  }
  std::string name_;
  polyipc_queue* q_ = nullptr;
  polyipc_error e_{};
  char msg_[64] = {};
  char buf_[64];
};

// A pthread mutex in a POSIX shared-memory object (shm_open + mmap), process-shared.
enum class PType { Pshared, Robust, RobustErrorCheck };
template <PType kType>
class PthreadLock {
 public:
  explicit PthreadLock(const std::string& name) : name_("/" + g_prefix + "-" + name) {
    shm_unlink(name_.c_str());
    int fd = shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) sys_fail("shm_open " + name_, errno);
    if (ftruncate(fd, 4096) != 0) sys_fail("ftruncate", errno);
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) sys_fail("mmap", errno);
    m_ = static_cast<pthread_mutex_t*>(p);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (kType != PType::Pshared) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (kType == PType::RobustErrorCheck) pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    int rc = pthread_mutex_init(m_, &a);
    pthread_mutexattr_destroy(&a);
    if (rc != 0) sys_fail("pthread_mutex_init", rc);
  }
  ~PthreadLock() {
    pthread_mutex_destroy(m_);
    munmap(m_, 4096);
    shm_unlink(name_.c_str());
  }
  void attach() {}  // the MAP_SHARED mapping is inherited across fork
  void lock() {
    int rc = pthread_mutex_lock(m_);
    if (rc != 0) sys_fail("pthread_mutex_lock", rc);
  }
  void unlock() {
    int rc = pthread_mutex_unlock(m_);
    if (rc != 0) sys_fail("pthread_mutex_unlock", rc);
  }

 private:
  std::string name_;
  pthread_mutex_t* m_;
};

namespace bip = boost::interprocess;
class BoostNamedMutex {
 public:
  explicit BoostNamedMutex(const std::string& name) : name_(g_prefix + "-" + name) {
    bip::named_mutex::remove(name_.c_str());
    m_ = std::make_unique<bip::named_mutex>(bip::create_only, name_.c_str());
  }
  ~BoostNamedMutex() {
    m_.reset();
    bip::named_mutex::remove(name_.c_str());
  }
  void attach() { m_ = std::make_unique<bip::named_mutex>(bip::open_only, name_.c_str()); }
  void lock() { m_->lock(); }
  void unlock() { m_->unlock(); }

 private:
  std::string name_;
  std::unique_ptr<bip::named_mutex> m_;
};

class PosixSem {
 public:
  explicit PosixSem(const std::string& name, unsigned initial = 1) : name_("/" + g_prefix + "-" + name) {
    sem_unlink(name_.c_str());
    s_ = sem_open(name_.c_str(), O_CREAT | O_EXCL, 0600, initial);
    if (s_ == SEM_FAILED) sys_fail("sem_open " + name_, errno);
  }
  ~PosixSem() {
    sem_close(s_);
    sem_unlink(name_.c_str());
  }
  void attach() {
    s_ = sem_open(name_.c_str(), 0);
    if (s_ == SEM_FAILED) sys_fail("sem_open " + name_, errno);
  }
  void lock() {
    while (sem_wait(s_) != 0)
      if (errno != EINTR) sys_fail("sem_wait", errno);
  }
  void unlock() {
    if (sem_post(s_) != 0) sys_fail("sem_post", errno);
  }

 private:
  std::string name_;
  sem_t* s_;
};

// ---- results ------------------------------------------------------------------------
struct SyncResult {
  bool ok = false;
  std::string note;
  double ns_pair = 0, ns_pair_min = 0, pairs = 0;  // uncontended: median batch, best batch, pairs timed
  double rate = 0, acq_per_handoff = 0, cpu = 0;   // handoff: handoffs/s, acquisitions per handoff, cores used
  const char* rate_key = "handoffs_per_s";         // what `rate` counts, in --json (sem-pingpong: round trips)
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, max = 0;  // event-wake, ns
  double asleep_pct = -1;                          // event-wake: rounds where the waiter was seen asleep at set
  uint32_t late_probes = 0;                        // event-wake: rounds whose probe delayed the set
  double seconds = 0;
  double other_load = 0, steal = 0;
  int attempts = 1;
  static SyncResult na(const std::string& why) {
    SyncResult r;
    r.note = why;
    return r;
  }
};


// ---- scenario 1: uncontended acquire+release, one thread ------------------------------
template <class L>
SyncResult run_uncontended(const std::string& name, const Options& o) {
  L l(name);
  // Warm-up (~20 ms, at least 1000 pairs), which also sizes the batches: 10
  // batches of about pair_seconds / 10 each.
  uint64_t warm = 0;
  const uint64_t w0 = now_ns();
  do {
    for (int i = 0; i < 1000; ++i) l.lock(), l.unlock();
    warm += 1000;
  } while (now_ns() - w0 < 20000000);
  const double est_ns = double(now_ns() - w0) / double(warm);
  const int kBatches = 10;
  const uint64_t per = std::max<uint64_t>(1000, uint64_t(o.pair_seconds * 1e9 / kBatches / est_ns));
  std::vector<double> ns;
  const uint64_t t0 = now_ns();
  for (int b = 0; b < kBatches; ++b) {
    const uint64_t a = now_ns();
    for (uint64_t i = 0; i < per; ++i) {
      l.lock();
      l.unlock();
    }
    ns.push_back(double(now_ns() - a) / double(per));
  }
  SyncResult r;
  r.ok = true;
  r.seconds = double(now_ns() - t0) * 1e-9;
  r.pairs = double(per * kBatches);
  r.ns_pair = median(ns);  // median batch: robust to a batch that lost its CPU
  r.ns_pair_min = vmin(ns);
  return r;
}

// ---- scenario 2: lock handoff between two processes --------------------------------
// Two processes loop: acquire; if the counter has my parity, increment it;
// release; until the counter reaches N. Strict alternation, enforced by the
// counter parity under the lock: every increment is a handoff.
struct HandoffShared {
  alignas(64) std::atomic<uint64_t> counter;  // guarded by the lock under test
  alignas(64) uint64_t acquires[2];
  uint64_t end_ns[2];
  double cpu_s[2];
};

template <class L>
SyncResult run_handoff(const std::string& name, const Options& o) {
  void* mem = mmap(nullptr, sizeof(HandoffShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return SyncResult::na("ERROR mmap");
  struct Unmap {
    void* p;
    ~Unmap() { munmap(p, sizeof(HandoffShared)); }
  } unmap{mem};
  auto* sh = new (mem) HandoffShared();
  L l(name);
  Group g;
  const uint64_t N = o.handoffs;
  for (int k = 0; k < 2; ++k)
    g.spawn([&, k] {
      l.attach();
      child_barrier(g.ctl, 1);
      const double c0 = cpu_seconds_self();
      uint64_t acq = 0;
      for (;;) {
        l.lock();
        ++acq;
        const uint64_t c = sh->counter.load(std::memory_order_relaxed);
        if (c >= N) {
          l.unlock();
          break;
        }
        if ((c & 1) == uint64_t(k)) sh->counter.store(c + 1, std::memory_order_relaxed);
        l.unlock();
      }
      sh->end_ns[k] = now_ns();
      sh->acquires[k] = acq;
      sh->cpu_s[k] = cpu_seconds_self() - c0;
    });
  const uint64_t deadline = now_ns() + uint64_t(o.cell_timeout * 1e9);
  if (!g.wait_arrived(2, deadline)) return SyncResult::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_all(deadline)) return SyncResult::na("ERROR " + g.error());
  if (sh->counter.load() != N) return SyncResult::na("ERROR counter " + std::to_string(sh->counter.load()));
  SyncResult r;
  r.ok = true;
  r.seconds = double(std::max(sh->end_ns[0], sh->end_ns[1]) - g.ctl->t0_ns) * 1e-9;
  r.rate = double(N) / r.seconds;
  r.acq_per_handoff = double(sh->acquires[0] + sh->acquires[1]) / double(N);
  r.cpu = (sh->cpu_s[0] + sh->cpu_s[1]) / r.seconds;
  return r;
}

// ---- scenario 4: ping-pong through semaphores, pairs of processes ----------------------
// Each pair has two semaphores of its own, both at 0: one process posts
// `ping` and waits on `pong`, its partner the reverse. With two pairs on two
// CPUs there are more runnable processes than CPUs: a waiter that spins holds
// the CPU its partner may need (docs/benchmarks.md, "Semaphores").
template <class S>
SyncResult run_pingpong(const std::string& name, const Options& o) {
  const int P = o.pingpong_pairs;
  std::vector<std::unique_ptr<S>> sems;  // ping and pong of pair 0, then of pair 1, ...
  for (int p = 0; p < P; ++p)
    for (const char* side : {"ping", "pong"}) sems.push_back(std::make_unique<S>(name + "-" + std::to_string(p) + side, 0));
  Group g;
  const uint64_t N = o.round_trips;
  for (int p = 0; p < P; ++p)
    for (int k = 0; k < 2; ++k)
      g.spawn([&, p, k] {
        S& ping = *sems[2 * p];
        S& pong = *sems[2 * p + 1];
        ping.attach();
        pong.attach();
        child_barrier(g.ctl, 1);
        const double c0 = cpu_seconds_self();
        for (uint64_t i = 0; i < N; ++i) {
          if (k == 0) ping.unlock(), pong.lock();
          else ping.lock(), pong.unlock();
        }
        g.ctl->tend_ns[2 * p + k] = now_ns();
        g.ctl->cpu_s[2 * p + k] = cpu_seconds_self() - c0;
      });
  const uint64_t deadline = now_ns() + uint64_t(o.cell_timeout * 1e9);
  if (!g.wait_arrived(uint32_t(2 * P), deadline)) return SyncResult::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_all(deadline)) return SyncResult::na("ERROR " + g.error());
  uint64_t end = 0;
  double cpu = 0;
  for (int i = 0; i < 2 * P; ++i) end = std::max(end, g.ctl->tend_ns[i]), cpu += g.ctl->cpu_s[i];
  SyncResult r;
  r.ok = true;
  r.seconds = double(end - g.ctl->t0_ns) * 1e-9;
  r.rate = double(N) * P / r.seconds;
  r.rate_key = "round_trips_per_s";
  r.cpu = cpu / r.seconds;
  return r;
}

// ---- scenario 3: event set-to-wake latency across processes -------------------------
// An event peer: E(name) in the parent; attach() in each child; wait() blocks
// until set; set(); reset() (the waiter, after it woke); asleep(): 1 when the
// waiter is seen blocked in the kernel, 0 when not, -1 when the peer cannot tell.
class PolyEvent {
 public:
  explicit PolyEvent(const std::string& name) : name_("sb-" + name) {
    polyipc_unlink(name_.c_str(), nullptr);
    open();
  }
  ~PolyEvent() {
    polyipc_event_close(e_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  void attach() { open(); }
  void wait() {
    int rc = polyipc_event_wait(e_, POLYIPC_FOREVER, &err_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_event_wait", rc, err_);
  }
  void set() {
    int rc = polyipc_event_set(e_, &err_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_event_set", rc, err_);
  }
  void reset() {
    int rc = polyipc_event_clear(e_, &err_);
    if (rc != POLYIPC_OK) poly_fail("polyipc_event_clear", rc, err_);
  }
  int asleep() {  // the event's own sleeper count ("waiting" in its stat)
    char* s = nullptr;
    if (polyipc_event_stat_json(e_, &s, nullptr) != POLYIPC_OK || !s) return -1;
    int v = -1;
    try {
      v = json::parse(s).value("waiting", 0) > 0 ? 1 : 0;
    } catch (...) {
    }
    polyipc_free(s);
    return v;
  }

 private:
  void open() {
    int rc = polyipc_event_open(name_.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &e_, &err_);
    if (rc != POLYIPC_OK) poly_fail(("polyipc_event_open " + name_).c_str(), rc, err_);
  }
  std::string name_;
  polyipc_event* e_ = nullptr;
  polyipc_error err_{};
};

// The physical reference: a bare futex word (0/1), FUTEX_WAIT with no spin, FUTEX_WAKE on set.
class FutexEvent {
 public:
  explicit FutexEvent(const std::string&) {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) sys_fail("mmap", errno);
    w_ = new (p) Words();
  }
  ~FutexEvent() { munmap(w_, 4096); }
  void attach() {}
  void wait() {
    while (w_->word.load(std::memory_order_acquire) == 0) {
      w_->sleepers.fetch_add(1);
      futex_wait(&w_->word, 0, -1);
      w_->sleepers.fetch_sub(1);
    }
  }
  void set() {
    w_->word.store(1, std::memory_order_seq_cst);
    futex_wake(&w_->word);
  }
  void reset() { w_->word.store(0); }
  int asleep() { return w_->sleepers.load() > 0 ? 1 : 0; }

 private:
  struct Words {
    std::atomic<uint32_t> word{0}, sleepers{0};
  };
  Words* w_;
};

struct WakeShared {
  alignas(64) std::atomic<uint32_t> announce;  // the way back: the waiter stores i+1 before waiting in round i
  alignas(64) uint32_t asleep_rounds, known_rounds;
  uint32_t late_probes;  // rounds whose asleep probe outlasted the delay (their set came late)
  uint64_t t0, t1;
  uint64_t t[1];  // t_set[n], then t_wake[n]
};

template <class E>
SyncResult run_wake(const std::string& name, const Options& o) {
  const int n = o.wake_warm + o.wake_rounds;
  const size_t bytes = sizeof(WakeShared) + 2 * sizeof(uint64_t) * size_t(n);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return SyncResult::na("ERROR mmap");
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { munmap(p, n); }
  } unmap{mem, bytes};
  auto* sh = new (mem) WakeShared();
  uint64_t* t_set = sh->t;
  uint64_t* t_wake = sh->t + n;
  E ev(name);
  Group g;
  g.spawn([&] {  // waiter
    ev.attach();
    child_barrier(g.ctl, 1);
    for (int i = 0; i < n; ++i) {
      sh->announce.store(uint32_t(i + 1), std::memory_order_seq_cst);
      futex_wake(&sh->announce);
      ev.wait();
      t_wake[i] = now_ns();
      ev.reset();  // before the next announcement, so the next set is the next round's
    }
  });
  g.spawn([&] {  // setter
    ev.attach();
    child_barrier(g.ctl, 1);
    uint64_t x = 0x9E3779B97F4A7C15ull ^ uint64_t(getpid());
    const uint64_t span = uint64_t(o.delay_max_us - o.delay_min_us + 1);
    sh->t0 = now_ns();
    for (int i = 0; i < n; ++i) {
      uint32_t v;
      while ((v = sh->announce.load(std::memory_order_seq_cst)) < uint32_t(i + 1)) futex_wait(&sh->announce, v, -1);
      // A measurement delay (busy-wait, not a synchronisation): the waiter gets
      // 50..200 us to pass its spin phase and block before the set.
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const uint64_t until = now_ns() + (uint64_t(o.delay_min_us) + x % span) * 1000;
      // The asleep probe runs inside the delay, a fixed lead before the set,
      // so every peer's waiter sleeps equally long: on this VM a vCPU halted
      // longer takes longer to wake (a polyipc stat taken after the delay
      // read as 10.5 us against the bare futex's 5.8; inside it, 5.9 against
      // 5.9). Asleep at the probe is asleep at the set: only a set wakes it.
      const uint64_t probe_at = until - uint64_t(o.delay_min_us) * 1000 / 2;
      while (now_ns() < probe_at) cpu_relax();
      if (i >= o.wake_warm) {
        int a = ev.asleep();
        if (a >= 0) ++sh->known_rounds, sh->asleep_rounds += uint32_t(a);
        if (now_ns() > until) ++sh->late_probes;
      }
      while (now_ns() < until) cpu_relax();
      t_set[i] = now_ns();
      ev.set();
    }
    sh->t1 = now_ns();
  });
  const uint64_t deadline = now_ns() + uint64_t(o.cell_timeout * 1e9);
  if (!g.wait_arrived(2, deadline)) return SyncResult::na("ERROR " + g.error());
  g.release(1);
  if (!g.wait_all(deadline)) return SyncResult::na("ERROR " + g.error());
  std::vector<double> lat;
  for (int i = o.wake_warm; i < n; ++i) lat.push_back(double(int64_t(t_wake[i] - t_set[i])));
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) { return lat[std::min(lat.size() - 1, size_t(q * double(lat.size())))]; };
  SyncResult r;
  r.ok = true;
  r.p50 = pct(0.50);
  r.p99 = pct(0.99);
  r.p999 = pct(0.999);
  r.max = lat.back();
  double sum = 0;
  for (double v : lat) sum += v;
  r.mean = sum / double(lat.size());
  r.seconds = double(sh->t1 - sh->t0) * 1e-9;
  if (sh->known_rounds) r.asleep_pct = 100.0 * sh->asleep_rounds / sh->known_rounds;
  r.late_probes = sh->late_probes;
  return r;
}

SyncResult run_python_event(const Options& o) {
  json j;
  std::string why;
  const std::string args = "--rounds " + std::to_string(o.wake_rounds) + " --warm " + std::to_string(o.wake_warm) +
                           " --delay-min-us " + std::to_string(o.delay_min_us) +
                           " --delay-max-us " + std::to_string(o.delay_max_us);
  if (!run_python_peer(o, args, int(o.cell_timeout * 3), &j, &why)) return SyncResult::na(why);
  SyncResult r;
  r.ok = true;
  r.p50 = j.value("p50", 0.0);
  r.p99 = j.value("p99", 0.0);
  r.p999 = j.value("p999", 0.0);
  r.mean = j.value("mean", 0.0);
  r.max = j.value("max", 0.0);
  r.seconds = j.value("seconds", 0.0);
  return r;
}

// ---- scenarios and cells ---------------------------------------------------------------
enum class Kind { Uncontended, Handoff, Wake, PingPong };
struct Scenario {
  std::string id, title;
  Kind kind;
  std::vector<std::string> peers;  // row order; the first is the base of the ratios
};

std::vector<Scenario> scenarios() {
  return {
      {"uncontended", "acquire+release pairs, one thread, nobody else around (ns per pair)", Kind::Uncontended,
       {"polyipc_lock", "pthread_pshared", "pthread_robust", "pthread_robust_ec", "boost_named_mutex", "posix_sem",
        "polyipc_semaphore"}},
      {"handoff", "lock handoff between two processes, strict alternation through the counter parity",
       Kind::Handoff, {"polyipc_lock", "pthread_pshared", "pthread_robust_ec", "boost_named_mutex"}},
      {"event-wake", "set-to-wake latency across processes, waiter blocked (50..200 us after it announced its wait)",
       Kind::Wake, {"polyipc_event", "futex", "mp_event"}},
      {"killed-sleepers", "queue put+get of 64 B, one thread, after 3 getters were killed asleep, and fresh (ns per pair)",
       Kind::Uncontended, {"polyipc_queue_killed", "polyipc_queue"}},
      {"sem-pingpong", "pairs of processes ping-pong through two semaphores each (round trips/s, all pairs)",
       Kind::PingPong, {"polyipc_semaphore", "posix_sem"}},
  };
}

bool is_polyipc(const std::string& peer) { return peer.rfind("polyipc", 0) == 0; }

SyncResult run_cell(const Options& o, const Scenario& sc, const std::string& peer, int round) {
  const std::string name = "r" + std::to_string(round) + "-" + sc.id + "-" + peer;
  try {
    switch (sc.kind) {
      case Kind::Uncontended:
        if (peer == "polyipc_lock") return run_uncontended<PolyLock>(name, o);
        if (peer == "pthread_pshared") return run_uncontended<PthreadLock<PType::Pshared>>(name, o);
        if (peer == "pthread_robust") return run_uncontended<PthreadLock<PType::Robust>>(name, o);
        if (peer == "pthread_robust_ec") return run_uncontended<PthreadLock<PType::RobustErrorCheck>>(name, o);
        if (peer == "boost_named_mutex") return run_uncontended<BoostNamedMutex>(name, o);
        if (peer == "posix_sem") return run_uncontended<PosixSem>(name, o);
        if (peer == "polyipc_semaphore") return run_uncontended<PolySem>(name, o);
        if (peer == "polyipc_queue_killed") return run_uncontended<PolyQueuePair<3>>(name, o);
        if (peer == "polyipc_queue") return run_uncontended<PolyQueuePair<0>>(name, o);
        break;
      case Kind::Handoff:
        if (peer == "polyipc_lock") return run_handoff<PolyLock>(name, o);
        if (peer == "pthread_pshared") return run_handoff<PthreadLock<PType::Pshared>>(name, o);
        if (peer == "pthread_robust_ec") return run_handoff<PthreadLock<PType::RobustErrorCheck>>(name, o);
        if (peer == "boost_named_mutex") return run_handoff<BoostNamedMutex>(name, o);
        break;
      case Kind::Wake:
        if (peer == "polyipc_event") return run_wake<PolyEvent>(name, o);
        if (peer == "futex") return run_wake<FutexEvent>(name, o);
        if (peer == "mp_event") return run_python_event(o);
        break;
      case Kind::PingPong:
        if (peer == "polyipc_semaphore") return run_pingpong<PolySem>(name, o);
        if (peer == "posix_sem") return run_pingpong<PosixSem>(name, o);
        break;
    }
  } catch (const std::exception& e) {
    return SyncResult::na(std::string("ERROR ") + e.what());
  }
  return SyncResult::na("unknown peer");
}

// ---- tables --------------------------------------------------------------------------
using Table = Results<SyncResult>;  // [scenario][peer][round]

double m_ns(const SyncResult& r) { return r.ns_pair; }
double m_rate(const SyncResult& r) { return r.rate; }
double m_p50(const SyncResult& r) { return r.p50; }
double m_p99(const SyncResult& r) { return r.p99; }


void print_scenario(const Table& t, const Scenario& sc) {
  const std::string& base = sc.peers.front();
  const auto& cells = t.at(sc.id);
  if (sc.kind == Kind::Uncontended)
    printf("%-19s %9s %16s %9s %6s  %s\n", "peer", "ns/pair", "min..max ns", "best ns", "others",
           (base + " / peer (ns)").c_str());
  else if (sc.kind == Kind::Handoff)
    printf("%-19s %11s %19s %8s %6s %6s  %s\n", "peer", "handoffs/s", "min..max", "acq/hnd", "CPU", "others",
           (base + " / peer (rate)").c_str());
  else if (sc.kind == Kind::PingPong)
    printf("%-19s %11s %19s %6s %6s  %s\n", "peer", "round trips/s", "min..max", "CPU", "others",
           (base + " / peer (rate)").c_str());
  else
    printf("%-15s %8s %8s %9s %9s %15s %7s %6s  %-24s %s\n", "peer", "p50 us", "p99 us", "p99.9 us", "max us",
           "p50 min..max", "asleep", "others", (base + "/peer p50").c_str(), "p99 ratio");
  for (auto& peer : sc.peers) {
    auto it = cells.find(peer);
    if (it == cells.end()) continue;
    const auto& rs = it->second;
    const bool is_base = peer == base;
    std::string failed;
    size_t ok = 0;
    for (auto& r : rs) ok += r.ok;
    if (ok == 0) {
      printf("%-19s N/A: %s\n", peer.c_str(), first_note(rs).c_str());
      continue;
    }
    if (ok < rs.size()) failed = "  [" + std::to_string(rs.size() - ok) + "/" + std::to_string(rs.size()) +
                                 " rounds failed: " + first_note(rs) + "]";
    if (sc.kind == Kind::Uncontended) {
      auto v = collect(rs, m_ns);
      printf("%-19s %9.1f %16s %9.1f %6.2f  %s%s\n", peer.c_str(), median(v),
             (fmt("%.1f", vmin(v)) + ".." + fmt("%.1f", vmax(v))).c_str(),
             vmin(collect(rs, [](const SyncResult& r) { return r.ns_pair_min; })), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_ns)).c_str(), failed.c_str());
    } else if (sc.kind == Kind::Handoff) {
      auto v = collect(rs, m_rate);
      printf("%-19s %11s %19s %8.2f %5.0f%% %6.2f  %s%s\n", peer.c_str(), si(median(v)).c_str(),
             (si(vmin(v)) + ".." + si(vmax(v))).c_str(),
             median(collect(rs, [](const SyncResult& r) { return r.acq_per_handoff; })),
             100 * median(collect(rs, [](const SyncResult& r) { return r.cpu; })), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate)).c_str(), failed.c_str());
    } else if (sc.kind == Kind::PingPong) {
      auto v = collect(rs, m_rate);
      printf("%-19s %11s %19s %5.0f%% %6.2f  %s%s\n", peer.c_str(), si(median(v)).c_str(),
             (si(vmin(v)) + ".." + si(vmax(v))).c_str(),
             100 * median(collect(rs, [](const SyncResult& r) { return r.cpu; })), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate)).c_str(), failed.c_str());
    } else {
      auto p50 = collect(rs, m_p50);
      auto asleep = collect(rs, [](const SyncResult& r) { return r.asleep_pct; });
      double a = median(asleep);
      printf("%-15s %8.2f %8.2f %9.2f %9.1f %15s %7s %6.2f  %-24s %s%s\n", peer.c_str(), median(p50) / 1e3,
             median(collect(rs, m_p99)) / 1e3, median(collect(rs, [](const SyncResult& r) { return r.p999; })) / 1e3,
             median(collect(rs, [](const SyncResult& r) { return r.max; })) / 1e3,
             (fmt("%.2f", vmin(p50) / 1e3) + ".." + fmt("%.2f", vmax(p50) / 1e3)).c_str(),
             a >= 0 ? fmt("%.0f%%", a).c_str() : "?", others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p50)).c_str(),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p99)).c_str(), failed.c_str());
    }
  }
}

std::vector<Target> targets(const Table& t) {
  return {
      ratio_target(t, "uncontended acquire+release: polyipc_lock / pthread_pshared <= 2 (ns)", "uncontended",
                   "polyipc_lock", "pthread_pshared", m_ns, 2.0, false),
      ratio_target(t, "event set-to-wake p50: polyipc_event / mp_event <= 0.1", "event-wake", "polyipc_event",
                   "mp_event", m_p50, 0.1, false),
  };
}

json result_json(const SyncResult& r) {
  json j = {{"ok", r.ok}};
  if (!r.ok) j["note"] = r.note;
  auto put = [&](const char* k, double v) {
    if (v != 0 && std::isfinite(v)) j[k] = v;
  };
  put("ns_per_pair", r.ns_pair);
  put("ns_per_pair_best_batch", r.ns_pair_min);
  put("pairs", r.pairs);
  put(r.rate_key, r.rate);
  put("acquires_per_handoff", r.acq_per_handoff);
  put("cpu_cores", r.cpu);
  put("p50_ns", r.p50);
  put("p99_ns", r.p99);
  put("p999_ns", r.p999);
  put("mean_ns", r.mean);
  put("max_ns", r.max);
  if (r.asleep_pct >= 0) j["waiter_asleep_pct"] = r.asleep_pct;
  if (r.late_probes) j["late_probes"] = r.late_probes;
  put("seconds", r.seconds);
  return j;
}

std::string describe(const Scenario& sc, const SyncResult& r) {
  if (sc.kind == Kind::Uncontended) return fmt("%.1f ns/pair", r.ns_pair) + fmt(" (best batch %.1f)", r.ns_pair_min);
  if (sc.kind == Kind::PingPong) return si(r.rate) + " round trips/s" + fmt("  cpu %.0f%%", r.cpu * 100);
  if (sc.kind == Kind::Handoff)
    return si(r.rate) + " handoffs/s" + fmt("  %.2f acquisitions/handoff", r.acq_per_handoff) +
           fmt("  cpu %.0f%%", r.cpu * 100);
  return fmt("p50 %.2f us", r.p50 / 1e3) + fmt("  p99 %.2f us", r.p99 / 1e3) + fmt("  p99.9 %.2f us", r.p999 / 1e3) +
         (r.asleep_pct >= 0 ? fmt("  waiter asleep at set %.0f%%", r.asleep_pct) : std::string()) +
         (r.late_probes ? fmt("  (%u rounds set late: the probe outlasted the delay)", r.late_probes) : std::string());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (Args a(argc, argv); a.next();) {
    if (parse_common_option(a, o)) continue;
    if (a.is("--pair-seconds")) o.pair_seconds = std::max(0.01, a.number());
    else if (a.is("--handoffs")) o.handoffs = std::max(2ull, strtoull(a.value(), nullptr, 10));
    else if (a.is("--wake-rounds")) o.wake_rounds = std::max(10, int(a.integer()));
    else if (a.is("--pairs")) o.pingpong_pairs = std::clamp(int(a.integer()), 1, int(kMaxProcs / 2));
    else if (a.is("--round-trips")) o.round_trips = std::max(1ull, strtoull(a.value(), nullptr, 10));
    else if (a.is("-h") || a.is("--help")) return usage(), 0;
    else return unknown_option(a, usage);
  }
  apply_quick(o);
  if (o.quick) {
    o.pair_seconds = std::min(o.pair_seconds, 0.05);
    o.handoffs = std::min<uint64_t>(o.handoffs, 20000);
    o.wake_rounds = std::min(o.wake_rounds, 300);
    o.wake_warm = 30;
    o.round_trips = std::min<uint64_t>(o.round_trips, 5000);
  }
  g_prefix = "polyipc-syncbench-" + std::to_string(getpid());
  const std::string ns = "syncbench-" + std::to_string(getpid());
  setenv("POLYIPC_NAMESPACE", ns.c_str(), 1);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<Scenario> scs = select_scenarios(scenarios(), o, is_polyipc);
  if (scs.empty()) {
    fprintf(stderr, "nothing to run (check --only / --peers)\n");
    return 2;
  }

  RunTimes times;
  printf("polyipc_sync_bench: %d round(s); %g s of uncontended pairs, %llu handoffs, %d wake rounds (+%d warm-up, "
         "delay %d..%d us) per cell%s\n",
         o.rounds, o.pair_seconds, (unsigned long long)o.handoffs, o.wake_rounds, o.wake_warm,
         o.delay_min_us, o.delay_max_us, o.quick ? " (--quick)" : "");
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
    double (*metric)(const SyncResult&) = sc.kind == Kind::Uncontended                           ? m_ns
                                          : sc.kind == Kind::Handoff || sc.kind == Kind::PingPong ? m_rate
                                                                                                   : m_p50;
    for (auto& peer : sc.peers) {
      auto& rs = t[sc.id][peer];
      json s = {{"rounds_ok", collect(rs, metric).size()}};
      auto med = [&](const char* k, double (*m)(const SyncResult&)) {
        auto v = collect(rs, m);
        if (!v.empty() && std::isfinite(median(v)) && median(v) != 0) s[k] = median(v);
      };
      med("ns_per_pair", m_ns);
      med(sc.kind == Kind::PingPong ? "round_trips_per_s" : "handoffs_per_s", m_rate);
      med("acquires_per_handoff", [](const SyncResult& r) { return r.acq_per_handoff; });
      med("p50_ns", m_p50);
      med("p99_ns", m_p99);
      med("p999_ns", [](const SyncResult& r) { return r.p999; });
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
                  {{"pair_seconds", o.pair_seconds},
                   {"handoffs", o.handoffs},
                   {"wake_rounds", o.wake_rounds},
                   {"wake_warm", o.wake_warm},
                   {"pingpong_pairs", o.pingpong_pairs},
                   {"round_trips", o.round_trips},
                   {"delay_us", {o.delay_min_us, o.delay_max_us}}},
                  times, cells, summary, tj);
  return 0;
}
