// The column kinds real schemas have and DMS treats specially (issue 13): xml (well-formed
// text, Msg 94xx, 305), rowversion/timestamp (@@DBTS, 273, 272, kept by backup/restore) and
// computed columns (recomputed on write, 271, sys.computed_columns). In-process, no TDS.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineColumnKindsTest : public ShopInstanceTest {
 protected:
  EngineColumnKindsTest() : ShopInstanceTest("kinds") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s,
         "CREATE TABLE dbo.Products (Id int IDENTITY(1,1) PRIMARY KEY, Name nvarchar(50) NOT NULL,"
         " Price decimal(10,2) NOT NULL, Spec xml NULL, RowVer rowversion, PriceWithTax AS (Price * 1.2),"
         " NameLength AS (LEN(Name)) PERSISTED)");
  }
  Value scalar(const std::string& sql) { return scalar_of(*m_s, sql); }
  Message error_of(const std::string& sql) { return test::error_of(*m_s, sql); }
  std::vector<std::uint8_t> rowversion_of(int id) {
    const Value v = scalar("SELECT RowVer FROM dbo.Products WHERE Id = " + std::to_string(id));
    return std::holds_alternative<Bytes>(v) ? std::get<Bytes>(v).data : std::vector<std::uint8_t>{};
  }
};

std::vector<std::uint8_t> bytes_of(const Value& v) {
  return std::holds_alternative<Bytes>(v) ? std::get<Bytes>(v).data : std::vector<std::uint8_t>{};
}

TEST_F(EngineColumnKindsTest, XmlColumnStoresWellFormedXmlAndCastsToText) {
  // Given an xml column, a document, a fragment and NULL are stored and read back as text.
  must(*m_s, "INSERT INTO dbo.Products (Name, Price, Spec) VALUES (N'a', 1, N'<spec><w unit=\"g\">12</w></spec>'),"
             " (N'b', 2, N'12 <b/>'), (N'c', 3, NULL)");
  auto r = must(*m_s, "SELECT Spec, CAST(Spec AS nvarchar(max)) FROM dbo.Products ORDER BY Id");
  ASSERT_EQ(r.sets.back().rows.size(), 3u);
  EXPECT_EQ(r.sets.back().columns[0].type.type, SqlType::xml);
  EXPECT_EQ(as_str(r.sets.back().rows[0][0]), "<spec><w unit=\"g\">12</w></spec>");
  EXPECT_EQ(as_str(r.sets.back().rows[1][1]), "12 <b/>");  // a fragment, not turned into a number
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets.back().rows[2][0]));
  EXPECT_EQ(as_str(scalar("SELECT CAST(N'<a/>' AS xml)")), "<a/>");
  EXPECT_EQ(as_int(scalar("SELECT COUNT(*) FROM dbo.Products WHERE Spec IS NULL")), 1);
}

TEST_F(EngineColumnKindsTest, MalformedXmlIsRefusedWhateverWritesIt) {
  // Given malformed XML, INSERT ... VALUES, UPDATE and CAST fail with SQL Server's XML parsing errors.
  auto e = error_of("INSERT INTO dbo.Products (Name, Price, Spec) VALUES (N'a', 1, N'<spec>')");
  EXPECT_EQ(e.number, 9400);
  EXPECT_EQ(e.text, "XML parsing: line 1, character 6, unexpected end of input");
  e = error_of("SELECT CAST(N'<a></b>' AS xml)");
  EXPECT_EQ(e.number, 9436);
  EXPECT_NE(e.text.find("end tag does not match start tag"), std::string::npos) << e.text;
  must(*m_s, "INSERT INTO dbo.Products (Name, Price, Spec) VALUES (N'a', 1, N'<ok/>')");
  e = error_of("UPDATE dbo.Products SET Spec = N'<a b=1/>' WHERE Id = 1");
  EXPECT_EQ(e.number, 9413);
  EXPECT_EQ(e.text.rfind("XML parsing: line 1, character ", 0), 0u) << e.text;
  e = error_of("INSERT INTO dbo.Products (Name, Price, Spec) SELECT N'x', 1, N'<unclosed'");
  EXPECT_EQ(e.number, 9400);
  EXPECT_EQ(as_str(scalar("SELECT CAST(Spec AS nvarchar(max)) FROM dbo.Products WHERE Id = 1")), "<ok/>");
}

TEST_F(EngineColumnKindsTest, XmlCannotBeCompared) {
  // Given an xml column, = is Msg 305; IS NULL is allowed.
  auto e = error_of("SELECT Id FROM dbo.Products WHERE Spec = N'<a/>'");
  EXPECT_EQ(e.number, 305);
  EXPECT_EQ(e.text, "The XML data type cannot be compared or sorted, except when using the IS NULL operator.");
  must(*m_s, "SELECT Id FROM dbo.Products WHERE Spec IS NOT NULL");
}

TEST_F(EngineColumnKindsTest, RowversionIsDatabaseWideAndChangesWithEveryUpdate) {
  // Given two inserts and an update, each row gets @@DBTS + 1, and @@DBTS is the last value given.
  const auto before = bytes_of(scalar("SELECT @@DBTS"));
  ASSERT_EQ(before.size(), 8u);
  must(*m_s, "INSERT INTO dbo.Products (Name, Price) VALUES (N'a', 1), (N'b', 2)");
  const auto a = rowversion_of(1), b = rowversion_of(2);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_GT(a, before);
  EXPECT_GT(b, a);
  EXPECT_EQ(bytes_of(scalar("SELECT @@DBTS")), b);
  must(*m_s, "UPDATE dbo.Products SET Price = 5 WHERE Id = 1");
  const auto a2 = rowversion_of(1);
  EXPECT_GT(a2, b);
  EXPECT_EQ(rowversion_of(2), b);  // a row not updated keeps its value
  EXPECT_EQ(bytes_of(scalar("SELECT @@DBTS")), a2);
  // Another table shares the counter.
  must(*m_s, "CREATE TABLE dbo.Other (Id int PRIMARY KEY, Ts timestamp); INSERT INTO dbo.Other (Id) VALUES (1)");
  EXPECT_GT(bytes_of(scalar("SELECT Ts FROM dbo.Other")), a2);
}

TEST_F(EngineColumnKindsTest, RowversionRefusesExplicitValues) {
  // Given a rowversion column, an explicit value in INSERT is 273, DEFAULT is allowed; UPDATE of it is 272.
  auto e = error_of("INSERT INTO dbo.Products (Name, Price, RowVer) VALUES (N'a', 1, 0x01)");
  EXPECT_EQ(e.number, 273);
  EXPECT_EQ(e.text, "Cannot insert an explicit value into a timestamp column. Use INSERT with a column list to exclude the "
                    "timestamp column, or insert a DEFAULT into the timestamp column.");
  must(*m_s, "INSERT INTO dbo.Products (Name, Price, RowVer) VALUES (N'a', 1, DEFAULT)");
  EXPECT_EQ(rowversion_of(1).size(), 8u);
  // Without a column list the values go to every column but the identity and computed ones.
  EXPECT_EQ(error_of("INSERT INTO dbo.Products VALUES (N'b', 2, NULL, 0x01)").number, 273);
  must(*m_s, "INSERT INTO dbo.Products VALUES (N'b', 2, NULL, DEFAULT)");
  e = error_of("UPDATE dbo.Products SET RowVer = 0x01 WHERE Id = 1");
  EXPECT_EQ(e.number, 272);
  EXPECT_EQ(e.text, "Cannot update a timestamp column.");
}

TEST_F(EngineColumnKindsTest, ComputedColumnIsRecomputedOnInsertAndUpdate) {
  // Given Price * 1.2 and LEN(Name) PERSISTED, both follow their columns; SELECT * returns them.
  must(*m_s, "INSERT INTO dbo.Products (Name, Price) VALUES (N'abc', 10.00)");
  auto r = must(*m_s, "SELECT * FROM dbo.Products");
  ASSERT_EQ(r.sets.back().columns.size(), 7u);
  EXPECT_EQ(r.sets.back().columns[5].name, "PriceWithTax");
  EXPECT_EQ(r.sets.back().columns[5].type.type, SqlType::decimal);
  EXPECT_EQ(r.sets.back().columns[5].type.scale, 3);  // decimal(10,2) * numeric(2,1): scale 2 + 1
  EXPECT_EQ(as_str(r.sets.back().rows[0][5]), "12.000");
  EXPECT_EQ(as_int(r.sets.back().rows[0][6]), 3);
  must(*m_s, "UPDATE dbo.Products SET Price = 19.99, Name = N'abcdef' WHERE Id = 1");
  EXPECT_EQ(as_str(scalar("SELECT PriceWithTax FROM dbo.Products")), "23.988");
  EXPECT_EQ(as_int(scalar("SELECT NameLength FROM dbo.Products")), 6);
  EXPECT_EQ(as_int(scalar("SELECT COUNT(*) FROM dbo.Products WHERE PriceWithTax > 20")), 1);
}

TEST_F(EngineColumnKindsTest, ComputedColumnCannotBeWritten) {
  // Given a computed column, INSERT and UPDATE naming it fail with 271.
  auto e = error_of("INSERT INTO dbo.Products (Name, Price, PriceWithTax) VALUES (N'a', 1, 2)");
  EXPECT_EQ(e.number, 271);
  EXPECT_EQ(e.text, "The column \"PriceWithTax\" cannot be modified because it is either a computed column or is the result of "
                    "a UNION operator.");
  must(*m_s, "INSERT INTO dbo.Products (Name, Price) VALUES (N'a', 1)");
  EXPECT_EQ(error_of("UPDATE dbo.Products SET NameLength = 1").number, 271);
}

TEST_F(EngineColumnKindsTest, CatalogShowsTheKinds) {
  // Given the table, sys.columns and sys.types name xml and timestamp, and sys.computed_columns the computed ones.
  auto r = must(*m_s, "SELECT c.name, ty.name, c.system_type_id, c.max_length, c.is_computed FROM sys.columns c"
                      " JOIN sys.types ty ON ty.user_type_id = c.user_type_id WHERE c.object_id = OBJECT_ID('dbo.Products')"
                      " ORDER BY c.column_id");
  const auto& rows = r.sets.back().rows;
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(as_str(rows[3][1]), "xml");
  EXPECT_EQ(as_int(rows[3][2]), 241);
  EXPECT_EQ(as_int(rows[3][3]), -1);
  EXPECT_EQ(as_str(rows[4][1]), "timestamp");
  EXPECT_EQ(as_int(rows[4][2]), 189);
  EXPECT_EQ(as_int(rows[4][3]), 8);
  EXPECT_EQ(as_int(rows[4][4]), 0);
  EXPECT_EQ(as_int(rows[5][4]), 1);
  EXPECT_EQ(as_int(rows[6][4]), 1);
  r = must(*m_s, "SELECT name, definition, is_persisted FROM sys.computed_columns WHERE object_id = OBJECT_ID('dbo.Products')"
                 " ORDER BY column_id");
  ASSERT_EQ(r.sets.back().rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets.back().rows[0][1]), "([Price]*(1.2))");
  EXPECT_EQ(as_int(r.sets.back().rows[0][2]), 0);
  EXPECT_EQ(as_str(r.sets.back().rows[1][1]), "(LEN([Name]))");
  EXPECT_EQ(as_int(r.sets.back().rows[1][2]), 1);
}

TEST_F(EngineColumnKindsTest, LogImagesLeaveComputedColumnsOutAndRollbackRestoresRows) {
  // Given an update rolled back, the row (rowversion included) is as before; images hold no computed column.
  must(*m_s, "INSERT INTO dbo.Products (Name, Price, Spec) VALUES (N'a', 1, N'<a/>')");
  const auto rv = rowversion_of(1);
  must(*m_s, "BEGIN TRAN; UPDATE dbo.Products SET Price = 2 WHERE Id = 1; ROLLBACK");
  EXPECT_EQ(rowversion_of(1), rv);
  EXPECT_EQ(as_str(scalar("SELECT PriceWithTax FROM dbo.Products")), "1.200");
  const std::string after = as_str(scalar("SELECT TOP (1) [Row After] FROM fn_dblog(NULL, NULL) WHERE [Operation] = "
                                          "'LOP_INSERT_ROWS' AND [AllocUnitName] = 'dbo.Products'"));
  EXPECT_NE(after.find("\"Spec\":\"<a/>\""), std::string::npos) << after;
  EXPECT_NE(after.find("\"RowVer\":{\"$binary\""), std::string::npos) << after;
  EXPECT_EQ(after.find("PriceWithTax"), std::string::npos) << after;
  EXPECT_EQ(after.find("NameLength"), std::string::npos) << after;
}

TEST_F(EngineColumnKindsTest, BackupAndRestoreKeepRowversionValues) {
  // Given rows with rowversions, a restored copy has the same values, and its @@DBTS goes on from them.
  must(*m_s, "INSERT INTO dbo.Products (Name, Price, Spec) VALUES (N'a', 1, N'<a/>'), (N'b', 2, NULL)");
  const auto a = rowversion_of(1), b = rowversion_of(2);
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + m_dir + "/shop.bak'");
  must(*m_s, "USE master; RESTORE DATABASE shop_copy FROM DISK = N'" + m_dir + "/shop.bak'; USE shop_copy");
  EXPECT_EQ(rowversion_of(1), a);
  EXPECT_EQ(rowversion_of(2), b);
  EXPECT_EQ(as_str(scalar("SELECT PriceWithTax FROM dbo.Products WHERE Id = 2")), "2.400");
  EXPECT_EQ(bytes_of(scalar("SELECT @@DBTS")), b);
  must(*m_s, "UPDATE dbo.Products SET Price = 3 WHERE Id = 1");
  EXPECT_GT(rowversion_of(1), b);
}

}  // namespace
