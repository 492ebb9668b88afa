// Shared by the capi/*_c.cpp files: handle structs and the one place where
// C++ exceptions and core statuses become polyipc_status + polyipc_error.
#pragma once
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>

#include "capi/include/polyipc.h"
#include "core/pipe/pipe.hpp"
#include "core/queue/queue.hpp"
#include "core/status.hpp"
#include "core/sync/lock.hpp"

struct polyipc_queue {
  std::unique_ptr<polyipc::Queue> impl;
};
struct polyipc_pipe {
  std::unique_ptr<polyipc::Pipe> impl;
};

namespace polyipc::capi {

inline int fail(polyipc_error* err, Status status, const char* message) noexcept {
  if (err) {
    err->code = static_cast<int>(status);
    std::strncpy(err->message, message, sizeof err->message - 1);
    err->message[sizeof err->message - 1] = 0;
  }
  return static_cast<int>(status);
}

inline int finish(polyipc_error* err, Status status, const ErrorText& text) noexcept {
  if (status == Status::Ok) {
    if (err) {
      err->code = 0;
      err->message[0] = 0;
    }
    return 0;
  }
  return fail(err, status, text.text);
}

// Runs body (returning Status and filling an ErrorText) and maps every
// exception. `what` names the object or call for errors that carry no name.
template <class Body>
int guard(polyipc_error* err, const char* what, Body&& body) noexcept {
  try {
    ErrorText text;
    Status st = body(text);
    return finish(err, st, text);
  } catch (const Error& e) {
    return fail(err, e.status(), e.what());
  } catch (const std::bad_alloc&) {
    ErrorText t;
    t.set("%s: out of memory", what);
    return fail(err, Status::NoMemory, t.text);
  } catch (const std::exception& e) {
    ErrorText t;
    t.set("%s: %s", what, e.what());
    return fail(err, Status::System, t.text);
  } catch (...) {
    ErrorText t;
    t.set("%s: unknown error", what);
    return fail(err, Status::System, t.text);
  }
}

#define POLYIPC_REQUIRE(cond, err, ...)                      \
  do {                                                       \
    if (!(cond)) {                                           \
      ::polyipc::ErrorText t_;                               \
      t_.set(__VA_ARGS__);                                   \
      return ::polyipc::capi::fail(err, ::polyipc::Status::InvalidArg, t_.text); \
    }                                                        \
  } while (0)

// The int a C caller passed for an enum parameter. C lets any int through,
// and loading an out-of-range value as the C++ enum type is undefined
// behaviour (UBSan's -fsanitize=enum), so the bits are read as the enum's
// underlying type; convert to the enum only after checking the value.
template <class E>
inline int passed(const E& value) noexcept {
  static_assert(std::is_enum_v<E>);
  std::underlying_type_t<E> bits;
  std::memcpy(&bits, &value, sizeof bits);
  return static_cast<int>(bits);
}

// The checks every polyipc_<kind>_open makes first: a name, an out pointer, an
// open mode (passed(mode)). `function` names the call for a NULL name.
// Non-zero: the status, with err set.
inline int check_open(const char* function, const char* kind, const char* name, int mode, const void* out,
                      polyipc_error* err) {
  POLYIPC_REQUIRE(name != nullptr, err, "%s: name is NULL", function);
  POLYIPC_REQUIRE(out != nullptr, err, "%s '%.200s': out pointer is NULL", kind, name);
  POLYIPC_REQUIRE(mode >= POLYIPC_OPEN_OR_CREATE && mode <= POLYIPC_OPEN_ONLY, err,
                  "%s '%.200s': open mode %d is not one of OPEN_OR_CREATE, CREATE_ONLY, OPEN_ONLY", kind, name, mode);
  return 0;
}

// Where a received message goes: the caller's buffer (get_into/recv_into),
// or a malloc'd copy (get/recv). Shared by the queue and pipe families.
struct IntoBuffer {
  void* buf;
  size_t cap;
};
inline void* into_buffer(void* ctx, size_t len) {
  auto* b = static_cast<IntoBuffer*>(ctx);
  return len <= b->cap ? (b->buf ? b->buf : reinterpret_cast<void*>(1)) : nullptr;
}
inline void* into_malloc(void* ctx, size_t len) {
  void* p = std::malloc(len ? len : 1);
  if (!p) throw std::bad_alloc();
  *static_cast<void**>(ctx) = p;
  return p;
}

// The same with a NUL after the len bytes: JSON text as a C string (the dict
// and list families), *ctx a char*.
inline void* into_malloc_text(void* ctx, size_t len) {
  char* p = static_cast<char*>(std::malloc(len + 1));
  if (!p) throw std::bad_alloc();
  p[len] = 0;
  *static_cast<char**>(ctx) = p;
  return p;
}

// polyipc_sync_options (nullable) as the core takes them; `kind` names the object in errors.
inline SyncOptions sync_options(const char* kind, const char* name, const polyipc_sync_options* o) {
  SyncOptions c;
  if (!o) return c;
  if (o->struct_size < offsetof(polyipc_sync_options, ephemeral) + sizeof(o->ephemeral))
    throw Error(Status::InvalidArg, format("%s '%.200s': options struct_size %u too small (call "
                                           "polyipc_sync_options_init)", kind, name, o->struct_size));
  c.mode = o->mode;
  c.ephemeral = o->ephemeral != 0;
  return c;
}

// polyipc_dict_options / polyipc_list_options (the same fields, nullable) as
// the core's DictOptions / ListOptions; `kind` names the object in errors.
template <class CoreOptions, class COptions>
CoreOptions manager_options(const char* kind, const char* name, const COptions* o) {
  CoreOptions c;
  if (!o) return c;
  if (o->struct_size < offsetof(COptions, ephemeral) + sizeof(o->ephemeral))
    throw Error(Status::InvalidArg, format("%s '%.200s': options struct_size %u too small (call "
                                           "polyipc_%s_options_init)", kind, name, o->struct_size, kind));
  c.mode = o->mode;
  c.capacity_bytes = o->capacity_bytes;
  c.max_items = o->max_items;
  c.ephemeral = o->ephemeral != 0;
  return c;
}
template <class CoreOptions, class COptions>
void manager_options_init(COptions* opts) {
  if (!opts) return;
  const CoreOptions d;
  *opts = COptions{};
  opts->struct_size = sizeof *opts;
  opts->mode = d.mode;
  opts->capacity_bytes = d.capacity_bytes;
  opts->max_items = d.max_items;
}

// A library-allocated copy of a string (release with polyipc_free).
inline char* dup_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

}  // namespace polyipc::capi
