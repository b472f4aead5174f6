// `run`'s preflight against the fakes: what `check` would fail is refused before the backup,
// with check's message and fix and nothing changed; on a resume only what the remaining steps
// need is checked (a target database the restore created is not "a name already taken").
#include <gtest/gtest.h>

#include "core/plan.hpp"
#include "migrate/run.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "migrate/support/scripted_source.hpp"

using namespace m2r;
using m2r::test::Migration;

namespace {

class RunPreflightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m2r::test::script_source(*m.source, {});
    m.target->on_rows("SELECT name FROM sys.databases", {"name"}, {});
  }
  Expected<void> run(RunOptions options = {}) {
    options.restore_poll = std::chrono::milliseconds(5000);
    return run_migration(m.config, m.connections, m.journal, m.events, options);
  }
  void nothing_changed() {
    EXPECT_TRUE(m.source_ran("BACKUP").empty());
    EXPECT_TRUE(m.journal.steps().value().empty());
    EXPECT_TRUE(m.store->upload_ids().empty());
  }
  Migration m;
};

}  // namespace

TEST_F(RunPreflightTest, AMissingBucketIsRefusedBeforeTheBackupWithChecksFix) {
  // Given a bucket that does not exist, `run` should refuse before the backup (not after a
  // full backup), exit 3, with the message and fix `check` gives.
  m.aws_world.bucket = "someone-elses";
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("s3.bucket"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("[s3] bucket"), std::string::npos) << r.error().hint;
  nothing_changed();
}

TEST_F(RunPreflightTest, AWrongTargetPasswordIsRefusedBeforeTheBackup) {
  m.connections.target = [](const std::string&) -> Expected<std::unique_ptr<mssql::SqlSession>> {
    return fail(ErrorKind::auth, "SQL Server error 18456 (severity 14, state 1): Login failed for user 'admin'.");
  };
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("Login failed for user 'admin'"), std::string::npos) << r.error().message;
  nothing_changed();
}

TEST_F(RunPreflightTest, AMissingDmsEndpointIsRefusedBeforeTheBackupNotAfterTheRestore) {
  m.aws_world.endpoints.erase(m.aws_world.endpoints.begin());
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dms."), std::string::npos) << r.error().message;
  nothing_changed();
}

TEST_F(RunPreflightTest, OnAResumeAfterTheRestoreTheRestoredTargetIsNotANameTaken) {
  // Given backup to restore done (the target database now exists: it is ours), the resume
  // should not refuse it as a taken name; before any restore started, the same answer is a
  // refusal.
  m.target = std::make_shared<mssql::FakeSqlSession>();
  m.target->on_rows("SELECT name FROM sys.databases", {"name"}, {{"Sales"}});
  auto refused = run();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("rds.target_name"), std::string::npos) << refused.error().message;

  for (const auto& step : {"backup", "capture_lsn", "upload"}) m.step_done(step, {});
  m.step_done("restore", {{"task_id", 7}, {"lifecycle", "SUCCESS"}});
  RunOptions options;
  options.stop_after = "restore";
  auto resumed = run(options);
  EXPECT_TRUE(resumed) << resumed.error().message;
}
