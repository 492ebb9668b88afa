// Turning the library's stat JSON into human text: tolerant of missing fields
// (future kinds only have some of them), "-" wherever a value is absent.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace polyipc_cli {

using Json = nlohmann::ordered_json;  // keeps the library's field order

// obj[key] as text ("-" when absent or null); strings unquoted, others compact JSON.
std::string field_text(const Json& obj, const char* key);
// 384 -> "0600"
std::string mode_text(const Json& mode);
// 0 -> "root"; the number when the uid has no user name
std::string user_name(uint64_t uid);
// 1048576 -> "1MiB", 1536 -> "1.5KiB", 100 -> "100B"
std::string size_text(uint64_t bytes);
// Unix milliseconds -> "2026-09-21 12:00:00.000 +0000" in local time
std::string time_text(int64_t unix_ms);
std::string base64_encode(const void* data, size_t len);

// Left-aligned columns, two spaces apart; the first row is the header.
std::string table_text(const std::vector<std::vector<std::string>>& rows);

// One short word or two for an object's state: a queue's depth, a lock's
// holder, an event's flag ... ("-" for a kind it does not know).
std::string state_text(const Json& obj);
// How many processes are attached and alive ("-" when the stat does not say).
std::string attached_text(const Json& obj);

// The lines of `polyipc stat`: "key: value" with the values aligned; nested
// objects flattened as parent.child.
std::string stat_text(const Json& stat);

}  // namespace polyipc_cli
