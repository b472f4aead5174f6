// [upload] streaming = true end to end: the upload runs beside BACKUP, inside the backup step,
// and what it completes is the finished backup (RDS restores it; the cutover finds source and
// target equal).
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using StreamingTest = CliWorldTest;

TEST_F(StreamingTest, TheUploadBesideTheBackupIsRestoredAndMatches) {
  ASSERT_TRUE(set_up_world());
  {
    std::string text = read_text(config());
    const auto at = text.find("[upload]\n");
    ASSERT_NE(at, std::string::npos) << text;
    text.insert(at + 9, "streaming = true\n");
    std::ofstream(config()) << text;
  }
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  // The object was completed inside the backup step, before the LSN capture began...
  const auto uploaded = run.text.find("uploaded s3://");
  const auto lsn_step = run.text.find("==> capture_lsn");
  ASSERT_NE(uploaded, std::string::npos) << run.text;
  EXPECT_LT(uploaded, lsn_step) << run.text;
  // ...after BACKUP had finished writing the file.
  EXPECT_LT(run.text.find("BACKUP DATABASE successfully processed"), uploaded) << run.text;
  // The upload step found its work done and sent nothing again.
  EXPECT_EQ(run.text.find("uploaded s3://", uploaded + 1), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("restore 100% SUCCESS"), std::string::npos) << run.text;

  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("cutover complete"), std::string::npos) << cutover.text;
}

}  // namespace
}  // namespace m2r::testing
