// A cutover killed with SIGKILL and run again ends as an uninterrupted one would: killed while
// draining (the task keeps replicating; the next attempt drains again), and killed while
// validating after the task stopped (the next attempt neither drains nor stops again, and
// validates); the last one reports the downtime from when the writes stopped in the attempt
// that stopped the task, with every row on the target and every trigger on. (A kill half-way
// through re-enabling, and a passed validation not repeated, are proven against the journal in
// tests/migrate/cutover_test.cpp: the rehearsal target has no lock an ALTER TABLE waits on, so
// no moment there can be hit for certain from outside.)
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

class CutoverResumeTest : public CliWorldTest {
 protected:
  // Starts `cutover --yes` in the background and SIGKILLs it as soon as its output shows
  // `when`; `output` gets what it printed.
  ::testing::AssertionResult kill_cutover_when(const std::string& when, std::string& output) {
    const std::string log = m_dir + "/cutover-" + std::to_string(++m_attempt) + ".log";
    const std::string pid_file = log + ".pid";
    if (run_shell(with_world_in_background("cutover --yes -c " + config(), log, pid_file)).exit_code != 0) {
      return ::testing::AssertionFailure() << "could not start the cutover";
    }
    pid_t pid = 0;
    for (int i = 0; i < 500 && pid <= 0; ++i) {
      pid = static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
      if (pid <= 0) ::usleep(20'000);
    }
    if (pid <= 0) return ::testing::AssertionFailure() << "no pid in " << pid_file;
    bool killed = false;
    for (int i = 0; i < 12000 && !killed && process_running(pid); ++i) {
      if (read_text(log).find(when) != std::string::npos) killed = ::kill(pid, SIGKILL) == 0;
      if (!killed) ::usleep(5'000);
    }
    for (int i = 0; i < 200 && process_running(pid); ++i) ::usleep(20'000);
    output = read_text(log);
    if (!killed) return ::testing::AssertionFailure() << "the cutover never printed '" << when << "':\n" << output;
    if (output.find("cutover complete") != std::string::npos) {
      return ::testing::AssertionFailure() << "the cutover finished before the kill:\n" << output;
    }
    return ::testing::AssertionSuccess();
  }
  int m_attempt = 0;
};

TEST_F(CutoverResumeTest, KilledWhileDrainingAndWhileValidatingItEndsAsAnUninterruptedCutover) {
  ASSERT_TRUE(set_up_world());
  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;

  // 1. Killed while draining: the apply is stalled, so the marker cannot arrive.
  const std::string paused = world_dir() + "/dms-apply-paused";
  std::ofstream(paused).put('\n');
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*source)->execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                                   {mssql::SqlParam::nvarchar("late customer " + std::to_string(i))}));
  }
  std::string out;
  ASSERT_TRUE(kill_cutover_when("waiting for it on the target", out));
  const auto status = run_shell(with_world("--json status -c " + config()));
  const auto state = nlohmann::json::parse(status.text, nullptr, false);
  ASSERT_FALSE(state.is_discarded()) << status.text;
  EXPECT_EQ(state["task"].value("status", ""), "running") << "a kill during the drain stopped the task";
  std::filesystem::remove(paused);

  // 2. Killed once the task has stopped, while validating: a transaction on the target holds a
  // row of dbo.Customers, so the validation's read waits for it (up to its lock timeout).
  auto blocker = target_session("sales");
  ASSERT_TRUE(blocker) << blocker.error().message;
  ASSERT_TRUE((*blocker)->execute("BEGIN TRANSACTION"));
  ASSERT_TRUE((*blocker)->execute("UPDATE dbo.Customers SET Name = Name WHERE CustomerId = 1"));
  const auto second_started = std::chrono::system_clock::now();
  ASSERT_TRUE(kill_cutover_when("validating every table", out));
  EXPECT_NE(out.find("the marker arrived"), std::string::npos) << out;
  ASSERT_TRUE((*blocker)->execute("ROLLBACK TRANSACTION"));

  // The plan as it stands, from the journal, changes nothing: the stop is done, the objects
  // prepare_target turned off are still to do.
  const auto plan = run_shell(with_world("cutover --dry-run -c " + config()));
  ASSERT_EQ(plan.exit_code, 0) << plan.text;
  EXPECT_NE(plan.text.find("StopReplicationTask ReplicationTaskArn=arn:aws:dms:"), std::string::npos) << plan.text;
  EXPECT_NE(plan.text.find("(an earlier attempt did this: skipped while the task stays stopped)"), std::string::npos) << plan.text;
  EXPECT_NE(plan.text.find("ALTER TABLE [dbo].[Orders] ENABLE TRIGGER [trg_Orders_Events]"), std::string::npos) << plan.text;
  EXPECT_NE(plan.text.find("DBCC CHECKIDENT (N'[dbo].[Customers]', RESEED)"), std::string::npos) << plan.text;
  EXPECT_NE(plan.text.find("Nothing has been changed"), std::string::npos) << plan.text;

  // 3. Runs to the end, a while later (the application stays stopped).
  ::sleep(5);
  const auto third_started = std::chrono::system_clock::now();
  const auto last = run_shell(with_world("--json cutover --yes -c " + config()));
  ASSERT_EQ(last.exit_code, 0) << last.text;
  EXPECT_NE(last.text.find("continuing an earlier cutover"), std::string::npos) << last.text;
  EXPECT_EQ(last.text.find("wrote the cutover marker"), std::string::npos) << "the stopped task was drained again:\n" << last.text;
  EXPECT_NE(last.text.find("validating every table"), std::string::npos) << "the killed validation was not redone";
  const auto report = nlohmann::json::parse(last_line(last.text), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << last.text;
  EXPECT_TRUE(report.value("drain_proven_by_marker", false)) << last.text;
  EXPECT_EQ(report["validation"].value("mismatches", -1), 0) << last.text;
  // The downtime counts from the attempt that drained and stopped the task, not from this last
  // resume (the journal keeps whole seconds).
  const double since_second = std::chrono::duration<double>(third_started - second_started).count();
  EXPECT_GE(report.value("downtime_s", 0.0), since_second - 1.0) << last.text;

  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM dbo.Customers"),
            count_rows(**source, "SELECT COUNT_BIG(*) FROM dbo.Customers"));
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM sys.triggers WHERE is_disabled = 1"), 0);
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM sys.foreign_keys WHERE is_not_trusted = 1 OR is_disabled = 1"), 0);
  const auto again = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_NE(again.text.find("cutover already completed"), std::string::npos) << again.text;
}

}  // namespace
}  // namespace m2r::testing
