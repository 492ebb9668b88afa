// Process identity for liveness checks: pid plus start time, so that a
// recycled pid is never mistaken for the process that used to hold it.
#pragma once
#include <cstdint>
#include <sys/types.h>

namespace polyipc {

// pid (22 bits: Linux pid_max <= 2^22) and start time in clock ticks since
// boot (42 bits) packed in one word, so it can be claimed with one CAS.
using ProcessToken = uint64_t;

ProcessToken make_token(pid_t pid, uint64_t start_ticks) noexcept;
pid_t token_pid(ProcessToken t) noexcept;

// The calling process's token (recomputed after fork).
ProcessToken self_token() noexcept;

// Start time of a process in clock ticks since boot, 0 if it does not exist.
uint64_t process_start_ticks(pid_t pid) noexcept;

// True while the process named by the token runs (a zombie counts as dead).
bool is_alive(ProcessToken t) noexcept;

uint64_t now_unix_ms() noexcept;

}  // namespace polyipc
