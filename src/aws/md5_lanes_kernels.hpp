#pragma once
// The SIMD kernels behind md5_lanes.hpp. Their files are compiled for AVX2 / AVX-512, so this
// header includes nothing that instantiates standard-library code (which could otherwise be
// linked into the whole program in its AVX form).
#include <cstddef>
#include <cstdint>

namespace m2r::aws {

inline constexpr std::size_t k_md5_lanes = 8;
inline constexpr std::size_t k_md5_block = 64;

namespace detail {
// State laid out as [word][lane], so each word of all lanes is one vector.
void md5_x8_avx2(std::uint32_t (&state)[4][k_md5_lanes], const unsigned char* const (&data)[k_md5_lanes],
                 std::size_t blocks);
void md5_x8_avx512(std::uint32_t (&state)[4][k_md5_lanes], const unsigned char* const (&data)[k_md5_lanes],
                   std::size_t blocks);
}  // namespace detail

}  // namespace m2r::aws
