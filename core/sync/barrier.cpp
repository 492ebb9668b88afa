#include "core/sync/barrier.hpp"

#include <new>

#include "core/describe.hpp"

namespace polyipc {
namespace {
constexpr int kIndexBits = 8;  // a ticket is generation << 8 | arrival index (parties <= 256)
static_assert(BarrierShared::kMaxParties <= (1u << kIndexBits));
}  // namespace

std::unique_ptr<Barrier> Barrier::open(const std::string& name, OpenMode mode, uint64_t parties,
                                       const SyncOptions& o) {
  if (o.mode > 0777)
    throw Error(Status::InvalidArg, format("barrier '%s': mode must be permission bits (at most 0777)", name.c_str()));
  if (parties == 0 || parties > BarrierShared::kMaxParties)
    throw Error(Status::InvalidArg, format("barrier '%s': parties must be 1..%u, not %llu", name.c_str(),
                                           BarrierShared::kMaxParties, (unsigned long long)parties));
  SegmentSpec spec;
  spec.kind = Kind::Barrier;
  spec.body_size = sizeof(BarrierShared);
  spec.fixed_size = true;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) BarrierShared();
    s->parties = parties;
    s->broken_generation = BarrierShared::kNotBroken;
    s->mutex.init();
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const BarrierShared*>(body);
    if (s->parties != parties)
      throw Error(Status::Incompatible, format("barrier '%s': exists with %llu parties, opened with %llu",
                                               name.c_str(), (unsigned long long)s->parties,
                                               (unsigned long long)parties));
  };
  std::unique_ptr<Barrier> b(new Barrier());
  b->segment_ = Segment::open(name, mode, spec);
  b->s_ = static_cast<BarrierShared*>(b->segment_->body());
  b->tally_.init(*b->segment_, {&b->s_->wake.sleepers});
  return b;
}

Barrier::~Barrier() = default;

void Barrier::lock() {
  if (s_->mutex.lock(Deadline::forever()) == Status::OwnerDead) {
    roll_back(s_->journal, s_);
    s_->owner_dead_recoveries.fetch_add(1, std::memory_order_relaxed);
    s_->mutex.mark_consistent();
  }
}

// Under the lock: everyone waiting in this generation leaves with Broken.
void Barrier::break_locked() {
  if (s_->broken_generation == s_->generation) return;
  Transaction tx(s_->journal, s_);
  tx.set(s_->broken_generation, s_->generation);
  s_->breaks.fetch_add(1, std::memory_order_relaxed);
}

// Under the lock: the pid of a process that arrived in `generation` and died, or 0.
pid_t Barrier::dead_waiter(uint64_t generation) const {
  const ProcessToken me = self_token();
  for (uint64_t i = 0; i < s_->count && i < BarrierShared::kMaxParties; ++i) {
    const auto& w = s_->waiters[i];
    if (w.generation == generation && w.token != me && !is_alive(w.token)) return token_pid(w.token);
  }
  return 0;
}

Status Barrier::arrive(uint64_t* ticket, ErrorText& error) {
  lock();
  const uint64_t g = s_->generation;
  if (s_->broken_generation == g) {
    s_->mutex.unlock();
    error.set("barrier '%s': broken (reset it to use it again)", name().c_str());
    return Status::Broken;
  }
  const uint64_t index = s_->count;
  bool last = index + 1 == s_->parties;
  {
    Transaction tx(s_->journal, s_);
    tx.set(s_->waiters[index].token, self_token());
    tx.set(s_->waiters[index].generation, g);
    if (last) {
      tx.set(s_->count, 0);
      tx.set(s_->generation, g + 1);
    } else {
      tx.set(s_->count, index + 1);
    }
  }
  s_->mutex.unlock();
  if (last) {
    s_->rounds.fetch_add(1, std::memory_order_relaxed);
    s_->wake.wake_all(tally_);
  }
  *ticket = (g << kIndexBits) | index;
  return Status::Ok;
}

Status Barrier::await(uint64_t ticket, const Deadline& deadline, uint64_t* index, ErrorText& error) {
  const uint64_t g = ticket >> kIndexBits;
  int64_t next_liveness_check = 0;
  for (;;) {
    const uint32_t seen = s_->wake.observe();
    lock();
    const bool broken = s_->broken_generation == g;
    const bool passed = s_->generation != g;
    if (!broken && !passed) {
      const int64_t now = monotonic_ns();
      if (now >= next_liveness_check) {
        next_liveness_check = now + kLivenessSliceNs;
        if (pid_t dead = dead_waiter(g)) {
          break_locked();
          s_->mutex.unlock();
          s_->wake.wake_all(tally_);
          error.set("barrier '%s': broken: waiting process %d died", name().c_str(), static_cast<int>(dead));
          return Status::Broken;
        }
      }
    }
    s_->mutex.unlock();
    if (broken) {
      error.set("barrier '%s': broken while waiting (aborted, reset, timed out or a waiter died)", name().c_str());
      return Status::Broken;
    }
    if (passed) {
      *index = ticket & ((1u << kIndexBits) - 1);
      return Status::Ok;
    }
    if (deadline.is_immediate() || !s_->wake.wait(seen, deadline, kLivenessSliceNs, tally_, kSpinNs)) {
      if (s_->wake.observe() != seen) continue;  // something changed at the last moment: look again
      error.set("barrier '%s': not all %llu parties arrived within the timeout", name().c_str(),
                (unsigned long long)s_->parties);
      return Status::Timeout;
    }
  }
}

Status Barrier::wait(const Deadline& deadline, uint64_t* index, ErrorText& error) {
  uint64_t ticket = 0;
  if (Status st = arrive(&ticket, error); st != Status::Ok) return st;
  Status st = await(ticket, deadline, index, error);
  if (st != Status::Timeout) return st;
  // Giving up breaks the barrier for everyone, unless the round completed meanwhile.
  st = cancel(ticket, index, error);
  if (st == Status::Ok) return st;
  error.set("barrier '%s': not all %llu parties arrived within the timeout; the barrier is now broken",
            name().c_str(), (unsigned long long)s_->parties);
  return Status::Timeout;
}

Status Barrier::cancel(uint64_t ticket, uint64_t* index, ErrorText& error) {
  const uint64_t g = ticket >> kIndexBits;
  lock();
  const bool passed = s_->generation != g && s_->broken_generation != g;
  if (!passed && s_->generation == g) break_locked();
  s_->mutex.unlock();
  if (passed) {
    *index = ticket & ((1u << kIndexBits) - 1);
    return Status::Ok;
  }
  s_->wake.wake_all(tally_);
  error.set("barrier '%s': arrival given up; the barrier is now broken", name().c_str());
  return Status::Broken;
}

void Barrier::abort() {
  lock();
  break_locked();
  s_->mutex.unlock();
  s_->wake.wake_all(tally_);
}

void Barrier::reset() {
  lock();
  if (s_->count > 0 || s_->broken_generation == s_->generation) {
    // Waiters of this generation leave with Broken; a fresh generation starts.
    Transaction tx(s_->journal, s_);
    tx.set(s_->broken_generation, s_->generation);
    tx.set(s_->generation, s_->generation + 1);
    tx.set(s_->count, 0);
  }
  s_->mutex.unlock();
  s_->wake.wake_all(tally_);
}

uint64_t Barrier::n_waiting() const noexcept { return broken() ? 0 : load_word(&s_->count); }

bool Barrier::broken() const noexcept { return load_word(&s_->broken_generation) == load_word(&s_->generation); }

nlohmann::json Barrier::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const BarrierShared& s = *static_cast<const BarrierShared*>(body);
  nlohmann::json j = describe_header(name, h);
  const bool broken = load_word(&s.broken_generation) == load_word(&s.generation);
  j["parties"] = s.parties;
  j["waiting"] = broken ? 0 : load_word(&s.count);
  j["broken"] = broken;
  j["generation"] = load_word(&s.generation);
  j["sleeping"] = {{"waiters", s.wake.sleepers.load()}};  // threads asleep in a wait, as wakers count them
  j["counters"] = {{"rounds", s.rounds.load()}, {"breaks", s.breaks.load()},
                   {"owner_dead_recoveries", s.owner_dead_recoveries.load()}};
  return j;
}

}  // namespace polyipc
