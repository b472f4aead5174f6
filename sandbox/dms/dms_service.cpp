#include "dms/dms_service.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "dms/cdc_checkpoint.hpp"
#include "dms/task_documents.hpp"

namespace sandbox::dms {

using nlohmann::json;

namespace {

constexpr const char* k_invalid_value = "InvalidParameterValueException";
constexpr const char* k_invalid_combination = "InvalidParameterCombinationException";
constexpr const char* k_not_found = "ResourceNotFoundFault";
constexpr const char* k_already_exists = "ResourceAlreadyExistsFault";
constexpr const char* k_invalid_state = "InvalidResourceStateFault";

std::string str(const json& in, const char* name) {
  auto it = in.find(name);
  return it != in.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool has(const json& in, const char* name) { return in.contains(name) && !in.at(name).is_null(); }

// Members botocore's model marks required; the CLI checks them before sending, a raw
// client meets the service's MissingParameter.
std::optional<DmsReply> require(const json& in, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (!has(in, name)) return dms_error("MissingParameter", std::string("The request must contain the parameter ") + name);
  return std::nullopt;
}

std::optional<DmsReply> check_identifier(const std::string& id, const char* parameter, std::size_t max_length) {
  if (valid_identifier(id, max_length)) return std::nullopt;
  return dms_error(k_invalid_value, std::string("The parameter ") + parameter +
                                        " is not a valid identifier. Identifiers must begin with a letter; must "
                                        "contain only ASCII letters, digits, and hyphens; and must not end with a "
                                        "hyphen or contain two consecutive hyphens.");
}

std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Filters: [{"Name": n, "Values": [...]}]; `fields` maps a filter name to the member it tests.
std::optional<DmsReply> apply_filters(const json& in, const std::map<std::string, std::string>& fields,
                                      std::vector<json>& items) {
  if (!has(in, "Filters")) return std::nullopt;
  if (!in["Filters"].is_array()) return dms_error(k_invalid_value, "Filters must be a list");
  for (const auto& f : in["Filters"]) {
    const std::string name = str(f, "Name");
    auto field = fields.find(name);
    if (field == fields.end())
      return dms_error(k_invalid_value, "Invalid filter name: " + name);
    if (!f.contains("Values") || !f["Values"].is_array())
      return dms_error(k_invalid_value, "Filter " + name + " must have Values");
    std::vector<json> kept;
    for (auto& item : items) {
      json v = item.contains(field->second) ? item[field->second] : json();
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      for (const auto& want : f["Values"])
        if (want.is_string() && to_lower(want.get<std::string>()) == to_lower(text)) {
          kept.push_back(item);
          break;
        }
    }
    items = std::move(kept);
  }
  return std::nullopt;
}

// MaxRecords (20-100, default 100) and Marker (an opaque offset we hand out).
std::optional<DmsReply> paginate(const json& in, std::vector<json>& items, json& out) {
  std::size_t max_records = 100;
  if (has(in, "MaxRecords")) {
    if (!in["MaxRecords"].is_number_integer()) return dms_error(k_invalid_value, "MaxRecords must be an integer");
    auto m = in["MaxRecords"].get<long long>();
    if (m < 20 || m > 100) return dms_error(k_invalid_value, "The parameter MaxRecords must be between 20 and 100");
    max_records = static_cast<std::size_t>(m);
  }
  std::size_t start = 0;
  if (has(in, "Marker")) {
    const std::string marker = str(in, "Marker");
    if (marker.empty() || !std::all_of(marker.begin(), marker.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return dms_error(k_invalid_value, "Invalid Marker");
    start = std::min<std::size_t>(std::stoul(marker), items.size());
  }
  std::vector<json> page(items.begin() + static_cast<std::ptrdiff_t>(start),
                         items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), start + max_records)));
  if (start + max_records < items.size()) out["Marker"] = std::to_string(start + max_records);
  items = std::move(page);
  return std::nullopt;
}

json stats_json(const TableStats& s) {
  return json{{"SchemaName", s.schema_name}, {"TableName", s.table_name},
              {"Inserts", s.inserts}, {"Deletes", s.deletes}, {"Updates", s.updates}, {"Ddls", s.ddls},
              {"AppliedInserts", s.applied_inserts}, {"AppliedDeletes", s.applied_deletes},
              {"AppliedUpdates", s.applied_updates}, {"AppliedDdls", s.applied_ddls},
              {"FullLoadRows", s.full_load_rows}, {"FullLoadCondtnlChkFailedRows", 0}, {"FullLoadErrorRows", 0},
              {"FullLoadReloaded", false}, {"LastUpdateTime", s.last_update_time}, {"TableState", s.table_state},
              {"ValidationPendingRecords", 0}, {"ValidationFailedRecords", 0}, {"ValidationSuspendedRecords", 0},
              {"ValidationState", "Not enabled"}};
}

TableStats stats_from_json(const json& j) {
  TableStats s;
  s.schema_name = str(j, "SchemaName");
  s.table_name = str(j, "TableName");
  s.inserts = j.value("Inserts", 0LL);
  s.deletes = j.value("Deletes", 0LL);
  s.updates = j.value("Updates", 0LL);
  s.ddls = j.value("Ddls", 0LL);
  s.applied_inserts = j.value("AppliedInserts", 0LL);
  s.applied_deletes = j.value("AppliedDeletes", 0LL);
  s.applied_updates = j.value("AppliedUpdates", 0LL);
  s.applied_ddls = j.value("AppliedDdls", 0LL);
  s.full_load_rows = j.value("FullLoadRows", 0LL);
  s.table_state = j.value("TableState", std::string("Table completed"));
  s.last_update_time = j.value("LastUpdateTime", 0.0);
  return s;
}

// The task settings DMS returns when none are given: the defaults the product relies on
// are spelled out; a given document is merged over them.
json default_task_settings() {
  return json::parse(R"({
    "TargetMetadata": {"TargetSchema": "", "SupportLobs": true, "FullLobMode": false, "LobChunkSize": 64,
                       "LimitedSizeLobMode": true, "LobMaxSize": 32, "BatchApplyEnabled": false},
    "FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "StopTaskCachedChangesApplied": false,
                         "StopTaskCachedChangesNotApplied": false, "MaxFullLoadSubTasks": 8},
    "Logging": {"EnableLogging": false},
    "ChangeProcessingTuning": {"BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 30, "MinTransactionSize": 1000,
                               "CommitTimeout": 1, "MemoryLimitTotal": 1024},
    "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "ApplyErrorDeletePolicy": "IGNORE_RECORD",
                      "ApplyErrorInsertPolicy": "LOG_ERROR", "ApplyErrorUpdatePolicy": "LOG_ERROR",
                      "ApplyErrorEscalationPolicy": "LOG_ERROR", "FullLoadIgnoreConflicts": true}
  })");
}

const std::map<std::string, std::string> k_engine_display = {
    {"sqlserver", "Microsoft SQL Server"}, {"mysql", "MySQL"}, {"postgres", "PostgreSQL"}, {"oracle", "Oracle"},
    {"aurora", "Amazon Aurora MySQL"}, {"aurora-postgresql", "Amazon Aurora PostgreSQL"}, {"mariadb", "MariaDB"},
    {"s3", "Amazon S3"}, {"db2", "IBM Db2 for Linux, Unix, and Windows"}, {"sybase", "SAP Sybase ASE"},
    {"azuredb", "Microsoft Azure SQL Database"}, {"azure-sql-managed-instance", "Azure SQL Managed Instance"},
    {"redshift", "Amazon Redshift"}, {"dynamodb", "Amazon DynamoDB"}, {"kinesis", "Amazon Kinesis"},
    {"kafka", "Kafka"}, {"opensearch", "Amazon OpenSearch Service"}, {"docdb", "Amazon DocumentDB"},
    {"mongodb", "MongoDB"}, {"neptune", "Amazon Neptune"}, {"redis", "Redis"}, {"babelfish", "Babelfish"}};

}  // namespace

DmsReply dms_error(const std::string& type, const std::string& message, int status) {
  return DmsReply{status, json{{"__type", type}, {"message", message}}};
}

bool valid_identifier(const std::string& id, std::size_t max_length) {
  if (id.empty() || id.size() > max_length) return false;
  if (!std::isalpha(static_cast<unsigned char>(id.front())) || id.back() == '-') return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (!(std::isalnum(c) || c == '-') || c >= 0x80) return false;
    if (c == '-' && i > 0 && id[i - 1] == '-') return false;
  }
  return true;
}

bool valid_cdc_start_position(const std::string& position) {
  // docs/facts.md §1: DMS takes the zero-padded hex form only, for SQL Server sources.
  static const std::regex k_hex_lsn("^[0-9a-fA-F]{8}:[0-9a-fA-F]{8}:[0-9a-fA-F]{4}$");
  static const std::regex k_date("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$");
  if (std::regex_match(position, k_hex_lsn) || std::regex_match(position, k_date)) return true;
  return parse_checkpoint(position).has_value();
}

std::string new_resource_id() {
  static std::mutex mutex;
  static std::mt19937_64 rng(std::random_device{}());
  static const char* k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::lock_guard lock(mutex);
  std::string id;
  for (int i = 0; i < 26; ++i) id += k_alphabet[rng() % 36];
  if (std::isdigit(static_cast<unsigned char>(id[0]))) id[0] = 'A';
  return id;
}

double epoch_seconds_now() {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

DmsService::DmsService(DmsServiceConfig config) : m_config(std::move(config)) { load(); }

DmsService::~DmsService() { stop_all(); }

void DmsService::stop_all() {
  std::map<std::string, std::unique_ptr<CdcRunner>> runners;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [arn, runner] : m_runners) {
      runner->request_stop();
      auto it = m_tasks.find(arn);
      if (it != m_tasks.end() && (*it).second["Status"] != "failed" && (*it).second["Status"] != "stopped")
        (*it).second["Status"] = "stopping";
    }
    runners.swap(m_runners);
  }
  for (auto& [arn, runner] : runners) runner->join();
  std::vector<Tester> testers;
  {
    std::lock_guard lock(m_mutex);
    testers.swap(m_testers);
  }
  for (auto& t : testers) t.thread.join();  // each ends within its login timeout
}

std::string DmsService::new_arn(const std::string& kind, const json& in) const {
  std::string id = str(in, "ResourceIdentifier");
  if (id.empty()) id = new_resource_id();
  return "arn:aws:dms:" + m_config.region + ":" + m_config.account_id + ":" + kind + ":" + id;
}

DmsReply DmsService::handle(const std::string& operation, const json& input) {
  if (!input.is_object()) return dms_error("SerializationException", "The request body must be a JSON object");
  std::lock_guard lock(m_mutex);
  advance_provisioning();
  if (operation == "CreateReplicationInstance") return create_replication_instance(input);
  if (operation == "DescribeReplicationInstances") return describe_replication_instances(input);
  if (operation == "CreateEndpoint") return create_endpoint(input);
  if (operation == "DescribeEndpoints") return describe_endpoints(input);
  if (operation == "TestConnection") return test_connection(input);
  if (operation == "DescribeConnections") return describe_connections(input);
  if (operation == "CreateReplicationTask") return create_replication_task(input);
  if (operation == "StartReplicationTask") return start_replication_task(input);
  if (operation == "StopReplicationTask") return stop_replication_task(input);
  if (operation == "DeleteReplicationTask") return delete_replication_task(input);
  if (operation == "DescribeReplicationTasks") return describe_replication_tasks(input);
  if (operation == "DescribeTableStatistics") return describe_table_statistics(input);
  return dms_error("UnknownOperationException", "The sandbox's DMS does not implement " + operation);
}

// Real DMS takes minutes to provision; the sandbox answers "creating" once and is ready at
// the next call, so clients must poll as they must against AWS. Connection tests end on their
// own thread (connection_tested).
void DmsService::advance_provisioning() {
  bool changed = false;
  for (auto& [arn, ri] : m_instances)
    if (ri["ReplicationInstanceStatus"] == "creating") {
      ri["ReplicationInstanceStatus"] = "available";
      changed = true;
    }
  for (auto& [arn, task] : m_tasks)
    if (task["Status"] == "creating") {
      task["Status"] = "ready";
      changed = true;
    }
  if (changed) save();
}

// ---- Replication instances ----

DmsReply DmsService::create_replication_instance(const json& in) {
  if (auto e = require(in, {"ReplicationInstanceIdentifier", "ReplicationInstanceClass"})) return *e;
  const std::string id = to_lower(str(in, "ReplicationInstanceIdentifier"));  // DMS stores it lower case
  if (auto e = check_identifier(id, "ReplicationInstanceIdentifier", 63)) return *e;
  const std::string cls = str(in, "ReplicationInstanceClass");
  if (cls.rfind("dms.", 0) != 0)
    return dms_error(k_invalid_value, "The parameter ReplicationInstanceClass is not valid: " + cls);
  for (const auto& [arn, ri] : m_instances)
    if (ri["ReplicationInstanceIdentifier"] == id)
      return dms_error(k_already_exists, "ReplicationInstance " + id + " already exists");
  const int storage = has(in, "AllocatedStorage") ? in["AllocatedStorage"].get<int>() : 50;
  if (storage < 5 || storage > 6144)
    return dms_error(k_invalid_value, "The parameter AllocatedStorage must be between 5 and 6144");
  const std::string arn = new_arn("rep", in);
  const std::string az = has(in, "AvailabilityZone") ? str(in, "AvailabilityZone") : m_config.region + "a";
  json ri = {{"ReplicationInstanceIdentifier", id},
             {"ReplicationInstanceClass", cls},
             {"ReplicationInstanceStatus", "creating"},
             {"AllocatedStorage", storage},
             {"InstanceCreateTime", epoch_seconds_now()},
             {"VpcSecurityGroups", json::array({{{"VpcSecurityGroupId", "sg-0sandbox"}, {"Status", "active"}}})},
             {"AvailabilityZone", az},
             {"ReplicationSubnetGroup",
              {{"ReplicationSubnetGroupIdentifier", "default"},
               {"ReplicationSubnetGroupDescription", "default"},
               {"VpcId", "vpc-0sandbox"},
               {"SubnetGroupStatus", "Complete"},
               {"Subnets", json::array({{{"SubnetIdentifier", "subnet-0sandbox"},
                                         {"SubnetAvailabilityZone", {{"Name", az}}},
                                         {"SubnetStatus", "Active"}}})},
               {"SupportedNetworkTypes", json::array({"IPV4"})}}},
             {"PreferredMaintenanceWindow", has(in, "PreferredMaintenanceWindow") ? str(in, "PreferredMaintenanceWindow")
                                                                                  : "sun:06:00-sun:06:30"},
             {"PendingModifiedValues", json::object()},
             {"MultiAZ", in.value("MultiAZ", false)},
             {"EngineVersion", has(in, "EngineVersion") ? str(in, "EngineVersion") : "3.5.3"},
             {"AutoMinorVersionUpgrade", in.value("AutoMinorVersionUpgrade", true)},
             {"KmsKeyId", "arn:aws:kms:" + m_config.region + ":" + m_config.account_id + ":key/sandbox"},
             {"ReplicationInstanceArn", arn},
             {"ReplicationInstancePublicIpAddress", "127.0.0.1"},
             {"ReplicationInstancePrivateIpAddress", "127.0.0.1"},
             {"ReplicationInstancePublicIpAddresses", json::array({"127.0.0.1"})},
             {"ReplicationInstancePrivateIpAddresses", json::array({"127.0.0.1"})},
             {"ReplicationInstanceIpv6Addresses", json::array()},
             {"PubliclyAccessible", in.value("PubliclyAccessible", true)},
             {"NetworkType", has(in, "NetworkType") ? str(in, "NetworkType") : "IPV4"}};
  m_instances[arn] = ri;
  save();
  return DmsReply{200, json{{"ReplicationInstance", ri}}};
}

DmsReply DmsService::describe_replication_instances(const json& in) {
  std::vector<json> items;
  for (const auto& [arn, ri] : m_instances) items.push_back(ri);
  if (auto e = apply_filters(in, {{"replication-instance-arn", "ReplicationInstanceArn"},
                                  {"replication-instance-id", "ReplicationInstanceIdentifier"},
                                  {"replication-instance-class", "ReplicationInstanceClass"},
                                  {"engine-version", "EngineVersion"}},
                             items))
    return *e;
  if (items.empty()) return dms_error(k_not_found, "No replication instances found matching provided filters");
  json out = json::object();
  if (auto e = paginate(in, items, out)) return *e;
  out["ReplicationInstances"] = items;
  return DmsReply{200, out};
}

// ---- Endpoints ----

json DmsService::public_endpoint(const json& endpoint) {
  json e = endpoint;
  e.erase("_private");
  return e;
}

DmsReply DmsService::create_endpoint(const json& in) {
  if (auto e = require(in, {"EndpointIdentifier", "EndpointType", "EngineName"})) return *e;
  const std::string id = to_lower(str(in, "EndpointIdentifier"));
  if (auto e = check_identifier(id, "EndpointIdentifier", 255)) return *e;
  const std::string type = str(in, "EndpointType");
  if (type != "source" && type != "target")
    return dms_error(k_invalid_value, "The parameter EndpointType must be source or target");
  const std::string engine = str(in, "EngineName");
  auto display = k_engine_display.find(engine);
  if (display == k_engine_display.end()) return dms_error(k_invalid_value, "Invalid engine name: " + engine);
  for (const auto& [arn, ep] : m_endpoints)
    if (ep["EndpointIdentifier"] == id) return dms_error(k_already_exists, "Endpoint " + id + " already exists");

  // For SQL Server the connection fields come either at top level or in MicrosoftSQLServerSettings.
  json ms = has(in, "MicrosoftSQLServerSettings") ? in["MicrosoftSQLServerSettings"] : json::object();
  auto pick = [&](const char* name) { return has(in, name) ? in[name] : (ms.contains(name) ? ms[name] : json()); };
  if (engine == "sqlserver") {
    for (const char* name : {"ServerName", "Port", "DatabaseName", "Username", "Password"})
      if (pick(name).is_null())
        return dms_error(k_invalid_value, std::string("The parameter ") + name +
                                              " must be provided for a Microsoft SQL Server endpoint");
    if (!pick("Port").is_number_integer() || pick("Port").get<int>() < 1 || pick("Port").get<int>() > 65535)
      return dms_error(k_invalid_value, "The parameter Port must be between 1 and 65535");
    if (ms.contains("SafeguardPolicy")) {
      const std::string policy = ms["SafeguardPolicy"].is_string() ? ms["SafeguardPolicy"].get<std::string>() : "";
      if (policy != "rely-on-sql-server-replication-agent" && policy != "exclusive-automatic-truncation" &&
          policy != "shared-automatic-truncation")
        return dms_error(k_invalid_value, "Invalid SafeguardPolicy: " + policy);
    }
  }
  const std::string ssl = has(in, "SslMode") ? str(in, "SslMode") : "none";
  if (ssl != "none" && ssl != "require" && ssl != "verify-ca" && ssl != "verify-full")
    return dms_error(k_invalid_value, "Invalid SslMode: " + ssl);

  const std::string arn = new_arn("endpoint", in);
  json ep = {{"EndpointIdentifier", id},
             {"EndpointType", type == "source" ? "SOURCE" : "TARGET"},
             {"EngineName", engine},
             {"EngineDisplayName", display->second},
             {"Status", "active"},
             {"KmsKeyId", "arn:aws:kms:" + m_config.region + ":" + m_config.account_id + ":key/sandbox"},
             {"EndpointArn", arn},
             {"SslMode", ssl}};
  for (const char* name : {"Username", "ServerName", "Port", "DatabaseName"})
    if (!pick(name).is_null()) ep[name] = pick(name);
  ep["ExtraConnectionAttributes"] = has(in, "ExtraConnectionAttributes") ? str(in, "ExtraConnectionAttributes") : "";
  for (const char* name : {"CertificateArn", "ServiceAccessRoleArn", "ExternalTableDefinition"})
    if (has(in, name)) ep[name] = in[name];
  ep["ExternalId"] = new_resource_id();
  if (engine == "sqlserver") {
    json settings = ms;
    settings.erase("Password");
    for (const char* name : {"Username", "ServerName", "Port", "DatabaseName"})
      if (!pick(name).is_null()) settings[name] = pick(name);
    ep["MicrosoftSQLServerSettings"] = settings;
  }
  ep["_private"] = {{"password", pick("Password").is_string() ? pick("Password").get<std::string>() : ""}};
  m_endpoints[arn] = ep;
  save();
  return DmsReply{200, json{{"Endpoint", public_endpoint(ep)}}};
}

DmsReply DmsService::describe_endpoints(const json& in) {
  std::vector<json> items;
  for (const auto& [arn, ep] : m_endpoints) items.push_back(public_endpoint(ep));
  // endpoint-type values are matched case-insensitively ("source" finds "SOURCE").
  if (auto e = apply_filters(in, {{"endpoint-arn", "EndpointArn"}, {"endpoint-type", "EndpointType"},
                                  {"endpoint-id", "EndpointIdentifier"}, {"engine-name", "EngineName"}},
                             items))
    return *e;
  if (items.empty()) return dms_error(k_not_found, "No Endpoints found matching provided filters");
  json out = json::object();
  if (auto e = paginate(in, items, out)) return *e;
  out["Endpoints"] = items;
  return DmsReply{200, out};
}

// ---- Connections ----

// TestConnection logs in to the endpoint from the replication instance, asynchronously as DMS
// does: the answer and DescribeConnections say "testing" until the login ends, then
// "successful" or "failed" with the server's error in LastFailureMessage
// (dms/endpoint_connection.hpp words it as DMS does).
DmsReply DmsService::test_connection(const json& in) {
  if (auto e = require(in, {"ReplicationInstanceArn", "EndpointArn"})) return *e;
  auto ri = m_instances.find(str(in, "ReplicationInstanceArn"));
  if (ri == m_instances.end()) return dms_error(k_not_found, "Replication Instance not found");
  auto ep = m_endpoints.find(str(in, "EndpointArn"));
  if (ep == m_endpoints.end()) return dms_error(k_not_found, "Endpoint not found");
  if (ri->second["ReplicationInstanceStatus"] != "available")
    return dms_error(k_invalid_state, "Replication instance is not in available state");
  auto same_pair = [&](const json& x) {
    return x["ReplicationInstanceArn"] == ri->first && x["EndpointArn"] == ep->first;
  };
  // A second test while one runs: DMS's words, as boto3's TestConnectionSucceeds waiter met them
  // (boto/boto3#1760).
  for (const auto& x : m_connections)
    if (same_pair(x) && x["Status"] == "testing") return dms_error(k_invalid_state, "Connection is already being tested");
  const std::uint64_t test_id = m_next_test_id++;
  json c = {{"ReplicationInstanceArn", ri->first},
            {"EndpointArn", ep->first},
            {"Status", "testing"},
            {"EndpointIdentifier", ep->second["EndpointIdentifier"]},
            {"ReplicationInstanceIdentifier", ri->second["ReplicationInstanceIdentifier"]},
            {"_private", {{"test_id", test_id}}}};
  std::erase_if(m_connections, same_pair);
  m_connections.push_back(c);
  save();
  // Threads of tests that ended are joined here (joining one that ended does not wait).
  std::erase_if(m_testers, [](Tester& t) {
    if (!t.done->load()) return false;
    t.thread.join();
    return true;
  });
  const EndpointSpec spec = endpoint_spec(ep->first);
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([this, test_id, spec, done, tester = m_config.connection_tester] {
    if (!tester) connection_tested(test_id, "Test Endpoint failed: the sandbox's DMS was started without a connection tester");
    else connection_tested(test_id, tester(spec));
    done->store(true);
  });
  m_testers.push_back({std::move(thread), std::move(done)});
  c.erase("_private");
  return DmsReply{200, json{{"Connection", c}}};
}

void DmsService::connection_tested(std::uint64_t test_id, const std::optional<std::string>& failure) {
  std::lock_guard lock(m_mutex);
  for (auto& c : m_connections) {
    if (!c.contains("_private") || c["_private"].value("test_id", std::uint64_t{0}) != test_id) continue;
    c["Status"] = failure ? "failed" : "successful";
    if (failure) c["LastFailureMessage"] = *failure;
    else c.erase("LastFailureMessage");
    c.erase("_private");
    save();
    return;
  }
}

DmsReply DmsService::describe_connections(const json& in) {
  std::vector<json> items;
  for (auto c : m_connections) {
    c.erase("_private");
    items.push_back(c);
  }
  if (auto e = apply_filters(in, {{"endpoint-arn", "EndpointArn"}, {"replication-instance-arn", "ReplicationInstanceArn"}},
                             items))
    return *e;
  if (items.empty()) return dms_error(k_not_found, "No connections found matching provided filters");
  json out = json::object();
  if (auto e = paginate(in, items, out)) return *e;
  out["Connections"] = items;
  return DmsReply{200, out};
}

// ---- Tasks ----

json DmsService::public_task(const json& task, bool with_settings) const {
  json t = task;
  t.erase("_private");
  if (!with_settings) t.erase("ReplicationTaskSettings");
  return t;
}

namespace {
std::optional<DmsReply> check_start_point(const json& in) {
  // docs/facts.md §4: CdcStartPosition or CdcStartTime, both is an error.
  if (has(in, "CdcStartPosition") && has(in, "CdcStartTime"))
    return dms_error(k_invalid_combination, "CdcStartPosition and CdcStartTime are mutually exclusive. Specify only one.");
  if (has(in, "CdcStartPosition") && !valid_cdc_start_position(str(in, "CdcStartPosition")))
    return dms_error(k_invalid_value, "Invalid CdcStartPosition format");  // docs/facts.md §10
  if (has(in, "CdcStartTime") && !in["CdcStartTime"].is_number())
    return dms_error(k_invalid_value, "Invalid CdcStartTime format");
  if (has(in, "CdcStopPosition")) {
    const std::string stop = str(in, "CdcStopPosition");
    if (stop.rfind("server_time:", 0) != 0 && stop.rfind("commit_time:", 0) != 0)
      return dms_error(k_invalid_value, "Invalid CdcStopPosition format");
  }
  return std::nullopt;
}
}  // namespace

DmsReply DmsService::create_replication_task(const json& in) {
  if (auto e = require(in, {"ReplicationTaskIdentifier", "SourceEndpointArn", "TargetEndpointArn",
                            "ReplicationInstanceArn", "MigrationType", "TableMappings"}))
    return *e;
  const std::string id = to_lower(str(in, "ReplicationTaskIdentifier"));
  if (auto e = check_identifier(id, "ReplicationTaskIdentifier", 255)) return *e;
  const std::string type = str(in, "MigrationType");
  if (type != "full-load" && type != "cdc" && type != "full-load-and-cdc")
    return dms_error(k_invalid_value, "Invalid value for MigrationType: " + type);
  if (auto e = check_start_point(in)) return *e;
  if (type == "full-load" && (has(in, "CdcStartPosition") || has(in, "CdcStartTime")))
    return dms_error(k_invalid_combination, "A CDC start point is not valid for a full-load task");
  json mappings;
  try {
    mappings = json::parse(str(in, "TableMappings"));
  } catch (const json::exception&) {
    return dms_error(k_invalid_value, "Invalid Table Mappings document. Invalid json");
  }
  if (auto problem = table_mappings_problem(mappings))
    return dms_error(k_invalid_value, "Invalid Table Mappings document. " + *problem);
  json settings = default_task_settings();
  if (has(in, "ReplicationTaskSettings")) {
    json given;
    try {
      given = json::parse(str(in, "ReplicationTaskSettings"));
    } catch (const json::exception&) {
      return dms_error(k_invalid_value, "Invalid task settings JSON");
    }
    if (auto problem = task_settings_problem(given)) return dms_error(k_invalid_value, "Invalid task settings JSON. " + *problem);
    settings.merge_patch(given);
  }
  auto src = m_endpoints.find(str(in, "SourceEndpointArn"));
  auto dst = m_endpoints.find(str(in, "TargetEndpointArn"));
  auto ri = m_instances.find(str(in, "ReplicationInstanceArn"));
  if (src == m_endpoints.end()) return dms_error(k_not_found, "Source endpoint not found");
  if (dst == m_endpoints.end()) return dms_error(k_not_found, "Target endpoint not found");
  if (ri == m_instances.end()) return dms_error(k_not_found, "Replication Instance not found");
  if (src->second["EndpointType"] != "SOURCE")
    return dms_error(k_invalid_value, "The endpoint " + src->first + " is not a source endpoint");
  if (dst->second["EndpointType"] != "TARGET")
    return dms_error(k_invalid_value, "The endpoint " + dst->first + " is not a target endpoint");
  for (const auto& [arn, task] : m_tasks)
    if (task["ReplicationTaskIdentifier"] == id)
      return dms_error(k_already_exists, "ReplicationTask " + id + " already exists");

  const std::string arn = new_arn("task", in);
  json task = {{"ReplicationTaskIdentifier", id},
               {"SourceEndpointArn", src->first},
               {"TargetEndpointArn", dst->first},
               {"ReplicationInstanceArn", ri->first},
               {"MigrationType", type},
               {"TableMappings", str(in, "TableMappings")},
               {"ReplicationTaskSettings", settings.dump()},
               {"Status", "creating"},
               {"ReplicationTaskCreationDate", epoch_seconds_now()},
               {"ReplicationTaskArn", arn},
               {"ReplicationTaskStats",
                {{"FullLoadProgressPercent", 0}, {"ElapsedTimeMillis", 0}, {"TablesLoaded", 0}, {"TablesLoading", 0},
                 {"TablesQueued", 0}, {"TablesErrored", 0}}},
               {"_private", {{"started_once", false}}}};
  if (has(in, "CdcStartPosition")) task["CdcStartPosition"] = str(in, "CdcStartPosition");
  if (has(in, "CdcStartTime")) task["_private"]["cdc_start_time"] = in["CdcStartTime"];
  if (has(in, "CdcStopPosition")) task["CdcStopPosition"] = str(in, "CdcStopPosition");
  if (has(in, "TaskData")) task["TaskData"] = str(in, "TaskData");
  m_tasks[arn] = task;
  save();
  return DmsReply{200, json{{"ReplicationTask", public_task(task)}}};
}

EndpointSpec DmsService::endpoint_spec(const std::string& arn) const {
  const json& e = m_endpoints.at(arn);
  EndpointSpec s;
  s.arn = arn;
  s.identifier = str(e, "EndpointIdentifier");
  s.engine_name = str(e, "EngineName");
  s.server_name = str(e, "ServerName");
  s.port = e.value("Port", 0);
  s.database_name = str(e, "DatabaseName");
  s.username = str(e, "Username");
  s.password = e["_private"].value("password", std::string());
  s.ssl_mode = e.value("SslMode", std::string("none"));
  s.settings = e.value("MicrosoftSQLServerSettings", json::object());
  return s;
}

CdcTaskSpec DmsService::task_spec(const json& task, StartKind kind) const {
  CdcTaskSpec spec;
  spec.task_arn = str(task, "ReplicationTaskArn");
  spec.task_identifier = str(task, "ReplicationTaskIdentifier");
  spec.task_resource_id = spec.task_arn.substr(spec.task_arn.rfind(':') + 1);
  spec.instance_identifier = str(m_instances.at(str(task, "ReplicationInstanceArn")), "ReplicationInstanceIdentifier");
  spec.migration_type = str(task, "MigrationType");
  spec.source = endpoint_spec(str(task, "SourceEndpointArn"));
  spec.target = endpoint_spec(str(task, "TargetEndpointArn"));
  spec.table_mappings = str(task, "TableMappings");
  spec.task_settings = str(task, "ReplicationTaskSettings");
  spec.start_kind = kind;
  spec.cdc_start_position = str(task, "CdcStartPosition");
  if (task["_private"].contains("cdc_start_time")) spec.cdc_start_time = task["_private"]["cdc_start_time"].get<double>();
  spec.recovery_checkpoint = str(task, "RecoveryCheckpoint");
  return spec;
}

DmsReply DmsService::start_replication_task(const json& in) {
  if (auto e = require(in, {"ReplicationTaskArn", "StartReplicationTaskType"})) return *e;
  auto it = m_tasks.find(str(in, "ReplicationTaskArn"));
  if (it == m_tasks.end()) return dms_error(k_not_found, "Replication Task not found");
  json& task = it->second;
  const std::string type = str(in, "StartReplicationTaskType");
  StartKind kind;
  if (type == "start-replication") kind = StartKind::start_replication;
  else if (type == "resume-processing") kind = StartKind::resume_processing;
  else if (type == "reload-target") kind = StartKind::reload_target;
  else return dms_error(k_invalid_value, "Invalid StartReplicationTaskType: " + type);
  if (auto e = check_start_point(in)) return *e;
  const std::string status = task["Status"];
  if (status != "ready" && status != "stopped" && status != "failed")
    return dms_error(k_invalid_state, "Replication task " + str(task, "ReplicationTaskIdentifier") +
                                          " is in status " + status + "; it can be started only when ready, stopped or failed");
  // docs/facts.md §4: reload-target is invalid for a cdc task.
  if (kind == StartKind::reload_target && task["MigrationType"] == "cdc")
    return dms_error(k_invalid_combination, "Start type RELOAD_TARGET is not valid for a task with migration type cdc");
  if (kind == StartKind::start_replication && task["_private"].value("started_once", false))
    return dms_error(k_invalid_state, "Start Type : START_REPLICATION, valid only for tasks running for the first time");
  // DMS starts a task only when both endpoints passed TestConnection with the task's
  // replication instance; its words, as users met them (e.g. hashicorp/terraform-provider-aws
  // acceptance runs, cockroachdb/cockroach#82182 "test endpoint before ... the replication task").
  const std::string ri_arn = str(task, "ReplicationInstanceArn");
  for (const char* which : {"SourceEndpointArn", "TargetEndpointArn"}) {
    const std::string ep_arn = str(task, which);
    const bool tested = std::any_of(m_connections.begin(), m_connections.end(), [&](const json& c) {
      return c["ReplicationInstanceArn"] == ri_arn && c["EndpointArn"] == ep_arn && c["Status"] == "successful";
    });
    if (!tested)
      return dms_error(k_invalid_state,
                       "Test connection for replication instance " +
                           str(m_instances.at(ri_arn), "ReplicationInstanceIdentifier") + " and endpoint " +
                           str(m_endpoints.at(ep_arn), "EndpointIdentifier") +
                           " should be successful for starting the replication task");
  }
  if (has(in, "CdcStartPosition")) {
    task["CdcStartPosition"] = str(in, "CdcStartPosition");
    task["_private"].erase("cdc_start_time");
  }
  if (has(in, "CdcStartTime")) {
    task.erase("CdcStartPosition");
    task["_private"]["cdc_start_time"] = in["CdcStartTime"];
  }
  if (has(in, "CdcStopPosition")) task["CdcStopPosition"] = str(in, "CdcStopPosition");
  if (kind != StartKind::resume_processing) task.erase("RecoveryCheckpoint");

  const double now = epoch_seconds_now();
  task["Status"] = "starting";
  task.erase("LastFailureMessage");
  task.erase("StopReason");
  task["ReplicationTaskStartDate"] = now;
  task["ReplicationTaskStats"]["StartDate"] = now;
  task["ReplicationTaskStats"].erase("StopDate");
  if (kind != StartKind::resume_processing || !task["_private"].value("started_once", false)) {
    task["ReplicationTaskStats"]["FreshStartDate"] = now;
    m_table_stats.erase(it->first);
  }
  task["_private"]["started_once"] = true;
  task["_private"]["started_at"] = now;
  json reply = public_task(task);
  const std::string arn = it->first;

  std::unique_ptr<CdcRunner> previous;
  if (auto r = m_runners.find(arn); r != m_runners.end()) {
    previous = std::move(r->second);
    m_runners.erase(r);
  }
  if (previous) previous->join();  // it already reported stopped or failed
  if (!m_config.runner_factory) {
    task["Status"] = "failed";
    task["LastFailureMessage"] = "The sandbox's DMS was started without a CDC engine";
    task["StopReason"] = "Stop Reason FATAL_ERROR";
  } else {
    m_runners[arn] = m_config.runner_factory(task_spec(task, kind), *this);
  }
  save();
  return DmsReply{200, json{{"ReplicationTask", reply}}};
}

DmsReply DmsService::stop_replication_task(const json& in) {
  if (auto e = require(in, {"ReplicationTaskArn"})) return *e;
  auto it = m_tasks.find(str(in, "ReplicationTaskArn"));
  if (it == m_tasks.end()) return dms_error(k_not_found, "Replication Task not found");
  json& task = it->second;
  if (task["Status"] != "running" && task["Status"] != "starting")
    return dms_error(k_invalid_state, "Replication task is not running");
  task["Status"] = "stopping";
  if (auto r = m_runners.find(it->first); r != m_runners.end()) r->second->request_stop();
  save();
  return DmsReply{200, json{{"ReplicationTask", public_task(task)}}};
}

DmsReply DmsService::delete_replication_task(const json& in) {
  if (auto e = require(in, {"ReplicationTaskArn"})) return *e;
  auto it = m_tasks.find(str(in, "ReplicationTaskArn"));
  if (it == m_tasks.end()) return dms_error(k_not_found, "Replication Task not found");
  const std::string status = it->second["Status"];
  if (status == "running" || status == "starting" || status == "stopping" || status == "creating")
    return dms_error(k_invalid_state, "Replication task " + str(it->second, "ReplicationTaskIdentifier") +
                                          " is in status " + status + "; stop it before deleting it");
  json task = it->second;
  task["Status"] = "deleting";
  if (auto r = m_runners.find(it->first); r != m_runners.end()) {
    r->second->join();
    m_runners.erase(r);
  }
  m_table_stats.erase(it->first);
  m_tasks.erase(it);
  save();
  return DmsReply{200, json{{"ReplicationTask", public_task(task)}}};
}

DmsReply DmsService::describe_replication_tasks(const json& in) {
  const bool without_settings = in.value("WithoutSettings", false);
  std::vector<json> items;
  for (const auto& [arn, task] : m_tasks) items.push_back(public_task(task, !without_settings));
  if (auto e = apply_filters(in, {{"replication-task-arn", "ReplicationTaskArn"},
                                  {"replication-task-id", "ReplicationTaskIdentifier"},
                                  {"migration-type", "MigrationType"},
                                  {"endpoint-arn", "SourceEndpointArn"},
                                  {"replication-instance-arn", "ReplicationInstanceArn"}},
                             items))
    return *e;
  if (items.empty()) return dms_error(k_not_found, "No Tasks found matching provided filters");
  json out = json::object();
  if (auto e = paginate(in, items, out)) return *e;
  out["ReplicationTasks"] = items;
  return DmsReply{200, out};
}

DmsReply DmsService::describe_table_statistics(const json& in) {
  if (auto e = require(in, {"ReplicationTaskArn"})) return *e;
  auto it = m_tasks.find(str(in, "ReplicationTaskArn"));
  if (it == m_tasks.end()) return dms_error(k_not_found, "Replication Task not found");
  if (it->second["Status"] == "creating" || it->second["Status"] == "deleting")
    return dms_error(k_invalid_state, "Replication task is in status " + it->second["Status"].get<std::string>());
  std::vector<json> items;
  for (const auto& s : m_table_stats[it->first]) items.push_back(stats_json(s));
  if (auto e = apply_filters(in, {{"schema-name", "SchemaName"}, {"table-name", "TableName"}, {"table-state", "TableState"}},
                             items))
    return *e;
  json out = {{"ReplicationTaskArn", it->first}};
  if (has(in, "MaxRecords")) {
    // DescribeTableStatistics allows 10-500 (API reference), unlike the other describes.
    auto m = in["MaxRecords"].is_number_integer() ? in["MaxRecords"].get<long long>() : -1;
    if (m < 10 || m > 500) return dms_error(k_invalid_value, "The parameter MaxRecords must be between 10 and 500");
  }
  out["TableStatistics"] = items;
  return DmsReply{200, out};
}

// ---- Runner callbacks ----

void DmsService::task_running(const std::string& task_arn) {
  std::lock_guard lock(m_mutex);
  auto it = m_tasks.find(task_arn);
  if (it == m_tasks.end() || it->second["Status"] != "starting") return;
  it->second["Status"] = "running";
  save();
}

void DmsService::task_progress(const std::string& task_arn, const std::string& recovery_checkpoint,
                               const std::vector<TableStats>& tables) {
  std::lock_guard lock(m_mutex);
  auto it = m_tasks.find(task_arn);
  if (it == m_tasks.end()) return;
  if (!recovery_checkpoint.empty()) it->second["RecoveryCheckpoint"] = recovery_checkpoint;
  auto& stats = it->second["ReplicationTaskStats"];
  const double started = it->second["_private"].value("started_at", epoch_seconds_now());
  stats["ElapsedTimeMillis"] = static_cast<long long>((epoch_seconds_now() - started) * 1000);
  stats["TablesLoaded"] = static_cast<int>(tables.size());
  m_table_stats[task_arn] = tables;
  save();
}

void DmsService::task_failed(const std::string& task_arn, const std::string& message) {
  std::lock_guard lock(m_mutex);
  auto it = m_tasks.find(task_arn);
  if (it == m_tasks.end()) return;
  it->second["Status"] = "failed";
  it->second["LastFailureMessage"] = message;
  it->second["StopReason"] = "Stop Reason FATAL_ERROR";
  it->second["ReplicationTaskStats"]["StopDate"] = epoch_seconds_now();
  it->second["ReplicationTaskStats"]["TablesErrored"] = 1;
  save();
}

void DmsService::task_stopped(const std::string& task_arn) {
  std::lock_guard lock(m_mutex);
  auto it = m_tasks.find(task_arn);
  if (it == m_tasks.end() || it->second["Status"] == "failed") return;
  it->second["Status"] = "stopped";
  it->second["StopReason"] = "Stop Reason NORMAL";
  it->second["ReplicationTaskStats"]["StopDate"] = epoch_seconds_now();
  save();
}

// ---- Persistence ----

void DmsService::save() const {
  if (m_config.state_path.empty()) return;
  json state = {{"instances", json::array()}, {"endpoints", json::array()}, {"tasks", json::array()},
                {"connections", m_connections}, {"table_stats", json::object()}};
  for (const auto& [arn, ri] : m_instances) state["instances"].push_back(ri);
  for (const auto& [arn, ep] : m_endpoints) state["endpoints"].push_back(ep);
  for (const auto& [arn, task] : m_tasks) state["tasks"].push_back(task);
  for (const auto& [arn, list] : m_table_stats) {
    json rows = json::array();
    for (const auto& s : list) rows.push_back(stats_json(s));
    state["table_stats"][arn] = rows;
  }
  // Write then rename, so a crash never leaves half a file; 0600 because it holds passwords.
  const std::string tmp = m_config.state_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state.dump(2);
  }
  chmod(tmp.c_str(), 0600);
  std::rename(tmp.c_str(), m_config.state_path.c_str());
}

void DmsService::load() {
  if (m_config.state_path.empty()) return;
  std::ifstream in(m_config.state_path);
  if (!in) return;
  json state;
  try {
    state = json::parse(in);
  } catch (const json::exception&) {
    return;
  }
  for (const auto& ri : state.value("instances", json::array())) m_instances[str(ri, "ReplicationInstanceArn")] = ri;
  for (const auto& ep : state.value("endpoints", json::array())) m_endpoints[str(ep, "EndpointArn")] = ep;
  for (auto task : state.value("tasks", json::array())) {
    // A task that was moving when the server went away is stopped now; resume-processing
    // continues from its RecoveryCheckpoint.
    const std::string status = task.value("Status", std::string());
    if (status == "running" || status == "starting" || status == "stopping") {
      task["Status"] = "stopped";
      task["StopReason"] = "Stop Reason RECOVERABLE_ERROR";
    }
    m_tasks[str(task, "ReplicationTaskArn")] = task;
  }
  m_connections = state.value("connections", json::array()).get<std::vector<json>>();
  // A test the previous server did not finish has no result: failed, to be run again.
  for (auto& c : m_connections)
    if (c.value("Status", std::string()) == "testing") {
      c["Status"] = "failed";
      c["LastFailureMessage"] = "Test Endpoint failed: the test was interrupted when the DMS service restarted; test again";
      c.erase("_private");
    }
  if (state.contains("table_stats") && state["table_stats"].is_object())
    for (auto it = state["table_stats"].begin(); it != state["table_stats"].end(); ++it)
      for (const auto& row : it.value()) m_table_stats[it.key()].push_back(stats_from_json(row));
}

}  // namespace sandbox::dms
