// sql_variant on the wire ([MS-TDS] 2.2.5.4.3 SSVARIANTTYPE, 2.2.5.5.4 SSVARIANT_INSTANCE):
// the COLMETADATA TYPE_INFO, each value as total length, base type, property count,
// properties, value; and the same bytes decoded from an RPC parameter. Golden bytes written
// out by hand from the specification (1116 = 0x045C, 8009 = 0x1F49).
#include <gtest/gtest.h>

#include "tds/type_codec.hpp"

namespace sandbox::tds {
namespace {

using B = std::vector<std::uint8_t>;

const ColumnType k_variant{SqlType::sql_variant, 0, 0, 0};

B value(const std::string& stored) {
  ByteWriter w;
  write_value(w, k_variant, Value{stored});
  return w.data();
}

DecodedValue decode(const B& instance) {
  B msg = {0x62, 0x49, 0x1F, 0x00, 0x00};
  msg.insert(msg.end(), instance.begin(), instance.end());
  ByteReader r(msg);
  return read_type_and_value(r);
}

TEST(TdsSqlVariantTest, TypeInfoIsSsvariantWithMaxLength8009) {
  ByteWriter w;
  write_type_info(w, k_variant);
  EXPECT_EQ(w.data(), (B{0x62, 0x49, 0x1F, 0x00, 0x00}));
}

TEST(TdsSqlVariantTest, IntHasNoPropertiesAndItsFixedFourBytes) {
  EXPECT_EQ(value("int:11"), (B{0x06, 0, 0, 0, 0x38, 0x00, 0x0B, 0x00, 0x00, 0x00}));
  EXPECT_EQ(value("bigint:-1"), (B{0x0A, 0, 0, 0, 0x7F, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(value("bit:1"), (B{0x03, 0, 0, 0, 0x32, 0x00, 0x01}));
}

TEST(TdsSqlVariantTest, NumericCarriesPrecisionAndScale) {
  // numeric(4,2) 11.16: DECIMALN, 2 property bytes (4, 2), then sign and a 4-byte magnitude.
  EXPECT_EQ(value("decimal(4,2):11.16"), (B{0x09, 0, 0, 0, 0x6A, 0x02, 0x04, 0x02, 0x01, 0x5C, 0x04, 0x00, 0x00}));
}

TEST(TdsSqlVariantTest, VarcharCarriesMaxLengthAndCollation) {
  // varchar(3) 'abc': BIGVARCHR, 7 property bytes (max length 3, SQL_Latin1_General_CP1_CI_AS).
  EXPECT_EQ(value("varchar(3):abc"),
            (B{0x0C, 0, 0, 0, 0xA7, 0x07, 0x03, 0x00, 0x09, 0x04, 0xD0, 0x00, 0x34, 'a', 'b', 'c'}));
  // nvarchar(5) N'ab': max length in bytes (10), the value UTF-16LE.
  EXPECT_EQ(value("nvarchar(5):ab"),
            (B{0x0D, 0, 0, 0, 0xE7, 0x07, 0x0A, 0x00, 0x09, 0x04, 0xD0, 0x00, 0x34, 'a', 0, 'b', 0}));
}

TEST(TdsSqlVariantTest, BinaryAndTimeTypesCarryTheirProperty) {
  EXPECT_EQ(value("varbinary(16):1234"), (B{0x06, 0, 0, 0, 0xA5, 0x02, 0x10, 0x00, 0x12, 0x34}));
  // time(0) 00:01:05: TIMEN, scale 0, 3 bytes of seconds.
  EXPECT_EQ(value("time(0):00:01:05"), (B{0x06, 0, 0, 0, 0x29, 0x01, 0x00, 0x41, 0x00, 0x00}));
  // date 0001-01-02: DATEN without properties, 3 bytes of days.
  EXPECT_EQ(value("date:0001-01-02"), (B{0x05, 0, 0, 0, 0x28, 0x00, 0x01, 0x00, 0x00}));
}

TEST(TdsSqlVariantTest, NullIsLengthZero) {
  ByteWriter w;
  write_value(w, k_variant, Value{});
  EXPECT_EQ(w.data(), (B{0x00, 0x00, 0x00, 0x00}));
}

TEST(TdsSqlVariantTest, RpcParameterDecodesToTheStoredForm) {
  auto i = decode({0x06, 0, 0, 0, 0x38, 0x00, 0x0B, 0x00, 0x00, 0x00});
  EXPECT_EQ(i.type.type, SqlType::sql_variant);
  EXPECT_EQ(std::get<std::string>(i.value), "int:11");
  EXPECT_EQ(std::get<std::string>(decode({0x09, 0, 0, 0, 0x6A, 0x02, 0x04, 0x02, 0x01, 0x5C, 0x04, 0x00, 0x00}).value),
            "decimal(4,2):11.16");
  EXPECT_EQ(std::get<std::string>(decode({0x0C, 0, 0, 0, 0xA7, 0x07, 0x03, 0x00, 0x09, 0x04, 0xD0, 0x00, 0x34, 'a', 'b', 'c'}).value),
            "varchar(3):abc");
  EXPECT_EQ(std::get<std::string>(decode({0x06, 0, 0, 0, 0xA5, 0x02, 0x10, 0x00, 0x12, 0x34}).value), "varbinary(16):1234");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(decode({0x00, 0x00, 0x00, 0x00}).value));
  // Every value written decodes back to itself.
  for (const std::string s : {"smallint:-3", "float:1.5", "money:12.3400", "datetime:2011-12-04 10:04:23.000",
                              "uniqueidentifier:01234567-89AB-CDEF-0123-456789ABCDEF", "datetime2(3):2020-01-02 03:04:05.678",
                              "nchar(2):xy", "time(0):00:01:05"}) {
    const B bytes = value(s);
    EXPECT_EQ(std::get<std::string>(decode(bytes).value), s) << s;
  }
}

TEST(TdsSqlVariantTest, MalformedInstancesAreProtocolErrors) {
  // Base type xml (0xF1) is none a sql_variant holds; a length beyond the type's maximum.
  EXPECT_THROW(decode({0x03, 0, 0, 0, 0xF1, 0x00, 0x00}), ProtocolError);
  EXPECT_THROW(decode({0x50, 0x1F, 0, 0, 0x38, 0x00}), ProtocolError);
  // int with a value of the wrong size.
  EXPECT_THROW(decode({0x04, 0, 0, 0, 0x38, 0x00, 0x0B, 0x00}), ProtocolError);
}

}  // namespace
}  // namespace sandbox::tds
