#include "aws/md5_lanes.hpp"

#include <cstring>

namespace m2r::aws {
namespace {

constexpr int k_shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

std::uint32_t rotl(std::uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

// RFC 1321, one block, written for clarity: the portable kernel and the padding path.
void compress(std::array<std::uint32_t, 4>& h, const unsigned char* block) {
  std::uint32_t m[16];
  for (int j = 0; j < 16; ++j) {
    const unsigned char* p = block + 4 * j;
    m[j] = p[0] | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
  }
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  for (int i = 0; i < 64; ++i) {
    std::uint32_t f = 0;
    int g = 0;
    switch (i / 16) {
      case 0: f = (b & c) | (~b & d); g = i; break;
      case 1: f = (b & d) | (c & ~d); g = (5 * i + 1) % 16; break;
      case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16; break;
      default: f = c ^ (b | ~d); g = (7 * i) % 16; break;
    }
    const std::uint32_t next = b + rotl(a + f + k_md5_sines[i] + m[g], k_shifts[i / 16][i % 4]);
    a = d;
    d = c;
    c = b;
    b = next;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

bool cpu_supports(Md5Kernel kernel) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (kernel) {
    case Md5Kernel::portable: return true;
    case Md5Kernel::avx2: return __builtin_cpu_supports("avx2");
    case Md5Kernel::avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return kernel == Md5Kernel::portable;
#endif
}

}  // namespace

bool md5_kernel_supported(Md5Kernel kernel) { return cpu_supports(kernel); }

Md5Kernel best_md5_kernel() {
  static const Md5Kernel best = cpu_supports(Md5Kernel::avx512) ? Md5Kernel::avx512
                                : cpu_supports(Md5Kernel::avx2) ? Md5Kernel::avx2
                                                                 : Md5Kernel::portable;
  return best;
}

bool md5_lanes_accelerated() { return best_md5_kernel() != Md5Kernel::portable; }

const char* md5_kernel_name(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::portable: return "portable";
    case Md5Kernel::avx2: return "avx2";
    case Md5Kernel::avx512: return "avx512vl";
  }
  return "?";
}

void md5_lanes_update(Md5Kernel kernel, std::array<Md5LaneState, k_md5_lanes>& states,
                      const std::array<const unsigned char*, k_md5_lanes>& data, std::size_t blocks) {
  if (blocks == 0) return;
  for (auto& s : states) s.length += blocks * k_md5_block;
#if defined(__x86_64__)
  if (kernel != Md5Kernel::portable) {
    std::uint32_t words[4][k_md5_lanes];
    const unsigned char* pointers[k_md5_lanes];
    for (std::size_t lane = 0; lane < k_md5_lanes; ++lane) {
      for (std::size_t w = 0; w < 4; ++w) words[w][lane] = states[lane].words[w];
      pointers[lane] = data[lane];
    }
    if (kernel == Md5Kernel::avx512) detail::md5_x8_avx512(words, pointers, blocks);
    else detail::md5_x8_avx2(words, pointers, blocks);
    for (std::size_t lane = 0; lane < k_md5_lanes; ++lane) {
      for (std::size_t w = 0; w < 4; ++w) states[lane].words[w] = words[w][lane];
    }
    return;
  }
#endif
  for (std::size_t lane = 0; lane < k_md5_lanes; ++lane) {
    for (std::size_t block = 0; block < blocks; ++block) compress(states[lane].words, data[lane] + block * k_md5_block);
  }
}

std::string md5_lane_finish(Md5LaneState state, std::string_view tail) {
  // Padding: 0x80, zeros, then the message length in bits, little-endian, in the last 8 bytes.
  unsigned char last[2 * k_md5_block] = {};
  std::memcpy(last, tail.data(), tail.size());
  last[tail.size()] = 0x80;
  const std::size_t blocks = tail.size() + 1 + 8 <= k_md5_block ? 1 : 2;
  const std::uint64_t bits = (state.length + tail.size()) * 8;
  for (int k = 0; k < 8; ++k) last[blocks * k_md5_block - 8 + k] = static_cast<unsigned char>(bits >> (8 * k));
  for (std::size_t b = 0; b < blocks; ++b) compress(state.words, last + b * k_md5_block);
  std::string digest(16, '\0');
  for (std::size_t w = 0; w < 4; ++w) {
    for (int k = 0; k < 4; ++k) digest[4 * w + k] = static_cast<char>(state.words[w] >> (8 * k));
  }
  return digest;
}

}  // namespace m2r::aws
