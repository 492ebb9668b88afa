// Pipes and the wait over several pipes and queues, in the C API: argument
// checks and translation only; the semantics live in core/pipe and
// core/wait_any.
#include <vector>

#include "capi/src/internal.hpp"
#include "core/wait_any.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;
using polyipc::capi::IntoBuffer;
using polyipc::capi::into_buffer;
using polyipc::capi::into_malloc;

#define REQUIRE_PIPE(p, err, call) POLYIPC_REQUIRE(p != nullptr && p->impl, err, "%s: pipe handle is NULL", call)

extern "C" {

void polyipc_pipe_options_init(polyipc_pipe_options* opts) {
  if (!opts) return;
  polyipc::PipeOptions d;
  *opts = polyipc_pipe_options{};
  opts->struct_size = sizeof *opts;
  opts->duplex = 1;
  opts->format = POLYIPC_FORMAT_JSON;
  opts->mode = d.mode;
  opts->capacity_bytes = d.capacity_bytes;
}

int polyipc_pipe_open(const char* name, polyipc_open_mode mode, polyipc_pipe_end end, const polyipc_pipe_options* o,
                      polyipc_pipe** out, polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_pipe_open", "pipe", name, polyipc::capi::passed(mode), out, err))
    return rc;
  const int end_passed = polyipc::capi::passed(end);
  POLYIPC_REQUIRE(end_passed == POLYIPC_END_A || end_passed == POLYIPC_END_B, err,
                  "pipe '%.200s': end %d is neither A nor B", name, end_passed);
  return guard(err, "polyipc_pipe_open", [&](ErrorText&) {
    polyipc::PipeOptions c;
    if (!o) {
      c.check_existing = false;
    } else {
      if (o->struct_size < offsetof(polyipc_pipe_options, ephemeral) + sizeof(o->ephemeral))
        throw polyipc::Error(Status::InvalidArg,
                             polyipc::format("pipe '%.200s': options struct_size %u too small (call "
                                             "polyipc_pipe_options_init)", name, o->struct_size));
      c.duplex = o->duplex != 0;
      c.format = static_cast<polyipc::Format>(o->format);
      c.mode = o->mode;
      c.capacity_bytes = o->capacity_bytes;
      c.ephemeral = o->ephemeral != 0;
    }
    auto handle = std::make_unique<polyipc_pipe>();
    handle->impl = polyipc::Pipe::open(name, static_cast<polyipc::OpenMode>(mode), static_cast<polyipc::PipeEnd>(end), c);
    *out = handle.release();
    return Status::Ok;
  });
}

int polyipc_pipe_send(polyipc_pipe* p, const void* data, size_t len, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_PIPE(p, err, "polyipc_pipe_send");
  return guard(err, "polyipc_pipe_send",
               [&](ErrorText& e) { return p->impl->send(data, len, Deadline::after(timeout_ns), e); });
}

int polyipc_pipe_recv(polyipc_pipe* p, void** data, size_t* len, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_PIPE(p, err, "polyipc_pipe_recv");
  POLYIPC_REQUIRE(data && len, err, "pipe '%s': recv: data and len must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pipe_recv", [&](ErrorText& e) {
    void* copy = nullptr;
    size_t n = 0;
    Status st = p->impl->recv(into_malloc, &copy, &n, Deadline::after(timeout_ns), e);
    if (st == Status::Ok) {
      *data = copy;
      *len = n;
    }
    return st;
  });
}

int polyipc_pipe_recv_into(polyipc_pipe* p, void* buf, size_t cap, size_t* len, int64_t timeout_ns,
                           polyipc_error* err) {
  REQUIRE_PIPE(p, err, "polyipc_pipe_recv_into");
  POLYIPC_REQUIRE(len, err, "pipe '%s': recv_into: len must not be NULL", p->impl->name().c_str());
  POLYIPC_REQUIRE(buf || cap == 0, err, "pipe '%s': recv_into: buf is NULL with capacity %zu",
                  p->impl->name().c_str(), cap);
  return guard(err, "polyipc_pipe_recv_into", [&](ErrorText& e) {
    IntoBuffer b{buf, cap};
    return p->impl->recv(into_buffer, &b, len, Deadline::after(timeout_ns), e);
  });
}

int polyipc_pipe_poll(polyipc_pipe* p, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_PIPE(p, err, "polyipc_pipe_poll");
  return guard(err, "polyipc_pipe_poll", [&](ErrorText& e) { return p->impl->poll(Deadline::after(timeout_ns), e); });
}

int polyipc_pipe_stat_json(polyipc_pipe* p, char** json, polyipc_error* err) {
  REQUIRE_PIPE(p, err, "polyipc_pipe_stat_json");
  POLYIPC_REQUIRE(json, err, "pipe '%s': stat_json: json must not be NULL", p->impl->name().c_str());
  return guard(err, "polyipc_pipe_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(p->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_pipe_close(polyipc_pipe* p) { delete p; }

int polyipc_wait(polyipc_waitable* items, size_t count, int64_t timeout_ns, polyipc_error* err) {
  POLYIPC_REQUIRE(items != nullptr || count == 0, err, "polyipc_wait: items is NULL with count %zu", count);
  POLYIPC_REQUIRE(count > 0, err, "polyipc_wait: nothing to wait for (count 0)");
  for (size_t i = 0; i < count; ++i) {
    const bool pipe = items[i].pipe != nullptr && items[i].pipe->impl;
    const bool queue = items[i].queue != nullptr && items[i].queue->impl;
    POLYIPC_REQUIRE(pipe != queue, err, "polyipc_wait: item %zu must name exactly one pipe or one queue", i);
  }
  return guard(err, "polyipc_wait", [&](ErrorText& e) {
    std::vector<polyipc::Waitable> w(count);
    for (size_t i = 0; i < count; ++i) {
      w[i].pipe = items[i].pipe ? items[i].pipe->impl.get() : nullptr;
      w[i].queue = items[i].queue ? items[i].queue->impl.get() : nullptr;
    }
    Status st = polyipc::wait_any(w.data(), count, Deadline::after(timeout_ns), e);
    for (size_t i = 0; i < count; ++i) items[i].ready = w[i].ready ? 1 : 0;
    return st;
  });
}

}  // extern "C"
