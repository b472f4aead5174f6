// How the migrate layer reacts to a stop request (SIGINT / SIGTERM in the CLI) and to a
// damaged journal: stopped at a safe point with ErrorKind::interrupted and resumable, or a
// named error; never an exception out of a step.
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/interrupt.hpp"
#include "migrate/backup_step.hpp"
#include "fakes/fake_object_store.hpp"
#include "fakes/fake_sql_session.hpp"
#include "migrate/step_runner.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/upload_engine.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"
#include "fakes/memory_file_reader.hpp"

namespace m2r {
namespace {

std::string pseudo_random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

UploadRequest four_part_request(const StopSignal* stop) {
  UploadRequest r;
  r.bucket = "backups";
  r.key = "db/full.bak";
  r.connections = 1;  // one part at a time: "stopped during part 3" is exact
  r.part_size = 5 * k_mib;
  r.backoff_base = std::chrono::milliseconds(1);
  r.backoff_cap = std::chrono::milliseconds(5);
  r.stop = stop;
  return r;
}

TEST(UploadInterruptTest, AStopMidUploadCancelsThePartInFlightAndAResumeCompletesTheSameUpload) {
  // Given a four-part upload asked to stop while part 3 is being sent, the upload should stop
  // with ErrorKind::interrupted, part 3 cancelled in flight (never stored), parts 1-2 journaled,
  // and a later attempt should continue the same upload id, reusing 1-2 and sending only 3-4.
  const std::string content = pseudo_random_bytes(18 * k_mib, 7);
  MemoryFileReader file(content);
  FakeObjectStore store;
  MemoryJournal journal;
  NullUploadObserver observer;
  ASSERT_TRUE(journal.begin_step("upload", {}));
  StopSignal stop;
  store.before_upload_part = [&](int part, int) -> Expected<void> {
    if (part == 3) stop.request();  // the user presses Ctrl-C while part 3 is on the wire
    return {};
  };
  auto first = upload_file(four_part_request(&stop), store, file, journal, observer);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::interrupted) << first.error().message;
  EXPECT_NE(first.error().message.find("2 part(s) on S3 and in the journal"), std::string::npos)
      << first.error().message;
  EXPECT_EQ(store.parts_uploaded(), (std::vector<int>{1, 2}));
  EXPECT_EQ(store.upload_part_calls(), 3);  // part 4 never started
  ASSERT_EQ(store.upload_ids().size(), 1U);
  const std::string upload_id = store.upload_ids().front();
  EXPECT_EQ(journal.parts(upload_id)->size(), 2U);
  EXPECT_EQ(store.completes(), 0);

  store.before_upload_part = nullptr;
  StopSignal fresh;
  auto second = upload_file(four_part_request(&fresh), store, file, journal, observer);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->upload_id, upload_id);
  EXPECT_EQ(second->parts_reused, 2);
  EXPECT_EQ(second->parts_sent, 2);
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
}

TEST(UploadInterruptTest, AStopBeforeTheUploadStartsSendsNothing) {
  // Given a stop already requested, the upload should create nothing new on the wire but the
  // upload id, send no part and report interrupted.
  const std::string content = pseudo_random_bytes(11 * k_mib, 3);
  MemoryFileReader file(content);
  FakeObjectStore store;
  MemoryJournal journal;
  NullUploadObserver observer;
  ASSERT_TRUE(journal.begin_step("upload", {}));
  StopSignal stop;
  stop.request();
  auto r = upload_file(four_part_request(&stop), store, file, journal, observer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::interrupted);
  EXPECT_TRUE(store.parts_uploaded().empty());
}

TEST(BackupInterruptTest, AStopCancelsTheRunningBackupStatement) {
  // Given BACKUP running (scripted to take an hour), a stop request should cancel the statement
  // on its session, and the step should end with an error at once rather than after the hour.
  MemoryJournal journal;
  ASSERT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink events;
  StepContext ctx(journal, events, "backup", nlohmann::json::object(), nlohmann::json::object());
  StopSignal stop;
  ctx.set_stop(&stop);
  mssql::FakeSqlSession source;
  source.on_rows("msdb.dbo.backupset", {"backup_set_id"}, {});
  mssql::FakeResponse backup;
  backup.delay_before_messages = std::chrono::hours(1);
  source.on("BACKUP DATABASE", backup);
  MigrationConfig config;
  config.name = "m";
  config.source.database = "Sales";
  config.source.backup_dir_server = "/var/opt/mssql/backup";
  config.source.backup_dir_local = "/mnt/b";
  config.s3.bucket = "bkt";
  std::thread user([&] {
    for (int i = 0; i < 3000; ++i) {  // deadline 30 s: until BACKUP has started
      const auto sql = source.executed_sql();
      if (!sql.empty() && sql.back().find("BACKUP DATABASE") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop.request();
  });
  auto r = run_backup_step(ctx, source, config, "20261202T010000", nullptr, {});
  user.join();
  ASSERT_FALSE(r);
  EXPECT_GE(source.cancel_calls(), 1);
}

TEST(DamagedJournalTest, ACutoverReadingAHandEditedTargetPrepRecordNamesTheKeyAndRunsNothing) {
  // Given the prepare_target record's trigger list edited so that a schema is a number, the
  // cutover's re-enabling should fail as journal_damaged before any statement runs.
  mssql::FakeSqlSession target;
  RecordingEventSink events;
  const nlohmann::json prep = {{"triggers", {{{"schema", 1}, {"table", "Orders"}, {"name", "trg"}}}},
                               {"foreign_keys", nlohmann::json::array()}};
  ReenableProgress progress;
  auto r = restore_target_objects(target, prep, events, progress);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::journal_damaged);
  EXPECT_NE(r.error().message.find("step 'prepare_target': \"schema\" should be a string, found a number (1)"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(target.executed_sql().empty());
  const auto not_a_list = restore_target_objects(target, {{"triggers", "trg"}}, events, progress);
  ASSERT_FALSE(not_a_list);
  EXPECT_EQ(not_a_list.error().kind, ErrorKind::journal_damaged);
}

StepDefinition recording_step(const std::string& name, std::vector<std::string>& ran,
                              std::function<Expected<nlohmann::json>(StepContext&)> body = nullptr) {
  return {name, name, [name, &ran, body](StepContext& ctx) -> Expected<nlohmann::json> {
            ran.push_back(name);
            if (body) return body(ctx);
            return nlohmann::json{{"ok", true}};
          }};
}

TEST(StepRunnerInterruptTest, AStopDuringAStepEndsTheRunBeforeTheNextAndTheStepResumes) {
  // Given a stop requested while step b runs (b returns when its wait ends early), the runner
  // should record b as failed with "interrupted", not start c, return ErrorKind::interrupted,
  // and a second run should skip a and resume b with what b recorded.
  MemoryJournal journal;
  RecordingEventSink events;
  StopSignal stop;
  std::vector<std::string> ran;
  const std::vector<StepDefinition> steps = {
      recording_step("a", ran),
      recording_step("b", ran,
                     [&](StepContext& ctx) -> Expected<nlohmann::json> {
                       if (ctx.partial().contains("waited")) return nlohmann::json{{"done", true}};
                       M2R_TRY(ctx.record({{"waited", true}}));
                       stop.request();  // Ctrl-C while b waits on something outside
                       if (sleep_or_stop(ctx.stop(), std::chrono::hours(1))) {
                         return fail(ErrorKind::retryable, "the wait was cut short");
                       }
                       return nlohmann::json::object();
                     }),
      recording_step("c", ran),
  };
  auto first = run_steps(steps, journal, events, {}, &stop);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::interrupted);
  EXPECT_NE(first.error().message.find("step 'b' stopped at a safe point"), std::string::npos)
      << first.error().message;
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(journal.step("b")->value().status, StepStatus::failed);
  EXPECT_FALSE(journal.step("c")->has_value());

  StopSignal fresh;
  ran.clear();
  ASSERT_TRUE(run_steps(steps, journal, events, {}, &fresh));
  EXPECT_EQ(ran, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(journal.step("b")->value().outputs["done"], true);
}

TEST(StepRunnerInterruptTest, AStopBetweenStepsStartsNoFurtherStep) {
  // Given a stop requested as step a finishes, step b should never begin.
  MemoryJournal journal;
  RecordingEventSink events;
  StopSignal stop;
  std::vector<std::string> ran;
  const std::vector<StepDefinition> steps = {
      recording_step("a", ran, [&](StepContext&) -> Expected<nlohmann::json> {
        stop.request();
        return nlohmann::json::object();
      }),
      recording_step("b", ran),
  };
  auto r = run_steps(steps, journal, events, {}, &stop);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::interrupted);
  EXPECT_NE(r.error().message.find("before step 'b'"), std::string::npos);
  EXPECT_EQ(journal.step("a")->value().status, StepStatus::done);
  EXPECT_FALSE(journal.step("b")->has_value());
}

TEST(StepRunnerInterruptTest, AStepThatThrowsOnADamagedRecordIsANamedErrorNotAnException) {
  // Given a journal whose record of an earlier step was hand-edited to a wrong type, a step that
  // still reads it with nlohmann's throwing accessors should end as journal_damaged, recorded.
  MemoryJournal journal;
  RecordingEventSink events;
  ASSERT_TRUE(journal.begin_step("a", {}));
  ASSERT_TRUE(journal.finish_step("a", {{"files", 42}}));
  std::vector<std::string> ran;
  const std::vector<StepDefinition> steps = {
      recording_step("a", ran),
      recording_step("b", ran, [](StepContext& ctx) -> Expected<nlohmann::json> {
        return nlohmann::json{{"n", ctx.outputs_of("a")["files"].get<std::vector<std::string>>().size()}};
      }),
  };
  auto r = run_steps(steps, journal, events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::journal_damaged);
  EXPECT_NE(r.error().message.find("step 'b'"), std::string::npos) << r.error().message;
  EXPECT_EQ(journal.step("b")->value().status, StepStatus::failed);
}

}  // namespace
}  // namespace m2r
