// The validator (core/json/validate.hpp) against a second, independent
// implementation: nlohmann::json::accept, which is also strict about UTF-8,
// surrogate escapes, leading zeros and control characters. Random valid
// documents, then the same documents with one to three bytes replaced,
// inserted or deleted, or cut short: both must give the same verdict, on the
// copy-and-pad path and on the in-place path (behind 1100 spaces), and a
// rejection's offset must lie inside the input. Then the same against the
// shape pass (core/json/shape.hpp): texts of a shape the validator accepted,
// with their numbers, literals and strings replaced by good and bad ones,
// must get the reference's verdict. Seeded: every run is the same.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "core/json/shape.hpp"
#include "core/json/validate.hpp"

namespace polyipc::json {
namespace {

class Generator {
 public:
  // plain: strings without escapes or non-ASCII bytes (texts the shape pass takes).
  explicit Generator(uint32_t seed, bool plain = false) : rng_(seed), plain_(plain) {}

  std::string document() {
    std::string out;
    ws(out);
    value(out, 0);
    ws(out);
    return out;
  }

  // One to three edits, or a cut.
  std::string mutate(std::string s) {
    if (s.empty() || pick(8) == 0) return s.substr(0, pick(s.size() + 1));
    for (int n = 1 + pick(3); n > 0; --n) {
      const size_t at = pick(s.size() + 1);
      switch (pick(3)) {
        case 0:
          if (at < s.size()) s[at] = byte();
          break;
        case 1: s.insert(s.begin() + static_cast<long>(at), byte()); break;
        default:
          if (at < s.size()) s.erase(at, 1);
      }
    }
    return s;
  }

  size_t pick(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng_) : 0; }

 private:
  // Bytes that matter to a JSON parser, and now and then any byte at all.
  char byte() {
    static const char kTricky[] = "{}[]:,\"\\ \t\n\r0123456789-+.eEtrufalsn/bu";
    static const unsigned char kHigh[] = {0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
                                          0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    switch (pick(4)) {
      case 0: return static_cast<char>(kHigh[pick(sizeof kHigh)]);
      case 1: return static_cast<char>(pick(256));
      default: return kTricky[pick(sizeof kTricky - 1)];
    }
  }

  void ws(std::string& out) {
    static const char kWs[] = " \t\n\r";
    for (size_t n = pick(4) == 0 ? pick(3) : 0; n > 0; --n) out += kWs[pick(4)];
  }

  void value(std::string& out, int depth) {
    switch (depth >= 5 ? 2 + pick(4) : pick(6)) {
      case 0: container(out, depth, '{', '}', true); break;
      case 1: container(out, depth, '[', ']', false); break;
      case 2: string(out); break;
      case 3: number(out); break;
      case 4: out += pick(2) ? "true" : "false"; break;
      default: out += pick(2) ? "null" : "0"; break;
    }
  }

  void container(std::string& out, int depth, char open, char close, bool object) {
    out += open;
    ws(out);
    for (size_t n = pick(4), i = 0; i < n; ++i) {
      if (i) {
        out += ',';
        ws(out);
      }
      if (object) {
        string(out);
        ws(out);
        out += ':';
        ws(out);
      }
      value(out, depth + 1);
      ws(out);
    }
    out += close;
  }

  void string(std::string& out) {
    static const char* const kPieces[] = {
        "a", "worker-7", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9",
        "\\uD83D\\uDE00",  // a surrogate pair
        "\xc3\xa9",        // U+00E9
        "\xe2\x82\xac",    // U+20AC
        "\xed\x9f\xbf",    // U+D7FF, just below the surrogates
        "\xef\xbf\xbd",    // U+FFFD
        "\xf0\x9f\x98\x80",  // U+1F600
        "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last
    };
    out += '"';
    const size_t pieces = plain_ ? 3 : sizeof kPieces / sizeof kPieces[0];  // the first three are plain
    for (size_t n = pick(5); n > 0; --n) out += kPieces[pick(pieces)];
    if (pick(3) == 0) out += std::string(pick(40), 'x');  // long enough for the 16-byte scan
    out += '"';
  }

  void number(std::string& out) {
    if (pick(3) == 0) out += '-';
    if (pick(4) == 0) {
      out += '0';
    } else {
      out += static_cast<char>('1' + pick(9));
      for (size_t n = pick(6); n > 0; --n) out += static_cast<char>('0' + pick(10));
    }
    if (pick(3) == 0) {
      out += '.';
      for (size_t n = 1 + pick(4); n > 0; --n) out += static_cast<char>('0' + pick(10));
    }
    if (pick(4) == 0) {
      out += pick(2) ? 'e' : 'E';
      if (pick(2)) out += pick(2) ? '+' : '-';
      for (size_t n = 1 + pick(2); n > 0; --n) out += static_cast<char>('0' + pick(10));
    }
  }

  std::mt19937 rng_;
  bool plain_;
};

// The reference's verdict on the syntax alone, past two quirks of nlohmann:
//  - it takes a NUL byte for the end of the input; RFC 8259 allows a raw NUL
//    nowhere (in a string it is a control character), so any NUL is a reject;
//  - it rejects numbers beyond a double's range ("1e999"), which RFC 8259
//    allows; so exponents of three digits or more are cut to one digit before
//    it judges (inside strings that changes nothing either way).
bool ReferenceAccepts(const std::string& s) {
  if (s.find('\0') != std::string::npos) return false;
  if (nlohmann::json::accept(s)) return true;
  static const std::regex kLongExponent("([eE][+-]?)[0-9]{3,}");
  const std::string tamed = std::regex_replace(s, kLongExponent, "$011");
  return tamed != s && nlohmann::json::accept(tamed);
}

// Our verdict on s, on both paths; the reference's verdict; equal, or a failure naming s.
void Compare(const std::string& s) {
  ValidationError e;
  const bool ours = validate(s.data(), s.size(), kMaxDepth, &e);
  const bool ref = ReferenceAccepts(s);
  ASSERT_EQ(ours, ref) << "input (" << s.size() << " bytes): " << nlohmann::json(s).dump(-1, ' ', true,
                                                                nlohmann::json::error_handler_t::replace)
                       << (ours ? "" : std::string("\nours: ") + e.reason + " at " + std::to_string(e.offset));
  if (!ours) ASSERT_LE(e.offset, s.size()) << e.reason;

  const std::string shifted = std::string(1100, ' ') + s;  // the in-place, bounds-checked path
  ValidationError e2;
  ASSERT_EQ(validate(shifted.data(), shifted.size(), kMaxDepth, &e2), ours) << "in place: " << s;
  if (!ours) {
    ASSERT_EQ(e2.offset, e.offset + 1100) << s;
    ASSERT_STREQ(e2.reason, e.reason) << s;
  }
}

TEST(JsonValidateDifferential, RandomValidDocumentsAreAcceptedByBoth) {
  Generator g(20261123);
  for (int i = 0; i < 20000; ++i) {
    const std::string doc = g.document();
    ASSERT_TRUE(nlohmann::json::accept(doc)) << "the generator made invalid JSON: " << doc;
    ASSERT_NO_FATAL_FAILURE(Compare(doc));
  }
}

TEST(JsonValidateDifferential, MutatedDocumentsGetTheSameVerdictFromBoth) {
  Generator g(7);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string doc = g.mutate(g.document());
    ASSERT_NO_FATAL_FAILURE(Compare(doc));
    (ReferenceAccepts(doc) ? accepted : rejected)++;
  }
  // Both kinds of verdict were exercised, not just one.
  EXPECT_GT(accepted, 5000);
  EXPECT_GT(rejected, 50000);
}

// ---- the shape pass ----------------------------------------------------------

// Where the scalars and string contents of a plain text are (no escapes).
struct Part {
  size_t at, len;
  bool string;
};
std::vector<Part> PartsOf(const std::string& s) {
  std::vector<Part> parts;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '"') {
      const size_t end = s.find('"', i + 1);
      parts.push_back({i + 1, end - i - 1, true});
      i = end + 1;
    } else if (std::strchr("{}[]:, \t\n\r", c)) {
      ++i;
    } else {
      size_t end = i;
      while (end < s.size() && !std::strchr("{}[]:,\" \t\n\r", s[end])) ++end;
      parts.push_back({i, end - i, false});
      i = end;
    }
  }
  return parts;
}

// The text with some of its parts replaced: scalars by good and bad numbers
// and literals, string contents by plain text and now and then a byte the
// pass must not take (a control character, an escape, a non-ASCII byte).
std::string ReplaceValues(Generator& g, const std::string& s) {
  static const char* const kScalars[] = {
      "0", "7", "-1", "123456", "-0", "0.5", "-2.25", "1e5", "1E+5", "2.5e-3", "true", "false", "null",
      "01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "00", "0x1", "tru", "nulll", "True", "1true", "truefalse",
      "nan", "1.5.5", "-01",
      "99999999999999999999999999999999999999999999999999999999999999999999999",  // crosses a block
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890.5"};
  static const char* const kContents[] = {
      "", "a", "worker-17", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      "tab\there", "nl\n", "\x01", "\x7f", "esc\\n", "bad\\q", "\xc3\xa9", "\xff", "q\"q", "} ,[: "};
  std::string out = s;
  const std::vector<Part> parts = PartsOf(s);
  for (size_t i = parts.size(); i-- > 0;) {  // from the back, so offsets stay right
    if (g.pick(3) != 0) continue;
    const Part& p = parts[i];
    out.replace(p.at, p.len, p.string ? kContents[g.pick(sizeof kContents / sizeof kContents[0])]
                                      : kScalars[g.pick(sizeof kScalars / sizeof kScalars[0])]);
  }
  return out;
}

// With a cache that has seen text-shaped inputs: the reference's verdict.
void CompareShaped(ShapeCache& cache, const std::string& s) {
  const bool ours = validate(s.data(), s.size(), kMaxDepth, nullptr, &cache);
  ASSERT_EQ(ours, ReferenceAccepts(s)) << "input (" << s.size() << " bytes): "
                                        << nlohmann::json(s).dump(-1, ' ', true,
                                                                  nlohmann::json::error_handler_t::replace);
}

TEST(JsonShapeDifferential, TextsOfAKnownShapeWithOtherValuesGetTheReferenceVerdict) {
  if (!shape_pass_available()) GTEST_SKIP() << "no AVX-512 VBMI/VBMI2: the shape pass is off on this CPU";
  Generator g(20261124, true);
  ShapeCache cache;
  int hits = 0, accepted = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string doc = g.document();
    ASSERT_TRUE(validate(doc.data(), doc.size(), kMaxDepth, nullptr, &cache)) << doc;
    for (int k = 0; k < 8; ++k) {
      const std::string variant = ReplaceValues(g, doc);
      ASSERT_NO_FATAL_FAILURE(CompareShaped(cache, variant));
      (ReferenceAccepts(variant) ? accepted : rejected)++;
      Shape shape;  // was it the pass that said so? (a valid variant of a remembered shape)
      if (variant.size() <= 1024 &&
          cache.lookup(variant.data(), variant.size(), kMaxDepth, &shape) == ShapeCache::Lookup::kHit)
        ++hits;
    }
    ASSERT_NO_FATAL_FAILURE(CompareShaped(cache, g.mutate(doc)));
  }
  // The pass accepted a good share itself, and both verdicts were exercised.
  EXPECT_GT(hits, 50000) << accepted << " accepted, " << rejected << " rejected";
  EXPECT_GT(accepted, 100000) << hits << " hits";
  EXPECT_GT(rejected, 30000) << hits << " hits";
}

// Literals are checked by masks, byte by byte from the bytes before them, so
// every run of their letters up to one byte longer than "false" goes through
// the pass: at the start of a block, across the end of the first block (the
// scalar look), and at the end of a one-block text.
TEST(JsonShapeDifferential, EveryRunOfLiteralLettersGetsTheRightVerdict) {
  if (!shape_pass_available()) GTEST_SKIP() << "no AVX-512 VBMI/VBMI2: the shape pass is off on this CPU";
  const std::string letters = "truefalsn";
  std::vector<std::string> runs = {""};
  for (size_t from = 0, len = 1; len <= 6; ++len) {
    const size_t to = runs.size();
    for (size_t i = from; i < to; ++i)
      for (char c : letters) runs.push_back(runs[i] + c);
    from = to;
  }
  int taken = 0;
  for (const size_t pad : {size_t{0}, size_t{1}, size_t{57}, size_t{58}, size_t{59}, size_t{60}, size_t{61}, size_t{62}}) {
    const auto text = [&](const std::string& run) { return "[" + std::string(pad, ' ') + run + "]"; };
    ShapeCache cache;
    const std::string known = text("true");
    ASSERT_TRUE(validate(known.data(), known.size(), kMaxDepth, nullptr, &cache));
    for (size_t i = 1; i < runs.size(); ++i) {
      const std::string t = text(runs[i]);
      const bool literal = runs[i] == "true" || runs[i] == "false" || runs[i] == "null";
      Shape shape;
      const ShapeCache::Lookup seen = cache.lookup(t.data(), t.size(), kMaxDepth, &shape);
      ASSERT_EQ(seen == ShapeCache::Lookup::kHit, literal) << "pad " << pad << ": " << t;
      ASSERT_EQ(validate(t.data(), t.size(), kMaxDepth, nullptr, &cache), literal) << "pad " << pad << ": " << t;
      taken += seen == ShapeCache::Lookup::kHit;
    }
  }
  EXPECT_EQ(taken, 8 * 3);
}

TEST(JsonShapeDifferential, ShapesAreTheTokensInOrder) {
  if (!shape_pass_available()) GTEST_SKIP() << "no AVX-512 VBMI/VBMI2: the shape pass is off on this CPU";
  const auto shape = [](const std::string& s) {
    Shape out;
    return shape_of(s.data(), s.size(), &out) ? std::string(reinterpret_cast<const char*>(out.token), out.tokens)
                                              : std::string("(not taken)");
  };
  EXPECT_EQ(shape(R"({"id": 123456, "ok": true, "v": [1, -2.5e3, null], "s": "a b"})"), R"({":0,":0,":[0,0,0],":"})");
  EXPECT_EQ(shape(" [ ] "), "[]");
  EXPECT_EQ(shape("\"x\""), "\"");
  EXPECT_EQ(shape(std::string(100, ' ') + "[" + std::string(70, '7') + "," + std::string(200, ' ') + "\"" +
                  std::string(90, 'y') + "\"]"),
            "[0,\"]");  // a number and a string across blocks
  EXPECT_EQ(shape("[\"a\\\"b\"]"), "(not taken)");  // an escape
  EXPECT_EQ(shape("[\"\xc3\xa9\"]"), "(not taken)");  // non-ASCII
  EXPECT_EQ(shape("[\"a\tb\"]"), "(not taken)");  // a tab in a string
  EXPECT_EQ(shape("[1,\x01]"), "(not taken)");  // a control character outside
  EXPECT_EQ(shape("[01]"), "(not taken)");  // a bad token
  EXPECT_EQ(shape("[truex]"), "(not taken)");
  EXPECT_EQ(shape("[\"abc]"), "(not taken)");  // no closing quote
  EXPECT_EQ(shape("   "), "(not taken)");  // no token
}

}  // namespace
}  // namespace polyipc::json
