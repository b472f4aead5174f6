#include "migrate/step_runner.hpp"

#include <gtest/gtest.h>

#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

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
