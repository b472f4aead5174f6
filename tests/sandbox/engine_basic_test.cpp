// Unit tests of the sandbox engine: DDL/DML round trips, identity, FK, triggers, modules,
// transactions and the log, catalog, errors. In-process, no TDS.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = temp_dir("basic");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = "Secret#1";
    m_inst = open_instance(cfg);
    auto login = m_inst->login("sa", "Secret#1", "");
    ASSERT_TRUE(login.session) << login.failure.text;
    m_s = std::move(login.session);
    auto r = run(*m_s, "CREATE DATABASE shop; USE shop;");
    ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  }
  void TearDown() override {
    m_s.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  Collected ok(const std::string& sql) {
    auto r = run(*m_s, sql);
    EXPECT_EQ(r.errors, 0) << sql << " -> " << (r.error() ? r.error()->text : "");
    return r;
  }
  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_s;
};

TEST_F(EngineTest, CreateInsertSelectReturnsSqlServerTypes) {
  // Given a table of several T-SQL types, rows inserted with N'' literals and brackets should come
  // back with the declared SQL Server types and values.
  ok("CREATE TABLE [dbo].[Customers] ([Id] int IDENTITY(1,1) NOT NULL PRIMARY KEY, [Name] nvarchar(100) NOT NULL,"
     " Balance decimal(10,2) NULL, Score float, Active bit, Born datetime2(7), Code varchar(10), Tag uniqueidentifier,"
     " Blob varbinary(max), Big bigint)");
  ok("INSERT INTO [dbo].[Customers] (Name, Balance, Score, Active, Born, Code, Big) VALUES (N'Zoë', 12.5, 1.25, 1,"
     " '2024-01-02 03:04:05', 'abc', 5000000000), (N'Bob', NULL, 2, 0, NULL, NULL, 1)");
  auto r = ok("SELECT TOP 1 [Id], [Name], Balance, Score, Active, Code, Big FROM dbo.Customers ORDER BY Id");
  ASSERT_EQ(r.sets.size(), 1u);
  const auto& set = r.sets[0];
  ASSERT_EQ(set.rows.size(), 1u);
  EXPECT_EQ(set.columns[0].type.type, SqlType::int_);
  EXPECT_EQ(set.columns[1].type.type, SqlType::nvarchar);
  EXPECT_EQ(set.columns[1].type.length, 100);
  EXPECT_EQ(set.columns[2].type.type, SqlType::decimal);
  EXPECT_EQ(set.columns[2].type.scale, 2);
  EXPECT_EQ(set.columns[3].type.type, SqlType::float_);
  EXPECT_EQ(set.columns[4].type.type, SqlType::bit);
  EXPECT_EQ(set.columns[5].type.type, SqlType::varchar);
  EXPECT_EQ(set.columns[6].type.type, SqlType::bigint);
  EXPECT_EQ(as_int(set.rows[0][0]), 1);
  EXPECT_EQ(as_str(set.rows[0][1]), "Zoë");
  EXPECT_EQ(as_str(set.rows[0][2]), "12.50");
  EXPECT_EQ(as_int(set.rows[0][6]), 5000000000);
  auto c = ok("SELECT COUNT_BIG(*) AS n, COUNT(*) FROM Customers");
  EXPECT_EQ(c.sets[0].columns[0].type.type, SqlType::bigint);
  EXPECT_EQ(c.sets[0].columns[1].type.type, SqlType::int_);
  EXPECT_EQ(c.sets[0].columns[1].name, "");
  EXPECT_EQ(as_int(c.sets[0].rows[0][0]), 2);
}

TEST_F(EngineTest, IdentityInsertNeedsTheSetting) {
  // Given an identity column, an explicit value should fail with 544 until IDENTITY_INSERT is ON.
  ok("CREATE TABLE t (id int IDENTITY(1,1) PRIMARY KEY, v nvarchar(10))");
  auto bad = run(*m_s, "INSERT INTO t (id, v) VALUES (10, N'x')");
  ASSERT_TRUE(bad.error());
  EXPECT_EQ(bad.error()->number, 544);
  ok("SET IDENTITY_INSERT t ON; INSERT INTO t (id, v) VALUES (10, N'x'); SET IDENTITY_INSERT t OFF;");
  ok("INSERT INTO t VALUES (N'y')");
  auto r = ok("SELECT id FROM t WHERE v = N'y'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 11);
  ok("DBCC CHECKIDENT('t', RESEED, 100)");
  ok("INSERT INTO t (v) VALUES (N'z')");
  r = ok("SELECT id FROM t WHERE v = 'z'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 101);
}

TEST_F(EngineTest, ForeignKeyAndTriggerBehaveAsSqlServer) {
  // Given a parent/child FK and an AFTER INSERT trigger writing an audit row, an orphan insert should
  // fail with 547 and a valid insert should fire the trigger.
  ok("CREATE TABLE Orders (OrderId int IDENTITY(1,1) PRIMARY KEY, Customer nvarchar(50) NOT NULL)");
  ok("CREATE TABLE OrderLines (LineId int IDENTITY(1,1) PRIMARY KEY, OrderId int NOT NULL,"
     " CONSTRAINT FK_Lines_Orders FOREIGN KEY (OrderId) REFERENCES Orders(OrderId), Qty int)");
  ok("CREATE TABLE Audit (AuditId int IDENTITY(1,1) PRIMARY KEY, OrderId int, Action char(1))");
  ok("CREATE TRIGGER trg_Orders_Insert ON dbo.Orders AFTER INSERT AS\nBEGIN\n SET NOCOUNT ON;\n"
     " INSERT INTO dbo.Audit (OrderId, Action) SELECT i.OrderId, 'I' FROM inserted i;\nEND");
  auto orphan = run(*m_s, "INSERT INTO OrderLines (OrderId, Qty) VALUES (999, 1)");
  ASSERT_TRUE(orphan.error());
  EXPECT_EQ(orphan.error()->number, 547);
  ok("INSERT INTO Orders (Customer) VALUES (N'a'), (N'b')");
  auto a = ok("SELECT OrderId, Action FROM Audit ORDER BY OrderId");
  ASSERT_EQ(a.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_int(a.sets[0].rows[1][0]), 2);
  // Disabled triggers do not fire; the catalog says so.
  ok("ALTER TABLE Orders DISABLE TRIGGER ALL");
  ok("INSERT INTO Orders (Customer) VALUES (N'c')");
  EXPECT_EQ(as_int(ok("SELECT COUNT(*) FROM Audit").sets[0].rows[0][0]), 2);
  EXPECT_EQ(as_int(ok("SELECT is_disabled FROM sys.triggers WHERE name = 'trg_Orders_Insert'").sets[0].rows[0][0]), 1);
  // NOCHECK lets an orphan in; WITH CHECK CHECK then refuses to re-enable.
  ok("ALTER TABLE OrderLines NOCHECK CONSTRAINT ALL");
  ok("INSERT INTO OrderLines (OrderId, Qty) VALUES (999, 1)");
  auto recheck = run(*m_s, "ALTER TABLE OrderLines WITH CHECK CHECK CONSTRAINT ALL");
  ASSERT_TRUE(recheck.error());
  EXPECT_EQ(recheck.error()->number, 547);
}

TEST_F(EngineTest, ProductStatementsForCutoverWork) {
  // Given a trigger and a foreign key, the product's per-name DISABLE/ENABLE TRIGGER, NOCHECK / WITH CHECK CHECK
  // CONSTRAINT and DBCC CHECKIDENT (N'[dbo].[t]', RESEED) should behave as SQL Server's.
  ok("CREATE TABLE P (Id int IDENTITY(1,1) PRIMARY KEY, N nvarchar(10)); CREATE TABLE C (Id int PRIMARY KEY, PId int,"
     " CONSTRAINT FK_C_P FOREIGN KEY (PId) REFERENCES P(Id)); CREATE TABLE A (PId int);");
  ok("CREATE TRIGGER trgP ON dbo.P AFTER INSERT AS INSERT INTO dbo.A (PId) SELECT Id FROM inserted");
  ok("ALTER TABLE [dbo].[P] DISABLE TRIGGER [trgP]");
  ok("INSERT INTO P (N) VALUES (N'x')");
  EXPECT_EQ(as_int(ok("SELECT COUNT(*) FROM A").sets[0].rows[0][0]), 0);
  auto trg = ok("SELECT s.name AS schema_name, t.name AS table_name, tr.name AS trigger_name FROM sys.triggers AS tr JOIN sys.tables AS t"
                " ON t.object_id = tr.parent_id JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE tr.is_disabled = 0");
  EXPECT_TRUE(trg.sets[0].rows.empty());
  ok("ALTER TABLE [dbo].[P] ENABLE TRIGGER [trgP]");
  ok("INSERT INTO P (N) VALUES (N'y')");
  EXPECT_EQ(as_int(ok("SELECT COUNT(*) FROM A").sets[0].rows[0][0]), 1);
  ok("ALTER TABLE [dbo].[C] NOCHECK CONSTRAINT [FK_C_P]");
  ok("INSERT INTO C VALUES (1, 42)");
  auto bad = run(*m_s, "ALTER TABLE [dbo].[C] WITH CHECK CHECK CONSTRAINT [FK_C_P]");
  ASSERT_TRUE(bad.error());
  EXPECT_EQ(bad.error()->number, 547);
  ok("DELETE FROM C WHERE PId = 42");
  ok("ALTER TABLE [dbo].[C] WITH CHECK CHECK CONSTRAINT [FK_C_P]");
  EXPECT_EQ(as_int(ok("SELECT is_disabled FROM sys.foreign_keys WHERE name = 'FK_C_P'").sets[0].rows[0][0]), 0);
  ok("SET IDENTITY_INSERT [dbo].[P] ON; INSERT INTO [dbo].[P] ([Id], [N]) VALUES (50, N'z'); SET IDENTITY_INSERT [dbo].[P] OFF;");
  auto d = ok("DBCC CHECKIDENT (N'[dbo].[P]', RESEED)");
  EXPECT_TRUE(d.has_message(2559));
  ok("INSERT INTO P (N) VALUES (N'w')");
  EXPECT_EQ(as_int(ok("SELECT MAX(Id) FROM P").sets[0].rows[0][0]), 51);
  auto sum = ok("SELECT COUNT_BIG(*) AS row_count, CHECKSUM_AGG(BINARY_CHECKSUM(*)) AS checksum FROM [dbo].[P]");
  EXPECT_EQ(as_int(sum.sets[0].rows[0][0]), 4);
}

TEST_F(EngineTest, ModulesAreStoredAndRun) {
  // Given a view, a procedure and a function, their definitions should be in sys.sql_modules, the
  // view should select and the procedure should run its DML with parameters.
  ok("CREATE TABLE Items (Id int PRIMARY KEY, Name nvarchar(20))");
  ok("CREATE VIEW dbo.ItemNames AS SELECT Name FROM dbo.Items");
  ok("CREATE PROCEDURE dbo.AddItem @Id int, @Name nvarchar(20) AS BEGIN SET NOCOUNT ON; INSERT INTO Items (Id, Name) VALUES (@Id, @Name); END");
  ok("CREATE FUNCTION dbo.Twice (@x int) RETURNS int AS BEGIN RETURN @x * 2 END");
  ok("EXEC dbo.AddItem @Id = 1, @Name = N'one'");
  ok("EXEC dbo.AddItem 2, N'two'");
  auto v = ok("SELECT Name FROM ItemNames ORDER BY Name");
  ASSERT_EQ(v.sets[0].rows.size(), 2u);
  auto m = ok("SELECT o.name, o.type, m.definition FROM sys.objects o JOIN sys.sql_modules m ON m.object_id = o.object_id ORDER BY o.name");
  ASSERT_EQ(m.sets[0].rows.size(), 3u);
  EXPECT_NE(as_str(m.sets[0].rows[0][2]).find("CREATE PROCEDURE dbo.AddItem"), std::string::npos);
  EXPECT_EQ(as_str(m.sets[0].rows[1][1]), "V ");  // sys.objects.type is char(2): padded, as SQL Server's
}

TEST_F(EngineTest, AProcedureWithoutParametersRunsItsBody) {
  // Given CREATE PROCEDURE name AS BEGIN ... END with no parameter list (the AS right after
  // the name), EXEC should run the body.
  ok("CREATE TABLE Jobs (Id int PRIMARY KEY, Done bit NOT NULL)");
  ok("INSERT INTO Jobs VALUES (1, 0)");
  ok("CREATE PROCEDURE dbo.FinishJobs AS\nBEGIN\n SET NOCOUNT ON;\n UPDATE dbo.Jobs SET Done = 1;\nEND");
  ok("EXEC dbo.FinishJobs");
  auto r = ok("SELECT Done FROM Jobs WHERE Id = 1");
  ASSERT_EQ(r.sets[0].rows.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 1);
}

TEST_F(EngineTest, AnSpNamedUserProcedureRunsWhenMasterHasNoneByThatName) {
  // FreeTDS's funccall and norowset create sp_test / sp_norowset_test: an sp_ name is looked up
  // in master first, then in the current database.
  ok("CREATE PROCEDURE sp_user_test @res int OUTPUT AS SET @res = 456");
  auto r = ok("DECLARE @x int; EXEC sp_user_test @x OUTPUT; SELECT @x");
  ASSERT_FALSE(r.sets.empty());
  EXPECT_EQ(as_int(r.sets.back().rows[0][0]), 456);
  // A system procedure's name still means the system procedure.
  ok("CREATE PROCEDURE sp_tables AS SELECT 'mine'");
  auto t = ok("EXEC sp_tables @table_name = 'Items'");
  ASSERT_FALSE(t.sets.empty());
  EXPECT_GT(t.sets[0].columns.size(), 1u);
  auto m = error_of(*m_s, "EXEC sp_nothing_by_that_name");
  EXPECT_EQ(m.number, 2812);
}

TEST_F(EngineTest, AProcedureNamedWithItsDatabaseAndTheDefaultSchemaRuns) {
  // FreeTDS's funccall calls {call [db]..proc(?)}: the current database named in brackets and
  // the schema left out (dbo).
  ok("CREATE PROC TMP_SP_Test_ODBC @o int OUTPUT AS SET @o = 55 RETURN 3");
  auto r = ok("DECLARE @o int, @rc int; EXEC @rc = [shop]..TMP_SP_Test_ODBC @o OUTPUT; SELECT @o, @rc");
  ASSERT_FALSE(r.sets.empty());
  EXPECT_EQ(as_int(r.sets.back().rows[0][0]), 55);
  EXPECT_EQ(as_int(r.sets.back().rows[0][1]), 3);
  EXPECT_EQ(error_of(*m_s, "EXEC [shop]..no_such_proc").number, 2812);
}

TEST_F(EngineTest, TransactionsAreLoggedWithBeginAndCommitLsns) {
  // Given an explicit transaction that commits and one that rolls back, fn_dblog should show
  // begin/commit/abort records with names, begin times and increasing LSNs, and the rolled
  // back row should be gone.
  ok("CREATE TABLE k (id int PRIMARY KEY, v int)");
  ok("BEGIN TRAN; INSERT INTO k VALUES (1, 1); UPDATE k SET v = 2 WHERE id = 1; COMMIT TRAN;");
  ok("BEGIN TRANSACTION t2; INSERT INTO k VALUES (2, 2); DELETE FROM k WHERE id = 1; ROLLBACK TRANSACTION;");
  ok("INSERT INTO k VALUES (3, 3)");
  auto rows = ok("SELECT id, v FROM k ORDER BY id");
  ASSERT_EQ(rows.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_int(rows.sets[0].rows[0][1]), 2);
  auto log = ok("SELECT [Current LSN], Operation, [Transaction ID], [Transaction Name], [Begin Time], Description FROM fn_dblog(NULL, NULL)");
  const auto& lr = log.sets[0].rows;
  std::vector<std::string> ops, names;
  std::string prev;
  for (auto& r : lr) {
    const std::string lsn = as_str(r[0]);
    EXPECT_EQ(lsn.size(), 22u);
    EXPECT_LT(prev, lsn);
    prev = lsn;
    ops.push_back(as_str(r[1]));
    if (as_str(r[1]) == "LOP_BEGIN_XACT") {
      names.push_back(as_str(r[3]));
      EXPECT_FALSE(std::holds_alternative<std::monostate>(r[4]));
    } else {
      EXPECT_TRUE(std::holds_alternative<std::monostate>(r[3]));
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"user_transaction", "t2", "INSERT"}));
  auto count = [&](const std::string& op) { return std::count(ops.begin(), ops.end(), op); };
  EXPECT_EQ(count("LOP_COMMIT_XACT"), 2);
  EXPECT_EQ(count("LOP_ABORT_XACT"), 1);
  EXPECT_EQ(count("LOP_MODIFY_ROW"), 1 + 0);
  // The record after a commit starts a new block at slot 1 (docs/facts.md §11).
  for (std::size_t i = 0; i + 1 < lr.size(); ++i) {
    if (as_str(lr[i][1]) == "LOP_COMMIT_XACT" || as_str(lr[i][1]) == "LOP_ABORT_XACT") {
      EXPECT_EQ(as_str(lr[i + 1][0]).substr(18), "0001");
    }
  }
  EXPECT_EQ(log.sets[0].columns[0].type.type, SqlType::nvarchar);
}

TEST_F(EngineTest, CatalogViewsDescribeTheDatabase) {
  // Given a table with a PK and one without, sys.* should describe both and sys.databases the database.
  ok("CREATE TABLE WithPk (Id int NOT NULL PRIMARY KEY, Name nvarchar(10))");
  ok("CREATE TABLE Heap (A int, B varchar(5))");
  auto idx = ok("SELECT t.name, i.type_desc, i.is_primary_key FROM sys.tables t JOIN sys.indexes i ON i.object_id = t.object_id ORDER BY t.name");
  ASSERT_EQ(idx.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_str(idx.sets[0].rows[0][1]), "HEAP");
  EXPECT_EQ(as_str(idx.sets[0].rows[1][1]), "CLUSTERED");
  auto kc = ok("SELECT COUNT(*) FROM sys.key_constraints WHERE type = 'PK'");
  EXPECT_EQ(as_int(kc.sets[0].rows[0][0]), 1);
  auto cols = ok("SELECT c.name, c.max_length FROM sys.columns c WHERE c.object_id = OBJECT_ID('dbo.WithPk') ORDER BY c.column_id");
  ASSERT_EQ(cols.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_int(cols.sets[0].rows[1][1]), 20);
  auto db = ok("SELECT name, database_id, state_desc, recovery_model_desc, is_cdc_enabled, is_published, log_reuse_wait_desc,"
               " compatibility_level, is_encrypted FROM sys.databases WHERE name = N'shop'");
  ASSERT_EQ(db.sets[0].rows.size(), 1u);
  EXPECT_EQ(as_str(db.sets[0].rows[0][2]), "ONLINE");
  EXPECT_EQ(as_str(db.sets[0].rows[0][3]), "FULL");
  EXPECT_EQ(as_int(db.sets[0].rows[0][1]), as_int(ok("SELECT DB_ID()").sets[0].rows[0][0]));
  auto v = ok("SELECT SERVERPROPERTY('ProductVersion') AS v, @@VERSION, QUOTENAME(N'a]b')");
  EXPECT_EQ(as_str(v.sets[0].rows[0][0]), "15.0.4355.3");
  EXPECT_EQ(as_str(v.sets[0].rows[0][2]), "[a]]b]");
  auto mf = ok("SELECT COUNT(*) FROM sys.master_files WHERE database_id = DB_ID('shop')");
  EXPECT_EQ(as_int(mf.sets[0].rows[0][0]), 2);
}

TEST_F(EngineTest, ChecksumAggregateValidatesContent) {
  // Given two tables with the same rows in another order, CHECKSUM_AGG(BINARY_CHECKSUM(*)) should agree, and
  // differ once a value changes.
  ok("CREATE TABLE a (id int PRIMARY KEY, v nvarchar(10)); CREATE TABLE b (id int PRIMARY KEY, v nvarchar(10));");
  ok("INSERT INTO a VALUES (1, N'x'), (2, N'y'); INSERT INTO b VALUES (2, N'y'), (1, N'x');");
  auto ca = ok("SELECT CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM a").sets[0].rows[0][0];
  auto cb = ok("SELECT CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM b").sets[0].rows[0][0];
  EXPECT_EQ(ca, cb);
  ok("UPDATE b SET v = N'z' WHERE id = 2");
  EXPECT_NE(ca, ok("SELECT CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM b").sets[0].rows[0][0]);
}

TEST_F(EngineTest, UnsupportedStatementsFailNamingTheStatement) {
  // Given a statement the sandbox does not implement, it should fail with a SQL Server-style error naming it.
  auto r = run(*m_s, "MERGE INTO x USING y ON 1 = 1 WHEN MATCHED THEN DELETE;");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 40517);
  EXPECT_NE(r.error()->text.find("MERGE"), std::string::npos);
  auto s = run(*m_s, "ALTER DATABASE shop SET READ_ONLY");
  ASSERT_TRUE(s.error());
  EXPECT_NE(s.error()->text.find("ALTER DATABASE SET READ_ONLY"), std::string::npos);
}

TEST_F(EngineTest, WrongPasswordIsLoginFailed18456) {
  // Given a wrong password, login should fail with 18456 naming the user.
  auto login = m_inst->login("sa", "nope", "");
  EXPECT_FALSE(login.session);
  EXPECT_EQ(login.failure.number, 18456);
  EXPECT_EQ(login.failure.text, "Login failed for user 'sa'.");
}

TEST_F(EngineTest, RecoveryModelsAndLogReuseWait) {
  // Given FULL recovery with a full backup, the log waits for a LOG_BACKUP; SIMPLE refuses BACKUP LOG with 4208;
  // FULL without a full backup refuses it with 4214; publishing holds the log for REPLICATION.
  ok("CREATE TABLE x (id int PRIMARY KEY)");
  auto no_full = run(*m_s, "BACKUP LOG shop TO DISK = N'" + m_dir + "/l0.trn'");
  EXPECT_TRUE(no_full.has_message(4214));
  EXPECT_TRUE(no_full.has_message(3013));
  ok("BACKUP DATABASE shop TO DISK = N'" + m_dir + "/f.bak'");
  ok("INSERT INTO x VALUES (1)");
  auto wait = [&] { return as_str(ok("SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'shop'").sets[0].rows[0][0]); };
  EXPECT_EQ(wait(), "LOG_BACKUP");
  ok("BACKUP LOG shop TO DISK = N'" + m_dir + "/l1.trn'");
  EXPECT_EQ(wait(), "NOTHING");
  ok(local_distributor_sql("src"));
  ok("EXEC sp_replicationdboption @dbname = N'shop', @optname = N'publish', @value = N'true'");
  ok("INSERT INTO x VALUES (2)");
  EXPECT_EQ(wait(), "REPLICATION");
  ok("ALTER DATABASE shop SET RECOVERY SIMPLE");
  auto simple = run(*m_s, "BACKUP LOG shop TO DISK = N'" + m_dir + "/l2.trn'");
  EXPECT_TRUE(simple.has_message(4208));
}

TEST_F(EngineTest, AnUnknownColumnIsMsg207NotAStringLiteral) {
  // Given a misspelt column, bracketed or double-quoted, SQL Server raises Msg 207; SQLite's
  // default would read the double-quoted name as the string 'PriceWithTax' and return a row.
  ok("CREATE TABLE dbo.Products (ProductId int PRIMARY KEY, Price money)");
  ok("INSERT INTO dbo.Products VALUES (1, 5)");
  for (const std::string sql : {"SELECT [PriceWithTax] FROM dbo.Products", "SELECT \"PriceWithTax\" FROM dbo.Products",
                                "SELECT ProductId FROM dbo.Products WHERE [Nope] = 1",
                                "UPDATE dbo.Products SET Price = \"Nope\""}) {
    auto r = run(*m_s, sql);
    ASSERT_NE(r.error(), nullptr) << sql;
    EXPECT_EQ(r.error()->number, 207) << sql << " -> " << r.error()->text;
    EXPECT_TRUE(r.sets.empty() || r.sets[0].rows.empty()) << sql;
  }
  EXPECT_EQ(as_str(ok("SELECT 'PriceWithTax'").sets.at(0).rows.at(0).at(0)), "PriceWithTax") << "a string literal is one";
}

TEST_F(EngineTest, ScopeIdentityIsTheStatementsOwnInsertNotItsTriggers) {
  // Given an AFTER INSERT trigger that inserts into another identity table (as the sample's
  // dbo.Orders does into dbo.OrderEvents), SCOPE_IDENTITY() after the insert should be the
  // order's identity, not the event's.
  ok("CREATE TABLE dbo.Orders (OrderId int IDENTITY(1,1) PRIMARY KEY, Total int)");
  ok("CREATE TABLE dbo.OrderEvents (EventId bigint IDENTITY(100,1) PRIMARY KEY, OrderId int)");
  ok("CREATE TRIGGER dbo.trg ON dbo.Orders AFTER INSERT AS BEGIN SET NOCOUNT ON; "
     "INSERT INTO dbo.OrderEvents (OrderId) SELECT OrderId FROM inserted; END");
  ok("INSERT INTO dbo.Orders (Total) VALUES (5)");
  auto r = ok("INSERT INTO dbo.Orders (Total) VALUES (6); SELECT CONVERT(int, SCOPE_IDENTITY())");
  ASSERT_FALSE(r.sets.empty());
  EXPECT_EQ(as_int(r.sets.back().rows.at(0).at(0)), 2);
  auto events = ok("SELECT COUNT(*) FROM dbo.OrderEvents WHERE EventId >= 100");
  EXPECT_EQ(as_int(events.sets.at(0).rows.at(0).at(0)), 2) << "the trigger ran";
}

}  // namespace
