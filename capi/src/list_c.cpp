// List in the C API: argument checks and translation only; the semantics
// live in core/manager/list.cpp.
#include <cstring>

#include "capi/src/internal.hpp"
#include "core/manager/list.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;

struct polyipc_list {
  std::unique_ptr<polyipc::List> impl;
};

#define REQUIRE_LIST(l, err, call) POLYIPC_REQUIRE(l != nullptr && l->impl, err, "%s: list handle is NULL", call)
#define REQUIRE_OUT(l, p, err) \
  POLYIPC_REQUIRE(p != nullptr, err, "list '%s': " #p " out pointer is NULL", l->impl->name().c_str())
#define REQUIRE_VALUE(l, json, err) \
  POLYIPC_REQUIRE(json != nullptr, err, "list '%s': value is NULL", l->impl->name().c_str())

extern "C" {

void polyipc_list_options_init(polyipc_list_options* opts) {
  polyipc::capi::manager_options_init<polyipc::ListOptions>(opts);
}

int polyipc_list_open(const char* name, polyipc_open_mode mode, const polyipc_list_options* opts, polyipc_list** out,
                      polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_list_open", "list", name, polyipc::capi::passed(mode), out, err))
    return rc;
  return guard(err, "polyipc_list_open", [&](ErrorText&) {
    auto h = std::make_unique<polyipc_list>();
    h->impl = polyipc::List::open(name, static_cast<polyipc::OpenMode>(mode),
                                 polyipc::capi::manager_options<polyipc::ListOptions>("list", name, opts));
    *out = h.release();
    return Status::Ok;
  });
}

int polyipc_list_append(polyipc_list* l, const char* json, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_append");
  REQUIRE_VALUE(l, json, err);
  return guard(err, "polyipc_list_append", [&](ErrorText& e) { return l->impl->append(json, std::strlen(json), e); });
}

int polyipc_list_insert(polyipc_list* l, int64_t index, const char* json, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_insert");
  REQUIRE_VALUE(l, json, err);
  return guard(err, "polyipc_list_insert",
               [&](ErrorText& e) { return l->impl->insert(index, json, std::strlen(json), e); });
}

int polyipc_list_get(polyipc_list* l, int64_t index, char** json, size_t* len, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_get");
  REQUIRE_OUT(l, json, err);
  *json = nullptr;
  return guard(err, "polyipc_list_get", [&](ErrorText& e) {
    size_t n = 0;
    Status st = l->impl->get(index, polyipc::capi::into_malloc_text, json, &n, e);
    if (len) *len = st == Status::Ok ? n : 0;
    return st;
  });
}

int polyipc_list_set(polyipc_list* l, int64_t index, const char* json, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_set");
  REQUIRE_VALUE(l, json, err);
  return guard(err, "polyipc_list_set", [&](ErrorText& e) { return l->impl->set(index, json, std::strlen(json), e); });
}

int polyipc_list_pop(polyipc_list* l, int64_t index, char** json, size_t* len, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_pop");
  REQUIRE_OUT(l, json, err);
  *json = nullptr;
  return guard(err, "polyipc_list_pop", [&](ErrorText& e) {
    size_t n = 0;
    Status st = l->impl->pop(index, polyipc::capi::into_malloc_text, json, &n, e);
    if (len) *len = st == Status::Ok ? n : 0;
    return st;
  });
}

int polyipc_list_len(polyipc_list* l, uint64_t* len, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_len");
  REQUIRE_OUT(l, len, err);
  return guard(err, "polyipc_list_len", [&](ErrorText&) {
    *len = l->impl->size();
    return Status::Ok;
  });
}

int polyipc_list_items(polyipc_list* l, char** json, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_items");
  REQUIRE_OUT(l, json, err);
  return guard(err, "polyipc_list_items", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(l->impl->items_json());
    return Status::Ok;
  });
}

int polyipc_list_clear(polyipc_list* l, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_clear");
  return guard(err, "polyipc_list_clear", [&](ErrorText& e) { return l->impl->clear(e); });
}

int polyipc_list_version(polyipc_list* l, uint64_t* version, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_version");
  REQUIRE_OUT(l, version, err);
  *version = l->impl->version();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_list_wait_change(polyipc_list* l, uint64_t seen_version, int64_t timeout_ns, uint64_t* version,
                             polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_wait_change");
  return guard(err, "polyipc_list_wait_change", [&](ErrorText& e) {
    uint64_t seen = 0;
    const Status st = l->impl->wait_change(seen_version, Deadline::after(timeout_ns), &seen, e);
    if (version) *version = seen;
    return st;
  });
}

int polyipc_list_stat_json(polyipc_list* l, char** json, polyipc_error* err) {
  REQUIRE_LIST(l, err, "polyipc_list_stat_json");
  REQUIRE_OUT(l, json, err);
  return guard(err, "polyipc_list_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(l->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_list_close(polyipc_list* l) { delete l; }

}  // extern "C"
