#include "core/sync/event.hpp"

#include <new>

#include "core/describe.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {
namespace {
constexpr int64_t kEventSpinNs = 5'000;  // a set() that is microseconds away is caught without sleeping
}

std::unique_ptr<Event> Event::open(const std::string& name, OpenMode mode, const SyncOptions& o) {
  if (o.mode > 0777)
    throw Error(Status::InvalidArg, format("event '%s': mode must be permission bits (at most 0777)", name.c_str()));
  SegmentSpec spec;
  spec.kind = Kind::Event;
  spec.body_size = sizeof(EventShared);
  spec.fixed_size = true;
  spec.mode = o.mode;
  spec.ephemeral = o.ephemeral;
  spec.init_body = [](void* body) { new (body) EventShared(); };
  std::unique_ptr<Event> e(new Event());
  e->segment_ = Segment::open(name, mode, spec);
  e->s_ = static_cast<EventShared*>(e->segment_->body());
  e->tally_.init(*e->segment_, {&e->s_->sleepers});
  return e;
}

Event::~Event() = default;

void Event::set() noexcept {
  uint32_t w = s_->word.load(std::memory_order_acquire);
  // Only an unset word changes: a new generation, set.
  while (!(w & 1) && !s_->word.compare_exchange_weak(w, (((w >> 1) + 1) << 1) | 1, std::memory_order_seq_cst)) {
  }
  s_->sets.fetch_add(1, std::memory_order_relaxed);
  if (s_->sleepers.load(std::memory_order_seq_cst) != 0 && futex_wake_all(&s_->word) == 0) tally_.woke_nobody();
}

void Event::clear() noexcept {
  s_->word.fetch_and(~uint32_t{1}, std::memory_order_seq_cst);
  s_->clears.fetch_add(1, std::memory_order_relaxed);
}

Status Event::wait_since(uint32_t token, const Deadline& deadline, ErrorText& error) {
  s_->waits.fetch_add(1, std::memory_order_relaxed);
  const uint32_t seen = s_->word.load(std::memory_order_acquire);
  if ((seen & 1) || seen != token) return Status::Ok;
  // From an unset word, any change is a set() (clear() leaves it as it is).
  auto changed = [&] { return s_->word.load(std::memory_order_acquire) != seen; };
  if (!deadline.is_immediate()) {
    if (spin_until(changed, kEventSpinNs)) return Status::Ok;
    while (!changed() && !deadline.expired()) {
      tally_.enter(s_->sleepers);
      futex_wait(&s_->word, seen, deadline.until_ns(-1));
      tally_.leave(s_->sleepers);
    }
    if (changed()) return Status::Ok;
  }
  s_->timeouts.fetch_add(1, std::memory_order_relaxed);
  error.set("event '%s': not set within the timeout", name().c_str());
  return Status::Timeout;
}

nlohmann::json Event::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const EventShared& s = *static_cast<const EventShared*>(body);
  nlohmann::json j = describe_header(name, h);
  uint32_t w = s.word.load();
  j["set"] = (w & 1) != 0;
  j["waiting"] = s.sleepers.load();
  j["sleeping"] = {{"waiters", s.sleepers.load()}};  // threads asleep in a wait, as wakers count them
  j["counters"] = {{"sets", s.sets.load()}, {"clears", s.clears.load()}, {"waits", s.waits.load()},
                   {"timeouts", s.timeouts.load()}};
  return j;
}

}  // namespace polyipc
