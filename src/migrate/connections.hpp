#pragma once
// How a migration reaches its servers: the source database, the target on RDS and AWS.
// The default opens ODBC sessions and resolves AWS from the environment; tests substitute
// fakes for any of them.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_context.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct Connections {
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>()> source;         // the source database
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>(const std::string& database)> target;  // on RDS
  std::optional<aws::AwsContext> aws;
};

Expected<Connections> default_connections(const MigrationConfig& config);

// The AWS context, or the error a command without credentials reports.
Expected<const aws::AwsContext*> need_aws(const Connections& connections);

}  // namespace m2r
