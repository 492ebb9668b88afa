#include "core/process.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace polyipc {
namespace {

constexpr int kPidBits = 22;
constexpr uint64_t kPidMask = (uint64_t{1} << kPidBits) - 1;

// Reads /proc/<pid>/stat: field 3 is the state, field 22 the start time.
bool read_stat(pid_t pid, char* state, uint64_t* start) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  // The command name may hold spaces and parentheses: fields restart after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  p += 2;
  *state = *p;
  for (int field = 3; field < 22 && *p; ++p)
    if (*p == ' ') ++field;
  *start = std::strtoull(p, nullptr, 10);
  return true;
}

}  // namespace

ProcessToken make_token(pid_t pid, uint64_t start_ticks) noexcept {
  return (start_ticks << kPidBits) | (static_cast<uint64_t>(pid) & kPidMask);
}

pid_t token_pid(ProcessToken t) noexcept { return static_cast<pid_t>(t & kPidMask); }

uint64_t process_start_ticks(pid_t pid) noexcept {
  char state;
  uint64_t start = 0;
  return read_stat(pid, &state, &start) ? start : 0;
}

namespace {
std::atomic<ProcessToken> cached_token{0};
void forget_token_after_fork() { cached_token.store(0, std::memory_order_relaxed); }
}  // namespace

ProcessToken self_token() noexcept {
  // Cached: getpid() is a real system call, and locks ask on every call. A
  // forked child forgets the parent's token in glibc's atfork handler.
  ProcessToken t = cached_token.load(std::memory_order_relaxed);
  if (t != 0) return t;
  static const int registered = pthread_atfork(nullptr, nullptr, forget_token_after_fork);
  (void)registered;
  const pid_t pid = ::getpid();
  t = make_token(pid, process_start_ticks(pid));
  cached_token.store(t, std::memory_order_relaxed);
  return t;
}

bool is_alive(ProcessToken t) noexcept {
  pid_t pid = token_pid(t);
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state;
  uint64_t start = 0;
  if (!read_stat(pid, &state, &start)) {
    // Gone between the two looks, or hidden (another user's process under
    // hidepid): a second kill() tells. Hidden counts as alive, since "dead"
    // would give a live process's leases and sleeper counts away.
    return ::kill(pid, 0) == 0 || errno == EPERM;
  }
  if (state == 'Z' || state == 'X') return false;
  return make_token(pid, start) == t;
}

uint64_t now_unix_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace polyipc
