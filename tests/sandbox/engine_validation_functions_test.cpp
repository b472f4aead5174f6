// The functions validation's T-SQL relies on, as SQL Server computes them (README.md
// "Validation functions"): HASHBYTES over the bytes SQL Server hashes, CONVERT's lossless
// styles, STRING_AGG ... WITHIN GROUP, and BINARY_CHECKSUM as weak as Microsoft documents it.
#include <gtest/gtest.h>

#include "engine_test_support.hpp"

namespace sandbox::test {
namespace {

std::string hex(const Value& v) {
  const auto& b = std::get<Bytes>(v).data;
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (auto c : b) {
    out += d[static_cast<unsigned char>(c) >> 4];
    out += d[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

class ValidationFunctionsTest : public ShopInstanceTest {
 protected:
  ValidationFunctionsTest() : ShopInstanceTest("validation-functions") {}
  Value one(const std::string& sql) {
    auto r = must(*m_s, sql);
    EXPECT_FALSE(r.sets.empty()) << sql;
    if (r.sets.empty() || r.sets[0].rows.empty()) return Value{};
    return r.sets[0].rows[0][0];
  }
};

TEST_F(ValidationFunctionsTest, HashbytesHashesNvarcharAsUtf16AndVarcharAsCodePageBytes) {
  // Given the same three letters as varchar and as nvarchar, SHA2_256 should be over 'abc' and
  // over its UTF-16LE bytes, as SQL Server's are.
  EXPECT_EQ(hex(one("SELECT HASHBYTES('SHA2_256', 'abc')")), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(hex(one("SELECT HASHBYTES('SHA2_256', N'abc')")), "13E228567E8249FCE53337F25D7970DE3BD68AB2653424C7B8F9FD05E33CAEDF");
  EXPECT_EQ(hex(one("SELECT HASHBYTES('SHA2_256', N'\xC3\xA9\xE2\x82\xAC')")),
            "A76D10D144C26165D613B17AF1C7EE3B3CA0613EA6A48466FF95C778611517E9");
  EXPECT_EQ(hex(one("SELECT HASHBYTES('MD5', 'abc')")), "900150983CD24FB0D6963F7D28E17F72");
  EXPECT_EQ(hex(one("SELECT HASHBYTES('SHA1', 'abc')")), "A9993E364706816ABA3E25717850C26C9CD0D89D");
  EXPECT_EQ(hex(one("SELECT HASHBYTES('SHA2_512', 'abc')")).substr(0, 16), "DDAF35A193617ABA");
  // A column's declared type decides, as for a literal.
  must(*m_s, "CREATE TABLE dbo.h (id int PRIMARY KEY, a varchar(10), n nvarchar(10), b varbinary(10))");
  must(*m_s, "INSERT INTO dbo.h VALUES (1, 'abc', N'abc', 0x616263)");
  auto r = must(*m_s, "SELECT HASHBYTES('SHA2_256', a), HASHBYTES('SHA2_256', n), HASHBYTES('SHA2_256', b) FROM dbo.h");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(hex(r.sets[0].rows[0][0]), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(hex(r.sets[0].rows[0][1]), "13E228567E8249FCE53337F25D7970DE3BD68AB2653424C7B8F9FD05E33CAEDF");
  EXPECT_EQ(hex(r.sets[0].rows[0][2]), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one("SELECT HASHBYTES('SHA2_256', CAST(NULL AS varchar(3)))")));
}

TEST_F(ValidationFunctionsTest, ConvertStylesRenderFloatMoneyBinaryAndDatesLosslessly) {
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(max), CAST(0.1 AS float), 3)")), "1.0000000000000001E-1");
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(max), CAST(123.5 AS float), 3)")), "1.2350000000000000E+2");
  EXPECT_EQ(as_str(one("SELECT CONVERT(varchar(30), CAST(0.1 AS float), 2)")), "1.000000000000000e-001");
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(30), CAST(1234.5678 AS money), 2)")), "1234.5678");
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(30), CAST(1234.5678 AS money), 0)")), "1234.57");
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(30), CAST(1234.5678 AS money), 1)")), "1,234.57");
  EXPECT_EQ(as_str(one("SELECT CONVERT(varchar(max), 0x00ABCD, 2)")), "00ABCD");
  EXPECT_EQ(as_str(one("SELECT CONVERT(varchar(max), 0x00ABCD, 1)")), "0x00ABCD");
  EXPECT_EQ(std::get<Bytes>(one("SELECT CONVERT(varbinary(8), '00abCD', 2)")).data, (std::vector<std::uint8_t>{0x00, 0xAB, 0xCD}));
  EXPECT_EQ(std::get<Bytes>(one("SELECT CONVERT(varbinary(8), '0x0102', 1)")).data, (std::vector<std::uint8_t>{1, 2}));
  auto bad = run(*m_s, "SELECT CONVERT(varbinary(8), 'XYZ1', 2)");
  ASSERT_NE(bad.error(), nullptr);
  EXPECT_EQ(bad.error()->number, 8114);
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(max), CAST('2026-12-02 10:11:12.347' AS datetime), 121)")), "2026-12-02 10:11:12.347");
  EXPECT_EQ(as_str(one("SELECT CONVERT(nvarchar(max), CAST('2026-12-02 10:11:12.1234567' AS datetime2(7)), 121)")),
            "2026-12-02 10:11:12.1234567");
  EXPECT_EQ(as_str(one("SELECT CONVERT(varchar(30), CAST('2026-12-02 10:11:12' AS datetime), 126)")), "2026-12-02T10:11:12.000");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one("SELECT CONVERT(varchar(30), CAST(1 AS float), NULL)")));
}

TEST_F(ValidationFunctionsTest, DatalengthCountsTheBytesSqlServerStores) {
  // nvarchar: two bytes per UTF-16 unit (a character beyond the BMP is two units); varchar: one per character.
  EXPECT_EQ(as_int(one("SELECT DATALENGTH(N'abc')")), 6);
  EXPECT_EQ(as_int(one("SELECT DATALENGTH(N'\xC3\xA9\xF0\x9F\x98\x80')")), 6);
  EXPECT_EQ(as_int(one("SELECT DATALENGTH('abc ')")), 4);
  EXPECT_EQ(as_int(one("SELECT DATALENGTH(0x0102)")), 2);
  must(*m_s, "CREATE TABLE dbo.d (id int PRIMARY KEY, n nvarchar(max), v varchar(10))");
  must(*m_s, "INSERT INTO dbo.d VALUES (1, N'\xC3\xA9t\xC3\xA9', 'abc')");
  auto r = must(*m_s, "SELECT DATALENGTH(n), DATALENGTH(v), DATALENGTH(CONVERT(nvarchar(max), v)) FROM dbo.d");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 6);
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 3);
  EXPECT_EQ(as_int(r.sets[0].rows[0][2]), 6);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one("SELECT DATALENGTH(CAST(NULL AS nvarchar(3)))")));
}

TEST_F(ValidationFunctionsTest, StringAggWithinGroupOrdersBeforeJoining) {
  must(*m_s, "CREATE TABLE dbo.s (id int PRIMARY KEY, grp int, v nvarchar(10))");
  must(*m_s, "INSERT INTO dbo.s VALUES (3, 1, N'c'), (1, 1, N'a'), (2, 1, N'b'), (4, 2, NULL), (5, 2, N'e')");
  EXPECT_EQ(as_str(one("SELECT STRING_AGG(v, N',') WITHIN GROUP (ORDER BY id) FROM dbo.s WHERE grp = 1")), "a,b,c");
  EXPECT_EQ(as_str(one("SELECT STRING_AGG(v, '') WITHIN GROUP (ORDER BY id DESC) FROM dbo.s WHERE grp = 1")), "cba");
  // NULL values are skipped; no rows at all give NULL.
  EXPECT_EQ(as_str(one("SELECT STRING_AGG(v, '-') WITHIN GROUP (ORDER BY id) FROM dbo.s WHERE grp = 2")), "e");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one("SELECT STRING_AGG(v, ',') FROM dbo.s WHERE grp = 9")));
  auto per_group = must(*m_s, "SELECT grp, STRING_AGG(v, '') WITHIN GROUP (ORDER BY id DESC) AS joined FROM dbo.s GROUP BY grp ORDER BY grp");
  ASSERT_EQ(per_group.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(as_str(per_group.sets[0].rows[0][1]), "cba");
}

TEST_F(ValidationFunctionsTest, BinaryChecksumIsBlindWhereMicrosoftSaysItIs) {
  // "ignores columns of noncomparable data types ... text, ntext, image, xml" and "up to 255
  // characters of type nvarchar(max)": a weak check stays weak in the rehearsal world.
  must(*m_s, "CREATE TABLE dbo.w (id int PRIMARY KEY, body nvarchar(max), notes text, pic image, tail varbinary(max))");
  const std::string body(300, 'a');
  must(*m_s, "INSERT INTO dbo.w VALUES (1, N'" + body + "', 'x', 0x01, 0x02)");
  const auto checksum = [&] { return as_int(one("SELECT BINARY_CHECKSUM(*) FROM dbo.w")); };
  const auto before = checksum();
  std::string changed_late = body;
  changed_late[299] = 'b';
  must(*m_s, "UPDATE dbo.w SET body = N'" + changed_late + "'");
  EXPECT_EQ(checksum(), before) << "a change past character 255 of an nvarchar(max) is not seen";
  must(*m_s, "UPDATE dbo.w SET notes = 'changed', pic = 0x0102");
  EXPECT_EQ(checksum(), before) << "text and image columns are ignored";
  std::string changed_early = body;
  changed_early[9] = 'b';
  must(*m_s, "UPDATE dbo.w SET body = N'" + changed_early + "'");
  EXPECT_NE(checksum(), before) << "a change in the first 255 characters is seen";
  const auto early = checksum();
  must(*m_s, "UPDATE dbo.w SET tail = 0x03");
  EXPECT_NE(checksum(), early) << "varbinary(max) counts at any length";
}

}  // namespace
}  // namespace sandbox::test
