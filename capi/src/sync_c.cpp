// The synchronisation families of the C API (lock, semaphore, event,
// condition, barrier): argument checks and translation only; the semantics
// live in core/sync.
#include <cstdlib>

#include "capi/src/internal.hpp"
#include "core/sync/barrier.hpp"
#include "core/sync/condition.hpp"
#include "core/sync/event.hpp"
#include "core/sync/lock.hpp"
#include "core/sync/semaphore.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;

struct polyipc_lock {
  std::unique_ptr<polyipc::Lock> impl;
};
struct polyipc_semaphore {
  std::unique_ptr<polyipc::Semaphore> impl;
};
struct polyipc_event {
  std::unique_ptr<polyipc::Event> impl;
};
struct polyipc_condition {
  std::unique_ptr<polyipc::Condition> impl;
};
struct polyipc_barrier {
  std::unique_ptr<polyipc::Barrier> impl;
};

namespace {

template <class Handle, class Open>
int open_handle(const char* function, const char* kind, const char* name, polyipc_open_mode mode, Handle** out,
                polyipc_error* err, Open&& open) {
  if (int rc = polyipc::capi::check_open(function, kind, name, polyipc::capi::passed(mode), out, err)) return rc;
  return guard(err, kind, [&](ErrorText&) {
    auto handle = std::make_unique<Handle>();
    handle->impl = open(static_cast<polyipc::OpenMode>(mode));
    *out = handle.release();
    return Status::Ok;
  });
}

template <class Handle>
int stat_json(Handle* h, char** json, polyipc_error* err, const char* call) {
  POLYIPC_REQUIRE(h != nullptr && h->impl, err, "%s: handle is NULL", call);
  POLYIPC_REQUIRE(json != nullptr, err, "%s: json must not be NULL", call);
  return guard(err, call, [&](ErrorText&) {
    *json = polyipc::capi::dup_string(h->impl->stat_json());
    return Status::Ok;
  });
}

}  // namespace

#define REQUIRE_HANDLE(h, err, call) POLYIPC_REQUIRE(h != nullptr && h->impl, err, "%s: handle is NULL", call)
#define REQUIRE_OUT(p, h, err, call) \
  POLYIPC_REQUIRE(p != nullptr, err, "%s '%s': %s: output pointer is NULL", kind_of(h), h->impl->name().c_str(), call)

namespace {
const char* kind_of(const polyipc_lock* l) { return l->impl->recursive() ? "rlock" : "lock"; }
const char* kind_of(const polyipc_semaphore*) { return "semaphore"; }
const char* kind_of(const polyipc_event*) { return "event"; }
const char* kind_of(const polyipc_barrier*) { return "barrier"; }
}  // namespace

extern "C" {

void polyipc_sync_options_init(polyipc_sync_options* opts) {
  if (!opts) return;
  *opts = polyipc_sync_options{};
  opts->struct_size = sizeof *opts;
  opts->mode = polyipc::kDefaultMode;
}

// ---- lock / rlock ----------------------------------------------------------

int polyipc_lock_open(const char* name, polyipc_open_mode mode, int recursive, const polyipc_sync_options* opts,
                      polyipc_lock** out, polyipc_error* err) {
  const char* kind = recursive ? "rlock" : "lock";
  return open_handle("polyipc_lock_open", kind, name, mode, out, err, [&](polyipc::OpenMode m) {
    return polyipc::Lock::open(name, m, recursive ? polyipc::Kind::RLock : polyipc::Kind::Lock,
                               polyipc::capi::sync_options(kind, name, opts));
  });
}

int polyipc_lock_acquire(polyipc_lock* l, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(l, err, "polyipc_lock_acquire");
  return guard(err, "polyipc_lock_acquire", [&](ErrorText& e) { return l->impl->acquire(Deadline::after(timeout_ns), e); });
}

int polyipc_lock_release(polyipc_lock* l, polyipc_error* err) {
  REQUIRE_HANDLE(l, err, "polyipc_lock_release");
  return guard(err, "polyipc_lock_release", [&](ErrorText& e) { return l->impl->release(e); });
}

int polyipc_lock_locked(polyipc_lock* l, int* out, polyipc_error* err) {
  REQUIRE_HANDLE(l, err, "polyipc_lock_locked");
  REQUIRE_OUT(out, l, err, "locked");
  *out = l->impl->locked() ? 1 : 0;
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_lock_held(polyipc_lock* l, uint32_t* depth, polyipc_error* err) {
  REQUIRE_HANDLE(l, err, "polyipc_lock_held");
  REQUIRE_OUT(depth, l, err, "held");
  *depth = l->impl->held_by_caller();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_lock_stat_json(polyipc_lock* l, char** json, polyipc_error* err) {
  return stat_json(l, json, err, "polyipc_lock_stat_json");
}

void polyipc_lock_close(polyipc_lock* l) { delete l; }

// ---- semaphore -------------------------------------------------------------

int polyipc_semaphore_open(const char* name, polyipc_open_mode mode, uint64_t initial, uint64_t max,
                           const polyipc_sync_options* opts, polyipc_semaphore** out, polyipc_error* err) {
  return open_handle("polyipc_semaphore_open", "semaphore", name, mode, out, err, [&](polyipc::OpenMode m) {
    polyipc::SemaphoreOptions o;
    static_cast<polyipc::SyncOptions&>(o) = polyipc::capi::sync_options("semaphore", name, opts);
    o.initial = initial;
    o.max = max;
    o.check_existing = m != polyipc::OpenMode::OpenOnly;
    return polyipc::Semaphore::open(name, m, o);
  });
}

int polyipc_semaphore_acquire(polyipc_semaphore* s, int64_t timeout_ns, polyipc_error* err) {
  return polyipc_semaphore_acquire_n(s, 1, timeout_ns, err);
}

int polyipc_semaphore_acquire_n(polyipc_semaphore* s, uint64_t n, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(s, err, "polyipc_semaphore_acquire");
  return guard(err, "polyipc_semaphore_acquire",
               [&](ErrorText& e) { return s->impl->acquire(n, Deadline::after(timeout_ns), e); });
}

int polyipc_semaphore_release(polyipc_semaphore* s, uint64_t n, polyipc_error* err) {
  REQUIRE_HANDLE(s, err, "polyipc_semaphore_release");
  return guard(err, "polyipc_semaphore_release", [&](ErrorText& e) { return s->impl->release(n, e); });
}

int polyipc_semaphore_value(polyipc_semaphore* s, uint64_t* out, polyipc_error* err) {
  REQUIRE_HANDLE(s, err, "polyipc_semaphore_value");
  REQUIRE_OUT(out, s, err, "value");
  *out = s->impl->value();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_semaphore_drain(polyipc_semaphore* s, uint64_t* taken, polyipc_error* err) {
  REQUIRE_HANDLE(s, err, "polyipc_semaphore_drain");
  REQUIRE_OUT(taken, s, err, "drain");
  return guard(err, "polyipc_semaphore_drain", [&](ErrorText&) {
    *taken = s->impl->drain();
    return Status::Ok;
  });
}

int polyipc_semaphore_stat_json(polyipc_semaphore* s, char** json, polyipc_error* err) {
  return stat_json(s, json, err, "polyipc_semaphore_stat_json");
}

void polyipc_semaphore_close(polyipc_semaphore* s) { delete s; }

// ---- event -----------------------------------------------------------------

int polyipc_event_open(const char* name, polyipc_open_mode mode, const polyipc_sync_options* opts,
                       polyipc_event** out, polyipc_error* err) {
  return open_handle("polyipc_event_open", "event", name, mode, out, err, [&](polyipc::OpenMode m) {
    return polyipc::Event::open(name, m, polyipc::capi::sync_options("event", name, opts));
  });
}

int polyipc_event_set(polyipc_event* e, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_set");
  e->impl->set();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_event_clear(polyipc_event* e, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_clear");
  e->impl->clear();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_event_is_set(polyipc_event* e, int* out, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_is_set");
  REQUIRE_OUT(out, e, err, "is_set");
  *out = e->impl->is_set() ? 1 : 0;
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_event_wait(polyipc_event* e, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_wait");
  return guard(err, "polyipc_event_wait", [&](ErrorText& t) { return e->impl->wait(Deadline::after(timeout_ns), t); });
}

int polyipc_event_token(polyipc_event* e, uint32_t* token, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_token");
  REQUIRE_OUT(token, e, err, "token");
  *token = e->impl->observe();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_event_wait_since(polyipc_event* e, uint32_t token, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(e, err, "polyipc_event_wait_since");
  return guard(err, "polyipc_event_wait_since",
               [&](ErrorText& t) { return e->impl->wait_since(token, Deadline::after(timeout_ns), t); });
}

int polyipc_event_stat_json(polyipc_event* e, char** json, polyipc_error* err) {
  return stat_json(e, json, err, "polyipc_event_stat_json");
}

void polyipc_event_close(polyipc_event* e) { delete e; }

// ---- condition -------------------------------------------------------------

int polyipc_condition_open(const char* name, polyipc_open_mode mode, const char* lock_name,
                           const polyipc_sync_options* opts, polyipc_condition** out, polyipc_error* err) {
  POLYIPC_REQUIRE(lock_name == nullptr || *lock_name, err,
                  "condition '%.200s': lock name is empty (pass NULL for the default '<name>.lock')", name ? name : "");
  return open_handle("polyipc_condition_open", "condition", name, mode, out, err, [&](polyipc::OpenMode m) {
    return polyipc::Condition::open(name, m, lock_name ? lock_name : "", polyipc::capi::sync_options("condition", name, opts));
  });
}

int polyipc_condition_acquire(polyipc_condition* c, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(c, err, "polyipc_condition_acquire");
  return guard(err, "polyipc_condition_acquire",
               [&](ErrorText& e) { return c->impl->lock().acquire(Deadline::after(timeout_ns), e); });
}

int polyipc_condition_release(polyipc_condition* c, polyipc_error* err) {
  REQUIRE_HANDLE(c, err, "polyipc_condition_release");
  return guard(err, "polyipc_condition_release", [&](ErrorText& e) { return c->impl->lock().release(e); });
}

int polyipc_condition_wait(polyipc_condition* c, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_HANDLE(c, err, "polyipc_condition_wait");
  return guard(err, "polyipc_condition_wait", [&](ErrorText& e) { return c->impl->wait(Deadline::after(timeout_ns), e); });
}

int polyipc_condition_notify(polyipc_condition* c, uint64_t n, polyipc_error* err) {
  REQUIRE_HANDLE(c, err, "polyipc_condition_notify");
  return guard(err, "polyipc_condition_notify", [&](ErrorText& e) { return c->impl->notify(n, e); });
}

int polyipc_condition_notify_all(polyipc_condition* c, polyipc_error* err) {
  REQUIRE_HANDLE(c, err, "polyipc_condition_notify_all");
  return guard(err, "polyipc_condition_notify_all", [&](ErrorText& e) { return c->impl->notify_all(e); });
}

int polyipc_condition_stat_json(polyipc_condition* c, char** json, polyipc_error* err) {
  return stat_json(c, json, err, "polyipc_condition_stat_json");
}

void polyipc_condition_close(polyipc_condition* c) { delete c; }

// ---- barrier ---------------------------------------------------------------

int polyipc_barrier_open(const char* name, polyipc_open_mode mode, uint32_t parties, const polyipc_sync_options* opts,
                         polyipc_barrier** out, polyipc_error* err) {
  return open_handle("polyipc_barrier_open", "barrier", name, mode, out, err, [&](polyipc::OpenMode m) {
    return polyipc::Barrier::open(name, m, parties, polyipc::capi::sync_options("barrier", name, opts));
  });
}

int polyipc_barrier_wait(polyipc_barrier* b, int64_t timeout_ns, uint64_t* index, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_wait");
  REQUIRE_OUT(index, b, err, "wait");
  return guard(err, "polyipc_barrier_wait",
               [&](ErrorText& e) { return b->impl->wait(Deadline::after(timeout_ns), index, e); });
}

int polyipc_barrier_arrive(polyipc_barrier* b, uint64_t* ticket, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_arrive");
  REQUIRE_OUT(ticket, b, err, "arrive");
  return guard(err, "polyipc_barrier_arrive", [&](ErrorText& e) { return b->impl->arrive(ticket, e); });
}

int polyipc_barrier_await(polyipc_barrier* b, uint64_t ticket, int64_t timeout_ns, uint64_t* index,
                          polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_await");
  REQUIRE_OUT(index, b, err, "await");
  return guard(err, "polyipc_barrier_await",
               [&](ErrorText& e) { return b->impl->await(ticket, Deadline::after(timeout_ns), index, e); });
}

int polyipc_barrier_cancel(polyipc_barrier* b, uint64_t ticket, uint64_t* index, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_cancel");
  REQUIRE_OUT(index, b, err, "cancel");
  return guard(err, "polyipc_barrier_cancel", [&](ErrorText& e) { return b->impl->cancel(ticket, index, e); });
}

int polyipc_barrier_abort(polyipc_barrier* b, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_abort");
  return guard(err, "polyipc_barrier_abort", [&](ErrorText&) {
    b->impl->abort();
    return Status::Ok;
  });
}

int polyipc_barrier_reset(polyipc_barrier* b, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_reset");
  return guard(err, "polyipc_barrier_reset", [&](ErrorText&) {
    b->impl->reset();
    return Status::Ok;
  });
}

int polyipc_barrier_parties(polyipc_barrier* b, uint32_t* out, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_parties");
  REQUIRE_OUT(out, b, err, "parties");
  *out = static_cast<uint32_t>(b->impl->parties());
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_barrier_n_waiting(polyipc_barrier* b, uint32_t* out, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_n_waiting");
  REQUIRE_OUT(out, b, err, "n_waiting");
  *out = static_cast<uint32_t>(b->impl->n_waiting());
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_barrier_broken(polyipc_barrier* b, int* out, polyipc_error* err) {
  REQUIRE_HANDLE(b, err, "polyipc_barrier_broken");
  REQUIRE_OUT(out, b, err, "broken");
  *out = b->impl->broken() ? 1 : 0;
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_barrier_stat_json(polyipc_barrier* b, char** json, polyipc_error* err) {
  return stat_json(b, json, err, "polyipc_barrier_stat_json");
}

void polyipc_barrier_close(polyipc_barrier* b) { delete b; }

}  // extern "C"
