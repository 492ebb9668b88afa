#include "core/sync/lock.hpp"

#include <cerrno>
#include <cstdio>
#include <new>

#include "core/describe.hpp"

namespace polyipc {

std::unique_ptr<Lock> Lock::open(const std::string& name, OpenMode mode, Kind kind, const SyncOptions& o) {
  if (o.mode > 0777)
    throw Error(Status::InvalidArg, format("%s '%s': mode must be permission bits (at most 0777)", kind_name(kind),
                                           name.c_str()));
  SegmentSpec spec;
  spec.kind = kind;
  spec.body_size = sizeof(LockShared);
  spec.fixed_size = true;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) LockShared();
    s->mutex.init(kind == Kind::RLock ? RobustMutex::Type::Recursive : RobustMutex::Type::ErrorCheck);
  };
  std::unique_ptr<Lock> l(new Lock());
  l->kind_ = kind;
  l->segment_ = Segment::open(name, mode, spec);
  l->s_ = static_cast<LockShared*>(l->segment_->body());
  return l;
}

std::unique_ptr<Lock> Lock::open_any(const std::string& name, OpenMode mode, const SyncOptions& o) {
  try {
    return open(name, mode, Kind::Lock, o);
  } catch (const Error& e) {
    if (e.status() != Status::Incompatible) throw;
    try {
      return open(name, OpenMode::OpenOnly, Kind::RLock, o);
    } catch (const Error&) {
      throw e;  // neither kind: the first error says what the name holds
    }
  }
}

Lock::~Lock() {
  // Closing does not release (another handle of this process may be the one
  // in use), and a held robust mutex must stay mapped (keep_mapped_until_exit).
  if (s_ && s_->mutex.held_in_this_process()) keep_mapped_until_exit(std::move(segment_));
}

Status Lock::acquire_slow(int trylock_rc, const Deadline& deadline, ErrorText& error) {
  if (trylock_rc == EOWNERDEAD) return finish_acquire(Status::OwnerDead, error);
  if (trylock_rc != EBUSY && trylock_rc != EDEADLK) throw_os_error(trylock_rc, kind_name(kind_));
  Status st = s_->mutex.lock(deadline);
  // acquire(timeout 0) of a Lock the caller holds is "not acquired", as Python's acquire(False).
  if (st == Status::InvalidArg && deadline.is_immediate()) st = Status::Timeout;
  return finish_acquire(st, error);
}

Status Lock::finish_acquire(Status st, ErrorText& error) {
  switch (st) {
    case Status::Ok:
      ++s_->acquires;
      return st;
    case Status::OwnerDead:
      s_->mutex.mark_consistent();
      ++s_->acquires;
      s_->owner_dead_recoveries.fetch_add(1, std::memory_order_relaxed);
      error.set("%s '%s': acquired, but its previous holder died holding it (repair what it guarded)", kname(),
                name().c_str());
      return st;
    case Status::Timeout:
      s_->timeouts.fetch_add(1, std::memory_order_relaxed);
      error.set("%s '%s': not acquired within the timeout (held by thread %d)", kname(), name().c_str(),
                static_cast<int>(s_->mutex.holder_tid()));
      return st;
    case Status::InvalidArg:
      error.set("%s '%s': already held by this thread; a lock is not recursive (use an rlock)", kname(),
                name().c_str());
      return st;
    default:
      error.set("%s '%s': acquire failed", kname(), name().c_str());
      return st;
  }
}

Status Lock::release_failed(ErrorText& error) {
  pid_t holder = s_->mutex.holder_tid();
  if (holder == 0)
    error.set("%s '%s': release of a lock that is not held", kname(), name().c_str());
  else
    error.set("%s '%s': release by thread %d, which does not hold it (thread %d does)", kname(), name().c_str(),
              static_cast<int>(current_tid()), static_cast<int>(holder));
  return Status::NotOwner;
}

uint32_t Lock::release_all() noexcept {
  uint32_t depth = held_by_caller();
  for (uint32_t i = 0; i < depth; ++i) s_->mutex.unlock();
  return depth;
}

Status Lock::reacquire(uint32_t depth, ErrorText& error) {
  Status st = finish_acquire(s_->mutex.lock(Deadline::forever()), error);
  for (uint32_t i = 1; i < depth; ++i) s_->mutex.try_lock();  // recursive: the holder re-enters at once
  return st;
}

nlohmann::json Lock::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const LockShared& s = *static_cast<const LockShared*>(body);
  nlohmann::json j = describe_header(name, h);
  pid_t tid = s.mutex.holder_tid();
  j["locked"] = tid != 0;
  if (tid != 0) {
    j["holder_tid"] = tid;
    j["depth"] = s.mutex.depth();
  }
  j["counters"] = {{"acquires", __atomic_load_n(&s.acquires, __ATOMIC_RELAXED)},
                   {"owner_dead_recoveries", s.owner_dead_recoveries.load()},
                   {"timeouts", s.timeouts.load()}};
  return j;
}

}  // namespace polyipc
