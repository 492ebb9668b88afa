// The elements of a JSON array, as slices of its text: how a pool takes a
// whole batch of arguments or results in one JSON text and still carries
// each element byte for byte.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/json/validate.hpp"

namespace polyipc::json {

// True when data[0..len) is one valid JSON array (as validate() with
// max_depth): *items gets its elements in order, each without the
// whitespace around it. Otherwise false and *err filled ("not an array" at
// the first byte of another value).
bool array_elements(const char* data, size_t len, size_t max_depth, std::vector<std::string_view>* items,
                    ValidationError* err);

}  // namespace polyipc::json
