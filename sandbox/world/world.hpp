#pragma once
// The rehearsal world: moto with IAM authentication on (docs/facts.md "Checked recipe"), the
// sandbox's source SQL Server and RDS for SQL Server instances (`mssql2rds-sandbox serve`),
// the sandbox's DMS API, seeded with what a migration needs. Every process runs in its own
// process group, recorded in DIR/pids; `down` kills the groups and checks nothing is left.
//
// DIR/world.json   ports, ARNs and names (no secrets)
// DIR/env          shell exports: AWS_ENDPOINT_URL_<SERVICE>, AWS_REGION, and a profile in
//                  DIR/aws/{credentials,config} (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
//                  AWS_PROFILE): no secret in the environment
// DIR/secrets/     sa_password, migration_password with --migration-login (0600)
// DIR/logs/        one log per process (moto, source, rds, dms)
// DIR/moto-python/ the one Python module moto gets from Debian (python3-crc32c, sys/moto_locator.hpp)
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace sandbox::world {

struct WorldOptions {
  std::string dir;
  std::string pace = "fast";       // fast: tests; demo: backups, restores and CDC at a visible pace
  std::string database = "sales";  // the database the DMS endpoints name
  std::string sandbox_exe;         // mssql2rds-sandbox; empty = /proc/self/exe
  // How to run moto; empty = sys/moto_locator.hpp's search (MOTO_SERVER, moto_server on PATH,
  // python3 -m moto.server).
  std::vector<std::string> moto_command;
  int ready_timeout_seconds = 60;
  // The source instance's edition, version and SQL Server Agent (README.md "Editions, versions
  // and SQL Server Agent"); empty = Developer, 2019, Agent running (the world before editions).
  std::string source_edition;  // express | web | standard | enterprise | developer
  std::string source_version;  // 2016 | 2017 | 2019 | 2022
  std::string source_agent;    // running | stopped
  // When set, the least-privilege login the migration uses on the source (docs/facts.md §3),
  // created by the world as the source's DBA (sa) with the server-level part of its rights and
  // named by the DMS source endpoint; its password in DIR/secrets/migration_password. The
  // database-level part (db_owner) is granted once the database exists (the demo does).
  std::string migration_login;
};

// Refuses unknown editions, versions and agent states, and Express with Agent running, before
// anything is started.
m2r::Expected<void> validate_world_options(const WorldOptions& options);

// Starts everything, seeds it, writes DIR/world.json and DIR/env. On failure, stops what
// it started.
m2r::Expected<nlohmann::json> world_up(const WorldOptions& options);
// Stops every process of the world in DIR and verifies none is left.
m2r::Expected<void> world_down(const std::string& dir);
// The state of each process of the world in DIR (moto, source, rds, dms): "running" (alive,
// its port answers), "not answering" (alive, port closed) or "exited", with the tail of the
// log of any that is not running; "healthy" is true only when every one runs. Each SQL
// Server instance is its own `serve` process (DIR/logs/source.log, DIR/logs/rds.log), so a
// crash of one leaves the other serving and shows here.
m2r::Expected<nlohmann::json> world_status(const std::string& dir);
// The contents of DIR/env.
m2r::Expected<std::string> world_env(const std::string& dir);

// The DMS API server in the foreground (what `world up` runs as a child): config from
// DIR/world.json, keys from DIR/aws/credentials, state in DIR/dms-state.json. Returns when
// SIGTERM or SIGINT arrives.
int run_dms_server(const std::string& dir);

}  // namespace sandbox::world
