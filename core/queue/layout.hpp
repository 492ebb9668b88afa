// The queue's layout in shared memory, shared by the files of core/queue.
// Changing anything here changes kLayoutVersion's meaning: bump it.
#pragma once
#include <atomic>
#include <cstdint>
#include <ctime>

#include "core/sync/journal.hpp"
#include "core/sync/robust_mutex.hpp"

namespace polyipc {

// The segment body is a QueueShared, then (LIFO/PRIORITY only) a binary heap
// of record positions, then the ring. Positions are absolute byte counts that
// only grow; pos % capacity is the place in the ring. A record never wraps: a
// pad record (or, when fewer than a header's bytes remain, an implicit pad)
// fills the end of the ring.

namespace queue_detail {

enum RecordState : uint64_t {
  kReady = 0,     // waiting to be taken
  kReserved = 1,  // a putter copies into it outside the lock (large messages)
  kReading = 2,   // a getter copies out of it outside the lock
  kLeased = 3,    // taken from a joinable queue, awaiting task_done
  kDead = 4,      // done with; reclaimed when the head passes
  kPad = 5,       // fills the end of the ring
};

struct RecordHeader {
  uint64_t len;  // payload bytes
  uint64_t state;
  uint64_t owner;  // ProcessToken while Reserved / Reading / Leased
  int64_t priority;
  uint64_t seq;
};
constexpr uint64_t kHeader = sizeof(RecordHeader);
constexpr uint64_t kMinRecord = kHeader;
// Messages this large are copied outside the lock, so a producer's copy-in
// and a consumer's copy-out of neighbouring records overlap.
constexpr uint64_t kLargeMessage = 32 * 1024;
constexpr int64_t kReapIntervalNs = 100'000'000;        // while waiting
constexpr int64_t kPromptReapIntervalNs = 1'000'000;     // before reporting EMPTY/FULL
constexpr int64_t kSpinNs = 20'000;     // spin at most this long before sleeping
constexpr int64_t kPureSpinNs = 3'000;  // of which this long without yielding

inline uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }
inline uint64_t record_size(uint64_t len) { return kHeader + align8(len); }

}  // namespace queue_detail
using namespace queue_detail;  // internal header: core/queue only

struct Counters {
  std::atomic<uint64_t> puts, gets, bytes_put, bytes_got, timeouts, owner_dead_recoveries, redeliveries,
      last_activity_unix_ms;
};

struct QueueShared {
  // Fixed at creation.
  uint32_t order, format, joinable, pad0;
  uint64_t max_items, capacity, max_message, heap_capacity, heap_offset, ring_offset;

  alignas(64) RobustMutex mutex;
  // Every word of `st`, of the heap and of record headers in the ring changes
  // only through a Transaction on `journal`.
  alignas(64) struct State {
    uint64_t head, tail;  // ring positions: [head, tail) holds records
    uint64_t read_pos;    // FIFO: no Ready record lies in [head, read_pos)
    uint64_t count;       // Ready records: qsize()
    uint64_t reserved;    // Reserved records (count toward max_items)
    uint64_t reading;     // Reading records
    uint64_t leased;      // Leased records
    uint64_t unfinished;  // joinable: put and not yet task_done
    uint64_t next_seq;
    uint64_t heap_size;
    uint64_t closed;
  } st;
  Journal journal;

  // Wake-ups: a futex word per condition, and how many sleep on it, so that
  // nobody makes a syscall when nobody sleeps.
  alignas(64) std::atomic<uint32_t> not_empty;
  std::atomic<uint32_t> getters_sleeping;
  alignas(64) std::atomic<uint32_t> not_full;
  std::atomic<uint32_t> putters_sleeping;
  alignas(64) std::atomic<uint32_t> all_done;
  std::atomic<uint32_t> joiners_sleeping;
  alignas(64) Counters counters;

  char* base() { return reinterpret_cast<char*>(this); }
  uint64_t* heap() { return reinterpret_cast<uint64_t*>(base() + heap_offset); }
  char* ring() { return base() + ring_offset; }
  // A position past any implicit pad at the end of the ring.
  uint64_t skip_implicit_pad(uint64_t pos) const {
    uint64_t to_end = capacity - pos % capacity;
    return to_end < kHeader ? pos + to_end : pos;
  }
  RecordHeader* record(uint64_t pos) { return reinterpret_cast<RecordHeader*>(ring() + pos % capacity); }
  char* payload(uint64_t pos) { return ring() + pos % capacity + kHeader; }
};

namespace queue_detail {
inline uint64_t load(const uint64_t& w) { return load_word(&w); }
// Counters change only under the queue's lock: a plain add, no locked instruction.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t coarse_unix_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
}  // namespace queue_detail

}  // namespace polyipc
