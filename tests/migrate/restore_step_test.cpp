// The RDS restore step against a scripted target: rds_restore_database followed through
// rds_task_status, the failures users meet turned into a cause and a fix, a resumed attempt
// adopting the task already running, and the two-task limit respected (docs/facts.md §5).
#include "migrate/restore_step.hpp"

#include <gtest/gtest.h>

#include "core/journal.hpp"
#include "fakes/fake_sql_session.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"
#include "fakes/fake_clock.hpp"

using namespace m2r;
using mssql::FakeResponse;
using mssql::FakeSqlSession;
using mssql::SqlRow;
using mssql::SqlValue;

namespace {

constexpr const char* k_arn = "arn:aws:s3:::bkt/sales/full.bak";

FakeResponse tasks(std::vector<SqlRow> rows) {
  FakeResponse r;
  mssql::ResultSet set;
  for (const char* c : {"task_id", "task_type", "database_name", "% complete", "lifecycle", "task_info", "S3_object_arn"}) {
    set.columns.push_back({c, mssql::SqlType::nvarchar, "nvarchar"});
  }
  set.rows = std::move(rows);
  r.result.result_sets.push_back(set);
  return r;
}

SqlRow task(std::int64_t id, const char* db, double percent, const char* lifecycle, const char* info = "",
            const char* arn = k_arn) {
  return {SqlValue(id), SqlValue("RESTORE_DB"), SqlValue(db), SqlValue(percent), SqlValue(lifecycle), SqlValue(info),
          SqlValue(arn)};
}

class RestoreStepTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(journal.begin_step("restore", {})); }
  Expected<nlohmann::json> run(const nlohmann::json& partial = nlohmann::json::object()) {
    StepContext ctx(journal, events, "restore", partial, nlohmann::json::object());
    RestoreInputs in;
    in.database = "Sales";
    in.s3_arn = k_arn;
    in.poll = std::chrono::milliseconds(5000);
    in.clock = clock;  // the polls take no real time
    return run_restore_step(ctx, target, in);
  }
  int restores_started() const {
    int n = 0;
    for (const auto& sql : target.executed_sql()) n += sql.find("rds_restore_database") != std::string::npos;
    return n;
  }
  MemoryJournal journal;
  RecordingEventSink events;
  FakeSqlSession target;
  std::shared_ptr<aws::FakeClock> clock = std::make_shared<aws::FakeClock>(std::chrono::system_clock::time_point{});
};

}  // namespace

TEST_F(RestoreStepTest, FollowsTheTaskToSuccessWithProgress) {
  // Given a task that goes 0 -> 40 -> 100 %, the step should start it once, report the
  // progress, record the task id and return SUCCESS.
  target.on("@task_id = 7", tasks({task(7, "Sales", 0, "CREATED")}));
  target.on("@task_id = 7", tasks({task(7, "Sales", 40, "IN_PROGRESS")}));
  target.on("@task_id = 7", tasks({task(7, "Sales", 100, "SUCCESS")}));
  target.on("rds_task_status", tasks({}));
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(7)}});
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->value("task_id", 0), 7);
  EXPECT_EQ(out->value("lifecycle", ""), "SUCCESS");
  EXPECT_EQ(restores_started(), 1);
  std::vector<double> fractions;
  for (const auto& e : events.events()) {
    if (e.kind == EventKind::progress && e.fraction) fractions.push_back(*e.fraction);
  }
  EXPECT_EQ(fractions, (std::vector<double>{0, 0.4, 1.0}));
}

TEST_F(RestoreStepTest, AccessDeniedNamesTheRolePermissionToFix) {
  // Given the task ending in ERROR with "Access Denied" (the option group's role cannot read
  // the object), the step should fail as a prerequisite naming the cause and s3:GetObject.
  target.on("@task_id = 8", tasks({task(8, "Sales", 0, "IN_PROGRESS")}));
  target.on("@task_id = 8", tasks({task(8, "Sales", 0, "ERROR", "[2026-11-25 12:00:00.000] Access Denied")}));
  target.on("rds_task_status", tasks({}));
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(8)}});
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(out.error().message.find("Access Denied"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().hint.find("s3:GetObject"), std::string::npos) << out.error().hint;
}

TEST_F(RestoreStepTest, AnOptionGroupWithoutBackupRestoreIsRefusedWithTheFix) {
  // Given rds_restore_database refusing because SQLSERVER_BACKUP_RESTORE is not enabled, the
  // step should fail as a prerequisite that names the option.
  target.on("rds_task_status", tasks({}));
  target.on_error("rds_restore_database",
                  Error(ErrorKind::fatal, "SQL Server error 50000 (severity 16, state 1): Database backup/restore option "
                                          "is not enabled yet or is in the process of being enabled. Please try again later."));
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(out.error().hint.find("SQLSERVER_BACKUP_RESTORE"), std::string::npos) << out.error().hint;
}

TEST_F(RestoreStepTest, AResumedAttemptAdoptsTheRunningTaskInsteadOfStartingASecond) {
  // Given an attempt killed after RDS started task 9 but before its id was recorded, the next
  // attempt should find it in rds_task_status (same database and ARN) and follow it.
  target.on("@task_id = 9", tasks({task(9, "Sales", 100, "SUCCESS")}));
  target.on("rds_task_status", tasks({task(3, "Other", 100, "SUCCESS", "", "arn:aws:s3:::bkt/other.bak"),
                                      task(9, "Sales", 30, "IN_PROGRESS")}));
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->value("task_id", 0), 9);
  EXPECT_EQ(restores_started(), 0);
}

TEST_F(RestoreStepTest, ARecordedTaskIdIsFollowedWithoutAnyNewRequest) {
  // Given the journal's partial outputs holding task 11, the step should only poll it.
  target.on("@task_id = 11", tasks({task(11, "Sales", 100, "SUCCESS")}));
  auto out = run({{"task_id", 11}});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(restores_started(), 0);
}

TEST_F(RestoreStepTest, WaitsWhileTwoTasksRunOnTheInstance) {
  // Given two backup/restore tasks of other databases running (RDS allows two), the step
  // should wait, saying why, and start its restore once one has finished.
  target.on("@task_id = 12", tasks({task(12, "Sales", 100, "SUCCESS")}));
  target.on("rds_task_status", tasks({task(1, "A", 50, "IN_PROGRESS", "", "x"), task(2, "B", 50, "IN_PROGRESS", "", "y")}));
  target.on("rds_task_status", tasks({task(1, "A", 50, "IN_PROGRESS", "", "x"), task(2, "B", 50, "IN_PROGRESS", "", "y")}));
  target.on("rds_task_status", tasks({task(1, "A", 100, "SUCCESS", "", "x"), task(2, "B", 70, "IN_PROGRESS", "", "y")}));
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(12)}});
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(restores_started(), 1);
  bool waited = false;
  for (const auto& e : events.events()) waited |= e.message.find("two backup/restore tasks") != std::string::npos;
  EXPECT_TRUE(waited);
}

TEST_F(RestoreStepTest, ATaskInErrorIsDiagnosedItsPartialDatabaseDroppedAndTheNextRunStartsANewTask) {
  // Given a restore task ending in ERROR because the media is damaged (3241), the step should
  // name the cause and the redo that fixes it, drop the partial database the task left, keep
  // the attempt in its outputs and forget the task id; the next run should start a new task
  // (not re-report the failed one) and succeed.
  const char* damaged = "[2026-12-02 04:00:00.000] Task execution has started.\n[2026-12-02 04:00:01.000] The media "
                        "family on device 'arn:aws:s3:::bkt/sales/full.bak' is incorrectly formed. SQL Server cannot "
                        "process this media family.";
  target.on("@task_id = 8", tasks({task(8, "Sales", 10, "ERROR", damaged)}));
  target.on("@task_id = 9", tasks({task(9, "Sales", 100, "SUCCESS")}));
  target.on("rds_task_status", tasks({task(8, "Sales", 10, "ERROR", damaged)}));
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(8)}});
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(9)}});
  target.on_rows("DB_ID", {"id"}, {{SqlValue(9)}});
  target.on_count("rds_drop_database", 0);

  auto first = run();
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(first.error().message.find("damaged"), std::string::npos) << first.error().message;
  EXPECT_NE(first.error().message.find("partial database Sales it left was dropped"), std::string::npos);
  EXPECT_NE(first.error().hint.find("--redo-from upload"), std::string::npos) << first.error().hint;
  EXPECT_NE(first.error().hint.find("starts a new restore task"), std::string::npos);
  bool dropped = false;
  for (const auto& e : target.executed()) dropped = dropped || e.sql.find("rds_drop_database") != std::string::npos;
  EXPECT_TRUE(dropped);
  const auto rec = journal.step("restore").value();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->outputs.value("task_id", -1), 0);
  ASSERT_EQ(rec->outputs["failed_attempts"].size(), 1u);
  EXPECT_EQ(rec->outputs["failed_attempts"][0]["task_id"], 8);
  EXPECT_EQ(rec->outputs["failed_attempts"][0]["lifecycle"], "ERROR");

  auto second = run(rec->outputs);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->value("task_id", 0), 9);
  EXPECT_EQ(restores_started(), 2);
}

TEST_F(RestoreStepTest, ANameTakenByAnotherDatabaseIsNeverDropped) {
  // Given a task in ERROR because a database of that name already exists, the step must not
  // drop that database (it is not the restore's), and says how to choose another name.
  const char* taken = "Database 'Sales' already exists. Two databases that differ only by case or accent are not "
                      "allowed. Choose a different database name.";
  target.on("@task_id = 8", tasks({task(8, "Sales", 0, "ERROR", taken)}));
  target.on("rds_task_status", tasks({}));
  target.on_rows("rds_restore_database", {"task_id"}, {{SqlValue(8)}});
  target.on_rows("DB_ID", {"id"}, {{SqlValue(5)}});
  auto out = run();
  ASSERT_FALSE(out);
  for (const auto& e : target.executed()) EXPECT_EQ(e.sql.find("rds_drop_database"), std::string::npos) << e.sql;
  EXPECT_NE(out.error().hint.find("another [target] database"), std::string::npos) << out.error().hint;
}
