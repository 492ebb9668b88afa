// Accepting a JSON text by its shape. Whether a text is valid JSON depends
// on two things only: the sequence of its tokens (which structural
// character, string or scalar comes after which) and whether each token is
// well formed on its own. A service sends messages of a few shapes with
// changing values, so once the validator has accepted a text, the next one
// of the same shape needs only the second check: a SIMD pass that finds the
// tokens, checks them one by one and compares their sequence with the
// remembered ones. Anything the pass does not cover (escapes, non-ASCII
// bytes, a shape not seen yet, a bad token) goes to the full validator, which
// alone gives verdicts of "invalid" and their offsets.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace polyipc::json {

// A text's tokens in order, one byte each: its structural characters as
// written, '"' for a string, '0' for a number or literal.
struct Shape {
  static constexpr size_t kMaxTokens = 128;  // longer shapes are not remembered
  uint32_t tokens = 0;
  alignas(64) uint8_t token[kMaxTokens + 64];  // + one block of slack for stores
};

// True when this CPU runs the shape pass (AVX-512 BW, VBMI and VBMI2).
bool shape_pass_available() noexcept;

// The shape of data[0..len). False when the text is outside the pass (see above), has more than
// Shape::kMaxTokens tokens, or has a token that is not well formed; true
// promises only that every token is well formed, not that the sequence is valid.
bool shape_of(const char* data, size_t len, Shape* out) noexcept;

// Shapes of texts the full validator accepted, for one handle; safe to share
// between threads. Readers never wait: a slot being rewritten just misses.
class alignas(64) ShapeCache {
 public:
  // kHit when the text's shape is one remembered for max_depth: the text is
  // valid JSON. kMiss with the shape in *out, to remember if the full
  // validator accepts the text. kOutside when the pass cannot take the text.
  enum class Lookup { kHit, kMiss, kOutside };
  Lookup lookup(const char* data, size_t len, size_t max_depth, Shape* out) const noexcept;
  // Remembers the shape of a text accepted with max_depth (skipped when
  // another thread is remembering one).
  void remember(const Shape& shape, size_t max_depth) noexcept;

  // Whether the pass is worth its cost (~10 ns on a 64-byte text) for the
  // next text: not on CPUs without it, and not for a while after kMisses
  // texts in a row that it could not accept (a stream of ever new shapes,
  // or of texts with escapes or non-ASCII bytes). Relaxed counters: a hint.
  bool worth_a_look() noexcept {
    const uint32_t resting = resting_.load(std::memory_order_relaxed);
    if (resting == 0) return shape_pass_available();
    resting_.store(resting - 1, std::memory_order_relaxed);
    return false;
  }
  void hit() noexcept {
    if (misses_.load(std::memory_order_relaxed) != 0) misses_.store(0, std::memory_order_relaxed);
  }
  void missed() noexcept {
    const uint32_t misses = misses_.load(std::memory_order_relaxed) + 1;
    if (misses >= kMisses) resting_.store(kRest, std::memory_order_relaxed);
    misses_.store(misses >= kMisses ? 0 : misses, std::memory_order_relaxed);
  }

 private:
  bool contains(const Shape& shape, size_t max_depth) const noexcept;
  template <class Same>
  bool any_slot(uint32_t tokens, size_t max_depth, Same same) const noexcept;

  static constexpr unsigned kSlots = 4;
  static constexpr uint32_t kMisses = 8, kRest = 1024;
  std::atomic<uint32_t> misses_{0}, resting_{0};
  struct Slot {
    std::atomic<uint32_t> version{0};  // odd while being written
    std::atomic<uint32_t> tokens{0};
    std::atomic<size_t> max_depth{0};
    alignas(64) uint8_t token[Shape::kMaxTokens];  // zeros after the shape's tokens
  };
  Slot slots_[kSlots];
  std::atomic<uint32_t> next_{0};
  std::atomic<bool> writing_{false};
};

}  // namespace polyipc::json
