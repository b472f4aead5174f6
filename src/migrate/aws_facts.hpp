#pragma once
// Reads what the preflight and the steps need from RDS and DMS, and resolves the
// identifiers of the config (name or ARN) into ARNs.
#include <chrono>
#include <string>

#include "aws/clock.hpp"
#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "core/checks.hpp"
#include "core/config.hpp"

namespace m2r {

struct DmsArns {
  std::string replication_instance;
  std::string source_endpoint;
  std::string target_endpoint;
};

// Each of replication_instance / source_endpoint / target_endpoint may be an identifier or
// an ARN. not_found names which one and how to list what exists.
Expected<DmsArns> resolve_dms_arns(aws::DmsClient& dms, const DmsConfig& config);

// RDS facts for the check (target_database_exists is filled by the caller, from SQL).
RdsFacts gather_rds_facts(aws::RdsClient& rds, const TargetConfig& target, const std::string& region);

// Runs TestConnection for one endpoint from the replication instance and waits for the result
// (DescribeConnections every `poll`, up to `timeout` on `clock`). DMS logs in to the endpoint's
// server with its settings, so a failure carries the server's error (LastFailureMessage). A
// test already running ("Connection is already being tested") is waited for. Returns the
// connection as last described: status "testing" when the wait ran out.
Expected<aws::DmsConnection> test_dms_connection(aws::DmsClient& dms, const std::string& instance_arn,
                                                 const std::string& endpoint_arn, aws::Clock& clock,
                                                 std::chrono::seconds timeout,
                                                 std::chrono::milliseconds poll = std::chrono::milliseconds(500));

// DMS facts; runs TestConnection for both endpoints when `test_connections` is set and
// waits (up to `timeout_s` on `clock`, polling every half second) for the result.
DmsFacts gather_dms_facts(aws::DmsClient& dms, const DmsConfig& config, bool test_connections, aws::Clock& clock,
                          int timeout_s = 60);

// The SQL Server major version from an RDS engine version ("15.00.4345.5.v1" -> 15).
int major_from_engine_version(const std::string& engine_version);

}  // namespace m2r
