#include "migrate/cutover.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/cutover_marker.hpp"
#include "core/json_fields.hpp"
#include "core/migration_report.hpp"
#include "core/plan.hpp"
#include "migrate/database_settings_facts.hpp"
#include "migrate/live_task.hpp"
#include "migrate/replicate_step.hpp"
#include "migrate/source_lock.hpp"
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

// A validation that passed, as the cutover's journal keeps it: after the task stopped nothing
// else writes to the target, so a resumed cutover reports it instead of comparing again.
nlohmann::json passed_validation_record(const ValidationReport& v) {
  auto tables = nlohmann::json::array();
  for (const auto& t : v.tables) {
    tables.push_back({{"table", t.table},
                      {"rows", t.source ? t.source->rows : 0},
                      {"method", t.method},
                      {"left_out_columns", t.left_out_columns}});
  }
  return tables;
}

Expected<ValidationReport> passed_validation_from_record(const nlohmann::json& tables) {
  const JsonSource source = journal_outputs(steps::cutover);
  if (!tables.is_array()) {
    return fail(ErrorKind::journal_damaged, source.what + ": \"validated_tables\" should be an array", source.fix);
  }
  ValidationReport v;
  for (const auto& t : tables) {
    TableComparison c;
    c.table = M2R_TRY(string_field(t, "table", source));
    const auto rows = M2R_TRY(int_field(t, "rows", source));
    c.source = TableFingerprint{c.table, rows, {}};
    c.target = TableFingerprint{c.table, rows, {}};
    c.matches = true;
    c.method = t.value("method", std::string());
    if (t.contains("left_out_columns") && t["left_out_columns"].is_array()) {
      for (const auto& col : t["left_out_columns"]) {
        if (col.is_string()) c.left_out_columns.push_back(col.get<std::string>());
      }
    }
    v.tables.push_back(std::move(c));
  }
  return v;
}

// What earlier attempts of this cutover journaled, read with checks (a hand-edited journal is a
// named error, not an exception).
struct PriorCutover {
  std::optional<std::int64_t> writes_stopped_at;  // epoch seconds
  double lock_s = 0, drain_s = 0, stop_s = 0, validation_s = 0, reenable_s = 0;
  bool drain_proven_by_marker = false;
  bool source_locked = false;
  std::optional<nlohmann::json> validated_tables;  // set when a validation passed after the stop
  std::set<std::string> reenabled;
};

Expected<PriorCutover> read_prior(const nlohmann::json& out) {
  const JsonSource source = journal_outputs(steps::cutover);
  PriorCutover p;
  if (out.contains("writes_stopped_at")) p.writes_stopped_at = M2R_TRY(int_field(out, "writes_stopped_at", source));
  p.lock_s = M2R_TRY(number_field_or(out, "lock_seconds", 0, source));
  p.source_locked = M2R_TRY(bool_field_or(out, "source_locked", false, source));
  p.drain_s = M2R_TRY(number_field_or(out, "drain_seconds", 0, source));
  p.stop_s = M2R_TRY(number_field_or(out, "stop_seconds", 0, source));
  p.validation_s = M2R_TRY(number_field_or(out, "validation_seconds", 0, source));
  p.reenable_s = M2R_TRY(number_field_or(out, "reenable_seconds", 0, source));
  p.drain_proven_by_marker = M2R_TRY(bool_field_or(out, "drain_proven_by_marker", false, source));
  if (out.contains("validated_tables") && !out["validated_tables"].is_null()) p.validated_tables = out["validated_tables"];
  if (out.contains("reenabled")) {
    for (auto& k : M2R_TRY(string_list_field(out, "reenabled", source))) p.reenabled.insert(std::move(k));
  }
  return p;
}

double seconds_since(std::chrono::system_clock::time_point from, aws::Clock& clock) {
  return std::chrono::duration<double>(clock.now() - from).count();
}

// The database's settings on both sides (core/database_settings): each difference is said with
// what to do, and journaled as a warning for the report, except the owner every RDS restore
// changes (said, not warned). Like the schema, a gap is for the DBA, not a reason to undo.
void compare_settings(const MigrationConfig& config, mssql::SqlSession& source, mssql::SqlSession& target,
                      Journal& journal, EventSink& events, CutoverReport& report) {
  auto unreadable = [&](const Error& e) {
    events.emit(warning_event("cutover", "could not compare the database's settings: " + e.message));
  };
  const auto s = read_database_settings(source, config.source.database);
  if (!s) return unreadable(s.error());
  const auto t = read_database_settings(target, config.target.database);
  if (!t) return unreadable(t.error());
  report.settings = compare_database_settings(*s, *t, config.target.database);
  if (report.settings.empty()) {
    events.emit(info_event("cutover", "the database's settings are the same on both sides"));
    return;
  }
  for (const auto& d : report.settings) {
    const std::string message = fmt::format("database setting {}: {} on the source, {} on RDS; {}", d.setting,
                                            d.source, d.target, d.fix);
    events.emit(d.expected ? info_event("cutover", message) : warning_event("cutover", message));
    if (!d.expected) (void)journal.append_event(steps::cutover, "warning", {{"message", message}});
  }
}

}  // namespace

// Every part is journaled as it finishes, so a cutover killed anywhere and run again continues:
// a stopped task is not drained again, a validation that passed is not repeated, and each
// trigger, foreign key and identity is turned back on exactly once.
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
  const auto prior = M2R_TRY(read_prior(record ? record->outputs : nlohmann::json::object()));
  auto& clock = *conn.clock;
  aws::DmsClient dms(*aws);
  auto task = dms.describe_replication_task(arn);
  if (!task) return tl::unexpected(task.error());
  // Once an earlier attempt drained and stopped the task, the writes have stayed stopped since
  // (or they would be lost): the downtime counts from that attempt's moment, and its drain and
  // stop times stand. (It may have been killed before it could journal the stop.)
  const bool resumed_after_stop = task->status != "running" && prior.writes_stopped_at.has_value();
  auto writes_stopped_at = options.writes_stopped_at;
  if (resumed_after_stop && prior.writes_stopped_at) {
    writes_stopped_at = std::chrono::system_clock::time_point(std::chrono::seconds(*prior.writes_stopped_at));
  }
  const auto stopped_epoch = std::chrono::duration_cast<std::chrono::seconds>(writes_stopped_at.time_since_epoch()).count();
  // 0. The source locked when asked, before anything else is journaled: a refusal changes nothing.
  std::optional<SourceLockOutcome> locked;
  if (options.lock_source && (task->status == "running" || task->status == "stopping" || task->status == "stopped")) {
    locked = M2R_TRY(lock_source(config, conn, journal, events, task->source_endpoint_arn));
  }
  M2R_TRY(journal.begin_step(steps::cutover, {{"writes_stopped_at", stopped_epoch}}));
  auto failed = [&](const Error& e) -> tl::unexpected<Error> {
    (void)journal.fail_step(steps::cutover, e.message);
    return tl::unexpected(e);
  };
  CutoverReport report;
  if (locked) {
    report.source_locked = true;
    report.lock_s = prior.lock_s + locked->seconds;
    if (auto r = journal.record_outputs(steps::cutover, {{"lock_seconds", report.lock_s}, {"source_locked", true}}); !r) {
      return failed(r.error());
    }
  } else {
    report.lock_s = prior.lock_s;
    report.source_locked = prior.source_locked;
  }

  // 1. Drain to the marker (or, without its table, by statistics), then stop the task.
  const auto drain_start = clock.now();
  if (task->status == "running") {
    if (auto r = journal.record_outputs(steps::cutover, {{"writes_stopped_at", stopped_epoch},
                                                         {"task_stopped", false},
                                                         {"validated_tables", nullptr}});
        !r) {
      return failed(r.error());
    }
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
    report.drain_s = seconds_since(drain_start, clock);
    (void)journal.record_outputs(steps::cutover, {{"drain_seconds", report.drain_s},
                                                  {"drain_proven_by_marker", report.drain_proven_by_marker}});
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
    events.emit(info_event("cutover", "the DMS task is stopping (an earlier cutover asked it to): waiting"));
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
  if (task->status == "running") {
    report.stop_s = seconds_since(drain_start, clock) - report.drain_s;
  } else {
    // Stopped before this attempt: the drain happened in an earlier one (its figures, if it
    // lived to record them; a task stopped by hand has none).
    report.drain_s = prior.drain_s;
    report.drain_proven_by_marker = prior.drain_proven_by_marker;
    report.stop_s = prior.stop_s + seconds_since(drain_start, clock);
    events.emit(info_event("cutover", "the DMS task is stopped: continuing an earlier cutover"));
  }
  if (auto r = journal.record_outputs(steps::cutover, {{"writes_stopped_at", stopped_epoch},
                                                       {"task_stopped", true},
                                                       {"drain_seconds", report.drain_s},
                                                       {"stop_seconds", report.stop_s},
                                                       {"drain_proven_by_marker", report.drain_proven_by_marker}});
      !r) {
    return failed(r.error());
  }

  // 2. Validate, unless an earlier attempt's validation passed after the task stopped.
  const auto validation_start = clock.now();
  if (resumed_after_stop && prior.validated_tables) {
    auto v = passed_validation_from_record(*prior.validated_tables);
    if (!v) return failed(v.error());
    report.validation = *v;
    report.validation_s = prior.validation_s;
    events.emit(info_event("cutover", fmt::format("validation passed in the earlier attempt ({} tables equal); not "
                                                  "repeated: nothing has written to the target since",
                                                  v->tables.size())));
  } else {
    events.emit(info_event("cutover", "validating every table, source against target (the task is stopped)"));
    auto validation_opts = validation_options(config.validate);
    validation_opts.stop = options.stop;
    auto validation = revalidate_changed(conn, config, validation_opts, journal, events);
    report.validation_s = seconds_since(validation_start, clock);
    if (!validation) return failed(validation.error());
    (void)journal.append_event(steps::cutover, report_records::validation,
                               report_records::validation_data(*validation, "cutover"));
    report.validation = *validation;
    if (!validation->ok() && !options.force) {
      std::string names;
      for (const auto& t : validation->tables) {
        if (!t.matches) {
          const auto first = first_differences(t, 3);
          names += (names.empty() ? "" : "; ") + t.table + ": " + t.problem + (first.empty() ? "" : " (" + first + ")");
        }
      }
      return failed(Error(ErrorKind::integrity, "validation failed, cutover refused: " + names,
                          "investigate the tables named; `mssql2rds cutover --force` proceeds anyway (the DMS task "
                          "stays stopped)"));
    }
    if (validation->ok()) {
      if (auto r = journal.record_outputs(steps::cutover, {{"validated_tables", passed_validation_record(*validation)},
                                                           {"validation_seconds", report.validation_s}});
          !r) {
        return failed(r.error());
      }
    }
  }

  // 3. Triggers and constraints back on, identities reseeded: each exactly once.
  const auto prep = M2R_TRY(journal.step(steps::prepare_target));
  const auto reenable_start = clock.now();
  auto tgt = conn.target(config.target.database);
  if (!tgt) return failed(tgt.error());
  ReenableProgress progress;
  progress.done = prior.reenabled;
  const double reenable_before = prior.reenable_s;
  progress.record = [&](const std::set<std::string>& done) -> Expected<void> {
    return journal.record_outputs(steps::cutover,
                                  {{"reenabled", done}, {"reenable_seconds", reenable_before + seconds_since(reenable_start, clock)}});
  };
  if (auto restored = restore_target_objects(**tgt, prep ? prep->outputs : nlohmann::json::object(), events, progress);
      !restored) {
    return failed(restored.error());
  }
  report.reenable_s = reenable_before + seconds_since(reenable_start, clock);
  report.downtime_s = std::chrono::duration<double>(clock.now() - writes_stopped_at).count();

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
  compare_settings(config, **src, **tgt, journal, events, report);
  M2R_TRY(journal.finish_step(steps::cutover, {{"downtime_seconds", report.downtime_s},
                                               {"lock_seconds", report.lock_s},
                                               {"source_locked", report.source_locked},
                                               {"validation_seconds", report.validation_s},
                                               {"reenable_seconds", report.reenable_s},
                                               {"validation_mismatches", report.validation.mismatches},
                                               {"schema_ok", report.schema.ok()}}));
  return report;
}

}  // namespace m2r
