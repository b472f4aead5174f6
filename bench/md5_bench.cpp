// MD5 throughput on this CPU: OpenSSL (one message per thread, what the upload engine used
// to do per part) against each multi-buffer kernel (eight messages side by side), single
// thread, 8 x 16 MiB messages (eight upload parts).
//   md5_bench [MiB per message]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "aws/checksums.hpp"
#include "aws/md5_lanes.hpp"

using namespace m2r::aws;

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 16;
  std::vector<std::string> messages(k_md5_lanes, std::string(mib << 20, '\0'));
  std::mt19937_64 random(1);
  for (auto& m : messages) for (auto& c : m) c = static_cast<char>(random());
  const double total_mb = static_cast<double>(k_md5_lanes * (mib << 20)) / 1e6;
  auto time = [](auto&& fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double openssl = time([&] { for (const auto& m : messages) (void)md5_raw(m); });
  std::printf("openssl   %7.0f MB/s\n", total_mb / openssl);
  for (Md5Kernel kernel : {Md5Kernel::portable, Md5Kernel::avx2, Md5Kernel::avx512}) {
    if (!md5_kernel_supported(kernel)) continue;
    const double seconds = time([&] {
      std::array<Md5LaneState, k_md5_lanes> states{};
      std::array<const unsigned char*, k_md5_lanes> data{};
      for (std::size_t i = 0; i < k_md5_lanes; ++i) data[i] = reinterpret_cast<const unsigned char*>(messages[i].data());
      md5_lanes_update(kernel, states, data, (mib << 20) / k_md5_block);
    });
    std::printf("%-9s %7.0f MB/s  %.2fx openssl\n", md5_kernel_name(kernel), total_mb / seconds, openssl / seconds);
  }
}
