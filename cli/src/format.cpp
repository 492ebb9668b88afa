#include "format.hpp"

#include <pwd.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace polyipc_cli {

std::string field_text(const Json& obj, const char* key) {
  if (!obj.is_object()) return "-";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string mode_text(const Json& mode) {
  if (!mode.is_number_unsigned() && !mode.is_number_integer()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04llo", static_cast<unsigned long long>(mode.get<int64_t>()));
  return buf;
}

std::string user_name(uint64_t uid) {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
    return found->pw_name;
  return std::to_string(uid);
}

std::string size_text(uint64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  double value = static_cast<double>(bytes);
  while (value >= 1024 && unit + 1 < sizeof units / sizeof units[0]) {
    value /= 1024;
    ++unit;
  }
  if (unit > 0 && unit + 1 < sizeof units / sizeof units[0] && value >= 1023.95) {  // not "1024.0KiB"
    value /= 1024;
    ++unit;
  }
  char buf[64];
  if (unit == 0 || value == static_cast<double>(static_cast<uint64_t>(value)))
    std::snprintf(buf, sizeof buf, "%llu%s", static_cast<unsigned long long>(value), units[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.1f%s", value, units[unit]);
  return buf;
}

std::string state_text(const Json& obj) {
  const std::string kind = obj.value("kind", "");
  auto num = [&](const char* key) { return field_text(obj, key); };
  if (kind == "queue") return num("depth");
  if (kind == "pool") return num("depth") + " waiting, " + num("leased") + " running";
  if (kind == "lock" || kind == "rlock")
    return obj.value("locked", false) ? "locked (thread " + num("holder_tid") + ")" : "free";
  if (kind == "semaphore")
    return "value " + num("value") + (obj.value("bounded", false) ? " (max " + num("max") + ")" : "");
  if (kind == "event") return obj.value("set", false) ? "set" : "clear";
  if (kind == "condition") return num("waiting") + " waiting";
  if (kind == "barrier")
    return obj.value("broken", false) ? "broken" : num("waiting") + "/" + num("parties") + " waiting";
  if (kind == "pipe") {
    auto pending = [&](const char* end) {
      auto e = obj.find(end);
      return e != obj.end() && e->is_object() ? field_text(*e, "pending_bytes") : std::string("-");
    };
    return std::string(obj.value("duplex", true) ? "duplex" : "one-way") + ", " + pending("a") + "/" + pending("b") +
           " B pending";
  }
  if (kind == "dict") return num("count") + " keys";
  if (kind == "list") return num("length") + " values";
  if (kind == "shared_memory") return size_text(obj.value("size_bytes", uint64_t{0}));
  if (kind == "array") {
    auto values = obj.find("values");
    std::string shown = num("length") + " x " + obj.value("type", std::string("?"));
    if (values != obj.end() && values->is_array() && values->size() == 1) shown = "value " + (*values)[0].dump();
    return shown;
  }
  return "-";
}

std::string attached_text(const Json& obj) {
  std::string attached = field_text(obj, "live_processes");
  if (attached != "-") return attached;
  auto a = obj.find("attached");
  if (a == obj.end() || !a->is_array()) return attached;
  size_t live = 0;
  for (const auto& p : *a)
    if (!p.is_object() || p.value("alive", true)) ++live;
  return std::to_string(live);
}

std::string time_text(int64_t unix_ms) {
  if (unix_ms <= 0) return "never";
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  if (localtime_r(&seconds, &tm) == nullptr) return std::to_string(unix_ms);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  char zone[16];
  strftime(zone, sizeof zone, "%z", &tm);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s.%03d %s", date, static_cast<int>(unix_ms % 1000), zone);
  return buf;
}

std::string base64_encode(const void* data, size_t len) {
  static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == len) {
    uint32_t v = uint32_t{p[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == len) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string table_text(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

namespace {

std::string value_text(const std::string& key, const Json& value) {
  if (value.is_null()) return "-";
  if (key == "mode") return mode_text(value);
  if ((key == "owner_uid" || key == "uid") && value.is_number())
    return value.dump() + " (" + user_name(value.get<uint64_t>()) + ")";
  if (key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0 && key.find("unix") != std::string::npos &&
      value.is_number())
    return value.dump() + " (" + time_text(value.get<int64_t>()) + ")";
  if (key.size() > 6 && key.compare(key.size() - 6, 6, "_bytes") == 0 && value.is_number_unsigned() &&
      value.get<uint64_t>() >= 1024)
    return value.dump() + " (" + size_text(value.get<uint64_t>()) + ")";
  if (key == "attached" && value.is_array()) {
    if (value.empty()) return "none";
    std::string out;
    for (const auto& a : value) {
      if (!out.empty()) out += ", ";
      if (a.is_object() && a.contains("pid")) {
        out += field_text(a, "pid");
        auto alive = a.find("alive");
        if (alive != a.end() && alive->is_boolean()) out += *alive ? " (alive)" : " (dead)";
      } else {
        out += a.dump();
      }
    }
    return out;
  }
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    if (value.empty()) return "none";
    bool scalars = std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_primitive(); });
    if (!scalars) return value.dump();
    std::string out;
    for (const auto& v : value) {
      if (!out.empty()) out += ", ";
      out += v.is_string() ? v.get<std::string>() : v.dump();
    }
    return out;
  }
  return value.dump();
}

void flatten(const std::string& prefix, const Json& obj, std::vector<std::pair<std::string, std::string>>& out) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object() && !it->empty())
      flatten(key, *it, out);
    else
      out.emplace_back(key, value_text(it.key(), *it));
  }
}

}  // namespace

std::string stat_text(const Json& stat) {
  std::vector<std::pair<std::string, std::string>> lines;
  if (stat.is_object()) {
    // What the object is comes first, whatever order the library used.
    static const char* const leading[] = {"name", "kind", "error"};
    Json rest = stat;
    Json head = Json::object();
    for (const char* key : leading) {
      auto it = rest.find(key);
      if (it != rest.end()) {
        head[key] = *it;
        rest.erase(key);
      }
    }
    flatten("", head, lines);
    flatten("", rest, lines);
  } else {
    lines.emplace_back("value", stat.dump());
  }
  size_t width = 0;
  for (const auto& l : lines) width = std::max(width, l.first.size());
  std::string out;
  for (const auto& l : lines) out += l.first + ":" + std::string(width - l.first.size() + 1, ' ') + l.second + "\n";
  return out;
}

}  // namespace polyipc_cli
