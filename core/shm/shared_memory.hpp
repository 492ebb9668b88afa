// SharedMemory (multiprocessing.shared_memory.SharedMemory, shared by name)
// and Array/Value of int64 or double with atomic operations
// (multiprocessing.Array / Value), each one segment. Views of the bytes stay
// valid in this process until its handle is closed, even after another
// process unlinks the name.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/lock.hpp"
#include "core/sync/robust_mutex.hpp"

namespace polyipc {

struct SharedMemoryShared {
  uint64_t size;         // bytes of the block, fixed at creation
  uint64_t data_offset;  // from this struct: the block starts on a page boundary
};

class SharedMemory {
 public:
  static constexpr uint64_t kPage = 4096;
  // size: bytes to create (>= 1); when the name exists, 0 takes it whatever
  // its size and any other size must match (else Incompatible). Throws Error.
  static std::unique_ptr<SharedMemory> open(const std::string& name, OpenMode mode, uint64_t size,
                                            const SyncOptions& options);
  ~SharedMemory();

  const std::string& name() const noexcept { return segment_->name(); }
  void* data() const noexcept { return reinterpret_cast<char*>(s_) + s_->data_offset; }
  uint64_t size() const noexcept { return s_->size; }

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  SharedMemory() = default;
  std::unique_ptr<Segment> segment_;
  SharedMemoryShared* s_ = nullptr;
};

enum class ElemType : uint32_t { Int64 = 0, Double = 1 };

struct ArrayShared {
  uint32_t type;  // ElemType, fixed at creation
  uint32_t pad;
  uint64_t length;
  alignas(64) RobustMutex mutex;  // the optional lock (Value.get_lock())
  alignas(64) std::atomic<uint64_t> lock_owner_dead_recoveries;
  alignas(64) std::atomic<uint64_t> elements[1];  // `length` of them: int64 or double bits
};

class Array {
 public:
  // length: elements to create (>= 1); when the name exists, 0 takes it
  // whatever its length; type and any other length must match.
  static std::unique_ptr<Array> open(const std::string& name, OpenMode mode, ElemType type, uint64_t length,
                                     const SyncOptions& options);
  ~Array();

  const std::string& name() const noexcept { return segment_->name(); }
  ElemType type() const noexcept { return static_cast<ElemType>(s_->type); }
  uint64_t length() const noexcept { return s_->length; }

  // Every operation checks the index and the element type (InvalidArg).
  Status load(uint64_t index, ElemType type, uint64_t* bits, ErrorText& error) const;
  Status store(uint64_t index, ElemType type, uint64_t bits, ErrorText& error);
  // *previous = the value before; for doubles a compare-exchange loop.
  Status add_i64(uint64_t index, int64_t delta, int64_t* previous, ErrorText& error);
  Status add_f64(uint64_t index, double delta, double* previous, ErrorText& error);
  // Compares the bits; *actual = what was there, *swapped = whether it was replaced.
  Status compare_exchange(uint64_t index, ElemType type, uint64_t expected, uint64_t desired, uint64_t* actual,
                          bool* swapped, ErrorText& error);

  // The optional lock, for compound updates: as Lock (OwnerDead, NotOwner ...).
  Status acquire(const Deadline& deadline, ErrorText& error);
  Status release(ErrorText& error);

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);
  static uint64_t body_size(uint64_t length) { return offsetof(ArrayShared, elements) + 8 * length; }

 private:
  Array() = default;
  Status check(uint64_t index, ElemType type, ErrorText& error) const;
  std::unique_ptr<Segment> segment_;
  ArrayShared* s_ = nullptr;
};

}  // namespace polyipc
