// The C agent's worker-pool commands (see ../README.md, "Worker pools"), on
// the C API directly: pool-work, pool-submit, pool-submit-cancel, and
// pool-close (end of tasks).
#include <polyipc.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

using nlohmann::json;

namespace {

constexpr int64_t kSecond = int64_t{1000} * 1000 * 1000;

int64_t wait_ns() {
  const char* s = std::getenv("POLYIPC_INTEROP_TIMEOUT");
  return (s ? std::atoll(s) : 60) * kSecond;
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(int rc, const polyipc_error& err, const std::string& what) {
  if (rc != POLYIPC_OK) throw Failure(what + " (" + polyipc_status_name(rc) + "): " + err.message);
}

polyipc_pool* open_pool(const std::string& name) {
  polyipc_pool* p = nullptr;
  polyipc_error err{};
  check(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &p, &err), err, "open pool " + name);
  return p;
}

// The five functions every worker serves: {ok, result-or-error-text}.
std::pair<bool, json> run(const std::string& function, const json& args) {
  if (function == "add") return {true, args.at(0).get<int64_t>() + args.at(1).get<int64_t>()};
  if (function == "concat") {
    std::string out;
    for (const json& part : args.at("parts")) out += part.get<std::string>();
    return {true, out};
  }
  if (function == "echo") return {true, args};
  if (function == "fail") return {false, args.get<std::string>()};
  if (function == "whoami") return {true, "c"};
  return {false, "no function '" + function + "' in this worker"};
}

int pool_work(const std::string& name, long hang_after) {
  polyipc_pool* p = open_pool(name);
  long served = 0;
  for (;;) {
    polyipc_pool_task* t = nullptr;
    polyipc_error err{};
    const int rc = polyipc_pool_take(p, wait_ns(), &t, &err);
    if (rc == POLYIPC_ERR_CLOSED) break;
    check(rc, err, "take from " + name);
    if (served == hang_after) {
      std::printf("took task %llu\n", static_cast<unsigned long long>(polyipc_pool_task_id(t)));
      std::fflush(stdout);
      for (;;) pause();
    }
    auto [ok, value] = run(polyipc_pool_task_function(t), json::parse(polyipc_pool_task_args(t, nullptr)));
    const std::string data = ok ? value.dump() : value.get<std::string>();
    const int frc = polyipc_pool_finish(t, ok ? 0 : 1, data.data(), data.size(), &err);
    polyipc_pool_task_free(t);
    check(frc, err, "finish a task of " + name);
    ++served;
  }
  polyipc_pool_close(p);
  std::printf("served %ld\n", served);
  return 0;
}

// Task i of pool-submit and what its result must be.
struct Expected {
  std::string function;
  json args;
  bool ok;
  json value;  // the result, or the error text
};

Expected task(long i) {
  const std::string n = std::to_string(i);
  switch (i % 4) {
    case 0: return {"add", json::array({i, 2 * i}), true, 3 * i};
    case 1: return {"concat", {{"parts", {"p", n, "é😀"}}}, true, "p" + n + "é😀"};
    case 2: {
      const json v = {{"i", i}, {"v", {i, "x", nullptr, true, 1.5, {{"k", "ü"}}}}};
      return {"echo", v, true, v};
    }
    default: {
      // A named escape two characters in, then a \u one (Json.NET 6's
      // JsonConvert.ToString threw on that), quotes, a backslash, a line separator.
      const std::string boom = "nl\nctl\x01 boom " + n + " \"q\" \\ ls\u2028";
      return {"fail", boom, false, boom};
    }
  }
}

int pool_submit(const std::string& name, long n) {
  polyipc_pool* p = open_pool(name);
  std::map<uint64_t, long> outstanding;  // task id -> i
  long next = 0, checked = 0;
  while (checked < n) {
    while (next < n && outstanding.size() < 64) {
      const Expected e = task(next);
      const std::string args = e.args.dump();
      uint64_t id = 0;
      polyipc_error err{};
      check(polyipc_pool_submit(p, e.function.c_str(), args.data(), args.size(), wait_ns(), &id, &err), err,
            "submit to " + name);
      outstanding[id] = next++;
    }
    char* text = nullptr;
    polyipc_error err{};
    check(polyipc_pool_result(p, 0, wait_ns(), &text, nullptr, &err), err, "result from " + name);
    const json r = json::parse(text);
    polyipc_free(text);
    const auto it = outstanding.find(r.at("id").get<uint64_t>());
    if (it == outstanding.end()) throw Failure("a result for no outstanding task: " + r.dump());
    const Expected e = task(it->second);
    const json got = e.ok ? r.value("result", json()) : r.value("error", json());
    if (r.at("ok").get<bool>() != e.ok || got != e.value)
      throw Failure("task " + std::to_string(it->second) + " (" + e.function + "): expected " +
                    (e.ok ? "result " : "error ") + e.value.dump() + ", got " + r.dump());
    outstanding.erase(it);
    ++checked;
  }
  polyipc_pool_close(p);
  std::printf("results ok %ld\n", n);
  return 0;
}

// Submits tasks 0..n-1 and cancels the odd ones while workers take them:
// each cancel either withdraws the task or finds a worker has it. Prints
// "cancelled K", then checks every result: the K withdrawn ones cancelled,
// every other one run (even the odd ones a worker had first).
int pool_submit_cancel(const std::string& name, long n) {
  polyipc_pool* p = open_pool(name);
  std::map<uint64_t, long> outstanding;  // task id -> i
  std::map<uint64_t, bool> withdrawn;    // task id -> cancel took it back
  polyipc_error err{};
  for (long i = 0; i < n; ++i) {
    const Expected e = task(i);
    const std::string args = e.args.dump();
    uint64_t id = 0;
    check(polyipc_pool_submit(p, e.function.c_str(), args.data(), args.size(), wait_ns(), &id, &err), err,
          "submit to " + name);
    outstanding[id] = i;
  }
  long cancelled = 0;
  for (const auto& [id, i] : outstanding) {
    if (i % 2 == 0) continue;
    int took_back = 0;
    check(polyipc_pool_cancel(p, id, &took_back, &err), err, "cancel a task of " + name);
    withdrawn[id] = took_back != 0;
    cancelled += took_back;
  }
  std::printf("cancelled %ld\n", cancelled);
  std::fflush(stdout);
  for (long checked = 0; checked < n; ++checked) {
    char* text = nullptr;
    check(polyipc_pool_result(p, 0, wait_ns(), &text, nullptr, &err), err, "result from " + name);
    const json r = json::parse(text);
    polyipc_free(text);
    const uint64_t id = r.at("id").get<uint64_t>();
    const auto it = outstanding.find(id);
    if (it == outstanding.end()) throw Failure("a result for no outstanding task: " + r.dump());
    const Expected e = task(it->second);
    const json got = e.ok ? r.value("result", json()) : r.value("error", json());
    const bool right = withdrawn[id] ? r.value("cancelled", false) && !r.at("ok").get<bool>()
                                     : !r.contains("cancelled") && r.at("ok").get<bool>() == e.ok && got == e.value;
    if (!right)
      throw Failure("task " + std::to_string(it->second) + (withdrawn[id] ? " (cancelled)" : "") + ": got " + r.dump());
    outstanding.erase(it);
  }
  polyipc_pool_close(p);
  std::printf("results ok %ld (%ld cancelled)\n", n, cancelled);
  return 0;
}

int pool_close(const std::string& name) {
  polyipc_pool* p = nullptr;
  polyipc_error err{};
  check(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &p, &err), err, "open pool " + name);
  const int rc = polyipc_pool_close_tasks(p, &err);
  polyipc_pool_close(p);
  check(rc, err, "close the tasks of " + name);
  return 0;
}

}  // namespace

// Returns -1 when the command line is not one of these.
int run_pool_command(const std::vector<std::string>& a) {
  const size_t n = a.size();
  try {
    if (n == 3 && a[1] == "pool-work") return pool_work(a[2], -1);
    if (n == 5 && a[1] == "pool-work" && a[3] == "--hang-after") return pool_work(a[2], std::stol(a[4]));
    if (n == 4 && a[1] == "pool-submit") return pool_submit(a[2], std::stol(a[3]));
    if (n == 4 && a[1] == "pool-submit-cancel") return pool_submit_cancel(a[2], std::stol(a[3]));
    if (n == 3 && a[1] == "pool-close") return pool_close(a[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "c: FAIL: %s: %s\n", a[1].c_str(), e.what());
    return 1;
  }
  return -1;
}
