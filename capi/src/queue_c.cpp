// The queue family of the C API: argument checks and translation only; the
// semantics live in core/queue.
#include <cstdlib>

#include "capi/src/internal.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;
using polyipc::capi::IntoBuffer;
using polyipc::capi::into_buffer;
using polyipc::capi::into_malloc;

namespace {

polyipc::QueueOptions to_core(const char* name, const polyipc_queue_options* o) {
  polyipc::QueueOptions c;
  if (!o) {
    c.check_existing = false;  // no options: take the queue as it is
    return c;
  }
  if (o->struct_size < offsetof(polyipc_queue_options, ephemeral) + sizeof(o->ephemeral))
    throw polyipc::Error(Status::InvalidArg,
                         polyipc::format("queue '%.200s': options struct_size %u too small (call polyipc_queue_options_init)",
                                         name, o->struct_size));
  c.order = static_cast<polyipc::Order>(o->order);
  c.format = static_cast<polyipc::Format>(o->format);
  c.joinable = o->joinable != 0;
  c.max_items = o->max_items;
  c.capacity_bytes = o->capacity_bytes;
  c.max_message_bytes = o->max_message_bytes;
  c.mode = o->mode;
  c.ephemeral = o->ephemeral != 0;
  return c;
}

}  // namespace

#define REQUIRE_QUEUE(q, err, call) POLYIPC_REQUIRE(q != nullptr && q->impl, err, "%s: queue handle is NULL", call)

extern "C" {

void polyipc_queue_options_init(polyipc_queue_options* opts) {
  if (!opts) return;
  polyipc::QueueOptions d;
  *opts = polyipc_queue_options{};
  opts->struct_size = sizeof *opts;
  opts->order = POLYIPC_FIFO;
  opts->format = POLYIPC_FORMAT_JSON;
  opts->capacity_bytes = d.capacity_bytes;
  opts->mode = d.mode;
}

int polyipc_queue_open(const char* name, polyipc_open_mode mode, const polyipc_queue_options* opts,
                       polyipc_queue** out, polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_queue_open", "queue", name, polyipc::capi::passed(mode), out, err))
    return rc;
  return guard(err, "polyipc_queue_open", [&](ErrorText&) {
    auto handle = std::make_unique<polyipc_queue>();
    handle->impl = polyipc::Queue::open(name, static_cast<polyipc::OpenMode>(mode), to_core(name, opts));
    *out = handle.release();
    return Status::Ok;
  });
}

int polyipc_queue_put(polyipc_queue* q, const void* data, size_t len, int64_t timeout_ns, polyipc_error* err) {
  return polyipc_queue_put_priority(q, data, len, 0, timeout_ns, err);
}

int polyipc_queue_put_priority(polyipc_queue* q, const void* data, size_t len, int64_t priority, int64_t timeout_ns,
                               polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_put");
  return guard(err, "polyipc_queue_put", [&](ErrorText& e) {
    return q->impl->put(data, len, priority, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_get(polyipc_queue* q, void** data, size_t* len, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_get");
  POLYIPC_REQUIRE(data && len, err, "queue '%s': get: data and len must not be NULL", q->impl->name().c_str());
  return guard(err, "polyipc_queue_get", [&](ErrorText& e) {
    void* p = nullptr;
    size_t n = 0;
    Status st = q->impl->get(into_malloc, &p, &n, Deadline::after(timeout_ns), e);
    if (st == Status::Ok) {
      *data = p;
      *len = n;
    }
    return st;
  });
}

int polyipc_queue_get_into(polyipc_queue* q, void* buf, size_t cap, size_t* len, int64_t timeout_ns,
                           polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_get_into");
  POLYIPC_REQUIRE(len, err, "queue '%s': get_into: len must not be NULL", q->impl->name().c_str());
  POLYIPC_REQUIRE(buf || cap == 0, err, "queue '%s': get_into: buf is NULL with capacity %zu",
                  q->impl->name().c_str(), cap);
  return guard(err, "polyipc_queue_get_into", [&](ErrorText& e) {
    IntoBuffer b{buf, cap};
    return q->impl->get(into_buffer, &b, len, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_put_many(polyipc_queue* q, const void* const* data, const size_t* lens, size_t count, size_t* done,
                           int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_put_many");
  POLYIPC_REQUIRE(done, err, "queue '%s': put_many: done must not be NULL", q->impl->name().c_str());
  POLYIPC_REQUIRE(count == 0 || (data && lens), err, "queue '%s': put_many: data and lens must not be NULL",
                  q->impl->name().c_str());
  return guard(err, "polyipc_queue_put_many", [&](ErrorText& e) {
    return q->impl->put_many(data, lens, count, done, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_get_many(polyipc_queue* q, void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done,
                           int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_get_many");
  POLYIPC_REQUIRE(done, err, "queue '%s': get_many: done must not be NULL", q->impl->name().c_str());
  POLYIPC_REQUIRE(max_count == 0 || (lens && (buf || cap == 0)), err,
                  "queue '%s': get_many: buf and lens must not be NULL", q->impl->name().c_str());
  return guard(err, "polyipc_queue_get_many", [&](ErrorText& e) {
    return q->impl->get_many(buf, cap, lens, max_count, done, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_size(polyipc_queue* q, uint64_t* out, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_size");
  POLYIPC_REQUIRE(out, err, "queue '%s': size: out must not be NULL", q->impl->name().c_str());
  *out = q->impl->size();
  return polyipc::capi::finish(err, Status::Ok, ErrorText{});
}

int polyipc_queue_reserve(polyipc_queue* q, size_t len, void** data, uint64_t* ticket, int64_t timeout_ns,
                          polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_reserve");
  POLYIPC_REQUIRE(data && ticket, err, "queue '%s': reserve: data and ticket must not be NULL",
                  q->impl->name().c_str());
  return guard(err, "polyipc_queue_reserve", [&](ErrorText& e) {
    return q->impl->reserve(len, 0, data, ticket, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_commit(polyipc_queue* q, uint64_t ticket, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_commit");
  return guard(err, "polyipc_queue_commit", [&](ErrorText& e) { return q->impl->commit(ticket, true, e); });
}

int polyipc_queue_cancel(polyipc_queue* q, uint64_t ticket, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_cancel");
  return guard(err, "polyipc_queue_cancel", [&](ErrorText& e) { return q->impl->commit(ticket, false, e); });
}

int polyipc_queue_borrow(polyipc_queue* q, const void** data, size_t* len, uint64_t* ticket, int64_t timeout_ns,
                         polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_borrow");
  POLYIPC_REQUIRE(data && len && ticket, err, "queue '%s': borrow: data, len and ticket must not be NULL",
                  q->impl->name().c_str());
  return guard(err, "polyipc_queue_borrow", [&](ErrorText& e) {
    return q->impl->borrow(data, len, ticket, Deadline::after(timeout_ns), e);
  });
}

int polyipc_queue_release(polyipc_queue* q, uint64_t ticket, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_release");
  return guard(err, "polyipc_queue_release", [&](ErrorText& e) { return q->impl->release(ticket, e); });
}

int polyipc_queue_task_done(polyipc_queue* q, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_task_done");
  return guard(err, "polyipc_queue_task_done", [&](ErrorText& e) { return q->impl->task_done(e); });
}

int polyipc_queue_task_done_message(polyipc_queue* q, const void* data, size_t len, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_task_done_message");
  POLYIPC_REQUIRE(data != nullptr || len == 0, err, "queue '%s': task_done_message: NULL data with length %zu",
                  q->impl->name().c_str(), len);
  return guard(err, "polyipc_queue_task_done_message",
               [&](ErrorText& e) { return q->impl->task_done(data, len, e); });
}

int polyipc_queue_join(polyipc_queue* q, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_join");
  return guard(err, "polyipc_queue_join",
               [&](ErrorText& e) { return q->impl->join(Deadline::after(timeout_ns), e); });
}

int polyipc_queue_close_writes(polyipc_queue* q, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_close_writes");
  return guard(err, "polyipc_queue_close_writes", [&](ErrorText&) {
    q->impl->close_writes();
    return Status::Ok;
  });
}

int polyipc_queue_stat_json(polyipc_queue* q, char** json, polyipc_error* err) {
  REQUIRE_QUEUE(q, err, "polyipc_queue_stat_json");
  POLYIPC_REQUIRE(json, err, "queue '%s': stat: json must not be NULL", q->impl->name().c_str());
  return guard(err, "polyipc_queue_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(q->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_queue_close(polyipc_queue* q) {
  try {
    delete q;
  } catch (...) {
  }
}

}  // extern "C"
