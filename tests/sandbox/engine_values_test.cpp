// Values are never altered and SQL Server's errors are raised (issue 11): exact decimals
// through literals, storage, arithmetic, aggregates and CAST; 8134, 245, 8114, 241, 8115,
// 2628; the types real schemas use. In-process, no TDS.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineValuesTest : public ValueQueryTest {
 protected:
  EngineValuesTest() : ValueQueryTest("values", "vals") {}
};

TEST_F(EngineValuesTest, WideNumericLiteralIsStoredAndReadExactly) {
  must(*m_s, "CREATE TABLE lsns (id int PRIMARY KEY, lsn numeric(25,0))");
  must(*m_s, "INSERT INTO lsns (id, lsn) VALUES (1, 1234567890123456789012345)");
  EXPECT_EQ(as_str(scalar("SELECT lsn FROM lsns WHERE id = 1")), "1234567890123456789012345");
  EXPECT_EQ(as_str(scalar("SELECT 1234567890123456789012345")), "1234567890123456789012345");
  const ColumnType t = type_of("SELECT 1234567890123456789012345");
  EXPECT_EQ(t.type, SqlType::decimal);
  EXPECT_EQ(t.precision, 25);
}

TEST_F(EngineValuesTest, WideDecimalComparesNumerically) {
  must(*m_s, "CREATE TABLE lsns (id int PRIMARY KEY, lsn numeric(25,0))");
  must(*m_s, "INSERT INTO lsns (id, lsn) VALUES (1, 9), (2, 10), (3, 1234567890123456789012345)");
  auto r = must(*m_s, "SELECT id FROM lsns WHERE lsn > 9 ORDER BY id");
  ASSERT_EQ(r.sets.back().rows.size(), 2u);  // as text, '9' > '10' would keep only one
  EXPECT_EQ(as_int(r.sets.back().rows[0][0]), 2);
}

TEST_F(EngineValuesTest, DecimalArithmeticIsExactWithSqlServerResultTypes) {
  EXPECT_EQ(as_str(scalar("SELECT CAST(1234567890123456789012345 AS numeric(25,0)) + 1")), "1234567890123456789012346");
  EXPECT_EQ(as_str(scalar("SELECT CAST(0.1 AS decimal(10,2)) + CAST(0.2 AS decimal(10,2))")), "0.30");
  const ColumnType sum = type_of("SELECT CAST(1 AS decimal(10,2)) + CAST(1 AS decimal(5,4))");
  EXPECT_EQ(sum.type, SqlType::decimal);
  EXPECT_EQ(sum.precision, 13);
  EXPECT_EQ(sum.scale, 4);
  EXPECT_EQ(as_str(scalar("SELECT CAST(1 AS decimal(5,0)) / CAST(3 AS decimal(5,0))")), "0.333333");  // (11,6)
  EXPECT_EQ(as_str(scalar("SELECT CAST(2 AS decimal(5,2)) / CAST(3 AS decimal(5,2))")), "0.66666667");  // (13,8), rounded
  EXPECT_EQ(as_str(scalar("SELECT CAST(12345678901234567.89 AS decimal(20,2)) * 10")), "123456789012345678.90");
}

TEST_F(EngineValuesTest, DecimalAggregatesAreExact) {
  must(*m_s, "CREATE TABLE m (v decimal(30,2))");
  must(*m_s, "INSERT INTO m (v) VALUES (1234567890123456789012.10), (0.05), (0.05)");
  EXPECT_EQ(as_str(scalar("SELECT SUM(v) FROM m")), "1234567890123456789012.20");
  EXPECT_EQ(as_str(scalar("SELECT MAX(v) FROM m")), "1234567890123456789012.10");
  EXPECT_EQ(as_str(scalar("SELECT MIN(v) FROM m")), "0.05");
  const ColumnType t = type_of("SELECT SUM(v) FROM m");
  EXPECT_EQ(t.precision, 38);
  EXPECT_EQ(t.scale, 2);
}

TEST_F(EngineValuesTest, CastRoundsHalfAwayFromZero) {
  EXPECT_EQ(as_str(scalar("SELECT CAST(2.345 AS decimal(5,2))")), "2.35");
  EXPECT_EQ(as_str(scalar("SELECT CAST(-2.345 AS decimal(5,2))")), "-2.35");
  EXPECT_EQ(as_str(scalar("SELECT CAST('12.5' AS decimal(5,0))")), "13");
  EXPECT_EQ(as_int(scalar("SELECT CAST(2.99 AS int)")), 2);  // to int truncates
}

TEST_F(EngineValuesTest, DivideByZeroRaises8134) {
  for (const char* sql : {"SELECT 1/0", "SELECT 5 % 0", "SELECT CAST(1 AS decimal(5,2)) / 0", "SELECT 1.5E0 / 0"}) {
    const Message m = error_of(sql);
    EXPECT_EQ(m.number, 8134) << sql;
    EXPECT_EQ(m.severity, 16);
    EXPECT_EQ(m.state, 1);
    EXPECT_EQ(m.text, "Divide by zero error encountered.");
  }
  EXPECT_EQ(as_int(scalar("SELECT 7 / 2")), 3);
  EXPECT_EQ(as_int(scalar("SELECT -7 % 2")), -1);
}

TEST_F(EngineValuesTest, ConversionErrorsAreSqlServers) {
  Message m = error_of("SELECT CAST('abc' AS int)");
  EXPECT_EQ(m.number, 245);
  EXPECT_EQ(m.severity, 16);
  EXPECT_EQ(m.text, "Conversion failed when converting the varchar value 'abc' to data type int.");
  m = error_of("SELECT CAST(N'x1' AS int)");
  EXPECT_EQ(m.text, "Conversion failed when converting the nvarchar value 'x1' to data type int.");
  m = error_of("SELECT CAST('abc' AS decimal(10,2))");
  EXPECT_EQ(m.number, 8114);
  EXPECT_EQ(m.text, "Error converting data type varchar to numeric.");
  m = error_of("SELECT CAST('abc' AS float)");
  EXPECT_EQ(m.number, 8114);
  EXPECT_EQ(m.text, "Error converting data type varchar to float.");
  m = error_of("SELECT CAST('2026-13-45' AS datetime)");
  EXPECT_EQ(m.number, 241);
  EXPECT_EQ(m.text, "Conversion failed when converting date and/or time from character string.");
  m = error_of("SELECT CAST(123.45 AS decimal(4,2))");
  EXPECT_EQ(m.number, 8115);
  EXPECT_EQ(m.text, "Arithmetic overflow error converting numeric to data type numeric.");
  m = error_of("SELECT CAST(300 AS tinyint)");
  EXPECT_EQ(m.number, 8115);
  EXPECT_EQ(m.text, "Arithmetic overflow error converting int to data type tinyint.");
  m = error_of("SELECT 2147483647 + 1");
  EXPECT_EQ(m.number, 8115);
  EXPECT_EQ(m.text, "Arithmetic overflow error converting expression to data type int.");
  EXPECT_EQ(as_int(scalar("SELECT CAST(' 42 ' AS int)")), 42);
}

TEST_F(EngineValuesTest, InsertConvertsToTheColumnTypeWithErrors) {
  must(*m_s, "CREATE TABLE t (id int, name varchar(5), code char(4), amount decimal(5,2), b binary(3))");
  Message m = error_of("INSERT INTO t (id) VALUES ('abc')");
  EXPECT_EQ(m.number, 245);
  m = error_of("INSERT INTO t (id, name) VALUES (1, 'toolong')");
  EXPECT_EQ(m.number, 2628);
  EXPECT_EQ(m.severity, 16);
  EXPECT_EQ(m.text, "String or binary data would be truncated in table 'dbo.t', column 'name'. Truncated value: 'toolo'.");
  m = error_of("INSERT INTO t (id, amount) VALUES (1, 1000)");
  EXPECT_EQ(m.number, 8115);
  must(*m_s, "INSERT INTO t (id, name, code, amount, b) VALUES (1, 'ab', 'x', 1.005, 0x0102)");
  auto r = must(*m_s, "SELECT code, amount, b FROM t");
  ASSERT_EQ(r.sets.back().rows.size(), 1u);
  EXPECT_EQ(as_str(r.sets.back().rows[0][0]), "x   ");  // char(4) padded with spaces
  EXPECT_EQ(as_str(r.sets.back().rows[0][1]), "1.01");  // rounded half away from zero
  EXPECT_EQ(std::get<Bytes>(r.sets.back().rows[0][2]).data, (std::vector<std::uint8_t>{1, 2, 0}));  // zero padded
  EXPECT_EQ(r.sets.back().columns[0].type.type, SqlType::char_);
  EXPECT_EQ(r.sets.back().columns[2].type.type, SqlType::binary);
}

TEST_F(EngineValuesTest, DateTimeLiteralFormsAndTypes) {
  must(*m_s, "CREATE TABLE d (a datetime, b date, c time(3), e datetimeoffset(2), f smalldatetime, g datetime2(3))");
  must(*m_s, "INSERT INTO d (a, b, c, e, f, g) VALUES ('20261202', '2026-12-02T10:00:00', '10:11:12.1234',"
             " '2026-12-02 10:00:00.125 +05:30', '2026-12-02 10:00:40', '2026-12-02 10:00:00.123')");
  auto r = must(*m_s, "SELECT a, b, c, e, f, g FROM d");
  ASSERT_EQ(r.sets.back().rows.size(), 1u);
  const auto& row = r.sets.back().rows[0];
  EXPECT_EQ(as_str(row[0]), "2026-12-02 00:00:00.000");
  EXPECT_EQ(as_str(row[1]), "2026-12-02");
  EXPECT_EQ(as_str(row[2]), "10:11:12.123");
  EXPECT_EQ(as_str(row[3]), "2026-12-02 10:00:00.13 +05:30");  // the offset is kept
  EXPECT_EQ(as_str(row[4]), "2026-12-02 10:01:00");             // smalldatetime rounds to the minute
  EXPECT_EQ(as_str(row[5]), "2026-12-02 10:00:00.123");
  const auto& cols = r.sets.back().columns;
  EXPECT_EQ(cols[1].type.type, SqlType::date);
  EXPECT_EQ(cols[2].type.type, SqlType::time);
  EXPECT_EQ(cols[2].type.scale, 3);
  EXPECT_EQ(cols[3].type.type, SqlType::datetimeoffset);
  EXPECT_EQ(cols[4].type.type, SqlType::smalldatetime);
  EXPECT_EQ(as_str(scalar("SELECT CAST('2026-12-02 10:00:00.002' AS datetime)")), "2026-12-02 10:00:00.003");
  EXPECT_EQ(as_str(scalar("SELECT {d '2026-12-02'}")), "2026-12-02");
}

// The string forms of "Supported string literal formats for datetime" (DATEFORMAT mdy),
// beyond ISO 8601: FreeTDS's 'Sep 11 2001 10:00AM', tedious's '2011-12-4 10:04:23'.
TEST_F(EngineValuesTest, DatetimeCharacterStringForms) {
  const std::vector<std::pair<std::string, std::string>> datetimes = {
      {"Sep 11 2001 10:00AM", "2001-09-11 10:00:00.000"},
      {"Sep 11 2001 12:30PM", "2001-09-11 12:30:00.000"},
      {"Sep 11 2001 12:05AM", "2001-09-11 00:05:00.000"},
      {"2011-12-4 10:04:23", "2011-12-04 10:04:23.000"},
      {"1998-1-1 23:59:59.997", "1998-01-01 23:59:59.997"},
      {"1998-1-1 23:59:59.999", "1998-01-02 00:00:00.000"},  // datetime's 1/300 s rounds up
      {"4/15/1996", "1996-04-15 00:00:00.000"},
      {"04-15-96 10 PM", "1996-04-15 22:00:00.000"},
      {"4.15.49", "2049-04-15 00:00:00.000"},  // the two digit year cutoff, 2049
      {"4/15/50", "1950-04-15 00:00:00.000"},
      {"1996/04/15", "1996-04-15 00:00:00.000"},
      {"April 15, 1996", "1996-04-15 00:00:00.000"},
      {"15 Apr 1996 14:30", "1996-04-15 14:30:00.000"},
      {"1996 APR 15", "1996-04-15 00:00:00.000"},
      {"apr 1996", "1996-04-01 00:00:00.000"},
      {"960415", "1996-04-15 00:00:00.000"},
      {"1996", "1996-01-01 00:00:00.000"},
      {"10:04:23:500", "1900-01-01 10:04:23.500"},  // ':' before milliseconds
      {"3PM", "1900-01-01 15:00:00.000"},
  };
  for (const auto& [text, expected] : datetimes) {
    EXPECT_EQ(as_str(scalar("SELECT CAST('" + text + "' AS datetime)")), expected) << text;
  }
  EXPECT_EQ(as_str(scalar("SELECT CAST('Sep 11 2001 10:00AM' AS datetime2(0))")), "2001-09-11 10:00:00");
  EXPECT_EQ(as_str(scalar("SELECT CAST('Feb 29 2024' AS date)")), "2024-02-29");
  for (const std::string bad : {"Feb 30 2001", "13/1/2001", "Sep 11 2001 13:00PM", "Sept 11 2001", "Sep Oct 2001",
                                "4/15", "11 2001 10:00AM x", "2001-09-11 25:00"}) {
    const Message m = error_of("SELECT CAST('" + bad + "' AS datetime)");
    EXPECT_EQ(m.number, 241) << bad;
  }
}

TEST_F(EngineValuesTest, ValuesWithoutAColumnListAreConvertedToTheirColumnsTypes) {
  // FreeTDS binds a timestamp parameter as datetime2(7): INSERT INTO t VALUES(@P1) into a
  // datetime column stores a datetime, which compares equal to CONVERT(DATETIME, '...').
  must(*m_s, "CREATE TABLE dt (a int, b datetime)");
  must(*m_s, "EXEC sp_executesql N'INSERT INTO dt VALUES(1, @P1)', N'@P1 datetime2', '2005-07-22 09:51:34.0000000'");
  EXPECT_EQ(as_str(scalar("SELECT CAST(b AS varchar(30)) FROM dt")), "2005-07-22 09:51:34.000");
  EXPECT_EQ(as_int(scalar("SELECT COUNT(*) FROM dt WHERE b = CONVERT(DATETIME, '2005-07-22 09:51:34')")), 1);
  // The wrong number of values: SQL Server's 213, 109 and 110, and no row.
  Message m = error_of("INSERT INTO dt VALUES (2)");
  EXPECT_EQ(m.number, 213);
  EXPECT_EQ(m.text, "Column name or number of supplied values does not match table definition.");
  m = error_of("INSERT INTO dt (a, b) VALUES (2)");
  EXPECT_EQ(m.number, 109);
  m = error_of("INSERT INTO dt (a) VALUES (2, 3)");
  EXPECT_EQ(m.number, 110);
  EXPECT_EQ(as_int(scalar("SELECT COUNT(*) FROM dt")), 1);
  // A temporary table's values are converted (and checked) the same way.
  must(*m_s, "CREATE TABLE #tmp_insert (col datetime, n numeric(5,1))");
  must(*m_s, "EXEC sp_executesql N'INSERT INTO #tmp_insert VALUES(@P1, 2.25)', N'@P1 datetime2', '2005-07-22 09:51:34.0000000'");
  EXPECT_EQ(as_int(scalar("SELECT COUNT(*) FROM #tmp_insert WHERE col = CONVERT(DATETIME, '2005-07-22 09:51:34')")), 1);
  EXPECT_EQ(as_str(scalar("SELECT CAST(n AS varchar(10)) FROM #tmp_insert")), "2.3");
  EXPECT_EQ(error_of("INSERT INTO #tmp_insert VALUES (1)").number, 213);
  EXPECT_EQ(error_of("INSERT INTO #tmp_insert (n) VALUES ('x')").number, 8114);
}

TEST_F(EngineValuesTest, MoneyAndRealColumns) {
  must(*m_s, "CREATE TABLE p (m money, s smallmoney, r real)");
  must(*m_s, "INSERT INTO p (m, s, r) VALUES (922337203685477.5807, 12.34565, 0.1)");
  auto r = must(*m_s, "SELECT m, s, r FROM p");
  const auto& row = r.sets.back().rows[0];
  EXPECT_EQ(as_str(row[0]), "922337203685477.5807");
  EXPECT_EQ(as_str(row[1]), "12.3457");
  EXPECT_DOUBLE_EQ(std::get<double>(row[2]), static_cast<double>(0.1f));
  EXPECT_EQ(r.sets.back().columns[0].type.type, SqlType::money);
  EXPECT_EQ(r.sets.back().columns[1].type.type, SqlType::smallmoney);
  EXPECT_EQ(r.sets.back().columns[2].type.type, SqlType::real);
}

TEST_F(EngineValuesTest, ConstraintViolationsNameTheirObjects) {
  must(*m_s, "CREATE TABLE parent (id int NOT NULL, name varchar(10) NOT NULL, CONSTRAINT PK_parent PRIMARY KEY (id))");
  must(*m_s, "CREATE TABLE child (cid int PRIMARY KEY, pid int, CONSTRAINT FK_child_parent FOREIGN KEY (pid) REFERENCES parent (id))");
  must(*m_s, "CREATE UNIQUE INDEX IX_parent_name ON parent (name)");
  must(*m_s, "INSERT INTO parent (id, name) VALUES (1, 'one')");
  must(*m_s, "INSERT INTO child (cid, pid) VALUES (10, 1)");
  Message m = error_of("INSERT INTO parent (id, name) VALUES (1, 'uno')");
  EXPECT_EQ(m.number, 2627);
  EXPECT_EQ(m.severity, 14);
  EXPECT_EQ(m.text, "Violation of PRIMARY KEY constraint 'PK_parent'. Cannot insert duplicate key in object 'dbo.parent'."
                    " The duplicate key value is (1).");
  m = error_of("INSERT INTO parent (id, name) VALUES (2, 'one')");
  EXPECT_EQ(m.number, 2601);
  EXPECT_EQ(m.text, "Cannot insert duplicate key row in object 'dbo.parent' with unique index 'IX_parent_name'."
                    " The duplicate key value is (one).");
  m = error_of("INSERT INTO parent (id, name) VALUES (3, NULL)");
  EXPECT_EQ(m.number, 515);
  EXPECT_EQ(m.state, 2);
  EXPECT_EQ(m.text, "Cannot insert the value NULL into column 'name', table 'vals.dbo.parent'; column does not allow nulls."
                    " INSERT fails.");
  m = error_of("INSERT INTO child (cid, pid) VALUES (11, 99)");
  EXPECT_EQ(m.number, 547);
  EXPECT_EQ(m.text, "The INSERT statement conflicted with the FOREIGN KEY constraint \"FK_child_parent\". The conflict occurred"
                    " in database \"vals\", table \"dbo.parent\", column 'id'.");
  m = error_of("DELETE FROM parent WHERE id = 1");
  EXPECT_EQ(m.number, 547);
  EXPECT_EQ(m.text, "The DELETE statement conflicted with the REFERENCE constraint \"FK_child_parent\". The conflict occurred"
                    " in database \"vals\", table \"dbo.child\", column 'pid'.");
}

TEST_F(EngineValuesTest, DateaddOverflowRaises517) {
  Message m = error_of("SELECT DATEADD(day, 1, CAST('9999-12-31' AS datetime))");
  EXPECT_EQ(m.number, 517);
  EXPECT_EQ(m.severity, 16);
  EXPECT_EQ(m.text, "Adding a value to a 'datetime' column caused an overflow.");
  m = error_of("SELECT DATEADD(year, -300, CAST('2026-12-02' AS datetime))");  // before 1753
  EXPECT_EQ(m.number, 517);
  m = error_of("SELECT DATEADD(day, 1, CAST('9999-12-31' AS date))");
  EXPECT_EQ(m.text, "Adding a value to a 'date' column caused an overflow.");
  EXPECT_EQ(as_str(scalar("SELECT DATEADD(day, 1, '20261202')")), "2026-12-03 00:00:00.000");
  EXPECT_EQ(as_str(scalar("SELECT DATEADD(day, 1, CAST('2026-12-02' AS date))")), "2026-12-03");
}

TEST_F(EngineValuesTest, ColumnMetadataReportsTypesAndNullability) {
  must(*m_s, "CREATE TABLE c (id int NOT NULL PRIMARY KEY, name nvarchar(20) NOT NULL, note varchar(max), price decimal(9,3))");
  auto r = must(*m_s, "SELECT id, name, note, price FROM c");
  const auto& cols = r.sets.back().columns;
  ASSERT_EQ(cols.size(), 4u);
  EXPECT_FALSE(cols[0].nullable);
  EXPECT_FALSE(cols[1].nullable);
  EXPECT_TRUE(cols[2].nullable);
  EXPECT_EQ(cols[1].type.type, SqlType::nvarchar);
  EXPECT_EQ(cols[1].type.length, 20);
  EXPECT_EQ(cols[2].type.length, k_max_length);
  EXPECT_EQ(cols[3].type.precision, 9);
  EXPECT_EQ(cols[3].type.scale, 3);
  // An expression over them: SQL Server's result type.
  const ColumnType t = type_of("SELECT price * 2 FROM c");
  EXPECT_EQ(t.type, SqlType::decimal);
  EXPECT_EQ(t.precision, 20);  // decimal(9,3) * int(10,0): p 9+10+1, s 3
  EXPECT_EQ(t.scale, 3);
}

TEST_F(EngineValuesTest, VariablesHoldTheirDeclaredType) {
  EXPECT_EQ(as_str(scalar("DECLARE @d decimal(5,2) = 1.005; SELECT @d")), "1.01");
  EXPECT_EQ(as_str(scalar("DECLARE @n numeric(25,0) = 1234567890123456789012345; SET @n = @n + 1; SELECT @n")),
            "1234567890123456789012346");
  EXPECT_EQ(error_of("DECLARE @i int = 'abc'").number, 245);
  EXPECT_EQ(error_of("DECLARE @i tinyint; SET @i = 256").number, 8115);
}

TEST_F(EngineValuesTest, CheckConstraintViolationIs547NamingIt) {
  must(*m_s, "CREATE TABLE acct (id int PRIMARY KEY, bal int CONSTRAINT CK_acct_bal CHECK (bal >= 0), lim int,"
             " CONSTRAINT CK_acct_lim CHECK (lim < 100))");
  Message m = error_of("INSERT INTO acct (id, bal, lim) VALUES (1, -5, 0)");
  EXPECT_EQ(m.number, 547);
  EXPECT_EQ(m.state, 0);
  EXPECT_EQ(m.text, "The INSERT statement conflicted with the CHECK constraint \"CK_acct_bal\". The conflict occurred in"
                    " database \"vals\", table \"dbo.acct\", column 'bal'.");
  m = error_of("INSERT INTO acct (id, bal, lim) VALUES (1, 5, 500)");
  EXPECT_EQ(m.text, "The INSERT statement conflicted with the CHECK constraint \"CK_acct_lim\". The conflict occurred in"
                    " database \"vals\", table \"dbo.acct\".");
}

}  // namespace
