#pragma once
// What `mssql2rds-sandbox serve` runs: one TDS listener per instance, from
// --instance specs and/or a TOML file. Secrets (the sa password, AWS keys) come
// from the environment or the file, never from argv.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/instance_factory.hpp"

namespace sandbox::tds {

inline constexpr const char* k_sa_password_env = "MSSQL2RDS_SANDBOX_SA_PASSWORD";

struct ServedInstance {
  InstanceConfig config;
  std::uint16_t port = 0;  // 0: a free port
  // read_timeout_ms: a client stalled mid-packet this long is disconnected (tds/connection.hpp).
  std::chrono::milliseconds read_timeout{30000};
  // tls_cert / tls_key: PEM files; with them the instance offers TLS in PRELOGIN. force_ssl=1
  // (RDS's rds.force_ssl, SQL Server's Force Encryption) drops clients that do not encrypt.
  std::string tls_cert;
  std::string tls_key;
  bool force_ssl = false;
};

struct ServeConfig {
  std::string host = "127.0.0.1";
  std::vector<ServedInstance> instances;
};

// A function from environment variable name to value ("" when unset), so tests
// need not touch the process environment.
using GetEnv = std::string (*)(const char*);
std::string process_env(const char* name);

// "name=src,port=14331,kind=sqlserver,version=2019,data=/tmp/src[,task_pace=0,
//  backup_throughput=0,s3_endpoint=...,region=...,role_arn=...,password_env=VAR,
//  read_timeout_ms=30000,tls_cert=PEM,tls_key=PEM,force_ssl=0|1]".
// The sa password comes from password_env (default MSSQL2RDS_SANDBOX_SA_PASSWORD);
// an RDS instance's AWS keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
m2r::Expected<ServedInstance> parse_instance_spec(const std::string& spec, GetEnv env = process_env);

// [[instance]] tables with the same keys (and sa_password / secret_access_key
// allowed in the file); top-level `host`.
m2r::Expected<ServeConfig> parse_serve_toml(const std::string& path, GetEnv env = process_env);

}  // namespace sandbox::tds
