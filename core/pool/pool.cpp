#include "core/pool/pool.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/json/validate.hpp"
#include "core/names.hpp"
#include "core/process.hpp"
#include "core/segment/segment.hpp"

namespace polyipc {
namespace {

constexpr int64_t kSliceNs = 100'000'000;  // how often a blocked finish() checks its submitter
constexpr size_t kMaxCachedReplies = 16;   // result queues a worker keeps open

// JSON text of a string; invalid UTF-8 becomes U+FFFD.
std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void* into_string(void* context, size_t len) {
  auto* s = static_cast<std::string*>(context);
  s->resize(len);
  return s->data();
}

// The id of a result message, which starts {"id":<digits>, as finish() writes it.
bool result_id(const std::string& message, uint64_t* id) {
  static const char kPrefix[] = "{\"id\":";
  if (message.compare(0, sizeof kPrefix - 1, kPrefix) != 0) return false;
  const char* digits = message.c_str() + sizeof kPrefix - 1;
  char* end = nullptr;
  *id = std::strtoull(digits, &end, 10);
  return end != digits && *end == ',' && *id != 0;
}

}  // namespace

std::unique_ptr<Pool> Pool::open(const std::string& name, OpenMode mode, const PoolOptions& o) {
  check_name(name, "pool");
  auto bad = [&](const std::string& what) {
    throw Error(Status::InvalidArg, format("pool '%s': %s", name.c_str(), what.c_str()));
  };
  if (name.size() > kMaxPoolName)
    bad(format("name of %zu characters; pool names have at most %zu (result queues add a suffix)", name.size(),
               kMaxPoolName));
  if (o.result_capacity_bytes < 256) bad("result_capacity_bytes must be at least 256");
  if (o.result_capacity_bytes > (uint64_t{1} << 40)) bad("result_capacity_bytes must be at most 1 TiB");
  QueueOptions q;
  q.order = Order::Fifo;
  q.format = Format::Json;
  q.joinable = true;
  q.max_items = o.max_tasks;
  q.capacity_bytes = o.capacity_bytes;
  q.mode = o.mode;
  std::unique_ptr<Pool> p(new Pool());
  p->options_ = o;
  p->tasks_ = Queue::open(name, mode, q, Kind::Pool);  // its messages say "pool 'name'"
  return p;
}

Pool::~Pool() = default;

// ---- submitting --------------------------------------------------------------

// Called with mu_ held. The name has this pid and a count of this process's
// handles, so one that exists is left by a dead process whose pid this
// process reuses: removed, not shared.
void Pool::open_results() {
  static std::atomic<uint64_t> handles{0};
  const std::string name =
      format("%s.results.%d.%llu", tasks_->name().c_str(), static_cast<int>(getpid()),
             static_cast<unsigned long long>(++handles));
  QueueOptions q;
  q.capacity_bytes = options_.result_capacity_bytes;
  q.mode = options_.mode;
  q.ephemeral = true;
  try {
    results_ = Queue::open(name, OpenMode::CreateOnly, q);
  } catch (const Error& e) {
    if (e.status() != Status::Exists) throw;
    unlink_object(name);
    results_ = Queue::open(name, OpenMode::CreateOnly, q);
  }
}

Status Pool::submit(const std::string& function, const void* args, size_t len, const Deadline& deadline,
                    uint64_t* id, ErrorText& error) {
  if (function.empty()) {
    error.set("pool '%s': the function name is empty", name().c_str());
    return Status::InvalidArg;
  }
  if (len > 0 && args == nullptr) {
    error.set("pool '%s': NULL arguments with length %zu", name().c_str(), len);
    return Status::InvalidArg;
  }
  json::ValidationError ve;
  if (!json::validate(static_cast<const char*>(args), len, json::kMaxDepth, &ve)) {
    error.set("pool '%s': arguments of '%.64s' are not valid JSON at byte %zu: %s", name().c_str(), function.c_str(),
              ve.offset, ve.reason);
    return Status::InvalidJson;
  }
  uint64_t task_id;
  std::string reply;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!results_) open_results();
    task_id = next_id_++;
    pending_.insert(task_id);  // before the put: a quick worker's result must not be taken for stale
    reply = results_->name();
  }
  std::string task = format("{\"id\":%llu,\"fn\":", static_cast<unsigned long long>(task_id));
  task += json_string(function);
  task += ",\"reply\":\"" + reply + "\",\"args\":";
  task.append(static_cast<const char*>(args), len);
  task += '}';
  const Status st = tasks_->put(task.data(), task.size(), 0, deadline, error);
  std::lock_guard<std::mutex> lk(mu_);
  if (st != Status::Ok) {
    pending_.erase(task_id);
    return st;
  }
  if (pending_.count(task_id)) sent_.emplace(task_id, std::move(task));  // (unless its result came already)
  *id = task_id;
  return Status::Ok;
}

void Pool::forget(uint64_t id) {
  pending_.erase(id);
  sent_.erase(id);
}

Status Pool::cancel(uint64_t id, bool* cancelled, ErrorText& error) {
  *cancelled = false;
  std::string task;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = sent_.find(id);
    if (it == sent_.end() || arrived_.count(id)) {
      error.set("pool '%s': cancel: task %llu is no task of this handle that could still run (never submitted "
                "here, cancelled already, or its result came)",
                name().c_str(), static_cast<unsigned long long>(id));
      return Status::InvalidArg;
    }
    task = it->second;
  }
  bool withdrawn = false;
  Status st = tasks_->withdraw(task.data(), task.size(), &withdrawn, error);
  if (st != Status::Ok || !withdrawn) return st;
  {
    std::lock_guard<std::mutex> lk(mu_);
    sent_.erase(id);
  }
  // Its result, so that whoever waits for it (any thread, by id or any) is answered as usual.
  const std::string result = format(
      "{\"id\":%llu,\"ok\":false,\"cancelled\":true,\"error\":\"cancelled\"}", static_cast<unsigned long long>(id));
  st = results_->put(result.data(), result.size(), 0, Deadline::forever(), error);
  if (st != Status::Ok) return st;
  *cancelled = true;
  return Status::Ok;
}

Status Pool::take_result(const Deadline& deadline, std::string* out, uint64_t* id, ErrorText& error) {
  size_t len = 0;
  Status st = results_->get(into_string, out, &len, deadline, error);
  if (st == Status::Empty || st == Status::Timeout) {
    error.set("pool '%s': no result came within the timeout", name().c_str());
    return Status::Timeout;
  }
  if (st != Status::Ok) return st;
  if (!result_id(*out, id)) {
    error.set("pool '%s': result queue '%s' holds a message that is not a pool result (dropped)", name().c_str(),
              results_->name().c_str());
    return Status::Incompatible;
  }
  return Status::Ok;
}

// One waiting thread at a time takes from the result queue (reading_); what
// it takes for another thread goes into arrived_, and every waiter looks
// there. A wait for any task leaves alone the ids a thread waits for by id.
Status Pool::result(uint64_t id, const Deadline& deadline, std::string* out, ErrorText& error) {
  std::unique_lock<std::mutex> lk(mu_);
  auto expected = [&] {
    if (id != 0) return pending_.count(id) > 0;
    for (uint64_t p : pending_)
      if (awaited_.count(p) == 0) return true;
    return false;
  };
  if (!expected()) {
    if (id == 0)
      error.set("pool '%s': this handle has no task whose result is still to come (and not awaited by id)",
                name().c_str());
    else
      error.set("pool '%s': task %llu is not a task of this handle whose result is still to come", name().c_str(),
                static_cast<unsigned long long>(id));
    return Status::InvalidArg;
  }
  // Mine: returned to this caller, whoever took it from the queue.
  auto mine = [&](uint64_t got) { return id == 0 ? awaited_.count(got) == 0 : got == id; };
  if (id != 0) awaited_.insert(id);
  struct Unawait {
    std::multiset<uint64_t>& awaited;
    uint64_t id;
    ~Unawait() {
      if (id != 0) awaited.erase(awaited.find(id));
    }
  } unawait{awaited_, id};
  for (;;) {
    if (!expected()) {  // while this thread waited, another took what it waits for
      if (id == 0)
        error.set("pool '%s': every result still to come is awaited by id by another thread", name().c_str());
      else
        error.set("pool '%s': the result of task %llu went to another caller waiting for it", name().c_str(),
                  static_cast<unsigned long long>(id));
      return Status::InvalidArg;
    }
    auto it = arrived_.begin();
    while (it != arrived_.end() && !mine(it->first)) ++it;
    if (it != arrived_.end()) {
      *out = std::move(it->second);
      forget(it->first);
      arrived_.erase(it);
      return Status::Ok;
    }
    if (reading_) {  // wait for the reader to hand over a result or its role
      if (deadline.expired()) {
        error.set("pool '%s': no result came within the timeout", name().c_str());
        return Status::Timeout;
      }
      arrived_cv_.wait_for(lk, std::chrono::nanoseconds(deadline.until_ns(kSliceNs) - monotonic_ns()));
      continue;
    }
    reading_ = true;
    lk.unlock();
    std::string message;
    uint64_t got = 0;
    Status st;
    try {
      st = take_result(deadline, &message, &got, error);
    } catch (...) {
      lk.lock();
      reading_ = false;
      arrived_cv_.notify_all();
      throw;
    }
    lk.lock();
    reading_ = false;
    arrived_cv_.notify_all();
    if (st != Status::Ok) return st;
    if (!pending_.count(got) || arrived_.count(got)) continue;  // a duplicate: dropped
    if (mine(got)) {
      forget(got);
      *out = std::move(message);
      return Status::Ok;
    }
    arrived_.emplace(got, std::move(message));
  }
}

// ---- working -----------------------------------------------------------------

Status Pool::take(const Deadline& deadline, std::unique_ptr<PoolTask>* task, ErrorText& error) {
  auto t = std::make_unique<PoolTask>();
  size_t len = 0;
  Status st = tasks_->get(into_string, &t->message, &len, deadline, error);
  if (st != Status::Ok) return st;
  static const char kArgs[] = ",\"args\":";
  try {  // the shape submit() writes; the args are handed on as they were sent
    const nlohmann::json j = nlohmann::json::parse(t->message);
    t->id = j.at("id").get<uint64_t>();
    t->function = j.at("fn").get<std::string>();
    t->reply = j.at("reply").get<std::string>();
    // Strings in the text escape their quotes, so the first ,"args": is the field.
    const size_t at = t->message.find(kArgs);
    if (at == std::string::npos || t->message.back() != '}' || t->id == 0) throw std::runtime_error("no args");
    t->args = t->message.substr(at + sizeof kArgs - 1, t->message.size() - 1 - (at + sizeof kArgs - 1));
  } catch (const std::exception&) {
    ErrorText ignored;
    tasks_->task_done(t->message.data(), t->message.size(), ignored);
    error.set("pool '%s': took a message that is not a pool task (dropped)", name().c_str());
    return Status::Incompatible;
  }
  *task = std::move(t);
  return Status::Ok;
}

Queue& Pool::reply_queue(const std::string& reply) {
  std::lock_guard<std::mutex> lk(replies_mu_);
  auto it = replies_.find(reply);
  if (it != replies_.end()) return *it->second;
  if (replies_.size() >= kMaxCachedReplies) replies_.erase(replies_.begin());
  QueueOptions q;
  q.check_existing = false;
  return *replies_.emplace(reply, Queue::open(reply, OpenMode::OpenOnly, q)).first->second;
}

Status Pool::finish(const PoolTask& task, bool failed, const void* data, size_t len, ErrorText& error) {
  const unsigned long long id = static_cast<unsigned long long>(task.id);
  if (len > 0 && data == nullptr) {
    error.set("pool '%s': task %llu: NULL result with length %zu", name().c_str(), id, len);
    return Status::InvalidArg;
  }
  std::string message = format("{\"id\":%llu,", id);
  if (failed) {
    message += "\"ok\":false,\"error\":" + json_string(std::string(static_cast<const char*>(data), len)) + "}";
  } else {
    json::ValidationError ve;
    if (!json::validate(static_cast<const char*>(data), len, json::kMaxDepth, &ve)) {
      error.set("pool '%s': task %llu: the result of '%.64s' is not valid JSON at byte %zu: %s (the task stays taken)",
                name().c_str(), id, task.function.c_str(), ve.offset, ve.reason);
      return Status::InvalidJson;
    }
    message += "\"ok\":true,\"result\":";
    message.append(static_cast<const char*>(data), len);
    message += '}';
  }
  try {
    Queue& q = reply_queue(task.reply);
    bool too_large = false;
    for (;;) {  // a full result queue waits for its submitter, unless it is gone
      ErrorText put_error;
      const Status st = q.put(message.data(), message.size(), 0, Deadline::after(kSliceNs), put_error);
      if (st == Status::Ok) break;
      if (st == Status::TooLarge && !too_large) {  // can never fit: the submitter hears why instead
        too_large = true;
        message = format("{\"id\":%llu,\"ok\":false,\"error\":%s}", id, json_string(put_error.text).c_str());
        continue;
      }
      if ((st != Status::Timeout && st != Status::Full) || !is_alive(q.creator())) break;  // dropped
    }
  } catch (const Error& e) {
    if (e.status() != Status::NotFound && e.status() != Status::Incompatible) throw;  // else the submitter is gone
  }
  return tasks_->task_done(task.message.data(), task.message.size(), error);
}

Status Pool::give_back(const PoolTask& task, ErrorText& error) {
  return tasks_->give_back(task.message.data(), task.message.size(), error);
}

Status Pool::join(const Deadline& deadline, ErrorText& error) { return tasks_->join(deadline, error); }

std::string Pool::stat_json() const {
  nlohmann::json j = nlohmann::json::parse(tasks_->stat_json());
  std::lock_guard<std::mutex> lk(mu_);
  j["results_pending"] = pending_.size();
  j["results_awaited_by_id"] = awaited_.size();  // threads in result(id) now
  if (results_) j["result_queue"] = results_->name();
  return j.dump();
}

}  // namespace polyipc
