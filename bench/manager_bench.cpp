// polyipc_manager_bench: the dict and the list side by side with Python's
// multiprocessing.Manager().dict() / .list() and Boost.Interprocess
// containers in a managed segment, in one interleaved run (driver:
// bench/manager).
//
// The same work in every cell, on 64 keys holding 64 B JSON values:
//   dict-get:  one process reads the keys in turn (reads/s)
//   dict-set:  one process replaces the values in turn (writes/s)
//   dict-incr: 2 processes each increment one shared counter for --seconds
//              (increments/s, summed): polyipc by get + compare_and_set,
//              Boost under its interprocess_mutex, Python under a Manager Lock.
//   list-fifo: one process uses a list of 64 values as a queue: append one
//              value, pop the first (pairs/s); Boost: a deque of strings.
// The Boost peer is what DESIGN.md first suggested (a map in a managed
// segment): no JSON validation and no crash safety (a process killed inside
// its allocator or map leaves them torn, and its mutex is not robust), so it
// shows what polyipc's validation and journal cost. Python's dict lives in
// a manager process, every operation a round trip to it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/deque.hpp>
#include <boost/interprocess/containers/map.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include "harness.hpp"

using nlohmann::json;
using namespace bench;
namespace bip = boost::interprocess;

namespace {

constexpr int kKeys = 64;

struct Options : CommonOptions {
  Options() { py_script = POLYIPC_BENCH_SOURCE_DIR "/peers/mp_manager.py"; }
  double seconds = 0.5;
};

void usage() {
  printf(
      "usage: polyipc_manager_bench [options]\n"
      "  --rounds R        repeat the whole interleaved run R times (default 3; 1 with --quick)\n"
      "  --quick           smoke run: shorter cells\n"
      "  --only LIST       comma-separated scenarios: dict-get, dict-set, dict-incr, list-fifo (or a family: dict, list)\n"
      "  --peers LIST      comma-separated peers to keep (polyipc rows are always kept)\n"
      "  --seconds S       timed phase of a cell (default 0.5)\n"
      "  --max-other L     re-run a cell when other processes used more than L cores meanwhile (default 0.35)\n"
      "  --retries N       at most N re-runs per cell (default 2; 0 disables)\n"
      "  --json FILE       write every cell and the summary as JSON\n"
      "  --py FILE         the Python peer script (default: the source tree's peers/mp_manager.py)\n"
      "peers: polyipc_dict boost_map mp_manager_dict; polyipc_list boost_deque mp_manager_list\n");
}

struct DictResult {
  bool ok = false;
  std::string note;
  double rate = 0;  // operations/s
  double other_load = 0, steal = 0;
  int attempts = 1;
  static DictResult na(const std::string& why) {
    DictResult r;
    r.note = why;
    return r;
  }
};

std::string key_of(int i) { return "key-" + std::to_string(i); }
// A 64-byte JSON object whose content changes with n.
std::string value_of(uint64_t n) {
  std::string v = "{\"n\":" + std::to_string(n) + ",\"name\":\"worker\",\"pad\":\"";
  v.append(64 - v.size() - 2, 'x');
  return v + "\"}";
}

// Runs op(i) until `seconds` pass; op count per second.
template <class Op>
double timed(double seconds, Op&& op) {
  uint64_t n = 0;
  const uint64_t t0 = now_ns(), end = t0 + uint64_t(seconds * 1e9);
  for (;;) {
    op(n);
    if ((++n & 255) == 0 && now_ns() >= end) break;
  }
  return double(n) / (double(now_ns() - t0) * 1e-9);
}

// Two forked processes run incr() for `seconds` after a common start; their
// counts come back through a shared page. Returns increments/s, summed.
template <class Incr>
double two_incrementers(double seconds, Incr&& incr) {
  struct Page {
    std::atomic<int> ready;
    std::atomic<uint64_t> start_ns;
    std::atomic<uint64_t> count[2];
  };
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error("mmap failed");
  auto* page = new (mem) Page();
  fflush(nullptr);
  pid_t pids[2];
  for (int w = 0; w < 2; ++w) {
    pids[w] = fork();
    if (pids[w] == 0) {
      page->ready.fetch_add(1);
      while (page->start_ns.load() == 0) {
      }
      const uint64_t end = page->start_ns.load() + uint64_t(seconds * 1e9);
      uint64_t n = 0;
      for (;;) {
        if (!incr()) _exit(3);
        if ((++n & 63) == 0 && now_ns() >= end) break;
      }
      page->count[w] = n;
      _exit(0);
    }
  }
  while (page->ready.load() < 2) sched_yield();
  const uint64_t t0 = now_ns();
  page->start_ns = t0;
  bool ok = true;
  for (pid_t pid : pids) {
    int st = 0;
    waitpid(pid, &st, 0);
    ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  const double secs = double(now_ns() - t0) * 1e-9;
  const double rate = double(page->count[0] + page->count[1]) / secs;
  munmap(mem, 4096);
  if (!ok) throw std::runtime_error("an incrementing process failed");
  return rate;
}

// ---- polyipc ---------------------------------------------------------------------

DictResult run_polyipc(const std::string& scenario, const std::string& name, const Options& o) {
  polyipc_dict* d = nullptr;
  polyipc_error err;
  if (polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &d, &err) != POLYIPC_OK)
    throw std::runtime_error(err.message);
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back(key_of(i));
    polyipc_dict_set(d, keys.back().c_str(), value_of(i).c_str(), nullptr);
  }
  polyipc_dict_set(d, "counter", "0", nullptr);
  DictResult r;
  if (scenario == "dict-get") {
    r.rate = timed(o.seconds, [&](uint64_t n) {
      char* v = nullptr;
      size_t len = 0;
      int found = 0;
      if (polyipc_dict_get(d, keys[n % kKeys].c_str(), &v, &len, &found, nullptr) != 0 || len != 64)
        throw std::runtime_error("get failed");
      polyipc_free(v);
    });
  } else if (scenario == "dict-set") {
    std::vector<std::string> values;
    for (int i = 0; i < 2 * kKeys; ++i) values.push_back(value_of(1000 + i));
    r.rate = timed(o.seconds, [&](uint64_t n) {
      if (polyipc_dict_set(d, keys[n % kKeys].c_str(), values[n % values.size()].c_str(), nullptr) != 0)
        throw std::runtime_error("set failed");
    });
  } else {
    r.rate = two_incrementers(o.seconds, [&] {
      for (;;) {
        char* cur = nullptr;
        int found = 0;
        if (polyipc_dict_get(d, "counter", &cur, nullptr, &found, nullptr) != 0 || !found) return false;
        const std::string next = std::to_string(std::strtoll(cur, nullptr, 10) + 1);
        int swapped = 0;
        const int rc = polyipc_dict_compare_and_set(d, "counter", cur, next.c_str(), &swapped, nullptr);
        polyipc_free(cur);
        if (rc != 0) return false;
        if (swapped) return true;
      }
    });
  }
  polyipc_dict_close(d);
  polyipc_unlink(name.c_str(), nullptr);
  r.ok = true;
  return r;
}

DictResult run_polyipc_list(const std::string& name, const Options& o) {
  polyipc_list* l = nullptr;
  polyipc_error err;
  if (polyipc_list_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &l, &err) != POLYIPC_OK)
    throw std::runtime_error(err.message);
  for (int i = 0; i < kKeys; ++i) polyipc_list_append(l, value_of(i).c_str(), nullptr);
  std::vector<std::string> values;
  for (int i = 0; i < 2 * kKeys; ++i) values.push_back(value_of(1000 + i));
  DictResult r;
  r.rate = timed(o.seconds, [&](uint64_t n) {
    char* v = nullptr;
    size_t len = 0;
    if (polyipc_list_append(l, values[n % values.size()].c_str(), nullptr) != 0 ||
        polyipc_list_pop(l, 0, &v, &len, nullptr) != 0 || len != 64)
      throw std::runtime_error("append/pop failed");
    polyipc_free(v);
  });
  polyipc_list_close(l);
  polyipc_unlink(name.c_str(), nullptr);
  r.ok = true;
  return r;
}

// ---- Boost.Interprocess: a map of strings in a managed segment --------------------

using Segment = bip::managed_shared_memory;
using CharAlloc = bip::allocator<char, Segment::segment_manager>;
using ShmString = bip::basic_string<char, std::char_traits<char>, CharAlloc>;
using Entry = std::pair<const ShmString, ShmString>;
using EntryAlloc = bip::allocator<Entry, Segment::segment_manager>;
using ShmMap = bip::map<ShmString, ShmString, std::less<ShmString>, EntryAlloc>;

DictResult run_boost(const std::string& scenario, const std::string& name, const Options& o) {
  bip::shared_memory_object::remove(name.c_str());
  struct Remove {
    std::string n;
    ~Remove() { bip::shared_memory_object::remove(n.c_str()); }
  } remove{name};
  Segment seg(bip::create_only, name.c_str(), 4 << 20);
  CharAlloc chars(seg.get_segment_manager());
  auto* map = seg.construct<ShmMap>("map")(std::less<ShmString>(), EntryAlloc(seg.get_segment_manager()));
  auto* mutex = seg.construct<bip::interprocess_mutex>("mutex")();
  auto set = [&](const std::string& k, const std::string& v) {
    bip::scoped_lock<bip::interprocess_mutex> lock(*mutex);
    ShmString key(k.data(), k.size(), chars);
    auto it = map->find(key);
    if (it != map->end()) it->second.assign(v.data(), v.size());
    else map->emplace(std::move(key), ShmString(v.data(), v.size(), chars));
  };
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(key_of(i)), set(keys.back(), value_of(i));
  set("counter", "0");
  DictResult r;
  if (scenario == "dict-get") {
    ShmString probe(chars);
    r.rate = timed(o.seconds, [&](uint64_t n) {
      bip::scoped_lock<bip::interprocess_mutex> lock(*mutex);
      probe.assign(keys[n % kKeys].data(), keys[n % kKeys].size());
      auto it = map->find(probe);
      std::string out(it->second.data(), it->second.size());  // a copy out, as polyipc's get
      if (out.size() != 64) throw std::runtime_error("get failed");
    });
  } else if (scenario == "dict-set") {
    std::vector<std::string> values;
    for (int i = 0; i < 2 * kKeys; ++i) values.push_back(value_of(1000 + i));
    r.rate = timed(o.seconds, [&](uint64_t n) { set(keys[n % kKeys], values[n % values.size()]); });
  } else {
    ShmString counter("counter", chars);
    r.rate = two_incrementers(o.seconds, [&] {
      bip::scoped_lock<bip::interprocess_mutex> lock(*mutex);
      auto it = map->find(counter);
      const std::string next = std::to_string(std::strtoll(it->second.c_str(), nullptr, 10) + 1);
      it->second.assign(next.data(), next.size());
      return true;
    });
  }
  r.ok = true;
  return r;
}

using StringAlloc = bip::allocator<ShmString, Segment::segment_manager>;
using ShmDeque = bip::deque<ShmString, StringAlloc>;

DictResult run_boost_deque(const std::string& name, const Options& o) {
  bip::shared_memory_object::remove(name.c_str());
  struct Remove {
    std::string n;
    ~Remove() { bip::shared_memory_object::remove(n.c_str()); }
  } remove{name};
  Segment seg(bip::create_only, name.c_str(), 4 << 20);
  CharAlloc chars(seg.get_segment_manager());
  auto* dq = seg.construct<ShmDeque>("deque")(StringAlloc(seg.get_segment_manager()));
  auto* mutex = seg.construct<bip::interprocess_mutex>("mutex")();
  for (int i = 0; i < kKeys; ++i) {
    const std::string v = value_of(i);
    dq->emplace_back(v.data(), v.size(), chars);
  }
  std::vector<std::string> values;
  for (int i = 0; i < 2 * kKeys; ++i) values.push_back(value_of(1000 + i));
  DictResult r;
  r.rate = timed(o.seconds, [&](uint64_t n) {
    const std::string& v = values[n % values.size()];
    {
      bip::scoped_lock<bip::interprocess_mutex> lock(*mutex);
      dq->emplace_back(v.data(), v.size(), chars);
    }
    std::string out;
    {
      bip::scoped_lock<bip::interprocess_mutex> lock(*mutex);
      out.assign(dq->front().data(), dq->front().size());
      dq->pop_front();
    }
    if (out.size() != 64) throw std::runtime_error("pop failed");
  });
  r.ok = true;
  return r;
}

DictResult run_python(const std::string& scenario, const Options& o) {
  json j;
  std::string why;
  const std::string args = "--mode " + scenario + " --seconds " + std::to_string(o.seconds);
  if (!run_python_peer(o, args, 120, &j, &why)) return DictResult::na(why);
  DictResult r;
  r.ok = true;
  r.rate = j.value("rate", 0.0);
  return r;
}

// ---- scenarios, tables, targets ---------------------------------------------------------

struct Scenario {
  std::string id, title;
  std::vector<std::string> peers;
};

std::vector<Scenario> scenarios() {
  const std::vector<std::string> all = {"polyipc_dict", "boost_map", "mp_manager_dict"};
  return {
      {"dict-get", "one process reads 64 keys of 64 B JSON values in turn (reads/s)", all},
      {"dict-set", "one process replaces those values in turn (writes/s)", all},
      {"dict-incr", "2 processes increment one counter (polyipc: get + compare_and_set; peers: under a lock)", all},
      {"list-fifo", "one process appends a value to a list of 64 and pops the first (pairs/s)",
       {"polyipc_list", "boost_deque", "mp_manager_list"}},
  };
}

using Table = Results<DictResult>;
double m_rate(const DictResult& r) { return r.rate; }

void print_scenario(const Table& t, const Scenario& sc) {
  const std::string& base = sc.peers.front();
  printf("%-16s %10s %21s %6s  %s\n", "peer", "ops/s", "min..max", "others", (base + " / peer").c_str());
  for (const std::string& peer : sc.peers) {
    const auto& rs = t.at(sc.id).at(peer);
    auto v = collect(rs, m_rate);
    if (v.empty()) {
      printf("%-16s N/A: %s\n", peer.c_str(), first_note(rs).c_str());
      continue;
    }
    printf("%-16s %10s %21s %6.2f  %s\n", peer.c_str(), si(median(v)).c_str(), (si(vmin(v)) + ".." + si(vmax(v))).c_str(),
           others(rs), peer == base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate)).c_str());
  }
}

std::vector<Target> targets(const Table& t) {
  // No issue sets figures for dicts yet: information only.
  std::vector<Target> out;
  for (const char* sc : {"dict-get", "dict-set", "dict-incr"})
    for (const char* peer : {"boost_map", "mp_manager_dict"})
      out.push_back(ratio_target(t, std::string(sc) + ": polyipc_dict / " + peer, sc, "polyipc_dict", peer, m_rate,
                                 1.0, true, true));
  for (const char* peer : {"boost_deque", "mp_manager_list"})
    out.push_back(ratio_target(t, std::string("list-fifo: polyipc_list / ") + peer, "list-fifo", "polyipc_list", peer,
                               m_rate, 1.0, true, true));
  return out;
}

json result_json(const DictResult& r) {
  json j = {{"ok", r.ok}};
  if (!r.ok) j["note"] = r.note;
  if (r.rate) j["ops_per_s"] = r.rate;
  return j;
}

std::string describe(const Scenario&, const DictResult& r) { return si(r.rate) + " ops/s"; }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (Args a(argc, argv); a.next();) {
    if (parse_common_option(a, o)) continue;
    if (a.is("--seconds")) o.seconds = std::max(0.05, a.number());
    else if (a.is("-h") || a.is("--help")) return usage(), 0;
    else return unknown_option(a, usage);
  }
  apply_quick(o);
  if (o.quick) o.seconds = std::min(o.seconds, 0.1);
  const std::string ns = "managerbench-" + std::to_string(getpid());
  setenv("POLYIPC_NAMESPACE", ns.c_str(), 1);
  signal(SIGPIPE, SIG_IGN);
  const std::vector<Scenario> scs =
      select_scenarios(scenarios(), o, [](const std::string& p) { return p.rfind("polyipc", 0) == 0; });
  if (scs.empty()) {
    fprintf(stderr, "nothing to run (check --only / --peers)\n");
    return 2;
  }
  RunTimes times;
  printf("polyipc_manager_bench: %d round(s); %d keys or values, 64 B JSON values; %g s per cell%s\n", o.rounds, kKeys, o.seconds,
         o.quick ? " (--quick)" : "");
  printf("machine: %ld CPUs online, load average %s at start; POLYIPC_NAMESPACE=%s; polyipc %s\n",
         sysconf(_SC_NPROCESSORS_ONLN), times.load_start.c_str(), ns.c_str(), polyipc_version());
  fflush(stdout);
  Table t;
  const json cells = run_rounds(
      o, scs, t,
      [&](const Scenario& sc, const std::string& peer, int r) {
        const std::string name = "r" + std::to_string(r) + "-" + sc.id;
        try {
          if (peer.rfind("mp_", 0) == 0) return run_python(sc.id, o);
          if (peer == "boost_map") return run_boost(sc.id, "/" + ns + "-boost-" + name, o);
          if (peer == "boost_deque") return run_boost_deque("/" + ns + "-boost-" + name, o);
          if (peer == "polyipc_list") return run_polyipc_list(name, o);
          return run_polyipc(sc.id, name, o);
        } catch (const std::exception& e) {
          return DictResult::na(std::string("ERROR ") + e.what());
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
  write_json_file(o, {{"keys", kKeys}, {"seconds", o.seconds}}, times, cells, json::object(), tj);
  return 0;
}
