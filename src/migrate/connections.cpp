#include "migrate/connections.hpp"

#include <charconv>

#include "aws/rds_client.hpp"
#include "mssql/connection_string.hpp"
#include "migrate/object_store_s3.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r {

namespace {

using Session = std::unique_ptr<mssql::SqlSession>;

Expected<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& hp) {
  const auto colon = hp.rfind(':');
  std::uint16_t port = 0;
  const char* first = hp.data() + (colon == std::string::npos ? hp.size() : colon + 1);
  const char* last = hp.data() + hp.size();
  const auto parsed = std::from_chars(first, last, port);
  if (colon == std::string::npos || colon == 0 || first == last || parsed.ec != std::errc() || parsed.ptr != last) {
    return fail(ErrorKind::invalid_input, "[target] host_override must be host:port, not '" + hp + "'",
                "write it as host:port, for example 127.0.0.1:1433");
  }
  return std::make_pair(hp.substr(0, colon), port);
}

}  // namespace

Expected<const aws::AwsContext*> need_aws(const Connections& connections) {
  if (!connections.aws) return fail(ErrorKind::auth, "no AWS credentials", "set AWS_PROFILE or the AWS_* variables");
  return &*connections.aws;
}

Expected<std::shared_ptr<ObjectStore>> object_store_of(const Connections& connections) {
  if (connections.object_store) return connections.object_store;
  const auto* aws = M2R_TRY(need_aws(connections));
  return std::shared_ptr<ObjectStore>(std::make_shared<S3ObjectStore>(*aws));
}

Expected<Connections> default_connections(const MigrationConfig& config) {
  Connections c;
  c.clock = std::make_shared<aws::SystemClock>();
  auto aws = aws::AwsContext::from_environment({.region = config.s3.region});
  if (aws) c.aws = *aws;
  const auto source_settings = mssql::settings_for(config.source);
  c.source = [source_settings]() -> Expected<Session> {
    auto s = M2R_TRY(mssql::OdbcSession::connect(source_settings, mssql::system_password_sources()));
    return Session(std::move(s));
  };
  auto aws_copy = c.aws;
  auto target_cfg = config.target;
  // The RDS endpoint is looked up once, on first use, and shared by every target session.
  auto endpoint = std::make_shared<std::optional<std::pair<std::string, std::uint16_t>>>();
  // Through host_override the certificate is still checked against the instance's endpoint
  // name (Microsoft's driver: HostNameInCertificate), looked up in RDS.
  auto certificate_name = std::make_shared<std::string>();
  c.target = [aws_copy, target_cfg, endpoint, certificate_name](const std::string& database) -> Expected<Session> {
    if (!*endpoint) {
      if (!target_cfg.host_override.empty()) {
        auto override_endpoint = M2R_TRY(split_host_port(target_cfg.host_override));
        if (!target_cfg.trust_server_certificate) {
          if (!aws_copy) {
            return fail(ErrorKind::auth, "no AWS credentials to look up the RDS endpoint the certificate must name",
                        "set AWS_PROFILE (with host_override the certificate is checked against the endpoint's name)");
          }
          aws::RdsClient rds(*aws_copy);
          *certificate_name = M2R_TRY(rds.describe_db_instance(target_cfg.rds_instance)).endpoint_address;
        }
        *endpoint = std::move(override_endpoint);
      } else {
        if (!aws_copy) return fail(ErrorKind::auth, "no AWS credentials to look up the RDS endpoint", "set AWS_PROFILE");
        aws::RdsClient rds(*aws_copy);
        const auto instance = M2R_TRY(rds.describe_db_instance(target_cfg.rds_instance));
        *endpoint = std::make_pair(instance.endpoint_address, static_cast<std::uint16_t>(instance.endpoint_port));
      }
    }
    auto settings = mssql::settings_for(target_cfg, (*endpoint)->first, (*endpoint)->second);
    settings.database = database;
    settings.certificate_host_name = *certificate_name;
    auto s = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::system_password_sources()));
    return Session(std::move(s));
  };
  return c;
}

}  // namespace m2r
