#pragma once
// Amazon RDS Query API (version 2014-10-31, SigV4 service "rds"; docs/facts.md §6).
#include <optional>
#include <string>
#include <vector>

#include "aws/aws_client.hpp"

namespace m2r::aws {

struct OptionGroupMembership {
  std::string name;
  std::string status;  // in-sync, pending-apply, ...
};

struct DbInstance {
  std::string identifier;
  std::string arn;
  std::string status;  // available, ...
  std::string engine;  // sqlserver-se, sqlserver-ee, ...
  std::string engine_version;
  std::string instance_class;
  int allocated_storage = 0;  // GiB
  std::string endpoint_address;
  int endpoint_port = 0;
  std::string availability_zone;
  bool multi_az = false;
  std::vector<OptionGroupMembership> option_groups;
};

struct OptionSetting {
  std::string name;
  std::string value;
};

struct DbOption {
  std::string name;  // "SQLSERVER_BACKUP_RESTORE"
  std::vector<OptionSetting> settings;  // IAM_ROLE_ARN, ...
  std::optional<std::string> setting(const std::string& setting_name) const;
};

struct OptionGroup {
  std::string name;
  std::string engine_name;
  std::string major_engine_version;
  std::vector<DbOption> options;
  const DbOption* option(const std::string& option_name) const;
};

class RdsClient {
 public:
  explicit RdsClient(const AwsContext& context) : m_client(context, Service::rds) {}

  // All instances (every page), or the one named (not_found when it does not exist).
  Expected<std::vector<DbInstance>> describe_db_instances(const std::optional<std::string>& identifier = {});
  Expected<DbInstance> describe_db_instance(const std::string& identifier);
  Expected<std::vector<OptionGroup>> describe_option_groups(const std::optional<std::string>& name = {});

  static QueryParams describe_db_instances_params(const std::optional<std::string>& identifier, const std::string& marker);
  static QueryParams describe_option_groups_params(const std::optional<std::string>& name, const std::string& marker);
  // Parse one response page; returns the next Marker (empty when done).
  static Expected<std::string> parse_db_instances(const std::string& xml, std::vector<DbInstance>& out);
  static Expected<std::string> parse_option_groups(const std::string& xml, std::vector<OptionGroup>& out);

 private:
  AwsClient m_client;
};

}  // namespace m2r::aws
