// Dict in the C API: argument checks and translation only; the semantics
// live in core/manager/dict.cpp.
#include <cstring>

#include "capi/src/internal.hpp"
#include "core/manager/dict.hpp"

using polyipc::Deadline;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;

struct polyipc_dict {
  std::unique_ptr<polyipc::Dict> impl;
};

#define REQUIRE_DICT(d, err, call) POLYIPC_REQUIRE(d != nullptr && d->impl, err, "%s: dict handle is NULL", call)
#define REQUIRE_KEY(d, key, err) \
  POLYIPC_REQUIRE(key != nullptr, err, "dict '%s': key is NULL", d->impl->name().c_str())

extern "C" {

void polyipc_dict_options_init(polyipc_dict_options* opts) {
  polyipc::capi::manager_options_init<polyipc::DictOptions>(opts);
}

int polyipc_dict_open(const char* name, polyipc_open_mode mode, const polyipc_dict_options* opts, polyipc_dict** out,
                      polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_dict_open", "dict", name, polyipc::capi::passed(mode), out, err))
    return rc;
  return guard(err, "polyipc_dict_open", [&](ErrorText&) {
    auto h = std::make_unique<polyipc_dict>();
    h->impl = polyipc::Dict::open(name, static_cast<polyipc::OpenMode>(mode),
                                 polyipc::capi::manager_options<polyipc::DictOptions>("dict", name, opts));
    *out = h.release();
    return Status::Ok;
  });
}

int polyipc_dict_set(polyipc_dict* d, const char* key, const char* json, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_set");
  REQUIRE_KEY(d, key, err);
  POLYIPC_REQUIRE(json != nullptr, err, "dict '%s': value of key \"%.64s\" is NULL", d->impl->name().c_str(), key);
  return guard(err, "polyipc_dict_set", [&](ErrorText& e) { return d->impl->set(key, json, std::strlen(json), e); });
}

int polyipc_dict_get(polyipc_dict* d, const char* key, char** json, size_t* len, int* found, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_get");
  REQUIRE_KEY(d, key, err);
  POLYIPC_REQUIRE(json != nullptr, err, "dict '%s': json out pointer is NULL", d->impl->name().c_str());
  *json = nullptr;
  return guard(err, "polyipc_dict_get", [&](ErrorText& e) {
    bool present = false;
    size_t n = 0;
    Status st = d->impl->get(key, polyipc::capi::into_malloc_text, json, &n, &present, e);
    if (st != Status::Ok) return st;
    if (len) *len = present ? n : 0;
    if (found) {
      *found = present ? 1 : 0;
    } else if (!present) {
      e.set("dict '%s': no key \"%.64s\"", d->impl->name().c_str(), key);
      return Status::NotFound;
    }
    return Status::Ok;
  });
}

int polyipc_dict_delete(polyipc_dict* d, const char* key, int* deleted, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_delete");
  REQUIRE_KEY(d, key, err);
  return guard(err, "polyipc_dict_delete", [&](ErrorText& e) {
    bool removed = false;
    Status st = d->impl->remove(key, &removed, e);
    if (deleted) *deleted = removed ? 1 : 0;
    return st;
  });
}

int polyipc_dict_compare_and_set(polyipc_dict* d, const char* key, const char* expected, const char* desired,
                                 int* swapped, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_compare_and_set");
  REQUIRE_KEY(d, key, err);
  return guard(err, "polyipc_dict_compare_and_set", [&](ErrorText& e) {
    bool done = false;
    Status st = d->impl->compare_and_set(key, expected, expected ? std::strlen(expected) : 0, desired,
                                         desired ? std::strlen(desired) : 0, &done, e);
    if (swapped) *swapped = done ? 1 : 0;
    return st;
  });
}

int polyipc_dict_len(polyipc_dict* d, uint64_t* len, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_len");
  POLYIPC_REQUIRE(len != nullptr, err, "dict '%s': len out pointer is NULL", d->impl->name().c_str());
  return guard(err, "polyipc_dict_len", [&](ErrorText&) {
    *len = d->impl->size();
    return Status::Ok;
  });
}

int polyipc_dict_keys(polyipc_dict* d, char** json, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_keys");
  POLYIPC_REQUIRE(json != nullptr, err, "dict '%s': json out pointer is NULL", d->impl->name().c_str());
  return guard(err, "polyipc_dict_keys", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(d->impl->keys_json());
    return Status::Ok;
  });
}

int polyipc_dict_items(polyipc_dict* d, char** json, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_items");
  POLYIPC_REQUIRE(json != nullptr, err, "dict '%s': json out pointer is NULL", d->impl->name().c_str());
  return guard(err, "polyipc_dict_items", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(d->impl->items_json());
    return Status::Ok;
  });
}

int polyipc_dict_clear(polyipc_dict* d, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_clear");
  return guard(err, "polyipc_dict_clear", [&](ErrorText& e) { return d->impl->clear(e); });
}

int polyipc_dict_version(polyipc_dict* d, uint64_t* version, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_version");
  POLYIPC_REQUIRE(version != nullptr, err, "dict '%s': version out pointer is NULL", d->impl->name().c_str());
  *version = d->impl->version();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_dict_wait_change(polyipc_dict* d, uint64_t seen_version, int64_t timeout_ns, uint64_t* version,
                             polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_wait_change");
  return guard(err, "polyipc_dict_wait_change", [&](ErrorText& e) {
    uint64_t seen = 0;
    const Status st = d->impl->wait_change(seen_version, Deadline::after(timeout_ns), &seen, e);
    if (version) *version = seen;
    return st;
  });
}

int polyipc_dict_stat_json(polyipc_dict* d, char** json, polyipc_error* err) {
  REQUIRE_DICT(d, err, "polyipc_dict_stat_json");
  POLYIPC_REQUIRE(json != nullptr, err, "dict '%s': json out pointer is NULL", d->impl->name().c_str());
  return guard(err, "polyipc_dict_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(d->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_dict_close(polyipc_dict* d) { delete d; }

}  // extern "C"
