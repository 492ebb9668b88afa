// A process killed at any instruction of a dict operation leaves the dict as
// it was before the call or as the call made it, never in between, and fully
// usable: a child is single-stepped (ptrace) through the operation and
// SIGKILLed after k instructions, for every k until the operation completes
// (sparser as k grows).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/manager/dict.hpp"
#include "core/segment/segment.hpp"
#include "kill_after.hpp"

namespace polyipc {
namespace {

using nlohmann::json;

void Set(Dict& d, const std::string& key, const std::string& value) {
  ErrorText e;
  ASSERT_EQ(d.set(key, value.data(), value.size(), e), Status::Ok) << e.text;
}

// Entries in order, as a JSON array of [key, value] pairs (so order counts).
json Entries(Dict& d) {
  json items = json::parse(d.items_json());
  json out = json::array();
  for (auto& [k, v] : items.items()) out.push_back(json::array({k, v}));
  return out;
}

// prepare: fills the dict before the child runs; op: what the child does on its
// own handle. After k instructions the next k is k + 1 + k / sparsity: a
// longer operation is sampled more sparsely, to stay within ~20 s.
void RunDictCase(const char* what, const DictOptions& opts, const std::function<void(Dict&)>& prepare,
                 const std::function<void(Dict&)>& op, long sparsity = 200) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  const std::string name = "dictkill-" + std::to_string(getpid());
  // The two acceptable outcomes, computed in this process.
  json before, after;
  {
    auto d = Dict::open(name, OpenMode::CreateOnly, opts);
    prepare(*d);
    before = Entries(*d);
    op(*d);
    after = Entries(*d);
    d.reset();
    unlink_object(name);
  }
  ASSERT_NE(before, after) << what << ": the operation must change something";
  long kills = 0;
  for (long k = 0;; k += 1 + k / sparsity) {
    SCOPED_TRACE(std::string(what) + ", killed after " + std::to_string(k) + " instructions");
    auto d = Dict::open(name, OpenMode::CreateOnly, opts);
    prepare(*d);
    bool killed = KillAfter(k, [&]() -> std::function<void()> {
      std::shared_ptr<Dict> mine = Dict::open(name, OpenMode::OpenOnly, opts);
      return [mine, &op] { op(*mine); };
    });
    const json now = Entries(*d);
    EXPECT_TRUE(now == before || now == after) << "entries " << now.dump();
    // Still usable, and its count agrees with its entries.
    EXPECT_EQ(d->size(), now.size());
    Set(*d, "probe", "{\"after\":\"the kill\"}");
    size_t len = 0;
    bool found = false;
    char buf[64];
    ErrorText e;
    EXPECT_EQ(d->get("probe", [](void* c, size_t) -> void* { return c; }, buf, &len, &found, e), Status::Ok);
    EXPECT_TRUE(found);
    EXPECT_EQ(std::string(buf, len), "{\"after\":\"the kill\"}");
    d.reset();
    unlink_object(name);
    if (::testing::Test::HasFailure() || !killed) break;
    ++kills;
  }
  std::printf("%s: %ld kills\n", what, kills);
}

DictOptions Small() {
  DictOptions o;
  o.capacity_bytes = 512;  // a few entries: replacements soon compact
  o.max_items = 16;
  return o;
}

void Fill(Dict& d) {
  Set(d, "alpha", "1");
  Set(d, "beta", "[1,2,3]");
  Set(d, "gamma", "{\"g\":true}");
  ErrorText e;
  bool removed = false;
  ASSERT_EQ(d.remove("beta", &removed, e), Status::Ok);  // a tombstone and dead bytes
}

TEST(DictKillEveryInstruction, SetNewKey) {
  RunDictCase("set a new key", Small(), Fill, [](Dict& d) { Set(d, "delta", "\"new\""); });
}

TEST(DictKillEveryInstruction, ReplaceValue) {
  RunDictCase("replace a value", Small(), Fill, [](Dict& d) { Set(d, "alpha", "{\"replaced\":[1,2]}"); });
}

TEST(DictKillEveryInstruction, SetThatCompacts) {
  // Fill the 512 bytes with replacements of one key, so the next set must
  // compact into the other half and set in the same transaction.
  auto prepare = [](Dict& d) {
    Fill(d);
    for (int i = 0; i < 40; ++i) {
      ErrorText e;
      const std::string v = "\"" + std::string(24, static_cast<char>('a' + i % 26)) + "\"";
      Status st = d.set("churn", v.data(), v.size(), e);
      ASSERT_EQ(st, Status::Ok) << e.text;
      if (json::parse(d.stat_json())["used_bytes"].get<uint64_t>() > 470) return;
    }
    FAIL() << "the data never filled";
  };
  RunDictCase("set that compacts", Small(), prepare, [](Dict& d) { Set(d, "churn", "\"compacted\""); }, 60);
}

TEST(DictKillEveryInstruction, Delete) {
  RunDictCase("delete", Small(), Fill, [](Dict& d) {
    ErrorText e;
    bool removed = false;
    d.remove("gamma", &removed, e);
  });
}

TEST(DictKillEveryInstruction, Clear) {
  RunDictCase("clear", Small(), Fill, [](Dict& d) {
    ErrorText e;
    d.clear(e);
  });
}

TEST(DictKillEveryInstruction, CompareAndSet) {
  RunDictCase("compare and set", Small(), Fill, [](Dict& d) {
    ErrorText e;
    bool swapped = false;
    const std::string expected = "1.0", desired = "2";
    d.compare_and_set("alpha", expected.data(), expected.size(), desired.data(), desired.size(), &swapped, e);
  }, 60);
}

}  // namespace
}  // namespace polyipc
