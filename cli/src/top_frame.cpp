#include "top_frame.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace polyipc_cli {
namespace {

constexpr const char* kLastActivity = "last_activity_unix_ms";

bool is_byte_counter(const std::string& name) { return name.rfind("bytes_", 0) == 0; }

// Threads asleep in a wait on the object: the sum of the stat's "sleeping"
// object (a queue's getters, putters and joiners; an event's waiters ...),
// or a dict's or list's sleeping watchers; null when the stat does not say.
Json asleep_of(const Json& obj) {
  auto sleeping = obj.find("sleeping");
  if (sleeping != obj.end() && sleeping->is_object()) {
    uint64_t n = 0;
    for (const auto& [kind, count] : sleeping->items())
      if (count.is_number_unsigned()) n += count.get<uint64_t>();
    return n;
  }
  auto watchers = obj.find("sleeping_watchers");
  return watchers != obj.end() && watchers->is_number_unsigned() ? *watchers : Json();
}

// The same object as in the sample before: same name, kind and creator, and
// no counter went down (a recreated object starts from zero again).
const Json* previous_of(const Json& obj, const TopSample* before) {
  if (before == nullptr) return nullptr;
  for (const auto& old : before->objects) {
    if (!old.is_object() || old.value("name", "") != obj.value("name", "")) continue;
    if (old.contains("error") || old.value("kind", "") != obj.value("kind", "") ||
        old.value("creator_pid", Json()) != obj.value("creator_pid", Json()))
      return nullptr;
    return &old;
  }
  return nullptr;
}

Json object_row(const Json& obj, const TopSample* before, const TopSample& now, double seconds) {
  Json row = {{"name", obj.value("name", "")}};
  if (obj.contains("error")) {
    row["error"] = obj["error"];
    return row;
  }
  row["kind"] = obj.value("kind", "");
  row["state"] = state_text(obj);
  row["attached"] = attached_text(obj);
  row["asleep"] = asleep_of(obj);
  const Json counters = obj.value("counters", Json::object());
  row["counters"] = counters;
  row["deltas"] = nullptr;
  row["rates"] = nullptr;
  row["ops_per_s"] = nullptr;
  auto last = counters.find(kLastActivity);
  row["idle_ms"] = (last != counters.end() && last->is_number() && last->get<int64_t>() > 0)
                       ? Json(std::max<int64_t>(0, now.unix_ms - last->get<int64_t>()))
                       : Json();

  const Json* old = previous_of(obj, before);
  if (old == nullptr || seconds <= 0) return row;
  const Json old_counters = old->value("counters", Json::object());
  Json deltas = Json::object(), rates = Json::object();
  double ops = 0;
  for (auto& [name, value] : counters.items()) {
    if (name == kLastActivity || !value.is_number_unsigned()) continue;
    auto prev = old_counters.find(name);
    if (prev == old_counters.end() || !prev->is_number_unsigned()) continue;
    const uint64_t a = prev->get<uint64_t>(), b = value.get<uint64_t>();
    if (b < a) return row;  // recreated since the last sample: no rates this frame
    deltas[name] = b - a;
    rates[name] = static_cast<double>(b - a) / seconds;
    if (!is_byte_counter(name)) ops += static_cast<double>(b - a) / seconds;
  }
  row["deltas"] = deltas;
  row["rates"] = rates;
  row["ops_per_s"] = ops;
  return row;
}

// "puts 120k/s, gets 120k/s, bytes_put 7.3MiB/s": the non-zero rates, calls before bytes.
std::string rates_column(const Json& row) {
  auto rates = row.find("rates");
  if (rates == row.end() || !rates->is_object()) return "-";
  std::string out;
  for (const bool bytes : {false, true}) {
    for (auto& [name, rate] : rates->items()) {
      const double r = rate.get<double>();
      if (r <= 0 || is_byte_counter(name) != bytes) continue;
      if (!out.empty()) out += ", ";
      out += name + " " + (bytes ? size_text(static_cast<uint64_t>(r)) : rate_text(r)) + "/s";
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string rate_text(double r) {
  char buf[32];
  if (r < 10) std::snprintf(buf, sizeof buf, "%.2g", r);
  else if (r < 1000) std::snprintf(buf, sizeof buf, "%.1f", r);
  else if (r < 1e6) std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  else if (r < 1e9) std::snprintf(buf, sizeof buf, "%.1fM", r / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1fG", r / 1e9);
  return buf;
}

std::string idle_text(int64_t ms) {
  char buf[32];
  if (ms < 60'000) std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1e3);
  else if (ms < 3'600'000) std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(ms / 60'000));
  else if (ms < 86'400'000) std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(ms / 3'600'000));
  else std::snprintf(buf, sizeof buf, "%lldd", static_cast<long long>(ms / 86'400'000));
  return buf;
}

Json top_frame(const TopSample* before, const TopSample& now, const std::string& namespace_name) {
  const double seconds = before ? static_cast<double>(now.steady_ns - before->steady_ns) / 1e9 : 0;
  Json frame = {{"namespace", namespace_name},
                {"time_unix_ms", now.unix_ms},
                {"seconds", before ? Json(seconds) : Json()},
                {"objects", Json::array()}};
  for (const auto& obj : now.objects)
    if (obj.is_object()) frame["objects"].push_back(object_row(obj, before, now, seconds));
  return frame;
}

std::string top_text(const Json& frame) {
  std::vector<const Json*> rows;
  for (const auto& row : frame["objects"]) rows.push_back(&row);
  auto ops = [](const Json* r) {
    auto o = r->find("ops_per_s");
    return o != r->end() && o->is_number() ? o->get<double>() : -1.0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Json* a, const Json* b) {
    if (ops(a) != ops(b)) return ops(a) > ops(b);
    return a->value("name", "") < b->value("name", "");
  });

  const Json& seconds = frame["seconds"];
  std::string out = "polyipc top: namespace '" + frame.value("namespace", "") + "', " +
                    std::to_string(rows.size()) + (rows.size() == 1 ? " object" : " objects") + ", " +
                    time_text(frame.value("time_unix_ms", int64_t{0})) + "; ";
  if (seconds.is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "rates per second over the last %.2f s\n", seconds.get<double>());
    out += buf;
  } else {
    out += "rates from the next frame on\n";
  }

  std::vector<std::vector<std::string>> table{
      {"NAME", "KIND", "STATE", "ATTACHED", "ASLEEP", "OPS/S", "RATES", "RECOVERED", "IDLE"}};
  std::string notes;
  for (const Json* row : rows) {
    if (row->contains("error")) {
      table.push_back({field_text(*row, "name"), "?", "-", "-", "-", "-", "-", "-", "-"});
      notes += field_text(*row, "name") + ": " + field_text(*row, "error") + "\n";
      continue;
    }
    const double o = ops(row);
    const Json& idle = (*row)["idle_ms"];
    table.push_back({field_text(*row, "name"), field_text(*row, "kind"), field_text(*row, "state"),
                     field_text(*row, "attached"), field_text(*row, "asleep"), o < 0 ? "-" : rate_text(o),
                     rates_column(*row),
                     field_text((*row)["counters"], "owner_dead_recoveries"),
                     idle.is_number() ? idle_text(idle.get<int64_t>()) : "-"});
  }
  return out + table_text(table) + notes;
}

}  // namespace polyipc_cli
