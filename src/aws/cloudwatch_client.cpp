#include "aws/cloudwatch_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace m2r::aws {

std::string iso8601(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

QueryParams CloudWatchClient::get_metric_statistics_params(const MetricStatisticsRequest& r) {
  QueryParams p{{"Namespace", r.namespace_name},
                {"MetricName", r.metric_name},
                {"StartTime", iso8601(r.start_time)},
                {"EndTime", iso8601(r.end_time)},
                {"Period", std::to_string(r.period_seconds)}};
  for (size_t i = 0; i < r.dimensions.size(); ++i) {
    p.emplace_back(fmt::format("Dimensions.member.{}.Name", i + 1), r.dimensions[i].name);
    p.emplace_back(fmt::format("Dimensions.member.{}.Value", i + 1), r.dimensions[i].value);
  }
  for (size_t i = 0; i < r.statistics.size(); ++i) p.emplace_back(fmt::format("Statistics.member.{}", i + 1), r.statistics[i]);
  return p;
}

QueryParams CloudWatchClient::put_metric_data_params(const std::string& namespace_name, const std::vector<MetricDatum>& data) {
  QueryParams p{{"Namespace", namespace_name}};
  for (size_t i = 0; i < data.size(); ++i) {
    const auto prefix = fmt::format("MetricData.member.{}.", i + 1);
    const MetricDatum& d = data[i];
    p.emplace_back(prefix + "MetricName", d.metric_name);
    p.emplace_back(prefix + "Value", fmt::format("{}", d.value));
    p.emplace_back(prefix + "Unit", d.unit);
    if (d.timestamp) p.emplace_back(prefix + "Timestamp", iso8601(*d.timestamp));
    for (size_t k = 0; k < d.dimensions.size(); ++k) {
      p.emplace_back(fmt::format("{}Dimensions.member.{}.Name", prefix, k + 1), d.dimensions[k].name);
      p.emplace_back(fmt::format("{}Dimensions.member.{}.Value", prefix, k + 1), d.dimensions[k].value);
    }
  }
  return p;
}

Expected<std::vector<Datapoint>> CloudWatchClient::parse_metric_statistics(const std::string& xml) {
  auto doc = M2R_TRY(parse_xml(xml, "GetMetricStatistics"));
  pugi::xml_node result = doc->child("GetMetricStatisticsResponse").child("GetMetricStatisticsResult");
  if (!result) return fail(ErrorKind::fatal, "monitoring GetMetricStatistics: unexpected response");
  std::vector<Datapoint> out;
  auto value = [](pugi::xml_node n, const char* name) -> std::optional<double> {
    pugi::xml_node c = n.child(name);
    if (!c) return std::nullopt;
    return std::strtod(c.child_value(), nullptr);
  };
  for (pugi::xml_node m : result.child("Datapoints").children("member")) {
    Datapoint d;
    auto t = parse_iso8601(m.child_value("Timestamp"));
    if (!t) continue;
    d.timestamp = *t;
    d.average = value(m, "Average");
    d.maximum = value(m, "Maximum");
    d.minimum = value(m, "Minimum");
    d.sum = value(m, "Sum");
    d.sample_count = value(m, "SampleCount");
    d.unit = m.child_value("Unit");
    out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const Datapoint& a, const Datapoint& b) { return a.timestamp < b.timestamp; });
  return out;
}

Expected<std::vector<Datapoint>> CloudWatchClient::get_metric_statistics(const MetricStatisticsRequest& request) {
  auto response = M2R_TRY(m_client.call_query("GetMetricStatistics", get_metric_statistics_params(request), Idempotent::yes,
                                               "metric " + request.namespace_name + "/" + request.metric_name));
  return parse_metric_statistics(response.body);
}

Expected<void> CloudWatchClient::put_metric_data(const std::string& namespace_name, const std::vector<MetricDatum>& data) {
  // Repeating a datapoint is harmless: statistics then count it twice, which beats losing it.
  M2R_TRY(m_client.call_query("PutMetricData", put_metric_data_params(namespace_name, data), Idempotent::yes,
                              "namespace " + namespace_name));
  return {};
}

}  // namespace m2r::aws
