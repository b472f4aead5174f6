// Batch shapes that scripts and drivers send (tedious, FreeTDS, sqlcmd scripts): every
// statement of a batch runs, whether or not it ends with `;`, and text that is not a
// statement is a syntax error, never dropped (README.md "Batches and control flow").
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineBatchTest : public ShopInstanceTest {
 protected:
  EngineBatchTest() : ShopInstanceTest("batch") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE TABLE dbo.t (id int IDENTITY(1,1) PRIMARY KEY, v int)");
  }
  std::int64_t count(const std::string& where = "1 = 1") {
    auto r = must(*m_s, "SELECT COUNT(*) FROM dbo.t WHERE " + where);
    return r.sets.empty() || r.sets[0].rows.empty() ? -1 : as_int(r.sets[0].rows[0][0]);
  }
};

TEST_F(EngineBatchTest, StatementAfterSetNocountOnWithoutSemicolonRuns) {
  // Given SET NOCOUNT ON and an INSERT on the next line without `;` (the bug: the INSERT
  // was swallowed into the SET), the INSERT should run and NOCOUNT should be on.
  auto r = must(*m_s, "SET NOCOUNT ON\nINSERT INTO dbo.t (v) VALUES (1)");
  EXPECT_EQ(count(), 1);
  ASSERT_FALSE(r.counts.empty());
  EXPECT_FALSE(r.counts.back().has_value());  // NOCOUNT suppressed the row count
}

TEST_F(EngineBatchTest, StatementAfterIdentityInsertOnWithoutSemicolonRuns) {
  must(*m_s, "SET IDENTITY_INSERT dbo.t ON\nINSERT INTO dbo.t (id, v) VALUES (42, 7)\nSET IDENTITY_INSERT dbo.t OFF\n"
             "INSERT INTO dbo.t (v) VALUES (8)");
  EXPECT_EQ(count("id = 42 AND v = 7"), 1);
  EXPECT_EQ(count("v = 8"), 1);
}

TEST_F(EngineBatchTest, ProcedureBodyStatementsAfterSetOptionsRun) {
  // Given a procedure body in the shape SSMS scripts (SET NOCOUNT ON then DML, no `;`),
  // every statement of the body should run.
  must(*m_s, "CREATE PROCEDURE dbo.add2 @v int AS\nBEGIN\n SET NOCOUNT ON\n INSERT INTO dbo.t (v) VALUES (@v)\n"
             " INSERT INTO dbo.t (v) VALUES (@v + 1)\nEND");
  must(*m_s, "EXEC dbo.add2 @v = 10");
  EXPECT_EQ(count("v IN (10, 11)"), 2);
}

TEST_F(EngineBatchTest, SetVariableEndsWhereItsExpressionEnds) {
  auto r = must(*m_s, "DECLARE @a int, @b nvarchar(10) = N'x'\nSET @a = (SELECT 2) * 3 + LEN(@b)\nSELECT @a AS a, @b AS b");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 7);
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "x");
}

TEST_F(EngineBatchTest, SelectsWithEveryClauseSplitWithoutSemicolons) {
  must(*m_s, "INSERT INTO dbo.t (v) VALUES (1), (2), (3), (3)");
  auto r = must(*m_s,
                "SELECT v, COUNT(*) AS n FROM dbo.t AS a WITH (NOLOCK) WHERE v > 1 GROUP BY v HAVING COUNT(*) >= 1 ORDER BY v DESC\n"
                "SELECT TOP (1) CASE WHEN v = 1 THEN 'one' ELSE 'other' END AS k FROM dbo.t ORDER BY id\n"
                "SELECT a.v FROM dbo.t a INNER JOIN dbo.t b ON b.id = a.id WHERE a.v BETWEEN 2 AND 2\n"
                "SELECT v FROM dbo.t WHERE v = 1 UNION ALL SELECT v FROM dbo.t WHERE v = 2\n"
                "SELECT 1 WHERE EXISTS (SELECT 1 FROM dbo.t) AND 2 NOT IN (5, 6)");
  ASSERT_EQ(r.sets.size(), 5u);
  EXPECT_EQ(r.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets[1].rows[0][0]), "one");
  EXPECT_EQ(r.sets[2].rows.size(), 1u);
  EXPECT_EQ(r.sets[3].rows.size(), 2u);
  EXPECT_EQ(r.sets[4].rows.size(), 1u);
}

TEST_F(EngineBatchTest, InsertUpdateDeleteChainWithoutSemicolons) {
  must(*m_s, "INSERT INTO dbo.t (v) VALUES (1), (2)\n"
             "INSERT INTO dbo.t (v) SELECT v + 10 FROM dbo.t WHERE v = 1\n"
             "UPDATE dbo.t SET v = v + 100 WHERE v = 2\n"
             "UPDATE TOP (1) dbo.t SET v = 0 WHERE v = 11\n"
             "DELETE FROM dbo.t WHERE v = 1\n"
             "INSERT dbo.t DEFAULT VALUES\n"
             "DELETE dbo.t WHERE v IS NULL\n"
             "SELECT 1");
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("v = 102"), 1);
  EXPECT_EQ(count("v = 0"), 1);
}

TEST_F(EngineBatchTest, TransactionStatementsWithoutSemicolons) {
  must(*m_s, "BEGIN TRAN\nINSERT INTO dbo.t (v) VALUES (1)\nCOMMIT\nBEGIN TRANSACTION named\nINSERT INTO dbo.t (v) VALUES (2)\n"
             "ROLLBACK TRANSACTION named\nBEGIN TRAN\nINSERT INTO dbo.t (v) VALUES (3)\nCOMMIT TRANSACTION\nSELECT @@TRANCOUNT");
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("v = 2"), 0);
}

TEST_F(EngineBatchTest, SessionPreambleOfDriversRuns) {
  // Given the set-up batch a driver sends at connect (tedious / FreeTDS / SSMS style), every
  // option should be accepted and the statement after it run.
  auto r = must(*m_s, "set textsize 2147483647\nset quoted_identifier on\nset arithabort off\nset numeric_roundabort off\n"
                      "set ansi_warnings on\nset ansi_padding on\nset ansi_nulls on\nset concat_null_yields_null on\n"
                      "set cursor_close_on_commit off\nset implicit_transactions off\nset language us_english\n"
                      "set dateformat mdy\nset datefirst 7\nset transaction isolation level read committed\n"
                      "SET ANSI_NULLS, QUOTED_IDENTIFIER ON\nSET LOCK_TIMEOUT -1\nselect 1 as ok");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 1);
}

TEST_F(EngineBatchTest, ExecArgumentsEndAtTheNextStatement) {
  must(*m_s, "CREATE PROCEDURE dbo.addv @v int, @w int = 0 AS INSERT INTO dbo.t (v) VALUES (@v + @w)");
  auto r = must(*m_s, "EXEC dbo.addv 1\nEXEC dbo.addv @v = 2, @w = 3\nEXECUTE dbo.addv -4\nSELECT COUNT(*) FROM dbo.t");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 3);
  EXPECT_EQ(count("v IN (1, 5, -4)"), 3);
}

TEST_F(EngineBatchTest, ProcedureNameAloneAsFirstStatementRunsIt) {
  must(*m_s, "CREATE PROCEDURE dbo.one AS INSERT INTO dbo.t (v) VALUES (1)");
  must(*m_s, "dbo.one");
  EXPECT_EQ(count(), 1);
}

TEST_F(EngineBatchTest, DeclareListsAndCommentsBetweenStatements) {
  auto r = must(*m_s, "DECLARE @a int = 1, @b int = 2 -- two\n/* a comment */ DECLARE @c AS decimal(10, 2) = 1.5\n"
                      "SELECT @a + @b AS s, @c AS c");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 3);
}

TEST_F(EngineBatchTest, DdlStatementsSplitWithoutSemicolons) {
  must(*m_s, "CREATE TABLE dbo.p (id int PRIMARY KEY)\n"
             "CREATE TABLE dbo.c (id int PRIMARY KEY, pid int, CONSTRAINT fk FOREIGN KEY (pid) REFERENCES dbo.p (id) ON DELETE CASCADE)\n"
             "CREATE NONCLUSTERED INDEX ix_c ON dbo.c (pid)\n"
             "INSERT INTO dbo.p VALUES (1)\nINSERT INTO dbo.c VALUES (1, 1)\n"
             "DROP TABLE IF EXISTS dbo.nothere\n"
             "DELETE FROM dbo.p\nSELECT 1");
  auto r = must(*m_s, "SELECT COUNT(*) FROM dbo.c");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 0);  // the cascade ran: the DELETE was its own statement
}

TEST_F(EngineBatchTest, CommonTableExpressionAfterSemicolonRuns) {
  must(*m_s, "INSERT INTO dbo.t (v) VALUES (5)");
  auto r = must(*m_s, "SET NOCOUNT ON;\nWITH x AS (SELECT v FROM dbo.t) SELECT v * 2 AS d FROM x");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 10);
}

TEST_F(EngineBatchTest, CommonTableExpressionWithoutThePreviousSemicolonIs319) {
  // T-SQL requires the `;` before WITH; without it nothing of the batch runs.
  auto r = run(*m_s, "INSERT INTO dbo.t (v) VALUES (1)\nWITH x AS (SELECT 1 AS a) SELECT a FROM x");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 319);
  EXPECT_EQ(r.error()->severity, 15);
  EXPECT_EQ(count(), 0);
}

TEST_F(EngineBatchTest, TextThatIsNotAStatementIsASyntaxErrorNotDropped) {
  // Given junk after a complete statement, SQL Server refuses the whole batch (Msg 102), so
  // the INSERT before it must not run either.
  auto r = run(*m_s, "INSERT INTO dbo.t (v) VALUES (1) garbage here");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 102);
  EXPECT_EQ(r.error()->severity, 15);
  EXPECT_EQ(r.error()->text, "Incorrect syntax near 'garbage'.");
  EXPECT_EQ(count(), 0);
}

TEST_F(EngineBatchTest, MisplacedKeywordIsMsg156WithItsLine) {
  auto r = run(*m_s, "SELECT 1\nSELECT * FROM\nSELECT 2");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 156);
  EXPECT_EQ(r.error()->text, "Incorrect syntax near the keyword 'SELECT'.");
  EXPECT_EQ(r.error()->line, 3);
  EXPECT_TRUE(r.sets.empty());  // a batch that does not parse runs nothing
}

TEST_F(EngineBatchTest, SetOptionWithoutValueIsASyntaxError) {
  auto r = run(*m_s, "SET NOCOUNT\nINSERT INTO dbo.t (v) VALUES (1)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 156);
  EXPECT_EQ(count(), 0);
}

TEST_F(EngineBatchTest, GoSeparatedBatchesRunEachAndAnErrorStopsOnlyItsBatch) {
  auto r = run(*m_s, "INSERT INTO dbo.t (v) VALUES (1)\nGO\nSELECT FROM\nGO\nINSERT INTO dbo.t (v) VALUES (2)\ngo\n");
  EXPECT_EQ(r.errors, 1);
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->line, 3);  // lines count through the whole script
  EXPECT_EQ(count(), 2);
}

TEST_F(EngineBatchTest, CreateProcedureAfterAnotherStatementIs111) {
  auto r = run(*m_s, "SET NOCOUNT ON\nCREATE PROCEDURE dbo.p AS SELECT 1");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 111);
  EXPECT_EQ(r.error()->text, "'CREATE/ALTER PROCEDURE' must be the first statement in a query batch.");
}

TEST_F(EngineBatchTest, SyntaxErrorInAProcedureBodyIsReportedAtCreate) {
  auto r = run(*m_s, "CREATE PROCEDURE dbo.broken @a int AS\nBEGIN\n  SELECT @a\n  SELECT FROM\nEND");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 156);
  EXPECT_EQ(r.error()->line, 4);
  auto e = run(*m_s, "EXEC dbo.broken 1");
  ASSERT_NE(e.error(), nullptr);
  EXPECT_EQ(e.error()->number, 2812);  // it was not created
}

TEST_F(EngineBatchTest, MergeWithoutTerminatingSemicolonIs10713) {
  auto r = run(*m_s, "MERGE dbo.t AS d USING (SELECT 1 AS v) AS s ON d.v = s.v WHEN NOT MATCHED THEN INSERT (v) VALUES (s.v)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 10713);
}

TEST_F(EngineBatchTest, ThrowNeedsThePreviousStatementTerminated) {
  auto r = run(*m_s, "PRINT 'a'\nTHROW 50001, 'x', 1");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 102);
  EXPECT_EQ(r.error()->text, "Incorrect syntax near 'THROW'.");
}

TEST_F(EngineBatchTest, GotoAndLabelsAreRefusedWith40517) {
  auto r = run(*m_s, "GOTO done\nINSERT INTO dbo.t (v) VALUES (1)\ndone:\nSELECT 1");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 40517);
  EXPECT_EQ(count(), 0);
}

TEST_F(EngineBatchTest, StringsAndBracketsHoldingKeywordsDoNotSplit) {
  auto r = must(*m_s, "SELECT 'SET NOCOUNT ON; INSERT' AS [select], N'END' AS [end]\nINSERT INTO dbo.t (v) VALUES (1)");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "SET NOCOUNT ON; INSERT");
  EXPECT_EQ(count(), 1);
}

TEST_F(EngineBatchTest, SpExecuteSqlBodySplitsByGrammar) {
  std::vector<RpcParam> params(1);
  params[0].name = "@stmt";
  params[0].type.type = SqlType::nvarchar;
  params[0].value = std::string("SET NOCOUNT ON\nINSERT INTO dbo.t (v) VALUES (1)\nINSERT INTO dbo.t (v) VALUES (2)");
  CollectSink sink;
  m_s->execute_rpc("sp_executesql", params, sink);
  EXPECT_EQ(sink.c.errors, 0) << (sink.c.error() ? sink.c.error()->text : "");
  EXPECT_EQ(count(), 2);
}

TEST_F(EngineBatchTest, SqlcmdStyleDeploymentScriptRunsEveryBatch) {
  // Given a deployment script as SSMS / sqlcmd users write it (header comment, guards, GO,
  // a procedure, a seed), every batch and statement should run.
  auto r = run(*m_s,
               "/* deploy v2 */\nSET ANSI_NULLS ON\nGO\nSET QUOTED_IDENTIFIER ON\nGO\n"
               "IF OBJECT_ID(N'dbo.seed', N'P') IS NOT NULL\n    DROP PROCEDURE dbo.seed\nGO\n"
               "CREATE PROCEDURE dbo.seed\n    @n int = 3\nAS\nBEGIN\n    SET NOCOUNT ON\n    DECLARE @i int = 0\n"
               "    WHILE @i < @n\n    BEGIN\n        INSERT INTO dbo.t (v) VALUES (@i)\n        SET @i += 1\n    END\nEND\nGO\n"
               "IF NOT EXISTS (SELECT 1 FROM dbo.t)\n    EXEC dbo.seed\nGO\n"
               "PRINT N'done'\nGO\n");
  EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(count(), 3);
  ASSERT_FALSE(r.messages.empty());
  EXPECT_EQ(r.messages.back().text, "done");
}

TEST_F(EngineBatchTest, UpdateStatisticsIsItsOwnStatement) {
  auto r = run(*m_s, "UPDATE STATISTICS dbo.t\nINSERT INTO dbo.t (v) VALUES (1)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 40517);  // refused by name, and the INSERT after it still runs
  EXPECT_EQ(count(), 1);
}

TEST_F(EngineBatchTest, ExecOfAStringRunsItAsABatch) {
  // EXEC ('...') with literals and variables concatenated runs the text one level down: its
  // statements' rows and results reach the client, and its errors are the client's.
  must(*m_s, "DECLARE @v nvarchar(10) = N'5'; EXEC ('INSERT INTO dbo.t (v) VALUES (' + @v + ')')");
  EXPECT_EQ(count("v = 5"), 1);
  must(*m_s, "DECLARE @sql nvarchar(100) = N'INSERT INTO dbo.t (v) VALUES (6)'; EXEC (@sql); EXECUTE(N'INSERT INTO dbo.t (v) VALUES (7)')");
  EXPECT_EQ(count("v IN (6, 7)"), 2);
  auto r = must(*m_s, "EXEC ('SELECT 1 AS a; SELECT 2 AS b')");
  ASSERT_EQ(r.sets.size(), 2u);
  EXPECT_EQ(as_int(r.sets[1].rows[0][0]), 2);
  EXPECT_EQ(error_of(*m_s, "EXEC ('SELECT * FROM dbo.missing')").number, 208);
  EXPECT_EQ(error_of(*m_s, "EXEC ('SELECT 1 +')").number, 102);
  EXPECT_EQ(error_of(*m_s, "EXEC (@undeclared)").number, 137);
  // Its own batch: the caller's variables are not visible in it, and its own do not leak out.
  EXPECT_EQ(error_of(*m_s, "DECLARE @x int = 1; EXEC ('SELECT @x')").number, 137);
  EXPECT_EQ(error_of(*m_s, "EXEC ('DECLARE @y int = 2'); SELECT @y").number, 137);
  EXPECT_EQ(error_of(*m_s, "EXEC (UPPER('select 1'))").number, 102);  // only literals and variables
}

}  // namespace
