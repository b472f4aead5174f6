#include "migrate/step_runner.hpp"

#include <gtest/gtest.h>

#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

#include <map>

using namespace m2r;

TEST(StepRunnerTest, DoneStepsAreSkippedAndTheirOutputsPassedOn) {
  // Given a journal where the first step is done, a re-run should not run it again and the
  // second step should see its outputs.
  MemoryJournal journal;
  RecordingEventSink events;
  int first_runs = 0;
  std::string seen;
  std::vector<StepDefinition> steps = {
      {"a", "first", [&](StepContext&) -> Expected<nlohmann::json> { ++first_runs; return nlohmann::json{{"x", "42"}}; }},
      {"b", "second", [&](StepContext& c) -> Expected<nlohmann::json> {
         seen = c.outputs_of("a").value("x", "");
         return nlohmann::json::object();
       }}};
  ASSERT_TRUE(run_steps(steps, journal, events, "a"));
  EXPECT_EQ(journal.step("b").value(), std::nullopt);
  ASSERT_TRUE(run_steps(steps, journal, events));
  EXPECT_EQ(first_runs, 1);
  EXPECT_EQ(seen, "42");
  EXPECT_EQ(journal.step("b").value()->status, StepStatus::done);
}

TEST(StepRunnerTest, InterruptedStepResumesWithItsPartialOutputs) {
  // Given a step that recorded an upload id and then died, the next attempt should see it.
  MemoryJournal journal;
  RecordingEventSink events;
  ASSERT_TRUE(journal.begin_step("upload", {}));
  ASSERT_TRUE(journal.record_outputs("upload", {{"upload_id", "u-1"}}));
  std::string resumed_id;
  std::vector<StepDefinition> steps = {{"upload", "upload", [&](StepContext& c) -> Expected<nlohmann::json> {
                                          resumed_id = c.partial().value("upload_id", "");
                                          return nlohmann::json{{"etag", "e"}};
                                        }}};
  ASSERT_TRUE(run_steps(steps, journal, events));
  EXPECT_EQ(resumed_id, "u-1");
  const auto rec = journal.step("upload").value();
  EXPECT_EQ(rec->attempts, 2);
  EXPECT_EQ(rec->outputs["upload_id"], "u-1");
  EXPECT_EQ(rec->outputs["etag"], "e");
}

TEST(StepRunnerTest, FailureStopsTheRunAndIsJournaled) {
  MemoryJournal journal;
  RecordingEventSink events;
  bool later_ran = false;
  std::vector<StepDefinition> steps = {
      {"restore", "restore", [](StepContext&) -> Expected<nlohmann::json> {
         return fail(ErrorKind::prerequisite, "Access Denied", "fix the option group's role");
       }},
      {"replicate", "replicate", [&](StepContext&) -> Expected<nlohmann::json> { later_ran = true; return nlohmann::json::object(); }}};
  const auto r = run_steps(steps, journal, events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().hint, "fix the option group's role");
  EXPECT_FALSE(later_ran);
  EXPECT_EQ(journal.step("restore").value()->status, StepStatus::failed);
  EXPECT_EQ(journal.step("restore").value()->error, "Access Denied");
}

namespace {

// Three steps whose inputs are the values a test sets; each counts its runs.
struct InputSteps {
  std::map<std::string, int> runs;
  std::vector<StepDefinition> make(const nlohmann::json& a, const nlohmann::json& b, const nlohmann::json& c) {
    std::vector<StepDefinition> steps;
    for (const auto& [name, inputs] : {std::pair{"backup", a}, std::pair{"upload", b}, std::pair{"restore", c}}) {
      StepDefinition d{name, name, [this, n = std::string(name)](StepContext& ctx) -> Expected<nlohmann::json> {
                         ++runs[n];
                         return nlohmann::json{{"ran", runs[n]}, {"resumed_with", ctx.partial()}};
                       }};
      d.inputs = inputs;
      steps.push_back(d);
    }
    return steps;
  }
};

}  // namespace

TEST(StepRunnerConfigTest, EachStepRecordsTheConfigurationItDependsOn) {
  MemoryJournal journal;
  RecordingEventSink events;
  InputSteps s;
  const auto steps = s.make({{"[source] database", "Sales"}}, {{"[s3] bucket", "b1"}}, {{"[target] database", "T"}});
  ASSERT_TRUE(run_steps(steps, journal, events));
  EXPECT_EQ(journal.step("upload").value()->inputs, (nlohmann::json{{"[s3] bucket", "b1"}}));
}

TEST(StepRunnerConfigTest, AChangedValueADoneStepDependsOnIsRefusedNamingTheKeyTheStepsAndTheRedo) {
  // Given backup and upload done with bucket b1, a resume with bucket b2 should refuse with
  // exit code 12 before running anything, naming the key, both values, every step it
  // invalidates and the --redo-from that accepts it.
  MemoryJournal journal;
  RecordingEventSink events;
  InputSteps s;
  ASSERT_TRUE(run_steps(s.make({{"db", "Sales"}}, {{"[s3] bucket", "b1"}}, {{"t", "T"}}), journal, events, "upload"));
  const auto changed = s.make({{"db", "Sales"}}, {{"[s3] bucket", "b2"}}, {{"t", "T"}});
  const auto r = check_resume(changed, journal, "", "mssql2rds run");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::config_changed);
  EXPECT_EQ(exit_code_for(r.error().kind), 12);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("[s3] bucket: \"b1\" -> \"b2\" (step upload)"), std::string::npos) << m;
  EXPECT_NE(m.find("invalidates step(s) upload, restore"), std::string::npos) << m;
  EXPECT_NE(r.error().hint.find("mssql2rds run --redo-from upload"), std::string::npos) << r.error().hint;
  EXPECT_EQ(journal.step("upload").value()->status, StepStatus::done);  // nothing changed
}

TEST(StepRunnerConfigTest, ValuesNoDoneStepDependsOnAreAccepted) {
  // Given only the backup done, a changed bucket (the upload's input) changes nothing done.
  MemoryJournal journal;
  RecordingEventSink events;
  InputSteps s;
  ASSERT_TRUE(run_steps(s.make({{"db", "Sales"}}, {{"[s3] bucket", "b1"}}, {{"t", "T"}}), journal, events, "backup"));
  const auto changed = s.make({{"db", "Sales"}}, {{"[s3] bucket", "b2"}}, {{"t", "T"}});
  ASSERT_TRUE(check_resume(changed, journal, "", "mssql2rds run"));
  ASSERT_TRUE(run_steps(changed, journal, events));
  EXPECT_EQ(journal.step("upload").value()->inputs["[s3] bucket"], "b2");
  EXPECT_EQ(s.runs["backup"], 1);
}

TEST(StepRunnerConfigTest, RedoFromTheInvalidatedStepRunsItAndEveryLaterStepAgainFromNothing) {
  // Given backup, upload and restore done with bucket b1, `--redo-from upload` with bucket b2
  // should keep the backup, and run upload and restore again with no partial outputs of the
  // old attempt (their records kept as step_restarted events), sub-steps included.
  MemoryJournal journal;
  RecordingEventSink events;
  InputSteps s;
  ASSERT_TRUE(run_steps(s.make({{"db", "Sales"}}, {{"[s3] bucket", "b1"}}, {{"t", "T"}}), journal, events));
  ASSERT_TRUE(journal.begin_step("upload/1", {}));
  ASSERT_TRUE(journal.finish_step("upload/1", {{"object", {{"bucket", "b1"}}}}));
  const auto changed = s.make({{"db", "Sales"}}, {{"[s3] bucket", "b2"}}, {{"t", "T"}});
  ASSERT_TRUE(check_resume(changed, journal, "upload", "mssql2rds run"));
  ASSERT_TRUE(restart_from(changed, journal, "upload"));
  EXPECT_EQ(journal.step("upload/1").value()->status, StepStatus::pending);
  EXPECT_TRUE(journal.step("upload/1").value()->outputs.empty());
  ASSERT_TRUE(run_steps(changed, journal, events));
  EXPECT_EQ(s.runs["backup"], 1);
  EXPECT_EQ(s.runs["upload"], 2);
  EXPECT_EQ(s.runs["restore"], 2);
  const auto upload = journal.step("upload").value();
  EXPECT_EQ(upload->inputs["[s3] bucket"], "b2");
  EXPECT_TRUE(upload->outputs["resumed_with"].empty());  // started from nothing
  int restarted = 0;
  const auto events_logged = journal.events(0, 1000).value();
  for (const auto& e : events_logged) {
    if (e.kind == "step_restarted") {
      ++restarted;
      if (e.step == "upload") {
        EXPECT_EQ(e.data["inputs"]["[s3] bucket"], "b1");
        EXPECT_EQ(e.data["outputs"]["ran"], 1);
      }
    }
  }
  EXPECT_EQ(restarted, 3);  // upload, upload/1, restore
}

TEST(StepRunnerConfigTest, ARedoFromAfterTheChangedStepIsStillRefused) {
  // Given the bucket changed under a done upload, redoing only from restore would restore an
  // object the new configuration does not name: refused, naming --redo-from upload.
  MemoryJournal journal;
  RecordingEventSink events;
  InputSteps s;
  ASSERT_TRUE(run_steps(s.make({{"db", "Sales"}}, {{"[s3] bucket", "b1"}}, {{"t", "T"}}), journal, events));
  const auto changed = s.make({{"db", "Sales"}}, {{"[s3] bucket", "b2"}}, {{"t", "T"}});
  const auto r = check_resume(changed, journal, "restore", "mssql2rds run");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().hint.find("--redo-from upload"), std::string::npos);
  const auto bad = check_resume(changed, journal, "nosuchstep", "mssql2rds run");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
}

TEST(StepRunnerConfigTest, AJournalFromBeforeInputsWereRecordedIsNotJudged) {
  MemoryJournal journal;
  RecordingEventSink events;
  ASSERT_TRUE(journal.begin_step("upload", {}));
  ASSERT_TRUE(journal.finish_step("upload", {}));
  InputSteps s;
  ASSERT_TRUE(check_resume(s.make({{"db", "x"}}, {{"[s3] bucket", "b2"}}, {{"t", "T"}}), journal, "", "mssql2rds run"));
}
