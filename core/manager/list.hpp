// List: a named sequence of JSON values in one segment, the shared
// counterpart of multiprocessing's Manager().list(), without the manager
// process. Built like Dict (see dict.hpp and docs/design-notes.md): a robust
// mutex, an undo journal, values appended into free space before the
// commit, and compaction into the segment's other half.
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

struct ListOptions {
  uint64_t capacity_bytes = 1 << 20;  // room for values (the segment holds two such halves)
  uint64_t max_items = 4096;
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
};

struct ListShared {
  // Fixed at creation.
  uint64_t capacity;   // data bytes of one half
  uint64_t max_items;  // index slots of one half: a ring of positions
  uint64_t half_size;  // bytes of one half: the index, then the data
  uint64_t halves_offset;

  alignas(64) RobustMutex mutex;
  // Changes only through a Transaction on `journal`.
  struct State {
    uint64_t active;      // 0 or 1: the half that holds the list
    uint64_t head;        // index slot of element 0
    uint64_t length;
    uint64_t used;        // data bytes written in the active half
    uint64_t dead_bytes;  // of them, values replaced or popped
    uint64_t version;     // +1 per change
  } st;
  alignas(64) Journal journal;
  alignas(64) std::atomic<uint64_t> appends, pops, sets, compactions, owner_dead_recoveries;
  // Watchers of the version sleep here (wait_change). It sits in padding that
  // 0.5.0 left zero, so the layout is unchanged and 0.5 processes can share
  // the list: their changes wake nobody, and watchers see them within a slice.
  WakeWord changed;
};
static_assert(sizeof(ListShared) == 4672 && offsetof(ListShared, changed) == 4616, "the list layout of 0.5.0");

class List {
 public:
  // Throws Error. Opening an existing list ignores capacity_bytes and max_items.
  static std::unique_ptr<List> open(const std::string& name, OpenMode mode, const ListOptions& options);
  ~List();

  const std::string& name() const noexcept { return segment_->name(); }

  // Where a value is copied: returns a buffer of len bytes.
  using Destination = void* (*)(void* context, size_t len);

  // Indexes count from the end when negative (-1: the last), as in Python;
  // outside [-length, length) they are OutOfRange.
  Status append(const char* value, size_t len, ErrorText& error);
  // Before element `index`; index >= length appends, index <= -length prepends.
  Status insert(int64_t index, const char* value, size_t len, ErrorText& error);
  Status get(int64_t index, Destination dest, void* context, size_t* len, ErrorText& error);
  Status set(int64_t index, const char* value, size_t len, ErrorText& error);
  // Removes element `index` and copies it out (Empty on an empty list).
  Status pop(int64_t index, Destination dest, void* context, size_t* len, ErrorText& error);
  Status clear(ErrorText& error);
  uint64_t size();
  std::string items_json();  // a JSON array: one snapshot

  // +1 per change (set, delete, clear ...; 0 when new).
  uint64_t version() const noexcept { return load_word(&s_->st.version); }
  // Returns Ok once the version differs from `seen` (*version: the one seen),
  // or Timeout: the list changed since the caller looked, or did not.
  Status wait_change(uint64_t seen, const Deadline& deadline, uint64_t* version, ErrorText& error);

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  List() = default;
  JournalGuard lock() const;
  Status check_value(const char* value, size_t len, ErrorText& error) const;
  // The element number for `index`, or InvalidArg naming the list.
  Status resolve(int64_t index, uint64_t* at, ErrorText& error) const;
  uint64_t* positions(uint64_t half) const;  // a half's ring of value positions
  char* data(uint64_t half) const;
  uint64_t& slot(uint64_t element) const;  // the active index's slot of an element
  struct ValueView {
    const char* bytes;
    uint64_t len;
  };
  ValueView value_at(uint64_t pos) const;  // the value at a data position (Incompatible when damaged)
  uint64_t value_size_at(uint64_t pos) const;
  Status ensure_room(uint64_t need, ErrorText& error);
  uint64_t write_value(const char* value, size_t len);  // into free space; its position
  // Copies every element but `skip` (UINT64_MAX: none), with `value`
  // inserted before element `insert_at` (when value is not nullptr), into
  // the other half, and switches to it in one transaction.
  void rebuild(uint64_t skip, uint64_t insert_at, const char* value, size_t len);
  Status copy_out(uint64_t pos, Destination dest, void* context, size_t* len, ErrorText& error) const;
  std::string label() const;

  std::unique_ptr<Segment> segment_;
  ListShared* s_ = nullptr;
  mutable SleeperTally tally_;  // changed.sleepers; lock() is const and may wake
};

}  // namespace polyipc
