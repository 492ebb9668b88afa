// The namespace as a whole: listing, inspecting and collecting objects
// without attaching to them (what `polyipc ls/stat/gc` show).
#pragma once
#include <string>

namespace polyipc {

// A JSON object describing one object; {"name","kind":"unknown","error"} when unreadable.
std::string describe_object(const std::string& name);
// A JSON array of describe_object() for every object of the namespace.
std::string list_objects_json();
// Unlinks ephemeral objects with no live process attached; reports the other stale ones.
std::string collect_garbage_json();

}  // namespace polyipc
