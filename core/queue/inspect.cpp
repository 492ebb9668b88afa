// A queue's stat JSON: for a handle, and for ls/stat without attaching.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/describe.hpp"
#include "core/queue/layout.hpp"
#include "core/queue/queue.hpp"

namespace polyipc {

std::string Queue::stat_json() const { return describe(name(), segment_->header(), s_); }

ProcessToken Queue::creator() const noexcept { return segment_->header()->creator; }

std::string Queue::describe(const std::string& name, const SegmentHeader* h, const void* body) {
  const QueueShared& s = *static_cast<const QueueShared*>(body);
  static const char* orders[] = {"fifo", "lifo", "priority"};
  nlohmann::json j = describe_header(name, h);  // "kind" says pool for a pool's task queue
  j["order"] = orders[s.order % 3];
  j["format"] = s.format == static_cast<uint32_t>(Format::Json) ? "json" : "bytes";
  j["joinable"] = s.joinable != 0;
  j["depth"] = s.published_count();
  j["max_items"] = s.max_items;
  j["capacity_bytes"] = s.capacity();
  j["used_bytes"] = s.pub_tail.load() - s.pub_head.load();
  j["max_message_bytes"] = s.max_message;
  j["closed"] = load(s.closed) != 0;
  uint64_t done = load(s.cs.tasks_done), added = load(s.ps.unfinished_added);
  j["unfinished_tasks"] = added > done ? added - done : 0;
  j["leased"] = load(s.cs.leased);
  j["in_flight"] = load(s.ps.reserved) + load(s.cs.reading);
  // Threads asleep in a wait (after their spin), as the wakers count them.
  j["sleeping"] = {{"getters", s.not_empty.sleepers.load()},
                   {"putters", s.not_full.sleepers.load()},
                   {"joiners", s.all_done.sleepers.load()}};
  j["counters"] = {{"puts", s.puts.load()},
                   {"gets", s.gets.load()},
                   {"bytes_put", s.bytes_put.load()},
                   {"bytes_got", s.bytes_got.load()},
                   {"timeouts", s.timeouts.load()},
                   {"owner_dead_recoveries", s.owner_dead_recoveries.load()},
                   {"redeliveries", s.redeliveries.load()},
                   {"last_activity_unix_ms", std::max(s.last_put_unix_ms.load(), s.last_get_unix_ms.load())}};
  return j.dump();
}


}  // namespace polyipc
