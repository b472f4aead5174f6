#pragma once
// `mssql2rds status`: the journal's steps, the DMS task, its table statistics and CDC lag.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_context.hpp"
#include "core/config.hpp"
#include "core/journal.hpp"

namespace m2r {

struct StatusReport {
  std::vector<StepRecord> steps;
  nlohmann::json task;          // DMS task summary, when one exists
  nlohmann::json tables;        // DescribeTableStatistics
  std::optional<double> latency_source_s;
  std::optional<double> latency_target_s;
  std::string note;             // what could not be read
  // The replication is broken behind the tool's back (its task deleted or failed outside
  // mssql2rds): `status` shows the report, then this error, and exits with its code.
  std::optional<Error> problem;
};

Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws);

}  // namespace m2r
