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

// The clock starts when a call first has to wait, not when it begins: a call
// that finds its message or room at once never reads the clock (bindings pass
// short timeouts as wait slices, so this is their hot path too). The few
// microseconds before the first wait are not counted.
class Deadline {
 public:
  static Deadline after(int64_t timeout_ns) noexcept {
    Deadline d;
    d.forever_ = timeout_ns < 0;
    d.immediate_ = timeout_ns == 0;
    d.timeout_ns_ = timeout_ns;
    return d;
  }
  static Deadline forever() noexcept { return after(-1); }

  bool is_forever() const noexcept { return forever_; }
  bool is_immediate() const noexcept { return immediate_; }
  bool expired() const noexcept {
    if (immediate_) return true;
    if (forever_) return false;
    const int64_t now = monotonic_ns();
    return now >= at(now);
  }
  // The earlier of the deadline and now + slice_ns, as an absolute monotonic time.
  int64_t until_ns(int64_t slice_ns) const noexcept {
    if (forever_ && slice_ns < 0) return INT64_MAX;  // no clock read: waiters' hot path
    const int64_t now = monotonic_ns();
    int64_t slice_end = slice_ns < 0 ? INT64_MAX : now + slice_ns;  // slices are small: no overflow
    if (forever_) return slice_end;
    int64_t end = at(now);
    return end < slice_end ? end : slice_end;
  }

 private:
  // Fixes the deadline on first use; saturates, so a timeout of centuries is
  // "forever" rather than an overflow into the past.
  int64_t at(int64_t now) const noexcept {
    if (!started_) {
      at_ns_ = timeout_ns_ > INT64_MAX - now ? INT64_MAX : now + timeout_ns_;
      started_ = true;
    }
    return at_ns_;
  }

  bool forever_ = true;
  bool immediate_ = false;
  int64_t timeout_ns_ = -1;
  mutable bool started_ = false;
  mutable int64_t at_ns_ = 0;
};

inline timespec to_timespec(int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

}  // namespace polyipc
