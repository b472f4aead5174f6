// `run` against the fakes, without a rehearsal world: the six steps in order (backup, LSN
// capture, upload, restore, prepare target, replicate), a resumed run skipping what is done,
// a failure recorded in the journal and resumed from, stop_after, and an aborted journal
// refused with its fix.
#include "migrate/run.hpp"

#include <gtest/gtest.h>

#include "aws/support/temp_dir.hpp"
#include "core/plan.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_sql_session.hpp"

using namespace m2r;
using m2r::test::Migration;
using mssql::SqlValue;
using nlohmann::json;

namespace {

const std::vector<std::string> k_steps = {"backup", "capture_lsn", "upload", "restore", "prepare_target", "replicate"};

mssql::FakeResponse rows(std::vector<std::string> columns, std::vector<mssql::SqlRow> values) {
  mssql::FakeResponse r;
  mssql::ResultSet set;
  for (auto& c : columns) set.columns.push_back({std::move(c), mssql::SqlType::nvarchar, "nvarchar"});
  set.rows = std::move(values);
  r.result.result_sets.push_back(set);
  return r;
}

const std::vector<std::string> k_task_columns = {"task_id", "task_type", "database_name", "% complete", "lifecycle",
                                                 "task_info", "S3_object_arn"};

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m.config.source.backup_dir_local = dir.str();
    layout = backup_layout(m.config, "20261125T100000");  // the stamp comes from the (fake) clock
    dir.write(std::filesystem::path(layout.local_files.at(0)).filename().string(), std::string(3 * 1024 * 1024, 'b'));
    script_source();
    script_target();
  }

  // The source: BACKUP (no backup of that file yet, then msdb knows it), the backup set's
  // LSNs and the log around its end, the tables.
  void script_source() {
    auto& s = *m.source;
    s.on_rows("@@SPID", {"session_id"}, {{57}});
    s.on_rows("sys.dm_exec_requests", {"percent_complete", "estimated_completion_time", "total_elapsed_time", "command"},
              {{100.0, 0, 1000, "BACKUP DATABASE"}});
    s.on_rows("msdb.dbo.backupset", {"backup_set_id"}, {});
    s.on("msdb.dbo.backupset", rows({"backup_set_id", "first_lsn", "last_lsn", "checkpoint_lsn", "database_backup_lsn",
                                     "is_copy_only", "backup_start_date", "backup_finish_date"},
                                    {{1, "37000000290000001", "37000000295900004", "37000000290000001",
                                      "37000000290000001", 0, "2026-11-25", "2026-11-25"}}));
    mssql::FakeResponse backup;
    backup.messages = mssql::backup_progress_messages(50, "Sales");
    s.on("BACKUP DATABASE", backup);
    s.on("fn_dblog", rows({"Current LSN", "Operation", "Transaction ID", "Transaction Name", "AllocUnitName"},
                          {{"00000025:00000b54:0001", "LOP_BEGIN_XACT", "0000:00000002", "Backup:CommitDifferentialBase",
                            SqlValue()},
                           {"00000025:00000b54:0002", "LOP_COMMIT_XACT", "0000:00000002", SqlValue(), SqlValue()},
                           {"00000025:00000b90:0001", "LOP_BEGIN_XACT", "0000:00000003", "INSERT", SqlValue()},
                           {"00000025:00000b90:0002", "LOP_COMMIT_XACT", "0000:00000003", SqlValue(), SqlValue()}}));
    s.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"},
              {{"dbo", "Orders", 101, 1, 1}});
    // The LOB measurement before the DMS task: one nvarchar(max) whose largest value is 412 KB.
    s.on_rows("AS column_name", {"schema_name", "table_name", "column_name", "type_name", "max_length"},
              {{"dbo", "Orders", "Notes", "nvarchar", -1}});
    s.on_rows("DATALENGTH", {"Notes"}, {{412 * 1024}});
    s.on_count("SET LOCK_TIMEOUT", 0);
  }

  // The target: no restore task yet, rds_restore_database answering task 7, which succeeds;
  // one trigger and one foreign key on, one identity table.
  void script_target() {
    auto& t = *m.target;
    t.on("@task_id = 7", rows(k_task_columns, {{7, "RESTORE_DB", "Sales", 40.0, "IN_PROGRESS", "", layout.restore_arn}}));
    t.on("@task_id = 7", rows(k_task_columns, {{7, "RESTORE_DB", "Sales", 100.0, "SUCCESS", "", layout.restore_arn}}));
    t.on("rds_task_status", rows(k_task_columns, {}));
    t.on_rows("rds_restore_database", {"task_id"}, {{7}});
    t.on_rows("tr.is_disabled = 0", {"schema_name", "table_name", "trigger_name"}, {{"dbo", "Orders", "trg_audit"}});
    t.on_rows("fk.is_disabled = 0", {"schema_name", "table_name", "fk_name"}, {{"dbo", "Orders", "FK_Orders_Customers"}});
    t.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"},
              {{"dbo", "Orders", 101, 1, 1}});
    t.on_count("DISABLE TRIGGER", 0);
    t.on_count("NOCHECK CONSTRAINT", 0);
  }

  Expected<void> run(RunOptions options = {}) {
    options.restore_poll = std::chrono::milliseconds(5000);  // on the fake clock: no real wait
    // The steps' behaviour, without the preflight's reads (run_preflight_test.cpp covers it).
    options.preflight = false;
    return run_migration(m.config, m.connections, m.journal, m.events, options);
  }
  std::vector<std::string> events_of(EventKind kind) const {
    std::vector<std::string> out;
    for (const auto& e : m.events.events())
      if (e.kind == kind) out.push_back(e.step);
    return out;
  }
  StepStatus status_of(const std::string& step) {
    const auto r = m.journal.step(step).value();
    return r ? r->status : StepStatus::pending;
  }

  test::TempDir dir;
  Migration m;
  BackupLayout layout;
};

}  // namespace

TEST_F(RunTest, RunsTheSixStepsInOrderAndJournalsEach) {
  // Given a fresh journal, run should take the backup, capture the start point, upload the
  // file, restore it, prepare the target and start one DMS task from that start point.
  ASSERT_TRUE(run()) << ::testing::PrintToString(m.messages());
  EXPECT_EQ(events_of(EventKind::step_started), k_steps);
  EXPECT_EQ(events_of(EventKind::step_finished), k_steps);
  for (const auto& step : k_steps) EXPECT_EQ(status_of(step), StepStatus::done) << step;

  EXPECT_EQ(m.source_ran("BACKUP DATABASE").size(), 1u);
  const auto lsn = m.journal.step("capture_lsn").value()->outputs;
  EXPECT_EQ(lsn.value("start_lsn", ""), "00000025:00000b54:0001");  // the differential base: nothing open at the end
  ASSERT_TRUE(m.store->object("bkt", layout.s3_keys.at(0)));
  EXPECT_EQ(m.store->object("bkt", layout.s3_keys.at(0))->size(), 3u * 1024 * 1024);
  EXPECT_EQ(m.target_ran("rds_restore_database").size(), 1u);
  EXPECT_EQ(m.target_ran("DISABLE TRIGGER").size(), 1u);
  EXPECT_EQ(m.target_ran("NOCHECK CONSTRAINT").size(), 1u);
  EXPECT_EQ(m.aws_world.count("dms:CreateReplicationTask"), 1);
  ASSERT_EQ(m.aws_world.tasks.size(), 1u);
  const auto& task = m.aws_world.tasks.begin()->second;
  EXPECT_EQ(task["Status"], "running");
  EXPECT_EQ(task["CdcStartPosition"], "00000025:00000b54:0001");
  EXPECT_EQ(m.journal.step("replicate").value()->outputs.value("task_arn", ""), task["ReplicationTaskArn"]);
  // The restore was polled on the fake clock: one 5 s poll between IN_PROGRESS and SUCCESS.
  EXPECT_GE(m.clock->total_slept(), std::chrono::milliseconds(5000));
}

TEST_F(RunTest, TheTaskIsCreatedWithTheLobModeMeasuredOnTheSourceAndAResumeReusesIt) {
  // Given an nvarchar(max) column whose largest value is 412 KB, the task should be created in
  // limited LOB mode with LobMaxSize 824 KB, the measurement journaled with the replicate step
  // and said as an info line; a replicate step run again (the task deleted behind its back)
  // should create the task with the journaled settings without measuring again.
  ASSERT_TRUE(run()) << ::testing::PrintToString(m.messages());
  ASSERT_EQ(m.source_ran("DATALENGTH").size(), 1u);
  EXPECT_NE(m.source_ran("DATALENGTH")[0].find("FROM [dbo].[Orders]"), std::string::npos);
  ASSERT_EQ(m.aws_world.tasks.size(), 1u);
  auto settings = nlohmann::json::parse(m.aws_world.tasks.begin()->second["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["LimitedSizeLobMode"], true);
  EXPECT_EQ(settings["TargetMetadata"]["LobMaxSize"], 824);
  const auto lobs = m.journal.step("replicate").value()->outputs["lobs"];
  EXPECT_EQ(lobs["mode"], "limited");
  EXPECT_EQ(lobs["lob_max_size_kb"], 824);
  ASSERT_EQ(lobs["columns"].size(), 1u);
  EXPECT_EQ(lobs["columns"][0]["column"], "Notes");
  EXPECT_EQ(lobs["columns"][0]["max_bytes"], 412 * 1024);
  bool said = false;
  for (const auto& e : m.events.events())
    said = said || e.message == "LOBs: limited mode, LobMaxSize 824 KB: largest value 412 KB in dbo.Orders.Notes (x2 headroom)";
  EXPECT_TRUE(said) << ::testing::PrintToString(m.messages());

  // The task's settings are the journaled ones even if the data grew since.
  m.source->on_rows("DATALENGTH", {"Notes"}, {{4000 * 1024}});
  m.aws_world.tasks.clear();
  ASSERT_TRUE(run()) << ::testing::PrintToString(m.messages());
  EXPECT_EQ(m.source_ran("DATALENGTH").size(), 1u);
  ASSERT_EQ(m.aws_world.tasks.size(), 1u);
  settings = nlohmann::json::parse(m.aws_world.tasks.begin()->second["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["LobMaxSize"], 824);
}

TEST_F(RunTest, StopsAfterTheNamedStepAndAResumeSkipsWhatIsDone) {
  ASSERT_TRUE(run({.stop_after = "upload"}));
  EXPECT_EQ(status_of("upload"), StepStatus::done);
  EXPECT_EQ(status_of("restore"), StepStatus::pending);
  EXPECT_TRUE(m.target_ran("rds_restore_database").empty());
  EXPECT_EQ(m.aws_world.count("dms:CreateReplicationTask"), 0);

  ASSERT_TRUE(run());
  EXPECT_EQ(events_of(EventKind::step_skipped), (std::vector<std::string>{"backup", "capture_lsn", "upload"}));
  EXPECT_EQ(m.source_ran("BACKUP DATABASE").size(), 1u);  // never taken twice
  EXPECT_EQ(m.store->completes(), 1);
  for (const auto& step : k_steps) EXPECT_EQ(status_of(step), StepStatus::done) << step;
  EXPECT_EQ(m.aws_world.count("dms:CreateReplicationTask"), 1);
}

TEST_F(RunTest, AFailureIsRecordedAndTheNextRunResumesFromIt) {
  // Given RDS refusing the restore once (the option group still being applied), the run
  // should stop with the fix, the journal should say restore failed and why, and the next
  // run should continue at the restore without redoing the backup or the upload.
  m.target = std::make_shared<mssql::FakeSqlSession>();
  m.target->on_error("rds_restore_database",
                     Error(ErrorKind::fatal, "SQL Server error 50000 (severity 16, state 1): Database backup/restore "
                                             "option is not enabled yet or is in the process of being enabled. "
                                             "Please try again later."));
  script_target();
  auto first = run();
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(first.error().hint.find("SQLSERVER_BACKUP_RESTORE"), std::string::npos) << first.error().hint;
  const auto failed = m.journal.step("restore").value();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, StepStatus::failed);
  EXPECT_NE(failed->error.find("rds_restore_database refused"), std::string::npos) << failed->error;
  EXPECT_EQ(events_of(EventKind::step_failed), (std::vector<std::string>{"restore"}));
  EXPECT_EQ(status_of("prepare_target"), StepStatus::pending);

  ASSERT_TRUE(run()) << ::testing::PrintToString(m.messages());
  EXPECT_EQ(m.source_ran("BACKUP DATABASE").size(), 1u);
  EXPECT_EQ(m.store->completes(), 1);
  EXPECT_EQ(m.target_ran("rds_restore_database").size(), 2u);
  const auto restore = m.journal.step("restore").value();
  EXPECT_EQ(restore->status, StepStatus::done);
  EXPECT_EQ(restore->attempts, 2);
  EXPECT_EQ(status_of("replicate"), StepStatus::done);
}

TEST_F(RunTest, ADmsTaskThatFailsToStartStopsTheRunWithTheDiagnosis) {
  m.aws_world.start_fails_with =
      "[SOURCE_CAPTURE ]E: Failed to access LSN '00000025:00000b54:0001' in the backup log sets since BACKUP/LOG-s are "
      "not available. [1020465]";
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("no longer in the active log"), std::string::npos) << out.error().message;
  EXPECT_EQ(status_of("replicate"), StepStatus::failed);
  // The task is recorded: the next attempt follows it rather than creating a second.
  EXPECT_FALSE(m.journal.step("replicate").value()->outputs.value("task_arn", "").empty());
}

TEST_F(RunTest, AnAbortedJournalIsRefusedWithTheFixAndNothingRuns) {
  m.step_done("backup", {{"stamp", "20261125T100000"}});
  m.step_done("abort", {{"deleted_task", "arn:x"}});
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::conflict);
  EXPECT_NE(out.error().message.find("aborted"), std::string::npos);
  EXPECT_NE(out.error().hint.find("move /tmp/sales.journal aside"), std::string::npos) << out.error().hint;
  EXPECT_TRUE(m.source->executed().empty());
  EXPECT_TRUE(m.target->executed().empty());
  EXPECT_EQ(m.http->request_count(), 0u);
}

TEST_F(RunTest, WithoutCredentialsTheUploadStepSaysSo) {
  m.connections.aws.reset();
  m.connections.object_store.reset();
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::auth);
  EXPECT_EQ(status_of("capture_lsn"), StepStatus::done);
  EXPECT_EQ(status_of("upload"), StepStatus::failed);
}

TEST_F(RunTest, ADmsTaskDeletedBehindTheToolsBackIsCreatedAgainWhenTheSourceLogStillHoldsItsStart) {
  // Given a finished run whose DMS task someone deleted, `run` should not say "replicating":
  // it proves the source log still holds the start LSN, creates the task again from it, and
  // says so.
  ASSERT_TRUE(run());
  m.aws_world.tasks.clear();
  ASSERT_TRUE(run()) << ::testing::PrintToString(m.messages());
  EXPECT_EQ(m.aws_world.count("dms:CreateReplicationTask"), 2);
  ASSERT_EQ(m.aws_world.tasks.size(), 1u);
  EXPECT_EQ(m.aws_world.tasks.begin()->second["CdcStartPosition"], "00000025:00000b54:0001");
  EXPECT_FALSE(m.source_ran("MIN([Current LSN])").empty());
  EXPECT_TRUE(m.said("no longer exists"));
}

TEST_F(RunTest, ADeletedTaskWhoseStartTheLogNoLongerHoldsIsNotCreatedAgainAndANewBackupIsNamed) {
  ASSERT_TRUE(run());
  m.aws_world.tasks.clear();
  m.source = std::make_shared<mssql::FakeSqlSession>();
  m.source->on_rows("MIN([Current LSN])", {"oldest"}, {{"00000030:00000010:0001"}});  // truncated past the start
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("--redo-from backup"), std::string::npos) << r.error().hint;
  EXPECT_EQ(m.aws_world.count("dms:CreateReplicationTask"), 1);
  EXPECT_TRUE(m.aws_world.tasks.empty());
}

TEST_F(RunTest, AChangedBucketAfterTheUploadIsRefusedAndRedoFromUploadUsesTheNewOne) {
  // Given a run stopped after the upload, a changed [s3] bucket should be refused (exit 12)
  // naming the key; with --redo-from upload the file goes to the new bucket and the restore
  // reads it from there.
  RunOptions first;
  first.stop_after = "upload";
  ASSERT_TRUE(run(first));
  m.config.s3.bucket = "bkt2";
  auto refused = run();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::config_changed);
  EXPECT_NE(refused.error().message.find("[s3] bucket: \"bkt\" -> \"bkt2\""), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(m.source_ran("BACKUP DATABASE").size(), 1u);

  RunOptions redo;
  redo.redo_from = "upload";
  redo.stop_after = "upload";
  ASSERT_TRUE(run(redo)) << ::testing::PrintToString(m.messages());
  EXPECT_EQ(m.source_ran("BACKUP DATABASE").size(), 1u);  // the backup is kept
  EXPECT_TRUE(m.store->object("bkt2", layout.s3_keys.at(0)));
  const auto upload = m.journal.step("upload").value();
  EXPECT_EQ(upload->inputs["[s3] bucket"], "bkt2");
}

TEST_F(RunTest, ABackupFileChangedBeforeTheUploadIsNeverUploaded) {
  // Given the backup done and its file then changed (another size), the upload should stop
  // naming the file and the redo, and send nothing.
  RunOptions first;
  first.stop_after = "capture_lsn";
  ASSERT_TRUE(run(first));
  dir.write(std::filesystem::path(layout.local_files.at(0)).filename().string(), std::string(2 * 1024 * 1024, 'x'));
  auto r = run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::integrity);
  EXPECT_NE(r.error().message.find("changed since the backup ended"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("--redo-from backup"), std::string::npos);
  EXPECT_FALSE(m.store->object("bkt", layout.s3_keys.at(0)));
  EXPECT_TRUE(m.store->upload_ids().empty());
}
