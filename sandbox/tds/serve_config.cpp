#include "tds/serve_config.hpp"

#include <cstdlib>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace sandbox::tds {
namespace {

using m2r::ErrorKind;
using m2r::fail;

const char* const k_spec_hint =
    "write --instance name=src,port=14331,kind=sqlserver,version=2019,data=DIR";

m2r::Expected<ServedInstance> from_map(const std::map<std::string, std::string>& kv, GetEnv env,
                                       const std::string& where) {
  ServedInstance s;
  InstanceConfig& c = s.config;
  std::string password_env = k_sa_password_env;
  for (const auto& [key, value] : kv) {
    try {
      if (key == "name") c.name = value;
      else if (key == "port") {
        const int p = std::stoi(value);
        if (p < 0 || p > 65535) return fail(ErrorKind::invalid_input, fmt::format("{}: port {} out of range", where, value));
        s.port = static_cast<std::uint16_t>(p);
      } else if (key == "kind") {
        if (value == "sqlserver") c.kind = InstanceKind::sqlserver;
        else if (value == "rds") c.kind = InstanceKind::rds;
        else return fail(ErrorKind::invalid_input, fmt::format("{}: kind '{}' is neither sqlserver nor rds", where, value));
      } else if (key == "version") {
        c.version = std::stoi(value);
        if (c.version != 2016 && c.version != 2017 && c.version != 2019 && c.version != 2022) {
          return fail(ErrorKind::invalid_input, fmt::format("{}: version {} is not 2016, 2017, 2019 or 2022", where, value));
        }
      } else if (key == "edition") {
        c.edition = edition_from_name(value);
        if (!c.edition) {
          return fail(ErrorKind::invalid_input,
                      fmt::format("{}: edition '{}' is not express, web, standard, enterprise or developer", where, value));
        }
      } else if (key == "agent") {
        if (value == "running") c.agent = AgentState::running;
        else if (value == "stopped") c.agent = AgentState::stopped;
        else return fail(ErrorKind::invalid_input, fmt::format("{}: agent '{}' is neither running nor stopped", where, value));
      } else if (key == "multi_az") {
        if (value != "0" && value != "1") {
          return fail(ErrorKind::invalid_input, fmt::format("{}: multi_az '{}' is neither 0 nor 1", where, value));
        }
        c.rds_multi_az = value == "1";
      } else if (key == "data") c.data_dir = value;
      else if (key == "task_pace") c.rds_task_pace = std::stod(value);
      else if (key == "backup_throughput") c.backup_throughput = std::stod(value);
      else if (key == "s3_endpoint") c.rds_s3_endpoint = value;
      else if (key == "region") c.rds_region = value;
      else if (key == "role_arn") c.rds_option_group_role_arn = value;
      else if (key == "master_user") c.admin_user = value;  // RDS's master user (principals.hpp)
      else if (key == "password_env") password_env = value;
      else if (key == "read_timeout_ms") {
        const long ms = std::stol(value);
        if (ms < 1 || ms > 3600000) {
          return fail(ErrorKind::invalid_input, fmt::format("{}: read_timeout_ms {} is not between 1 and 3600000", where, value));
        }
        s.read_timeout = std::chrono::milliseconds(ms);
      }
      else if (key == "tls_cert") s.tls_cert = value;
      else if (key == "tls_key") s.tls_key = value;
      else if (key == "force_ssl") {
        if (value != "0" && value != "1") {
          return fail(ErrorKind::invalid_input, fmt::format("{}: force_ssl '{}' is neither 0 nor 1", where, value));
        }
        s.force_ssl = value == "1";
      }
      else if (key == "sa_password") c.sa_password = value;            // TOML files only
      else if (key == "access_key_id") c.rds_access_key_id = value;    // TOML files only
      else if (key == "secret_access_key") c.rds_secret_access_key = value;
      else return fail(ErrorKind::invalid_input, fmt::format("{}: unknown key '{}'", where, key), k_spec_hint);
    } catch (const std::exception&) {
      return fail(ErrorKind::invalid_input, fmt::format("{}: '{}' is not a valid {}", where, value, key));
    }
  }
  if (c.name.empty()) return fail(ErrorKind::invalid_input, fmt::format("{}: the instance has no name", where), k_spec_hint);
  if (c.data_dir.empty()) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: instance '{}' has no data directory", where, c.name), k_spec_hint);
  }
  // Express ships without SQL Server Agent: asking for it running is a contradiction, not a default.
  if (c.edition == Edition::express && kv.count("agent") && c.agent == AgentState::running) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: instance '{}' is Express, which has no SQL Server Agent", where, c.name),
                "leave agent out (or agent=stopped) for an Express instance, or choose another edition");
  }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: instance '{}' has only one of tls_cert and tls_key", where, c.name),
                "give both: the certificate and its private key");
  }
  if (s.force_ssl && s.tls_cert.empty()) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: instance '{}' has force_ssl=1 but no certificate", where, c.name),
                "give tls_cert and tls_key, or force_ssl=0");
  }
  if (c.sa_password.empty()) c.sa_password = env(password_env.c_str());
  if (c.sa_password.empty()) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: no sa password for instance '{}'", where, c.name),
                fmt::format("set {} in the environment (never on the command line)", password_env));
  }
  if (c.kind == InstanceKind::rds) {
    if (c.rds_access_key_id.empty()) c.rds_access_key_id = env("AWS_ACCESS_KEY_ID");
    if (c.rds_secret_access_key.empty()) c.rds_secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    if (c.rds_region.empty()) c.rds_region = env("AWS_DEFAULT_REGION");
    if (c.rds_region.empty()) c.rds_region = "us-east-1";
  }
  return s;
}

}  // namespace

std::string process_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

m2r::Expected<ServedInstance> parse_instance_spec(const std::string& spec, GetEnv env) {
  std::map<std::string, std::string> kv;
  std::istringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorKind::invalid_input, fmt::format("--instance '{}': '{}' is not key=value", spec, item), k_spec_hint);
    }
    const std::string key = item.substr(0, eq);
    if (key == "sa_password" || key == "secret_access_key" || key == "access_key_id") {
      return fail(ErrorKind::invalid_input, fmt::format("--instance: '{}' does not belong on the command line", key),
                  "pass secrets through the environment (password_env=VAR, AWS_SECRET_ACCESS_KEY) or a TOML file");
    }
    kv[key] = item.substr(eq + 1);
  }
  return from_map(kv, env, "--instance");
}

m2r::Expected<ServeConfig> parse_serve_toml(const std::string& path, GetEnv env) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: {}", path, e.description()));
  }
  ServeConfig cfg;
  if (auto host = root["host"].value<std::string>()) cfg.host = *host;
  const toml::array* instances = root["instance"].as_array();
  if (!instances) return fail(ErrorKind::invalid_input, fmt::format("{}: no [[instance]] tables", path));
  int index = 0;
  for (const toml::node& node : *instances) {
    ++index;
    const toml::table* t = node.as_table();
    if (!t) return fail(ErrorKind::invalid_input, fmt::format("{}: instance #{} is not a table", path, index));
    std::map<std::string, std::string> kv;
    for (const auto& [key, value] : *t) {
      std::string text;
      if (auto s = value.value<std::string>()) text = *s;
      else if (auto i = value.value<std::int64_t>()) text = std::to_string(*i);
      else if (auto d = value.value<double>()) text = fmt::format("{}", *d);
      else return fail(ErrorKind::invalid_input, fmt::format("{}: instance #{}: '{}' must be a string or a number", path, index, key.str()));
      kv[std::string(key.str())] = text;
    }
    auto served = from_map(kv, env, fmt::format("{} instance #{}", path, index));
    if (!served) return tl::unexpected(served.error());
    cfg.instances.push_back(std::move(*served));
  }
  return cfg;
}

}  // namespace sandbox::tds
