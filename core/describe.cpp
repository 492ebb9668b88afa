#include "core/describe.hpp"

namespace polyipc {

nlohmann::json describe_header(const std::string& name, const SegmentHeader* h) {
  nlohmann::json j;
  j["name"] = name;
  j["kind"] = kind_name(static_cast<Kind>(h->kind));
  j["mode"] = h->mode;
  j["owner_uid"] = h->creator_uid;
  j["creator_pid"] = token_pid(h->creator);
  j["ephemeral"] = h->ephemeral != 0;
  nlohmann::json attached = nlohmann::json::array();
  uint32_t live = 0;
  for (uint32_t i = 0; i < kMaxAttached; ++i) {
    uint64_t t = h->attached[i].load(std::memory_order_relaxed);
    if (t == 0 || t == kSlotBeingHealed) continue;
    bool alive = is_alive(t);
    live += alive;
    attached.push_back({{"pid", token_pid(t)}, {"alive", alive}});
  }
  j["attached"] = attached;
  j["live_processes"] = live;
  // Sleepers of dead processes taken off the object's sleeper counts (core/segment/sleeper_tally.hpp).
  j["dead_sleepers_healed"] = h->dead_sleepers_healed.load(std::memory_order_relaxed);
  return j;
}

}  // namespace polyipc
