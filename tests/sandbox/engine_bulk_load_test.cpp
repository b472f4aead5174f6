// Unit tests of bulk load on the engine's side (sandbox/engine/bulk_load.hpp, README.md "Bulk
// load"): INSERT BULK checks the table and leaves the load pending; Session::bulk_load_rows
// inserts the rows as the statement's options say, through the write path (log, transaction).
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

Column col(const std::string& name, SqlType type, int length = 0, int precision = 0, int scale = 0) {
  Column c;
  c.name = name;
  c.type = {type, length, precision, scale};
  return c;
}

// A sink whose client has sent an attention.
class CancelledSink : public CollectSink {
 public:
  bool cancelled() override { return true; }
};

class BulkLoadTest : public ShopInstanceTest {
 protected:
  BulkLoadTest() : ShopInstanceTest("bulk") {}
  // INSERT BULK `statement` (which should succeed), then the rows.
  Collected load(const std::string& statement, const std::vector<Column>& cols, const std::vector<std::vector<Value>>& rows) {
    auto r = run(*m_s, statement);
    EXPECT_EQ(r.errors, 0) << statement << " -> " << (r.error() ? r.error()->text : "");
    EXPECT_TRUE(m_s->bulk_load_pending());
    CollectSink sink;
    m_s->bulk_load_rows(cols, rows, sink);
    EXPECT_FALSE(m_s->bulk_load_pending());
    return sink.c;
  }
  std::int64_t count(const std::string& table) { return as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM " + table)); }
};

TEST_F(BulkLoadTest, RowsArriveWithTheirValuesAndTheCount) {
  // Given a table of several types and two rows (one with NULLs, max types and unicode), the
  // rows should be stored with those values and DONE should count 2.
  must(*m_s, "CREATE TABLE dbo.Items (Id int NOT NULL, Name nvarchar(50) NULL, Notes nvarchar(max) NULL, Data varbinary(max) NULL,"
             " Price decimal(10,2) NULL, At datetime NULL, Code varchar(10) NULL)");
  const std::vector<Column> cols = {col("Id", SqlType::int_), col("Name", SqlType::nvarchar, 50),
                                    col("Notes", SqlType::nvarchar, k_max_length), col("Data", SqlType::varbinary, k_max_length),
                                    col("Price", SqlType::decimal, 0, 10, 2), col("At", SqlType::datetime),
                                    col("Code", SqlType::varchar, 10)};
  const std::string big(10000, 'x');
  const auto r = load("INSERT BULK dbo.Items ([Id] int, [Name] nvarchar(50) COLLATE Latin1_General_CI_AS, [Notes] nvarchar(max),"
                      " [Data] varbinary(max), [Price] decimal(10,2), [At] datetime, [Code] varchar(10))",
                      cols,
                      {{std::int64_t{1}, std::string("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87"), big, Bytes{{0xDE, 0xAD, 0xBE, 0xEF}},
                        std::string("12.50"), std::string("2013-08-12 10:00:00.000"), std::string("ab")},
                       {std::int64_t{2}, Value{}, Value{}, Value{}, Value{}, Value{}, Value{}}});
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.counts.size(), 1u);
  EXPECT_EQ(r.counts[0], 2);
  auto rows = must(*m_s, "SELECT Id, Name, LEN(Notes), Data, Price, At, Code FROM dbo.Items ORDER BY Id").sets.at(0).rows;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(as_str(rows[0][1]), "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87");
  EXPECT_EQ(as_int(rows[0][2]), 10000);
  EXPECT_EQ(std::get<Bytes>(rows[0][3]).data, (std::vector<std::uint8_t>{0xDE, 0xAD, 0xBE, 0xEF}));
  EXPECT_EQ(as_str(rows[0][4]), "12.50");
  EXPECT_EQ(as_str(rows[0][5]).substr(0, 19), "2013-08-12 10:00:00");
  EXPECT_EQ(as_str(rows[0][6]), "ab");
  for (std::size_t k = 1; k < rows[1].size(); ++k) EXPECT_TRUE(std::holds_alternative<std::monostate>(rows[1][k])) << k;
}

TEST_F(BulkLoadTest, AMissingTableIs208AndNothingIsPending) {
  // Given INSERT BULK into a table that does not exist, it should fail with 208 and leave no
  // bulk load waiting.
  const Message m = error_of(*m_s, "INSERT BULK dbo.Nope ([Id] int)");
  EXPECT_EQ(m.number, 208);
  EXPECT_EQ(m.text, "Invalid object name 'Nope'.");
  EXPECT_FALSE(m_s->bulk_load_pending());
}

TEST_F(BulkLoadTest, AColumnTheTableLacksEndsWithDoneErrorAndNoMessage) {
  // Given INSERT BULK naming a column the table does not have, SQL Server answers DONE_ERROR
  // without an error message (tedious reports "An unknown error has occurred."), and no load waits.
  must(*m_s, "CREATE TABLE #t (id int NOT NULL)");
  const auto r = run(*m_s, "insert bulk #t([x] int, [y] int)");
  EXPECT_EQ(r.errors, 1);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_FALSE(m_s->bulk_load_pending());
}

TEST_F(BulkLoadTest, AnUnknownOptionIsASyntaxError) {
  must(*m_s, "CREATE TABLE #t (id int NOT NULL)");
  EXPECT_EQ(error_of(*m_s, "insert bulk #t([id] int) WITH (FAST_LOAD)").number, 102);
  EXPECT_FALSE(m_s->bulk_load_pending());
}

TEST_F(BulkLoadTest, ConstraintsAreCheckedOnlyWithCheckConstraints) {
  // Given a CHECK and a FOREIGN KEY, rows breaking them load without CHECK_CONSTRAINTS (the
  // foreign key then not trusted); with it the load fails with 547 and inserts nothing.
  must(*m_s, "CREATE TABLE dbo.Parent (Id int PRIMARY KEY)");
  must(*m_s, "INSERT INTO dbo.Parent VALUES (1)");
  must(*m_s, "CREATE TABLE dbo.Child (Id int, ParentId int, CONSTRAINT chk_id CHECK (Id BETWEEN 0 AND 50),"
             " CONSTRAINT fk_parent FOREIGN KEY (ParentId) REFERENCES dbo.Parent (Id))");
  const std::vector<Column> cols = {col("Id", SqlType::int_), col("ParentId", SqlType::int_)};
  auto r = load("INSERT BULK dbo.Child ([Id] int, [ParentId] int)", cols,
                {{std::int64_t{5}, std::int64_t{1}}, {std::int64_t{555}, std::int64_t{1}}, {std::int64_t{6}, std::int64_t{99}}});
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(count("dbo.Child"), 3);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(is_not_trusted AS int) FROM sys.foreign_keys WHERE name = 'fk_parent'")), 1);

  must(*m_s, "DELETE FROM dbo.Child");
  r = load("INSERT BULK dbo.Child ([Id] int, [ParentId] int) WITH (CHECK_CONSTRAINTS)", cols,
           {{std::int64_t{50}, std::int64_t{1}}, {std::int64_t{555}, std::int64_t{1}}, {std::int64_t{5}, std::int64_t{1}}});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 547);
  EXPECT_NE(r.error()->text.find("The INSERT statement conflicted with the CHECK constraint \"chk_id\""), std::string::npos)
      << r.error()->text;
  EXPECT_EQ(count("dbo.Child"), 0);
  r = load("INSERT BULK dbo.Child ([Id] int, [ParentId] int) WITH (CHECK_CONSTRAINTS)", cols, {{std::int64_t{7}, std::int64_t{99}}});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 547);
  EXPECT_EQ(count("dbo.Child"), 0);
}

TEST_F(BulkLoadTest, TriggersFireOnlyWithFireTriggers) {
  must(*m_s, "CREATE TABLE dbo.T (id int)");
  must(*m_s, "CREATE TABLE dbo.Audit (id int)");
  must(*m_s, "CREATE TRIGGER trg ON dbo.T AFTER INSERT AS INSERT INTO dbo.Audit SELECT id FROM inserted");
  const std::vector<Column> cols = {col("id", SqlType::int_)};
  load("INSERT BULK dbo.T ([id] int)", cols, {{std::int64_t{1}}});
  EXPECT_EQ(count("dbo.Audit"), 0);
  load("INSERT BULK dbo.T ([id] int) WITH (FIRE_TRIGGERS)", cols, {{std::int64_t{2}}});
  EXPECT_EQ(count("dbo.Audit"), 1);
  EXPECT_EQ(count("dbo.T"), 2);
}

TEST_F(BulkLoadTest, ANullTakesTheDefaultUnlessKeepNulls) {
  must(*m_s, "CREATE TABLE #d (id int NULL DEFAULT 253565, n int NULL)");
  const std::vector<Column> cols = {col("id", SqlType::int_), col("n", SqlType::int_)};
  load("INSERT BULK #d ([id] int, [n] int)", cols, {{Value{}, std::int64_t{1}}});
  load("INSERT BULK #d ([id] int, [n] int) WITH (KEEP_NULLS)", cols, {{Value{}, std::int64_t{2}}});
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT id FROM #d WHERE n = 1")), 253565);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(scalar_of(*m_s, "SELECT id FROM #d WHERE n = 2")));
}

TEST_F(BulkLoadTest, ANullForANotNullColumnIs515AndNothingIsInserted) {
  must(*m_s, "CREATE TABLE dbo.N (id int NOT NULL)");
  const auto r = load("INSERT BULK dbo.N ([id] int)", {col("id", SqlType::int_)}, {{std::int64_t{1}}, {Value{}}});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 515);
  EXPECT_EQ(count("dbo.N"), 0);
}

TEST_F(BulkLoadTest, ConversionErrorsAreCastsAndATooLongValueIs4815) {
  must(*m_s, "CREATE TABLE dbo.C (id tinyint NOT NULL, name nvarchar(3) NULL)");
  auto r = load("INSERT BULK dbo.C ([id] tinyint, [name] nvarchar(3))",
                {col("id", SqlType::int_), col("name", SqlType::nvarchar, 3)}, {{std::int64_t{300}, Value{}}});
  ASSERT_NE(r.error(), nullptr);
  // The error CAST raises for the same conversion.
  const Message cast = error_of(*m_s, "DECLARE @v int = 300; SELECT CAST(@v AS tinyint)");
  EXPECT_EQ(r.error()->number, cast.number) << r.error()->text;
  EXPECT_EQ(r.error()->text, cast.text);
  r = load("INSERT BULK dbo.C ([id] tinyint, [name] nvarchar(3))", {col("id", SqlType::int_), col("name", SqlType::nvarchar, 10)},
           {{std::int64_t{1}, std::string("abcd")}});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 4815);
  EXPECT_EQ(r.error()->text, "Received an invalid column length from the bcp client for colid 2.");
  EXPECT_EQ(count("dbo.C"), 0);
}

TEST_F(BulkLoadTest, IdentityValuesAreGeneratedUnlessIdentityInsertIsOn) {
  must(*m_s, "CREATE TABLE dbo.I (Id int IDENTITY(1,1) PRIMARY KEY, Name nvarchar(10))");
  const std::vector<Column> cols = {col("Id", SqlType::int_), col("Name", SqlType::nvarchar, 10)};
  load("INSERT BULK dbo.I ([Id] int, [Name] nvarchar(10))", cols, {{std::int64_t{100}, std::string("a")}});
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT Id FROM dbo.I WHERE Name = N'a'")), 1);
  must(*m_s, "SET IDENTITY_INSERT dbo.I ON");
  load("INSERT BULK dbo.I ([Id] int, [Name] nvarchar(10))", cols, {{std::int64_t{100}, std::string("b")}});
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT Id FROM dbo.I WHERE Name = N'b'")), 100);
}

TEST_F(BulkLoadTest, ALoadInsideATransactionIsLoggedAndRollsBackWithIt) {
  must(*m_s, "CREATE TABLE dbo.X (id int)");
  must(*m_s, "BEGIN TRANSACTION");
  const auto r = load("INSERT BULK dbo.X ([id] int)", {col("id", SqlType::int_)}, {{std::int64_t{1}}, {std::int64_t{2}}});
  EXPECT_EQ(r.counts.at(0), 2);
  EXPECT_EQ(count("dbo.X"), 2);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_INSERT_ROWS'"
                                   " AND AllocUnitName = 'dbo.X'")), 2);
  must(*m_s, "ROLLBACK TRANSACTION");
  EXPECT_EQ(count("dbo.X"), 0);
}

TEST_F(BulkLoadTest, OrderOnTheClusteredKeyIsEnforcedAndOtherwiseIgnored) {
  must(*m_s, "CREATE TABLE #o (id int NOT NULL, name nvarchar(255) NOT NULL, PRIMARY KEY CLUSTERED (id))");
  const std::vector<Column> cols = {col("id", SqlType::int_), col("name", SqlType::nvarchar, 255)};
  const std::vector<std::vector<Value>> rows = {{std::int64_t{1}, std::string("a")}, {std::int64_t{6}, std::string("f")},
                                                {std::int64_t{5}, std::string("e")}};
  auto r = load("insert bulk #o([id] int, [name] nvarchar(255)) WITH (ORDER (id ASC))", cols, rows);
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 4819);
  EXPECT_EQ(r.error()->text,
            "Cannot bulk load. The bulk data stream was incorrectly specified as sorted or the data violates a uniqueness constraint"
            " imposed by the target table. Sort order incorrect for the following two rows: primary key of first row: (6),"
            " primary key of second row: (5).");
  EXPECT_EQ(count("#o"), 0);
  r = load("insert bulk #o([id] int, [name] nvarchar(255)) WITH (ORDER (name ASC), TABLOCK, ROWS_PER_BATCH = 10)", cols, rows);
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(count("#o"), 3);
  // A key declared in another type than the table's (tedious's nvarchar(1)) is converted: the
  // promise is not held to either.
  must(*m_s, "CREATE TABLE #n (id int NOT NULL, name nvarchar(255) NOT NULL, PRIMARY KEY CLUSTERED (name))");
  r = load("insert bulk #n([id] int, [name] nvarchar(1)) WITH (ORDER (name ASC))", cols, rows);
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(count("#n"), 3);
}

TEST_F(BulkLoadTest, AnAttentionInsertsNothing) {
  must(*m_s, "CREATE TABLE #c (i int NOT NULL)");
  must(*m_s, "insert bulk #c([i] int)");
  CancelledSink sink;
  m_s->bulk_load_rows({col("i", SqlType::int_)}, {{std::int64_t{1}}, {std::int64_t{2}}}, sink);
  EXPECT_TRUE(sink.c.counts.empty());
  EXPECT_EQ(count("#c"), 0);
}

TEST_F(BulkLoadTest, ALoadWaitsForTheNextRequestOnly) {
  // Given INSERT BULK then another batch, the bulk load is gone: rows sent then are refused.
  must(*m_s, "CREATE TABLE #w (i int NOT NULL)");
  must(*m_s, "insert bulk #w([i] int)");
  must(*m_s, "SELECT 1");
  EXPECT_FALSE(m_s->bulk_load_pending());
  CollectSink sink;
  m_s->bulk_load_rows({col("i", SqlType::int_)}, {{std::int64_t{1}}}, sink);
  ASSERT_NE(sink.c.error(), nullptr);
  EXPECT_EQ(sink.c.error()->number, 4002);
  EXPECT_EQ(count("#w"), 0);
}

}  // namespace

namespace {

TEST_F(BulkLoadTest, FmtOnlyAnswersASelectsColumnsWithoutRows) {
  // Given SET FMTONLY ON (FreeTDS's bcp_init: "SET FMTONLY ON select * from t SET FMTONLY OFF"),
  // the SELECT should describe its columns and send no row; other statements are refused.
  must(*m_s, "CREATE TABLE dbo.F (a int, b nvarchar(10))");
  must(*m_s, "INSERT INTO dbo.F VALUES (1, N'x')");
  auto r = must(*m_s, "SET FMTONLY ON select * from dbo.F SET FMTONLY OFF");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(r.sets[0].columns.size(), 2u);
  EXPECT_TRUE(r.sets[0].rows.empty());
  must(*m_s, "SET FMTONLY ON");
  EXPECT_EQ(error_of(*m_s, "DELETE FROM dbo.F").number, 40517);
  must(*m_s, "SET FMTONLY OFF");
  EXPECT_EQ(count("dbo.F"), 1);
}

}  // namespace

namespace {

TEST_F(BulkLoadTest, TheClientsDeclaredLengthDoesNotBoundItsValues) {
  // Given tedious's nvarchar(1) for a column it had no length for, a longer value that the
  // table's nvarchar(255) holds should be stored whole.
  must(*m_s, "CREATE TABLE #p (id int NOT NULL, name nvarchar(255) NOT NULL)");
  const auto r = load("insert bulk #p([id] int, [name] nvarchar(1))",
                      {col("id", SqlType::int_), col("name", SqlType::nvarchar, 1)}, {{std::int64_t{1}, std::string("Bulbasaur")}});
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT name FROM #p")), "Bulbasaur");
}

}  // namespace

namespace {

TEST_F(BulkLoadTest, AnIdentityThatIsNotTheKeyCountsOnFromItsSeed) {
  // Given IDENTITY(10,5) on a column that is not the primary key, the loaded rows should get
  // 10, 15, 20 and a later INSERT 25.
  must(*m_s, "CREATE TABLE dbo.J (Id int IDENTITY(10,5), Name nvarchar(10))");
  load("INSERT BULK dbo.J ([Name] nvarchar(10))", {col("Name", SqlType::nvarchar, 10)},
       {{std::string("a")}, {std::string("b")}, {std::string("c")}});
  must(*m_s, "INSERT INTO dbo.J (Name) VALUES (N'd')");
  auto rows = must(*m_s, "SELECT Id FROM dbo.J ORDER BY Name").sets.at(0).rows;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(as_int(rows[0][0]), 10);
  EXPECT_EQ(as_int(rows[1][0]), 15);
  EXPECT_EQ(as_int(rows[2][0]), 20);
  EXPECT_EQ(as_int(rows[3][0]), 25);
}

}  // namespace

namespace {

TEST_F(BulkLoadTest, OtherTypesArriveAsSent) {
  // Given the other types a client may send (bit, money, uniqueidentifier, the date/time types,
  // floats, binary), each value should be stored as the same type's INSERT would store it.
  must(*m_s, "CREATE TABLE dbo.O (b bit, m money, g uniqueidentifier, d date, t time(3), d2 datetime2(3),"
             " dto datetimeoffset(0), f float, r real, s smallint, bi bigint, bin binary(4))");
  const std::vector<Column> cols = {col("b", SqlType::bit), col("m", SqlType::money, 0, 19, 4),
                                    col("g", SqlType::uniqueidentifier), col("d", SqlType::date),
                                    col("t", SqlType::time, 0, 0, 3), col("d2", SqlType::datetime2, 0, 0, 3),
                                    col("dto", SqlType::datetimeoffset, 0, 0, 0), col("f", SqlType::float_),
                                    col("r", SqlType::real), col("s", SqlType::smallint), col("bi", SqlType::bigint),
                                    col("bin", SqlType::binary, 4)};
  const auto r = load("INSERT BULK dbo.O ([b] bit, [m] money, [g] uniqueidentifier, [d] date, [t] time(3), [d2] datetime2(3),"
                      " [dto] datetimeoffset(0), [f] float, [r] real, [s] smallint, [bi] bigint, [bin] binary(4))",
                      cols,
                      {{std::int64_t{1}, std::string("12.3400"), std::string("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
                        std::string("2024-02-29"), std::string("13:45:10.125"), std::string("2024-02-29 13:45:10.125"),
                        std::string("2024-02-29 13:45:10 +02:00"), 1.5, 2.25, std::int64_t{-7}, std::int64_t{9000000000},
                        Bytes{{1, 2, 3, 4}}}});
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  const auto row = must(*m_s, "SELECT b, m, g, d, t, d2, dto, f, r, s, bi, bin FROM dbo.O").sets.at(0).rows.at(0);
  EXPECT_EQ(as_int(row[0]), 1);
  EXPECT_EQ(as_str(row[1]), "12.3400");
  EXPECT_EQ(as_str(row[2]), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
  EXPECT_EQ(as_str(row[3]), "2024-02-29");
  EXPECT_EQ(as_str(row[4]), "13:45:10.125");
  EXPECT_EQ(as_str(row[5]), "2024-02-29 13:45:10.125");
  EXPECT_EQ(as_str(row[6]), "2024-02-29 13:45:10 +02:00");
  EXPECT_DOUBLE_EQ(std::get<double>(row[7]), 1.5);
  EXPECT_DOUBLE_EQ(std::get<double>(row[8]), 2.25);
  EXPECT_EQ(as_int(row[9]), -7);
  EXPECT_EQ(as_int(row[10]), 9000000000);
  EXPECT_EQ(std::get<Bytes>(row[11]).data, (std::vector<std::uint8_t>{1, 2, 3, 4}));
}

}  // namespace
