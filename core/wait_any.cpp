#include "core/wait_any.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <vector>

#include "core/pipe/pipe.hpp"
#include "core/queue/queue.hpp"
#include "core/sync/futex.hpp"

namespace polyipc {
namespace {

constexpr int64_t kSliceNs = 50'000'000;  // dead pipe peers are noticed by looking again
constexpr size_t kMaxWaitv = 128;         // FUTEX_WAITV_MAX

struct WaitvEntry {  // struct futex_waitv (linux/futex.h, 5.16+)
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};
constexpr uint32_t kFutex32 = 2;  // FUTEX2_SIZE_U32
#ifndef SYS_futex_waitv
constexpr long SYS_futex_waitv = 449;
#endif

bool ready_now(Waitable& w) {
  if (w.pipe) return w.pipe->readable();
  return w.queue->size() > 0;  // a hint; the watch below decides under the locks
}

}  // namespace

Status wait_any(Waitable* items, size_t count, const Deadline& deadline, ErrorText& error) {
  static std::atomic<bool> waitv_missing{false};
  for (;;) {
    bool any = false;
    for (size_t i = 0; i < count; ++i) any |= (items[i].ready = ready_now(items[i]));
    // Register with every object; one that turns out ready needs no sleep.
    std::vector<WaitvEntry> words;
    std::vector<size_t> watched;
    words.reserve(count);
    if (!any) {
      for (size_t i = 0; i < count; ++i) {
        uint32_t seen = 0;
        std::atomic<uint32_t>* word = items[i].pipe ? items[i].pipe->watch(&seen) : items[i].queue->watch(&seen);
        if (!word) {
          items[i].ready = any = true;
          continue;
        }
        watched.push_back(i);
        words.push_back(WaitvEntry{seen, reinterpret_cast<uint64_t>(word), kFutex32, 0});
      }
    }
    if (!any && !deadline.is_immediate() && !deadline.expired()) {
      const int64_t until = deadline.until_ns(kSliceNs);
      timespec ts = to_timespec(until);
      long rc = -1;
      if (!waitv_missing.load(std::memory_order_relaxed) && words.size() <= kMaxWaitv) {
        rc = syscall(SYS_futex_waitv, words.data(), static_cast<unsigned>(words.size()), 0, &ts, CLOCK_MONOTONIC);
        if (rc < 0 && errno == ENOSYS) waitv_missing.store(true);
      }
      if (rc < 0 && (waitv_missing.load() || words.size() > kMaxWaitv)) {
        // No futex_waitv: sleep on the first word, in short slices.
        auto* first = reinterpret_cast<std::atomic<uint32_t>*>(words[0].uaddr);
        futex_wait(first, static_cast<uint32_t>(words[0].val), deadline.until_ns(1'000'000));
      }
    }
    for (size_t i : watched) items[i].pipe ? items[i].pipe->unwatch() : items[i].queue->unwatch();
    if (any) {
      for (size_t i = 0; i < count; ++i) items[i].ready = items[i].ready || ready_now(items[i]);
      return Status::Ok;
    }
    if (deadline.is_immediate() || deadline.expired()) {
      error.set("wait: none of the %zu objects became readable within the timeout", count);
      return Status::Timeout;
    }
  }
}

}  // namespace polyipc
