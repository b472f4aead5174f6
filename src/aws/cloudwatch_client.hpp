#pragma once
// Amazon CloudWatch (query protocol, version 2010-08-01, SigV4 service "monitoring").
// DMS latency metrics: namespace AWS/DMS, CDCLatencySource / CDCLatencyTarget (seconds),
// dimensions ReplicationInstanceIdentifier + ReplicationTaskIdentifier (docs/facts.md §4).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "aws/aws_client.hpp"

namespace m2r::aws {

struct MetricDimension {
  std::string name;
  std::string value;
};

struct MetricStatisticsRequest {
  std::string namespace_name;  // "AWS/DMS"
  std::string metric_name;     // "CDCLatencySource"
  std::vector<MetricDimension> dimensions;
  std::chrono::system_clock::time_point start_time;
  std::chrono::system_clock::time_point end_time;
  int period_seconds = 60;
  std::vector<std::string> statistics{"Average", "Maximum"};  // SampleCount|Average|Sum|Minimum|Maximum
};

struct Datapoint {
  std::chrono::system_clock::time_point timestamp;
  std::optional<double> average, maximum, minimum, sum, sample_count;
  std::string unit;
};

struct MetricDatum {
  std::string metric_name;
  double value = 0;
  std::string unit = "None";  // Seconds, Bytes, Count, ...
  std::vector<MetricDimension> dimensions;
  std::optional<std::chrono::system_clock::time_point> timestamp;
};

class CloudWatchClient {
 public:
  explicit CloudWatchClient(const AwsContext& context) : m_client(context, Service::cloudwatch) {}

  // Datapoints sorted by time.
  Expected<std::vector<Datapoint>> get_metric_statistics(const MetricStatisticsRequest& request);
  Expected<void> put_metric_data(const std::string& namespace_name, const std::vector<MetricDatum>& data);

  static QueryParams get_metric_statistics_params(const MetricStatisticsRequest& request);
  static QueryParams put_metric_data_params(const std::string& namespace_name, const std::vector<MetricDatum>& data);
  static Expected<std::vector<Datapoint>> parse_metric_statistics(const std::string& xml);

 private:
  AwsClient m_client;
};

// "2026-11-25T10:00:00Z"
std::string iso8601(std::chrono::system_clock::time_point time);

}  // namespace m2r::aws
