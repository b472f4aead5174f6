#pragma once
// AWS DMS (JSON 1.1, X-Amz-Target AmazonDMSv20160101.<Operation>, SigV4 service "dms";
// docs/facts.md §4). Requests are built by static build_* functions so tests can check them
// against botocore's model; responses keep the raw JSON next to the typed fields.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.hpp"

namespace m2r::aws {

struct DmsFilter {
  std::string name;  // "replication-task-arn", "replication-task-id", "endpoint-arn", ...
  std::vector<std::string> values;
};

struct CreateReplicationTaskRequest {
  std::string identifier;  // 1-255 letters, digits, hyphens; starts with a letter
  std::string source_endpoint_arn;
  std::string target_endpoint_arn;
  std::string replication_instance_arn;
  std::string migration_type = "cdc";  // full-load | cdc | full-load-and-cdc
  std::string table_mappings;          // a JSON document, sent as a string
  std::string settings;                // ReplicationTaskSettings JSON string (optional)
  std::optional<std::string> cdc_start_position;  // "00000025:00000b8f:0004" (docs/facts.md §1, §4)
  std::optional<std::chrono::system_clock::time_point> cdc_start_time;  // exclusive with the position
  std::optional<std::string> cdc_stop_position;   // "server_time:..." / "commit_time:..."
};

struct ReplicationTaskStats {
  int full_load_progress_percent = 0;
  std::int64_t elapsed_time_millis = 0;
  int tables_loaded = 0;
  int tables_loading = 0;
  int tables_queued = 0;
  int tables_errored = 0;
};

struct ReplicationTask {
  std::string arn;
  std::string identifier;
  std::string status;  // creating, ready, starting, running, stopping, stopped, failed, deleting, ...
  std::string migration_type;
  std::string source_endpoint_arn;
  std::string target_endpoint_arn;
  std::string replication_instance_arn;
  std::string last_failure_message;
  std::string stop_reason;
  std::string recovery_checkpoint;  // reuse only as DMS returned it (docs/facts.md §4)
  std::string cdc_start_position;
  std::optional<ReplicationTaskStats> stats;
  nlohmann::json raw;
};

struct TableStatistics {
  std::string schema_name;
  std::string table_name;
  std::int64_t inserts = 0, deletes = 0, updates = 0, ddls = 0;
  std::int64_t applied_inserts = 0, applied_deletes = 0, applied_updates = 0, applied_ddls = 0;
  std::int64_t full_load_rows = 0;
  std::string table_state;
  std::string validation_state;
  std::optional<std::chrono::system_clock::time_point> last_update_time;
  nlohmann::json raw;
};

struct CreateEndpointRequest {
  std::string identifier;
  std::string endpoint_type;  // "source" | "target"
  std::string engine_name = "sqlserver";
  std::string server_name;
  int port = 1433;
  std::string database_name;
  std::string username;
  std::string password;  // goes into the request body only; never logged
  std::string extra_connection_attributes;
  std::string ssl_mode;  // none | require | verify-ca | verify-full (optional)
  nlohmann::json microsoft_sql_server_settings;  // optional object (SafeguardPolicy, ReadBackupOnly, ...)
};

struct DmsEndpoint {
  std::string arn;
  std::string identifier;
  std::string endpoint_type;  // "SOURCE" | "TARGET" as DMS returns it
  std::string engine_name;
  std::string server_name;
  int port = 0;
  std::string database_name;
  std::string username;
  std::string status;
  nlohmann::json raw;
};

struct CreateReplicationInstanceRequest {
  std::string identifier;
  std::string instance_class = "dms.t3.medium";
  int allocated_storage = 0;  // GiB; 0 = the default
  std::string engine_version;  // optional
  std::optional<bool> publicly_accessible;
  std::optional<bool> multi_az;
};

struct ReplicationInstance {
  std::string arn;
  std::string identifier;
  std::string instance_class;
  std::string status;  // creating, available, ...
  std::string engine_version;
  nlohmann::json raw;
};

struct DmsConnection {
  std::string replication_instance_arn;
  std::string endpoint_arn;
  std::string status;  // successful | testing | failed | deleting
  std::string last_failure_message;
  std::string endpoint_identifier;
  std::string replication_instance_identifier;
};

class DmsClient {
 public:
  explicit DmsClient(const AwsContext& context) : m_client(context, Service::dms) {}

  Expected<ReplicationTask> create_replication_task(const CreateReplicationTaskRequest& request);
  // type: start-replication | resume-processing | reload-target (not for cdc tasks)
  Expected<ReplicationTask> start_replication_task(const std::string& task_arn, const std::string& type,
                                                   const std::optional<std::string>& cdc_start_position = {});
  Expected<ReplicationTask> stop_replication_task(const std::string& task_arn);
  Expected<ReplicationTask> delete_replication_task(const std::string& task_arn);
  // Every page (Marker); without_settings leaves out the task settings JSON.
  Expected<std::vector<ReplicationTask>> describe_replication_tasks(const std::vector<DmsFilter>& filters,
                                                                   bool without_settings = true);
  Expected<ReplicationTask> describe_replication_task(const std::string& task_arn);  // not_found when absent
  Expected<std::vector<TableStatistics>> describe_table_statistics(const std::string& task_arn);

  Expected<DmsEndpoint> create_endpoint(const CreateEndpointRequest& request);
  Expected<std::vector<DmsEndpoint>> describe_endpoints(const std::vector<DmsFilter>& filters);
  Expected<ReplicationInstance> create_replication_instance(const CreateReplicationInstanceRequest& request);
  Expected<std::vector<ReplicationInstance>> describe_replication_instances(const std::vector<DmsFilter>& filters);
  Expected<DmsConnection> test_connection(const std::string& replication_instance_arn, const std::string& endpoint_arn);
  Expected<std::vector<DmsConnection>> describe_connections(const std::vector<DmsFilter>& filters);

  // Request bodies, for tests against the model. Validation errors are invalid_input.
  static Expected<nlohmann::json> build_create_replication_task(const CreateReplicationTaskRequest& request);
  static nlohmann::json build_start_replication_task(const std::string& task_arn, const std::string& type,
                                                     const std::optional<std::string>& cdc_start_position);
  static nlohmann::json build_create_endpoint(const CreateEndpointRequest& request);
  static nlohmann::json build_create_replication_instance(const CreateReplicationInstanceRequest& request);
  static nlohmann::json build_filters(const std::vector<DmsFilter>& filters);

  static ReplicationTask parse_task(const nlohmann::json& json);
  static TableStatistics parse_table_statistics(const nlohmann::json& json);

 private:
  Expected<std::vector<nlohmann::json>> paginate(const std::string& operation, nlohmann::json input,
                                                 const std::string& list_key);
  AwsClient m_client;
};

// DMS identifiers: 1-255 ASCII letters, digits and hyphens, starting with a letter, not
// ending with a hyphen, no two consecutive hyphens.
Expected<void> validate_dms_identifier(const std::string& identifier, const char* what);

}  // namespace m2r::aws
