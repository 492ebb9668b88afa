// Dict through the C API, in one process: every call's semantics, compaction,
// limits and bad input (exact status, a message naming the dict and the
// cause, and the dict left as it was).
#include <polyipc.h>

#include <sys/stat.h>

#include <functional>
#include <string>

#include "common.hpp"
#include "shared_containers.hpp"

namespace capitest {
namespace {

json Items(polyipc_dict* d) {
  char* text = nullptr;
  Err e;
  EXPECT_EQ(polyipc_dict_items(d, &text, &e), POLYIPC_OK) << e.Msg();
  return TakeJson(text);
}

json Stat(polyipc_dict* d) {
  char* text = nullptr;
  Err e;
  EXPECT_EQ(polyipc_dict_stat_json(d, &text, &e), POLYIPC_OK) << e.Msg();
  return TakeJson(text);
}

class DictTest : public CapiTest {};

TEST_F(DictTest, SetGetReplaceDeleteLenKeysItems) {
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  EXPECT_EQ(Len(d), 0u);
  EXPECT_EQ(GetS(d, "a"), "<absent>");
  CAPI_ASSERT_OK(polyipc_dict_set(d, "a", "{\"x\": [1, 2]}", &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "b", "2", &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "", "\"empty key\"", &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "κλειδί", "null", &e));
  EXPECT_EQ(GetS(d, "a"), "{\"x\": [1, 2]}");  // the text as given
  EXPECT_EQ(GetS(d, ""), "\"empty key\"");
  EXPECT_EQ(GetS(d, "κλειδί"), "null");
  EXPECT_EQ(Len(d), 4u);
  CAPI_ASSERT_OK(polyipc_dict_set(d, "a", "3", &e));  // replace: moves to the end of the order
  EXPECT_EQ(GetS(d, "a"), "3");
  EXPECT_EQ(Len(d), 4u);
  char* keys = nullptr;
  CAPI_ASSERT_OK(polyipc_dict_keys(d, &keys, &e));
  EXPECT_EQ(TakeJson(keys), json::parse(R"(["b", "", "κλειδί", "a"])"));
  EXPECT_EQ(Items(d), json::parse(R"({"b": 2, "": "empty key", "κλειδί": null, "a": 3})"));

  int deleted = -1;
  CAPI_ASSERT_OK(polyipc_dict_delete(d, "b", &deleted, &e));
  EXPECT_EQ(deleted, 1);
  CAPI_ASSERT_OK(polyipc_dict_delete(d, "b", &deleted, &e));
  EXPECT_EQ(deleted, 0);
  CAPI_ASSERT_OK(polyipc_dict_delete(d, "never", nullptr, &e));
  EXPECT_EQ(GetS(d, "b"), "<absent>");
  EXPECT_EQ(Len(d), 3u);

  // found == NULL: a missing key is NOT_FOUND naming the dict and the key.
  Err e;
  char* json_out = reinterpret_cast<char*>(1);
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_dict_get(d, "b", &json_out, nullptr, nullptr, &e));
  EXPECT_EQ(json_out, nullptr);
  EXPECT_NE(e.Msg().find("dict '"), std::string::npos) << e.Msg();
  EXPECT_NE(e.Msg().find("\"b\""), std::string::npos) << e.Msg();

  // The calls so far, counted as every kind counts them (polyipc top reads them):
  // 5 sets, 7 gets (found or not), 1 delete that found its key.
  const json counters = Stat(d)["counters"];
  EXPECT_EQ(counters["sets"], 5) << counters;
  EXPECT_EQ(counters["gets"], 7) << counters;
  EXPECT_EQ(counters["deletes"], 1) << counters;

  CAPI_ASSERT_OK(polyipc_dict_clear(d, &e));
  EXPECT_EQ(Len(d), 0u);
  EXPECT_EQ(Items(d), json::object());
  CAPI_ASSERT_OK(polyipc_dict_set(d, "after-clear", "true", &e));
  EXPECT_EQ(GetS(d, "after-clear"), "true");
}

TEST_F(DictTest, VersionCountsChangesAndWaitChangeReturnsOnceItMoved) {
  Dict d, other;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_OPEN_ONLY, nullptr, other.out(), &e));
  uint64_t v = 99;
  CAPI_ASSERT_OK(polyipc_dict_version(d, &v, &e));
  EXPECT_EQ(v, 0u) << "a new dict";
  // unchanged: TIMEOUT at once for 0, after the timeout otherwise, naming the dict and the version
  uint64_t seen = 99;
  Err t;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_dict_wait_change(d, 0, 0, &seen, &t));
  EXPECT_EQ(seen, 0u);
  EXPECT_NE(t.Msg().find("dict '"), std::string::npos) << t.Msg();
  EXPECT_NE(t.Msg().find("version 0"), std::string::npos) << t.Msg();
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_dict_wait_change(d, 0, 20'000'000, nullptr, nullptr));
  // what changes it: a set, a delete that finds its key, a swap, a clear; not a get or a miss
  CAPI_ASSERT_OK(polyipc_dict_set(other, "a", "1", &e));
  CAPI_ASSERT_OK(polyipc_dict_wait_change(d, 0, POLYIPC_FOREVER, &seen, &e));
  EXPECT_EQ(seen, 1u);
  GetS(d, "a");
  CAPI_ASSERT_OK(polyipc_dict_delete(d, "missing", nullptr, &e));
  int swapped = 0;
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "a", "2", "3", &swapped, &e));  // no match
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_dict_wait_change(d, 1, 0, &seen, nullptr));
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "a", "1", "2", &swapped, &e));
  CAPI_ASSERT_OK(polyipc_dict_delete(d, "a", nullptr, &e));
  CAPI_ASSERT_OK(polyipc_dict_clear(d, &e));
  CAPI_ASSERT_OK(polyipc_dict_version(other, &v, &e));
  EXPECT_EQ(v, 4u);
  CAPI_ASSERT_OK(polyipc_dict_wait_change(other, 1, 0, &seen, &e));  // an old version: at once
  EXPECT_EQ(seen, 4u);
  // bad input
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_version(nullptr, &v, nullptr));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_version(d, nullptr, &t));
  EXPECT_NE(t.Msg().find("version out pointer is NULL"), std::string::npos) << t.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_wait_change(nullptr, 0, 0, nullptr, &t));
  EXPECT_NE(t.Msg().find("polyipc_dict_wait_change: dict handle is NULL"), std::string::npos) << t.Msg();
}

TEST_F(DictTest, SecondHandleSeesTheSameEntries) {
  const std::string name = Name("d");
  Dict a, b;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, a.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, b.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_set(a, "k", "[1,2,3]", &e));
  EXPECT_EQ(GetS(b, "k"), "[1,2,3]");
  CAPI_ASSERT_OK(polyipc_dict_delete(b, "k", nullptr, &e));
  EXPECT_EQ(GetS(a, "k"), "<absent>");
}

TEST_F(DictTest, CompareAndSetComparesAsJson) {
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  int swapped = -1;
  // expected NULL: only when absent
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "n", nullptr, "1", &swapped, &e));
  EXPECT_EQ(swapped, 1);
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "n", nullptr, "100", &swapped, &e));
  EXPECT_EQ(swapped, 0);
  EXPECT_EQ(GetS(d, "n"), "1");
  // 1.0 equals 1 as JSON; 2 does not
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "n", "2", "5", &swapped, &e));
  EXPECT_EQ(swapped, 0);
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "n", "1.0", "2", &swapped, &e));
  EXPECT_EQ(swapped, 1);
  EXPECT_EQ(GetS(d, "n"), "2");
  // objects: key order and whitespace do not count
  CAPI_ASSERT_OK(polyipc_dict_set(d, "o", "{\"a\":1,\"b\":[true,null]}", &e));
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "o", "{ \"b\" : [ true , null ], \"a\" : 1 }", "{}", &swapped, &e));
  EXPECT_EQ(swapped, 1);
  EXPECT_EQ(GetS(d, "o"), "{}");
  // desired NULL deletes, only on a match
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "o", "[]", nullptr, &swapped, &e));
  EXPECT_EQ(swapped, 0);
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "o", "{}", nullptr, &swapped, &e));
  EXPECT_EQ(swapped, 1);
  EXPECT_EQ(GetS(d, "o"), "<absent>");
  // an expected value for an absent key never matches
  CAPI_ASSERT_OK(polyipc_dict_compare_and_set(d, "o", "null", "1", &swapped, &e));
  EXPECT_EQ(swapped, 0);
  EXPECT_EQ(GetS(d, "o"), "<absent>");
  // bad expected / desired JSON: INVALID_JSON, nothing changes
  Err e;
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON, polyipc_dict_compare_and_set(d, "n", "{bad", "3", &swapped, &e));
  EXPECT_NE(e.Msg().find("expected"), std::string::npos) << e.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON, polyipc_dict_compare_and_set(d, "n", "2", "[1,", &swapped, &e));
  EXPECT_EQ(swapped, 0);
  EXPECT_EQ(GetS(d, "n"), "2");
}

TEST_F(DictTest, CompactionKeepsEveryLiveEntry) {
  // 4 KiB of room: thousands of replacements force many compactions.
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  polyipc_dict_options o = DictOpts(4096, 16);
  Dict small;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("small").c_str(), POLYIPC_CREATE_ONLY, &o, small.out(), &e));
  json model = json::object();
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "key-" + std::to_string(i % 13);
    if (i % 7 == 3) {
      CAPI_ASSERT_OK(polyipc_dict_delete(small, key.c_str(), nullptr, &e));
      model.erase(key);
      continue;
    }
    const std::string value = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 50, 'p') + "\"}";
    CAPI_ASSERT_OK(polyipc_dict_set(small, key.c_str(), value.c_str(), &e));
    model[key] = json::parse(value);
  }
  EXPECT_EQ(Items(small), model);
  EXPECT_EQ(Len(small), model.size());
  EXPECT_GT(Stat(small)["counters"]["compactions"].get<int64_t>(), 10);
}

TEST_F(DictTest, FullByItemsAndByBytesLosesNothing) {
  polyipc_dict_options o = DictOpts(1024, 3);
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(Name("d").c_str(), POLYIPC_CREATE_ONLY, &o, d.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "a", "1", &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "b", "2", &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "c", "3", &e));
  Err e;
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_dict_set(d, "d", "4", &e));
  EXPECT_NE(e.Msg().find("max_items"), std::string::npos) << e.Msg();
  CAPI_ASSERT_OK(polyipc_dict_set(d, "c", "33", &e));  // replacing is not adding
  // 1 KiB of room: a 700-byte value fits once; a second one does not
  const std::string big = "\"" + std::string(700, 'x') + "\"";
  CAPI_ASSERT_OK(polyipc_dict_set(d, "a", big.c_str(), &e));
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_FULL, polyipc_dict_set(d, "b", big.c_str(), &e));
  EXPECT_NE(e.Msg().find("no room"), std::string::npos) << e.Msg();
  // a value that can never fit is TOO_LARGE
  const std::string huge = "\"" + std::string(2000, 'x') + "\"";
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_TOO_LARGE, polyipc_dict_set(d, "b", huge.c_str(), &e));
  EXPECT_NE(e.Msg().find("never fit"), std::string::npos) << e.Msg();
  EXPECT_EQ(Items(d), json::parse("{\"b\":2,\"c\":33,\"a\":" + big + "}"));
  // replacing the big value by another as big fits (the old one is reclaimed)
  const std::string big2 = "\"" + std::string(700, 'y') + "\"";
  CAPI_ASSERT_OK(polyipc_dict_set(d, "a", big2.c_str(), &e));
  EXPECT_EQ(GetS(d, "a"), big2);
}

TEST_F(DictTest, BadInputIsRefusedAndChangesNothing) {
  const std::string name = Name("d");
  Dict d;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "k", "1", &e));
  struct Row {
    const char* what;
    std::function<int(polyipc_error*)> call;
    int status;
    const char* words;  // in the message
  };
  char* out = nullptr;
  uint64_t n = 0;
  const std::string long_key(4097, 'k');
  const std::vector<Row> rows = {
      {"NULL handle set", [&](polyipc_error* er) { return polyipc_dict_set(nullptr, "k", "1", er); },
       POLYIPC_ERR_INVALID_ARG, "handle is NULL"},
      {"NULL key", [&](polyipc_error* er) { return polyipc_dict_set(d, nullptr, "1", er); }, POLYIPC_ERR_INVALID_ARG,
       "key is NULL"},
      {"NULL value", [&](polyipc_error* er) { return polyipc_dict_set(d, "k", nullptr, er); },
       POLYIPC_ERR_INVALID_ARG, "NULL"},
      {"malformed JSON", [&](polyipc_error* er) { return polyipc_dict_set(d, "k", "{\"a\":", er); },
       POLYIPC_ERR_INVALID_JSON, "not valid JSON"},
      {"trailing bytes", [&](polyipc_error* er) { return polyipc_dict_set(d, "k", "1 2", er); },
       POLYIPC_ERR_INVALID_JSON, "trailing"},
      {"invalid UTF-8 value", [&](polyipc_error* er) { return polyipc_dict_set(d, "k", "\"\xC3\x28\"", er); },
       POLYIPC_ERR_INVALID_JSON, "UTF-8"},
      {"invalid UTF-8 key", [&](polyipc_error* er) { return polyipc_dict_set(d, "\xFF", "1", er); },
       POLYIPC_ERR_INVALID_ARG, "UTF-8"},
      {"key too long", [&](polyipc_error* er) { return polyipc_dict_set(d, long_key.c_str(), "1", er); },
       POLYIPC_ERR_INVALID_ARG, "longer than"},
      {"NULL json out", [&](polyipc_error* er) { return polyipc_dict_get(d, "k", nullptr, nullptr, nullptr, er); },
       POLYIPC_ERR_INVALID_ARG, "NULL"},
      {"NULL len out", [&](polyipc_error* er) { return polyipc_dict_len(d, nullptr, er); }, POLYIPC_ERR_INVALID_ARG,
       "NULL"},
      {"NULL keys out", [&](polyipc_error* er) { return polyipc_dict_keys(d, nullptr, er); },
       POLYIPC_ERR_INVALID_ARG, "NULL"},
      {"NULL handle len", [&](polyipc_error* er) { return polyipc_dict_len(nullptr, &n, er); },
       POLYIPC_ERR_INVALID_ARG, "handle is NULL"},
      {"NULL handle items", [&](polyipc_error* er) { return polyipc_dict_items(nullptr, &out, er); },
       POLYIPC_ERR_INVALID_ARG, "handle is NULL"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.what);
    Err e;
    EXPECT_ST(r.status, r.call(&e));
    EXPECT_NE(e.Msg().find(r.words), std::string::npos) << e.Msg();
    if (std::string(r.what).find("NULL handle") == std::string::npos) {
      EXPECT_NE(e.Msg().find("dict '"), std::string::npos) << e.Msg();
    }
  }
  EXPECT_EQ(Items(d), json::parse("{\"k\":1}"));
}

TEST_F(DictTest, NamesOptionsAndKinds) {
  Err e;
  Dict d;
  for (const char* bad : {"", "../x", "a/b"}) {
    e.Reset();
    EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_open(bad, POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e)) << bad;
  }
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_open(std::string(201, 'n').c_str(), POLYIPC_OPEN_OR_CREATE, nullptr,
                                                        d.out(), &e));
  polyipc_dict_options o = DictOpts(16, 4);
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_open(Name("x").c_str(), POLYIPC_CREATE_ONLY, &o, d.out(), &e));
  EXPECT_NE(e.Msg().find("capacity_bytes"), std::string::npos) << e.Msg();
  o = DictOpts(4096, 0);
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_open(Name("x").c_str(), POLYIPC_CREATE_ONLY, &o, d.out(), &e));
  EXPECT_NE(e.Msg().find("max_items"), std::string::npos) << e.Msg();
  o.struct_size = 4;
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_dict_open(Name("x").c_str(), POLYIPC_CREATE_ONLY, &o, d.out(), &e));
  EXPECT_NE(e.Msg().find("struct_size"), std::string::npos) << e.Msg();
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_dict_open(Name("none").c_str(), POLYIPC_OPEN_ONLY, nullptr, d.out(), &e));
  // a queue under the name: INCOMPATIBLE, naming both kinds
  const std::string qname = Name("q");
  Queue q;
  ASSERT_ST(POLYIPC_OK, OpenQ(qname, POLYIPC_CREATE_ONLY, nullptr, &q));
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_dict_open(qname.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, d.out(), &e));
  EXPECT_NE(e.Msg().find("queue"), std::string::npos) << e.Msg();
  // and the dict is 0600, listed as kind "dict"
  const std::string name = Name("listed");
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, d.out(), &e));
  CAPI_ASSERT_OK(polyipc_dict_set(d, "k", "1", &e));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_stat_json(name.c_str(), &text, &e));
  json st = TakeJson(text);
  EXPECT_EQ(st["kind"], "dict") << st.dump();
  EXPECT_EQ(st["count"], 1) << st.dump();
  struct stat sb;
  ASSERT_EQ(::stat(ShmPath(name).c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace capitest
