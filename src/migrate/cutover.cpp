#include "migrate/cutover.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/cutover_marker.hpp"
#include "core/json_fields.hpp"
#include "core/migration_report.hpp"
#include "core/plan.hpp"
#include "migrate/live_task.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/target_prep_step.hpp"
#include "migrate/validate.hpp"

namespace m2r {

namespace {

constexpr std::chrono::seconds k_drain_poll{2};             // between two reads of the task's statistics
constexpr std::chrono::milliseconds k_marker_poll{500};     // between two looks for the marker on the target

// Missing CloudWatch datapoints are unknown, never 0 s: on AWS they arrive per minute and late.
std::string latency_text(const LiveTask& live) {
  auto one = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}s", *v) : std::string("unknown"); };
  if (!live.latency_source && !live.latency_target) return "unknown (CloudWatch has no datapoint yet)";
  return fmt::format("{} (source) / {} (target)", one(live.latency_source), one(live.latency_target));
}

Expected<bool> has_marker_table(mssql::SqlSession& db) {
  const auto r = M2R_TRY(db.query(cutover_marker::table_exists(), {}, {.idempotent = mssql::Idempotent::yes}));
  const auto v = M2R_TRY(r.first().value(0, "exists"));
  return M2R_TRY(v.as_int64()) == 1;
}

struct Drain {
  const aws::AwsContext& aws;
  const std::string& arn;
  aws::Clock& clock;
  EventSink& events;
  const CutoverOptions& options;
  std::chrono::system_clock::time_point start;
  Journal& journal;  // the CDC latency each read finds, for the report's chart

  void progress(const std::string& message) const {
    Event e;
    e.kind = EventKind::progress;
    e.step = "cutover";
    e.fraction = 0;
    e.message = message;
    events.emit(e);
  }
  bool timed_out() const { return clock.now() - start > options.drain_timeout; }
  Error interrupted(const std::string& state) const {
    return interrupted_error("the cutover stopped while draining CDC (" + state + "); the DMS task keeps replicating",
                             "run `mssql2rds cutover` again: it drains and continues");
  }
};

// Proven: a marker row written on the source now reaches the target only after every change
// committed before it (DMS applies in commit order).
Expected<void> drain_to_marker(const Drain& d, mssql::SqlSession& source, mssql::SqlSession& target, Journal& journal) {
  const auto token = cutover_marker::new_token();
  M2R_TRY(journal.record_outputs(steps::cutover, {{"marker_token", token}}));
  M2R_TRY(source.execute(cutover_marker::write(), {mssql::SqlParam::varchar(token)}));
  d.events.emit(info_event("cutover", "wrote the cutover marker " + token + " on the source; waiting for it on the target"));
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  auto last_look = d.clock.now() - k_drain_poll;
  std::string state = "the marker has not reached the target yet";
  for (;;) {
    const auto r = M2R_TRY(target.query(cutover_marker::arrived(), {mssql::SqlParam::varchar(token)}, read));
    if (M2R_TRY(M2R_TRY(r.first().value(0, "arrived")).as_int64()) > 0) return {};
    if (d.clock.now() - last_look >= k_drain_poll) {  // the task's state, less often than the marker
      last_look = d.clock.now();
      const auto live = M2R_TRY(read_live_task(d.aws, d.arn));
      (void)d.journal.append_event(steps::cutover, report_records::lag_sample,
                                   report_records::lag_sample_data(live.latency_source, live.latency_target, "cutover drain"));
      if (live.task.status == "failed") return tl::unexpected(task_failed_error(live.task));
      state = fmt::format("marker not on the target yet; CDC latency {}; {} changes captured, {} applied",
                          latency_text(live), total_changes(live.tables), total_applied(live.tables));
      d.progress("draining: " + state);
    }
    if (d.timed_out()) {
      return fail(ErrorKind::timeout,
                  fmt::format("CDC did not drain within {}s: the cutover marker written on the source has not reached "
                              "the target ({})",
                              d.options.drain_timeout.count(), state),
                  "the DMS task still runs and nothing was stopped; check that the application really stopped writing "
                  "and that the task is not stalled (`mssql2rds status`); run `mssql2rds cutover` again to keep "
                  "waiting, with --drain-timeout to wait longer");
    }
    if (d.clock.sleep_or_stop(d.options.stop, k_marker_poll)) return tl::unexpected(d.interrupted(state));
  }
}

// Without the marker's table (a migration whose backup predates it): latency known and low,
// and neither the captured nor the applied counts moving between two reads. Latency alone is
// not enough (a backlog younger than the threshold is still a backlog) and this can still
// mistake a stalled task for a drained one: the validation after it decides.
Expected<void> drain_by_statistics(const Drain& d) {
  d.events.emit(Event{.kind = EventKind::warning, .step = "cutover",
                      .message = "no cutover marker table on both sides (`check --fix` creates it before the backup): "
                                 "the drain is judged from CloudWatch latency and table statistics, which cannot tell "
                                 "a stalled task from a drained one; validation decides"});
  std::pair<std::int64_t, std::int64_t> previous{-1, -1};
  for (;;) {
    const auto live = M2R_TRY(read_live_task(d.aws, d.arn));
    (void)d.journal.append_event(steps::cutover, report_records::lag_sample,
                                 report_records::lag_sample_data(live.latency_source, live.latency_target, "cutover drain"));
    if (live.task.status == "failed") return tl::unexpected(task_failed_error(live.task));
    const std::pair<std::int64_t, std::int64_t> counts{total_changes(live.tables), total_applied(live.tables)};
    const bool latency_known = live.latency_source && live.latency_target;
    const double lat = std::max(live.latency_source.value_or(0), live.latency_target.value_or(0));
    const std::string state = fmt::format("CDC latency {}; {} changes captured, {} applied", latency_text(live),
                                          counts.first, counts.second);
    d.progress("draining: " + state);
    if (latency_known && lat <= d.options.max_latency_s && counts == previous) return {};
    previous = counts;
    if (d.timed_out()) {
      return fail(ErrorKind::timeout, fmt::format("CDC did not drain within {}s ({})", d.options.drain_timeout.count(), state),
                  "check that the application really stopped writing; run `mssql2rds cutover` again to keep "
                  "waiting, with --drain-timeout to wait longer");
    }
    if (d.clock.sleep_or_stop(d.options.stop, k_drain_poll)) return tl::unexpected(d.interrupted(state));
  }
}

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
    auto src = conn.source();
    if (!src) return failed(src.error());
    auto tgt = conn.target(config.target.database);
    if (!tgt) return failed(tgt.error());
    const auto marker_on_source = has_marker_table(**src);
    if (!marker_on_source) return failed(marker_on_source.error());
    const auto marker_on_target = has_marker_table(**tgt);
    if (!marker_on_target) return failed(marker_on_target.error());
    const Drain drain{*aws, arn, clock, events, options, drain_start, journal};
    report.drain_proven_by_marker = *marker_on_source && *marker_on_target;
    const auto drained =
        report.drain_proven_by_marker ? drain_to_marker(drain, **src, **tgt, journal) : drain_by_statistics(drain);
    if (!drained) return failed(drained.error());
    report.drain_s = std::chrono::duration<double>(clock.now() - drain_start).count();
    events.emit(info_event("cutover", fmt::format("drained in {:.1f}s{}; stopping the DMS task", report.drain_s,
                                                  report.drain_proven_by_marker ? " (the marker arrived)" : "")));
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
  const auto stopped_at = clock.now();
  report.stop_s = std::chrono::duration<double>(stopped_at - drain_start).count() - report.drain_s;
  (void)journal.record_outputs(steps::cutover, {{"task_stopped", true},
                                                {"drain_seconds", report.drain_s},
                                                {"stop_seconds", report.stop_s},
                                                {"drain_proven_by_marker", report.drain_proven_by_marker}});

  // 2. Validate.
  auto validation = validate_migration(conn, config);
  report.validation_s = std::chrono::duration<double>(clock.now() - stopped_at).count();
  if (!validation) return failed(validation.error());
  (void)journal.append_event(steps::cutover, report_records::validation,
                             report_records::validation_data(*validation, "cutover"));
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
  const auto reenable_start = clock.now();
  auto tgt = conn.target(config.target.database);
  if (!tgt) return failed(tgt.error());
  if (auto restored = restore_target_objects(**tgt, prep ? prep->outputs : nlohmann::json::object(), events); !restored) {
    return failed(restored.error());
  }
  report.reenable_s = std::chrono::duration<double>(clock.now() - reenable_start).count();
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
                                               {"validation_seconds", report.validation_s},
                                               {"reenable_seconds", report.reenable_s},
                                               {"validation_mismatches", validation->mismatches},
                                               {"schema_ok", report.schema.ok()}}));
  return report;
}

}  // namespace m2r
