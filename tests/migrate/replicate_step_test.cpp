#include "migrate/replicate_step.hpp"

#include <map>

#include <gtest/gtest.h>

#include "fakes/fake_http_transport.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

using namespace m2r;
using nlohmann::json;

namespace {

// A small honest DMS: tasks by ARN, the states a task walks through, and the calls the step makes.
struct FakeDms {
  std::map<std::string, json> tasks;
  int creates = 0;
  int starts = 0;
  std::string fail_with;  // LastFailureMessage a started task fails with

  aws::HttpResponse answer(const aws::RecordedRequest& r) {
    const auto target = r.header("X-Amz-Target").value_or("");
    const auto op = target.substr(target.find('.') + 1);
    const auto in = json::parse(r.body);
    json out;
    if (op == "CreateReplicationTask") {
      ++creates;
      const std::string arn = "arn:aws:dms:us-east-1:123456789012:task:T" + std::to_string(creates);
      json t = {{"ReplicationTaskArn", arn}, {"ReplicationTaskIdentifier", in["ReplicationTaskIdentifier"]},
                {"Status", "creating"}, {"MigrationType", in["MigrationType"]},
                {"SourceEndpointArn", in["SourceEndpointArn"]}, {"TargetEndpointArn", in["TargetEndpointArn"]},
                {"ReplicationInstanceArn", in["ReplicationInstanceArn"]}, {"CdcStartPosition", in["CdcStartPosition"]}};
      tasks[arn] = t;
      out = {{"ReplicationTask", t}};
      tasks[arn]["Status"] = "ready";  // the next describe sees it ready
    } else if (op == "StartReplicationTask") {
      ++starts;
      auto& t = tasks.at(in["ReplicationTaskArn"]);
      t["Status"] = "starting";
      out = {{"ReplicationTask", t}};
      if (fail_with.empty()) {
        t["Status"] = "running";
      } else {
        t["Status"] = "failed";
        t["LastFailureMessage"] = fail_with;
      }
    } else if (op == "DescribeReplicationTasks") {
      json list = json::array();
      for (const auto& [arn, t] : tasks) {
        bool match = true;
        for (const auto& f : in.value("Filters", json::array())) {
          const std::string key = f["Name"] == "replication-task-arn" ? "ReplicationTaskArn" : "ReplicationTaskIdentifier";
          match = match && std::find(f["Values"].begin(), f["Values"].end(), t[key]) != f["Values"].end();
        }
        if (match) list.push_back(t);
      }
      if (list.empty()) {
        return {400, {{"Content-Type", "application/x-amz-json-1.1"}},
                json{{"__type", "ResourceNotFoundFault"}, {"message", "No Tasks found matching provided filters"}}.dump()};
      }
      out = {{"ReplicationTasks", list}};
    }
    return {200, {{"Content-Type", "application/x-amz-json-1.1"}}, out.dump()};
  }
};

class ReplicateStepTest : public ::testing::Test {
 protected:
  ReplicateStepTest() {
    m_http->set_handler([this](const aws::RecordedRequest& r) -> Expected<aws::HttpResponse> { return m_dms.answer(r); });
    m_ctx = aws::AwsContext::for_endpoint({"AKIDEXAMPLE", "secret", "", {}, "test"}, "us-east-1", "http://dms.test",
                                          m_http);
    m_inputs.task_id = "sales-cdc";
    m_inputs.arns = {"arn:ri", "arn:src", "arn:tgt"};
    m_inputs.table_mappings = R"({"rules":[]})";
    m_inputs.start = Lsn(0x25, 0xb8f, 4);
    m_inputs.poll = std::chrono::milliseconds(1);
    m_inputs.timeout = std::chrono::seconds(5);
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
  FakeDms m_dms;
  aws::AwsContext m_ctx;
  MemoryJournal m_journal;
  RecordingEventSink m_events;
  ReplicateInputs m_inputs;
};

}  // namespace

TEST_F(ReplicateStepTest, CreatesOneCdcTaskFromTheHexStartAndStartsIt) {
  auto out = run();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(m_dms.creates, 1);
  EXPECT_EQ(m_dms.starts, 1);
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
  EXPECT_EQ(m_dms.creates, 1);
  EXPECT_EQ(m_dms.tasks.size(), 1u);
}

TEST_F(ReplicateStepTest, ForeignTaskWithTheSameNameIsRefused) {
  m_dms.tasks["arn:other"] = {{"ReplicationTaskArn", "arn:other"}, {"ReplicationTaskIdentifier", "sales-cdc"},
                              {"Status", "ready"}, {"MigrationType", "full-load"}, {"SourceEndpointArn", "arn:x"},
                              {"TargetEndpointArn", "arn:y"}};
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::conflict);
  EXPECT_EQ(m_dms.creates, 0);
}

TEST_F(ReplicateStepTest, TruncatedLogFailureIsDiagnosed) {
  m_dms.fail_with = "[SOURCE_CAPTURE ]E: Failed to access LSN '00000025:00000b8f:0004' in the backup log sets since "
                    "BACKUP/LOG-s are not available. [1020465]";
  auto out = run();
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("no longer in the active log"), std::string::npos) << out.error().message;
  EXPECT_FALSE(out.error().hint.empty());
}
