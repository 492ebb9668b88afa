// What the three benchmark programs (polyipc_bench, polyipc_sync_bench,
// polyipc_ipc_bench) share around their own scenarios, cells and tables: the
// common options, the interleaved rounds with a cell re-run while the machine
// is busy, the note on the run's load, the target verdicts and the JSON file.
//
// A result type R has `ok`, `note`, `other_load`, `steal` and `attempts`.
// A scenario type S has `id` and `peers` (row order; the first is the base).
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "report.hpp"
#ifndef POLYIPC_BENCH_NO_LIB
#include "polyipc.h"
#endif

namespace bench {

// ---- options --------------------------------------------------------------------

struct CommonOptions {
  int rounds = 3;
  bool rounds_given = false;
  bool quick = false;
  std::vector<std::string> only, peers;
  std::string json_file;
  std::string py_script;  // the program's Python peer
  std::string python = "python3";
  double max_other = 0.35;  // re-run a cell when others used more cores than this
  int retries = 2;
  bool retries_given = false;
};

// The command line, one option at a time.
class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}
  bool next() { return ++i_ < argc_; }
  const char* option() const { return argv_[i_]; }
  bool is(const char* name) const { return std::strcmp(argv_[i_], name) == 0; }
  // The option's value; exits with status 2 when it has none.
  const char* value() {
    if (i_ + 1 >= argc_) {
      fprintf(stderr, "%s needs a value\n", argv_[i_]);
      exit(2);
    }
    return argv_[++i_];
  }
  double number() { return atof(value()); }
  long long integer() { return atoll(value()); }

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
};

// The options every program has (see any program's --help); false when the
// option at hand is not one of them.
inline bool parse_common_option(Args& a, CommonOptions& o) {
  if (a.is("--rounds") || a.is("-r")) o.rounds = std::max(1, int(a.integer())), o.rounds_given = true;
  else if (a.is("--quick")) o.quick = true;
  else if (a.is("--only")) o.only = split(a.value());
  else if (a.is("--peers")) o.peers = split(a.value());
  else if (a.is("--json")) o.json_file = a.value();
  else if (a.is("--py")) o.py_script = a.value();
  else if (a.is("--python")) o.python = a.value();
  else if (a.is("--max-other")) o.max_other = a.number();
  else if (a.is("--retries")) o.retries = std::max(0, int(a.integer())), o.retries_given = true;
  else return false;
  return true;
}

// --quick: one round and one retry, unless given. (Each program shortens its cells.)
inline void apply_quick(CommonOptions& o) {
  if (!o.quick) return;
  if (!o.rounds_given) o.rounds = 1;
  if (!o.retries_given) o.retries = 1;
}

inline int unknown_option(const Args& a, void (*usage)()) {
  fprintf(stderr, "unknown option %s\n", a.option());
  usage();
  return 2;
}

// The scenarios --only names (an id, or a family: "tput" is every "tput-*"),
// each with the rows --peers keeps; polyipc's rows are always kept, unless
// peers_only. A scenario left without rows is dropped.
template <class S, class IsPolyipc>
std::vector<S> select_scenarios(const std::vector<S>& all, const CommonOptions& o, IsPolyipc is_polyipc,
                                bool peers_only = false) {
  auto named = [&](const std::string& id) {
    if (o.only.empty()) return true;
    for (const std::string& f : o.only)
      if (id == f || (f.find('-') == std::string::npos && id.rfind(f + "-", 0) == 0)) return true;
    return false;
  };
  std::vector<S> out;
  for (S sc : all) {
    if (!named(sc.id)) continue;
    std::vector<std::string> rows;
    for (const std::string& p : sc.peers) {
      const bool ours = is_polyipc(p);
      if (ours ? peers_only : !o.peers.empty() && std::find(o.peers.begin(), o.peers.end(), p) == o.peers.end())
        continue;
      rows.push_back(p);
    }
    if (rows.empty()) continue;
    sc.peers = rows;
    out.push_back(sc);
  }
  return out;
}

// ---- the Python peers ------------------------------------------------------------

// Runs the program's Python peer (o.python o.py_script args) under
// timeout(1); it prints one JSON object last. true and *out when that object
// says ok; else false and *why ("ERROR ...", as a result's note).
inline bool run_python_peer(const CommonOptions& o, const std::string& args, int timeout_s, nlohmann::json* out,
                            std::string* why) {
  const std::string cmd = "timeout -k 5 " + std::to_string(timeout_s) + " " + o.python + " '" + o.py_script + "' " + args;
  fflush(stdout);
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return *why = "ERROR popen failed", false;
  std::string text;
  char buf[4096];
  while (fgets(buf, sizeof buf, f)) text += buf;
  const int st = pclose(f);
  const size_t pos = text.rfind('{');
  if (pos == std::string::npos) return *why = "ERROR python peer printed nothing (status " + std::to_string(st) + ")", false;
  try {
    *out = nlohmann::json::parse(text.substr(pos));
  } catch (const std::exception& e) {
    return *why = std::string("ERROR python output: ") + e.what(), false;
  }
  if (!out->value("ok", false)) return *why = "ERROR python: " + out->value("error", std::string("?")), false;
  return true;
}

// ---- the rounds -----------------------------------------------------------------

// A cell, re-run (up to o.retries times, 0.2 s apart) while other processes of
// the machine used more than o.max_other cores meanwhile: the quietest
// working attempt is kept.
template <class R, class RunCell>
R measured(const CommonOptions& o, bool may_retry, RunCell run_cell) {
  R best;
  bool have = false;
  for (int attempt = 0; attempt <= o.retries; ++attempt) {
    const CpuSnap a = cpu_snap();
    R r = run_cell();
    const CpuSnap b = cpu_snap();
    r.other_load = other_cores(a, b);
    r.steal = steal_cores(a, b);
    if (!have || (r.ok && !best.ok) || (r.ok == best.ok && r.other_load < best.other_load)) best = r, have = true;
    best.attempts = attempt + 1;
    if (!r.ok || !may_retry || r.other_load <= o.max_other) break;
    usleep(200000);
  }
  return best;
}

// Every scenario, and in it every peer, o.rounds times; the peers' order
// rotates per round, so that none always runs first. A cell is
// run_cell(scenario, peer, round) -> R, measured() unless may_retry(scenario)
// says no; each gets a line on stderr (describe(scenario, result) says what
// it measured) and an entry in the returned JSON array (to_json(result) plus
// round, scenario and peer).
template <class R, class S, class RunCell, class MayRetry, class Describe, class ToJson>
nlohmann::json run_rounds(const CommonOptions& o, const std::vector<S>& scs, Results<R>& t, RunCell run_cell,
                          MayRetry may_retry, Describe describe, ToJson to_json) {
  size_t id_width = 0, peer_width = 0;
  for (const S& sc : scs) {
    id_width = std::max(id_width, sc.id.size());
    for (const std::string& p : sc.peers) peer_width = std::max(peer_width, p.size());
  }
  nlohmann::json cells = nlohmann::json::array();
  for (int r = 0; r < o.rounds; ++r)
    for (const S& sc : scs) {
      const size_t n = sc.peers.size();
      for (size_t k = 0; k < n; ++k) {
        const std::string& peer = sc.peers[(k + size_t(r)) % n];
        R res = measured<R>(o, may_retry(sc), [&] { return run_cell(sc, peer, r); });
        t[sc.id][peer].push_back(res);
        fprintf(stderr, "[round %d/%d] %-*s  %-*s  %s  [others %.2f cores, steal %.2f%s]\n", r + 1, o.rounds,
                int(id_width), sc.id.c_str(), int(peer_width), peer.c_str(),
                res.ok ? describe(sc, res).c_str() : ("N/A: " + res.note).c_str(), res.other_load, res.steal,
                res.attempts > 1 ? (", attempt " + std::to_string(res.attempts)).c_str() : "");
        nlohmann::json c = to_json(res);
        c["other_load_cores"] = res.other_load;
        c["steal_cores"] = res.steal;
        c["attempts"] = res.attempts;
        c["round"] = r + 1;
        c["scenario"] = sc.id;
        c["peer"] = peer;
        cells.push_back(c);
      }
    }
  return cells;
}

// When the run started and ended, and the load averages then.
struct RunTimes {
  std::string load_start = loadavg(), load_end;
  uint64_t start_ns = now_ns();
  double elapsed_s = 0;
  void finish() {
    load_end = loadavg();
    elapsed_s = double(now_ns() - start_ns) * 1e-9;
  }
};

// After the rounds: how to read the tables, and how busy the machine was.
template <class R>
void print_run_note(const Results<R>& t, const CommonOptions& o, const RunTimes& times) {
  printf("\nMedians over %d round(s); ratios are taken within each round, then the median (min..max) over rounds.\n",
         o.rounds);
  printf("Load average %s at start, %s at end; %.0f s in all.\n", times.load_start.c_str(), times.load_end.c_str(),
         times.elapsed_s);
  int loaded = 0, n = 0, retried = 0;
  for (auto& sc : t)
    for (auto& pr : sc.second)
      for (auto& r : pr.second) {
        ++n;
        if (r.other_load > o.max_other) ++loaded;
        if (r.attempts > 1) ++retried;
      }
  printf("\"CPU\" = cores our processes used over the timed phase; \"others\" = cores other processes of the machine "
         "used meanwhile (median over rounds).\n");
  printf("%d of %d cells were re-run because others used > %.2f cores; %d still ran beside such load.\n", retried, n,
         o.max_other, loaded);
}

// ---- targets and the JSON file ----------------------------------------------------

struct Target {
  std::string text;
  double value = NAN, lo = NAN, hi = NAN;  // median, min and max over rounds
  double goal = 0;
  bool at_least = true;  // value >= goal passes, else value <= goal does
  bool info = false;     // reported ("ok" / "low"), not a target of the issue
  std::string unit = "x";
  // Ratio targets: the widest max/min over rounds of either side's own
  // figure. This VM switches speed modes mid-run; past kUnsteadySpread a
  // side ran in two modes and the median ratio mixes them (docs/benchmarks.md).
  double spread = NAN;
};
constexpr double kUnsteadySpread = 2.0;

// A target on the within-round ratio base/peer of `metric` in scenario sc.
template <class R>
Target ratio_target(const Results<R>& t, const std::string& text, const std::string& sc, const std::string& base,
                    const std::string& peer, typename MetricOf<R>::type metric, double goal, bool at_least,
                    bool info = false) {
  Target g;
  g.text = text;
  g.goal = goal;
  g.at_least = at_least;
  g.info = info;
  auto v = ratios(t, sc, base, peer, metric);
  if (!v.empty()) g.value = median(v), g.lo = vmin(v), g.hi = vmax(v);
  auto s = t.find(sc);
  if (s != t.end())
    for (const std::string& side : {base, peer})
      if (s->second.count(side)) {
        auto own = collect(s->second.at(side), metric);
        if (!own.empty() && vmin(own) > 0) g.spread = std::max(std::isnan(g.spread) ? 0.0 : g.spread, vmax(own) / vmin(own));
      }
  return g;
}

// A target on a figure of one peer itself (median over rounds of metric x scale).
template <class R>
Target value_target(const Results<R>& t, const std::string& text, const std::string& sc, const std::string& peer,
                    typename MetricOf<R>::type metric, double scale, double goal, bool at_least,
                    const std::string& unit) {
  Target g;
  g.text = text;
  g.goal = goal;
  g.at_least = at_least;
  g.unit = unit;
  auto s = t.find(sc);
  if (s != t.end() && s->second.count(peer)) {
    auto v = collect(s->second.at(peer), metric);
    for (auto& x : v) x *= scale;
    if (!v.empty()) g.value = median(v), g.lo = vmin(v), g.hi = vmax(v);
  }
  return g;
}

// Prints each target's verdict (PASS / MISS, or N/A without figures) and the
// counts; returns them as JSON.
inline nlohmann::json report_targets(const std::vector<Target>& targets) {
  printf("\n== targets (median over rounds of the within-round figure; min..max in brackets) ==\n");
  size_t width = 0;
  for (const Target& g : targets) width = std::max(width, g.text.size());
  nlohmann::json out = nlohmann::json::array();
  int pass = 0, miss = 0, na = 0;
  for (const Target& g : targets) {
    const char* verdict = "N/A";
    if (!std::isnan(g.value)) {
      const bool ok = g.at_least ? g.value >= g.goal : g.value <= g.goal;
      verdict = g.info ? (ok ? "ok" : "low") : ok ? "PASS" : "MISS";
      if (!g.info) ok ? ++pass : ++miss;
    } else if (!g.info) {
      ++na;
    }
    const std::string v = std::isnan(g.value) ? std::string("-")
                                              : fmt("%.3g", g.value) + g.unit + " (" + fmt("%.3g", g.lo) + ".." +
                                                    fmt("%.3g", g.hi) + ")";
    const bool unsteady = !std::isnan(g.spread) && g.spread > kUnsteadySpread;
    printf("%-4s  %-*s  %s%s%s\n", verdict, int(width), g.text.c_str(), v.c_str(),
           g.info ? "  [information, not a target]" : "",
           unsteady ? ("  [UNSTEADY: a side's own figure ranged " + fmt("%.1f", g.spread) + "x over rounds; re-run]").c_str()
                    : "");
    nlohmann::json x = {{"target", g.text}, {"verdict", verdict}, {"goal", g.goal}, {"information_only", g.info}};
    if (!std::isnan(g.value)) x["value"] = g.value, x["min"] = g.lo, x["max"] = g.hi;
    if (!std::isnan(g.spread)) x["side_spread"] = g.spread, x["unsteady"] = unsteady;
    out.push_back(x);
  }
  printf("%d PASS, %d MISS, %d N/A\n", pass, miss, na);
  return out;
}

// Objects a cell forgot to unlink, in the run's namespace.
inline void warn_leftover_objects(const std::string& ns) {
#ifndef POLYIPC_BENCH_NO_LIB
  char* list = nullptr;
  if (polyipc_list_json(&list, nullptr) != POLYIPC_OK || !list) return;
  const std::string l = list;
  polyipc_free(list);
  if (l.find('{') != std::string::npos) printf("warning: objects left in namespace %s: %s\n", ns.c_str(), l.c_str());
#else
  (void)ns;
#endif
}

// --json FILE: the configuration (the program's own, plus what every run
// has), every cell, the per-peer summary and the targets.
inline void write_json_file(const CommonOptions& o, nlohmann::json config, const RunTimes& times,
                            const nlohmann::json& cells, const nlohmann::json& summary,
                            const nlohmann::json& targets) {
  if (o.json_file.empty()) return;
  config["rounds"] = o.rounds;
  config["quick"] = o.quick;
  config["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
  config["loadavg_start"] = times.load_start;
  config["loadavg_end"] = times.load_end;
  config["elapsed_s"] = times.elapsed_s;
  const nlohmann::json j = {{"config", config}, {"cells", cells}, {"summary", summary}, {"targets", targets}};
  std::ofstream f(o.json_file);
  f << j.dump(2) << "\n";
  printf("wrote %s\n", o.json_file.c_str());
}

}  // namespace bench
