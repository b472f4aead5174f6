// `status` against the fakes: the journal alone when no task exists yet, a task deleted
// (by `abort` or by someone else), no credentials, and a live task with its table
// statistics and the CDC latencies CloudWatch has for it (docs/facts.md §4).
#include "migrate/status.hpp"

#include <gtest/gtest.h>

#include "core/migration_report.hpp"
#include "migrate/support/fake_aws_world.hpp"

using namespace m2r;
using m2r::test::FakeAwsWorld;
using m2r::test::Migration;

namespace {

constexpr const char* k_task_arn = "arn:aws:dms:us-east-1:123456789012:task:ABCDEF123";

class StatusTest : public ::testing::Test {
 protected:
  Expected<StatusReport> status() { return migration_status(m.config, m.journal, m.connections.aws); }
  void replicating() { m.step_done("replicate", {{"task_arn", k_task_arn}, {"status", "running"}}); }
  Migration m;
};

}  // namespace

TEST_F(StatusTest, BeforeTheTaskExistsOnlyTheJournalIsRead) {
  m.step_done("backup", {{"stamp", "20261125T100000"}});
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(r->steps[0].name, "backup");
  EXPECT_EQ(r->steps[0].status, StepStatus::done);
  EXPECT_TRUE(r->task.is_null());
  EXPECT_TRUE(r->note.empty());
  EXPECT_EQ(m.http->request_count(), 0u);
}

TEST_F(StatusTest, ATaskThatNoLongerExistsIsSaid) {
  replicating();
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->note, std::string("the DMS task ") + k_task_arn + " no longer exists");
  EXPECT_TRUE(r->task.is_null());
  // Deleted outside the tool: nothing replicates, so status must not exit 0.
  ASSERT_TRUE(r->problem);
  EXPECT_EQ(r->problem->kind, ErrorKind::not_found);
  EXPECT_NE(r->problem->hint.find("mssql2rds run"), std::string::npos) << r->problem->hint;
}

TEST_F(StatusTest, AFailedTaskIsAProblemWithItsDiagnosis) {
  replicating();
  m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "failed");
  m.aws_world.tasks[k_task_arn]["LastFailureMessage"] =
      "[SOURCE_CAPTURE ]E: Failed to access LSN '0000dbd9:0006f9ad:0003' in the backup log sets since BACKUP/LOG-s are "
      "not available. [1020465]";
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->problem);
  EXPECT_NE(r->problem->message.find("failed"), std::string::npos) << r->problem->message;
}

TEST_F(StatusTest, ATaskDeletedByAbortIsSaidSo) {
  replicating();
  m.step_done("abort", {{"deleted_task", k_task_arn}});
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->note, "the DMS task was deleted by `mssql2rds abort`");
  EXPECT_FALSE(r->problem);  // the user asked for it
}

TEST_F(StatusTest, WithoutCredentialsTheJournalIsShownAndTheGapNamed) {
  replicating();
  auto r = migration_status(m.config, m.journal, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(r->note, "no AWS credentials: DMS status not read");
  EXPECT_EQ(m.http->request_count(), 0u);
}

TEST_F(StatusTest, ALiveTaskComesWithItsStatisticsAndLatencies) {
  replicating();
  m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "running");
  m.aws_world.table_statistics = {{FakeAwsWorld::table_stats("dbo.Orders", 120, 118)}};
  m.aws_world.latencies = {4.5};
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->note.empty()) << r->note;
  EXPECT_EQ(r->task.value("status", ""), "running");
  EXPECT_EQ(r->task.value("cdc_start_position", ""), "00000025:00000b8f:0004");
  ASSERT_EQ(r->tables.size(), 1u);
  EXPECT_EQ(r->tables[0].value("table", ""), "dbo.Orders");
  EXPECT_EQ(r->tables[0].value("inserts", 0), 120);
  EXPECT_EQ(r->tables[0].value("applied_inserts", 0), 118);
  EXPECT_EQ(r->latency_source_s, 4.5);
  EXPECT_EQ(r->latency_target_s, 4.5);
  // CloudWatch was asked for the task's resource id (from its ARN) on its instance's name,
  // over the 15 minutes before the (fake) clock's now.
  const auto requests = m.aws_world.metric_requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto dump = requests[0].dump();
  EXPECT_NE(dump.find("\"ABCDEF123\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"ri1\""), std::string::npos) << dump;
  EXPECT_EQ(requests[0].value("EndTime", ""), "2026-11-25T10:01:00Z");
}

TEST_F(StatusTest, ALiveTaskWithoutDatapointsHasNoLatency) {
  replicating();
  m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "running");
  auto r = status();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->latency_source_s);
  EXPECT_FALSE(r->latency_target_s);
  EXPECT_TRUE(r->tables.empty());
}

TEST_F(StatusTest, EachReadOfTheLatencyIsJournaledForTheReport) {
  // Given a live task read twice, once with datapoints and once without, the journal should
  // hold both reads for the report's chart, the second unknown (null), never 0 s.
  replicating();
  m.aws_world.tasks[k_task_arn] = FakeAwsWorld::task(k_task_arn, "sales-cdc", "running");
  m.aws_world.latencies = {4.5};
  ASSERT_TRUE(status());
  m.aws_world.latencies = {};
  ASSERT_TRUE(status());
  std::vector<JournalEvent> samples;
  const auto journaled = m.journal.events(0, 100).value();
  for (const auto& e : journaled) {
    if (e.kind == report_records::lag_sample) samples.push_back(e);
  }
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].data.value("target_s", -1.0), 4.5);
  EXPECT_EQ(samples[0].data.value("read_by", ""), "status");
  EXPECT_TRUE(samples[1].data["target_s"].is_null()) << samples[1].data.dump();
  EXPECT_TRUE(samples[1].data["source_s"].is_null()) << samples[1].data.dump();
}

namespace {

// A replicate step that chose limited mode, LobMaxSize 800 KB, from dbo.Docs.body at 400 KB.
nlohmann::json limited_800_kb() {
  return to_json(decide_lob_mode({{{{"dbo", "Docs"}, "body", "nvarchar"}, 400 * 1024}}));
}

}  // namespace

TEST_F(StatusTest, ALobThatGrewPastLobMaxSizeIsNamedWithItsFix) {
  // Given limited mode at 800 KB and dbo.Docs.body now 2.1 MB on the source, status should
  // re-measure that column only and name it, with its size, the limit and the fix.
  m.step_done("replicate", {{"lobs", limited_800_kb()}});
  m.source->on_count("SET LOCK_TIMEOUT", 0);
  m.source->on_rows("DATALENGTH", {"body"}, {{2202010}});
  auto r = migration_status(m.config, m.journal, m.connections.aws, m.connections.source);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->lob_notes.size(), 1u);
  EXPECT_NE(r->lob_notes[0].find("dbo.Docs.body: 2.1 MB on the source, over LobMaxSize 800 KB: values over it are "
                                 "truncated on the target; fix: "),
            std::string::npos)
      << r->lob_notes[0];
  EXPECT_EQ(r->lobs["lob_max_size_kb"], 800);
  ASSERT_EQ(m.source_ran("DATALENGTH").size(), 1u);
  EXPECT_EQ(m.source_ran("DATALENGTH")[0], "SELECT MAX(CONVERT(bigint, DATALENGTH([body]))) AS [body] FROM [dbo].[Docs]");
}

TEST_F(StatusTest, LobsWithinTheLimitOrInFullModeGiveNoNoteAndAnUnreachableSourceIsANote) {
  m.step_done("replicate", {{"lobs", limited_800_kb()}});
  m.source->on_count("SET LOCK_TIMEOUT", 0);
  m.source->on_rows("DATALENGTH", {"body"}, {{700 * 1024}});
  auto within = migration_status(m.config, m.journal, m.connections.aws, m.connections.source);
  ASSERT_TRUE(within) << within.error().message;
  EXPECT_TRUE(within->lob_notes.empty());

  m.source_unreachable = Error(ErrorKind::retryable, "cannot reach src.example:1433");
  auto unreachable = migration_status(m.config, m.journal, m.connections.aws, m.connections.source);
  ASSERT_TRUE(unreachable) << unreachable.error().message;
  EXPECT_TRUE(unreachable->lob_notes.empty());
  EXPECT_NE(unreachable->note.find("LOB sizes not re-measured: cannot reach src.example:1433"), std::string::npos)
      << unreachable->note;

  // Full mode carries every value: nothing to re-measure.
  m.source_unreachable.reset();
  MemoryJournal fresh;
  m.journal = fresh;
  m.step_done("replicate", {{"lobs", to_json(decide_lob_mode({{{{"dbo", "Docs"}, "body", "varbinary"},
                                                                 std::int64_t{80} * 1024 * 1024}}))}});
  const auto before = m.source_ran("DATALENGTH").size();
  auto full = migration_status(m.config, m.journal, m.connections.aws, m.connections.source);
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_TRUE(full->lob_notes.empty());
  EXPECT_EQ(m.source_ran("DATALENGTH").size(), before);
}
