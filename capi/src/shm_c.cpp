// Shared memory and Value/Array in the C API: argument checks and
// translation only; the semantics live in core/shm.
#include <cstring>

#include "capi/src/internal.hpp"
#include "core/shm/shared_memory.hpp"

using polyipc::Deadline;
using polyipc::ElemType;
using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::guard;

struct polyipc_shm {
  std::unique_ptr<polyipc::SharedMemory> impl;
};
struct polyipc_array {
  std::unique_ptr<polyipc::Array> impl;
};

namespace {

uint64_t bits_of(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
double double_of(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

}  // namespace

#define REQUIRE_ARRAY(a, err, call) POLYIPC_REQUIRE(a != nullptr && a->impl, err, "%s: array handle is NULL", call)
#define REQUIRE_SHM(m, err, call) POLYIPC_REQUIRE(m != nullptr && m->impl, err, "%s: shared memory handle is NULL", call)

extern "C" {

int polyipc_shm_open(const char* name, polyipc_open_mode mode, uint64_t size, const polyipc_sync_options* opts,
                     polyipc_shm** out, polyipc_error* err) {
  const int mode_passed = polyipc::capi::passed(mode);
  if (int rc = polyipc::capi::check_open("polyipc_shm_open", "shared_memory", name, mode_passed, out, err)) return rc;
  return guard(err, "polyipc_shm_open", [&](ErrorText&) {
    auto h = std::make_unique<polyipc_shm>();
    h->impl = polyipc::SharedMemory::open(name, static_cast<polyipc::OpenMode>(mode), size,
                                          polyipc::capi::sync_options("shared_memory", name, opts));
    *out = h.release();
    return Status::Ok;
  });
}

int polyipc_shm_data(polyipc_shm* m, void** data, uint64_t* size, polyipc_error* err) {
  REQUIRE_SHM(m, err, "polyipc_shm_data");
  POLYIPC_REQUIRE(data || size, err, "shared_memory '%s': data and size are both NULL", m->impl->name().c_str());
  if (data) *data = m->impl->data();
  if (size) *size = m->impl->size();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_shm_stat_json(polyipc_shm* m, char** json, polyipc_error* err) {
  REQUIRE_SHM(m, err, "polyipc_shm_stat_json");
  POLYIPC_REQUIRE(json, err, "shared_memory '%s': json must not be NULL", m->impl->name().c_str());
  return guard(err, "polyipc_shm_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(m->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_shm_close(polyipc_shm* m) { delete m; }

int polyipc_array_open(const char* name, polyipc_open_mode mode, polyipc_elem_type type, uint64_t length,
                       const polyipc_sync_options* opts, polyipc_array** out, polyipc_error* err) {
  if (int rc = polyipc::capi::check_open("polyipc_array_open", "array", name, polyipc::capi::passed(mode), out, err))
    return rc;
  const int type_passed = polyipc::capi::passed(type);
  POLYIPC_REQUIRE(type_passed == POLYIPC_INT64 || type_passed == POLYIPC_DOUBLE, err,
                  "array '%.200s': element type %d is neither INT64 nor DOUBLE", name, type_passed);
  return guard(err, "polyipc_array_open", [&](ErrorText&) {
    auto h = std::make_unique<polyipc_array>();
    h->impl = polyipc::Array::open(name, static_cast<polyipc::OpenMode>(mode), static_cast<ElemType>(type), length,
                                   polyipc::capi::sync_options("array", name, opts));
    *out = h.release();
    return Status::Ok;
  });
}

int polyipc_array_length(polyipc_array* a, uint64_t* out, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_length");
  POLYIPC_REQUIRE(out, err, "array '%s': length: out is NULL", a->impl->name().c_str());
  *out = a->impl->length();
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_array_type(polyipc_array* a, polyipc_elem_type* out, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_type");
  POLYIPC_REQUIRE(out, err, "array '%s': type: out is NULL", a->impl->name().c_str());
  *out = static_cast<polyipc_elem_type>(a->impl->type());
  return polyipc::capi::finish(err, Status::Ok, ErrorText());
}

int polyipc_array_load_i64(polyipc_array* a, uint64_t index, int64_t* out, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_load_i64");
  POLYIPC_REQUIRE(out, err, "array '%s': load: out is NULL", a->impl->name().c_str());
  ErrorText e;
  uint64_t bits = 0;
  Status st = a->impl->load(index, ElemType::Int64, &bits, e);
  if (st == Status::Ok) *out = static_cast<int64_t>(bits);
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_store_i64(polyipc_array* a, uint64_t index, int64_t value, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_store_i64");
  ErrorText e;
  return polyipc::capi::finish(err, a->impl->store(index, ElemType::Int64, static_cast<uint64_t>(value), e), e);
}

int polyipc_array_add_i64(polyipc_array* a, uint64_t index, int64_t delta, int64_t* previous, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_add_i64");
  ErrorText e;
  int64_t prev = 0;
  Status st = a->impl->add_i64(index, delta, &prev, e);
  if (st == Status::Ok && previous) *previous = prev;
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_compare_exchange_i64(polyipc_array* a, uint64_t index, int64_t expected, int64_t desired,
                                       int64_t* actual, int* swapped, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_compare_exchange_i64");
  ErrorText e;
  uint64_t found = 0;
  bool ok = false;
  Status st = a->impl->compare_exchange(index, ElemType::Int64, static_cast<uint64_t>(expected),
                                        static_cast<uint64_t>(desired), &found, &ok, e);
  if (st == Status::Ok) {
    if (actual) *actual = static_cast<int64_t>(found);
    if (swapped) *swapped = ok ? 1 : 0;
  }
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_load_f64(polyipc_array* a, uint64_t index, double* out, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_load_f64");
  POLYIPC_REQUIRE(out, err, "array '%s': load: out is NULL", a->impl->name().c_str());
  ErrorText e;
  uint64_t bits = 0;
  Status st = a->impl->load(index, ElemType::Double, &bits, e);
  if (st == Status::Ok) *out = double_of(bits);
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_store_f64(polyipc_array* a, uint64_t index, double value, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_store_f64");
  ErrorText e;
  return polyipc::capi::finish(err, a->impl->store(index, ElemType::Double, bits_of(value), e), e);
}

int polyipc_array_add_f64(polyipc_array* a, uint64_t index, double delta, double* previous, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_add_f64");
  ErrorText e;
  double prev = 0;
  Status st = a->impl->add_f64(index, delta, &prev, e);
  if (st == Status::Ok && previous) *previous = prev;
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_compare_exchange_f64(polyipc_array* a, uint64_t index, double expected, double desired,
                                       double* actual, int* swapped, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_compare_exchange_f64");
  ErrorText e;
  uint64_t found = 0;
  bool ok = false;
  Status st = a->impl->compare_exchange(index, ElemType::Double, bits_of(expected), bits_of(desired), &found, &ok, e);
  if (st == Status::Ok) {
    if (actual) *actual = double_of(found);
    if (swapped) *swapped = ok ? 1 : 0;
  }
  return polyipc::capi::finish(err, st, e);
}

int polyipc_array_acquire(polyipc_array* a, int64_t timeout_ns, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_acquire");
  return guard(err, "polyipc_array_acquire",
               [&](ErrorText& e) { return a->impl->acquire(Deadline::after(timeout_ns), e); });
}

int polyipc_array_release(polyipc_array* a, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_release");
  ErrorText e;
  return polyipc::capi::finish(err, a->impl->release(e), e);
}

int polyipc_array_stat_json(polyipc_array* a, char** json, polyipc_error* err) {
  REQUIRE_ARRAY(a, err, "polyipc_array_stat_json");
  POLYIPC_REQUIRE(json, err, "array '%s': json must not be NULL", a->impl->name().c_str());
  return guard(err, "polyipc_array_stat_json", [&](ErrorText&) {
    *json = polyipc::capi::dup_string(a->impl->stat_json());
    return Status::Ok;
  });
}

void polyipc_array_close(polyipc_array* a) { delete a; }

}  // extern "C"
