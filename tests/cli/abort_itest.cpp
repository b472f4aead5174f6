// `abort` end to end: the DMS task deleted, the uploads aborted, the target database dropped;
// the aborted journal refuses to resume, and a new journal starts over cleanly.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using AbortTest = CliWorldTest;

TEST_F(AbortTest, AbortRemovesWhatRunCreatedAndANewJournalStartsOver) {
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto first = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(first.exit_code, 0) << first.text;

  const auto aborted = run_shell(with_world("abort --yes --drop-target-database -c " + config()));
  ASSERT_EQ(aborted.exit_code, 0) << aborted.text;
  EXPECT_NE(aborted.text.find("deleted DMS task"), std::string::npos) << aborted.text;
  EXPECT_NE(aborted.text.find("dropped the target database sales"), std::string::npos) << aborted.text;
  const auto tasks = run_shell("bash -c '. " + world_dir() + "/env && /usr/bin/aws dms describe-replication-tasks "
                               "--endpoint-url \"$MSSQL2RDS_WORLD_DMS_URL\" --output json'");
  EXPECT_EQ(tasks.text.find("\"ReplicationTaskArn\""), std::string::npos) << tasks.text;
  // The target name is free again: check says so.
  const auto check = run_shell(with_world("--json check -c " + config()));
  const auto report = nlohmann::json::parse(check.text, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << check.text;
  bool seen = false;
  for (const auto& c : report["checks"]) {
    if (c.value("id", "") != "rds.target_name") continue;
    seen = true;
    EXPECT_EQ(c.value("status", ""), "PASS") << c.dump();
  }
  EXPECT_TRUE(seen) << check.text;

  // The aborted journal refuses to resume, naming the way out; nothing runs.
  const auto refused = run_shell(with_world("run -c " + config()));
  EXPECT_EQ(refused.exit_code, 6) << refused.text;
  EXPECT_NE(refused.text.find("aborted"), std::string::npos) << refused.text;
  EXPECT_EQ(refused.text.find("==> "), std::string::npos) << refused.text;

  // Starting over with a new journal migrates again, to a clean cutover.
  std::filesystem::rename(world_dir() + "/demo.journal", world_dir() + "/demo.journal.aborted");
  const auto again = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(again.exit_code, 0) << again.text;
  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
}

}  // namespace
}  // namespace m2r::testing
