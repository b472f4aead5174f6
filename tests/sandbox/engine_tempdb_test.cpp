// Unit tests of temporary tables (sandbox/engine/tempdb.hpp): #t is its session's, ##t every
// session's; both are created by CREATE TABLE and SELECT ... INTO, found by
// OBJECT_ID('tempdb..#t'), dropped by DROP TABLE [IF EXISTS] or with their session, and never
// written to a user database's log (what the CDC engine reads). Also OBJECT_ID with a type and
// DROP ... IF EXISTS of every object kind.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class TempdbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = temp_dir("tempdb");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = k_sa_password;
    m_inst = open_instance(cfg);
    m_a = login(*m_inst);
    must(*m_a, "CREATE DATABASE shop");
    must(*m_a, "USE shop");
    must(*m_a, "CREATE TABLE dbo.Orders (Id int IDENTITY(1,1) PRIMARY KEY, Amount decimal(10,2) NOT NULL)");
    must(*m_a, "INSERT INTO dbo.Orders (Amount) VALUES (1.50), (20.00), (3.25)");
    m_b = login(*m_inst, "shop");
  }
  void TearDown() override {
    m_a.reset();
    m_b.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  static std::int64_t scalar_int(Session& s, const std::string& sql) {
    auto r = must(s, sql);
    EXPECT_EQ(r.sets.size(), 1u) << sql;
    if (r.sets.empty() || r.sets[0].rows.empty()) return -1;
    const Value& v = r.sets[0].rows[0][0];
    return std::holds_alternative<std::monostate>(v) ? 0 : as_int(v);
  }
  static bool is_null(Session& s, const std::string& sql) {
    auto r = must(s, sql);
    return !r.sets.empty() && !r.sets[0].rows.empty() && std::holds_alternative<std::monostate>(r.sets[0].rows[0][0]);
  }
  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_a, m_b;
};

TEST_F(TempdbTest, LocalTempTableIsTheSessionsOwn) {
  // Given #t created by session A, A reads and writes it with its declared types; session B
  // does not see A's #t and may create its own #t.
  must(*m_a, "CREATE TABLE #t (Id int IDENTITY(1,1), Name nvarchar(20) NOT NULL, Price decimal(10,2))");
  must(*m_a, "INSERT INTO #t (Name, Price) VALUES (N'a', 1.25), (N'b', 2.50)");
  must(*m_a, "INSERT INTO #t VALUES (N'c', NULL)");  // the identity column is left out
  must(*m_a, "UPDATE #t SET Price = 9.99 WHERE Name = N'c'");
  must(*m_a, "DELETE FROM #t WHERE Name = N'a'");
  auto r = must(*m_a, "SELECT Id, Name, Price FROM #t ORDER BY Id");
  ASSERT_EQ(r.sets.size(), 1u);
  ASSERT_EQ(r.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 2);
  EXPECT_EQ(as_str(r.sets[0].rows[1][1]), "c");
  EXPECT_EQ(r.sets[0].columns[1].type.type, SqlType::nvarchar);
  EXPECT_EQ(r.sets[0].columns[2].type.type, SqlType::decimal);
  EXPECT_EQ(scalar_int(*m_a, "INSERT INTO #t (Name) VALUES (N'd'); SELECT CAST(SCOPE_IDENTITY() AS int)"), 4);
  must(*m_a, "DELETE FROM #t WHERE Name = N'd'");

  auto other = run(*m_b, "SELECT * FROM #t");
  ASSERT_TRUE(other.error());
  must(*m_b, "CREATE TABLE #t (X int)");
  must(*m_b, "INSERT INTO #t VALUES (7)");
  EXPECT_EQ(scalar_int(*m_b, "SELECT COUNT(*) FROM #t"), 1);
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM #t"), 2);
  // A join of a temporary table with a user table.
  must(*m_a, "CREATE TABLE #ids (Id int PRIMARY KEY)");
  must(*m_a, "INSERT INTO #ids VALUES (1), (3)");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM dbo.Orders o JOIN #ids i ON i.Id = o.Id"), 2);
}

TEST_F(TempdbTest, CreatingItTwiceIs2714AndDropRemovesIt) {
  must(*m_a, "CREATE TABLE #t (Id int)");
  auto again = run(*m_a, "CREATE TABLE #t (Id int)");
  ASSERT_TRUE(again.error());
  EXPECT_EQ(again.error()->number, 2714);
  must(*m_a, "DROP TABLE #t");
  auto gone = run(*m_a, "SELECT * FROM #t");
  ASSERT_TRUE(gone.error());
  auto drop = run(*m_a, "DROP TABLE #t");
  ASSERT_TRUE(drop.error());
  EXPECT_EQ(drop.error()->number, 3701);
  must(*m_a, "DROP TABLE IF EXISTS #t");
  must(*m_a, "CREATE TABLE #t (Id int)");
  must(*m_a, "DROP TABLE tempdb..#t");
}

TEST_F(TempdbTest, SelectIntoCreatesATypedTempTable) {
  // Given SELECT ... INTO #big, the new table has the query's columns (a column read keeps its
  // declared type) and its rows; the row count is reported.
  auto r = must(*m_a, "SELECT Id, Amount INTO #big FROM dbo.Orders WHERE Amount > 2");
  ASSERT_FALSE(r.counts.empty());
  EXPECT_EQ(r.counts.back(), std::optional<std::int64_t>(2));
  r = must(*m_a, "SELECT Id, Amount FROM #big ORDER BY Id");
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(r.sets[0].columns[1].type.type, SqlType::decimal);
  EXPECT_EQ(r.sets[0].columns[1].type.scale, 2);
  // An expression needs a name (Msg 1038); INTO a permanent table is refused.
  auto unnamed = run(*m_a, "SELECT COUNT(*) INTO #n FROM dbo.Orders");
  ASSERT_TRUE(unnamed.error());
  EXPECT_EQ(unnamed.error()->number, 1038);
  auto permanent = run(*m_a, "SELECT Id INTO dbo.Copy FROM dbo.Orders");
  ASSERT_TRUE(permanent.error());
  EXPECT_EQ(permanent.error()->number, 40517);
  must(*m_a, "SELECT COUNT(*) AS n INTO #n FROM dbo.Orders");
  EXPECT_EQ(scalar_int(*m_a, "SELECT n FROM #n"), 3);
}

TEST_F(TempdbTest, ObjectIdFindsTempTablesThroughTempdb) {
  must(*m_a, "CREATE TABLE #t (Id int)");
  const std::int64_t id = scalar_int(*m_a, "SELECT OBJECT_ID('tempdb..#t')");
  EXPECT_LT(id, 0) << "temporary objects have negative ids";
  EXPECT_EQ(scalar_int(*m_a, "SELECT OBJECT_ID('tempdb..#t', 'U')"), id);
  EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('tempdb..#t', 'V')"));
  EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('#t')")) << "outside tempdb the name needs tempdb..";
  EXPECT_TRUE(is_null(*m_b, "SELECT OBJECT_ID('tempdb..#t')")) << "another session's #t";
  must(*m_a, "DROP TABLE #t");
  EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('tempdb..#t')"));
}

TEST_F(TempdbTest, LocalTempTablesGoWithTheirSession) {
  must(*m_b, "CREATE TABLE #mine (Id int)");
  must(*m_b, "CREATE TABLE ##shared (Id int)");
  must(*m_b, "INSERT INTO ##shared VALUES (1), (2)");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM ##shared"), 2) << "a global temporary table is every session's";
  must(*m_a, "INSERT INTO ##shared VALUES (3)");
  EXPECT_EQ(scalar_int(*m_b, "SELECT COUNT(*) FROM ##shared"), 3);
  m_b.reset();  // the creating session ends
  auto gone = run(*m_a, "SELECT * FROM ##shared");
  ASSERT_TRUE(gone.error()) << "##shared outlived the session that created it";
  auto c = login(*m_inst, "shop");
  // The ended session's #mine is gone from tempdb's catalog too.
  must(*c, "CREATE TABLE ##shared (Id int)");
}

TEST_F(TempdbTest, TempTablesAreNeverInTheUserDatabasesLog) {
  // Given writes to #t and ##t (in and out of a transaction), the user database's log (which the
  // CDC engine reads through fn_dblog) gets no record of them.
  const std::int64_t before = scalar_int(*m_a, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL)");
  must(*m_a, "CREATE TABLE #t (Id int, Name nvarchar(10))");
  must(*m_a, "CREATE TABLE ##g (Id int)");
  must(*m_a, "INSERT INTO #t VALUES (1, N'a'), (2, N'b')");
  must(*m_a, "UPDATE #t SET Name = N'z'");
  must(*m_a, "DELETE FROM #t WHERE Id = 1");
  must(*m_a, "INSERT INTO ##g VALUES (5)");
  must(*m_a, "SELECT Id INTO #copy FROM #t");
  must(*m_a, "TRUNCATE TABLE #t");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL)"), before);
  // A user-table change next to them is logged as usual, and only it.
  must(*m_a, "BEGIN TRAN; INSERT INTO #copy VALUES (9); INSERT INTO dbo.Orders (Amount) VALUES (4); COMMIT");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_INSERT_ROWS'"),
            scalar_int(*m_a, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_INSERT_ROWS' AND AllocUnitName = 'dbo.Orders'"));
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE AllocUnitName LIKE '%#%'"), 0);
}

TEST_F(TempdbTest, RollbackUndoesTempTableChanges) {
  // Given a transaction that inserts, updates and deletes rows of #t, ROLLBACK leaves #t as it
  // was before the transaction (temporary tables are transactional in SQL Server); COMMIT keeps.
  must(*m_a, "CREATE TABLE #t (Id int PRIMARY KEY, Name nvarchar(10))");
  must(*m_a, "INSERT INTO #t VALUES (1, N'a'), (2, N'b')");
  must(*m_a, "BEGIN TRAN; INSERT INTO #t VALUES (3, N'c'); UPDATE #t SET Name = N'x' WHERE Id = 1; DELETE FROM #t WHERE Id = 2;"
             " ROLLBACK");
  auto r = must(*m_a, "SELECT Id, Name FROM #t ORDER BY Id");
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "a");
  EXPECT_EQ(as_int(r.sets[0].rows[1][0]), 2);
  must(*m_a, "BEGIN TRAN; INSERT INTO #t VALUES (3, N'c'); COMMIT");
  must(*m_a, "BEGIN TRAN; DELETE FROM #t WHERE Id = 1; ROLLBACK");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM #t"), 3);
}

TEST_F(TempdbTest, TempdbIsInSysDatabases) {
  EXPECT_EQ(scalar_int(*m_a, "SELECT database_id FROM sys.databases WHERE name = 'tempdb'"), 2);
}

TEST_F(TempdbTest, ObjectIdKnowsEveryObjectKindAndItsType) {
  must(*m_a, "CREATE VIEW dbo.V AS SELECT Id FROM dbo.Orders");
  must(*m_a, "CREATE PROCEDURE dbo.P AS SELECT 1");
  must(*m_a, "CREATE FUNCTION dbo.F() RETURNS int AS BEGIN RETURN 1 END");
  must(*m_a, "CREATE TRIGGER dbo.TR ON dbo.Orders AFTER INSERT AS INSERT INTO dbo.Orders (Amount) SELECT 0 WHERE 1 = 0");
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"dbo.Orders", "U"}, {"dbo.V", "V"}, {"dbo.P", "P"}, {"dbo.F", "FN"}, {"dbo.TR", "TR"}}) {
    const std::int64_t id = scalar_int(*m_a, "SELECT OBJECT_ID('" + name + "')");
    EXPECT_GT(id, 0) << name;
    EXPECT_EQ(scalar_int(*m_a, "SELECT OBJECT_ID('" + name + "', '" + type + "')"), id) << name;
    EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('" + name + "', '" + (type == "U" ? "V" : "U") + "')")) << name;
    EXPECT_EQ(scalar_int(*m_a, "SELECT OBJECT_ID('shop." + name + "')"), id) << name;
  }
  EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('dbo.Nothing')"));
}

TEST_F(TempdbTest, DropIfExistsForEveryObjectKind) {
  must(*m_a, "CREATE VIEW dbo.V AS SELECT Id FROM dbo.Orders");
  must(*m_a, "CREATE PROCEDURE dbo.P AS SELECT 1");
  must(*m_a, "CREATE FUNCTION dbo.F() RETURNS int AS BEGIN RETURN 1 END");
  must(*m_a, "CREATE TRIGGER dbo.TR ON dbo.Orders AFTER INSERT AS INSERT INTO dbo.Orders (Amount) SELECT 0 WHERE 1 = 0");
  must(*m_a, "CREATE TABLE dbo.T (Id int)");
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"TRIGGER", "dbo.TR"}, {"VIEW", "dbo.V"}, {"PROCEDURE", "dbo.P"}, {"FUNCTION", "dbo.F"}, {"TABLE", "dbo.T"}}) {
    must(*m_a, "DROP " + kind + " IF EXISTS " + name);  // exists: dropped
    must(*m_a, "DROP " + kind + " IF EXISTS " + name);  // gone: nothing to do, no error
    auto again = run(*m_a, "DROP " + kind + " " + name);
    ASSERT_TRUE(again.error()) << kind;
    EXPECT_EQ(again.error()->number, 3701) << kind;
    EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('" + name + "')")) << kind;
  }
}

}  // namespace

namespace {

TEST_F(TempdbTest, TemporaryProcedureRunsInItsSessionWithParameters) {
  // Given CREATE PROCEDURE #p, its session runs it by EXEC and by RPC (tedious's rpc-test
  // creates #test_proc before every call) with named, positional and OUTPUT parameters; it
  // reads the current database's tables and the session's #t.
  must(*m_a, "CREATE TABLE #seen (Amount decimal(10,2))");
  must(*m_a, "CREATE PROCEDURE #p @min decimal(10,2), @n int OUTPUT AS\n"
             "INSERT INTO #seen SELECT Amount FROM dbo.Orders WHERE Amount >= @min\n"
             "SET @n = @@ROWCOUNT\nSELECT @min AS m");
  must(*m_a, "DECLARE @k int; EXEC #p 3, @k OUTPUT; INSERT INTO #seen VALUES (@k)");
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM #seen"), 3);  // two orders and the count (2)
  EXPECT_EQ(scalar_int(*m_a, "SELECT CAST(MAX(Amount) AS int) FROM #seen WHERE Amount < 3"), 2);

  std::vector<RpcParam> params(2);
  params[0].name = "@min";
  params[0].type = {SqlType::decimal, 0, 10, 2};
  params[0].value = std::string("1.50");
  params[1].name = "@n";
  params[1].type = {SqlType::int_};
  params[1].output = true;
  CollectSink sink;
  m_a->execute_rpc("#p", params, sink);
  ASSERT_EQ(sink.c.error(), nullptr) << sink.c.error()->text;
  ASSERT_EQ(sink.c.statuses, std::vector<int>{0});
  ASSERT_EQ(sink.c.return_values.size(), 1u);
  EXPECT_EQ(as_int(sink.c.return_values[0].value), 3);
  ASSERT_EQ(sink.c.sets.size(), 1u);
  EXPECT_EQ(as_str(sink.c.sets[0].rows[0][0]), "1.50");
}

TEST_F(TempdbTest, TemporaryProcedureIsInvisibleToOtherSessionsAndGoesWithItsSession) {
  must(*m_a, "CREATE PROCEDURE #p AS SELECT 1");
  EXPECT_EQ(error_of(*m_b, "EXEC #p").number, 2812);  // B cannot see A's #p
  must(*m_b, "CREATE PROCEDURE #p AS SELECT 2");       // and may create its own
  EXPECT_EQ(scalar_int(*m_b, "EXEC #p"), 2);
  EXPECT_EQ(scalar_int(*m_a, "EXEC #p"), 1);
  EXPECT_FALSE(is_null(*m_a, "SELECT OBJECT_ID('tempdb..#p')"));
  EXPECT_FALSE(is_null(*m_a, "SELECT OBJECT_ID('tempdb..#p', 'P')"));
  EXPECT_TRUE(is_null(*m_a, "SELECT OBJECT_ID('tempdb..#p', 'U')"));
  // A global ##p is every session's until its creator's session ends.
  must(*m_a, "CREATE PROCEDURE ##g AS SELECT 3");
  EXPECT_EQ(scalar_int(*m_b, "EXEC ##g"), 3);
  m_a.reset();
  EXPECT_EQ(error_of(*m_b, "EXEC ##g").number, 2812);
  auto a2 = login(*m_inst, "shop");
  EXPECT_EQ(error_of(*a2, "EXEC #p").number, 2812);
}

TEST_F(TempdbTest, TemporaryProcedureNameRulesAndDrop) {
  must(*m_a, "CREATE PROCEDURE #p AS SELECT 1");
  EXPECT_EQ(error_of(*m_a, "CREATE PROCEDURE #p AS SELECT 2").number, 2714);
  EXPECT_EQ(error_of(*m_a, "CREATE TABLE #p (X int)").number, 2714);  // one name space in tempdb
  must(*m_a, "ALTER PROCEDURE #p AS SELECT 5");
  EXPECT_EQ(scalar_int(*m_a, "EXEC #p"), 5);
  EXPECT_EQ(error_of(*m_a, "DROP TABLE #p").number, 3701);  // not a table
  must(*m_a, "DROP PROCEDURE #p");
  EXPECT_EQ(error_of(*m_a, "EXEC #p").number, 2812);
  EXPECT_EQ(error_of(*m_a, "DROP PROCEDURE #p").number, 3701);
  must(*m_a, "DROP PROCEDURE IF EXISTS #p");
  EXPECT_EQ(error_of(*m_a, "ALTER PROCEDURE #q AS SELECT 1").number, 208);
  EXPECT_EQ(error_of(*m_a, "CREATE VIEW #v AS SELECT 1 AS x").number, 4103);
  EXPECT_EQ(error_of(*m_a, "CREATE FUNCTION #f() RETURNS int AS BEGIN RETURN 1 END").number, 1074);
  // A temporary procedure writes nothing to the user database's catalog.
  EXPECT_EQ(scalar_int(*m_a, "SELECT COUNT(*) FROM sys.objects WHERE name LIKE '#%'"), 0);
}

TEST_F(TempdbTest, ResetConnectionDropsTheSessionsTemporaryObjects) {
  // sp_reset_connection (a pooled client's RESETCONNECTION) leaves the session as a new login
  // finds it: its #t and #p are gone and the names are free again.
  must(*m_a, "CREATE TABLE #t (X int); INSERT INTO #t VALUES (1)");
  must(*m_a, "CREATE PROCEDURE #p AS SELECT 1");
  m_a->reset(false);
  EXPECT_EQ(error_of(*m_a, "SELECT * FROM #t").number, 208);
  EXPECT_EQ(error_of(*m_a, "EXEC #p").number, 2812);
  must(*m_a, "CREATE TABLE #t (Y int)");
  must(*m_a, "CREATE PROCEDURE #p AS SELECT 2");
  EXPECT_EQ(scalar_int(*m_a, "EXEC #p"), 2);
}

}  // namespace
