// Strict RFC 8259 validator: one hand-written, non-recursive pass.
//
// Shape: a goto state machine over [p, e) with an explicit nesting stack of
// one bit per level (1 = object, 0 = array). No heap, no recursion, so
// 100,000 '[' cost 100,000 bytes of scanning and nothing else.
//
// End of input is seen as a virtual NUL byte at e. NUL is valid nowhere in
// JSON (a raw control character inside strings, unexpected outside), so no
// state has to test for the end separately: whatever rejects the NUL reports
// its offset, and an offset equal to len is turned into "unexpected end of
// input". Small inputs (the common case: one queue message) are copied into a
// stack buffer with a real NUL and zero padding after them, which removes the
// bounds checks from every read (Run<true>); larger ones are read in place
// with a check before each read (Run<false>). Both instantiate the same code.
//
// Offsets: err->offset is the first byte that makes the text wrong; when the
// text stops where more is required, it is len ("unexpected end of input").
// Conventions where "first wrong byte" needs a choice:
//  - a bad escape letter or hex digit: the offset of that letter/digit;
//  - a lone low surrogate escape: the offset of its backslash;
//  - a high surrogate escape not followed by a low one: the offset of the
//    byte right after the high surrogate's four hex digits;
//  - a bad UTF-8 sequence: the lead byte if it can never start a sequence
//    (80..C1, F5..FF), else the first continuation byte out of range (this
//    is where overlongs, UTF-8-encoded surrogates and > U+10FFFF are caught).
//
// max_depth is honoured up to kStackLevels (16384) levels; a larger value
// behaves as 16384 (the stack is a fixed 2 KiB bitset on the C++ stack).
#include "core/json/validate.hpp"

#include "core/json/shape.hpp"
#include "core/memcopy.hpp"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace polyipc::json {
namespace {

constexpr size_t kStackLevels = 16384;
constexpr size_t kStackWords = kStackLevels / 64;
constexpr size_t kSmall = 1024;  // inputs up to this size are copied and padded
constexpr size_t kPad = 32;      // zero bytes after the copy (>= 16 for SIMD loads)

constexpr const char* R_EMPTY = "empty input";
constexpr const char* R_EOF = "unexpected end of input";
constexpr const char* R_CHAR = "unexpected character";
constexpr const char* R_TRAIL = "trailing bytes after the value";
constexpr const char* R_CTRL = "control character in string";
constexpr const char* R_ESC = "invalid escape";
constexpr const char* R_SURR = "invalid surrogate escape";
constexpr const char* R_UTF8 = "invalid UTF-8 in string";
constexpr const char* R_NUM = "invalid number";
constexpr const char* R_LIT = "invalid literal";
constexpr const char* R_DEPTH = "nesting deeper than the limit";

// What a byte can start where a value is expected.
enum : uint8_t { C_BAD, C_STR, C_NUM, C_OBJ, C_ARR, C_TRUE, C_FALSE, C_NULL };

struct Tables {
  uint8_t plain[256];  // 1: a string holds it as-is (0x20..0x7F but '"', '\\')
  uint8_t hex[256];    // hex digit value, or 0xFF
  uint8_t start[256];  // C_*
  uint8_t numtail[256];  // 1: '.', 'e', 'E' or a digit (after a leading 0): more number to check
  constexpr Tables() : plain(), hex(), start(), numtail() {
    for (int c = 0; c < 256; ++c) {
      plain[c] = (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') ? 1 : 0;
      hex[c] = 0xFF;
      start[c] = C_BAD;
    }
    for (int c = '0'; c <= '9'; ++c) hex[c] = static_cast<uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) hex[c] = static_cast<uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) hex[c] = static_cast<uint8_t>(c - 'A' + 10);
    for (int c = '0'; c <= '9'; ++c) start[c] = C_NUM;
    start[static_cast<int>('-')] = C_NUM;
    start[static_cast<int>('"')] = C_STR;
    start[static_cast<int>('{')] = C_OBJ;
    start[static_cast<int>('[')] = C_ARR;
    start[static_cast<int>('t')] = C_TRUE;
    start[static_cast<int>('f')] = C_FALSE;
    start[static_cast<int>('n')] = C_NULL;
    for (int c = '0'; c <= '9'; ++c) numtail[c] = 1;
    numtail[static_cast<int>('.')] = numtail[static_cast<int>('e')] = numtail[static_cast<int>('E')] = 1;
  }
};
alignas(64) constexpr Tables kT{};

inline bool is_digit(unsigned c) { return c - '0' < 10u; }

// ' ', '\t', '\n', '\r' (c <= ' ' must be tested first)
constexpr uint64_t kWsMask = (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r');
inline bool is_ws_low(unsigned c) { return (kWsMask >> c) & 1u; }

#define PI_LIKELY(x) __builtin_expect(!!(x), 1)
#define PI_UNLIKELY(x) __builtin_expect(!!(x), 0)

template <bool kPadded>
class Run {
 public:
  Run(const char* data, size_t len) : b_(data), e_(data + len) {}

  // The byte at p, or 0 at the end (a real 0 when padded).
  inline unsigned at(const char* p) const {
    if (!kPadded && p == e_) return 0;
    return static_cast<unsigned char>(*p);
  }

  const char* skip_ws(const char* p) const {
    for (;;) {
      const unsigned c = at(p);
      if (!(c <= ' ' && is_ws_low(c))) return p;
      ++p;
    }
  }

  // Four hex digits at p.
  inline const char* hex4(const char* p, unsigned* out) {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i, ++p) {
      const unsigned h = kT.hex[at(p)];
      if (h == 0xFF) return fail(p, R_ESC);
      v = (v << 4) | h;
    }
    *out = v;
    return p;
  }

  // p just after a backslash in a string.
  const char* escape(const char* p) {
    switch (at(p)) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 1;
      case 'u':
        break;
      default:
        return fail(p, R_ESC);
    }
    unsigned cu = 0;
    const char* q = hex4(p + 1, &cu);
    if (!q) return nullptr;
    if (cu < 0xD800 || cu > 0xDFFF) return q;
    if (cu >= 0xDC00) return fail(p - 1, R_SURR);  // low surrogate first
    // high surrogate: \uDC00..\uDFFF must follow at q
    if (at(q) != '\\') return fail(q, R_SURR);
    if (at(q + 1) != 'u') return fail(q + 1 == e_ ? e_ : q, R_SURR);
    unsigned lo = 0;
    const char* r = hex4(q + 2, &lo);
    if (!r) return nullptr;
    if (lo < 0xDC00 || lo > 0xDFFF) return fail(q, R_SURR);
    return r;
  }

  // p at a byte >= 0x80 in a string. Unicode Table 3-7.
  const char* utf8(const char* p) {
    const unsigned b0 = at(p);
    unsigned n;                  // continuation bytes
    unsigned lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (b0 < 0xC2) {             // stray continuation byte, or overlong C0/C1
      return fail(p, R_UTF8);
    } else if (b0 < 0xE0) {
      n = 1;
    } else if (b0 < 0xF0) {
      n = 2;
      if (b0 == 0xE0) lo = 0xA0;       // overlong
      else if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 < 0xF5) {
      n = 3;
      if (b0 == 0xF0) lo = 0x90;       // overlong
      else if (b0 == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
      return fail(p, R_UTF8);
    }
    const unsigned b1 = at(p + 1);
    if (b1 < lo || b1 > hi) return fail(p + 1, R_UTF8);
    for (unsigned i = 2; i <= n; ++i)
      if ((at(p + i) & 0xC0) != 0x80) return fail(p + i, R_UTF8);
    return p + n + 1;
  }

#if defined(__SSE2__)
  // Bit i set when p[i] ends a run of plain string bytes: '"', '\\', a
  // control byte, or a byte >= 0x80 (the signed compare catches those too).
  static inline unsigned special_mask(const char* p) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                   _mm_cmpgt_epi8(_mm_set1_epi8(0x20), v));
    return static_cast<unsigned>(_mm_movemask_epi8(m));
  }
#endif

  // p just after the opening quote; returns the byte after the closing one.
  inline __attribute__((always_inline)) const char* string(const char* p) {
    for (;;) {
#if defined(__SSE2__)
      if (kPadded) {
        // Padded input can always be read 16 bytes ahead. The first block's
        // mask is read by predicted bit tests, not a bit scan: the quote's
        // position then comes from the branch predictor, so the next token's
        // loads need not wait for the vector compare (-20% on a 64 B message).
        const unsigned m = special_mask(p);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
          if (m & (1u << i)) {
            p += i;
            goto special;
          }
        }
        p += 16;
      } else
#endif
      {
        // Unpadded input (over 1 KiB) may not read ahead: the first 16 bytes one by one.
        for (int i = 0; i < 16; ++i) {
          if (!kT.plain[at(p)]) goto special;
          ++p;
        }
      }
#if defined(__SSE2__)
      for (;;) {
        if (!kPadded && e_ - p < 16) goto tail;
        if (const unsigned m = special_mask(p)) {
          p += __builtin_ctz(m);
          goto special;
        }
        p += 16;
      }
#else
      for (;;) {
        if (!kPadded && e_ - p < 8) goto tail;
        uint64_t v;
        std::memcpy(&v, p, 8);
        constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
        const uint64_t xq = v ^ (k01 * '"'), xb = v ^ (k01 * '\\');
        uint64_t m = ((xq - k01) & ~xq) | ((xb - k01) & ~xb) | ((v - k01 * 0x20) & ~v) | v;
        m &= k80;
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
          p += __builtin_ctzll(m) >> 3;
#else
          while (kT.plain[static_cast<unsigned char>(*p)]) ++p;
#endif
          goto special;
        }
        p += 8;
      }
#endif
    tail:
      while (kT.plain[at(p)]) ++p;
    special: {
      const unsigned c = at(p);
      if (PI_LIKELY(c == '"')) return p + 1;
      if (c == '\\') {
        p = escape(p + 1);
      } else if (c < 0x20) {
        return fail(p, R_CTRL);  // (the end of input lands here too)
      } else {
        p = utf8(p);
      }
      if (!p) return nullptr;
    }
    }
  }

  // p at '-' or a digit.
  inline __attribute__((always_inline)) const char* number(const char* p) {
    unsigned c = at(p);
    if (c == '-') c = at(++p);
    if (PI_LIKELY(c - '1' < 9u)) {
      do c = at(++p); while (is_digit(c));
    } else if (c == '0') {
      c = at(++p);
    } else {
      return fail(p, R_NUM);
    }
    if (PI_LIKELY(!kT.numtail[c])) return p;
    return number_tail(p);
  }

  // p just after the integer part, at '.', 'e', 'E' or a digit.
  const char* number_tail(const char* p) {
    unsigned c = at(p);
    if (is_digit(c)) return fail(p, R_NUM);  // after a leading zero: "01", "-00"
    if (c == '.') {
      c = at(++p);
      if (!is_digit(c)) return fail(p, R_NUM);
      do c = at(++p); while (is_digit(c));
    }
    if ((c | 0x20) == 'e') {
      c = at(++p);
      if (c == '+' || c == '-') c = at(++p);
      if (!is_digit(c)) return fail(p, R_NUM);
      do c = at(++p); while (is_digit(c));
    }
    return p;
  }

  // Literal lit (n bytes) at p.
  inline __attribute__((always_inline)) const char* literal(const char* p, const char* lit, size_t n) {
    if ((kPadded || static_cast<size_t>(e_ - p) >= n) && std::memcmp(p, lit, n) == 0) return p + n;
    for (size_t i = 0;; ++i)
      if (at(p + i) != static_cast<unsigned char>(lit[i])) return fail(p + i, R_LIT);
  }

  bool parse(size_t limit) {
    const char* p = b_;
    uint64_t stack[kStackWords];  // bit i: the container at level i+1 is an object
    size_t depth = 0;
    unsigned closer = 0;  // '}' or ']' of the innermost open container
    unsigned c;

    p = skip_ws(p);
    if (p == e_) {
      fail_at_ = e_;
      fail_reason_ = R_EMPTY;
      return false;
    }
    c = at(p);
    if (c != '{' && c != '[') {  // a scalar: no container, so 'after' never sees depth 0
      switch (kT.start[c]) {
        case C_STR: p = string(p + 1); break;
        case C_NUM: p = number(p); break;
        case C_TRUE: p = literal(p, "true", 4); break;
        case C_FALSE: p = literal(p, "false", 5); break;
        case C_NULL: p = literal(p, "null", 4); break;
        default: return fail(p, R_CHAR), false;
      }
      if (!p) return false;
      goto done;
    }

  value:  // c = *p, the first byte of a value
    switch (kT.start[c]) {
      case C_STR:
        p = string(p + 1);
        if (!p) return false;
        goto after;
      case C_NUM:
        p = number(p);
        if (!p) return false;
        goto after;
      case C_OBJ:
      case C_ARR: {
        if (PI_UNLIKELY(depth >= limit)) return fail(p, R_DEPTH), false;
        const bool obj = (c == '{');
        closer = obj ? '}' : ']';
        const size_t w = depth >> 6;
        const uint64_t bit = uint64_t{1} << (depth & 63);
        if ((depth & 63) == 0) stack[w] = obj ? bit : 0;  // first use of this word
        else if (obj) stack[w] |= bit;
        else stack[w] &= ~bit;
        ++depth;
        c = at(++p);
        if (PI_UNLIKELY(c <= ' ')) {
          p = skip_ws(p);
          c = at(p);
        }
        if (c == closer) goto close;
        if (!obj) goto value;
        if (c == '"') goto key;
        goto unexpected;
      }
      case C_TRUE:
        p = literal(p, "true", 4);
        if (!p) return false;
        goto after;
      case C_FALSE:
        p = literal(p, "false", 5);
        if (!p) return false;
        goto after;
      case C_NULL:
        p = literal(p, "null", 4);
        if (!p) return false;
        goto after;
      case C_BAD:
        goto unexpected;
      default:
        __builtin_unreachable();
    }

  key:  // p at the opening quote of a member name
    p = string(p + 1);
    if (!p) return false;
    c = at(p);
    if (PI_UNLIKELY(c != ':')) {
      p = skip_ws(p);
      if (at(p) != ':') goto unexpected;
    }
    c = at(++p);
    if (PI_UNLIKELY(c <= ' ')) {
      p = skip_ws(p);
      c = at(p);
    }
    goto value;

  close:  // p at the closing bracket of the innermost container
    ++p;
    if (PI_UNLIKELY(--depth == 0)) goto done;
    closer = ((stack[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1u) ? '}' : ']';
    // fall through
  after:  // a value inside a container ended just before p (depth >= 1)
    c = at(p);
    if (PI_UNLIKELY(c <= ' ')) {
      p = skip_ws(p);
      c = at(p);
    }
    if (c == ',') {
      c = at(++p);
      if (PI_UNLIKELY(c <= ' ')) {
        p = skip_ws(p);
        c = at(p);
      }
      if (closer == ']') goto value;
      if (c == '"') goto key;
      goto unexpected;
    }
    if (c == closer) goto close;
    // fall through
  unexpected:
    return fail(p, R_CHAR), false;

  done:  // the top-level value ended just before p
    p = skip_ws(p);
    if (p != e_) return fail(p, R_TRAIL), false;
    return true;
  }

  const char* fail_at_ = nullptr;
  const char* fail_reason_ = nullptr;

 private:
  __attribute__((noinline, cold)) const char* fail(const char* p, const char* reason) {
    fail_at_ = p;
    fail_reason_ = reason;
    return nullptr;
  }

  const char* const b_;
  const char* const e_;
};

template <bool kPadded>
inline __attribute__((always_inline)) bool run(const char* data, size_t len, size_t limit, ValidationError* err) {
  Run<kPadded> r(data, len);
  if (PI_LIKELY(r.parse(limit))) return true;
  if (err) {
    err->offset = static_cast<size_t>(r.fail_at_ - data);
    err->reason = (err->offset == len && r.fail_reason_ != R_EMPTY) ? R_EOF : r.fail_reason_;
  }
  return false;
}

}  // namespace

bool valid_utf8(const char* data, size_t len, size_t* bad_offset) noexcept {
  Run<false> r(data, len);
  for (const char* p = data, *e = data + len; p < e;) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    p = r.utf8(p);
    if (!p) {
      if (bad_offset) *bad_offset = static_cast<size_t>(r.fail_at_ - data);
      return false;
    }
  }
  return true;
}

const char* number_end(const char* p, size_t len) noexcept {
  Run<false> r(p, len);
  return r.number(p);
}

bool validate(const char* data, size_t len, size_t max_depth, ValidationError* err, ShapeCache* shapes) noexcept {
  const size_t limit = max_depth < kStackLevels ? max_depth : kStackLevels;
  Shape shape;
  bool shaped = false;
  if (shapes && len <= kSmall && shapes->worth_a_look()) {
    const ShapeCache::Lookup l = shapes->lookup(data, len, limit, &shape);
    if (l == ShapeCache::Lookup::kHit) {
      shapes->hit();
      return true;
    }
    shaped = l == ShapeCache::Lookup::kMiss;
    shapes->missed();
  }
  bool ok;
  if (len <= kSmall) {
    alignas(16) char buf[kSmall + kPad];
    copy_small(buf, data, len);
    std::memset(buf + len, 0, kPad);
    ok = run<true>(buf, len, limit, err);
  } else {
    ok = run<false>(data, len, limit, err);
  }
  if (ok && shaped) shapes->remember(shape, limit);
  return ok;
}

}  // namespace polyipc::json
