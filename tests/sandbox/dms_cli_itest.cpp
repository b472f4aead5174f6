// The sandbox's DMS API driven by the AWS CLI v2 (/usr/bin/aws): every operation the
// product uses, every documented failure, SigV4 with the right and a wrong secret.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "dms_test_support.hpp"

namespace {

using nlohmann::json;
using m2r::test::aws_dms;
using m2r::test::InProcessDms;
using m2r::test::ProcessResult;

// A listening socket so that TestConnection has something to reach.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd, 16);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd); }
};

class DmsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access("/usr/bin/aws", X_OK), 0)
        << "AWS CLI v2 is missing at /usr/bin/aws; run scripts/install-deps.sh";
    ASSERT_TRUE(m_dms.server->start()) << "the DMS API did not start";
  }

  // Runs the CLI and parses its JSON answer; fails the test when the CLI does not accept it.
  json ok(const std::vector<std::string>& args) {
    ProcessResult r = aws_dms(m_dms.endpoint(), args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    try {
      return r.out.empty() ? json::object() : json::parse(r.out);
    } catch (const json::exception&) {
      ADD_FAILURE() << args[0] << " printed no JSON: " << r.out;
      return json::object();
    }
  }

  // Runs the CLI expecting an AWS error; returns stderr.
  std::string error(const std::vector<std::string>& args) {
    ProcessResult r = aws_dms(m_dms.endpoint(), args);
    EXPECT_NE(r.exit_code, 0) << args[0] << " unexpectedly succeeded: " << r.out;
    return r.err;
  }

  std::string instance() {
    json ri = ok({"create-replication-instance", "--replication-instance-identifier", "ri-test",
                  "--replication-instance-class", "dms.t3.medium", "--allocated-storage", "50"});
    return ri["ReplicationInstance"]["ReplicationInstanceArn"];
  }

  std::string endpoint(const std::string& id, const std::string& type, int port) {
    json ep = ok({"create-endpoint", "--endpoint-identifier", id, "--endpoint-type", type, "--engine-name",
                  "sqlserver", "--server-name", "127.0.0.1", "--port", std::to_string(port), "--database-name",
                  "sales", "--username", "dms_user", "--password", "Secr3t-pass"});
    return ep["Endpoint"]["EndpointArn"];
  }

  std::string task(const std::string& id, const std::string& ri, const std::string& src, const std::string& dst,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "create-replication-task", "--replication-task-identifier", id, "--source-endpoint-arn", src,
        "--target-endpoint-arn", dst, "--replication-instance-arn", ri, "--migration-type", "cdc",
        "--table-mappings", k_mappings};
    args.insert(args.end(), extra.begin(), extra.end());
    json t = ok(args);
    return t["ReplicationTask"]["ReplicationTaskArn"];
  }

  // TestConnection from `ri` to `ep`, waited for; returns the connection's last description.
  json tested(const std::string& ri, const std::string& ep) {
    json tc = ok({"test-connection", "--replication-instance-arn", ri, "--endpoint-arn", ep});
    EXPECT_EQ(tc["Connection"]["Status"], "testing");  // DMS answers at once and tests in the background
    json c;
    for (int i = 0; i < 300; ++i) {
      json conns = ok({"describe-connections", "--filters", "Name=endpoint-arn,Values=" + ep});
      c = conns["Connections"].empty() ? json::object() : conns["Connections"][0];
      if (c.value("Status", "") != "testing") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return c;
  }

  json describe_task(const std::string& arn) {
    json d = ok({"describe-replication-tasks", "--filters", "Name=replication-task-arn,Values=" + arn});
    return d["ReplicationTasks"].empty() ? json::object() : d["ReplicationTasks"][0];
  }

  std::string wait_status(const std::string& arn, const std::string& want) {
    std::string status;
    for (int i = 0; i < 50; ++i) {
      status = describe_task(arn).value("Status", "");
      if (status == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return status;
  }

  static constexpr const char* k_mappings =
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})";
  InProcessDms m_dms;
};

TEST_F(DmsCliTest, EveryOperationRoundTripsThroughAwsCliV2) {
  // Given a fresh sandbox DMS, the CLI v2 should drive every operation and parse every answer.
  Listener source_port, target_port;
  json ri = ok({"create-replication-instance", "--replication-instance-identifier", "RI-Main",
                "--replication-instance-class", "dms.t3.medium"});
  const std::string ri_arn = ri["ReplicationInstance"]["ReplicationInstanceArn"];
  EXPECT_EQ(ri["ReplicationInstance"]["ReplicationInstanceStatus"], "creating");
  EXPECT_EQ(ri["ReplicationInstance"]["ReplicationInstanceIdentifier"], "ri-main");  // DMS lower-cases
  EXPECT_TRUE(ri_arn.rfind("arn:aws:dms:us-east-1:123456789012:rep:", 0) == 0) << ri_arn;
  EXPECT_EQ(ri_arn.size(), std::string("arn:aws:dms:us-east-1:123456789012:rep:").size() + 26);

  json ris = ok({"describe-replication-instances", "--filters", "Name=replication-instance-id,Values=ri-main"});
  ASSERT_EQ(ris["ReplicationInstances"].size(), 1u);
  EXPECT_EQ(ris["ReplicationInstances"][0]["ReplicationInstanceStatus"], "available");
  // The CLI turned the epoch-seconds number into its own timestamp text: it parsed it.
  EXPECT_TRUE(ris["ReplicationInstances"][0]["InstanceCreateTime"].is_string());

  const std::string src = endpoint("src-sales", "source", source_port.port);
  const std::string dst = endpoint("dst-sales", "target", target_port.port);
  json eps = ok({"describe-endpoints", "--filters", "Name=endpoint-type,Values=source"});
  ASSERT_EQ(eps["Endpoints"].size(), 1u);
  EXPECT_EQ(eps["Endpoints"][0]["EndpointType"], "SOURCE");
  EXPECT_EQ(eps["Endpoints"][0]["Port"], source_port.port);
  EXPECT_EQ(eps["Endpoints"][0]["EngineDisplayName"], "Microsoft SQL Server");
  EXPECT_FALSE(eps["Endpoints"][0].contains("Password"));
  EXPECT_EQ(eps.dump().find("Secr3t-pass"), std::string::npos) << "a password came back";

  json conn = tested(ri_arn, src);
  EXPECT_EQ(conn["Status"], "successful");
  EXPECT_EQ(conn["EndpointIdentifier"], "src-sales");
  EXPECT_EQ(conn["ReplicationInstanceIdentifier"], "ri-main");
  EXPECT_EQ(tested(ri_arn, dst)["Status"], "successful");

  json created = ok({"create-replication-task", "--replication-task-identifier", "cdc-sales", "--source-endpoint-arn",
                     src, "--target-endpoint-arn", dst, "--replication-instance-arn", ri_arn, "--migration-type", "cdc",
                     "--table-mappings", k_mappings, "--cdc-start-position", "00000025:00000b8f:0004",
                     "--replication-task-settings",
                     R"({"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ErrorBehavior":{"ApplyErrorInsertPolicy":"INSERT_RECORD","ApplyErrorUpdatePolicy":"UPDATE_RECORD"}})"});
  const json& t = created["ReplicationTask"];
  EXPECT_EQ(t["Status"], "creating");
  EXPECT_EQ(t["CdcStartPosition"], "00000025:00000b8f:0004");
  EXPECT_EQ(t["MigrationType"], "cdc");
  const std::string task_arn = t["ReplicationTaskArn"];
  EXPECT_TRUE(task_arn.rfind("arn:aws:dms:us-east-1:123456789012:task:", 0) == 0) << task_arn;
  json settings = json::parse(t["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["FullLoadSettings"]["TargetTablePrepMode"], "DO_NOTHING");
  EXPECT_EQ(settings["ErrorBehavior"]["ApplyErrorUpdatePolicy"], "UPDATE_RECORD");

  EXPECT_EQ(describe_task(task_arn)["Status"], "ready");
  json started = ok({"start-replication-task", "--replication-task-arn", task_arn, "--start-replication-task-type",
                     "start-replication"});
  EXPECT_EQ(started["ReplicationTask"]["Status"], "starting");
  EXPECT_EQ(wait_status(task_arn, "running"), "running");

  // --no-paginate: the CLI drops non-result keys (ReplicationTaskArn) when it merges pages.
  json stats = ok({"describe-table-statistics", "--replication-task-arn", task_arn, "--no-paginate"});
  EXPECT_EQ(stats["ReplicationTaskArn"], task_arn);
  ASSERT_EQ(stats["TableStatistics"].size(), 1u);
  EXPECT_EQ(stats["TableStatistics"][0]["TableName"], "orders");
  EXPECT_TRUE(stats["TableStatistics"][0].contains("AppliedInserts"));
  EXPECT_TRUE(stats["TableStatistics"][0]["LastUpdateTime"].is_string());
  EXPECT_FALSE(describe_task(task_arn).value("RecoveryCheckpoint", "").empty());

  json stopped = ok({"stop-replication-task", "--replication-task-arn", task_arn});
  EXPECT_EQ(stopped["ReplicationTask"]["Status"], "stopping");
  EXPECT_EQ(wait_status(task_arn, "stopped"), "stopped");
  EXPECT_EQ(describe_task(task_arn)["StopReason"], "Stop Reason NORMAL");

  json resumed = ok({"start-replication-task", "--replication-task-arn", task_arn, "--start-replication-task-type",
                     "resume-processing"});
  EXPECT_EQ(resumed["ReplicationTask"]["Status"], "starting");
  EXPECT_EQ(wait_status(task_arn, "running"), "running");
  ok({"stop-replication-task", "--replication-task-arn", task_arn});
  EXPECT_EQ(wait_status(task_arn, "stopped"), "stopped");

  json deleted = ok({"delete-replication-task", "--replication-task-arn", task_arn});
  EXPECT_EQ(deleted["ReplicationTask"]["Status"], "deleting");
  std::string err = error({"describe-replication-tasks", "--filters", "Name=replication-task-arn,Values=" + task_arn});
  EXPECT_NE(err.find("(ResourceNotFoundFault)"), std::string::npos) << err;
}

TEST_F(DmsCliTest, BothCdcStartTimeAndPositionIsAnInvalidCombination) {
  // Given a task with both start points (docs/facts.md §4), DMS should refuse it.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  std::string err = error({"create-replication-task", "--replication-task-identifier", "both", "--source-endpoint-arn",
                           src, "--target-endpoint-arn", dst, "--replication-instance-arn", ri, "--migration-type",
                           "cdc", "--table-mappings", k_mappings, "--cdc-start-position", "00000025:00000b8f:0004",
                           "--cdc-start-time", "2026-11-25T10:00:00"});
  EXPECT_NE(err.find("(InvalidParameterCombinationException)"), std::string::npos) << err;
}

TEST_F(DmsCliTest, NonCanonicalStartPositionsAreRefusedAsInvalidFormat) {
  // Given the two common mistakes and the numeric form (docs/facts.md §1), DMS should answer
  // "Invalid CdcStartPosition format" (docs/facts.md §10).
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  int n = 0;
  for (const std::string bad : {"25:b8f:4", "37:2959:4", "37000000295900004", "0x0000002500000B8F0004", "lsn"}) {
    std::string err = error({"create-replication-task", "--replication-task-identifier", "bad-" + std::to_string(n++),
                             "--source-endpoint-arn", src, "--target-endpoint-arn", dst, "--replication-instance-arn",
                             ri, "--migration-type", "cdc", "--table-mappings", k_mappings, "--cdc-start-position", bad});
    EXPECT_NE(err.find("(InvalidParameterValueException)"), std::string::npos) << bad << ": " << err;
    EXPECT_NE(err.find("Invalid CdcStartPosition format"), std::string::npos) << bad << ": " << err;
  }
}

TEST_F(DmsCliTest, ReloadTargetOnACdcTaskIsRefused) {
  // Given a cdc task, reload-target should be refused (docs/facts.md §4) and the task stay ready.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  const std::string arn = task("reload", ri, src, dst);
  describe_task(arn);
  std::string err = error({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type",
                           "reload-target"});
  EXPECT_NE(err.find("(InvalidParameterCombinationException)"), std::string::npos) << err;
  EXPECT_EQ(describe_task(arn)["Status"], "ready");
}

TEST_F(DmsCliTest, MalformedIdentifiersAreRefused) {
  // Given identifiers that break DMS's rules, every create should answer InvalidParameterValueException.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  for (const std::string bad : {"1starts-with-digit", "has--double", "ends-with-", "under_score"}) {
    std::string err = error({"create-replication-task", "--replication-task-identifier", bad, "--source-endpoint-arn",
                             src, "--target-endpoint-arn", dst, "--replication-instance-arn", ri, "--migration-type",
                             "cdc", "--table-mappings", k_mappings});
    EXPECT_NE(err.find("(InvalidParameterValueException)"), std::string::npos) << bad << ": " << err;
    err = error({"create-endpoint", "--endpoint-identifier", bad, "--endpoint-type", "source", "--engine-name",
                 "sqlserver", "--server-name", "h", "--port", "1433", "--database-name", "d", "--username", "u",
                 "--password", "p"});
    EXPECT_NE(err.find("(InvalidParameterValueException)"), std::string::npos) << bad << ": " << err;
  }
}

TEST_F(DmsCliTest, TableMappingsAndTaskSettingsAreCheckedAsDmsDocumentsThem) {
  // Given a rule without its rule-id, an unknown rule-action, a misspelt settings section and an
  // enumeration outside its documented values, each create should answer
  // InvalidParameterValueException naming what is wrong, and no task should exist after.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  auto create = [&](const std::string& mappings, const std::string& settings) {
    std::vector<std::string> args = {"create-replication-task", "--replication-task-identifier", "checked",
                                     "--source-endpoint-arn", src, "--target-endpoint-arn", dst,
                                     "--replication-instance-arn", ri, "--migration-type", "cdc",
                                     "--table-mappings", mappings};
    if (!settings.empty()) {
      args.push_back("--replication-task-settings");
      args.push_back(settings);
    }
    return error(args);
  };
  const std::vector<std::pair<std::string, std::string>> refused = {
      {R"({"rules":[{"rule-type":"selection","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})",
       "rule-id must be a number"},
      {R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"take"}]})",
       "rule-action must be include, exclude or explicit"},
      {R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo"},"rule-action":"include"}]})",
       "object-locator needs schema-name and table-name"},
  };
  for (const auto& [mappings, why] : refused) {
    const auto err = create(mappings, "");
    EXPECT_NE(err.find("(InvalidParameterValueException)"), std::string::npos) << err;
    EXPECT_NE(err.find("Invalid Table Mappings document. "), std::string::npos) << err;
    EXPECT_NE(err.find(why), std::string::npos) << err;
  }
  for (const auto& [settings, why] : std::vector<std::pair<std::string, std::string>>{
           {R"({"TargetMetaData":{"LobMaxSize":64}})", "unknown section TargetMetaData"},
           {R"({"FullLoadSettings":{"TargetTablePrepMode":"KEEP"}})", "FullLoadSettings.TargetTablePrepMode: invalid value KEEP"},
           {R"({"ErrorBehavior":{"ApplyErrorDeletePolicy":"DELETE_RECORD"}})", "ErrorBehavior.ApplyErrorDeletePolicy: invalid value DELETE_RECORD"},
           {R"({"TargetMetadata":{"LobMaxSize":"64"}})", "TargetMetadata.LobMaxSize must be a whole number"}}) {
    const auto err = create(k_mappings, settings);
    EXPECT_NE(err.find("(InvalidParameterValueException)"), std::string::npos) << err;
    EXPECT_NE(err.find("Invalid task settings JSON. " + why), std::string::npos) << err;
  }
  const auto none = error({"describe-replication-tasks", "--filters", "Name=replication-task-id,Values=checked"});
  EXPECT_NE(none.find("(ResourceNotFoundFault)"), std::string::npos) << none;
  // Settings shaped as the product writes them (core/dms_task_spec) are accepted; the demo
  // creates its task with the real ones.
  EXPECT_NE(task("accepted", ri, src, dst,
                 {"--replication-task-settings",
                  R"({"TargetMetadata":{"SupportLobs":true,"FullLobMode":false,"LimitedSizeLobMode":true,"LobMaxSize":64},)"
                  R"("FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ErrorBehavior":{"ApplyErrorInsertPolicy":)"
                  R"("INSERT_RECORD","ApplyErrorUpdatePolicy":"LOG_ERROR","ApplyErrorDeletePolicy":"IGNORE_RECORD"},)"
                  R"("Logging":{"EnableLogging":true},"SandboxPace":{"ApplyDelayMs":0,"BatchSize":100}})"})
                .find("arn:"),
            std::string::npos);
}

TEST_F(DmsCliTest, DuplicateIdentifiersAreResourceAlreadyExists) {
  // Given an existing task, endpoint and instance, creating another with the same identifier should fail.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  task("dup", ri, src, dst);
  std::string err = error({"create-replication-task", "--replication-task-identifier", "DUP", "--source-endpoint-arn",
                           src, "--target-endpoint-arn", dst, "--replication-instance-arn", ri, "--migration-type",
                           "cdc", "--table-mappings", k_mappings});
  EXPECT_NE(err.find("(ResourceAlreadyExistsFault)"), std::string::npos) << err;
  err = error({"create-endpoint", "--endpoint-identifier", "s", "--endpoint-type", "source", "--engine-name",
               "sqlserver", "--server-name", "h", "--port", "1433", "--database-name", "d", "--username", "u",
               "--password", "p"});
  EXPECT_NE(err.find("(ResourceAlreadyExistsFault)"), std::string::npos) << err;
  err = error({"create-replication-instance", "--replication-instance-identifier", "ri-test",
               "--replication-instance-class", "dms.t3.medium"});
  EXPECT_NE(err.find("(ResourceAlreadyExistsFault)"), std::string::npos) << err;
}

TEST_F(DmsCliTest, UnknownArnsAreResourceNotFound) {
  // Given ARNs that name nothing, every operation should answer ResourceNotFoundFault.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port);
  const std::string ghost = "arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK0000000000000000";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"start-replication-task", "--replication-task-arn", ghost, "--start-replication-task-type", "start-replication"},
           {"stop-replication-task", "--replication-task-arn", ghost},
           {"delete-replication-task", "--replication-task-arn", ghost},
           {"describe-table-statistics", "--replication-task-arn", ghost},
           {"test-connection", "--replication-instance-arn", ri, "--endpoint-arn", ghost},
           {"create-replication-task", "--replication-task-identifier", "ghost", "--source-endpoint-arn", src,
            "--target-endpoint-arn", ghost, "--replication-instance-arn", ri, "--migration-type", "cdc",
            "--table-mappings", k_mappings}}) {
    std::string err = error(args);
    EXPECT_NE(err.find("(ResourceNotFoundFault)"), std::string::npos) << args[0] << ": " << err;
  }
}

TEST_F(DmsCliTest, StartingARunningTaskIsAnInvalidState) {
  // Given a running task, a second start should answer InvalidResourceStateFault; so should
  // start-replication after the task has run once, and stopping a task that is not running.
  Listener l;
  const std::string ri = instance(), src = endpoint("s", "source", l.port), dst = endpoint("t", "target", l.port);
  const std::string arn = task("twice", ri, src, dst);
  describe_task(arn);
  tested(ri, src);
  tested(ri, dst);
  std::string err = error({"stop-replication-task", "--replication-task-arn", arn});
  EXPECT_NE(err.find("(InvalidResourceStateFault)"), std::string::npos) << err;
  ok({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type", "start-replication"});
  ASSERT_EQ(wait_status(arn, "running"), "running");
  err = error({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type", "start-replication"});
  EXPECT_NE(err.find("(InvalidResourceStateFault)"), std::string::npos) << err;
  err = error({"delete-replication-task", "--replication-task-arn", arn});
  EXPECT_NE(err.find("(InvalidResourceStateFault)"), std::string::npos) << err;
  ok({"stop-replication-task", "--replication-task-arn", arn});
  ASSERT_EQ(wait_status(arn, "stopped"), "stopped");
  err = error({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type", "start-replication"});
  EXPECT_NE(err.find("START_REPLICATION, valid only for tasks running for the first time"), std::string::npos) << err;
}

TEST_F(DmsCliTest, WrongSecretIsASignatureError) {
  // Given the right key id with a wrong secret, DMS should answer InvalidSignatureException;
  // an unknown key id should be UnrecognizedClientException.
  ProcessResult r = aws_dms(m_dms.endpoint(), {"describe-replication-instances"}, InProcessDms::k_key, "wrong-secret");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(InvalidSignatureException)"), std::string::npos) << r.err;
  r = aws_dms(m_dms.endpoint(), {"describe-replication-instances"}, "AKIAUNKNOWNKEY000000", InProcessDms::k_secret);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(UnrecognizedClientException)"), std::string::npos) << r.err;
}

TEST(DmsPersistenceTest, ARestartedServiceKeepsItsResources) {
  // Given resources created through one service, a new service on the same state file should
  // describe them, and a task that was running should come back stopped, resumable.
  const std::string path = std::filesystem::temp_directory_path() / ("dms-state-" + std::to_string(getpid()) + ".json");
  std::string task_arn;
  {
    InProcessDms dms(nullptr, path);
    ASSERT_TRUE(dms.server->start());
    auto reply = dms.service->handle("CreateReplicationInstance",
                                     {{"ReplicationInstanceIdentifier", "keep"}, {"ReplicationInstanceClass", "dms.t3.small"}});
    ASSERT_EQ(reply.status, 200) << reply.body.dump();
    const std::string ri = reply.body["ReplicationInstance"]["ReplicationInstanceArn"];
    auto ep = [&](const char* id, const char* type) {
      auto r = dms.service->handle("CreateEndpoint", {{"EndpointIdentifier", id}, {"EndpointType", type},
                                                      {"EngineName", "sqlserver"}, {"ServerName", "127.0.0.1"},
                                                      {"Port", 1}, {"DatabaseName", "d"}, {"Username", "u"},
                                                      {"Password", "p"}});
      return r.body["Endpoint"]["EndpointArn"].get<std::string>();
    };
    const std::string s = ep("s", "source"), t = ep("t", "target");
    reply = dms.service->handle("CreateReplicationTask",
                                {{"ReplicationTaskIdentifier", "keep-task"}, {"SourceEndpointArn", s}, {"TargetEndpointArn", t},
                                 {"ReplicationInstanceArn", ri}, {"MigrationType", "cdc"},
                                 {"TableMappings", R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})"}});
    ASSERT_EQ(reply.status, 200) << reply.body.dump();
    task_arn = reply.body["ReplicationTask"]["ReplicationTaskArn"];
    dms.service->handle("DescribeReplicationTasks", json::object());
    for (const std::string& endpoint : {s, t}) {
      dms.service->handle("TestConnection", {{"ReplicationInstanceArn", ri}, {"EndpointArn", endpoint}});
      for (int i = 0; i < 100; ++i) {
        auto c = dms.service->handle("DescribeConnections", {{"Filters", {{{"Name", "endpoint-arn"}, {"Values", {endpoint}}}}}});
        if (c.body["Connections"][0]["Status"] != "testing") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    reply = dms.service->handle("StartReplicationTask", {{"ReplicationTaskArn", task_arn},
                                                         {"StartReplicationTaskType", "start-replication"}});
    ASSERT_EQ(reply.status, 200) << reply.body.dump();
  }
  sandbox::dms::DmsService again({.state_path = path});
  auto reply = again.handle("DescribeReplicationTasks", json::object());
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  ASSERT_EQ(reply.body["ReplicationTasks"].size(), 1u);
  EXPECT_EQ(reply.body["ReplicationTasks"][0]["ReplicationTaskArn"], task_arn);
  EXPECT_EQ(reply.body["ReplicationTasks"][0]["Status"], "stopped");
  EXPECT_EQ(again.handle("DescribeEndpoints", json::object()).body["Endpoints"].size(), 2u);
  std::remove(path.c_str());
}

}  // namespace
