#pragma once
// The seam between the DMS API (dms_service) and the engine that moves changes
// (cdc_engine). The service owns the task state machine; a runner does the work on its own
// thread and reports through TaskStatusSink. Tests plug in fakes on either side.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sandbox::dms {

// One row of DescribeTableStatistics (docs/facts.md §4).
struct TableStats {
  std::string schema_name;
  std::string table_name;
  std::int64_t inserts = 0, deletes = 0, updates = 0, ddls = 0;
  std::int64_t applied_inserts = 0, applied_deletes = 0, applied_updates = 0, applied_ddls = 0;
  std::int64_t full_load_rows = 0;
  std::string table_state = "Table completed";
  double last_update_time = 0;  // epoch seconds
};

// How DMS reaches one endpoint (CreateEndpoint's fields; the password stays in memory and
// in the world's private state file, never in an answer).
struct EndpointSpec {
  std::string arn;
  std::string identifier;
  std::string engine_name;
  std::string server_name;
  int port = 0;
  std::string database_name;
  std::string username;
  std::string password;
  std::string ssl_mode;     // none | require | verify-ca | verify-full (dms/endpoint_connection.hpp)
  nlohmann::json settings;  // MicrosoftSQLServerSettings as given
};

enum class StartKind { start_replication, resume_processing, reload_target };

struct CdcTaskSpec {
  std::string task_arn;
  std::string task_identifier;
  std::string task_resource_id;      // the last part of the ARN: CloudWatch's ReplicationTaskIdentifier
  std::string instance_identifier;   // CloudWatch's ReplicationInstanceIdentifier
  std::string migration_type;        // cdc | full-load | full-load-and-cdc
  EndpointSpec source;
  EndpointSpec target;
  std::string table_mappings;        // JSON text
  std::string task_settings;         // JSON text (may be empty)
  StartKind start_kind = StartKind::start_replication;
  std::string cdc_start_position;    // hex LSN, "checkpoint:V1#..." or a date; empty = now
  std::optional<double> cdc_start_time;  // epoch seconds
  std::string recovery_checkpoint;   // the last one reported (resume-processing)
};

// What a runner tells the service. Every call may come from the runner's thread.
class TaskStatusSink {
 public:
  virtual ~TaskStatusSink() = default;
  virtual void task_running(const std::string& task_arn) = 0;
  virtual void task_progress(const std::string& task_arn, const std::string& recovery_checkpoint,
                             const std::vector<TableStats>& tables) = 0;
  // The task stops with Status failed, StopReason "Stop Reason FATAL_ERROR".
  virtual void task_failed(const std::string& task_arn, const std::string& message) = 0;
  // The runner finished after request_stop().
  virtual void task_stopped(const std::string& task_arn) = 0;
};

class CdcRunner {
 public:
  virtual ~CdcRunner() = default;
  // Asks the runner to stop at the next transaction boundary; it then calls task_stopped.
  virtual void request_stop() = 0;
  // Waits for the runner's thread to end.
  virtual void join() = 0;
};

using CdcRunnerFactory = std::function<std::unique_ptr<CdcRunner>(const CdcTaskSpec& spec, TaskStatusSink& sink)>;

}  // namespace sandbox::dms
