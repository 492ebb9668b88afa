// The subcommands of `polyipc`. Each returns the process exit code, prints its
// result on stdout, and throws Failure for an error main() reports on stderr.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace polyipc_cli {

struct Options {
  bool json = false;               // --json: machine output
  std::string name;                // the object of stat/put/get/peek
  std::vector<std::string> names;  // the objects of rm and top
  std::string message;             // put's JSON text ("-": read stdin)
  std::optional<int64_t> priority; // put --priority
  std::string timeout = "0";       // put/get --timeout, seconds
  bool timeout_given = false;      // --timeout was on the command line
  bool until_closed = false;       // get --until-closed: every message until end of stream
  bool create = false;             // put --create
  size_t count = 10;               // peek --count
  uint64_t slots = 1;              // release --count
  std::string action;              // event: set / clear / wait; barrier: abort / reset
  std::optional<std::string> key;  // dict KEY
  bool remove = false;             // dict --delete, list --pop
  std::optional<int64_t> index;    // list INDEX
  bool watch = false;              // dict/list --watch: print again after each change
  uint64_t changes = 0;            // --watch: stop after this many changes (0: never)
  std::string interval = "1";      // top --interval, seconds
  uint64_t iterations = 0;         // top --iterations (0: until "q" or a signal)
  std::string function;            // submit FUNCTION
};

int cmd_ls(const Options& o);
int cmd_stat(const Options& o);
int cmd_rm(const Options& o);
int cmd_gc(const Options& o);
int cmd_put(const Options& o);
int cmd_get(const Options& o);
int cmd_peek(const Options& o);
int cmd_event(const Options& o);    // set / clear / wait an event
int cmd_release(const Options& o);  // release semaphore slots
int cmd_barrier(const Options& o);  // abort / reset a barrier
int cmd_dict(const Options& o);     // print, read, set or delete dict entries
int cmd_list(const Options& o);     // print, read, append to or pop from a list
int cmd_top(const Options& o);      // the counters of the namespace as rates, refreshed (top.cpp)
int cmd_close(const Options& o);    // end a queue's stream or a pool's tasks
int cmd_submit(const Options& o);   // submit a pool task, wait for its result and print it

// "0" -> 0, "1.5" -> 1.5 s, "-1" / "forever" / "inf" -> POLYIPC_FOREVER, in ns.
// Throws Failure(kExitUsage) for anything else.
int64_t parse_timeout(const std::string& text);

// The namespace objects live in (POLYIPC_NAMESPACE, default "default").
std::string current_namespace();

// clock_gettime(clock) in nanoseconds (CLOCK_MONOTONIC for deadlines).
int64_t clock_ns(clockid_t clock);

}  // namespace polyipc_cli
