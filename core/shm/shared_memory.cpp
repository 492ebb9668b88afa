#include "core/shm/shared_memory.hpp"

#include <cstring>
#include <new>

#include "core/describe.hpp"
#include "core/names.hpp"

namespace polyipc {
namespace {

constexpr uint64_t kMaxBytes = uint64_t{1} << 44;  // 16 TiB: well past any /dev/shm

const char* type_name(uint32_t t) { return t == static_cast<uint32_t>(ElemType::Int64) ? "int64" : "double"; }

}  // namespace

std::unique_ptr<SharedMemory> SharedMemory::open(const std::string& name, OpenMode mode, uint64_t size,
                                                 const SyncOptions& o) {
  check_name(name, "shared_memory");
  auto bad = [&](const std::string& what) {
    throw Error(Status::InvalidArg, format("shared_memory '%s': %s", name.c_str(), what.c_str()));
  };
  if (o.mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (size > kMaxBytes) bad(format("size %llu is larger than the OS allows (at most 2^44)", (unsigned long long)size));
  if (size == 0 && mode == OpenMode::CreateOnly) bad("size must be at least 1 byte to create");
  SegmentSpec spec;
  spec.kind = Kind::SharedMemory;
  spec.body_size = kPage + size;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    if (size == 0) bad("size must be at least 1 byte to create");
    auto* s = new (body) SharedMemoryShared();
    s->size = size;
    s->data_offset = kPage;
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const SharedMemoryShared*>(body);
    if (s->data_offset != kPage)
      throw Error(Status::Incompatible, format("shared_memory '%s': damaged header", name.c_str()));
    if (size != 0 && s->size != size)
      throw Error(Status::Incompatible, format("shared_memory '%s': exists with %llu bytes, opened with %llu",
                                               name.c_str(), (unsigned long long)s->size, (unsigned long long)size));
  };
  // Opening an existing block whatever its size: never create an empty one.
  const bool attach_only = size == 0 && mode == OpenMode::OpenOrCreate;
  std::unique_ptr<SharedMemory> m(new SharedMemory());
  try {
    m->segment_ = Segment::open(name, attach_only ? OpenMode::OpenOnly : mode, spec);
  } catch (const Error& e) {
    if (attach_only && e.status() == Status::NotFound)
      throw Error(Status::NotFound, format("shared_memory '%s': not found (size 0 only attaches to an existing block)",
                                           name.c_str()));
    throw;
  }
  m->s_ = static_cast<SharedMemoryShared*>(m->segment_->body());
  const SegmentHeader* h = m->segment_->header();
  if (h->total_size - h->body_offset < kPage + m->s_->size)
    throw Error(Status::Incompatible, format("shared_memory '%s': truncated or damaged", name.c_str()));
  return m;
}

SharedMemory::~SharedMemory() = default;

nlohmann::json SharedMemory::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const auto& s = *static_cast<const SharedMemoryShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["size_bytes"] = s.size;
  return j;
}

// ---- Array -------------------------------------------------------------------

std::unique_ptr<Array> Array::open(const std::string& name, OpenMode mode, ElemType type, uint64_t length,
                                   const SyncOptions& o) {
  check_name(name, "array");
  auto bad = [&](const std::string& what) {
    throw Error(Status::InvalidArg, format("array '%s': %s", name.c_str(), what.c_str()));
  };
  if (o.mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (static_cast<uint32_t>(type) > 1) bad("type must be INT64 or DOUBLE");
  if (length > (kMaxBytes >> 3)) bad(format("length %llu is larger than the OS allows", (unsigned long long)length));
  if (length == 0 && mode == OpenMode::CreateOnly) bad("length must be at least 1 to create");
  SegmentSpec spec;
  spec.kind = Kind::Array;
  spec.body_size = body_size(length);
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    if (length == 0) bad("length must be at least 1 to create");
    auto* s = new (body) ArrayShared();
    s->type = static_cast<uint32_t>(type);
    s->length = length;
    s->mutex.init(RobustMutex::Type::ErrorCheck);
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const ArrayShared*>(body);
    if (s->type > 1) throw Error(Status::Incompatible, format("array '%s': damaged header", name.c_str()));
    if (s->type != static_cast<uint32_t>(type))
      throw Error(Status::Incompatible, format("array '%s': exists with %s elements, opened as %s", name.c_str(),
                                               type_name(s->type), type_name(static_cast<uint32_t>(type))));
    if (length != 0 && s->length != length)
      throw Error(Status::Incompatible, format("array '%s': exists with length %llu, opened with %llu", name.c_str(),
                                               (unsigned long long)s->length, (unsigned long long)length));
  };
  if (length == 0 && mode == OpenMode::OpenOrCreate) mode = OpenMode::OpenOnly;
  std::unique_ptr<Array> a(new Array());
  a->segment_ = Segment::open(name, mode, spec);
  a->s_ = static_cast<ArrayShared*>(a->segment_->body());
  const SegmentHeader* h = a->segment_->header();
  if (h->total_size - h->body_offset < body_size(a->s_->length))
    throw Error(Status::Incompatible, format("array '%s': truncated or damaged", name.c_str()));
  return a;
}

Array::~Array() {
  // As Lock: a held robust mutex must stay mapped (keep_mapped_until_exit).
  if (s_ && s_->mutex.held_in_this_process()) keep_mapped_until_exit(std::move(segment_));
}

Status Array::check(uint64_t index, ElemType type, ErrorText& error) const {
  if (static_cast<uint32_t>(type) != s_->type) {
    error.set("array '%s' holds %s elements, not %s", name().c_str(), type_name(s_->type),
              type_name(static_cast<uint32_t>(type)));
    return Status::InvalidArg;
  }
  if (index >= s_->length) {
    error.set("array '%s': index %llu out of range (length %llu)", name().c_str(), (unsigned long long)index,
              (unsigned long long)s_->length);
    return Status::OutOfRange;
  }
  return Status::Ok;
}

Status Array::load(uint64_t index, ElemType type, uint64_t* bits, ErrorText& error) const {
  if (Status st = check(index, type, error); st != Status::Ok) return st;
  *bits = s_->elements[index].load(std::memory_order_seq_cst);
  return Status::Ok;
}

Status Array::store(uint64_t index, ElemType type, uint64_t bits, ErrorText& error) {
  if (Status st = check(index, type, error); st != Status::Ok) return st;
  s_->elements[index].store(bits, std::memory_order_seq_cst);
  return Status::Ok;
}

Status Array::add_i64(uint64_t index, int64_t delta, int64_t* previous, ErrorText& error) {
  if (Status st = check(index, ElemType::Int64, error); st != Status::Ok) return st;
  // Two's complement wrap-around, as Java's AtomicLong and Go's atomic.AddInt64.
  *previous = static_cast<int64_t>(s_->elements[index].fetch_add(static_cast<uint64_t>(delta)));
  return Status::Ok;
}

Status Array::add_f64(uint64_t index, double delta, double* previous, ErrorText& error) {
  if (Status st = check(index, ElemType::Double, error); st != Status::Ok) return st;
  auto& e = s_->elements[index];
  uint64_t old = e.load();
  for (;;) {
    double v;
    std::memcpy(&v, &old, 8);
    double sum = v + delta;
    uint64_t next;
    std::memcpy(&next, &sum, 8);
    if (e.compare_exchange_weak(old, next)) {
      *previous = v;
      return Status::Ok;
    }
  }
}

Status Array::compare_exchange(uint64_t index, ElemType type, uint64_t expected, uint64_t desired, uint64_t* actual,
                               bool* swapped, ErrorText& error) {
  if (Status st = check(index, type, error); st != Status::Ok) return st;
  uint64_t seen = expected;
  *swapped = s_->elements[index].compare_exchange_strong(seen, desired);
  *actual = seen;
  return Status::Ok;
}

Status Array::acquire(const Deadline& deadline, ErrorText& error) {
  Status st = s_->mutex.lock(deadline);
  if (st == Status::InvalidArg && deadline.is_immediate()) st = Status::Timeout;
  switch (st) {
    case Status::Ok: return st;
    case Status::OwnerDead:
      s_->mutex.mark_consistent();
      s_->lock_owner_dead_recoveries.fetch_add(1);
      error.set("array '%s': lock acquired, but its previous holder died holding it", name().c_str());
      return st;
    case Status::Timeout:
      error.set("array '%s': lock not acquired within the timeout", name().c_str());
      return st;
    default:
      error.set("array '%s': lock already held by this thread", name().c_str());
      return st;
  }
}

Status Array::release(ErrorText& error) {
  if (s_->mutex.unlock_checked() == Status::Ok) return Status::Ok;
  error.set("array '%s': lock released by a thread that does not hold it", name().c_str());
  return Status::NotOwner;
}

nlohmann::json Array::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const auto& s = *static_cast<const ArrayShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["type"] = type_name(s.type);
  j["length"] = s.length;
  j["locked"] = s.mutex.holder_tid() != 0;
  if (s.length <= 16) {  // small arrays (Values) show their elements
    nlohmann::json values = nlohmann::json::array();
    const uint64_t available = (h->total_size - h->body_offset - offsetof(ArrayShared, elements)) / 8;
    for (uint64_t i = 0; i < s.length && i < available; ++i) {
      uint64_t bits = s.elements[i].load();
      if (s.type == static_cast<uint32_t>(ElemType::Int64)) {
        values.push_back(static_cast<int64_t>(bits));
      } else {
        double v;
        std::memcpy(&v, &bits, 8);
        values.push_back(v);
      }
    }
    j["values"] = values;
  }
  return j;
}

}  // namespace polyipc
