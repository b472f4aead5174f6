// Unit tests for the TDS byte helpers and packet framing.
#include <gtest/gtest.h>

#include "tds/packet.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {

TEST(TdsPacketTest, FramesAMessageAcrossPacketsWithEomOnTheLast) {
  // Given a 10,000-byte message and 4096-byte packets, we should get three packets
  // (4088 + 4088 + 1824 bytes of payload), ids 1..3, EOM only on the last.
  std::vector<std::uint8_t> payload(10000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  std::uint8_t id = 1;
  const auto bytes = frame_packets(PacketType::tabular_result, payload, 4096, 51, true, &id);
  ASSERT_EQ(bytes.size(), payload.size() + 3 * k_header_size);
  const PacketHeader h1 = parse_header(bytes.data());
  EXPECT_EQ(h1.type, PacketType::tabular_result);
  EXPECT_EQ(h1.status, 0);
  EXPECT_EQ(h1.length, 4096);
  EXPECT_EQ(h1.spid, 51);
  EXPECT_EQ(h1.packet_id, 1);
  const PacketHeader h3 = parse_header(bytes.data() + 2 * 4096);
  EXPECT_EQ(h3.status, k_status_eom);
  EXPECT_EQ(h3.length, 10000 - 2 * 4088 + 8);
  EXPECT_EQ(h3.packet_id, 3);
  EXPECT_EQ(id, 4);
  EXPECT_EQ(bytes[2 * 4096 + 8], static_cast<std::uint8_t>(2 * 4088));
}

TEST(TdsPacketTest, HeaderLengthAndSpidAreBigEndian) {
  // Given the spec's header layout, length 0x0123 and SPID 0x0034 should be written high byte first.
  PacketHeader h;
  h.type = PacketType::sql_batch;
  h.status = k_status_eom;
  h.length = 0x0123;
  h.spid = 0x0034;
  h.packet_id = 1;
  std::uint8_t raw[8];
  write_header(h, raw);
  const std::uint8_t expected[8] = {0x01, 0x01, 0x01, 0x23, 0x00, 0x34, 0x01, 0x00};
  EXPECT_EQ(std::vector<std::uint8_t>(raw, raw + 8), std::vector<std::uint8_t>(expected, expected + 8));
}

TEST(TdsPacketTest, RejectsAPacketShorterThanItsHeader) {
  // Given a header claiming 4 bytes, parsing should fail rather than read garbage.
  const std::uint8_t raw[8] = {0x01, 0x01, 0x00, 0x04, 0, 0, 1, 0};
  EXPECT_THROW(parse_header(raw), ProtocolError);
}

TEST(TdsWireTest, Utf8RoundTripsThroughUtf16IncludingSurrogates) {
  // Given text with Latin-1, a BMP symbol and an astral emoji, UTF-16LE and back should be lossless.
  const std::string text = "Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93 \xF0\x9F\x98\x80";
  const auto le = utf8_to_utf16le(text);
  EXPECT_EQ(le.size(), 2u * (5 + 1 + 1 + 1 + 2));
  EXPECT_EQ(utf16le_to_utf8(le.data(), le.size()), text);
}

TEST(TdsWireTest, Cp1252MapsEuroAndLatin1AndReplacesTheRest) {
  // Given "€é✓", CP1252 should give 0x80, 0xE9 and '?' for the check mark.
  const auto b = utf8_to_cp1252("\xE2\x82\xAC\xC3\xA9\xE2\x9C\x93");
  EXPECT_EQ(b, (std::vector<std::uint8_t>{0x80, 0xE9, '?'}));
  EXPECT_EQ(cp1252_to_utf8(b.data(), 2), "\xE2\x82\xAC\xC3\xA9");
}

TEST(TdsWireTest, ReaderThrowsOnShortInput) {
  // Given two bytes, reading a u32 should throw ProtocolError.
  const std::vector<std::uint8_t> b = {1, 2};
  ByteReader r(b);
  EXPECT_THROW(r.u32(), ProtocolError);
}

}  // namespace
}  // namespace sandbox::tds
