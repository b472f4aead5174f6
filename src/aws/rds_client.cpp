#include "aws/rds_client.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace m2r::aws {
namespace {

int to_int(const char* text) { return static_cast<int>(std::strtol(text, nullptr, 10)); }

}  // namespace

std::optional<std::string> DbOption::setting(const std::string& setting_name) const {
  for (const auto& s : settings)
    if (s.name == setting_name) return s.value;
  return std::nullopt;
}

const DbOption* OptionGroup::option(const std::string& option_name) const {
  for (const auto& o : options)
    if (o.name == option_name) return &o;
  return nullptr;
}

QueryParams RdsClient::describe_db_instances_params(const std::optional<std::string>& identifier, const std::string& marker) {
  QueryParams params;
  if (identifier) params.emplace_back("DBInstanceIdentifier", *identifier);
  if (!marker.empty()) params.emplace_back("Marker", marker);
  return params;
}

QueryParams RdsClient::describe_option_groups_params(const std::optional<std::string>& name, const std::string& marker) {
  QueryParams params;
  if (name) params.emplace_back("OptionGroupName", *name);
  if (!marker.empty()) params.emplace_back("Marker", marker);
  return params;
}

Expected<std::string> RdsClient::parse_db_instances(const std::string& xml, std::vector<DbInstance>& out) {
  auto doc = M2R_TRY(parse_xml(xml, "DescribeDBInstances"));
  pugi::xml_node result = doc->child("DescribeDBInstancesResponse").child("DescribeDBInstancesResult");
  if (!result) return fail(ErrorKind::fatal, "rds DescribeDBInstances: unexpected response (no DescribeDBInstancesResult)");
  for (pugi::xml_node n : result.child("DBInstances").children("DBInstance")) {
    DbInstance i;
    i.identifier = n.child_value("DBInstanceIdentifier");
    i.arn = n.child_value("DBInstanceArn");
    i.status = n.child_value("DBInstanceStatus");
    i.engine = n.child_value("Engine");
    i.engine_version = n.child_value("EngineVersion");
    i.instance_class = n.child_value("DBInstanceClass");
    i.allocated_storage = to_int(n.child_value("AllocatedStorage"));
    i.endpoint_address = n.child("Endpoint").child_value("Address");
    i.endpoint_port = to_int(n.child("Endpoint").child_value("Port"));
    i.availability_zone = n.child_value("AvailabilityZone");
    i.multi_az = std::string_view(n.child_value("MultiAZ")) == "true";
    for (pugi::xml_node m : n.child("OptionGroupMemberships").children("OptionGroupMembership"))
      i.option_groups.push_back({m.child_value("OptionGroupName"), m.child_value("Status")});
    out.push_back(std::move(i));
  }
  return std::string(result.child_value("Marker"));
}

Expected<std::string> RdsClient::parse_option_groups(const std::string& xml, std::vector<OptionGroup>& out) {
  auto doc = M2R_TRY(parse_xml(xml, "DescribeOptionGroups"));
  pugi::xml_node result = doc->child("DescribeOptionGroupsResponse").child("DescribeOptionGroupsResult");
  if (!result) return fail(ErrorKind::fatal, "rds DescribeOptionGroups: unexpected response (no DescribeOptionGroupsResult)");
  for (pugi::xml_node n : result.child("OptionGroupsList").children("OptionGroup")) {
    OptionGroup g;
    g.name = n.child_value("OptionGroupName");
    g.engine_name = n.child_value("EngineName");
    g.major_engine_version = n.child_value("MajorEngineVersion");
    for (pugi::xml_node o : n.child("Options").children("Option")) {
      DbOption option;
      option.name = o.child_value("OptionName");
      for (pugi::xml_node s : o.child("OptionSettings").children("OptionSetting"))
        option.settings.push_back({s.child_value("Name"), s.child_value("Value")});
      g.options.push_back(std::move(option));
    }
    out.push_back(std::move(g));
  }
  return std::string(result.child_value("Marker"));
}

Expected<std::vector<DbInstance>> RdsClient::describe_db_instances(const std::optional<std::string>& identifier) {
  std::vector<DbInstance> out;
  std::string marker;
  const std::string resource = identifier ? fmt::format("DB instance '{}'", *identifier) : std::string{};
  do {
    auto response = M2R_TRY(m_client.call_query("DescribeDBInstances", describe_db_instances_params(identifier, marker),
                                                 Idempotent::yes, resource));
    marker = M2R_TRY(parse_db_instances(response.body, out));
  } while (!marker.empty());
  return out;
}

Expected<DbInstance> RdsClient::describe_db_instance(const std::string& identifier) {
  auto list = M2R_TRY(describe_db_instances(identifier));
  if (list.empty())
    return fail(ErrorKind::not_found, fmt::format("RDS DB instance '{}' does not exist", identifier),
                "check the DB instance identifier and the region");
  return list.front();
}

Expected<std::vector<OptionGroup>> RdsClient::describe_option_groups(const std::optional<std::string>& name) {
  std::vector<OptionGroup> out;
  std::string marker;
  const std::string resource = name ? fmt::format("option group '{}'", *name) : std::string{};
  do {
    auto response = M2R_TRY(m_client.call_query("DescribeOptionGroups", describe_option_groups_params(name, marker),
                                                 Idempotent::yes, resource));
    marker = M2R_TRY(parse_option_groups(response.body, out));
  } while (!marker.empty());
  return out;
}

}  // namespace m2r::aws
