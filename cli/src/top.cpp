// `polyipc top`: the namespace's counters as rates, refreshed every interval
// (or at once when a line arrives on stdin; "q" quits).
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "library.hpp"
#include "top_frame.hpp"

namespace polyipc_cli {
namespace {

// "--interval": seconds, 0.01 to one day.
double parse_interval(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double s = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !(s >= 0.01 && s <= 86400))
    throw Failure(kExitUsage, "--interval: '" + text + "' is not a number of seconds from 0.01 to 86400");
  return s;
}

// The whole namespace, or the named objects. A name that fails on the first
// sample is an error (exit code by status); later it shows as a row with the
// error, so a queue removed while watched does not end the watch.
TopSample take_sample(const std::vector<std::string>& names, bool first) {
  TopSample s;
  s.steady_ns = clock_ns(CLOCK_MONOTONIC);
  s.unix_ms = clock_ns(CLOCK_REALTIME) / 1'000'000;
  polyipc_error err{};
  if (names.empty()) {
    char* raw = nullptr;
    const int rc = polyipc_list_json(&raw, &err);
    LibText text(raw);
    check(rc, err);
    s.objects = parse_library_json(text.get(), "the object list");
    if (!s.objects.is_array()) throw Failure(kExitOther, "the library returned a list that is not a JSON array");
    return s;
  }
  for (const auto& name : names) {
    char* raw = nullptr;
    err = polyipc_error{};
    const int rc = polyipc_stat_json(name.c_str(), &raw, &err);
    LibText text(raw);
    if (rc != POLYIPC_OK && first) check(rc, err);
    s.objects.push_back(rc == POLYIPC_OK ? parse_library_json(text.get(), ("stat of '" + name + "'").c_str())
                                         : Json{{"name", name}, {"error", error_text(rc, err)}});
  }
  return s;
}

enum class Wake { kTick, kRefresh, kQuit };

// Sleeps until deadline_ns (CLOCK_MONOTONIC), or until stdin brings a line:
// "q" quits, anything else refreshes now. At end of file stdin is ignored.
Wake wait_for_tick(int64_t deadline_ns, bool* stdin_open) {
  for (;;) {
    const int64_t left_ns = deadline_ns - clock_ns(CLOCK_MONOTONIC);
    if (left_ns <= 0) return Wake::kTick;
    const int timeout_ms = static_cast<int>(std::min<int64_t>((left_ns + 999'999) / 1'000'000, 1 << 30));
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    const int n = poll(&in, *stdin_open ? 1 : 0, timeout_ms);
    if (n <= 0) continue;  // timeout (re-checked above) or EINTR
    char buf[256];
    const ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
    if (got <= 0) {
      if (got == 0 || (errno != EINTR && errno != EAGAIN)) *stdin_open = false;
      continue;
    }
    const std::string input(buf, static_cast<size_t>(got));
    if (input.find('\n') == std::string::npos) continue;  // not a whole line yet
    return input.find('q') != std::string::npos ? Wake::kQuit : Wake::kRefresh;
  }
}

}  // namespace

int cmd_top(const Options& o) {
  const double interval = parse_interval(o.interval);
  const int64_t interval_ns = static_cast<int64_t>(std::llround(interval * 1e9));
  const bool clear_screen = !o.json && isatty(STDOUT_FILENO);
  const std::string ns = current_namespace();
  bool stdin_open = true;

  TopSample before = take_sample(o.names, true);
  auto show = [&](const TopSample* prev, const TopSample& now) {
    const Json frame = top_frame(prev, now, ns);
    if (o.json) write_out(frame.dump() + "\n");
    else write_out((clear_screen ? "\x1b[H\x1b[2J" : "") + top_text(frame) + (clear_screen ? "" : "\n"));
  };
  show(nullptr, before);
  for (uint64_t frame = 1; o.iterations == 0 || frame < o.iterations; ++frame) {
    if (wait_for_tick(before.steady_ns + interval_ns, &stdin_open) == Wake::kQuit) break;
    TopSample now = take_sample(o.names, false);
    show(&before, now);
    before = std::move(now);
  }
  return kExitOk;
}

}  // namespace polyipc_cli
