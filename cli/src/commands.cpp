#include "commands.hpp"

#include <polyipc.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "exit_codes.hpp"
#include "format.hpp"
#include "library.hpp"

namespace polyipc_cli {

const char* const kExitCodeHelp =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  usage error (unknown option, missing argument, bad --timeout)\n"
    "  2  not found (POLYIPC_ERR_NOT_FOUND)\n"
    "  3  empty / full / timeout: nothing to get, or no room to put, within --timeout\n"
    "  4  invalid input: POLYIPC_ERR_INVALID_JSON, INVALID_ARG (e.g. a bad name), OUT_OF_RANGE,\n"
    "     TOO_LARGE; nothing was changed\n"
    "  5  any other error (CLOSED, PERMISSION, INCOMPATIBLE, SYSTEM ...)\n"
    "  6  submit: the task failed in its worker; its error text is on stderr\n"
    "Errors are printed on stderr as `polyipc: <message>`.\n"
    "Objects live in the namespace named by $POLYIPC_NAMESPACE (default \"default\").";

int exit_code_for_status(int status) {
  switch (status) {
    case POLYIPC_OK: return kExitOk;
    case POLYIPC_ERR_NOT_FOUND: return kExitNotFound;
    case POLYIPC_ERR_EMPTY:
    case POLYIPC_ERR_FULL:
    case POLYIPC_ERR_TIMEOUT: return kExitNoRoom;
    case POLYIPC_ERR_INVALID_JSON:
    case POLYIPC_ERR_INVALID_ARG:
    case POLYIPC_ERR_OUT_OF_RANGE:
    case POLYIPC_ERR_TOO_LARGE: return kExitInvalid;
    default: return kExitOther;
  }
}

namespace {

struct QueueClose {
  void operator()(polyipc_queue* q) const { polyipc_queue_close(q); }
};
using QueuePtr = std::unique_ptr<polyipc_queue, QueueClose>;

struct OpenedQueue {
  QueuePtr handle;
  bool joinable = false;
  bool bytes = false;
};

// Opens an existing queue with the options it was created with (learned from
// its stat, so order/format/joinable always agree); with `create`, a missing
// queue is created with the defaults.
OpenedQueue open_queue(const std::string& name, bool create) {
  polyipc_queue_options opts;
  polyipc_queue_options_init(&opts);
  OpenedQueue out;

  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_stat_json(name.c_str(), &raw, &err);
  LibText text(raw);
  bool exists = false;
  if (rc == POLYIPC_OK) {
    Json stat = parse_library_json(text.get(), ("stat of '" + name + "'").c_str());
    exists = true;
    std::string order = stat.value("order", "fifo");
    if (order == "lifo") opts.order = POLYIPC_LIFO;
    if (order == "priority") opts.order = POLYIPC_PRIORITY;
    if (stat.value("format", "json") == "bytes") opts.format = POLYIPC_FORMAT_BYTES;
    auto j = stat.find("joinable");
    if (j != stat.end() && j->is_boolean()) opts.joinable = *j ? 1 : 0;
  } else if (rc == POLYIPC_ERR_INVALID_ARG) {
    check(rc, err);  // a bad name: say so before anything else happens
  }
  // Other stat failures: let the open below give the authoritative answer.

  polyipc_open_mode mode = (create && !exists) ? POLYIPC_OPEN_OR_CREATE : POLYIPC_OPEN_ONLY;
  polyipc_queue* q = nullptr;
  err = polyipc_error{};
  rc = polyipc_queue_open(name.c_str(), mode, &opts, &q, &err);
  check(rc, err);
  out.handle.reset(q);
  out.joinable = opts.joinable != 0;
  out.bytes = opts.format == POLYIPC_FORMAT_BYTES;
  return out;
}

std::string read_stdin() {
  std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) throw Failure(kExitOther, "could not read the message from stdin");
  return data;
}

}  // namespace

int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string current_namespace() {
  const char* ns = std::getenv("POLYIPC_NAMESPACE");
  return (ns != nullptr && *ns != '\0') ? ns : "default";
}

int64_t parse_timeout(const std::string& text) {
  if (text == "forever" || text == "inf" || text == "infinite") return POLYIPC_FOREVER;
  errno = 0;
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || errno != 0 || std::isnan(seconds))
    throw Failure(kExitUsage, "--timeout: '" + text + "' is not a number of seconds (or 'forever')");
  if (seconds < 0 || std::isinf(seconds)) return POLYIPC_FOREVER;
  double ns = seconds * 1e9;
  if (ns >= 9.2e18) return POLYIPC_FOREVER;
  return static_cast<int64_t>(ns);
}

namespace {

// Opens an existing object of one kind through `open` (a polyipc_*_open
// wrapper); the handle is closed with `close` when the result goes away.
template <class T>
std::unique_ptr<T, void (*)(T*)> open_existing(int (*open)(const char*, T**, polyipc_error*), void (*close)(T*),
                                              const std::string& name) {
  T* h = nullptr;
  polyipc_error err{};
  check(open(name.c_str(), &h, &err), err);
  return {h, close};
}

int open_event(const char* n, polyipc_event** out, polyipc_error* e) {
  return polyipc_event_open(n, POLYIPC_OPEN_ONLY, nullptr, out, e);
}
int open_semaphore(const char* n, polyipc_semaphore** out, polyipc_error* e) {
  return polyipc_semaphore_open(n, POLYIPC_OPEN_ONLY, 0, 0, nullptr, out, e);
}
int open_pool(const char* n, polyipc_pool** out, polyipc_error* e) {
  return polyipc_pool_open(n, POLYIPC_OPEN_ONLY, nullptr, out, e);
}
int open_barrier(const char* n, polyipc_barrier** out, polyipc_error* e) {
  char* raw = nullptr;  // the parties must match: read them first
  int rc = polyipc_stat_json(n, &raw, e);
  LibText text(raw);
  if (rc != POLYIPC_OK) return rc;
  Json info = Json::parse(text.get(), nullptr, false);
  uint32_t parties = info.is_object() ? info.value("parties", 0u) : 0u;
  return polyipc_barrier_open(n, POLYIPC_OPEN_ONLY, parties, nullptr, out, e);
}

// `dict NAME` / `list NAME`: every entry ("key": value or index: value
// lines), and with --watch again after each change, headed by the version
// read before the entries (so they are at least that new). Changes that
// come faster than they print show together. Ends after o.changes changes
// (0: never). items(text_out) is polyipc_dict_items or polyipc_list_items.
template <class Handle>
int print_items(const Options& o, const char* kind, Handle* h, int (*items)(Handle*, char**, polyipc_error*),
                int (*version)(Handle*, uint64_t*, polyipc_error*),
                int (*wait_change)(Handle*, uint64_t, int64_t, uint64_t*, polyipc_error*)) {
  const std::string label = std::string(kind) + " '" + o.name + "'";
  auto print = [&](std::optional<uint64_t> at) {
    char* raw = nullptr;
    polyipc_error err{};
    check(items(h, &raw, &err), err);
    LibText text(raw);
    const Json all = parse_library_json(text.get(), ("the items of " + label).c_str());
    if (o.json) {
      Json out{{"name", o.name}, {"items", all}};
      if (at) out["version"] = *at;
      write_out(out.dump() + "\n");
      return;
    }
    std::string out = at ? label + " at version " + std::to_string(*at) + ":\n" : "";
    size_t i = 0;
    for (auto& [key, value] : all.items())
      out += (all.is_object() ? Json(key).dump() : std::to_string(i++)) + ": " + value.dump() + "\n";
    if (all.empty()) out += label + " is empty\n";
    write_out(out);
  };
  if (!o.watch) {
    print(std::nullopt);
    return kExitOk;
  }
  polyipc_error err{};
  uint64_t v = 0;
  check(version(h, &v, &err), err);
  print(v);
  for (uint64_t n = 0; o.changes == 0 || n < o.changes; ++n) {
    check(wait_change(h, v, POLYIPC_FOREVER, &v, &err), err);
    print(v);
  }
  return kExitOk;
}

}  // namespace

int cmd_dict(const Options& o) {
  polyipc_dict* raw_handle = nullptr;
  polyipc_error err{};
  check(polyipc_dict_open(o.name.c_str(), o.create ? POLYIPC_OPEN_OR_CREATE : POLYIPC_OPEN_ONLY, nullptr, &raw_handle,
                          &err),
        err);
  std::unique_ptr<polyipc_dict, void (*)(polyipc_dict*)> d(raw_handle, polyipc_dict_close);
  if (o.watch && (o.key || o.remove || !o.message.empty()))
    throw Failure(kExitUsage, "--watch prints every entry of the dict: give no KEY, JSON or --delete");
  if (!o.key)  // every entry (--watch: again after each change)
    return print_items<polyipc_dict>(o, "dict", d.get(), polyipc_dict_items, polyipc_dict_version,
                                     polyipc_dict_wait_change);
  const std::string& key = *o.key;
  if (o.remove) {
    int deleted = 0;
    check(polyipc_dict_delete(d.get(), key.c_str(), &deleted, &err), err);
    if (o.json) write_out(Json{{"name", o.name}, {"key", key}, {"deleted", deleted != 0}}.dump() + "\n");
    else write_out("dict '" + o.name + "': " + Json(key).dump() + (deleted ? " deleted" : " was not there") + "\n");
    return kExitOk;
  }
  if (!o.message.empty()) {
    std::string value = o.message == "-" ? read_stdin() : o.message;
    check(polyipc_dict_set(d.get(), key.c_str(), value.c_str(), &err), err);
    if (o.json) write_out(Json{{"name", o.name}, {"key", key}, {"set", true}}.dump() + "\n");
    else write_out("dict '" + o.name + "': " + Json(key).dump() + " set\n");
    return kExitOk;
  }
  char* raw = nullptr;
  size_t len = 0;
  check(polyipc_dict_get(d.get(), key.c_str(), &raw, &len, nullptr, &err), err);  // a missing key: NOT_FOUND
  LibText text(raw);
  if (o.json)
    write_out(Json{{"name", o.name}, {"key", key}, {"value", parse_library_json(text.get(), "a dict value")}}.dump() +
              "\n");
  else
    write_out(std::string(text.get(), len) + "\n");
  return kExitOk;
}

int cmd_list(const Options& o) {
  polyipc_list* raw_handle = nullptr;
  polyipc_error err{};
  check(polyipc_list_open(o.name.c_str(), o.create ? POLYIPC_OPEN_OR_CREATE : POLYIPC_OPEN_ONLY, nullptr, &raw_handle,
                          &err),
        err);
  std::unique_ptr<polyipc_list, void (*)(polyipc_list*)> l(raw_handle, polyipc_list_close);
  if (o.watch && (o.index || o.remove || !o.message.empty()))
    throw Failure(kExitUsage, "--watch prints every value of the list: give no INDEX, --append or --pop");
  if (!o.message.empty()) {  // --append
    std::string value = o.message == "-" ? read_stdin() : o.message;
    check(polyipc_list_append(l.get(), value.c_str(), &err), err);
    uint64_t n = 0;
    check(polyipc_list_len(l.get(), &n, &err), err);
    if (o.json) write_out(Json{{"name", o.name}, {"appended", true}, {"length", n}}.dump() + "\n");
    else write_out("list '" + o.name + "': appended (length " + std::to_string(n) + ")\n");
    return kExitOk;
  }
  if (o.remove || o.index) {  // --pop [INDEX], or INDEX
    char* raw = nullptr;
    const int64_t index = o.index.value_or(-1);
    check(o.remove ? polyipc_list_pop(l.get(), index, &raw, nullptr, &err)
                   : polyipc_list_get(l.get(), index, &raw, nullptr, &err),
          err);
    LibText text(raw);
    if (o.json)
      write_out(Json{{"name", o.name}, {"index", index}, {o.remove ? "popped" : "value",
                                                           parse_library_json(text.get(), "a list value")}}
                    .dump() +
                "\n");
    else
      write_out(std::string(text.get()) + "\n");
    return kExitOk;
  }
  return print_items<polyipc_list>(o, "list", l.get(), polyipc_list_items, polyipc_list_version,
                                   polyipc_list_wait_change);
}

int cmd_event(const Options& o) {
  auto ev = open_existing(open_event, polyipc_event_close, o.name);
  polyipc_error err{};
  if (o.action == "set") check(polyipc_event_set(ev.get(), &err), err);
  else if (o.action == "clear") check(polyipc_event_clear(ev.get(), &err), err);
  else check(polyipc_event_wait(ev.get(), parse_timeout(o.timeout), &err), err);
  if (o.json) write_out(Json{{"name", o.name}, {"event", o.action}, {"ok", true}}.dump() + "\n");
  else write_out("event '" + o.name + "': " + (o.action == "wait" ? "set" : o.action == "set" ? "set" : "cleared") + "\n");
  return kExitOk;
}

int cmd_release(const Options& o) {
  auto s = open_existing(open_semaphore, polyipc_semaphore_close, o.name);
  polyipc_error err{};
  check(polyipc_semaphore_release(s.get(), o.slots, &err), err);
  if (o.json) write_out(Json{{"name", o.name}, {"released", o.slots}}.dump() + "\n");
  else write_out("semaphore '" + o.name + "': released " + std::to_string(o.slots) + "\n");
  return kExitOk;
}

int cmd_barrier(const Options& o) {
  auto b = open_existing(open_barrier, polyipc_barrier_close, o.name);
  polyipc_error err{};
  check(o.action == "abort" ? polyipc_barrier_abort(b.get(), &err) : polyipc_barrier_reset(b.get(), &err), err);
  if (o.json) write_out(Json{{"name", o.name}, {"barrier", o.action}, {"ok", true}}.dump() + "\n");
  else write_out("barrier '" + o.name + "': " + (o.action == "abort" ? "aborted" : "reset") + "\n");
  return kExitOk;
}

int cmd_ls(const Options& o) {
  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_list_json(&raw, &err);
  LibText text(raw);
  check(rc, err);
  Json list = parse_library_json(text.get(), "the object list");
  if (!list.is_array()) throw Failure(kExitOther, "the library returned a list that is not a JSON array");
  if (o.json) {
    write_out(list.dump(2) + "\n");
    return kExitOk;
  }
  if (list.empty()) {
    write_out("no objects in namespace '" + current_namespace() + "'\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "KIND", "STATE", "CAPACITY", "MEMORY", "ATTACHED", "MODE", "OWNER"}};
  std::string notes;
  for (const auto& obj : list) {
    std::string capacity = "-";
    auto cap = obj.find("capacity_bytes");
    if (cap != obj.end() && cap->is_number_unsigned()) capacity = size_text(cap->get<uint64_t>());
    auto max_items = obj.find("max_items");
    if (max_items != obj.end() && max_items->is_number_unsigned() && max_items->get<uint64_t>() > 0)
      capacity += " (max " + max_items->dump() + ")";
    std::string owner = "-";
    auto uid = obj.find("owner_uid");
    if (uid != obj.end() && uid->is_number_unsigned()) owner = user_name(uid->get<uint64_t>());
    std::string memory = "-";
    auto shm = obj.find("shm_bytes");
    if (shm != obj.end() && shm->is_number_unsigned()) memory = size_text(shm->get<uint64_t>());
    rows.push_back({field_text(obj, "name"), field_text(obj, "kind"), state_text(obj), capacity, memory,
                    attached_text(obj), mode_text(obj.value("mode", Json())), owner});
    auto error = obj.find("error");
    if (error != obj.end()) notes += field_text(obj, "name") + ": " + field_text(obj, "error") + "\n";
  }
  write_out(table_text(rows) + notes);
  return kExitOk;
}

int cmd_stat(const Options& o) {
  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_stat_json(o.name.c_str(), &raw, &err);
  LibText text(raw);
  check(rc, err);
  Json stat = parse_library_json(text.get(), ("stat of '" + o.name + "'").c_str());
  write_out(o.json ? stat.dump(2) + "\n" : stat_text(stat));
  return kExitOk;
}

int cmd_rm(const Options& o) {
  int exit_code = kExitOk;
  Json removed = Json::array();
  Json failed = Json::array();
  for (const auto& name : o.names) {
    polyipc_error err{};
    int rc = polyipc_unlink(name.c_str(), &err);
    if (rc == POLYIPC_OK) {
      removed.push_back(name);
      if (!o.json) write_out("removed '" + name + "'\n");
      continue;
    }
    std::string message = error_text(rc, err);
    std::cerr << "polyipc: " << message << "\n";
    failed.push_back({{"name", name}, {"status", polyipc_status_name(rc)}, {"message", message}});
    if (exit_code == kExitOk) exit_code = exit_code_for_status(rc);
  }
  if (o.json) write_out(Json{{"removed", removed}, {"failed", failed}}.dump(2) + "\n");
  return exit_code;
}

int cmd_gc(const Options& o) {
  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_gc_json(&raw, &err);
  LibText text(raw);
  check(rc, err);
  Json gc = parse_library_json(text.get(), "gc");
  if (o.json) {
    write_out(gc.dump(2) + "\n");
    return kExitOk;
  }
  std::string out;
  Json removed = gc.value("removed", Json::array());
  Json stale = gc.value("stale", Json::array());
  for (const auto& name : removed) out += "removed " + (name.is_string() ? name.get<std::string>() : name.dump()) + "\n";
  for (const auto& s : stale) {
    std::string reason = field_text(s, "reason");
    out += "stale   " + field_text(s, "name") + (reason == "-" ? "" : " (" + reason + ")") + "\n";
  }
  for (const auto& file : gc.value("abandoned", Json::array()))
    out += "removed " + (file.is_string() ? file.get<std::string>() : file.dump()) +
           " (an object whose creator died before finishing it)\n";
  if (out.empty()) out = "nothing to collect in namespace '" + current_namespace() + "'\n";
  write_out(out);
  return kExitOk;
}

int cmd_put(const Options& o) {
  int64_t timeout = parse_timeout(o.timeout);
  std::string data = o.message == "-" ? read_stdin() : o.message;
  OpenedQueue q = open_queue(o.name, o.create);
  polyipc_error err{};
  int rc = o.priority ? polyipc_queue_put_priority(q.handle.get(), data.data(), data.size(), *o.priority, timeout, &err)
                      : polyipc_queue_put(q.handle.get(), data.data(), data.size(), timeout, &err);
  check(rc, err);
  uint64_t depth = 0;
  polyipc_error size_err{};
  bool have_depth = polyipc_queue_size(q.handle.get(), &depth, &size_err) == POLYIPC_OK;
  if (o.json) {
    Json out{{"name", o.name}, {"put", true}, {"bytes", data.size()}};
    if (have_depth) out["depth"] = depth;
    write_out(out.dump() + "\n");
  } else {
    write_out("put " + std::to_string(data.size()) + " bytes on '" + o.name + "'" +
              (have_depth ? " (depth " + std::to_string(depth) + ")" : "") + "\n");
  }
  return kExitOk;
}

namespace {
// Takes one message and prints it as get does; false at the end of the stream
// (a status other than OK or CLOSED is thrown as the command's failure).
bool get_and_print(const OpenedQueue& q, const Options& o, int64_t timeout, bool closed_ends) {
  void* raw = nullptr;
  size_t len = 0;
  polyipc_error err{};
  int rc = polyipc_queue_get(q.handle.get(), &raw, &len, timeout, &err);
  if (rc == POLYIPC_ERR_CLOSED && closed_ends) return false;
  check(rc, err);
  std::unique_ptr<void, LibFree> data(raw);
  std::string message(static_cast<const char*>(data.get()), len);
  if (o.json) {
    Json out{{"name", o.name}};
    Json value = q.bytes ? Json() : Json::parse(message, nullptr, false);
    if (q.bytes || value.is_discarded())
      out["base64"] = base64_encode(message.data(), message.size());
    else
      out["message"] = value;
    write_out(out.dump() + "\n");
  } else {
    write_out(q.bytes ? message : message + "\n");
  }
  // On a joinable queue a get is a lease: the message reached stdout, so the
  // task is done (were we to fail before this, the lease goes to another consumer).
  if (q.joinable) {
    polyipc_error done_err{};
    check(polyipc_queue_task_done(q.handle.get(), &done_err), done_err);
  }
  return true;
}
}  // namespace

int cmd_get(const Options& o) {
  // --until-closed is a consumer for shell pipelines: each wait is --timeout
  // long, by default without limit.
  const int64_t timeout = o.until_closed && !o.timeout_given ? POLYIPC_FOREVER : parse_timeout(o.timeout);
  OpenedQueue q = open_queue(o.name, false);
  while (get_and_print(q, o, timeout, o.until_closed) && o.until_closed) {
  }
  return kExitOk;
}

int cmd_peek(const Options& o) {
  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_peek_json(o.name.c_str(), o.count, &raw, &err);
  LibText text(raw);
  check(rc, err);
  Json items = parse_library_json(text.get(), ("peek of '" + o.name + "'").c_str());
  if (o.json) {
    write_out(items.dump(2) + "\n");
    return kExitOk;
  }
  if (!items.is_array() || items.empty()) {
    write_out("queue '" + o.name + "' is empty\n");
    return kExitOk;
  }
  std::string out;
  size_t index = 0;
  for (const auto& item : items) {
    std::string line = std::to_string(++index) + "  ";
    auto message = item.find("message");
    if (message != item.end())
      line += message->dump();
    else
      line += "base64:" + field_text(item, "base64");
    auto priority = item.find("priority");
    if (priority != item.end() && priority->is_number() && *priority != 0) line += "  (priority " + priority->dump() + ")";
    out += line + "\n";
  }
  write_out(out);
  return kExitOk;
}

}  // namespace polyipc_cli

namespace polyipc_cli {

namespace {
// The kind of object `name` holds ("queue", "pool", ...), from its stat.
std::string kind_of(const std::string& name) {
  char* raw = nullptr;
  polyipc_error err{};
  int rc = polyipc_stat_json(name.c_str(), &raw, &err);
  LibText text(raw);
  check(rc, err);
  return field_text(parse_library_json(text.get(), ("stat of '" + name + "'").c_str()), "kind");
}
}  // namespace

int cmd_close(const Options& o) {
  const std::string kind = kind_of(o.name);
  polyipc_error err{};
  std::string what;
  if (kind == "queue") {
    OpenedQueue q = open_queue(o.name, false);
    check(polyipc_queue_close_writes(q.handle.get(), &err), err);
    what = "closed for writing: getters take what is left, then get CLOSED";
  } else if (kind == "pool") {
    auto p = open_existing(open_pool, polyipc_pool_close, o.name);
    check(polyipc_pool_close_tasks(p.get(), &err), err);
    what = "closed: no more tasks; workers finish those left, then stop";
  } else {
    const bool vowel = std::string("aeiou").find(kind.front()) != std::string::npos;
    throw Failure(kExitInvalid, "'" + o.name + "' is " + (vowel ? "an " : "a ") + kind +
                                    ": close ends the stream of a queue or the tasks of a pool");
  }
  if (o.json) write_out(Json{{"name", o.name}, {"kind", kind}, {"closed", true}}.dump() + "\n");
  else write_out(kind + " '" + o.name + "': " + what + "\n");
  return kExitOk;
}

int cmd_submit(const Options& o) {
  // One deadline for the room in the pool and then the result; by default none.
  const int64_t timeout = o.timeout_given ? parse_timeout(o.timeout) : POLYIPC_FOREVER;
  const int64_t deadline = timeout == POLYIPC_FOREVER ? 0 : clock_ns(CLOCK_MONOTONIC) + timeout;
  auto left = [&] {
    return deadline == 0 ? POLYIPC_FOREVER : std::max<int64_t>(0, deadline - clock_ns(CLOCK_MONOTONIC));
  };
  const std::string args = o.message == "-" ? read_stdin() : o.message;
  auto p = open_existing(open_pool, polyipc_pool_close, o.name);
  uint64_t id = 0;
  polyipc_error err{};
  check(polyipc_pool_submit(p.get(), o.function.c_str(), args.data(), args.size(), left(), &id, &err), err);
  char* raw = nullptr;
  err = polyipc_error{};
  const int rc = polyipc_pool_result(p.get(), id, left(), &raw, nullptr, &err);
  LibText text(raw);
  if (rc == POLYIPC_ERR_TIMEOUT) {
    // Nobody will read the result once this handle is gone: take back a task
    // no worker has started, so it does not run for nothing.
    int cancelled = 0;
    polyipc_pool_cancel(p.get(), id, &cancelled, nullptr);
    throw Failure(kExitNoRoom, error_text(rc, err) + (cancelled ? " (the task was cancelled: no worker had taken it)"
                                                                : " (a worker has the task; its result is dropped)"));
  }
  check(rc, err);
  Json result = parse_library_json(text.get(), ("the result of task " + std::to_string(id)).c_str());
  const bool ok = result.value("ok", false);
  if (o.json) {
    result["pool"] = o.name;
    result["function"] = o.function;
    write_out(result.dump() + "\n");
  } else if (ok) {
    write_out(result.value("result", Json()).dump() + "\n");
  }
  if (ok) return kExitOk;
  throw Failure(kExitTaskFailed, "pool '" + o.name + "': task " + std::to_string(id) + " (" + o.function + ") " +
                                     (result.value("cancelled", false) ? "was cancelled"
                                                                       : "failed: " + field_text(result, "error")));
}

}  // namespace polyipc_cli
