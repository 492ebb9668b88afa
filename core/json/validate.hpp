// Strict RFC 8259 validation of one JSON text, as an accept pass with no
// allocation: fast enough to run on every put of a JSON-format queue.
#pragma once
#include <cstddef>

namespace polyipc::json {

// Deepest nesting of arrays and objects a JSON-format message may have
// (POLYIPC_JSON_MAX_DEPTH in the C header).
constexpr size_t kMaxDepth = 512;

class ShapeCache;

struct ValidationError {
  size_t offset = 0;           // byte offset of the first byte that is wrong
  const char* reason = "";     // static text, e.g. "invalid UTF-8 in string"
};

// True when data[0..len) is exactly one JSON value (surrounding whitespace
// allowed), every string is valid UTF-8 (no surrogates, no overlongs), and
// arrays/objects nest at most max_depth deep. Otherwise false and *err filled.
// With shapes (nullable), texts of a shape accepted before are accepted by
// the faster shape pass (core/json/shape.hpp), with the same verdicts.
bool validate(const char* data, size_t len, size_t max_depth, ValidationError* err,
              ShapeCache* shapes = nullptr) noexcept;

// True when data[0..len) is valid UTF-8 (the same rules as strings above);
// else false with *bad_offset (nullable) at the first byte that is wrong.
bool valid_utf8(const char* data, size_t len, size_t* bad_offset) noexcept;

// The end of the JSON number at the start of p[0..len), or nullptr when
// there is none (for the shape pass).
const char* number_end(const char* p, size_t len) noexcept;

}  // namespace polyipc::json
