// List layout and algorithms.
//
// The body is a ListShared, then two halves of equal size. A half is a ring
// of max_items positions (element i is at slot (head + i) % max_items)
// followed by `capacity` data bytes of values {len, bytes} appended one after
// another. Only the active half means anything.
//
// append, set, and insert or pop at either end write the value into free
// space (no log needed) and commit a few words in one transaction. An insert
// or pop in the middle, and compaction when the data is full of dead values,
// copy the list (with the change) into the other half and switch to it with
// one journaled transaction, as Dict does.
#include "core/manager/list.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/describe.hpp"
#include "core/json/validate.hpp"
#include "core/manager/halves.hpp"
#include "core/names.hpp"

namespace polyipc {
namespace {

constexpr uint64_t kNone = UINT64_MAX;

uint64_t value_size(uint64_t len) { return 8 + ((len + 7) & ~uint64_t{7}); }

// Writes {len, bytes} at `at`; returns its size.
uint64_t write_value_at(char* at, const char* value, uint64_t len) {
  std::memcpy(at, &len, 8);
  std::memcpy(at + 8, value, len);
  return value_size(len);
}

}  // namespace

std::unique_ptr<List> List::open(const std::string& name, OpenMode mode, const ListOptions& o) {
  check_name(name, "list");
  check_manager_options("list", name, o.capacity_bytes, o.max_items, o.mode);
  const HalvesPlan plan = plan_halves(o.capacity_bytes, 8 * o.max_items, sizeof(ListShared));

  SegmentSpec spec;
  spec.kind = Kind::List;
  spec.body_size = plan.body_size();
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) ListShared();
    s->capacity = plan.capacity;
    s->max_items = o.max_items;
    s->half_size = plan.half_size;
    s->halves_offset = plan.halves_offset;
    s->mutex.init();
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const ListShared*>(body);
    const bool sane = s->max_items >= 1 && s->max_items <= kManagerMaxItems && s->capacity <= kManagerMaxCapacity &&
                      s->half_size == align64(8 * s->max_items + s->capacity) &&
                      s->halves_offset == plan.halves_offset;
    if (!sane) throw Error(Status::Incompatible, format("list '%s': damaged header", name.c_str()));
  };
  std::unique_ptr<List> l(new List());
  l->segment_ = Segment::open(name, mode, spec);
  l->s_ = static_cast<ListShared*>(l->segment_->body());
  l->tally_.init(*l->segment_, {&l->s_->changed.sleepers});
  check_halves_fit("list", *l->segment_, l->s_->halves_offset, l->s_->half_size);
  return l;
}

List::~List() = default;

JournalGuard List::lock() const { return lock_halves(s_, tally_); }

Status List::wait_change(uint64_t seen, const Deadline& deadline, uint64_t* version, ErrorText& error) {
  return wait_halves_change(s_, tally_, label(), seen, deadline, version, error);
}

std::string List::label() const { return "list '" + name() + "'"; }

uint64_t* List::positions(uint64_t half) const {
  return reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(s_) + s_->halves_offset + half * s_->half_size);
}
char* List::data(uint64_t half) const { return reinterpret_cast<char*>(positions(half)) + 8 * s_->max_items; }

uint64_t& List::slot(uint64_t element) const {
  return positions(s_->st.active)[(s_->st.head + element) % s_->max_items];
}

List::ValueView List::value_at(uint64_t pos) const {
  uint64_t len = 0;
  const char* at = data(s_->st.active) + pos;
  if (pos + 8 <= s_->capacity) std::memcpy(&len, at, 8);
  if (pos + 8 > s_->capacity || len > s_->capacity - pos - 8)
    throw Error(Status::Incompatible, format("%s: damaged value at data offset %llu", label().c_str(),
                                             (unsigned long long)pos));
  return {at + 8, len};
}

uint64_t List::value_size_at(uint64_t pos) const { return value_size(value_at(pos).len); }

Status List::check_value(const char* value, size_t len, ErrorText& error) const {
  if (value == nullptr) {
    error.set("%s: value is NULL", label().c_str());
    return Status::InvalidArg;
  }
  if (value_size(len) > s_->capacity) {
    error.set("%s: a value of %zu bytes can never fit (capacity %llu bytes)", label().c_str(), len,
              (unsigned long long)s_->capacity);
    return Status::TooLarge;
  }
  json::ValidationError ve;
  if (!json::validate(value, len, json::kMaxDepth, &ve)) {
    error.set("%s: value is not valid JSON: %s at byte %zu", label().c_str(), ve.reason, ve.offset);
    return Status::InvalidJson;
  }
  return Status::Ok;
}

Status List::resolve(int64_t index, uint64_t* at, ErrorText& error) const {
  const int64_t length = static_cast<int64_t>(s_->st.length);
  const int64_t i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) {
    error.set("%s: index %lld out of range (length %lld)", label().c_str(), (long long)index, (long long)length);
    return Status::OutOfRange;
  }
  *at = static_cast<uint64_t>(i);
  return Status::Ok;
}

// Room for `need` more bytes in the active half, compacting if that helps.
Status List::ensure_room(uint64_t need, ErrorText& error) {
  ListShared& s = *s_;
  if (s.st.used + need <= s.capacity) return Status::Ok;
  const uint64_t live = s.st.used - s.st.dead_bytes;
  if (live + need > s.capacity) {
    error.set("%s: no room for a value of %llu bytes (%llu of %llu bytes hold live values)", label().c_str(),
              (unsigned long long)need, (unsigned long long)live, (unsigned long long)s.capacity);
    return Status::Full;
  }
  rebuild(kNone, kNone, nullptr, 0);
  return Status::Ok;
}

uint64_t List::write_value(const char* value, size_t len) {
  const uint64_t pos = s_->st.used;
  write_value_at(data(s_->st.active) + pos, value, len);
  return pos;
}

void List::rebuild(uint64_t skip, uint64_t insert_at, const char* value, size_t len) {
  ListShared& s = *s_;
  const uint64_t target = 1 - s.st.active;
  uint64_t* idx = positions(target);
  char* out = data(target);
  uint64_t used = 0, n = 0;
  auto put = [&](const char* v, uint64_t vlen) {
    idx[n++] = used;
    used += write_value_at(out + used, v, vlen);
  };
  for (uint64_t e = 0; e <= s.st.length; ++e) {
    if (e == insert_at && value) put(value, len);
    if (e == s.st.length) break;
    if (e == skip) continue;
    const ValueView v = value_at(slot(e));
    put(v.bytes, v.len);
  }
  Transaction tx(s.journal, s_);
  tx.set(s.st.active, target);
  tx.set(s.st.head, 0);
  tx.set(s.st.length, n);
  tx.set(s.st.used, used);
  tx.set(s.st.dead_bytes, 0);
  // A compaction alone changes no value: the call that needed the room counts the change.
  if (skip != kNone || value) tx.set(s.st.version, s.st.version + 1);
  s.compactions.fetch_add(1, std::memory_order_relaxed);
}

Status List::copy_out(uint64_t pos, Destination dest, void* context, size_t* len, ErrorText& error) const {
  const ValueView v = value_at(pos);
  *len = v.len;
  void* out = dest(context, v.len);
  if (!out) {
    error.set("%s: a value of %llu bytes does not fit the buffer", label().c_str(), (unsigned long long)v.len);
    return Status::TooLarge;
  }
  std::memcpy(out, v.bytes, v.len);
  return Status::Ok;
}

Status List::append(const char* value, size_t len, ErrorText& error) {
  return insert(INT64_MAX, value, len, error);
}

Status List::insert(int64_t index, const char* value, size_t len, ErrorText& error) {
  if (Status st = check_value(value, len, error); st != Status::Ok) return st;
  auto lk = lock();
  ListShared& s = *s_;
  if (s.st.length >= s.max_items) {
    error.set("%s: holds max_items (%llu) values", label().c_str(), (unsigned long long)s.max_items);
    return Status::Full;
  }
  const int64_t length = static_cast<int64_t>(s.st.length);
  const int64_t at = index < 0 ? std::max<int64_t>(0, index + length) : std::min<int64_t>(index, length);
  const uint64_t need = value_size(len);
  if (at > 0 && at < length) {  // the middle: a copy with the value in place
    if (s.st.used - s.st.dead_bytes + need > s.capacity) return ensure_room(need, error);  // says Full
    rebuild(kNone, static_cast<uint64_t>(at), value, len);
    s.appends.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok;
  }
  if (Status st = ensure_room(need, error); st != Status::Ok) return st;
  const uint64_t pos = write_value(value, len);
  Transaction tx(s.journal, s_);
  if (at == length) {
    tx.set(slot(s.st.length), pos);
  } else {  // at 0, before the head
    const uint64_t head = (s.st.head + s.max_items - 1) % s.max_items;
    tx.set(positions(s.st.active)[head], pos);
    tx.set(s.st.head, head);
  }
  tx.set(s.st.length, s.st.length + 1);
  tx.set(s.st.used, s.st.used + need);
  tx.set(s.st.version, s.st.version + 1);
  s.appends.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok;
}

Status List::get(int64_t index, Destination dest, void* context, size_t* len, ErrorText& error) {
  auto lk = lock();
  uint64_t at;
  if (Status st = resolve(index, &at, error); st != Status::Ok) return st;
  return copy_out(slot(at), dest, context, len, error);
}

Status List::set(int64_t index, const char* value, size_t len, ErrorText& error) {
  if (Status st = check_value(value, len, error); st != Status::Ok) return st;
  auto lk = lock();
  ListShared& s = *s_;
  uint64_t at;
  if (Status st = resolve(index, &at, error); st != Status::Ok) return st;
  const uint64_t need = value_size(len);
  if (Status st = ensure_room(need, error); st != Status::Ok) return st;
  const uint64_t pos = write_value(value, len);
  Transaction tx(s.journal, s_);
  tx.set(s.st.dead_bytes, s.st.dead_bytes + value_size_at(slot(at)));
  tx.set(slot(at), pos);
  tx.set(s.st.used, s.st.used + need);
  tx.set(s.st.version, s.st.version + 1);
  s.sets.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok;
}

Status List::pop(int64_t index, Destination dest, void* context, size_t* len, ErrorText& error) {
  auto lk = lock();
  ListShared& s = *s_;
  if (s.st.length == 0) {
    error.set("%s is empty", label().c_str());
    return Status::Empty;
  }
  uint64_t at;
  if (Status st = resolve(index, &at, error); st != Status::Ok) return st;
  const uint64_t pos = slot(at);
  // Copied out first: a copy that fails (or a kill here) leaves the value in the list.
  if (Status st = copy_out(pos, dest, context, len, error); st != Status::Ok) return st;
  s.pops.fetch_add(1, std::memory_order_relaxed);
  if (at != 0 && at != s.st.length - 1) {
    rebuild(at, kNone, nullptr, 0);
    return Status::Ok;
  }
  Transaction tx(s.journal, s_);
  tx.set(s.st.dead_bytes, s.st.dead_bytes + value_size_at(pos));
  if (at == 0 && s.st.length > 1) tx.set(s.st.head, (s.st.head + 1) % s.max_items);
  tx.set(s.st.length, s.st.length - 1);
  tx.set(s.st.version, s.st.version + 1);
  return Status::Ok;
}

Status List::clear(ErrorText&) {
  auto lk = lock();
  ListShared& s = *s_;
  Transaction tx(s.journal, s_);
  tx.set(s.st.head, 0);
  tx.set(s.st.length, 0);
  tx.set(s.st.used, 0);
  tx.set(s.st.dead_bytes, 0);
  tx.set(s.st.version, s.st.version + 1);
  return Status::Ok;
}

uint64_t List::size() {
  auto lk = lock();
  return s_->st.length;
}

std::string List::items_json() {
  std::string out = "[";
  auto lk = lock();
  for (uint64_t e = 0; e < s_->st.length; ++e) {
    const ValueView v = value_at(slot(e));
    if (e) out += ',';
    out.append(v.bytes, v.len);
  }
  return out + "]";
}

nlohmann::json List::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const auto& s = *static_cast<const ListShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["length"] = load_word(&s.st.length);
  describe_halves(j, s);
  j["counters"]["appends"] = s.appends.load();
  j["counters"]["pops"] = s.pops.load();
  j["counters"]["sets"] = s.sets.load();
  return j;
}

}  // namespace polyipc
