#pragma once
// The AWS a migration talks to, in memory, for unit tests of the lifecycle commands and the
// steps: DMS (replication instance, endpoints, TestConnection, tasks walking through their
// states, table statistics), RDS (instances, option groups), CloudWatch (the CDC latencies)
// and S3 (the bucket's existence and region), answering the real clients over a
// FakeHttpTransport in each service's own protocol: JSON 1.1 for DMS, the query protocol and
// XML for RDS and CloudWatch, REST XML for S3. Every call is recorded ("dms:StopReplicationTask")
// so tests assert on what was done, not only on what was returned. An operation it does not
// know fails the test-visible way (HTTP 400 naming it).
//
// Migration is the whole world of a lifecycle test: this AWS, a FakeClock shared by the AWS
// context and the Connections, FakeSqlSessions for the source and the target, an in-memory
// object store, a MemoryJournal and a config that names them all.
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_context.hpp"
#include "aws/support/temp_dir.hpp"
#include "fakes/fake_http_transport.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "migrate/connections.hpp"
#include "fakes/fake_object_store.hpp"
#include "fakes/fake_sql_session.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

namespace m2r::test {

struct FakeRdsInstance {
  std::string identifier = "rds1";
  std::string engine = "sqlserver-se";
  std::string engine_version = "15.00.4345.5.v1";
  std::string status = "available";
  std::string address = "rds1.abc.us-east-1.rds.amazonaws.com";
  int port = 1433;
  int allocated_storage = 100;
  std::string option_group = "sqlserver-backup";
};

struct FakeOptionGroup {
  std::string name = "sqlserver-backup";
  bool backup_restore = true;  // has SQLSERVER_BACKUP_RESTORE
  std::string iam_role_arn = "arn:aws:iam::123456789012:role/rds-backup";
};

class FakeAwsWorld {
 public:
  static constexpr const char* k_instance_arn = "arn:aws:dms:us-east-1:123456789012:rep:RI1";
  static constexpr const char* k_source_arn = "arn:aws:dms:us-east-1:123456789012:endpoint:SRC";
  static constexpr const char* k_target_arn = "arn:aws:dms:us-east-1:123456789012:endpoint:TGT";

  FakeAwsWorld();  // a healthy world: one instance, both endpoints, the RDS instance, the bucket

  Expected<aws::HttpResponse> answer(const aws::RecordedRequest& request);

  // ---- state, set up by tests (all under the lock when a test runs threads) ----
  std::recursive_mutex mutex;
  // DMS
  std::vector<nlohmann::json> instances;  // ReplicationInstance objects
  std::vector<nlohmann::json> endpoints;  // Endpoint objects
  std::map<std::string, nlohmann::json> tasks;  // by ARN
  // TestConnection: how many DescribeConnections answer "testing" before the result, and the
  // result per endpoint ARN ("successful" unless set; "failed" takes connection_failure).
  int connection_tests_pending_polls = 1;
  std::map<std::string, std::string> connection_result;
  std::string connection_failure = "Login failed for user 'dms'";
  // A started task fails with this LastFailureMessage instead of running.
  std::string start_fails_with;
  // How many DescribeReplicationTasks see a stopping task still "stopping" (0: stopped at once).
  int stopping_polls = 0;
  // Successive DescribeTableStatistics answers (TableStatistics lists); the last repeats.
  std::deque<nlohmann::json> table_statistics;
  // When set, a DescribeTableStatistics call with this many answers left turns the task failed.
  std::optional<std::size_t> fail_task_when_statistics_left;
  // RDS
  std::vector<FakeRdsInstance> rds_instances{FakeRdsInstance{}};
  std::vector<FakeOptionGroup> option_groups{FakeOptionGroup{}};
  // CloudWatch: successive latencies (seconds) answered for CDCLatencySource and
  // CDCLatencyTarget alike; the last repeats; empty = no datapoints.
  std::deque<double> latencies;
  // S3
  std::string bucket = "bkt";
  std::string bucket_region = "us-east-1";

  // ---- what happened ----
  std::vector<std::string> calls();  // "dms:CreateReplicationTask", "rds:DescribeDBInstances", ...
  int count(const std::string& call);
  std::vector<nlohmann::json> metric_requests();  // GetMetricStatistics parameters, decoded

  // A task as DMS describes it, to seed `tasks`.
  static nlohmann::json task(const std::string& arn, const std::string& identifier, const std::string& status);
  // One table's statistics (captured changes = inserts; applied = applied_inserts).
  static nlohmann::json table_stats(const std::string& table, std::int64_t inserts, std::int64_t applied);

 private:
  Expected<aws::HttpResponse> answer_dms(const std::string& op, const nlohmann::json& in);
  Expected<aws::HttpResponse> answer_rds(const std::map<std::string, std::string>& params);
  Expected<aws::HttpResponse> answer_cloudwatch(const std::map<std::string, std::string>& params);
  Expected<aws::HttpResponse> answer_s3(const aws::RecordedRequest& request);
  std::vector<std::string> m_calls;
  std::vector<nlohmann::json> m_metric_requests;
  int m_created = 0;
  std::map<std::string, int> m_connection_polls;
  std::map<std::string, std::string> m_connection_instance;  // endpoint ARN -> the instance that tested it
  std::map<std::string, int> m_stopping_seen;
};

// A configuration naming the fakes: source Sales on src.example:1433, target Sales on rds1,
// bucket bkt (us-east-1), DMS instance ri1, endpoints src-ep / tgt-ep, task sales-cdc.
MigrationConfig sample_config();

struct Migration {
  TempDir backup_dir;  // backup_dir_local: `check` writes its probe there
  FakeAwsWorld aws_world;
  std::shared_ptr<aws::FakeHttpTransport> http = std::make_shared<aws::FakeHttpTransport>();
  std::shared_ptr<aws::FakeClock> clock;
  std::shared_ptr<mssql::FakeSqlSession> source = std::make_shared<mssql::FakeSqlSession>();
  std::shared_ptr<mssql::FakeSqlSession> target = std::make_shared<mssql::FakeSqlSession>();
  std::shared_ptr<FakeObjectStore> store = std::make_shared<FakeObjectStore>();
  std::vector<std::string> target_databases_opened;  // the database of every target session, in order
  std::optional<Error> source_unreachable;            // conn.source() fails with this when set
  MemoryJournal journal;
  RecordingEventSink events;
  MigrationConfig config = sample_config();
  Connections connections;

  Migration();
  std::chrono::system_clock::time_point start_time() const;
  // Messages of the events emitted, in order.
  std::vector<std::string> messages() const;
  bool said(const std::string& fragment) const;
  // SQL the source / the target ran that contains `fragment` (case-sensitive).
  std::vector<std::string> source_ran(const std::string& fragment) const;
  std::vector<std::string> target_ran(const std::string& fragment) const;
  // The procedures the source ran (EXEC ...), the read-only sp_get_distributor left out: what
  // changed it.
  std::vector<std::string> source_procedures_run() const;
  // Marks a step done with these outputs, as an earlier run would have.
  void step_done(const std::string& step, const nlohmann::json& outputs);
};

}  // namespace m2r::test
