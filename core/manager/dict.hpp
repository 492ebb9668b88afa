// Dict: a named map from string keys to JSON values in one segment, the
// shared counterpart of multiprocessing's Manager().dict(), without the
// manager process: every attached process reads and writes it directly.
//
// Crash safety: every change is one journaled transaction under a robust
// mutex, and entry bytes are written into free space before the commit, so a
// process killed at any instruction leaves the dict as it was before or after
// its call. Free space is reclaimed by compaction into the segment's other
// half, which becomes visible with one journaled word (see dict.cpp).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/journal.hpp"
#include "core/sync/journal_guard.hpp"
#include "core/sync/robust_mutex.hpp"

namespace polyipc {

struct DictOptions {
  uint64_t capacity_bytes = 1 << 20;  // room for keys and values (the segment holds two such halves)
  uint64_t max_items = 4096;
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
};

struct DictShared {
  // Fixed at creation.
  uint64_t capacity;    // data bytes of one half
  uint64_t max_items;
  uint64_t slots;       // index slots of one half: a power of two, max_items <= 3/4 of it
  uint64_t half_size;   // bytes of one half: the index, then the data
  uint64_t halves_offset;  // from this struct

  alignas(64) RobustMutex mutex;
  // Changes only through a Transaction on `journal`.
  struct State {
    uint64_t active;      // 0 or 1: the half that holds the dict
    uint64_t count;       // live keys
    uint64_t used;        // data bytes written in the active half
    uint64_t dead_bytes;  // of them, entries replaced or deleted
    uint64_t tombstones;  // index slots of deleted keys
    uint64_t version;     // +1 per change
  } st;
  alignas(64) Journal journal;
  alignas(64) std::atomic<uint64_t> sets, gets, deletes, compactions, owner_dead_recoveries;
  // Watchers of the version sleep here (wait_change). It sits in padding that
  // 0.5.0 left zero, so the layout is unchanged and 0.5 processes can share
  // the dict: their changes wake nobody, and watchers see them within a slice.
  WakeWord changed;
};
static_assert(sizeof(DictShared) == 4672 && offsetof(DictShared, changed) == 4616, "the dict layout of 0.5.0");

class Dict {
 public:
  static constexpr size_t kMaxKey = 4096;  // bytes of UTF-8

  // Throws Error. Opening an existing dict ignores capacity_bytes and max_items.
  static std::unique_ptr<Dict> open(const std::string& name, OpenMode mode, const DictOptions& options);
  ~Dict();

  const std::string& name() const noexcept { return segment_->name(); }

  // Where get() copies a value: returns a buffer of len bytes (see Queue).
  using Destination = void* (*)(void* context, size_t len);

  // value: one JSON text (validated). Full when the key would not fit.
  Status set(const std::string& key, const char* value, size_t len, ErrorText& error);
  // *found false (and nothing copied) when the key is absent.
  Status get(const std::string& key, Destination dest, void* context, size_t* len, bool* found, ErrorText& error);
  Status remove(const std::string& key, bool* removed, ErrorText& error);
  // Replaces the value only if the current one equals `expected` as JSON
  // (1 and 1.0 are equal, whitespace does not count); expected == nullptr:
  // only if the key is absent; desired == nullptr: removes the key.
  Status compare_and_set(const std::string& key, const char* expected, size_t expected_len, const char* desired,
                         size_t desired_len, bool* swapped, ErrorText& error);
  Status clear(ErrorText& error);
  uint64_t size();
  // A JSON array of the keys, and a JSON object of every entry: one snapshot each.
  std::string keys_json();
  std::string items_json();

  // +1 per change (set, delete, clear ...; 0 when new).
  uint64_t version() const noexcept { return load_word(&s_->st.version); }
  // Returns Ok once the version differs from `seen` (*version: the one seen),
  // or Timeout: the dict changed since the caller looked, or did not.
  Status wait_change(uint64_t seen, const Deadline& deadline, uint64_t* version, ErrorText& error);

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  struct Slot {
    uint64_t hash;
    uint64_t pos;  // kEmpty, kTombstone, or the entry's offset in the data + kFirstEntry
  };
  struct Found {
    Slot* slot = nullptr;     // the key's slot, or nullptr
    Slot* free = nullptr;     // where the key would go: the first tombstone or empty slot probed
  };

  Dict() = default;
  using Locked = JournalGuard;
  Locked lock() const;  // the dict's mutex for one call
  Status check_key(const std::string& key, ErrorText& error) const;
  Status check_value(const std::string& key, const char* value, size_t len, ErrorText& error) const;
  Found find(uint64_t half, const std::string& key, uint64_t hash) const;
  Status put_locked(const std::string& key, uint64_t hash, const char* value, size_t len, ErrorText& error);
  void remove_locked(Slot* slot);
  void rebuild(bool keep, const std::string* key, uint64_t hash, const char* value, size_t len);
  uint64_t entry_size_at(const Slot* slot) const;  // of the live entry a slot points to
  template <class Visit>
  void for_each(Visit&& visit) const;  // visit(key, value, value_len) for each live entry

  Slot* index(uint64_t half) const;
  char* data(uint64_t half) const;
  std::string label() const;

  std::unique_ptr<Segment> segment_;
  DictShared* s_ = nullptr;
  mutable SleeperTally tally_;  // changed.sleepers; lock() is const and may wake
};

}  // namespace polyipc
