#include "aws/dms_client.hpp"

#include <cctype>

#include <fmt/format.h>

namespace m2r::aws {
namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::int64_t num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

// JSON 1.1 timestamps are epoch seconds (with fractions).
std::optional<std::chrono::system_clock::time_point> time_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number())
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(it->get<double>())));
  if (it->is_string()) return parse_iso8601(it->get<std::string>());
  return std::nullopt;
}

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

DmsEndpoint parse_endpoint(const nlohmann::json& j) {
  return DmsEndpoint{str(j, "EndpointArn"), str(j, "EndpointIdentifier"), str(j, "EndpointType"), str(j, "EngineName"),
                     str(j, "ServerName"), static_cast<int>(num(j, "Port")), str(j, "DatabaseName"), str(j, "Username"),
                     str(j, "Status"), j};
}

ReplicationInstance parse_instance(const nlohmann::json& j) {
  return ReplicationInstance{str(j, "ReplicationInstanceArn"), str(j, "ReplicationInstanceIdentifier"),
                             str(j, "ReplicationInstanceClass"), str(j, "ReplicationInstanceStatus"),
                             str(j, "EngineVersion"), j};
}

DmsConnection parse_connection(const nlohmann::json& j) {
  return DmsConnection{str(j, "ReplicationInstanceArn"), str(j, "EndpointArn"), str(j, "Status"),
                       str(j, "LastFailureMessage"), str(j, "EndpointIdentifier"),
                       str(j, "ReplicationInstanceIdentifier")};
}

}  // namespace

Expected<void> validate_dms_identifier(const std::string& id, const char* what) {
  bool ok = !id.empty() && id.size() <= 255 && std::isalpha(static_cast<unsigned char>(id[0])) && id.back() != '-' &&
            id.find("--") == std::string::npos;
  for (char c : id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-') && static_cast<unsigned char>(c) < 128;
  if (!ok)
    return fail(ErrorKind::invalid_input, fmt::format("'{}' is not a valid DMS {} identifier", id, what),
                "use 1-255 letters, digits and hyphens, starting with a letter, without a trailing or double hyphen");
  return {};
}

ReplicationTask DmsClient::parse_task(const nlohmann::json& j) {
  ReplicationTask t;
  t.arn = str(j, "ReplicationTaskArn");
  t.identifier = str(j, "ReplicationTaskIdentifier");
  t.status = str(j, "Status");
  t.migration_type = str(j, "MigrationType");
  t.source_endpoint_arn = str(j, "SourceEndpointArn");
  t.target_endpoint_arn = str(j, "TargetEndpointArn");
  t.replication_instance_arn = str(j, "ReplicationInstanceArn");
  t.last_failure_message = str(j, "LastFailureMessage");
  t.stop_reason = str(j, "StopReason");
  t.recovery_checkpoint = str(j, "RecoveryCheckpoint");
  t.cdc_start_position = str(j, "CdcStartPosition");
  if (auto it = j.find("ReplicationTaskStats"); it != j.end() && it->is_object()) {
    const auto& s = *it;
    t.stats = ReplicationTaskStats{static_cast<int>(num(s, "FullLoadProgressPercent")), num(s, "ElapsedTimeMillis"),
                                   static_cast<int>(num(s, "TablesLoaded")), static_cast<int>(num(s, "TablesLoading")),
                                   static_cast<int>(num(s, "TablesQueued")), static_cast<int>(num(s, "TablesErrored"))};
  }
  t.raw = j;
  return t;
}

TableStatistics DmsClient::parse_table_statistics(const nlohmann::json& j) {
  TableStatistics s;
  s.schema_name = str(j, "SchemaName");
  s.table_name = str(j, "TableName");
  s.inserts = num(j, "Inserts");
  s.deletes = num(j, "Deletes");
  s.updates = num(j, "Updates");
  s.ddls = num(j, "Ddls");
  s.applied_inserts = num(j, "AppliedInserts");
  s.applied_deletes = num(j, "AppliedDeletes");
  s.applied_updates = num(j, "AppliedUpdates");
  s.applied_ddls = num(j, "AppliedDdls");
  s.full_load_rows = num(j, "FullLoadRows");
  s.table_state = str(j, "TableState");
  s.validation_state = str(j, "ValidationState");
  s.last_update_time = time_of(j, "LastUpdateTime");
  s.raw = j;
  return s;
}

Expected<nlohmann::json> DmsClient::build_create_replication_task(const CreateReplicationTaskRequest& r) {
  M2R_TRY(validate_dms_identifier(r.identifier, "replication task"));
  if (r.cdc_start_position && r.cdc_start_time)
    return fail(ErrorKind::invalid_input, "a DMS task takes CdcStartPosition or CdcStartTime, not both",
                "give only the start position (the LSN)");
  if (r.migration_type != "full-load" && r.migration_type != "cdc" && r.migration_type != "full-load-and-cdc")
    return fail(ErrorKind::invalid_input, fmt::format("'{}' is not a DMS migration type", r.migration_type),
                "use full-load, cdc or full-load-and-cdc");
  if (nlohmann::json::parse(r.table_mappings, nullptr, false).is_discarded())
    return fail(ErrorKind::invalid_input, "the DMS table mappings are not valid JSON");
  nlohmann::json j = {{"ReplicationTaskIdentifier", r.identifier},
                      {"SourceEndpointArn", r.source_endpoint_arn},
                      {"TargetEndpointArn", r.target_endpoint_arn},
                      {"ReplicationInstanceArn", r.replication_instance_arn},
                      {"MigrationType", r.migration_type},
                      {"TableMappings", r.table_mappings}};
  if (!r.settings.empty()) j["ReplicationTaskSettings"] = r.settings;
  if (r.cdc_start_position) j["CdcStartPosition"] = *r.cdc_start_position;
  if (r.cdc_start_time) j["CdcStartTime"] = epoch_seconds(*r.cdc_start_time);
  if (r.cdc_stop_position) j["CdcStopPosition"] = *r.cdc_stop_position;
  return j;
}

nlohmann::json DmsClient::build_start_replication_task(const std::string& task_arn, const std::string& type,
                                                       const std::optional<std::string>& cdc_start_position) {
  nlohmann::json j = {{"ReplicationTaskArn", task_arn}, {"StartReplicationTaskType", type}};
  if (cdc_start_position) j["CdcStartPosition"] = *cdc_start_position;
  return j;
}

nlohmann::json DmsClient::build_create_endpoint(const CreateEndpointRequest& r) {
  nlohmann::json j = {{"EndpointIdentifier", r.identifier}, {"EndpointType", r.endpoint_type}, {"EngineName", r.engine_name}};
  if (!r.server_name.empty()) j["ServerName"] = r.server_name;
  if (r.port > 0) j["Port"] = r.port;
  if (!r.database_name.empty()) j["DatabaseName"] = r.database_name;
  if (!r.username.empty()) j["Username"] = r.username;
  if (!r.password.empty()) j["Password"] = r.password;
  if (!r.extra_connection_attributes.empty()) j["ExtraConnectionAttributes"] = r.extra_connection_attributes;
  if (!r.ssl_mode.empty()) j["SslMode"] = r.ssl_mode;
  if (r.microsoft_sql_server_settings.is_object()) j["MicrosoftSQLServerSettings"] = r.microsoft_sql_server_settings;
  return j;
}

nlohmann::json DmsClient::build_create_replication_instance(const CreateReplicationInstanceRequest& r) {
  nlohmann::json j = {{"ReplicationInstanceIdentifier", r.identifier}, {"ReplicationInstanceClass", r.instance_class}};
  if (r.allocated_storage > 0) j["AllocatedStorage"] = r.allocated_storage;
  if (!r.engine_version.empty()) j["EngineVersion"] = r.engine_version;
  if (r.publicly_accessible) j["PubliclyAccessible"] = *r.publicly_accessible;
  if (r.multi_az) j["MultiAZ"] = *r.multi_az;
  return j;
}

nlohmann::json DmsClient::build_filters(const std::vector<DmsFilter>& filters) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : filters) list.push_back({{"Name", f.name}, {"Values", f.values}});
  return list;
}

Expected<std::vector<nlohmann::json>> DmsClient::paginate(const std::string& operation, nlohmann::json input,
                                                          const std::string& list_key) {
  std::vector<nlohmann::json> items;
  for (int page = 0; page < 10'000; ++page) {
    auto out = M2R_TRY(m_client.call_json(operation, input, Idempotent::yes));
    if (auto it = out.find(list_key); it != out.end() && it->is_array())
      for (auto& item : *it) items.push_back(item);
    std::string marker = str(out, "Marker");
    if (marker.empty()) return items;
    input["Marker"] = marker;
  }
  return fail(ErrorKind::fatal, fmt::format("dms {}: pagination did not end", operation));
}

Expected<ReplicationTask> DmsClient::create_replication_task(const CreateReplicationTaskRequest& request) {
  auto body = M2R_TRY(build_create_replication_task(request));
  auto out = M2R_TRY(m_client.call_json("CreateReplicationTask", body, Idempotent::no,
                                        "replication task '" + request.identifier + "'"));
  return parse_task(out.value("ReplicationTask", nlohmann::json::object()));
}

Expected<ReplicationTask> DmsClient::start_replication_task(const std::string& task_arn, const std::string& type,
                                                            const std::optional<std::string>& cdc_start_position) {
  auto out = M2R_TRY(m_client.call_json("StartReplicationTask", build_start_replication_task(task_arn, type, cdc_start_position),
                                        Idempotent::no, "task " + task_arn));
  return parse_task(out.value("ReplicationTask", nlohmann::json::object()));
}

Expected<ReplicationTask> DmsClient::stop_replication_task(const std::string& task_arn) {
  auto out = M2R_TRY(m_client.call_json("StopReplicationTask", {{"ReplicationTaskArn", task_arn}}, Idempotent::no,
                                        "task " + task_arn));
  return parse_task(out.value("ReplicationTask", nlohmann::json::object()));
}

Expected<ReplicationTask> DmsClient::delete_replication_task(const std::string& task_arn) {
  auto out = M2R_TRY(m_client.call_json("DeleteReplicationTask", {{"ReplicationTaskArn", task_arn}}, Idempotent::no,
                                        "task " + task_arn));
  return parse_task(out.value("ReplicationTask", nlohmann::json::object()));
}

Expected<std::vector<ReplicationTask>> DmsClient::describe_replication_tasks(const std::vector<DmsFilter>& filters,
                                                                             bool without_settings) {
  nlohmann::json input = nlohmann::json::object();
  if (!filters.empty()) input["Filters"] = build_filters(filters);
  if (without_settings) input["WithoutSettings"] = true;
  auto items = M2R_TRY(paginate("DescribeReplicationTasks", input, "ReplicationTasks"));
  std::vector<ReplicationTask> tasks;
  for (const auto& item : items) tasks.push_back(parse_task(item));
  return tasks;
}

Expected<ReplicationTask> DmsClient::describe_replication_task(const std::string& task_arn) {
  auto tasks = M2R_TRY(describe_replication_tasks({{"replication-task-arn", {task_arn}}}, true));
  if (tasks.empty())
    return fail(ErrorKind::not_found, fmt::format("DMS replication task {} does not exist", task_arn),
                "check the task ARN and the region");
  return tasks.front();
}

Expected<std::vector<TableStatistics>> DmsClient::describe_table_statistics(const std::string& task_arn) {
  auto items = M2R_TRY(paginate("DescribeTableStatistics", {{"ReplicationTaskArn", task_arn}}, "TableStatistics"));
  std::vector<TableStatistics> stats;
  for (const auto& item : items) stats.push_back(parse_table_statistics(item));
  return stats;
}

Expected<DmsEndpoint> DmsClient::create_endpoint(const CreateEndpointRequest& request) {
  M2R_TRY(validate_dms_identifier(request.identifier, "endpoint"));
  auto out = M2R_TRY(m_client.call_json("CreateEndpoint", build_create_endpoint(request), Idempotent::no,
                                        "endpoint '" + request.identifier + "'"));
  return parse_endpoint(out.value("Endpoint", nlohmann::json::object()));
}

Expected<std::vector<DmsEndpoint>> DmsClient::describe_endpoints(const std::vector<DmsFilter>& filters) {
  nlohmann::json input = nlohmann::json::object();
  if (!filters.empty()) input["Filters"] = build_filters(filters);
  auto items = M2R_TRY(paginate("DescribeEndpoints", input, "Endpoints"));
  std::vector<DmsEndpoint> out;
  for (const auto& item : items) out.push_back(parse_endpoint(item));
  return out;
}

Expected<ReplicationInstance> DmsClient::create_replication_instance(const CreateReplicationInstanceRequest& request) {
  M2R_TRY(validate_dms_identifier(request.identifier, "replication instance"));
  auto out = M2R_TRY(m_client.call_json("CreateReplicationInstance", build_create_replication_instance(request),
                                        Idempotent::no, "replication instance '" + request.identifier + "'"));
  return parse_instance(out.value("ReplicationInstance", nlohmann::json::object()));
}

Expected<std::vector<ReplicationInstance>> DmsClient::describe_replication_instances(const std::vector<DmsFilter>& filters) {
  nlohmann::json input = nlohmann::json::object();
  if (!filters.empty()) input["Filters"] = build_filters(filters);
  auto items = M2R_TRY(paginate("DescribeReplicationInstances", input, "ReplicationInstances"));
  std::vector<ReplicationInstance> out;
  for (const auto& item : items) out.push_back(parse_instance(item));
  return out;
}

Expected<DmsConnection> DmsClient::test_connection(const std::string& replication_instance_arn,
                                                   const std::string& endpoint_arn) {
  auto out = M2R_TRY(m_client.call_json(
      "TestConnection", {{"ReplicationInstanceArn", replication_instance_arn}, {"EndpointArn", endpoint_arn}},
      Idempotent::no, "endpoint " + endpoint_arn));
  return parse_connection(out.value("Connection", nlohmann::json::object()));
}

Expected<std::vector<DmsConnection>> DmsClient::describe_connections(const std::vector<DmsFilter>& filters) {
  nlohmann::json input = nlohmann::json::object();
  if (!filters.empty()) input["Filters"] = build_filters(filters);
  auto items = M2R_TRY(paginate("DescribeConnections", input, "Connections"));
  std::vector<DmsConnection> out;
  for (const auto& item : items) out.push_back(parse_connection(item));
  return out;
}

}  // namespace m2r::aws
