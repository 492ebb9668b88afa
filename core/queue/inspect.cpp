// A queue's stat JSON: for a handle, and for ls/stat without attaching.
#include <nlohmann/json.hpp>

#include "core/queue/layout.hpp"
#include "core/queue/queue.hpp"

namespace polyipc {

std::string Queue::stat_json() const { return describe(name(), segment_->header(), s_); }

std::string Queue::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const QueueShared& s = *static_cast<const QueueShared*>(body);
  static const char* orders[] = {"fifo", "lifo", "priority"};
  nlohmann::json j;
  j["name"] = name;
  j["kind"] = "queue";
  j["order"] = orders[s.order % 3];
  j["format"] = s.format == static_cast<uint32_t>(Format::Json) ? "json" : "bytes";
  j["joinable"] = s.joinable != 0;
  j["depth"] = load(s.st.count);
  j["max_items"] = s.max_items;
  j["capacity_bytes"] = s.capacity;
  j["used_bytes"] = load(s.st.tail) - load(s.st.head);
  j["max_message_bytes"] = s.max_message;
  j["mode"] = h->mode;
  j["owner_uid"] = h->creator_uid;
  j["creator_pid"] = token_pid(h->creator);
  j["ephemeral"] = h->ephemeral != 0;
  j["closed"] = load(s.st.closed) != 0;
  j["unfinished_tasks"] = load(s.st.unfinished);
  j["leased"] = load(s.st.leased);
  j["in_flight"] = load(s.st.reserved) + load(s.st.reading);
  nlohmann::json attached = nlohmann::json::array();
  uint32_t live = 0;
  for (uint32_t i = 0; i < kMaxAttached; ++i) {
    uint64_t t = h->attached[i].load(std::memory_order_relaxed);
    if (t == 0) continue;
    bool alive = is_alive(t);
    live += alive;
    attached.push_back({{"pid", token_pid(t)}, {"alive", alive}});
  }
  j["attached"] = attached;
  j["live_processes"] = live;
  const Counters& c = s.counters;
  j["counters"] = {{"puts", c.puts.load()},
                   {"gets", c.gets.load()},
                   {"bytes_put", c.bytes_put.load()},
                   {"bytes_got", c.bytes_got.load()},
                   {"timeouts", c.timeouts.load()},
                   {"owner_dead_recoveries", c.owner_dead_recoveries.load()},
                   {"redeliveries", c.redeliveries.load()},
                   {"last_activity_unix_ms", c.last_activity_unix_ms.load()}};
  return j.dump();
}


}  // namespace polyipc
