// The queue's layout in shared memory, shared by the files of core/queue.
// Changing anything here changes kLayoutVersion's meaning: bump it. (Fields
// put in former padding, which older queues hold as zero and older libraries
// never read, are the exception: ring_slack, lap_start.)
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include "core/sync/journal.hpp"
#include "core/sync/robust_mutex.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

// The segment body is a QueueShared, then (LIFO/PRIORITY only) a binary heap
// of record positions, then the ring. Positions are absolute byte counts that
// only grow; pos % ring_bytes is the place in the ring. A record never wraps: a
// pad record (or, when fewer than a header's bytes remain, an implicit pad)
// fills the end of the ring.
//
// Locking (see queue.cpp, "locking and recovery"). A FIFO queue has two
// robust locks: putters take the put lock and own the put side (the tail and
// the free space beyond it), getters take the get lock and own the get side
// (the head, read_pos and the headers of published records). Each side
// journals its changes in its own journal; the two sides meet only through
// the published words (pub_*), written after a commit, so a reader on the
// other side never sees a change that a crash could still roll back. Rare
// operations that touch both sides take both locks, put lock first, and
// journal in the get journal. LIFO/PRIORITY queues use the get lock alone.

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
constexpr uint64_t kHotWindow = 4 << 20;  // see Queue::claim_space
// Rings of kSlackFrom bytes or more are kRingSlack longer than their capacity
// (see QueueShared::ring_slack).
constexpr uint64_t kSlackFrom = 16 << 20;
constexpr uint64_t kRingSlack = 2 << 20;
constexpr int64_t kReapIntervalNs = 100'000'000;        // while waiting
constexpr int64_t kPromptReapIntervalNs = 1'000'000;     // before reporting EMPTY/FULL
constexpr int64_t kReaderAliveMemoNs = 1'000'000;  // see Queue::reader_alive

inline uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }
inline uint64_t record_size(uint64_t len) { return kHeader + align8(len); }

}  // namespace queue_detail
using namespace queue_detail;  // internal header: core/queue only

struct QueueShared {
  // Fixed at creation.
  uint32_t order, format, joinable;
  // Ring bytes beyond the capacity, which records never fill: in a full ring
  // a putter then writes lines its getter read ~2 MiB ago, no longer in that
  // core's cache, not the ones it has just read (1 MiB messages: +30%).
  // Was padding: 0 in queues made before it; older libraries fill the slack.
  uint32_t ring_slack;
  uint64_t max_items, ring_bytes, max_message, heap_capacity, heap_offset, ring_offset;
  // Changes (journaled) only under both locks, so either lock reads it exactly.
  uint64_t closed;
  // The start of the tail's lap, as the last next_lap() saw it (see offset).
  // Any multiple of ring_bytes is a correct value, only a slower one. It
  // lives in bytes that were padding, zero in queues made before it and
  // unread by older libraries, so the layout version stays.
  mutable uint64_t lap_start;

  // ---- put side: written by putters only (and under both locks) ----
  alignas(64) RobustMutex put_mutex;  // FIFO only
  // Every word here changes only through a Transaction: on put_journal under
  // the put lock alone, on get_journal under both locks.
  struct PutState {
    uint64_t tail;              // [head, tail) holds records
    uint64_t produced;          // records ever made Ready by puts
    uint64_t next_seq;          // LIFO/PRIORITY order
    uint64_t reserved;          // Reserved records (count toward max_items)
    uint64_t unfinished_added;  // joinable: puts (unfinished = this - tasks_done)
  } ps;
  // Counters of the put side: plain adds under the put lock.
  std::atomic<uint64_t> puts, bytes_put, last_put_unix_ms;
  // What getters read of the put side: committed values only.
  alignas(64) std::atomic<uint64_t> pub_tail, pub_produced;
  alignas(64) Journal put_journal;

  // ---- get side: written by getters only (and under both locks) ----
  alignas(64) RobustMutex get_mutex;  // the one lock of LIFO/PRIORITY
  // Every word here, of the heap and of record headers in [head, tail)
  // changes only through a Transaction on get_journal.
  struct GetState {
    uint64_t head;
    uint64_t read_pos;    // FIFO: no Ready record lies in [head, read_pos)
    uint64_t consumed;    // records taken, less those given back: qsize() = produced - consumed
    uint64_t reading;     // Reading records
    uint64_t leased;      // Leased records
    uint64_t tasks_done;  // joinable
    uint64_t heap_size;
  } cs;
  std::atomic<uint64_t> gets, bytes_got, last_get_unix_ms;
  // What putters read of the get side: committed values only.
  alignas(64) std::atomic<uint64_t> pub_head, pub_consumed;
  alignas(64) Journal get_journal;

  // Wake-ups: a futex word per condition, and how many sleep on it, so that
  // nobody makes a syscall when nobody sleeps. Sleepers register holding
  // every lock; wakers check holding their side's lock.
  alignas(64) WakeWord not_empty;  // getters sleep here
  alignas(64) WakeWord not_full;   // putters
  alignas(64) WakeWord all_done;   // joiners
  // Rare counters, bumped under either lock: atomic adds.
  alignas(64) std::atomic<uint64_t> timeouts, owner_dead_recoveries, redeliveries;

  char* base() { return reinterpret_cast<char*>(this); }
  uint64_t* heap() { return reinterpret_cast<uint64_t*>(base() + heap_offset); }
  char* ring() { return base() + ring_offset; }
  uint64_t capacity() const { return ring_bytes - ring_slack; }  // what records may fill
  // The place of a position in the ring. Every operation makes several: a
  // mask when ring_bytes is a power of two (the default 1 MiB ring is); else
  // a subtraction from lap_start, for positions within a lap of it, which
  // all live ones are. A divide on every call halved such queues' message
  // rate; it is left for the rare position far from the tail. (The check
  // stays this small, with no call in it: more code here, inlined into
  // every loop over records, cost power-of-two queues' batches 8-10%; so
  // did reading lap_start as an atomic, which kept GCC from hoisting other
  // loads out of those loops. A volatile read happens exactly once, like the
  // kernel's READ_ONCE, and an aligned word is never torn.)
  static uint64_t read_once(const uint64_t& word) { return *static_cast<const volatile uint64_t*>(&word); }
  uint64_t offset(uint64_t pos) const {
    const uint64_t n = ring_bytes;
    if ((n & (n - 1)) == 0) return pos & (n - 1);
    const uint64_t d = pos + n - read_once(lap_start);  // huge when pos lies before
    if (d < n) return d;                                // the lap before lap_start
    if (d < 2 * n) return d - n;                        // lap_start's lap
    return pos % n;
  }
  // The first position of the lap after pos's, which becomes lap_start: a
  // putter moving the tail there calls it.
  uint64_t next_lap(uint64_t pos) const {
    const uint64_t start = pos + to_end(pos);
    *static_cast<volatile uint64_t*>(&lap_start) = start;
    return start;
  }
  uint64_t to_end(uint64_t pos) const { return ring_bytes - offset(pos); }  // bytes left before the ring wraps
  // A position past any implicit pad at the end of the ring.
  uint64_t skip_implicit_pad(uint64_t pos) const {
    uint64_t left = to_end(pos);
    return left < kHeader ? pos + left : pos;
  }
  RecordHeader* record(uint64_t pos) { return reinterpret_cast<RecordHeader*>(ring() + offset(pos)); }
  char* payload(uint64_t pos) { return ring() + offset(pos) + kHeader; }

  // Messages waiting, from the published words (no lock needed).
  uint64_t published_count() const {
    uint64_t c = pub_consumed.load(std::memory_order_acquire);
    uint64_t p = pub_produced.load(std::memory_order_acquire);
    return p > c ? p - c : 0;
  }
};

// Fields added in former padding must not move anything older.
static_assert(offsetof(QueueShared, put_mutex) == 128, "QueueShared's layout moved: bump kLayoutVersion");

namespace queue_detail {
inline uint64_t load(const uint64_t& w) { return load_word(&w); }
// Counters change only under their side's lock: a plain add, no locked instruction.
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
