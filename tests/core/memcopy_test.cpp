// copy_bytes copies exactly n bytes, whatever n and alignment: every size up
// to past the small-copy limit, at every offset within a cache line, with
// guard bytes around the destination that must stay untouched; copy_small
// likewise up to the 1 KiB the JSON validator copies with it.
#include <gtest/gtest.h>

#include <vector>

#include "core/memcopy.hpp"

namespace polyipc {
namespace {

TEST(CopyBytes, EverySizeAndAlignmentCopiesExactlyTheBytes) {
  std::vector<char> src(8192), dst(8192 + 256);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>(i * 131 + 7);
  for (size_t n : {size_t{4096}, size_t{5000}}) {  // the rep movsb path too
    std::fill(dst.begin(), dst.end(), '\x5a');
    copy_bytes(dst.data() + 64, src.data() + 3, n);
    ASSERT_EQ(0, std::memcmp(dst.data() + 64, src.data() + 3, n)) << n;
    ASSERT_EQ(dst[63], '\x5a');
    ASSERT_EQ(dst[64 + n], '\x5a');
  }
  for (size_t n = 0; n <= 200; ++n)
    for (size_t from = 0; from < 64; from += 5)
      for (size_t to = 0; to < 64; to += 7) {
        std::fill(dst.begin(), dst.end(), '\x5a');
        copy_bytes(dst.data() + 64 + to, src.data() + from, n);
        ASSERT_EQ(0, std::memcmp(dst.data() + 64 + to, src.data() + from, n)) << n << " " << from << " " << to;
        for (size_t i = 0; i < 64 + to; ++i) ASSERT_EQ(dst[i], '\x5a') << "before, size " << n;
        for (size_t i = 64 + to + n; i < 64 + to + n + 64; ++i) ASSERT_EQ(dst[i], '\x5a') << "after, size " << n;
      }
}

TEST(CopySmall, EverySizeUpToTheValidatorsCopyCopiesExactlyTheBytes) {
  std::vector<char> src(2048), dst(2048 + 128);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>(i * 37 + 11);
  for (size_t n = 0; n <= 1024; ++n)
    for (size_t from : {size_t{0}, size_t{1}, size_t{9}})
      for (size_t to : {size_t{0}, size_t{3}, size_t{16}}) {
        std::fill(dst.begin(), dst.end(), '\x5a');
        copy_small(dst.data() + 64 + to, src.data() + from, n);
        ASSERT_EQ(0, std::memcmp(dst.data() + 64 + to, src.data() + from, n)) << n;
        ASSERT_EQ(dst[63 + to], '\x5a') << n;
        ASSERT_EQ(dst[64 + to + n], '\x5a') << n;
      }
}

}  // namespace
}  // namespace polyipc
