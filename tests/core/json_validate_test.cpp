// Strict RFC 8259 validation (core/json/validate.hpp): what is accepted, what
// is rejected, and the exact offset and reason of every rejection.
//
// Every table case runs twice: as written (inputs up to 1 KiB take the
// copy-and-pad path) and behind 1100 spaces of leading whitespace (the
// in-place, bounds-checked path), where the expected offset moves by 1100.
#include "core/json/validate.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace polyipc::json {
namespace {

constexpr size_t kDepth = 512;  // POLYIPC_JSON_MAX_DEPTH
constexpr size_t kShift = 1100;  // > the size the validator copies, to reach the in-place path

const std::string kEmpty = "empty input";
const std::string kEof = "unexpected end of input";
const std::string kChar = "unexpected character";
const std::string kTrail = "trailing bytes after the value";
const std::string kCtrl = "control character in string";
const std::string kEsc = "invalid escape";
const std::string kSurr = "invalid surrogate escape";
const std::string kUtf8 = "invalid UTF-8 in string";
const std::string kNum = "invalid number";
const std::string kLit = "invalid literal";
const std::string kTooDeep = "nesting deeper than the limit";

// A string literal with its embedded NULs kept.
template <size_t N>
std::string S(const char (&a)[N]) {
  return std::string(a, N - 1);
}

// Validates from an exactly sized heap copy, so a sanitizer sees any read past len.
bool Check(const std::string& s, size_t depth, ValidationError* err) {
  std::unique_ptr<char[]> buf(new char[s.size() ? s.size() : 1]);
  if (!s.empty()) std::memcpy(buf.get(), s.data(), s.size());
  return validate(buf.get(), s.size(), depth, err);
}

struct Good {
  const char* name;
  std::string text;
};

struct Bad {
  const char* name;
  std::string text;
  size_t offset;
  const std::string* reason;
};

void PrintTo(const Good& g, std::ostream* os) { *os << g.name; }
void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }

std::string LongString(size_t n, char c = 'a') { return "\"" + std::string(n, c) + "\""; }

// ---- accepted ---------------------------------------------------------------

const std::vector<Good> kGood = {
    {"Zero", "0"},
    {"NegativeZero", "-0"},
    {"Integer", "123"},
    {"NegativeInteger", "-42"},
    {"HugeInteger", "123456789012345678901234567890123456789012345678901234567890"},
    {"Fraction", "1.5"},
    {"ZeroFraction", "0.0"},
    {"NegativeFraction", "-0.25"},
    {"Exponent", "1e10"},
    {"UpperExponent", "1E10"},
    {"ExponentPlus", "1e+2"},
    {"ExponentMinus", "1e-2"},
    {"ZeroExponent", "0e0"},
    {"FractionAndExponent", "-12.5E-007"},
    {"True", "true"},
    {"False", "false"},
    {"Null", "null"},
    {"EmptyString", "\"\""},
    {"PlainString", "\"hello world\""},
    {"AllShortEscapes", R"("\"\\\/\b\f\n\r\t")"},
    {"UnicodeEscapes", R"("\u0041\u00e9\u20AC\uFFFF\u0000")"},
    {"SurrogatePairEscape", R"("\uD83D\uDE00")"},
    {"SurrogatePairEscapeLowerCase", R"("\ud83d\ude00")"},
    {"SurrogatePairEscapeBounds", R"("\uD800\uDC00\uDBFF\uDFFF")"},
    {"EscapesAroundSurrogates", R"("\uD7FF\uE000")"},
    {"DelCharacterRaw", "\"\x7f\""},
    {"TwoByteUtf8", "\"caf\xc3\xa9\""},
    {"ThreeByteUtf8", "\"\xe2\x82\xac 10\""},
    {"FourByteUtf8Emoji", "\"\xf0\x9f\x98\x80\""},
    {"EmojiAsKey", "{\"\xf0\x9f\x98\x80\":\"\xf0\x9f\x91\x8d\"}"},
    {"Utf8LowestTwoByte", "\"\xc2\x80\""},
    {"Utf8HighestTwoByte", "\"\xdf\xbf\""},
    {"Utf8LowestThreeByte", "\"\xe0\xa0\x80\""},
    {"Utf8LastBeforeSurrogates", "\"\xed\x9f\xbf\""},
    {"Utf8FirstAfterSurrogates", "\"\xee\x80\x80\""},
    {"Utf8HighestThreeByte", "\"\xef\xbf\xbf\""},
    {"Utf8LowestFourByte", "\"\xf0\x90\x80\x80\""},
    {"Utf8FourByteF1", "\"\xf1\x80\x80\x80\""},
    {"Utf8FourByteF3", "\"\xf3\xbf\xbf\xbf\""},
    {"Utf8HighestCodePoint", "\"\xf4\x8f\xbf\xbf\""},
    {"LongAsciiString", LongString(100)},
    {"LongStringWithEscapesAndUtf8",
     "\"" + std::string(20, 'x') + "\\n" + std::string(17, 'y') + "\xc3\xa9" + std::string(30, 'z') +
         "\xf0\x9f\x98\x80\\u00e9\""},
    {"EmptyArray", "[]"},
    {"EmptyObject", "{}"},
    {"Array", "[1,\"two\",true,false,null,{},[]]"},
    {"Object", R"({"a":1,"b":"x","c":null,"d":[],"e":{}})"},
    {"Nested", R"({"a":[{"b":[1,{"c":{}}]},[[]]],"d":{"e":[true]}})"},
    {"DuplicateKeys", R"({"a":1,"a":2})"},
    {"SurroundingWhitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\n\r\t "},
    {"WhitespaceEverywhere", "[ 1 ,\n\t2 ,\r\n{ \"k\" :\n \"v\" } , [ ] ]"},
    {"TypicalMessage", R"({"id":12345,"name":"worker-7","ok":true,"vals":[1.5,-2,3e10]})"},
    {"ScalarsInArrays", "[0,-0,0.5,-1e-5,1E+5,\"\",true,false,null]"},
};

class Accepts : public ::testing::TestWithParam<Good> {};

TEST_P(Accepts, AsWritten) {
  ValidationError err;
  EXPECT_TRUE(Check(GetParam().text, kDepth, &err)) << "offset " << err.offset << ": " << err.reason;
}

TEST_P(Accepts, InPlacePathForLargeInput) {
  ValidationError err;
  const std::string s = std::string(kShift, ' ') + GetParam().text + std::string(kShift, '\n');
  EXPECT_TRUE(Check(s, kDepth, &err)) << "offset " << err.offset << ": " << err.reason;
}

INSTANTIATE_TEST_SUITE_P(Valid, Accepts, ::testing::ValuesIn(kGood),
                         [](const ::testing::TestParamInfo<Good>& i) { return std::string(i.param.name); });

// ---- rejected ---------------------------------------------------------------

const std::vector<Bad> kBad = {
    // empty
    {"EmptyInput", "", 0, &kEmpty},
    {"OnlySpaces", "   ", 3, &kEmpty},
    {"OnlyWhitespaceMix", " \t\r\n", 4, &kEmpty},
    // trailing bytes
    {"TrailingLetterAfterObject", "{}x", 2, &kTrail},
    {"TwoNumbers", "1 2", 2, &kTrail},
    {"TwoArrays", "[] []", 3, &kTrail},
    {"TrailingComma", "1,", 1, &kTrail},
    {"TwoStrings", "\"a\"\"b\"", 3, &kTrail},
    {"TrailingAfterLiteral", "nullx", 4, &kTrail},
    {"TrailingNul", S("{}\0"), 2, &kTrail},
    {"TrailingVerticalTab", "[1]\v", 3, &kTrail},
    {"HexNumber", "0x10", 1, &kTrail},
    {"TwoFractions", "1.5.3", 3, &kTrail},
    {"TrailingCloser", "[1]]", 3, &kTrail},
    // truncated
    {"TruncatedAfterColon", "{\"a\":", 5, &kEof},
    {"TruncatedOpenArray", "[", 1, &kEof},
    {"TruncatedOpenObject", "{", 1, &kEof},
    {"TruncatedAfterComma", "[1,", 3, &kEof},
    {"TruncatedAfterElement", "[1", 2, &kEof},
    {"TruncatedAfterMember", "{\"a\":1", 6, &kEof},
    {"TruncatedAfterKey", "{\"a\"", 4, &kEof},
    {"TruncatedInKey", "{\"ab", 4, &kEof},
    {"TruncatedString", "\"abc", 4, &kEof},
    {"TruncatedLongString", "\"" + std::string(40, 'a'), 41, &kEof},
    {"TruncatedLiteral", "tru", 3, &kEof},
    {"TruncatedFalse", "fals", 4, &kEof},
    {"TruncatedNull", "nul", 3, &kEof},
    {"TruncatedMinus", "-", 1, &kEof},
    {"TruncatedFraction", "1.", 2, &kEof},
    {"TruncatedExponent", "1e", 2, &kEof},
    {"TruncatedExponentSign", "1e+", 3, &kEof},
    {"TruncatedBackslash", "\"\\", 2, &kEof},
    {"TruncatedUnicodeEscape", "\"\\u12", 5, &kEof},
    {"TruncatedAfterHighSurrogate", "\"\\uD800", 7, &kEof},
    {"TruncatedAfterHighSurrogateBackslash", "\"\\uD800\\", 8, &kEof},
    {"TruncatedAfterHighSurrogateU", "\"\\uD800\\u", 9, &kEof},
    {"TruncatedLowSurrogate", "\"\\uD800\\uDC", 11, &kEof},
    {"TruncatedTwoByteUtf8AtEnd", "\"\xc3", 2, &kEof},
    {"TruncatedThreeByteUtf8AtEnd", "\"\xe2\x82", 3, &kEof},
    {"TruncatedFourByteUtf8AtEnd", "\"\xf0\x9f\x98", 4, &kEof},
    {"TruncatedDeepArrays", "[[[[", 4, &kEof},
    // unexpected character
    {"UnknownWord", "x", 0, &kChar},
    {"LeadingComma", "[,1]", 1, &kChar},
    {"TrailingCommaInArray", "[1,]", 3, &kChar},
    {"DoubleComma", "[1,,2]", 3, &kChar},
    {"CommaOnlyObject", "{,}", 1, &kChar},
    {"TrailingCommaInObject", "{\"a\":1,}", 7, &kChar},
    {"MissingColon", "{\"a\" 1}", 5, &kChar},
    {"DoubleColon", "{\"a\"::1}", 5, &kChar},
    {"MissingValue", "{\"a\":}", 5, &kChar},
    {"NumberKey", "{1:2}", 1, &kChar},
    {"UnquotedKey", "{a:2}", 1, &kChar},
    {"MissingComma", "[1 2]", 3, &kChar},
    {"ArrayClosedByBrace", "[1}", 2, &kChar},
    {"ObjectClosedByBracket", "{\"a\":1]", 6, &kChar},
    {"EmptyArrayClosedByBrace", "[}", 1, &kChar},
    {"EmptyObjectClosedByBracket", "{]", 1, &kChar},
    {"SingleQuotes", "'a'", 0, &kChar},
    {"ByteOrderMark", "\xef\xbb\xbf{}", 0, &kChar},
    {"NonAsciiOutsideString", "\xc3\xa9", 0, &kChar},
    {"NonAsciiInArray", "[\xc3\xa9]", 1, &kChar},
    {"VerticalTabIsNotWhitespace", "\v1", 0, &kChar},
    {"FormFeedIsNotWhitespace", "[\f1]", 1, &kChar},
    {"NulBeforeValue", S("[\0]"), 1, &kChar},
    {"LeadingDot", ".5", 0, &kChar},
    {"LeadingPlus", "+1", 0, &kChar},
    {"NaN", "NaN", 0, &kChar},
    {"Infinity", "Infinity", 0, &kChar},
    {"Comment", "[1,/*x*/2]", 3, &kChar},
    {"HexNumberInArray", "[0x1]", 2, &kChar},
    // invalid number
    {"LeadingZero", "01", 1, &kNum},
    {"DoubleZero", "00", 1, &kNum},
    {"NegativeLeadingZero", "-01", 2, &kNum},
    {"LeadingZeroInArray", "[01]", 2, &kNum},
    {"FractionWithoutDigits", "1.e5", 2, &kNum},
    {"FractionLetter", "1.x", 2, &kNum},
    {"MinusLetter", "-a", 1, &kNum},
    {"DoubleMinus", "--1", 1, &kNum},
    {"MinusDot", "-.5", 1, &kNum},
    {"MinusInfinity", "-Infinity", 1, &kNum},
    {"ExponentWithoutDigits", "1ex", 2, &kNum},
    {"ExponentSignWithoutDigits", "1e+x", 3, &kNum},
    {"ExponentInArrayWithoutDigits", "[1e]", 3, &kNum},
    // invalid literal
    {"LiteralWithSpace", "tru e", 3, &kLit},
    {"LiteralWrongCase", "trUe", 2, &kLit},
    {"LiteralWrongEnding", "falsy", 4, &kLit},
    {"NullUpperCaseL", "nulL", 3, &kLit},
    {"LiteralInArray", "[nil]", 2, &kLit},
    // control characters in strings
    {"ControlCharacter", "\"a\x01" "b\"", 2, &kCtrl},
    {"RawTab", "\"\t\"", 1, &kCtrl},
    {"RawNewline", "\"a\nb\"", 2, &kCtrl},
    {"RawNul", S("\"\0\""), 1, &kCtrl},
    {"RawUnitSeparator", "\"\x1f\"", 1, &kCtrl},
    {"ControlCharacterInKey", "{\"a\x02\":1}", 3, &kCtrl},
    {"ControlCharacterInLongString", "\"" + std::string(35, 'a') + "\x1b" + "\"", 36, &kCtrl},
    // invalid escapes
    {"EscapeX", "\"\\x41\"", 2, &kEsc},
    {"EscapeA", "\"\\a\"", 2, &kEsc},
    {"EscapeUpperU", "\"\\U0041\"", 2, &kEsc},
    {"EscapeSingleQuote", "\"\\'\"", 2, &kEsc},
    {"EscapeZero", "\"\\0\"", 2, &kEsc},
    {"EscapeBadHex", "\"\\u00G1\"", 5, &kEsc},
    {"EscapeHexSpace", "\"\\u 123\"", 3, &kEsc},
    {"EscapeShortHex", "\"\\u12\"", 5, &kEsc},
    {"EscapeRawNewline", "\"\\\n\"", 2, &kEsc},
    {"EscapeInLongString", "\"" + std::string(40, 'a') + "\\q\"", 42, &kEsc},
    {"LowSurrogateBadHex", "\"\\uD800\\uDCxx\"", 11, &kEsc},
    // surrogate escapes
    {"LoneHighSurrogate", "\"\\uD800\"", 7, &kSurr},
    {"LoneHighSurrogateThenText", "\"\\uD800x\"", 7, &kSurr},
    {"LoneLowSurrogate", "\"\\uDC00\"", 1, &kSurr},
    {"LoneLowSurrogateAfterText", "\"ab\\uDFFF\"", 3, &kSurr},
    {"ReversedSurrogates", "\"\\uDC00\\uD800\"", 1, &kSurr},
    {"HighSurrogateThenBmp", "\"\\uD800\\u0041\"", 7, &kSurr},
    {"HighSurrogateThenHigh", "\"\\uD800\\uDBFF\"", 7, &kSurr},
    {"HighSurrogateThenShortEscape", "\"\\uD800\\n\"", 7, &kSurr},
    {"HighSurrogateThenAboveLow", "\"\\uDBFF\\uE000\"", 7, &kSurr},
    {"LoneHighSurrogateInKey", "{\"\\uD83D\":1}", 8, &kSurr},
    // UTF-8
    {"Utf8StrayContinuation", "\"\x80\"", 1, &kUtf8},
    {"Utf8StrayContinuationBF", "\"a\xbf\"", 2, &kUtf8},
    {"Utf8OverlongTwoByteC0", "\"\xc0\x80\"", 1, &kUtf8},
    {"Utf8OverlongTwoByteC1", "\"\xc1\xbf\"", 1, &kUtf8},
    {"Utf8OverlongThreeByte", "\"\xe0\x80\x80\"", 2, &kUtf8},
    {"Utf8OverlongThreeByteHighest", "\"\xe0\x9f\xbf\"", 2, &kUtf8},
    {"Utf8OverlongFourByte", "\"\xf0\x80\x80\x80\"", 2, &kUtf8},
    {"Utf8OverlongFourByteHighest", "\"\xf0\x8f\xbf\xbf\"", 2, &kUtf8},
    {"Utf8EncodedHighSurrogate", "\"\xed\xa0\x80\"", 2, &kUtf8},
    {"Utf8EncodedLowSurrogate", "\"\xed\xbf\xbf\"", 2, &kUtf8},
    {"Utf8EncodedSurrogatePair", "\"\xed\xa0\xbd\xed\xb8\x80\"", 2, &kUtf8},
    {"Utf8AboveMaxF4", "\"\xf4\x90\x80\x80\"", 2, &kUtf8},
    {"Utf8AboveMaxF5", "\"\xf5\x80\x80\x80\"", 1, &kUtf8},
    {"Utf8LeadF7", "\"\xf7\xbf\xbf\xbf\"", 1, &kUtf8},
    {"Utf8LeadF8", "\"\xf8\x88\x80\x80\x80\"", 1, &kUtf8},
    {"Utf8LeadFE", "\"\xfe\"", 1, &kUtf8},
    {"Utf8LeadFF", "\"\xff\"", 1, &kUtf8},
    {"Utf8TruncatedTwoByteBeforeQuote", "\"\xc3\"", 2, &kUtf8},
    {"Utf8TruncatedThreeByteBeforeQuote", "\"\xe2\x82\"", 3, &kUtf8},
    {"Utf8TruncatedFourByteBeforeQuote", "\"\xf0\x9f\x98\"", 4, &kUtf8},
    {"Utf8TruncatedThreeByteBeforeAscii", "\"\xe2" "a\"", 2, &kUtf8},
    {"Utf8TruncatedFourByteBeforeAscii", "\"\xf0\x9f" "a\"", 3, &kUtf8},
    {"Utf8LeadAfterLead", "\"\xc3\xc3\xa9\"", 2, &kUtf8},
    {"Utf8ThirdByteNotContinuation", "\"\xe2\x82\xc0\"", 3, &kUtf8},
    {"Utf8FourthByteNotContinuation", "\"\xf0\x9f\x98\x20\"", 4, &kUtf8},
    {"Utf8InvalidInKey", "{\"\xc3\":1}", 3, &kUtf8},
    {"Utf8InvalidAfterValidInLongString",
     "\"" + std::string(20, 'a') + "\xc3\xa9" + std::string(20, 'b') + "\x80\"", 43, &kUtf8},
    {"Utf8InvalidLatin1", "\"caf\xe9\"", 5, &kUtf8},
};

class Rejects : public ::testing::TestWithParam<Bad> {};

TEST_P(Rejects, AsWritten) {
  const Bad& b = GetParam();
  ValidationError err;
  ASSERT_FALSE(Check(b.text, kDepth, &err));
  EXPECT_EQ(err.offset, b.offset);
  EXPECT_EQ(std::string(err.reason), *b.reason);
}

TEST_P(Rejects, InPlacePathForLargeInput) {
  const Bad& b = GetParam();
  ValidationError err;
  ASSERT_FALSE(Check(std::string(kShift, ' ') + b.text, kDepth, &err));
  EXPECT_EQ(err.offset, b.offset + kShift);
  EXPECT_EQ(std::string(err.reason), *b.reason);
}

INSTANTIATE_TEST_SUITE_P(Invalid, Rejects, ::testing::ValuesIn(kBad),
                         [](const ::testing::TestParamInfo<Bad>& i) { return std::string(i.param.name); });

// ---- depth ------------------------------------------------------------------

std::string Arrays(size_t n) { return std::string(n, '[') + std::string(n, ']'); }

std::string Objects(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += "{\"k\":";
  s += "0";
  s += std::string(n, '}');
  return s;
}

// Alternating [ and {"k": levels; closers in the matching order.
std::string Alternating(size_t n) {
  std::string open, close;
  for (size_t i = 0; i < n; ++i) {
    if (i % 2) {
      open += "{\"k\":";
      close.insert(close.begin(), '}');
    } else {
      open += "[1,";
      close.insert(close.begin(), ']');
    }
  }
  return open + "null" + close;
}

TEST(JsonValidateDepth, ArraysExactlyAtTheLimitAreAccepted) {
  ValidationError err;
  EXPECT_TRUE(Check(Arrays(kDepth), kDepth, &err)) << err.offset << ": " << err.reason;
}

TEST(JsonValidateDepth, ArraysOneDeeperAreRejectedAtTheBracket) {
  ValidationError err;
  ASSERT_FALSE(Check(Arrays(kDepth + 1), kDepth, &err));
  EXPECT_EQ(err.offset, kDepth);
  EXPECT_EQ(std::string(err.reason), kTooDeep);
}

TEST(JsonValidateDepth, ObjectsExactlyAtTheLimitAreAccepted) {
  ValidationError err;
  EXPECT_TRUE(Check(Objects(kDepth), kDepth, &err)) << err.offset << ": " << err.reason;
}

TEST(JsonValidateDepth, ObjectsOneDeeperAreRejectedAtTheBrace) {
  ValidationError err;
  ASSERT_FALSE(Check(Objects(kDepth + 1), kDepth, &err));
  EXPECT_EQ(err.offset, kDepth * 5);  // each level is {"k":
  EXPECT_EQ(std::string(err.reason), kTooDeep);
}

TEST(JsonValidateDepth, SmallLimits) {
  ValidationError err;
  EXPECT_TRUE(Check("1", 0, &err));
  EXPECT_TRUE(Check("\"s\"", 0, &err));
  ASSERT_FALSE(Check("[]", 0, &err));
  EXPECT_EQ(err.offset, 0u);
  EXPECT_EQ(std::string(err.reason), kTooDeep);
  EXPECT_TRUE(Check("[1,2]", 1, &err));
  ASSERT_FALSE(Check("[1,[2]]", 1, &err));
  EXPECT_EQ(err.offset, 3u);
  ASSERT_FALSE(Check("{\"a\":{}}", 1, &err));
  EXPECT_EQ(err.offset, 5u);
  EXPECT_TRUE(Check("[[],{},[]]", 2, &err));  // siblings do not add up
}

TEST(JsonValidateDepth, MixedNestingAcrossManyLevelsKeepsContainerKinds) {
  // 300 levels cross several 64-level words of the explicit stack.
  ValidationError err;
  const std::string s = Alternating(300);
  EXPECT_TRUE(Check(s, kDepth, &err)) << err.offset << ": " << err.reason;
  EXPECT_TRUE(Check(std::string(kShift, ' ') + s, kDepth, &err)) << err.offset << ": " << err.reason;
  ASSERT_FALSE(Check(Alternating(300), 299, &err));
  EXPECT_EQ(std::string(err.reason), kTooDeep);
}

TEST(JsonValidateDepth, WrongCloserDeepInsideIsFound) {
  std::string s = Alternating(200);
  // The innermost closer belongs to level 200 (an object, i odd = 199) -> '}'.
  const size_t inner = s.find("null") + 4;
  ASSERT_EQ(s[inner], '}');
  s[inner] = ']';
  ValidationError err;
  ASSERT_FALSE(Check(s, kDepth, &err));
  EXPECT_EQ(err.offset, inner);
  EXPECT_EQ(std::string(err.reason), kChar);
  // A closer 70 levels out (across a word boundary of the stack) swapped.
  s = Alternating(200);
  const size_t far = inner + 70;
  s[far] = s[far] == '}' ? ']' : '}';
  ASSERT_FALSE(Check(s, kDepth, &err));
  EXPECT_EQ(err.offset, far);
}

TEST(JsonValidateDepth, HundredThousandOpenBracketsAreRejectedWithoutCrashing) {
  ValidationError err;
  const std::string s(100000, '[');
  ASSERT_FALSE(Check(s, kDepth, &err));
  EXPECT_EQ(err.offset, kDepth);
  EXPECT_EQ(std::string(err.reason), kTooDeep);
  const std::string o = [] {
    std::string t;
    for (int i = 0; i < 100000; ++i) t += "{\"a\":";
    return t;
  }();
  ASSERT_FALSE(Check(o, kDepth, &err));
  EXPECT_EQ(err.offset, kDepth * 5);
}

TEST(JsonValidateDepth, HundredThousandLevelsWithAHugeLimitStillTerminate) {
  // Nesting beyond the validator's fixed stack (16384 levels) is rejected.
  ValidationError err;
  ASSERT_FALSE(Check(Arrays(100000), SIZE_MAX, &err));
  EXPECT_EQ(err.offset, 16384u);
  EXPECT_EQ(std::string(err.reason), kTooDeep);
  EXPECT_TRUE(Check(Arrays(16384), SIZE_MAX, &err));
}

// ---- boundaries -------------------------------------------------------------

TEST(JsonValidateBounds, NeverReadsPastLen) {
  ValidationError err;
  // The bytes after len would complete or extend the value if read.
  const char* t = "12345";
  EXPECT_TRUE(validate(t, 2, kDepth, &err));
  const char* u = "[1]";
  ASSERT_FALSE(validate(u, 2, kDepth, &err));
  EXPECT_EQ(err.offset, 2u);
  EXPECT_EQ(std::string(err.reason), kEof);
  const char* v = "true";
  ASSERT_FALSE(validate(v, 3, kDepth, &err));
  EXPECT_EQ(err.offset, 3u);
  EXPECT_EQ(std::string(err.reason), kEof);
  for (const size_t n : {5u, 17u, 40u, 2000u}) {
    const std::string s = LongString(n);  // closing quote at n + 1
    ASSERT_FALSE(validate(s.data(), n + 1, kDepth, &err)) << n;
    EXPECT_EQ(err.offset, n + 1);
    EXPECT_EQ(std::string(err.reason), kEof);
    EXPECT_TRUE(validate(s.data(), n + 2, kDepth, &err));
  }
}

TEST(JsonValidateBounds, EveryPrefixOfAValidDocumentIsRejectedAsTruncated) {
  const std::string doc =
      " {\"id\":12345,\"name\":\"w\xc3\xa9rker-7 \xf0\x9f\x98\x80\",\"esc\":\"\\uD83D\\uDE00\\n\","
      "\"ok\":true,\"no\":false,\"nil\":null,\"vals\":[1.5,-2,3e10,0,-0.5E+3],\"o\":{}} ";
  ValidationError err;
  ASSERT_TRUE(Check(doc, kDepth, &err)) << err.offset << ": " << err.reason;
  const size_t last = doc.size() - 1;  // without the trailing space it is still valid
  for (size_t n = 0; n < last; ++n) {
    ASSERT_FALSE(Check(doc.substr(0, n), kDepth, &err)) << "prefix " << n;
    // A prefix ending inside a number may be a shorter valid-looking number
    // followed by the end: still "unexpected end of input" at n, because the
    // enclosing object is open.
    EXPECT_EQ(err.offset, n) << "prefix " << n;
    EXPECT_EQ(std::string(err.reason), n <= 1 ? kEmpty : kEof) << "prefix " << n;
  }
}

TEST(JsonValidateBounds, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(validate("[", 1, kDepth, nullptr));
  EXPECT_TRUE(validate("[]", 2, kDepth, nullptr));
  EXPECT_FALSE(validate(nullptr, 0, kDepth, nullptr));
}

TEST(JsonValidateBounds, LargeDocumentsAreValidatedInPlace) {
  std::string doc = "[";
  for (int i = 0; i < 20000; ++i) {
    if (i) doc += ',';
    doc += "{\"id\":" + std::to_string(i) + ",\"name\":\"worker-\xc3\xa9\",\"ok\":true,\"v\":[1.5,-2,3e10]}";
  }
  doc += "]";
  ValidationError err;
  EXPECT_TRUE(Check(doc, kDepth, &err)) << err.offset << ": " << err.reason;
  const size_t pos = doc.size() / 2;
  const size_t bad = doc.find("\xc3\xa9", pos) + 1;
  doc[bad] = 'x';  // breaks the two-byte sequence: the lead is followed by 'x'
  ASSERT_FALSE(Check(doc, kDepth, &err));
  EXPECT_EQ(err.offset, bad);
  EXPECT_EQ(std::string(err.reason), kUtf8);
}

// Every single-byte string body: which bytes are valid on their own.
TEST(JsonValidateUtf8, EverySingleByteInAString) {
  for (int b = 0; b < 256; ++b) {
    std::string s = "\"";
    s += static_cast<char>(b);
    s += "\"";
    ValidationError err;
    const bool ok = Check(s, kDepth, &err);
    const bool want = b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
    EXPECT_EQ(ok, want) << "byte " << b;
    if (!want && b != '"' && b != '\\') {
      EXPECT_EQ(err.offset, b >= 0xC2 && b <= 0xF4 ? 2u : 1u) << "byte " << b;
    }
  }
}

// Every two-byte sequence C2..DF xx, and the first continuation of E0..F4.
TEST(JsonValidateUtf8, FirstContinuationRangesFollowUnicodeTable3_7) {
  for (int lead = 0xC2; lead <= 0xF4; ++lead) {
    int lo = 0x80, hi = 0xBF;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    const int len = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    for (int b1 = 0; b1 < 256; ++b1) {
      std::string s = "\"";
      s += static_cast<char>(lead);
      s += static_cast<char>(b1);
      for (int i = 2; i < len; ++i) s += '\x80';
      s += "\"";
      ValidationError err;
      const bool ok = Check(s, kDepth, &err);
      EXPECT_EQ(ok, b1 >= lo && b1 <= hi) << std::hex << lead << " " << b1;
      if (!ok) {
        EXPECT_EQ(err.offset, 2u) << std::hex << lead << " " << b1;
      }
    }
  }
}

}  // namespace
}  // namespace polyipc::json
