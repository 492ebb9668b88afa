// Shared helpers of the C API tests: namespace, names, RAII handles, status
// printing, forked children with bounded waits, pipes.
#pragma once

#include <polyipc.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace capitest {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int64_t kMs = 1000 * 1000;  // nanoseconds per millisecond
constexpr int64_t kSec = 1000 * kMs;

// The namespace of this test process ("capitest-<pid>"), set before main.
const std::string& Namespace();
// POSIX shm name and /dev/shm path of queue `name` in our namespace.
std::string ShmName(const std::string& name);
std::string ShmPath(const std::string& name);

// "POLYIPC_ERR_EMPTY(2)": our own table, so a wrong polyipc_status_name cannot
// hide a wrong status.
std::string St(int status);

// polyipc_error preset to a sentinel so "was it filled?" can be asserted.
struct Err : polyipc_error {
  Err() { Reset(); }
  void Reset() {
    code = -777;
    std::memset(message, 0, sizeof message);
    std::strcpy(message, "<untouched>");
  }
  std::string Msg() const { return std::string(message, strnlen(message, sizeof message)); }
};

// Asserts the call returns OK; the call may use `e` (a fresh Err) as its err.
#define CAPI_ASSERT_OK(call)                                                            \
  do {                                                                                  \
    ::capitest::Err e;                                                                  \
    int capi_rc_ = (call);                                                              \
    ASSERT_EQ(::capitest::St(POLYIPC_OK), ::capitest::St(capi_rc_)) << #call << ": " << e.Msg(); \
  } while (0)
#define CAPI_EXPECT_OK(call)                                                            \
  do {                                                                                  \
    ::capitest::Err e;                                                                  \
    int capi_rc_ = (call);                                                              \
    EXPECT_EQ(::capitest::St(POLYIPC_OK), ::capitest::St(capi_rc_)) << #call << ": " << e.Msg(); \
  } while (0)
#define EXPECT_ST(expected, actual) EXPECT_EQ(::capitest::St(expected), ::capitest::St(actual))
#define ASSERT_ST(expected, actual) ASSERT_EQ(::capitest::St(expected), ::capitest::St(actual))

// Owns a polyipc_queue handle.
class Queue {
 public:
  Queue() = default;
  explicit Queue(polyipc_queue* q) : q_(q) {}
  Queue(Queue&& o) noexcept : q_(o.q_) { o.q_ = nullptr; }
  Queue& operator=(Queue&& o) noexcept {
    if (this != &o) {
      polyipc_queue_close(q_);
      q_ = o.q_;
      o.q_ = nullptr;
    }
    return *this;
  }
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;
  ~Queue() { polyipc_queue_close(q_); }
  polyipc_queue* get() const { return q_; }
  operator polyipc_queue*() const { return q_; }
  polyipc_queue** out() {
    Reset();
    return &q_;
  }
  void Reset() {
    polyipc_queue_close(q_);
    q_ = nullptr;
  }
  // forget without closing (a forked child's copy of the parent's handle)
  void Forget() { q_ = nullptr; }

 private:
  polyipc_queue* q_ = nullptr;
};

polyipc_queue_options Opts(uint32_t order = POLYIPC_FIFO, uint32_t format = POLYIPC_FORMAT_JSON,
                           uint32_t joinable = 0);
// polyipc_queue_open into *out; returns the status.
int OpenQ(const std::string& name, polyipc_open_mode mode, const polyipc_queue_options* opts, Queue* out,
          polyipc_error* err = nullptr);

int Put(polyipc_queue* q, const std::string& msg, int64_t timeout_ns = 0, polyipc_error* err = nullptr);
int PutP(polyipc_queue* q, const std::string& msg, int64_t priority, int64_t timeout_ns = 0,
         polyipc_error* err = nullptr);
// polyipc_queue_get into *out (and frees the library copy).
int Get(polyipc_queue* q, std::string* out, int64_t timeout_ns = 0, polyipc_error* err = nullptr);
// queue size, or UINT64_MAX when polyipc_queue_size fails.
uint64_t Size(polyipc_queue* q);

// Parses library-returned JSON and frees it.
json TakeJson(char* text);

// Case-insensitive substring / "word" (not inside a longer [A-Za-z0-9_] run) tests.
bool ContainsI(const std::string& hay, const std::string& needle);
bool ContainsWord(const std::string& hay, const std::string& word);

double SecondsSince(Clock::time_point t0);

// A fixture that hands out queue names and unlinks them afterwards.
class CapiTest : public ::testing::Test {
 protected:
  // "<sanitised test name>-<tag>": unique within the process.
  std::string Name(const std::string& tag);
  // a name as given, only registered for cleanup
  std::string Track(const std::string& name);
  void TearDown() override;

 private:
  std::vector<std::string> names_;
};

// ---- processes -------------------------------------------------------------
// Runs fn in a forked child that _exit()s with fn's result (0 = success; 97 on
// an exception). stdout/stderr are flushed before the fork.
pid_t Spawn(const std::function<int()>& fn);
// Runs argv[0] (execv) in a child process, with `env` (NAME=value) added.
pid_t SpawnExec(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
// Waits at most `timeout` for pid. Returns its exit code, 128+signal when it was
// killed, or -1 after the timeout (the child is then killed with SIGKILL and reaped).
int WaitChild(pid_t pid, std::chrono::milliseconds timeout);
// SIGKILLs and reaps every child still registered when it goes out of scope,
// so a failed assertion never leaves processes behind.
class Children {
 public:
  ~Children();
  pid_t Add(pid_t pid) {
    pids_.push_back(pid);
    return pid;
  }
  // WaitChild and forget.
  int Wait(pid_t pid, std::chrono::milliseconds timeout);
  void KillAll();

 private:
  std::vector<pid_t> pids_;
};

// Child-side check: reports to stderr and makes the child exit non-zero.
#define CHILD_REQUIRE(cond)                                                                        \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(), __FILE__, __LINE__, \
                   #cond);                                                                         \
      return 1 + (__LINE__ % 90);                                                                  \
    }                                                                                              \
  } while (0)

class Pipe {
 public:
  Pipe();
  ~Pipe();
  int r() const { return fd_[0]; }
  int w() const { return fd_[1]; }
  void CloseRead();
  void CloseWrite();
  bool WriteByte(char c = 'x');
  // Reads one byte, waiting at most timeout_ms. False on timeout or EOF.
  bool ReadByte(char* c, int timeout_ms);
  // Readable now (data or EOF)?
  bool Readable(int timeout_ms = 0);

 private:
  int fd_[2];
};

// The state of /proc/<pid>/stat ('R', 'S', ...), or 0.
char ProcState(pid_t pid);
// Waits (bounded) until pid is asleep in the kernel: the way to know a child
// that announced "about to block" has really blocked.
bool WaitUntilSleeping(pid_t pid, std::chrono::milliseconds timeout);

// Polls the stat of `name` (bounded) until the number at `path` (keys into
// nested objects) equals want; false when it never did.
bool WaitForStat(const std::string& name, const std::vector<std::string>& path, int64_t want,
                 std::chrono::milliseconds timeout);

// Searches a JSON value (recursively) for a numeric member named one of keys.
bool FindNumber(const json& j, const std::vector<std::string>& keys, int64_t* value, std::string* key_found);

std::string Base64Decode(const std::string& in);

}  // namespace capitest
