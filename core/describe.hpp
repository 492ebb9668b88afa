// The fields every object's stat JSON shares (identity, owner, attached
// processes), so each kind only adds its own state.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/segment/segment.hpp"

namespace polyipc {

nlohmann::json describe_header(const std::string& name, const SegmentHeader* header);

}  // namespace polyipc
