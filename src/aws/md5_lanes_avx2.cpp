// The eight-lane MD5 kernel for AVX2 (this file alone is compiled with -mavx2; it is called
// only when the CPU reports AVX2). It includes no standard template code, so no AVX2
// instantiation of a shared inline function can leak into the rest of the program.
#include "aws/md5_lanes_kernels.hpp"

#if defined(__x86_64__)
#include "aws/md5_lanes_kernel.inc"

namespace m2r::aws::detail {
namespace {
struct Avx2Ops {
  template <int S>
  static __m256i rotl(__m256i x) {
    return _mm256_or_si256(_mm256_slli_epi32(x, S), _mm256_srli_epi32(x, 32 - S));
  }
  static __m256i f(__m256i b, __m256i c, __m256i d) {  // (b & c) | (~b & d)
    return _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));
  }
  static __m256i g(__m256i b, __m256i c, __m256i d) {  // (b & d) | (c & ~d)
    return _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)));
  }
  static __m256i h(__m256i b, __m256i c, __m256i d) { return _mm256_xor_si256(_mm256_xor_si256(b, c), d); }
  static __m256i i(__m256i b, __m256i c, __m256i d) {  // c ^ (b | ~d)
    return _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, _mm256_set1_epi32(-1))));
  }
};
}  // namespace

void md5_x8_avx2(std::uint32_t (&state)[4][k_md5_lanes], const unsigned char* const (&data)[k_md5_lanes],
                 std::size_t blocks) {
  md5_x8<Avx2Ops>(state, data, blocks);
}
}  // namespace m2r::aws::detail
#endif
