// `abort` against the fakes: a running task is stopped, then deleted; a task already gone is
// tolerated; the unfinished multipart uploads under the prefix are aborted; the target
// database is dropped only when asked; a repeated abort works; and `run` then refuses the
// aborted journal.
#include "migrate/abort.hpp"

#include <gtest/gtest.h>

#include "migrate/run.hpp"
#include "migrate/support/fake_aws_world.hpp"

using namespace m2r;
using m2r::test::FakeAwsWorld;
using m2r::test::Migration;

namespace {

constexpr const char* k_task_arn = "arn:aws:dms:us-east-1:123456789012:task:ABCDEF123";

class AbortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m.step_done("replicate", {{"task_arn", k_task_arn}});
    m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "running");
    m.aws_world.stopping_polls = 1;
    ours = m.store->create_multipart("bkt", "sales/Sales_20261125T100000_1.bak").value();
    theirs = m.store->create_multipart("bkt", "other/x.bak").value();
  }
  Expected<void> abort(AbortOptions options = {}) {
    return abort_migration(m.config, m.connections, m.journal, m.events, options);
  }
  Migration m;
  std::string ours, theirs;
};

}  // namespace

TEST_F(AbortTest, StopsAndDeletesARunningTaskAndAbortsTheUploadsUnderThePrefix) {
  ASSERT_TRUE(abort());
  const auto calls = m.aws_world.calls();
  const auto stop = std::find(calls.begin(), calls.end(), "dms:StopReplicationTask");
  const auto del = std::find(calls.begin(), calls.end(), "dms:DeleteReplicationTask");
  ASSERT_NE(stop, calls.end());
  ASSERT_NE(del, calls.end());
  EXPECT_LT(stop, del);  // DMS refuses to delete a running task
  EXPECT_TRUE(m.aws_world.tasks.empty());
  EXPECT_EQ(m.store->upload_ids(), (std::vector<std::string>{theirs}));
  EXPECT_TRUE(m.target_databases_opened.empty());  // the target database is kept
  const auto rec = m.journal.step("abort").value();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, StepStatus::done);
  EXPECT_EQ(rec->outputs.value("deleted_task", ""), k_task_arn);
  EXPECT_EQ(rec->outputs["aborted_uploads"], nlohmann::json::array({ours}));
  EXPECT_FALSE(rec->outputs.contains("dropped_target_database"));
  EXPECT_TRUE(m.said("deleted DMS task"));
}

TEST_F(AbortTest, AStoppedTaskIsDeletedWithoutAStop) {
  m.aws_world.tasks[k_task_arn]["Status"] = "stopped";
  ASSERT_TRUE(abort());
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(m.aws_world.count("dms:DeleteReplicationTask"), 1);
}

TEST_F(AbortTest, ATaskAlreadyGoneIsTolerated) {
  m.aws_world.tasks.clear();
  ASSERT_TRUE(abort());
  EXPECT_EQ(m.aws_world.count("dms:DeleteReplicationTask"), 0);
  const auto rec = m.journal.step("abort").value();
  EXPECT_EQ(rec->status, StepStatus::done);
  EXPECT_FALSE(rec->outputs.contains("deleted_task"));
  EXPECT_EQ(m.store->upload_ids(), (std::vector<std::string>{theirs}));
}

TEST_F(AbortTest, DropsTheTargetDatabaseOnlyWhenAsked) {
  m.target->on_count("rds_drop_database", 0);
  ASSERT_TRUE(abort({.drop_target_database = true}));
  EXPECT_EQ(m.target_databases_opened, (std::vector<std::string>{"master"}));
  const auto executed = m.target->executed();
  ASSERT_EQ(executed.size(), 1u);
  EXPECT_EQ(executed[0].sql, "exec msdb.dbo.rds_drop_database @db_name = ?");
  ASSERT_EQ(executed[0].params.size(), 1u);
  EXPECT_EQ(executed[0].params[0].value.to_text(), "Sales");
  EXPECT_EQ(m.journal.step("abort").value()->outputs.value("dropped_target_database", ""), "Sales");
}

TEST_F(AbortTest, ARepeatedAbortWorksAndRunThenRefusesTheJournal) {
  ASSERT_TRUE(abort());
  ASSERT_TRUE(abort());  // the task is gone now, the uploads too
  const auto rec = m.journal.step("abort").value();
  EXPECT_EQ(rec->status, StepStatus::done);
  EXPECT_EQ(rec->attempts, 2);
  EXPECT_EQ(m.aws_world.count("dms:DeleteReplicationTask"), 1);
  EXPECT_EQ(rec->outputs["aborted_uploads"], nlohmann::json::array());

  auto run = run_migration(m.config, m.connections, m.journal, m.events, {});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().kind, ErrorKind::conflict);
  EXPECT_TRUE(m.source->executed().empty());
}

TEST_F(AbortTest, WithoutCredentialsNothingIsTouched) {
  m.connections.aws.reset();
  auto r = abort();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_FALSE(m.journal.step("abort").value());
  EXPECT_EQ(m.store->upload_ids().size(), 2u);
}

TEST(AbortBeforeRunTest, IsRefusedAsTheUsersMistakeAndLeavesTheJournalUsableByRun) {
  // Given a configuration that has never run, abort should refuse with exit code 2 (not a bug),
  // touch nothing, and record nothing that would make the first `run` refuse the journal.
  Migration fresh;
  const std::string other = fresh.store->create_multipart("bkt", "sales/somebody_elses.bak").value();
  auto r = abort_migration(fresh.config, fresh.connections, fresh.journal, fresh.events, {.drop_target_database = true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(exit_code_for(r.error().kind), 2);
  EXPECT_NE(r.error().message.find("nothing to abort"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("mssql2rds run"), std::string::npos);
  EXPECT_TRUE(fresh.journal.steps().value().empty());
  EXPECT_EQ(fresh.store->upload_ids(), (std::vector<std::string>{other}));
  EXPECT_TRUE(fresh.aws_world.calls().empty());
  EXPECT_TRUE(fresh.target_databases_opened.empty());
}
