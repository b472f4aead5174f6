#pragma once
// The DMS task as it is now: its description, its table statistics and the CDC latencies
// CloudWatch has for it. Read by `status` and by the cutover's drain.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aws/aws_context.hpp"
#include "aws/dms_client.hpp"

namespace m2r {

struct LiveTask {
  aws::ReplicationTask task;
  std::vector<aws::TableStatistics> tables;
  std::optional<double> latency_source, latency_target;  // seconds; empty when CloudWatch has none
};

Expected<LiveTask> read_live_task(const aws::AwsContext& aws, const std::string& task_arn);

// Changes DMS captured from the source, and applied to the target, over all tables.
std::int64_t total_changes(const std::vector<aws::TableStatistics>& tables);
std::int64_t total_applied(const std::vector<aws::TableStatistics>& tables);

}  // namespace m2r
