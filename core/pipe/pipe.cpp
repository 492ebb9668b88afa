#include "core/pipe/pipe.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/describe.hpp"
#include "core/json/validate.hpp"
#include "core/memcopy.hpp"
#include "core/names.hpp"

namespace polyipc {
namespace {

struct Record {
  uint32_t len;   // message: payload bytes; pad: bytes to skip, header included
  uint32_t type;  // kMessage or kPad
};
constexpr uint32_t kMessage = 0, kPad = 1;
constexpr uint64_t kHeader = sizeof(Record);
constexpr int64_t kPeerCheckNs = 50'000'000;  // a dead peer is noticed within ~2 of these
constexpr uint64_t kAlignFrom = 4096;  // payloads this large start on a cache line
// An empty ring whose tail is this far in (or a quarter of a smaller ring)
// starts again at its beginning: a pipe whose receiver keeps up then touches
// only that much of its ring, in memory and in cache, however large its
// capacity. Only bursts that fill the ring use the rest.
constexpr uint64_t kRestartWindow = 1 << 20;
// Rings get their pages as senders reach them, this much at a time: a
// direction nobody sends on costs nothing, and a full /dev/shm is NoMemory
// from the send that needs more, not a SIGBUS (see back_pages).
constexpr uint64_t kBackStep = 256 << 10;

uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

Record* record_at(char* ring, uint64_t capacity, uint64_t pos) {
  return reinterpret_cast<Record*>(ring + pos % capacity);
}

}  // namespace

std::unique_ptr<Pipe> Pipe::open(const std::string& name, OpenMode mode, PipeEnd end, const PipeOptions& o) {
  check_name(name, "pipe");
  auto bad = [&](const char* what) { throw Error(Status::InvalidArg, format("pipe '%s': %s", name.c_str(), what)); };
  if (static_cast<uint32_t>(end) > 1) bad("end must be A or B");
  if (static_cast<uint32_t>(o.format) > 1) bad("format must be JSON or BYTES");
  if (o.mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (o.capacity_bytes < 64) bad("capacity_bytes must be at least 64");
  if (o.capacity_bytes > (uint64_t{1} << 40)) bad("capacity_bytes must be at most 1 TiB");
  if (o.capacity_bytes > UINT32_MAX) bad("capacity_bytes must be below 4 GiB (messages are at most 4 GiB)");
  const uint64_t capacity = align8(o.capacity_bytes);
  const uint64_t ring0 = (sizeof(PipeShared) + 63) & ~uint64_t{63};
  const uint64_t ring1 = ring0 + capacity;

  SegmentSpec spec;
  spec.kind = Kind::Pipe;
  spec.body_size = ring1 + (o.duplex ? capacity : 0);
  spec.lazy_ranges = {{ring0, capacity}};
  if (o.duplex) spec.lazy_ranges.push_back({ring1, capacity});
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) PipeShared();
    s->duplex = o.duplex ? 1 : 0;
    s->format = static_cast<uint32_t>(o.format);
    s->capacity = capacity;
    s->ring_offset[0] = ring0;
    s->ring_offset[1] = ring1;
    for (auto& d : s->dir) {
      d.send_mutex.init();
      d.recv_mutex.init();
    }
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const PipeShared*>(body);
    if (s->capacity < 64 || s->capacity % 8 || s->format > 1 || s->duplex > 1 ||
        s->ring_offset[0] < sizeof(PipeShared) || s->ring_offset[1] != s->ring_offset[0] + s->capacity)
      throw Error(Status::Incompatible, format("pipe '%s': damaged pipe header", name.c_str()));
    if (!o.check_existing) return;
    if (s->duplex != (o.duplex ? 1u : 0u))
      throw Error(Status::Incompatible, format("pipe '%s': exists as a %s pipe, opened as %s", name.c_str(),
                                               s->duplex ? "duplex" : "one-way", o.duplex ? "duplex" : "one-way"));
    if (s->format != static_cast<uint32_t>(o.format))
      throw Error(Status::Incompatible, format("pipe '%s': exists with format %s, opened as %s", name.c_str(),
                                               s->format ? "BYTES" : "JSON", o.format == Format::Json ? "JSON" : "BYTES"));
  };
  std::unique_ptr<Pipe> p(new Pipe());
  p->segment_ = Segment::open(name, mode, spec);
  p->s_ = static_cast<PipeShared*>(p->segment_->body());
  p->tally_.init(*p->segment_, {&p->s_->dir[0].data.sleepers, &p->s_->dir[0].space.sleepers,
                                &p->s_->dir[1].data.sleepers, &p->s_->dir[1].space.sleepers});
  p->end_ = static_cast<uint32_t>(end);
  if (p->segment_->header()->total_size - p->segment_->header()->body_offset <
      p->s_->ring_offset[1] + (p->s_->duplex ? p->s_->capacity : 0))
    throw Error(Status::Incompatible, format("pipe '%s': truncated or damaged", name.c_str()));

  // Hold the end: one slot per handle, a dead holder's slot reused.
  auto& e = p->s_->ends[p->end_];
  const ProcessToken me = self_token();
  for (int pass = 0; pass < 2 && p->slot_ < 0; ++pass)
    for (uint32_t i = 0; i < PipeShared::kMaxHolders; ++i) {
      uint64_t t = e.holders[i].load();
      if ((t == 0 || (pass == 1 && t != me && !is_alive(t))) && e.holders[i].compare_exchange_strong(t, me)) {
        if (t == 0) e.handles.fetch_add(1);  // a dead holder's slot taken over: the count stays
        p->slot_ = static_cast<int>(i);
        break;
      }
    }
  if (p->slot_ < 0)
    throw Error(Status::NoMemory, format("pipe '%s': more than %u handles hold end %s", name.c_str(),
                                         PipeShared::kMaxHolders, p->end_name()));
  e.opened.store(1);
  return p;
}

Pipe::~Pipe() {
  if (!s_ || slot_ < 0) return;
  auto& e = s_->ends[end_];
  uint64_t mine = e.holders[slot_].load();
  // Another process may have found this slot "dead" and cleared it (never
  // for a live process), so release it only if it is still ours.
  if (mine != 0 && e.holders[slot_].compare_exchange_strong(mine, 0) && e.handles.fetch_sub(1) != 1) return;
  // The last holder of this end left: the other side's waiters look again (EOF).
  for (auto& d : s_->dir) {
    d.data.wake_all(tally_);
    d.space.wake_all(tally_);
  }
}

bool Pipe::peer_gone(bool check_liveness) {
  auto& e = s_->ends[peer()];
  if (!e.opened.load(std::memory_order_relaxed)) return false;
  if (e.handles.load(std::memory_order_relaxed) == 0) return true;
  if (!check_liveness) return false;
  const int64_t now = monotonic_ns();
  if (now < next_liveness_check_) return false;
  next_liveness_check_ = now + kPeerCheckNs;
  bool any = false;
  for (auto& h : e.holders) {
    uint64_t t = h.load();
    if (t == 0) continue;
    if (is_alive(t)) any = true;
    else if (h.compare_exchange_strong(t, 0)) e.handles.fetch_sub(1);  // a holder that died: its hold ends
  }
  return !any;
}

Status Pipe::lock(RobustMutex& m, const Deadline& deadline) {
  // Held for one copy at most: even a non-blocking call waits for it a little.
  Status st = m.lock(deadline.is_immediate() ? Deadline::after(100'000'000) : deadline);
  if (st == Status::OwnerDead) {
    m.mark_consistent();  // head and tail are only ever published whole: nothing to repair
    return Status::Ok;
  }
  return st;
}

// Waits (without the side's lock) until ready() or the deadline; Ok: look again.
// Spins first for as long as budget has learnt pays (SpinBudget).
template <class Ready>
static Status wait_until(WakeWord& w, SleeperTally& tally, SpinBudget& budget, Ready ready, const Deadline& deadline) {
  if (deadline.is_immediate()) return Status::Timeout;
  if (spin_within(budget, ready)) return Status::Ok;
  if (deadline.expired()) return Status::Timeout;
  tally.enter(w.sleepers);
  const uint32_t seen = w.seq.load(std::memory_order_seq_cst);
  if (!ready()) {
    const int64_t asleep_at = monotonic_ns();
    futex_wait(&w.seq, seen, deadline.until_ns(kPeerCheckNs));
    if (w.seq.load(std::memory_order_relaxed) != seen) budget.woke_after(monotonic_ns() - asleep_at);
  }
  tally.leave(w.sleepers);
  return ready() || !deadline.expired() ? Status::Ok : Status::Timeout;
}

Status Pipe::send(const void* data, size_t len, const Deadline& deadline, ErrorText& error) {
  if (!can_send()) {
    error.set("pipe '%s': end B of a one-way pipe cannot send (only end A sends)", pname());
    return Status::InvalidArg;
  }
  if (len > 0 && data == nullptr) {
    error.set("pipe '%s': NULL data with length %zu", pname(), len);
    return Status::InvalidArg;
  }
  const uint64_t cap = s_->capacity;
  if (len > cap - kHeader) {
    error.set("pipe '%s': message of %zu bytes exceeds the %llu bytes a message may have (capacity_bytes - 8)",
              pname(), len, (unsigned long long)(cap - kHeader));
    return Status::TooLarge;
  }
  if (s_->format == static_cast<uint32_t>(Format::Json)) {
    json::ValidationError ve;
    if (!json::validate(static_cast<const char*>(data), len, json::kMaxDepth, &ve, &shapes_)) {
      error.set("pipe '%s': invalid JSON at byte %zu: %s", pname(), ve.offset, ve.reason);
      return Status::InvalidJson;
    }
  }
  if (peer_gone(false)) {
    error.set("pipe '%s': the other end (%s) is closed", pname(), end_ == 0 ? "B" : "A");
    return Status::Closed;
  }
  auto& d = s_->dir[end_];
  char* ring = s_->ring(end_);
  const uint64_t rs = kHeader + align8(len);
  if (lock(d.send_mutex, deadline) != Status::Ok) {
    error.set("pipe '%s': timed out waiting for another sender of end %s", pname(), end_name());
    return Status::Timeout;
  }
  for (;;) {
    const uint64_t tail = d.tail.load(std::memory_order_relaxed);
    const uint64_t head = d.head.load(std::memory_order_acquire);
    if (tail == head && tail % cap >= std::min(kRestartWindow, cap / 4) && restart_empty_ring(d, ring, tail)) continue;
    const uint64_t room = cap - (tail - head);
    const uint64_t to_end = cap - tail % cap;
    // A large payload starts on a cache line (copies run ~20% faster there):
    // a small pad record first, when it fits.
    uint64_t align = 0;
    if (len >= kAlignFrom && (tail + kHeader) % 64 != 0) align = 64 - (tail + kHeader) % 64;
    auto no_room = [&] {
      d.send_mutex.unlock();
      return Status::NoMemory;
    };
    if (align != 0 && align + rs <= to_end && room >= align + rs) {
      if (!back_ring(d, ring, tail % cap + align + rs, error)) return no_room();
      *record_at(ring, cap, tail) = Record{static_cast<uint32_t>(align), kPad};
      Record* r = record_at(ring, cap, tail + align);
      copy_bytes(r + 1, data, len);
      *r = Record{static_cast<uint32_t>(len), kMessage};
      d.tail.store(tail + align + rs, std::memory_order_seq_cst);
      d.data.wake_sleepers(tally_);
      d.send_mutex.unlock();
      d.messages.fetch_add(1, std::memory_order_relaxed);
      d.bytes.fetch_add(len, std::memory_order_relaxed);
      return Status::Ok;
    }
    if (rs <= to_end && room >= rs) {
      if (!back_ring(d, ring, tail % cap + rs, error)) return no_room();
      Record* r = record_at(ring, cap, tail);
      copy_bytes(r + 1, data, len);
      *r = Record{static_cast<uint32_t>(len), kMessage};
      d.tail.store(tail + rs, std::memory_order_seq_cst);  // publishes the record whole
      d.data.wake_sleepers(tally_);
      d.send_mutex.unlock();
      d.messages.fetch_add(1, std::memory_order_relaxed);
      d.bytes.fetch_add(len, std::memory_order_relaxed);
      return Status::Ok;
    }
    if (rs > to_end && room >= to_end) {
      // The record does not fit before the end of the ring: pad to it first.
      if (!back_ring(d, ring, tail % cap + kHeader, error)) return no_room();
      *record_at(ring, cap, tail) = Record{static_cast<uint32_t>(to_end), kPad};
      d.tail.store(tail + to_end, std::memory_order_seq_cst);
      d.data.wake_sleepers(tally_);
      continue;
    }
    // No room. Pads the receiver has not stepped over yet (it only does so
    // when it receives) would make us wait for a receiver that waits for us.
    if (skip_pads_for_receiver(d, ring, tail)) continue;
    d.send_mutex.unlock();
    if (peer_gone(true)) {
      error.set("pipe '%s': the other end (%s) is closed", pname(), end_ == 0 ? "B" : "A");
      return Status::Closed;
    }
    if (deadline.is_immediate()) {
      error.set("pipe '%s': full (%llu bytes waiting to be received)", pname(), (unsigned long long)(tail - head));
      return Status::Full;
    }
    auto ready = [&] {
      const uint64_t t = d.tail.load(std::memory_order_relaxed), h = d.head.load(std::memory_order_seq_cst);
      return cap - (t - h) >= rs || peer_gone(false);
    };
    if (send_linger_.worth_it()) {
      const uint64_t want = std::max(rs, cap / 2);
      send_linger_.linger(
          deadline.until_ns(-1),
          [&] {
            const uint64_t t = d.tail.load(std::memory_order_relaxed), h = d.head.load(std::memory_order_relaxed);
            return cap - (t - h) >= want || peer_gone(false);
          },
          [&] { return d.head.load(std::memory_order_relaxed); }, 2 * rs);
    }
    if (wait_until(d.space, tally_, send_spin_, ready, deadline) == Status::Timeout || lock(d.send_mutex, deadline) != Status::Ok) {
      error.set("pipe '%s': timed out waiting for room (%zu bytes)", pname(), len);
      return Status::Timeout;
    }
  }
}

// With the send lock: pages for the ring up to `end` and for the record
// header after it, where a pad may go (restart_empty_ring writes one there).
// false: /dev/shm has no room, with the error set; nothing was written.
bool Pipe::back_ring(PipeShared::Direction& d, char* ring, uint64_t end, ErrorText& error) {
  const uint64_t cap = s_->capacity;
  const uint64_t need = std::min(cap, end + kHeader);
  if (need <= backed_) return true;
  backed_ = d.backed.load(std::memory_order_relaxed);
  if (need <= backed_) return true;
  const uint64_t to = std::min(cap, (need + kBackStep - 1) / kBackStep * kBackStep);
  if (int e = back_pages(ring + backed_, to - backed_)) {
    const std::string why =
        is_no_room(e) ? no_room_text(to - backed_) : format("populating them failed: %s", std::strerror(e));
    error.set("pipe '%s': end %s cannot send: its ring has pages for %s of %s, and %s", pname(), end_name(),
              size_text(backed_).c_str(), size_text(cap).c_str(), why.c_str());
    return false;
  }
  d.backed.store(to, std::memory_order_relaxed);
  backed_ = to;
  return true;
}

// With the send lock, the ring seen empty: under the receive lock, if it
// still is, a pad from the tail to the ring's end, then tail and head past
// it. A sender killed between the two stores leaves the pad between head and
// tail, which the receiver steps over. True if the ring restarted.
bool Pipe::restart_empty_ring(PipeShared::Direction& d, char* ring, uint64_t tail) {
  const uint64_t cap = s_->capacity;
  if (lock(d.recv_mutex, Deadline::forever()) != Status::Ok) return false;
  const bool empty = d.head.load(std::memory_order_relaxed) == tail;
  if (empty) {
    const uint64_t to_end = cap - tail % cap;
    *record_at(ring, cap, tail) = Record{static_cast<uint32_t>(to_end), kPad};
    d.tail.store(tail + to_end, std::memory_order_seq_cst);
    d.head.store(tail + to_end, std::memory_order_seq_cst);
  }
  d.recv_mutex.unlock();
  return empty;
}

// With the send lock: under the receive lock, moves the head over pad records
// that end at the tail (nothing left to receive). True when the sender should
// look again: pads were skipped, or the receiver emptied the ring meanwhile
// (an empty ring always has room: at the tail, or after a pad to its end). The
// head is the only word written, in one store, so a sender killed here leaves
// the receiver's position before or after the pads, both valid.
bool Pipe::skip_pads_for_receiver(PipeShared::Direction& d, char* ring, uint64_t tail) {
  const uint64_t cap = s_->capacity;
  // Without the lock first: usually a message waits at the head, and then
  // the receiver makes room; its lock is not ours to take on every full ring.
  const uint64_t seen = d.head.load(std::memory_order_acquire);
  if (seen == tail) return true;
  if (record_at(ring, cap, seen)->type == kMessage) return false;
  if (lock(d.recv_mutex, Deadline::forever()) != Status::Ok) return false;
  const uint64_t head0 = d.head.load(std::memory_order_relaxed);
  uint64_t head = head0;
  while (head != tail) {
    const Record r = *record_at(ring, cap, head);
    if (r.type != kPad || r.len < kHeader || r.len > tail - head) {
      d.recv_mutex.unlock();
      return false;  // a message waits: the receiver will make room
    }
    head += r.len;
  }
  if (head != head0) d.head.store(head, std::memory_order_seq_cst);
  d.recv_mutex.unlock();
  return true;
}

bool Pipe::next_message(PipeShared::Direction& d, char* ring, uint64_t* pos) {
  const uint64_t cap = s_->capacity;
  uint64_t head = d.head.load(std::memory_order_relaxed);
  for (;;) {
    if (seen_tail_ <= head) {  // all seen is taken (pads included): look again
      seen_tail_ = d.tail.load(std::memory_order_acquire);
      if (seen_tail_ <= head) return false;
    }
    const uint64_t tail = seen_tail_;
    const Record r = *record_at(ring, cap, head);
    const uint64_t to_end = cap - head % cap;
    if (r.type == kPad) {  // to the end of the ring, or aligning the next payload
      if (r.len < kHeader || r.len % 8 != 0 || r.len > to_end || r.len > tail - head)
        throw Error(Status::Incompatible, format("pipe '%s': damaged (bad pad record)", pname()));
      head += r.len;
      d.head.store(head, std::memory_order_seq_cst);
      d.space.wake_sleepers(tally_);
      continue;
    }
    if (r.type != kMessage || kHeader + align8(r.len) > to_end || tail - head < kHeader + align8(r.len))
      throw Error(Status::Incompatible, format("pipe '%s': damaged (bad record)", pname()));
    *pos = head;
    return true;
  }
}

Status Pipe::recv(Queue::Destination dest, void* context, size_t* len, const Deadline& deadline, ErrorText& error) {
  if (!can_recv()) {
    error.set("pipe '%s': end A of a one-way pipe cannot receive (only end B receives)", pname());
    return Status::InvalidArg;
  }
  auto& d = s_->dir[peer()];
  char* ring = s_->ring(peer());
  const uint64_t cap = s_->capacity;
  if (lock(d.recv_mutex, deadline) != Status::Ok) {
    error.set("pipe '%s': timed out waiting for another receiver of end %s", pname(), end_name());
    return Status::Timeout;
  }
  for (;;) {
    uint64_t pos;
    bool found;
    try {
      found = next_message(d, ring, &pos);
    } catch (...) {
      d.recv_mutex.unlock();
      throw;
    }
    if (found) {
      const Record* r = record_at(ring, cap, pos);
      *len = r->len;
      void* dst = dest(context, r->len);
      if (!dst) {
        d.recv_mutex.unlock();
        error.set("pipe '%s': message of %u bytes does not fit the buffer", pname(), r->len);
        return Status::TooLarge;
      }
      copy_bytes(dst, r + 1, r->len);
      d.head.store(pos + kHeader + align8(r->len), std::memory_order_seq_cst);
      d.space.wake_sleepers(tally_);
      d.recv_mutex.unlock();
      return Status::Ok;
    }
    d.recv_mutex.unlock();
    if (peer_gone(true)) {
      error.set("pipe '%s': the other end (%s) is closed and everything it sent was received", pname(),
                end_ == 0 ? "B" : "A");
      return Status::Closed;
    }
    if (deadline.is_immediate()) {
      error.set("pipe '%s': nothing to receive", pname());
      return Status::Empty;
    }
    auto ready = [&] {
      return d.tail.load(std::memory_order_seq_cst) != d.head.load(std::memory_order_relaxed) || peer_gone(false);
    };
    if (wait_until(d.data, tally_, recv_spin_, ready, deadline) == Status::Timeout || lock(d.recv_mutex, deadline) != Status::Ok) {
      error.set("pipe '%s': nothing received within the timeout", pname());
      return Status::Timeout;
    }
  }
}

Status Pipe::poll(const Deadline& deadline, ErrorText& error) {
  if (!can_recv()) {
    error.set("pipe '%s': end A of a one-way pipe cannot receive (only end B receives)", pname());
    return Status::InvalidArg;
  }
  auto& d = s_->dir[peer()];
  for (;;) {
    if (readable()) {
      if (!peer_gone(false) || d.tail.load() != d.head.load()) return Status::Ok;
      error.set("pipe '%s': the other end is closed and everything it sent was received", pname());
      return Status::Closed;
    }
    auto ready = [&] { return readable(); };
    if (wait_until(d.data, tally_, recv_spin_, ready, deadline) == Status::Timeout) {
      error.set("pipe '%s': nothing to receive within the timeout", pname());
      return Status::Timeout;
    }
  }
}

bool Pipe::readable() {
  if (!can_recv()) return false;
  auto& d = s_->dir[peer()];
  const uint64_t head = d.head.load(std::memory_order_acquire), tail = d.tail.load(std::memory_order_acquire);
  if (head != tail) {
    const Record r = *record_at(s_->ring(peer()), s_->capacity, head);
    if (!(r.type == kPad && head + r.len == tail)) return true;  // a lone pad is nothing yet
  }
  return peer_gone(true);
}

std::atomic<uint32_t>* Pipe::watch(uint32_t* seen) {
  if (!can_recv()) return nullptr;
  WakeWord& w = s_->dir[peer()].data;
  tally_.enter(w.sleepers);
  *seen = w.seq.load(std::memory_order_seq_cst);
  if (readable()) {
    tally_.leave(w.sleepers);
    return nullptr;
  }
  return &w.seq;
}

void Pipe::unwatch() noexcept { tally_.leave(s_->dir[peer()].data.sleepers); }

nlohmann::json Pipe::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const PipeShared& s = *static_cast<const PipeShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["duplex"] = s.duplex != 0;
  j["format"] = s.format ? "bytes" : "json";
  j["capacity_bytes"] = s.capacity;
  for (uint32_t e = 0; e < 2; ++e) {
    nlohmann::json holders = nlohmann::json::array();
    for (const auto& t : s.ends[e].holders) {
      uint64_t v = t.load();
      if (v) holders.push_back({{"pid", token_pid(v)}, {"alive", is_alive(v)}});
    }
    const auto& d = s.dir[e];
    const char* end = e == 0 ? "a" : "b";
    j[end] = {{"opened", s.ends[e].opened.load() != 0},
              {"holders", holders},
              {"pending_bytes", d.tail.load() - d.head.load()}};
    j["counters"][std::string("messages_from_") + end] = d.messages.load();
    j["counters"][std::string("bytes_from_") + end] = d.bytes.load();
    // data from end e: its senders wait for room, the other end's receivers for data
    j["sleeping"][std::string("senders_at_") + end] = d.space.sleepers.load();
    j["sleeping"][std::string("receivers_at_") + (e == 0 ? "b" : "a")] = d.data.sleepers.load();
  }
  return j;
}

}  // namespace polyipc
