#include "migrate/abort.hpp"

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/redo.hpp"
#include "migrate/upload_engine.hpp"

namespace m2r {

Expected<void> abort_migration(const MigrationConfig& config, Connections& conn, Journal& journal, EventSink& events,
                               const AbortOptions& options) {
  // Nothing ran: there is nothing to remove, and recording an abort would make every later
  // `run` of this configuration refuse.
  bool anything_ran = false;
  for (const auto& rec : M2R_TRY(journal.steps())) anything_ran = anything_ran || rec.name != "abort";
  if (!anything_ran) {
    return fail(ErrorKind::invalid_input,
                fmt::format("nothing to abort: no `mssql2rds run` has started with the journal {}", config.journal),
                "abort removes what a run created; start the migration with `mssql2rds run`");
  }
  const auto* aws = M2R_TRY(need_aws(conn));
  const auto prior = M2R_TRY(journal.step("abort"));
  if (prior && prior->status == StepStatus::done) M2R_TRY(journal.reset_step("abort"));
  M2R_TRY(journal.begin_step("abort", {{"drop_target_database", options.drop_target_database}}));
  aws::DmsClient dms(*aws);
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  std::string arn = replicate ? M2R_TRY(string_field_or(replicate->outputs, "task_arn", "", journal_outputs(steps::replicate))) : "";
  nlohmann::json done = nlohmann::json::object();
  if (!arn.empty() && M2R_TRY(delete_replication_task_if_present(dms, arn, *conn.clock))) {
    events.emit(info_event("abort", "deleted DMS task " + arn));
    done["deleted_task"] = arn;
  }
  const auto store = M2R_TRY(object_store_of(conn));
  AbortRequest req;
  req.bucket = config.s3.bucket;
  req.prefix = config.s3.prefix;
  const auto aborted = M2R_TRY(abort_abandoned_uploads(*store, req));
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
