#include "core/sync/semaphore.hpp"

#include <new>

#include "core/describe.hpp"

namespace polyipc {
namespace {
constexpr int64_t kReapEveryNs = 10'000'000;  // dead holders are looked for at most this often
}  // namespace

std::unique_ptr<Semaphore> Semaphore::open(const std::string& name, OpenMode mode, const SemaphoreOptions& o) {
  auto bad = [&](const char* what) {
    throw Error(Status::InvalidArg, format("semaphore '%s': %s", name.c_str(), what));
  };
  if (o.mode > 0777) bad("mode must be permission bits (at most 0777)");
  if (o.max != 0 && o.initial > o.max) bad("initial value exceeds the maximum");
  if (o.initial > (uint64_t{1} << 62) || o.max > (uint64_t{1} << 62)) bad("values must be below 2^62");
  SegmentSpec spec;
  spec.kind = Kind::Semaphore;
  spec.body_size = sizeof(SemaphoreShared);
  spec.fixed_size = true;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [&](void* body) {
    auto* s = new (body) SemaphoreShared();
    s->max = o.max;
    s->value = o.initial;
    s->mutex.init();
  };
  spec.check_existing = [&](const void* body) {
    auto* s = static_cast<const SemaphoreShared*>(body);
    if (o.check_existing && s->max != o.max)
      throw Error(Status::Incompatible,
                  format("semaphore '%s': exists with maximum %llu (0 = unbounded), opened with %llu", name.c_str(),
                         (unsigned long long)s->max, (unsigned long long)o.max));
  };
  std::unique_ptr<Semaphore> sem(new Semaphore());
  sem->segment_ = Segment::open(name, mode, spec);
  sem->s_ = static_cast<SemaphoreShared*>(sem->segment_->body());
  sem->tally_.init(*sem->segment_, {&sem->s_->released.sleepers});
  return sem;
}

Semaphore::~Semaphore() = default;

Status Semaphore::lock(const Deadline& deadline) {
  // Held for microseconds: even a non-blocking call waits for it a little.
  Status st = s_->mutex.lock(deadline.is_immediate() ? Deadline::after(100'000'000) : deadline);
  if (st == Status::OwnerDead) {
    roll_back(s_->journal, s_);
    s_->owner_dead_recoveries.fetch_add(1, std::memory_order_relaxed);
    reap_dead_holders(true);
    s_->mutex.mark_consistent();
    return Status::Ok;
  }
  return st;
}

// Under the lock: slots of holders that died come back.
void Semaphore::reap_dead_holders(bool force) {
  const int64_t now = monotonic_ns();
  if (!force && now - s_->last_reap_ns.load(std::memory_order_relaxed) < kReapEveryNs) return;
  s_->last_reap_ns.store(now, std::memory_order_relaxed);
  const ProcessToken me = self_token();
  uint64_t returned = 0;
  for (auto& h : s_->holders) {
    if (h.token == 0 || h.token == me || is_alive(h.token)) continue;
    returned += h.count;
    Transaction tx(s_->journal, s_);
    tx.set(s_->value, s_->value + h.count);
    tx.set(h.count, 0);
    tx.set(h.token, 0);
  }
  if (returned) {
    s_->slots_returned.fetch_add(returned, std::memory_order_relaxed);
    s_->released.wake_all(tally_);
  }
}

// Under the lock: this process's holder slot, or -1 (claim: take a free one).
int64_t Semaphore::my_holder(bool claim) {
  const ProcessToken me = self_token();
  if (holder_hint_ >= 0 && s_->holders[holder_hint_].token == me) return holder_hint_;
  int64_t free_slot = -1;
  for (uint32_t i = 0; i < SemaphoreShared::kMaxHolders; ++i) {
    if (s_->holders[i].token == me) return holder_hint_ = i;
    if (s_->holders[i].token == 0 && free_slot < 0) free_slot = i;
  }
  return claim ? free_slot : -1;
}

Status Semaphore::take(uint64_t n, ErrorText& error) {
  int64_t h = my_holder(true);
  if (h < 0) {
    reap_dead_holders(true);
    h = my_holder(true);
  }
  if (h < 0) {
    error.set("semaphore '%s': more than %u processes hold slots", name().c_str(), SemaphoreShared::kMaxHolders);
    return Status::NoMemory;
  }
  auto& holder = s_->holders[h];
  Transaction tx(s_->journal, s_);
  tx.set(s_->value, s_->value - n);
  if (holder.token == 0) tx.set(holder.token, self_token());
  tx.set(holder.count, holder.count + n);
  holder_hint_ = h;
  return Status::Ok;
}

Status Semaphore::acquire(uint64_t n, const Deadline& deadline, ErrorText& error) {
  if (n == 0) return Status::Ok;
  if (s_->max != 0 && n > s_->max) {
    error.set("semaphore '%s': acquire(%llu) can never succeed: its maximum is %llu", name().c_str(),
              (unsigned long long)n, (unsigned long long)s_->max);
    return Status::InvalidArg;
  }
  for (;;) {
    const uint32_t seen = s_->released.observe();
    Status st = lock(deadline);
    if (st != Status::Ok) break;
    if (s_->value < n) reap_dead_holders(false);
    if (s_->value >= n) {
      st = take(n, error);
      s_->mutex.unlock();
      if (st == Status::Ok) s_->acquires.fetch_add(1, std::memory_order_relaxed);
      return st;
    }
    s_->mutex.unlock();
    if (deadline.is_immediate() || !s_->released.wait(seen, deadline, kLivenessSliceNs, tally_, acquire_spin_)) break;
  }
  s_->timeouts.fetch_add(1, std::memory_order_relaxed);
  error.set("semaphore '%s': %llu slot%s not available within the timeout (value %llu)", name().c_str(),
            (unsigned long long)n, n == 1 ? "" : "s", (unsigned long long)load_word(&s_->value));
  return Status::Timeout;
}

Status Semaphore::release(uint64_t n, ErrorText& error) {
  if (n == 0) return Status::Ok;
  Status st = lock(Deadline::forever());
  if (st != Status::Ok) return st;
  if (s_->max != 0 && s_->value + n > s_->max) reap_dead_holders(true);  // dead holders' slots count toward it
  if ((s_->max != 0 && s_->value + n > s_->max) || s_->value + n > (uint64_t{1} << 62)) {
    uint64_t v = s_->value;
    s_->mutex.unlock();
    error.set("semaphore '%s': released too many times: value %llu + %llu exceeds its maximum %llu", name().c_str(),
              (unsigned long long)v, (unsigned long long)n, (unsigned long long)s_->max);
    return Status::InvalidArg;
  }
  // One transaction per holder keeps each step exact (value + slots held
  // unchanged) and the journal small.
  uint64_t left = n;
  auto give_back = [&](SemaphoreShared::Holder& h) {
    uint64_t k = h.count < left ? h.count : left;
    if (k == 0) return;
    Transaction tx(s_->journal, s_);
    tx.set(h.count, h.count - k);  // the slot stays the holder's: no table scan on its next acquire
    tx.set(s_->value, s_->value + k);
    left -= k;
  };
  int64_t mine = my_holder(false);
  if (mine >= 0) give_back(s_->holders[mine]);
  for (uint32_t i = 0; i < SemaphoreShared::kMaxHolders && left > 0; ++i)
    if (s_->holders[i].token != 0) give_back(s_->holders[i]);
  if (left > 0) {
    Transaction tx(s_->journal, s_);
    tx.set(s_->value, s_->value + left);
  }
  s_->mutex.unlock();
  s_->releases.fetch_add(1, std::memory_order_relaxed);
  s_->released.wake_all(tally_);
  return Status::Ok;
}

uint64_t Semaphore::value() {
  if (lock(Deadline::forever()) != Status::Ok) return load_word(&s_->value);
  reap_dead_holders(false);
  uint64_t v = s_->value;
  s_->mutex.unlock();
  return v;
}

uint64_t Semaphore::drain() {
  if (lock(Deadline::forever()) != Status::Ok) return 0;
  uint64_t n = s_->value;
  ErrorText ignored;
  if (n > 0 && take(n, ignored) != Status::Ok) n = 0;
  s_->mutex.unlock();
  return n;
}

nlohmann::json Semaphore::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const SemaphoreShared& s = *static_cast<const SemaphoreShared*>(body);
  nlohmann::json j = describe_header(name, h);
  j["value"] = load_word(&s.value);
  j["max"] = s.max;
  j["bounded"] = s.max != 0;
  nlohmann::json holders = nlohmann::json::array();
  for (const auto& hd : s.holders) {
    uint64_t t = load_word(&hd.token), c = load_word(&hd.count);
    if (t != 0 && c != 0) holders.push_back({{"pid", token_pid(t)}, {"slots", c}, {"alive", is_alive(t)}});
  }
  j["holders"] = holders;
  j["sleeping"] = {{"acquirers", s.released.sleepers.load()}};  // threads asleep in a wait, as wakers count them
  j["counters"] = {{"acquires", s.acquires.load()},
                   {"releases", s.releases.load()},
                   {"timeouts", s.timeouts.load()},
                   {"slots_returned_by_dead_holders", s.slots_returned.load()},
                   {"owner_dead_recoveries", s.owner_dead_recoveries.load()}};
  return j;
}

}  // namespace polyipc
