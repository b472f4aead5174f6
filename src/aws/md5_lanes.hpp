#pragma once
// MD5 of up to eight messages at once, one per SIMD lane ("multi-buffer" hashing, as Intel's
// ISA-L crypto does it; Debian packages no such library). MD5 is a serial chain within one
// message, ~600 MB/s per core here, so an upload that sends Content-MD5 with every part spends
// most of its CPU on it; eight parts hashed side by side in AVX2 (or AVX-512VL) registers cost
// a fraction of that (bench/README.md). Pure computation: no I/O, no threads.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/md5_lanes_kernels.hpp"

namespace m2r::aws {


enum class Md5Kernel { portable, avx2, avx512 };

// The fastest kernel this CPU runs, and whether it beats one OpenSSL MD5 per thread.
Md5Kernel best_md5_kernel();
bool md5_lanes_accelerated();
bool md5_kernel_supported(Md5Kernel kernel);
const char* md5_kernel_name(Md5Kernel kernel);

// The running state of one message: MD5's four words plus how many bytes went in.
struct Md5LaneState {
  std::array<std::uint32_t, 4> words{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  std::uint64_t length = 0;
};

// Feeds `blocks` whole 64-byte blocks of each lane's data into its state. Lanes are
// independent; a lane without a message may point at any readable `blocks * 64` bytes and
// its state is then discarded by the caller.
void md5_lanes_update(Md5Kernel kernel, std::array<Md5LaneState, k_md5_lanes>& states,
                      const std::array<const unsigned char*, k_md5_lanes>& data, std::size_t blocks);

// Pads the last `tail` bytes (fewer than 64) and returns the raw 16-byte digest.
std::string md5_lane_finish(Md5LaneState state, std::string_view tail);

}  // namespace m2r::aws
