#include "core/queue/queue.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "core/json/validate.hpp"
#include "core/base64.hpp"
#include "core/memcopy.hpp"
#include "core/names.hpp"
#include "core/sync/futex.hpp"
#include "core/sync/journal.hpp"
#include "core/sync/robust_mutex.hpp"
#include "core/queue/layout.hpp"

namespace polyipc {


// ---- opening ---------------------------------------------------------------

std::unique_ptr<Queue> Queue::open(const std::string& name, OpenMode mode, const QueueOptions& o, Kind kind) {
  check_name(name, kind_name(kind));
  const std::string label = format("%s '%s'", kind_name(kind), name.c_str());  // "queue 'jobs'", "pool 'jobs'"
  auto bad = [&](const char* what) { throw Error(Status::InvalidArg, format("%s: %s", label.c_str(), what)); };
  if (static_cast<uint32_t>(o.order) > 2) bad("order must be FIFO, LIFO or PRIORITY");
  if (static_cast<uint32_t>(o.format) > 1) bad("format must be JSON or BYTES");
  if (o.mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (o.capacity_bytes < 256) bad("capacity_bytes must be at least 256");
  if (o.capacity_bytes > (uint64_t{1} << 40)) bad("capacity_bytes must be at most 1 TiB");

  const uint64_t capacity = align8(o.capacity_bytes);
  const uint64_t largest = capacity - kHeader;
  uint64_t max_message = o.max_message_bytes == 0 ? largest : o.max_message_bytes;
  if (max_message > largest)
    throw Error(Status::InvalidArg, format("%s: max_message_bytes %llu does not fit capacity_bytes %llu",
                                           label.c_str(), (unsigned long long)max_message,
                                           (unsigned long long)capacity));
  uint64_t heap_capacity = 0;
  if (o.order != Order::Fifo) {
    heap_capacity = capacity / kMinRecord;
    if (o.max_items) heap_capacity = std::min(heap_capacity, o.max_items);
  }
  const uint64_t heap_offset = (sizeof(QueueShared) + 63) & ~uint64_t{63};
  const uint64_t ring_offset = (heap_offset + heap_capacity * 8 + 63) & ~uint64_t{63};

  SegmentSpec spec;
  spec.kind = kind;
  // Large rings get kRingSlack bytes beyond what records may fill (layout.hpp).
  const uint64_t slack = capacity >= kSlackFrom ? kRingSlack : 0;
  spec.body_size = ring_offset + capacity + slack;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) QueueShared();
    s->order = static_cast<uint32_t>(o.order);
    s->format = static_cast<uint32_t>(o.format);
    s->joinable = o.joinable ? 1 : 0;
    s->max_items = o.max_items;
    s->ring_bytes = capacity + slack;
    s->ring_slack = static_cast<uint32_t>(slack);
    s->max_message = max_message;
    s->heap_capacity = heap_capacity;
    s->heap_offset = heap_offset;
    s->ring_offset = ring_offset;
    s->put_mutex.init();
    s->get_mutex.init();
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const QueueShared*>(body);
    const char* n = label.c_str();
    if (s->ring_bytes <= s->ring_slack || s->ring_bytes % 8 || s->order > 2 || s->format > 1)
      throw Error(Status::Incompatible, format("%s: damaged queue header", n));
    if (!o.check_existing) return;
    static const char* orders[] = {"FIFO", "LIFO", "PRIORITY"};
    static const char* formats[] = {"JSON", "BYTES"};
    if (s->order != static_cast<uint32_t>(o.order))
      throw Error(Status::Incompatible, format("%s: exists with order %s, opened as %s", n, orders[s->order],
                                               orders[static_cast<uint32_t>(o.order)]));
    if (s->format != static_cast<uint32_t>(o.format))
      throw Error(Status::Incompatible, format("%s: exists with format %s, opened as %s", n,
                                               formats[s->format], formats[static_cast<uint32_t>(o.format)]));
    if (s->joinable != (o.joinable ? 1u : 0u))
      throw Error(Status::Incompatible, format("%s: exists %s joinable, opened as %s", n,
                                               s->joinable ? "as" : "not", o.joinable ? "joinable" : "not joinable"));
  };

  std::unique_ptr<Queue> q(new Queue());
  q->segment_ = Segment::open(name, mode, spec);
  q->label_ = label;
  q->s_ = static_cast<QueueShared*>(q->segment_->body());
  q->tally_.init(*q->segment_, {&q->s_->not_empty.sleepers, &q->s_->not_full.sleepers, &q->s_->all_done.sleepers});
  return q;
}

Queue::~Queue() = default;

// ---- locking and recovery --------------------------------------------------
//
// FIFO: putters take the put lock, getters the get lock (layout.hpp). Each
// side publishes what the other reads (pub_*) only after its transaction has
// committed, so a reader never acts on a change that a crash rolls back; a
// published value may lag (a holder died between commit and publish), which
// only makes the other side see less: recovery publishes again. What touches
// both sides (waiting to sleep, compaction, reaping, large messages, closing,
// joining) takes both locks, put lock first, and journals on the get side: a
// getter holding the get lock never waits for the put lock, so no deadlock.
//
// A dead holder: whoever takes the put lock with OWNER_DEAD also takes the get
// lock before touching anything (the dead one may have been in a both-locks
// transaction, journaled on the get side), rolls both journals back, publishes
// and reaps. Whoever takes the get lock alone with OWNER_DEAD rolls back the
// get journal (which also restores put-side words of a both-locks
// transaction: the put lock is then held by nobody, or by a recoverer waiting
// for the get lock), publishes the get side, then reaps under both locks.

bool Queue::fifo() const noexcept { return s_->order == static_cast<uint32_t>(Order::Fifo); }

namespace {
Status acquire(RobustMutex& m, const Deadline& deadline, bool* dead) {
  // A non-blocking call still waits for the lock (held for microseconds), so
  // get_nowait answers EMPTY or a message, not TIMEOUT, under contention; the
  // bound only matters if the holder is stopped.
  constexpr int64_t kNonBlockingLockWaitNs = 100'000'000;
  Status st = m.lock(deadline.is_immediate() ? Deadline::after(kNonBlockingLockWaitNs) : deadline);
  if (st == Status::OwnerDead) {
    *dead = true;
    return Status::Ok;
  }
  return st;
}
}  // namespace

Status Queue::lock_side(Side side, const Deadline& deadline) {
  QueueShared& s = *s_;
  if (!fifo()) side = Side::Both;  // one lock
  bool put_dead = false, get_dead = false;
  if (side == Side::Get) {
    Status st = acquire(s.get_mutex, deadline, &get_dead);
    while (st == Status::Ok && get_dead) {
      roll_back(s.get_journal, s.base());
      publish_get_side();
      s.owner_dead_recoveries.fetch_add(1, std::memory_order_relaxed);
      s.get_mutex.mark_consistent();
      s.get_mutex.unlock();
      // Give back what the dead process owned, under both locks.
      lock_side(Side::Both, Deadline::forever());
      reap_dead_owners(true);
      unlock_side(Side::Both);
      get_dead = false;
      st = acquire(s.get_mutex, Deadline::forever(), &get_dead);
    }
    return st;
  }
  if (side == Side::Put) {
    Status st = acquire(s.put_mutex, deadline, &put_dead);
    if (st != Status::Ok || !put_dead) return st;
    acquire(s.get_mutex, Deadline::forever(), &get_dead);
    recover_both(put_dead, get_dead);
    s.get_mutex.unlock();
    return Status::Ok;
  }
  if (fifo()) {
    Status st = acquire(s.put_mutex, deadline, &put_dead);
    if (st != Status::Ok) return st;
  }
  Status st = acquire(s.get_mutex, put_dead ? Deadline::forever() : deadline, &get_dead);
  if (st != Status::Ok) {
    if (fifo()) s.put_mutex.unlock();
    return st;
  }
  if (put_dead || get_dead) recover_both(put_dead, get_dead);
  return Status::Ok;
}

void Queue::unlock_side(Side side) noexcept {
  QueueShared& s = *s_;
  if (!fifo()) side = Side::Both;
  switch (side) {
    case Side::Put: s.put_mutex.unlock(); break;
    case Side::Get: s.get_mutex.unlock(); break;
    case Side::Both:
      publish_put_side();
      publish_get_side();
      s.get_mutex.unlock();
      if (fifo()) s.put_mutex.unlock();
      break;
  }
}

// Both locks held: undo the dead holders' half-done changes, publish, then
// give back whatever they owned (records being filled, read or leased).
void Queue::recover_both(bool put_dead, bool get_dead) {
  QueueShared& s = *s_;
  roll_back(s.get_journal, s.base());
  roll_back(s.put_journal, s.base());
  publish_put_side();
  publish_get_side();
  s.owner_dead_recoveries.fetch_add(1, std::memory_order_relaxed);
  if (put_dead) s.put_mutex.mark_consistent();
  if (get_dead) s.get_mutex.mark_consistent();
  try {
    reap_dead_owners(true);
  } catch (...) {
    unlock_side(Side::Both);
    throw;
  }
}

void Queue::publish_put_side() noexcept {
  QueueShared& s = *s_;
  s.pub_tail.store(s.ps.tail, std::memory_order_release);
  s.pub_produced.store(s.ps.produced, std::memory_order_release);
}

void Queue::publish_get_side() noexcept {
  QueueShared& s = *s_;
  s.pub_head.store(s.cs.head, std::memory_order_release);
  s.pub_consumed.store(s.cs.consumed, std::memory_order_release);
}

// Under both locks: the put side's own words. Under the get lock alone: what
// the put side published (produced first: its tail then covers those records).
Queue::View Queue::both_view() const noexcept { return {s_->ps.tail, s_->ps.produced}; }
Queue::View Queue::get_view() noexcept {
  uint64_t produced = s_->pub_produced.load(std::memory_order_acquire);
  seen_put_ = {s_->pub_tail.load(std::memory_order_acquire), produced};
  return seen_put_;
}
uint64_t Queue::seen_head() noexcept { return seen_head_ = s_->pub_head.load(std::memory_order_acquire); }

uint64_t Queue::count() const noexcept { return s_->ps.produced - s_->cs.consumed; }

// Holds a side's locks for a scope; taken with a deadline, so check ok().
class Queue::Locked {
 public:
  Locked(Queue& q, Side side, const Deadline& d) : q_(q), side_(side), status_(q.lock_side(side, d)) {}
  Locked(Queue& q, Side side, const Deadline& d, ErrorText& error) : Locked(q, side, d) {
    if (status_ != Status::Ok) error.set("%s: timed out waiting for the lock", q.label());
  }
  Locked(Queue& q, const Deadline& d) : Locked(q, Side::Both, d) {}
  Locked(Queue& q, const Deadline& d, ErrorText& error) : Locked(q, Side::Both, d, error) {}
  ~Locked() { release(); }
  void release() noexcept {
    if (status_ == Status::Ok) q_.unlock_side(side_);
    status_ = Status::Timeout;
  }
  void relock() { status_ = q_.lock_side(side_, Deadline::forever()); }
  Status status() const { return status_; }

 private:
  Queue& q_;
  Side side_;
  Status status_;
};

// Both locks held.
void Queue::reap_dead_owners(bool force, int64_t interval_ns) {
  QueueShared& s = *s_;
  if (!force) {
    if (s.ps.reserved + s.cs.reading + s.cs.leased == 0) return;
    int64_t now = monotonic_ns();
    if (now - last_reap_ns_.load(std::memory_order_relaxed) < interval_ns) return;
    last_reap_ns_.store(now, std::memory_order_relaxed);
  }
  std::unordered_map<uint64_t, bool> alive;  // liveness asked once per owner
  for (uint64_t pos = s.cs.head; pos < s.ps.tail;) {
    pos = s.skip_implicit_pad(pos);
    if (pos >= s.ps.tail) break;
    RecordHeader* r = s.record(pos);
    uint64_t next = pos + record_size(r->len);
    if (r->state == kReserved || r->state == kReading || r->state == kLeased) {
      auto it = alive.find(r->owner);
      bool owner_alive = it != alive.end() ? it->second : (alive[r->owner] = is_alive(r->owner));
      if (!owner_alive) release_from_dead_owner(pos);
    }
    pos = next;
  }
  {
    Transaction tx(s.get_journal, s.base());
    advance_head(tx, s.ps.tail);
  }
  publish_put_side();
  publish_get_side();
  if (count() > 0) s.not_empty.wake_sleepers(tally_);
  s.not_full.wake_sleepers(tally_);
}

// A message to take, or the end of the stream (closed, and nothing written
// or taken that could still come back). Both locks held.
bool Queue::getter_may_proceed() const noexcept {
  const QueueShared& s = *s_;
  if (count() > 0) return true;
  return s.closed && s.ps.reserved + s.cs.reading + s.cs.leased == 0;
}

// The same, read without a lock by spinners: a hint only.
bool Queue::getter_may_stop_spinning() const noexcept {
  const QueueShared& s = *s_;
  if (s.published_count() > 0) return true;
  return load(s.closed) && load(s.ps.reserved) + load(s.cs.reading) + load(s.cs.leased) == 0;
}

// The get lock held (FIFO) or both.
void Queue::return_dead_readers() {
  QueueShared& s = *s_;
  const uint64_t end = fifo() ? s.cs.read_pos : s.ps.tail;
  for (uint64_t pos = s.cs.head; pos < end && s.cs.reading > 0;) {
    pos = s.skip_implicit_pad(pos);
    if (pos >= end) break;
    RecordHeader* r = s.record(pos);
    if (r->state == kReading && !reader_alive(r->owner)) release_from_dead_owner(pos);
    pos += record_size(r->len);
  }
}

// Whether the process reading (or borrowing) a record lives. Every get asks
// while another process holds a borrowed message, so a live answer is kept
// for kReaderAliveMemoNs: a reader that dies is noticed that much later.
bool Queue::reader_alive(uint64_t owner) noexcept {
  if (owner == self_token()) return true;
  const int64_t now = monotonic_ns();
  if (owner == alive_reader_ && now < alive_reader_until_ns_) return true;
  if (!is_alive(owner)) return false;
  alive_reader_ = owner;
  alive_reader_until_ns_ = now + kReaderAliveMemoNs;
  return true;
}

// A record whose owner died: a half-written one (Reserved, both locks held) is
// dropped, a taken one (Reading, Leased) goes back to the queue. One transaction.
void Queue::release_from_dead_owner(uint64_t pos) {
  QueueShared& s = *s_;
  RecordHeader* r = s.record(pos);
  Transaction tx(s.get_journal, s.base());
  if (r->state == kReserved) {
    tx.set(s.ps.reserved, s.ps.reserved - 1);
    tx.set(r->state, kDead);
    return;
  }
  if (r->state == kReading) tx.set(s.cs.reading, s.cs.reading - 1);
  else tx.set(s.cs.leased, s.cs.leased - 1);
  tx.set(r->state, kReady);
  tx.set(r->owner, 0);
  tx.set(s.cs.consumed, s.cs.consumed - 1);
  make_available(tx, pos);
  s.redeliveries.fetch_add(1, std::memory_order_relaxed);
}

// ---- waiting ---------------------------------------------------------------

// Called with both locks held; returns with them held. Spins briefly first,
// since the other side often answers within microseconds and a sleep costs
// ~20 us. Sleepers register holding both locks and wakers check for them
// holding their side's lock, so a wake-up cannot slip between the check and
// the registration.
void Queue::sleep_on(WakeWord& word, const Deadline& deadline, uint64_t record_size) {
  bool getter = &word == &s_->not_empty;
  if (&word != &s_->all_done) {
    unlock();
    spin_until_changed(getter, deadline);
    lock(Deadline::forever());
    bool changed = getter ? getter_may_proceed() : (s_->closed || fits(record_size));
    if (changed || deadline.expired()) return;
  }
  tally_.enter(word.sleepers);
  uint32_t seen = word.observe();
  bool must_reap = s_->ps.reserved + s_->cs.reading + s_->cs.leased > 0;
  unlock();
  // Sleep in slices while others own records, so dead owners are noticed.
  const int64_t asleep_at = monotonic_ns();
  futex_wait(&word.seq, seen, deadline.until_ns(must_reap ? kReapIntervalNs : -1));
  if (&word != &s_->all_done && word.seq.load(std::memory_order_relaxed) != seen)
    (getter ? getter_spin_ : putter_spin_).woke_after(monotonic_ns() - asleep_at);
  tally_.leave(word.sleepers);
  lock(Deadline::forever());
  reap_dead_owners(false);
}

// Without a lock, on the published words: returns when the other side made a
// change worth a look, or after the getters' or putters' spin budget. Returns
// the looks it took (0: no change).
int Queue::spin_until_changed(bool for_getter, const Deadline& deadline) {
  const QueueShared& s = *s_;
  const uint64_t head0 = s.pub_head.load(std::memory_order_relaxed);
  const uint64_t consumed0 = s.pub_consumed.load(std::memory_order_relaxed);
  return spin_within(
      for_getter ? getter_spin_ : putter_spin_,
      [&] {
        return for_getter ? getter_may_stop_spinning()
                          : (load(s.closed) || s.pub_head.load(std::memory_order_relaxed) != head0 ||
                             s.pub_consumed.load(std::memory_order_relaxed) != consumed0);
      },
      deadline.until_ns(-1));
}

// ---- putting ---------------------------------------------------------------

Status Queue::check_message(const void* data, size_t len, ErrorText& error, size_t index, bool batch) const {
  Status st = check_message_body(data, len, error);
  if (st != Status::Ok && batch) {  // name the culprit; formatted only on failure
    size_t used = std::strlen(error.text);
    std::snprintf(error.text + used, sizeof error.text - used, " (message %zu of the batch)", index);
  }
  return st;
}

Status Queue::check_message_body(const void* data, size_t len, ErrorText& error) const {
  if (len > 0 && data == nullptr) {
    error.set("%s: NULL data with length %zu", label(), len);
    return Status::InvalidArg;
  }
  if (len > s_->max_message) {
    error.set("%s: message of %zu bytes exceeds max_message_bytes %llu", label(), len,
              (unsigned long long)s_->max_message);
    return Status::TooLarge;
  }
  if (s_->format == static_cast<uint32_t>(Format::Json) && !messages_prevalidated_) {
    json::ValidationError ve;
    if (!json::validate(static_cast<const char*>(data), len, json::kMaxDepth, &ve, &shapes_)) {
      error.set("%s: invalid JSON at byte %zu: %s", label(), ve.offset, ve.reason);
      return Status::InvalidJson;
    }
  }
  return Status::Ok;
}

bool Queue::fits(uint64_t rec) const noexcept {
  const QueueShared& s = *s_;
  if (s.max_items && count() + s.ps.reserved >= s.max_items) return false;
  return has_room(rec);
}

bool Queue::has_room(uint64_t rec) const noexcept { return has_room_at(s_->ps.tail, s_->cs.head, rec); }

bool Queue::has_room_at(uint64_t tail, uint64_t head, uint64_t rec) const noexcept {
  const QueueShared& s = *s_;
  uint64_t used = tail - head;
  if (used == 0) return rec <= s.capacity();
  uint64_t to_end = s.to_end(tail);
  uint64_t need = rec <= to_end ? rec : to_end + rec;
  return used + need <= s.capacity();
}

Status Queue::wait_for_room(uint64_t rec, const Deadline& deadline, ErrorText& error) {
  for (;;) {
    if (s_->closed) {
      error.set("%s: closed for writing", label());
      return Status::Closed;
    }
    if (fits(rec) || compact(rec)) return Status::Ok;
    if (deadline.expired()) {
      // Before saying FULL, give back what dead processes still hold.
      if (s_->ps.reserved + s_->cs.reading + s_->cs.leased > 0) {
        reap_dead_owners(false, kPromptReapIntervalNs);
        if (fits(rec) || compact(rec)) return Status::Ok;
      }
      s_->timeouts.fetch_add(1, std::memory_order_relaxed);
      bool full = deadline.is_immediate();
      error.set("%s: %s (%llu messages, %llu of %llu bytes used)", label(),
                full ? "full" : "timed out waiting for room", (unsigned long long)count(),
                (unsigned long long)(s_->ps.tail - s_->cs.head), (unsigned long long)s_->capacity());
      return full ? Status::Full : Status::Timeout;
    }
    reap_dead_owners(false);
    if (!fits(rec)) sleep_on(s_->not_full, deadline, rec);
  }
}

// The ring is byte-full but holes may sit behind a record that blocks the
// head (a long lease, or a waiting record). Moving that record lets the head
// pass the holes: forward over the dead records right after it (keeps FIFO
// order, needs no free space), or else to the tail (leases; in LIFO/PRIORITY
// also waiting records, whose order does not depend on their place).
// Every step is crash-safe; true if rec fits now.
bool Queue::compact(uint64_t rec) {
  QueueShared& s = *s_;
  if (s.max_items && count() + s.ps.reserved >= s.max_items) return false;
  for (uint64_t moved = 0; !has_room(rec) && moved < s.capacity();) {
    uint64_t pos = s.skip_implicit_pad(s.cs.head);
    if (pos >= s.ps.tail) return false;
    RecordHeader* r = s.record(pos);
    const bool heap_order = s.order != static_cast<uint32_t>(Order::Fifo);
    if (!(r->state == kLeased || r->state == kReady)) return false;
    const uint64_t size = record_size(r->len);
    uint64_t to = slide_target(pos, size);
    if (to == UINT64_MAX) {
      if (!(r->state == kLeased || heap_order) || !has_room(size)) return false;
      to = claim_space(size);
    }
    std::memcpy(s.record(to), r, size);  // into dead or free space: nobody reads it yet
    Transaction tx(s.get_journal, s.base());
    if (to >= s.ps.tail) {
      tx.set(s.ps.tail, to + size);
    } else {  // the dead run shrinks to end where the copy begins
      RecordHeader* run = s.record(pos + size);
      tx.set(run->len, to - (pos + size) - kHeader);
    }
    if (r->state == kReady && heap_order) {
      uint64_t* h = s.heap();
      for (uint64_t i = 0; i < s.cs.heap_size; ++i)
        if (h[i] == pos) {
          tx.set(h[i], to);
          break;
        }
    }
    tx.set(r->state, kDead);
    advance_head(tx, s.ps.tail);
    moved += size;
  }
  return fits(rec);
}

// Where the record at pos can slide to inside the run of dead records that
// follows it (within one lap of the ring), or UINT64_MAX. The run is first
// merged into one dead record (committed), so that a copy written into its
// far end is never read as record headers, even after a crash.
uint64_t Queue::slide_target(uint64_t pos, uint64_t size) {
  QueueShared& s = *s_;
  const uint64_t first = pos + size;
  const uint64_t lap_end = pos + s.to_end(pos);
  uint64_t end = first;
  while (end < s.ps.tail && end < lap_end) {
    if (s.to_end(end) < kHeader) {
      end = lap_end;
      break;
    }
    RecordHeader* d = s.record(end);
    if (d->state != kDead && d->state != kPad) break;
    end += record_size(d->len);
  }
  if (end > s.ps.tail || end - first < size + kHeader) return UINT64_MAX;
  RecordHeader* run = s.record(first);
  Transaction tx(s.get_journal, s.base());
  tx.set(run->state, kDead);
  tx.set(run->len, end - first - kHeader);
  return end - size;
}

// Makes room for a record at the tail (writing a pad if needed) and returns
// its position; the caller publishes the new tail in its transaction. Both locks held.
uint64_t Queue::claim_space(uint64_t rec) {
  QueueShared& s = *s_;
  uint64_t tail = s.ps.tail;
  uint64_t to_end = s.to_end(tail);
  // Empty: restart at the beginning of the ring when the record does not fit
  // before its end, and also when a large record would go beyond the first
  // kHotWindow bytes: copies into memory the caches still hold run several
  // times faster than ones that walk a big ring through DRAM. (Only when
  // empty: a pad over the rest of the ring would hold its bytes meanwhile.)
  const bool far = rec >= kLargeMessage && s.offset(tail) >= kHotWindow;
  if ((rec > to_end || far) && s.ps.tail == s.cs.head) {
    const uint64_t start = s.next_lap(tail);
    Transaction tx(s.get_journal, s.base());
    tx.set(s.cs.head, start);
    tx.set(s.ps.tail, start);
    tx.set(s.cs.read_pos, start);
    return start;
  }
  // Streaming: the one record left is being copied out by a getter, or a
  // getter sleeps waiting for it (a fast consumer, as one that borrows: it
  // takes that record first on waking). Wrap to the start now, behind a pad
  // over the rest of the ring; the pad holds its bytes only until that record
  // is taken and the head passes both.
  const auto streaming = [&] {
    if (s.cs.reading == 1) return only_record_is(kReading);  // (a borrow looks the same: the pad lasts as long)
    return s.cs.reading == 0 && s.not_empty.sleepers.load(std::memory_order_relaxed) > 0 && only_record_is(kReady);
  };
  if (far && to_end >= kHeader && streaming() &&
      (tail - s.cs.head) + to_end + rec <= s.capacity()) {
    RecordHeader* pad = s.record(tail);  // free space: published with the record
    pad->len = to_end - kHeader;
    pad->state = kPad;
    pad->owner = 0;
    return s.next_lap(tail);
  }
  return place_at(tail, rec);
}

// FIFO, both locks held: [head, tail) is one record, and it is in `state`
// (nothing leased or reserved besides).
bool Queue::only_record_is(uint64_t state) const noexcept {
  QueueShared& s = *s_;
  if (!fifo() || s.cs.leased != 0 || s.ps.reserved != 0) return false;
  const uint64_t pos = s.skip_implicit_pad(s.cs.head);
  if (pos >= s.ps.tail) return false;
  const RecordHeader* r = s.record(pos);
  return r->state == state && pos + record_size(r->len) == s.ps.tail;
}

// Where a record of rec bytes goes when the tail is at `tail`, writing a pad
// over the end of the ring if it does not fit there.
uint64_t Queue::place_at(uint64_t tail, uint64_t rec) {
  QueueShared& s = *s_;
  uint64_t to_end = s.to_end(tail);
  if (rec <= to_end) return tail;
  if (to_end >= kHeader) {  // free space: no journal needed until tail moves
    RecordHeader* pad = s.record(tail);
    pad->len = to_end - kHeader;
    pad->state = kPad;
    pad->owner = 0;
  }
  return s.next_lap(tail);
}

// Writes a Ready record at pos, in free space: invisible until the tail moves.
void Queue::write_record(uint64_t pos, const void* data, size_t len, int64_t priority, uint64_t seq) {
  RecordHeader* r = s_->record(pos);
  r->len = len;
  r->state = kReady;
  r->owner = 0;
  r->priority = priority;
  r->seq = seq;
  copy_bytes(s_->payload(pos), data, len);
}

// Publishes a message whose bytes fit under the lock. Both locks held.
void Queue::commit_put(const void* data, size_t len, int64_t priority) {
  QueueShared& s = *s_;
  uint64_t rec = record_size(len);
  uint64_t pos = claim_space(rec);
  write_record(pos, data, len, priority, s.ps.next_seq);
  Transaction tx(s.get_journal, s.base());
  tx.set(s.ps.tail, pos + rec);
  tx.set(s.ps.produced, s.ps.produced + 1);
  tx.set(s.ps.next_seq, s.ps.next_seq + 1);
  if (s.joinable) tx.set(s.ps.unfinished_added, s.ps.unfinished_added + 1);
  if (!fifo()) heap_push(tx, pos);
  tx.commit();
  bump(s.puts);
  bump(s.bytes_put, len);
}

// FIFO, a message below kLargeMessage, under the put lock alone: room is
// judged from the published head (which only lags, so the judgement errs on
// the safe side), the record is written into free space, and one transaction
// on the put journal moves the tail. false: nothing done, take the general
// path (closed, no room after a short spin, or an empty ring to restart).
bool Queue::put_fast(const void* data, size_t len, const Deadline& deadline, Status* st, ErrorText& error) {
  QueueShared& s = *s_;
  const uint64_t rec = record_size(len);
  Locked lk(*this, Side::Put, deadline, error);
  if ((*st = lk.status()) != Status::Ok) return true;
  for (int attempt = 0;; ++attempt) {
    if (s.closed) return false;
    const uint64_t tail = s.ps.tail;
    uint64_t head = seen_head_;
    if (!has_room_at(tail, head, rec)) head = seen_head();
    const bool below_max =
        !s.max_items || s.ps.produced - s.pub_consumed.load(std::memory_order_acquire) + s.ps.reserved < s.max_items;
    if (below_max && has_room_at(tail, head, rec)) {
      if (tail == head && rec > s.to_end(tail)) return false;  // restart: moves the head
      const uint64_t pos = place_at(tail, rec);
      write_record(pos, data, len, 0, 0);
      {
        Transaction tx(s.put_journal, s.base());
        tx.set(s.ps.tail, pos + rec);
        tx.set(s.ps.produced, s.ps.produced + 1);
        if (s.joinable) tx.set(s.ps.unfinished_added, s.ps.unfinished_added + 1);
      }
      publish_put_side();
      bump(s.puts);
      bump(s.bytes_put, len);
      s.last_put_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
      s.not_empty.wake_sleepers(tally_);
      *st = Status::Ok;
      return true;
    }
    if (attempt > 0 || deadline.is_immediate()) return false;
    lk.release();
    linger_for_room(rec, deadline);
    lk.relock();
  }
}

// Without a lock: a putter that found the ring full lingers (RoomLinger)
// until half of it is free, by bytes and by items (or room for its record,
// if more); or, while that does not pay, spins briefly as before.
void Queue::linger_for_room(uint64_t rec, const Deadline& deadline) noexcept {
  const QueueShared& s = *s_;
  if (!putter_linger_.worth_it()) {
    spin_until_changed(false, deadline);
    return;
  }
  const uint64_t want = std::max(rec, s.capacity() / 2);
  putter_linger_.linger(
      deadline.until_ns(-1),
      [&] {
        if (load(s.closed)) return true;  // no room will come: the caller says CLOSED
        if (s.max_items && 2 * s.published_count() > s.max_items) return false;
        return s.pub_tail.load(std::memory_order_relaxed) - s.pub_head.load(std::memory_order_relaxed) + want <=
               s.capacity();
      },
      [&] { return s.pub_consumed.load(std::memory_order_relaxed); }, 2);
}

Status Queue::put(const void* data, size_t len, int64_t priority, const Deadline& deadline, ErrorText& error) {
  Status st = check_message(data, len, error, 0, false);
  if (st != Status::Ok) return st;
  if (s_->order != static_cast<uint32_t>(Order::Priority)) priority = 0;
  if (fifo() && len < kLargeMessage && put_fast(data, len, deadline, &st, error)) return st;
  const uint64_t rec = record_size(len);
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  st = wait_for_room(rec, deadline, error);
  if (st != Status::Ok) return st;
  QueueShared& s = *s_;
  if (len < kLargeMessage) {
    commit_put(data, len, priority);
  } else {  // claim the space, copy without the locks, then publish
    uint64_t pos = reserve_record(len, priority);
    unlock();
    copy_bytes(s.payload(pos), data, len);
    lock(Deadline::forever());
    publish_reserved(pos);
  }
  s.last_put_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
  s.not_empty.wake_sleepers(tally_);
  return Status::Ok;
}

// A Reserved record of len bytes at the tail, owned by this process: filled
// outside the locks, then published or dropped. Both locks held, room checked.
uint64_t Queue::reserve_record(size_t len, int64_t priority) {
  QueueShared& s = *s_;
  const uint64_t rec = record_size(len);
  uint64_t pos = claim_space(rec);
  RecordHeader* r = s.record(pos);
  r->len = len;
  r->state = kReserved;
  r->owner = self_token();
  r->priority = priority;
  r->seq = s.ps.next_seq;
  Transaction tx(s.get_journal, s.base());
  tx.set(s.ps.tail, pos + rec);
  tx.set(s.ps.reserved, s.ps.reserved + 1);
  tx.set(s.ps.next_seq, s.ps.next_seq + 1);
  return pos;
}

// The Reserved record at pos becomes Ready. Both locks held.
void Queue::publish_reserved(uint64_t pos) {
  QueueShared& s = *s_;
  RecordHeader* r = s.record(pos);
  Transaction tx(s.get_journal, s.base());
  tx.set(r->state, kReady);
  tx.set(r->owner, 0);
  tx.set(s.ps.reserved, s.ps.reserved - 1);
  tx.set(s.ps.produced, s.ps.produced + 1);
  if (s.joinable) tx.set(s.ps.unfinished_added, s.ps.unfinished_added + 1);
  make_available(tx, pos);
  tx.commit();
  bump(s.puts);
  bump(s.bytes_put, r->len);
}

// ---- zero copy ---------------------------------------------------------------

// A ticket names a record this process reserved or borrowed: its position.
// Both locks held; checks it lies in the ring's used part, on a record
// boundary the ring can hold a header at, in `state`, owned by this process.
bool Queue::owns_record(uint64_t pos, uint64_t state) const noexcept {
  QueueShared& s = *s_;
  if (pos < s.cs.head || pos >= s.ps.tail || pos % 8 != 0 || s.to_end(pos) < kHeader) return false;
  const RecordHeader* r = s.record(pos);
  return r->state == state && r->owner == self_token() && pos + record_size(r->len) <= s.ps.tail;
}

Status Queue::reserve(size_t len, int64_t priority, void** data, uint64_t* ticket, const Deadline& deadline,
                      ErrorText& error) {
  if (len > s_->max_message) {
    error.set("%s: reservation of %zu bytes exceeds max_message_bytes %llu", label(), len,
              (unsigned long long)s_->max_message);
    return Status::TooLarge;
  }
  if (s_->order != static_cast<uint32_t>(Order::Priority)) priority = 0;
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  Status st = wait_for_room(record_size(len), deadline, error);
  if (st != Status::Ok) return st;
  const uint64_t pos = reserve_record(len, priority);
  *data = s_->payload(pos);
  *ticket = pos;
  return Status::Ok;
}

Status Queue::commit(uint64_t ticket, bool publish, ErrorText& error) {
  QueueShared& s = *s_;
  // The bytes are this process's until published: check them without the locks.
  bool valid_json = true;
  json::ValidationError ve;
  if (publish && s.format == static_cast<uint32_t>(Format::Json)) {
    Locked lk(*this, Deadline::forever(), error);
    if (lk.status() != Status::Ok) return lk.status();
    if (!owns_record(ticket, kReserved)) return not_owned(ticket, "reserved", error);
    const uint64_t len = s.record(ticket)->len;
    lk.release();
    valid_json = json::validate(s.payload(ticket), len, json::kMaxDepth, &ve);
  }
  Locked lk(*this, Deadline::forever(), error);
  if (lk.status() != Status::Ok) return lk.status();
  if (!owns_record(ticket, kReserved)) return not_owned(ticket, "reserved", error);
  if (publish && valid_json) {
    publish_reserved(ticket);
    s.last_put_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
    s.not_empty.wake_sleepers(tally_);
    return Status::Ok;
  }
  {  // dropped: the space comes back once the head passes it
    Transaction tx(s.get_journal, s.base());
    tx.set(s.ps.reserved, s.ps.reserved - 1);
    tx.set(s.record(ticket)->state, kDead);
    advance_head(tx, s.ps.tail);
  }
  s.not_full.wake_sleepers(tally_);
  if (!publish) return Status::Ok;
  error.set("%s: invalid JSON at byte %zu: %s (the reservation was dropped)", label(), ve.offset, ve.reason);
  return Status::InvalidJson;
}

Status Queue::borrow(const void** data, size_t* len, uint64_t* ticket, const Deadline& deadline, ErrorText& error) {
  QueueShared& s = *s_;
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  uint64_t pos;
  Status st = wait_for_message(&pos, deadline, error);
  if (st != Status::Ok) return st;
  if (!intact(pos)) throw damaged(pos);
  RecordHeader* r = s.record(pos);
  {
    Transaction tx(s.get_journal, s.base());
    lend(tx, pos);
  }
  bump(s.gets);
  bump(s.bytes_got, r->len);
  s.last_get_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
  *data = s.payload(pos);
  *len = r->len;
  *ticket = pos;
  return Status::Ok;
}

Status Queue::release(uint64_t ticket, ErrorText& error) {
  QueueShared& s = *s_;
  Locked lk(*this, Deadline::forever(), error);
  if (lk.status() != Status::Ok) return lk.status();
  if (!owns_record(ticket, kReading)) return not_owned(ticket, "borrowed", error);
  {
    Transaction tx(s.get_journal, s.base());
    tx.set(s.cs.reading, s.cs.reading - 1);
    finish_take(tx, ticket, s.ps.tail);
  }
  s.not_full.wake_sleepers(tally_);
  return Status::Ok;
}

Status Queue::not_owned(uint64_t ticket, const char* what, ErrorText& error) const {
  error.set("%s: ticket %llu names no message %s by this process (released or committed already?)", label(),
            (unsigned long long)ticket, what);
  return Status::InvalidArg;
}

// FIFO, under the put lock alone: every record that fits, published in one
// transaction. false (nothing done): the first does not fit now, or the queue
// is closed: take the general path, which waits for the first.
bool Queue::put_many_fast(const void* const* data, const size_t* lens, size_t valid, size_t* done,
                          const Deadline& deadline) {
  QueueShared& s = *s_;
  Locked lk(*this, Side::Put, deadline);
  if (lk.status() != Status::Ok) return false;
  if (s.closed) return false;
  const uint64_t head = seen_head();
  const uint64_t waiting = s.ps.produced - s.pub_consumed.load(std::memory_order_acquire) + s.ps.reserved;
  uint64_t tail = s.ps.tail, bytes = 0;
  size_t n = 0;
  while (n < valid) {
    const uint64_t rec = record_size(lens[n]);
    if (s.max_items && waiting + n >= s.max_items) break;
    if (!has_room_at(tail, head, rec)) break;
    if (tail == head && rec > s.to_end(tail)) break;  // restart: the general path
    const uint64_t pos = place_at(tail, rec);
    write_record(pos, data[n], lens[n], 0, 0);
    tail = pos + rec;
    bytes += lens[n];
    ++n;
  }
  if (n == 0) return false;
  {
    Transaction tx(s.put_journal, s.base());
    tx.set(s.ps.tail, tail);
    tx.set(s.ps.produced, s.ps.produced + n);
    if (s.joinable) tx.set(s.ps.unfinished_added, s.ps.unfinished_added + n);
  }
  publish_put_side();
  bump(s.puts, n);
  bump(s.bytes_put, bytes);
  s.last_put_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
  s.not_empty.wake_sleepers(tally_);
  *done = n;
  return true;
}

Status Queue::put_many(const void* const* data, const size_t* lens, size_t count, size_t* done,
                       const Deadline& deadline, ErrorText& error) {
  *done = 0;
  if (count == 0) return Status::Ok;
  // Validate first, outside the lock; a bad message stops the batch there.
  size_t valid = 0;
  Status bad = Status::Ok;
  for (; valid < count; ++valid) {
    bad = check_message(data[valid], lens[valid], error, valid, true);
    if (bad != Status::Ok) break;
  }
  size_t n = 0;
  if (fifo() && valid > 0 && put_many_fast(data, lens, valid, &n, deadline)) {
    *done = n;
    if (n < valid) {  // the put lock excludes close_writes: full
      error.set("%s: full after %zu of %zu messages", label(), n, count);
      return Status::Full;
    }
    return bad;
  }
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  // Wait only for the first; then put what fits, as the header documents.
  Status st = valid > 0 ? wait_for_room(record_size(lens[0]), deadline, error) : Status::Ok;
  if (st != Status::Ok) return st;
  QueueShared& s = *s_;
  if (fifo()) {
    // Write every record that fits, then publish them all in one transaction.
    uint64_t tail = s.ps.tail, bytes = 0;
    while (n < valid && !s.closed) {
      const uint64_t rec = record_size(lens[n]);
      if (s.max_items && this->count() + s.ps.reserved + n >= s.max_items) break;
      uint64_t pos;
      if (n == 0 && tail == s.cs.head) {
        if (rec > s.capacity()) break;
        pos = claim_space(rec);  // may restart the empty ring at its beginning
      } else {
        if (!has_room_at(tail, s.cs.head, rec)) break;
        pos = place_at(tail, rec);
      }
      write_record(pos, data[n], lens[n], 0, 0);
      tail = pos + rec;
      bytes += lens[n];
      ++n;
    }
    if (n) {
      Transaction tx(s.get_journal, s.base());
      tx.set(s.ps.tail, tail);
      tx.set(s.ps.produced, s.ps.produced + n);
      if (s.joinable) tx.set(s.ps.unfinished_added, s.ps.unfinished_added + n);
      tx.commit();
      bump(s.puts, n);
      bump(s.bytes_put, bytes);
    }
  } else {
    while (n < valid && fits(record_size(lens[n])) && !s.closed) {
      commit_put(data[n], lens[n], 0);
      ++n;
    }
  }
  if (n) {
    s.last_put_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
    s.not_empty.wake_sleepers(tally_);
  }
  *done = n;
  if (n < valid) {
    bool closed = s.closed;
    error.set("%s: %s after %zu of %zu messages", label(), closed ? "closed for writing" : "full", n, count);
    return closed ? Status::Closed : Status::Full;
  }
  return bad;
}

// ---- getting ---------------------------------------------------------------

// The next Ready record, given what the put side holds (View), or UINT64_MAX.
uint64_t Queue::find_ready(const View& v) const noexcept {
  QueueShared& s = *s_;
  if (v.produced <= s.cs.consumed) return UINT64_MAX;
  if (!fifo()) return s.heap()[0];
  for (uint64_t pos = s.cs.read_pos; pos < v.tail;) {
    pos = s.skip_implicit_pad(pos);
    if (pos >= v.tail) break;
    RecordHeader* r = s.record(pos);
    if (r->state == kReady) return pos;
    pos += record_size(r->len);
  }
  return UINT64_MAX;  // unreachable while the counts are right
}

// Both locks held.
Status Queue::wait_for_message(uint64_t* pos, const Deadline& deadline, ErrorText& error) {
  for (;;) {
    // A message a dead consumer was copying out goes back in its place before
    // anything behind it is taken, so FIFO order survives the crash.
    if (s_->cs.reading > 0) return_dead_readers();
    *pos = find_ready(both_view());
    if (*pos != UINT64_MAX) return Status::Ok;
    // Closed means drained for good: nothing being written, and no taken item
    // that could still come back because its taker dies before finishing.
    if (s_->closed && getter_may_proceed()) {
      error.set("%s: closed for writing and drained", label());
      return Status::Closed;
    }
    if (deadline.expired()) {
      // Before saying EMPTY, give back what dead processes still hold.
      if (s_->ps.reserved + s_->cs.reading + s_->cs.leased > 0) {
        reap_dead_owners(false, kPromptReapIntervalNs);
        if ((*pos = find_ready(both_view())) != UINT64_MAX) return Status::Ok;
      }
      bool empty = deadline.is_immediate();
      if (!empty) s_->timeouts.fetch_add(1, std::memory_order_relaxed);
      error.set("%s: %s", label(), empty ? "empty" : "timed out waiting for a message");
      return empty ? Status::Empty : Status::Timeout;
    }
    reap_dead_owners(false);
    if (count() == 0) sleep_on(s_->not_empty, deadline, 0);
  }
}

// Removes the Ready record at pos from the available ones (heap or read_pos).
void Queue::take(Transaction& tx, uint64_t pos) {
  QueueShared& s = *s_;
  tx.set(s.cs.consumed, s.cs.consumed + 1);
  if (!fifo()) heap_pop(tx);
  else tx.set(s.cs.read_pos, pos + record_size(s.record(pos)->len));
}

// Takes the record at pos into this process's hands (Reading): it goes back
// to the queue if this process dies before finishing the take.
void Queue::lend(Transaction& tx, uint64_t pos) {
  QueueShared& s = *s_;
  RecordHeader* r = s.record(pos);
  take(tx, pos);
  tx.set(r->state, kReading);
  tx.set(r->owner, self_token());
  tx.set(s.cs.reading, s.cs.reading + 1);
}

// Whether the record at pos can be copied: one whose length claims more than
// fits before the ring's end was damaged (a stray write into the shared
// memory), and copying it would read outside the ring.
bool Queue::intact(uint64_t pos) const noexcept {
  const uint64_t n = s_->record(pos)->len;
  return n <= s_->capacity() - kHeader && record_size(n) <= s_->to_end(pos);
}

Error Queue::damaged(uint64_t pos) const {
  return Error(Status::Incompatible,
               format("%s: damaged: the record at ring offset %llu claims %llu bytes, more than the ring holds "
                      "there (a stray write into its shared memory?)",
                      label(), (unsigned long long)s_->offset(pos), (unsigned long long)s_->record(pos)->len));
}

// Ends a take: the record becomes Leased (joinable) or Dead, and space is
// reclaimed up to `tail` (FIFO: the put side's tail as this side knows it).
void Queue::finish_take(Transaction& tx, uint64_t pos, uint64_t tail) {
  QueueShared& s = *s_;
  RecordHeader* r = s.record(pos);
  if (s.joinable) {
    tx.set(r->state, kLeased);
    tx.set(r->owner, self_token());
    tx.set(s.cs.leased, s.cs.leased + 1);
  } else if (fifo()) {
    // Mostly the oldest record: the head passes it and its header stays as it
    // is (below the head nobody reads it), so the getter writes nothing into
    // the lines the putter is filling next door.
    if (!advance_head(tx, tail, pos)) tx.set(r->state, kDead);
    return;
  } else {
    tx.set(r->state, kDead);
    // LIFO pops (and PRIORITY gets of the newest record) free their space at
    // once: otherwise a stack whose bottom item stays would fill with holes.
    // (One lock there: the tail may change.)
    if (pos + record_size(r->len) == s.ps.tail) tx.set(s.ps.tail, pos);
  }
  advance_head(tx, fifo() ? tail : s.ps.tail);
}

// Takes the Ready record at pos, holding `side` (Get: FIFO, the get lock alone).
Status Queue::take_one(Side side, uint64_t pos, Destination dest, void* context, size_t* len, ErrorText& error) {
  QueueShared& s = *s_;
  if (!intact(pos)) throw damaged(pos);
  RecordHeader* r = s.record(pos);
  const uint64_t n = r->len;
  void* out = dest(context, n);
  if (out == nullptr) {
    *len = n;
    error.set("%s: message of %llu bytes does not fit the buffer", label(), (unsigned long long)n);
    return Status::TooLarge;
  }
  if (n < kLargeMessage) {
    copy_bytes(out, s.payload(pos), n);
    Transaction tx(s.get_journal, s.base());
    take(tx, pos);
    finish_take(tx, pos, side == Side::Get ? seen_put_.tail : s.ps.tail);
  } else {  // copy out without the lock; a death meanwhile returns the message to the queue
    {
      Transaction tx(s.get_journal, s.base());
      lend(tx, pos);
    }
    if (side == Side::Get) publish_get_side();
    unlock_side(side);
    copy_bytes(out, s.payload(pos), n);
    lock_side(side, Deadline::forever());
    Transaction tx(s.get_journal, s.base());
    tx.set(s.cs.reading, s.cs.reading - 1);
    finish_take(tx, pos, side == Side::Get ? seen_put_.tail : s.ps.tail);
  }
  bump(s.gets);
  bump(s.bytes_got, n);
  s.last_get_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
  if (side == Side::Get) publish_get_side();
  s.not_full.wake_sleepers(tally_);
  *len = n;
  return Status::Ok;
}

// FIFO under the get lock alone: take a Ready record below the published
// tail. false: none after a short spin (or the queue is closed, or the call
// must not wait): the general path waits, reaps and reports.
bool Queue::get_fast(Destination dest, void* context, size_t* len, const Deadline& deadline, Status* st,
                     ErrorText& error) {
  QueueShared& s = *s_;
  Locked lk(*this, Side::Get, deadline, error);
  if ((*st = lk.status()) != Status::Ok) return true;
  bool lingered = false;
  for (int attempt = 0;; ++attempt) {
    if (s.cs.reading > 0) return_dead_readers();
    uint64_t pos = find_ready(seen_put_);
    if (pos == UINT64_MAX) {
      const uint64_t in_sight = waiting(get_view());
      if (!lingered && in_sight > 0 && !deadline.is_immediate() && getter_linger_.catching_up(in_sight)) {
        lk.release();
        const int64_t ns = linger(deadline);
        lk.relock();
        lingered = true;
        const uint64_t now_in_sight = waiting(get_view());
        getter_linger_.found(now_in_sight > in_sight ? now_in_sight - in_sight : 0, ns);
      }
      pos = find_ready(seen_put_);
    }
    if (pos != UINT64_MAX) {
      *st = take_one(Side::Get, pos, dest, context, len, error);
      return true;
    }
    if (attempt > 0 || deadline.is_immediate() || s.closed) return false;
    lingered = wait_for_change(lk, deadline);
  }
}

// A FIFO getter's wait for a change, without the get lock, then its linger
// if the wait was quick (see Linger). True when it lingered.
bool Queue::wait_for_change(Locked& lk, const Deadline& deadline) {
  lk.release();
  const bool linger_now = getter_linger_.after_wait(spin_until_changed(true, deadline));
  const int64_t ns = linger_now ? linger(deadline) : 0;
  lk.relock();
  if (linger_now) getter_linger_.found(waiting(get_view()), ns);
  return linger_now;
}

// Without the get lock: a getter's linger (see Linger), ended early once the
// queue is half full by the published words. Returns the time it took.
int64_t Queue::linger(const Deadline& deadline) noexcept {
  const QueueShared& s = *s_;
  return getter_linger_.linger(deadline.until_ns(-1), [&] {
    if (s.max_items && 2 * s.published_count() >= s.max_items) return true;
    return 2 * (s.pub_tail.load(std::memory_order_relaxed) - s.pub_head.load(std::memory_order_relaxed)) >= s.capacity();
  });
}

// Messages in view v not taken yet; the get lock held.
uint64_t Queue::waiting(const View& v) const noexcept {
  return v.produced > s_->cs.consumed ? v.produced - s_->cs.consumed : 0;
}

Status Queue::get(Destination dest, void* context, size_t* len, const Deadline& deadline, ErrorText& error) {
  Status st;
  if (fifo() && get_fast(dest, context, len, deadline, &st, error)) return st;
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  uint64_t pos;
  st = wait_for_message(&pos, deadline, error);
  if (st != Status::Ok) return st;
  return take_one(Side::Both, pos, dest, context, len, error);
}

// Takes what fits into buf, starting with the Ready record at pos, holding `side`.
Status Queue::take_many(Side side, uint64_t pos, void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done,
                        ErrorText& error) {
  QueueShared& s = *s_;
  const View v = side == Side::Get ? get_view() : both_view();
  size_t used = 0, n = 0;
  if (fifo() && !s.joinable) pos = take_run(v, pos, static_cast<char*>(buf), cap, lens, max_count, &n, &used);
  // One transaction for many takes; a new one before the journal could fill
  // (a take logs a few words, more with a heap).
  const size_t per_tx = fifo() ? 24 : 1;  // <= 7 words each
  while (n < max_count && pos != UINT64_MAX) {
    Transaction tx(s.get_journal, s.base());
    for (size_t in_tx = 0; in_tx < per_tx && n < max_count && pos != UINT64_MAX; ++in_tx) {
      if (!intact(pos)) {
        if (n == 0) throw damaged(pos);
        pos = UINT64_MAX;  // what came before it is taken; the next call reports it
        break;
      }
      RecordHeader* r = s.record(pos);
      if (r->len > cap - used) {
        if (n == 0) {
          lens[0] = r->len;
          error.set("%s: message of %llu bytes does not fit the buffer of %zu", label(),
                    (unsigned long long)r->len, cap);
          return Status::TooLarge;
        }
        pos = UINT64_MAX;
        break;
      }
      copy_bytes(static_cast<char*>(buf) + used, s.payload(pos), r->len);
      lens[n] = r->len;
      used += r->len;
      take(tx, pos);
      finish_take(tx, pos, v.tail);
      ++n;
      pos = find_ready(fifo() ? v : both_view());
    }
  }
  bump(s.gets, n);
  bump(s.bytes_got, used);
  s.last_get_unix_ms.store(coarse_unix_ms(), std::memory_order_relaxed);
  if (side == Side::Get) publish_get_side();
  s.not_full.wake_sleepers(tally_);
  *done = n;
  return Status::Ok;
}

// FIFO, not joinable: when nothing before pos holds the head back, takes the
// Ready records from pos on that fit, as one transaction that moves the head
// and read_pos past them all and counts them consumed: what take() and
// finish_take() do one record at a time, without their four journaled words
// and two walks a record (get_many at 64 B: 15 -> 6 ns a message). Their
// headers stay Ready below the head, where nobody reads them. Stops at
// anything else (a reservation, a record being read, a damaged one) for the
// general loop to handle; returns where that loop goes on, with *n messages
// of *used bytes taken.
uint64_t Queue::take_run(const View& v, uint64_t pos, char* buf, size_t cap, size_t* lens, size_t max_count,
                         size_t* n, size_t* used) {
  QueueShared& s = *s_;
  if (s.skip_implicit_pad(s.cs.head) != pos) return pos;
  size_t k = 0, u = 0;
  uint64_t end = pos;
  while (k < max_count) {
    const uint64_t p = s.skip_implicit_pad(end);
    if (p >= v.tail) break;
    const RecordHeader* r = s.record(p);
    if (r->state == kPad) {
      end = p + record_size(r->len);
      continue;
    }
    if (r->state != kReady || !intact(p) || r->len > cap - u) break;
    copy_bytes(buf + u, s.payload(p), r->len);
    lens[k++] = r->len;
    u += r->len;
    end = p + record_size(r->len);
  }
  if (k == 0) return pos;
  Transaction tx(s.get_journal, s.base());
  tx.set(s.cs.consumed, s.cs.consumed + k);
  tx.set(s.cs.read_pos, end);
  tx.set(s.cs.head, end);
  tx.commit();
  *n = k;
  *used = u;
  return k < max_count ? find_ready(v) : UINT64_MAX;
}

bool Queue::get_many_fast(void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done,
                          const Deadline& deadline, Status* st, ErrorText& error) {
  QueueShared& s = *s_;
  Locked lk(*this, Side::Get, deadline, error);
  if ((*st = lk.status()) != Status::Ok) return true;
  for (int attempt = 0;; ++attempt) {
    if (s.cs.reading > 0) return_dead_readers();
    uint64_t pos = find_ready(get_view());
    if (pos != UINT64_MAX) {
      *st = take_many(Side::Get, pos, buf, cap, lens, max_count, done, error);
      return true;
    }
    if (attempt > 0 || deadline.is_immediate() || s.closed) return false;
    wait_for_change(lk, deadline);
  }
}

Status Queue::get_many(void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done, const Deadline& deadline,
                       ErrorText& error) {
  *done = 0;
  if (max_count == 0) return Status::Ok;
  Status st;
  if (fifo() && get_many_fast(buf, cap, lens, max_count, done, deadline, &st, error)) return st;
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  uint64_t pos;
  st = wait_for_message(&pos, deadline, error);
  if (st != Status::Ok) return st;
  return take_many(Side::Both, pos, buf, cap, lens, max_count, done, error);
}

// Moves the head over records nobody needs any more, freeing their space.
// `taken`: a record just taken (still marked Ready) that counts as dead; true
// if the head passed it.
bool Queue::advance_head(Transaction& tx, uint64_t tail, uint64_t taken) {
  QueueShared& s = *s_;
  uint64_t head = s.cs.head;
  while (head < tail) {
    uint64_t p = s.skip_implicit_pad(head);
    if (p >= tail) {
      head = tail;
      break;
    }
    RecordHeader* r = s.record(p);
    if (p != taken && r->state != kDead && r->state != kPad) break;
    head = p + record_size(r->len);
  }
  if (head <= s.cs.head) return false;
  tx.set(s.cs.head, head);
  if (s.cs.read_pos < head) tx.set(s.cs.read_pos, head);
  return head > taken;
}

// A record became Ready again (committed late, or redelivered).
void Queue::make_available(Transaction& tx, uint64_t pos) {
  QueueShared& s = *s_;
  if (!fifo()) heap_push(tx, pos);
  else if (pos < s.cs.read_pos) tx.set(s.cs.read_pos, pos);
}

// ---- the heap (LIFO and PRIORITY) ----------------------------------------

bool Queue::before(uint64_t a, uint64_t b) const noexcept {
  RecordHeader* ra = s_->record(a);
  RecordHeader* rb = s_->record(b);
  if (s_->order == static_cast<uint32_t>(Order::Lifo)) return ra->seq > rb->seq;
  if (ra->priority != rb->priority) return ra->priority < rb->priority;
  return ra->seq < rb->seq;
}

void Queue::heap_push(Transaction& tx, uint64_t pos) {
  QueueShared& s = *s_;
  uint64_t* h = s.heap();
  uint64_t i = s.cs.heap_size;
  tx.set(s.cs.heap_size, i + 1);
  while (i > 0) {
    uint64_t parent = (i - 1) / 2;
    if (!before(pos, h[parent])) break;
    tx.set(h[i], h[parent]);
    i = parent;
  }
  tx.set(h[i], pos);
}

void Queue::heap_pop(Transaction& tx) {
  QueueShared& s = *s_;
  uint64_t* h = s.heap();
  uint64_t n = s.cs.heap_size - 1;
  tx.set(s.cs.heap_size, n);
  if (n == 0) return;
  uint64_t last = h[n];
  uint64_t i = 0;
  for (;;) {
    uint64_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(h[child + 1], h[child])) ++child;
    if (!before(h[child], last)) break;
    tx.set(h[i], h[child]);
    i = child;
  }
  tx.set(h[i], last);
}

// ---- joinable ---------------------------------------------------------------

Status Queue::task_done(ErrorText& error) { return end_lease(nullptr, 0, error); }

Status Queue::task_done(const void* message, size_t len, ErrorText& error) {
  return end_lease(message != nullptr ? message : "", len, error);
}

// Both locks held: the first record at or after `from` that match(pos,
// header) accepts; UINT64_MAX if none.
template <class Match>
uint64_t Queue::first_record(uint64_t from, const Match& match) const {
  QueueShared& s = *s_;
  const uint64_t end = s.ps.tail;
  for (uint64_t pos = s.skip_implicit_pad(from); pos < end; pos = s.skip_implicit_pad(pos)) {
    const RecordHeader* r = s.record(pos);
    if (match(pos, *r)) return pos;
    pos += record_size(r->len);
  }
  return UINT64_MAX;
}

// The record at pos holds exactly these bytes.
bool Queue::holds(uint64_t pos, const void* message, size_t len) const {
  return s_->record(pos)->len == len && std::memcmp(s_->payload(pos), message, len) == 0;
}

// Both locks held: the oldest lease of this process, or with `message` the
// oldest on exactly those bytes (so that threads finishing out of order end
// their own); UINT64_MAX if none. From the head: compaction may have moved a
// lease past read_pos.
uint64_t Queue::find_own_lease(const void* message, size_t len) const {
  const ProcessToken me = self_token();
  return first_record(s_->cs.head, [&](uint64_t pos, const RecordHeader& r) {
    return r.state == kLeased && r.owner == me && (message == nullptr || holds(pos, message, len));
  });
}

Status Queue::end_lease(const void* message, size_t len, ErrorText& error) {
  if (!s_->joinable) {
    error.set("%s: task_done() on a queue that is not joinable", label());
    return Status::InvalidArg;
  }
  Locked lk(*this, Deadline::forever());
  QueueShared& s = *s_;
  const uint64_t pos = find_own_lease(message, len);
  if (pos == UINT64_MAX) {
    if (s.ps.unfinished_added == s.cs.tasks_done)
      error.set("%s: task_done() called more times than there were items", label());
    else if (message != nullptr)
      error.set("%s: task_done() of a message this process holds no outstanding item of", label());
    else
      error.set("%s: task_done() without an outstanding item got by this process", label());
    return Status::InvalidArg;
  }
  {
    Transaction tx(s.get_journal, s.base());
    tx.set(s.record(pos)->state, kDead);
    tx.set(s.cs.leased, s.cs.leased - 1);
    tx.set(s.cs.tasks_done, s.cs.tasks_done + 1);
    advance_head(tx, s.ps.tail);
  }
  if (s.ps.unfinished_added == s.cs.tasks_done) s.all_done.wake_sleepers(tally_);
  s.not_full.wake_sleepers(tally_);
  if (s.closed && s.cs.leased == 0) s.not_empty.wake_sleepers(tally_);  // they may end now
  return Status::Ok;
}

Status Queue::withdraw(const void* message, size_t len, bool* withdrawn, ErrorText& error) {
  *withdrawn = false;
  if (!fifo()) {
    error.set("%s: withdraw() needs a FIFO queue", label());
    return Status::InvalidArg;
  }
  Locked lk(*this, Deadline::forever());
  QueueShared& s = *s_;
  const uint64_t pos = first_record(s.cs.read_pos, [&](uint64_t p, const RecordHeader& r) {  // none Ready before read_pos
    return r.state == kReady && holds(p, message, len);
  });
  if (pos == UINT64_MAX) return Status::Ok;
  {
    Transaction tx(s.get_journal, s.base());
    tx.set(s.record(pos)->state, kDead);
    tx.set(s.cs.consumed, s.cs.consumed + 1);
    if (s.joinable) tx.set(s.cs.tasks_done, s.cs.tasks_done + 1);
    advance_head(tx, s.ps.tail);
  }
  *withdrawn = true;
  if (s.joinable && s.ps.unfinished_added == s.cs.tasks_done) s.all_done.wake_sleepers(tally_);
  s.not_full.wake_sleepers(tally_);
  return Status::Ok;
}

Status Queue::give_back(const void* message, size_t len, ErrorText& error) {
  if (!s_->joinable) {
    error.set("%s: give_back() on a queue that is not joinable", label());
    return Status::InvalidArg;
  }
  Locked lk(*this, Deadline::forever());
  const uint64_t pos = find_own_lease(message, len);
  if (pos == UINT64_MAX) {
    error.set("%s: give_back() of a message this process holds no outstanding item of", label());
    return Status::InvalidArg;
  }
  release_from_dead_owner(pos);  // as if this process had died holding it
  s_->not_empty.wake_sleepers(tally_);
  return Status::Ok;
}

Status Queue::join(const Deadline& deadline, ErrorText& error) {
  if (!s_->joinable) {
    error.set("%s: join() on a queue that is not joinable", label());
    return Status::InvalidArg;
  }
  Locked lk(*this, deadline, error);
  if (lk.status() != Status::Ok) return lk.status();
  while (s_->ps.unfinished_added > s_->cs.tasks_done) {
    if (deadline.expired()) {
      error.set("%s: join() timed out with %llu unfinished items", label(),
                (unsigned long long)(s_->ps.unfinished_added - s_->cs.tasks_done));
      return Status::Timeout;
    }
    sleep_on(s_->all_done, deadline, 0);
  }
  return Status::Ok;
}

void Queue::close_writes() {
  Locked lk(*this, Deadline::forever());
  {
    Transaction tx(s_->get_journal, s_->base());
    tx.set(s_->closed, 1);
  }
  s_->not_empty.wake_sleepers(tally_);
  s_->not_full.wake_sleepers(tally_);
}

uint64_t Queue::size() const noexcept { return s_->published_count(); }

std::atomic<uint32_t>* Queue::watch(uint32_t* seen) {
  // Registered under both locks, as sleep_on does, so no putter can miss it.
  if (lock(Deadline::forever()) != Status::Ok) return nullptr;
  if (getter_may_proceed()) {
    unlock();
    return nullptr;
  }
  tally_.enter(s_->not_empty.sleepers);
  *seen = s_->not_empty.observe();
  unlock();
  return &s_->not_empty.seq;
}

void Queue::unwatch() noexcept { tally_.leave(s_->not_empty.sleepers); }

// ---- inspection ------------------------------------------------------------

std::string Queue::peek_json(size_t max_count) {
  Locked lk(*this, Deadline::forever());
  QueueShared& s = *s_;
  std::vector<uint64_t> ready;
  for (uint64_t pos = s.cs.head; pos < s.ps.tail;) {
    pos = s.skip_implicit_pad(pos);
    if (pos >= s.ps.tail) break;
    RecordHeader* r = s.record(pos);
    if (r->state == kReady) ready.push_back(pos);
    pos += record_size(r->len);
  }
  if (s.order != static_cast<uint32_t>(Order::Fifo))
    std::sort(ready.begin(), ready.end(), [this](uint64_t a, uint64_t b) { return before(a, b); });
  if (ready.size() > max_count) ready.resize(max_count);
  nlohmann::json out = nlohmann::json::array();
  for (uint64_t pos : ready) {
    if (!intact(pos)) throw damaged(pos);
    RecordHeader* r = s.record(pos);
    std::string bytes(s.payload(pos), r->len);
    nlohmann::json item;
    if (s.format == static_cast<uint32_t>(Format::Json))
      item["message"] = nlohmann::json::parse(bytes, nullptr, false);
    else
      item["base64"] = base64_encode(bytes);
    item["priority"] = r->priority;
    out.push_back(item);
  }
  return out.dump();
}

}  // namespace polyipc
