#include "migrate/status.hpp"

#include "core/json_fields.hpp"
#include "core/migration_report.hpp"
#include "core/plan.hpp"
#include "migrate/live_task.hpp"
#include "migrate/lob_measurement.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/sqlite_journal.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

namespace {

// The replicate step's recorded LOB decision, when there is one.
Expected<std::optional<LobDecision>> recorded_lobs(const std::optional<StepRecord>& replicate) {
  if (!replicate || !replicate->outputs.contains("lobs")) return std::optional<LobDecision>{};
  return std::optional<LobDecision>(M2R_TRY(lob_decision_from_json(replicate->outputs["lobs"])));
}

// A limited LOB mode checked against the source's values of today.
void check_lob_growth(const MigrationConfig& config, const LobDecision& lobs, const SourceOpener& open_source,
                      const StopSignal* stop, StatusReport& report) {
  if (!open_source || !lobs.support_lobs || lobs.mode != LobMode::limited || lobs.columns.empty()) return;
  const auto add_note = [&report](const std::string& text) {
    report.note = report.note.empty() ? text : report.note + "; " + text;
  };
  auto source = open_source();
  if (!source) {
    add_note("LOB sizes not re-measured: " + source.error().message);
    return;
  }
  auto over = lob_columns_over_limit(**source, lobs, config, {}, stop);
  if (!over) {
    add_note("LOB sizes not re-measured: " + over.error().message);
    return;
  }
  for (const auto& c : *over) report.lob_notes.push_back(over_limit_note(c, lobs.lob_max_size_kb));
}

}  // namespace

Expected<std::vector<LobColumnSize>> lob_columns_over_limit(mssql::SqlSession& source, const LobDecision& decision,
                                                            const MigrationConfig& config,
                                                            const std::vector<std::string>& tables,
                                                            const StopSignal* stop) {
  if (!decision.support_lobs || decision.mode != LobMode::limited) return std::vector<LobColumnSize>{};
  std::vector<LobColumn> columns;
  for (const auto& c : decision.columns) {
    if (tables.empty() || std::find(tables.begin(), tables.end(), c.column.table.display()) != tables.end()) {
      columns.push_back(c.column);
    }
  }
  LobMeasureOptions options;
  options.lock_timeout = std::chrono::milliseconds(config.validate.lock_timeout_ms);
  options.statement_timeout = std::chrono::seconds(config.validate.chunk_timeout_s);
  options.stop = stop;
  return over_limit(decision, M2R_TRY(measure_lob_columns(source, columns, options)));
}

Expected<void> note_lobs_over_limit(ValidationReport& report, mssql::SqlSession& source, const MigrationConfig& config,
                                    const StopSignal* stop) {
  std::vector<std::string> differing;
  for (const auto& t : report.tables) {
    if (!t.matches) differing.push_back(t.table);
  }
  if (differing.empty()) return {};
  auto journal = open_journal_for_reading(config.journal);
  if (!journal) return {};  // no migration recorded: no decision to compare with
  const auto replicate = (*journal)->step(steps::replicate);
  if (!replicate) return {};
  const auto lobs = recorded_lobs(*replicate);
  if (!lobs || !*lobs) return {};
  const LobDecision& decision = **lobs;
  const auto over = lob_columns_over_limit(source, decision, config, differing, stop);
  if (!over) {
    // Only a stop ends the validation here; a re-measurement that failed is said where it matters.
    if (over.error().kind == ErrorKind::interrupted) return tl::unexpected(over.error());
    for (auto& t : report.tables) {
      const bool has_lobs = std::any_of(decision.columns.begin(), decision.columns.end(),
                                        [&t](const LobColumnSize& c) { return c.column.table.display() == t.table; });
      if (!t.matches && has_lobs) t.problem += "; LOB sizes not re-measured: " + over.error().message;
    }
    return {};
  }
  for (auto& t : report.tables) {
    for (const auto& c : *over) {
      if (c.column.table.display() != t.table) continue;
      t.problem += (t.problem.empty() ? "" : "; ") + ("LOB note: " + over_limit_note(c, decision.lob_max_size_kb));
    }
  }
  return {};
}

Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws, const SourceOpener& open_source,
                                        const StopSignal* stop) {
  StatusReport report;
  report.steps = M2R_TRY(journal.steps());
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  const auto lobs = M2R_TRY(recorded_lobs(replicate));
  if (lobs) {
    report.lobs = to_json(*lobs);
    check_lob_growth(config, *lobs, open_source, stop, report);
  }
  const std::string arn = replicate ? M2R_TRY(string_field_or(replicate->outputs, "task_arn", "", journal_outputs(steps::replicate))) : "";
  if (arn.empty()) return report;
  if (!aws) {
    report.note = report.note.empty() ? "no AWS credentials: DMS status not read"
                                      : "no AWS credentials: DMS status not read; " + report.note;
    return report;
  }
  const auto aborted = M2R_TRY(journal.step("abort"));
  auto live = read_live_task(*aws, arn);
  if (!live) {
    const bool by_abort = aborted && aborted->status == StepStatus::done;
    const std::string lob_note = report.note;
    report.note = live.error().kind == ErrorKind::not_found
                      ? std::string(by_abort ? "the DMS task was deleted by `mssql2rds abort`"
                                             : "the DMS task " + arn + " no longer exists")
                      : "DMS: " + live.error().message;
    if (!lob_note.empty()) report.note += "; " + lob_note;
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
  return report;
}

}  // namespace m2r
