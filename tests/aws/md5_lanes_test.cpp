// Multi-buffer MD5 (md5_lanes, md5_batcher) against RFC 1321's vectors and OpenSSL.
#include "aws/md5_lanes.hpp"

#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aws/checksums.hpp"
#include "aws/md5_batcher.hpp"

namespace m2r::aws {
namespace {

std::string random_bytes(std::size_t size, std::mt19937_64& random) {
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(random());
  return s;
}

std::vector<Md5Kernel> kernels_here() {
  std::vector<Md5Kernel> out;
  for (Md5Kernel k : {Md5Kernel::portable, Md5Kernel::avx2, Md5Kernel::avx512}) {
    if (md5_kernel_supported(k)) out.push_back(k);
  }
  return out;
}

// Eight messages through one kernel: whole blocks side by side, then each lane's tail.
std::array<std::string, k_md5_lanes> hash_eight(Md5Kernel kernel, const std::array<std::string, k_md5_lanes>& messages) {
  std::size_t blocks = SIZE_MAX;
  for (const auto& m : messages) blocks = std::min(blocks, m.size() / k_md5_block);
  std::array<Md5LaneState, k_md5_lanes> states{};
  std::array<const unsigned char*, k_md5_lanes> data{};
  for (std::size_t i = 0; i < k_md5_lanes; ++i) data[i] = reinterpret_cast<const unsigned char*>(messages[i].data());
  md5_lanes_update(kernel, states, data, blocks);
  std::array<std::string, k_md5_lanes> digests;
  for (std::size_t i = 0; i < k_md5_lanes; ++i) {
    auto state = states[i];
    std::string_view rest = std::string_view(messages[i]).substr(blocks * k_md5_block);
    // Lanes longer than the common prefix go on alone (the portable kernel, lane 0 only).
    while (rest.size() >= k_md5_block) {
      std::array<Md5LaneState, k_md5_lanes> one{};
      one[0] = state;
      std::array<const unsigned char*, k_md5_lanes> at{};
      at.fill(reinterpret_cast<const unsigned char*>(rest.data()));
      md5_lanes_update(Md5Kernel::portable, one, at, 1);
      state = one[0];
      rest.remove_prefix(k_md5_block);
    }
    digests[i] = md5_lane_finish(state, rest);
  }
  return digests;
}

TEST(Md5LanesTest, EveryKernelMatchesRfc1321Vectors) {
  // Given RFC 1321's test suite in all eight lanes, every kernel this CPU runs should give its digests.
  const std::pair<std::string, std::string> vectors[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  ASSERT_FALSE(kernels_here().empty());
  for (Md5Kernel kernel : kernels_here()) {
    for (const auto& [message, expected] : vectors) {
      std::array<std::string, k_md5_lanes> eight;
      eight.fill(message);
      for (const auto& digest : hash_eight(kernel, eight)) EXPECT_EQ(hex_encode(digest), expected) << md5_kernel_name(kernel);
    }
  }
}

TEST(Md5LanesTest, LanesStayIndependentAndMatchOpenSsl) {
  // Given eight different random messages of every length around the block and padding
  // boundaries, each lane's digest should be OpenSSL's MD5 of its own message.
  std::mt19937_64 random(20261129);
  for (Md5Kernel kernel : kernels_here()) {
    for (std::size_t base : {0u, 55u, 56u, 63u, 64u, 119u, 120u, 128u, 1000u, 65536u}) {
      std::array<std::string, k_md5_lanes> messages;
      for (std::size_t i = 0; i < k_md5_lanes; ++i) messages[i] = random_bytes(base + i * 3, random);
      const auto digests = hash_eight(kernel, messages);
      for (std::size_t i = 0; i < k_md5_lanes; ++i) {
        EXPECT_EQ(hex_encode(digests[i]), hex_encode(md5_raw(messages[i])))
            << md5_kernel_name(kernel) << " lane " << i << " length " << messages[i].size();
      }
    }
  }
}

TEST(Md5BatcherTest, ConcurrentCallersEachGetTheirOwnDigest) {
  // Given more threads than lanes, each hashing messages of different sizes (some empty, some
  // of several rounds) at once, every digest returned should be OpenSSL's MD5 of that message.
  std::mt19937_64 random(7);
  std::vector<std::string> messages;
  for (std::size_t size : {0u, 1u, 63u, 64u, 65u, 4096u, 65536u + 17u, 300000u, 1048576u, 2u * 1048576u + 5u,
                           77u, 128u, 999u}) {
    messages.push_back(random_bytes(size, random));
  }
  for (Md5Kernel kernel : kernels_here()) {
    Md5Batcher batcher(kernel);
    std::vector<std::string> wrong(12);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 12; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t round = 0; round < 3; ++round) {
          const std::string& m = messages[(t + round * 5) % messages.size()];
          if (batcher.digest(m) != md5_raw(m)) wrong[t] += std::to_string(m.size()) + " ";
        }
      });
    }
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < wrong.size(); ++t) EXPECT_EQ(wrong[t], "") << md5_kernel_name(kernel) << " thread " << t;
  }
}

TEST(Md5BatcherTest, MessagesFedStepByStepMatchOpenSsl) {
  // Given threads that each feed their message in 1 MiB steps (as a streamed part is read)
  // and pad the tail themselves, each digest should be OpenSSL's MD5 of the whole message.
  std::mt19937_64 random(11);
  std::vector<std::string> messages;
  for (std::size_t size : {3u * 1048576u + 77u, 1048576u, 5u, 2u * 1048576u + 64u}) messages.push_back(random_bytes(size, random));
  for (Md5Kernel kernel : kernels_here()) {
    Md5Batcher batcher(kernel);
    std::vector<std::string> digests(messages.size());
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < messages.size(); ++t) {
      threads.emplace_back([&, t] {
        std::string_view rest = messages[t];
        Md5LaneState state;
        while (rest.size() >= 1048576) {
          batcher.update(state, rest.substr(0, 1048576));
          rest.remove_prefix(1048576);
        }
        const std::size_t whole = rest.size() / k_md5_block * k_md5_block;
        batcher.update(state, rest.substr(0, whole));
        digests[t] = md5_lane_finish(state, rest.substr(whole));
      });
    }
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < messages.size(); ++t) {
      EXPECT_EQ(hex_encode(digests[t]), hex_encode(md5_raw(messages[t]))) << md5_kernel_name(kernel) << " message " << t;
    }
  }
}

}  // namespace
}  // namespace m2r::aws
