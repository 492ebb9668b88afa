// The shape pass: AVX-512 (BW for byte compares into 64-bit masks, VBMI2
// to compress the token bytes into a row), 64 bytes of text per step.
//
// Per block, as bit masks with bit i for byte i: quotes, whitespace and the
// six structural characters (each by a table look-up on the low nibble), the
// string interiors (the quotes' running parity), and the scalar bytes (what
// is left outside strings). A token starts at a structural character, an
// opening quote, or the first byte of a run of scalar bytes. The token bytes
// are compressed into Shape::token, scalar starts written as '0'.
//
// Tokens are checked as follows. Strings hold no escape, no byte >= 0x80 and
// no control character (otherwise the pass gives up, so every string is
// well formed). A run of digits led by at most one '-', without a leading
// zero, is an integer, checked by masks. Any other run (a literal, a
// fraction or exponent, a run that goes on into the next block) is checked
// by a scalar look at its first byte, which must end exactly where the run
// does.
#include "core/json/shape.hpp"

#include <cstring>

#include "core/json/validate.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PI_SHAPE_PASS 1
#define PI_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi2,pclmul,popcnt,bmi,bmi2")))
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
  static const bool available = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
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
#undef PI_LANES

// Bit i set when an odd number of bits 0..i of x are set.
PI_AVX512 inline uint64_t prefix_xor(uint64_t x) {
  return static_cast<uint64_t>(
      _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(x)), _mm_set1_epi8(-1), 0)));
}
}  // namespace

PI_AVX512 bool shape_of(const char* data, size_t len, Shape* out) noexcept {
  const __m512i ws_table = _mm512_load_si512(kWhitespaceByNibble);
  const __m512i st_table = _mm512_load_si512(kStructuralByNibble);
  const __m512i quote = _mm512_set1_epi8('"'), backslash = _mm512_set1_epi8('\\'), bit5 = _mm512_set1_epi8(0x20);
  const __m512i zero = _mm512_set1_epi8('0'), ten = _mm512_set1_epi8(10), minus = _mm512_set1_epi8('-');
  uint64_t in_string = 0;  // all ones when the previous block ended inside a string
  uint64_t run_carry = 0;  // 1 when it ended inside a run of scalar bytes
  uint32_t n = 0;
  for (size_t at = 0; at < len; at += 64) {
    const char* p = data + at;
    const uint64_t valid = len - at >= 64 ? ~uint64_t{0} : (uint64_t{1} << (len - at)) - 1;
    // Zeros past len, with no fault there; a full block by a plain load, which
    // (unlike a masked one) may take bytes the caller just wrote from the store buffer.
    const __m512i v = len - at >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(valid, p);
    const uint64_t q = _mm512_cmpeq_epi8_mask(v, quote) & valid;
    const uint64_t unusual = (_mm512_cmpeq_epi8_mask(v, backslash) | _mm512_movepi8_mask(v)) & valid;
    const uint64_t control = _mm512_cmplt_epu8_mask(v, bit5) & valid;
    const uint64_t ws = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(ws_table, v), v);
    const __m512i folded = _mm512_or_si512(v, bit5);
    const uint64_t structural = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(st_table, folded), folded);
    if (unusual | (control & ~ws)) return false;
    const uint64_t inside = prefix_xor(q) ^ in_string;  // string bytes and opening quotes
    in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    if (control & inside) return false;  // a tab or line break in a string
    const uint64_t outside = valid & ~(inside | q);
    const uint64_t scalar = outside & ~ws & ~structural;
    const uint64_t starts = scalar & ~((scalar << 1) | run_carry);
    const uint64_t tokens = (structural & outside) | (q & inside) | starts;

    const uint32_t count = static_cast<uint32_t>(__builtin_popcountll(tokens));
    if (n + count > Shape::kMaxTokens) return false;
    const __m512i named = _mm512_mask_blend_epi8(starts, v, zero);
    _mm512_storeu_si512(out->token + n, _mm512_maskz_compress_epi8(tokens, named));
    n += count;

    // Integers by mask: '-' only first and then a digit, no leading zero.
    const uint64_t digit = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, zero), ten);
    const uint64_t negative = _mm512_cmpeq_epi8_mask(v, minus) & starts;
    const uint64_t leading_zero = ((starts & digit) | (negative << 1)) & _mm512_cmpeq_epi8_mask(v, zero);
    if (((negative << 1) & ~digit) | ((leading_zero << 1) & digit)) return false;
    // Every other run, from its first byte. A run carried in from the
    // previous block was checked there, whole.
    const uint64_t carried = run_carry ? scalar & ~(scalar + 1) : 0;
    uint64_t other = (scalar & ~carried) & (~(digit | negative) | (uint64_t{1} << 63));
    while (other) {
      const unsigned first = 63 - static_cast<unsigned>(__builtin_clzll(starts & (~uint64_t{0} >> (63 - __builtin_ctzll(other)))));
      const uint64_t after = ~scalar & (~uint64_t{0} << first);  // (bytes past len are not scalar)
      size_t stop = after ? static_cast<size_t>(__builtin_ctzll(after)) : 64;
      if (stop == 64) {  // the run goes on into the next block
        while (at + stop < len && !ends_run(static_cast<unsigned char>(p[stop]))) ++stop;
      }
      if (!scalar_ok(p + first, stop - first)) return false;
      if (stop >= 64) break;  // the rest of the block is this run
      other &= ~uint64_t{0} << stop;
    }
    run_carry = scalar >> 63;
  }
  if (in_string || n == 0) return false;
  out->tokens = n;
  return true;
}

PI_AVX512 bool ShapeCache::contains(const Shape& shape, size_t max_depth) const noexcept {
  for (const Slot& slot : slots_) {
    const uint32_t version = slot.version.load(std::memory_order_acquire);
    if ((version & 1) || slot.tokens.load(std::memory_order_relaxed) != shape.tokens ||
        slot.max_depth.load(std::memory_order_relaxed) != max_depth)
      continue;
    bool same = true;
    for (uint32_t i = 0; i < shape.tokens && same; i += 64) {
      const uint32_t left = shape.tokens - i;
      const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
      same = _mm512_mask_cmpneq_epi8_mask(m, _mm512_loadu_si512(slot.token + i), _mm512_loadu_si512(shape.token + i)) == 0;
    }
    // A seqlock read: what was compared counts only if no writer came in
    // meanwhile (the token bytes are read plainly, as seqlocks do).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (same && slot.version.load(std::memory_order_relaxed) == version) return true;
  }
  return false;
}

#else

bool shape_pass_available() noexcept { return false; }
bool shape_of(const char*, size_t, Shape*) noexcept { return false; }
bool ShapeCache::contains(const Shape&, size_t) const noexcept { return false; }

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
  slot.version.store(version + 2, std::memory_order_release);
  writing_.store(false, std::memory_order_release);
}

}  // namespace polyipc::json
