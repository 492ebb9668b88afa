// The C agent's pipe and shared-memory scenarios (see ../README.md, "Pipe
// and shared-memory scenarios"), on the C API directly.
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

constexpr int64_t kWait = int64_t{60} * 1000 * 1000 * 1000;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(int rc, const polyipc_error &err, const std::string &what) {
  if (rc != POLYIPC_OK) throw Failure(what + " (" + polyipc_status_name(rc) + "): " + err.message);
}

polyipc_pipe *open_end(const std::string &name, polyipc_pipe_end end) {
  polyipc_pipe *p = nullptr;
  polyipc_error err{};
  check(polyipc_pipe_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, end, nullptr, &p, &err), err, "open pipe " + name);
  return p;
}

void send(polyipc_pipe *p, const json &j) {
  std::string s = j.dump();
  polyipc_error err{};
  check(polyipc_pipe_send(p, s.data(), s.size(), kWait, &err), err, "send");
}

// false at end of stream
bool recv(polyipc_pipe *p, json *out) {
  void *data = nullptr;
  size_t len = 0;
  polyipc_error err{};
  int rc = polyipc_pipe_recv(p, &data, &len, kWait, &err);
  if (rc == POLYIPC_ERR_CLOSED) return false;
  check(rc, err, "recv");
  *out = json::parse(static_cast<char *>(data), static_cast<char *>(data) + len);
  polyipc_free(data);
  return true;
}

int ping(const std::string &pipe, long n, const std::string &id, bool pong) {
  polyipc_pipe *p = open_end(pipe, pong ? POLYIPC_END_B : POLYIPC_END_A);
  for (long i = 0; i < n; ++i) {
    json m;
    if (!pong) send(p, {{"seq", i}, {"ping", id}});
    if (!recv(p, &m)) throw Failure("end of stream after " + std::to_string(i) + " messages");
    if (m.value("seq", -1L) != i) throw Failure("expected seq " + std::to_string(i) + ", got " + m.dump());
    if (pong) send(p, {{"seq", i}, {"pong", id}});
  }
  polyipc_pipe_close(p);
  std::printf("pipe %s: %ld %s\n", id.c_str(), n, pong ? "replies" : "round trips");
  return 0;
}

int pipe_send(const std::string &pipe, long k, const std::string &id, bool hang) {
  polyipc_pipe *p = open_end(pipe, POLYIPC_END_A);
  for (long i = 0; i < k; ++i) send(p, {{"seq", i}, {"from", id}});
  std::printf("pipe %s: sent %ld\n", id.c_str(), k);
  if (hang) {
    std::printf("holding\n");
    std::fflush(stdout);
    for (;;) pause();
  }
  polyipc_pipe_close(p);
  return 0;
}

int pipe_eof(const std::string &pipe, const std::string &id) {
  polyipc_pipe *p = open_end(pipe, POLYIPC_END_B);
  long k = 0;
  json m;
  while (recv(p, &m)) {
    if (m.value("seq", -1L) != k) throw Failure("expected seq " + std::to_string(k) + ", got " + m.dump());
    ++k;
  }
  polyipc_pipe_close(p);
  std::printf("pipe %s: eof after %ld messages\n", id.c_str(), k);
  return 0;
}

int shm(const std::string &name, uint64_t size, long seed, const std::string &id, bool write) {
  polyipc_shm *m = nullptr;
  polyipc_error err{};
  check(polyipc_shm_open(name.c_str(), write ? POLYIPC_OPEN_OR_CREATE : POLYIPC_OPEN_ONLY, write ? size : 0, nullptr,
                         &m, &err),
        err, "open shared memory");
  void *data = nullptr;
  uint64_t actual = 0;
  check(polyipc_shm_data(m, &data, &actual, &err), err, "data");
  if (actual != size) throw Failure("size " + std::to_string(actual) + ", expected " + std::to_string(size));
  auto *bytes = static_cast<unsigned char *>(data);
  for (uint64_t i = 0; i < size; ++i) {
    const auto want = static_cast<unsigned char>((i * 131 + static_cast<uint64_t>(seed)) % 256);
    if (write) bytes[i] = want;
    else if (bytes[i] != want) throw Failure("byte " + std::to_string(i) + " is " + std::to_string(bytes[i]));
  }
  polyipc_shm_close(m);
  std::printf("shm %s: %s %llu\n", id.c_str(), write ? "wrote" : "checked", static_cast<unsigned long long>(size));
  return 0;
}

int counter(const std::string &name, long n, const std::string &id) {
  polyipc_array *a = nullptr;
  polyipc_error err{};
  check(polyipc_array_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, POLYIPC_INT64, 1, nullptr, &a, &err), err, "open value");
  for (long i = 0; i < n; ++i) check(polyipc_array_add_i64(a, 0, 1, nullptr, &err), err, "add");
  polyipc_array_close(a);
  std::printf("counter %s: added %ld\n", id.c_str(), n);
  return 0;
}

// "c,go,java" as {"c", "go", "java"}.
std::vector<std::string> split_langs(const std::string &langs) {
  std::vector<std::string> out;
  for (size_t from = 0; from <= langs.size();) {
    size_t comma = langs.find(',', from);
    if (comma == std::string::npos) comma = langs.size();
    out.push_back(langs.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

// The dict scenario (../README.md): each language's entry, under a key outside the BMP.
std::string dict_key(const std::string &lang) { return "\u043a\u043b\u044e\u0447\U0001F511." + lang; }
json dict_value(const std::string &lang) {
  return {{"lang", lang},
          {"text", "h\u00e9llo w\u00f6rld \U0001F600 \u6f22\u5b57 quote\" backslash\\ nl\n nul" + std::string(1, '\0')},
          {"ints", {INT64_MIN, INT64_MAX, 0, -1}},
          {"doubles", {0.5, 1e300, -2.25}},
          {"flags", {true, false, nullptr}},
          {"nested", {{"a", {json::array(), json::object(), json::array({json::array({"deep"})})}}}}};
}

polyipc_dict *open_dict(const std::string &name, polyipc_open_mode mode) {
  polyipc_dict *d = nullptr;
  polyipc_error err{};
  check(polyipc_dict_open(name.c_str(), mode, nullptr, &d, &err), err, "open dict " + name);
  return d;
}

int dict_write(const std::string &name, long increments, const std::string &lang) {
  polyipc_dict *d = open_dict(name, POLYIPC_OPEN_OR_CREATE);
  polyipc_error err{};
  check(polyipc_dict_set(d, dict_key(lang).c_str(), dict_value(lang).dump().c_str(), &err), err, "set");
  for (long i = 0; i < increments; ++i) {
    for (;;) {
      char *cur = nullptr;
      int found = 0, swapped = 0;
      check(polyipc_dict_get(d, "counter", &cur, nullptr, &found, &err), err, "get counter");
      const std::string next = std::to_string(found ? std::stoll(cur) + 1 : 1);
      const int rc = polyipc_dict_compare_and_set(d, "counter", cur, next.c_str(), &swapped, &err);
      polyipc_free(cur);
      check(rc, err, "compare_and_set counter");
      if (swapped) break;
    }
  }
  polyipc_dict_close(d);
  std::printf("dict %s: wrote, %ld increments\n", lang.c_str(), increments);
  return 0;
}

int dict_check(const std::string &name, const std::string &langs, const std::string &lang) {
  polyipc_dict *d = open_dict(name, POLYIPC_OPEN_ONLY);
  size_t checked = 0;
  for (const std::string &other : split_langs(langs)) {
    char *text = nullptr;
    polyipc_error err{};
    check(polyipc_dict_get(d, dict_key(other).c_str(), &text, nullptr, nullptr, &err), err, "get " + other);
    const json got = json::parse(text);
    polyipc_free(text);
    if (got != dict_value(other)) throw Failure("the entry of " + other + " differs: " + got.dump());
    ++checked;
  }
  polyipc_dict_close(d);
  std::printf("dict %s: checked %zu entries\n", lang.c_str(), checked);
  return 0;
}

// The list scenario (../README.md): each language appends {"from": ID, "seq": i}.
int list_append(const std::string &name, long n, const std::string &id) {
  polyipc_list *l = nullptr;
  polyipc_error err{};
  check(polyipc_list_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &l, &err), err, "open list " + name);
  for (long i = 0; i < n; ++i)
    check(polyipc_list_append(l, json{{"from", id}, {"seq", i}}.dump().c_str(), &err), err, "append");
  polyipc_list_close(l);
  std::printf("list %s: appended %ld\n", id.c_str(), n);
  return 0;
}

int list_check(const std::string &name, const std::string &langs, long n, const std::string &id) {
  polyipc_list *l = nullptr;
  polyipc_error err{};
  check(polyipc_list_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &l, &err), err, "open list " + name);
  char *text = nullptr;
  check(polyipc_list_items(l, &text, &err), err, "items");
  const json items = json::parse(text);
  polyipc_free(text);
  polyipc_list_close(l);
  std::map<std::string, long> next;  // language -> the seq its next value must have
  for (const std::string &lang : split_langs(langs)) next[lang] = 0;
  for (const json &v : items) {
    auto it = next.find(v.at("from").get<std::string>());
    if (it == next.end()) throw Failure("a value from an unknown language: " + v.dump());
    if (v.at("seq").get<long>() != it->second) throw Failure("out of order or lost: " + v.dump());
    ++it->second;
  }
  for (const auto &[lang, count] : next)
    if (count != n) throw Failure(lang + " has " + std::to_string(count) + " values, expected " + std::to_string(n));
  std::printf("list %s: checked %zu values\n", id.c_str(), items.size());
  return 0;
}

// The watch scenario (../README.md): a token goes round the languages through
// one dict; each waits for its turn with wait_change.
int dict_relay(const std::string &name, long index, long count, long rounds, const std::string &id) {
  polyipc_dict *d = open_dict(name, POLYIPC_OPEN_OR_CREATE);
  polyipc_error err{};
  for (long r = 0; r < rounds; ++r) {
    const long turn = r * count + index;
    for (;;) {  // the version, then the token, then wait from that version: no change is missed
      uint64_t version = 0;
      check(polyipc_dict_version(d, &version, &err), err, "version");
      char *cur = nullptr;
      int found = 0;
      check(polyipc_dict_get(d, "token", &cur, nullptr, &found, &err), err, "get token");
      const long token = found ? std::stol(cur) : 0;
      polyipc_free(cur);
      if (token == turn) break;
      if (token > turn) throw Failure("the token passed turn " + std::to_string(turn) + ": " + std::to_string(token));
      check(polyipc_dict_wait_change(d, version, kWait, nullptr, &err), err, "wait_change for turn " + std::to_string(turn));
    }
    check(polyipc_dict_set(d, "token", std::to_string(turn + 1).c_str(), &err), err, "set token");
  }
  polyipc_dict_close(d);
  std::printf("relay %s: %ld turns\n", id.c_str(), rounds);
  return 0;
}

}  // namespace

// Returns -1 when the command line is not one of these scenarios.
int run_ipc_scenario(const std::vector<std::string> &a) {
  const size_t n = a.size();
  try {
    if (n == 5 && a[1] == "pipe-ping") return ping(a[2], std::stol(a[3]), a[4], false);
    if (n == 5 && a[1] == "pipe-pong") return ping(a[2], std::stol(a[3]), a[4], true);
    if ((n == 5 || n == 6) && a[1] == "pipe-send") return pipe_send(a[2], std::stol(a[3]), a[4], n == 6 && a[5] == "--hang");
    if (n == 4 && a[1] == "pipe-eof") return pipe_eof(a[2], a[3]);
    if (n == 6 && a[1] == "shm-write") return shm(a[2], std::stoull(a[3]), std::stol(a[4]), a[5], true);
    if (n == 6 && a[1] == "shm-check") return shm(a[2], std::stoull(a[3]), std::stol(a[4]), a[5], false);
    if (n == 5 && a[1] == "counter") return counter(a[2], std::stol(a[3]), a[4]);
    if (n == 5 && a[1] == "dict-write") return dict_write(a[2], std::stol(a[3]), a[4]);
    if (n == 5 && a[1] == "dict-check") return dict_check(a[2], a[3], a[4]);
    if (n == 5 && a[1] == "list-append") return list_append(a[2], std::stol(a[3]), a[4]);
    if (n == 6 && a[1] == "list-check") return list_check(a[2], a[3], std::stol(a[4]), a[5]);
    if (n == 7 && a[1] == "dict-relay") return dict_relay(a[2], std::stol(a[3]), std::stol(a[4]), std::stol(a[5]), a[6]);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "c: FAIL: %s: %s\n", a[1].c_str(), e.what());
    return 1;
  }
  return -1;
}
