#include "core/objects.hpp"

#include <sys/mman.h>

#include <nlohmann/json.hpp>

#include "core/manager/dict.hpp"
#include "core/manager/list.hpp"
#include "core/queue/layout.hpp"
#include "core/queue/queue.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/pipe/pipe.hpp"
#include "core/shm/shared_memory.hpp"
#include "core/sync/barrier.hpp"
#include "core/sync/condition.hpp"
#include "core/sync/event.hpp"
#include "core/sync/lock.hpp"
#include "core/sync/semaphore.hpp"

namespace polyipc {
namespace {

uint64_t min_body_size(Kind kind) {
  switch (kind) {
    case Kind::Queue:
    case Kind::Pool: return sizeof(QueueShared);
    case Kind::Lock:
    case Kind::RLock: return sizeof(LockShared);
    case Kind::Semaphore: return sizeof(SemaphoreShared);
    case Kind::Event: return sizeof(EventShared);
    case Kind::Condition: return sizeof(ConditionShared);
    case Kind::Barrier: return sizeof(BarrierShared);
    case Kind::Pipe: return sizeof(PipeShared);
    case Kind::SharedMemory: return sizeof(SharedMemoryShared);
    case Kind::Array: return Array::body_size(1);
    case Kind::Dict: return sizeof(DictShared);
    case Kind::List: return sizeof(ListShared);
  }
  return 0;  // unknown kind: reported as such
}

nlohmann::json describe_kind(const ObjectView& v) {
  if (!v.error.empty() || !v.header)
    return {{"name", v.name}, {"kind", "unknown"}, {"error", v.error}, {"mode", v.file_mode}, {"owner_uid", v.file_uid}};
  const void* body = reinterpret_cast<const char*>(v.header) + v.header->body_offset;
  const uint64_t body_bytes = v.file_size - v.header->body_offset;
  if (body_bytes < min_body_size(static_cast<Kind>(v.header->kind)))
    return {{"name", v.name}, {"kind", "unknown"}, {"error", "truncated or damaged object"}};
  switch (static_cast<Kind>(v.header->kind)) {
    case Kind::Queue:
    case Kind::Pool: return nlohmann::json::parse(Queue::describe(v.name, v.header, body));
    case Kind::Lock:
    case Kind::RLock: return Lock::describe(v.name, v.header, body);
    case Kind::Semaphore: return Semaphore::describe(v.name, v.header, body);
    case Kind::Event: return Event::describe(v.name, v.header, body);
    case Kind::Condition: return Condition::describe(v.name, v.header, body);
    case Kind::Barrier: return Barrier::describe(v.name, v.header, body);
    case Kind::Pipe: return Pipe::describe(v.name, v.header, body);
    case Kind::SharedMemory: return SharedMemory::describe(v.name, v.header, body);
    case Kind::Array: return Array::describe(v.name, v.header, body);
    case Kind::Dict: return Dict::describe(v.name, v.header, body);
    case Kind::List: return List::describe(v.name, v.header, body);
  }
  return {{"name", v.name}, {"kind", "unknown"}, {"error", "unknown kind"}};
}

// What the kind says, and what the object takes of /dev/shm (`ls` shows it:
// which object holds the memory of a full /dev/shm).
nlohmann::json describe_view(const ObjectView& v) {
  nlohmann::json j = describe_kind(v);
  j["shm_bytes"] = v.shm_bytes;
  return j;
}

}  // namespace

std::string describe_object(const std::string& name) { return describe_view(view_object(name)).dump(); }

std::string list_objects_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& name : list_object_names()) {
    try {
      out.push_back(describe_view(view_object(name)));
    } catch (const Error& e) {
      if (e.status() != Status::NotFound) out.push_back({{"name", name}, {"kind", "unknown"}, {"error", e.what()}});
    }
  }
  return out.dump();
}

std::string collect_garbage_json() {
  nlohmann::json removed = nlohmann::json::array(), stale = nlohmann::json::array();
  for (const std::string& name : list_object_names()) {
    ObjectView v;
    try {
      v = view_object(name);
    } catch (const Error&) {
      continue;  // gone meanwhile
    }
    if (!v.header) {
      stale.push_back({{"name", name}, {"reason", "unreadable: " + v.error}});
      continue;
    }
    uint32_t attached = 0;
    for (uint32_t i = 0; i < kMaxAttached; ++i) attached += v.header->attached[i].load() != 0;
    if (count_live_attached(v.header) > 0) continue;
    if (v.header->ephemeral) {
      if (retire_if_unused(v.header, name, v.inode)) removed.push_back(name);
    } else if (attached > 0) {
      stale.push_back({{"name", name}, {"reason", "every attached process is dead"}});
    }
  }
  // Objects whose creator died before they were finished (Segment::create):
  // nobody can see them, but they hold their pages.
  nlohmann::json abandoned = nlohmann::json::array();
  for (const UnfinishedCreation& c : list_unfinished_creations())
    if (!is_alive(c.creator) && ::shm_unlink(("/" + c.file).c_str()) == 0) abandoned.push_back(c.file);
  return nlohmann::json{{"removed", removed}, {"stale", stale}, {"abandoned", abandoned}}.dump();
}

}  // namespace polyipc
