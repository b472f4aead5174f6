#include "migrate/migration.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "aws/cloudwatch_client.hpp"
#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "aws/s3_client.hpp"
#include "core/plan.hpp"
#include "core/tsql.hpp"
#include "migrate/aws_facts.hpp"
#include "migrate/backup_step.hpp"
#include "migrate/config_file.hpp"
#include "migrate/lsn_capture_step.hpp"
#include "migrate/object_store_s3.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/restore_step.hpp"
#include "migrate/step_runner.hpp"
#include "migrate/table_validation.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/upload_engine.hpp"
#include "migrate/upload_step.hpp"
#include "mssql/connection_string.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r {

namespace {

using Session = std::unique_ptr<mssql::SqlSession>;

Expected<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& hp) {
  const auto colon = hp.rfind(':');
  if (colon == std::string::npos) return fail(ErrorKind::invalid_input, "host_override must be host:port: " + hp);
  return std::make_pair(hp.substr(0, colon), static_cast<std::uint16_t>(std::stoi(hp.substr(colon + 1))));
}

std::string now_stamp() {
  return fmt::format("{:%Y%m%dT%H%M%S}", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

Expected<const aws::AwsContext*> need_aws(const Connections& c) {
  if (!c.aws) return fail(ErrorKind::auth, "no AWS credentials", "set AWS_PROFILE or the AWS_* variables");
  return &*c.aws;
}

Event info_event(const std::string& step, std::string message) {
  Event e;
  e.kind = EventKind::info;
  e.step = step;
  e.message = std::move(message);
  return e;
}

}  // namespace

Expected<Connections> default_connections(const MigrationConfig& config) {
  Connections c;
  auto aws = aws::AwsContext::from_environment({.region = config.s3.region});
  if (aws) c.aws = *aws;
  const auto source_settings = mssql::settings_for(config.source);
  c.source = [source_settings]() -> Expected<Session> {
    auto s = M2R_TRY(mssql::OdbcSession::connect(source_settings, mssql::system_password_sources()));
    return Session(std::move(s));
  };
  auto aws_copy = c.aws;
  auto target_cfg = config.target;
  auto endpoint = std::make_shared<std::optional<std::pair<std::string, std::uint16_t>>>();
  c.target = [aws_copy, target_cfg, endpoint](const std::string& database) -> Expected<Session> {
    if (!*endpoint) {
      if (!target_cfg.host_override.empty()) {
        *endpoint = M2R_TRY(split_host_port(target_cfg.host_override));
      } else {
        if (!aws_copy) return fail(ErrorKind::auth, "no AWS credentials to look up the RDS endpoint", "set AWS_PROFILE");
        aws::RdsClient rds(*aws_copy);
        const auto instance = M2R_TRY(rds.describe_db_instance(target_cfg.rds_instance));
        *endpoint = std::make_pair(instance.endpoint_address, static_cast<std::uint16_t>(instance.endpoint_port));
      }
    }
    auto settings = mssql::settings_for(target_cfg, (*endpoint)->first, (*endpoint)->second);
    settings.database = database;
    auto s = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::system_password_sources()));
    return Session(std::move(s));
  };
  return c;
}

namespace {

// The database's allocated size split over the stripes: an upper bound of each backup file,
// so the streaming upload picks parts large enough before the final size is known.
std::uint64_t expected_backup_file_size(mssql::SqlSession& source, int stripes) {
  auto r = source.query("SELECT SUM(CAST(size AS bigint)) * 8192 AS bytes FROM sys.database_files", {},
                        {.idempotent = mssql::Idempotent::yes});
  if (!r) return 0;
  auto v = r->first().value(0, "bytes");
  if (!v || v->is_null()) return 0;
  const auto bytes = v->as_int64();
  return bytes && *bytes > 0 ? static_cast<std::uint64_t>(*bytes) / static_cast<std::uint64_t>(std::max(stripes, 1)) : 0;
}

// [upload] streaming: BACKUP writes the files while the upload step's sub-steps send them.
// The backup step's outcome decides: a failed BACKUP stops the upload before any object is
// completed; a failed upload beside a good backup is left to the upload step, which resumes
// it from the journal.
Expected<nlohmann::json> run_backup_streaming_upload(StepContext& ctx, mssql::SqlSession& source, Connections& conn,
                                                     const MigrationConfig& config, const std::string& new_stamp) {
  const auto* aws = M2R_TRY(need_aws(conn));
  const auto layout = backup_layout(config, ctx.partial().value("stamp", new_stamp));
  enum : int { writing, finished, failed };
  std::atomic<int> backup_state{writing};
  BackupWriterState writer{[&] { return backup_state.load() != writing; }, [&] { return backup_state.load() == failed; },
                           expected_backup_file_size(source, config.source.backup_stripes)};
  Expected<nlohmann::json> uploaded = fail(ErrorKind::fatal, "the streaming upload did not run");
  std::thread uploader([&] {
    S3ObjectStore store(*aws);
    StepContext upload_ctx(ctx.journal(), ctx.events(), steps::upload, nlohmann::json::object(), nlohmann::json::object());
    uploaded = run_upload_step(upload_ctx, store, config, layout.local_files, layout.s3_keys, writer);
  });
  auto backup = run_backup_step(ctx, source, config, new_stamp, conn.source);
  backup_state = backup ? finished : failed;
  uploader.join();
  if (backup && !uploaded) {
    ctx.warning("the upload beside the backup stopped (" + uploaded.error().message +
                "); the upload step continues it from the journal");
  }
  return backup;
}

}  // namespace

Expected<void> run_migration(const MigrationConfig& config, Connections& conn, Journal& journal, EventSink& events,
                             const RunOptions& options) {
  // An aborted migration's journal describes resources abort removed: resuming it would
  // report "replicating" with no task. Starting over is a new journal, by the user's choice.
  if (const auto aborted = M2R_TRY(journal.step("abort")); aborted && aborted->status == StepStatus::done) {
    return fail(ErrorKind::conflict,
                fmt::format("this migration was aborted; its journal {} records steps whose task, uploads or target "
                            "database abort removed", config.journal),
                fmt::format("to start over, move {} aside (or set [migration] journal to a new file), then run again",
                            config.journal));
  }
  const std::string stamp = now_stamp();
  std::vector<StepDefinition> steps;
  steps.push_back({steps::backup, "native full backup on the source", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto src = M2R_TRY(conn.source());
                     if (!config.upload.streaming) return run_backup_step(ctx, *src, config, stamp, conn.source);
                     return run_backup_streaming_upload(ctx, *src, conn, config, stamp);
                   }});
  steps.push_back({steps::capture_lsn, "CDC start point from the backup's LSNs and the log",
                   [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto src = M2R_TRY(conn.source());
                     const auto& files = ctx.outputs_of(steps::backup)["server_files"];
                     return run_lsn_capture_step(ctx, *src, config.source.database, files.at(0).get<std::string>());
                   }});
  steps.push_back({steps::upload, "upload the backup to S3", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     const auto* aws = M2R_TRY(need_aws(conn));
                     S3ObjectStore store(*aws);
                     const auto& b = ctx.outputs_of(steps::backup);
                     return run_upload_step(ctx, store, config, b["local_files"].get<std::vector<std::string>>(),
                                            b["s3_keys"].get<std::vector<std::string>>());
                   }});
  steps.push_back({steps::restore, "restore on RDS", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto tgt = M2R_TRY(conn.target("master"));
                     RestoreInputs in;
                     in.database = config.target.database;
                     in.s3_arn = ctx.outputs_of(steps::backup).value("restore_arn", "");
                     in.poll = options.restore_poll;
                     return run_restore_step(ctx, *tgt, in);
                   }});
  steps.push_back({steps::prepare_target, "triggers and foreign keys off on the target",
                   [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto tgt = M2R_TRY(conn.target(config.target.database));
                     return run_target_prep_step(ctx, *tgt);
                   }});
  steps.push_back({steps::replicate, "DMS CDC task from the start point", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     const auto* aws = M2R_TRY(need_aws(conn));
                     aws::DmsClient dms(*aws);
                     ReplicateInputs in;
                     in.task_id = config.dms.task_id;
                     in.arns = M2R_TRY(resolve_dms_arns(dms, config.dms));
                     in.table_mappings = M2R_TRY(load_table_mappings(config));
                     in.start = M2R_TRY(Lsn::parse(ctx.outputs_of(steps::capture_lsn).value("start_lsn", "")));
                     in.timeout = options.dms_timeout;
                     return run_replicate_step(ctx, dms, in);
                   }});
  M2R_TRY(run_steps(steps, journal, events, options.stop_after));
  return {};
}

// ---- check -------------------------------------------------------------------------------

namespace {

std::optional<mssql::QueryResult> try_query(mssql::SqlSession& s, const std::string& sql) {
  auto r = s.query(sql, {}, {.idempotent = mssql::Idempotent::yes});
  if (!r) return std::nullopt;
  return *r;
}

std::string cell(const mssql::QueryResult& r, const char* column) {
  auto v = r.first().value(0, column);
  return v && !v->is_null() ? v->to_text() : "";
}

SourceFacts gather_source_facts(mssql::SqlSession& s, const std::string& db) {
  SourceFacts f;
  f.reachable = true;
  f.database = db;
  if (auto v = try_query(s, "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS v"); v && !v->rows().empty()) {
    f.product_version = v->rows()[0][0].to_text();
    f.major_version = std::atoi(f.product_version.c_str());
  }
  auto state = try_query(s, tsql::database_state(db));
  if (!state || state->rows().empty()) return f;
  f.database_exists = true;
  f.recovery_model = cell(*state, "recovery_model_desc");
  f.log_reuse_wait = cell(*state, "log_reuse_wait_desc");
  f.is_published = cell(*state, "is_published") == "1";
  f.is_cdc_enabled = cell(*state, "is_cdc_enabled") == "1";
  f.is_encrypted = cell(*state, "is_encrypted") == "1";
  // Columns newer than some supported versions: absent means "not in use".
  if (auto v = try_query(s, "SELECT is_accelerated_database_recovery_on, delayed_durability_desc FROM sys.databases "
                            "WHERE name = " + tsql::quote_literal(db)); v && !v->rows().empty()) {
    f.accelerated_database_recovery = cell(*v, "is_accelerated_database_recovery_on") == "1";
    f.delayed_durability = cell(*v, "delayed_durability_desc");
  }
  if (auto v = try_query(s, "SELECT IS_SRVROLEMEMBER('sysadmin') AS s"); v && !v->rows().empty()) {
    f.is_sysadmin = v->rows()[0][0].to_text() == "1";
  }
  f.can_read_log = try_query(s, "SELECT TOP 1 [Current LSN] FROM fn_dblog(NULL, NULL)").has_value();
  f.can_read_msdb = try_query(s, "SELECT TOP 1 backup_set_id FROM msdb.dbo.backupset").has_value();
  if (auto v = try_query(s, "SELECT SUM(CAST(size AS bigint)) * 8 AS kb FROM sys.master_files WHERE database_id = DB_ID(" +
                                tsql::quote_literal(db) + ")"); v && !v->rows().empty() && !v->rows()[0][0].is_null()) {
    f.size_gb = v->rows()[0][0].as_double().value_or(0) / 1024.0 / 1024.0;
  }
  auto tables = try_query(s, tsql::list_user_tables());
  // Per-table capture flags; when the catalog lacks them, the database-level flags apply.
  auto flags = try_query(s, "SELECT s.name AS schema_name, t.name AS table_name, t.is_published, t.is_tracked_by_cdc, "
                            "t.is_memory_optimized FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id");
  if (tables) {
    for (std::size_t i = 0; i < tables->rows().size(); ++i) {
      SourceTableFacts t;
      t.name = tables->first().value(i, "schema_name")->to_text() + "." + tables->first().value(i, "table_name")->to_text();
      t.has_pk = tables->first().value(i, "has_pk")->to_text() == "1";
      t.published = f.is_published && t.has_pk;
      t.cdc_enabled = false;
      if (flags) {
        for (std::size_t j = 0; j < flags->rows().size(); ++j) {
          const auto n = flags->first().value(j, "schema_name")->to_text() + "." +
                         flags->first().value(j, "table_name")->to_text();
          if (n != t.name) continue;
          t.published = flags->first().value(j, "is_published")->to_text() == "1";
          t.cdc_enabled = flags->first().value(j, "is_tracked_by_cdc")->to_text() == "1";
          t.memory_optimized = flags->first().value(j, "is_memory_optimized")->to_text() == "1";
        }
      } else {
        t.cdc_enabled = f.is_cdc_enabled;
      }
      f.tables.push_back(t);
    }
  }
  return f;
}

// --fix: what DMS needs on the source, created only with the user's consent (docs/facts.md §3).
Expected<void> fix_source_capture(mssql::SqlSession& s, const SourceFacts& f, EventSink& events) {
  const auto db = tsql::quote_literal(f.database);
  const auto id = try_query(s, "SELECT DB_ID(" + db + ") AS id");
  const long long db_id = id && !id->rows().empty() ? id->rows()[0][0].as_int64().value_or(0) : 0;
  const std::string publication = fmt::format("AR_PUBLICATION_{:05}", db_id);
  bool need_publication = false, need_cdc = false;
  for (const auto& t : f.tables) {
    if (t.has_pk && !t.published && !t.cdc_enabled) need_publication = true;
    if (!t.has_pk && !t.cdc_enabled) need_cdc = true;
  }
  auto run = [&](const std::string& sql) -> Expected<void> {
    events.emit(info_event("check", "fix: " + sql));
    M2R_TRY(s.execute(sql));
    return {};
  };
  if (need_publication) {
    if (!f.is_published) {
      M2R_TRY(run(fmt::format("EXEC sp_replicationdboption @dbname = {}, @optname = N'publish', @value = N'true'", db)));
      M2R_TRY(run(fmt::format("EXEC sp_addpublication @publication = {}, @sync_method = N'native', @repl_freq = "
                              "N'continuous', @status = N'active', @replicate_ddl = 1",
                              tsql::quote_literal(publication))));
    }
    for (const auto& t : f.tables) {
      if (!t.has_pk || t.published || t.cdc_enabled) continue;
      const auto dot = t.name.find('.');
      M2R_TRY(run(fmt::format("EXEC sp_addarticle @publication = {}, @article = {}, @source_owner = {}, @source_object "
                              "= {}, @type = N'logbased'",
                              tsql::quote_literal(publication), tsql::quote_literal(t.name.substr(dot + 1)),
                              tsql::quote_literal(t.name.substr(0, dot)), tsql::quote_literal(t.name.substr(dot + 1)))));
    }
  }
  if (need_cdc) {
    if (!f.is_cdc_enabled) M2R_TRY(run("EXEC sys.sp_cdc_enable_db"));
    for (const auto& t : f.tables) {
      if (t.has_pk || t.cdc_enabled) continue;
      const auto dot = t.name.find('.');
      M2R_TRY(run(fmt::format("EXEC sys.sp_cdc_enable_table @source_schema = {}, @source_name = {}, @role_name = NULL",
                              tsql::quote_literal(t.name.substr(0, dot)), tsql::quote_literal(t.name.substr(dot + 1)))));
    }
  }
  return {};
}

}  // namespace

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

  RdsFacts rds;
  S3Facts s3;
  DmsFacts dms_facts;
  if (!conn.aws) {
    rds.error = s3.error = dms_facts.error = "no AWS credentials (set AWS_PROFILE or the AWS_* variables)";
  } else {
    aws::RdsClient rds_client(*conn.aws);
    rds = gather_rds_facts(rds_client, config.target, conn.aws->region);
    auto tgt = conn.target("master");
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
    } else {
      s3.reachable = true;
      s3.region = s3_client.get_bucket_location(config.s3.bucket).value_or(config.s3.region);
    }
    aws::DmsClient dms(*conn.aws);
    dms_facts = gather_dms_facts(dms, config.dms, options.test_connections);
  }
  for (auto& r : evaluate_rds(rds, source)) results.push_back(r);
  for (auto& r : evaluate_s3(s3, rds)) results.push_back(r);
  ExpectedTopology topo{config.source.server, config.source.port, config.source.database, config.target.database,
                        config.s3.region, config.target.host_override};
  for (auto& r : evaluate_dms(dms_facts, topo, rds)) results.push_back(r);
  return results;
}

// ---- validate / status -------------------------------------------------------------------

Expected<ValidationReport> validate_migration(Connections& conn, const MigrationConfig& config) {
  auto src = M2R_TRY(conn.source());
  auto tgt = M2R_TRY(conn.target(config.target.database));
  return validate_databases(*src, *tgt);
}

namespace {

std::optional<double> latest_latency(aws::CloudWatchClient& cw, const std::string& metric, const std::string& instance_id,
                                     const std::string& task_resource_id) {
  aws::MetricStatisticsRequest req;
  req.namespace_name = "AWS/DMS";
  req.metric_name = metric;
  // docs/facts.md §4: the task dimension is its resource id (from the ARN), not its name.
  req.dimensions = {{"ReplicationInstanceIdentifier", instance_id}, {"ReplicationTaskIdentifier", task_resource_id}};
  req.end_time = std::chrono::system_clock::now() + std::chrono::minutes(1);
  req.start_time = req.end_time - std::chrono::minutes(15);
  req.period_seconds = 60;
  auto points = cw.get_metric_statistics(req);
  if (!points || points->empty()) return std::nullopt;
  const auto latest = std::max_element(points->begin(), points->end(),
                                       [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
  return latest->maximum ? latest->maximum : latest->average;
}

std::string resource_id_of(const std::string& arn) { return arn.substr(arn.rfind(':') + 1); }

struct LiveTask {
  aws::ReplicationTask task;
  std::vector<aws::TableStatistics> tables;
  std::optional<double> latency_source, latency_target;
};

Expected<LiveTask> read_live_task(const aws::AwsContext& aws, const std::string& task_arn) {
  aws::DmsClient dms(aws);
  LiveTask live;
  live.task = M2R_TRY(dms.describe_replication_task(task_arn));
  live.tables = dms.describe_table_statistics(task_arn).value_or(std::vector<aws::TableStatistics>{});
  std::string instance_id;
  if (auto ris = dms.describe_replication_instances({{"replication-instance-arn", {live.task.replication_instance_arn}}});
      ris && !ris->empty()) {
    instance_id = ris->front().identifier;
  }
  aws::CloudWatchClient cw(aws);
  live.latency_source = latest_latency(cw, "CDCLatencySource", instance_id, resource_id_of(task_arn));
  live.latency_target = latest_latency(cw, "CDCLatencyTarget", instance_id, resource_id_of(task_arn));
  return live;
}

std::int64_t total_changes(const std::vector<aws::TableStatistics>& tables) {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.inserts + t.updates + t.deletes;
  return n;
}

std::int64_t total_applied(const std::vector<aws::TableStatistics>& tables) {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.applied_inserts + t.applied_updates + t.applied_deletes;
  return n;
}

}  // namespace

Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws) {
  StatusReport report;
  report.steps = M2R_TRY(journal.steps());
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  const std::string arn = replicate ? replicate->outputs.value("task_arn", "") : "";
  if (arn.empty()) return report;
  if (!aws) {
    report.note = "no AWS credentials: DMS status not read";
    return report;
  }
  const auto aborted = M2R_TRY(journal.step("abort"));
  auto live = read_live_task(*aws, arn);
  if (!live) {
    report.note = live.error().kind == ErrorKind::not_found
                      ? std::string(aborted && aborted->status == StepStatus::done
                                        ? "the DMS task was deleted by `mssql2rds abort`"
                                        : "the DMS task " + arn + " no longer exists")
                      : "DMS: " + live.error().message;
    return report;
  }
  report.task = {{"arn", live->task.arn},
                 {"identifier", live->task.identifier},
                 {"status", live->task.status},
                 {"last_failure_message", live->task.last_failure_message},
                 {"stop_reason", live->task.stop_reason},
                 {"cdc_start_position", live->task.cdc_start_position},
                 {"recovery_checkpoint", live->task.recovery_checkpoint}};
  report.tables = nlohmann::json::array();
  for (const auto& t : live->tables) {
    report.tables.push_back({{"table", t.schema_name + "." + t.table_name},
                             {"inserts", t.inserts},
                             {"updates", t.updates},
                             {"deletes", t.deletes},
                             {"applied_inserts", t.applied_inserts},
                             {"applied_updates", t.applied_updates},
                             {"applied_deletes", t.applied_deletes},
                             {"state", t.table_state}});
  }
  report.latency_source_s = live->latency_source;
  report.latency_target_s = live->latency_target;
  (void)config;
  return report;
}

// ---- cutover ------------------------------------------------------------------------------

Expected<CutoverReport> cutover_migration(const MigrationConfig& config, Connections& conn, Journal& journal,
                                          EventSink& events, const CutoverOptions& options) {
  const auto* aws = M2R_TRY(need_aws(conn));
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  if (!replicate || replicate->status != StepStatus::done) {
    return fail(ErrorKind::prerequisite, "replication is not running yet: the run has not reached the DMS task",
                "finish `mssql2rds run` first");
  }
  const std::string arn = replicate->outputs.value("task_arn", "");
  const auto record = M2R_TRY(journal.step(steps::cutover));
  if (record && record->status == StepStatus::done) {
    return fail(ErrorKind::conflict, "cutover already completed", "nothing left to do; see `mssql2rds status`");
  }
  M2R_TRY(journal.begin_step(steps::cutover, {{"writes_stopped_at", std::chrono::duration_cast<std::chrono::seconds>(
                                                  options.writes_stopped_at.time_since_epoch()).count()}}));
  auto failed = [&](const Error& e) -> tl::unexpected<Error> {
    (void)journal.fail_step(steps::cutover, e.message);
    return tl::unexpected(e);
  };
  aws::DmsClient dms(*aws);
  CutoverReport report;

  // 1. Drain: latency at or under the threshold and no new changes between two reads.
  const auto drain_start = std::chrono::steady_clock::now();
  auto task = dms.describe_replication_task(arn);
  if (!task) return failed(task.error());
  if (task->status == "running") {
    // Drained: latency low, and neither the captured nor the applied counts moved between two
    // reads. Latency alone is not enough: a backlog younger than the threshold is still a
    // backlog, and it shows as applied counts still rising.
    std::pair<std::int64_t, std::int64_t> previous{-1, -1};
    for (;;) {
      auto live = read_live_task(*aws, arn);
      if (!live) return failed(live.error());
      if (live->task.status == "failed") return failed(task_failed_error(live->task));
      const std::pair<std::int64_t, std::int64_t> counts{total_changes(live->tables), total_applied(live->tables)};
      const double lat = std::max(live->latency_source.value_or(0), live->latency_target.value_or(0));
      Event e;
      e.kind = EventKind::progress;
      e.step = "cutover";
      e.fraction = 0;
      e.message = fmt::format("draining: CDC latency {:.0f}s, {} changes captured, {} applied", lat, counts.first,
                              counts.second);
      events.emit(e);
      if (lat <= options.max_latency_s && counts == previous) break;
      previous = counts;
      if (std::chrono::steady_clock::now() - drain_start > options.drain_timeout) {
        return failed(Error(ErrorKind::timeout,
                            fmt::format("CDC did not drain within {}s (latency {:.0f}s)", options.drain_timeout.count(), lat),
                            "check that the application really stopped writing; run `mssql2rds cutover` again to "
                            "keep waiting, with --drain-timeout to wait longer"));
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    report.drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_start).count();
    events.emit(info_event("cutover", fmt::format("drained in {:.1f}s; stopping the DMS task", report.drain_s)));
    if (auto stopped = dms.stop_replication_task(arn); !stopped) return failed(stopped.error());
    if (auto w = wait_for_task(dms, arn, {"stopped"}, std::chrono::seconds(300), std::chrono::milliseconds(1000)); !w) {
      return failed(w.error());
    }
  } else if (task->status != "stopped") {
    return failed(task->status == "failed" ? task_failed_error(*task)
                                           : Error(ErrorKind::prerequisite, "the DMS task is " + task->status,
                                                   "wait until it is running, then run cutover again"));
  }
  (void)journal.record_outputs(steps::cutover, {{"task_stopped", true}, {"drain_seconds", report.drain_s}});

  // 2. Validate.
  auto validation = validate_migration(conn, config);
  if (!validation) return failed(validation.error());
  report.validation = *validation;
  if (!validation->ok() && !options.force) {
    std::string names;
    for (const auto& t : validation->tables) {
      if (!t.matches) names += (names.empty() ? "" : "; ") + t.table + ": " + t.problem;
    }
    return failed(Error(ErrorKind::integrity, "validation failed, cutover refused: " + names,
                        "investigate the tables named; `mssql2rds cutover --force` proceeds anyway (the DMS task "
                        "stays stopped)"));
  }

  // 3. Triggers and constraints back on, identities reseeded.
  const auto prep = M2R_TRY(journal.step(steps::prepare_target));
  auto tgt = conn.target(config.target.database);
  if (!tgt) return failed(tgt.error());
  if (auto restored = restore_target_objects(**tgt, prep ? prep->outputs : nlohmann::json::object(), events); !restored) {
    return failed(restored.error());
  }
  report.downtime_s = std::chrono::duration<double>(std::chrono::system_clock::now() - options.writes_stopped_at).count();

  // 4. The schema beyond rows, as on the source (the target already takes writes: a gap is
  // reported for the DBA to fix, not a reason to undo the cutover).
  auto src = conn.source();
  if (!src) return failed(src.error());
  if (auto schema = compare_schemas(**src, **tgt); schema) {
    report.schema = *schema;
    events.emit(Event{.kind = schema->ok() ? EventKind::info : EventKind::warning, .step = "cutover",
                      .message = schema->summary()});
  } else {
    events.emit(Event{.kind = EventKind::warning, .step = "cutover",
                      .message = "could not compare the schema objects: " + schema.error().message});
  }
  M2R_TRY(journal.finish_step(steps::cutover, {{"downtime_seconds", report.downtime_s},
                                               {"validation_mismatches", validation->mismatches},
                                               {"schema_ok", report.schema.ok()}}));
  return report;
}

// ---- abort --------------------------------------------------------------------------------

Expected<void> abort_migration(const MigrationConfig& config, Connections& conn, Journal& journal, EventSink& events,
                               const AbortOptions& options) {
  const auto* aws = M2R_TRY(need_aws(conn));
  const auto prior = M2R_TRY(journal.step("abort"));
  if (prior && prior->status == StepStatus::done) M2R_TRY(journal.reset_step("abort"));
  M2R_TRY(journal.begin_step("abort", {{"drop_target_database", options.drop_target_database}}));
  aws::DmsClient dms(*aws);
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  std::string arn = replicate ? replicate->outputs.value("task_arn", "") : "";
  nlohmann::json done = nlohmann::json::object();
  if (!arn.empty()) {
    auto task = dms.describe_replication_task(arn);
    if (task) {
      if (task->status == "running" || task->status == "starting") {
        M2R_TRY(dms.stop_replication_task(arn));
        M2R_TRY(wait_for_task(dms, arn, {"stopped", "failed"}, std::chrono::seconds(300), std::chrono::milliseconds(1000))
                    .or_else([](const Error& e) -> Expected<aws::ReplicationTask> {
                      if (e.kind == ErrorKind::prerequisite || e.kind == ErrorKind::fatal) return aws::ReplicationTask{};
                      return tl::unexpected(e);
                    }));
      }
      M2R_TRY(dms.delete_replication_task(arn));
      events.emit(info_event("abort", "deleted DMS task " + arn));
      done["deleted_task"] = arn;
    } else if (task.error().kind != ErrorKind::not_found) {
      return tl::unexpected(task.error());
    }
  }
  S3ObjectStore store(*aws);
  AbortRequest req;
  req.bucket = config.s3.bucket;
  req.prefix = config.s3.prefix;
  const auto aborted = M2R_TRY(abort_abandoned_uploads(store, req));
  events.emit(info_event("abort", fmt::format("aborted {} multipart upload(s)", aborted.size())));
  done["aborted_uploads"] = aborted;
  if (options.drop_target_database) {
    auto tgt = M2R_TRY(conn.target("master"));
    M2R_TRY(tgt->execute("exec msdb.dbo.rds_drop_database @db_name = ?", {mssql::SqlParam::nvarchar(config.target.database)}));
    events.emit(info_event("abort", "dropped the target database " + config.target.database));
    done["dropped_target_database"] = config.target.database;
  }
  M2R_TRY(journal.finish_step("abort", done));
  return {};
}

}  // namespace m2r
