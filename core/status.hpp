// Status codes and the error type of the core. The numbers equal the C API's
// polyipc_status so capi/ translates by a cast, in one place.
#pragma once
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace polyipc {

enum class Status : int {
  Ok = 0,
  Timeout = 1,
  Empty = 2,
  Full = 3,
  Closed = 4,
  NotFound = 5,
  Exists = 6,
  InvalidArg = 7,
  InvalidJson = 8,
  TooLarge = 9,
  Permission = 10,
  OwnerDead = 11,
  Incompatible = 12,
  NoMemory = 13,
  NotOwner = 14,
  Broken = 15,
  System = 16,
  OutOfRange = 17,
};

// Thrown where a failure is exceptional (open, bad layout, OS errors). Hot-path
// outcomes such as Empty or Timeout are returned as Status instead.
class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

// A message for a returned (not thrown) failure, kept allocation-free.
struct ErrorText {
  ErrorText() noexcept { text[0] = 0; }  // not the whole buffer: it is on every call's path
  char text[256];
  void set(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
  }
};

// Formats like printf into a std::string, for thrown errors.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// "512 bytes", "1.5 MiB": sizes in messages.
std::string size_text(uint64_t bytes);

// An OS error turned into the status that fits it (EACCES -> Permission ...).
[[noreturn]] void throw_os_error(int errnum, const std::string& what);

// ENOSPC, ENOMEM, EDQUOT (a tmpfs quota): no room, Status::NoMemory.
bool is_no_room(int errnum) noexcept;

}  // namespace polyipc
