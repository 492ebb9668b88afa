// Bad input, as one table: each row gives the exact status, an err->message that
// names the object (where there is one) and the cause, works with a NULL err
// too, and leaves the queue as it was (size unchanged, the next get returns the
// message that was there).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common.hpp"

using namespace capitest;

namespace {

// Object names without digits, so that a number found in a message is not part
// of the name.
const std::string kVictim = "badinput-victim";
const std::string kSentinel = "{\"sentinel\":true}";

struct Need {
  std::vector<std::string> any;  // one of these must be in the message
  bool word = false;             // as a word (parameter names, numbers), else a substring
};

struct Row {
  std::string what;
  std::function<int(polyipc_error*)> call;
  int status;
  std::vector<Need> needs;
  std::function<void()> setup = nullptr;
  std::function<void()> after = nullptr;  // checks after each call (err given, and NULL err)
  std::function<void()> cleanup = nullptr;
  bool repeat_with_null_err = true;
};

Need Word(std::initializer_list<std::string> w) { return Need{w, true}; }
Need Sub(std::initializer_list<std::string> s) { return Need{s, false}; }
const Need kHandle = Word({"q", "queue", "handle"});
const Need kNamesVictim = Sub({kVictim});

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Makes "/polyipc.<ns>.<name>" by hand, holding `content`.
void MakeGarbage(const std::string& name, const std::string& content) {
  int fd = shm_open(ShmName(name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0) << ShmName(name) << ": " << std::strerror(errno);
  ASSERT_EQ(ssize_t(content.size()), write(fd, content.data(), content.size()));
  close(fd);
}

std::string Junk(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 0x9E3779B9u;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>((x >> 24) | 1);  // never zero
  }
  return s;
}

class BadInput : public CapiTest {};

TEST_F(BadInput, Table) {
  auto vo = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON);
  vo.capacity_bytes = 1 << 20;  // room for the 200 KB depth-100000 document
  Queue victim;
  CAPI_ASSERT_OK(OpenQ(Track(kVictim), POLYIPC_CREATE_ONLY, &vo, &victim, &e));
  CAPI_ASSERT_OK(Put(victim, kSentinel, 0, &e));
  polyipc_queue* q = victim.get();

  const std::string garbage = Track("badinput-garbage");
  const std::string truncated = Track("badinput-truncated");
  const std::string never = Track("badinput-nevermade");
  const std::string name200 = Track(std::string(200, 'n'));
  const std::string junk = Junk(4096);

  auto not_created = [never] {
    Queue x;
    EXPECT_ST(POLYIPC_ERR_NOT_FOUND, OpenQ(never, POLYIPC_OPEN_ONLY, nullptr, &x, nullptr)) << "a failed open created it";
  };
  auto garbage_unchanged = [garbage, junk] { EXPECT_EQ(junk, ReadFile(ShmPath(garbage))) << "the garbage object was modified"; };
  auto truncated_unchanged = [truncated] { EXPECT_EQ(std::string(10, 'Z'), ReadFile(ShmPath(truncated))); };

  // scratch outputs, preset to sentinels: failing calls must leave them alone
  polyipc_queue* const kQ = reinterpret_cast<polyipc_queue*>(0x51);
  char* const kText = reinterpret_cast<char*>(0x52);
  void* const kData = reinterpret_cast<void*>(0x53);
  polyipc_queue* out_q = kQ;
  char* out_text = kText;
  void* out_data = kData;
  size_t out_len = 777, out_done = 777;
  uint64_t out_size = 777;
  size_t lens[4] = {777, 777, 777, 777};
  char buf[256];
  const void* one_ptr[1] = {"1"};
  size_t one_len[1] = {1};
  auto reset_outs = [&] {
    out_q = kQ;
    out_text = kText;
    out_data = kData;
    out_len = out_done = out_size = 777;
    for (auto& l : lens) l = 777;
  };
  auto open_untouched = [&] { EXPECT_EQ(kQ, out_q) << "*out set by a failed open"; };
  auto text_untouched = [&] { EXPECT_EQ(kText, out_text) << "*json set by a failed call"; };

  std::vector<Row> rows;

  // ---- NULL handles ----
  rows.push_back({"put NULL q", [&](polyipc_error* e) { return polyipc_queue_put(nullptr, "1", 1, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"put_priority NULL q",
                  [&](polyipc_error* e) { return polyipc_queue_put_priority(nullptr, "1", 1, 3, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"get NULL q", [&](polyipc_error* e) { return polyipc_queue_get(nullptr, &out_data, &out_len, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}, nullptr, [&] {
                    EXPECT_EQ(kData, out_data);
                    EXPECT_EQ(777u, out_len);
                  }});
  rows.push_back({"get_into NULL q",
                  [&](polyipc_error* e) { return polyipc_queue_get_into(nullptr, buf, sizeof buf, &out_len, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}, nullptr, [&] { EXPECT_EQ(777u, out_len); }});
  rows.push_back({"put_many NULL q",
                  [&](polyipc_error* e) { return polyipc_queue_put_many(nullptr, one_ptr, one_len, 1, &out_done, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"get_many NULL q",
                  [&](polyipc_error* e) {
                    return polyipc_queue_get_many(nullptr, buf, sizeof buf, lens, 4, &out_done, 0, e);
                  },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"size NULL q", [&](polyipc_error* e) { return polyipc_queue_size(nullptr, &out_size, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}, nullptr, [&] { EXPECT_EQ(777u, out_size); }});
  rows.push_back({"task_done NULL q", [&](polyipc_error* e) { return polyipc_queue_task_done(nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"join NULL q", [&](polyipc_error* e) { return polyipc_queue_join(nullptr, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"close_writes NULL q", [&](polyipc_error* e) { return polyipc_queue_close_writes(nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}});
  rows.push_back({"queue_stat_json NULL q",
                  [&](polyipc_error* e) { return polyipc_queue_stat_json(nullptr, &out_text, e); },
                  POLYIPC_ERR_INVALID_ARG, {kHandle}, nullptr, text_untouched});

  // ---- NULL out-pointers and data pointers, on a live queue ----
  rows.push_back({"open NULL name",
                  [&](polyipc_error* e) { return polyipc_queue_open(nullptr, POLYIPC_OPEN_OR_CREATE, nullptr, &out_q, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, open_untouched});
  rows.push_back({"open NULL out",
                  [&](polyipc_error* e) {
                    return polyipc_queue_open(never.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, nullptr, e);
                  },
                  POLYIPC_ERR_INVALID_ARG, {Word({"out"})}, nullptr, not_created});
  rows.push_back({"open bad open mode",
                  [&](polyipc_error* e) {
                    return polyipc_queue_open(never.c_str(), static_cast<polyipc_open_mode>(7), nullptr, &out_q, e);
                  },
                  POLYIPC_ERR_INVALID_ARG, {Word({"mode", "open_mode"}), Sub({never})}, nullptr,
                  [&] {
                    open_untouched();
                    not_created();
                  }});
  rows.push_back({"put NULL data", [&](polyipc_error* e) { return polyipc_queue_put(q, nullptr, 5, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"data"})}});
  rows.push_back({"put_priority NULL data",
                  [&](polyipc_error* e) { return polyipc_queue_put_priority(q, nullptr, 5, 1, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"data"})}});
  rows.push_back({"get NULL data", [&](polyipc_error* e) { return polyipc_queue_get(q, nullptr, &out_len, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"data"})}, nullptr, [&] { EXPECT_EQ(777u, out_len); }});
  rows.push_back({"get NULL len", [&](polyipc_error* e) { return polyipc_queue_get(q, &out_data, nullptr, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"len"})}, nullptr, [&] { EXPECT_EQ(kData, out_data); }});
  rows.push_back({"get_into NULL buf",
                  [&](polyipc_error* e) { return polyipc_queue_get_into(q, nullptr, 100, &out_len, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"buf"})}, nullptr, [&] { EXPECT_EQ(777u, out_len); }});
  rows.push_back({"get_into NULL len",
                  [&](polyipc_error* e) { return polyipc_queue_get_into(q, buf, sizeof buf, nullptr, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"len"})}});
  rows.push_back({"put_many NULL data",
                  [&](polyipc_error* e) { return polyipc_queue_put_many(q, nullptr, one_len, 1, &out_done, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"data"})}});
  rows.push_back({"put_many NULL lens",
                  [&](polyipc_error* e) { return polyipc_queue_put_many(q, one_ptr, nullptr, 1, &out_done, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"lens"})}});
  rows.push_back({"put_many NULL done",
                  [&](polyipc_error* e) { return polyipc_queue_put_many(q, one_ptr, one_len, 1, nullptr, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"done"})}});
  rows.push_back({"get_many NULL buf",
                  [&](polyipc_error* e) { return polyipc_queue_get_many(q, nullptr, 100, lens, 4, &out_done, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"buf"})}});
  rows.push_back({"get_many NULL lens",
                  [&](polyipc_error* e) {
                    return polyipc_queue_get_many(q, buf, sizeof buf, nullptr, 4, &out_done, 0, e);
                  },
                  POLYIPC_ERR_INVALID_ARG, {Word({"lens"})}});
  rows.push_back({"get_many NULL done",
                  [&](polyipc_error* e) { return polyipc_queue_get_many(q, buf, sizeof buf, lens, 4, nullptr, 0, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"done"})}});
  rows.push_back({"size NULL out", [&](polyipc_error* e) { return polyipc_queue_size(q, nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"out"})}});
  rows.push_back({"queue_stat_json NULL json", [&](polyipc_error* e) { return polyipc_queue_stat_json(q, nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"json"})}});
  rows.push_back({"unlink NULL name", [&](polyipc_error* e) { return polyipc_unlink(nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"name"})}});
  rows.push_back({"list_json NULL json", [&](polyipc_error* e) { return polyipc_list_json(nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"json"})}});
  rows.push_back({"stat_json NULL name", [&](polyipc_error* e) { return polyipc_stat_json(nullptr, &out_text, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, text_untouched});
  rows.push_back({"stat_json NULL json", [&](polyipc_error* e) { return polyipc_stat_json(kVictim.c_str(), nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"json"})}});
  rows.push_back({"peek_json NULL name", [&](polyipc_error* e) { return polyipc_peek_json(nullptr, 1, &out_text, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, text_untouched});
  rows.push_back({"peek_json NULL json",
                  [&](polyipc_error* e) { return polyipc_peek_json(kVictim.c_str(), 1, nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"json"})}});
  rows.push_back({"gc_json NULL json", [&](polyipc_error* e) { return polyipc_gc_json(nullptr, e); },
                  POLYIPC_ERR_INVALID_ARG, {Word({"json"})}});

  // ---- bad names, for every call that takes one ----
  const std::vector<std::pair<std::string, std::string>> bad_names = {
      {"empty", ""},           {"dot-dot-slash", "../x"}, {"slash", "a/b"},       {"absolute", "/abs"},
      {"space", "a b"},        {"newline", "x\n"},        {"non-ascii", "caf\xc3\xa9"}, {"201 chars", std::string(201, 'n')},
      {"backslash", "a\\b"},   {"colon", "a:b"},
  };
  for (auto& [label, bad] : bad_names) {
    std::string n = bad;
    rows.push_back({"open name " + label,
                    [&, n](polyipc_error* e) { return polyipc_queue_open(n.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &out_q, e); },
                    POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, open_untouched});
    rows.push_back({"unlink name " + label, [n](polyipc_error* e) { return polyipc_unlink(n.c_str(), e); },
                    POLYIPC_ERR_INVALID_ARG, {Word({"name"})}});
    rows.push_back({"stat_json name " + label,
                    [&, n](polyipc_error* e) { return polyipc_stat_json(n.c_str(), &out_text, e); },
                    POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, text_untouched});
    rows.push_back({"peek_json name " + label,
                    [&, n](polyipc_error* e) { return polyipc_peek_json(n.c_str(), 1, &out_text, e); },
                    POLYIPC_ERR_INVALID_ARG, {Word({"name"})}, nullptr, text_untouched});
  }
  rows.push_back({"open name of 200 chars is fine",
                  [&](polyipc_error* e) {
                    Queue x;
                    int rc = OpenQ(name200, POLYIPC_CREATE_ONLY, nullptr, &x, e);
                    if (rc == POLYIPC_OK) rc = Put(x, "200", 0, e);
                    return rc;
                  },
                  POLYIPC_OK, {}, nullptr,
                  [&] { EXPECT_EQ(0, access(ShmPath(name200).c_str(), F_OK)) << ShmPath(name200); },
                  [&] { CAPI_EXPECT_OK(polyipc_unlink(name200.c_str(), &e)); }, false});

  // ---- bad options ----
  auto bad_opts = [&](const char* what, std::function<void(polyipc_queue_options*)> f, Need cause) {
    rows.push_back({std::string("open with ") + what,
                    [&, f](polyipc_error* e) {
                      auto o = Opts();
                      f(&o);
                      return polyipc_queue_open(never.c_str(), POLYIPC_OPEN_OR_CREATE, &o, &out_q, e);
                    },
                    POLYIPC_ERR_INVALID_ARG, {Sub({never}), cause}, nullptr, [&] {
                      open_untouched();
                      not_created();
                    }});
  };
  bad_opts("order 99", [](polyipc_queue_options* o) { o->order = 99; }, Word({"order"}));
  bad_opts("format 99", [](polyipc_queue_options* o) { o->format = 99; }, Word({"format"}));
  bad_opts("struct_size 0", [](polyipc_queue_options* o) { o->struct_size = 0; }, Word({"struct_size", "size", "options"}));

  // ---- names holding garbage ----
  for (auto mode : {POLYIPC_OPEN_ONLY, POLYIPC_OPEN_OR_CREATE}) {
    rows.push_back({"open garbage mode " + std::to_string(mode),
                    [&, mode](polyipc_error* e) { return polyipc_queue_open(garbage.c_str(), mode, nullptr, &out_q, e); },
                    POLYIPC_ERR_INCOMPATIBLE, {Sub({garbage})}, nullptr, [&] {
                      open_untouched();
                      garbage_unchanged();
                    }});
    rows.push_back({"open truncated mode " + std::to_string(mode),
                    [&, mode](polyipc_error* e) { return polyipc_queue_open(truncated.c_str(), mode, nullptr, &out_q, e); },
                    POLYIPC_ERR_INCOMPATIBLE, {Sub({truncated})}, nullptr, [&] {
                      open_untouched();
                      truncated_unchanged();
                    }});
  }
  rows.push_back({"create_only over garbage",
                  [&](polyipc_error* e) { return polyipc_queue_open(garbage.c_str(), POLYIPC_CREATE_ONLY, nullptr, &out_q, e); },
                  POLYIPC_ERR_EXISTS, {Sub({garbage})}, nullptr, [&] {
                    open_untouched();
                    garbage_unchanged();
                  }});
  rows.push_back({"list_json with garbage in the namespace",
                  [&](polyipc_error* e) {
                    char* t = nullptr;
                    int rc = polyipc_list_json(&t, e);
                    if (rc == POLYIPC_OK) {
                      json j = TakeJson(t);
                      EXPECT_TRUE(j.is_array()) << j.dump();
                      EXPECT_NE(std::string::npos, j.dump().find(kVictim)) << j.dump();
                    }
                    return rc;
                  },
                  POLYIPC_OK, {}, nullptr, garbage_unchanged, nullptr, false});

  // ---- malformed JSON: INVALID_JSON naming the queue and the byte offset ----
  struct BadJson {
    const char* what;
    std::string text;
    size_t offset;
  };
  const std::vector<BadJson> bad_json = {
      {"truncated", "{\"a\": [1, 2", 11},
      {"trailing bytes", "{\"a\":1} x", 8},
      {"trailing bracket", "[1]\n\n]", 5},
      {"invalid UTF-8", "{\"a\":\"\xff\"}", 6},
      {"depth 100000", std::string(100000, '[') + std::string(100000, ']'), POLYIPC_JSON_MAX_DEPTH},
  };
  for (auto& b : bad_json) {
    std::string text = b.text;
    std::string off = std::to_string(b.offset);
    rows.push_back({std::string("put ") + b.what,
                    [&, text](polyipc_error* e) { return polyipc_queue_put(q, text.data(), text.size(), 0, e); },
                    POLYIPC_ERR_INVALID_JSON, {kNamesVictim, Word({off})}});
    rows.push_back({std::string("put_priority ") + b.what,
                    [&, text](polyipc_error* e) {
                      return polyipc_queue_put_priority(q, text.data(), text.size(), -5, POLYIPC_FOREVER, e);
                    },
                    POLYIPC_ERR_INVALID_JSON, {kNamesVictim, Word({off})}});
    rows.push_back({std::string("put_many ") + b.what,
                    [&, text](polyipc_error* e) {
                      const void* p[2] = {text.data(), "1"};
                      size_t l[2] = {text.size(), 1};
                      return polyipc_queue_put_many(q, p, l, 2, &out_done, 0, e);
                    },
                    POLYIPC_ERR_INVALID_JSON, {kNamesVictim, Word({off})}, nullptr,
                    [&] { EXPECT_EQ(0u, out_done); }});
  }

  // ---- too large ----
  const std::string huge = "\"" + std::string(2000000, 'h') + "\"";  // 2000002 bytes > 1 MiB capacity
  rows.push_back({"put larger than the queue can ever hold",
                  [&](polyipc_error* e) { return polyipc_queue_put(q, huge.data(), huge.size(), 0, e); },
                  POLYIPC_ERR_TOO_LARGE, {kNamesVictim, Need{{"2000002", "large", "exceed"}, false}}});
  rows.push_back({"put_many larger than the queue can ever hold",
                  [&](polyipc_error* e) {
                    const void* p[1] = {huge.data()};
                    size_t l[1] = {huge.size()};
                    return polyipc_queue_put_many(q, p, l, 1, &out_done, 0, e);
                  },
                  POLYIPC_ERR_TOO_LARGE, {kNamesVictim, Need{{"2000002", "large", "exceed"}, false}}, nullptr,
                  [&] { EXPECT_EQ(0u, out_done); }});
  rows.push_back({"get_into with a small buffer",
                  [&](polyipc_error* e) { return polyipc_queue_get_into(q, buf, 5, &out_len, 0, e); },
                  POLYIPC_ERR_TOO_LARGE, {kNamesVictim}, nullptr,
                  [&] { EXPECT_EQ(kSentinel.size(), out_len) << "*len = the size needed"; }});
  rows.push_back({"get_many with a small buffer",
                  [&](polyipc_error* e) { return polyipc_queue_get_many(q, buf, 5, lens, 4, &out_done, 0, e); },
                  POLYIPC_ERR_TOO_LARGE, {kNamesVictim}, nullptr, [&] {
                    EXPECT_EQ(kSentinel.size(), lens[0]) << "lens[0] = the size needed";
                    EXPECT_EQ(0u, out_done);
                  }});

  // ---- run the table ----
  auto check_message = [](const Row& row, const Err& e) {
    for (auto& need : row.needs) {
      bool ok = false;
      for (auto& s : need.any) ok = ok || (need.word ? ContainsWord(e.Msg(), s) : ContainsI(e.Msg(), s));
      std::string want;
      for (auto& s : need.any) want += "'" + s + "' ";
      EXPECT_TRUE(ok) << "err->message \"" << e.Msg() << "\" should name one of " << want;
    }
  };
  auto check_victim = [&] {
    EXPECT_EQ(1u, Size(q)) << "the queue changed";
    std::string m;
    EXPECT_ST(POLYIPC_OK, Get(q, &m, 0));
    EXPECT_EQ(kSentinel, m);
    ASSERT_ST(POLYIPC_OK, Put(q, kSentinel, 0));
  };

  MakeGarbage(garbage, junk);
  MakeGarbage(truncated, std::string(10, 'Z'));
  ASSERT_FALSE(HasFatalFailure());
  for (auto& row : rows) {
    SCOPED_TRACE(row.what);
    if (row.setup) row.setup();
    reset_outs();
    Err e;
    int rc = row.call(&e);
    EXPECT_ST(row.status, rc);
    if (row.status != POLYIPC_OK) {
      EXPECT_EQ(rc, e.code) << "err->code";
      EXPECT_NE("<untouched>", e.Msg()) << "err->message not filled";
      EXPECT_FALSE(e.Msg().empty());
      check_message(row, e);
    }
    if (row.after) row.after();
    if (row.repeat_with_null_err) {
      reset_outs();
      EXPECT_ST(row.status, row.call(nullptr)) << "with a NULL err";
      if (row.after) row.after();
    }
    check_victim();
    if (row.cleanup) row.cleanup();
  }
  // garbage is removable by name
  CAPI_EXPECT_OK(polyipc_unlink(garbage.c_str(), &e));
  EXPECT_NE(0, access(ShmPath(garbage).c_str(), F_OK));
}

// The void calls accept NULL.
TEST_F(BadInput, NullTolerantVoidCalls) {
  polyipc_queue_options_init(nullptr);
  polyipc_queue_close(nullptr);
  polyipc_free(nullptr);
  SUCCEED();
}

}  // namespace
