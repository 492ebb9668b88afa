// What the dict and the list share: a segment body of a shared struct and
// two equal halves (an index, then `capacity` data bytes), one of them
// active (see docs/design-notes.md, "Dict"); and the options they both take.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/journal.hpp"
#include "core/sync/journal_guard.hpp"

namespace polyipc {

constexpr uint64_t kManagerMaxCapacity = uint64_t{1} << 30;
constexpr uint64_t kManagerMaxItems = uint64_t{1} << 24;

inline uint64_t align64(uint64_t v) { return (v + 63) & ~uint64_t{63}; }

struct HalvesPlan {
  uint64_t capacity;       // data bytes of a half (capacity_bytes rounded up to 8)
  uint64_t half_size;      // the index, then the data, rounded up to 64
  uint64_t halves_offset;  // from the shared struct
  uint64_t body_size() const { return halves_offset + 2 * half_size; }
};

// kind ("dict", "list") names the object in errors. Throws InvalidArg.
inline void check_manager_options(const char* kind, const std::string& name, uint64_t capacity_bytes,
                                  uint64_t max_items, uint32_t mode) {
  auto bad = [&](const char* what) { throw Error(Status::InvalidArg, format("%s '%s': %s", kind, name.c_str(), what)); };
  if (mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (capacity_bytes < 64 || capacity_bytes > kManagerMaxCapacity) bad("capacity_bytes must be 64 bytes to 1 GiB");
  if (max_items < 1 || max_items > kManagerMaxItems) bad("max_items must be 1 to 2^24");
}

inline HalvesPlan plan_halves(uint64_t capacity_bytes, uint64_t index_bytes, uint64_t shared_size) {
  HalvesPlan p;
  p.capacity = (capacity_bytes + 7) & ~uint64_t{7};
  p.half_size = align64(index_bytes + p.capacity);
  p.halves_offset = align64(shared_size);
  return p;
}

// After opening: the segment holds both halves (else Incompatible).
inline void check_halves_fit(const char* kind, const Segment& segment, uint64_t halves_offset, uint64_t half_size) {
  const SegmentHeader* h = segment.header();
  if (h->total_size - h->body_offset < halves_offset + 2 * half_size)
    throw Error(Status::Incompatible, format("%s '%s': truncated or damaged", kind, segment.name().c_str()));
}

// The shared struct's mutex for one call: a dead holder's transaction rolled
// back, and watchers woken after it when the call changed the version.
template <class Shared>
JournalGuard lock_halves(Shared* s, SleeperTally& tally) {
  return JournalGuard(s->mutex, s->journal, s, s->owner_dead_recoveries, {&s->st.version, &s->changed, &tally});
}

// wait_change of both kinds; label ("dict 'x'") names the object on Timeout.
template <class Shared>
Status wait_halves_change(Shared* s, SleeperTally& tally, const std::string& label, uint64_t seen,
                          const Deadline& deadline, uint64_t* version, ErrorText& error) {
  const Status st = wait_version_change(&s->st.version, s->changed, tally, seen, deadline, version);
  if (st == Status::Timeout)
    error.set("%s: no change within the timeout (still version %llu)", label.c_str(), (unsigned long long)*version);
  return st;
}

// The stat fields both kinds have, read without the lock.
template <class Shared>
void describe_halves(nlohmann::json& j, const Shared& s) {
  j["max_items"] = s.max_items;
  j["capacity_bytes"] = s.capacity;
  j["used_bytes"] = load_word(&s.st.used);
  j["dead_bytes"] = load_word(&s.st.dead_bytes);
  j["version"] = load_word(&s.st.version);
  j["locked"] = s.mutex.holder_tid() != 0;
  j["sleeping_watchers"] = s.changed.sleepers.load();  // threads asleep in wait_change
  j["counters"]["compactions"] = s.compactions.load();
  j["counters"]["owner_dead_recoveries"] = s.owner_dead_recoveries.load();
}

}  // namespace polyipc
