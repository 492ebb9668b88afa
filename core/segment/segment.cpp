#include "core/segment/segment.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "core/status.hpp"
#include "core/sync/futex.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; glibc 2.36's headers may lack it
#endif

namespace polyipc {
namespace {

constexpr int64_t kInitWaitNs = 2'000'000'000;  // how long an opener waits for a creator to finish
// How long an opener waits for the process removing an ephemeral object to
// unlink it, before it takes that process for dead and unlinks it itself.
constexpr int64_t kRetireWaitNs = 1'000'000'000;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Free bytes of /dev/shm, or UINT64_MAX when they cannot be read.
uint64_t shm_free_bytes() noexcept {
  struct statvfs vfs;
  if (::statvfs(kShmDir, &vfs) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// Pages for [offset, offset + len) of the file now: 0, or the errno
// (ENOSPC/ENOMEM: no room). A file system without fallocate counts as done.
int allocate_file(int fd, uint64_t offset, uint64_t len) noexcept {
  // In steps: tmpfs undoes a whole call that a signal interrupts (EINTR),
  // and Go and the JVM send their threads signals often.
  constexpr uint64_t kStep = 16 << 20;
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min(kStep, len - done);
    if (::fallocate(fd, 0, static_cast<off_t>(offset + done), static_cast<off_t>(n)) == 0) {
      done += n;
    } else if (errno == EOPNOTSUPP || errno == ENOSYS) {
      return 0;
    } else if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

// Pages for the whole object except the kind's lazy ranges.
int allocate_object(int fd, uint64_t total, uint64_t body_offset, const SegmentSpec& spec, uint64_t* bytes) noexcept {
  // More than the file system has free fails before taking any of it: in
  // steps, a /dev/shm as large as RAM would otherwise be filled up to the
  // OOM killer before ENOSPC came.
  *bytes = total;
  for (const auto& range : spec.lazy_ranges) *bytes -= range.second;
  if (*bytes > shm_free_bytes()) return ENOSPC;
  uint64_t from = 0;
  for (const auto& [offset, length] : spec.lazy_ranges) {
    if (int e = allocate_file(fd, from, body_offset + offset - from)) return e;
    from = body_offset + offset + length;
  }
  return allocate_file(fd, from, total - from);
}

void sleep_ns(long ns) {
  timespec ts{0, ns};
  nanosleep(&ts, nullptr);
}

// Unlinks the name if it still names the object with this inode: never a
// newer object made under the name meanwhile.
bool unlink_if_same(const std::string& name, uint64_t inode) noexcept {
  try {
    std::string shm = "/" + shm_name(name);
    int fd = ::shm_open(shm.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return false;
    struct stat st;
    bool same = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_ino) == inode;
    ::close(fd);
    return same && ::shm_unlink(shm.c_str()) == 0;
  } catch (...) {
    return false;
  }
}

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) munmap(addr, size);
  }
};

// Checks what an opener found. Everything here is untrusted input.
// "a queue", "an event".
std::string with_article(const char* noun) {
  return std::string(std::strchr("aeiou", noun[0]) ? "an " : "a ") + noun;
}

void check_header(const std::string& obj, const SegmentHeader* h, uint64_t file_size, Kind kind) {
  if (h->magic != kSegmentMagic)
    throw Error(Status::Incompatible, obj + ": not a polyipc object (bad magic)");
  if (h->layout_version != kLayoutVersion)
    throw Error(Status::Incompatible, format("%s: layout version %u, this library reads version %u", obj.c_str(),
                                             h->layout_version, kLayoutVersion));
  if (h->total_size != file_size || h->body_offset < sizeof(SegmentHeader) || h->body_offset >= file_size)
    throw Error(Status::Incompatible, format("%s: truncated or damaged object (%llu bytes, header says %llu)",
                                             obj.c_str(), (unsigned long long)file_size,
                                             (unsigned long long)h->total_size));
  if (h->kind != static_cast<uint32_t>(kind))
    throw Error(Status::Incompatible, format("%s: the name holds %s, not %s", obj.c_str(),
                                             with_article(kind_name(static_cast<Kind>(h->kind))).c_str(),
                                             with_article(kind_name(kind)).c_str()));
}

}  // namespace

int back_pages(void* addr, uint64_t len) noexcept {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t from = reinterpret_cast<uintptr_t>(addr) & ~(page - 1);
  const uintptr_t to = (reinterpret_cast<uintptr_t>(addr) + len + page - 1) & ~(page - 1);
  // Without room, fail before taking the last free pages from everyone.
  if (to - from > shm_free_bytes()) return ENOSPC;
  for (;;) {  // pages populated before an interruption stay populated
    if (::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE) == 0) return 0;
    if (errno == EINVAL) return 0;          // before 5.14: first touch, as before
    if (errno == EFAULT) return ENOSPC;     // what would have been a SIGBUS
    if (errno != EINTR && errno != EAGAIN) return errno;
  }
}

std::string no_room_text(uint64_t bytes) {
  std::string text = "/dev/shm has no room for " + size_text(bytes);
  const uint64_t free_bytes = shm_free_bytes();
  if (free_bytes != UINT64_MAX) text += " (" + size_text(free_bytes) + " free)";
  return text;
}

const char* kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::Queue: return "queue";
    case Kind::Lock: return "lock";
    case Kind::RLock: return "rlock";
    case Kind::Semaphore: return "semaphore";
    case Kind::Event: return "event";
    case Kind::Condition: return "condition";
    case Kind::Barrier: return "barrier";
    case Kind::Pipe: return "pipe";
    case Kind::SharedMemory: return "shared_memory";
    case Kind::Pool: return "pool";
    case Kind::Dict: return "dict";
    case Kind::List: return "list";
    case Kind::Array: return "array";
  }
  return "unknown object";
}

std::unique_ptr<Segment> Segment::open(const std::string& name, OpenMode mode, const SegmentSpec& spec) {
  const char* kname = kind_name(spec.kind);
  check_name(name, kname);
  const std::string obj = format("%s '%s'", kname, name.c_str());
  std::unique_ptr<Segment> seg(new Segment());
  seg->name_ = name;
  seg->shm_ = shm_name(name);
  const uint64_t body_offset = align_up(sizeof(SegmentHeader), 4096);
  const uint64_t total = body_offset + spec.body_size;
  int64_t retired_since = 0;  // when this open first found the object being removed
  int backoff = 0;

  for (int attempt = 0;; ++attempt) {
    // 1. Create it when the name is free. OPEN_OR_CREATE looks first:
    //    opening is the common case, and creating costs the object's pages.
    if (mode == OpenMode::CreateOnly) {
      if (::access(shm_path(name).c_str(), F_OK) != 0 && seg->create(spec, obj, total, body_offset)) return seg;
      throw Error(Status::Exists, obj + ": already exists");
    }
    // 2. Open what is there.
    int fd = ::shm_open(("/" + seg->shm_).c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT && mode == OpenMode::OpenOrCreate) {
        if (seg->create(spec, obj, total, body_offset)) return seg;
        // Another creator's object took the name meanwhile: open that one.
        if (attempt < 100) continue;
        throw Error(Status::System, obj + ": kept appearing and vanishing while being opened");
      }
      if (e == ENOENT) throw Error(Status::NotFound, obj + ": not found");
      throw_os_error(e, obj + ": open");
    }
    struct stat st;
    int64_t give_up = monotonic_ns() + kInitWaitNs;
    // A size of 0 is a creator between shm_open and ftruncate: wait a little.
    while (::fstat(fd, &st) == 0 && st.st_size == 0 && monotonic_ns() < give_up) sleep_ns(100'000);
    if (static_cast<uint64_t>(st.st_size) < sizeof(SegmentHeader)) {
      ::close(fd);
      throw Error(Status::Incompatible, format("%s: truncated or not a polyipc object (%lld bytes)", obj.c_str(),
                                               (long long)st.st_size));
    }
    void* addr = ::mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int map_errno = errno;
    ::close(fd);
    if (addr == MAP_FAILED) throw_os_error(map_errno, obj + ": map");
    seg->header_ = static_cast<SegmentHeader*>(addr);
    seg->mapped_size_ = st.st_size;
    SegmentHeader* h = seg->header_;
    while (h->initialised.load(std::memory_order_acquire) != 1) {
      ProcessToken creator = h->creator;
      if ((creator != 0 && !is_alive(creator)) || monotonic_ns() >= give_up)
        throw Error(Status::Incompatible, obj + ": never initialised (its creator died or it is not a polyipc object)");
      futex_wait(&h->initialised, 0, monotonic_ns() + 10'000'000);
    }
    check_header(obj, h, st.st_size, spec.kind);
    if (spec.fixed_size && static_cast<uint64_t>(st.st_size) - h->body_offset < spec.body_size) {
      munmap(seg->header_, seg->mapped_size_);
      seg->header_ = nullptr;
      throw Error(Status::Incompatible, format("%s: truncated or damaged object (%lld bytes)", obj.c_str(),
                                               (long long)st.st_size));
    }
    if (spec.check_existing) spec.check_existing(seg->body());
    seg->inode_ = st.st_ino;
    if (seg->attach()) return seg;
    // An ephemeral object being removed under us. Its remover unlinks it in
    // a moment, and then the next attempt creates a new one: wait for that,
    // a little longer each time (a remover preempted on a busy machine
    // outlasted 100 quick attempts). One that died before unlinking (kill -9)
    // leaves it retired with nobody attached: after kRetireWaitNs, finish
    // its work. (Nobody can attach meanwhile: attachers see `retired` and
    // back off, as this one did.)
    const int64_t now = monotonic_ns();
    if (retired_since == 0) retired_since = now;
    if (now - retired_since > kRetireWaitNs && count_live_attached(h) == 0) unlink_if_same(name, seg->inode_);
    munmap(seg->header_, seg->mapped_size_);
    seg->header_ = nullptr;
    if (now - retired_since > 3 * kRetireWaitNs)
      throw Error(Status::System, obj + ": kept finding the object being removed");
    sleep_ns(std::min<long>(1'000'000, 10'000L << std::min(backoff++, 7)));
  }
}

// Builds the object whole under a private name, then links it to its own:
// link() fails when the name exists, so exactly one creator wins, and nobody
// ever sees a half-made object. A creator killed on the way leaves nothing
// under the name, only its private file, which `polyipc gc` removes. (Until
// 0.9.2 the object was made in place, and a creator killed before it
// finished left the name INCOMPATIBLE for every later open.) False when the
// name was taken meanwhile; nothing of this attempt is left then.
bool Segment::create(const SegmentSpec& spec, const std::string& obj, uint64_t total, uint64_t body_offset) {
  static std::atomic<uint64_t> creations{0};
  const std::string file = creating_prefix() + format("%llx.%llu", (unsigned long long)self_token(),
                                                      (unsigned long long)creations.fetch_add(1));
  const int fd = ::shm_open(("/" + file).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, spec.mode);
  if (fd < 0) throw_os_error(errno, obj + ": create");
  auto discard = [&] {
    ::shm_unlink(("/" + file).c_str());
    ::close(fd);
    if (header_) ::munmap(header_, mapped_size_);
    header_ = nullptr;
    created_ = false;
    slot_ = -1;
  };
  try {
    // The umask would narrow the mode given to shm_open.
    if (::fchmod(fd, spec.mode) != 0) throw_os_error(errno, obj + ": set its mode");
    if (::ftruncate(fd, static_cast<off_t>(total)) != 0) throw_os_error(errno, obj + ": size");
    uint64_t bytes = 0;
    if (int e = allocate_object(fd, total, body_offset, spec, &bytes)) {
      if (!is_no_room(e)) throw_os_error(e, obj + ": allocate");
      throw Error(Status::NoMemory, format("%s: %s: make /dev/shm larger (docker run --shm-size) or the object smaller",
                                           obj.c_str(), no_room_text(bytes).c_str()));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) throw_os_error(errno, obj + ": stat");
    inode_ = st.st_ino;
    void* addr = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) throw_os_error(errno, obj + ": map");
    auto* h = static_cast<SegmentHeader*>(addr);
    header_ = h;
    mapped_size_ = total;
    h->creator = self_token();
    h->creator_uid = ::geteuid();
    h->mode = spec.mode;
    h->ephemeral = spec.ephemeral ? 1 : 0;
    h->created_unix_ms = now_unix_ms();
    h->total_size = total;
    h->body_offset = body_offset;
    h->kind = static_cast<uint32_t>(spec.kind);
    h->layout_version = kLayoutVersion;
    if (spec.init_body) spec.init_body(reinterpret_cast<char*>(h) + body_offset);
    created_ = true;
    attach();  // nobody else can see it yet: cannot be retired
    h->magic = kSegmentMagic;
    h->initialised.store(1, std::memory_order_release);
    if (::link((std::string(kShmDir) + "/" + file).c_str(), shm_path(name_).c_str()) != 0) {
      const int e = errno;
      if (e != EEXIST) throw_os_error(e, obj + ": publish");
      discard();
      return false;
    }
  } catch (...) {
    discard();
    throw;
  }
  ::shm_unlink(("/" + file).c_str());  // the object lives on under its name
  ::close(fd);
  // Map it again through its name, so that /proc/<pid>/maps and lsof name
  // the object, not the private file "(deleted)". Kept as it is if the name
  // was removed meanwhile (it still works, only its mapping's name differs).
  const int named = ::shm_open(("/" + shm_).c_str(), O_RDWR | O_CLOEXEC, 0);
  struct stat st;
  if (named >= 0 && ::fstat(named, &st) == 0 && static_cast<uint64_t>(st.st_ino) == inode_) {
    void* addr = ::mmap(nullptr, mapped_size_, PROT_READ | PROT_WRITE, MAP_SHARED, named, 0);
    if (addr != MAP_FAILED) {
      ::munmap(header_, mapped_size_);
      header_ = static_cast<SegmentHeader*>(addr);
    }
  }
  if (named >= 0) ::close(named);
  return true;
}

bool Segment::attach() {
  token_ = self_token();
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < kMaxAttached; ++i) {
      uint64_t expected = 0;
      if (header_->attached[i].compare_exchange_strong(expected, token_, std::memory_order_seq_cst)) {
        // Attach first, then look: a retirer that looks after us sees our slot.
        if (header_->retired.load(std::memory_order_seq_cst)) {
          header_->attached[i].store(0, std::memory_order_seq_cst);
          return false;
        }
        slot_ = static_cast<int>(i);
        return true;
      }
    }
    // Full: free the slots of dead processes, then look again. A freed
    // slot's sleeper tally stays: it is still owed to the counts, and
    // whoever takes the slot inherits it (SleeperTally::heal).
    for (uint32_t i = 0; i < kMaxAttached; ++i) {
      uint64_t t = header_->attached[i].load();
      if (t != 0 && t != kSlotBeingHealed && !is_alive(t)) header_->attached[i].compare_exchange_strong(t, 0);
    }
  }
  throw Error(Status::NoMemory, format("%s '%s': more than %u handles attached", kind_name(Kind(header_->kind)),
                                       name_.c_str(), kMaxAttached));
}

uint32_t count_live_attached(const SegmentHeader* header) noexcept {
  uint32_t n = 0;
  for (uint32_t i = 0; i < kMaxAttached; ++i) {
    uint64_t t = header->attached[i].load(std::memory_order_seq_cst);
    if (t != 0 && is_alive(t)) ++n;
  }
  return n;
}

uint32_t Segment::live_attached() const noexcept { return count_live_attached(header_); }

bool retire_if_unused(SegmentHeader* h, const std::string& name, uint64_t inode) noexcept {
  if (count_live_attached(h) > 0) return false;
  uint32_t expected = 0;
  if (!h->retired.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return false;
  // Someone attached between our two looks: they saw retired and back off,
  // or we see them now; either way the object stays.
  if (count_live_attached(h) > 0) {
    h->retired.store(0, std::memory_order_seq_cst);
    return false;
  }
  return unlink_if_same(name, inode);  // the name may already hold a newer object
}

void Segment::detach() noexcept {
  if (slot_ < 0) return;
  uint64_t mine = token_;
  header_->attached[slot_].compare_exchange_strong(mine, 0, std::memory_order_seq_cst);
  slot_ = -1;
  if (header_->ephemeral) retire_if_unused(header_, name_, inode_);
}

Segment::~Segment() {
  if (!header_) return;
  detach();
  munmap(header_, mapped_size_);
}

void keep_mapped_until_exit(std::unique_ptr<Segment> segment) noexcept {
  static std::mutex guard;
  static auto* kept = new (std::nothrow) std::vector<std::unique_ptr<Segment>>;  // never destroyed: see the header
  std::lock_guard<std::mutex> lock(guard);
  if (kept) {
    try {
      kept->push_back(std::move(segment));
      return;
    } catch (const std::bad_alloc&) {
    }
  }
  (void)segment.release();  // no memory for the list: still mapped, only unlisted
}

void unlink_object(const std::string& name) {
  check_name(name, "object");
  std::string shm = "/" + shm_name(name);
  if (::shm_unlink(shm.c_str()) != 0) {
    int e = errno;
    if (e == ENOENT) throw Error(Status::NotFound, format("object '%s': not found", name.c_str()));
    throw_os_error(e, format("object '%s': unlink", name.c_str()));
  }
}

namespace {

// The names of /dev/shm's files that start with prefix, without it.
std::vector<std::string> shm_files(const std::string& prefix) {
  std::vector<std::string> found;
  DIR* dir = ::opendir(kShmDir);
  if (!dir) throw_os_error(errno, "listing /dev/shm");
  while (dirent* e = ::readdir(dir)) {
    const std::string file = e->d_name;
    if (file.compare(0, prefix.size(), prefix) == 0) found.push_back(file.substr(prefix.size()));
  }
  ::closedir(dir);
  return found;
}

}  // namespace

std::vector<std::string> list_object_names() {
  std::vector<std::string> names;
  for (std::string& name : shm_files(shm_prefix()))
    if (is_valid_name(name)) names.push_back(std::move(name));
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<UnfinishedCreation> list_unfinished_creations() {
  std::vector<UnfinishedCreation> found;
  const std::string prefix = creating_prefix();
  for (const std::string& rest : shm_files(prefix)) {  // "<token in hex>.<n>"
    char* end = nullptr;
    const unsigned long long token = std::strtoull(rest.c_str(), &end, 16);
    if (end && *end == '.') found.push_back({prefix + rest, token});
  }
  return found;
}

ObjectView view_object(const std::string& name) {
  check_name(name, "object");
  ObjectView v;
  v.name = name;
  int fd = ::shm_open(("/" + shm_name(name)).c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) throw Error(Status::NotFound, format("object '%s': not found", name.c_str()));
    throw_os_error(e, format("object '%s': open", name.c_str()));
  }
  struct stat st;
  ::fstat(fd, &st);
  v.file_size = st.st_size;
  v.shm_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  v.file_mode = st.st_mode & 07777;
  v.file_uid = st.st_uid;
  v.inode = st.st_ino;
  if (v.file_size < sizeof(SegmentHeader)) {
    ::close(fd);
    v.error = format("truncated or not a polyipc object (%llu bytes)", (unsigned long long)v.file_size);
    return v;
  }
  void* addr = ::mmap(nullptr, v.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) {
    v.error = std::string("cannot map: ") + std::strerror(errno);
    return v;
  }
  uint64_t size = v.file_size;
  v.mapping = std::shared_ptr<void>(addr, [size](void* p) { munmap(p, size); });
  auto* h = static_cast<SegmentHeader*>(addr);
  if (h->initialised.load(std::memory_order_acquire) != 1) {
    v.error = "not initialised";
    return v;
  }
  try {
    check_header(format("object '%s'", name.c_str()), h, v.file_size, static_cast<Kind>(h->kind));
    v.header = h;
  } catch (const Error& e) {
    v.error = e.what();
  }
  return v;
}

}  // namespace polyipc
