// bench/queue_bench.cpp: polyipc_bench, polyipc's queue side by side with
// Boost.Interprocess message_queue, POSIX mq, Unix socketpairs, Python's
// multiprocessing.Queue and a bare shared-memory ring, in one interleaved run.
//
// Every scenario x peer is a cell. A round runs every scenario, and within it
// every peer (the order rotates per round); the whole is repeated R times and
// the tables report medians. Ratios "polyipc / peer" are taken within a round
// (both cells ran seconds apart) and then the median over rounds is reported:
// on a machine whose speed drifts only such ratios mean anything.
#include <fcntl.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "peers/peers.hpp"
#include "harness.hpp"
#include "report.hpp"

#ifndef POLYIPC_BENCH_SOURCE_DIR
#define POLYIPC_BENCH_SOURCE_DIR "bench"
#endif
#ifndef POLYIPC_BENCH_NO_LIB
#include "polyipc.h"
#endif

using namespace bench;
using nlohmann::json;

namespace {

// ---- options --------------------------------------------------------------------
struct Options : CommonOptions {
  Options() { py_script = POLYIPC_BENCH_SOURCE_DIR "/peers/mp_queue.py"; }
  bool peers_only = false;
  Params p;
};

void usage() {
  printf(
      "usage: polyipc_bench [options]\n"
      "  --rounds R        repeat the whole interleaved run R times (default 3; 1 with --quick)\n"
      "  --quick           smoke run: short cells, fewer round trips, 2 s idle getter\n"
      "  --only LIST       comma-separated scenarios, or families: tput (all tput-*), rtt, mpmc, ...\n"
      "  --peers LIST      comma-separated peers to keep (polyipc rows are always kept)\n"
      "  --peers-only      skip polyipc (before the library works)\n"
      "  --seconds S       timed phase of a throughput cell (default 0.5)\n"
      "  --rtt-iters N     measured round trips per rtt cell (default 20000)\n"
      "  --idle-seconds S  how long the idle getter is blocked (default 10)\n"
      "  --sporadic-gap-us G  between the sends of sporadic-64 (default 200)\n"
      "  --pin             fixed CPUs in tput and rtt cells: process k on CPU k mod CPUs (producers,\n"
      "                    then consumers), so 2P/2C runs a producer and a consumer per CPU (not mp_queue)\n"
      "  --max-other L     re-run a cell when other processes used more than L cores meanwhile (default 0.35)\n"
      "  --retries N       at most N re-runs per cell (default 2; 0 disables)\n"
      "  --json FILE       write every cell and the summary as JSON\n"
      "  --py FILE         the Python peer script (default: the source tree's)\n"
      "scenarios: tput-64 tput-1K tput-64K tput-1M tput-64-batch rtt-64 mpmc-64 json-vs-bytes idle-getter-cpu\n"
      "           sporadic-64\n"
      "peers: polyipc boost_mq posix_mq sock_stream sock_seqpacket mp_queue bare_ring\n");
}

// ---- scenarios ------------------------------------------------------------------
enum class Kind { Tput, Rtt, Idle, Sporadic };

struct Scenario {
  std::string id, title;
  Kind kind;
  size_t size;
  int producers;
  std::vector<std::string> peers;  // row order; the first is the base of the ratios
};

const std::vector<std::string> kAll = {"polyipc",        "boost_mq", "posix_mq", "sock_stream",
                                       "sock_seqpacket", "mp_queue", "bare_ring"};

std::vector<Scenario> scenarios() {
  // polyipc-zc: the producer copies into space reserved in the ring, the
  // consumer borrows the message in place and reads its 8-byte sequence number.
  std::vector<std::string> with_zero_copy = kAll;
  with_zero_copy.insert(with_zero_copy.begin() + 1, "polyipc-zc");
  return {
      {"tput-64", "1 producer / 1 consumer, 64 B, one message per call", Kind::Tput, 64, 1, kAll},
      {"tput-1K", "1 producer / 1 consumer, 1 KiB, one message per call", Kind::Tput, 1024, 1, kAll},
      {"tput-64K", "1 producer / 1 consumer, 64 KiB, one message per call", Kind::Tput, 65536, 1, with_zero_copy},
      {"tput-1M", "1 producer / 1 consumer, 1 MiB, one message per call", Kind::Tput, 1 << 20, 1, with_zero_copy},
      {"tput-64-batch", "1 producer / 1 consumer, 64 B, polyipc put_many/get_many (64 per put) vs the bare ring",
       Kind::Tput, 64, 1, {"polyipc-batch", "bare_ring"}},
      {"rtt-64", "ping-pong round trip, 64 B, two queues/channels", Kind::Rtt, 64, 1, kAll},
      {"mpmc-64", "2 producers / 2 consumers, 64 B, one message per call", Kind::Tput, 64, 2,
       {"polyipc", "boost_mq", "posix_mq", "sock_seqpacket", "mp_queue", "sock_stream", "bare_ring"}},
      {"json-vs-bytes", "1 producer / 1 consumer, 64 B valid JSON: JSON format (validated) vs BYTES format",
       Kind::Tput, 64, 1, {"polyipc-json", "polyipc-bytes"}},
      {"idle-getter-cpu", "a getter blocked in get_into with nothing to get", Kind::Idle, 64, 1,
       {"polyipc-forever", "polyipc-timeout60s"}},
      {"sporadic-64", "1 producer / 1 consumer, 64 B, a message every 200 us (--sporadic-gap-us): the consumer's CPU "
                      "per message, and the latency from send to receive",
       Kind::Sporadic, 64, 1, {"polyipc", "boost_mq", "posix_mq", "sock_stream", "bare_ring"}},
  };
}

bool is_polyipc(const std::string& peer) { return peer.rfind("polyipc", 0) == 0; }

// ---- POSIX mq limits: raised for the run when we may, restored at exit --------
struct Sysctl {
  const char* path;
  long want;
  long orig = -1;
};
Sysctl g_mq[] = {{"/proc/sys/fs/mqueue/msg_max", 4096}, {"/proc/sys/fs/mqueue/msgsize_max", 1 << 20}};

long read_long(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  long v = -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}
bool write_long(const char* path, long v) {
  FILE* f = fopen(path, "w");
  if (!f) return false;
  bool ok = fprintf(f, "%ld\n", v) > 0;
  return fclose(f) == 0 && ok;
}
void restore_mq_limits() {
  for (auto& s : g_mq)
    if (s.orig >= 0) write_long(s.path, s.orig), s.orig = -1;
}
void on_signal(int sig) {
  restore_mq_limits();
  signal(sig, SIG_DFL);
  raise(sig);
}
std::string raise_mq_limits() {
  std::string note;
  for (auto& s : g_mq) {
    long cur = read_long(s.path);
    if (cur >= 0 && cur < s.want) {
      if (write_long(s.path, s.want)) {
        s.orig = cur;
        note += std::string(s.path) + " " + std::to_string(cur) + " -> " + std::to_string(s.want) + " (restored at exit); ";
      } else {
        note += std::string(s.path) + " = " + std::to_string(cur) + " (cannot raise); ";
      }
    }
  }
  rlimit rl;
  getrlimit(RLIMIT_MSGQUEUE, &rl);
  note += "RLIMIT_MSGQUEUE = " + (rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur)) +
          " bytes";
  atexit(restore_mq_limits);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  return note;
}

// ---- cells ----------------------------------------------------------------------
Spec make_spec(const Scenario& sc, const std::string& peer, int round) {
  Spec s;
  s.name = "r" + std::to_string(round) + "-" + sc.id + "-" + peer;
  s.msg_size = sc.size;
  s.max_msg = sc.size;
  s.capacity_bytes = sc.size >= (1u << 20) ? (64u << 20) : (4u << 20);
  s.producers = s.consumers = sc.producers;
  s.batch = peer == "polyipc-batch";
  s.format_json = peer == "polyipc-json";
  s.zero_copy = peer == "polyipc-zc";
  s.payload_json = sc.id == "json-vs-bytes";
  return s;
}

Result run_python(const Options& o, const Scenario& sc) {
  const Params& p = o.p;
  char args[512];
  if (sc.kind == Kind::Rtt)
    snprintf(args, sizeof args, "--mode rtt --size %zu --iters %d --warm %d", sc.size, p.rtt_iters, p.rtt_warm);
  else
    snprintf(args, sizeof args, "--mode tput --size %zu --seconds %g --warm-seconds %g --producers %d --consumers %d",
             sc.size, p.seconds, p.warm_seconds, sc.producers, sc.producers);
  json j;
  std::string why;
  if (!run_python_peer(o, args, int(p.cell_timeout * 3), &j, &why)) return Result::na(why);
  Result r;
  r.ok = true;
  r.msgs = j.value("msgs", 0.0);
  r.seconds = j.value("seconds", 0.0);
  r.rate = j.value("rate", 0.0);
  r.mbps = r.rate * double(sc.size) / 1e6;
  r.cpu = j.value("cpu", 0.0);
  r.p50 = j.value("p50", 0.0);
  r.p99 = j.value("p99", 0.0);
  r.p999 = j.value("p999", 0.0);
  r.mean = j.value("mean", 0.0);
  r.max = j.value("max", 0.0);
  return r;
}

Result run_cell(const Options& o, const Scenario& sc, const std::string& peer, int round) {
  const Params& p = o.p;
  if (sc.kind == Kind::Idle)
    return polyipc_idle_getter(p, peer == "polyipc-forever" ? int64_t(-1) : int64_t(60) * 1000000000);
  if (peer == "mp_queue") return run_python(o, sc);
  PeerOps ops;
  if (is_polyipc(peer)) ops = peer_polyipc();
  else if (peer == "boost_mq") ops = peer_boost_mq();
  else if (peer == "posix_mq") ops = peer_posix_mq();
  else if (peer == "sock_stream") ops = peer_sock_stream();
  else if (peer == "sock_seqpacket") ops = peer_sock_seqpacket();
  else if (peer == "bare_ring") ops = peer_bare_ring();
  else return Result::na("unknown peer");
  Spec s = make_spec(sc, peer, round);
  try {
    if (sc.kind == Kind::Sporadic) return ops.sporadic(s, p);
    return sc.kind == Kind::Rtt ? ops.rtt(s, p) : ops.tput(s, p);
  } catch (const NotAvailable& e) {
    return Result::na(e.what());
  } catch (const std::exception& e) {
    return Result::na(std::string("ERROR ") + e.what());
  }
}

// ---- reporting (helpers in report.hpp and harness.hpp) -------------------------
// results[scenario][peer][round]
using Table = Results<Result>;

double m_rate(const Result& r) { return r.rate; }
double m_p50(const Result& r) { return r.p50; }
double m_p99(const Result& r) { return r.p99; }

void print_tput(const Table& t, const Scenario& sc, const std::vector<std::string>& rows) {
  const std::string& base = rows.front();
  printf("%-19s %11s %11s %23s %6s %6s  %s\n", "peer", "msg/s", "MB/s", "min..max msg/s", "CPU", "others",
         (base + " / peer").c_str());
  for (auto& peer : rows) {
    auto it = t.at(sc.id).find(peer);
    if (it == t.at(sc.id).end()) continue;
    auto rates = collect(it->second, m_rate);
    if (rates.empty()) {
      printf("%-19s N/A: %s\n", peer.c_str(), first_note(it->second).c_str());
      continue;
    }
    double med = median(rates);
    std::string mm = si(vmin(rates)) + ".." + si(vmax(rates));
    double cpu = median(collect(it->second, [](const Result& r) { return r.cpu; }));
    std::string ratio = peer == base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_rate));
    printf("%-19s %11s %11s %23s %5.0f%% %6.2f  %s", peer.c_str(), si(med).c_str(),
           fmt("%.0f", med * double(sc.size) / 1e6).c_str(), mm.c_str(), cpu * 100, others(it->second),
           ratio.c_str());
    if (rates.size() < it->second.size()) printf("  [%zu/%zu rounds failed: %s]", it->second.size() - rates.size(), it->second.size(), first_note(it->second).c_str());
    printf("\n");
  }
}

void print_rtt(const Table& t, const Scenario& sc, const std::vector<std::string>& rows) {
  const std::string& base = rows.front();
  printf("%-19s %9s %9s %9s %17s %6s %6s  %-24s %s\n", "peer", "p50 us", "p99 us", "p99.9 us", "p50 min..max", "CPU",
         "others", (base + "/peer p50").c_str(), "p99 ratio");
  for (auto& peer : rows) {
    auto it = t.at(sc.id).find(peer);
    if (it == t.at(sc.id).end()) continue;
    auto p50 = collect(it->second, m_p50);
    if (p50.empty()) {
      printf("%-19s N/A: %s\n", peer.c_str(), first_note(it->second).c_str());
      continue;
    }
    auto p99 = collect(it->second, m_p99);
    auto p999 = collect(it->second, [](const Result& r) { return r.p999; });
    double cpu = median(collect(it->second, [](const Result& r) { return r.cpu; }));
    std::string mm = fmt("%.2f", vmin(p50) / 1e3) + ".." + fmt("%.2f", vmax(p50) / 1e3);
    printf("%-19s %9.2f %9.2f %9.2f %17s %5.0f%% %6.2f  %-24s %s\n", peer.c_str(), median(p50) / 1e3,
           median(p99) / 1e3, median(p999) / 1e3, mm.c_str(), cpu * 100, others(it->second),
           peer == base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p50)).c_str(),
           peer == base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_p99)).c_str());
  }
}

void print_idle(const Table& t, const Scenario& sc, const std::vector<std::string>& rows) {
  printf("%-19s %10s %12s %17s %11s\n", "getter", "CPU %", "wakeups/s", "wake latency us", "blocked s");
  for (auto& peer : rows) {
    auto it = t.at(sc.id).find(peer);
    if (it == t.at(sc.id).end()) continue;
    auto cpu = collect(it->second, [](const Result& r) { return r.idle_cpu_pct; });
    if (cpu.empty()) {
      printf("%-19s N/A: %s\n", peer.c_str(), first_note(it->second).c_str());
      continue;
    }
    printf("%-19s %10.3f %12.1f %17.1f %11.2f\n", peer.c_str(), median(cpu),
           median(collect(it->second, [](const Result& r) { return r.wakeups_per_s; })),
           median(collect(it->second, [](const Result& r) { return r.wake_latency_us; })),
           median(collect(it->second, [](const Result& r) { return r.seconds; })));
  }
}

double m_consumer_cpu(const Result& r) { return r.consumer_cpu_us; }

void print_sporadic(const Table& t, const Scenario& sc, const std::vector<std::string>& rows) {
  const std::string& base = rows.front();
  printf("%-19s %16s %21s %9s %9s %6s  %s\n", "peer", "consumer CPU/msg", "CPU/msg min..max", "p50 us", "p99 us",
         "others", (base + " / peer CPU").c_str());
  for (auto& peer : rows) {
    auto it = t.at(sc.id).find(peer);
    if (it == t.at(sc.id).end()) continue;
    auto cpu = collect(it->second, m_consumer_cpu);
    if (cpu.empty()) {
      printf("%-19s N/A: %s\n", peer.c_str(), first_note(it->second).c_str());
      continue;
    }
    std::string mm = fmt("%.1f", vmin(cpu)) + ".." + fmt("%.1f", vmax(cpu)) + " us";
    printf("%-19s %13.1f us %21s %9.2f %9.2f %6.2f  %s\n", peer.c_str(), median(cpu), mm.c_str(),
           median(collect(it->second, m_p50)) / 1e3, median(collect(it->second, m_p99)) / 1e3, others(it->second),
           peer == base ? "" : ratio_str(ratios(t, sc.id, base, peer, m_consumer_cpu)).c_str());
  }
}

std::vector<Target> targets(const Table& t) {
  auto idle_cpu = [](const Result& r) { return r.idle_cpu_pct; };
  return {
      ratio_target(t, "tput-64 1P1C, one per call: polyipc / boost_mq >= 1.5", "tput-64", "polyipc", "boost_mq", m_rate,
                   1.5, true),
      ratio_target(t, "tput-64-batch put_many/get_many: polyipc / bare_ring >= 0.9", "tput-64-batch", "polyipc-batch",
                   "bare_ring", m_rate, 0.9, true),
      ratio_target(t, "rtt-64 p50: polyipc / bare_ring <= 3", "rtt-64", "polyipc", "bare_ring", m_p50, 3.0, false),
      value_target(t, "rtt-64 p99: polyipc <= 20 us", "rtt-64", "polyipc", m_p99, 1e-3, 20.0, false, " us"),
      ratio_target(t, "mpmc-64 2P2C: polyipc / boost_mq >= 1.5", "mpmc-64", "polyipc", "boost_mq", m_rate, 1.5, true),
      ratio_target(t, "tput-1M: polyipc / boost_mq >= 2", "tput-1M", "polyipc", "boost_mq", m_rate, 2.0, true),
      ratio_target(t, "tput-1M: polyipc / sock_seqpacket >= 1", "tput-1M", "polyipc", "sock_seqpacket", m_rate, 1.0,
                   true),
      ratio_target(t, "tput-1M zero copy: polyipc-zc / boost_mq >= 2", "tput-1M", "polyipc-zc", "boost_mq", m_rate, 2.0,
                   true),
      ratio_target(t, "json-vs-bytes 64 B: JSON / BYTES >= 0.7", "json-vs-bytes", "polyipc-json", "polyipc-bytes",
                   m_rate, 0.7, true),
      value_target(t, "idle getter, FOREVER: CPU < 1%", "idle-getter-cpu", "polyipc-forever", idle_cpu, 1.0, 1.0, false,
                   " %"),
      value_target(t, "idle getter, 60 s timeout: CPU < 1%", "idle-getter-cpu", "polyipc-timeout60s", idle_cpu, 1.0,
                   1.0, false, " %"),
  };
}

json result_json(const Result& r) {
  json j = {{"ok", r.ok}};
  if (!r.ok) j["note"] = r.note;
  auto put = [&](const char* k, double v) {
    if (v != 0 && std::isfinite(v)) j[k] = v;
  };
  put("msgs", r.msgs);
  put("seconds", r.seconds);
  put("rate", r.rate);
  put("mbps", r.mbps);
  put("cpu", r.cpu);
  put("p50_ns", r.p50);
  put("p99_ns", r.p99);
  put("p999_ns", r.p999);
  put("mean_ns", r.mean);
  put("max_ns", r.max);
  put("idle_cpu_pct", r.idle_cpu_pct);
  put("wakeups_per_s", r.wakeups_per_s);
  put("wake_latency_us", r.wake_latency_us);
  put("consumer_cpu_us", r.consumer_cpu_us);
  return j;
}

std::string describe(const Scenario& sc, const Result& r) {
  if (sc.kind == Kind::Rtt)
    return fmt("p50 %.2f us", r.p50 / 1e3) + fmt("  p99 %.2f us", r.p99 / 1e3) + fmt("  p99.9 %.2f us", r.p999 / 1e3);
  if (sc.kind == Kind::Idle)
    return fmt("CPU %.3f%%", r.idle_cpu_pct) + fmt("  %.1f wakeups/s", r.wakeups_per_s) +
           fmt("  wake %.0f us", r.wake_latency_us);
  if (sc.kind == Kind::Sporadic)
    return fmt("consumer CPU %.1f us/msg", r.consumer_cpu_us) + fmt("  p50 %.2f us", r.p50 / 1e3) +
           fmt("  p99 %.2f us", r.p99 / 1e3);
  return si(r.rate) + " msg/s  " + fmt("%.0f", r.mbps) + " MB/s" + fmt("  cpu %.0f%%", r.cpu * 100);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (Args a(argc, argv); a.next();) {
    if (parse_common_option(a, o)) continue;
    if (a.is("--peers-only")) o.peers_only = true;
    else if (a.is("--seconds")) o.p.seconds = a.number();
    else if (a.is("--rtt-iters")) o.p.rtt_iters = int(a.integer());
    else if (a.is("--idle-seconds")) o.p.idle_seconds = a.number();
    else if (a.is("--sporadic-gap-us")) o.p.sporadic_gap_us = int(a.integer());
    else if (a.is("--pin")) o.p.pin = true;
    else if (a.is("-h") || a.is("--help")) return usage(), 0;
    else return unknown_option(a, usage);
  }
  apply_quick(o);
  if (o.quick) {
    o.p.seconds = std::min(o.p.seconds, 0.15);
    o.p.warm_seconds = 0.03;
    o.p.rtt_iters = std::min(o.p.rtt_iters, 4000);
    o.p.rtt_warm = 500;
    o.p.idle_seconds = std::min(o.p.idle_seconds, 2.0);
    o.p.sporadic_msgs = std::min(o.p.sporadic_msgs, 500);
    o.p.sporadic_warm = 50;
  }
  if (!polyipc_available() && !o.peers_only) {
    fprintf(stderr, "polyipc_bench: built without the library: running the peers only\n");
    o.peers_only = true;
  }
  const std::string ns = "bench-" + std::to_string(getpid());
  setenv("POLYIPC_NAMESPACE", ns.c_str(), 1);
  signal(SIGPIPE, SIG_IGN);
  const std::string mq_note = raise_mq_limits();

  const std::vector<Scenario> scs = select_scenarios(scenarios(), o, is_polyipc, o.peers_only);
  if (scs.empty()) {
    fprintf(stderr, "nothing to run (check --only / --peers)\n");
    return 2;
  }

  RunTimes times;
  printf("polyipc_bench: %d round(s), %g s per throughput cell, %d round trips per rtt cell, idle getter %g s%s%s\n",
         o.rounds, o.p.seconds, o.p.rtt_iters, o.p.idle_seconds, o.quick ? " (--quick)" : "",
         o.p.pin ? ", processes pinned (--pin)" : "");
  printf("machine: %ld CPUs online, load average %s at start; POLYIPC_NAMESPACE=%s\n", sysconf(_SC_NPROCESSORS_ONLN),
         times.load_start.c_str(), ns.c_str());
  printf("posix mq: %s\n", mq_note.c_str());
  fflush(stdout);

  Table t;
  // The idle getter measures its own CPU for seconds: other load does not spoil it.
  const json cells = run_rounds(
      o, scs, t, [&](const Scenario& sc, const std::string& peer, int r) { return run_cell(o, sc, peer, r); },
      [](const Scenario& sc) { return sc.kind != Kind::Idle; }, describe, result_json);
  times.finish();
  print_run_note(t, o, times);
  printf("A shared 2-vCPU VM: expect +-20%% noise per cell.\n");

  json summary = json::object();
  for (auto& sc : scs) {
    printf("\n== %s: %s ==\n", sc.id.c_str(), sc.title.c_str());
    if (sc.kind == Kind::Tput) print_tput(t, sc, sc.peers);
    else if (sc.kind == Kind::Rtt) print_rtt(t, sc, sc.peers);
    else if (sc.kind == Kind::Sporadic) print_sporadic(t, sc, sc.peers);
    else print_idle(t, sc, sc.peers);
    for (auto& peer : sc.peers) {
      auto& rs = t[sc.id][peer];
      json s = {{"rounds_ok", collect(rs, m_rate).size()}};
      auto med = [&](const char* k, double (*m)(const Result&)) {
        auto v = collect(rs, m);
        if (!v.empty() && std::isfinite(median(v)) && median(v) != 0) s[k] = median(v);
      };
      med("rate", m_rate);
      med("mbps", [](const Result& r) { return r.mbps; });
      med("p50_ns", m_p50);
      med("p99_ns", m_p99);
      med("p999_ns", [](const Result& r) { return r.p999; });
      med("idle_cpu_pct", [](const Result& r) { return r.idle_cpu_pct; });
      med("consumer_cpu_us", m_consumer_cpu);
      if (collect(rs, m_rate).empty() && collect(rs, [](const Result& r) { return r.idle_cpu_pct + 1; }).empty() &&
          collect(rs, m_consumer_cpu).empty())
        s["note"] = first_note(rs);
      if (peer != sc.peers.front()) {
        auto v = ratios(t, sc.id, sc.peers.front(), peer,
                        sc.kind == Kind::Rtt ? m_p50 : sc.kind == Kind::Sporadic ? m_consumer_cpu : m_rate);
        if (!v.empty()) s["ratio_vs_base"] = median(v);
      }
      summary[sc.id][peer] = s;
    }
  }

  const json tj = report_targets(targets(t));
  if (!o.peers_only) warn_leftover_objects(ns);
  write_json_file(o,
                  {{"seconds", o.p.seconds},
                   {"rtt_iters", o.p.rtt_iters},
                   {"idle_seconds", o.p.idle_seconds},
                   {"posix_mq", mq_note}},
                  times, cells, summary, tj);
  return 0;
}
