// T-SQL control flow in batches and procedure bodies: IF/ELSE, WHILE with BREAK/CONTINUE,
// BEGIN...END, TRY...CATCH with ERROR_*(), THROW, RAISERROR, @@ERROR, @@ROWCOUNT,
// XACT_STATE(), RETURN and the return status (README.md "Batches and control flow").
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineControlFlowTest : public ShopInstanceTest {
 protected:
  EngineControlFlowTest() : ShopInstanceTest("flow") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE TABLE dbo.t (id int PRIMARY KEY, v int)");
  }
  // The single value of the batch's `set`-th result set.
  static Value cell(const Collected& r, std::size_t set = 0, std::size_t col = 0) {
    if (set >= r.sets.size() || r.sets[set].rows.empty() || col >= r.sets[set].rows[0].size()) return std::string("<missing>");
    return r.sets[set].rows[0][col];
  }
  static std::vector<std::string> prints(const Collected& r) {
    std::vector<std::string> out;
    for (const auto& m : r.messages) if (m.number == 0) out.push_back(m.text);
    return out;
  }
};

TEST_F(EngineControlFlowTest, IfElseChoosesByConditionIncludingExists) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 10)");
  auto r = must(*m_s, "IF EXISTS (SELECT 1 FROM dbo.t WHERE id = 1) PRINT 'yes' ELSE PRINT 'no'\n"
                      "IF NOT EXISTS (SELECT 1 FROM dbo.t WHERE id = 2) AND 1 = 1\n BEGIN PRINT 'a' PRINT 'b' END\nELSE PRINT 'c'\n"
                      "IF (SELECT v FROM dbo.t WHERE id = 1) > 100 PRINT 'big'\n"
                      "IF OBJECT_ID('dbo.t') IS NOT NULL PRINT 'table'");
  EXPECT_EQ(prints(r), (std::vector<std::string>{"yes", "a", "b", "table"}));
}

TEST_F(EngineControlFlowTest, WhileWithBreakAndContinue) {
  auto r = must(*m_s, "DECLARE @i int = 0\nWHILE @i < 10\nBEGIN\n SET @i = @i + 1\n IF @i % 2 = 0 CONTINUE\n IF @i > 7 BREAK\n"
                      " INSERT INTO dbo.t VALUES (@i, @i)\nEND\nSELECT COUNT(*), MAX(id), @i FROM dbo.t");
  EXPECT_EQ(as_int(cell(r, 0, 0)), 4);  // 1, 3, 5, 7
  EXPECT_EQ(as_int(cell(r, 0, 1)), 7);
  EXPECT_EQ(as_int(cell(r, 0, 2)), 9);
}

TEST_F(EngineControlFlowTest, ErrorInTryGoesToCatchWithErrorFunctionsAndIsNotSent) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  auto r = run(*m_s, "BEGIN TRY\n  INSERT INTO dbo.t VALUES (1, 1)\n  PRINT 'not reached'\nEND TRY\nBEGIN CATCH\n"
                     "  SELECT ERROR_NUMBER(), ERROR_SEVERITY(), ERROR_STATE(), ERROR_LINE(), ERROR_PROCEDURE(), @@ERROR\n"
                     "END CATCH\nSELECT ERROR_NUMBER(), ERROR_MESSAGE()");
  EXPECT_EQ(r.errors, 0);
  EXPECT_EQ(r.error(), nullptr);  // caught: nothing reaches the client
  EXPECT_TRUE(prints(r).empty());
  ASSERT_EQ(r.sets.size(), 2u);
  EXPECT_EQ(as_int(cell(r, 0, 0)), 2627);
  EXPECT_EQ(as_int(cell(r, 0, 1)), 14);
  EXPECT_EQ(as_int(cell(r, 0, 2)), 1);
  EXPECT_EQ(as_int(cell(r, 0, 3)), 2);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cell(r, 0, 4)));  // not in a procedure
  EXPECT_EQ(as_int(cell(r, 0, 5)), 2627);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cell(r, 1, 0)));  // NULL outside CATCH
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cell(r, 1, 1)));
}

TEST_F(EngineControlFlowTest, ErrorOutsideTryIsSentAndTheBatchGoesOn) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  auto r = run(*m_s, "INSERT INTO dbo.t VALUES (1, 1)\nSELECT @@ERROR AS e\nSELECT @@ERROR AS e2");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 2627);
  EXPECT_EQ(as_int(cell(r, 0)), 2627);
  EXPECT_EQ(as_int(cell(r, 1)), 0);  // the SELECT succeeded: @@ERROR is 0 again
}

TEST_F(EngineControlFlowTest, ThrowWithArgumentsGoesToCatch) {
  auto r = must(*m_s, "BEGIN TRY THROW 50001, N'boom', 3; END TRY BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_MESSAGE(), ERROR_STATE(), "
                      "ERROR_SEVERITY() END CATCH");
  EXPECT_EQ(as_int(cell(r, 0, 0)), 50001);
  EXPECT_EQ(as_str(cell(r, 0, 1)), "boom");
  EXPECT_EQ(as_int(cell(r, 0, 2)), 3);
  EXPECT_EQ(as_int(cell(r, 0, 3)), 16);
}

TEST_F(EngineControlFlowTest, ThrowOutsideTryEndsTheBatch) {
  auto r = run(*m_s, "THROW 50002, 'top', 1;\nINSERT INTO dbo.t VALUES (9, 9)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 50002);
  EXPECT_EQ(r.error()->severity, 16);
  EXPECT_EQ(r.error()->state, 1);
  EXPECT_EQ(r.error()->text, "top");
  auto n = must(*m_s, "SELECT COUNT(*) FROM dbo.t");
  EXPECT_EQ(as_int(cell(n)), 0);
}

TEST_F(EngineControlFlowTest, RethrowInCatchRaisesTheOriginalError) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  auto r = run(*m_s, "BEGIN TRY INSERT INTO dbo.t VALUES (1, 1) END TRY\nBEGIN CATCH PRINT 'caught'; THROW; END CATCH\nPRINT 'after'");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 2627);
  EXPECT_EQ(r.error()->severity, 14);
  EXPECT_EQ(r.error()->line, 1);  // where it first happened
  EXPECT_EQ(prints(r), std::vector<std::string>{"caught"});  // the batch ended at THROW
}

TEST_F(EngineControlFlowTest, RethrowOutsideCatchIs10704) {
  auto r = run(*m_s, "THROW");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 10704);
}

TEST_F(EngineControlFlowTest, ThrowNumberBelow50000Is35100) {
  auto r = run(*m_s, "THROW 100, 'x', 1");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 35100);
}

TEST_F(EngineControlFlowTest, RaiserrorFormatsArgumentsAndLowSeverityIsInformational) {
  auto r = run(*m_s, "RAISERROR('Value %d is %s, %5.2s, 100%%', 10, 1, 42, N'bad', 'abcdef') WITH NOWAIT\nPRINT 'goes on'");
  EXPECT_EQ(r.errors, 0);
  ASSERT_GE(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].number, 50000);
  EXPECT_EQ(r.messages[0].severity, 10);
  EXPECT_EQ(r.messages[0].text, "Value 42 is bad,    ab, 100%");
  EXPECT_EQ(r.messages[1].text, "goes on");
}

TEST_F(EngineControlFlowTest, RaiserrorSeverity16IsAnErrorThatTheBatchSurvives) {
  auto r = run(*m_s, "DECLARE @who nvarchar(10) = N'me'\nRAISERROR(N'failed for %s', 16, 2, @who)\nSELECT @@ERROR");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 50000);
  EXPECT_EQ(r.error()->state, 2);
  EXPECT_EQ(r.error()->text, "failed for me");
  EXPECT_EQ(as_int(cell(r)), 50000);
}

TEST_F(EngineControlFlowTest, RaiserrorInTryGoesToCatch) {
  auto r = must(*m_s, "BEGIN TRY RAISERROR('in try %d', 16, 1, 7) END TRY BEGIN CATCH SELECT ERROR_MESSAGE(), ERROR_NUMBER() END CATCH");
  EXPECT_EQ(as_str(cell(r, 0, 0)), "in try 7");
  EXPECT_EQ(as_int(cell(r, 0, 1)), 50000);
}

TEST_F(EngineControlFlowTest, RaiserrorAbove18NeedsWithLogAndFatalSeveritiesAreRefused) {
  auto r = run(*m_s, "RAISERROR('x', 19, 1)");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 2754);
  r = run(*m_s, "RAISERROR('x', 20, 1) WITH LOG");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 40517);
}

TEST_F(EngineControlFlowTest, RowcountFollowsTheLastStatement) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1), (2, 2), (3, 3)");
  auto r = must(*m_s, "UPDATE dbo.t SET v = v + 1 WHERE id >= 2\nSELECT @@ROWCOUNT\n"
                      "DECLARE @x int\nSET @x = 5\nSELECT @@ROWCOUNT\n"
                      "UPDATE dbo.t SET v = 0 WHERE id = 99\nIF @@ROWCOUNT = 0 PRINT 'nothing updated'");
  EXPECT_EQ(as_int(cell(r, 0)), 2);
  EXPECT_EQ(as_int(cell(r, 1)), 1);
  EXPECT_EQ(prints(r), std::vector<std::string>{"nothing updated"});
}

TEST_F(EngineControlFlowTest, XactStateTellsWhetherATransactionIsOpen) {
  auto r = must(*m_s, "BEGIN TRAN; SELECT XACT_STATE(); COMMIT; SELECT XACT_STATE()");
  EXPECT_EQ(as_int(cell(r, 0)), 1);
  EXPECT_EQ(as_int(cell(r, 1)), 0);
}

TEST_F(EngineControlFlowTest, TryCatchRollbackPattern) {
  // The pattern every application script uses: a failed transaction rolled back in CATCH.
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  auto r = must(*m_s, "BEGIN TRY\n BEGIN TRANSACTION\n INSERT INTO dbo.t VALUES (2, 2)\n INSERT INTO dbo.t VALUES (1, 1)\n"
                      " COMMIT TRANSACTION\nEND TRY\nBEGIN CATCH\n IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION\n"
                      " SELECT ERROR_NUMBER() AS n, XACT_STATE() AS x\nEND CATCH\nSELECT COUNT(*) FROM dbo.t");
  EXPECT_EQ(as_int(cell(r, 0, 0)), 2627);
  EXPECT_EQ(as_int(cell(r, 0, 1)), 0);
  EXPECT_EQ(as_int(cell(r, 1)), 1);  // row 2 was rolled back
}

TEST_F(EngineControlFlowTest, ProcedureReturnStatusAndExecAssignment) {
  must(*m_s, "CREATE PROCEDURE dbo.r @x int AS\nBEGIN\n  IF @x < 0 RETURN -1\n  IF @x = 0 RETURN\n"
             "  INSERT INTO dbo.t VALUES (100 + @x, 0)\n  RETURN @x * 2\n  INSERT INTO dbo.t VALUES (999, 0)\nEND");
  auto r = must(*m_s, "DECLARE @rc int\nEXEC @rc = dbo.r -5\nSELECT @rc\nEXEC @rc = dbo.r 0\nSELECT @rc\nEXEC @rc = dbo.r @x = 3\nSELECT @rc");
  EXPECT_EQ(as_int(cell(r, 0)), -1);
  EXPECT_EQ(as_int(cell(r, 1)), 0);
  EXPECT_EQ(as_int(cell(r, 2)), 6);
  EXPECT_EQ(r.statuses, (std::vector<int>{-1, 0, 6}));  // RETURNSTATUS of each EXEC
  auto n = must(*m_s, "SELECT COUNT(*) FROM dbo.t WHERE id = 999");
  EXPECT_EQ(as_int(cell(n)), 0);  // nothing after RETURN ran
}

TEST_F(EngineControlFlowTest, RpcOfAProcedureReportsItsReturnStatus) {
  must(*m_s, "CREATE PROCEDURE dbo.seven AS RETURN 7");
  must(*m_s, "CREATE PROCEDURE dbo.plain AS SELECT 1");
  CollectSink a, b;
  m_s->execute_rpc("dbo.seven", {}, a);
  m_s->execute_rpc("dbo.plain", {}, b);
  EXPECT_EQ(a.c.statuses, std::vector<int>{7});
  EXPECT_EQ(b.c.statuses, std::vector<int>{0});
}

TEST_F(EngineControlFlowTest, ErrorInAProcedureCalledInTryGoesToTheCallersCatch) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  must(*m_s, "CREATE PROCEDURE dbo.bad AS\nBEGIN\n  INSERT INTO dbo.t VALUES (1, 1)\n  INSERT INTO dbo.t VALUES (50, 50)\nEND");
  auto r = must(*m_s, "BEGIN TRY EXEC dbo.bad END TRY BEGIN CATCH SELECT ERROR_PROCEDURE(), ERROR_LINE(), ERROR_NUMBER() END CATCH");
  EXPECT_EQ(as_str(cell(r, 0, 0)), "bad");
  EXPECT_EQ(as_int(cell(r, 0, 1)), 3);
  EXPECT_EQ(as_int(cell(r, 0, 2)), 2627);
  auto n = must(*m_s, "SELECT COUNT(*) FROM dbo.t WHERE id = 50");
  EXPECT_EQ(as_int(cell(n)), 0);  // the rest of the procedure did not run
}

TEST_F(EngineControlFlowTest, ErrorInAProcedureOutsideTryGivesNegativeStatusAndTheProcedureGoesOn) {
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  must(*m_s, "CREATE PROCEDURE dbo.bad AS\nBEGIN\n  INSERT INTO dbo.t VALUES (1, 1)\n  INSERT INTO dbo.t VALUES (50, 50)\nEND");
  auto r = run(*m_s, "DECLARE @rc int; EXEC @rc = dbo.bad; SELECT @rc");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->procedure, "bad");
  EXPECT_EQ(as_int(cell(r)), -4);  // 10 - severity 14
  auto n = must(*m_s, "SELECT COUNT(*) FROM dbo.t WHERE id = 50");
  EXPECT_EQ(as_int(cell(n)), 1);
}

TEST_F(EngineControlFlowTest, ControlFlowInsideAProcedureBody) {
  must(*m_s, "CREATE PROCEDURE dbo.fill @n int AS\nBEGIN\n SET NOCOUNT ON\n DECLARE @i int = 1\n WHILE @i <= @n\n BEGIN\n"
             "  BEGIN TRY\n   INSERT INTO dbo.t VALUES (@i % 3, @i)\n  END TRY\n  BEGIN CATCH\n   UPDATE dbo.t SET v = v + @i WHERE id = @i % 3\n"
             "  END CATCH\n  SET @i = @i + 1\n END\n IF @n > 3 RETURN 1\n RETURN 0\nEND");
  auto r = must(*m_s, "DECLARE @rc int\nEXEC @rc = dbo.fill 6\nSELECT @rc\nSELECT SUM(v), COUNT(*) FROM dbo.t");
  EXPECT_EQ(as_int(cell(r, 0)), 1);
  EXPECT_EQ(as_int(cell(r, 1, 0)), 21);  // 1 + ... + 6, folded into three rows
  EXPECT_EQ(as_int(cell(r, 1, 1)), 3);
}

TEST_F(EngineControlFlowTest, CompileErrorInsideTryAtTheSameLevelIsNotCaught) {
  // An undeclared variable is a compile error (severity 15): TRY at the same level does not
  // catch it; it ends the batch.
  auto r = run(*m_s, "BEGIN TRY SELECT @nope END TRY BEGIN CATCH PRINT 'caught' END CATCH\nPRINT 'after'");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 137);
  EXPECT_TRUE(prints(r).empty());
}

TEST_F(EngineControlFlowTest, NameResolutionErrorAtTheTrysLevelIsNotCaughtButOneLevelDownIs) {
  // Microsoft's own example: SELECT from a missing table in TRY is not caught at that level;
  // the same SELECT inside a procedure called in TRY is.
  auto r = run(*m_s, "BEGIN TRY SELECT * FROM dbo.missing END TRY BEGIN CATCH PRINT 'caught' END CATCH");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 208);
  EXPECT_TRUE(prints(r).empty());
  must(*m_s, "CREATE PROCEDURE dbo.pr_1 AS SELECT * FROM dbo.missing");
  auto c = must(*m_s, "BEGIN TRY EXECUTE dbo.pr_1 END TRY BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_PROCEDURE() END CATCH");
  EXPECT_EQ(as_int(cell(c, 0, 0)), 208);
  EXPECT_EQ(as_str(cell(c, 0, 1)), "pr_1");
}

TEST_F(EngineControlFlowTest, CompileErrorOneLevelDownIsCaught) {
  auto r = must(*m_s, "BEGIN TRY EXEC sp_executesql N'SELECT FROM' END TRY BEGIN CATCH SELECT ERROR_NUMBER() END CATCH");
  EXPECT_EQ(as_int(cell(r)), 156);
}

TEST_F(EngineControlFlowTest, ReturnEndsTheBatchAndReturnWithValueInABatchIs178) {
  auto r = must(*m_s, "PRINT 'one'\nRETURN\nPRINT 'two'");
  EXPECT_EQ(prints(r), std::vector<std::string>{"one"});
  r = run(*m_s, "RETURN 5");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 178);
}

TEST_F(EngineControlFlowTest, BreakOutsideWhileIs135) {
  auto r = run(*m_s, "IF 1 = 1 BREAK");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 135);
}

TEST_F(EngineControlFlowTest, EndWithoutBeginIsASyntaxError) {
  auto r = run(*m_s, "PRINT 'x'\nEND");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 156);
  EXPECT_TRUE(prints(r).empty());
}

TEST_F(EngineControlFlowTest, ElseInAProcedureWithNestedBlocks) {
  must(*m_s, "CREATE PROCEDURE dbo.sign @x int AS\nIF @x > 0\n  BEGIN\n    SELECT 'pos'\n  END\nELSE IF @x < 0\n  SELECT 'neg'\n"
             "ELSE\n  BEGIN\n    SELECT 'zero'\n  END");
  auto r = must(*m_s, "EXEC dbo.sign 5; EXEC dbo.sign -5; EXEC dbo.sign 0");
  ASSERT_EQ(r.sets.size(), 3u);
  EXPECT_EQ(as_str(cell(r, 0)), "pos");
  EXPECT_EQ(as_str(cell(r, 1)), "neg");
  EXPECT_EQ(as_str(cell(r, 2)), "zero");
}

TEST_F(EngineControlFlowTest, ADeadlockVictimInTryGoesToCatchAndTheBatchGoesOn) {
  // Given A holding row 1 and waiting for row 2, which B holds: B's TRY that asks for row 1
  // is the deadlock victim. 1205 is catchable: B's CATCH sees it with its transaction already
  // rolled back (XACT_STATE() 0), nothing is sent to B's client, and B's batch goes on.
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1), (2, 2), (3, 3)");
  auto a = login(*m_inst, "shop"), b = login(*m_inst, "shop");
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 10 WHERE id = 1");
  must(*b, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 200 WHERE id = 2");
  const std::int64_t a_id = as_int(cell(must(*a, "SELECT @@SPID")));
  const std::int64_t b_id = as_int(cell(must(*b, "SELECT @@SPID")));
  auto a_pending = std::async(std::launch::async, [&] { return run(*a, "UPDATE dbo.t SET v = 20 WHERE id = 2"); });
  // A is blocked by B when sys.dm_exec_requests says so (polled with a deadline).
  bool blocked = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10); !blocked && std::chrono::steady_clock::now() < deadline;) {
    auto r = run(*m_s, "SELECT blocking_session_id FROM sys.dm_exec_requests WHERE session_id = " + std::to_string(a_id));
    blocked = !r.sets.empty() && !r.sets[0].rows.empty() && std::holds_alternative<std::int64_t>(r.sets[0].rows[0][0]) &&
              as_int(r.sets[0].rows[0][0]) == b_id;
    if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(blocked);
  auto victim = run(*b, "BEGIN TRY UPDATE dbo.t SET v = 100 WHERE id = 1 END TRY\n"
                        "BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_SEVERITY(), XACT_STATE() END CATCH\n"
                        "UPDATE dbo.t SET v = 300 WHERE id = 3");
  EXPECT_EQ(victim.error(), nullptr);
  EXPECT_EQ(as_int(cell(victim, 0, 0)), 1205);
  EXPECT_EQ(as_int(cell(victim, 0, 1)), 13);
  EXPECT_EQ(as_int(cell(victim, 0, 2)), 0);
  const Collected a_done = a_pending.get();
  EXPECT_EQ(a_done.errors, 0);
  must(*a, "COMMIT TRANSACTION");
  auto v = must(*m_s, "SELECT v FROM dbo.t ORDER BY id");
  ASSERT_EQ(v.sets.size(), 1u);
  ASSERT_EQ(v.sets[0].rows.size(), 3u);
  EXPECT_EQ(as_int(v.sets[0].rows[0][0]), 10);
  EXPECT_EQ(as_int(v.sets[0].rows[1][0]), 20);
  EXPECT_EQ(as_int(v.sets[0].rows[2][0]), 300);  // the statement after the CATCH ran
}

}  // namespace

// The tokens of a request in the order the engine reports them.
class OrderSink : public CollectSink {
 public:
  std::vector<std::string> tokens;
  void columns(const std::vector<Column>& cols) override {
    CollectSink::columns(cols);
    tokens.push_back("columns");
  }
  void row(const std::vector<Value>& v) override {
    CollectSink::row(v);
    tokens.push_back("row");
  }
  void message(const Message& m) override {
    CollectSink::message(m);
    tokens.push_back("msg " + std::to_string(m.number));
  }
  void done(DoneKind kind, std::optional<std::int64_t> n, bool error) override {
    CollectSink::done(kind, n, error);
    tokens.push_back(std::string(kind == DoneKind::proc ? "doneproc" : kind == DoneKind::in_proc ? "doneinproc" : "done") +
                     (error ? " error" : ""));
  }
};

TEST_F(EngineControlFlowTest, AFailingSelectSendsItsColumnsThenTheErrorAfterTheEarlierResult) {
  // FreeTDS's transaction test: the first SELECT's rows are fetched, and only the next
  // result (SQLMoreResults) reports 8134, as SQL Server sends the second SELECT's COLMETADATA
  // before the error met on its first row. The error is on the statement's DONEINPROC, not
  // on the DONEPROC of a procedure that ran to its end.
  must(*m_s, "INSERT INTO dbo.t VALUES (1, 1)");
  must(*m_s, "CREATE PROCEDURE testerror AS\nSELECT v FROM dbo.t\nSELECT v / (v - v) FROM dbo.t\n");
  OrderSink sink;
  m_s->execute_batch("EXEC testerror", sink);
  const std::vector<std::string> expected = {"columns", "row", "doneinproc", "columns", "msg 8134", "doneinproc error",
                                             "doneproc"};
  EXPECT_EQ(sink.tokens, expected);
}
