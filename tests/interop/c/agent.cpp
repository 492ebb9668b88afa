// The "C" interop agent: the C API (polyipc.h) used directly, with
// nlohmann/json to build and to decode the messages. Messages and command
// lines: see ../README.md.
#include <polyipc.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

using nlohmann::json;
using namespace std::string_literals;

namespace {

const char *const LANG = "c";

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t timeout_ns() {
  const char *t = std::getenv("POLYIPC_INTEROP_TIMEOUT");
  double s = t ? std::atof(t) : 60.0;
  return static_cast<int64_t>(s * 1e9);
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// C++17: u8"" is a char array; \x escapes for the control characters.
const std::string FIXED = u8"h\u00e9llo w\u00f6rld \u2014 \u6f22\u5b57\u304b\u306a\ud55c\uae00 "
                          u8"\U0001F600\U0001F389 \U0001F469\u200d\U0001F4BB e\u0301 \U0001D11E \U0010FFFF";
const std::string ESCAPES = "quote\" backslash\\ slash/ bs\b ff\f nl\n cr\r tab\t nul\x00 us\x1f del\x7f "s +
                            u8"ls\u2028 ps\u2029 <&>";

json message(const std::string &producer, int64_t i) {
  const int64_t MIN = INT64_MIN, MAX = INT64_MAX;
  json m = json::object();
  m["seq"] = i;
  m["producer"] = producer;
  m["ints"] = json::array({MIN, MAX, MAX - i, MIN + i, i * 1000000007, -i, int64_t{0}});
  double d = static_cast<double>(i);
  m["doubles"] = json::array({1.7976931348623157e308, 5e-324, -0.0, 2.2250738585072014e-308, (d + 0.5) / 7.0,
                              -((d + 1) * 1e-300), (d + 1) * 1e21, d + 0.25});
  m["flags"] = json::array({true, false, nullptr});
  std::string computed = utf8(0x4E00 + i % 20902) + utf8(0x1F600 + i % 80) + "a" + utf8(0x0301) +
                         utf8(0xAC00 + i % 11172) + utf8(0x10000 + (i * 7919) % 0x100000);
  m["strings"] = {{"fixed", FIXED}, {"escapes", ESCAPES}, {"computed", computed}, {"empty", ""}};
  m[u8"\u043a\u043b\u044e\u0447\U0001F511"] = i;
  json e = json::array({json::array(), json::object(), nullptr, true, false});
  json d_arr = json::array({i, json{{"e", e}}, json::array({json::array({json::array({"deep"})})})});
  m["nested"] = {{"a", {{"b", {{"c", {{"d", d_arr}}}}}}}};
  json list = json::array();
  for (int64_t k = 0; k < i % 10; ++k) list.push_back(k);
  m["list"] = list;
  if (i % 1000 == 999) {
    std::string big;
    for (int k = 0; k < 20000; ++k) big += u8"\u00fc";
    m["big"] = big + "|" + std::to_string(i);
  }
  return m;
}

std::string show(const json &v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() <= 120 ? s : s.substr(0, 117) + "...";
}

std::string kind(const json &v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) return "double";
  return v.type_name();
}

// Empty when equal, else the first difference.
std::string diff(const json &got, const json &want, const std::string &path) {
  bool same = false;
  if (want.is_null() || want.is_boolean()) {
    same = got == want && got.type() == want.type();
  } else if (want.is_number_integer()) {
    if (got.is_number_unsigned()) {
      same = want.get<int64_t>() >= 0 && got.get<uint64_t>() == static_cast<uint64_t>(want.get<int64_t>());
    } else if (got.is_number_integer()) {
      same = got.get<int64_t>() == want.get<int64_t>();
    }
  } else if (want.is_number_float()) {
    if (got.is_number_float()) {
      double g = got.get<double>(), w = want.get<double>();
      same = std::memcmp(&g, &w, sizeof g) == 0;
    }
  } else if (want.is_string()) {
    same = got.is_string() && got.get_ref<const std::string &>() == want.get_ref<const std::string &>();
  } else if (want.is_array()) {
    if (got.is_array()) {
      if (got.size() != want.size())
        return path + ": array of " + std::to_string(got.size()) + " elements, want " + std::to_string(want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        std::string d = diff(got[k], want[k], path + "[" + std::to_string(k) + "]");
        if (!d.empty()) return d;
      }
      return "";
    }
  } else if (want.is_object()) {
    if (got.is_object()) {
      for (auto it = want.begin(); it != want.end(); ++it)
        if (!got.contains(it.key())) return path + ": key \"" + it.key() + "\" missing";
      for (auto it = got.begin(); it != got.end(); ++it)
        if (!want.contains(it.key())) return path + ": unexpected key \"" + it.key() + "\"";
      for (auto it = want.begin(); it != want.end(); ++it) {
        std::string d = diff(got.at(it.key()), it.value(), path + "." + it.key());
        if (!d.empty()) return d;
      }
      return "";
    }
  }
  if (same) return "";
  return path + ": got " + show(got) + " (" + kind(got) + "), want " + show(want) + " (" + kind(want) + ")";
}

void check(const json &msg, const std::string &producer, int64_t seq) {
  std::string d = diff(msg, message(producer, seq), "$");
  if (!d.empty()) throw Failure("message " + producer + "#" + std::to_string(seq) + ": " + d);
}

struct Queue {
  polyipc_queue *q = nullptr;
  std::string name;
  Queue(const std::string &n, bool joinable) : name(n) {
    polyipc_queue_options opts;
    polyipc_queue_options_init(&opts);
    opts.joinable = joinable ? 1 : 0;
    polyipc_error err{};
    if (polyipc_queue_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, &opts, &q, &err) != POLYIPC_OK)
      throw Failure("open " + n + ": " + err.message);
  }
  ~Queue() { polyipc_queue_close(q); }
  Queue(const Queue &) = delete;
  Queue &operator=(const Queue &) = delete;

  void put(const std::string &text) {
    polyipc_error err{};
    int rc = polyipc_queue_put(q, text.data(), text.size(), timeout_ns(), &err);
    if (rc != POLYIPC_OK) throw Failure("put on " + name + " (" + polyipc_status_name(rc) + "): " + err.message);
  }
  // The message text, or the status (CLOSED, TIMEOUT, EMPTY) in *status.
  bool get(std::string &text, int64_t timeout, int *status) {
    void *data = nullptr;
    size_t len = 0;
    polyipc_error err{};
    int rc = polyipc_queue_get(q, &data, &len, timeout, &err);
    *status = rc;
    if (rc == POLYIPC_ERR_CLOSED || rc == POLYIPC_ERR_TIMEOUT || rc == POLYIPC_ERR_EMPTY) return false;
    if (rc != POLYIPC_OK) throw Failure("get on " + name + " (" + polyipc_status_name(rc) + "): " + err.message);
    text.assign(static_cast<const char *>(data), len);
    polyipc_free(data);
    return true;
  }
  json get_json(const std::string &what) {
    std::string text;
    int status = 0;
    if (!get(text, timeout_ns(), &status)) {
      if (status == POLYIPC_ERR_CLOSED) throw std::out_of_range("closed");
      throw Failure(what + ": nothing came within the timeout (" + polyipc_status_name(status) + ")");
    }
    try {
      return json::parse(text);
    } catch (const json::exception &e) {
      throw Failure(what + ": nlohmann/json cannot decode it: " + e.what());
    }
  }
  void call(int rc, polyipc_error &err, const char *what) {
    if (rc != POLYIPC_OK) throw Failure(std::string(what) + " on " + name + " (" + polyipc_status_name(rc) + "): " + err.message);
  }
};

int produce(const std::string &queue, int64_t n, const std::string &id, bool jobs) {
  Queue q(queue, jobs);
  for (int64_t i = 0; i < n; ++i) q.put(message(id, i).dump());
  if (jobs) {
    polyipc_error err{};
    q.call(polyipc_queue_close_writes(q.q, &err), err, "close_writes");
    q.call(polyipc_queue_join(q.q, 120LL * 1000000000, &err), err, "join");
    std::printf("c: put %lld jobs, join returned\n", static_cast<long long>(n));
  } else {
    std::printf("c: produced %lld messages on %s\n", static_cast<long long>(n), queue.c_str());
  }
  return 0;
}

int consume(const std::string &queue, int64_t n, const std::string &id) {
  Queue q(queue, false);
  for (int64_t k = 0; k < n; ++k) {
    json msg;
    try {
      msg = q.get_json("waiting for message #" + std::to_string(k));
    } catch (const std::out_of_range &) {
      throw Failure("end of stream after " + std::to_string(k) + " messages");
    }
    json seq = msg.is_object() && msg.contains("seq") ? msg["seq"] : json();
    json prod = msg.is_object() && msg.contains("producer") ? msg["producer"] : json();
    if (!seq.is_number_integer() || seq.get<int64_t>() != k || prod != id)
      throw Failure("message #" + std::to_string(k) + ": got seq " + show(seq) + " from " + show(prod) +
                    ", want seq " + std::to_string(k) + " from \"" + id + "\"");
    check(msg, id, k);
  }
  std::string extra;
  int status = 0;
  if (q.get(extra, 0, &status)) throw Failure("after " + std::to_string(n) + " messages the queue still holds one: " + extra.substr(0, 120));
  std::printf("c: ok %lld messages from %s\n", static_cast<long long>(n), id.c_str());
  return 0;
}

int consume_until_closed(const std::string &queue, const std::string &out, bool joinable, long hang_after) {
  Queue q(queue, joinable);
  std::map<std::string, int64_t> last;
  std::vector<std::pair<std::string, int64_t>> got;
  auto write_out = [&] {
    std::ofstream f(out);
    for (auto &[p, s] : got) f << p << ' ' << s << '\n';
  };
  try {
    for (;;) {
      json msg;
      try {
        msg = q.get_json("waiting for message #" + std::to_string(got.size()));
      } catch (const std::out_of_range &) {
        break;
      }
      if (hang_after >= 0 && static_cast<long>(got.size()) == hang_after) {
        json p = msg.is_object() ? msg.value("producer", json()) : json();
        std::printf("took job %s %s\n", p.is_string() ? p.get<std::string>().c_str() : show(p).c_str(),
                    show(msg.is_object() ? msg.value("seq", json()) : json()).c_str());
        std::fflush(stdout);
        for (;;) pause();
      }
      if (!msg.is_object() || !msg.contains("producer") || !msg["producer"].is_string() || !msg.contains("seq") ||
          !msg["seq"].is_number_integer())
        throw Failure("message #" + std::to_string(got.size()) + ": no producer/seq: " + show(msg));
      std::string p = msg["producer"];
      int64_t s = msg["seq"];
      check(msg, p, s);
      auto it = last.find(p);
      if (it != last.end() && s <= it->second)
        throw Failure("message " + p + "#" + std::to_string(s) + " came after " + p + "#" + std::to_string(it->second));
      last[p] = s;
      got.emplace_back(p, s);
      if (joinable) {
        polyipc_error err{};
        q.call(polyipc_queue_task_done(q.q, &err), err, "task_done");
      }
    }
  } catch (...) {
    write_out();
    throw;
  }
  write_out();
  std::printf("c: ok %zu messages, end of stream\n", got.size());
  return 0;
}

int close_writes(const std::string &queue) {
  polyipc_queue *q = nullptr;
  polyipc_error err{};
  int rc = polyipc_queue_open(queue.c_str(), POLYIPC_OPEN_ONLY, nullptr, &q, &err);
  if (rc != POLYIPC_OK) throw Failure("open " + queue + " (" + polyipc_status_name(rc) + "): " + err.message);
  rc = polyipc_queue_close_writes(q, &err);
  polyipc_queue_close(q);
  if (rc != POLYIPC_OK) throw Failure("close_writes " + queue + ": " + err.message);
  return 0;
}

}  // namespace

int run_sync_scenario(const std::vector<std::string> &a);  // sync.cpp
int run_ipc_scenario(const std::vector<std::string> &a);   // ipc.cpp
int run_pool_command(const std::vector<std::string> &a);   // pool.cpp

int main(int argc, char **argv) {
  std::vector<std::string> a(argv, argv + argc);
  if (int rc = run_sync_scenario(a); rc >= 0) return rc;
  if (int rc = run_ipc_scenario(a); rc >= 0) return rc;
  if (int rc = run_pool_command(a); rc >= 0) return rc;
  try {
    if (argc == 5 && a[1] == "produce") return produce(a[2], std::stoll(a[3]), a[4], false);
    if (argc == 5 && a[1] == "jobs-produce") return produce(a[2], std::stoll(a[3]), a[4], true);
    if (argc == 5 && a[1] == "consume") return consume(a[2], std::stoll(a[3]), a[4]);
    if (argc == 4 && a[1] == "many-consume") return consume_until_closed(a[2], a[3], false, -1);
    if (argc == 4 && a[1] == "jobs-consume") return consume_until_closed(a[2], a[3], true, -1);
    if (argc == 6 && a[1] == "jobs-consume" && a[4] == "--hang-after")
      return consume_until_closed(a[2], a[3], true, std::stol(a[5]));
    if (argc == 3 && a[1] == "close-writes") return close_writes(a[2]);
    if (argc == 4 && a[1] == "dump") {
      std::printf("%s\n", message(a[3], std::stoll(a[2])).dump().c_str());
      return 0;
    }
  } catch (const Failure &e) {
    std::fprintf(stderr, "%s: FAIL: %s\n", LANG, e.what());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: FAIL: %s\n", LANG, e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: %s produce|consume|jobs-produce QUEUE N ID | many-consume|jobs-consume QUEUE OUT "
               "[--hang-after K] | close-writes QUEUE | pool-work POOL [--hang-after K] | pool-submit POOL N | "
               "pool-close POOL\n",
               argv[0]);
  return 2;
}
