#include "core/names.hpp"

#include <cstdlib>

#include "core/status.hpp"

namespace polyipc {
namespace {

bool is_name_char(char c, bool allow_dot) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         (allow_dot && c == '.');
}

const char* name_problem(std::string_view name, size_t max, bool allow_dot) {
  if (name.empty()) return "empty";
  if (name.size() > max) return "too long";
  for (char c : name)
    if (!is_name_char(c, allow_dot)) return allow_dot ? "only [A-Za-z0-9._-] are allowed" : "only [A-Za-z0-9_-] are allowed";
  if (name == "." || name == "..") return "'.' and '..' are not names";
  return nullptr;
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept { return name_problem(name, kMaxNameLength, true) == nullptr; }

void check_name(std::string_view name, const char* kind) {
  if (const char* why = name_problem(name, kMaxNameLength, true)) {
    std::string shown(name.substr(0, 60));
    if (name.size() > 60) shown += "...";
    throw Error(Status::InvalidArg,
                format("%s '%s': invalid name (%s; 1..%zu chars of [A-Za-z0-9._-])", kind, shown.c_str(), why,
                       kMaxNameLength));
  }
}

std::string current_namespace() {
  const char* env = std::getenv("POLYIPC_NAMESPACE");
  std::string ns = (env && *env) ? env : "default";
  if (const char* why = name_problem(ns, kMaxNamespaceLength, false))
    throw Error(Status::InvalidArg, format("POLYIPC_NAMESPACE '%.60s': invalid namespace (%s; 1..%zu chars of [A-Za-z0-9_-])",
                                           ns.c_str(), why, kMaxNamespaceLength));
  return ns;
}

std::string shm_prefix() { return "polyipc." + current_namespace() + "."; }

std::string shm_name(std::string_view name) { return shm_prefix() + std::string(name); }

std::string shm_path(std::string_view name) { return std::string(kShmDir) + "/" + shm_name(name); }

std::string creating_prefix() { return "polyipc-creating." + current_namespace() + "."; }

}  // namespace polyipc
