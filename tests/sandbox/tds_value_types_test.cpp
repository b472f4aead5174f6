// Unit tests for the TDS forms of the types issue 11 added (money, smallmoney, real, date,
// time, datetimeoffset, smalldatetime, char, nchar, binary, text/ntext/image). Golden bytes
// computed outside this code ([MS-TDS] 2.2.5.5.1: MONEY is the high 32 bits then the low;
// DATETIMEOFFSET is UTC time + date + the offset in minutes).
#include <gtest/gtest.h>

#include "tds/type_codec.hpp"

namespace sandbox::tds {
namespace {

using B = std::vector<std::uint8_t>;

B type_info(const ColumnType& t) {
  ByteWriter w;
  write_type_info(w, t);
  return w.data();
}

B value(const ColumnType& t, const Value& v) {
  ByteWriter w;
  write_value(w, t, v);
  return w.data();
}

DecodedValue decode(const B& b) {
  ByteReader r(b);
  DecodedValue v = read_type_and_value(r);
  EXPECT_TRUE(r.at_end());
  return v;
}

const B k_coll = {0x09, 0x04, 0xD0, 0x00, 0x34};

B cat(B a, const B& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(TdsValueTypesTest, MoneyIsMoneynHighHalfFirst) {
  EXPECT_EQ(type_info({SqlType::money, 0, 19, 4}), (B{0x6E, 8}));
  EXPECT_EQ(type_info({SqlType::smallmoney, 0, 10, 4}), (B{0x6E, 4}));
  EXPECT_EQ(value({SqlType::money, 0, 19, 4}, std::string("12.3457")), (B{8, 0, 0, 0, 0, 0x41, 0xE2, 0x01, 0x00}));
  EXPECT_EQ(value({SqlType::money, 0, 19, 4}, std::string("-1.0000")), (B{8, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xD8, 0xFF, 0xFF}));
  EXPECT_EQ(value({SqlType::money, 0, 19, 4}, std::string("922337203685477.5807")),
            (B{8, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(value({SqlType::smallmoney, 0, 10, 4}, std::string("1.5000")), (B{4, 0x98, 0x3A, 0, 0}));
  EXPECT_EQ(value({SqlType::money, 0, 19, 4}, Value{}), (B{0}));
  // And back, as an RPC parameter.
  const auto m = decode({0x6E, 8, 8, 0, 0, 0, 0, 0x41, 0xE2, 0x01, 0x00});
  EXPECT_EQ(m.type.type, SqlType::money);
  EXPECT_EQ(m.value, Value{std::string("12.3457")});
}

TEST(TdsValueTypesTest, RealIsFltn4) {
  EXPECT_EQ(type_info({SqlType::real}), (B{0x6D, 4}));
  EXPECT_EQ(value({SqlType::real}, 0.5), (B{4, 0, 0, 0, 0x3F}));
  const auto r = decode({0x6D, 4, 4, 0, 0, 0, 0x3F});
  EXPECT_EQ(r.type.type, SqlType::real);
  EXPECT_EQ(r.value, Value{0.5});
}

TEST(TdsValueTypesTest, DateAndTimeAreTheirOwnTypes) {
  EXPECT_EQ(type_info({SqlType::date}), (B{0x28}));
  EXPECT_EQ(value({SqlType::date}, std::string("2024-02-29")), (B{3, 0x80, 0x46, 0x0B}));
  EXPECT_EQ(type_info({SqlType::time, 0, 0, 3}), (B{0x29, 3}));
  EXPECT_EQ(value({SqlType::time, 0, 0, 3}, std::string("13:45:10.123")), (B{4, 0xEB, 0x76, 0xF3, 0x02}));
  const auto t = decode({0x29, 3, 4, 0xEB, 0x76, 0xF3, 0x02});
  EXPECT_EQ(t.type.type, SqlType::time);
  EXPECT_EQ(t.type.scale, 3);
  EXPECT_EQ(t.value, Value{std::string("13:45:10.123")});
}

TEST(TdsValueTypesTest, DatetimeoffsetCarriesUtcAndKeepsTheOffset) {
  EXPECT_EQ(type_info({SqlType::datetimeoffset, 0, 0, 0}), (B{0x2B, 0}));
  // 05:30 at +05:30 is midnight UTC; the offset 330 minutes follows.
  const B wire{8, 0, 0, 0, 0x80, 0x46, 0x0B, 0x4A, 0x01};
  EXPECT_EQ(value({SqlType::datetimeoffset, 0, 0, 0}, std::string("2024-02-29 05:30:00 +05:30")), wire);
  const auto d = decode(cat({0x2B, 0}, wire));
  EXPECT_EQ(d.type.type, SqlType::datetimeoffset);
  EXPECT_EQ(d.value, Value{std::string("2024-02-29 05:30:00 +05:30")});
  // A negative offset crossing midnight backwards: 2024-02-28 20:00 -04:00 is 2024-02-29 00:00 UTC.
  EXPECT_EQ(value({SqlType::datetimeoffset, 0, 0, 0}, std::string("2024-02-28 20:00:00 -04:00")),
            (B{8, 0, 0, 0, 0x80, 0x46, 0x0B, 0x10, 0xFF}));
}

TEST(TdsValueTypesTest, SmalldatetimeIsDaysAndMinutes) {
  EXPECT_EQ(type_info({SqlType::smalldatetime}), (B{0x6F, 4}));
  EXPECT_EQ(value({SqlType::smalldatetime}, std::string("1900-01-02 00:01:00")), (B{4, 1, 0, 1, 0}));
  const auto d = decode({0x6F, 4, 4, 1, 0, 1, 0});
  EXPECT_EQ(d.type.type, SqlType::smalldatetime);
  EXPECT_EQ(d.value, Value{std::string("1900-01-02 00:01:00")});
}

TEST(TdsValueTypesTest, FixedLengthCharAndBinary) {
  EXPECT_EQ(type_info({SqlType::char_, 3}), cat({0xAF, 3, 0}, k_coll));
  EXPECT_EQ(value({SqlType::char_, 3}, std::string("ab ")), (B{3, 0, 'a', 'b', ' '}));
  EXPECT_EQ(type_info({SqlType::nchar, 2}), cat({0xEF, 4, 0}, k_coll));
  EXPECT_EQ(value({SqlType::nchar, 2}, std::string("a ")), (B{4, 0, 'a', 0, ' ', 0}));
  EXPECT_EQ(type_info({SqlType::binary, 3}), (B{0xAD, 3, 0}));
  EXPECT_EQ(value({SqlType::binary, 3}, Bytes{{1}}), (B{3, 0, 1, 0, 0}));  // zero padded
  EXPECT_EQ(value({SqlType::binary, 3}, Value{}), (B{0xFF, 0xFF}));
  const auto c = decode(cat(cat({0xAF, 3, 0}, k_coll), {3, 0, 'a', 'b', ' '}));
  EXPECT_EQ(c.type.type, SqlType::char_);
  EXPECT_EQ(c.type.length, 3);
}

TEST(TdsValueTypesTest, LegacyTextTypesUseTextPointers) {
  EXPECT_EQ(type_info({SqlType::text, k_max_length}), cat(cat({0x23, 0xFF, 0xFF, 0xFF, 0x7F}, k_coll), {0}));
  EXPECT_EQ(type_info({SqlType::image, k_max_length}), (B{0x22, 0xFF, 0xFF, 0xFF, 0x7F, 0}));
  B expected{16};
  for (int i = 0; i < 16; ++i) expected.push_back(0xFF);
  for (int i = 0; i < 8; ++i) expected.push_back(0);
  expected = cat(expected, {2, 0, 0, 0, 'h', 'i'});
  EXPECT_EQ(value({SqlType::text, k_max_length}, std::string("hi")), expected);
  EXPECT_EQ(value({SqlType::ntext, k_max_length}, Value{}), (B{0}));
  const auto t = decode({0x23, 0xFF, 0xFF, 0xFF, 0x7F, 0x09, 0x04, 0xD0, 0x00, 0x34, 2, 0, 0, 0, 'h', 'i'});
  EXPECT_EQ(t.type.type, SqlType::text);
  EXPECT_EQ(t.value, Value{std::string("hi")});
}

}  // namespace
}  // namespace sandbox::tds
