#include "migrate/run.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "aws/sigv4.hpp"
#include "core/step_inputs.hpp"
#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/aws_facts.hpp"
#include "migrate/backup_file_identity.hpp"
#include "migrate/backup_step.hpp"
#include "migrate/check.hpp"
#include "migrate/config_file.hpp"
#include "migrate/lob_measurement.hpp"
#include "migrate/lsn_capture_step.hpp"
#include "migrate/redo.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/restore_step.hpp"
#include "migrate/step_runner.hpp"
#include "migrate/streaming_backup.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/upload_step.hpp"

namespace m2r {

namespace {

std::string stamp_of(std::chrono::system_clock::time_point now) {
  return fmt::format("{:%Y%m%dT%H%M%S}", std::chrono::floor<std::chrono::seconds>(now));
}

// The RESTORE's S3 ARN from the objects the upload step recorded.
Expected<std::string> restore_arn_of_upload(const nlohmann::json& upload, int stripes) {
  const JsonSource source = journal_outputs(steps::upload);
  std::string bucket;
  std::vector<std::string> keys;
  const nlohmann::json objects = M2R_TRY(object_field(upload, "objects", source));
  if (!objects.is_array()) return fail(source.kind, source.what + ": \"objects\" should be an array", source.fix);
  for (const auto& object : objects) {
    bucket = M2R_TRY(string_field(object, "bucket", source));
    keys.push_back(M2R_TRY(string_field(object, "key", source)));
  }
  if (keys.empty() || static_cast<int>(keys.size()) != stripes) {
    return fail(ErrorKind::journal_damaged,
                fmt::format("the journal's record of step 'upload' lists {} objects; the backup has {} file(s)",
                            keys.size(), stripes),
                source.fix);
  }
  return restore_arn_for(bucket, keys);
}

// The source's active log still reaches back to `start` (docs/facts.md §2: DMS reads the
// change stream from the log, or from log backups, which the sandbox and this check do not).
Expected<void> source_log_holds(Connections& conn, const Lsn& start) {
  auto src = M2R_TRY(conn.source());
  const auto r = M2R_TRY(src->query("SELECT MIN([Current LSN]) AS oldest FROM fn_dblog(NULL, NULL)", {},
                                    {.idempotent = mssql::Idempotent::yes}));
  const std::string oldest = r.rows().empty() || r.rows().front().front().is_null() ? "" : r.rows().front().front().to_text();
  const auto parsed = Lsn::parse(oldest);
  if (!parsed) return fail(ErrorKind::fatal, "fn_dblog returned an unreadable oldest LSN: '" + oldest + "'");
  if (*parsed > start) {
    return fail(ErrorKind::prerequisite,
                fmt::format("the source log was truncated past it (its oldest record is {})", parsed->to_hex()),
                "take a new backup and start again from it: `mssql2rds run --redo-from backup` (this drops the "
                "restored target database and restores the new backup)");
  }
  return {};
}

// The LOB mode of the task from the source's largest values (docs/facts.md §12), bounded by
// [validate]'s lock and statement timeouts and cancelled by a stop.
Expected<LobDecision> measure_lobs(Connections& conn, const MigrationConfig& config, const std::string& mappings,
                                   const StopSignal* stop) {
  auto src = M2R_TRY(conn.source());
  LobMeasureOptions options;
  options.lock_timeout = std::chrono::milliseconds(config.validate.lock_timeout_ms);
  options.statement_timeout = std::chrono::seconds(config.validate.chunk_timeout_s);
  options.stop = stop;
  const auto columns = M2R_TRY(list_lob_columns(*src, mappings, options));
  return decide_lob_mode(M2R_TRY(measure_lob_columns(*src, columns, options)), config.dms.lob_max_size_kb);
}

// A replicate step recorded done whose task is gone or failed outside the tool is run again:
// the step then recreates the task (after proving the log holds its start) or reports the
// failure with its fix, instead of `run` saying "replicating".
Expected<void> recheck_replication_task(Connections& conn, Journal& journal, EventSink& events) {
  const auto rec = M2R_TRY(journal.step(steps::replicate));
  if (!rec || rec->status != StepStatus::done) return {};
  const std::string arn = M2R_TRY(string_field_or(rec->outputs, "task_arn", "", journal_outputs(steps::replicate)));
  if (arn.empty()) return {};
  const auto* aws = M2R_TRY(need_aws(conn));
  aws::DmsClient dms(*aws);
  auto task = dms.describe_replication_task(arn);
  std::string why;
  if (!task) {
    if (task.error().kind != ErrorKind::not_found) return tl::unexpected(task.error());
    why = "the DMS task " + arn + " no longer exists";
  } else if (task->status == "failed") {
    why = "the DMS task " + arn + " failed";
  } else {
    return {};
  }
  events.emit(info_event(steps::replicate, why + "; running the replicate step again"));
  M2R_TRY(journal.append_event(steps::replicate, "task_lost", {{"task_arn", arn}, {"why", why}}));
  return journal.reset_step(steps::replicate);
}

// What the steps still to do need: those not done, and with --redo-from the redone ones.
Expected<PreflightScope> preflight_scope(Journal& journal, const std::string& redo_from) {
  const auto& order = run_step_order();
  const auto redo_at = std::find(order.begin(), order.end(), redo_from);
  auto remaining = [&](const char* step) -> Expected<bool> {
    if (redo_at != order.end() && std::find(redo_at, order.end(), std::string(step)) != order.end()) return true;
    const auto rec = M2R_TRY(journal.step(step));
    return !rec || rec->status != StepStatus::done;
  };
  PreflightScope scope;
  const bool backup = M2R_TRY(remaining(steps::backup)), lsn = M2R_TRY(remaining(steps::capture_lsn));
  const bool upload = M2R_TRY(remaining(steps::upload)), restore = M2R_TRY(remaining(steps::restore));
  const bool prepare = M2R_TRY(remaining(steps::prepare_target)), replicate = M2R_TRY(remaining(steps::replicate));
  scope.source = backup || lsn || replicate;
  scope.s3 = upload || restore;
  scope.rds = restore || prepare;
  scope.dms = replicate;
  // Judged only while no restore of ours can be under way: before the step ever started, or
  // after its last task failed (the task id cleared, the partial database dropped). A step
  // killed after rds_restore_database may have a task the journal does not know yet, whose
  // database is ours: the step adopts it. A redo drops our database before restoring again.
  const auto rec = M2R_TRY(journal.step(steps::restore));
  const bool never_started = !rec || (rec->status == StepStatus::pending && rec->outputs.empty());
  const bool last_failed = rec && rec->status == StepStatus::failed &&
                           M2R_TRY(int_field_or(rec->outputs, "task_id", 0, journal_outputs(steps::restore))) == 0;
  const bool redone = redo_at != order.end() &&
                      std::find(redo_at, order.end(), std::string(steps::restore)) != order.end();
  scope.target_name_free = restore && (never_started || last_failed) && !redone;
  return scope;
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
  const std::string stamp = stamp_of(conn.clock->now());
  std::vector<StepDefinition> steps;
  steps.push_back({steps::backup, "native full backup on the source", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto src = M2R_TRY(conn.source());
                     if (!config.upload.streaming) return run_backup_step(ctx, *src, config, stamp, conn.source);
                     return run_backup_with_streaming_upload(ctx, *src, conn, config, stamp);
                   }});
  steps.push_back({steps::capture_lsn, "CDC start point from the backup's LSNs and the log",
                   [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto src = M2R_TRY(conn.source());
                     const auto files = M2R_TRY(string_list_field(ctx.outputs_of(steps::backup), "server_files",
                                                                  journal_outputs(steps::backup)));
                     return run_lsn_capture_step(ctx, *src, config.source.database, files.front());
                   }});
  steps.push_back({steps::upload, "upload the backup to S3", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     const auto store = M2R_TRY(object_store_of(conn));
                     const auto& b = ctx.outputs_of(steps::backup);
                     const auto files = M2R_TRY(string_list_field(b, "local_files", journal_outputs(steps::backup)));
                     // The keys follow today's [s3] prefix (a prefix changed before the upload
                     // changes nothing done); the file names are the backup's.
                     // Never upload a file that is not the backup any more (a first attempt or a resume).
                     M2R_TRY(check_backup_files_unchanged(b.contains("file_identity") ? b["file_identity"]
                                                                                     : nlohmann::json(),
                                                          "mssql2rds run"));
                     return run_upload_step(ctx, *store, config, files, s3_keys_for(config, files));
                   }});
  steps.push_back({steps::restore, "restore on RDS", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto tgt = M2R_TRY(conn.target("master"));
                     RestoreInputs in;
                     in.database = config.target.database;
                     // Where the upload put the backup (not where the backup step planned it).
                     in.s3_arn = M2R_TRY(restore_arn_of_upload(ctx.outputs_of(steps::upload),
                                                               config.source.backup_stripes));
                     in.poll = options.restore_poll;
                     in.clock = conn.clock;
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
                     in.start = M2R_TRY(Lsn::parse(M2R_TRY(string_field(ctx.outputs_of(steps::capture_lsn), "start_lsn",
                                                                        journal_outputs(steps::capture_lsn)))));
                     in.timeout = options.dms_timeout;
                     in.clock = conn.clock;
                     in.log_holds_start = [&conn](const Lsn& start) { return source_log_holds(conn, start); };
                     in.decide_lobs = [&conn, &config, &in, &ctx]() {
                       return measure_lobs(conn, config, in.table_mappings, ctx.stop());
                     };
                     return run_replicate_step(ctx, dms, in);
                   }});
  std::string mappings_digest;
  if (config.dms.table_mappings != "include-all") {
    // Unreadable here: the replicate step reports it with its fix; the digest is only for comparison.
    if (auto text = load_table_mappings(config)) mappings_digest = aws::sha256_hex(*text);
  }
  for (auto& def : steps) def.inputs = step_config_inputs(config, def.name, mappings_digest);
  // Before anything changes: a changed configuration is refused (or, with --redo-from,
  // what it invalidates is undone and redone).
  M2R_TRY(check_resume(steps, journal, options.redo_from, "mssql2rds run"));
  M2R_TRY(recheck_replication_task(conn, journal, events));
  // The preflight before the first change a redo makes.
  if (options.preflight) {
    M2R_TRY(preflight_run(config, conn, M2R_TRY(preflight_scope(journal, options.redo_from)), events));
  }
  if (!options.redo_from.empty()) {
    M2R_TRY(undo_for_redo(config, conn, journal, events, options.redo_from));
    M2R_TRY(restart_from(steps, journal, options.redo_from));
  }
  M2R_TRY(run_steps(steps, journal, events, options.stop_after, options.stop));
  return {};
}

}  // namespace m2r
