// List through the C API, in one process: Python's list semantics (negative
// indexes, insert and pop anywhere), compaction, limits and bad input.
#include <polyipc.h>

#include <deque>
#include <functional>
#include <string>

#include "common.hpp"
#include "shared_containers.hpp"

namespace capitest {
namespace {

class ListTest : public CapiTest {};

std::string GetL(polyipc_list* l, int64_t index) {
  char* json = nullptr;
  size_t len = 0;
  Err e;
  int rc = polyipc_list_get(l, index, &json, &len, &e);
  if (rc != POLYIPC_OK) return "<error " + St(rc) + ">";
  std::string s(json, len);
  polyipc_free(json);
  return s;
}

std::string Pop(polyipc_list* l, int64_t index) {
  char* json = nullptr;
  Err e;
  int rc = polyipc_list_pop(l, index, &json, nullptr, &e);
  if (rc != POLYIPC_OK) return "<error " + St(rc) + ">";
  std::string s(json);
  polyipc_free(json);
  return s;
}

TEST_F(ListTest, BehavesAsAPythonList) {
  List l;
  CAPI_ASSERT_OK(polyipc_list_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, l.out(), &e));
  EXPECT_EQ(ListItems(l), "[]");
  for (const char* v : {"1", "\"two\"", "{\"three\": 3}"}) CAPI_ASSERT_OK(polyipc_list_append(l, v, &e));
  EXPECT_EQ(GetL(l, 0), "1");
  EXPECT_EQ(GetL(l, -1), "{\"three\": 3}");  // the text as given
  EXPECT_EQ(GetL(l, -3), "1");
  EXPECT_EQ(GetL(l, 3), "<error " + St(POLYIPC_ERR_OUT_OF_RANGE) + ">");
  EXPECT_EQ(GetL(l, -4), "<error " + St(POLYIPC_ERR_OUT_OF_RANGE) + ">");
  CAPI_ASSERT_OK(polyipc_list_insert(l, 0, "0", &e));      // at the front
  CAPI_ASSERT_OK(polyipc_list_insert(l, 2, "1.5", &e));    // in the middle
  CAPI_ASSERT_OK(polyipc_list_insert(l, 100, "9", &e));    // past the end: appends
  CAPI_ASSERT_OK(polyipc_list_insert(l, -100, "-1", &e));  // before the front: prepends
  CAPI_ASSERT_OK(polyipc_list_insert(l, -1, "8", &e));     // before the last, as Python
  EXPECT_EQ(json::parse(ListItems(l)), json::parse(R"([-1, 0, 1, 1.5, "two", {"three": 3}, 8, 9])"));
  CAPI_ASSERT_OK(polyipc_list_set(l, 4, "[2]", &e));
  CAPI_ASSERT_OK(polyipc_list_set(l, -1, "10", &e));
  EXPECT_EQ(Pop(l, -1), "10");
  EXPECT_EQ(Pop(l, 0), "-1");
  EXPECT_EQ(Pop(l, 2), "1.5");  // the middle
  EXPECT_EQ(json::parse(ListItems(l)), json::parse(R"([0, 1, [2], {"three": 3}, 8])"));
  uint64_t n = 0;
  CAPI_ASSERT_OK(polyipc_list_len(l, &n, &e));
  EXPECT_EQ(n, 5u);
  char* stat = nullptr;
  CAPI_ASSERT_OK(polyipc_list_stat_json(l, &stat, &e));
  const json counters = TakeJson(stat)["counters"];  // as every kind counts (polyipc top reads them)
  EXPECT_EQ(counters["appends"], 8) << counters;     // 3 appends, 5 inserts
  EXPECT_EQ(counters["sets"], 2) << counters;
  EXPECT_EQ(counters["pops"], 3) << counters;
  CAPI_ASSERT_OK(polyipc_list_clear(l, &e));
  EXPECT_EQ(ListItems(l), "[]");
  Err e;
  char* out = nullptr;
  EXPECT_ST(POLYIPC_ERR_EMPTY, polyipc_list_pop(l, -1, &out, nullptr, &e));
  EXPECT_NE(e.Msg().find("list '"), std::string::npos) << e.Msg();
  EXPECT_NE(e.Msg().find("empty"), std::string::npos) << e.Msg();
}

TEST_F(ListTest, VersionCountsChangesAndWaitChangeReturnsOnceItMoved) {
  List l;
  CAPI_ASSERT_OK(polyipc_list_open(Name("l").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, l.out(), &e));
  uint64_t v = 99, seen = 99;
  CAPI_ASSERT_OK(polyipc_list_version(l, &v, &e));
  EXPECT_EQ(v, 0u);
  Err t;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_list_wait_change(l, 0, 10'000'000, &seen, &t));
  EXPECT_NE(t.Msg().find("list '"), std::string::npos) << t.Msg();
  CAPI_ASSERT_OK(polyipc_list_append(l, "1", &e));
  CAPI_ASSERT_OK(polyipc_list_insert(l, 0, "0", &e));
  CAPI_ASSERT_OK(polyipc_list_set(l, 1, "2", &e));
  char* out = nullptr;
  CAPI_ASSERT_OK(polyipc_list_get(l, 0, &out, nullptr, &e));
  polyipc_free(out);
  CAPI_ASSERT_OK(polyipc_list_pop(l, 0, &out, nullptr, &e));
  polyipc_free(out);
  EXPECT_ST(POLYIPC_ERR_OUT_OF_RANGE, polyipc_list_set(l, 5, "9", nullptr));  // no change
  CAPI_ASSERT_OK(polyipc_list_clear(l, &e));
  CAPI_ASSERT_OK(polyipc_list_wait_change(l, 0, POLYIPC_FOREVER, &seen, &e));
  EXPECT_EQ(seen, 5u) << "append, insert, set, pop, clear";
  // Appends that first compact (little room, values popped) still count one each.
  List small;
  polyipc_list_options o = ListOpts(1024, 64);
  CAPI_ASSERT_OK(polyipc_list_open(Name("small").c_str(), POLYIPC_OPEN_OR_CREATE, &o, small.out(), &e));
  const std::string big = "\"" + std::string(300, 'x') + "\"";
  for (int round = 0; round < 8; ++round) {
    CAPI_ASSERT_OK(polyipc_list_append(small, big.c_str(), &e));
    CAPI_ASSERT_OK(polyipc_list_pop(small, 0, &out, nullptr, &e));
    polyipc_free(out);
  }
  CAPI_ASSERT_OK(polyipc_list_version(small, &v, &e));
  EXPECT_EQ(v, 16u) << "8 appends and 8 pops, whatever the compactions";
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_list_version(l, nullptr, &t));
  EXPECT_NE(t.Msg().find("version out pointer is NULL"), std::string::npos) << t.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_list_wait_change(nullptr, 0, 0, nullptr, nullptr));
}

TEST_F(ListTest, DequeUseAndCompactionKeepOrder) {
  // A small list used as a queue from both ends, far past its capacity.
  List l;
  polyipc_list_options o = ListOpts(1024, 8);
  CAPI_ASSERT_OK(polyipc_list_open(Name("l").c_str(), POLYIPC_CREATE_ONLY, &o, l.out(), &e));
  std::deque<std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const std::string v = "{\"i\":" + std::to_string(i) + ",\"p\":\"" + std::string(i % 40, 'p') + "\"}";
    if (model.size() < 6) {
      if (i % 3 == 0) {
        CAPI_ASSERT_OK(polyipc_list_insert(l, 0, v.c_str(), &e));
        model.push_front(v);
      } else {
        CAPI_ASSERT_OK(polyipc_list_append(l, v.c_str(), &e));
        model.push_back(v);
      }
    } else if (i % 2) {
      ASSERT_EQ(Pop(l, 0), model.front());
      model.pop_front();
    } else {
      ASSERT_EQ(Pop(l, -1), model.back());
      model.pop_back();
    }
  }
  json want = json::array();
  for (auto& v : model) want.push_back(json::parse(v));
  EXPECT_EQ(json::parse(ListItems(l)), want);
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_list_stat_json(l, &text, &e));
  EXPECT_GT(TakeJson(text)["counters"]["compactions"].get<int64_t>(), 10);
}

TEST_F(ListTest, FullTooLargeAndBadInputChangeNothing) {
  List l;
  polyipc_list_options o = ListOpts(256, 3);
  CAPI_ASSERT_OK(polyipc_list_open(Name("l").c_str(), POLYIPC_CREATE_ONLY, &o, l.out(), &e));
  for (const char* v : {"1", "2", "3"}) CAPI_ASSERT_OK(polyipc_list_append(l, v, &e));
  const std::string before = ListItems(l);
  struct Row {
    const char* what;
    std::function<int(polyipc_error*)> call;
    int status;
    const char* words;
  };
  char* out = nullptr;
  const std::string big = "\"" + std::string(300, 'x') + "\"";
  const std::vector<Row> rows = {
      {"max_items", [&](polyipc_error* er) { return polyipc_list_append(l, "4", er); }, POLYIPC_ERR_FULL, "max_items"},
      {"insert past max_items", [&](polyipc_error* er) { return polyipc_list_insert(l, 1, "4", er); },
       POLYIPC_ERR_FULL, "max_items"},
      {"never fits", [&](polyipc_error* er) { return polyipc_list_set(l, 0, big.c_str(), er); },
       POLYIPC_ERR_TOO_LARGE, "never fit"},
      {"malformed", [&](polyipc_error* er) { return polyipc_list_set(l, 0, "[1,", er); }, POLYIPC_ERR_INVALID_JSON,
       "not valid JSON"},
      {"set out of range", [&](polyipc_error* er) { return polyipc_list_set(l, 3, "1", er); },
       POLYIPC_ERR_OUT_OF_RANGE, "out of range"},
      {"pop out of range", [&](polyipc_error* er) { return polyipc_list_pop(l, -4, &out, nullptr, er); },
       POLYIPC_ERR_OUT_OF_RANGE, "out of range"},
      {"NULL value", [&](polyipc_error* er) { return polyipc_list_append(l, nullptr, er); }, POLYIPC_ERR_INVALID_ARG,
       "NULL"},
      {"NULL out", [&](polyipc_error* er) { return polyipc_list_get(l, 0, nullptr, nullptr, er); },
       POLYIPC_ERR_INVALID_ARG, "NULL"},
      {"NULL handle", [&](polyipc_error* er) { return polyipc_list_append(nullptr, "1", er); },
       POLYIPC_ERR_INVALID_ARG, "handle is NULL"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.what);
    Err e;
    EXPECT_ST(r.status, r.call(&e));
    EXPECT_NE(e.Msg().find(r.words), std::string::npos) << e.Msg();
  }
  EXPECT_EQ(ListItems(l), before);
  // no room in bytes: 256 bytes hold three values of ~70 bytes, not a fourth
  List small;
  polyipc_list_options o2 = ListOpts(256, 100);
  CAPI_ASSERT_OK(polyipc_list_open(Name("s").c_str(), POLYIPC_CREATE_ONLY, &o2, small.out(), &e));
  const std::string v70 = "\"" + std::string(60, 'v') + "\"";
  for (int i = 0; i < 3; ++i) CAPI_ASSERT_OK(polyipc_list_append(small, v70.c_str(), &e));
  Err e;
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_list_append(small, v70.c_str(), &e));
  EXPECT_NE(e.Msg().find("no room"), std::string::npos) << e.Msg();
  // a queue under the name: INCOMPATIBLE; a dict: too
  const std::string qname = Name("q");
  Queue q;
  ASSERT_ST(POLYIPC_OK, OpenQ(qname, POLYIPC_CREATE_ONLY, nullptr, &q));
  List wrong;
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_list_open(qname.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, wrong.out(), &e));
}

}  // namespace
}  // namespace capitest
