#pragma once
// How a migration reaches its servers: the source database, the target on RDS and AWS, the
// S3 multipart uploads, and the clock every wait goes through. The default opens ODBC
// sessions, resolves AWS from the environment and uses the system clock; tests substitute
// fakes for any of them (a FakeClock makes a 10-minute drain timeout take no time).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_context.hpp"
#include "aws/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "migrate/object_store.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct Connections {
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>()> source;         // the source database
  std::function<Expected<std::unique_ptr<mssql::SqlSession>>(const std::string& database)> target;  // on RDS
  std::optional<aws::AwsContext> aws;
  // Every sleep and deadline of the migrate code (drain, task and restore polling, DMS
  // TestConnection) reads this clock, never std::chrono directly.
  std::shared_ptr<aws::Clock> clock = std::make_shared<aws::SystemClock>();
  // The uploads' store (upload, streaming upload, abort): S3 through `aws` when empty.
  std::shared_ptr<ObjectStore> object_store;
};

Expected<Connections> default_connections(const MigrationConfig& config);

// The AWS context, or the error a command without credentials reports.
Expected<const aws::AwsContext*> need_aws(const Connections& connections);

// The store the uploads go to: `object_store` when set, else S3 through the AWS context.
Expected<std::shared_ptr<ObjectStore>> object_store_of(const Connections& connections);

}  // namespace m2r
