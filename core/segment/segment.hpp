// A named POSIX shared-memory object holding one polyipc object: a common
// header (identity, initialisation, attached processes) followed by the
// kind-specific body. Opening is race-free across processes and never trusts
// what it finds: garbage, a truncated object, another kind or another layout
// version is Status::Incompatible.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/process.hpp"

namespace polyipc {

enum class OpenMode { OpenOrCreate = 0, CreateOnly = 1, OpenOnly = 2 };

enum class Kind : uint32_t { Queue = 1, Lock = 2, RLock = 3, Semaphore = 4, Event = 5, Condition = 6, Barrier = 7,
                          Pipe = 8, SharedMemory = 9, Array = 10, Pool = 11, Dict = 12, List = 13 };
const char* kind_name(Kind kind) noexcept;

constexpr uint64_t kSegmentMagic = 0x31435049594c4f50ull;  // "POLYIPC1"
constexpr uint32_t kLayoutVersion = 2;  // 2: two-lock FIFO queue
constexpr uint32_t kMaxAttached = 128;
constexpr uint32_t kDefaultMode = 0600;
// An attached slot held while a dead process's sleeper tally is taken off
// (sleeper_tally.cpp). No process has this token: its start time would be
// 2^42 clock ticks. Neither free nor dead to attach().
constexpr uint64_t kSlotBeingHealed = ~uint64_t{0};

struct SegmentHeader {
  uint64_t magic;  // written last by the creator, with `initialised`
  uint32_t layout_version;
  uint32_t kind;
  std::atomic<uint32_t> initialised;  // futex word: 0 while the creator builds the object
  uint32_t mode;
  uint64_t total_size;
  uint64_t body_offset;
  uint32_t creator_uid;
  uint32_t ephemeral;
  // Set while an ephemeral object is being removed: an opener that sees it
  // after attaching backs off and opens again (see retire_if_unused).
  std::atomic<uint32_t> retired;
  uint32_t reserved0;
  ProcessToken creator;
  uint64_t created_unix_ms;
  // One ProcessToken per attached handle, 0 when free; claimed with one CAS.
  alignas(64) std::atomic<uint64_t> attached[kMaxAttached];
  // Per attached slot: how many threads of its process each of the object's
  // sleeper counts (up to four) includes (core/segment/sleeper_tally.hpp).
  // Added in 0.6.1 in bytes that 0.6.0 left zero, so the layout version did
  // not change.
  alignas(64) std::atomic<uint32_t> sleeper_tally[kMaxAttached][4];
  std::atomic<uint64_t> dead_sleepers_healed;  // taken off the counts so far (0.6.1)
};
// Bodies start at the next 4 KiB boundary; 0.6 objects put them at 4096.
static_assert(sizeof(SegmentHeader) <= 4096, "the header grew past the body offset of 0.6 objects");

struct SegmentSpec {
  Kind kind;
  uint64_t body_size;  // used when creating
  bool fixed_size = false;  // every object of the kind has body_size bytes: a smaller one is damaged
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
  std::function<void(void* body)> init_body;             // creator only, before publication
  std::function<void(const void* body)> check_existing;  // opener: throws Incompatible on mismatch
  // Body ranges {offset, length}, in order and apart, that creation leaves
  // without pages: a kind that writes there only under load calls
  // back_pages() before its first write there. The rest of the object gets
  // its pages when it is created (see back_pages).
  std::vector<std::pair<uint64_t, uint64_t>> lazy_ranges;
};

// /dev/shm is a tmpfs: a page it cannot supply is found at the first write
// to it, and the kernel kills the writer with SIGBUS (Docker's default
// /dev/shm holds 64 MiB). So creation gives an object all its pages at once
// (fallocate), and a full /dev/shm is NoMemory at open, naming the object.
// For lazy ranges: pages for [addr, addr + len) of a mapping now, or the
// errno (ENOSPC: no room). Kernels before 5.14 cannot populate a mapping: 0,
// and pages come at first touch as before.
int back_pages(void* addr, uint64_t len) noexcept;
// "/dev/shm has no room for 3.0 MiB (1.2 MiB free)", for errors.
std::string no_room_text(uint64_t bytes);

class Segment {
 public:
  // Throws Error (NotFound, Exists, Incompatible, Permission, InvalidArg ...).
  static std::unique_ptr<Segment> open(const std::string& name, OpenMode mode, const SegmentSpec& spec);
  ~Segment();  // detaches; unlinks an ephemeral object when no live process is left
  Segment(const Segment&) = delete;

  const std::string& name() const noexcept { return name_; }
  bool created() const noexcept { return created_; }
  SegmentHeader* header() const noexcept { return header_; }
  void* body() const noexcept { return reinterpret_cast<char*>(header_) + header_->body_offset; }

  // Processes attached now that are alive (a dead process's slot counts as free).
  uint32_t live_attached() const noexcept;
  // This handle's slot in header()->attached, and the token it holds there.
  int slot() const noexcept { return slot_; }
  ProcessToken token() const noexcept { return token_; }

 private:
  Segment() = default;
  bool create(const SegmentSpec& spec, const std::string& obj, uint64_t total, uint64_t body_offset);
  bool attach();  // false: the object is being retired, open again
  void detach() noexcept;

  std::string name_;
  std::string shm_;
  SegmentHeader* header_ = nullptr;
  size_t mapped_size_ = 0;
  int slot_ = -1;
  uint64_t inode_ = 0;  // tells this object from a later one under the same name
  ProcessToken token_ = 0;
  bool created_ = false;
};

// Keeps a segment mapped until the process exits. For a handle closed while
// a thread of this process holds a robust mutex inside it: the mutex sits in
// that thread's robust list, which glibc and the kernel walk, so unmapping it
// would leave a dangling entry (Lock::~Lock). The segments stay reachable
// from a list never destroyed (not even by exit's destructors, which run
// before the kernel walks the list), so leak checkers see them kept.
void keep_mapped_until_exit(std::unique_ptr<Segment> segment) noexcept;

// Removes a name; attached handles keep working. Throws NotFound/InvalidArg.
void unlink_object(const std::string& name);

uint32_t count_live_attached(const SegmentHeader* header) noexcept;

// Unlinks an ephemeral object when no live process is attached, without
// racing an opener that attaches meanwhile, and only if the name still
// names this object (inode). True if it was removed.
bool retire_if_unused(SegmentHeader* header, const std::string& name, uint64_t inode) noexcept;

// A read-only view of an object for ls/stat/gc, without attaching to it.
struct ObjectView {
  std::string name;
  std::string error;  // non-empty when the object cannot be read (garbage, other version ...)
  std::shared_ptr<void> mapping;
  SegmentHeader* header = nullptr;
  uint64_t file_size = 0;
  uint64_t shm_bytes = 0;  // /dev/shm memory its pages take (since 0.9.2, all of them from creation)
  uint32_t file_mode = 0;
  uint32_t file_uid = 0;
  uint64_t inode = 0;
};
std::vector<std::string> list_object_names();
ObjectView view_object(const std::string& name);

// Objects being built under a private name (Segment::create), with their
// creator; one whose creator died is left over, for gc to remove.
struct UnfinishedCreation {
  std::string file;  // in /dev/shm
  ProcessToken creator;
};
std::vector<UnfinishedCreation> list_unfinished_creations();

}  // namespace polyipc
