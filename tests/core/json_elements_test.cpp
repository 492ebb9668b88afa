// The elements of a JSON array (core/json/elements.hpp), as pools split a
// batch of arguments or results: each element byte for byte, whatever its
// strings hold.
#include "core/json/elements.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace polyipc::json {
namespace {

std::vector<std::string> Elements(const std::string& text) {
  std::vector<std::string_view> items;
  ValidationError err;
  EXPECT_TRUE(array_elements(text.data(), text.size(), kMaxDepth, &items, &err)) << text << ": " << err.reason;
  return std::vector<std::string>(items.begin(), items.end());
}

TEST(JsonElements, EachElementByteForByteWithoutTheWhitespaceAroundIt) {
  using V = std::vector<std::string>;
  EXPECT_EQ(V{}, Elements("[]"));
  EXPECT_EQ(V{}, Elements(" [ \n ] "));
  EXPECT_EQ(V{"1"}, Elements("[1]"));
  EXPECT_EQ((V{"1", "-2.5e3", "true", "null"}), Elements("[1, -2.5e3 ,\ttrue,null]"));
  EXPECT_EQ((V{"[1, [2]]", "{\"a\": [3, {}]}", "[]"}), Elements("[[1, [2]],{\"a\": [3, {}]} , []]"));
  // brackets, commas and escaped quotes inside strings are text
  EXPECT_EQ((V{"\"a,]b\"", "\"[\\\"{\"", "\"\\\\\"", "{\"k]\":\"v,\"}"}),
            Elements("[\"a,]b\",\"[\\\"{\",\"\\\\\",{\"k]\":\"v,\"}]"));
  EXPECT_EQ((V{"\"\xc3\xa9\"", "\"\\u00e9\""}), Elements("[\"\xc3\xa9\",\"\\u00e9\"]"));
  const std::string big = "[" + std::string(2000, ' ') + "\"" + std::string(3000, 'x') + "\",7]";  // the in-place path
  EXPECT_EQ((V{"\"" + std::string(3000, 'x') + "\"", "7"}), Elements(big));
}

TEST(JsonElements, AnythingButOneValidArrayIsRefusedWithItsOffset) {
  struct Case {
    std::string text;
    size_t offset;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"{\"a\":1}", 0, "not an array"}, {"  7", 2, "not an array"},     {"\"[1]\"", 0, "not an array"},
      {"[1,]", 3, "unexpected character"}, {"[1", 2, "unexpected end of input"}, {"[1] [2]", 4, "trailing bytes after the value"},
      {"", 0, "empty input"},
  };
  for (const Case& c : cases) {
    std::vector<std::string_view> items{"stale"};
    ValidationError err;
    EXPECT_FALSE(array_elements(c.text.data(), c.text.size(), kMaxDepth, &items, &err)) << c.text;
    EXPECT_EQ(c.offset, err.offset) << c.text;
    EXPECT_EQ(c.reason, err.reason) << c.text;
    EXPECT_TRUE(items.empty()) << c.text;
  }
  std::vector<std::string_view> items;
  ValidationError err;
  EXPECT_FALSE(array_elements("[[[1]]]", 7, 2, &items, &err)) << "the depth limit holds";
}

}  // namespace
}  // namespace polyipc::json
