// The `polyipc` command run as a process against real queues; the C API sets
// up and checks the state. Every test process works in a namespace of its own.
#include <polyipc.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pwd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct CliRun {
  int exit_code = -1;  // -1: killed (timed out or by a signal)
  std::string out;
  std::string err;
  double seconds = 0;
};

std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

// Runs polyipc with args (stdin_text on its stdin, cwd when given); kills it
// after timeout_s so a hanging library never hangs the test run.
CliRun polyipc(const std::vector<std::string>& args, const std::string& stdin_text = "", const std::string& cwd = "",
            int timeout_s = 30) {
  std::vector<std::string> argv_s{POLYIPC_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) abort();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  CliRun r;
  auto start = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    r.err = std::string("posix_spawn failed: ") + strerror(rc);
    return r;
  }
  signal(SIGPIPE, SIG_IGN);
  if (!stdin_text.empty()) (void)!write(in[1], stdin_text.data(), stdin_text.size());
  close(in[1]);

  auto deadline = start + std::chrono::seconds(timeout_s);
  bool killed = false;
  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (killed) r.err += "\n[test: polyipc killed after " + std::to_string(timeout_s) + " s]";
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string user_name() {
  struct passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : std::to_string(getuid());
}

// Entries of a directory (empty when it does not exist).
std::vector<std::string> dir_entries(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (!d) return names;
  while (struct dirent* e = readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.push_back(e->d_name);
  closedir(d);
  return names;
}

bool exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    ns_ = "clitest-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    setenv("POLYIPC_NAMESPACE", ns_.c_str(), 1);
  }

  void TearDown() override {
    for (auto* q : handles_) polyipc_queue_close(q);
    char* raw = nullptr;
    if (polyipc_list_json(&raw, nullptr) == POLYIPC_OK && raw) {
      Json list = Json::parse(raw, nullptr, false);
      if (list.is_array())
        for (const auto& o : list)
          if (o.contains("name")) polyipc_unlink(o["name"].get<std::string>().c_str(), nullptr);
    }
    polyipc_free(raw);
  }

  // A queue made with the C API; the handle stays open until TearDown.
  polyipc_queue* make_queue(const std::string& name, void (*tweak)(polyipc_queue_options*) = nullptr) {
    polyipc_queue_options opts;
    polyipc_queue_options_init(&opts);
    if (tweak) tweak(&opts);
    polyipc_queue* q = nullptr;
    polyipc_error err{};
    int rc = polyipc_queue_open(name.c_str(), POLYIPC_CREATE_ONLY, &opts, &q, &err);
    EXPECT_EQ(rc, POLYIPC_OK) << err.message;
    if (q) handles_.push_back(q);
    return q;
  }

  static void enqueue(polyipc_queue* q, const std::string& msg) {
    polyipc_error err{};
    ASSERT_EQ(polyipc_queue_put(q, msg.data(), msg.size(), 0, &err), POLYIPC_OK) << err.message;
  }

  static uint64_t depth(polyipc_queue* q) {
    uint64_t n = 999999;
    polyipc_error err{};
    EXPECT_EQ(polyipc_queue_size(q, &n, &err), POLYIPC_OK) << err.message;
    return n;
  }

  static int stat_status(const std::string& name) {
    char* raw = nullptr;
    int rc = polyipc_stat_json(name.c_str(), &raw, nullptr);
    polyipc_free(raw);
    return rc;
  }

  std::string ns_;
  std::vector<polyipc_queue*> handles_;
};

// ---- put / get ---------------------------------------------------------------

TEST_F(Cli, PutThenGetRoundTripsTheMessage) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  CliRun put = polyipc({"put", "jobs", R"({"job":1,"payload":"héllo"})"});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_NE(put.out.find("jobs"), std::string::npos) << put;
  EXPECT_EQ(depth(q), 1u);

  CliRun get = polyipc({"get", "jobs"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(Json::parse(get.out), Json::parse(R"({"job":1,"payload":"héllo"})")) << get;
  EXPECT_EQ(depth(q), 0u);
  EXPECT_EQ(get.err, "");
}

TEST_F(Cli, GetJsonWrapsTheMessage) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, R"([1,"two",{"three":3}])");
  CliRun get = polyipc({"get", "jobs", "--json"});
  ASSERT_EQ(get.exit_code, 0) << get;
  Json j = Json::parse(get.out);
  EXPECT_EQ(j["name"], "jobs");
  EXPECT_EQ(j["message"], Json::parse(R"([1,"two",{"three":3}])"));
}

TEST_F(Cli, PutReadsTheMessageFromStdinForDash) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  CliRun put = polyipc({"put", "jobs", "-", "--json"}, R"({"from":"stdin"})");
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(Json::parse(put.out)["depth"], 1) << put;
  CliRun get = polyipc({"get", "jobs"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(Json::parse(get.out), Json::parse(R"({"from":"stdin"})"));
}

TEST_F(Cli, PutCreateMakesAMissingQueue) {
  CliRun put = polyipc({"put", "fresh", "[1,2]", "--create"});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(stat_status("fresh"), POLYIPC_OK);
  CliRun get = polyipc({"get", "fresh"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(Json::parse(get.out), Json::parse("[1,2]"));
}

TEST_F(Cli, PutToAMissingQueueExits2AndCreatesNothing) {
  CliRun put = polyipc({"put", "nope", "{}"});
  EXPECT_EQ(put.exit_code, 2) << put;
  EXPECT_TRUE(starts_with(put.err, "polyipc: ")) << put;
  EXPECT_NE(put.err.find("nope"), std::string::npos) << put;
  EXPECT_EQ(stat_status("nope"), POLYIPC_ERR_NOT_FOUND);
  for (const char* cmd : {"get", "peek", "stat", "rm"}) {
    CliRun r = polyipc({cmd, "nope"});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r;
    EXPECT_NE(r.err.find("nope"), std::string::npos) << cmd << ": " << r;
  }
  EXPECT_EQ(stat_status("nope"), POLYIPC_ERR_NOT_FOUND);
}

TEST_F(Cli, GetOnAnEmptyQueueExits3NamingTheQueue) {
  ASSERT_NE(make_queue("jobs"), nullptr);
  CliRun get = polyipc({"get", "jobs"});
  EXPECT_EQ(get.exit_code, 3) << get;
  EXPECT_TRUE(starts_with(get.err, "polyipc: ")) << get;
  EXPECT_NE(get.err.find("jobs"), std::string::npos) << get;
  EXPECT_EQ(get.out, "");
}

TEST_F(Cli, GetWithATimeoutWaitsThenExits3) {
  ASSERT_NE(make_queue("jobs"), nullptr);
  CliRun get = polyipc({"get", "jobs", "--timeout", "0.3"});
  EXPECT_EQ(get.exit_code, 3) << get;
  EXPECT_GE(get.seconds, 0.25) << get;
  EXPECT_NE(get.err.find("jobs"), std::string::npos) << get;
}

TEST_F(Cli, PutOfMalformedJsonExits4AndLeavesTheQueueUnchanged) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, R"({"n":1})");
  enqueue(q, R"({"n":2})");

  CliRun bad = polyipc({"put", "jobs", "{bad"});
  EXPECT_EQ(bad.exit_code, 4) << bad;
  // The library's INVALID_JSON message, as the C API gives it for the same put.
  polyipc_error err{};
  ASSERT_EQ(polyipc_queue_put(q, "{bad", 4, 0, &err), POLYIPC_ERR_INVALID_JSON);
  EXPECT_EQ(bad.err, std::string("polyipc: ") + err.message + "\n");
  EXPECT_NE(bad.err.find("jobs"), std::string::npos) << bad;
  EXPECT_TRUE(std::regex_search(bad.err, std::regex("\\b1\\b"))) << "no byte offset 1 in: " << bad;
  EXPECT_EQ(bad.out, "");

  EXPECT_EQ(depth(q), 2u);
  CliRun peek = polyipc({"peek", "jobs", "--json"});
  ASSERT_EQ(peek.exit_code, 0) << peek;
  Json items = Json::parse(peek.out);
  ASSERT_EQ(items.size(), 2u) << peek;
  EXPECT_EQ(items[0]["message"], Json::parse(R"({"n":1})"));
  EXPECT_EQ(items[1]["message"], Json::parse(R"({"n":2})"));
}

TEST_F(Cli, PutOnAFullQueueExits3) {
  polyipc_queue* q = make_queue("small", [](polyipc_queue_options* o) { o->max_items = 1; });
  ASSERT_NE(q, nullptr);
  CliRun first = polyipc({"put", "small", "1"});
  ASSERT_EQ(first.exit_code, 0) << first;
  CliRun second = polyipc({"put", "small", "2"});
  EXPECT_EQ(second.exit_code, 3) << second;
  EXPECT_NE(second.err.find("small"), std::string::npos) << second;
  EXPECT_EQ(depth(q), 1u);
}

TEST_F(Cli, PriorityIsPassedToPriorityQueues) {
  ASSERT_NE(make_queue("prio", [](polyipc_queue_options* o) { o->order = POLYIPC_PRIORITY; }), nullptr);
  ASSERT_EQ(polyipc({"put", "prio", "\"low\"", "--priority", "5"}).exit_code, 0);
  ASSERT_EQ(polyipc({"put", "prio", "\"high\"", "--priority", "1"}).exit_code, 0);
  CliRun peek = polyipc({"peek", "prio", "--json"});
  ASSERT_EQ(peek.exit_code, 0) << peek;
  Json items = Json::parse(peek.out);
  ASSERT_EQ(items.size(), 2u) << peek;
  EXPECT_EQ(items[0]["priority"], 1);
  CliRun get = polyipc({"get", "prio"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(Json::parse(get.out), "high");
}

TEST_F(Cli, GetOnAJoinableQueueCompletesTheTask) {
  polyipc_queue* q = make_queue("tasks", [](polyipc_queue_options* o) { o->joinable = 1; });
  ASSERT_NE(q, nullptr);
  enqueue(q, R"({"task":1})");
  CliRun get = polyipc({"get", "tasks"});
  ASSERT_EQ(get.exit_code, 0) << get;
  polyipc_error err{};
  EXPECT_EQ(polyipc_queue_join(q, 5'000'000'000, &err), POLYIPC_OK) << err.message;
}

// ---- peek / ls / stat / rm / gc -------------------------------------------------

TEST_F(Cli, PeekShowsMessagesWithoutRemovingThem) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  for (int i = 1; i <= 3; ++i) enqueue(q, R"({"n":)" + std::to_string(i) + "}");

  CliRun json = polyipc({"peek", "jobs", "--count", "2", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  Json items = Json::parse(json.out);
  ASSERT_EQ(items.size(), 2u) << json;
  EXPECT_EQ(items[0]["message"], Json::parse(R"({"n":1})"));
  EXPECT_EQ(items[1]["message"], Json::parse(R"({"n":2})"));
  EXPECT_EQ(depth(q), 3u);

  CliRun human = polyipc({"peek", "jobs"});
  ASSERT_EQ(human.exit_code, 0) << human;
  EXPECT_EQ(lines_of(human.out).size(), 3u) << human;
  EXPECT_NE(human.out.find(R"({"n":3})"), std::string::npos) << human;
  EXPECT_EQ(depth(q), 3u);

  CliRun get = polyipc({"get", "jobs"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(Json::parse(get.out), Json::parse(R"({"n":1})"));
}

TEST_F(Cli, LsShowsTheQueue) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, "1");
  enqueue(q, "2");

  CliRun human = polyipc({"ls"});
  ASSERT_EQ(human.exit_code, 0) << human;
  auto lines = lines_of(human.out);
  ASSERT_GE(lines.size(), 2u) << human;
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^NAME +KIND +STATE +CAPACITY +MEMORY +ATTACHED +MODE +OWNER$")))
      << human;
  // This test process holds a handle: at least one live attached process.
  // The queue holds its ring's pages from creation: a little over 1 MiB.
  std::regex row("^jobs +queue +2 +1MiB +1\\.[0-9]MiB +[1-9][0-9]* +0600 +" + user_name() + "$");
  bool found = false;
  for (const auto& l : lines) found = found || std::regex_search(l, row);
  EXPECT_TRUE(found) << human;

  CliRun json = polyipc({"ls", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  Json list = Json::parse(json.out);
  ASSERT_TRUE(list.is_array()) << json;
  ASSERT_EQ(list.size(), 1u) << json;
  EXPECT_EQ(list[0]["name"], "jobs");
  EXPECT_EQ(list[0]["kind"], "queue");
  EXPECT_EQ(list[0]["depth"], 2);
  EXPECT_GE(list[0]["shm_bytes"].get<uint64_t>(), list[0]["capacity_bytes"].get<uint64_t>()) << json;
}

TEST_F(Cli, LsOfAnEmptyNamespace) {
  CliRun human = polyipc({"ls"});
  ASSERT_EQ(human.exit_code, 0) << human;
  EXPECT_NE(human.out.find(ns_), std::string::npos) << human;
  CliRun json = polyipc({"ls", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  EXPECT_EQ(Json::parse(json.out), Json::array());
}

TEST_F(Cli, StatShowsEveryField) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, "1");
  enqueue(q, "2");

  CliRun json = polyipc({"stat", "jobs", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  Json stat = Json::parse(json.out);
  EXPECT_EQ(stat["name"], "jobs");
  EXPECT_EQ(stat["kind"], "queue");
  EXPECT_EQ(stat["depth"], 2);
  EXPECT_EQ(stat["mode"], 0600);

  CliRun human = polyipc({"stat", "jobs"});
  ASSERT_EQ(human.exit_code, 0) << human;
  for (const char* re : {"^name: +jobs$", "^kind: +queue$", "^depth: +2$", "^mode: +0600$"}) {
    bool found = false;
    for (const auto& l : lines_of(human.out)) found = found || std::regex_search(l, std::regex(re));
    EXPECT_TRUE(found) << re << "\n" << human;
  }
  // One line per scalar field, values aligned in one column.
  size_t column = std::string::npos;
  for (const auto& l : lines_of(human.out)) {
    size_t colon = l.find(':');
    ASSERT_NE(colon, std::string::npos) << l;
    size_t value = l.find_first_not_of(' ', colon + 1);
    if (column == std::string::npos) column = value;
    EXPECT_EQ(value, column) << l;
  }
  EXPECT_GE(lines_of(human.out).size(), stat.size()) << human;
}

TEST_F(Cli, RmRemovesTheQueue) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  ASSERT_NE(make_queue("other"), nullptr);
  CliRun rm = polyipc({"rm", "jobs"});
  ASSERT_EQ(rm.exit_code, 0) << rm;
  EXPECT_EQ(stat_status("jobs"), POLYIPC_ERR_NOT_FOUND);
  EXPECT_EQ(stat_status("other"), POLYIPC_OK);
  CliRun ls = polyipc({"ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls;
  for (const auto& o : Json::parse(ls.out)) EXPECT_NE(o["name"], "jobs") << ls;
  // The handle this process holds keeps working (attached handles survive unlink).
  enqueue(q, "1");

  CliRun again = polyipc({"rm", "jobs", "other"});
  EXPECT_EQ(again.exit_code, 2) << again;
  EXPECT_NE(again.err.find("jobs"), std::string::npos) << again;
  EXPECT_EQ(stat_status("other"), POLYIPC_ERR_NOT_FOUND) << "rm goes on after a failing name";
}

TEST_F(Cli, GcRemovesEphemeralObjectsOfDeadProcesses) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // attaches to an ephemeral queue and dies without closing it
    polyipc_queue_options opts;
    polyipc_queue_options_init(&opts);
    opts.ephemeral = 1;
    polyipc_queue* q = nullptr;
    _exit(polyipc_queue_open("eph", POLYIPC_CREATE_ONLY, &opts, &q, nullptr) == POLYIPC_OK ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  CliRun gc = polyipc({"gc", "--json"});
  ASSERT_EQ(gc.exit_code, 0) << gc;
  Json j = Json::parse(gc.out);
  ASSERT_TRUE(j["removed"].is_array()) << gc;
  ASSERT_TRUE(j["stale"].is_array()) << gc;
  EXPECT_EQ(stat_status("eph"), POLYIPC_ERR_NOT_FOUND) << gc;

  CliRun human = polyipc({"gc"});
  EXPECT_EQ(human.exit_code, 0) << human;
}

// ---- bad input ------------------------------------------------------------------

TEST_F(Cli, BadNamesExit4AndNeverTouchTheFilesystem) {
  char tmpl[] = "/tmp/polyipc-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string cwd = tmpl;
  std::vector<std::string> bad{"../x", "a/b", "", "/abs", std::string(POLYIPC_MAX_NAME + 1, 'n')};
  for (const auto& name : bad) {
    std::vector<std::vector<std::string>> commands{{"put", name, "{}", "--create"},
                                                   {"put", name, "{}"},
                                                   {"get", name},
                                                   {"peek", name},
                                                   {"stat", name},
                                                   {"rm", name}};
    for (const auto& args : commands) {
      CliRun r = polyipc(args, "", cwd);
      EXPECT_EQ(r.exit_code, 4) << args[0] << " '" << name << "': " << r;
      EXPECT_TRUE(starts_with(r.err, "polyipc: ")) << r;
    }
  }
  EXPECT_TRUE(dir_entries(cwd).empty()) << "the commands created files in their working directory";
  rmdir(cwd.c_str());
  for (const auto& e : dir_entries("/dev/shm"))
    EXPECT_EQ(e.find(ns_), std::string::npos) << "/dev/shm/" << e << " appeared for a bad name";
  EXPECT_FALSE(exists("/dev/x"));
  EXPECT_FALSE(exists("/dev/shm/a"));
  EXPECT_FALSE(exists("/x"));
  EXPECT_FALSE(exists("/abs"));
}

TEST_F(Cli, UsageErrorsExit1) {
  std::vector<std::vector<std::string>> cases{{},
                                              {"bogus"},
                                              {"get"},
                                              {"put", "jobs"},
                                              {"ls", "--nope"},
                                              {"get", "jobs", "--timeout", "soon"},
                                              {"peek", "jobs", "--count", "0"},
                                              {"put", "jobs", "1", "--priority", "high"}};
  for (const auto& args : cases) {
    CliRun r = polyipc(args);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_TRUE(starts_with(r.err, "polyipc: ")) << r;
  }
}

TEST_F(Cli, HelpDocumentsTheExitCodes) {
  CliRun help = polyipc({"--help"});
  ASSERT_EQ(help.exit_code, 0) << help;
  for (const char* s : {"Exit codes", "0  ok", "1  usage error", "2  not found", "3  empty / full / timeout",
                        "4  invalid input", "5  any other error", "ls", "stat", "rm", "gc", "put", "get", "peek"})
    EXPECT_NE(help.out.find(s), std::string::npos) << s << "\n" << help;
}

TEST_F(Cli, VersionShowsTheLibraryVersion) {
  CliRun v = polyipc({"--version"});
  ASSERT_EQ(v.exit_code, 0) << v;
  EXPECT_NE(v.out.find(polyipc_version()), std::string::npos) << v;
}

}  // namespace

// ---- synchronisation objects ------------------------------------------------

namespace {

bool any_line_matches(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  for (const auto& l : lines_of(text))
    if (std::regex_search(l, re)) return true;
  return false;
}

TEST_F(Cli, LsShowsTheStateOfSyncObjects) {
  polyipc_lock* l = nullptr;
  polyipc_semaphore* s = nullptr;
  polyipc_event* e = nullptr;
  polyipc_barrier* b = nullptr;
  ASSERT_EQ(0, polyipc_lock_open("office", POLYIPC_OPEN_OR_CREATE, 0, nullptr, &l, nullptr));
  ASSERT_EQ(0, polyipc_lock_acquire(l, 0, nullptr));
  ASSERT_EQ(0, polyipc_semaphore_open("slots", POLYIPC_OPEN_OR_CREATE, 2, 3, nullptr, &s, nullptr));
  ASSERT_EQ(0, polyipc_event_open("go", POLYIPC_OPEN_OR_CREATE, nullptr, &e, nullptr));
  ASSERT_EQ(0, polyipc_barrier_open("meet", POLYIPC_OPEN_OR_CREATE, 4, nullptr, &b, nullptr));
  CliRun r = polyipc({"ls"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^office +lock +locked \\(thread [0-9]+\\) ")) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^slots +semaphore +value 2 \\(max 3\\) ")) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^go +event +clear ")) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^meet +barrier +0/4 waiting ")) << r;
  polyipc_lock_release(l, nullptr);
  polyipc_lock_close(l);
  polyipc_semaphore_close(s);
  polyipc_event_close(e);
  polyipc_barrier_close(b);
}

TEST_F(Cli, SetClearAndWaitDriveAnEvent) {
  polyipc_event* e = nullptr;
  ASSERT_EQ(0, polyipc_event_open("go", POLYIPC_OPEN_OR_CREATE, nullptr, &e, nullptr));
  CliRun r = polyipc({"wait", "go", "--timeout", "0.05"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_NE(r.err.find("event 'go': not set"), std::string::npos) << r;
  r = polyipc({"set", "go"});
  EXPECT_EQ(r.exit_code, 0) << r;
  int set = 0;
  polyipc_event_is_set(e, &set, nullptr);
  EXPECT_EQ(set, 1);
  EXPECT_EQ(polyipc({"wait", "go"}).exit_code, 0);
  EXPECT_EQ(polyipc({"clear", "go", "--json"}).exit_code, 0);
  polyipc_event_is_set(e, &set, nullptr);
  EXPECT_EQ(set, 0);
  polyipc_event_close(e);
  // wrong kind, missing name
  make_queue("jobs");
  r = polyipc({"set", "jobs"});
  EXPECT_EQ(r.exit_code, 5) << r;
  EXPECT_NE(r.err.find("holds a queue, not an event"), std::string::npos) << r;
  EXPECT_EQ(polyipc({"set", "nothing-here"}).exit_code, 2);
}

TEST_F(Cli, ReleaseGivesSemaphoreSlotsBack) {
  polyipc_semaphore* s = nullptr;
  ASSERT_EQ(0, polyipc_semaphore_open("slots", POLYIPC_OPEN_OR_CREATE, 1, 2, nullptr, &s, nullptr));
  CliRun r = polyipc({"release", "slots"});
  EXPECT_EQ(r.exit_code, 0) << r;
  uint64_t v = 0;
  polyipc_semaphore_value(s, &v, nullptr);
  EXPECT_EQ(v, 2u);
  r = polyipc({"release", "slots", "--count", "1"});  // bounded: past its maximum
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_NE(r.err.find("released too many times"), std::string::npos) << r;
  polyipc_semaphore_value(s, &v, nullptr);
  EXPECT_EQ(v, 2u);
  polyipc_semaphore_close(s);
}

TEST_F(Cli, AbortAndResetABarrier) {
  polyipc_barrier* b = nullptr;
  ASSERT_EQ(0, polyipc_barrier_open("meet", POLYIPC_OPEN_OR_CREATE, 2, nullptr, &b, nullptr));
  EXPECT_EQ(polyipc({"abort", "meet"}).exit_code, 0);
  int broken = 0;
  polyipc_barrier_broken(b, &broken, nullptr);
  EXPECT_EQ(broken, 1);
  CliRun r = polyipc({"stat", "meet", "--json"});
  EXPECT_EQ(Json::parse(r.out)["broken"], true) << r;
  EXPECT_EQ(polyipc({"reset", "meet"}).exit_code, 0);
  polyipc_barrier_broken(b, &broken, nullptr);
  EXPECT_EQ(broken, 0);
  polyipc_barrier_close(b);
}


// ---- dict ------------------------------------------------------------------------

TEST_F(Cli, DictSetGetPrintAndDelete) {
  CliRun r = polyipc({"dict", "cfg", "region", "\"eu\""});
  EXPECT_EQ(r.exit_code, 2) << r;  // no such dict, and --create not given
  EXPECT_EQ(stat_status("cfg"), POLYIPC_ERR_NOT_FOUND);
  r = polyipc({"dict", "cfg", "region", "\"eu-west\"", "--create"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = polyipc({"dict", "cfg", "limits", "-"}, R"({"max": 10, "name": "héllo"})");
  ASSERT_EQ(r.exit_code, 0) << r;
  // set through the C API, read through the CLI, and the other way round
  polyipc_dict* d = nullptr;
  ASSERT_EQ(0, polyipc_dict_open("cfg", POLYIPC_OPEN_ONLY, nullptr, &d, nullptr));
  ASSERT_EQ(0, polyipc_dict_set(d, "n", "42", nullptr));
  r = polyipc({"dict", "cfg", "n"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, "42\n");
  r = polyipc({"dict", "cfg", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Json::parse(r.out)["items"], Json::parse(R"({"region":"eu-west","limits":{"max":10,"name":"héllo"},"n":42})"))
      << r;
  r = polyipc({"dict", "cfg"});
  EXPECT_NE(r.out.find("\"region\": \"eu-west\""), std::string::npos) << r;
  r = polyipc({"dict", "cfg", "region", "--delete"});
  EXPECT_EQ(r.exit_code, 0) << r;
  char* value = nullptr;
  int found = 1;
  ASSERT_EQ(0, polyipc_dict_get(d, "region", &value, nullptr, &found, nullptr));
  EXPECT_EQ(found, 0);
  // a missing key exits 2 naming the dict and the key; malformed JSON exits 4 and changes nothing
  r = polyipc({"dict", "cfg", "region"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_NE(r.err.find("dict 'cfg': no key \"region\""), std::string::npos) << r;
  r = polyipc({"dict", "cfg", "n", "{bad"});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r;
  ASSERT_EQ(0, polyipc_dict_get(d, "n", &value, nullptr, &found, nullptr));
  EXPECT_EQ(std::string(value), "42");
  polyipc_free(value);
  polyipc_dict_close(d);
  // ls shows the kind and the key count
  r = polyipc({"ls"});
  EXPECT_NE(r.out.find("dict"), std::string::npos) << r;
  EXPECT_NE(r.out.find("2 keys"), std::string::npos) << r;
  // another kind under the name
  make_queue("jobs");
  r = polyipc({"dict", "jobs"});
  EXPECT_EQ(r.exit_code, 5) << r;
}


TEST_F(Cli, ListAppendReadPopAndPrint) {
  CliRun r = polyipc({"list", "log", "--append", "1"});
  EXPECT_EQ(r.exit_code, 2) << r;  // no such list, and --create not given
  r = polyipc({"list", "log", "--append", R"({"a": "héllo"})", "--create"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = polyipc({"list", "log", "--append", "-"}, "[2, 3]");
  ASSERT_EQ(r.exit_code, 0) << r;
  polyipc_list* l = nullptr;
  ASSERT_EQ(0, polyipc_list_open("log", POLYIPC_OPEN_ONLY, nullptr, &l, nullptr));
  ASSERT_EQ(0, polyipc_list_append(l, "true", nullptr));
  r = polyipc({"list", "log", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Json::parse(r.out)["items"], Json::parse(R"([{"a": "héllo"}, [2, 3], true])")) << r;
  r = polyipc({"list", "log", "-2"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, "[2, 3]\n");
  r = polyipc({"list", "log", "--pop", "0"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(Json::parse(r.out), Json::parse(R"({"a": "héllo"})"));
  uint64_t n = 0;
  ASSERT_EQ(0, polyipc_list_len(l, &n, nullptr));
  EXPECT_EQ(n, 2u);
  r = polyipc({"list", "log", "7"});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_NE(r.err.find("list 'log': index 7 out of range"), std::string::npos) << r;
  r = polyipc({"list", "log", "--append", "{bad"});
  EXPECT_EQ(r.exit_code, 4) << r;
  ASSERT_EQ(0, polyipc_list_len(l, &n, nullptr));
  EXPECT_EQ(n, 2u);
  polyipc_list_close(l);
  r = polyipc({"ls"});
  EXPECT_NE(r.out.find("2 values"), std::string::npos) << r;
  ASSERT_EQ(polyipc({"list", "log", "--pop"}).exit_code, 0);
  ASSERT_EQ(polyipc({"list", "log", "--pop"}).exit_code, 0);
  r = polyipc({"list", "log", "--pop"});
  EXPECT_EQ(r.exit_code, 3) << r;  // empty
}


// ---- top ---------------------------------------------------------------------------

// polyipc running with live pipes: the test writes to its stdin and reads its
// stdout line by line, each wait bounded.
class LiveCli {
 public:
  explicit LiveCli(const std::vector<std::string>& args) {
    std::vector<std::string> argv_s{POLYIPC_CLI_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    signal(SIGPIPE, SIG_IGN);
  }
  ~LiveCli() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdin_);
    close(stdout_);
  }
  bool started() const { return pid_ > 0; }

  // The next line of stdout, or "" when none comes within timeout_s.
  std::string read_line(int timeout_s = 20) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      const size_t nl = buffered_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      struct pollfd fd = {stdout_, POLLIN, 0};
      if (left <= 0 || poll(&fd, 1, static_cast<int>(left)) <= 0) return "";
      char buf[4096];
      const ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) return "";
      buffered_.append(buf, static_cast<size_t>(n));
    }
  }

  void write_stdin(const std::string& text) { ASSERT_EQ(write(stdin_, text.data(), text.size()), (ssize_t)text.size()); }

  // The exit code once it ends (-1: still running after timeout_s, then killed).
  int wait_exit(int timeout_s = 20) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      struct pollfd fd = {stdout_, POLLIN, 0};  // wakes at its exit (EOF) or output
      if (poll(&fd, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = read(stdout_, buf, sizeof buf);
        if (n > 0) buffered_.append(buf, static_cast<size_t>(n));
      }
    }
    return -1;
  }
  const std::string& unread() const { return buffered_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buffered_;
};

TEST_F(Cli, TopCountsTheCallsBetweenFramesAndRefreshesOnEnter) {
  polyipc_queue* q = make_queue("jobs");
  for (int i = 0; i < 3; ++i) enqueue(q, "{\"n\":" + std::to_string(i) + "}");
  // An interval no test run reaches: every frame after the first comes from a line on stdin.
  LiveCli top({"top", "jobs", "--json", "--interval", "3600", "--iterations", "5"});
  ASSERT_TRUE(top.started());
  const std::string first_line = top.read_line();
  Json first = Json::parse(first_line, nullptr, false);
  ASSERT_TRUE(first.is_object()) << first_line;
  EXPECT_EQ(first["namespace"], ns_);
  EXPECT_TRUE(first["seconds"].is_null()) << first;
  ASSERT_EQ(first["objects"].size(), 1u) << first;
  EXPECT_EQ(first["objects"][0]["counters"]["puts"], 3) << first;
  EXPECT_TRUE(first["objects"][0]["rates"].is_null()) << first;

  // The first frame is out, so its sample was taken: these calls fall in the next frame.
  for (int i = 0; i < 4; ++i) enqueue(q, "{\"more\":" + std::to_string(i) + "}");
  char buf[64];
  size_t len = 0;
  ASSERT_EQ(polyipc_queue_get_into(q, buf, sizeof buf, &len, 0, nullptr), POLYIPC_OK);
  top.write_stdin("\n");
  const std::string second_line = top.read_line();
  Json second = Json::parse(second_line, nullptr, false);
  ASSERT_TRUE(second.is_object()) << second_line;
  const Json& jobs = second["objects"][0];
  EXPECT_EQ(jobs["state"], "6") << jobs;
  EXPECT_EQ(jobs["deltas"]["puts"], 4) << jobs;
  EXPECT_EQ(jobs["deltas"]["gets"], 1) << jobs;
  EXPECT_EQ(jobs["asleep"], 0) << "no getter sleeps on it: " << jobs;
  const double seconds = second["seconds"].get<double>();
  EXPECT_GT(seconds, 0) << second;
  EXPECT_LT(seconds, 3600) << "the line refreshed it, not the interval: " << second;
  EXPECT_NEAR(jobs["rates"]["puts"].get<double>() * seconds, 4.0, 1e-6) << jobs;
  EXPECT_NEAR(jobs["ops_per_s"].get<double>() * seconds, 5.0, 1e-6) << "puts and gets, no bytes: " << jobs;

  top.write_stdin("q\n");  // quits before its 5 frames
  EXPECT_EQ(top.wait_exit(), 0);
  EXPECT_EQ(top.unread(), "") << "no frame after q";
}

TEST_F(Cli, TopShowsEveryObjectOfTheNamespace) {
  polyipc_queue* q = make_queue("jobs");
  enqueue(q, "{}");
  polyipc_event* e = nullptr;
  ASSERT_EQ(0, polyipc_event_open("go", POLYIPC_CREATE_ONLY, nullptr, &e, nullptr));
  // stdin at end of file (nothing to read) must not stop it or make it spin
  CliRun r = polyipc({"top", "--interval", "0.05", "--iterations", "3"});
  polyipc_event_close(e);
  ASSERT_EQ(r.exit_code, 0) << r;
  size_t frames = 0;
  for (size_t at = 0; (at = r.out.find("polyipc top: namespace '" + ns_ + "', 2 objects", at)) != std::string::npos; ++at)
    ++frames;
  EXPECT_EQ(frames, 3u) << r;
  EXPECT_NE(r.out.find("rates from the next frame on"), std::string::npos) << r;
  EXPECT_NE(r.out.find("rates per second over the last"), std::string::npos) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^NAME +KIND +STATE +ATTACHED +ASLEEP +OPS/S +RATES +RECOVERED +IDLE$")) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^jobs +queue +1 +")) << r;
  EXPECT_TRUE(any_line_matches(r.out, "^go +event +clear +")) << r;
}

TEST_F(Cli, TopRejectsBadInput) {
  make_queue("jobs");
  for (const char* bad : {"0", "-1", "abc", "", "86401", "nan"}) {
    CliRun r = polyipc({"top", "--interval", bad, "--iterations", "1"});
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r;
    EXPECT_NE(r.err.find("--interval"), std::string::npos) << r;
  }
  CliRun r = polyipc({"top", "--iterations", "-1"});
  EXPECT_EQ(r.exit_code, 1) << r;
  r = polyipc({"top", "jobs", "missing", "--iterations", "1"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_NE(r.err.find("'missing'"), std::string::npos) << r;
  EXPECT_EQ(r.out, "") << "nothing printed before the error";
  r = polyipc({"top", "../jobs", "--iterations", "1"});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_NE(r.err.find("invalid name"), std::string::npos) << r;
}

// ---- get --until-closed ---------------------------------------------------------------

TEST_F(Cli, GetUntilClosedPrintsEveryMessageThenEndsAtEndOfStream) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  for (int i = 1; i <= 3; ++i) enqueue(q, "{\"n\":" + std::to_string(i) + "}");
  ASSERT_EQ(polyipc_queue_close_writes(q, nullptr), POLYIPC_OK);
  CliRun get = polyipc({"get", "jobs", "--until-closed"});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n") << get;
  EXPECT_EQ(depth(q), 0u);
  CliRun again = polyipc({"get", "jobs", "--until-closed", "--json"});
  EXPECT_EQ(again.exit_code, 0) << "closed and drained: ends at once, printing nothing";
  EXPECT_EQ(again.out, "") << again;
}

// Blocks for each message (no limit by default), prints it at once, and ends
// when another process closes the queue.
TEST_F(Cli, GetUntilClosedFollowsTheQueueUntilItIsClosed) {
  polyipc_queue* q = make_queue("tasks", [](polyipc_queue_options* o) { o->joinable = 1; });
  ASSERT_NE(q, nullptr);
  LiveCli get({"get", "tasks", "--until-closed", "--json"});
  ASSERT_TRUE(get.started());
  enqueue(q, R"({"task":1})");
  EXPECT_EQ(Json::parse(get.read_line(), nullptr, false)["message"], Json::parse(R"({"task":1})"));
  enqueue(q, R"({"task":2})");
  EXPECT_EQ(Json::parse(get.read_line(), nullptr, false)["message"], Json::parse(R"({"task":2})"));
  polyipc_error err{};
  EXPECT_EQ(polyipc_queue_join(q, 10'000'000'000, &err), POLYIPC_OK) << "each printed task is done: " << err.message;
  ASSERT_EQ(polyipc_queue_close_writes(q, nullptr), POLYIPC_OK);
  EXPECT_EQ(get.wait_exit(), 0) << "end of stream ends it";
  EXPECT_EQ(get.unread(), "");
}

TEST_F(Cli, GetUntilClosedWithATimeoutStopsWhenAWaitRunsOut) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, "1");
  CliRun get = polyipc({"get", "jobs", "--until-closed", "--timeout", "0.2"});
  EXPECT_EQ(get.exit_code, 3) << get;  // TIMEOUT, after printing what came
  EXPECT_EQ(get.out, "1\n") << get;
  EXPECT_NE(get.err.find("jobs"), std::string::npos) << get;
}

// ---- dict/list --watch --------------------------------------------------------------

TEST_F(Cli, DictWatchPrintsTheEntriesAgainAfterEachChange) {
  polyipc_dict* d = nullptr;
  ASSERT_EQ(0, polyipc_dict_open("cfg", POLYIPC_CREATE_ONLY, nullptr, &d, nullptr));
  ASSERT_EQ(0, polyipc_dict_set(d, "a", "1", nullptr));
  LiveCli watch({"dict", "cfg", "--watch", "--changes", "2", "--json"});
  ASSERT_TRUE(watch.started());
  Json first = Json::parse(watch.read_line(), nullptr, false);
  EXPECT_EQ(first["items"], Json::parse(R"({"a": 1})")) << first;
  EXPECT_EQ(first["version"], 1) << first;
  // Its first snapshot is out, so it waits from version 1: each change below is seen.
  ASSERT_EQ(0, polyipc_dict_set(d, "b", "\"x\"", nullptr));
  Json second = Json::parse(watch.read_line(), nullptr, false);
  EXPECT_EQ(second["items"]["b"], "x") << second;
  EXPECT_GE(second["version"], 2) << second;
  ASSERT_EQ(0, polyipc_dict_delete(d, "a", nullptr, nullptr));
  Json third = Json::parse(watch.read_line(), nullptr, false);
  EXPECT_EQ(third["items"], Json::parse(R"({"b": "x"})")) << third;
  EXPECT_EQ(third["version"], 3) << third;
  EXPECT_EQ(watch.wait_exit(), 0) << "it ends after 2 changes";
  polyipc_dict_close(d);
}

TEST_F(Cli, ListWatchPrintsTheValuesAgainAfterEachChange) {
  polyipc_list* l = nullptr;
  ASSERT_EQ(0, polyipc_list_open("log", POLYIPC_CREATE_ONLY, nullptr, &l, nullptr));
  LiveCli watch({"list", "log", "--watch", "--changes", "1"});
  ASSERT_TRUE(watch.started());
  EXPECT_EQ(watch.read_line(), "list 'log' at version 0:");
  EXPECT_EQ(watch.read_line(), "list 'log' is empty");
  ASSERT_EQ(0, polyipc_list_append(l, "[1, 2]", nullptr));
  EXPECT_EQ(watch.read_line(), "list 'log' at version 1:");
  EXPECT_EQ(watch.read_line(), "0: [1,2]");
  EXPECT_EQ(watch.wait_exit(), 0);
  polyipc_list_close(l);
}

TEST_F(Cli, WatchUsageErrors) {
  polyipc_dict* d = nullptr;
  ASSERT_EQ(0, polyipc_dict_open("cfg", POLYIPC_CREATE_ONLY, nullptr, &d, nullptr));
  CliRun r = polyipc({"dict", "cfg", "--changes", "2"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_NE(r.err.find("--changes requires --watch"), std::string::npos) << r;
  r = polyipc({"dict", "cfg", "key", "--watch"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_NE(r.err.find("give no KEY"), std::string::npos) << r;
  r = polyipc({"dict", "cfg", "--watch", "--changes", "-1"});
  EXPECT_EQ(r.exit_code, 1) << r;
  r = polyipc({"list", "nothing", "--watch"});
  EXPECT_EQ(r.exit_code, 2) << r;
  polyipc_dict_close(d);
}

}  // namespace

// ---- close and submit --------------------------------------------------------------

namespace {
struct PoolClose {
  void operator()(polyipc_pool* p) const { polyipc_pool_close(p); }
};
using PoolPtr = std::unique_ptr<polyipc_pool, PoolClose>;

PoolPtr open_pool(const std::string& name, polyipc_open_mode mode) {
  polyipc_pool* p = nullptr;
  polyipc_error err{};
  EXPECT_EQ(polyipc_pool_open(name.c_str(), mode, nullptr, &p, &err), POLYIPC_OK) << err.message;
  return PoolPtr(p);
}

// A worker of `pool` in a thread of the test: takes one task (waiting up to
// 30 s), records its function and arguments, and finishes it with `reply`
// (failed: as an error text).
class OneTaskWorker {
 public:
  OneTaskWorker(const std::string& pool, std::string reply, bool failed)
      : thread_([this, pool, reply, failed] {
          PoolPtr p = open_pool(pool, POLYIPC_OPEN_ONLY);
          polyipc_pool_task* t = nullptr;
          polyipc_error err{};
          status_ = polyipc_pool_take(p.get(), 30'000'000'000, &t, &err);
          if (status_ != POLYIPC_OK) return;
          function_ = polyipc_pool_task_function(t);
          args_ = polyipc_pool_task_args(t, nullptr);
          status_ = polyipc_pool_finish(t, failed ? 1 : 0, reply.data(), reply.size(), &err);
          polyipc_pool_task_free(t);
        }) {}
  ~OneTaskWorker() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  int status() const { return status_; }
  const std::string& function() const { return function_; }
  const std::string& args() const { return args_; }

 private:
  int status_ = -1;
  std::string function_, args_;
  std::thread thread_;  // last: starts once the fields above exist
};
}  // namespace

TEST_F(Cli, CloseEndsTheStreamOfAQueue) {
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  enqueue(q, "1");
  CliRun close = polyipc({"close", "jobs"});
  ASSERT_EQ(close.exit_code, 0) << close;
  EXPECT_NE(close.out.find("queue 'jobs': closed for writing"), std::string::npos) << close;
  EXPECT_EQ(polyipc_queue_put(q, "2", 1, 0, nullptr), POLYIPC_ERR_CLOSED);
  CliRun rest = polyipc({"get", "jobs", "--until-closed"});
  EXPECT_EQ(rest.exit_code, 0) << rest;
  EXPECT_EQ(rest.out, "1\n") << "what was queued is still got, then the stream ends";
  CliRun again = polyipc({"close", "jobs", "--json"});
  EXPECT_EQ(again.exit_code, 0) << "closing twice is fine: " << again;
  EXPECT_EQ(Json::parse(again.out, nullptr, false), Json::parse(R"({"name":"jobs","kind":"queue","closed":true})"));
}

TEST_F(Cli, CloseOfAPoolLetsWorkersDrainItThenStop) {
  PoolPtr p = open_pool("work", POLYIPC_CREATE_ONLY);
  uint64_t id = 0;
  ASSERT_EQ(polyipc_pool_submit(p.get(), "f", "1", 1, 0, &id, nullptr), POLYIPC_OK);
  CliRun close = polyipc({"close", "work"});
  ASSERT_EQ(close.exit_code, 0) << close;
  EXPECT_NE(close.out.find("pool 'work': closed"), std::string::npos) << close;
  polyipc_pool_task* t = nullptr;
  ASSERT_EQ(polyipc_pool_take(p.get(), 0, &t, nullptr), POLYIPC_OK) << "the task submitted before is still taken";
  EXPECT_EQ(polyipc_pool_task_id(t), id);
  EXPECT_EQ(polyipc_pool_finish(t, 0, "2", 1, nullptr), POLYIPC_OK);
  polyipc_pool_task_free(t);
  EXPECT_EQ(polyipc_pool_take(p.get(), 0, &t, nullptr), POLYIPC_ERR_CLOSED) << "then workers stop";
  CliRun submit = polyipc({"submit", "work", "f", "1"});
  EXPECT_EQ(submit.exit_code, 5) << "no new task goes in: " << submit;
}

TEST_F(Cli, CloseRefusesOtherKindsAndMissingNames) {
  polyipc_event* e = nullptr;
  ASSERT_EQ(polyipc_event_open("ev", POLYIPC_CREATE_ONLY, nullptr, &e, nullptr), POLYIPC_OK);
  CliRun event = polyipc({"close", "ev"});
  EXPECT_EQ(event.exit_code, 4) << event;
  EXPECT_NE(event.err.find("'ev' is an event"), std::string::npos) << event;
  EXPECT_NE(event.err.find("close ends the stream of a queue or the tasks of a pool"), std::string::npos) << event;
  polyipc_event_close(e);
  CliRun missing = polyipc({"close", "nothing"});
  EXPECT_EQ(missing.exit_code, 2) << missing;
  EXPECT_NE(missing.err.find("nothing"), std::string::npos) << missing;
}

TEST_F(Cli, SubmitPrintsTheResultItsWorkerSent) {
  PoolPtr p = open_pool("work", POLYIPC_CREATE_ONLY);
  {
    OneTaskWorker worker("work", "5", false);
    CliRun submit = polyipc({"submit", "work", "add", "[2,3]"});
    worker.join();
    EXPECT_EQ(submit.exit_code, 0) << submit;
    EXPECT_EQ(submit.out, "5\n") << submit;
    EXPECT_EQ(worker.status(), POLYIPC_OK);
    EXPECT_EQ(worker.function(), "add");
    EXPECT_EQ(worker.args(), "[2,3]");
  }
  OneTaskWorker worker("work", R"({"sum":30})", false);
  CliRun submit = polyipc({"submit", "work", "add", "-", "--json"}, "[10, 20]");
  worker.join();
  ASSERT_EQ(submit.exit_code, 0) << submit;
  Json out = Json::parse(submit.out, nullptr, false);
  EXPECT_EQ(out["ok"], true) << submit;
  EXPECT_EQ(out["result"], Json::parse(R"({"sum":30})")) << submit;
  EXPECT_EQ(out["pool"], "work");
  EXPECT_EQ(out["function"], "add");
  EXPECT_EQ(worker.args(), "[10, 20]") << "the arguments from stdin, as they were";
}

TEST_F(Cli, SubmitOfATaskThatFailsExits6WithItsError) {
  PoolPtr p = open_pool("work", POLYIPC_CREATE_ONLY);
  OneTaskWorker worker("work", "ValueError: no", true);
  CliRun submit = polyipc({"submit", "work", "parse", "\"x\""});
  worker.join();
  EXPECT_EQ(submit.exit_code, 6) << submit;
  EXPECT_EQ(submit.out, "") << submit;
  EXPECT_NE(submit.err.find("pool 'work': task 1 (parse) failed: ValueError: no"), std::string::npos) << submit;
}

TEST_F(Cli, SubmitOutOfTimeExits3AndTakesBackTheTaskNoWorkerTook) {
  PoolPtr p = open_pool("work", POLYIPC_CREATE_ONLY);
  CliRun submit = polyipc({"submit", "work", "f", "1", "--timeout", "0.2"});
  EXPECT_EQ(submit.exit_code, 3) << submit;
  EXPECT_NE(submit.err.find("the task was cancelled"), std::string::npos) << submit;
  polyipc_pool_task* t = nullptr;
  EXPECT_EQ(polyipc_pool_take(p.get(), 0, &t, nullptr), POLYIPC_ERR_EMPTY) << "nothing left to run for nobody";
  EXPECT_EQ(polyipc_pool_join(p.get(), 0, nullptr), POLYIPC_OK) << "and nothing to wait for";
}

TEST_F(Cli, SubmitRefusesBadInputAndSubmitsNothing) {
  PoolPtr p = open_pool("work", POLYIPC_CREATE_ONLY);
  CliRun bad = polyipc({"submit", "work", "f", "[1,"});
  EXPECT_EQ(bad.exit_code, 4) << bad;
  EXPECT_NE(bad.err.find("not valid JSON at byte 3"), std::string::npos) << bad;
  polyipc_pool_task* t = nullptr;
  EXPECT_EQ(polyipc_pool_take(p.get(), 0, &t, nullptr), POLYIPC_ERR_EMPTY);
  CliRun missing = polyipc({"submit", "nothing", "f", "1"});
  EXPECT_EQ(missing.exit_code, 2) << missing;
  polyipc_queue* q = make_queue("jobs");
  ASSERT_NE(q, nullptr);
  CliRun queue = polyipc({"submit", "jobs", "f", "1"});
  EXPECT_EQ(queue.exit_code, 5) << "a queue is not a pool: " << queue;
  EXPECT_EQ(depth(q), 0u);
  CliRun usage = polyipc({"submit", "work", "f"});
  EXPECT_EQ(usage.exit_code, 1) << usage;
}
