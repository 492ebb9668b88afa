// polyipc_pool_bench: worker pools side by side with Python's
// multiprocessing.Pool, in one interleaved run (driver: bench/pool).
//
// The same work in every cell: tasks add(i, i) on a pool of --workers worker
// processes, started before timing. polyipc's workers are C processes on the
// C API (they parse the JSON arguments and write the JSON result, as any
// binding's worker does); Python's are its Pool's own processes.
//   pool-rtt:  one task at a time: submit, then wait for its result (latency)
//   pool-tput: up to --outstanding tasks in flight for --seconds (tasks/s)
//   pool-map:  maps of --map-tasks tasks, --chunk to a pool message, for
//              --seconds (tasks/s): polyipc_pool_submit_array/_results against
//              Pool.starmap(chunksize); the workers take a chunk at a time
//              (polyipc_pool_take_batch), as every binding's serve does
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <map>

#include "harness.hpp"

using nlohmann::json;
using namespace bench;

namespace {

struct Options : CommonOptions {
  Options() { py_script = POLYIPC_BENCH_SOURCE_DIR "/peers/mp_pool.py"; }
  int workers = 2;
  int rtt_rounds = 5000, rtt_warm = 200;
  double seconds = 1.0;
  int outstanding = 64;
  int map_tasks = 100000, chunk = 256;
};

enum class Mode { Rtt, Tput, Map };
const char* mode_name(Mode m) { return m == Mode::Rtt ? "rtt" : m == Mode::Tput ? "tput" : "map"; }

void usage() {
  printf(
      "usage: polyipc_pool_bench [options]\n"
      "  --rounds R        repeat the whole interleaved run R times (default 3; 1 with --quick)\n"
      "  --quick           smoke run: fewer round trips, shorter throughput cells\n"
      "  --only LIST       comma-separated scenarios: pool-rtt, pool-tput, pool-map (or the family: pool)\n"
      "  --peers LIST      comma-separated peers to keep (polyipc rows are always kept)\n"
      "  --workers N       worker processes per pool (default 2)\n"
      "  --rtt-rounds N    measured round trips per pool-rtt cell (default 5000, plus 200 of warm-up)\n"
      "  --seconds S       timed phase of a pool-tput cell (default 1)\n"
      "  --outstanding K   tasks in flight in pool-tput (default 64)\n"
      "  --map-tasks N     tasks per map in pool-map (default 100000)\n"
      "  --chunk C         tasks per pool message in pool-map (default 256)\n"
      "  --max-other L     re-run a cell when other processes used more than L cores meanwhile (default 0.35)\n"
      "  --retries N       at most N re-runs per cell (default 2; 0 disables)\n"
      "  --json FILE       write every cell and the summary as JSON\n"
      "  --py FILE         the Python peer script (default: the source tree's peers/mp_pool.py)\n"
      "peers: polyipc_pool mp_pool\n");
}

struct PoolResult {
  bool ok = false;
  std::string note;
  double p50 = 0, p99 = 0, mean = 0;  // pool-rtt, ns
  double rate = 0;                    // pool-tput, tasks/s
  double other_load = 0, steal = 0;
  int attempts = 1;
  static PoolResult na(const std::string& why) {
    PoolResult r;
    r.note = why;
    return r;
  }
};

// ---- polyipc: C workers on the C API ------------------------------------------------

// A worker as the bindings' serve loops are: a chunk's tasks (or a plain task)
// taken together, run in turn, finished together.
[[noreturn]] void work(const std::string& name) {
  polyipc_pool* p = nullptr;
  if (polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &p, nullptr) != POLYIPC_OK) _exit(3);
  for (;;) {
    polyipc_pool_batch* b = nullptr;
    const int rc = polyipc_pool_take_batch(p, 0, POLYIPC_FOREVER, &b, nullptr);
    if (rc == POLYIPC_ERR_CLOSED) break;
    if (rc != POLYIPC_OK) _exit(4);
    json results = json::array();
    for (const json& args : json::parse(polyipc_pool_batch_args(b, nullptr)))
      results.push_back(args[0].get<int64_t>() + args[1].get<int64_t>());
    const std::string text = results.dump();
    if (polyipc_pool_batch_finish(b, text.data(), text.size(), nullptr, 0, nullptr) != POLYIPC_OK) _exit(5);
    polyipc_pool_batch_free(b);
  }
  polyipc_pool_close(p);
  _exit(0);
}

class PolyPool {
 public:
  PolyPool(const std::string& name, int workers) : name_(name) {
    polyipc_error err;
    if (polyipc_pool_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &p_, &err) != POLYIPC_OK)
      throw std::runtime_error(err.message);
    fflush(nullptr);
    for (int w = 0; w < workers; ++w) {
      const pid_t pid = fork();
      if (pid == 0) work(name);
      if (pid < 0) throw std::runtime_error("fork failed");
      pids_.push_back(pid);
    }
  }
  ~PolyPool() {
    if (p_) polyipc_pool_close_tasks(p_, nullptr);
    for (pid_t pid : pids_) {
      int st = 0;
      for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; ++i) usleep(10000);  // at most 5 s each
      if (waitpid(pid, &st, WNOHANG) == 0) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    }
    polyipc_pool_close(p_);
    polyipc_unlink(name_.c_str(), nullptr);
  }
  uint64_t submit(int64_t i) {
    const std::string args = "[" + std::to_string(i) + "," + std::to_string(i) + "]";
    uint64_t id = 0;
    polyipc_error err;
    if (polyipc_pool_submit(p_, "add", args.data(), args.size(), 60 * 1000000000ll, &id, &err) != POLYIPC_OK)
      throw std::runtime_error(err.message);
    return id;
  }
  // The result of `id` (0: any): its id and value.
  std::pair<uint64_t, int64_t> result(uint64_t id) {
    char* text = nullptr;
    polyipc_error err;
    if (polyipc_pool_result(p_, id, 60 * 1000000000ll, &text, nullptr, &err) != POLYIPC_OK)
      throw std::runtime_error(err.message);
    const json r = json::parse(text);
    polyipc_free(text);
    if (!r.at("ok").get<bool>()) throw std::runtime_error("a task failed: " + r.dump());
    return {r.at("id").get<uint64_t>(), r.at("result").get<int64_t>()};
  }
  // add(i, i) for i < n, `chunk` to a message, `group` tasks per native call
  // and two groups out, as the bindings' map does; checks every result.
  void map(int64_t n, int chunk, int64_t group) {
    std::deque<std::pair<uint64_t, int64_t>> out;  // (first id, first i) of each group out
    int64_t next = 0, checked = 0;
    auto collect = [&] {
      const auto [first, from] = out.front();
      out.pop_front();
      const int64_t count = std::min(group, n - from);
      char *values = nullptr, *failures = nullptr;
      polyipc_error err;
      if (polyipc_pool_results(p_, first, size_t(count), 60 * 1000000000ll, &values, nullptr, &failures, nullptr,
                               &err) != POLYIPC_OK)
        throw std::runtime_error(err.message);
      const json v = json::parse(values);
      polyipc_free(values);
      polyipc_free(failures);
      for (int64_t k = 0; k < count; ++k)
        if (v.at(size_t(k)).get<int64_t>() != 2 * (from + k)) throw std::runtime_error("wrong result");
      checked += count;
    };
    while (next < n || !out.empty()) {
      if (next < n && out.size() < 2) {
        std::string args = "[";
        for (int64_t i = next; i < std::min(n, next + group); ++i)
          args += (i == next ? "[" : ",[") + std::to_string(i) + "," + std::to_string(i) + "]";
        args += "]";
        uint64_t first = 0;
        size_t done = 0;
        polyipc_error err;
        const int rc = polyipc_pool_submit_array(p_, "add", args.data(), args.size(), size_t(chunk),
                                                 out.empty() ? 60 * 1000000000ll : 0, &first, &done, &err);
        if (rc != POLYIPC_OK && rc != POLYIPC_ERR_FULL) throw std::runtime_error(err.message);
        if (done != 0 && done != size_t(std::min(group, n - next)))
          throw std::runtime_error("a group that went in partly (make the pool larger)");
        if (done) {
          out.emplace_back(first, next);
          next += int64_t(done);
          continue;
        }
      }
      collect();
    }
    if (checked != n) throw std::runtime_error("results missing");
  }

 private:
  std::string name_;
  polyipc_pool* p_ = nullptr;
  std::vector<pid_t> pids_;
};

PoolResult run_polyipc(const std::string& name, const Options& o, Mode mode) {
  PolyPool pool(name, o.workers);
  for (int w = 0; w < o.workers; ++w) pool.result(pool.submit(0));  // every worker started
  PoolResult r;
  if (mode == Mode::Map) {
    const int64_t group = std::max<int64_t>(o.chunk, 2048 / o.chunk * o.chunk);
    int64_t done = 0;
    const uint64_t t0 = now_ns(), end = t0 + uint64_t(o.seconds * 1e9);
    do {
      pool.map(o.map_tasks, o.chunk, group);
      done += o.map_tasks;
    } while (now_ns() < end);
    r.rate = double(done) / (double(now_ns() - t0) * 1e-9);
  } else if (mode == Mode::Rtt) {
    std::vector<double> lat;
    for (int i = 0; i < o.rtt_warm + o.rtt_rounds; ++i) {
      const uint64_t t0 = now_ns();
      if (pool.result(pool.submit(i)).second != 2 * i) throw std::runtime_error("wrong result");
      if (i >= o.rtt_warm) lat.push_back(double(now_ns() - t0));
    }
    std::sort(lat.begin(), lat.end());
    r.p50 = lat[lat.size() / 2];
    r.p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
    double sum = 0;
    for (double v : lat) sum += v;
    r.mean = sum / double(lat.size());
  } else {
    std::map<uint64_t, int64_t> window;  // id -> i
    int64_t i = 0, done = 0;
    const uint64_t t0 = now_ns(), end = t0 + uint64_t(o.seconds * 1e9);
    for (;;) {
      while (window.size() < size_t(o.outstanding)) window[pool.submit(i)] = i, ++i;
      const auto [id, value] = pool.result(0);
      const auto it = window.find(id);
      if (it == window.end() || value != 2 * it->second) throw std::runtime_error("wrong result");
      window.erase(it);
      if ((++done & 63) == 0 && now_ns() >= end) break;
    }
    r.rate = double(done) / (double(now_ns() - t0) * 1e-9);
    while (!window.empty()) window.erase(pool.result(0).first);
  }
  r.ok = true;
  return r;
}

PoolResult run_python(const Options& o, Mode mode) {
  json j;
  std::string why;
  const std::string args = std::string("--mode ") + mode_name(mode) + " --map-tasks " + std::to_string(o.map_tasks) +
                           " --chunk " + std::to_string(o.chunk) + " --workers " +
                           std::to_string(o.workers) + " --rounds " + std::to_string(o.rtt_rounds) + " --warm " +
                           std::to_string(o.rtt_warm) + " --seconds " + std::to_string(o.seconds) +
                           " --outstanding " + std::to_string(o.outstanding);
  if (!run_python_peer(o, args, 300, &j, &why)) return PoolResult::na(why);
  PoolResult r;
  r.ok = true;
  r.p50 = j.value("p50", 0.0);
  r.p99 = j.value("p99", 0.0);
  r.mean = j.value("mean", 0.0);
  r.rate = j.value("rate", 0.0);
  return r;
}

// ---- scenarios, tables, targets ---------------------------------------------------------

struct Scenario {
  std::string id, title;
  Mode mode;
  std::vector<std::string> peers;
  bool rtt() const { return mode == Mode::Rtt; }
};

std::vector<Scenario> scenarios() {
  return {
      {"pool-rtt", "one add task at a time: submit, wait for its result (latency)", Mode::Rtt,
       {"polyipc_pool", "mp_pool"}},
      {"pool-tput", "add tasks, up to --outstanding in flight (tasks/s)", Mode::Tput, {"polyipc_pool", "mp_pool"}},
      {"pool-map", "maps of --map-tasks add tasks, --chunk to a message (tasks/s)", Mode::Map,
       {"polyipc_pool", "mp_pool"}},
  };
}

using Table = Results<PoolResult>;
double m_p50(const PoolResult& r) { return r.p50; }
double m_p99(const PoolResult& r) { return r.p99; }
double m_rate(const PoolResult& r) { return r.rate; }

void print_scenario(const Table& t, const Scenario& sc) {
  const std::string& base = sc.peers.front();
  if (sc.rtt())
    printf("%-14s %8s %8s %8s %17s %6s  %s\n", "peer", "p50 us", "p99 us", "mean us", "p50 min..max", "others",
           (base + "/peer p50").c_str());
  else
    printf("%-14s %10s %21s %6s  %s\n", "peer", "tasks/s", "min..max", "others", (base + " / peer (rate)").c_str());
  for (const std::string& peer : sc.peers) {
    const auto& rs = t.at(sc.id).at(peer);
    if (collect(rs, sc.rtt() ? m_p50 : m_rate).empty()) {
      printf("%-14s N/A: %s\n", peer.c_str(), first_note(rs).c_str());
      continue;
    }
    const bool is_base = peer == base;
    if (sc.rtt()) {
      auto v = collect(rs, m_p50);
      printf("%-14s %8.1f %8.1f %8.1f %17s %6.2f  %s\n", peer.c_str(), median(v) / 1e3,
             median(collect(rs, m_p99)) / 1e3, median(collect(rs, [](const PoolResult& r) { return r.mean; })) / 1e3,
             (fmt("%.1f", vmin(v) / 1e3) + ".." + fmt("%.1f", vmax(v) / 1e3)).c_str(), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p50)).c_str());
    } else {
      auto v = collect(rs, m_rate);
      printf("%-14s %10s %21s %6.2f  %s\n", peer.c_str(), si(median(v)).c_str(),
             (si(vmin(v)) + ".." + si(vmax(v))).c_str(), others(rs),
             is_base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate)).c_str());
    }
  }
}

std::vector<Target> targets(const Table& t) {
  // No issue sets figures for pools yet: information only.
  return {
      ratio_target(t, "pool-rtt p50: polyipc_pool / mp_pool (lower is better)", "pool-rtt", "polyipc_pool",
                   "mp_pool", m_p50, 1.0, false, true),
      ratio_target(t, "pool-tput: polyipc_pool / mp_pool", "pool-tput", "polyipc_pool", "mp_pool", m_rate, 1.0, true,
                   true),
      ratio_target(t, "pool-map: polyipc_pool / mp_pool", "pool-map", "polyipc_pool", "mp_pool", m_rate, 1.0, true,
                   true),
  };
}

json result_json(const PoolResult& r) {
  json j = {{"ok", r.ok}};
  if (!r.ok) j["note"] = r.note;
  if (r.p50) j["p50_ns"] = r.p50, j["p99_ns"] = r.p99, j["mean_ns"] = r.mean;
  if (r.rate) j["tasks_per_s"] = r.rate;
  return j;
}

std::string describe(const Scenario& sc, const PoolResult& r) {
  return sc.rtt() ? fmt("p50 %.1f us", r.p50 / 1e3) + fmt("  p99 %.1f us", r.p99 / 1e3) : si(r.rate) + " tasks/s";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (Args a(argc, argv); a.next();) {
    if (parse_common_option(a, o)) continue;
    if (a.is("--workers")) o.workers = std::max(1, int(a.integer()));
    else if (a.is("--rtt-rounds")) o.rtt_rounds = std::max(10, int(a.integer()));
    else if (a.is("--seconds")) o.seconds = std::max(0.05, a.number());
    else if (a.is("--outstanding")) o.outstanding = std::max(1, int(a.integer()));
    else if (a.is("--map-tasks")) o.map_tasks = std::max(1, int(a.integer()));
    else if (a.is("--chunk")) o.chunk = std::max(1, int(a.integer()));
    else if (a.is("-h") || a.is("--help")) return usage(), 0;
    else return unknown_option(a, usage);
  }
  apply_quick(o);
  if (o.quick)
    o.rtt_rounds = std::min(o.rtt_rounds, 500), o.rtt_warm = 50, o.seconds = std::min(o.seconds, 0.2),
    o.map_tasks = std::min(o.map_tasks, 20000);
  const std::string ns = "poolbench-" + std::to_string(getpid());
  setenv("POLYIPC_NAMESPACE", ns.c_str(), 1);
  signal(SIGPIPE, SIG_IGN);
  const std::vector<Scenario> scs =
      select_scenarios(scenarios(), o, [](const std::string& p) { return p.rfind("polyipc", 0) == 0; });
  if (scs.empty()) {
    fprintf(stderr, "nothing to run (check --only / --peers)\n");
    return 2;
  }
  RunTimes times;
  printf("polyipc_pool_bench: %d round(s); %d workers per pool; %d round trips (+%d warm-up), %g s at %d in flight "
         "per cell%s\n",
         o.rounds, o.workers, o.rtt_rounds, o.rtt_warm, o.seconds, o.outstanding, o.quick ? " (--quick)" : "");
  printf("machine: %ld CPUs online, load average %s at start; POLYIPC_NAMESPACE=%s; polyipc %s\n",
         sysconf(_SC_NPROCESSORS_ONLN), times.load_start.c_str(), ns.c_str(), polyipc_version());
  fflush(stdout);
  Table t;
  const json cells = run_rounds(
      o, scs, t,
      [&](const Scenario& sc, const std::string& peer, int r) {
        try {
          if (peer == "mp_pool") return run_python(o, sc.mode);
          return run_polyipc("r" + std::to_string(r) + "-" + sc.id, o, sc.mode);
        } catch (const std::exception& e) {
          return PoolResult::na(std::string("ERROR ") + e.what());
        }
      },
      [](const Scenario&) { return true; }, describe, result_json);
  times.finish();
  print_run_note(t, o, times);
  for (const Scenario& sc : scs) {
    printf("\n== %s: %s ==\n", sc.id.c_str(), sc.title.c_str());
    print_scenario(t, sc);
  }
  const json tj = report_targets(targets(t));
  warn_leftover_objects(ns);
  write_json_file(o, {{"workers", o.workers}, {"rtt_rounds", o.rtt_rounds}, {"seconds", o.seconds},
                      {"outstanding", o.outstanding}, {"map_tasks", o.map_tasks}, {"chunk", o.chunk}},
                  times, cells, json::object(), tj);
  return 0;
}
