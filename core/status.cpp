#include "core/status.hpp"

#include <cerrno>
#include <cstring>

namespace polyipc {

std::string format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

void throw_os_error(int errnum, const std::string& what) {
  Status status = Status::System;
  switch (errnum) {
    case EACCES:
    case EPERM: status = Status::Permission; break;
    case ENOENT: status = Status::NotFound; break;
    case EEXIST: status = Status::Exists; break;
    case EINVAL:
    case ENAMETOOLONG: status = Status::InvalidArg; break;
    default:
      if (is_no_room(errnum)) status = Status::NoMemory;
      break;
  }
  throw Error(status, what + ": " + std::strerror(errnum));
}

bool is_no_room(int errnum) noexcept { return errnum == ENOSPC || errnum == ENOMEM || errnum == EDQUOT; }

std::string size_text(uint64_t bytes) {
  if (bytes < 1024) return format("%llu bytes", (unsigned long long)bytes);
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  for (; v >= 1023.95 && u < 3; ++u) v /= 1024;  // not "1024.0 KiB"
  return format("%.1f %s", v, units[u]);
}

}  // namespace polyipc
