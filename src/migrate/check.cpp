#include "migrate/check.hpp"

#include "mssql/connection_string.hpp"

#include <optional>

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "aws/s3_client.hpp"
#include "migrate/aws_facts.hpp"
#include "migrate/backup_directory_probe.hpp"
#include "migrate/database_settings_facts.hpp"
#include "migrate/logins.hpp"
#include "migrate/source_capture_fix.hpp"
#include "migrate/server_object_facts.hpp"
#include "migrate/source_facts.hpp"
#include "migrate/source_permission_facts.hpp"

namespace m2r {

Expected<std::vector<CheckResult>> check_migration(const MigrationConfig& config, Connections& conn,
                                                   const CheckOptions& options, EventSink& events) {
  std::vector<CheckResult> results;
  SourceFacts source;
  source.database = config.source.database;
  auto src = conn.source();
  if (!src) {
    source.connect_error = src.error().message;
  } else {
    source = gather_source_facts(**src, config.source.database);
    if (options.fix_source) {
      M2R_TRY(fix_source_capture(**src, source, events));
      source = gather_source_facts(**src, config.source.database);
    }
  }
  for (auto& r : evaluate_source(source)) results.push_back(r);
  if (src) results.push_back(evaluate_backup_directory(probe_backup_directory(**src, config.source, source.is_sysadmin)));
  if (src && source.database_exists) {
    results.push_back(evaluate_source_permissions(gather_source_permission_facts(**src, config.source.database),
                                                  config.source.database));
  }
  if (src && source.database_exists) {
    if (auto settings = read_database_settings(**src, config.source.database); settings) {
      results.push_back(evaluate_database_settings(*settings, config.source.database));
    } else {
      results.push_back({"database.settings", "the database's settings survive a restore on RDS", CheckStatus::warn,
                         "could not read them: " + settings.error().message,
                         "grant VIEW DEFINITION on the database to the source login, or compare them by hand"});
    }
  }
  // What the restore leaves at the server level (core/server_objects), judged once the
  // target's configuration is known.
  std::optional<ServerObjectFacts> server_objects;
  if (src) server_objects = gather_server_object_facts(**src, config.source.login);
  TargetConfiguration target_configuration;

  RdsFacts rds;
  S3Facts s3;
  DmsFacts dms_facts;
  if (!conn.aws) {
    rds.error = s3.error = dms_facts.error = "no AWS credentials (set AWS_PROFILE or the AWS_* variables)";
  } else {
    aws::RdsClient rds_client(*conn.aws);
    rds = gather_rds_facts(rds_client, config.target, conn.aws->region);
    auto tgt = conn.target("master");
    if (tgt) target_configuration = gather_target_configuration(**tgt);
    else target_configuration.unknown_because = tgt.error().message;
    if (tgt) {
      auto exists = (*tgt)->query("SELECT name FROM sys.databases WHERE name = ?",
                                  {mssql::SqlParam::nvarchar(config.target.database)},
                                  {.idempotent = mssql::Idempotent::yes});
      if (exists) rds.target_database_exists = !exists->rows().empty();
      else rds.target_connect_error = exists.error().message;
    } else {
      rds.target_connect_error = tgt.error().message;
    }
    aws::S3Client s3_client(*conn.aws);
    s3.bucket = config.s3.bucket;
    if (auto head = s3_client.head_bucket(config.s3.bucket); !head) {
      s3.error = head.error().message;
      s3.error_fix = head.error().hint;
    } else {
      s3.reachable = true;
      s3.region = s3_client.get_bucket_location(config.s3.bucket).value_or(config.s3.region);
    }
    aws::DmsClient dms(*conn.aws);
    dms_facts = gather_dms_facts(dms, config.dms, options.test_connections, *conn.clock);
  }
  for (auto& r : evaluate_rds(rds, source)) results.push_back(r);
  results.push_back(evaluate_connection_security(
      {"source", config.source.encrypt, config.source.trust_server_certificate, !config.source.odbc_connection_string.empty(),
       mssql::encryption_turned_off(config.source.odbc_connection_string)}));
  results.push_back(evaluate_connection_security(
      {"target", config.target.encrypt, config.target.trust_server_certificate, false, false}));
  for (auto& r : evaluate_s3(s3, rds)) results.push_back(r);
  ExpectedTopology topo{config.source.server, config.source.port, config.source.database, config.target.database,
                        config.s3.region, config.target.host_override};
  for (auto& r : evaluate_dms(dms_facts, topo, rds)) results.push_back(r);
  if (!conn.aws) target_configuration.unknown_because = rds.error;
  if (server_objects) {
    for (auto& r : evaluate_server_objects(*server_objects, target_configuration, config.source.database)) results.push_back(r);
  }
  // The logins the users need on RDS (core/login_transfer), when both servers answer.
  if (src && conn.aws) {
    if (auto logins = read_login_facts(config, conn); logins) {
      results.push_back(evaluate_logins(plan_login_transfer(*logins)));
    } else {
      results.push_back({"source.logins", "the logins the database's users map to can be carried to RDS",
                         CheckStatus::warn, "could not read them: " + logins.error().message, logins.error().hint});
    }
  }
  return results;
}

Expected<std::string> agent_jobs_script(const MigrationConfig& config, Connections& conn) {
  auto src = conn.source();
  if (!src) return tl::make_unexpected(src.error());
  const auto facts = gather_server_object_facts(**src, config.source.login);
  if (facts.agent_unreadable) {
    return fail(ErrorKind::prerequisite, "cannot read the source's Agent jobs: " + facts.agent_unreadable->error,
                facts.agent_unreadable->grant);
  }
  const std::string target = config.target.database.empty() ? config.source.database : config.target.database;
  return script_agent_jobs(jobs_touching(facts.jobs, config.source.database), config.source.database, target);
}

Expected<void> preflight_run(const MigrationConfig& config, Connections& conn, const PreflightScope& scope,
                             EventSink& events) {
  const auto results = M2R_TRY(check_migration(config, conn, {.fix_source = false, .test_connections = false}, events));
  auto in_scope = [&](const std::string& id) {
    // TestConnection takes a minute on AWS: `check` runs it, the preflight does not.
    if (id == "dms.source_connection" || id == "dms.target_connection") return false;
    // What stays at the server level (jobs, linked servers, ...) is for the user to recreate;
    // it does not stop the data from moving.
    if (id.rfind("server.", 0) == 0) return false;
    if (id == "rds.target_name") return scope.target_name_free;
    if (id.rfind("source.", 0) == 0) return scope.source;
    if (id.rfind("s3.", 0) == 0) return scope.s3;
    if (id.rfind("rds.", 0) == 0) return scope.rds;
    if (id.rfind("dms.", 0) == 0) return scope.dms;
    return true;
  };
  std::vector<std::string> problems, fixes;
  for (const auto& r : results) {
    if (r.status != CheckStatus::fail || !in_scope(r.id)) continue;
    problems.push_back(fmt::format("{} ({}): {}", r.title, r.id, r.detail));
    if (!r.fix.empty()) fixes.push_back(r.fix);
  }
  if (problems.empty()) return {};
  return fail(ErrorKind::prerequisite,
              fmt::format("preflight: {} prerequisite(s) not met, nothing was changed: {}", problems.size(),
                          fmt::join(problems, "; ")),
              fmt::format("{}; then run again (`mssql2rds check` shows every check)", fmt::join(fixes, "; ")));
}

}  // namespace m2r
