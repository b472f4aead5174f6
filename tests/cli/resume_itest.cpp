// `run` killed with SIGKILL at each step boundary and inside the restore, then run again:
// finished steps come from the journal, the step in progress resumes (the same RDS task,
// the same DMS task), and the cutover finds source and target equal, with one DMS task.
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

struct KillPoint {
  const char* name;
  const char* when_output_shows;  // SIGKILL as soon as `run` prints this
};

class ResumeTest : public CliWorldTest, public ::testing::WithParamInterface<KillPoint> {};

int dms_task_count(const std::string& world) {
  const auto out = run_shell("bash -c '. " + world + "/env && /usr/bin/aws dms describe-replication-tasks "
                             "--endpoint-url \"$MSSQL2RDS_WORLD_DMS_URL\" --output json'");
  const auto j = nlohmann::json::parse(out.text, nullptr, false);
  if (j.is_discarded() || !j.contains("ReplicationTasks")) return -1;
  return static_cast<int>(j["ReplicationTasks"].size());
}

TEST_P(ResumeTest, AKilledRunResumesToTheSameResultWithOneDmsTask) {
  ASSERT_TRUE(set_up_world());
  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;

  const std::string log = m_dir + "/killed-run.log";
  const std::string pid_file = m_dir + "/killed-run.pid";
  ASSERT_EQ(run_shell(with_world_in_background("run -c " + config(), log, pid_file)).exit_code, 0);
  pid_t pid = 0;
  for (int i = 0; i < 300 && pid <= 0; ++i) {
    pid = static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
    if (pid <= 0) ::usleep(20'000);
  }
  ASSERT_GT(pid, 0);
  bool killed = false;
  for (int i = 0; i < 3000 && !killed; ++i) {
    if (read_text(log).find(GetParam().when_output_shows) != std::string::npos) {
      killed = ::kill(pid, SIGKILL) == 0;
      break;
    }
    ::usleep(10'000);
  }
  ASSERT_TRUE(killed) << "the run never printed '" << GetParam().when_output_shows << "':\n" << read_text(log);
  for (int i = 0; i < 200 && process_running(pid); ++i) ::usleep(20'000);
  ASSERT_EQ(read_text(log).find("replicating:"), std::string::npos) << "the run finished before the kill:\n" << read_text(log);

  const auto resumed = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(resumed.exit_code, 0) << "killed run:\n" << read_text(log) << "\nresumed run:\n" << resumed.text;
  EXPECT_NE(resumed.text.find("==> backup: already done"), std::string::npos) << resumed.text;
  EXPECT_EQ(resumed.text.find("BACKUP DATABASE"), std::string::npos) << "the backup ran twice:\n" << resumed.text;
  EXPECT_EQ(dms_task_count(world_dir()), 1);

  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("cutover complete"), std::string::npos) << cutover.text;
  EXPECT_EQ(dms_task_count(world_dir()), 1);
}

INSTANTIATE_TEST_SUITE_P(
    EachStep, ResumeTest,
    ::testing::Values(KillPoint{"AfterBackup", "==> capture_lsn"}, KillPoint{"AfterLsnCapture", "==> upload"},
                      KillPoint{"AfterUpload", "==> restore"}, KillPoint{"DuringRestore", "  restore "},
                      KillPoint{"AfterRestore", "==> prepare_target"}, KillPoint{"AfterTargetPrep", "==> replicate"},
                      KillPoint{"AfterTheDmsTaskWasCreated", "created DMS task"}),
    [](const ::testing::TestParamInfo<KillPoint>& p) { return std::string(p.param.name); });

TEST_F(CliWorldTest, ARunKilledInTheMiddleOfTheUploadResumesItUnderTheSameUpload) {
  // Given a backup of several 5 MiB parts sent one at a time, `run` killed with SIGKILL once
  // the upload has started should, run again, continue the same multipart upload (the parts
  // S3 already holds verified, not sent again), then restore and cut over cleanly.
  ASSERT_TRUE(set_up_world());
  upload_one_part_at_a_time();
  {
    // About 16 MB of row data that does not compress: a backup of four parts.
    auto source = source_session();
    ASSERT_TRUE(source) << source.error().message;
    ASSERT_TRUE(add_incompressible_attachments(**source, 64, 7));
  }
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);

  const std::string log = m_dir + "/killed-run.log";
  const std::string pid_file = m_dir + "/killed-run.pid";
  ASSERT_EQ(run_shell(with_world_in_background("run -c " + config(), log, pid_file)).exit_code, 0);
  pid_t pid = 0;
  for (int i = 0; i < 300 && pid <= 0; ++i) {
    pid = static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
    if (pid <= 0) ::usleep(20'000);
  }
  ASSERT_GT(pid, 0);
  bool killed = false;
  // Some parts sent, not all: a progress line of the upload between 1 and 99 %.
  const std::regex part_way("\n  upload [1-9][0-9]?% ");
  for (int i = 0; i < 6000 && !killed; ++i) {
    if (std::regex_search(read_text(log), part_way)) killed = ::kill(pid, SIGKILL) == 0;
    else ::usleep(5'000);
  }
  ASSERT_TRUE(killed) << read_text(log);
  for (int i = 0; i < 200 && process_running(pid); ++i) ::usleep(20'000);
  ASSERT_EQ(read_text(log).find("uploaded s3://"), std::string::npos) << "the upload finished before the kill:\n"
                                                                      << read_text(log);

  const auto resumed = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(resumed.exit_code, 0) << "killed run:\n" << read_text(log) << "\nresumed run:\n" << resumed.text;
  EXPECT_NE(resumed.text.find("==> upload: upload the backup to S3 (resuming)"), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find("resumed upload"), std::string::npos) << resumed.text;
  // The parts sent before the kill were verified (ListParts + the journal's checksums), not sent again.
  EXPECT_TRUE(std::regex_search(resumed.text, std::regex("\\(resumed, [1-9][0-9]* parts reused\\)"))) << resumed.text;
  EXPECT_EQ(resumed.text.find("BACKUP DATABASE"), std::string::npos) << resumed.text;
  EXPECT_EQ(dms_task_count(world_dir()), 1);
  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("OK   dbo.Attachments"), std::string::npos) << cutover.text;
}

TEST_F(CliWorldTest, ASecondRunWhileTheFirstHoldsTheJournalIsRefused) {
  // Given a run in progress, a second `run` on the same config should exit 6 (conflict)
  // naming the journal, and change nothing.
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const std::string log = m_dir + "/first.log";
  ASSERT_EQ(run_shell(with_world_in_background("run -c " + config(), log, m_dir + "/first.pid")).exit_code, 0);
  for (int i = 0; i < 3000 && read_text(log).find("==> restore") == std::string::npos; ++i) ::usleep(10'000);
  const auto second = run_shell(with_world("run -c " + config()));
  EXPECT_EQ(second.exit_code, 6) << second.text << "\nfirst run so far:\n" << read_text(log);
  EXPECT_NE(second.text.find("journal"), std::string::npos) << second.text;
  for (int i = 0; i < 3000 && read_text(log).find("replicating:") == std::string::npos; ++i) ::usleep(10'000);
  EXPECT_NE(read_text(log).find("replicating:"), std::string::npos) << read_text(log);
}

}  // namespace
}  // namespace m2r::testing
