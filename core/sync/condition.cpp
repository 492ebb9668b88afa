#include "core/sync/condition.hpp"

#include <cstring>
#include <new>

#include "core/describe.hpp"

namespace polyipc {

std::unique_ptr<Condition> Condition::open(const std::string& name, OpenMode mode, const std::string& lock_name,
                                           const SyncOptions& o) {
  check_name(name, "condition");
  if (o.mode > 0777)
    throw Error(Status::InvalidArg,
                format("condition '%s': mode must be permission bits (at most 0777)", name.c_str()));
  const std::string bound = lock_name.empty() ? name + ".lock" : lock_name;
  if (!is_valid_name(bound))
    throw Error(Status::InvalidArg, format("condition '%s': invalid lock name '%.200s'", name.c_str(), bound.c_str()));
  SegmentSpec spec;
  spec.kind = Kind::Condition;
  spec.body_size = sizeof(ConditionShared);
  spec.fixed_size = true;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) ConditionShared();
    std::memcpy(s->lock_name, bound.c_str(), bound.size() + 1);
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const ConditionShared*>(body);
    const std::string existing(s->lock_name, strnlen(s->lock_name, sizeof s->lock_name));
    if (!lock_name.empty() && existing != bound)
      throw Error(Status::Incompatible, format("condition '%s': bound to lock '%s', opened with lock '%s'",
                                               name.c_str(), existing.c_str(), bound.c_str()));
  };
  std::unique_ptr<Condition> c(new Condition());
  c->segment_ = Segment::open(name, mode, spec);
  c->s_ = static_cast<ConditionShared*>(c->segment_->body());
  c->tally_.init(*c->segment_, {&c->s_->wake.sleepers});
  const std::string actual(c->s_->lock_name, strnlen(c->s_->lock_name, sizeof c->s_->lock_name));
  c->lock_ = Lock::open_any(actual, OpenMode::OpenOrCreate, o);
  return c;
}

Condition::~Condition() = default;

Status Condition::require_lock(const char* what, ErrorText& error) const {
  if (lock_->held_by_caller()) return Status::Ok;
  error.set("condition '%s': %s without holding its %s '%s'", name().c_str(), what, lock_->recursive() ? "rlock" : "lock",
            lock_->name().c_str());
  return Status::NotOwner;
}

Status Condition::wait(const Deadline& deadline, ErrorText& error) {
  if (Status st = require_lock("wait", error); st != Status::Ok) return st;
  // Take a slot (under the lock). A slot whose waiter died is reused.
  const ProcessToken me = self_token();
  int64_t slot = -1;
  for (int pass = 0; pass < 2 && slot < 0; ++pass)
    for (uint32_t i = 0; i < ConditionShared::kMaxWaiters; ++i) {
      uint64_t t = s_->waiters[i].token.load(std::memory_order_relaxed);
      if (t == 0 || (pass == 1 && t != me && !is_alive(t))) {
        slot = i;
        break;
      }
    }
  if (slot < 0) {
    error.set("condition '%s': more than %u waiters", name().c_str(), ConditionShared::kMaxWaiters);
    return Status::NoMemory;
  }
  auto& w = s_->waiters[slot];
  w.ticket = s_->next_ticket++;
  w.notified.store(0, std::memory_order_relaxed);
  w.token.store(me, std::memory_order_release);
  s_->waits.fetch_add(1, std::memory_order_relaxed);

  uint32_t seen = s_->wake.observe();
  const uint32_t depth = lock_->release_all();
  while (!w.notified.load(std::memory_order_acquire)) {
    if (!s_->wake.wait(seen, deadline, kLivenessSliceNs, tally_)) break;
    seen = s_->wake.observe();
  }
  Status st = lock_->reacquire(depth, error);
  // Under the lock again: a notify that came after the deadline still counts.
  const bool notified = w.notified.load(std::memory_order_acquire) != 0;
  w.token.store(0, std::memory_order_release);
  if (st == Status::OwnerDead) return st;
  if (notified) return Status::Ok;
  s_->timeouts.fetch_add(1, std::memory_order_relaxed);
  error.set("condition '%s': not notified within the timeout", name().c_str());
  return Status::Timeout;
}

Status Condition::notify(uint64_t n, ErrorText& error) {
  if (Status st = require_lock("notify", error); st != Status::Ok) return st;
  const ProcessToken me = self_token();
  uint64_t woken = 0;
  bool found_dead = false;
  while (woken < n) {
    // The longest waiting slot not yet notified.
    int64_t best = -1;
    for (uint32_t i = 0; i < ConditionShared::kMaxWaiters; ++i) {
      auto& w = s_->waiters[i];
      if (w.token.load(std::memory_order_relaxed) == 0 || w.notified.load(std::memory_order_relaxed)) continue;
      if (best < 0 || w.ticket < s_->waiters[best].ticket) best = i;
    }
    if (best < 0) break;
    auto& w = s_->waiters[best];
    const uint64_t t = w.token.load(std::memory_order_relaxed);
    if (t != me && !is_alive(t)) {
      w.token.store(0, std::memory_order_relaxed);  // its waiter died: free the slot, wake someone else
      found_dead = true;
      continue;
    }
    w.notified.store(1, std::memory_order_release);
    ++woken;
  }
  if (woken) {
    s_->notifies.fetch_add(woken, std::memory_order_relaxed);
    s_->wake.wake_all(tally_);
  }
  if (found_dead) tally_.woke_nobody();  // it may have died asleep, still counted
  return Status::Ok;
}

nlohmann::json Condition::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const ConditionShared& s = *static_cast<const ConditionShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["lock"] = std::string(s.lock_name, strnlen(s.lock_name, sizeof s.lock_name));
  uint32_t waiting = 0;
  for (const auto& w : s.waiters) waiting += w.token.load() != 0 && !w.notified.load();
  j["waiting"] = waiting;
  j["sleeping"] = {{"waiters", s.wake.sleepers.load()}};  // threads asleep in a wait, as wakers count them
  j["counters"] = {{"waits", s.waits.load()}, {"notifies", s.notifies.load()}, {"timeouts", s.timeouts.load()}};
  return j;
}

}  // namespace polyipc
