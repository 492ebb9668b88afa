// The CLI's human rendering of the library's stat JSON.
#include "format.hpp"

#include <gtest/gtest.h>

#include <regex>

using polyipc_cli::Json;

TEST(CliFormat, MissingFieldsShowAsDash) {
  Json lock = Json::parse(R"({"name":"ledger","kind":"lock"})");
  EXPECT_EQ(polyipc_cli::field_text(lock, "depth"), "-");
  EXPECT_EQ(polyipc_cli::field_text(lock, "name"), "ledger");
  EXPECT_EQ(polyipc_cli::field_text(Json::parse("[]"), "name"), "-");
  EXPECT_EQ(polyipc_cli::mode_text(Json()), "-");
}

TEST(CliFormat, ModeIsOctal) {
  EXPECT_EQ(polyipc_cli::mode_text(Json(384)), "0600");
  EXPECT_EQ(polyipc_cli::mode_text(Json(0644)), "0644");
}

TEST(CliFormat, SizesUseBinaryUnits) {
  EXPECT_EQ(polyipc_cli::size_text(100), "100B");
  EXPECT_EQ(polyipc_cli::size_text(1048576), "1MiB");
  EXPECT_EQ(polyipc_cli::size_text(1536), "1.5KiB");
  EXPECT_EQ(polyipc_cli::size_text(1048536), "1.0MiB");
}

TEST(CliFormat, Base64) {
  EXPECT_EQ(polyipc_cli::base64_encode("", 0), "");
  EXPECT_EQ(polyipc_cli::base64_encode("f", 1), "Zg==");
  EXPECT_EQ(polyipc_cli::base64_encode("fo", 2), "Zm8=");
  EXPECT_EQ(polyipc_cli::base64_encode("foobar", 6), "Zm9vYmFy");
}

TEST(CliFormat, StatLinesAreAlignedAndFlattened) {
  Json stat = Json::parse(R"({"name":"jobs","kind":"queue","depth":3,"mode":384,"owner_uid":0,
    "attached":[{"pid":12,"alive":true},{"pid":13,"alive":false}],
    "counters":{"puts":10,"last_activity_unix_ms":0}})");
  std::string text = polyipc_cli::stat_text(stat);
  EXPECT_EQ(text.rfind("name:", 0), 0u) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\nmode: +0600\n")));
  EXPECT_TRUE(std::regex_search(text, std::regex("\nattached: +12 \\(alive\\), 13 \\(dead\\)\n")));
  EXPECT_TRUE(std::regex_search(text, std::regex("\ncounters\\.puts: +10\n")));
  EXPECT_TRUE(std::regex_search(text, std::regex("owner_uid: +0 \\(")));
  // Every value starts in the same column.
  size_t column = std::string::npos;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    size_t colon = line.find(':');
    size_t value = line.find_first_not_of(' ', colon + 1);
    if (column == std::string::npos) column = value;
    EXPECT_EQ(value, column) << line;
    start = end + 1;
  }
}

TEST(CliFormat, NameAndKindComeFirst) {
  Json stat = Json::parse(R"({"depth":1,"kind":"queue","mode":384,"name":"jobs"})");
  EXPECT_EQ(polyipc_cli::stat_text(stat), "name:  jobs\nkind:  queue\ndepth: 1\nmode:  0600\n");
}

TEST(CliFormat, UnreadableObjectsStillRender) {
  Json bad = Json::parse(R"({"name":"x","kind":"unknown","error":"bad magic"})");
  std::string text = polyipc_cli::stat_text(bad);
  EXPECT_NE(text.find("bad magic"), std::string::npos);
}

TEST(CliFormat, TableColumnsAreAligned) {
  std::string t = polyipc_cli::table_text({{"NAME", "KIND"}, {"a-long-name", "queue"}});
  EXPECT_EQ(t, "NAME         KIND\na-long-name  queue\n");
}
