// A process killed at any instruction of a list operation leaves the list
// as it was before the call or as the call made it, and usable (as
// dict_kill_every_instruction_test.cpp does for the dict).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/manager/list.hpp"
#include "core/segment/segment.hpp"
#include "kill_after.hpp"

namespace polyipc {
namespace {

using nlohmann::json;

void Append(List& l, const std::string& value) {
  ErrorText e;
  ASSERT_EQ(l.append(value.data(), value.size(), e), Status::Ok) << e.text;
}

void* Into(void* ctx, size_t n) { return n <= 256 ? ctx : nullptr; }

void RunListCase(const char* what, const ListOptions& opts, const std::function<void(List&)>& prepare,
                 const std::function<void(List&)>& op, long sparsity = 200) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  const std::string name = "listkill-" + std::to_string(getpid());
  json before, after;
  {
    auto l = List::open(name, OpenMode::CreateOnly, opts);
    prepare(*l);
    before = json::parse(l->items_json());
    op(*l);
    after = json::parse(l->items_json());
    l.reset();
    unlink_object(name);
  }
  ASSERT_NE(before, after) << what << ": the operation must change something";
  long kills = 0;
  for (long k = 0;; k += 1 + k / sparsity) {
    SCOPED_TRACE(std::string(what) + ", killed after " + std::to_string(k) + " instructions");
    auto l = List::open(name, OpenMode::CreateOnly, opts);
    prepare(*l);
    bool killed = KillAfter(k, [&]() -> std::function<void()> {
      std::shared_ptr<List> mine = List::open(name, OpenMode::OpenOnly, opts);
      return [mine, &op] { op(*mine); };
    });
    const json now = json::parse(l->items_json());
    EXPECT_TRUE(now == before || now == after) << "items " << now.dump();
    EXPECT_EQ(l->size(), now.size());
    Append(*l, "\"probe\"");
    char buf[256];
    size_t len = 0;
    ErrorText e;
    EXPECT_EQ(l->get(-1, Into, buf, &len, e), Status::Ok) << e.text;
    EXPECT_EQ(std::string(buf, len), "\"probe\"");
    l.reset();
    unlink_object(name);
    if (::testing::Test::HasFailure() || !killed) break;
    ++kills;
  }
  std::printf("%s: %ld kills\n", what, kills);
}

ListOptions Small() {
  ListOptions o;
  o.capacity_bytes = 256;
  o.max_items = 8;
  return o;
}

void Fill(List& l) {
  for (const char* v : {"1", "[2,2]", "{\"three\":3}", "\"four\""}) Append(l, v);
  char buf[256];
  size_t len = 0;
  ErrorText e;
  ASSERT_EQ(l.pop(0, Into, buf, &len, e), Status::Ok);  // the head moves, dead bytes appear
}

void PopAt(List& l, int64_t index) {
  char buf[256];
  size_t len = 0;
  ErrorText e;
  l.pop(index, Into, buf, &len, e);
}

TEST(ListKillEveryInstruction, Append) {
  RunListCase("append", Small(), Fill, [](List& l) { Append(l, "\"new\""); });
}

TEST(ListKillEveryInstruction, InsertAtTheFront) {
  RunListCase("insert at the front", Small(), Fill, [](List& l) {
    ErrorText e;
    l.insert(0, "0", 1, e);
  });
}

TEST(ListKillEveryInstruction, InsertInTheMiddle) {
  RunListCase("insert in the middle", Small(), Fill, [](List& l) {
    ErrorText e;
    l.insert(1, "1.5", 3, e);
  }, 60);
}

TEST(ListKillEveryInstruction, Set) {
  RunListCase("set", Small(), Fill, [](List& l) {
    ErrorText e;
    l.set(-1, "{\"set\":true}", 12, e);
  });
}

TEST(ListKillEveryInstruction, PopEachWay) {
  RunListCase("pop the last", Small(), Fill, [](List& l) { PopAt(l, -1); });
  RunListCase("pop the first", Small(), Fill, [](List& l) { PopAt(l, 0); });
  RunListCase("pop from the middle", Small(), Fill, [](List& l) { PopAt(l, 1); }, 60);
}

TEST(ListKillEveryInstruction, AppendThatCompacts) {
  auto prepare = [](List& l) {
    Fill(l);
    for (int i = 0; i < 40; ++i) {
      ErrorText e;
      const std::string v = "\"" + std::string(20, static_cast<char>('a' + i % 26)) + "\"";
      ASSERT_EQ(l.set(0, v.data(), v.size(), e), Status::Ok) << e.text;
      if (json::parse(l.stat_json())["used_bytes"].get<uint64_t>() > 220) return;
    }
    FAIL() << "the data never filled";
  };
  RunListCase("append that compacts", Small(), prepare, [](List& l) { Append(l, "\"compacted\""); }, 60);
}

TEST(ListKillEveryInstruction, Clear) {
  RunListCase("clear", Small(), Fill, [](List& l) {
    ErrorText e;
    l.clear(e);
  });
}

}  // namespace
}  // namespace polyipc
