// Unit tests for TYPE_INFO and value encodings (golden bytes computed outside this code:
// Python's int.to_bytes / date arithmetic, and the GUID layout from [MS-TDS]'s GUIDTYPE).
#include <gtest/gtest.h>

#include "tds/tokens.hpp"
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

TEST(TdsTypesTest, IntegersAreIntnOfTheirSize) {
  // Given each integer type, TYPE_INFO should be INTN with 1/2/4/8 and values little-endian.
  EXPECT_EQ(type_info({SqlType::tinyint}), (B{0x26, 1}));
  EXPECT_EQ(type_info({SqlType::smallint}), (B{0x26, 2}));
  EXPECT_EQ(type_info({SqlType::int_}), (B{0x26, 4}));
  EXPECT_EQ(type_info({SqlType::bigint}), (B{0x26, 8}));
  EXPECT_EQ(value({SqlType::int_}, std::int64_t{-2}), (B{4, 0xFE, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(value({SqlType::smallint}, std::int64_t{0x1234}), (B{2, 0x34, 0x12}));
  EXPECT_EQ(value({SqlType::bigint}, Value{}), (B{0}));
  EXPECT_EQ(value({SqlType::bit}, std::int64_t{1}), (B{1, 1}));
  EXPECT_EQ(type_info({SqlType::bit}), (B{0x68, 1}));
}

TEST(TdsTypesTest, Numeric25RoundTripsAnLsnExactly) {
  // Given numeric(25,0) 37000000295900004 (an LSN, docs/facts.md §1), the value should be 13 bytes
  // (sign + 12 magnitude bytes) and decode back to the same digits.
  const ColumnType t{SqlType::decimal, 0, 25, 0};
  EXPECT_EQ(type_info(t), (B{0x6A, 13, 25, 0}));
  const B v = value(t, std::string("37000000295900004"));
  EXPECT_EQ(v, (B{13, 1, 0x64, 0x93, 0x53, 0xE2, 0x4D, 0x73, 0x83, 0x00, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(decimal_from_wire(v.data() + 1, v.size() - 1, 0), "37000000295900004");
}

TEST(TdsTypesTest, NegativeDecimalWithScale) {
  // Given decimal(10,4) -123.4500, the sign byte should be 0 and the magnitude 1234500.
  const ColumnType t{SqlType::decimal, 0, 10, 4};
  const B v = value(t, std::string("-123.4500"));
  EXPECT_EQ(v, (B{9, 0, 0x44, 0xD6, 0x12, 0, 0, 0, 0, 0}));
  EXPECT_EQ(decimal_from_wire(v.data() + 1, v.size() - 1, 4), "-123.4500");
  EXPECT_EQ(decimal_from_wire(B{1, 5, 0, 0, 0}.data(), 5, 4), "0.0005");
}

TEST(TdsTypesTest, DecimalRefusesValuesBeyondItsPrecision) {
  // Given 1000 for decimal(3,0), encoding should fail rather than send a wrong value.
  EXPECT_THROW(value({SqlType::decimal, 0, 3, 0}, std::string("1000")), std::invalid_argument);
}

TEST(TdsTypesTest, DatetimeIsDaysSince1900AndThreeHundredthsOfASecond) {
  // Given 2024-02-29 13:45:10.123, days should be 45349 and ticks 14853037.
  EXPECT_EQ(type_info({SqlType::datetime}), (B{0x6F, 8}));
  const B v = value({SqlType::datetime}, std::string("2024-02-29 13:45:10.123"));
  EXPECT_EQ(v, (B{8, 0x25, 0xB1, 0x00, 0x00, 0xAD, 0xA3, 0xE2, 0x00}));
  EXPECT_EQ(datetime_from_wire(v.data() + 1), "2024-02-29 13:45:10.123");
}

TEST(TdsTypesTest, Datetime2SevenIsFiveTimeBytesThenThreeDateBytes) {
  // Given datetime2(7) 2024-02-29 13:45:10.1234567, the value should be 8 bytes.
  EXPECT_EQ(type_info({SqlType::datetime2, 0, 0, 7}), (B{0x2A, 7}));
  const B v = value({SqlType::datetime2, 0, 0, 7}, std::string("2024-02-29 13:45:10.1234567"));
  EXPECT_EQ(v, (B{8, 0x87, 0x4D, 0x55, 0x46, 0x73, 0x80, 0x46, 0x0B}));
  EXPECT_EQ(datetime2_from_wire(v.data() + 1, 8, 7), "2024-02-29 13:45:10.1234567");
}

TEST(TdsTypesTest, GuidIsMixedEndian) {
  // Given Microsoft's example GUID, the first three groups should be byte-swapped, the rest as written.
  const B v = value({SqlType::uniqueidentifier}, std::string("6F9619FF-8B86-D011-B42D-00C04FC964FF"));
  EXPECT_EQ(v, (B{16, 0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}));
  EXPECT_EQ(guid_from_wire(v.data() + 1), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
}

TEST(TdsTypesTest, NvarcharCarriesCollationAndUtf16) {
  // Given nvarchar(50) "é", TYPE_INFO should be NVARCHAR 100 bytes + the Latin1 collation; the value 2 bytes.
  EXPECT_EQ(type_info({SqlType::nvarchar, 50}), (B{0xE7, 100, 0, 0x09, 0x04, 0xD0, 0x00, 0x34}));
  EXPECT_EQ(value({SqlType::nvarchar, 50}, std::string("\xC3\xA9")), (B{2, 0, 0xE9, 0x00}));
  EXPECT_EQ(value({SqlType::nvarchar, 50}, Value{}), (B{0xFF, 0xFF}));
  EXPECT_EQ(value({SqlType::varchar, 10}, std::string("\xC3\xA9")), (B{1, 0, 0xE9}));
}

TEST(TdsTypesTest, MaxTypesArePartiallyLengthPrefixed) {
  // Given nvarchar(max) "ab", the value should be PLP: total length, one chunk, terminator; NULL is PLP_NULL.
  EXPECT_EQ(type_info({SqlType::nvarchar, k_max_length}), (B{0xE7, 0xFF, 0xFF, 0x09, 0x04, 0xD0, 0x00, 0x34}));
  EXPECT_EQ(value({SqlType::nvarchar, k_max_length}, std::string("ab")),
            (B{4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 'a', 0, 'b', 0, 0, 0, 0, 0}));
  EXPECT_EQ(value({SqlType::varbinary, k_max_length}, Value{}), B(8, 0xFF));
  EXPECT_EQ(value({SqlType::varbinary, k_max_length}, Bytes{}), (B{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(TdsTypesTest, FloatIsFltn8) {
  // Given 2.5, the value should be its IEEE-754 bits little-endian.
  EXPECT_EQ(type_info({SqlType::float_}), (B{0x6D, 8}));
  EXPECT_EQ(value({SqlType::float_}, 2.5), (B{8, 0, 0, 0, 0, 0, 0, 0x04, 0x40}));
}

TEST(TdsTypesTest, RowWithANullUsesNbcrow) {
  // Given (1, NULL), the row should be NBCROW with bit 1 set and only the first value.
  const std::vector<Column> cols = {{"a", {SqlType::int_}, true}, {"b", {SqlType::int_}, true}};
  ByteWriter w;
  write_row(w, cols, {std::int64_t{1}, Value{}});
  EXPECT_EQ(w.data(), (B{0xD2, 0x02, 4, 1, 0, 0, 0}));
  ByteWriter w2;
  write_row(w2, cols, {std::int64_t{1}, std::int64_t{2}});
  EXPECT_EQ(w2.data(), (B{0xD1, 4, 1, 0, 0, 0, 4, 2, 0, 0, 0}));
}

TEST(TdsTypesTest, BrowseInfoIsTabnameThenColinfoForCursorResults) {
  // Given a cursor's columns (two of table T, one renamed, an expression and the hidden ROWSTAT),
  // TABNAME should list T once and COLINFO give each column its table number and status
  // (DIFFERENT_NAME with the base name, EXPRESSION, HIDDEN); plain results get neither token.
  std::vector<Column> cols(4);
  cols[0].name = "id";
  cols[0].base_table = "T";
  cols[1].name = "v";
  cols[1].base_table = "T";
  cols[1].base_column = "val";
  cols[2].name = "n";
  cols[3].name = "ROWSTAT";
  cols[3].hidden = true;
  ByteWriter w;
  write_browse_info(w, cols);
  EXPECT_EQ(w.data(), (B{0xA4, 5, 0, 1, 1, 0, 'T', 0,
                         0xA5, 19, 0, 1, 1, 0x00, 2, 1, 0x20, 3, 'v', 0, 'a', 0, 'l', 0, 3, 0, 0x04, 4, 0, 0x14}));
  ByteWriter plain;
  write_browse_info(plain, std::vector<Column>(2));
  EXPECT_TRUE(plain.data().empty());
  // Only an expression and ROWSTAT: no TABNAME (FreeTDS refuses an empty one), COLINFO alone.
  std::vector<Column> expression_only(2);
  expression_only[1].hidden = true;
  ByteWriter lone;
  write_browse_info(lone, expression_only);
  EXPECT_EQ(lone.data(), (B{0xA5, 6, 0, 1, 0, 0x04, 2, 0, 0x14}));
}

TEST(TdsTypesTest, DecodesRpcParametersOfEveryCommonType) {
  // Given parameters as clients send them, decoding should give the sandbox's types and values.
  auto decode = [](const B& b) {
    ByteReader r(b);
    DecodedValue v = read_type_and_value(r);
    EXPECT_TRUE(r.at_end());
    return v;
  };
  EXPECT_EQ(decode({0x26, 4, 4, 0xFE, 0xFF, 0xFF, 0xFF}).value, Value{std::int64_t{-2}});
  EXPECT_EQ(decode({0x26, 8, 0}).value, Value{});
  EXPECT_EQ(decode({0x38, 7, 0, 0, 0}).value, Value{std::int64_t{7}});
  const auto n = decode({0x6C, 13, 25, 0, 13, 1, 0x64, 0x93, 0x53, 0xE2, 0x4D, 0x73, 0x83, 0, 0, 0, 0, 0});
  EXPECT_EQ(n.type.type, SqlType::decimal);
  EXPECT_EQ(n.type.precision, 25);
  EXPECT_EQ(n.value, Value{std::string("37000000295900004")});
  const auto s = decode({0xE7, 0x40, 0x1F, 0x09, 0x04, 0xD0, 0x00, 0x34, 4, 0, 'h', 0, 'i', 0});
  EXPECT_EQ(s.type.type, SqlType::nvarchar);
  EXPECT_EQ(s.type.length, 4000);
  EXPECT_EQ(s.value, Value{std::string("hi")});
  const auto plp = decode({0xE7, 0xFF, 0xFF, 0x09, 0x04, 0xD0, 0x00, 0x34, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                           2, 0, 0, 0, 'h', 0, 2, 0, 0, 0, 'i', 0, 0, 0, 0, 0});
  EXPECT_EQ(plp.type.length, k_max_length);
  EXPECT_EQ(plp.value, Value{std::string("hi")});
  EXPECT_EQ(decode({0x24, 16, 16, 0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9,
                    0x64, 0xFF}).value,
            Value{std::string("6F9619FF-8B86-D011-B42D-00C04FC964FF")});
  EXPECT_EQ(decode({0x2A, 7, 8, 0x87, 0x4D, 0x55, 0x46, 0x73, 0x80, 0x46, 0x0B}).value,
            Value{std::string("2024-02-29 13:45:10.1234567")});
  EXPECT_EQ(decode({0x28, 3, 0x80, 0x46, 0x0B}).value, Value{std::string("2024-02-29")});
  EXPECT_EQ(decode({0x28, 3, 0x80, 0x46, 0x0B}).type.type, SqlType::date);
  EXPECT_EQ(decode({0xA5, 0x40, 0x1F, 2, 0, 0xDE, 0xAD}).value, (Value{Bytes{{0xDE, 0xAD}}}));
  EXPECT_EQ(decode({0x6E, 8, 8, 0, 0, 0, 0, 0x10, 0x27, 0, 0}).value, Value{std::string("1.0000")});  // money 1
  EXPECT_THROW(decode({0xF1, 0}), ProtocolError);  // xml
}

}  // namespace
}  // namespace sandbox::tds
