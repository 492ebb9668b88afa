// Dict layout and algorithms.
//
// The body is a DictShared, then two halves of equal size. A half is an
// open-addressing index (linear probing, `slots` Slots) followed by `capacity`
// data bytes of entries {key_len, value_len, key, value} appended one after
// another. Only the active half means anything.
//
// A set appends the new entry past `used` (free space: no log needed), then
// commits {slot, used, count ...} in one transaction. A delete leaves a
// tombstone. When the data or the index is full of dead entries, the live
// ones are copied, in data order, into the other half with a fresh index, and
// one transaction makes that half active: a process killed while copying
// leaves the active half untouched.
#include "core/manager/dict.hpp"

#include <cstring>
#include <new>

#include "core/describe.hpp"
#include "core/json/validate.hpp"
#include "core/manager/halves.hpp"
#include "core/names.hpp"
#include "core/sync/journal_guard.hpp"

namespace polyipc {
namespace {

constexpr uint64_t kEmpty = 0;
constexpr uint64_t kTombstone = 1;
constexpr uint64_t kFirstEntry = 2;  // Slot::pos = offset + kFirstEntry

struct EntryHeader {
  uint32_t key_len;
  uint32_t value_len;
};

uint64_t entry_size(uint64_t key_len, uint64_t value_len) {
  return (sizeof(EntryHeader) + key_len + value_len + 7) & ~uint64_t{7};
}

// The entry at `at` (the caller has checked that its header lies in the data).
struct EntryView {
  const char* key;
  uint32_t key_len;
  const char* value;
  uint32_t value_len;
  uint64_t size() const { return entry_size(key_len, value_len); }
};
EntryView entry_at(const char* at) {
  EntryHeader eh;
  std::memcpy(&eh, at, sizeof eh);
  return {at + sizeof eh, eh.key_len, at + sizeof eh + eh.key_len, eh.value_len};
}

// Writes key = value at `at`; returns the entry's size.
uint64_t write_entry(char* at, const std::string& key, const char* value, size_t len) {
  const EntryHeader eh{static_cast<uint32_t>(key.size()), static_cast<uint32_t>(len)};
  std::memcpy(at, &eh, sizeof eh);
  std::memcpy(at + sizeof eh, key.data(), key.size());
  std::memcpy(at + sizeof eh + key.size(), value, len);
  return entry_size(key.size(), len);
}

// FNV-1a: fixed here, never std::hash, since every process (and every library
// version that can open this layout) must place a key in the same slot.
uint64_t hash_key(const std::string& key) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t index_bytes(uint64_t slots) { return slots * 16; }

}  // namespace

std::unique_ptr<Dict> Dict::open(const std::string& name, OpenMode mode, const DictOptions& o) {
  check_name(name, "dict");
  check_manager_options("dict", name, o.capacity_bytes, o.max_items, o.mode);
  uint64_t slots = 8;
  while (slots * 3 / 4 < o.max_items) slots *= 2;
  const HalvesPlan plan = plan_halves(o.capacity_bytes, index_bytes(slots), sizeof(DictShared));

  SegmentSpec spec;
  spec.kind = Kind::Dict;
  spec.body_size = plan.body_size();
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) DictShared();
    s->capacity = plan.capacity;
    s->max_items = o.max_items;
    s->slots = slots;
    s->half_size = plan.half_size;
    s->halves_offset = plan.halves_offset;
    s->mutex.init();
    // A fresh segment is zero: both indexes are empty.
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const DictShared*>(body);
    const bool sane = s->slots >= 8 && (s->slots & (s->slots - 1)) == 0 && s->slots <= 2 * kManagerMaxItems &&
                      s->capacity <= kManagerMaxCapacity &&
                      s->half_size == align64(index_bytes(s->slots) + s->capacity) &&
                      s->halves_offset == plan.halves_offset && s->max_items <= s->slots * 3 / 4;
    if (!sane) throw Error(Status::Incompatible, format("dict '%s': damaged header", name.c_str()));
  };
  std::unique_ptr<Dict> d(new Dict());
  d->segment_ = Segment::open(name, mode, spec);
  d->s_ = static_cast<DictShared*>(d->segment_->body());
  d->tally_.init(*d->segment_, {&d->s_->changed.sleepers});
  check_halves_fit("dict", *d->segment_, d->s_->halves_offset, d->s_->half_size);
  return d;
}

Dict::~Dict() = default;

JournalGuard Dict::lock() const { return lock_halves(s_, tally_); }

Status Dict::wait_change(uint64_t seen, const Deadline& deadline, uint64_t* version, ErrorText& error) {
  return wait_halves_change(s_, tally_, label(), seen, deadline, version, error);
}

std::string Dict::label() const { return "dict '" + name() + "'"; }

Dict::Slot* Dict::index(uint64_t half) const {
  return reinterpret_cast<Slot*>(reinterpret_cast<char*>(s_) + s_->halves_offset + half * s_->half_size);
}
char* Dict::data(uint64_t half) const { return reinterpret_cast<char*>(index(half)) + index_bytes(s_->slots); }

Status Dict::check_key(const std::string& key, ErrorText& error) const {
  if (key.size() > kMaxKey) {
    error.set("%s: key of %zu bytes is longer than %zu", label().c_str(), key.size(), kMaxKey);
    return Status::InvalidArg;
  }
  size_t bad = 0;
  if (!json::valid_utf8(key.data(), key.size(), &bad)) {
    error.set("%s: key is not valid UTF-8 (byte %zu)", label().c_str(), bad);
    return Status::InvalidArg;
  }
  return Status::Ok;
}

Status Dict::check_value(const std::string& key, const char* value, size_t len, ErrorText& error) const {
  if (value == nullptr) {
    error.set("%s: value of key \"%.64s\" is NULL", label().c_str(), key.c_str());
    return Status::InvalidArg;
  }
  if (entry_size(key.size(), len) > s_->capacity || len > UINT32_MAX) {
    error.set("%s: key \"%.64s\" with a value of %zu bytes can never fit (capacity %llu bytes)", label().c_str(),
              key.c_str(), len, (unsigned long long)s_->capacity);
    return Status::TooLarge;
  }
  json::ValidationError ve;
  if (!json::validate(value, len, json::kMaxDepth, &ve)) {
    error.set("%s: value of key \"%.64s\" is not valid JSON: %s at byte %zu", label().c_str(), key.c_str(), ve.reason,
              ve.offset);
    return Status::InvalidJson;
  }
  return Status::Ok;
}

Dict::Found Dict::find(uint64_t half, const std::string& key, uint64_t hash) const {
  Slot* idx = index(half);
  const char* base = data(half);
  const uint64_t mask = s_->slots - 1;
  Found f;
  for (uint64_t i = hash & mask, probes = 0; probes <= mask; i = (i + 1) & mask, ++probes) {
    Slot& sl = idx[i];
    const uint64_t pos = load_word(&sl.pos);
    if (pos == kEmpty) {
      if (!f.free) f.free = &sl;
      return f;
    }
    if (pos == kTombstone) {
      if (!f.free) f.free = &sl;
      continue;
    }
    if (sl.hash != hash) continue;
    const uint64_t off = pos - kFirstEntry;
    if (off + sizeof(EntryHeader) > s_->capacity || off + entry_at(base + off).size() > s_->capacity)
      throw Error(Status::Incompatible, format("%s: damaged entry at data offset %llu", label().c_str(),
                                               (unsigned long long)off));
    const EntryView e = entry_at(base + off);
    if (e.key_len == key.size() && std::memcmp(e.key, key.data(), key.size()) == 0) {
      f.slot = &sl;
      return f;
    }
  }
  throw Error(Status::Incompatible, format("%s: damaged index (no free slot)", label().c_str()));
}

uint64_t Dict::entry_size_at(const Slot* slot) const {
  return entry_at(data(s_->st.active) + (slot->pos - kFirstEntry)).size();
}

template <class Visit>
void Dict::for_each(Visit&& visit) const {
  const uint64_t half = s_->st.active;
  const char* base = data(half);
  for (uint64_t off = 0; off < s_->st.used;) {
    const EntryView e = entry_at(base + off);
    if (off + e.size() > s_->st.used)
      throw Error(Status::Incompatible, format("%s: damaged entry at data offset %llu", label().c_str(),
                                               (unsigned long long)off));
    std::string key(e.key, e.key_len);
    Found f = find(half, key, hash_key(key));
    if (f.slot && f.slot->pos == off + kFirstEntry) visit(key, e.value, e.value_len);
    off += e.size();
  }
}

// Copies the live entries into the other half and makes it active, in one
// transaction: none when keep is false; with `key`, every entry but that
// key's, then key = value (when value is not nullptr) last.
void Dict::rebuild(bool keep, const std::string* key, uint64_t hash, const char* value, size_t len) {
  DictShared& s = *s_;
  const uint64_t target = 1 - s.st.active;
  Slot* idx = index(target);
  char* out = data(target);
  const uint64_t mask = s.slots - 1;
  std::memset(static_cast<void*>(idx), 0, index_bytes(s.slots));
  uint64_t used = 0, count = 0;
  auto append = [&](const std::string& k, uint64_t h, const char* v, uint64_t vlen) {
    uint64_t i = h & mask;
    while (idx[i].pos != kEmpty) i = (i + 1) & mask;
    idx[i] = Slot{h, used + kFirstEntry};
    used += write_entry(out + used, k, v, vlen);
    ++count;
  };
  if (keep) {
    for_each([&](const std::string& k, const char* v, uint64_t vlen) {
      if (!key || k != *key) append(k, hash_key(k), v, vlen);
    });
  }
  if (key && value) append(*key, hash, value, len);
  Transaction tx(s.journal, s_);
  tx.set(s.st.active, target);
  tx.set(s.st.used, used);
  tx.set(s.st.dead_bytes, 0);
  tx.set(s.st.tombstones, 0);
  tx.set(s.st.count, count);
  tx.set(s.st.version, s.st.version + 1);
  s.compactions.fetch_add(1, std::memory_order_relaxed);
}

Status Dict::put_locked(const std::string& key, uint64_t hash, const char* value, size_t len, ErrorText& error) {
  DictShared& s = *s_;
  const uint64_t need = entry_size(key.size(), len);
  Found f = find(s.st.active, key, hash);
  if (!f.slot && s.st.count >= s.max_items) {
    error.set("%s: holds max_items (%llu) keys; key \"%.64s\" not added", label().c_str(),
              (unsigned long long)s.max_items, key.c_str());
    return Status::Full;
  }
  const bool index_full = !f.slot && f.free->pos == kEmpty && s.st.count + s.st.tombstones + 1 > s.slots * 3 / 4;
  if (s.st.used + need > s.capacity || index_full) {
    uint64_t live = s.st.used - s.st.dead_bytes;
    if (f.slot) live -= entry_size_at(f.slot);
    if (live + need > s.capacity) {
      error.set("%s: no room for key \"%.64s\" (%llu bytes; %llu of %llu bytes hold other live entries)",
                label().c_str(), key.c_str(), (unsigned long long)need, (unsigned long long)live,
                (unsigned long long)s.capacity);
      return Status::Full;
    }
    rebuild(true, &key, hash, value, len);  // compacts and sets in one transaction
    return Status::Ok;
  }
  // The entry goes into free space first: invisible until the commit.
  write_entry(data(s.st.active) + s.st.used, key, value, len);

  Transaction tx(s.journal, s_);
  if (f.slot) {
    tx.set(s.st.dead_bytes, s.st.dead_bytes + entry_size_at(f.slot));
    tx.set(f.slot->pos, s.st.used + kFirstEntry);
  } else {
    if (f.free->pos == kTombstone) tx.set(s.st.tombstones, s.st.tombstones - 1);
    tx.set(f.free->hash, hash);
    tx.set(f.free->pos, s.st.used + kFirstEntry);
    tx.set(s.st.count, s.st.count + 1);
  }
  tx.set(s.st.used, s.st.used + need);
  tx.set(s.st.version, s.st.version + 1);
  return Status::Ok;
}

void Dict::remove_locked(Slot* slot) {
  DictShared& s = *s_;
  Transaction tx(s.journal, s_);
  tx.set(s.st.dead_bytes, s.st.dead_bytes + entry_size_at(slot));
  tx.set(slot->pos, kTombstone);
  tx.set(s.st.tombstones, s.st.tombstones + 1);
  tx.set(s.st.count, s.st.count - 1);
  tx.set(s.st.version, s.st.version + 1);
}

Status Dict::set(const std::string& key, const char* value, size_t len, ErrorText& error) {
  if (Status st = check_key(key, error); st != Status::Ok) return st;
  if (Status st = check_value(key, value, len, error); st != Status::Ok) return st;
  const uint64_t h = hash_key(key);
  Locked lk = lock();
  s_->sets.fetch_add(1, std::memory_order_relaxed);
  return put_locked(key, h, value, len, error);
}

Status Dict::get(const std::string& key, Destination dest, void* context, size_t* len, bool* found,
                 ErrorText& error) {
  if (Status st = check_key(key, error); st != Status::Ok) return st;
  const uint64_t h = hash_key(key);
  Locked lk = lock();
  s_->gets.fetch_add(1, std::memory_order_relaxed);
  Found f = find(s_->st.active, key, h);
  *found = f.slot != nullptr;
  if (!f.slot) return Status::Ok;
  const EntryView e = entry_at(data(s_->st.active) + (f.slot->pos - kFirstEntry));
  *len = e.value_len;
  void* out = dest(context, e.value_len);
  if (!out) {
    error.set("%s: value of key \"%.64s\" (%u bytes) does not fit the buffer", label().c_str(), key.c_str(),
              e.value_len);
    return Status::TooLarge;
  }
  std::memcpy(out, e.value, e.value_len);
  return Status::Ok;
}

Status Dict::remove(const std::string& key, bool* removed, ErrorText& error) {
  if (Status st = check_key(key, error); st != Status::Ok) return st;
  const uint64_t h = hash_key(key);
  Locked lk = lock();
  Found f = find(s_->st.active, key, h);
  *removed = f.slot != nullptr;
  if (f.slot) {
    s_->deletes.fetch_add(1, std::memory_order_relaxed);
    remove_locked(f.slot);
  }
  return Status::Ok;
}

Status Dict::compare_and_set(const std::string& key, const char* expected, size_t expected_len, const char* desired,
                             size_t desired_len, bool* swapped, ErrorText& error) {
  *swapped = false;
  if (Status st = check_key(key, error); st != Status::Ok) return st;
  if (desired) {
    if (Status st = check_value(key, desired, desired_len, error); st != Status::Ok) return st;
  }
  if (expected) {
    json::ValidationError ve;
    if (!json::validate(expected, expected_len, json::kMaxDepth, &ve)) {
      error.set("%s: expected value of key \"%.64s\" is not valid JSON: %s at byte %zu", label().c_str(),
                key.c_str(), ve.reason, ve.offset);
      return Status::InvalidJson;
    }
  }
  const uint64_t h = hash_key(key);
  Locked lk = lock();
  Found f = find(s_->st.active, key, h);
  bool match;
  if (!expected || !f.slot) {
    match = !expected && !f.slot;
  } else {
    const EntryView e = entry_at(data(s_->st.active) + (f.slot->pos - kFirstEntry));
    // The same bytes (an expected value read by get) need no parsing.
    match = (e.value_len == expected_len && std::memcmp(e.value, expected, expected_len) == 0) ||
            nlohmann::json::parse(e.value, e.value + e.value_len) ==
                nlohmann::json::parse(expected, expected + expected_len);
  }
  if (!match) return Status::Ok;
  if (desired) {
    s_->sets.fetch_add(1, std::memory_order_relaxed);
    Status st = put_locked(key, h, desired, desired_len, error);
    *swapped = st == Status::Ok;
    return st;
  }
  if (f.slot) {
    s_->deletes.fetch_add(1, std::memory_order_relaxed);
    remove_locked(f.slot);
  }
  *swapped = true;
  return Status::Ok;
}

Status Dict::clear(ErrorText&) {
  Locked lk = lock();
  rebuild(false, nullptr, 0, nullptr, 0);
  return Status::Ok;
}

uint64_t Dict::size() {
  Locked lk = lock();
  return s_->st.count;
}

std::string Dict::keys_json() {
  nlohmann::json keys = nlohmann::json::array();
  Locked lk = lock();
  for_each([&](const std::string& key, const char*, uint64_t) { keys.push_back(key); });
  return keys.dump();
}

std::string Dict::items_json() {
  std::string out = "{";
  Locked lk = lock();
  for_each([&](const std::string& key, const char* value, uint64_t len) {
    if (out.size() > 1) out += ',';
    out += nlohmann::json(key).dump();
    out += ':';
    out.append(value, len);
  });
  out += '}';
  return out;
}

nlohmann::json Dict::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const auto& s = *static_cast<const DictShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["count"] = load_word(&s.st.count);
  describe_halves(j, s);
  j["counters"]["sets"] = s.sets.load();
  j["counters"]["gets"] = s.gets.load();
  j["counters"]["deletes"] = s.deletes.load();
  return j;
}

}  // namespace polyipc
