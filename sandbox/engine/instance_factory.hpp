#pragma once
// Opens a sandbox SQL Server instance (a box on-premises or an RDS for SQL Server
// instance) over SQLite files in data_dir. See sandbox/engine/README.md.
#include <memory>
#include <optional>
#include <string>

#include "engine/api.hpp"
#include "engine/edition.hpp"

namespace sandbox {

enum class InstanceKind { sqlserver, rds };

struct InstanceConfig {
  std::string name;
  InstanceKind kind = InstanceKind::sqlserver;
  int version = 2019;  // 2016 | 2017 | 2019 | 2022
  // Empty: Developer on-premises, Standard on RDS (what the world had before editions).
  std::optional<Edition> edition;
  // SQL Server Agent's service state (sys.dm_server_services); Express has no Agent whatever this says.
  AgentState agent = AgentState::running;
  // RDS only: a Multi-AZ instance restores natively only backups taken in FULL recovery.
  bool rds_multi_az = false;
  std::string data_dir;
  std::string sa_password;
  // RDS only (filled later for RDS restore).
  std::string rds_s3_endpoint;
  std::string rds_region;
  std::string rds_access_key_id;
  std::string rds_secret_access_key;
  std::string rds_option_group_role_arn;  // empty = no SQLSERVER_BACKUP_RESTORE option
  // Multiplier on how long backup/restore work takes: 1.0 is realistic for the demo,
  // 0.0 makes it as fast as the machine allows (tests).
  double rds_task_pace = 1.0;
  // Bytes per second BACKUP copies at (0 = unthrottled), so WITH STATS progress is visible.
  double backup_throughput = 0.0;
  // The login besides "sa" that sa_password opens (the RDS master user).
  std::string admin_user = "sa";
};

std::unique_ptr<Instance> open_instance(const InstanceConfig& config);

// The instance's edition: the configured one, else Developer on-premises and Standard on RDS.
inline Edition edition_of(const InstanceConfig& config) {
  return config.edition.value_or(config.kind == InstanceKind::rds ? Edition::standard : Edition::developer);
}
// Whether SQL Server Agent runs (never on Express).
inline bool agent_running(const InstanceConfig& config) {
  return editions::has_agent(edition_of(config)) && config.agent == AgentState::running;
}

}  // namespace sandbox
