// The queue family: FIFO, LIFO and priority queues of variable-length
// messages in one shared segment, optionally joinable (gets are leases that
// return to the queue if the getting process dies before task_done).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/json/shape.hpp"
#include "core/segment/segment.hpp"
#include "core/segment/sleeper_tally.hpp"
#include "core/status.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

enum class Order : uint32_t { Fifo = 0, Lifo = 1, Priority = 2 };
enum class Format : uint32_t { Json = 0, Bytes = 1 };

struct QueueOptions {
  Order order = Order::Fifo;
  Format format = Format::Json;
  bool joinable = false;
  uint64_t max_items = 0;                // 0: bounded by bytes only
  uint64_t capacity_bytes = 1 << 20;
  uint64_t max_message_bytes = 0;        // 0: as large as the ring allows
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
  bool check_existing = true;            // false: accept an existing queue whatever its options
};

struct QueueShared;
struct WakeWord;
class Transaction;

class Queue {
 public:
  // Throws Error (bad name, NotFound, Exists, Incompatible, Permission ...).
  // kind: Queue, or Pool for the task queue that is a pool (core/pool).
  static std::unique_ptr<Queue> open(const std::string& name, OpenMode mode, const QueueOptions& options,
                                     Kind kind = Kind::Queue);
  ~Queue();

  const std::string& name() const noexcept { return segment_->name(); }

  Status put(const void* data, size_t len, int64_t priority, const Deadline& deadline, ErrorText& error);
  // For the library's own handles (a pool's task and result queues), whose
  // every message the library builds out of JSON it has validated already:
  // put and put_many skip the second pass over it.
  void trust_built_messages() noexcept { messages_prevalidated_ = true; }
  // Messages in order; waits up to the deadline in all; *done = how many were put.
  Status put_many(const void* const* data, const size_t* lens, size_t count, size_t* done, const Deadline& deadline,
                  ErrorText& error);

  // Where a taken message goes: given its length, a buffer of at least that
  // many bytes, or nullptr when it does not fit (the message then stays).
  using Destination = void* (*)(void* context, size_t len);
  Status get(Destination dest, void* context, size_t* len, const Deadline& deadline, ErrorText& error);
  // Waits for one message, then takes what is there and fits, packed into buf.
  Status get_many(void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done, const Deadline& deadline,
                  ErrorText& error);

  // Zero copy. reserve: room for len bytes in the ring at *data, owned by this
  // process until commit(ticket, true) publishes it (JSON queues validate it
  // then) or commit(ticket, false) drops it. borrow: takes the next message as
  // get does but leaves it in the ring at *data until release(ticket). A
  // process that dies first loses a reservation and gives a borrowed message
  // back to the queue. Either holds back the space behind it meanwhile.
  Status reserve(size_t len, int64_t priority, void** data, uint64_t* ticket, const Deadline& deadline,
                 ErrorText& error);
  Status commit(uint64_t ticket, bool publish, ErrorText& error);
  Status borrow(const void** data, size_t* len, uint64_t* ticket, const Deadline& deadline, ErrorText& error);
  Status release(uint64_t ticket, ErrorText& error);

  uint64_t size() const noexcept;
  // For a wait over several objects (core/wait_any): registers this caller
  // as a sleeping getter and returns the futex word putters will bump, or
  // nullptr when a get would not wait now (a message, or the end of stream).
  // Every non-null watch() is paired with one unwatch().
  std::atomic<uint32_t>* watch(uint32_t* seen);
  void unwatch() noexcept;
  // Joinable queues: ends this process's oldest lease, or with a message the
  // oldest lease on exactly those bytes.
  Status task_done(ErrorText& error);
  Status task_done(const void* message, size_t len, ErrorText& error);
  // Joinable queues: the lease on exactly these bytes goes back to the queue
  // for the next getter, as when its holder dies.
  Status give_back(const void* message, size_t len, ErrorText& error);
  // FIFO queues: removes the oldest waiting (not taken) message with exactly
  // these bytes, as if got and, on a joinable queue, done. *withdrawn is
  // false when there is none (taken already, or never put). For a pool's
  // cancel.
  Status withdraw(const void* message, size_t len, bool* withdrawn, ErrorText& error);
  Status join(const Deadline& deadline, ErrorText& error);
  void close_writes();

  // The process that created the queue.
  ProcessToken creator() const noexcept;

  // Name, options, state and counters as a JSON object.
  std::string stat_json() const;
  // The same for a queue mapped without attaching (ls, stat, gc).
  static std::string describe(const std::string& name, const SegmentHeader* header, const void* body);
  // Up to max_count waiting messages, in the order gets would take them, as a
  // JSON array of {"message"| "base64", "priority"}.
  std::string peek_json(size_t max_count);

 private:
  friend struct QueueTestPeer;  // tests/core: hold a lock to be killed holding it
  // Which locks: a FIFO queue has a put lock and a get lock; Both takes the
  // put lock, then the get lock. LIFO/PRIORITY queues have one lock (the get
  // lock), taken for every side.
  enum class Side { Put, Get, Both };
  class Locked;
  // What one side knows of the put side: the end of the published records,
  // and how many puts made records Ready.
  struct View {
    uint64_t tail, produced;
  };
  Queue() = default;

  bool fifo() const noexcept;
  Status lock(const Deadline& deadline) { return lock_side(Side::Both, deadline); }
  void unlock() noexcept { unlock_side(Side::Both); }
  Status lock_side(Side side, const Deadline& deadline);
  void unlock_side(Side side) noexcept;
  void recover_both(bool put_dead, bool get_dead);
  void publish_put_side() noexcept;
  void publish_get_side() noexcept;
  View both_view() const noexcept;
  View get_view() noexcept;  // the get lock held: the published put side, read afresh
  uint64_t seen_head() noexcept;  // the put lock held: the published head, read afresh
  uint64_t count() const noexcept;  // exact under both locks
  void reap_dead_owners(bool force, int64_t interval_ns = 100'000'000);
  void return_dead_readers();
  bool reader_alive(uint64_t owner) noexcept;
  bool intact(uint64_t pos) const noexcept;
  Error damaged(uint64_t pos) const;
  void release_from_dead_owner(uint64_t pos);
  bool getter_may_proceed() const noexcept;
  bool getter_may_stop_spinning() const noexcept;
  bool fits(uint64_t record_size) const noexcept;      // room and below max_items
  bool has_room(uint64_t record_size) const noexcept;  // bytes only
  bool compact(uint64_t record_size);
  uint64_t slide_target(uint64_t pos, uint64_t size);
  Status wait_for_room(uint64_t record_size, const Deadline& deadline, ErrorText& error);
  Status wait_for_message(uint64_t* pos, const Deadline& deadline, ErrorText& error);
  uint64_t claim_space(uint64_t record_size);
  bool only_record_is(uint64_t state) const noexcept;
  uint64_t reserve_record(size_t len, int64_t priority);
  void publish_reserved(uint64_t pos);
  bool owns_record(uint64_t pos, uint64_t state) const noexcept;
  template <class Match>
  uint64_t first_record(uint64_t from, const Match& match) const;
  bool holds(uint64_t pos, const void* message, size_t len) const;
  uint64_t find_own_lease(const void* message, size_t len) const;
  Status end_lease(const void* message, size_t len, ErrorText& error);
  Status not_owned(uint64_t ticket, const char* what, ErrorText& error) const;
  uint64_t place_at(uint64_t tail, uint64_t record_size);
  bool has_room_at(uint64_t tail, uint64_t head, uint64_t record_size) const noexcept;
  void write_record(uint64_t pos, const void* data, size_t len, int64_t priority, uint64_t seq);
  uint64_t find_ready(const View& v) const noexcept;
  // Waits for a change (spinning briefly first); record_size: what a putter needs room for.
  void sleep_on(WakeWord& word, const Deadline& deadline, uint64_t record_size);
  int spin_until_changed(bool for_getter, const Deadline& deadline);
  bool wait_for_change(Locked& lk, const Deadline& deadline);
  int64_t linger(const Deadline& deadline) noexcept;
  void linger_for_room(uint64_t record_size, const Deadline& deadline) noexcept;
  uint64_t waiting(const View& v) const noexcept;
  Status check_message(const void* data, size_t len, ErrorText& error, size_t index, bool batch) const;
  Status check_message_body(const void* data, size_t len, ErrorText& error) const;
  void commit_put(const void* data, size_t len, int64_t priority);
  // FIFO fast paths under one side's lock; false: take the general path (both locks).
  bool put_fast(const void* data, size_t len, const Deadline& deadline, Status* st, ErrorText& error);
  bool put_many_fast(const void* const* data, const size_t* lens, size_t valid, size_t* n, const Deadline& deadline);
  bool get_fast(Destination dest, void* context, size_t* len, const Deadline& deadline, Status* st,
                ErrorText& error);
  bool get_many_fast(void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done, const Deadline& deadline,
                     Status* st, ErrorText& error);
  Status take_one(Side side, uint64_t pos, Destination dest, void* context, size_t* len, ErrorText& error);
  Status take_many(Side side, uint64_t pos, void* buf, size_t cap, size_t* lens, size_t max_count, size_t* done,
                   ErrorText& error);
  uint64_t take_run(const View& v, uint64_t pos, char* buf, size_t cap, size_t* lens, size_t max_count, size_t* n,
                    size_t* used);
  void take(Transaction& tx, uint64_t pos);
  void lend(Transaction& tx, uint64_t pos);
  void finish_take(Transaction& tx, uint64_t pos, uint64_t tail);
  bool advance_head(Transaction& tx, uint64_t tail, uint64_t taken = UINT64_MAX);
  void make_available(Transaction& tx, uint64_t pos);
  void heap_push(Transaction& tx, uint64_t pos);
  void heap_pop(Transaction& tx);
  bool before(uint64_t a, uint64_t b) const noexcept;
  // How messages name this object: "queue 'jobs'", or "pool 'jobs'" for a pool's task queue.
  const char* label() const noexcept { return label_.c_str(); }

  std::unique_ptr<Segment> segment_;
  std::string label_;
  bool messages_prevalidated_ = false;  // see trust_built_messages
  mutable json::ShapeCache shapes_;     // of the JSON messages this handle put
  QueueShared* s_ = nullptr;
  SleeperTally tally_;  // sleepers of not_empty, not_full, all_done
  SpinBudget getter_spin_, putter_spin_;  // before sleeping on not_empty, not_full
  Linger getter_linger_;                  // FIFO getters (get_fast, get_many_fast)
  RoomLinger putter_linger_;              // FIFO putters (put_fast)
  std::atomic<int64_t> last_reap_ns_{0};
  // This handle's last reading of the other side's published words: published
  // values only grow, so a stale one is a safe lower bound (fewer messages,
  // less room), re-read only when it says there is nothing to do. Reading the
  // other side's cache line on every call is what costs between cores.
  View seen_put_{0, 0};   // guarded by the get lock
  uint64_t seen_head_ = 0;  // guarded by the put lock
  uint64_t alive_reader_ = 0;  // a reader found alive, until alive_reader_until_ns_ (get lock)
  int64_t alive_reader_until_ns_ = 0;
};

}  // namespace polyipc
