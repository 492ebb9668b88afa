#include "common.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace capitest {
namespace {

std::string& NamespaceStorage() {
  static std::string ns;
  return ns;
}

// Runs before main (and before any polyipc call): every test process gets a
// namespace of its own, inherited by forked and exec'd children.
struct NamespaceInit {
  NamespaceInit() {
    NamespaceStorage() = "capitest-" + std::to_string(getpid());
    setenv("POLYIPC_NAMESPACE", NamespaceStorage().c_str(), 1);
  }
} namespace_init;

// Removes whatever a test left in its namespace (a safety net; tests unlink
// what they create) and says so.
class LeftoverCleaner : public ::testing::Environment {
 public:
  void TearDown() override {
    std::string prefix = "polyipc." + Namespace() + ".";
    DIR* d = opendir("/dev/shm");
    if (!d) return;
    std::vector<std::string> left;
    while (dirent* ent = readdir(d)) {
      std::string n = ent->d_name;
      if (n.compare(0, prefix.size(), prefix) == 0) left.push_back(n);
    }
    closedir(d);
    for (auto& n : left) {
      std::fprintf(stderr, "capitest: removing leftover /dev/shm/%s\n", n.c_str());
      shm_unlink(("/" + n).c_str());
    }
  }
};
::testing::Environment* const leftover_cleaner = ::testing::AddGlobalTestEnvironment(new LeftoverCleaner);

}  // namespace

const std::string& Namespace() { return NamespaceStorage(); }
std::string ShmName(const std::string& name) { return "/polyipc." + Namespace() + "." + name; }
std::string ShmPath(const std::string& name) { return "/dev/shm/polyipc." + Namespace() + "." + name; }

std::string St(int status) {
  static const char* const names[] = {
      "POLYIPC_OK",          "POLYIPC_ERR_TIMEOUT",   "POLYIPC_ERR_EMPTY",        "POLYIPC_ERR_FULL",
      "POLYIPC_ERR_CLOSED",  "POLYIPC_ERR_NOT_FOUND", "POLYIPC_ERR_EXISTS",       "POLYIPC_ERR_INVALID_ARG",
      "POLYIPC_ERR_INVALID_JSON", "POLYIPC_ERR_TOO_LARGE", "POLYIPC_ERR_PERMISSION", "POLYIPC_ERR_OWNER_DEAD",
      "POLYIPC_ERR_INCOMPATIBLE", "POLYIPC_ERR_NO_MEMORY", "POLYIPC_ERR_NOT_OWNER", "POLYIPC_ERR_BROKEN",
      "POLYIPC_ERR_SYSTEM", "POLYIPC_ERR_OUT_OF_RANGE"};
  std::string n = (status >= 0 && status <= 17) ? names[status] : "unknown";
  return n + "(" + std::to_string(status) + ")";
}

polyipc_queue_options Opts(uint32_t order, uint32_t format, uint32_t joinable) {
  polyipc_queue_options o;
  std::memset(&o, 0xAB, sizeof o);  // _init must set every field
  polyipc_queue_options_init(&o);
  o.order = order;
  o.format = format;
  o.joinable = joinable;
  return o;
}

int OpenQ(const std::string& name, polyipc_open_mode mode, const polyipc_queue_options* opts, Queue* out,
          polyipc_error* err) {
  polyipc_queue* q = nullptr;
  int rc = polyipc_queue_open(name.c_str(), mode, opts, &q, err);
  if (rc == POLYIPC_OK) {
    *out = Queue(q);
  }
  return rc;
}

int Put(polyipc_queue* q, const std::string& msg, int64_t timeout_ns, polyipc_error* err) {
  return polyipc_queue_put(q, msg.data(), msg.size(), timeout_ns, err);
}

int PutP(polyipc_queue* q, const std::string& msg, int64_t priority, int64_t timeout_ns, polyipc_error* err) {
  return polyipc_queue_put_priority(q, msg.data(), msg.size(), priority, timeout_ns, err);
}

int Get(polyipc_queue* q, std::string* out, int64_t timeout_ns, polyipc_error* err) {
  void* data = nullptr;
  size_t len = 0;
  int rc = polyipc_queue_get(q, &data, &len, timeout_ns, err);
  if (rc == POLYIPC_OK) {
    out->assign(static_cast<const char*>(data), len);
    polyipc_free(data);
  }
  return rc;
}

uint64_t Size(polyipc_queue* q) {
  uint64_t n = 0;
  if (polyipc_queue_size(q, &n, nullptr) != POLYIPC_OK) return UINT64_MAX;
  return n;
}

json TakeJson(char* text) {
  if (!text) throw std::runtime_error("library returned a NULL JSON text");
  std::string s(text);
  polyipc_free(text);
  return json::parse(s);
}

bool ContainsI(const std::string& hay, const std::string& needle) {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(hay).find(lower(needle)) != std::string::npos;
}

bool ContainsWord(const std::string& hay, const std::string& word) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string h = hay, w = word;
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t pos = h.find(w); pos != std::string::npos; pos = h.find(w, pos + 1)) {
    bool left_ok = pos == 0 || !ident(h[pos - 1]);
    size_t end = pos + w.size();
    bool right_ok = end >= h.size() || !ident(h[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string CapiTest::Name(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = info ? std::string(info->test_suite_name()) + "-" + info->name() : "t";
  for (auto& c : base) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  }
  return Track(base + "-" + tag);
}

std::string CapiTest::Track(const std::string& name) {
  names_.push_back(name);
  return name;
}

void CapiTest::TearDown() {
  for (auto& n : names_) {
    polyipc_unlink(n.c_str(), nullptr);
    shm_unlink(ShmName(n).c_str());  // garbage objects made by hand
  }
}

// ---- processes ---------------------------------------------------------------

pid_t Spawn(const std::function<int()>& fn) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    int rc = 97;
    try {
      rc = fn();
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "child %d: exception: %s\n", (int)getpid(), ex.what());
    } catch (...) {
      std::fprintf(stderr, "child %d: unknown exception\n", (int)getpid());
    }
    std::fflush(nullptr);
    _exit(rc);
  }
  return pid;
}

pid_t SpawnExec(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    for (auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    execv(args[0], args.data());
    std::fprintf(stderr, "execv %s: %s\n", args[0], std::strerror(errno));
    _exit(96);
  }
  return pid;
}

int WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -2;
    }
    if (r < 0 && errno != EINTR) return -3;
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "capitest: child %d did not exit within %lld ms; killing it\n", (int)pid,
                   (long long)timeout.count());
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a bounded wait
  }
}

Children::~Children() { KillAll(); }

void Children::KillAll() {
  for (pid_t p : pids_) {
    kill(p, SIGKILL);
    int st;
    waitpid(p, &st, 0);
  }
  pids_.clear();
}

int Children::Wait(pid_t pid, std::chrono::milliseconds timeout) {
  int rc = WaitChild(pid, timeout);
  pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  return rc;
}

Pipe::Pipe() {
  if (pipe(fd_) != 0) {
    std::perror("pipe");
    std::abort();
  }
}
Pipe::~Pipe() {
  CloseRead();
  CloseWrite();
}
void Pipe::CloseRead() {
  if (fd_[0] >= 0) close(fd_[0]);
  fd_[0] = -1;
}
void Pipe::CloseWrite() {
  if (fd_[1] >= 0) close(fd_[1]);
  fd_[1] = -1;
}
bool Pipe::WriteByte(char c) {
  for (;;) {
    ssize_t n = write(fd_[1], &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}
bool Pipe::ReadByte(char* c, int timeout_ms) {
  if (!Readable(timeout_ms)) return false;
  for (;;) {
    ssize_t n = read(fd_[0], c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}
bool Pipe::Readable(int timeout_ms) {
  pollfd p{fd_[0], POLLIN, 0};
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int left = static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
    int r = poll(&p, 1, left);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

char ProcState(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto p = s.rfind(')');
  if (p == std::string::npos || p + 2 >= s.size()) return 0;
  return s[p + 2];
}

bool WaitUntilSleeping(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int consecutive = 0;
  while (Clock::now() < deadline) {
    char st = ProcState(pid);
    if (st == 'S' || st == 'D') {
      if (++consecutive >= 3) return true;  // asleep on three looks in a row
    } else {
      consecutive = 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a bounded wait
  }
  return false;
}

bool WaitForStat(const std::string& name, const std::vector<std::string>& path, int64_t want,
                 std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    char* text = nullptr;
    if (polyipc_stat_json(name.c_str(), &text, nullptr) == POLYIPC_OK) {
      json j = TakeJson(text);
      for (const auto& key : path) j = j.is_object() && j.contains(key) ? j[key] : json();
      if (j.is_number_integer() && j.get<int64_t>() == want) return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a bounded wait
  }
}

bool FindNumber(const json& j, const std::vector<std::string>& keys, int64_t* value, std::string* key_found) {
  if (j.is_object()) {
    for (auto& k : keys) {
      auto it = j.find(k);
      if (it != j.end() && it->is_number_integer()) {
        *value = it->get<int64_t>();
        if (key_found) *key_found = k;
        return true;
      }
    }
    for (auto& [k, v] : j.items()) {
      (void)k;
      if (FindNumber(v, keys, value, key_found)) return true;
    }
  } else if (j.is_array()) {
    for (auto& v : j) {
      if (FindNumber(v, keys, value, key_found)) return true;
    }
  }
  return false;
}

std::string Base64Decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t buf = 0;  // only its low bits + 6 matter; unsigned, so the shift never overflows
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) continue;  // '=' padding, whitespace
    buf = ((buf << 6) | static_cast<uint32_t>(v)) & 0xFFFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace capitest
