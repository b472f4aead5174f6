#include "core/migration_report.hpp"

#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace m2r;

namespace {

// A fixed moment (2026-12-02 15:00:00Z) and offsets from it, so every time in the report is known.
TimePoint at(double seconds) {
  const TimePoint base{std::chrono::seconds(1796223600)};
  return base + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds));
}

StepRecord done_step(const std::string& name, double from, double to, nlohmann::json outputs = nlohmann::json::object()) {
  StepRecord s = blank_step(name);
  s.status = StepStatus::done;
  s.started_at = at(from);
  s.finished_at = at(to);
  s.attempts = 1;
  s.outputs = std::move(outputs);
  return s;
}

JournalEvent event(std::int64_t id, double when, const std::string& step, const std::string& kind, nlohmann::json data) {
  return JournalEvent{id, at(when), step, kind, std::move(data)};
}

ReportMeta meta() { return ReportMeta{"sales", "/var/lib/m2r/sales.journal", at(1000)}; }

const ReportStep* row(const MigrationReport& r, const std::string& name) {
  for (const auto& s : r.timeline) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// A whole migration as the steps journal it: 200 MB backed up in 10 s, uploaded in 4 s,
// restored in 50 s, and a cutover with its parts.
std::vector<StepRecord> migrated() {
  return {
      done_step(steps::backup, 0, 10,
                {{"file_identity", {{{"path", "/b/1.bak"}, {"size", 120000000}}, {{"path", "/b/2.bak"}, {"size", 80000000}}}}}),
      done_step(steps::capture_lsn, 10, 11,
                {{"start_lsn", "00000025:00000b8f:0004"},
                 {"start_lsn_numeric", "37000000295900004"},
                 {"rule", "the oldest transaction open at the backup's end began here"},
                 {"backup", {{"first_lsn", "00000025:00000a00:0001"}, {"last_lsn", "00000025:00000c00:0001"},
                             {"checkpoint_lsn", "00000025:00000a10:0001"}}},
                 {"differential_base", "00000025:00000b90:0001"},
                 {"open_transactions", {{{"transaction_id", "0000:000004d2"}, {"name", "long_tx"},
                                         {"begin", "00000025:00000b8f:0004"}, {"end", ""}, {"tables", {"dbo.Orders"}}}}},
                 {"replayed_transactions", nlohmann::json::array()},
                 {"lost_by_common_recipe", {{{"transaction_id", "0000:000004d2"}, {"name", "long_tx"},
                                             {"begin", "00000025:00000b8f:0004"}, {"end", ""}, {"tables", {"dbo.Orders"}}}}}}),
      done_step(steps::upload, 11, 15,
                {{"objects", {{{"size", 120000000}, {"parts", 8}, {"parts_reused", 2}, {"retries", 1}},
                              {{"size", 80000000}, {"parts", 5}, {"parts_reused", 0}, {"retries", 0}}}}}),
      done_step("upload/1", 11, 15),
      done_step("upload/2", 11, 14),
      done_step(steps::restore, 15, 65, {{"task_id", 7}, {"lifecycle", "SUCCESS"}}),
      done_step(steps::prepare_target, 65, 66),
      done_step(steps::replicate, 66, 70, {{"task_arn", "arn:aws:dms:x"}, {"cdc_start_position", "00000025:00000b8f:0004"}}),
      done_step(steps::cutover, 500, 520,
                {{"drain_seconds", 8.0}, {"stop_seconds", 4.0}, {"validation_seconds", 6.0}, {"reenable_seconds", 1.5},
                 {"downtime_seconds", 19.5}, {"drain_proven_by_marker", true}, {"schema_ok", true}}),
  };
}

}  // namespace

TEST(MigrationReportTest, TimelineListsEveryStepInOrderWithItsDurationAndTheCutoverParts) {
  // Given a finished migration, the timeline should show each step once, in run order, sub-steps
  // under their step, and the cutover's parts one after the other from its start.
  const auto r = build_migration_report(meta(), migrated(), {});
  std::vector<std::string> names;
  for (const auto& s : r.timeline) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"backup", "capture_lsn", "upload", "upload/1", "upload/2", "restore",
                                             "prepare_target", "replicate", "cutover", "cutover: drain",
                                             "cutover: task stop", "cutover: validation", "cutover: re-enabling"}));
  ASSERT_TRUE(row(r, "restore")->seconds);
  EXPECT_DOUBLE_EQ(*row(r, "restore")->seconds, 50);
  EXPECT_FALSE(row(r, "restore")->part);
  EXPECT_TRUE(row(r, "upload/2")->part);
  const auto* validation = row(r, "cutover: validation");
  ASSERT_TRUE(validation && validation->started_at && validation->seconds);
  EXPECT_EQ(*validation->started_at, at(512));  // after 8 s of drain and 4 s of stopping
  EXPECT_DOUBLE_EQ(*validation->seconds, 6);
  EXPECT_TRUE(r.cut_over);
  EXPECT_EQ(r.state, "cut over: the target is ready and the DMS task is stopped");
}

TEST(MigrationReportTest, AResumedCutoversPartsHaveTheirDurationsButNoMoments) {
  // Given a cutover that ran twice (the drain in the first attempt), the parts should keep their
  // durations and not claim to have started at the second attempt's start.
  auto records = migrated();
  records.back().attempts = 2;
  const auto r = build_migration_report(meta(), records, {});
  const auto* drain = row(r, "cutover: drain");
  ASSERT_TRUE(drain && drain->seconds);
  EXPECT_DOUBLE_EQ(*drain->seconds, 8);
  EXPECT_FALSE(drain->started_at);
  EXPECT_FALSE(row(r, "cutover: re-enabling")->finished_at);
}

TEST(MigrationReportTest, ThroughputIsTheJournaledBytesOverEachStepsDuration) {
  const auto r = build_migration_report(meta(), migrated(), {});
  ASSERT_EQ(r.throughput.size(), 3u);
  EXPECT_EQ(r.throughput[0].what, "backup");
  EXPECT_EQ(r.throughput[0].bytes, 200000000u);
  EXPECT_DOUBLE_EQ(*r.throughput[0].mb_per_s, 20);  // 200 MB in 10 s
  EXPECT_EQ(r.throughput[1].what, "upload");
  EXPECT_DOUBLE_EQ(*r.throughput[1].mb_per_s, 50);  // in 4 s
  EXPECT_EQ(r.throughput[1].detail, "2 object(s), 13 part(s), 2 reused from an earlier attempt, 1 retried");
  EXPECT_EQ(r.throughput[2].what, "restore");
  EXPECT_DOUBLE_EQ(*r.throughput[2].mb_per_s, 4);  // in 50 s
}

TEST(MigrationReportTest, TheUploadsRateIsOverItsObjectsTransferTimesWhenTheyAreRecorded) {
  // Given a streaming upload whose step spans the backup (20 s) but whose objects were sent in
  // 2.5 s and 1.5 s, the rate should be over those 4 s.
  auto records = migrated();
  for (auto& s : records) {
    if (s.name != steps::upload) continue;
    s.started_at = at(0);
    s.finished_at = at(20);
    s.outputs["objects"][0]["seconds"] = 2.5;
    s.outputs["objects"][1]["seconds"] = 1.5;
  }
  const auto r = build_migration_report(meta(), records, {});
  ASSERT_EQ(r.throughput[1].what, "upload");
  EXPECT_DOUBLE_EQ(*r.throughput[1].seconds, 4);
  EXPECT_DOUBLE_EQ(*r.throughput[1].mb_per_s, 50);
}

TEST(MigrationReportTest, StartLsnInEveryFormWithWhyItWasChosen) {
  const auto r = build_migration_report(meta(), migrated(), {});
  const auto& l = r.start_lsn;
  ASSERT_TRUE(l.known);
  EXPECT_EQ(l.hex, "00000025:00000b8f:0004");
  EXPECT_EQ(l.numeric, "37000000295900004");
  EXPECT_EQ(l.decimal_triplet, "37:2959:4");
  EXPECT_EQ(l.binary, "0x0000002500000B8F0004");
  EXPECT_EQ(l.dms_cdc_start_position, "00000025:00000b8f:0004");
  EXPECT_EQ(l.rule, "the oldest transaction open at the backup's end began here");
  EXPECT_EQ(l.backup_last_lsn, "00000025:00000c00:0001");
  ASSERT_EQ(l.open_at_backup_end.size(), 1u);
  EXPECT_EQ(l.open_at_backup_end[0].name, "long_tx");
  EXPECT_EQ(l.open_at_backup_end[0].tables, std::vector<std::string>{"dbo.Orders"});
  EXPECT_EQ(l.lost_by_common_recipe.size(), 1u);
}

TEST(MigrationReportTest, DowntimeSplitComesFromTheCutoversRecord) {
  const auto r = build_migration_report(meta(), migrated(), {});
  ASSERT_TRUE(r.downtime.known);
  EXPECT_DOUBLE_EQ(*r.downtime.total_s, 19.5);
  EXPECT_DOUBLE_EQ(*r.downtime.drain_s, 8);
  EXPECT_DOUBLE_EQ(*r.downtime.stop_s, 4);
  EXPECT_DOUBLE_EQ(*r.downtime.validation_s, 6);
  EXPECT_DOUBLE_EQ(*r.downtime.reenable_s, 1.5);
  EXPECT_TRUE(r.downtime.drain_proven_by_marker);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(MigrationReportTest, BeforeTheCutoverItSaysSoAndShowsWhatHappenedSoFar) {
  // Given a run that has reached replication, the report should say it is not cut over and
  // leave the downtime unknown, with the cutover still pending in the timeline.
  auto records = migrated();
  records.pop_back();  // no cutover yet
  const auto r = build_migration_report(meta(), records, {});
  EXPECT_FALSE(r.cut_over);
  EXPECT_EQ(r.state, "not cut over yet: CDC replication is running");
  EXPECT_FALSE(r.downtime.known);
  ASSERT_TRUE(row(r, "cutover"));
  EXPECT_EQ(row(r, "cutover")->status, "pending");
  EXPECT_FALSE(row(r, "cutover: drain"));
  EXPECT_EQ(r.throughput.size(), 3u);
}

TEST(MigrationReportTest, AFailedStepIsNamedWithItsErrorAndTheLaterStepsPending) {
  std::vector<StepRecord> records = {done_step(steps::backup, 0, 10)};
  StepRecord upload = blank_step(steps::upload);
  upload.status = StepStatus::failed;
  upload.started_at = at(10);
  upload.finished_at = at(12);
  upload.attempts = 2;
  upload.error = "S3 refused the part: <AccessDenied>";
  records.push_back(upload);
  const std::vector<JournalEvent> events = {
      event(1, 11, steps::upload, "step_failed", {{"message", "connection reset"}, {"hint", "run again"}}),
      event(2, 12, steps::upload, "warning", {{"message", "the part size was raised to 16 MiB"}}),
  };
  const auto r = build_migration_report(meta(), records, events);
  EXPECT_EQ(r.state, "not cut over yet: step 'upload' is failed (run the same command again to continue)");
  EXPECT_EQ(row(r, "upload")->error, "S3 refused the part: <AccessDenied>");
  EXPECT_EQ(row(r, "upload")->attempts, 2);
  EXPECT_EQ(row(r, "restore")->status, "pending");
  EXPECT_FALSE(row(r, "restore")->started_at);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message, "connection reset");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].message, "the part size was raised to 16 MiB");
  EXPECT_EQ(r.warnings[0].at, at(12));
  EXPECT_TRUE(r.throughput.size() == 1u && r.throughput[0].what == "backup");
}

TEST(MigrationReportTest, LagSamplesKeepAMissingDatapointUnknownNeverZero) {
  const std::vector<JournalEvent> events = {
      event(1, 100, steps::replicate, report_records::lag_sample, report_records::lag_sample_data(4.0, 7.0, "status")),
      event(2, 110, steps::replicate, report_records::lag_sample,
            report_records::lag_sample_data(std::nullopt, std::nullopt, "status")),
      event(3, 505, steps::cutover, report_records::lag_sample, report_records::lag_sample_data(0.0, 1.0, "cutover drain")),
  };
  const auto r = build_migration_report(meta(), migrated(), events);
  ASSERT_EQ(r.lag.size(), 3u);
  EXPECT_EQ(r.lag[0].at, at(100));
  EXPECT_EQ(r.lag[0].target_s, 7.0);
  EXPECT_EQ(r.lag[0].source_s, 4.0);
  EXPECT_FALSE(r.lag[1].target_s);
  EXPECT_FALSE(r.lag[1].source_s);
  EXPECT_EQ(r.lag[2].read_by, "cutover drain");
  EXPECT_EQ(r.lag[2].source_s, 0.0);
}

TEST(MigrationReportTest, ValidationResultsPerTableWithWhatWasComparedAndWhen) {
  // Given what validate and then the cutover journaled, the report should hold both runs, the
  // latest last, each table with its method, row counts and differences.
  ValidationReport first;
  TableComparison orders;
  orders.table = "dbo.Orders";
  orders.source = TableFingerprint{"dbo.Orders", 50000, ""};
  orders.target = TableFingerprint{"dbo.Orders", 49999, ""};
  orders.matches = false;
  orders.problem = "rows: 1 missing on the target";
  orders.method = "primary key (id)";
  orders.key_columns = {"id"};
  orders.differences.missing_on_target = 1;
  first.tables.push_back(orders);
  first.mismatches = 1;
  ValidationReport second;
  orders.matches = true;
  orders.problem.clear();
  orders.target->rows = 50000;
  orders.differences = {};
  orders.left_out_columns = {"rv (rowversion: the target generates its own)"};
  orders.compared = "equal at the validation of 2026-12-02T15:05:00Z, unchanged since by the source's log";
  second.tables.push_back(orders);
  const std::vector<JournalEvent> events = {
      event(1, 300, "validate", report_records::validation, report_records::validation_data(first, "validate")),
      event(2, 515, steps::cutover, report_records::validation, report_records::validation_data(second, "cutover")),
  };
  const auto r = build_migration_report(meta(), migrated(), events);
  ASSERT_EQ(r.validations.size(), 2u);
  EXPECT_EQ(r.validations[0].run_by, "validate");
  EXPECT_FALSE(r.validations[0].ok);
  EXPECT_EQ(r.validations[0].mismatches, 1);
  ASSERT_EQ(r.validations[0].tables.size(), 1u);
  const auto& t0 = r.validations[0].tables[0];
  EXPECT_EQ(t0.table, "dbo.Orders");
  EXPECT_EQ(t0.method, "primary key (id)");
  EXPECT_EQ(t0.source_rows, 50000);
  EXPECT_EQ(t0.target_rows, 49999);
  EXPECT_EQ(t0.missing_on_target, 1);
  EXPECT_EQ(t0.problem, "rows: 1 missing on the target");
  const auto& latest = r.validations.back();
  EXPECT_EQ(latest.run_by, "cutover");
  EXPECT_EQ(latest.at, at(515));
  EXPECT_TRUE(latest.ok);
  EXPECT_TRUE(t0.compared.empty());
  EXPECT_EQ(latest.tables[0].compared,
            "equal at the validation of 2026-12-02T15:05:00Z, unchanged since by the source's log");
  EXPECT_EQ(latest.tables[0].left_out_columns,
            std::vector<std::string>{"rv (rowversion: the target generates its own)"});
}

TEST(MigrationReportTest, ADrainWithoutTheMarkerAndASchemaGapAreWarnings) {
  auto records = migrated();
  records.back().outputs["drain_proven_by_marker"] = false;
  records.back().outputs["schema_ok"] = false;
  const auto r = build_migration_report(meta(), records, {});
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].message.find("judged from CloudWatch latency"), std::string::npos);
  EXPECT_NE(r.warnings[1].message.find("schema comparison"), std::string::npos);
  EXPECT_NE(row(r, "cutover: drain")->title.find("no marker table"), std::string::npos);
}

TEST(MigrationReportTest, ADamagedRecordShowsAsAbsentInsteadOfThrowing) {
  // Given outputs of the wrong types (a hand-edited journal), the report is still built.
  std::vector<StepRecord> records = {
      done_step(steps::backup, 0, 10, {{"file_identity", "not a list"}}),
      done_step(steps::capture_lsn, 10, 11, {{"start_lsn", 42}, {"open_transactions", {{"name", 7}}}}),
      done_step(steps::cutover, 20, 30, {{"drain_seconds", "eight"}}),
  };
  records[2].outputs = nlohmann::json::array();  // not even an object
  const std::vector<JournalEvent> events = {event(1, 5, steps::replicate, report_records::lag_sample, "garbage"),
                                            event(2, 6, "validate", report_records::validation, {{"tables", 3}})};
  MigrationReport r;
  ASSERT_NO_THROW(r = build_migration_report(meta(), records, events));
  EXPECT_FALSE(r.start_lsn.known);
  EXPECT_EQ(r.throughput[0].bytes, 0u);
  EXPECT_FALSE(r.throughput[0].mb_per_s);
  EXPECT_FALSE(r.downtime.total_s);
  ASSERT_EQ(r.lag.size(), 1u);
  EXPECT_FALSE(r.lag[0].target_s);
  ASSERT_EQ(r.validations.size(), 1u);
  EXPECT_TRUE(r.validations[0].tables.empty());
}

TEST(MigrationReportTest, NotCarriedNamesLoginsAgentJobsAndLinkedServersWithTheCommandThatHandlesEach) {
  const auto r = build_migration_report(meta(), {}, {});
  EXPECT_EQ(r.state, "not cut over yet: nothing has run");
  ASSERT_EQ(r.not_carried.size(), 3u);
  EXPECT_NE(r.not_carried[0].find("mssql2rds logins --yes"), std::string::npos);
  EXPECT_NE(r.not_carried[1].find("check --script-jobs"), std::string::npos);
  EXPECT_NE(r.not_carried[2].find("linked servers"), std::string::npos);
  EXPECT_TRUE(r.logins_carried.empty());
}

TEST(MigrationReportTest, LoginsCarriedAndTheSourceLockComeFromTheirEvents) {
  const std::vector<JournalEvent> events = {
      event(1, 100, "logins", "login_carried", {{"login", "sales_app"}, {"user", ""}, {"role", ""}, {"action", "create_login"}}),
      event(2, 101, "logins", "login_carried", {{"login", "sales_app"}, {"user", "sales_app"}, {"role", ""}, {"action", "remap_user"}}),
      event(3, 200, steps::cutover, "source_locked",
            {{"database", "Sales"}, {"previous_access", "MULTI_USER"}, {"statement", "ALTER DATABASE [Sales] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE"}, {"login", "sa"}}),
  };
  auto records = migrated();
  for (auto& rec : records)
    if (rec.name == steps::cutover) rec.outputs["lock_seconds"] = 0.25;
  const auto r = build_migration_report(meta(), records, events);
  ASSERT_EQ(r.logins_carried.size(), 2u);
  EXPECT_EQ(r.logins_carried[0].action, "create_login");
  EXPECT_EQ(r.logins_carried[1].user, "sales_app");
  ASSERT_EQ(r.source_locks.size(), 1u);
  EXPECT_TRUE(r.source_locks[0].locked);
  EXPECT_EQ(r.source_locks[0].previous_access, "MULTI_USER");
  ASSERT_TRUE(r.downtime.lock_s);
  EXPECT_EQ(*r.downtime.lock_s, 0.25);
  bool lock_part = false;
  for (const auto& s : r.timeline) lock_part = lock_part || s.name == "cutover: source lock";
  EXPECT_TRUE(lock_part);
  const auto j = to_json(r);
  EXPECT_EQ(j["logins_carried"].size(), 2u);
  EXPECT_EQ(j["source_locks"][0]["locked"], true);
  EXPECT_EQ(j["downtime"]["lock_s"], 0.25);
}

TEST(MigrationReportTest, JsonCarriesTheSameContent) {
  const std::vector<JournalEvent> events = {
      event(1, 100, steps::replicate, report_records::lag_sample,
            report_records::lag_sample_data(std::nullopt, 7.0, "status")),
  };
  const auto j = to_json(build_migration_report(meta(), migrated(), events));
  EXPECT_EQ(j["migration"], "sales");
  EXPECT_EQ(j["generated_at"], "2026-12-02 15:16:40.000Z");
  EXPECT_EQ(j["cut_over"], true);
  EXPECT_EQ(j["timeline"].size(), 13u);
  EXPECT_EQ(j["timeline"][0]["step"], "backup");
  EXPECT_EQ(j["timeline"][0]["started_at"], "2026-12-02 15:00:00.000Z");
  EXPECT_EQ(j["timeline"][0]["seconds"], 10.0);
  EXPECT_EQ(j["throughput"][1]["mb_per_s"], 50.0);
  EXPECT_EQ(j["start_lsn"]["binary"], "0x0000002500000B8F0004");
  EXPECT_TRUE(j["cdc_lag"][0]["source_s"].is_null());
  EXPECT_EQ(j["cdc_lag"][0]["target_s"], 7.0);
  EXPECT_EQ(j["downtime"]["validation_s"], 6.0);
  EXPECT_EQ(j["not_carried"].size(), 3u);
}

TEST(MigrationReportTest, DurationsTimesAndBytesReadAsAPersonWritesThem) {
  EXPECT_EQ(report_duration(0.85), "850 ms");
  EXPECT_EQ(report_duration(42), "42.0 s");
  EXPECT_EQ(report_duration(192), "3 min 12 s");
  EXPECT_EQ(report_duration(3720), "1 h 02 min");
  EXPECT_EQ(report_duration(-1), "-");
  EXPECT_EQ(report_time(at(0.042)), "2026-12-02 15:00:00.042Z");
  EXPECT_EQ(report_bytes(512), "512 bytes");
  EXPECT_EQ(report_bytes(12300000), "12.3 MB");
  EXPECT_EQ(report_bytes(1500000000), "1.50 GB");
}
