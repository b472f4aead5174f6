#include "migrate/status.hpp"

#include "core/json_fields.hpp"
#include "core/migration_report.hpp"
#include "core/plan.hpp"
#include "migrate/live_task.hpp"
#include "migrate/replicate_step.hpp"

#include <fmt/format.h>

namespace m2r {

Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws) {
  StatusReport report;
  report.steps = M2R_TRY(journal.steps());
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  const std::string arn = replicate ? M2R_TRY(string_field_or(replicate->outputs, "task_arn", "", journal_outputs(steps::replicate))) : "";
  if (arn.empty()) return report;
  if (!aws) {
    report.note = "no AWS credentials: DMS status not read";
    return report;
  }
  const auto aborted = M2R_TRY(journal.step("abort"));
  auto live = read_live_task(*aws, arn);
  if (!live) {
    const bool by_abort = aborted && aborted->status == StepStatus::done;
    report.note = live.error().kind == ErrorKind::not_found
                      ? std::string(by_abort ? "the DMS task was deleted by `mssql2rds abort`"
                                             : "the DMS task " + arn + " no longer exists")
                      : "DMS: " + live.error().message;
    if (live.error().kind == ErrorKind::not_found && !by_abort) {
      report.problem = Error(ErrorKind::not_found,
                             fmt::format("the DMS task {} no longer exists: it was deleted outside mssql2rds, and no "
                                         "change is replicated",
                                         arn),
                             "`mssql2rds run` creates it again from the recorded start LSN when the source log still "
                             "holds it (and otherwise says to take a new backup: `mssql2rds run --redo-from backup`)");
    }
    return report;
  }
  if (live->task.status == "failed") report.problem = task_failed_error(live->task);
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
  (void)journal.append_event(steps::replicate, report_records::lag_sample,
                             report_records::lag_sample_data(live->latency_source, live->latency_target, "status"));
  report.latency_source_s = live->latency_source;
  report.latency_target_s = live->latency_target;
  (void)config;
  return report;
}

}  // namespace m2r
