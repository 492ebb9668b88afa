// A second pass over text validate() accepted, so it needs to track only
// strings (where brackets and commas are text) and nesting.
#include "core/json/elements.hpp"

namespace polyipc::json {
namespace {

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(const char* from, const char* to) {
  while (from < to && is_ws(*from)) ++from;
  while (to > from && is_ws(to[-1])) --to;
  return std::string_view(from, static_cast<size_t>(to - from));
}

}  // namespace

bool array_elements(const char* data, size_t len, size_t max_depth, std::vector<std::string_view>* items,
                    ValidationError* err) {
  items->clear();
  if (!validate(data, len, max_depth, err)) return false;
  const char* p = data;
  const char* const e = data + len;
  while (is_ws(*p)) ++p;  // validate() saw a value, so p stays before e
  if (*p != '[') {
    err->offset = static_cast<size_t>(p - data);
    err->reason = "not an array";
    return false;
  }
  const char* start = ++p;
  size_t depth = 0;  // inside the top-level array
  for (; p < e; ++p) {
    switch (*p) {
      case '"':  // skip the string; escapes hide their next byte
        for (++p; *p != '"'; ++p)
          if (*p == '\\') ++p;
        break;
      case '[': case '{':
        ++depth;
        break;
      case ']': case '}':
        if (depth == 0) {  // the array's end
          const std::string_view last = trimmed(start, p);
          if (!last.empty()) items->push_back(last);
          return true;
        }
        --depth;
        break;
      case ',':
        if (depth == 0) {
          items->push_back(trimmed(start, p));
          start = p + 1;
        }
        break;
      default:
        break;
    }
  }
  return true;  // not reached: validate() saw the closing bracket
}

}  // namespace polyipc::json
