// Growing lag, a troubleshooting case: with CDC applying slower than the source changed, the
// cutover waits for the backlog, gives up at --drain-timeout with the cause and the fix and
// leaves the task running; a later cutover, once drained, finds the tables equal.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using LagTest = CliWorldTest;

TEST_F(LagTest, CutoverWaitsForTheBacklogAndTimesOutWithTheFix) {
  // The sandbox's DMS applies one change per 300 ms here.
  ASSERT_TRUE(set_up_world("M2R_DMS_APPLY_DELAY_MS=300 M2R_DMS_BATCH_SIZE=1 "));
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;

  // 40 changes on the source: about 12 s of backlog.
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  for (int i = 0; i < 40; ++i) {
    auto done = (*source)->execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                                   {mssql::SqlParam::nvarchar("late customer " + std::to_string(i))});
    ASSERT_TRUE(done) << done.error().message;
  }

  const auto early = run_shell(with_world("cutover --yes --drain-timeout 3 -c " + config()));
  EXPECT_EQ(early.exit_code, 8) << early.text;
  EXPECT_NE(early.text.find("did not drain"), std::string::npos) << early.text;
  EXPECT_NE(early.text.find("fix:"), std::string::npos) << early.text;
  // Nothing was stopped: the task still replicates.
  const auto status = run_shell(with_world("--json status -c " + config()));
  const auto report = nlohmann::json::parse(status.text, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << status.text;
  EXPECT_EQ(report["task"].value("status", ""), "running") << status.text;

  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("cutover complete"), std::string::npos) << cutover.text;
}

}  // namespace
}  // namespace m2r::testing
