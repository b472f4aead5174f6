#include "migrate/redo.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/replicate_step.hpp"

namespace m2r {

namespace {

// Whether `step` is redone when the run redoes from `redo_from`.
bool redone(const std::string& step, const std::string& redo_from) {
  const auto& order = run_step_order();
  const auto at = std::find(order.begin(), order.end(), step);
  const auto from = std::find(order.begin(), order.end(), redo_from);
  return at != order.end() && from != order.end() && at >= from;
}

}  // namespace

Expected<bool> delete_replication_task_if_present(aws::DmsClient& dms, const std::string& arn, aws::Clock& clock) {
  auto task = dms.describe_replication_task(arn);
  if (!task) {
    if (task.error().kind == ErrorKind::not_found) return false;
    return tl::unexpected(task.error());
  }
  if (task->status == "running" || task->status == "starting") {
    M2R_TRY(dms.stop_replication_task(arn));
    M2R_TRY(wait_for_task(dms, arn, {"stopped", "failed"}, std::chrono::seconds(300), std::chrono::milliseconds(1000),
                          clock)
                .or_else([](const Error& e) -> Expected<aws::ReplicationTask> {
                  // A task that fails while stopping is stopped enough to delete.
                  if (e.kind == ErrorKind::prerequisite || e.kind == ErrorKind::refused) return aws::ReplicationTask{};
                  return tl::unexpected(e);
                }));
  }
  M2R_TRY(dms.delete_replication_task(arn));
  return true;
}

Expected<void> undo_for_redo(const MigrationConfig& config, Connections& conn, Journal& journal, EventSink& events,
                             const std::string& redo_from) {
  auto note = [&](const std::string& what, nlohmann::json data) -> Expected<void> {
    events.emit(info_event("redo", what));
    M2R_TRY(journal.append_event("redo", "redo_removed", data));
    return {};
  };

  if (redone(steps::replicate, redo_from)) {
    const auto rec = M2R_TRY(journal.step(steps::replicate));
    const std::string arn =
        rec ? M2R_TRY(string_field_or(rec->outputs, "task_arn", "", journal_outputs(steps::replicate))) : "";
    if (!arn.empty()) {
      const auto* aws = M2R_TRY(need_aws(conn));
      aws::DmsClient dms(*aws);
      if (M2R_TRY(delete_replication_task_if_present(dms, arn, *conn.clock))) {
        M2R_TRY(note("deleted DMS task " + arn + " (it is created again from the new start point)",
                     {{"deleted_task", arn}}));
      }
    }
  }

  if (redone(steps::restore, redo_from)) {
    // Only a database this migration's restore created: a restore that never started, or one
    // RDS refused because the name was taken, left nothing of ours to drop.
    const auto rec = M2R_TRY(journal.step(steps::restore));
    const auto task_id = rec ? M2R_TRY(int_field_or(rec->outputs, "task_id", 0, journal_outputs(steps::restore))) : 0;
    if (task_id != 0) {
      auto master = M2R_TRY(conn.target("master"));
      const auto exists = M2R_TRY(master->query("SELECT DB_ID(?) AS id", {mssql::SqlParam::nvarchar(config.target.database)}));
      if (!exists.rows().empty() && !exists.rows().front().front().is_null()) {
        M2R_TRY(master->execute("exec msdb.dbo.rds_drop_database @db_name = ?",
                                {mssql::SqlParam::nvarchar(config.target.database)}));
        M2R_TRY(note(fmt::format("dropped the target database {} restored by task {} (it is restored again)",
                                 config.target.database, task_id),
                     {{"dropped_target_database", config.target.database}, {"restore_task_id", task_id}}));
      }
    }
  }

  if (redone(steps::upload, redo_from)) {
    // Multipart uploads an earlier attempt left open would be forgotten with the step's record.
    for (const auto& rec : M2R_TRY(journal.steps())) {
      if (rec.name.rfind(std::string(steps::upload) + "/", 0) != 0) continue;
      const JsonSource source = journal_outputs(rec.name);
      const auto upload = M2R_TRY(object_field_or(rec.outputs, "upload", source));
      const std::string id = M2R_TRY(string_field_or(upload, "upload_id", "", source));
      if (id.empty() || M2R_TRY(bool_field_or(upload, "completed", false, source))) continue;
      const auto store = M2R_TRY(object_store_of(conn));
      const std::string bucket = M2R_TRY(string_field(upload, "bucket", source));
      const std::string key = M2R_TRY(string_field(upload, "key", source));
      if (auto aborted = store->abort(bucket, key, id); !aborted && aborted.error().kind != ErrorKind::not_found) {
        return tl::unexpected(aborted.error());
      }
      M2R_TRY(note(fmt::format("aborted the unfinished multipart upload of s3://{}/{}", bucket, key),
                   {{"aborted_upload", id}, {"bucket", bucket}, {"key", key}}));
    }
  }
  return {};
}

}  // namespace m2r
