// Timeouts as the C API defines them: < 0 forever, 0 never wait, > 0 at most
// that many nanoseconds on the monotonic clock.
#pragma once
#include <cstdint>
#include <ctime>

namespace polyipc {

inline int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class Deadline {
 public:
  static Deadline after(int64_t timeout_ns) noexcept {
    Deadline d;
    d.forever_ = timeout_ns < 0;
    d.immediate_ = timeout_ns == 0;
    if (d.forever_ || d.immediate_) return d;  // no clock read on the hot path
    // Saturate: a timeout of centuries is "forever", not an overflow into the past.
    const int64_t now = monotonic_ns();
    if (timeout_ns > INT64_MAX - now) d.forever_ = true;
    else d.at_ns_ = now + timeout_ns;
    return d;
  }
  static Deadline forever() noexcept { return after(-1); }

  bool is_forever() const noexcept { return forever_; }
  bool is_immediate() const noexcept { return immediate_; }
  bool expired() const noexcept { return immediate_ || (!forever_ && monotonic_ns() >= at_ns_); }
  // The earlier of the deadline and now + slice_ns, as an absolute monotonic time.
  int64_t until_ns(int64_t slice_ns) const noexcept {
    int64_t slice_end = slice_ns < 0 ? INT64_MAX : monotonic_ns() + slice_ns;  // slices are small: no overflow
    if (forever_) return slice_end;
    return at_ns_ < slice_end ? at_ns_ : slice_end;
  }

 private:
  bool forever_ = true;
  bool immediate_ = false;
  int64_t at_ns_ = 0;
};

inline timespec to_timespec(int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

}  // namespace polyipc
