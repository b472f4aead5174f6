#include "migrate/support/fake_aws_world.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "aws/sigv4.hpp"
#include "fakes/fake_sql_session.hpp"
#include "fakes/fake_http_transport.hpp"
#include "fakes/fake_clock.hpp"

namespace m2r::test {

using nlohmann::json;

namespace {

const std::vector<aws::Header> k_json_headers = {{"Content-Type", "application/x-amz-json-1.1"}};
const std::vector<aws::Header> k_xml_headers = {{"Content-Type", "text/xml"}};

aws::HttpResponse dms_error(const std::string& type, const std::string& message) {
  return {400, k_json_headers, json{{"__type", type}, {"message", message}}.dump()};
}

aws::HttpResponse query_error(int status, const std::string& code, const std::string& message) {
  return {status, k_xml_headers,
          fmt::format("<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error>"
                      "<RequestId>fake-1</RequestId></ErrorResponse>",
                      code, message)};
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_decode(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto end = std::min(body.find('&', start), body.size());
    const auto pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    if (!pair.empty()) out[url_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

// The SigV4 credential scope names the service: "Credential=AKID/20261125/us-east-1/rds/aws4_request".
std::string service_of(const aws::RecordedRequest& r) {
  const auto auth = r.header("Authorization").value_or("");
  const auto end = auth.find("/aws4_request");
  if (end == std::string::npos) return "";
  const auto start = auth.rfind('/', end - 1);
  return auth.substr(start + 1, end - start - 1);
}

// DMS filter name -> the field of the described object it matches.
std::string filter_field(const std::string& name) {
  static const std::map<std::string, std::string> fields = {
      {"replication-task-arn", "ReplicationTaskArn"},
      {"replication-task-id", "ReplicationTaskIdentifier"},
      {"endpoint-arn", "EndpointArn"},
      {"endpoint-id", "EndpointIdentifier"},
      {"replication-instance-arn", "ReplicationInstanceArn"},
      {"replication-instance-id", "ReplicationInstanceIdentifier"}};
  const auto it = fields.find(name);
  return it == fields.end() ? name : it->second;
}

bool matches(const json& item, const json& filters) {
  for (const auto& f : filters) {
    const auto field = filter_field(f.value("Name", ""));
    if (!item.contains(field)) return false;
    const auto& values = f["Values"];
    if (std::find(values.begin(), values.end(), item[field]) == values.end()) return false;
  }
  return true;
}

}  // namespace

FakeAwsWorld::FakeAwsWorld() {
  instances.push_back({{"ReplicationInstanceArn", k_instance_arn},
                       {"ReplicationInstanceIdentifier", "ri1"},
                       {"ReplicationInstanceClass", "dms.t3.medium"},
                       {"ReplicationInstanceStatus", "available"}});
  endpoints.push_back({{"EndpointArn", k_source_arn}, {"EndpointIdentifier", "src-ep"}, {"EndpointType", "SOURCE"},
                       {"EngineName", "sqlserver"}, {"ServerName", "src.example"}, {"Port", 1433},
                       {"DatabaseName", "Sales"}, {"Status", "active"}});
  endpoints.push_back({{"EndpointArn", k_target_arn}, {"EndpointIdentifier", "tgt-ep"}, {"EndpointType", "TARGET"},
                       {"EngineName", "sqlserver"}, {"ServerName", "rds1.abc.us-east-1.rds.amazonaws.com"},
                       {"Port", 1433}, {"DatabaseName", "Sales"}, {"Status", "active"}});
}

json FakeAwsWorld::task(const std::string& arn, const std::string& identifier, const std::string& status) {
  return {{"ReplicationTaskArn", arn},
          {"ReplicationTaskIdentifier", identifier},
          {"Status", status},
          {"MigrationType", "cdc"},
          {"SourceEndpointArn", k_source_arn},
          {"TargetEndpointArn", k_target_arn},
          {"ReplicationInstanceArn", k_instance_arn},
          {"CdcStartPosition", "00000025:00000b8f:0004"}};
}

json FakeAwsWorld::table_stats(const std::string& table, std::int64_t inserts, std::int64_t applied) {
  const auto dot = table.find('.');
  return {{"SchemaName", table.substr(0, dot)}, {"TableName", table.substr(dot + 1)}, {"Inserts", inserts},
          {"AppliedInserts", applied}, {"TableState", "Table completed"}};
}

std::vector<std::string> FakeAwsWorld::calls() {
  std::lock_guard lock(mutex);
  return m_calls;
}

int FakeAwsWorld::count(const std::string& call) {
  std::lock_guard lock(mutex);
  return static_cast<int>(std::count(m_calls.begin(), m_calls.end(), call));
}

std::vector<json> FakeAwsWorld::metric_requests() {
  std::lock_guard lock(mutex);
  return m_metric_requests;
}

Expected<aws::HttpResponse> FakeAwsWorld::answer(const aws::RecordedRequest& r) {
  std::lock_guard lock(mutex);
  if (const auto target = r.header("X-Amz-Target")) {
    const auto op = target->substr(target->find('.') + 1);
    m_calls.push_back("dms:" + op);
    return answer_dms(op, r.body.empty() ? json::object() : json::parse(r.body));
  }
  const auto service = service_of(r);
  if (service == "s3") return answer_s3(r);
  const auto params = form_decode(r.body);
  const auto action = params.count("Action") ? params.at("Action") : std::string("?");
  m_calls.push_back(service + ":" + action);
  if (service == "rds") return answer_rds(params);
  if (service == "monitoring") return answer_cloudwatch(params);
  return query_error(400, "InvalidAction", "FakeAwsWorld does not know " + service + " " + action);
}

Expected<aws::HttpResponse> FakeAwsWorld::answer_dms(const std::string& op, const json& in) {
  const auto filters = in.value("Filters", json::array());
  auto list_of = [&](const std::vector<json>& items, const char* key, const char* not_found) -> aws::HttpResponse {
    json out = json::array();
    for (const auto& i : items)
      if (matches(i, filters)) out.push_back(i);
    if (out.empty()) return dms_error("ResourceNotFoundFault", not_found);
    return {200, k_json_headers, json{{key, out}}.dump()};
  };
  if (op == "DescribeReplicationInstances") return list_of(instances, "ReplicationInstances", "No replication instance found");
  if (op == "DescribeEndpoints") return list_of(endpoints, "Endpoints", "No Endpoints found matching provided filters");
  if (op == "TestConnection") {
    const std::string arn = in.value("EndpointArn", "");
    m_connection_polls[arn] = 0;
    m_connection_instance[arn] = in.value("ReplicationInstanceArn", "");
    return aws::HttpResponse{200, k_json_headers,
                             json{{"Connection", {{"ReplicationInstanceArn", in.value("ReplicationInstanceArn", "")},
                                                  {"EndpointArn", arn}, {"Status", "testing"}}}}.dump()};
  }
  if (op == "DescribeConnections") {
    json out = json::array();
    for (auto& [arn, polls] : m_connection_polls) {
      json c = {{"ReplicationInstanceArn", m_connection_instance[arn]}, {"EndpointArn", arn}, {"Status", "testing"}};
      if (polls++ >= connection_tests_pending_polls) {
        const auto it = connection_result.find(arn);
        c["Status"] = it == connection_result.end() ? "successful" : it->second;
        if (c["Status"] == "failed") c["LastFailureMessage"] = connection_failure;
      }
      if (matches(c, filters)) out.push_back(c);
    }
    return aws::HttpResponse{200, k_json_headers, json{{"Connections", out}}.dump()};
  }
  if (op == "DescribeReplicationTasks") {
    std::vector<json> all;
    for (auto& [arn, t] : tasks) {
      if (t["Status"] == "stopping" && m_stopping_seen[arn]++ >= stopping_polls) {
        t["Status"] = "stopped";
        t["StopReason"] = "Stop Reason NORMAL";
      }
      all.push_back(t);
    }
    return list_of(all, "ReplicationTasks", "No Tasks found matching provided filters");
  }
  const std::string arn = in.value("ReplicationTaskArn", "");
  if (op == "CreateReplicationTask") {
    for (const auto& [a, t] : tasks) {
      if (t["ReplicationTaskIdentifier"] == in.value("ReplicationTaskIdentifier", "")) {
        return dms_error("ResourceAlreadyExistsFault", "ReplicationTask already exists");
      }
    }
    const std::string new_arn = fmt::format("arn:aws:dms:us-east-1:123456789012:task:T{}", ++m_created);
    json t = task(new_arn, in.value("ReplicationTaskIdentifier", ""), "creating");
    t["MigrationType"] = in.value("MigrationType", "");
    t["CdcStartPosition"] = in.value("CdcStartPosition", "");
    t["ReplicationInstanceArn"] = in.value("ReplicationInstanceArn", "");
    t["SourceEndpointArn"] = in.value("SourceEndpointArn", "");
    t["TargetEndpointArn"] = in.value("TargetEndpointArn", "");
    t["ReplicationTaskSettings"] = in.value("ReplicationTaskSettings", "");
    tasks[new_arn] = t;
    tasks[new_arn]["Status"] = "ready";  // the next describe sees it ready
    return aws::HttpResponse{200, k_json_headers, json{{"ReplicationTask", t}}.dump()};
  }
  const auto it = tasks.find(arn);
  if (it == tasks.end()) return dms_error("ResourceNotFoundFault", "Replication Task not found: " + arn);
  auto& t = it->second;
  if (op == "StartReplicationTask") {
    const std::string status = t["Status"];
    if (status != "ready" && status != "stopped" && status != "failed") {
      return dms_error("InvalidResourceStateFault", "Replication task is " + status);
    }
    // As DMS: both endpoints must have passed TestConnection (sandbox/dms/dms_service.cpp).
    for (const char* which : {"SourceEndpointArn", "TargetEndpointArn"}) {
      const std::string ep = t.value(which, "");
      const auto polled = m_connection_polls.find(ep);
      const auto result = connection_result.find(ep);
      const bool successful = polled != m_connection_polls.end() && polled->second > connection_tests_pending_polls &&
                              (result == connection_result.end() || result->second == "successful");
      if (!successful) {
        return dms_error("InvalidResourceStateFault", "Test connection for replication instance ri1 and endpoint " + ep +
                                                          " should be successful for starting the replication task");
      }
    }
    json shown = t;
    shown["Status"] = "starting";
    if (start_fails_with.empty()) {
      t["Status"] = "running";
    } else {
      t["Status"] = "failed";
      t["LastFailureMessage"] = start_fails_with;
    }
    return aws::HttpResponse{200, k_json_headers, json{{"ReplicationTask", shown}}.dump()};
  }
  if (op == "StopReplicationTask") {
    if (t["Status"] != "running" && t["Status"] != "starting") {
      return dms_error("InvalidResourceStateFault", "Replication task is not running");
    }
    t["Status"] = "stopping";
    m_stopping_seen[arn] = 0;
    return aws::HttpResponse{200, k_json_headers, json{{"ReplicationTask", t}}.dump()};
  }
  if (op == "DeleteReplicationTask") {
    // DMS refuses to delete a running task.
    if (t["Status"] == "running" || t["Status"] == "starting" || t["Status"] == "stopping") {
      return dms_error("InvalidResourceStateFault", "Task is in " + t["Status"].get<std::string>() + " state");
    }
    json shown = t;
    shown["Status"] = "deleting";
    tasks.erase(it);
    return aws::HttpResponse{200, k_json_headers, json{{"ReplicationTask", shown}}.dump()};
  }
  if (op == "DescribeTableStatistics") {
    if (fail_task_when_statistics_left && table_statistics.size() == *fail_task_when_statistics_left) {
      t["Status"] = "failed";
      t["LastFailureMessage"] = "[TARGET_APPLY ]E: Failed to apply changes";
    }
    json out = table_statistics.empty() ? json::array() : table_statistics.front();
    if (table_statistics.size() > 1) table_statistics.pop_front();
    return aws::HttpResponse{200, k_json_headers, json{{"TableStatistics", out}}.dump()};
  }
  return dms_error("InvalidAction", "FakeAwsWorld does not know dms " + op);
}

Expected<aws::HttpResponse> FakeAwsWorld::answer_rds(const std::map<std::string, std::string>& p) {
  const std::string action = p.at("Action");
  if (action == "DescribeDBInstances") {
    const auto id = p.count("DBInstanceIdentifier") ? p.at("DBInstanceIdentifier") : std::string();
    std::string items;
    for (const auto& i : rds_instances) {
      if (!id.empty() && i.identifier != id) continue;
      items += fmt::format(
          "<DBInstance><DBInstanceIdentifier>{}</DBInstanceIdentifier><DBInstanceStatus>{}</DBInstanceStatus>"
          "<Engine>{}</Engine><EngineVersion>{}</EngineVersion><AllocatedStorage>{}</AllocatedStorage>"
          "<Endpoint><Address>{}</Address><Port>{}</Port></Endpoint><OptionGroupMemberships>"
          "<OptionGroupMembership><OptionGroupName>{}</OptionGroupName><Status>in-sync</Status>"
          "</OptionGroupMembership></OptionGroupMemberships></DBInstance>",
          i.identifier, i.status, i.engine, i.engine_version, i.allocated_storage, i.address, i.port, i.option_group);
    }
    if (items.empty()) return query_error(404, "DBInstanceNotFound", "DBInstance " + id + " not found.");
    return aws::HttpResponse{200, k_xml_headers,
                             "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>" + items +
                                 "</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"};
  }
  if (action == "DescribeOptionGroups") {
    const auto name = p.count("OptionGroupName") ? p.at("OptionGroupName") : std::string();
    std::string items;
    for (const auto& g : option_groups) {
      if (!name.empty() && g.name != name) continue;
      std::string options;
      if (g.backup_restore) {
        options = "<Option><OptionName>SQLSERVER_BACKUP_RESTORE</OptionName><OptionSettings>";
        if (!g.iam_role_arn.empty()) {
          options += "<OptionSetting><Name>IAM_ROLE_ARN</Name><Value>" + g.iam_role_arn + "</Value></OptionSetting>";
        }
        options += "</OptionSettings></Option>";
      }
      items += fmt::format("<OptionGroup><OptionGroupName>{}</OptionGroupName><EngineName>sqlserver-se</EngineName>"
                           "<MajorEngineVersion>15.00</MajorEngineVersion><Options>{}</Options></OptionGroup>",
                           g.name, options);
    }
    if (items.empty()) return query_error(404, "OptionGroupNotFoundFault", "Specified OptionGroupName: " + name + " not found.");
    return aws::HttpResponse{200, k_xml_headers,
                             "<DescribeOptionGroupsResponse><DescribeOptionGroupsResult><OptionGroupsList>" + items +
                                 "</OptionGroupsList></DescribeOptionGroupsResult></DescribeOptionGroupsResponse>"};
  }
  return query_error(400, "InvalidAction", "FakeAwsWorld does not know rds " + action);
}

Expected<aws::HttpResponse> FakeAwsWorld::answer_cloudwatch(const std::map<std::string, std::string>& p) {
  if (p.at("Action") != "GetMetricStatistics") return query_error(400, "InvalidAction", "unknown CloudWatch action");
  json request = json::object();
  for (const auto& [k, v] : p) request[k] = v;
  m_metric_requests.push_back(request);
  std::string points;
  if (!latencies.empty()) {
    points = fmt::format("<member><Timestamp>2026-11-25T10:00:00Z</Timestamp><Maximum>{}</Maximum>"
                         "<Unit>Seconds</Unit></member>",
                         latencies.front());
    // Source and target are read one after the other: advance after the target's.
    if (p.at("MetricName") == "CDCLatencyTarget" && latencies.size() > 1) latencies.pop_front();
  }
  return aws::HttpResponse{200, k_xml_headers,
                           "<GetMetricStatisticsResponse><GetMetricStatisticsResult><Label>" + p.at("MetricName") +
                               "</Label><Datapoints>" + points +
                               "</Datapoints></GetMetricStatisticsResult></GetMetricStatisticsResponse>"};
}

Expected<aws::HttpResponse> FakeAwsWorld::answer_s3(const aws::RecordedRequest& r) {
  const auto target = r.target();
  const auto query_at = target.find('?');
  const auto path = target.substr(0, query_at);
  const auto query = query_at == std::string::npos ? std::string() : target.substr(query_at + 1);
  std::string name = path.size() > 1 ? path.substr(1, path.find('/', 1) - 1) : std::string();
  const std::string op = r.method == "HEAD" ? "HeadBucket" : query.rfind("location", 0) == 0 ? "GetBucketLocation" : "?";
  m_calls.push_back("s3:" + op);
  if (name != bucket) {
    if (r.method == "HEAD") return aws::HttpResponse{404, {}, ""};
    return aws::HttpResponse{404, k_xml_headers,
                             "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
                             "<BucketName>" + name + "</BucketName></Error>"};
  }
  if (op == "HeadBucket") return aws::HttpResponse{200, {{"x-amz-bucket-region", bucket_region}}, ""};
  if (op == "GetBucketLocation") {
    return aws::HttpResponse{200, k_xml_headers,
                             "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
                                 (bucket_region == "us-east-1" ? std::string() : bucket_region) + "</LocationConstraint>"};
  }
  return aws::HttpResponse{400, k_xml_headers, "<Error><Code>NotImplemented</Code><Message>FakeAwsWorld</Message></Error>"};
}

MigrationConfig sample_config() {
  MigrationConfig c;
  c.name = "sales";
  c.journal = "/tmp/sales.journal";
  c.source.server = "src.example";
  c.source.port = 1433;
  c.source.database = "Sales";
  c.source.backup_dir_server = "/var/opt/mssql/backup";
  c.source.backup_dir_local = "/mnt/backup";
  c.s3.bucket = "bkt";
  c.s3.prefix = "sales/";
  c.s3.region = "us-east-1";
  c.target.rds_instance = "rds1";
  c.target.database = "Sales";
  c.dms.replication_instance = "ri1";
  c.dms.source_endpoint = "src-ep";
  c.dms.target_endpoint = "tgt-ep";
  c.dms.task_id = "sales-cdc";
  return c;
}

Migration::Migration() {
  clock = std::make_shared<aws::FakeClock>(*aws::parse_amz_date("20261125T100000Z"));
  http->set_handler([this](const aws::RecordedRequest& r) { return aws_world.answer(r); });
  connections.aws = aws::AwsContext::for_endpoint({"AKIDFAKE", "fake/secret", "", std::nullopt, "test"}, "us-east-1",
                                                  "http://127.0.0.1:9", http, clock);
  config.source.backup_dir_local = backup_dir.str();
  connections.clock = clock;
  connections.object_store = store;
  connections.source = [this]() -> Expected<std::unique_ptr<mssql::SqlSession>> {
    if (source_unreachable) return tl::unexpected(*source_unreachable);
    return std::make_unique<mssql::SharedFakeSession>(source);
  };
  connections.target = [this](const std::string& database) -> Expected<std::unique_ptr<mssql::SqlSession>> {
    target_databases_opened.push_back(database);
    return std::make_unique<mssql::SharedFakeSession>(target);
  };
}

std::chrono::system_clock::time_point Migration::start_time() const { return *aws::parse_amz_date("20261125T100000Z"); }

std::vector<std::string> Migration::messages() const {
  std::vector<std::string> out;
  for (const auto& e : events.events()) out.push_back(e.message);
  return out;
}

bool Migration::said(const std::string& fragment) const {
  for (const auto& m : messages())
    if (m.find(fragment) != std::string::npos) return true;
  return false;
}

namespace {
std::vector<std::string> ran(const mssql::FakeSqlSession& s, const std::string& fragment) {
  std::vector<std::string> out;
  for (const auto& sql : s.executed_sql())
    if (sql.find(fragment) != std::string::npos) out.push_back(sql);
  return out;
}
}  // namespace

std::vector<std::string> Migration::source_ran(const std::string& fragment) const { return ran(*source, fragment); }
std::vector<std::string> Migration::target_ran(const std::string& fragment) const { return ran(*target, fragment); }
std::vector<std::string> Migration::source_procedures_run() const {
  std::vector<std::string> out;
  for (const auto& sql : ran(*source, "EXEC"))
    if (sql != "EXEC sp_get_distributor" && sql.find("xp_fileexist") == std::string::npos) out.push_back(sql);
  return out;
}

void Migration::step_done(const std::string& step, const json& outputs) {
  (void)journal.begin_step(step, json::object());
  (void)journal.finish_step(step, outputs);
}

}  // namespace m2r::test
