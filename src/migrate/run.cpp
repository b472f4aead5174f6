#include "migrate/run.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/aws_facts.hpp"
#include "migrate/backup_step.hpp"
#include "migrate/config_file.hpp"
#include "migrate/lsn_capture_step.hpp"
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
                     const auto keys = M2R_TRY(string_list_field(b, "s3_keys", journal_outputs(steps::backup)));
                     if (files.size() != keys.size()) {
                       return fail(ErrorKind::journal_damaged,
                                   fmt::format("the journal's record of step 'backup' lists {} local files but {} S3 keys",
                                               files.size(), keys.size()),
                                   journal_outputs(steps::backup).fix);
                     }
                     return run_upload_step(ctx, *store, config, files, keys);
                   }});
  steps.push_back({steps::restore, "restore on RDS", [&](StepContext& ctx) -> Expected<nlohmann::json> {
                     auto tgt = M2R_TRY(conn.target("master"));
                     RestoreInputs in;
                     in.database = config.target.database;
                     in.s3_arn = M2R_TRY(string_field(ctx.outputs_of(steps::backup), "restore_arn",
                                                      journal_outputs(steps::backup)));
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
                     return run_replicate_step(ctx, dms, in);
                   }});
  M2R_TRY(run_steps(steps, journal, events, options.stop_after, options.stop));
  return {};
}

}  // namespace m2r
