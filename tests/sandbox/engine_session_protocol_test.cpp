// Unit tests of what the engine reports for the TDS layer (issue 11): OUTPUT parameters of
// procedures and sp_executesql, transaction start/end, SET options (@@OPTIONS, SESSIONPROPERTY,
// TEXTSIZE, DATEFIRST, LANGUAGE), sp_reset_connection, and the types of an empty result.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineSessionProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = temp_dir("protocol");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = k_sa_password;
    m_inst = open_instance(cfg);
    m_s = login(*m_inst);
    must(*m_s, "CREATE DATABASE shop");
    m_s = login(*m_inst, "shop");
    must(*m_s, "CREATE TABLE dbo.Orders(id int IDENTITY(1,1) PRIMARY KEY, amount decimal(10,2) NOT NULL, note nvarchar(max) NULL)");
    must(*m_s, "INSERT INTO dbo.Orders(amount, note) VALUES (10.50, N'first'), (4.25, NULL)");
    must(*m_s,
         "CREATE PROCEDURE dbo.OrderTotal @min decimal(10,2), @total decimal(10,2) OUTPUT, @n int OUT AS\n"
         "BEGIN\n"
         "  SELECT @total = SUM(amount) FROM dbo.Orders WHERE amount >= @min;\n"
         "  SELECT @n = COUNT(*) FROM dbo.Orders WHERE amount >= @min;\n"
         "END");
  }
  void TearDown() override {
    m_s.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  Collected rpc(const std::string& proc, const std::vector<RpcParam>& params) {
    CollectSink sink;
    m_s->execute_rpc(proc, params, sink);
    return sink.c;
  }
  static RpcParam param(const std::string& name, ColumnType type, Value v, bool output = false) {
    RpcParam p;
    p.name = name;
    p.type = type;
    p.value = std::move(v);
    p.output = output;
    return p;
  }
  static RpcParam text(const std::string& s) { return param("", {SqlType::nvarchar, k_max_length, 0, 0}, s); }
  std::int64_t scalar(const std::string& sql) {
    auto r = must(*m_s, sql);
    EXPECT_EQ(r.sets.size(), 1u) << sql;
    if (r.sets.empty() || r.sets[0].rows.empty()) return -999;
    return as_int(r.sets[0].rows[0][0]);
  }

  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_s;
};

const ColumnType k_int{SqlType::int_, 0, 0, 0};
const ColumnType k_dec{SqlType::decimal, 0, 10, 2};

TEST_F(EngineSessionProtocolTest, AnRpcGetsItsOutputParametersAfterTheReturnStatus) {
  // Given OrderTotal called by RPC with @total and @n as OUTPUT, the sink should get RETURNSTATUS 0, then
  // @total = 14.75 (decimal(10,2)) and @n = 2 in the call's order, then the DONEPROC.
  const auto r = rpc("dbo.OrderTotal", {param("@min", k_dec, std::string("1.00")), param("@total", k_dec, Value{}, true),
                                        param("@n", k_int, Value{}, true)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 2u);
  EXPECT_EQ(r.return_values[0].name, "@total");
  EXPECT_EQ(r.return_values[0].type.type, SqlType::decimal);
  EXPECT_EQ(r.return_values[0].value, Value{std::string("14.75")});
  EXPECT_EQ(r.return_values[1].name, "@n");
  EXPECT_EQ(r.return_values[1].value, Value{std::int64_t{2}});
  EXPECT_EQ(r.order, (std::vector<std::string>{"status", "value", "value", "done_proc"}));
  EXPECT_EQ(r.statuses, (std::vector<int>{0}));
}

TEST_F(EngineSessionProtocolTest, PositionalOutputParametersComeBackByTheirFormalNames) {
  // Given the same call with unnamed parameters (as the FreeTDS ODBC driver sends {call p(?,?,?)}),
  // the outputs should come back named @total and @n.
  const auto r = rpc("OrderTotal", {param("", k_dec, std::string("5.00")), param("", k_dec, Value{}, true),
                                    param("", k_int, Value{}, true)});
  ASSERT_EQ(r.return_values.size(), 2u);
  EXPECT_EQ(r.return_values[0].name, "@total");
  EXPECT_EQ(r.return_values[0].value, Value{std::string("10.50")});
  EXPECT_EQ(r.return_values[1].value, Value{std::int64_t{1}});
}

TEST_F(EngineSessionProtocolTest, AnOutputParameterComesBackInTheTypeTheClientSentIt) {
  // FreeTDS's genparams: a smalldatetime OUTPUT parameter bound as SQL_TIMESTAMP is sent as
  // datetime; the RETURNVALUE is that datetime (8 bytes on the wire), not the smalldatetime.
  must(*m_s, "CREATE PROC dbo.StampOut @i SMALLDATETIME OUTPUT AS SELECT @i = CONVERT(SMALLDATETIME, '2004-02-24 15:16:17')");
  const auto r = rpc("dbo.StampOut", {param("", {SqlType::datetime, 0, 0, 0}, Value{}, true)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 1u);
  EXPECT_EQ(r.return_values[0].name, "@i");
  EXPECT_EQ(r.return_values[0].type.type, SqlType::datetime);
  EXPECT_EQ(r.return_values[0].value, Value{std::string("2004-02-24 15:16:00.000")});
}

TEST_F(EngineSessionProtocolTest, AnArgumentTakesItsParametersType) {
  // FreeTDS's const_params: '2004-10-15 12:09:08' passed to a datetime parameter is that
  // datetime (equal to CONVERT(datetime, ...)), by RPC and by EXEC alike; one that cannot be
  // converted is SQL Server's conversion error.
  must(*m_s, "CREATE PROC dbo.SameStamp @d datetime, @n int, @same int OUTPUT AS"
             " SELECT @same = CASE WHEN @d = CONVERT(datetime, '2004-10-15 12:09:08') AND @n = 7 THEN 1 ELSE 0 END");
  const ColumnType varchar{SqlType::varchar, 19, 0, 0};
  const auto r = rpc("dbo.SameStamp", {param("", varchar, std::string("2004-10-15 12:09:08")), param("", varchar, std::string("7")),
                                       param("", k_int, Value{}, true)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 1u);
  EXPECT_EQ(r.return_values[0].value, Value{std::int64_t{1}});
  auto b = must(*m_s, "DECLARE @s int; EXEC dbo.SameStamp '2004-10-15 12:09:08', 7, @s OUTPUT; SELECT @s");
  EXPECT_EQ(b.sets.back().rows[0][0], Value{std::int64_t{1}});
  EXPECT_EQ(error_of(*m_s, "DECLARE @s int; EXEC dbo.SameStamp 'not a date', 7, @s OUTPUT").number, 241);
}

TEST_F(EngineSessionProtocolTest, ExecWithOutputAssignsTheCallersVariables) {
  // Given EXEC with @total = @t OUTPUT in a batch, @t should hold the procedure's value afterwards, and a
  // parameter passed without OUTPUT should keep the caller's value.
  auto r = must(*m_s,
                "DECLARE @t decimal(10,2) = 0, @c int = 99;\n"
                "EXEC dbo.OrderTotal @min = 1, @total = @t OUTPUT, @n = @c;\n"
                "SELECT @t AS t, @c AS c");
  ASSERT_FALSE(r.sets.empty());
  const auto& row = r.sets.back().rows.at(0);
  EXPECT_EQ(row[0], Value{std::string("14.75")});
  EXPECT_EQ(row[1], Value{std::int64_t{99}});
  EXPECT_TRUE(r.return_values.empty()) << "a batch EXEC assigns variables, it sends no RETURNVALUE";
}

TEST_F(EngineSessionProtocolTest, OutputForAParameterNotDeclaredOutputIsError8162) {
  // Given @min passed as OUTPUT although the procedure does not declare it OUTPUT, the call should fail with 8162.
  const auto r = rpc("dbo.OrderTotal", {param("@min", k_dec, std::string("1.00"), true), param("@total", k_dec, Value{}, true),
                                        param("@n", k_int, Value{}, true)});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 8162);
  EXPECT_TRUE(r.return_values.empty());
  auto b = run(*m_s, "EXEC dbo.OrderTotal 1, 2 OUTPUT, 3");
  ASSERT_NE(b.error(), nullptr);
  EXPECT_EQ(b.error()->number, 179);  // OUTPUT on a constant
}

TEST_F(EngineSessionProtocolTest, SpExecutesqlReturnsItsDeclaredOutputParameters) {
  // Given sp_executesql with @params '@lo int, @cnt int OUTPUT' and @cnt passed as OUTPUT, the RPC should
  // answer @cnt = 1 (int), after the status; in a batch, EXEC sp_executesql ... @cnt = @v OUTPUT assigns @v.
  const auto r = rpc("sp_executesql", {text("SELECT @cnt = COUNT(*) FROM dbo.Orders WHERE amount > @lo"),
                                       text("@lo int, @cnt int OUTPUT"), param("@lo", k_int, std::int64_t{5}),
                                       param("@cnt", k_int, Value{}, true)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 1u);
  EXPECT_EQ(r.return_values[0].name, "@cnt");
  EXPECT_EQ(r.return_values[0].type.type, SqlType::int_);
  EXPECT_EQ(r.return_values[0].value, Value{std::int64_t{1}});
  EXPECT_EQ(r.order, (std::vector<std::string>{"status", "value", "done_proc"}));
  auto b = must(*m_s,
                "DECLARE @v int;\n"
                "EXEC sp_executesql N'SELECT @cnt = COUNT(*) FROM dbo.Orders', N'@cnt int OUTPUT', @cnt = @v OUTPUT;\n"
                "SELECT @v");
  EXPECT_EQ(b.sets.back().rows.at(0)[0], Value{std::int64_t{2}});
}

TEST_F(EngineSessionProtocolTest, SpExecutesqlWithoutADeclaredParameterIsError8178) {
  // Given @params declaring @x and no value for it, sp_executesql should fail with 8178.
  const auto r = rpc("sp_executesql", {text("SELECT @x"), text("@x int")});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 8178);
}

TEST_F(EngineSessionProtocolTest, TransactionsAreReportedWhenTheyBeginAndEnd) {
  // Given BEGIN/nested BEGIN/COMMIT/COMMIT, then BEGIN/ROLLBACK, the sink should hear began, committed
  // (only at the outermost), began, rolled back.
  auto r = must(*m_s, "BEGIN TRANSACTION; BEGIN TRAN; COMMIT; COMMIT; BEGIN TRAN t; ROLLBACK TRAN t");
  EXPECT_EQ(r.transactions, (std::vector<ResultSink::Transaction>{
                                ResultSink::Transaction::began, ResultSink::Transaction::committed,
                                ResultSink::Transaction::began, ResultSink::Transaction::rolled_back}));
}

TEST_F(EngineSessionProtocolTest, OptionsAnswerAsSqlServerDoes) {
  // Given a fresh login, @@OPTIONS should be 5432 (ANSI_WARNINGS, ANSI_PADDING, ANSI_NULLS, QUOTED_IDENTIFIER,
  // ANSI_NULL_DFLT_ON, CONCAT_NULL_YIELDS_NULL); ARITHABORT ON adds 64 and NOCOUNT ON 512; SESSIONPROPERTY
  // answers 1/0 and NULL for an unknown option.
  EXPECT_EQ(scalar("SELECT @@OPTIONS"), 5432);
  must(*m_s, "SET ARITHABORT ON");
  must(*m_s, "SET NOCOUNT, CURSOR_CLOSE_ON_COMMIT ON");
  EXPECT_EQ(scalar("SELECT @@OPTIONS"), 5432 + 64 + 512 + 4);
  must(*m_s, "SET NOCOUNT OFF; SET CURSOR_CLOSE_ON_COMMIT OFF");
  EXPECT_EQ(scalar("SELECT SESSIONPROPERTY('ANSI_NULLS')"), 1);
  EXPECT_EQ(scalar("SELECT SESSIONPROPERTY('ARITHABORT')"), 1);
  EXPECT_EQ(scalar("SELECT SESSIONPROPERTY('NUMERIC_ROUNDABORT')"), 0);
  auto unknown = must(*m_s, "SELECT SESSIONPROPERTY('NO_SUCH_OPTION')");
  EXPECT_EQ(unknown.sets.at(0).rows.at(0)[0], Value{});
}

TEST_F(EngineSessionProtocolTest, SettingsTheSandboxDoesNotModelAreRefused) {
  // Given SET ANSI_NULLS OFF (and the like), each should fail with 40517 naming it and change nothing.
  const std::vector<std::pair<std::string, std::string>> refused = {

      {"SET CONCAT_NULL_YIELDS_NULL OFF", "SET CONCAT_NULL_YIELDS_NULL OFF"}, {"SET ANSI_WARNINGS OFF", "SET ANSI_WARNINGS OFF"},
      {"SET ANSI_PADDING OFF", "SET ANSI_PADDING OFF"}, {"SET NUMERIC_ROUNDABORT ON", "SET NUMERIC_ROUNDABORT ON"}, {"SET DATEFORMAT dmy", "SET DATEFORMAT dmy"},
      {"SET LANGUAGE Deutsch", "SET LANGUAGE Deutsch"}, {"SET ARITHABORT, ANSI_WARNINGS OFF", "SET ANSI_WARNINGS OFF"}};
  for (const auto& [sql, named] : refused) {
    auto r = run(*m_s, sql);
    ASSERT_NE(r.error(), nullptr) << sql;
    EXPECT_EQ(r.error()->number, 40517) << sql;
    EXPECT_NE(r.error()->text.find("'" + named + "'"), std::string::npos) << r.error()->text;
  }
  EXPECT_EQ(scalar("SELECT @@OPTIONS"), 5432);
  // The values every driver sends at connect are accepted.
  must(*m_s, "set ansi_nulls on\nset quoted_identifier on\nset ansi_warnings on\nset ansi_padding on\n"
             "set concat_null_yields_null on\nset implicit_transactions off\nset numeric_roundabort off\n"
             "set language us_english\nset dateformat mdy\nset datefirst 7\nset textsize 2147483647\nset xact_abort off");
}

TEST_F(EngineSessionProtocolTest, AnsiNullDefaultsDecideAColumnsNullability) {
  // A column declared without NULL / NOT NULL is nullable under ANSI_NULL_DFLT_ON (every driver's
  // default); with it OFF the database's default (OFF) makes it NOT NULL, so inserting NULL is 515
  // (tedious's "should disable ansi null default"); ANSI_NULL_DFLT_OFF ON turns DFLT_ON off.
  must(*m_s, "CREATE TABLE #a (id int); INSERT INTO #a VALUES (NULL)");
  must(*m_s, "SET ANSI_NULL_DFLT_ON OFF");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & 1024"), 0);
  must(*m_s, "CREATE TABLE #b (id int, note int NULL)");
  EXPECT_EQ(error_of(*m_s, "INSERT INTO #b VALUES (NULL, 1)").number, 515);
  must(*m_s, "INSERT INTO #b VALUES (1, NULL)");  // explicit NULL still allowed
  must(*m_s, "CREATE TABLE dbo.NotNullByDefault (id int)");
  EXPECT_EQ(scalar("SELECT CAST(is_nullable AS int) FROM sys.columns WHERE object_id = OBJECT_ID('dbo.NotNullByDefault')"), 0);
  must(*m_s, "SET ANSI_NULL_DFLT_ON ON; SET ANSI_NULL_DFLT_OFF ON");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & (1024 | 2048)"), 2048);
  must(*m_s, "CREATE TABLE #c (id int)");
  EXPECT_EQ(error_of(*m_s, "INSERT INTO #c VALUES (NULL)").number, 515);
}

TEST_F(EngineSessionProtocolTest, QuotedIdentifierOffReadsDoubleQuotesAsStrings) {
  // SET QUOTED_IDENTIFIER OFF: from the next batch on, "text" is a string literal; ON (every
  // driver's default) makes it a name again. [brackets] name things either way.
  auto on = run(*m_s, "SELECT \"abc\"");
  ASSERT_NE(on.error(), nullptr);
  EXPECT_EQ(on.error()->number, 207);  // Invalid column name 'abc'
  must(*m_s, "SET QUOTED_IDENTIFIER OFF");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & 256"), 0);
  EXPECT_EQ(scalar("SELECT SESSIONPROPERTY('QUOTED_IDENTIFIER')"), 0);
  auto off = must(*m_s, "SELECT \"it's\" AS [v], LEN(\"abc\") AS n");
  EXPECT_EQ(off.sets.at(0).rows.at(0)[0], Value{std::string("it's")});
  EXPECT_EQ(off.sets.at(0).rows.at(0)[1], Value{std::int64_t{3}});
  must(*m_s, "SET QUOTED_IDENTIFIER ON");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM \"dbo\".\"Orders\""), 2);
}

TEST_F(EngineSessionProtocolTest, AnsiNullsOffComparesNullLiteralsAndVariablesAsEqual) {
  // SET ANSI_NULLS OFF: `note = NULL` finds the rows whose note is NULL, `<> @v` with @v NULL the
  // others; comparisons between columns keep ISO semantics; an UPDATE's SET list still assigns.
  must(*m_s, "UPDATE dbo.Orders SET note = NULL WHERE id = 1; UPDATE dbo.Orders SET note = N'x' WHERE id = 2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders WHERE note = NULL"), 0);  // ANSI_NULLS ON
  must(*m_s, "SET ANSI_NULLS OFF");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & 32"), 0);
  EXPECT_EQ(scalar("SELECT SESSIONPROPERTY('ANSI_NULLS')"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders WHERE note = NULL"), 1);
  EXPECT_EQ(scalar("SELECT id FROM dbo.Orders WHERE note = NULL"), 1);
  EXPECT_EQ(scalar("DECLARE @v nvarchar(10); SELECT COUNT(*) FROM dbo.Orders WHERE note <> @v"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders a JOIN dbo.Orders b ON a.note = b.note"), 1);  // columns: ISO
  must(*m_s, "DECLARE @v nvarchar(10) = NULL; UPDATE dbo.Orders SET note = @v WHERE id = 2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders WHERE note = NULL"), 2);
  must(*m_s, "SET ANSI_NULLS ON");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders WHERE note = NULL"), 0);
}

TEST_F(EngineSessionProtocolTest, ImplicitTransactionsOpenATransactionThatOnlyCommitEnds) {
  // SET IMPLICIT_TRANSACTIONS ON: the first INSERT opens a transaction (@@TRANCOUNT 1, bit 2 of
  // @@OPTIONS) that stays open until COMMIT or ROLLBACK; a SELECT without a table opens none;
  // BEGIN TRAN nests in an implicit one.
  must(*m_s, "CREATE TABLE dbo.K (id int PRIMARY KEY)");
  must(*m_s, "SET IMPLICIT_TRANSACTIONS ON");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & 2"), 2);
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
  auto ins = must(*m_s, "INSERT INTO dbo.K (id) VALUES (50)");
  EXPECT_EQ(ins.transactions, std::vector<ResultSink::Transaction>{ResultSink::Transaction::began});
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "ROLLBACK");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.K WHERE id = 50"), 0);  // this SELECT opened one
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "COMMIT");
  must(*m_s, "BEGIN TRAN");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 2);
  must(*m_s, "INSERT INTO dbo.K (id) VALUES (51); COMMIT; COMMIT");
  must(*m_s, "SET IMPLICIT_TRANSACTIONS OFF");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.K WHERE id = 51"), 1);
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
}

TEST_F(EngineSessionProtocolTest, XactAbortRollsBackTheTransactionAndEndsTheBatch) {
  // SET XACT_ABORT ON: a run-time error (here a duplicate key) rolls the whole transaction back
  // and ends the batch; RAISERROR does neither. Inside TRY the transaction is doomed instead:
  // XACT_STATE() -1, COMMIT and writes 3930, ROLLBACK ends it.
  must(*m_s, "CREATE TABLE dbo.K (id int PRIMARY KEY)");
  must(*m_s, "SET XACT_ABORT ON");
  EXPECT_EQ(scalar("SELECT @@OPTIONS & 16384"), 16384);
  auto r = run(*m_s, "BEGIN TRAN; INSERT INTO dbo.K (id) VALUES (60);"
                     " INSERT INTO dbo.K (id) VALUES (60); INSERT INTO dbo.K (id) VALUES (61)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 2627);
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.K WHERE id IN (60, 61)"), 0);
  run(*m_s, "BEGIN TRAN; INSERT INTO dbo.K (id) VALUES (62); RAISERROR('x', 16, 1);"
                          " INSERT INTO dbo.K (id) VALUES (63)");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "COMMIT");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.K WHERE id IN (62, 63)"), 2);
  auto doomed = must(*m_s, "BEGIN TRAN; BEGIN TRY INSERT INTO dbo.K (id) VALUES (62) END TRY"
                           " BEGIN CATCH SELECT XACT_STATE() AS s, @@TRANCOUNT AS n END CATCH");
  ASSERT_EQ(doomed.sets.size(), 1u);
  EXPECT_EQ(as_int(doomed.sets[0].rows[0][0]), -1);
  EXPECT_EQ(as_int(doomed.sets[0].rows[0][1]), 1);
  must(*m_s, "SET XACT_ABORT OFF");  // the transaction stays doomed
  EXPECT_EQ(error_of(*m_s, "INSERT INTO dbo.K (id) VALUES (64)").number, 3930);
  EXPECT_EQ(error_of(*m_s, "COMMIT").number, 3930);
  EXPECT_EQ(scalar("SELECT XACT_STATE()"), -1);
  must(*m_s, "ROLLBACK");
  EXPECT_EQ(scalar("SELECT XACT_STATE()"), 0);
  // Under XACT_ABORT ON, the 3930 of a doomed transaction is itself a run-time error: rolled back.
  must(*m_s, "SET XACT_ABORT ON");
  must(*m_s, "BEGIN TRAN; BEGIN TRY INSERT INTO dbo.K (id) VALUES (62) END TRY BEGIN CATCH END CATCH");
  EXPECT_EQ(error_of(*m_s, "INSERT INTO dbo.K (id) VALUES (64)").number, 3930);
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
  // Without XACT_ABORT, the statement alone fails and the transaction goes on.
  must(*m_s, "SET XACT_ABORT OFF");
  run(*m_s, "BEGIN TRAN; INSERT INTO dbo.K (id) VALUES (62)");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "ROLLBACK");
}

TEST_F(EngineSessionProtocolTest, SavepointsRollBackPartOfATransaction) {
  // SAVE TRANSACTION s; ROLLBACK TRANSACTION s undoes the changes since s (also to #t) and
  // keeps the transaction, @@TRANCOUNT and the changes before s; the savepoint stays usable, a
  // later one goes. Errors: 628 without a transaction, 6401 for an unknown name.
  must(*m_s, "CREATE TABLE dbo.K (id int PRIMARY KEY); CREATE TABLE #t (x int)");
  EXPECT_EQ(error_of(*m_s, "SAVE TRANSACTION s").number, 628);
  must(*m_s, "BEGIN TRAN outer_tx; INSERT INTO dbo.K VALUES (1); INSERT INTO #t VALUES (1); SAVE TRAN s;"
             " INSERT INTO dbo.K VALUES (2); UPDATE dbo.K SET id = 10 WHERE id = 1; INSERT INTO #t VALUES (2);"
             " SAVE TRANSACTION later; DELETE FROM dbo.K");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.K"), 0);
  must(*m_s, "ROLLBACK TRANSACTION s");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  EXPECT_EQ(scalar("SELECT SUM(id) FROM dbo.K"), 1);
  EXPECT_EQ(scalar("SELECT SUM(x) FROM #t"), 1);
  EXPECT_EQ(error_of(*m_s, "ROLLBACK TRANSACTION later").number, 6401);  // gone with the rollback to s
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "INSERT INTO dbo.K VALUES (3); DECLARE @n varchar(10) = 's'; ROLLBACK TRAN @n");  // s again, by variable
  EXPECT_EQ(scalar("SELECT SUM(id) FROM dbo.K"), 1);
  must(*m_s, "INSERT INTO dbo.K VALUES (4); COMMIT");
  EXPECT_EQ(scalar("SELECT SUM(id) FROM dbo.K"), 5);
  // The outer transaction's name rolls back everything.
  must(*m_s, "BEGIN TRAN outer_tx; SAVE TRAN s; INSERT INTO dbo.K VALUES (6); ROLLBACK TRANSACTION [outer_tx]");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
  EXPECT_EQ(scalar("SELECT SUM(id) FROM dbo.K"), 5);
}

TEST_F(EngineSessionProtocolTest, DmExecSessionsShowsEachSessionsSetOptions) {
  // sys.dm_exec_sessions shows the SET options in force for each session (tedious reads
  // date_format there): the login's defaults, then what SET changed, for the session itself and
  // for a sysadmin looking at another session; a reset restores them.
  auto row = [&](Session& s, int spid) {
    return must(s, "SELECT date_format, date_first, text_size, quoted_identifier, ansi_nulls, arithabort,"
                   " transaction_isolation_level, lock_timeout, language, ansi_defaults FROM sys.dm_exec_sessions"
                   " WHERE session_id = " + std::to_string(spid)).sets.at(0).rows.at(0);
  };
  const int spid = static_cast<int>(scalar("SELECT @@SPID"));
  auto initial = row(*m_s, spid);
  EXPECT_EQ(initial[0], Value{std::string("mdy")});
  EXPECT_EQ(initial[1], Value{std::int64_t{7}});
  EXPECT_EQ(initial[4], Value{std::int64_t{1}});
  EXPECT_EQ(initial[6], Value{std::int64_t{2}});
  EXPECT_EQ(initial[8], Value{std::string("us_english")});
  EXPECT_EQ(initial[9], Value{std::int64_t{0}});
  must(*m_s, "SET DATEFIRST 1; SET TEXTSIZE 1000; SET QUOTED_IDENTIFIER OFF; SET ARITHABORT ON;"
             " SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET LOCK_TIMEOUT 500");
  auto other = login(*m_inst);
  auto changed = row(*other, spid);
  EXPECT_EQ(changed[1], Value{std::int64_t{1}});
  EXPECT_EQ(changed[2], Value{std::int64_t{1000}});
  EXPECT_EQ(changed[3], Value{std::int64_t{0}});
  EXPECT_EQ(changed[5], Value{std::int64_t{1}});
  EXPECT_EQ(changed[6], Value{std::int64_t{1}});
  EXPECT_EQ(changed[7], Value{std::int64_t{500}});
  m_s->reset(false);
  auto reset = row(*other, spid);
  EXPECT_EQ(reset[1], Value{std::int64_t{7}});
  EXPECT_EQ(reset[3], Value{std::int64_t{1}});
  EXPECT_EQ(reset[7], Value{std::int64_t{-1}});
}

TEST_F(EngineSessionProtocolTest, TextsizeDatefirstAndLanguage) {
  // Given SET TEXTSIZE 10, an nvarchar(max) value should come back cut to 5 characters (10 bytes) and
  // @@TEXTSIZE say 10; SET TEXTSIZE 0 means 4096. DATEFIRST 1..7 sets @@DATEFIRST, 8 is 2742; SET LANGUAGE
  // us_english answers 5703, an unknown language 2740.
  EXPECT_EQ(scalar("SELECT @@TEXTSIZE"), 2147483647);
  must(*m_s, "SET TEXTSIZE 10");
  EXPECT_EQ(scalar("SELECT @@TEXTSIZE"), 10);
  auto cut = must(*m_s, "SELECT note FROM dbo.Orders WHERE id = 1; UPDATE dbo.Orders SET note = N'0123456789abc' WHERE id = 1;"
                        " SELECT note FROM dbo.Orders WHERE id = 1");
  EXPECT_EQ(cut.sets.at(1).rows.at(0)[0], Value{std::string("01234")});
  must(*m_s, "SET TEXTSIZE 0");
  EXPECT_EQ(scalar("SELECT @@TEXTSIZE"), 4096);
  // -1: no limit at all, and @@TEXTSIZE says -1.
  must(*m_s, "SET TEXTSIZE -1");
  EXPECT_EQ(scalar("SELECT @@TEXTSIZE"), -1);
  EXPECT_EQ(must(*m_s, "SELECT note FROM dbo.Orders WHERE id = 1").sets.at(0).rows.at(0)[0], Value{std::string("0123456789abc")});
  EXPECT_EQ(scalar("SELECT @@DATEFIRST"), 7);
  must(*m_s, "SET DATEFIRST 1");
  EXPECT_EQ(scalar("SELECT @@DATEFIRST"), 1);
  auto bad = run(*m_s, "SET DATEFIRST 8");
  ASSERT_NE(bad.error(), nullptr);
  EXPECT_EQ(bad.error()->number, 2742);
  EXPECT_EQ(bad.error()->text, "SET DATEFIRST 8 is out of range.");
  auto lang = must(*m_s, "SET LANGUAGE us_english");
  EXPECT_TRUE(lang.has_message(5703));
  auto unknown = run(*m_s, "SET LANGUAGE klingon");
  ASSERT_NE(unknown.error(), nullptr);
  EXPECT_EQ(unknown.error()->number, 2740);
}

TEST_F(EngineSessionProtocolTest, ResetRestoresTheLoginsSessionAndRollsBack) {
  // Given variables, SET options, another database and an open transaction with an insert, reset(false)
  // should drop the variables, restore the options and the login's database, and roll the insert back;
  // reset(true) keeps the transaction.
  must(*m_s, "CREATE DATABASE other");
  must(*m_s, "SET ARITHABORT ON; SET TEXTSIZE 100; SET DATEFIRST 3");
  must(*m_s, "BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (1.00)");
  must(*m_s, "USE other");
  m_s->reset(true);
  EXPECT_EQ(m_s->current_database(), "shop");
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 1);
  must(*m_s, "DECLARE @kept int = 1");
  m_s->reset(false);
  EXPECT_EQ(scalar("SELECT @@TRANCOUNT"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM dbo.Orders"), 2);
  EXPECT_EQ(scalar("SELECT @@OPTIONS"), 5432);
  EXPECT_EQ(scalar("SELECT @@TEXTSIZE"), 2147483647);
  EXPECT_EQ(scalar("SELECT @@DATEFIRST"), 7);
  auto gone = run(*m_s, "SELECT @kept");
  ASSERT_NE(gone.error(), nullptr);
  EXPECT_NE(gone.error()->text.find("Must declare the scalar variable \"@kept\""), std::string::npos) << gone.error()->text;
}

TEST_F(EngineSessionProtocolTest, AnEmptyResultStillDescribesItsColumns) {
  // Given a SELECT that matches no row, the result should still carry its columns with their types.
  auto r = must(*m_s, "SELECT id, amount, note, CAST(amount AS int) AS whole FROM dbo.Orders WHERE id < 0");
  ASSERT_EQ(r.sets.size(), 1u);
  const auto& c = r.sets[0].columns;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_TRUE(r.sets[0].rows.empty());
  EXPECT_EQ(c[0].type.type, SqlType::int_);
  EXPECT_EQ(c[1].type.type, SqlType::decimal);
  EXPECT_EQ(c[1].type.precision, 10);
  EXPECT_EQ(c[1].type.scale, 2);
  EXPECT_EQ(c[2].type.type, SqlType::nvarchar);
  EXPECT_EQ(c[2].type.length, k_max_length);
  EXPECT_EQ(c[3].type.type, SqlType::int_);
  EXPECT_EQ(c[3].name, "whole");
}

}  // namespace

namespace {

TEST_F(EngineSessionProtocolTest, ExecAssignsTheReturnStatusToItsVariable) {
  // Given EXEC @rc = dbo.OrderTotal ..., @rc should hold the procedure's return status (0), not stay NULL.
  auto r = must(*m_s, "DECLARE @rc int = 42, @t decimal(10,2), @c int;\n"
                      "EXEC @rc = dbo.OrderTotal 1, @t OUTPUT, @c OUTPUT;\n"
                      "SELECT @rc AS rc, @t AS t, @c AS c");
  const auto& row = r.sets.back().rows.at(0);
  EXPECT_EQ(row[0], Value{std::int64_t{0}});
  EXPECT_EQ(row[1], Value{std::string("14.75")});
  EXPECT_EQ(row[2], Value{std::int64_t{2}});
  auto undeclared = run(*m_s, "EXEC @nope = dbo.OrderTotal 1, 2, 3");
  ASSERT_NE(undeclared.error(), nullptr);
  EXPECT_EQ(undeclared.error()->number, 137);
}

}  // namespace

TEST_F(EngineSessionProtocolTest, AnAssignmentInsideSpExecutesqlReportsOneRowAndReturnsTheOutputParameter) {
  // Given tedious's output-parameter call `set @paramOut = @paramIn` by RPC, the statement's
  // DONEINPROC should carry a count of 1 (a simple assignment sets @@ROWCOUNT to 1), and the
  // RPC should answer @paramOut with @paramIn's value.
  const auto r = rpc("sp_executesql", {text("set @paramOut = @paramIn"), text("@paramIn int, @paramOut int output"),
                                       param("@paramIn", k_int, std::int64_t{42}), param("@paramOut", k_int, Value{}, true)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_FALSE(r.counts.empty());
  EXPECT_EQ(r.counts.front(), std::optional<std::int64_t>(1));
  ASSERT_EQ(r.return_values.size(), 1u);
  EXPECT_EQ(r.return_values[0].value, Value{std::int64_t{42}});
  // In a batch the assignment's DONE carries no count, and @@ROWCOUNT is 1 after it.
  auto b = must(*m_s, "DECLARE @v int; SET @v = 5; SELECT @@ROWCOUNT");
  EXPECT_EQ(b.counts.front(), std::nullopt);
  EXPECT_EQ(b.sets.back().rows.at(0)[0], Value{std::int64_t{1}});
}

TEST_F(EngineSessionProtocolTest, HostNameAndAppNameAnswerWhatTheClientSentAtLogin) {
  // Given a session whose client sent no names, HOST_NAME() and APP_NAME() should be NULL; after
  // the connection passes LOGIN7's HostName and AppName, they should answer them (nvarchar(128)).
  auto r = must(*m_s, "SELECT HOST_NAME(), APP_NAME()");
  EXPECT_EQ(r.sets[0].rows.at(0)[0], Value{});
  m_s->set_client("build-agent-7", "mssql2rds-tests");
  r = must(*m_s, "SELECT HOST_NAME() AS h, APP_NAME() AS a");
  EXPECT_EQ(r.sets[0].rows.at(0)[0], Value{std::string("build-agent-7")});
  EXPECT_EQ(r.sets[0].rows.at(0)[1], Value{std::string("mssql2rds-tests")});
  EXPECT_EQ(r.sets[0].columns.at(0).type.type, SqlType::nvarchar);
}
