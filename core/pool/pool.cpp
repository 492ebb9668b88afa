#include "core/pool/pool.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/json/elements.hpp"
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
bool result_id(std::string_view message, uint64_t* id) {
  static constexpr std::string_view kPrefix = "{\"id\":";
  if (message.substr(0, kPrefix.size()) != kPrefix) return false;
  const char* end = message.data() + message.size();
  const auto [after, ec] = std::from_chars(message.data() + kPrefix.size(), end, *id);
  return ec == std::errc() && after != end && *after == ',' && *id != 0;
}

// A chunk message's head, its fields before "args", ends with "lens":[...]
// (see chunk_message). When it does, the lengths go to *lens and the field
// off *head; false leaves both as they were. (Member names and strings
// escape their quotes, so only the field itself reads ,"lens":[ .)
bool split_off_lens(std::string_view* head, std::vector<size_t>* lens) {
  static constexpr std::string_view kLens = ",\"lens\":[";
  const size_t at = head->rfind(kLens);
  if (at == std::string_view::npos || head->back() != ']') return false;
  const std::string_view digits = head->substr(at + kLens.size(), head->size() - at - kLens.size() - 1);
  std::vector<size_t> out;
  for (const char *p = digits.data(), *end = p + digits.size();;) {  // n,n,...,n
    size_t v = 0;
    const auto [after, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) return false;
    out.push_back(v);
    if (after == end) break;
    if (*after != ',') return false;
    p = after + 1;
  }
  *lens = std::move(out);
  *head = head->substr(0, at);
  return true;
}

// The message of one task, as take() parses it. fn is a JSON string.
std::string task_message(uint64_t id, const std::string& fn, const std::string& reply, const void* args, size_t len) {
  std::string task = format("{\"id\":%llu,\"fn\":", static_cast<unsigned long long>(id));
  task += fn;
  task += ",\"reply\":\"" + reply + "\",\"args\":";
  task.append(static_cast<const char*>(args), len);
  task += '}';
  return task;
}

// The message of a chunk of k > 1 tasks id, id+1, ...: each task's
// arguments byte for byte in one array, with their lengths to split it by.
std::string chunk_message(uint64_t id, const std::string& fn, const std::string& reply, const void* const* args,
                          const size_t* lens, size_t k) {
  std::string task = format("{\"id\":%llu,\"n\":%zu,\"each\":", static_cast<unsigned long long>(id), k);
  task += fn;
  task += ",\"reply\":\"" + reply + "\",\"lens\":[";
  for (size_t i = 0; i < k; ++i) {
    if (i) task += ',';
    task += std::to_string(lens[i]);
  }
  task += "],\"args\":[";
  for (size_t i = 0; i < k; ++i) {
    if (i) task += ',';
    task.append(static_cast<const char*>(args[i]), lens[i]);
  }
  task += "]}";
  return task;
}

}  // namespace

// A chunk a worker took: one lease (message) for tasks first_id, first_id+1, ...
struct PoolChunk {
  std::string message;
  uint64_t first_id = 0;
  std::string function, reply;
  std::vector<std::string> args;  // each task's arguments, as sent
  size_t handed_out = 0;          // tasks take() gave out
  size_t settled = 0;             // of those, finished or given back
  bool given_back = false;        // hand out no more; give the chunk back once settled
};

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
  p->tasks_->trust_built_messages();  // task messages: validated arguments in a frame of our own
  return p;
}

Pool::~Pool() {
  ErrorText ignored;
  try {
    give_back_held(ignored);
  } catch (...) {
  }
}

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
  results_->trust_built_messages();  // (cancel() puts a result of its own there)
}

// many: args is arguments `index` of a submit_many, and the message says so.
Status Pool::check_args(const std::string& function, const void* args, size_t len, size_t index, bool many,
                        ErrorText& error) const {
  auto which = [&] { return many ? format(" (arguments %zu of the batch)", index) : std::string(); };
  if (function.empty()) {
    error.set("pool '%s': the function name is empty", name().c_str());
    return Status::InvalidArg;
  }
  if (len > 0 && args == nullptr) {
    error.set("pool '%s': NULL arguments with length %zu%s", name().c_str(), len, which().c_str());
    return Status::InvalidArg;
  }
  json::ValidationError ve;
  if (!json::validate(static_cast<const char*>(args), len, json::kMaxDepth, &ve, &arg_shapes_)) {
    error.set("pool '%s': arguments of '%.64s' are not valid JSON at byte %zu: %s%s", name().c_str(),
              function.c_str(), ve.offset, ve.reason, which().c_str());
    return Status::InvalidJson;
  }
  return Status::Ok;
}

Status Pool::submit(const std::string& function, const void* args, size_t len, const Deadline& deadline,
                    uint64_t* id, ErrorText& error) {
  if (Status st = check_args(function, args, len, 0, false, error); st != Status::Ok) return st;
  uint64_t task_id;
  std::string reply;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!results_) open_results();
    task_id = next_id_++;
    pending_.insert(task_id);  // before the put: a quick worker's result must not be taken for stale
    reply = results_->name();
  }
  std::string task = task_message(task_id, json_string(function), reply, args, len);
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

Status Pool::submit_many(const std::string& function, const void* const* args, const size_t* lens, size_t count,
                         size_t chunk, const Deadline& deadline, uint64_t* first_id, size_t* submitted,
                         ErrorText& error) {
  return submit_tasks(function, args, lens, count, chunk, false, deadline, first_id, submitted, error);
}

Status Pool::submit_tasks(const std::string& function, const void* const* args, const size_t* lens, size_t count,
                          size_t chunk, bool from_array, const Deadline& deadline, uint64_t* first_id,
                          size_t* submitted, ErrorText& error) {
  const bool args_checked = from_array, by_id_only = from_array;  // an array's elements were validated with it
  *submitted = 0;
  if (chunk == 0) {
    error.set("pool '%s': a chunk of 0 tasks (1 or more to a message)", name().c_str());
    return Status::InvalidArg;
  }
  if (count > 0 && (args == nullptr || lens == nullptr)) {
    error.set("pool '%s': NULL arguments or lengths for %zu tasks", name().c_str(), count);
    return Status::InvalidArg;
  }
  if (args_checked && count > 0 && function.empty()) return check_args(function, nullptr, 0, 0, true, error);
  for (size_t i = 0; i < count && !args_checked; ++i)
    if (Status st = check_args(function, args[i], lens[i], i, true, error); st != Status::Ok) return st;
  uint64_t first;
  std::string reply;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!results_) open_results();
    first = next_id_;
    next_id_ += count;
    reply = results_->name();
  }
  *first_id = first;
  const std::string fn = json_string(function);
  Status st = Status::Ok;
  size_t done = 0;
  while (done < count) {
    const size_t k = std::min(chunk, count - done);
    const uint64_t id = first + done;
    std::string task = k == 1 ? task_message(id, fn, reply, args[done], lens[done])
                              : chunk_message(id, fn, reply, args + done, lens + done, k);
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (size_t i = 0; i < k; ++i) pending_.insert(id + i);  // before the put, as in submit()
      if (by_id_only)
        for (size_t i = 0; i < k; ++i) by_id_only_.insert(id + i);
    }
    st = tasks_->put(task.data(), task.size(), 0, deadline, error);
    std::lock_guard<std::mutex> lk(mu_);
    if (st != Status::Ok) {
      for (size_t i = 0; i < k; ++i) forget(id + i);
      if (next_id_ == first + count) next_id_ = id;  // the ids not used, unless another submit took later ones
      break;
    }
    if (k == 1 && pending_.count(id)) sent_.emplace(id, std::move(task));  // an ordinary task: it can be cancelled
    done += k;
  }
  *submitted = done;
  return st;
}

Status Pool::submit_array(const std::string& function, const void* args, size_t len, size_t chunk,
                          const Deadline& deadline, uint64_t* first_id, size_t* submitted, ErrorText& error) {
  *submitted = 0;
  if (len > 0 && args == nullptr) {
    error.set("pool '%s': NULL arguments with length %zu", name().c_str(), len);
    return Status::InvalidArg;
  }
  std::vector<std::string_view> items;
  json::ValidationError ve;
  if (!json::array_elements(static_cast<const char*>(args), len, json::kMaxDepth, &items, &ve)) {
    error.set("pool '%s': the arguments of '%.64s' are not a JSON array of arguments: byte %zu: %s", name().c_str(),
              function.c_str(), ve.offset, ve.reason);
    return Status::InvalidJson;
  }
  std::vector<const void*> data(items.size());
  std::vector<size_t> lens(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    data[i] = items[i].data();
    lens[i] = items[i].size();
  }
  return submit_tasks(function, data.data(), lens.data(), items.size(), chunk, true, deadline, first_id, submitted,
                      error);
}

void Pool::forget(uint64_t id) {
  pending_.erase(id);
  sent_.erase(id);
  by_id_only_.erase(id);
}

Status Pool::cancel(uint64_t id, bool* cancelled, ErrorText& error) {
  *cancelled = false;
  std::string task;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = sent_.find(id);
    if (it == sent_.end() && pending_.count(id) && !arrived_.count(id))
      return Status::Ok;  // a task of a chunk (or one still being put): it runs
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

// One waiting thread at a time takes from the result queue (reading_); what
// it takes for another thread goes into arrived_, and every waiter looks
// there. A wait for any task leaves alone the ids a thread waits for by id.
Status Pool::result(uint64_t id, const Deadline& deadline, std::string* out, ErrorText& error) {
  std::unique_lock<std::mutex> lk(mu_);
  auto expected = [&] {
    if (id != 0) return pending_.count(id) > 0;
    for (uint64_t p : pending_)
      if (!awaited(p) && by_id_only_.count(p) == 0) return true;
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
  auto mine = [&](uint64_t got) {
    return id == 0 ? !awaited(got) && by_id_only_.count(got) == 0 : got == id;
  };
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
    auto it = id != 0 ? arrived_.find(id) : arrived_.begin();  // (by id: no walk past the others)
    while (id == 0 && it != arrived_.end() && !mine(it->first)) ++it;
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
    std::vector<std::pair<uint64_t, std::string_view>> got;
    if (Status st = read_results(lk, deadline, &got, error); st != Status::Ok) return st;
    bool found = false;
    for (const auto& [g, message] : got) {
      if (!pending_.count(g) || arrived_.count(g)) continue;  // a duplicate: dropped
      if (!found && mine(g)) {
        forget(g);
        out->assign(message);
        found = true;
      } else {
        arrived_.emplace(g, std::string(message));
      }
    }
    if (found) return Status::Ok;
  }
}

Status Pool::read_results(std::unique_lock<std::mutex>& lk, const Deadline& deadline,
                          std::vector<std::pair<uint64_t, std::string_view>>* got, ErrorText& error) {
  reading_ = true;
  lk.unlock();
  struct Relock {  // also when the read throws
    Pool& pool;
    std::unique_lock<std::mutex>& lk;
    ~Relock() {
      lk.lock();
      pool.reading_ = false;
      pool.arrived_cv_.notify_all();
    }
  } relock{*this, lk};
  got->clear();
  return take_results(deadline, got, error);
}

bool Pool::awaited(uint64_t id) const {
  if (awaited_.count(id)) return true;
  for (const auto& [from, to] : awaited_ranges_)
    if (id >= from && id < to) return true;
  return false;
}

Status Pool::take_results(const Deadline& deadline, std::vector<std::pair<uint64_t, std::string_view>>* got,
                          ErrorText& error) {
  constexpr size_t kMaxCount = 256;
  if (read_buf_.empty()) read_buf_.resize(64 << 10);
  size_t lens[kMaxCount];
  size_t done = 0;
  // A pool result is kept with its id; another message is dropped (said below if nothing else came).
  auto keep = [&](std::string_view message) {
    uint64_t id = 0;
    if (result_id(message, &id)) got->emplace_back(id, message);
  };
  Status st = results_->get_many(read_buf_.data(), read_buf_.size(), lens, kMaxCount, &done, deadline, error);
  if (st == Status::TooLarge && done == 0) {  // a first message larger than the buffer: alone
    size_t len = 0;
    st = results_->get(into_string, &oversize_, &len, deadline, error);
    if (st == Status::Ok) {
      keep(oversize_);
      done = 1;
    }
  } else {
    for (size_t i = 0, at = 0; i < done; at += lens[i++]) keep(std::string_view(read_buf_.data() + at, lens[i]));
  }
  if (st == Status::Empty || st == Status::Timeout) {
    error.set("pool '%s': no result came within the timeout", name().c_str());
    return Status::Timeout;
  }
  if (st != Status::Ok && done == 0) return st;
  if (got->empty()) {  // (said when nothing else came with it)
    error.set("pool '%s': result queue '%s' holds a message that is not a pool result (dropped)", name().c_str(),
              results_->name().c_str());
    return Status::Incompatible;
  }
  return Status::Ok;
}

Status Pool::results(uint64_t first, size_t count, const Deadline& deadline, std::string* values,
                     std::string* failures, ErrorText& error) {
  const uint64_t end = first + count;
  auto range = [&] {
    return format("tasks %llu..%llu", static_cast<unsigned long long>(first), static_cast<unsigned long long>(end - 1));
  };
  if (count == 0 || first == 0 || end < first) {
    error.set("pool '%s': results: %zu tasks from id %llu (1 or more, ids from 1)", name().c_str(), count,
              static_cast<unsigned long long>(first));
    return Status::InvalidArg;
  }
  std::unique_lock<std::mutex> lk(mu_);
  // The range's result messages as they come, one after another in `arena`; slot[i - first]
  // is where result i lies there (a result message is never empty: length 0 is "not here").
  std::string arena;
  arena.reserve(count * 48);
  std::vector<std::pair<size_t, size_t>> slot(count, {0, 0});
  size_t have = 0;
  auto place = [&](uint64_t i, std::string_view message) {
    slot[i - first] = {arena.size(), message.size()};
    arena.append(message);
    ++have;
  };
  auto here = [&](uint64_t i) { return slot[i - first].second != 0; };
  auto text = [&](uint64_t i) { return std::string_view(arena).substr(slot[i - first].first, slot[i - first].second); };
  auto give_back_claimed = [&] {  // nothing is taken: what came waits for the next call
    for (uint64_t i = first; i < end; ++i)
      if (here(i)) arrived_.emplace(i, std::string(text(i)));
  };
  // Moves what other readers left in arrived_ into slot; false (error set) when
  // a result of the range will never come to this caller.
  auto claim = [&] {
    for (auto it = arrived_.lower_bound(first); it != arrived_.end() && it->first < end;) {
      place(it->first, it->second);
      it = arrived_.erase(it);
    }
    for (uint64_t i = first; i < end; ++i) {
      if (!here(i) && !pending_.count(i)) {
        error.set("pool '%s': results of %s: task %llu is not a task of this handle whose result is still to come",
                  name().c_str(), range().c_str(), static_cast<unsigned long long>(i));
        return false;
      }
    }
    return true;
  };
  if (!claim()) {
    give_back_claimed();
    return Status::InvalidArg;
  }
  awaited_ranges_.emplace_back(first, end);  // result(0) leaves them alone meanwhile
  struct Unawait {
    std::vector<std::pair<uint64_t, uint64_t>>& ranges;
    uint64_t first;
    ~Unawait() {
      for (auto it = ranges.begin(); it != ranges.end(); ++it)
        if (it->first == first) {
          ranges.erase(it);
          break;
        }
    }
  } unawait{awaited_ranges_, first};
  Status st = Status::Ok;
  std::vector<std::pair<uint64_t, std::string_view>> got;
  while (have < count && st == Status::Ok) {
    if (reading_) {  // another thread reads: wait for it to hand over results or its role
      if (deadline.expired()) {
        st = Status::Timeout;
        break;
      }
      arrived_cv_.wait_for(lk, std::chrono::nanoseconds(deadline.until_ns(kSliceNs) - monotonic_ns()));
      if (!claim()) st = Status::InvalidArg;
      continue;
    }
    st = read_results(lk, deadline, &got, error);
    for (const auto& [id, message] : got) {
      if (!pending_.count(id) || arrived_.count(id)) continue;  // a duplicate: dropped
      if (id >= first && id < end) {
        if (!here(id)) place(id, message);  // (else a duplicate)
      } else {
        arrived_.emplace(id, std::string(message));
      }
    }
  }
  if (have < count) {
    give_back_claimed();
    if (st == Status::Timeout)
      error.set("pool '%s': %zu of the %zu results of %s came within the timeout (they wait for the next call)",
                name().c_str(), have, count, range().c_str());
    return st;
  }
  values->clear();
  values->reserve(arena.size());
  failures->clear();
  *values += '[';
  *failures += '{';
  static const std::string_view kOk = ",\"ok\":true,\"result\":";
  for (uint64_t i = first; i < end; ++i) {
    const std::string_view m = text(i);
    if (i != first) *values += ',';
    // A result as finish() writes it, {"id":<i>,"ok":true,"result":<value>}, gives its value as is
    // (its id was read already: the digits end where ,"ok" starts).
    const size_t at = m.find(',');
    if (at != std::string::npos && m.size() > at + kOk.size() && m.compare(at, kOk.size(), kOk) == 0 &&
        m.back() == '}') {
      values->append(m.substr(at + kOk.size(), m.size() - at - kOk.size() - 1));
    } else {
      *values += "null";
      if (failures->size() > 1) *failures += ',';
      *failures += format("\"%llu\":", static_cast<unsigned long long>(i - first));
      *failures += m;
    }
    forget(i);
  }
  *values += ']';
  *failures += '}';
  return Status::Ok;
}

// ---- working -----------------------------------------------------------------

namespace {
std::unique_ptr<PoolTask> task_of_chunk(const std::shared_ptr<PoolChunk>& c, size_t i) {
  auto t = std::make_unique<PoolTask>();
  t->id = c->first_id + i;
  t->function = c->function;
  t->args = c->args[i];
  t->reply = c->reply;
  t->chunk = c;
  return t;
}

std::unique_ptr<PoolBatch> batch_of_plain(std::unique_ptr<PoolTask> t) {
  auto b = std::make_unique<PoolBatch>();
  b->first_id = t->id;
  b->count = 1;
  b->function = std::move(t->function);
  b->args.reserve(t->args.size() + 2);
  b->args += '[';
  b->args += t->args;
  b->args += ']';
  b->each.emplace_back(1, t->args.size());
  b->reply = std::move(t->reply);
  b->message = std::move(t->message);
  return b;
}
}  // namespace

Pool::Handout Pool::next_of_chunk(size_t max_tasks) {
  std::lock_guard<std::mutex> lk(chunks_mu_);
  for (const auto& c : chunks_) {
    if (c->given_back || c->handed_out == c->args.size()) continue;
    Handout h{c, c->handed_out, c->args.size() - c->handed_out};
    if (max_tasks != 0 && h.count > max_tasks) h.count = max_tasks;
    c->handed_out += h.count;
    return h;
  }
  return {};
}

Status Pool::receive(size_t max_tasks, const Deadline& deadline, std::unique_ptr<PoolTask>* plain, Handout* handout,
                     ErrorText& error) {
  auto t = std::make_unique<PoolTask>();
  size_t len = 0;
  Status st = tasks_->get(into_string, &t->message, &len, deadline, error);
  if (st != Status::Ok) return st;
  static const char kArgs[] = ",\"args\":";
  try {  // the shapes submit() and submit_many() write; the args are handed on as they were sent
    // Strings in the text escape their quotes, so the first ,"args": is the
    // field, and the last: what comes before it is parsed alone (a chunk's
    // arguments can be long).
    const size_t at = t->message.find(kArgs);
    if (at == std::string::npos || t->message.back() != '}') throw std::runtime_error("no args");
    std::string_view head_fields(t->message.data(), at);
    std::vector<size_t> lens;  // a chunk's, read by hand (nlohmann makes a value of each)
    const bool lens_read = split_off_lens(&head_fields, &lens);
    const nlohmann::json j = nlohmann::json::parse(std::string(head_fields) + '}');
    t->id = j.at("id").get<uint64_t>();
    t->reply = j.at("reply").get<std::string>();
    if (t->id == 0) throw std::runtime_error("no id");
    const size_t from = at + sizeof kArgs - 1;
    const std::string_view args(t->message.data() + from, t->message.size() - 1 - from);
    if (!j.contains("n")) {
      t->function = j.at("fn").get<std::string>();
      t->args.assign(args);
      *plain = std::move(t);
      return Status::Ok;
    }
    // a chunk: split args, "[a0,a1,...]", by lens
    auto c = std::make_shared<PoolChunk>();
    c->first_id = t->id;
    c->function = j.at("each").get<std::string>();
    c->reply = t->reply;
    if (!lens_read) lens = j.at("lens").get<std::vector<size_t>>();  // (a writer that put it elsewhere)
    const size_t n = j.at("n").get<size_t>();
    if (n < 2 || lens.size() != n || args.size() < 2 || args.front() != '[') throw std::runtime_error("bad chunk");
    size_t pos = 1;
    for (size_t i = 0; i < n; ++i) {
      const size_t item = lens[i];
      if (item >= args.size() - pos || args[pos + item] != (i + 1 < n ? ',' : ']'))
        throw std::runtime_error("bad chunk");
      c->args.emplace_back(args.substr(pos, item));
      pos += item + 1;
    }
    if (pos != args.size()) throw std::runtime_error("bad chunk");
    c->message = std::move(t->message);  // (not before: a throw above drops the message as it is)
    std::lock_guard<std::mutex> lk(chunks_mu_);
    chunks_.push_back(c);
    *handout = Handout{c, 0, max_tasks != 0 && max_tasks < n ? max_tasks : n};
    c->handed_out = handout->count;
    return Status::Ok;
  } catch (const std::exception&) {
    ErrorText ignored;
    tasks_->task_done(t->message.data(), t->message.size(), ignored);
    error.set("pool '%s': took a message that is not a pool task (dropped)", name().c_str());
    return Status::Incompatible;
  }
}

Status Pool::take(const Deadline& deadline, std::unique_ptr<PoolTask>* task, ErrorText& error) {
  Handout h = next_of_chunk(1);
  if (h.count == 0) {
    std::unique_ptr<PoolTask> plain;
    if (Status st = receive(1, deadline, &plain, &h, error); st != Status::Ok) return st;
    if (plain) {
      *task = std::move(plain);
      return Status::Ok;
    }
  }
  *task = task_of_chunk(h.chunk, h.first);
  return Status::Ok;
}

Status Pool::take_batch(size_t max_tasks, const Deadline& deadline, std::unique_ptr<PoolBatch>* batch,
                        ErrorText& error) {
  Handout h = next_of_chunk(max_tasks);
  if (h.count == 0) {
    std::unique_ptr<PoolTask> plain;
    if (Status st = receive(max_tasks, deadline, &plain, &h, error); st != Status::Ok) return st;
    if (plain) {
      *batch = batch_of_plain(std::move(plain));
      return Status::Ok;
    }
  }
  const PoolChunk& c = *h.chunk;
  auto b = std::make_unique<PoolBatch>();
  b->first_id = c.first_id + h.first;
  b->count = h.count;
  b->function = c.function;
  b->reply = c.reply;
  b->args += '[';
  for (size_t i = 0; i < h.count; ++i) {
    if (i) b->args += ',';
    b->each.emplace_back(b->args.size(), c.args[h.first + i].size());
    b->args += c.args[h.first + i];
  }
  b->args += ']';
  b->chunk = h.chunk;
  *batch = std::move(b);
  return Status::Ok;
}

Queue& Pool::reply_queue(const std::string& reply) {
  std::lock_guard<std::mutex> lk(replies_mu_);
  auto it = replies_.find(reply);
  if (it != replies_.end()) return *it->second;
  if (replies_.size() >= kMaxCachedReplies) replies_.erase(replies_.begin());
  QueueOptions q;
  q.check_existing = false;
  auto opened = Queue::open(reply, OpenMode::OpenOnly, q);
  opened->trust_built_messages();  // results: validated values in a frame of our own
  return *replies_.emplace(reply, std::move(opened)).first->second;
}

void Pool::send_results(const std::string& reply, std::vector<const void*>& data, std::vector<size_t>& lens) {
  try {
    Queue& q = reply_queue(reply);
    std::string replacement;  // the text of the message last replaced by its error
    size_t sent = 0, too_large = SIZE_MAX;  // (its index)
    while (sent < data.size()) {  // a full result queue waits for its submitter, unless it is gone
      ErrorText put_error;
      size_t done = 0;
      const Status st = q.put_many(data.data() + sent, lens.data() + sent, data.size() - sent, &done,
                                   Deadline::after(kSliceNs), put_error);
      sent += done;
      if (st == Status::Ok) continue;
      if (st == Status::TooLarge && too_large == sent) {  // its error does not fit either: dropped alone
        ++sent;
        continue;
      }
      if (st == Status::TooLarge) {  // can never fit: the submitter hears why instead
        uint64_t id = 0;
        result_id(std::string_view(static_cast<const char*>(data[sent]), lens[sent]), &id);
        too_large = sent;
        replacement = format("{\"id\":%llu,\"ok\":false,\"error\":%s}", static_cast<unsigned long long>(id),
                             json_string(put_error.text).c_str());
        data[sent] = replacement.data();
        lens[sent] = replacement.size();
        continue;
      }
      if ((st != Status::Timeout && st != Status::Full) || !is_alive(q.creator())) return;  // dropped
    }
  } catch (const Error& e) {
    if (e.status() != Status::NotFound && e.status() != Status::Incompatible) throw;  // else the submitter is gone
  }
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
    if (!json::validate(static_cast<const char*>(data), len, json::kMaxDepth, &ve, &result_shapes_)) {
      error.set("pool '%s': task %llu: the result of '%.64s' is not valid JSON at byte %zu: %s (the task stays taken)",
                name().c_str(), id, task.function.c_str(), ve.offset, ve.reason);
      return Status::InvalidJson;
    }
    message += "\"ok\":true,\"result\":";
    message.append(static_cast<const char*>(data), len);
    message += '}';
  }
  std::vector<const void*> messages{message.data()};
  std::vector<size_t> lens{message.size()};
  send_results(task.reply, messages, lens);
  if (task.chunk) return settle(task.chunk, 1, true, error);
  return tasks_->task_done(task.message.data(), task.message.size(), error);
}

Status Pool::finish_batch(PoolBatch& b, const void* results, size_t len, const void* errors, size_t errors_len,
                          ErrorText& error) {
  const size_t unfinished = b.count - b.finished;
  const unsigned long long from = static_cast<unsigned long long>(b.first_id + b.finished);
  const unsigned long long to = static_cast<unsigned long long>(b.first_id + b.count - 1);
  if ((len > 0 && results == nullptr) || (errors_len > 0 && errors == nullptr)) {
    error.set("pool '%s': tasks %llu..%llu: NULL results or errors with a length", name().c_str(), from, to);
    return Status::InvalidArg;
  }
  std::vector<std::string_view> items;
  json::ValidationError ve;
  if (!json::array_elements(static_cast<const char*>(results), len, json::kMaxDepth, &items, &ve)) {
    error.set("pool '%s': tasks %llu..%llu: the results of '%.64s' are not a JSON array: byte %zu: %s (the tasks "
              "stay taken)",
              name().c_str(), from, to, b.function.c_str(), ve.offset, ve.reason);
    return Status::InvalidJson;
  }
  if (items.empty() || items.size() > unfinished) {
    error.set("pool '%s': tasks %llu..%llu: %zu results for %zu unfinished tasks (1 to %zu at a time)",
              name().c_str(), from, to, items.size(), unfinished, unfinished);
    return Status::InvalidArg;
  }
  std::map<size_t, std::string> failed;  // element index -> error text
  if (errors_len > 0) {
    const char* text = static_cast<const char*>(errors);
    try {
      const nlohmann::json j = nlohmann::json::parse(text, text + errors_len);
      if (!j.is_object()) throw std::invalid_argument("not an object");
      for (const auto& [key, value] : j.items()) {
        size_t used = 0;
        const unsigned long index = std::stoul(key, &used, 10);
        if (used != key.size() || key[0] == '-' || index >= items.size() || !value.is_string())
          throw std::invalid_argument(key);
        failed.emplace(index, value.get<std::string>());
      }
    } catch (const std::exception&) {
      error.set("pool '%s': tasks %llu..%llu: errors must be a JSON object mapping result indexes (\"0\" .. \"%zu\") "
                "to error texts (the tasks stay taken)",
                name().c_str(), from, to, items.size() - 1);
      return Status::InvalidJson;
    }
  }
  // One buffer for every result message: {"id":<id>,"ok":true,"result":<value>} or the failure's.
  std::string all;
  all.reserve(len + items.size() * 40);
  std::vector<size_t> lens(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const size_t start = all.size();
    char id[24];
    all += "{\"id\":";
    all.append(id, std::to_chars(id, id + sizeof id, b.first_id + b.finished + i).ptr);
    auto f = failed.find(i);
    if (f != failed.end()) {
      all += ",\"ok\":false,\"error\":" + json_string(f->second) + "}";
    } else {
      all += ",\"ok\":true,\"result\":";
      all += items[i];
      all += '}';
    }
    lens[i] = all.size() - start;
  }
  std::vector<const void*> messages(items.size());
  for (size_t i = 0, at = 0; i < items.size(); at += lens[i++]) messages[i] = all.data() + at;
  send_results(b.reply, messages, lens);
  b.finished += items.size();
  if (b.chunk) return settle(b.chunk, items.size(), true, error);
  return tasks_->task_done(b.message.data(), b.message.size(), error);
}

Status Pool::give_back(const PoolTask& task, ErrorText& error) {
  if (task.chunk) return settle(task.chunk, 1, false, error);
  return tasks_->give_back(task.message.data(), task.message.size(), error);
}

Status Pool::give_back_batch(const PoolBatch& b, ErrorText& error) {
  if (b.finished == b.count) return Status::Ok;
  if (b.chunk) return settle(b.chunk, b.count - b.finished, false, error);
  return tasks_->give_back(b.message.data(), b.message.size(), error);
}

Status Pool::give_back_held(ErrorText& error) {
  std::vector<std::shared_ptr<PoolChunk>> back_now;
  {
    std::lock_guard<std::mutex> lk(chunks_mu_);
    for (auto it = chunks_.begin(); it != chunks_.end();) {
      PoolChunk& c = **it;
      if (c.given_back || c.handed_out == c.args.size()) {  // ends when the tasks out settle
        ++it;
        continue;
      }
      c.given_back = true;
      if (c.settled == c.handed_out) {
        back_now.push_back(*it);
        it = chunks_.erase(it);
      } else {
        ++it;  // settle() gives it back with the last task out
      }
    }
  }
  Status st = Status::Ok;
  for (const auto& c : back_now) {
    const Status s = tasks_->give_back(c->message.data(), c->message.size(), error);
    if (st == Status::Ok) st = s;
  }
  return st;
}

// A chunk's lease ends when all its tasks are finished, or goes back to the
// pool once a task was given back and every task out is settled.
Status Pool::settle(const std::shared_ptr<PoolChunk>& c, size_t n, bool finished, ErrorText& error) {
  {
    std::lock_guard<std::mutex> lk(chunks_mu_);
    c->settled += n;
    if (!finished) c->given_back = true;
    if (c->settled < (c->given_back ? c->handed_out : c->args.size())) return Status::Ok;
    chunks_.erase(std::find(chunks_.begin(), chunks_.end(), c));
  }
  return c->given_back ? tasks_->give_back(c->message.data(), c->message.size(), error)
                       : tasks_->task_done(c->message.data(), c->message.size(), error);
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
