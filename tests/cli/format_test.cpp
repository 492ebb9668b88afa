// The CLI's human rendering of the library's stat JSON, and polyipc top's rates.
#include "format.hpp"
#include "top_frame.hpp"

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

// ---- polyipc top: rates from two samples ------------------------------------

namespace {

polyipc_cli::TopSample Sample(int64_t steady_ns, int64_t unix_ms, const char* objects) {
  polyipc_cli::TopSample s;
  s.steady_ns = steady_ns;
  s.unix_ms = unix_ms;
  s.objects = Json::parse(objects);
  return s;
}

}  // namespace

TEST(CliTop, RatesAreCounterDeltasOverTheTimeBetweenSamples) {
  auto before = Sample(1'000'000'000, 10'000, R"([{"name":"jobs","kind":"queue","depth":3,"creator_pid":7,
      "counters":{"puts":10,"gets":4,"bytes_put":100,"last_activity_unix_ms":9000}}])");
  auto now = Sample(3'000'000'000, 12'000, R"([{"name":"jobs","kind":"queue","depth":13,"creator_pid":7,
      "counters":{"puts":30,"gets":14,"bytes_put":2100,"last_activity_unix_ms":11500}}])");
  Json f = polyipc_cli::top_frame(&before, now, "ns1");
  EXPECT_EQ(f["namespace"], "ns1");
  EXPECT_EQ(f["seconds"], 2.0);
  const Json& jobs = f["objects"][0];
  EXPECT_EQ(jobs["state"], "13");
  EXPECT_EQ(jobs["deltas"], Json::parse(R"({"puts":20,"gets":10,"bytes_put":2000})"));
  EXPECT_EQ(jobs["rates"]["puts"], 10.0);
  EXPECT_EQ(jobs["rates"]["gets"], 5.0);
  EXPECT_EQ(jobs["rates"]["bytes_put"], 1000.0);
  EXPECT_EQ(jobs["ops_per_s"], 15.0) << "calls only: bytes and the activity time are not calls";
  EXPECT_EQ(jobs["idle_ms"], 500);
  EXPECT_TRUE(jobs["asleep"].is_null()) << "its stat does not say";
  EXPECT_EQ(jobs["counters"]["puts"], 30);
}

TEST(CliTop, TheFirstFrameAndNewOrRecreatedObjectsHaveNoRates) {
  auto before = Sample(0, 0, R"([{"name":"a","kind":"queue","creator_pid":7,"counters":{"puts":10}},
      {"name":"b","kind":"queue","creator_pid":7,"counters":{"puts":10}},
      {"name":"c","kind":"lock","creator_pid":7,"counters":{"acquires":10}}])");
  auto now = Sample(1'000'000'000, 1000, R"([{"name":"a","kind":"queue","creator_pid":7,"counters":{"puts":2}},
      {"name":"b","kind":"queue","creator_pid":8,"counters":{"puts":20}},
      {"name":"c","kind":"event","creator_pid":7,"counters":{"sets":20}},
      {"name":"d","kind":"queue","creator_pid":7,"counters":{"puts":5}}])");
  Json first = polyipc_cli::top_frame(nullptr, before, "ns");
  EXPECT_TRUE(first["seconds"].is_null());
  for (const auto& row : first["objects"]) EXPECT_TRUE(row["rates"].is_null()) << row;
  Json f = polyipc_cli::top_frame(&before, now, "ns");
  // a: a counter went down; b: another creator; c: another kind; d: new
  for (const auto& row : f["objects"]) {
    EXPECT_TRUE(row["rates"].is_null()) << row;
    EXPECT_TRUE(row["ops_per_s"].is_null()) << row;
  }
}

TEST(CliTop, TextShowsTheBusiestFirstAndNamesErrors) {
  auto before = Sample(0, 0, R"([{"name":"calm","kind":"queue","counters":{"puts":0}},
      {"name":"busy","kind":"queue","counters":{"puts":0,"gets":0,"bytes_put":0,"owner_dead_recoveries":2}}])");
  auto now = Sample(1'000'000'000, 1000, R"([{"name":"calm","kind":"queue","counters":{"puts":5},
      "sleeping":{"getters":2,"putters":0,"joiners":1}},
      {"name":"busy","kind":"queue","counters":{"puts":2000,"gets":1500,"bytes_put":3072,"owner_dead_recoveries":2}},
      {"name":"gone","error":"object 'gone': not found"}])");
  const std::string text = polyipc_cli::top_text(polyipc_cli::top_frame(&before, now, "ns"));
  EXPECT_NE(text.find("namespace 'ns', 3 objects"), std::string::npos) << text;
  EXPECT_NE(text.find("rates per second over the last 1.00 s"), std::string::npos) << text;
  const size_t busy = text.find("\nbusy "), calm = text.find("\ncalm "), gone = text.find("\ngone ");
  ASSERT_NE(busy, std::string::npos) << text;
  EXPECT_LT(busy, calm) << text;
  EXPECT_LT(calm, gone) << text;  // no rates (an error) last
  EXPECT_NE(text.find("puts 2.0k/s, gets 1.5k/s, bytes_put 3KiB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("gone: object 'gone': not found"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\ncalm +queue +- +- +3 +5 "))) << "3 asleep, 5 calls/s: " << text;
  const std::string first = polyipc_cli::top_text(polyipc_cli::top_frame(nullptr, before, "ns"));
  EXPECT_NE(first.find("rates from the next frame on"), std::string::npos) << first;
}

TEST(CliTop, RateAndIdleTexts) {
  EXPECT_EQ(polyipc_cli::rate_text(0), "0");
  EXPECT_EQ(polyipc_cli::rate_text(0.25), "0.25");
  EXPECT_EQ(polyipc_cli::rate_text(12.34), "12.3");
  EXPECT_EQ(polyipc_cli::rate_text(1234), "1.2k");
  EXPECT_EQ(polyipc_cli::rate_text(2.5e6), "2.5M");
  EXPECT_EQ(polyipc_cli::idle_text(450), "0.5s");
  EXPECT_EQ(polyipc_cli::idle_text(125'000), "2m");
  EXPECT_EQ(polyipc_cli::idle_text(7'200'000), "2h");
  EXPECT_EQ(polyipc_cli::idle_text(3 * 86'400'000LL), "3d");
}
