// CRC32C, base64 and MD5 helpers against published vectors.
#include "aws/checksums.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace m2r::aws {
namespace {

TEST(ChecksumsTest, Crc32cMatchesPublishedVectors) {
  // Given the check value of CRC-32C and RFC 3720's vectors, both implementations should match them.
  std::string ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[static_cast<size_t>(i)] = static_cast<char>(i);
    descending[static_cast<size_t>(i)] = static_cast<char>(31 - i);
  }
  struct Vector {
    std::string data;
    std::uint32_t crc;
  } vectors[] = {{"123456789", 0xE3069283u},
                 {std::string(32, '\0'), 0x8A9136AAu},
                 {std::string(32, '\xff'), 0x62A8AB43u},
                 {ascending, 0x46DD794Eu},
                 {descending, 0x113FDB5Cu},
                 {"", 0u}};
  for (const auto& v : vectors) {
    EXPECT_EQ(crc32c(v.data), v.crc);
    EXPECT_EQ(crc32c_software(v.data), v.crc);
  }
}

TEST(ChecksumsTest, HardwareAndSoftwareAgreeAndChunkingComposes) {
  // Given random buffers of odd sizes, hardware and table paths should agree, and chunked = whole.
  std::mt19937 rng(42);
  for (size_t size : {1u, 7u, 8u, 9u, 63u, 4096u, 100'003u}) {
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::uint32_t whole = crc32c(data);
    EXPECT_EQ(crc32c_software(data), whole) << size;
    const size_t cut = size / 3;
    EXPECT_EQ(crc32c(std::string_view(data).substr(cut), crc32c(std::string_view(data).substr(0, cut))), whole);
    EXPECT_EQ(crc32c_combine(crc32c(std::string_view(data).substr(0, cut)), crc32c(std::string_view(data).substr(cut)),
                             size - cut),
              whole)
        << size;
  }
}

TEST(ChecksumsTest, WireFormsMatchS3) {
  // Given "123456789", x-amz-checksum-crc32c should be base64 of the big-endian CRC; Content-MD5 of "" is well known.
  EXPECT_EQ(crc32c_base64(0xE3069283u), "4waSgw==");
  EXPECT_EQ(crc32c_base64(crc32c("")), "AAAAAA==");
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(md5_base64("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

TEST(ChecksumsTest, MultipartEtagAndCompositeChecksumAreComputedFromThePartsAsS3Does) {
  // Given the parts "hello" and "world" (their MD5s and CRC32Cs, and the expected values computed
  // with Python's hashlib and a bitwise CRC-32C), the object's ETag and composite CRC32C should be
  // the digest of the concatenated binary part digests with "-2"; malformed part digests give "".
  const std::vector<std::string> md5s = {"5d41402abc4b2a76b9719d911017c592", "7d793037a0760186574b0282f2f435e7"};
  EXPECT_EQ(multipart_etag(md5s), "065947336a2f2a95ba8899f3675c3be6-2");
  EXPECT_EQ(multipart_etag({"5D41402ABC4B2A76B9719D911017C592", md5s[1]}), "065947336a2f2a95ba8899f3675c3be6-2");
  const std::vector<std::string> crcs = {crc32c_base64(crc32c("hello")), crc32c_base64(crc32c("world"))};
  EXPECT_EQ(crcs, (std::vector<std::string>{"mnG7TA==", "MaqBTg=="}));
  EXPECT_EQ(composite_crc32c(crcs), "u6ozzA==-2");

  EXPECT_EQ(multipart_etag({"\"5d41402abc4b2a76b9719d911017c592\""}), "");
  EXPECT_EQ(multipart_etag({"5d41402abc4b2a76b9719d911017c59g"}), "");
  EXPECT_EQ(composite_crc32c({"mnG7TA==", "Zm9vYmE="}), "");  // five bytes, not a CRC
  EXPECT_EQ(composite_crc32c({"not base64"}), "");
}

TEST(ChecksumsTest, Base64RoundTripsAndRejectsGarbage) {
  // Given RFC 4648's vectors, encoding should match and decoding should invert; malformed text should be refused.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},   {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
  }
  for (const char* bad : {"Zg=", "Zm9v!A==", "Z===", "Zh==", "=Zm9"}) EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace m2r::aws
