// The backup step's live progress: a second session polls sys.dm_exec_requests while BACKUP
// runs (FreeTDS hands the 3211 messages over only at the end), the messages still count, the
// reported fraction never goes backwards, and a polling problem is a single warning.
#include "migrate/backup_step.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "fakes/fake_sql_session.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"
#include "support/wait_until.hpp"

using namespace m2r;
using namespace std::chrono_literals;

namespace {

MigrationConfig sample() {
  MigrationConfig c;
  c.name = "m";
  c.source.database = "Sales";
  c.source.backup_dir_server = "/var/opt/mssql/backup";
  c.source.backup_dir_local = "/mnt/b";
  c.s3.bucket = "bkt";
  c.target.database = "Sales";
  c.target.rds_instance = "rds1";
  c.dms.task_id = "m-cdc";
  return c;
}

mssql::SessionOpener opener_of(std::shared_ptr<mssql::FakeSqlSession> fake) {
  return [fake]() -> Expected<std::unique_ptr<mssql::SqlSession>> {
    return std::make_unique<mssql::SharedFakeSession>(fake);
  };
}

// The main session as FreeTDS shows it: BACKUP runs `running` and every message arrives at the end.
mssql::FakeSqlSession& script_source(mssql::FakeSqlSession& source, std::chrono::milliseconds running) {
  source.on_rows("@@SPID", {"session_id"}, {{mssql::SqlValue(57)}});
  source.on_rows("msdb.dbo.backupset", {"backup_set_id"}, {});
  mssql::FakeResponse backup;
  backup.delay_before_messages = running;
  backup.messages = mssql::backup_progress_messages(5, "Sales");
  return source.on("BACKUP DATABASE", backup);
}

mssql::FakeResponse request_row(double percent, std::int64_t eta_ms) {
  mssql::FakeResponse r;
  mssql::ResultSet set;
  set.columns = {{"percent_complete", mssql::SqlType::real, "real"},
                 {"estimated_completion_time", mssql::SqlType::bigint, "bigint"},
                 {"total_elapsed_time", mssql::SqlType::int_, "int"},
                 {"command", mssql::SqlType::nvarchar, "nvarchar"}};
  set.rows = {{mssql::SqlValue(percent), mssql::SqlValue(eta_ms), mssql::SqlValue(1000), mssql::SqlValue("BACKUP DATABASE")}};
  r.result.result_sets.push_back(set);
  return r;
}

std::vector<Event> of_kind(const std::vector<Event>& events, EventKind kind) {
  std::vector<Event> out;
  for (const auto& e : events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

TEST(BackupStepTest, ProgressArrivesFromThePollsWhileBackupRunsAndNeverGoesBackwards) {
  // Given a BACKUP whose 3211 messages arrive only at its end, and a second session whose
  // polls of sys.dm_exec_requests answer 12.5, 40, 30 (a stale read) and 75 percent, the step
  // should report the polled values while BACKUP runs, before any message, never going
  // backwards, and finish at 100% from the messages.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  script_source(source, 800ms);
  auto monitor = std::make_shared<mssql::FakeSqlSession>();
  for (auto [pct, eta] : {std::pair{12.5, 7000}, {40.0, 3000}, {30.0, 4000}, {75.0, 600}}) {
    monitor->on("sys.dm_exec_requests", request_row(pct, eta));
  }

  auto r = run_backup_step(ctx, source, sample(), "20261125T101500", opener_of(monitor), {.poll_interval = 20ms});
  ASSERT_TRUE(r) << r.error().message;

  const auto progress = of_kind(events.events(), EventKind::progress);
  ASSERT_GE(progress.size(), 4u);
  // Polled values first: they arrived while the statement ran, before its first message.
  EXPECT_DOUBLE_EQ(*progress[0].fraction, 0.125);
  EXPECT_EQ(progress[0].message, "12.5 percent complete, about 7 s left");
  EXPECT_DOUBLE_EQ(*progress[1].fraction, 0.40);
  EXPECT_DOUBLE_EQ(*progress[2].fraction, 0.75);
  EXPECT_EQ(progress[3].message, "80 percent processed.");  // 5..75 from the messages are not news
  EXPECT_DOUBLE_EQ(*progress.back().fraction, 1.0);
  EXPECT_EQ(progress.back().message, "100 percent processed.");
  for (std::size_t i = 1; i < progress.size(); ++i) EXPECT_GT(*progress[i].fraction, *progress[i - 1].fraction) << i;
  EXPECT_TRUE(of_kind(events.events(), EventKind::warning).empty());

  // The polls asked about the backup's own session, typed as an int parameter.
  const auto polls = monitor->executed();
  ASSERT_GE(polls.size(), 4u);
  ASSERT_EQ(polls[0].params.size(), 1u);
  EXPECT_EQ(polls[0].params[0].type, mssql::ParamType::int32);
  EXPECT_EQ(polls[0].params[0].value, mssql::SqlValue(57));
}

TEST(BackupStepTest, ADeniedPollWarnsOnceAndTheMessagesStillGiveProgress) {
  // Given a login without VIEW SERVER STATE (the poll fails), the step should warn once,
  // stop polling, and still report every 3211 message and succeed.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  script_source(source, 300ms);
  auto monitor = std::make_shared<mssql::FakeSqlSession>();
  monitor->on_error("sys.dm_exec_requests",
                    Error(ErrorKind::prerequisite, "SQL Server error 300 (severity 14, state 1): VIEW SERVER STATE "
                                                   "permission was denied on object 'server', database 'master'."));

  auto r = run_backup_step(ctx, source, sample(), "20261125T101500", opener_of(monitor), {.poll_interval = 20ms});
  ASSERT_TRUE(r) << r.error().message;

  const auto warnings = of_kind(events.events(), EventKind::warning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].message.find("VIEW SERVER STATE"), std::string::npos) << warnings[0].message;
  EXPECT_EQ(monitor->executed().size(), 1u);
  const auto progress = of_kind(events.events(), EventKind::progress);
  ASSERT_EQ(progress.size(), 20u);
  EXPECT_EQ(progress.front().message, "5 percent processed.");
  EXPECT_DOUBLE_EQ(*progress.back().fraction, 1.0);
}

TEST(BackupStepTest, NoSecondSessionIsAWarningNotAFailure) {
  // Given that the second connection cannot be opened, the backup should still run and
  // report progress from its messages.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  script_source(source, 0ms);
  mssql::SessionOpener refuse = []() -> Expected<std::unique_ptr<mssql::SqlSession>> {
    return fail(ErrorKind::retryable, "connection refused by 127.0.0.1:1433");
  };

  auto r = run_backup_step(ctx, source, sample(), "20261125T101500", refuse);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(of_kind(events.events(), EventKind::warning).size(), 1u);
  EXPECT_EQ(of_kind(events.events(), EventKind::progress).size(), 20u);
}

TEST(BackupStepTest, APollInFlightIsCancelledWhenTheBackupEnds) {
  // Given a poll that hangs (10 s), the step should not wait for it once BACKUP has ended:
  // the poller cancels it and the step returns long before the poll would have.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  script_source(source, 200ms);
  auto monitor = std::make_shared<mssql::FakeSqlSession>();
  auto stuck = request_row(50, 0);
  stuck.delay_before_messages = 10s;
  stuck.messages = {mssql::info_message(0, "never")};
  monitor->on("sys.dm_exec_requests", stuck);

  const auto start = std::chrono::steady_clock::now();
  auto r = run_backup_step(ctx, source, sample(), "20261125T101500", opener_of(monitor), {.poll_interval = 20ms});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(took, 5s);
  EXPECT_GE(monitor->cancel_calls(), 1);
  EXPECT_TRUE(of_kind(events.events(), EventKind::warning).empty()) << "a cancelled poll is not a failure";
}

TEST(BackupStepTest, ACancelledBackupStopsThePoller) {
  // Given a BACKUP cancelled from another thread (Ctrl-C), the step should fail with the
  // cancellation and the poller should stop with it.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  script_source(source, 10s);
  auto monitor = std::make_shared<mssql::FakeSqlSession>();
  monitor->on("sys.dm_exec_requests", request_row(20, 4000));
  std::thread canceller([&] {
    // Cancel once BACKUP runs and the poller has looked at it.
    EXPECT_TRUE(m2r::test::wait_until([&] {
      const auto sql = source.executed_sql();
      return !monitor->executed().empty() &&
             std::any_of(sql.begin(), sql.end(), [](const std::string& s) { return s.find("BACKUP DATABASE") != std::string::npos; });
    }));
    source.cancel();
  });

  const auto start = std::chrono::steady_clock::now();
  auto r = run_backup_step(ctx, source, sample(), "20261125T101500", opener_of(monitor), {.poll_interval = 20ms});
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cancelled"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 5s);
  const auto polls_at_end = monitor->executed().size();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(monitor->executed().size(), polls_at_end) << "the poller kept polling after the step returned";
}

}  // namespace
