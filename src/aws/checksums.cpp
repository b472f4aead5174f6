#include "aws/checksums.hpp"

#include <array>
#include <cstring>

#include <openssl/evp.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>
#define M2R_CRC32C_X86 1
#endif

namespace m2r::aws {
namespace {

constexpr std::uint32_t k_castagnoli_reflected = 0x82F63B78u;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ k_castagnoli_reflected : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto k_table = make_table();

#ifdef M2R_CRC32C_X86
bool cpu_has_sse42() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view data, std::uint32_t previous) {
  std::uint64_t crc = ~previous;
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    crc = _mm_crc32_u64(crc, word);
    p += 8;
    n -= 8;
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  while (n--) crc32 = _mm_crc32_u8(crc32, static_cast<unsigned char>(*p++));
  return ~crc32;
}
#endif

const bool k_hardware =
#ifdef M2R_CRC32C_X86
    cpu_has_sse42();
#else
    false;
#endif

// GF(2) matrix helpers for crc32c_combine (as zlib's crc32_combine).
std::uint32_t gf2_times(const std::array<std::uint32_t, 32>& mat, std::uint32_t vec) {
  std::uint32_t sum = 0;
  for (int i = 0; vec; ++i, vec >>= 1)
    if (vec & 1) sum ^= mat[static_cast<size_t>(i)];
  return sum;
}
void gf2_square(std::array<std::uint32_t, 32>& square, const std::array<std::uint32_t, 32>& mat) {
  for (size_t n = 0; n < 32; ++n) square[n] = gf2_times(mat, mat[n]);
}

}  // namespace

std::uint32_t crc32c_software(std::string_view data, std::uint32_t previous) {
  std::uint32_t crc = ~previous;
  for (char ch : data) crc = k_table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

bool crc32c_uses_hardware() { return k_hardware; }

std::uint32_t crc32c(std::string_view data, std::uint32_t previous) {
#ifdef M2R_CRC32C_X86
  if (k_hardware) return crc32c_sse42(data, previous);
#endif
  return crc32c_software(data, previous);
}

std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) {
  if (length_b == 0) return crc_a;
  std::array<std::uint32_t, 32> even{}, odd{};
  odd[0] = k_castagnoli_reflected;
  std::uint32_t row = 1;
  for (size_t n = 1; n < 32; ++n) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_square(even, odd);
  gf2_square(odd, even);
  do {
    gf2_square(even, odd);
    if (length_b & 1) crc_a = gf2_times(even, crc_a);
    length_b >>= 1;
    if (!length_b) break;
    gf2_square(odd, even);
    if (length_b & 1) crc_a = gf2_times(odd, crc_a);
    length_b >>= 1;
  } while (length_b);
  return crc_a ^ crc_b;
}

std::string crc32c_base64(std::uint32_t crc) {
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((crc >> (24 - 8 * i)) & 0xff);
  return base64_encode(bytes);
}

std::string base64_encode(std::string_view data) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (size_t rest = data.size() - i; rest) {
    std::uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += rest == 2 ? k_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    std::uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      int d = value(c);
      if (d < 0 || pad) return std::nullopt;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
  }
  if (base64_encode(out) != text) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string hex_encode(std::string_view raw) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += k_digits[c >> 4];
    out += k_digits[c & 15];
  }
  return out;
}

std::string md5_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string md5_base64(std::string_view data) { return base64_encode(md5_raw(data)); }

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string multipart_etag(const std::vector<std::string>& part_md5_hex) {
  std::string joined;
  for (const auto& hex : part_md5_hex) {
    if (hex.size() != 32) return {};
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      const int high = hex_digit(hex[i]), low = hex_digit(hex[i + 1]);
      if (high < 0 || low < 0) return {};
      joined += static_cast<char>(high << 4 | low);
    }
  }
  return hex_encode(md5_raw(joined)) + "-" + std::to_string(part_md5_hex.size());
}

std::string composite_crc32c(const std::vector<std::string>& part_crc32c_base64) {
  std::string joined;
  for (const auto& text : part_crc32c_base64) {
    const auto raw = base64_decode(text);
    if (!raw || raw->size() != 4) return {};
    joined += *raw;
  }
  return crc32c_base64(crc32c(joined)) + "-" + std::to_string(part_crc32c_base64.size());
}

}  // namespace m2r::aws
