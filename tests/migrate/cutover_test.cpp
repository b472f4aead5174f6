// `cutover` against the fakes, on a FakeClock (a 10-minute drain timeout takes no time): the
// refusals (replication not reached, cutover already done), the drain (waiting while counts
// move or the latency is high, then stopping the task), its timeout leaving the task running,
// a task failing during the drain, validation refusing without --force and proceeding with
// it, triggers and constraints back on with identities reseeded, the downtime, and a resumed
// cutover finding the task already stopped.
#include "migrate/cutover.hpp"
#include "migrate/validation_history.hpp"
#include "migrate/source_lock.hpp"

#include <gtest/gtest.h>

#include "core/migration_report.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_sql_session.hpp"
#include "fakes/fake_clock.hpp"

using namespace m2r;
using namespace std::chrono_literals;
using m2r::test::FakeAwsWorld;
using m2r::test::Migration;
using nlohmann::json;

namespace {

constexpr const char* k_task_arn = "arn:aws:dms:us-east-1:123456789012:task:ABCDEF123";

void script_database(mssql::FakeSqlSession& db, std::int64_t rows) {
  db.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"}, {{"dbo", "Orders", 1, 1, 1}});
  // Validation: dbo.Orders(id int) without a key, compared as a multiset of `rows` equal row hashes.
  db.on_count("SET LOCK_TIMEOUT", 0);
  db.on_rows("ProductMajorVersion", {"major"}, {{15}});
  db.on_rows("FROM sys.columns AS c LEFT JOIN sys.types", {"name", "type_name", "max_length", "precision", "scale", "is_nullable", "is_computed"},
             {{"id", "int", 4, 10, 0, 1, 0}});
  db.on_rows("FROM sys.indexes", {"index_id", "is_primary_key", "name", "is_nullable"}, {});
  db.on_rows("AS copies", {"rh", "copies"}, {{mssql::Bytes{std::vector<std::uint8_t>(32, 7)}, rows}});
  db.on_rows("SELECT TOP (1)", {"id"}, {{"5"}});
  db.on_rows("FROM sys.objects o", {"name", "type"}, {{"dbo.Orders", "U"}, {"dbo.trg_audit", "TR"}});
  db.on_rows("t.is_disabled = 1", {"name"}, {});
  db.on_rows("f.is_not_trusted = 1", {"name"}, {});
}

// The cutover marker's table (core/cutover_marker.hpp): absent unless a test says otherwise,
// so the drain falls back to the task's statistics.
void script_marker_table(mssql::FakeSqlSession& db, bool exists) {
  db.on_rows("AS [exists]", {"exists"}, {{std::int64_t{exists ? 1 : 0}}});
}

json stats(std::int64_t captured, std::int64_t applied) { return json::array({FakeAwsWorld::table_stats("dbo.Orders", captured, applied)}); }

class CutoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m.step_done("prepare_target", {{"triggers", {{{"schema", "dbo"}, {"table", "Orders"}, {"name", "trg_audit"}}}},
                                   {"foreign_keys", {{{"schema", "dbo"}, {"table", "Orders"}, {"name", "FK_Orders_Customers"}}}},
                                   {"identity_tables", {{{"schema", "dbo"}, {"table", "Orders"}}}}});
    m.step_done("replicate", {{"task_arn", k_task_arn}, {"status", "running"}});
    m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "running");
    script_database(*m.source, 1000);
    script_database(*m.target, 1000);
    script_marker_table(*m.source, marker);
    script_marker_table(*m.target, marker);
    for (const char* sql : {"ENABLE TRIGGER", "WITH CHECK CHECK CONSTRAINT", "DBCC CHECKIDENT"}) m.target->on_count(sql, 0);
    options.writes_stopped_at = m.start_time() - 30s;
    options.drain_timeout = 600s;
  }
  Expected<CutoverReport> cutover() { return cutover_migration(m.config, m.connections, m.journal, m.events, options); }
  std::optional<StepRecord> record() { return m.journal.step("cutover").value(); }
  std::string task_status() { return m.aws_world.tasks.at(k_task_arn)["Status"]; }

  Migration m;
  CutoverOptions options;
  bool marker = false;
};

class CutoverMarkerTest : public CutoverTest {
 protected:
  void SetUp() override {
    marker = true;
    CutoverTest::SetUp();
    m.source->on_count("INSERT INTO dbo.mssql2rds_cutover_marker", 1);
  }
};

}  // namespace

TEST_F(CutoverTest, DrainsWhileCountsMoveThenStopsValidatesRestoresAndReportsTheDowntime) {
  // Given a backlog (latency 30 s, 5 of 10 changes applied) that drains over two reads, the
  // cutover should keep reading every 2 s until the latency is low and two reads agree, then
  // stop the task and wait for it to stop, validate, turn the trigger and the foreign key
  // back on and reseed the identity.
  m.aws_world.table_statistics = {stats(10, 5), stats(12, 12), stats(12, 12)};
  m.aws_world.latencies = {30, 2, 2};
  m.aws_world.stopping_polls = 2;
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message << " / " << r.error().hint;
  EXPECT_EQ(m.aws_world.count("dms:DescribeTableStatistics"), 3);
  EXPECT_EQ(r->drain_s, 4.0);  // two 2-second waits on the fake clock
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 1);
  EXPECT_EQ(task_status(), "stopped");
  EXPECT_TRUE(r->validation.ok());
  EXPECT_TRUE(r->schema.ok());
  EXPECT_EQ(m.target_ran("ALTER TABLE [dbo].[Orders] ENABLE TRIGGER [trg_audit]").size(), 1u);
  EXPECT_EQ(m.target_ran("ALTER TABLE [dbo].[Orders] WITH CHECK CHECK CONSTRAINT [FK_Orders_Customers]").size(), 1u);
  EXPECT_EQ(m.target_ran("DBCC CHECKIDENT (N'[dbo].[Orders]', RESEED)").size(), 1u);
  // The downtime runs from when the writes stopped to the restored target, on the same clock.
  const double expected = std::chrono::duration<double>(m.clock->now() - options.writes_stopped_at).count();
  EXPECT_EQ(r->downtime_s, expected);
  EXPECT_GE(r->downtime_s, 34.0);  // 30 s before the cutover began + the 4 s drain
  const auto rec = record();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, StepStatus::done);
  EXPECT_EQ(rec->outputs.value("downtime_seconds", 0.0), expected);
  EXPECT_EQ(rec->outputs.value("task_stopped", false), true);
  EXPECT_TRUE(m.said("drained in 4.0s; stopping the DMS task"));
}

TEST_F(CutoverTest, HighLatencyAloneKeepsItWaiting) {
  // Given counts that never move but a latency above the threshold for three reads, the
  // cutover should not stop the task before the latency comes down.
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {60, 60, 60, 1};
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(m.aws_world.count("dms:DescribeTableStatistics"), 4);
  EXPECT_EQ(r->drain_s, 6.0);
}

TEST_F(CutoverTest, ADrainTimeoutNamesTheOptionAndLeavesTheTaskRunning) {
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {60};
  options.drain_timeout = 600s;
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_EQ(r.error().message,
            "CDC did not drain within 600s (CDC latency 60s (source) / 60s (target); 12 changes captured, 12 applied)");
  EXPECT_NE(r.error().hint.find("--drain-timeout"), std::string::npos) << r.error().hint;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(task_status(), "running");
  EXPECT_GE(m.clock->total_slept(), 600s);
  EXPECT_LE(m.clock->total_slept(), 604s);
  EXPECT_EQ(record()->status, StepStatus::failed);
  EXPECT_TRUE(m.target_ran("ENABLE TRIGGER").empty());
}

TEST_F(CutoverTest, MissingLatencyMetricsAreUnknownNeverZero) {
  // Given counts that never move and no CloudWatch datapoint at all (on AWS they arrive per
  // minute and late), the fallback drain must not read "no datapoint" as 0 s and stop the task.
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {};
  options.drain_timeout = 10s;
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("latency unknown (CloudWatch has no datapoint yet)"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(task_status(), "running");
  EXPECT_TRUE(m.said("the drain is judged from CloudWatch latency and table statistics"));
}

TEST_F(CutoverMarkerTest, WaitsForTheMarkerWhileTheStatisticsLookDrained) {
  // Given a task whose statistics and latency say "drained" from the first read (a stalled
  // apply looks exactly like this), the cutover should write a marker on the source and wait
  // until the target has it (three looks here), and only then stop the task.
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  for (int arrived : {0, 0, 0, 1}) m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{arrived}}});
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message << " / " << r.error().hint;
  EXPECT_TRUE(r->drain_proven_by_marker);
  EXPECT_EQ(r->drain_s, 1.5);  // three 500 ms waits on the fake clock
  auto matching = [](const mssql::FakeSqlSession& db, const std::string& fragment) {
    std::vector<mssql::Statement> out;
    for (const auto& st : db.executed()) {
      if (st.sql.find(fragment) != std::string::npos) out.push_back(st);
    }
    return out;
  };
  const auto writes = matching(*m.source, "INSERT INTO dbo.mssql2rds_cutover_marker");
  ASSERT_EQ(writes.size(), 1u);
  const auto token = record()->outputs.value("marker_token", std::string());
  ASSERT_EQ(token.size(), 32u);
  ASSERT_EQ(writes.front().params.size(), 1u);
  EXPECT_EQ(writes.front().params.front().value.to_text(), token);  // the token looked for is the one written
  const auto looks = matching(*m.target, "AS arrived");
  ASSERT_EQ(looks.size(), 4u);
  EXPECT_EQ(looks.back().params.front().value.to_text(), token);
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 1);
  EXPECT_EQ(task_status(), "stopped");
  EXPECT_EQ(record()->outputs.value("drain_proven_by_marker", false), true);
  EXPECT_TRUE(m.said("drained in 1.5s (the marker arrived); stopping the DMS task"));
}

TEST_F(CutoverMarkerTest, AMarkerThatNeverArrivesTimesOutWithWhatIsPendingAndStopsNothing) {
  m.aws_world.table_statistics = {stats(20, 12)};
  m.aws_world.latencies = {1};
  m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{0}}});
  options.drain_timeout = 30s;
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("the cutover marker written on the source has not reached the target"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("20 changes captured, 12 applied"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("--drain-timeout"), std::string::npos) << r.error().hint;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(task_status(), "running");
  EXPECT_EQ(record()->status, StepStatus::failed);
}

TEST_F(CutoverTest, ATaskFailingDuringTheDrainStopsTheCutoverWithTheTaskError) {
  m.aws_world.table_statistics = {stats(10, 5), stats(11, 6), stats(12, 7)};
  m.aws_world.latencies = {30};
  m.aws_world.fail_task_when_statistics_left = 2;  // the second read turns it failed
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Failed to apply changes"), std::string::npos) << r.error().message;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(record()->status, StepStatus::failed);
}

TEST_F(CutoverTest, ValidationFailureRefusesWithoutForceAndLeavesTheTargetAsItWas) {
  m.target = std::make_shared<mssql::FakeSqlSession>();
  script_database(*m.target, 999);
  script_marker_table(*m.target, false);
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::integrity);
  EXPECT_NE(r.error().message.find("dbo.Orders: row counts differ: source 1000, target 999"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().hint.find("--force"), std::string::npos) << r.error().hint;
  EXPECT_EQ(task_status(), "stopped");  // stopped before validating; stays stopped
  EXPECT_TRUE(m.target_ran("ENABLE TRIGGER").empty());
  EXPECT_EQ(record()->status, StepStatus::failed);
}

TEST_F(CutoverTest, ForceProceedsDespiteTheMismatchAndReportsIt) {
  m.target = std::make_shared<mssql::FakeSqlSession>();
  script_database(*m.target, 999);
  script_marker_table(*m.target, false);
  for (const char* sql : {"ENABLE TRIGGER", "WITH CHECK CHECK CONSTRAINT", "DBCC CHECKIDENT"}) m.target->on_count(sql, 0);
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  options.force = true;
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->validation.mismatches, 1);
  EXPECT_EQ(m.target_ran("ENABLE TRIGGER").size(), 1u);
  EXPECT_EQ(record()->status, StepStatus::done);
  EXPECT_EQ(record()->outputs.value("validation_mismatches", -1), 1);
}

TEST_F(CutoverTest, AResumedCutoverFindsTheTaskStoppedAndGoesOn) {
  // Given a cutover that failed after stopping the task, running it again should not try to
  // stop it a second time (DMS would refuse) and should finish.
  m.aws_world.tasks[k_task_arn]["Status"] = "stopped";
  ASSERT_TRUE(m.journal.begin_step("cutover", {}));
  ASSERT_TRUE(m.journal.fail_step("cutover", "validation failed"));
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_EQ(m.aws_world.count("dms:DescribeTableStatistics"), 0);
  EXPECT_EQ(record()->status, StepStatus::done);
  EXPECT_EQ(record()->attempts, 2);
}

TEST_F(CutoverTest, AResumedCutoverRepeatsNoFinishedPartAndCountsTheDowntimeFromTheFirstAttempt) {
  // Given an earlier cutover killed half-way through re-enabling (the task stopped, validation
  // passed, the trigger already back on), running it again should not drain, stop or validate
  // again, should turn on only the foreign key and the identity, and should report the downtime
  // from when the first attempt's writes stopped, with its drain and stop times.
  m.aws_world.tasks[k_task_arn]["Status"] = "stopped";
  const auto first_stop = std::chrono::duration_cast<std::chrono::seconds>((m.start_time() - 100s).time_since_epoch()).count();
  ASSERT_TRUE(m.journal.begin_step("cutover", {{"writes_stopped_at", first_stop}}));
  ASSERT_TRUE(m.journal.record_outputs(
      "cutover", {{"writes_stopped_at", first_stop},
                  {"task_stopped", true},
                  {"drain_seconds", 3.0},
                  {"stop_seconds", 2.0},
                  {"drain_proven_by_marker", true},
                  {"validated_tables", {{{"table", "dbo.Orders"}, {"rows", 1000}, {"method", "row multiset (no key)"}}}},
                  {"validation_seconds", 4.0},
                  {"reenabled", {"trigger [dbo].[Orders].[trg_audit]"}}}));
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
  EXPECT_TRUE(m.target_ran("AS copies").empty()) << "validation ran again";
  EXPECT_TRUE(m.target_ran("ENABLE TRIGGER").empty()) << "the trigger was re-enabled twice";
  EXPECT_EQ(m.target_ran("WITH CHECK CHECK CONSTRAINT [FK_Orders_Customers]").size(), 1u);
  EXPECT_EQ(m.target_ran("DBCC CHECKIDENT").size(), 1u);
  EXPECT_EQ(r->drain_s, 3.0);
  EXPECT_TRUE(r->drain_proven_by_marker);
  EXPECT_EQ(r->validation_s, 4.0);
  ASSERT_EQ(r->validation.tables.size(), 1u);
  EXPECT_TRUE(r->validation.ok());
  EXPECT_EQ(r->validation.tables[0].source->rows, 1000);
  EXPECT_GE(r->downtime_s, 100.0);
  EXPECT_TRUE(m.said("validation passed in the earlier attempt (1 tables equal)"));
  const auto rec = record();
  EXPECT_EQ(rec->status, StepStatus::done);
  EXPECT_EQ(rec->outputs["reenabled"].size(), 3u);
}

TEST_F(CutoverTest, AForeignKeyThatDoesNotHoldStopsTheCutoverAndTheRetryAfterTheFixRedoesNothingElse) {
  // Given a foreign key whose WITH CHECK fails on the target, the cutover stops naming it, with
  // the trigger already back on; after the user fixes the rows, the next cutover checks the key,
  // reseeds, and does not touch the trigger again (nor validate again).
  m.target = std::make_shared<mssql::FakeSqlSession>();
  script_database(*m.target, 1000);
  script_marker_table(*m.target, false);
  m.target->on_count("ENABLE TRIGGER", 0);
  m.target->on_error("WITH CHECK CHECK CONSTRAINT", Error(ErrorKind::invalid_input, "The ALTER TABLE statement conflicted "
                                                                                    "with the FOREIGN KEY constraint"));
  m.target->on_count("WITH CHECK CHECK CONSTRAINT", 0);
  m.target->on_count("DBCC CHECKIDENT", 0);
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  auto first = cutover();
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::integrity);
  EXPECT_NE(first.error().message.find("foreign key FK_Orders_Customers on dbo.Orders does not hold"), std::string::npos)
      << first.error().message;
  EXPECT_NE(first.error().hint.find("run `mssql2rds cutover` again"), std::string::npos);
  EXPECT_EQ(m.target_ran("ENABLE TRIGGER").size(), 1u);
  const auto validation_reads = m.target_ran("AS copies").size();

  auto second = cutover();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(m.target_ran("ENABLE TRIGGER").size(), 1u) << "the trigger was re-enabled twice";
  EXPECT_EQ(m.target_ran("WITH CHECK CHECK CONSTRAINT").size(), 2u);
  EXPECT_EQ(m.target_ran("DBCC CHECKIDENT").size(), 1u);
  EXPECT_EQ(m.target_ran("AS copies").size(), validation_reads) << "the passed validation ran again";
  EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 1);
  EXPECT_EQ(record()->status, StepStatus::done);
}

TEST_F(CutoverTest, AHandEditedCutoverRecordIsNamedAndNothingRuns) {
  m.aws_world.tasks[k_task_arn]["Status"] = "stopped";
  ASSERT_TRUE(m.journal.begin_step("cutover", {}));
  ASSERT_TRUE(m.journal.record_outputs("cutover", {{"writes_stopped_at", 5}, {"reenabled", "trigger"}}));
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::journal_damaged);
  EXPECT_NE(r.error().message.find("reenabled"), std::string::npos) << r.error().message;
  EXPECT_TRUE(m.target_ran("ALTER TABLE").empty());
  EXPECT_EQ(m.http->request_count(), 0u);
}

// The journal as `validate` leaves it: dbo.Orders equal, the source's log position before it.
void journal_equal_validation(Journal& journal, const std::string& lsn) {
  ValidationReport v;
  TableComparison t;
  t.table = "dbo.Orders";
  t.source = TableFingerprint{"dbo.Orders", 1000, {}};
  t.target = TableFingerprint{"dbo.Orders", 1000, {}};
  t.matches = true;
  t.method = "row multiset (no key)";
  v.tables.push_back(t);
  ASSERT_TRUE(record_validation(journal, v, lsn));
}

TEST_F(CutoverTest, ATableUnchangedSinceAnEqualValidationIsNotComparedAgainAndTheReportSaysWhen) {
  // Given `validate` found dbo.Orders equal with the source's log at ...0005, and the log shows
  // no record naming it since, the cutover's validation reuses that result (no hash of the
  // table is read) and says when it was compared.
  journal_equal_validation(m.journal, "00000020:00000010:0005");
  m.source->on_rows("SELECT MIN([Current LSN])", {"lsn"}, {{"00000001:00000010:0001"}});
  m.source->on_rows("GROUP BY AllocUnitName", {"unit", "last_lsn"}, {{"dbo.mssql2rds_cutover_marker", "00000021:00000010:0001"}});
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(m.target_ran("AS copies").empty()) << "dbo.Orders was compared again";
  const auto asked = m.source_ran("GROUP BY AllocUnitName");
  ASSERT_EQ(asked.size(), 1u);
  ASSERT_EQ(r->validation.tables.size(), 1u);
  EXPECT_TRUE(r->validation.ok());
  EXPECT_NE(r->validation.tables[0].compared.find("no change to it since 00000020:00000010:0005"), std::string::npos)
      << r->validation.tables[0].compared;
  EXPECT_TRUE(m.said("validation: 0 table(s) compared whole now, 0 at the 0 row(s) the source's log shows changed since their validation, 1 equal at an earlier validation"));
}

TEST_F(CutoverTest, ATableTheSourcesLogNamesSinceItsValidationIsComparedAgain) {
  journal_equal_validation(m.journal, "00000020:00000010:0005");
  m.source->on_rows("SELECT MIN([Current LSN])", {"lsn"}, {{"00000001:00000010:0001"}});
  m.source->on_rows("GROUP BY AllocUnitName", {"unit", "last_lsn"}, {{"dbo.Orders.PK_Orders", "00000020:00000011:0001"}});
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(m.target_ran("AS copies").empty()) << "dbo.Orders changed on the source and was not compared";
  ASSERT_EQ(r->validation.tables.size(), 1u);
  EXPECT_TRUE(r->validation.tables[0].compared.empty());
}

TEST_F(CutoverTest, AnUnreadableSourceLogMeansEveryTableIsComparedWithAWarning) {
  journal_equal_validation(m.journal, "00000020:00000010:0005");
  m.source->on_error("SELECT MIN([Current LSN])", Error(ErrorKind::prerequisite, "The SELECT permission was denied on the object 'fn_dblog'"));
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1};
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(m.target_ran("AS copies").empty());
  EXPECT_TRUE(m.said("every table is compared again"));
}

TEST_F(CutoverTest, RefusedBeforeReplicationIsRunning) {
  Migration fresh;
  auto r = cutover_migration(fresh.config, fresh.connections, fresh.journal, fresh.events, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().hint.find("mssql2rds run"), std::string::npos);
  EXPECT_FALSE(fresh.journal.step("cutover").value());
  EXPECT_EQ(fresh.http->request_count(), 0u);
}

TEST_F(CutoverTest, RefusedWhenAlreadyDone) {
  m.step_done("cutover", {{"downtime_seconds", 12.0}});
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(r.error().message, "cutover already completed");
  EXPECT_EQ(m.http->request_count(), 0u);
  EXPECT_EQ(record()->outputs.value("downtime_seconds", 0.0), 12.0);
}

TEST_F(CutoverTest, AStartingTaskIsRefusedWithWhatToWaitFor) {
  m.aws_world.tasks[k_task_arn]["Status"] = "starting";
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_EQ(r.error().message, "the DMS task is starting");
  EXPECT_EQ(record()->status, StepStatus::failed);
}

TEST_F(CutoverTest, TheDrainsLatencyReadsAndTheValidationAreJournaledForTheReport) {
  // Given a drain over three reads (30 s, then 2 s twice), the journal should hold each read's
  // latency and the validation's per-table result, for `mssql2rds report`.
  m.aws_world.table_statistics = {stats(10, 5), stats(12, 12), stats(12, 12)};
  m.aws_world.latencies = {30, 2, 2};
  ASSERT_TRUE(cutover());
  std::vector<double> latencies;
  std::vector<nlohmann::json> validations;
  const auto journaled = m.journal.events(0, 1000).value();
  for (const auto& e : journaled) {
    if (e.kind == report_records::lag_sample) {
      EXPECT_EQ(e.data.value("read_by", ""), "cutover drain");
      latencies.push_back(e.data.value("target_s", -1.0));
    }
    if (e.kind == report_records::validation) validations.push_back(e.data);
  }
  EXPECT_EQ(latencies, (std::vector<double>{30, 2, 2}));
  ASSERT_EQ(validations.size(), 1u);
  EXPECT_EQ(validations[0].value("run_by", ""), "cutover");
  EXPECT_EQ(validations[0].value("ok", false), true);
  ASSERT_EQ(validations[0]["tables"].size(), 1u);
  EXPECT_EQ(validations[0]["tables"][0].value("table", ""), "dbo.Orders");
  EXPECT_EQ(validations[0]["tables"][0].value("source_rows", 0), 1000);
}

namespace {

// `--lock-source` on the fakes: the source's user access, who the tool is, and the DMS source
// endpoint's user (scripted answers in call order: the tool's qualification first, then DMS's).
class CutoverLockTest : public CutoverMarkerTest {
 protected:
  void SetUp() override {
    CutoverMarkerTest::SetUp();
    options.lock_source = true;
    m.aws_world.endpoints[0]["Username"] = "dms_user";
    m.source->on_rows("SUSER_SNAME() AS login", {"login"}, {{"sa"}});
    m.aws_world.table_statistics = {stats(12, 12)};
    m.aws_world.latencies = {1};
  }
  void user_access(const std::string& access) { m.source->on_rows("user_access_desc", {"user_access_desc"}, {{access}}); }
  // sysadmin, dbcreator, db_owner for the tool's login, then for DMS's user.
  void qualifications(std::vector<mssql::SqlRow> rows) {
    for (auto& row : rows) m.source->on_rows("IS_SRVROLEMEMBER", {"sysadmin", "dbcreator", "db_owner"}, {std::move(row)});
  }
  std::vector<std::string> source_sql() { return m.source->executed_sql(); }
  static std::ptrdiff_t index_of(const std::vector<std::string>& sql, const std::string& fragment) {
    for (std::size_t i = 0; i < sql.size(); ++i)
      if (sql[i].find(fragment) != std::string::npos) return static_cast<std::ptrdiff_t>(i);
    return -1;
  }
  std::vector<JournalEvent> lock_events() {
    return all_events(m.journal, {source_lock::k_locked_event, source_lock::k_unlocked_event}).value();
  }
};

}  // namespace

TEST_F(CutoverLockTest, TheSourceIsRestrictedBeforeTheMarkerAndTheLockIsJournaled) {
  // Given a MULTI_USER source, the cutover run as sa and DMS's user db_owner, --lock-source
  // should set the database RESTRICTED_USER WITH ROLLBACK IMMEDIATE before it writes the
  // marker, journal what to set back, and report it.
  m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{1}}});
  user_access("MULTI_USER");
  qualifications({{1, 0, 0}, {0, 0, 1}});
  m.source->on_count("SET RESTRICTED_USER", 0);
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message << " / " << r.error().hint;
  EXPECT_TRUE(r->source_locked);
  const auto sql = source_sql();
  const auto lock = index_of(sql, "ALTER DATABASE [Sales] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  const auto marker_write = index_of(sql, "INSERT INTO dbo.mssql2rds_cutover_marker");
  ASSERT_GE(lock, 0);
  ASSERT_GE(marker_write, 0);
  EXPECT_LT(lock, marker_write);
  // DMS's user was asked about by name: the endpoint's Username.
  bool asked_about_dms = false;
  for (const auto& st : m.source->executed()) {
    if (st.sql.find("IS_SRVROLEMEMBER") != std::string::npos && !st.params.empty() &&
        st.params[0].value.to_text() == "dms_user")
      asked_about_dms = true;
  }
  EXPECT_TRUE(asked_about_dms);
  const auto events = lock_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.value("previous_access", ""), "MULTI_USER");
  EXPECT_EQ(events[0].data.value("login", ""), "sa");
  EXPECT_EQ(record()->outputs.value("source_locked", false), true);
  EXPECT_TRUE(m.said("`mssql2rds unlock-source` sets it back to MULTI_USER"));
}

TEST_F(CutoverLockTest, DmsLockedOutIsRefusedBeforeAnythingChanges) {
  user_access("MULTI_USER");
  qualifications({{1, 0, 0}, {0, 0, 0}});
  auto r = cutover();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("dms_user"), std::string::npos) << r.error().message;
  EXPECT_EQ(index_of(source_sql(), "ALTER DATABASE"), -1);
  EXPECT_EQ(index_of(source_sql(), "INSERT INTO dbo.mssql2rds_cutover_marker"), -1);
  EXPECT_FALSE(record());  // the cutover did not begin
  EXPECT_TRUE(lock_events().empty());
  EXPECT_EQ(task_status(), "running");
}

TEST_F(CutoverLockTest, AResumedCutoverDoesNotLockTwice) {
  // Given a first attempt that locked the source and then lost the target while waiting for
  // the marker, the second finds the database RESTRICTED_USER with its own lock journaled:
  // nothing is run again and the lock is not journaled twice.
  user_access("MULTI_USER");
  user_access("RESTRICTED_USER");
  qualifications({{1, 0, 0}, {0, 0, 1}});
  m.source->on_count("SET RESTRICTED_USER", 0);
  m.target->on_error("AS arrived", Error(ErrorKind::retryable, "the connection to the target broke", "retry"));
  m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{1}}});
  ASSERT_FALSE(cutover());
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->source_locked);
  int locks = 0;
  for (const auto& sql : source_sql()) locks += sql.find("SET RESTRICTED_USER") != std::string::npos;
  EXPECT_EQ(locks, 1);
  EXPECT_EQ(lock_events().size(), 1u);
}

TEST_F(CutoverLockTest, UnlockSetsBackWhatWasThereAndOnlyOnce) {
  m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{1}}});
  user_access("MULTI_USER");
  user_access("RESTRICTED_USER");  // what unlock finds
  qualifications({{1, 0, 0}, {0, 0, 1}});
  m.source->on_count("SET RESTRICTED_USER", 0);
  ASSERT_TRUE(cutover());
  m.source->on_count("SET MULTI_USER", 0);
  auto u = unlock_source(m.config, m.connections, m.journal, m.events);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->statement, "ALTER DATABASE [Sales] SET MULTI_USER");
  EXPECT_EQ(m.source_ran("SET MULTI_USER").size(), 1u);
  // Nothing left to undo: a second unlock is a conflict and runs nothing.
  auto again = unlock_source(m.config, m.connections, m.journal, m.events);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
  EXPECT_NE(again.error().hint.find("SET MULTI_USER"), std::string::npos);
  EXPECT_EQ(m.source_ran("SET MULTI_USER").size(), 1u);
}

TEST_F(CutoverLockTest, ADatabaseRestrictedBeforeTheToolIsLeftRestrictedByUnlock) {
  m.target->on_rows("AS arrived", {"arrived"}, {{std::int64_t{1}}});
  user_access("RESTRICTED_USER");
  qualifications({{1, 0, 0}, {0, 0, 1}});
  ASSERT_TRUE(cutover());
  EXPECT_EQ(index_of(source_sql(), "ALTER DATABASE"), -1);
  auto u = unlock_source(m.config, m.connections, m.journal, m.events);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->statement, "");
  EXPECT_EQ(index_of(source_sql(), "ALTER DATABASE"), -1);
}

TEST_F(CutoverTest, TheDatabasesSettingsAreComparedAndATrustworthyLostIsAWarningForTheReport) {
  m.aws_world.table_statistics = {stats(12, 12)};
  m.aws_world.latencies = {1, 1};
  const std::vector<std::string> columns = {"owner", "is_trustworthy_on", "is_db_chaining_on", "is_broker_enabled",
                                            "compatibility_level", "collation_name", "is_read_committed_snapshot_on",
                                            "snapshot_isolation_state_desc"};
  m.source->on_rows("is_trustworthy_on", columns, {{"sa", 1, 0, 0, 150, "SQL_Latin1_General_CP1_CI_AS", 0, "OFF"}});
  m.target->on_rows("is_trustworthy_on", columns, {{"admin", 0, 0, 0, 150, "SQL_Latin1_General_CP1_CI_AS", 0, "OFF"}});
  for (auto* db : {m.source.get(), m.target.get()})
    db->on_rows("sys.database_scoped_configurations", {"name", "value"}, {{"MAXDOP", "0"}});
  auto r = cutover();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->settings.size(), 2u);  // TRUSTWORTHY, and the owner every RDS restore changes
  int warnings = 0;
  const auto journaled = m.journal.events(0, 1000).value();
  for (const auto& e : journaled) {
    if (e.kind == "warning" && e.data.value("message", "").find("database setting TRUSTWORTHY: ON on the source, OFF on RDS") == 0)
      ++warnings;
    EXPECT_EQ(e.data.value("message", "").find("database setting owner"), std::string::npos);  // said, not warned
  }
  EXPECT_EQ(warnings, 1);
  EXPECT_TRUE(m.said("database setting owner: sa on the source, admin on RDS"));
}

TEST_F(CutoverTest, AnUnreachableSourceStopsNothingAndSaysWhy) {
  // Given a source that cannot be reached, the cutover should fail with the connection's error,
  // leave the DMS task running, write no marker and lock nothing (with or without --lock-source).
  for (bool lock : {false, true}) {
    options.lock_source = lock;
    m.source_unreachable = Error(ErrorKind::retryable, "cannot connect to src.example:1433: Connection refused",
                                 "check [source] server and port, and that SQL Server accepts TCP connections");
    auto r = cutover();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::retryable);
    EXPECT_NE(r.error().message.find("src.example:1433"), std::string::npos) << r.error().message;
    EXPECT_FALSE(r.error().hint.empty());
    EXPECT_EQ(task_status(), "running");
    EXPECT_EQ(m.aws_world.count("dms:StopReplicationTask"), 0);
    EXPECT_TRUE(m.source_ran("ALTER DATABASE").empty());
    EXPECT_TRUE(m.source_ran("INSERT INTO dbo.mssql2rds_cutover_marker").empty());
  }
}
