// Unit tests: no client statement crashes the engine or leaves its session unusable. Incomplete
// and malformed statements get SQL Server's syntax errors (102, 156) and the session keeps
// serving; the DDL fixes of issue 11 (DROP TABLE after a read, TRUNCATE without identity
// columns, the isolation level drivers send at login).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineRobustnessTest : public ShopInstanceTest {
 protected:
  EngineRobustnessTest() : ShopInstanceTest("robust") {}
  // Runs `sql`, which must fail with `number`; the session must still answer afterwards.
  Message fails_with(const std::string& sql, int number) {
    auto r = run(*m_s, sql);
    EXPECT_GE(r.errors, 1) << sql;
    const Message* e = r.error();
    EXPECT_TRUE(e) << sql;
    if (!e) return {};
    EXPECT_EQ(e->number, number) << sql << " -> " << e->text;
    still_serving();
    return *e;
  }
  void still_serving() {
    auto r = must(*m_s, "SELECT 1 AS one");
    ASSERT_EQ(r.sets.size(), 1u);
    EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(0)), 1);
  }
};

TEST_F(EngineRobustnessTest, CreateSchemaWithoutANameIsASyntaxError) {
  // Given CREATE SCHEMA with nothing after it (it used to read past the tokens: SIGSEGV), the
  // client should get Msg 102 near the last token, severity 15, and the session should go on.
  const Message e = fails_with("CREATE SCHEMA", 102);
  EXPECT_EQ(e.severity, 15);
  EXPECT_EQ(e.text, "Incorrect syntax near 'SCHEMA'.");
  must(*m_s, "CREATE SCHEMA sales");
  must(*m_s, "CREATE SCHEMA hr AUTHORIZATION dbo");
  fails_with("CREATE SCHEMA sales", 2714);
}

TEST_F(EngineRobustnessTest, DeclareWithoutATypeIsASyntaxError) {
  // Given DECLARE @x with no type (an out-of-bounds read before), Msg 102 near '@x'.
  const Message e = fails_with("DECLARE @x", 102);
  EXPECT_EQ(e.text, "Incorrect syntax near '@x'.");
  fails_with("DECLARE @x AS", 156);  // the batch ends at a keyword: "near the keyword 'AS'"
  fails_with("DECLARE @x FROM", 156);
  fails_with("DECLARE @x int, @y", 102);
}

TEST_F(EngineRobustnessTest, AKeywordWhereANameBelongsIsMsg156) {
  // Given a reserved keyword where a name is expected, SQL Server says "near the keyword".
  const Message e = fails_with("CREATE SCHEMA FROM", 156);
  EXPECT_EQ(e.text, "Incorrect syntax near the keyword 'FROM'.");
  EXPECT_EQ(e.severity, 15);
}

TEST_F(EngineRobustnessTest, TruncatedStatementsOfEveryKindFailCleanly) {
  // Given each statement form cut short at every token, every prefix should either run or fail
  // with an error message (never crash); the session should answer after each one.
  must(*m_s, "CREATE TABLE dbo.T (Id int IDENTITY(1,1) PRIMARY KEY, Name nvarchar(20) DEFAULT N'x' NOT NULL)");
  const std::vector<std::string> statements = {
      "CREATE TABLE dbo.U (Id int IDENTITY(10, 5) NOT NULL, Ref int REFERENCES dbo.T(Id) ON DELETE CASCADE, CONSTRAINT PK_U PRIMARY KEY (Id))",
      "CREATE UNIQUE NONCLUSTERED INDEX IX_T ON dbo.T (Name)",
      "CREATE DATABASE other",
      "CREATE VIEW dbo.V AS SELECT Id FROM dbo.T",
      "CREATE PROCEDURE dbo.P @a int = 1 AS SELECT @a",
      "CREATE TRIGGER dbo.TR ON dbo.T AFTER INSERT AS INSERT INTO dbo.T (Name) SELECT Name FROM inserted WHERE 1 = 0",
      "ALTER TABLE dbo.T ADD Extra int NULL",
      "ALTER TABLE dbo.T NOCHECK CONSTRAINT ALL",
      "ALTER TABLE dbo.T DISABLE TRIGGER ALL",
      "ALTER DATABASE shop SET RECOVERY FULL",
      "ALTER DATABASE shop SET READ_COMMITTED_SNAPSHOT OFF WITH ROLLBACK IMMEDIATE",
      "DROP TABLE IF EXISTS dbo.Nothing",
      "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
      "SET LOCK_TIMEOUT 100",
      "SET IDENTITY_INSERT dbo.T OFF",
      "SET NOCOUNT ON",
      "DECLARE @v int = 1, @w nvarchar(10) = N'a'",
      "BEGIN TRANSACTION t1",
      "EXEC sp_executesql N'SELECT 1'",
      "EXEC dbo.P @a = -5",
      "INSERT INTO dbo.T (Name) VALUES (N'a')",
      "UPDATE dbo.T SET Name = N'b' WHERE Id = 1",
      "DELETE FROM dbo.T WHERE Id = 99",
      "SELECT TOP (1) Id FROM dbo.T WHERE Name = N'b' ORDER BY Id",
      "DBCC CHECKIDENT ('dbo.T', RESEED, 5)",
      "BACKUP DATABASE shop TO DISK = '" + m_dir + "/x.bak' WITH INIT, STATS = 10",
      "RESTORE DATABASE nowhere FROM DISK = 'nowhere.bak' WITH NORECOVERY",
      "WAITFOR DELAY '00:00:00.010'",
      "TRUNCATE TABLE dbo.T",
      "USE shop",
      "PRINT 'hello'",
  };
  for (const auto& full : statements) {
    const auto tokens = [&] {
      // Cut points: after each space-separated word and before each symbol.
      std::vector<std::size_t> cuts;
      for (std::size_t p = 1; p < full.size(); ++p) {
        if (full[p] == ' ' || full[p] == '(' || full[p] == ',' || full[p] == ')' || full[p] == '=') cuts.push_back(p);
      }
      return cuts;
    }();
    for (std::size_t cut : tokens) {
      const std::string prefix = full.substr(0, cut);
      auto r = run(*m_s, prefix);
      if (r.errors) {
        ASSERT_TRUE(r.error()) << prefix;
        EXPECT_FALSE(r.error()->text.empty()) << prefix;
      }
      run(*m_s, "ROLLBACK");  // fails (3903) unless the prefix left a transaction open
      run(*m_s, "USE shop");
      auto ok = run(*m_s, "SELECT 1 AS one");
      ASSERT_EQ(ok.errors, 0) << "after: " << prefix;
    }
  }
}

TEST_F(EngineRobustnessTest, NumbersOutOfRangeAreArithmeticOverflow) {
  // Given integer literals beyond bigint where the engine reads a number, Msg 8115, not an
  // unhandled exception.
  fails_with("CREATE TABLE dbo.Big (Id int IDENTITY(99999999999999999999, 1))", 8115);
  must(*m_s, "CREATE PROCEDURE dbo.P @a bigint = 1 AS SELECT @a AS a");
  fails_with("EXEC dbo.P 99999999999999999999", 8115);
  auto r = must(*m_s, "EXEC dbo.P -42");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(0)), -42);
}

TEST_F(EngineRobustnessTest, AFloatBeyondBigintInAnIntColumnIsArithmeticOverflow) {
  // Found by tsql_fuzz (UBSan: float-cast-overflow): SQLite keeps 3.7e40 in an int column as a
  // REAL; reading it as an int must be Msg 8115, not undefined behaviour.
  must(*m_s, "CREATE TABLE dbo.N (v int)");
  run(*m_s, "INSERT INTO dbo.N VALUES (3.7e40)");
  auto r = run(*m_s, "SELECT v FROM dbo.N");
  if (r.errors) {
    ASSERT_TRUE(r.error());
    EXPECT_EQ(r.error()->number, 8115) << r.error()->text;
  } else {
    EXPECT_TRUE(r.sets.empty() || r.sets[0].rows.empty()) << "3.7e40 came back as an int";
  }
  still_serving();
}

TEST_F(EngineRobustnessTest, AColumnNameThatIsNotUtf8DoesNotBreakTheLog) {
  // Found by tsql_fuzz (an uncaught nlohmann::json type_error from the log's row images): a
  // column whose name holds a byte that is not UTF-8 can still be inserted into and updated.
  must(*m_s, "CREATE TABLE dbo.Odd ([a\xff] int, b int)");
  must(*m_s, "INSERT INTO dbo.Odd VALUES (1, 2)");
  must(*m_s, "UPDATE dbo.Odd SET b = 3");
  auto r = must(*m_s, "SELECT b FROM dbo.Odd");
  EXPECT_EQ(as_int(r.sets.at(0).rows.at(0).at(0)), 3);
}

TEST_F(EngineRobustnessTest, IdentitySeedMayBeNegative) {
  // Given IDENTITY(-5, 1) on a non-key column (it used to throw std::invalid_argument), the first
  // row should get -5.
  must(*m_s, "CREATE TABLE dbo.Neg (K nvarchar(5) PRIMARY KEY, Id int IDENTITY(-5, 1) NOT NULL)");
  must(*m_s, "INSERT INTO dbo.Neg (K) VALUES (N'a')");
  auto r = must(*m_s, "SELECT Id FROM dbo.Neg");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(0)), -5);
}

TEST_F(EngineRobustnessTest, WaitforDelayTextIsValidated) {
  // Given a WAITFOR DELAY time that is not hh:mm[:ss[.mss]] (or over 24 hours), Msg 148; a valid
  // one waits and succeeds.
  fails_with("WAITFOR DELAY 'soon'", 148);
  fails_with("WAITFOR DELAY '99:00'", 148);
  fails_with("WAITFOR DELAY '2147483647:0:0'", 148);
  fails_with("WAITFOR DELAY '025:00'", 148);
  const auto start = std::chrono::steady_clock::now();
  must(*m_s, "WAITFOR DELAY '00:00:00.2'");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(190));
  must(*m_s, "WAITFOR DELAY '000:00:00.1'");  // leading zeros in the hours, as FreeTDS's cancel test sends
}

TEST_F(EngineRobustnessTest, BitwiseExclusiveOrOfIntegers) {
  // FreeTDS's cancel test selects p3.k ^ p4.k: T-SQL's ^ at the precedence of + and -.
  auto r = must(*m_s, "SELECT 6 ^ 3, 1 + 6 ^ 3, CAST(5 AS bigint) ^ 1, NULL ^ 1");
  EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(0)), 5);
  EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(1)), 4);  // (1 + 6) ^ 3
  EXPECT_EQ(as_int(r.sets[0].rows.at(0).at(2)), 4);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets[0].rows.at(0).at(3)));
  fails_with("SELECT 1.5 ^ 1", 402);
}

// A sink whose client asks to cancel once the request has run for `after`.
class CancellingSink : public CollectSink {
 public:
  explicit CancellingSink(std::chrono::milliseconds after) : m_deadline(std::chrono::steady_clock::now() + after) {}
  bool cancelled() override { return std::chrono::steady_clock::now() >= m_deadline; }

 private:
  std::chrono::steady_clock::time_point m_deadline;
};

TEST_F(EngineRobustnessTest, AnAttentionCutsShortALongSelectStep) {
  // Given an aggregate over a large cross join (one SQLite step for minutes), an attention
  // should end it within moments, with no row and no error of its own; the session serves on.
  must(*m_s, "CREATE TABLE dbo.tab1 (k int)");
  must(*m_s, "DECLARE @i int = 0; WHILE @i < 200 BEGIN INSERT INTO dbo.tab1 VALUES (@i); SET @i = @i + 1 END");
  CancellingSink sink(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  m_s->execute_batch("SELECT MAX(p1.k + p2.k * p3.k ^ p4.k) FROM dbo.tab1 p1, dbo.tab1 p2, dbo.tab1 p3, dbo.tab1 p4", sink);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(sink.c.sets.empty() || sink.c.sets[0].rows.empty());
  EXPECT_EQ(sink.c.error(), nullptr);
  still_serving();
}

// ---------------------------------------------------------------------------------------
// DDL fixes

TEST_F(EngineRobustnessTest, DropTableRightAfterReadingIt) {
  // Given a table that was just read (and another statement of the DROP's own lookup still
  // open before the fix), DROP TABLE should succeed and the table be gone.
  must(*m_s, "CREATE TABLE dbo.Gone (Id int PRIMARY KEY, Name nvarchar(10))");
  must(*m_s, "INSERT INTO dbo.Gone VALUES (1, N'a'), (2, N'b')");
  auto r = must(*m_s, "SELECT Id, Name FROM dbo.Gone ORDER BY Id");
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);
  must(*m_s, "DROP TABLE dbo.Gone");
  fails_with("SELECT * FROM dbo.Gone", 208);
  r = must(*m_s, "SELECT COUNT(*) FROM sys.tables WHERE name = 'Gone'");
  EXPECT_EQ(as_int(r.sets.at(0).rows.at(0).at(0)), 0);
  // In one batch, read then drop.
  must(*m_s, "CREATE TABLE dbo.Gone2 (Id int)");
  must(*m_s, "SELECT * FROM dbo.Gone2; DROP TABLE dbo.Gone2");
}

TEST_F(EngineRobustnessTest, TruncateTableInADatabaseWithoutIdentityColumns) {
  // Given a database none of whose tables has an IDENTITY column (no sqlite_sequence), TRUNCATE
  // TABLE should empty the table.
  must(*m_s, "CREATE TABLE dbo.Plain (Id int PRIMARY KEY, Name nvarchar(10))");
  must(*m_s, "INSERT INTO dbo.Plain VALUES (1, N'a'), (2, N'b')");
  must(*m_s, "TRUNCATE TABLE dbo.Plain");
  auto r = must(*m_s, "SELECT COUNT(*) FROM dbo.Plain");
  EXPECT_EQ(as_int(r.sets.at(0).rows.at(0).at(0)), 0);
}

TEST_F(EngineRobustnessTest, TruncateResetsTheIdentitySeed) {
  must(*m_s, "CREATE TABLE dbo.Ident (Id int IDENTITY(1,1) PRIMARY KEY, Name nvarchar(10))");
  must(*m_s, "INSERT INTO dbo.Ident (Name) VALUES (N'a'), (N'b')");
  must(*m_s, "TRUNCATE TABLE dbo.Ident");
  must(*m_s, "INSERT INTO dbo.Ident (Name) VALUES (N'c')");
  auto r = must(*m_s, "SELECT Id FROM dbo.Ident");
  EXPECT_EQ(as_int(r.sets.at(0).rows.at(0).at(0)), 1);
}

// tedious's login batch (src/connection.ts getInitialSql, older releases): sent by every
// tedious connection before anything else.
constexpr const char* k_tedious_initial_sql =
    "set textsize 2147483647\nset quoted_identifier on\nset arithabort off\nset numeric_roundabort off\n"
    "set ansi_warnings on\nset ansi_padding on\nset ansi_nulls on\nset ansi_null_dflt_on on\n"
    "set concat_null_yields_null on\nset cursor_close_on_commit off\nset implicit_transactions off\n"
    "set language us_english\nset dateformat mdy\nset datefirst 7\n"
    "set transaction isolation level read committed\nset xact_abort off";

// The same batch as current tedious builds it with its default options (one SET per line).
constexpr const char* k_tedious_initial_sql_current =
    "set ansi_nulls on\nset ansi_null_dflt_on on\nset ansi_padding on\nset ansi_warnings on\n"
    "set arithabort on\nset concat_null_yields_null on\nset datefirst 7\nset dateformat mdy\n"
    "set implicit_transactions off\nset language us_english\nset numeric_roundabort off\n"
    "set quoted_identifier on\nset textsize 2147483647\n"
    "set transaction isolation level read committed\nset xact_abort off";

TEST_F(EngineRobustnessTest, TediousLoginBatchRuns) {
  // Given tedious's exact login batch, every statement should succeed.
  for (const char* sql : {k_tedious_initial_sql, k_tedious_initial_sql_current}) {
    auto r = run(*m_s, sql);
    EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  }
}

TEST_F(EngineRobustnessTest, IsolationLevelsAreReadFromTheirOwnTokens) {
  must(*m_s, "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
  must(*m_s, "set transaction isolation level read committed;");
  must(*m_s, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED SELECT 1");
  fails_with("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", 40517);
  fails_with("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", 40517);
  fails_with("SET TRANSACTION ISOLATION LEVEL READ", 156);  // READ is a reserved keyword
  fails_with("SET TRANSACTION ISOLATION LEVEL", 102);
  fails_with("SET TRANSACTION LEVEL READ COMMITTED", 102);
}

}  // namespace
