// Object names and namespaces. A name never becomes a path: it is checked
// against [A-Za-z0-9._-]{1,200} and mapped to one flat POSIX shm name.
#pragma once
#include <string>
#include <string_view>

namespace polyipc {

constexpr size_t kMaxNameLength = 200;
// The namespace shares the 255-byte file name limit of /dev/shm with the name.
constexpr size_t kMaxNamespaceLength = 40;

bool is_valid_name(std::string_view name) noexcept;

// Throws InvalidArg "<kind> '<name>': invalid name: <why>" when the name is bad.
void check_name(std::string_view name, const char* kind);

// POLYIPC_NAMESPACE or "default"; [A-Za-z0-9_-]{1,40} (no '.', so that
// namespace and name can never be confused). Throws InvalidArg when bad.
std::string current_namespace();

// "polyipc.<namespace>." : the prefix of every object of the namespace.
std::string shm_prefix();

// "polyipc.<namespace>.<name>" (shm_open wants a leading slash).
std::string shm_name(std::string_view name);

// Where glibc's shm_open keeps its objects (link() and access() need paths).
constexpr const char* kShmDir = "/dev/shm";

// "/dev/shm/polyipc.<namespace>.<name>".
std::string shm_path(std::string_view name);

// "polyipc-creating.<namespace>.": the prefix of objects being built, each
// "<prefix><creator's process token in hex>.<n>" until it is linked to its
// name (Segment::create). Never an object's file: those start "polyipc.".
std::string creating_prefix();

}  // namespace polyipc
