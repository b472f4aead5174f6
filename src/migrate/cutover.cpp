#include "migrate/cutover.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/live_task.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/validate.hpp"

namespace m2r {

namespace {

constexpr std::chrono::seconds k_drain_poll{2};  // between two reads of the task's statistics

}  // namespace

Expected<CutoverReport> cutover_migration(const MigrationConfig& config, Connections& conn, Journal& journal,
                                          EventSink& events, const CutoverOptions& options) {
  const auto* aws = M2R_TRY(need_aws(conn));
  const auto replicate = M2R_TRY(journal.step(steps::replicate));
  if (!replicate || replicate->status != StepStatus::done) {
    return fail(ErrorKind::prerequisite, "replication is not running yet: the run has not reached the DMS task",
                "finish `mssql2rds run` first");
  }
  const std::string arn = M2R_TRY(string_field(replicate->outputs, "task_arn", journal_outputs(steps::replicate)));
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
  auto& clock = *conn.clock;
  const auto drain_start = clock.now();
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
      if (clock.now() - drain_start > options.drain_timeout) {
        return failed(Error(ErrorKind::timeout,
                            fmt::format("CDC did not drain within {}s (latency {:.0f}s)", options.drain_timeout.count(), lat),
                            "check that the application really stopped writing; run `mssql2rds cutover` again to "
                            "keep waiting, with --drain-timeout to wait longer"));
      }
      if (clock.sleep_or_stop(options.stop, k_drain_poll)) {
        return failed(interrupted_error(
            fmt::format("the cutover stopped while draining CDC (latency {:.0f}s); the DMS task keeps replicating", lat),
            "run `mssql2rds cutover` again: it drains and continues"));
      }
    }
    report.drain_s = std::chrono::duration<double>(clock.now() - drain_start).count();
    events.emit(info_event("cutover", fmt::format("drained in {:.1f}s; stopping the DMS task", report.drain_s)));
    if (auto stopped = dms.stop_replication_task(arn); !stopped) return failed(stopped.error());
    if (auto w = wait_for_task(dms, arn, {"stopped"}, std::chrono::seconds(300), std::chrono::milliseconds(1000),
                               clock, options.stop);
        !w) {
      return failed(w.error().kind == ErrorKind::interrupted
                        ? interrupted_error("the cutover stopped while the DMS task was stopping",
                                            "run `mssql2rds cutover` again: it waits for the task and continues")
                        : w.error());
    }
  } else if (task->status == "stopping") {
    // An interrupted cutover asked DMS to stop the task: wait for it, as the first attempt would have.
    if (auto w = wait_for_task(dms, arn, {"stopped"}, std::chrono::seconds(300), std::chrono::milliseconds(1000),
                               clock, options.stop);
        !w) {
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
  report.downtime_s = std::chrono::duration<double>(clock.now() - options.writes_stopped_at).count();

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

}  // namespace m2r
