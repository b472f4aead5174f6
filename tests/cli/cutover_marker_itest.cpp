// The drain is proven by a marker, not guessed from statistics: with the rehearsal DMS's apply
// stalled (its task still "running", its statistics and latency unchanged), the cutover writes
// the marker on the source and waits for it on the target instead of declaring the task
// drained; it gives up at --drain-timeout saying the marker has not arrived, stops nothing,
// and once the apply resumes a second cutover finds the marker, stops the task and finds every
// row on the target.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using CutoverMarkerTest = CliWorldTest;

TEST_F(CutoverMarkerTest, AStalledApplyKeepsTheCutoverWaitingForTheMarker) {
  ASSERT_TRUE(set_up_world());
  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;
  EXPECT_NE(check.text.find("mssql2rds_cutover_marker"), std::string::npos) << check.text;
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;

  // The apply stalls; the application writes five more customers, then stops.
  const std::string paused = world_dir() + "/dms-apply-paused";
  std::ofstream(paused).put('\n');
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  for (int i = 0; i < 5; ++i) {
    auto done = (*source)->execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                                   {mssql::SqlParam::nvarchar("last customer " + std::to_string(i))});
    ASSERT_TRUE(done) << done.error().message;
  }
  const auto on_source = count_rows(**source, "SELECT COUNT_BIG(*) FROM dbo.Customers");

  const auto early = run_shell(with_world("cutover --yes --drain-timeout 6 -c " + config()));
  EXPECT_EQ(early.exit_code, 8) << early.text;  // timeout
  EXPECT_NE(early.text.find("the cutover marker written on the source has not reached the target"), std::string::npos)
      << early.text;
  const auto status = run_shell(with_world("--json status -c " + config()));
  const auto report = nlohmann::json::parse(status.text, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << status.text;
  EXPECT_EQ(report["task"].value("status", ""), "running") << status.text;  // nothing was stopped

  std::filesystem::remove(paused);
  const auto cutover = run_shell(with_world("--json cutover --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text;
  const auto done = nlohmann::json::parse(last_line(cutover.text), nullptr, false);
  ASSERT_FALSE(done.is_discarded()) << cutover.text;
  EXPECT_EQ(done.value("drain_proven_by_marker", false), true) << cutover.text;
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM dbo.Customers"), on_source);
  // Both cutover attempts wrote a marker; both arrived.
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM dbo.mssql2rds_cutover_marker"), 2);
}

}  // namespace
}  // namespace m2r::testing
