// The sandbox's DMS answers next to moto's for the operations moto implements: every member
// moto fills in, the sandbox fills in too (shapes, not ARNs or values).
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "dms_test_support.hpp"
#include "support/moto_server.hpp"

namespace {

using nlohmann::json;
using m2r::test::aws_dms;
using m2r::test::InProcessDms;

std::set<std::string> filled_keys(const json& object) {
  std::set<std::string> keys;
  for (const auto& [k, v] : object.items())
    if (!v.is_null() && !(v.is_object() && v.empty()) && !(v.is_string() && v.get<std::string>().empty())) keys.insert(k);
  return keys;
}

std::string missing(const std::set<std::string>& moto, const std::set<std::string>& sandbox) {
  std::string out;
  for (const auto& k : moto)
    if (!sandbox.count(k)) out += k + " ";
  return out;
}

struct Side {
  std::string endpoint, key, secret;
  json call(const std::vector<std::string>& args) {
    auto r = aws_dms(endpoint, args, key, secret);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " on " << endpoint << ": " << r.err;
    return r.out.empty() ? json::object() : json::parse(r.out, nullptr, false);
  }
};

json run_scenario(Side& side) {
  json out;
  out["ri"] = side.call({"create-replication-instance", "--replication-instance-identifier", "cmp-ri",
                         "--replication-instance-class", "dms.t3.medium"})["ReplicationInstance"];
  out["ris"] = side.call({"describe-replication-instances"})["ReplicationInstances"][0];
  out["src"] = side.call({"create-endpoint", "--endpoint-identifier", "cmp-src", "--endpoint-type", "source",
                          "--engine-name", "sqlserver", "--server-name", "127.0.0.1", "--port", "1433",
                          "--database-name", "sales", "--username", "u", "--password", "p"})["Endpoint"];
  out["dst"] = side.call({"create-endpoint", "--endpoint-identifier", "cmp-dst", "--endpoint-type", "target",
                          "--engine-name", "sqlserver", "--server-name", "127.0.0.1", "--port", "1433",
                          "--database-name", "sales", "--username", "u", "--password", "p"})["Endpoint"];
  out["eps"] = side.call({"describe-endpoints"})["Endpoints"][0];
  const std::string mappings =
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})";
  json task = side.call({"create-replication-task", "--replication-task-identifier", "cmp-task", "--source-endpoint-arn",
                         out["src"]["EndpointArn"], "--target-endpoint-arn", out["dst"]["EndpointArn"],
                         "--replication-instance-arn", out["ri"]["ReplicationInstanceArn"], "--migration-type", "cdc",
                         "--table-mappings", mappings})["ReplicationTask"];
  out["task"] = task;
  out["tasks"] = side.call({"describe-replication-tasks"})["ReplicationTasks"][0];
  // DMS starts a task only after both endpoints passed TestConnection.
  for (const char* ep : {"src", "dst"}) {
    side.call({"test-connection", "--replication-instance-arn", out["ri"]["ReplicationInstanceArn"], "--endpoint-arn",
               out[ep]["EndpointArn"]});
    for (int i = 0; i < 30; ++i) {
      json c = side.call({"describe-connections", "--filters",
                          "Name=endpoint-arn,Values=" + out[ep]["EndpointArn"].get<std::string>()})["Connections"][0];
      if (c["Status"] != "testing") break;
      usleep(100000);
    }
  }
  out["start"] = side.call({"start-replication-task", "--replication-task-arn", task["ReplicationTaskArn"],
                            "--start-replication-task-type", "start-replication"})["ReplicationTask"];
  for (int i = 0; i < 30; ++i) {
    json t = side.call({"describe-replication-tasks"})["ReplicationTasks"][0];
    if (t["Status"] == "running") break;
    usleep(100000);
  }
  out["stop"] = side.call({"stop-replication-task", "--replication-task-arn", task["ReplicationTaskArn"]})["ReplicationTask"];
  for (int i = 0; i < 30; ++i) {
    json t = side.call({"describe-replication-tasks"})["ReplicationTasks"][0];
    if (t["Status"] == "stopped") break;
    usleep(100000);
  }
  out["delete"] = side.call({"delete-replication-task", "--replication-task-arn", task["ReplicationTaskArn"]})["ReplicationTask"];
  return out;
}

TEST(DmsMotoCompareTest, SandboxFillsEveryMemberMotoFills) {
  // Given the same calls to moto's DMS and the sandbox's, every answer member moto fills should be in the sandbox's answer.
  ASSERT_EQ(access("/usr/bin/aws", X_OK), 0) << "AWS CLI v2 is missing at /usr/bin/aws";
  auto moto = m2r::test::MotoServer::start();
  ASSERT_TRUE(moto) << moto.error().message;
  InProcessDms dms;
  ASSERT_TRUE(dms.server->start());
  Side moto_side{(*moto)->endpoint(), (*moto)->access_key_id(), (*moto)->secret_access_key()};
  Side sandbox_side{dms.endpoint(), InProcessDms::k_key, InProcessDms::k_secret};
  json m = run_scenario(moto_side);
  json s = run_scenario(sandbox_side);
  for (const auto& [name, moto_answer] : m.items()) {
    ASSERT_TRUE(s.contains(name));
    EXPECT_EQ(missing(filled_keys(moto_answer), filled_keys(s[name])), "") << name << ": sandbox lacks these members";
  }
  // One known difference, where the sandbox follows DMS: moto echoes EndpointType in lower
  // case; DMS answers "SOURCE" / "TARGET" (the API reference's examples).
  EXPECT_EQ(m["src"]["EndpointType"], "source");
  EXPECT_EQ(s["src"]["EndpointType"], "SOURCE");
  EXPECT_EQ(s["dst"]["EndpointType"], "TARGET");
  EXPECT_EQ(s["stop"]["Status"], "stopping");
  EXPECT_EQ(s["delete"]["Status"], "deleting");
  EXPECT_EQ(m["delete"]["Status"], "deleting");
}

}  // namespace
