#include "migrate/replicate_step.hpp"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "fakes/fake_http_transport.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_clock.hpp"

using namespace m2r;
using nlohmann::json;

namespace {

class ReplicateStepTest : public ::testing::Test {
 protected:
  ReplicateStepTest() {
    m_http->set_handler([this](const aws::RecordedRequest& r) -> Expected<aws::HttpResponse> { return m_dms.answer(r); });
    m_ctx = aws::AwsContext::for_endpoint({"AKIDEXAMPLE", "secret", "", {}, "test"}, "us-east-1", "http://dms.test",
                                          m_http, m_clock);
    m_inputs.task_id = "sales-cdc";
    m_inputs.arns = {"arn:ri", "arn:src", "arn:tgt"};
    m_inputs.table_mappings = R"({"rules":[]})";
    m_inputs.start = Lsn(0x25, 0xb8f, 4);
    m_inputs.poll = std::chrono::milliseconds(1000);
    m_inputs.timeout = std::chrono::seconds(600);
    m_inputs.clock = m_clock;  // the polls take no real time
  }
  Expected<json> run() {
    aws::DmsClient dms(m_ctx);
    auto rec = m_journal.step("replicate").value();
    if (!rec || rec->status != StepStatus::running) {
      EXPECT_TRUE(m_journal.begin_step("replicate", {}));
    }
    StepContext ctx(m_journal, m_events, "replicate", m_journal.step("replicate").value()->outputs, json::object());
    return run_replicate_step(ctx, dms, m_inputs);
  }
  std::shared_ptr<aws::FakeHttpTransport> m_http = std::make_shared<aws::FakeHttpTransport>();
  std::shared_ptr<aws::FakeClock> m_clock = std::make_shared<aws::FakeClock>(std::chrono::system_clock::time_point{});
  test::FakeAwsWorld m_dms;
  aws::AwsContext m_ctx;
  MemoryJournal m_journal;
  RecordingEventSink m_events;
  ReplicateInputs m_inputs;
};

}  // namespace

TEST_F(ReplicateStepTest, CreatesOneCdcTaskFromTheHexStartAndStartsIt) {
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(m_dms.count("dms:CreateReplicationTask"), 1);
  EXPECT_EQ(m_dms.count("dms:StartReplicationTask"), 1);
  EXPECT_EQ((*out)["status"], "running");
  const auto& task = m_dms.tasks.begin()->second;
  EXPECT_EQ(task["CdcStartPosition"], "00000025:00000b8f:0004");
  EXPECT_EQ(task["MigrationType"], "cdc");
  EXPECT_EQ(m_journal.step("replicate").value()->outputs["task_arn"], task["ReplicationTaskArn"]);
}

TEST_F(ReplicateStepTest, KillAfterCreateAdoptsTheTaskInsteadOfCreatingASecond) {
  // Given a task created by an attempt that died before journaling it, the re-run should adopt it.
  ASSERT_TRUE(run());
  m_dms.tasks.begin()->second["Status"] = "ready";
  ASSERT_TRUE(m_journal.reset_step("replicate"));
  MemoryJournal fresh;  // the journal never saw the ARN
  m_journal = fresh;
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(m_dms.count("dms:CreateReplicationTask"), 1);
  EXPECT_EQ(m_dms.tasks.size(), 1u);
}

TEST_F(ReplicateStepTest, ForeignTaskWithTheSameNameIsRefused) {
  m_dms.tasks["arn:other"] = {{"ReplicationTaskArn", "arn:other"}, {"ReplicationTaskIdentifier", "sales-cdc"},
                              {"Status", "ready"}, {"MigrationType", "full-load"}, {"SourceEndpointArn", "arn:x"},
                              {"TargetEndpointArn", "arn:y"}};
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::conflict);
  EXPECT_EQ(m_dms.count("dms:CreateReplicationTask"), 0);
}

TEST_F(ReplicateStepTest, TruncatedLogFailureIsDiagnosed) {
  m_dms.start_fails_with = "[SOURCE_CAPTURE ]E: Failed to access LSN '00000025:00000b8f:0004' in the backup log sets since "
                    "BACKUP/LOG-s are not available. [1020465]";
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("no longer in the active log"), std::string::npos) << out.error().message;
  EXPECT_FALSE(out.error().hint.empty());
}

TEST_F(ReplicateStepTest, TheTaskGetsTheDecidedLobModeAndAFailedMeasurementCreatesNothing) {
  // Given a measurement that fails (a lock timeout naming the table), no task should be created
  // and nothing recorded; given one that decides full mode, the task's TargetMetadata should say
  // FullLobMode and the journal should keep the decision.
  m_inputs.decide_lobs = []() -> Expected<LobDecision> {
    return fail(ErrorKind::timeout, "the LOB measurement of dbo.Docs waited longer than the lock timeout");
  };
  auto failed = run();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("dbo.Docs"), std::string::npos);
  EXPECT_EQ(m_dms.count("dms:CreateReplicationTask"), 0);
  EXPECT_FALSE(m_journal.step("replicate").value()->outputs.contains("lobs"));

  m_inputs.decide_lobs = []() -> Expected<LobDecision> {
    return decide_lob_mode({{{{"dbo", "Docs"}, "body", "varbinary"}, std::int64_t{60} * 1024 * 1024}});
  };
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  const auto settings = json::parse(m_dms.tasks.begin()->second["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["FullLobMode"], true);
  EXPECT_EQ(settings["TargetMetadata"]["LimitedSizeLobMode"], false);
  EXPECT_EQ(m_journal.step("replicate").value()->outputs["lobs"]["mode"], "full");
}

TEST_F(ReplicateStepTest, AnAttemptThatStoppedBeforeCreatingTheTaskMeasuresAgain) {
  // Given an attempt that recorded a decision (32 KB) but created no task, the next attempt should
  // measure again (the data may have grown) and create the task with the new decision.
  int measured = 0;
  std::int64_t largest = 1000;
  m_inputs.decide_lobs = [&]() -> Expected<LobDecision> {
    ++measured;
    return decide_lob_mode({{{{"dbo", "Docs"}, "body", "nvarchar"}, largest}});
  };
  ASSERT_TRUE(m_journal.begin_step("replicate", {}));
  ASSERT_TRUE(m_journal.record_outputs("replicate", {{"lobs", to_json(decide_lob_mode({}))}}));
  largest = 100 * 1024;
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(measured, 1);
  const auto settings = json::parse(m_dms.tasks.begin()->second["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["LobMaxSize"], 200);
}

TEST_F(ReplicateStepTest, BothEndpointsAreTestedBeforeTheTaskIsCreated) {
  // Given a fresh step, DMS's TestConnection should run for the source and the target endpoint
  // (and their results be waited for) before CreateReplicationTask, as DMS requires for a start.
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  const auto calls = m_dms.calls();
  const auto first_create = std::find(calls.begin(), calls.end(), "dms:CreateReplicationTask");
  ASSERT_NE(first_create, calls.end());
  EXPECT_EQ(std::count(calls.begin(), first_create, "dms:TestConnection"), 2);
  EXPECT_GE(std::count(calls.begin(), first_create, "dms:DescribeConnections"), 2);
}

TEST_F(ReplicateStepTest, AFailedConnectionTestStopsTheStepBeforeAnythingIsCreated) {
  // Given a target endpoint whose TestConnection fails with the server's login error, the step
  // should fail as a missing prerequisite (exit 3) with the server's message and the fix, and
  // create and start nothing.
  m_dms.connection_result["arn:tgt"] = "failed";
  m_dms.connection_failure =
      "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to SQL Server "
      "Authentication failed, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 28000 NativeError: 18456 "
      "Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user 'dms'.";
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(out.error().message.find("DMS cannot connect to the target endpoint"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("Login failed for user 'dms'"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().hint.find("--password"), std::string::npos) << out.error().hint;
  EXPECT_EQ(m_dms.count("dms:CreateReplicationTask"), 0);
  EXPECT_EQ(m_dms.count("dms:StartReplicationTask"), 0);
  EXPECT_TRUE(m_dms.tasks.empty());
}

TEST_F(ReplicateStepTest, AStoppedTaskIsResumedOnlyAfterItsEndpointsPassAgain) {
  // Given our task left stopped by an interrupted attempt, the step should test both endpoints
  // before resume-processing; a failed test leaves the task stopped.
  const std::string arn = "arn:aws:dms:us-east-1:123456789012:task:OLD";
  m_dms.tasks[arn] = test::FakeAwsWorld::task(arn, "sales-cdc", "stopped");
  m_dms.tasks[arn]["SourceEndpointArn"] = "arn:src";
  m_dms.tasks[arn]["TargetEndpointArn"] = "arn:tgt";
  m_dms.tasks[arn]["MigrationType"] = "cdc";
  m_dms.connection_result["arn:src"] = "failed";
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("source endpoint"), std::string::npos) << out.error().message;
  EXPECT_EQ(m_dms.count("dms:StartReplicationTask"), 0);
  EXPECT_EQ(m_dms.tasks[arn]["Status"], "stopped");
  m_dms.connection_result.clear();
  out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(m_dms.count("dms:StartReplicationTask"), 1);
  EXPECT_EQ((*out)["status"], "running");
}
