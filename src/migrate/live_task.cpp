#include "migrate/live_task.hpp"

#include <algorithm>
#include <chrono>

#include "aws/cloudwatch_client.hpp"

namespace m2r {

namespace {

std::optional<double> latest_latency(aws::CloudWatchClient& cw, aws::Clock& clock, const std::string& metric,
                                     const std::string& instance_id, const std::string& task_resource_id) {
  aws::MetricStatisticsRequest req;
  req.namespace_name = "AWS/DMS";
  req.metric_name = metric;
  // docs/facts.md §4: the task dimension is its resource id (from the ARN), not its name.
  req.dimensions = {{"ReplicationInstanceIdentifier", instance_id}, {"ReplicationTaskIdentifier", task_resource_id}};
  req.end_time = clock.now() + std::chrono::minutes(1);
  req.start_time = req.end_time - std::chrono::minutes(15);
  req.period_seconds = 60;
  auto points = cw.get_metric_statistics(req);
  if (!points || points->empty()) return std::nullopt;
  const auto latest = std::max_element(points->begin(), points->end(),
                                       [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
  return latest->maximum ? latest->maximum : latest->average;
}

std::string resource_id_of(const std::string& arn) { return arn.substr(arn.rfind(':') + 1); }

}  // namespace

Expected<LiveTask> read_live_task(const aws::AwsContext& aws, const std::string& task_arn) {
  aws::DmsClient dms(aws);
  LiveTask live;
  live.task = M2R_TRY(dms.describe_replication_task(task_arn));
  live.tables = dms.describe_table_statistics(task_arn).value_or(std::vector<aws::TableStatistics>{});
  std::string instance_id;
  if (auto ris = dms.describe_replication_instances({{"replication-instance-arn", {live.task.replication_instance_arn}}});
      ris && !ris->empty()) {
    instance_id = ris->front().identifier;
  }
  aws::CloudWatchClient cw(aws);
  live.latency_source = latest_latency(cw, *aws.clock, "CDCLatencySource", instance_id, resource_id_of(task_arn));
  live.latency_target = latest_latency(cw, *aws.clock, "CDCLatencyTarget", instance_id, resource_id_of(task_arn));
  return live;
}

std::int64_t total_changes(const std::vector<aws::TableStatistics>& tables) {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.inserts + t.updates + t.deletes;
  return n;
}

std::int64_t total_applied(const std::vector<aws::TableStatistics>& tables) {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.applied_inserts + t.applied_updates + t.applied_deletes;
  return n;
}

}  // namespace m2r
