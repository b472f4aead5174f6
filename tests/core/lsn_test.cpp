#include "core/lsn.hpp"

#include <random>

#include <gtest/gtest.h>

using m2r::Lsn;

namespace {

struct Vector {
  const char* hex;
  const char* numeric;
  const char* triplet;
};

// docs/facts.md §1, "Verified vectors".
constexpr Vector k_verified[] = {
    {"00000025:00000b8f:0004", "37000000295900004", "37:2959:4"},
    {"00000014:00000061:0001", "20000000009700001", "20:97:1"},   // the AWS DMS guide's example
    {"0000001e:00000038:0001", "30000000005600001", "30:56:1"},
    {"0000000f:00000190:0025", "15000000040000037", "15:400:37"},  // Microsoft's STOPATMARK example
};

Lsn must_parse(const std::string& text) {
  auto lsn = Lsn::parse(text);
  EXPECT_TRUE(lsn.has_value()) << text << ": " << (lsn ? "" : lsn.error().message);
  return lsn.value_or(Lsn{});
}

}  // namespace

TEST(LsnTest, VerifiedVectorsAgreeInEveryForm) {
  // Given each verified vector, parsing either form should give one LSN that formats back to all forms.
  for (const auto& v : k_verified) {
    const Lsn from_hex = must_parse(v.hex);
    const Lsn from_numeric = must_parse(v.numeric);
    EXPECT_EQ(from_hex, from_numeric) << v.hex;
    EXPECT_EQ(from_hex.to_hex(), v.hex);
    EXPECT_EQ(from_hex.to_numeric(), v.numeric);
    EXPECT_EQ(from_hex.to_decimal_triplet(), v.triplet);
    EXPECT_EQ(must_parse(std::string("lsn:") + v.numeric), from_hex);
    EXPECT_EQ(must_parse(from_hex.to_binary()), from_hex);
  }
}

TEST(LsnTest, HexIsCaseInsensitiveAndFormatsLowerCase) {
  // Given upper-case hex, we should parse it and format DMS's lower-case form.
  EXPECT_EQ(must_parse("00000025:00000B8F:0004").to_hex(), "00000025:00000b8f:0004");
  EXPECT_EQ(must_parse("  00000025:00000b8f:0004\n").to_hex(), "00000025:00000b8f:0004");
}

TEST(LsnTest, BinaryFormIsUpperCaseTenBytes) {
  EXPECT_EQ(must_parse("00000025:00000b8f:0004").to_binary(), "0x0000002500000B8F0004");
  EXPECT_EQ(must_parse("0x0000002500000b8f0004").to_hex(), "00000025:00000b8f:0004");
}

TEST(LsnTest, ComparesInLogOrder) {
  // Given LSNs that differ in each part, ordering should follow VLF, then block, then slot.
  EXPECT_LT(must_parse("00000025:00000b8f:0004"), must_parse("00000025:00000b8f:0005"));
  EXPECT_LT(must_parse("00000025:00000b8f:ffff"), must_parse("00000025:00000b90:0001"));
  EXPECT_LT(must_parse("00000014:000001ab:01ac"), must_parse("00000015:00000010:0001"));
  EXPECT_EQ(must_parse("37000000295900004"), Lsn(0x25, 0xb8f, 4));
}

TEST(LsnTest, FixedWidthHexSortsLikeTheValue) {
  // Given random pairs, string order of the hex form should equal LSN order (docs/facts.md §2 relies on it).
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    const Lsn a(static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()));
    const Lsn b(static_cast<std::uint32_t>(rng() % 4), static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()));
    EXPECT_EQ(a < b, a.to_hex() < b.to_hex());
  }
}

TEST(LsnTest, RoundTripsRandomValuesThroughEveryForm) {
  // Property: for any value, every parseable form parses back to the same value.
  std::mt19937_64 rng(20261125);
  for (int i = 0; i < 20000; ++i) {
    const Lsn lsn(static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()));
    ASSERT_EQ(must_parse(lsn.to_hex()), lsn);
    ASSERT_EQ(must_parse(lsn.to_numeric()), lsn) << lsn.to_numeric();
    ASSERT_EQ(must_parse("lsn:" + lsn.to_numeric()), lsn);
    ASSERT_EQ(must_parse(lsn.to_binary()), lsn);
  }
}

TEST(LsnTest, Boundaries) {
  EXPECT_EQ(must_parse("0"), Lsn(0, 0, 0));
  EXPECT_EQ(must_parse("00000000:00000000:0000"), Lsn(0, 0, 0));
  EXPECT_EQ(Lsn(0, 0, 0).to_numeric(), "0");
  const Lsn max(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFF);
  EXPECT_EQ(max.to_hex(), "ffffffff:ffffffff:ffff");
  EXPECT_EQ(max.to_numeric(), "4294967295429496729565535");  // 25 digits: beyond int64
  EXPECT_EQ(max.to_numeric().size(), 25u);
  EXPECT_EQ(must_parse("4294967295429496729565535"), max);
  EXPECT_EQ(must_parse("65535"), Lsn(0, 0, 65535));
  EXPECT_EQ(must_parse("429496729565535"), Lsn(0, 0xFFFFFFFFu, 65535));
  EXPECT_EQ(Lsn(0, 7, 1).to_numeric(), "700001");
}

TEST(LsnTest, RejectsOutOfRangeParts) {
  // Given a numeric whose slot digits exceed 16 bits, or VLF/block beyond 32 bits, we should refuse.
  EXPECT_FALSE(Lsn::parse("37000000295965536"));   // slot 65536
  EXPECT_FALSE(Lsn::parse("37429496729600004"));   // block 4294967296
  EXPECT_FALSE(Lsn::parse("4294967296000000000000001"));  // VLF 2^32
  EXPECT_FALSE(Lsn::parse("0x0000002500000B8F000"));  // 19 digits
}

TEST(LsnTest, RejectsMoreThanTwentyFiveDigits) {
  const auto r = Lsn::parse("12345678901234567890123456");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("26 digits"), std::string::npos);
}

TEST(LsnTest, RejectsStrayCharactersAndEmptyInput) {
  for (const char* bad : {"", "   ", "lsn:", "37000000295900004x", "3700-0000295900004", "0000002g:00000b8f:0004",
                          "00000025:00000b8f", "00000025:00000b8f:0004:1", "00000025::0004", "0xZZ", "-37",
                          "+37000000295900004", "37000000295900004.0"}) {
    const auto r = Lsn::parse(bad);
    ASSERT_FALSE(r) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error().kind, m2r::ErrorKind::invalid_input);
    // Every rejection names the accepted forms.
    EXPECT_NE(r.error().hint.find("00000025:00000b8f:0004"), std::string::npos) << bad;
  }
}

TEST(LsnTest, RejectsShortTripletsAsAmbiguousAndExplainsBothReadings) {
  // Given the two mistakes in circulation, we should refuse and say what each reading would mean.
  const auto stripped = Lsn::parse("25:b8f:4");
  ASSERT_FALSE(stripped);
  EXPECT_NE(stripped.error().message.find("ambiguous"), std::string::npos);
  EXPECT_NE(stripped.error().message.find("00000025:00000b8f:0004"), std::string::npos);

  const auto decimal = Lsn::parse("37:2959:4");
  ASSERT_FALSE(decimal);
  EXPECT_NE(decimal.error().message.find("ambiguous"), std::string::npos);
  EXPECT_NE(decimal.error().message.find("00000025:00000b8f:0004"), std::string::npos);  // decimal reading

  EXPECT_FALSE(Lsn::parse("123456:76:1"));
  EXPECT_FALSE(Lsn::parse("0025:0b8f:04"));
}
