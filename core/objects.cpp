#include "core/objects.hpp"

#include <nlohmann/json.hpp>

#include "core/queue/queue.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"

namespace polyipc {
namespace {

nlohmann::json describe_view(const ObjectView& v) {
  if (!v.error.empty() || !v.header)
    return {{"name", v.name}, {"kind", "unknown"}, {"error", v.error}, {"mode", v.file_mode}, {"owner_uid", v.file_uid}};
  const void* body = reinterpret_cast<const char*>(v.header) + v.header->body_offset;
  switch (static_cast<Kind>(v.header->kind)) {
    case Kind::Queue: return nlohmann::json::parse(Queue::describe(v.name, v.header, body));
  }
  return {{"name", v.name}, {"kind", "unknown"}, {"error", "unknown kind"}};
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
  return nlohmann::json{{"removed", removed}, {"stale", stale}}.dump();
}

}  // namespace polyipc
