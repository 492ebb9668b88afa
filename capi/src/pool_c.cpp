// Worker pools in the C API: argument checks and translation only; the
// semantics live in core/pool.
#include "capi/src/internal.hpp"
#include "core/pool/pool.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;

struct polyipc_pool {
  std::unique_ptr<polyipc::Pool> impl;
};
struct polyipc_pool_task {
  polyipc_pool* pool;
  std::unique_ptr<polyipc::PoolTask> task;
  bool finished = false;
};

struct polyipc_pool_batch {
  polyipc_pool* pool;
  std::unique_ptr<polyipc::PoolBatch> batch;
};

namespace {

polyipc::PoolOptions to_core(const char* name, const polyipc_pool_options* o) {
  polyipc::PoolOptions c;
  if (!o) return c;
  if (o->struct_size < offsetof(polyipc_pool_options, result_capacity_bytes) + sizeof(o->result_capacity_bytes))
    throw polyipc::Error(Status::InvalidArg,
                         polyipc::format("pool '%.200s': options struct_size %u too small (call polyipc_pool_options_init)",
                                         name, o->struct_size));
  c.mode = o->mode;
  c.capacity_bytes = o->capacity_bytes;
  c.max_tasks = o->max_tasks;
  c.result_capacity_bytes = o->result_capacity_bytes;
  return c;
}

}  // namespace

#define REQUIRE_POOL(p, err, call) POLYIPC_REQUIRE(p != nullptr && p->impl, err, "%s: pool handle is NULL", call)
#define REQUIRE_BATCH(b, err, call) \
  POLYIPC_REQUIRE(b != nullptr && b->batch && b->pool && b->pool->impl, err, "%s: batch is NULL", call)
#define REQUIRE_TASK(t, err, call) \
  POLYIPC_REQUIRE(t != nullptr && t->task && t->pool && t->pool->impl, err, "%s: task is NULL", call)

extern "C" {

void polyipc_pool_options_init(polyipc_pool_options* opts) {
  if (!opts) return;
  const polyipc::PoolOptions d;
  *opts = polyipc_pool_options{};
  opts->struct_size = sizeof *opts;
  opts->mode = d.mode;
  opts->capacity_bytes = d.capacity_bytes;
  opts->max_tasks = d.max_tasks;
  opts->result_capacity_bytes = d.result_capacity_bytes;
}

int polyipc_pool_open(const char* name, polyipc_open_mode mode, const polyipc_pool_options* opts,
                      polyipc_pool** out, polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_pool_open", "pool", name, polyipc::capi::passed(mode), out, err))
    return rc;
  return guard(err, "polyipc_pool_open", [&](ErrorText&) {
    auto handle = std::make_unique<polyipc_pool>();
    handle->impl = polyipc::Pool::open(name, static_cast<polyipc::OpenMode>(mode), to_core(name, opts));
    *out = handle.release();
    return Status::Ok;
  });
}

int polyipc_pool_submit(polyipc_pool* p, const char* function, const void* args, size_t len, int64_t timeout_ns,
                        uint64_t* task_id, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_submit");
  POLYIPC_REQUIRE(function != nullptr, err, "pool '%s': submit: function name is NULL", p->impl->name().c_str());
  POLYIPC_REQUIRE(task_id != nullptr, err, "pool '%s': submit: task_id must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_submit", [&](ErrorText& e) {
    return p->impl->submit(function, args, len, Deadline::after(timeout_ns), task_id, e);
  });
}

int polyipc_pool_submit_many(polyipc_pool* p, const char* function, const void* const* args, const size_t* lens,
                             size_t count, size_t chunk, int64_t timeout_ns, uint64_t* first_id, size_t* submitted,
                             polyipc_error* err) {
  if (submitted) *submitted = 0;
  REQUIRE_POOL(p, err, "polyipc_pool_submit_many");
  POLYIPC_REQUIRE(function != nullptr, err, "pool '%s': submit_many: function name is NULL", p->impl->name().c_str());
  POLYIPC_REQUIRE(first_id != nullptr && submitted != nullptr, err,
                  "pool '%s': submit_many: first_id and submitted must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_submit_many", [&](ErrorText& e) {
    return p->impl->submit_many(function, args, lens, count, chunk, Deadline::after(timeout_ns), first_id, submitted,
                                e);
  });
}

int polyipc_pool_submit_array(polyipc_pool* p, const char* function, const void* args, size_t len, size_t chunk,
                              int64_t timeout_ns, uint64_t* first_id, size_t* submitted, polyipc_error* err) {
  if (submitted) *submitted = 0;
  REQUIRE_POOL(p, err, "polyipc_pool_submit_array");
  POLYIPC_REQUIRE(function != nullptr, err, "pool '%s': submit_array: function name is NULL",
                  p->impl->name().c_str());
  POLYIPC_REQUIRE(first_id != nullptr && submitted != nullptr, err,
                  "pool '%s': submit_array: first_id and submitted must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_submit_array", [&](ErrorText& e) {
    return p->impl->submit_array(function, args, len, chunk, Deadline::after(timeout_ns), first_id, submitted, e);
  });
}

int polyipc_pool_results(polyipc_pool* p, uint64_t first_id, size_t count, int64_t timeout_ns, char** values,
                         size_t* values_len, char** failures, size_t* failures_len, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_results");
  POLYIPC_REQUIRE(values != nullptr && failures != nullptr, err,
                  "pool '%s': results: values and failures must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_results", [&](ErrorText& e) {
    std::string v, f;
    const Status st = p->impl->results(first_id, count, Deadline::after(timeout_ns), &v, &f, e);
    if (st != Status::Ok) return st;
    *values = polyipc::capi::dup_string(v);
    *failures = polyipc::capi::dup_string(f);
    if (values_len) *values_len = v.size();
    if (failures_len) *failures_len = f.size();
    return Status::Ok;
  });
}

int polyipc_pool_result(polyipc_pool* p, uint64_t task_id, int64_t timeout_ns, char** json, size_t* len,
                        polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_result");
  POLYIPC_REQUIRE(json != nullptr, err, "pool '%s': result: json must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_result", [&](ErrorText& e) {
    std::string result;
    const Status st = p->impl->result(task_id, Deadline::after(timeout_ns), &result, e);
    if (st != Status::Ok) return st;
    *json = polyipc::capi::dup_string(result);
    if (len) *len = result.size();
    return Status::Ok;
  });
}

int polyipc_pool_cancel(polyipc_pool* p, uint64_t task_id, int* cancelled, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_cancel");
  POLYIPC_REQUIRE(cancelled != nullptr, err, "pool '%s': cancel: cancelled must not be NULL",
                  p->impl->name().c_str());
  return guard(err, "polyipc_pool_cancel", [&](ErrorText& e) {
    bool done = false;
    const Status st = p->impl->cancel(task_id, &done, e);
    *cancelled = done ? 1 : 0;
    return st;
  });
}

int polyipc_pool_take(polyipc_pool* p, int64_t timeout_ns, polyipc_pool_task** task, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_take");
  POLYIPC_REQUIRE(task != nullptr, err, "pool '%s': take: task must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_take", [&](ErrorText& e) {
    auto handle = std::make_unique<polyipc_pool_task>();
    handle->pool = p;
    const Status st = p->impl->take(Deadline::after(timeout_ns), &handle->task, e);
    if (st == Status::Ok) *task = handle.release();
    return st;
  });
}

uint64_t polyipc_pool_task_id(const polyipc_pool_task* t) { return t && t->task ? t->task->id : 0; }

const char* polyipc_pool_task_function(const polyipc_pool_task* t) {
  return t && t->task ? t->task->function.c_str() : nullptr;
}

const char* polyipc_pool_task_args(const polyipc_pool_task* t, size_t* len) {
  if (!t || !t->task) return nullptr;
  if (len) *len = t->task->args.size();
  return t->task->args.c_str();
}

int polyipc_pool_finish(polyipc_pool_task* t, int failed, const void* data, size_t len, polyipc_error* err) {
  REQUIRE_TASK(t, err, "polyipc_pool_finish");
  POLYIPC_REQUIRE(!t->finished, err, "pool '%s': task %llu is finished already", t->pool->impl->name().c_str(),
                  static_cast<unsigned long long>(t->task->id));
  return guard(err, "polyipc_pool_finish", [&](ErrorText& e) {
    const Status st = t->pool->impl->finish(*t->task, failed != 0, data, len, e);
    if (st == Status::Ok) t->finished = true;
    return st;
  });
}

void polyipc_pool_task_free(polyipc_pool_task* t) {
  if (!t) return;
  try {
    ErrorText ignored;  // the lease is gone only if the pool was removed meanwhile
    if (!t->finished && t->task && t->pool && t->pool->impl) t->pool->impl->give_back(*t->task, ignored);
  } catch (...) {
  }
  delete t;
}

int polyipc_pool_take_batch(polyipc_pool* p, size_t max_tasks, int64_t timeout_ns, polyipc_pool_batch** batch,
                            polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_take_batch");
  POLYIPC_REQUIRE(batch != nullptr, err, "pool '%s': take_batch: batch must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_take_batch", [&](ErrorText& e) {
    auto handle = std::make_unique<polyipc_pool_batch>();
    handle->pool = p;
    const Status st = p->impl->take_batch(max_tasks, Deadline::after(timeout_ns), &handle->batch, e);
    if (st == Status::Ok) *batch = handle.release();
    return st;
  });
}

uint64_t polyipc_pool_batch_first_id(const polyipc_pool_batch* b) { return b && b->batch ? b->batch->first_id : 0; }
size_t polyipc_pool_batch_count(const polyipc_pool_batch* b) { return b && b->batch ? b->batch->count : 0; }
size_t polyipc_pool_batch_finished(const polyipc_pool_batch* b) { return b && b->batch ? b->batch->finished : 0; }

const char* polyipc_pool_batch_function(const polyipc_pool_batch* b) {
  return b && b->batch ? b->batch->function.c_str() : nullptr;
}

const char* polyipc_pool_batch_args(const polyipc_pool_batch* b, size_t* len) {
  if (!b || !b->batch) return nullptr;
  if (len) *len = b->batch->args.size();
  return b->batch->args.c_str();
}

const char* polyipc_pool_batch_task_args(const polyipc_pool_batch* b, size_t index, size_t* len) {
  if (!b || !b->batch || index >= b->batch->each.size()) return nullptr;
  const auto [offset, length] = b->batch->each[index];
  if (len) *len = length;
  return b->batch->args.data() + offset;
}

int polyipc_pool_batch_finish(polyipc_pool_batch* b, const void* results, size_t len, const void* errors,
                              size_t errors_len, polyipc_error* err) {
  REQUIRE_BATCH(b, err, "polyipc_pool_batch_finish");
  POLYIPC_REQUIRE(b->batch->finished < b->batch->count, err, "pool '%s': the %zu tasks from %llu are finished already",
                  b->pool->impl->name().c_str(), b->batch->count,
                  static_cast<unsigned long long>(b->batch->first_id));
  return guard(err, "polyipc_pool_batch_finish", [&](ErrorText& e) {
    return b->pool->impl->finish_batch(*b->batch, results, len, errors, errors_len, e);
  });
}

void polyipc_pool_batch_free(polyipc_pool_batch* b) {
  if (!b) return;
  try {
    ErrorText ignored;  // as polyipc_pool_task_free
    if (b->batch && b->pool && b->pool->impl) b->pool->impl->give_back_batch(*b->batch, ignored);
  } catch (...) {
  }
  delete b;
}

int polyipc_pool_give_back_held(polyipc_pool* p, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_give_back_held");
  return guard(err, "polyipc_pool_give_back_held", [&](ErrorText& e) { return p->impl->give_back_held(e); });
}

int polyipc_pool_close_tasks(polyipc_pool* p, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_close_tasks");
  return guard(err, "polyipc_pool_close_tasks", [&](ErrorText&) {
    p->impl->close_tasks();
    return Status::Ok;
  });
}

int polyipc_pool_join(polyipc_pool* p, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_join");
  return guard(err, "polyipc_pool_join",
               [&](ErrorText& e) { return p->impl->join(Deadline::after(timeout_ns), e); });
}

int polyipc_pool_stat_json(polyipc_pool* p, char** json, polyipc_error* err) {
  REQUIRE_POOL(p, err, "polyipc_pool_stat_json");
  POLYIPC_REQUIRE(json != nullptr, err, "pool '%s': stat: json must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pool_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(p->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_pool_close(polyipc_pool* p) {
  try {
    delete p;
  } catch (...) {
  }
}

}  // extern "C"
