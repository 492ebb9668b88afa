// The C agent's synchronisation scenarios (see ../README.md, "Synchronisation
// scenarios"), on the C API directly.
#include <polyipc.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include <unistd.h>

using nlohmann::json;

namespace {

constexpr int64_t kWait = int64_t{60} * 1000 * 1000 * 1000;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(int rc, const polyipc_error &err, const std::string &what) {
  if (rc != POLYIPC_OK) throw Failure(what + " (" + polyipc_status_name(rc) + "): " + err.message);
}

json read_json(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

void write_json(const std::string &path, const json &j) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    out << j.dump();
    if (!out) throw Failure("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Failure("cannot rename " + tmp);
}

[[noreturn]] void hang() {
  std::printf("holding\n");
  std::fflush(stdout);
  for (;;) pause();
}

polyipc_queue *open_queue(const std::string &name) {
  polyipc_queue *q = nullptr;
  polyipc_error err{};
  check(polyipc_queue_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &q, &err), err, "open queue " + name);
  return q;
}

void put(polyipc_queue *q, const json &j) {
  std::string s = j.dump();
  polyipc_error err{};
  check(polyipc_queue_put(q, s.data(), s.size(), kWait, &err), err, "put");
}

int tickets(const std::string &lock_name, const std::string &file, const std::string &id, bool hang_mid_sale) {
  polyipc_lock *l = nullptr;
  polyipc_error err{};
  check(polyipc_lock_open(lock_name.c_str(), POLYIPC_OPEN_OR_CREATE, 0, nullptr, &l, &err), err, "open lock");
  long bought = 0;
  for (;;) {
    int rc = polyipc_lock_acquire(l, kWait, &err);
    const bool owner_died = rc == POLYIPC_ERR_OWNER_DEAD;
    if (!owner_died) check(rc, err, "acquire");
    json t = read_json(file);
    if (!t["pending"].is_null()) {
      if (!owner_died) throw Failure("a torn sale in " + file + " without a dead holder");
      for (const char *k : {"remaining", "sold", "buyers"}) t[k] = t["pending"][k];
      t["repairs"] = t["repairs"].get<int>() + 1;
      t["pending"] = nullptr;
      write_json(file, t);
    }
    if (t["remaining"].get<long>() == 0) {
      check(polyipc_lock_release(l, &err), err, "release");
      break;
    }
    json before = {{"remaining", t["remaining"]}, {"sold", t["sold"]}, {"buyers", t["buyers"]}};
    t["pending"] = before;
    t["remaining"] = t["remaining"].get<long>() - 1;
    t["sold"] = t["sold"].get<long>() + 1;
    t["buyers"][id] = t["buyers"].value(id, 0L) + 1;
    write_json(file, t);
    if (hang_mid_sale) hang();
    t["pending"] = nullptr;
    write_json(file, t);
    ++bought;
    check(polyipc_lock_release(l, &err), err, "release");
  }
  polyipc_lock_close(l);
  std::printf("tickets %s: bought %ld\n", id.c_str(), bought);
  return 0;
}

int semaphore(const std::string &sem, const std::string &log, const std::string &id, long iterations, bool hang_inside) {
  polyipc_semaphore *s = nullptr;
  polyipc_error err{};
  check(polyipc_semaphore_open(sem.c_str(), POLYIPC_OPEN_OR_CREATE, 3, 0, nullptr, &s, &err), err, "open semaphore");
  polyipc_queue *q = open_queue(log);
  json ev = {{"id", id}, {"pid", getpid()}};
  for (long i = 0; i < iterations || hang_inside; ++i) {
    check(polyipc_semaphore_acquire(s, kWait, &err), err, "acquire");
    ev["ev"] = "enter";
    put(q, ev);
    if (hang_inside) hang();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
    ev["ev"] = "exit";
    put(q, ev);
    check(polyipc_semaphore_release(s, 1, &err), err, "release");
  }
  polyipc_queue_close(q);
  polyipc_semaphore_close(s);
  std::printf("semaphore %s: %ld iterations\n", id.c_str(), iterations);
  return 0;
}

polyipc_event *open_event(const std::string &name) {
  polyipc_event *e = nullptr;
  polyipc_error err{};
  check(polyipc_event_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &e, &err), err, "open event");
  return e;
}

int event_wait(const std::string &event, const std::string &ready, const std::string &id) {
  polyipc_event *e = open_event(event);
  polyipc_queue *q = open_queue(ready);
  put(q, {{"id", id}});
  polyipc_error err{};
  check(polyipc_event_wait(e, kWait, &err), err, "wait");
  polyipc_queue_close(q);
  polyipc_event_close(e);
  std::printf("event %s: woken\n", id.c_str());
  return 0;
}

int event_set(const std::string &event, const std::string &id) {
  polyipc_event *e = open_event(event);
  polyipc_error err{};
  check(polyipc_event_set(e, &err), err, "set");
  polyipc_event_close(e);
  std::printf("event %s: set\n", id.c_str());
  return 0;
}

polyipc_barrier *open_barrier(const std::string &name, long parties) {
  polyipc_barrier *b = nullptr;
  polyipc_error err{};
  check(polyipc_barrier_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, static_cast<uint32_t>(parties), nullptr, &b, &err),
        err, "open barrier");
  return b;
}

int barrier(const std::string &name, long parties, long rounds, const std::string &out, const std::string &id) {
  polyipc_barrier *b = open_barrier(name, parties);
  json indexes = json::array();
  polyipc_error err{};
  for (long r = 0; r < rounds; ++r) {
    uint64_t index = 0;
    check(polyipc_barrier_wait(b, kWait, &index, &err), err, "wait, round " + std::to_string(r));
    indexes.push_back(index);
  }
  polyipc_queue *q = open_queue(out);
  put(q, {{"id", id}, {"indexes", indexes}});
  polyipc_queue_close(q);
  polyipc_barrier_close(b);
  std::printf("barrier %s: %ld rounds\n", id.c_str(), rounds);
  return 0;
}

int barrier_timeout(const std::string &name, long parties, long timeout_ms, const std::string &id) {
  polyipc_barrier *b = open_barrier(name, parties);
  uint64_t index = 0;
  polyipc_error err{};
  int rc = polyipc_barrier_wait(b, timeout_ms * 1000 * 1000, &index, &err);
  polyipc_barrier_close(b);
  if (rc == POLYIPC_ERR_TIMEOUT) std::printf("barrier %s: timeout\n", id.c_str());
  else if (rc == POLYIPC_ERR_BROKEN) std::printf("barrier %s: broken\n", id.c_str());
  else if (rc == POLYIPC_OK) std::printf("barrier %s: passed\n", id.c_str());
  else check(rc, err, "wait");
  return rc == POLYIPC_OK ? 1 : 0;
}

int condition(bool produce, const std::string &name, const std::string &file, long n, const std::string &id) {
  polyipc_condition *c = nullptr;
  polyipc_error err{};
  check(polyipc_condition_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, nullptr, &c, &err), err,
        "open condition");
  for (long i = 0; i < n; ++i) {
    check(polyipc_condition_acquire(c, kWait, &err), err, "acquire");
    json buf = read_json(file);
    auto blocked = [&] {
      return produce ? buf["items"].size() >= buf["capacity"].get<size_t>() : buf["items"].empty();
    };
    while (blocked()) {
      check(polyipc_condition_wait(c, kWait, &err), err, "wait");
      buf = read_json(file);
    }
    if (produce) {
      buf["items"].push_back(i);
    } else {
      long got = buf["items"][0].get<long>();
      if (got != i) throw Failure("expected item " + std::to_string(i) + ", got " + std::to_string(got));
      buf["items"].erase(0);
    }
    write_json(file, buf);
    check(polyipc_condition_notify_all(c, &err), err, "notify_all");
    check(polyipc_condition_release(c, &err), err, "release");
  }
  polyipc_condition_close(c);
  std::printf("condition %s: %s %ld\n", id.c_str(), produce ? "produced" : "consumed", n);
  return 0;
}

}  // namespace

// Returns -1 when the command line is not a sync scenario.
int run_sync_scenario(const std::vector<std::string> &a) {
  const size_t n = a.size();
  try {
    if (n >= 5 && n <= 6 && a[1] == "tickets") return tickets(a[2], a[3], a[4], n == 6 && a[5] == "--hang");
    if (n >= 6 && n <= 7 && a[1] == "semaphore")
      return semaphore(a[2], a[3], a[4], std::stol(a[5]), n == 7 && a[6] == "--hang");
    if (n == 5 && a[1] == "event-wait") return event_wait(a[2], a[3], a[4]);
    if (n == 4 && a[1] == "event-set") return event_set(a[2], a[3]);
    if (n == 7 && a[1] == "barrier") return barrier(a[2], std::stol(a[3]), std::stol(a[4]), a[5], a[6]);
    if (n == 6 && a[1] == "barrier-timeout") return barrier_timeout(a[2], std::stol(a[3]), std::stol(a[4]), a[5]);
    if (n == 6 && a[1] == "condition-produce") return condition(true, a[2], a[3], std::stol(a[4]), a[5]);
    if (n == 6 && a[1] == "condition-consume") return condition(false, a[2], a[3], std::stol(a[4]), a[5]);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "c: FAIL: %s: %s\n", a[1].c_str(), e.what());
    return 1;
  }
  return -1;
}
