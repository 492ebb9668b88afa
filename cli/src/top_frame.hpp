// `polyipc top` without the library: from two samples of the namespace's
// stat JSON, the frame it prints (rates per second from counter deltas).
// Pure functions, so the arithmetic is tested without processes.
#pragma once
#include <cstdint>
#include <string>

#include "format.hpp"

namespace polyipc_cli {

// One sample of the objects top watches, as the library reported them.
struct TopSample {
  Json objects = Json::array();  // stat objects ({"name", "kind", "counters", ...} or {"name", "error"})
  int64_t steady_ns = 0;         // monotonic time of the sample
  int64_t unix_ms = 0;           // wall time of the sample
};

// The frame for `now` as JSON (what `top --json` prints, one line per frame):
//   {"namespace", "time_unix_ms", "seconds", "objects": [{"name", "kind",
//    "state", "attached", "asleep", "counters", "deltas", "rates",
//    "ops_per_s", "idle_ms"}]}
// asleep: threads asleep in a wait on the object (a queue's getters, putters
// and joiners; a dict's or list's watchers), null when its stat does not say.
// deltas/rates/ops_per_s/seconds are null on the first frame (before ==
// nullptr) and for an object that is new since `before` (or was recreated:
// a counter went down). ops_per_s sums the counted calls (puts, gets,
// acquires, waits ...), not bytes.
Json top_frame(const TopSample* before, const TopSample& now, const std::string& namespace_name);

// The frame as text: a header line, then a table, busiest object first.
std::string top_text(const Json& frame);

// Per-second rates: 0.25 -> "0.25", 12.34 -> "12.3", 1234 -> "1.2k", 2.5e6 -> "2.5M".
std::string rate_text(double per_second);
// Time since the last activity: 450 -> "0.5s", 125000 -> "2m", 7200000 -> "2h", 3 days -> "3d".
std::string idle_text(int64_t ms);

}  // namespace polyipc_cli
