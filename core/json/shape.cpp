// The shape pass: AVX-512 (BW for byte compares into 64-bit masks, VBMI for
// byte permutes, VBMI2 to compress the token bytes into a row), 64 bytes of
// text per step.
//
// Per block, as bit masks with bit i for byte i: quotes, whitespace and the
// six structural characters (each by a table look-up on the low nibble), the
// string interiors (the quotes' running parity), and the scalar bytes (what
// is left outside strings). A token starts at a structural character, an
// opening quote, or the first byte of a run of scalar bytes. The token bytes
// are compressed into a row, scalar starts written as '0'.
//
// Tokens are checked as follows. Strings hold no escape, no byte >= 0x80 and
// no control character (otherwise the pass gives up, so every string is
// well formed). A run of digits led by at most one '-', without a leading
// zero, is an integer, and a run led by a letter is a literal, both checked
// by masks. Any other run (a fraction or exponent, a run that may go on
// into the next block) is checked by a scalar look at its first byte, which
// must end exactly where the run does.
//
// A text of one block (up to 64 bytes, the common message) keeps its row in
// a register and compares it with the remembered rows there.
#include "core/json/shape.hpp"

#include <cstring>

#include "core/json/validate.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PI_SHAPE_PASS 1
#define PI_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,pclmul,popcnt,bmi,bmi2")))
#endif

namespace polyipc::json {

#if PI_SHAPE_PASS

namespace {

// Bytes that end a run of scalar bytes: whitespace, structural characters, quotes.
bool ends_run(unsigned char c) {
  switch (c) {
    case ' ': case '\t': case '\n': case '\r':
    case ',': case ':': case '[': case ']': case '{': case '}': case '"':
      return true;
    default:
      return false;
  }
}

// Whether the n bytes at p are exactly one number or literal.
bool scalar_ok(const char* p, size_t n) {
  switch (*p) {
    case 't': return n == 4 && std::memcmp(p, "true", 4) == 0;
    case 'f': return n == 5 && std::memcmp(p, "false", 5) == 0;
    case 'n': return n == 4 && std::memcmp(p, "null", 4) == 0;
    default: return number_end(p, n) == p + n;
  }
}

}  // namespace

bool shape_pass_available() noexcept {
  static const bool available = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") &&
                                __builtin_cpu_supports("avx512vbmi2") &&
                                __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("bmi2") &&
                                __builtin_cpu_supports("popcnt");
  return available;
}

namespace {
// Look-up tables by low nibble (vpshufb looks up within each 16-byte lane):
// the whitespace byte with that nibble, and the structural byte with that
// nibble once folded by | 0x20 ('[' -> '{', ']' -> '}'; the only other bytes
// that fold onto one, 0x0C and 0x1A, are control characters). 0x80 matches
// no byte below 0x80, and bytes from 0x80 up look up 0.
#define PI_LANES(...) __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__
constexpr uint8_t X = 0x80;
alignas(64) constexpr uint8_t kWhitespaceByNibble[64] = {
    PI_LANES(' ', X, X, X, X, X, X, X, X, '\t', '\n', X, X, '\r', X, X)};
alignas(64) constexpr uint8_t kStructuralByNibble[64] = {
    PI_LANES(X, X, X, X, X, X, X, X, X, X, ':', '{', ',', '}', X, X)};

// Literals, checked byte by byte from the one or two bytes before: a run
// led by a letter must start with t, f or n (kLiteralStart, by low nibble),
// go on with r, a or u after it (kSecondLetter, by the first letter's low
// nibble), and every later byte must be the one its two predecessors call
// for in "true", "false" or "null" (kLetterAfterPair, by the hash
// ((2 * a) ^ b) & 15 of the pair a, b, which is distinct for the ten pairs
// in these words). 0x80 (matching no byte) where a literal must end, and
// for pairs no literal has; a literal's byte and its pair are checked
// before the next byte's, so only the ten pairs ever decide.
alignas(64) constexpr uint8_t kLiteralStart[64] = {
    PI_LANES(X, X, X, X, 't', X, 'f', X, X, X, X, X, X, X, 'n', X)};
alignas(64) constexpr uint8_t kSecondLetter[64] = {
    PI_LANES(X, X, X, X, 'r', X, 'a', X, X, X, X, X, X, X, 'u', X)};
alignas(64) constexpr uint8_t kLetterAfterPair[64] = {
    PI_LANES(X, 'e', X, X, X, X, 'l', X, X, 'l', 'u', 'e', X, 'l', 's', X)};
#undef PI_LANES
// Indexes for the bytes one and two places back (their first bytes are masked to zero).
alignas(64) constexpr uint8_t kBack1[64] = {0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                                            15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                            31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46,
                                            47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62};
alignas(64) constexpr uint8_t kBack2[64] = {0,  0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                            14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                            30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
                                            46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61};

// Bit i set when an odd number of bits 0..i of x are set.
PI_AVX512 inline uint64_t prefix_xor(uint64_t x) {
  return static_cast<uint64_t>(
      _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(x)), _mm_set1_epi8(-1), 0)));
}
}  // namespace

namespace {

// What a block hands on to the next: whether it ended inside a string (all
// ones or zero), inside a run of scalar bytes (1 or 0).
struct Carry {
  uint64_t in_string = 0, run = 0;
};

// The tokens of the block at p (left bytes from p to the end of the text)
// as a mask, and each byte as it is named in the row. False when the pass
// cannot take the block or a token in it is not well formed.
//
// Everything that depends on the bytes alone comes first, so that only the
// string mask's chain stands between the load and the row: the text was
// usually written just before the call, so the load waits for those stores
// and the rest of the pass is on the caller's critical path.
PI_AVX512 inline __attribute__((always_inline)) bool scan(const char* p, size_t left, Carry& carry, uint64_t* tokens,
                                                         __m512i* named) {
  const __m512i bit5 = _mm512_set1_epi8(0x20), zero = _mm512_set1_epi8('0');
  const uint64_t valid = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
  // Zeros past the end, with no fault there; a full block by a plain load,
  // which (unlike a masked one) may take bytes from the store buffer.
  const __m512i v = left >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(valid, p);
  const uint64_t q = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
  const uint64_t unusual = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) | _mm512_movepi8_mask(v);
  const uint64_t control = _mm512_cmplt_epu8_mask(v, bit5) & valid;
  const uint64_t ws = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(_mm512_load_si512(kWhitespaceByNibble), v), v);
  const __m512i folded = _mm512_or_si512(v, bit5);
  const uint64_t structural =
      _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(_mm512_load_si512(kStructuralByNibble), folded), folded);
  const uint64_t digit = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, zero), _mm512_set1_epi8(10));
  const uint64_t minus = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('-'));
  const uint64_t zeros = _mm512_cmpeq_epi8_mask(v, zero);
  const __m512i back1 = _mm512_maskz_permutexvar_epi8(~uint64_t{1}, _mm512_load_si512(kBack1), v);
  const __m512i back2 = _mm512_maskz_permutexvar_epi8(~uint64_t{3}, _mm512_load_si512(kBack2), v);
  const uint64_t literal_start = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(_mm512_load_si512(kLiteralStart), v), v);
  const uint64_t wrong_second = _mm512_cmpneq_epi8_mask(_mm512_shuffle_epi8(_mm512_load_si512(kSecondLetter), back1), v);
  const __m512i pair = _mm512_ternarylogic_epi32(_mm512_add_epi8(back2, back2), back1, _mm512_set1_epi8(15), 0x28);
  const __m512i after_pair = _mm512_shuffle_epi8(_mm512_load_si512(kLetterAfterPair), pair);
  const uint64_t wrong_later = _mm512_cmpneq_epi8_mask(after_pair, v);
  const uint64_t pair_ends = _mm512_movepi8_mask(after_pair);  // a literal may end after this pair
  if (unusual | (control & ~ws)) return false;

  const uint64_t inside = prefix_xor(q) ^ carry.in_string;  // string bytes and opening quotes
  const uint64_t outside = valid & ~(inside | q);
  const uint64_t scalar = outside & ~(ws | structural);
  const uint64_t starts = scalar & ~((scalar << 1) | carry.run);
  const uint64_t negative = minus & starts;
  *tokens = (structural & outside) | (q & inside) | starts;
  *named = _mm512_mask_blend_epi8(starts, v, zero);
  if (control & inside) return false;  // a tab or line break in a string

  // Integers by mask: '-' only first and then a digit, no leading zero.
  const uint64_t leading_zero = ((starts & digit) | (negative << 1)) & zeros;
  if (((negative << 1) & ~digit) | ((leading_zero << 1) & digit)) return false;
  // Literals by mask (see kLetterAfterPair): the first byte, the second,
  // the later ones, and an end after a pair that may end one. A literal
  // that may go on into the next block is also looked at below.
  const uint64_t word_starts = starts & ~(digit | minus);
  const uint64_t words = scalar & ~(scalar + word_starts);  // every byte of a run led by a letter
  const uint64_t seconds = word_starts << 1;
  const uint64_t word_ends = (words << 1) & ~words;  // the byte after each
  if ((word_starts & ~literal_start) | (seconds & wrong_second) | (words & ~(word_starts | seconds) & wrong_later) |
      (word_ends & (seconds | ~pair_ends)))
    return false;
  // Every other number, and any run that may go on into the next block, by
  // a scalar look from its first byte. A run carried in from the previous
  // block was checked there, whole.
  const uint64_t carried = carry.run ? scalar & ~(scalar + 1) : 0;
  uint64_t other = scalar & ~carried & ((~(digit | negative) & ~words) | (uint64_t{1} << 63));
  while (other) {
    const unsigned first =
        63 - static_cast<unsigned>(__builtin_clzll(starts & (~uint64_t{0} >> (63 - __builtin_ctzll(other)))));
    const uint64_t after = ~scalar & (~uint64_t{0} << first);  // (bytes past the end are not scalar)
    size_t stop = after ? static_cast<size_t>(__builtin_ctzll(after)) : 64;
    if (stop == 64) {  // the run goes on into the next block
      while (stop < left && !ends_run(static_cast<unsigned char>(p[stop]))) ++stop;
    }
    if (!scalar_ok(p + first, stop - first)) return false;
    if (stop >= 64) break;  // the rest of the block is this run
    other &= ~uint64_t{0} << stop;
  }
  carry.in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
  carry.run = scalar >> 63;
  return true;
}

}  // namespace

PI_AVX512 bool shape_of(const char* data, size_t len, Shape* out) noexcept {
  Carry carry;
  uint32_t n = 0;
  for (size_t at = 0; at < len; at += 64) {
    uint64_t tokens;
    __m512i named;
    if (!scan(data + at, len - at, carry, &tokens, &named)) return false;
    const uint32_t count = static_cast<uint32_t>(__builtin_popcountll(tokens));
    if (n + count > Shape::kMaxTokens) return false;
    _mm512_storeu_si512(out->token + n, _mm512_maskz_compress_epi8(tokens, named));
    n += count;
  }
  if (carry.in_string || n == 0) return false;
  out->tokens = n;
  return true;
}

PI_AVX512 ShapeCache::Lookup ShapeCache::lookup(const char* data, size_t len, size_t max_depth,
                                                Shape* out) const noexcept {
  if (len > 64) {
    if (!shape_of(data, len, out)) return Lookup::kOutside;
    return contains(*out, max_depth) ? Lookup::kHit : Lookup::kMiss;
  }
  // One block: the row stays in a register (zeros after its tokens, as in the slots).
  Carry carry;
  uint64_t tokens;
  __m512i named;
  if (len == 0 || !scan(data, len, carry, &tokens, &named) || carry.in_string || tokens == 0)
    return Lookup::kOutside;
  const __m512i row = _mm512_maskz_compress_epi8(tokens, named);
  const uint32_t count = static_cast<uint32_t>(__builtin_popcountll(tokens));
  if (any_slot(count, max_depth, [&](const uint8_t* token) PI_AVX512 {
        return _mm512_cmpneq_epi8_mask(_mm512_load_si512(token), row) == 0;
      }))
    return Lookup::kHit;
  _mm512_storeu_si512(out->token, row);
  out->tokens = count;
  return Lookup::kMiss;
}

PI_AVX512 bool ShapeCache::contains(const Shape& shape, size_t max_depth) const noexcept {
  return any_slot(shape.tokens, max_depth, [&](const uint8_t* token) PI_AVX512 {
    for (uint32_t i = 0; i < shape.tokens; i += 64) {
      const uint32_t left = shape.tokens - i;
      const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
      if (_mm512_mask_cmpneq_epi8_mask(m, _mm512_loadu_si512(token + i), _mm512_loadu_si512(shape.token + i)))
        return false;
    }
    return true;
  });
}

// Whether a slot holding a shape of `tokens` tokens for max_depth has
// same(its token bytes). A seqlock read: what was compared counts only if no
// writer came in meanwhile (the token bytes are read plainly, as seqlocks do).
template <class Same>
PI_AVX512 inline bool ShapeCache::any_slot(uint32_t tokens, size_t max_depth, Same same) const noexcept {
  for (const Slot& slot : slots_) {
    const uint32_t version = slot.version.load(std::memory_order_acquire);
    if ((version & 1) || slot.tokens.load(std::memory_order_relaxed) != tokens ||
        slot.max_depth.load(std::memory_order_relaxed) != max_depth)
      continue;
    const bool equal = same(slot.token);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (equal && slot.version.load(std::memory_order_relaxed) == version) return true;
  }
  return false;
}

#else

bool shape_pass_available() noexcept { return false; }
bool shape_of(const char*, size_t, Shape*) noexcept { return false; }
bool ShapeCache::contains(const Shape&, size_t) const noexcept { return false; }
ShapeCache::Lookup ShapeCache::lookup(const char*, size_t, size_t, Shape*) const noexcept { return Lookup::kOutside; }

#endif

void ShapeCache::remember(const Shape& shape, size_t max_depth) noexcept {
  if (writing_.exchange(true, std::memory_order_acquire)) return;
  Slot& slot = slots_[next_.load(std::memory_order_relaxed) % kSlots];
  next_.store(next_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const uint32_t version = slot.version.load(std::memory_order_relaxed);
  slot.version.store(version + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.tokens.store(shape.tokens, std::memory_order_relaxed);
  slot.max_depth.store(max_depth, std::memory_order_relaxed);
  std::memcpy(slot.token, shape.token, shape.tokens);
  std::memset(slot.token + shape.tokens, 0, sizeof slot.token - shape.tokens);
  slot.version.store(version + 2, std::memory_order_release);
  writing_.store(false, std::memory_order_release);
}

}  // namespace polyipc::json
