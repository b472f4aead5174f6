// The eight-lane MD5 kernel for AVX-512VL (this file alone is compiled with -mavx512f
// -mavx512vl; it is called only when the CPU reports both): the same AVX2-wide registers,
// with a native rotate and each round function as one ternary-logic instruction, which
// shortens MD5's serial chain from six instructions a step to four.
#include "aws/md5_lanes_kernels.hpp"

#if defined(__x86_64__)
#include "aws/md5_lanes_kernel.inc"

namespace m2r::aws::detail {
namespace {
// vpternlogd's immediate is the function's truth table over b = 0xF0, c = 0xCC, d = 0xAA.
constexpr int truth_table(unsigned (*fn)(unsigned, unsigned, unsigned)) {
  return static_cast<int>(fn(0xF0, 0xCC, 0xAA) & 0xFF);
}
constexpr int k_f = truth_table([](unsigned b, unsigned c, unsigned d) { return (b & c) | (~b & d); });
constexpr int k_g = truth_table([](unsigned b, unsigned c, unsigned d) { return (b & d) | (c & ~d); });
constexpr int k_h = truth_table([](unsigned b, unsigned c, unsigned d) { return b ^ c ^ d; });
constexpr int k_i = truth_table([](unsigned b, unsigned c, unsigned d) { return c ^ (b | ~d); });

struct Avx512Ops {
  template <int S>
  static __m256i rotl(__m256i x) { return _mm256_rol_epi32(x, S); }
  static __m256i f(__m256i b, __m256i c, __m256i d) { return _mm256_ternarylogic_epi32(b, c, d, k_f); }
  static __m256i g(__m256i b, __m256i c, __m256i d) { return _mm256_ternarylogic_epi32(b, c, d, k_g); }
  static __m256i h(__m256i b, __m256i c, __m256i d) { return _mm256_ternarylogic_epi32(b, c, d, k_h); }
  static __m256i i(__m256i b, __m256i c, __m256i d) { return _mm256_ternarylogic_epi32(b, c, d, k_i); }
};
}  // namespace

void md5_x8_avx512(std::uint32_t (&state)[4][k_md5_lanes], const unsigned char* const (&data)[k_md5_lanes],
                   std::size_t blocks) {
  md5_x8<Avx512Ops>(state, data, blocks);
}
}  // namespace m2r::aws::detail
#endif
