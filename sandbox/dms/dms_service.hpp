#pragma once
// The sandbox's AWS DMS control plane (docs/facts.md §4): replication instances, endpoints,
// tasks and connections, with the validation and error types of the DMS API reference,
// shapes as botocore's dms/2016-01-01 model. Transport-free: dms_http_server puts it on
// the wire. The resources are persisted to a JSON file so a restarted world keeps them.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dms/cdc_runner.hpp"
#include "dms/endpoint_connection.hpp"

namespace sandbox::dms {

struct DmsServiceConfig {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string state_path;  // JSON file; empty = in memory only
  CdcRunnerFactory runner_factory;  // empty = tasks fail at start with "no CDC engine"
  // What TestConnection runs, on a thread of its own (odbc_connection_tester logs in over TDS).
  // Empty = every test fails with "no connection tester".
  ConnectionTester connection_tester;
};

// An answer: HTTP status and the JSON body (errors carry "__type" and "message").
struct DmsReply {
  int status = 200;
  nlohmann::json body;
};

DmsReply dms_error(const std::string& type, const std::string& message, int status = 400);

class DmsService final : public TaskStatusSink {
 public:
  explicit DmsService(DmsServiceConfig config);
  ~DmsService() override;
  DmsService(const DmsService&) = delete;
  DmsService& operator=(const DmsService&) = delete;

  // operation: "CreateReplicationTask" etc. (the part after "AmazonDMSv20160101.").
  DmsReply handle(const std::string& operation, const nlohmann::json& input);

  // Stops every running task (used at shutdown; the tasks end up stopped) and waits for the
  // connection tests in flight.
  void stop_all();

  // TaskStatusSink
  void task_running(const std::string& task_arn) override;
  void task_progress(const std::string& task_arn, const std::string& recovery_checkpoint,
                     const std::vector<TableStats>& tables) override;
  void task_failed(const std::string& task_arn, const std::string& message) override;
  void task_stopped(const std::string& task_arn) override;

 private:
  DmsReply create_replication_instance(const nlohmann::json& in);
  DmsReply describe_replication_instances(const nlohmann::json& in);
  DmsReply create_endpoint(const nlohmann::json& in);
  DmsReply describe_endpoints(const nlohmann::json& in);
  DmsReply test_connection(const nlohmann::json& in);
  DmsReply describe_connections(const nlohmann::json& in);
  DmsReply create_replication_task(const nlohmann::json& in);
  DmsReply start_replication_task(const nlohmann::json& in);
  DmsReply stop_replication_task(const nlohmann::json& in);
  DmsReply delete_replication_task(const nlohmann::json& in);
  DmsReply describe_replication_tasks(const nlohmann::json& in);
  DmsReply describe_table_statistics(const nlohmann::json& in);

  void advance_provisioning();  // creating -> ready / available
  void connection_tested(std::uint64_t test_id, const std::optional<std::string>& failure);
  EndpointSpec endpoint_spec(const std::string& endpoint_arn) const;
  void load();
  void save() const;
  std::string new_arn(const std::string& kind, const nlohmann::json& in) const;
  nlohmann::json public_task(const nlohmann::json& task, bool with_settings = true) const;
  static nlohmann::json public_endpoint(const nlohmann::json& endpoint);
  CdcTaskSpec task_spec(const nlohmann::json& task, StartKind kind) const;
  void finish_runner(const std::string& task_arn);

  DmsServiceConfig m_config;
  mutable std::recursive_mutex m_mutex;
  // Resources in their botocore shapes, keyed by ARN; private fields under "_private".
  std::map<std::string, nlohmann::json> m_instances;
  std::map<std::string, nlohmann::json> m_endpoints;
  std::map<std::string, nlohmann::json> m_tasks;
  std::vector<nlohmann::json> m_connections;
  std::map<std::string, std::vector<TableStats>> m_table_stats;  // by task ARN
  std::map<std::string, std::unique_ptr<CdcRunner>> m_runners;   // by task ARN
  // TestConnection logins: in flight, or ended and not yet joined (the next test joins those).
  struct Tester {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Tester> m_testers;
  std::uint64_t m_next_test_id = 1;
};

// ---- Helpers shared with the CDC engine and tests ----

// DMS identifiers: 1-255 (instances: 1-63) ASCII letters, digits and hyphens, starting with
// a letter, not ending with a hyphen, no two consecutive hyphens.
bool valid_identifier(const std::string& id, std::size_t max_length = 255);

// The documented CdcStartPosition forms for a SQL Server source: the zero-padded hex LSN
// (docs/facts.md §1), a RecoveryCheckpoint DMS returned ("checkpoint:V1#..."), or a date
// ("2018-03-08T12:12:12"). Everything else is "Invalid CdcStartPosition format" (docs/facts.md §10).
bool valid_cdc_start_position(const std::string& position);

// 26 upper-case letters and digits, as DMS resource ids look.
std::string new_resource_id();

double epoch_seconds_now();

}  // namespace sandbox::dms
