#include "core/migration_report.hpp"

#include <cmath>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "core/lsn.hpp"
#include "core/plan.hpp"
#include "core/source_lock.hpp"

namespace m2r {

namespace report_records {

nlohmann::json lag_sample_data(std::optional<double> source_s, std::optional<double> target_s,
                               const std::string& read_by) {
  return {{"source_s", source_s ? nlohmann::json(*source_s) : nlohmann::json()},
          {"target_s", target_s ? nlohmann::json(*target_s) : nlohmann::json()},
          {"read_by", read_by}};
}

nlohmann::json validation_data(const ValidationReport& report, const std::string& run_by) {
  auto tables = nlohmann::json::array();
  for (const auto& t : report.tables) {
    tables.push_back({{"table", t.table},
                      {"matches", t.matches},
                      {"method", t.method},
                      {"compared", t.compared},
                      {"source_rows", t.source ? nlohmann::json(t.source->rows) : nlohmann::json()},
                      {"target_rows", t.target ? nlohmann::json(t.target->rows) : nlohmann::json()},
                      {"key_columns", t.key_columns},
                      {"left_out_columns", t.left_out_columns},
                      {"problem", t.problem},
                      {"missing_on_target", t.differences.missing_on_target},
                      {"extra_on_target", t.differences.extra_on_target},
                      {"differing", t.differences.differing}});
  }
  return {{"run_by", run_by}, {"ok", report.ok()}, {"mismatches", report.mismatches}, {"tables", tables}};
}

}  // namespace report_records

namespace {

// Lenient reads: the report shows what the journal holds; a value of another type is absent.
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}
std::string text_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
std::optional<double> number_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}
std::optional<std::int64_t> integer_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number_integer() && !v.is_number_unsigned()) return std::nullopt;
  return v.get<std::int64_t>();
}
bool flag_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  return v.is_boolean() && v.get<bool>();
}
std::vector<std::string> texts_of(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  const auto& v = member(j, key);
  if (!v.is_array()) return out;
  for (const auto& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}
const nlohmann::json& array_of(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto& v = member(j, key);
  return v.is_array() ? v : empty;
}

std::string step_title(const std::string& name) {
  static const std::map<std::string, std::string> titles = {
      {steps::backup, "native full backup (BACKUP DATABASE)"},
      {steps::capture_lsn, "LSN capture (msdb.dbo.backupset, fn_dblog)"},
      {steps::upload, "upload to S3 (multipart, CRC32C per part)"},
      {steps::restore, "restore on RDS (rds_restore_database)"},
      {steps::prepare_target, "target prepared (triggers and foreign keys off)"},
      {steps::replicate, "AWS DMS CDC task from the start LSN"},
      {steps::cutover, "cutover"},
      {"abort", "abort (DMS task deleted, uploads aborted)"},
  };
  const auto it = titles.find(name);
  if (it != titles.end()) return it->second;
  if (name.rfind("upload/", 0) == 0) return "upload of backup file " + name.substr(7);
  return name;
}

std::optional<double> seconds_between(const std::optional<TimePoint>& a, const std::optional<TimePoint>& b) {
  if (!a || !b) return std::nullopt;
  return std::chrono::duration<double>(*b - *a).count();
}

ReportStep step_row(const StepRecord& s) {
  ReportStep r;
  r.name = s.name;
  r.title = step_title(s.name);
  r.status = to_string(s.status);
  r.started_at = s.started_at;
  if (s.status == StepStatus::done || s.status == StepStatus::failed) r.finished_at = s.finished_at;
  r.seconds = seconds_between(r.started_at, r.finished_at);
  r.attempts = s.attempts;
  r.error = s.error;
  r.part = s.name.find('/') != std::string::npos;
  return r;
}

// The cutover's parts, one after the other from the step's start, as cutover_migration measures
// them (drain, then the task stopping, then validation, then re-enabling).
void add_cutover_parts(const StepRecord& cut, std::vector<ReportStep>& out) {
  struct Part {
    const char* key;
    const char* name;
    const char* title;
  };
  static const Part parts[] = {
      {"lock_seconds", "cutover: source lock", "the source set to RESTRICTED_USER WITH ROLLBACK IMMEDIATE"},
      {"drain_seconds", "cutover: drain", "CDC drained (until the marker reached the target)"},
      {"stop_seconds", "cutover: task stop", "the DMS task stopping"},
      {"validation_seconds", "cutover: validation", "validation, source against target"},
      {"reenable_seconds", "cutover: re-enabling", "triggers and constraints back on, identities reseeded"},
  };
  // A resumed cutover did its first parts in an earlier attempt: their durations are known,
  // their moments are not (the step's start is the last attempt's).
  const bool timed = cut.attempts <= 1 && cut.started_at.has_value();
  TimePoint at = timed ? *cut.started_at : TimePoint{};
  for (const auto& p : parts) {
    const auto secs = number_of(cut.outputs, p.key);
    const bool optional_part = std::string(p.key) == "lock_seconds";  // only with --lock-source
    if (!secs && optional_part) continue;
    if (!secs) break;  // later parts have not happened (or were not recorded) yet
    ReportStep r;
    r.name = p.name;
    r.title = p.title;
    if (std::string(p.key) == "drain_seconds" && !flag_of(cut.outputs, "drain_proven_by_marker")) {
      r.title = "CDC drained (judged from CloudWatch latency and table statistics: no marker table)";
    }
    r.status = "done";
    r.seconds = *secs;
    r.part = true;
    if (timed) {
      r.started_at = at;
      at += std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(*secs));
      r.finished_at = at;
    }
    out.push_back(r);
  }
}

std::optional<double> rate(std::uint64_t bytes, const std::optional<double>& seconds) {
  if (!seconds || *seconds <= 0 || bytes == 0) return std::nullopt;
  return static_cast<double>(bytes) / 1e6 / *seconds;
}

std::vector<ReportTransaction> transactions(const nlohmann::json& list) {
  std::vector<ReportTransaction> out;
  if (!list.is_array()) return out;
  for (const auto& t : list) {
    out.push_back({text_of(t, "transaction_id"), text_of(t, "name"), text_of(t, "begin"), text_of(t, "end"),
                   texts_of(t, "tables")});
  }
  return out;
}

ReportStartLsn start_lsn_of(const StepRecord* capture, const StepRecord* replicate) {
  ReportStartLsn s;
  if (replicate) s.dms_cdc_start_position = text_of(replicate->outputs, "cdc_start_position");
  if (!capture) return s;
  const auto& o = capture->outputs;
  const auto hex = text_of(o, "start_lsn");
  if (const auto lsn = Lsn::parse(hex); lsn) {
    s.known = true;
    s.hex = lsn->to_hex();
    s.numeric = lsn->to_numeric();
    s.decimal_triplet = lsn->to_decimal_triplet();
    s.binary = lsn->to_binary();
  }
  s.rule = text_of(o, "rule");
  const auto& backup = member(o, "backup");
  s.backup_first_lsn = text_of(backup, "first_lsn");
  s.backup_last_lsn = text_of(backup, "last_lsn");
  s.backup_checkpoint_lsn = text_of(backup, "checkpoint_lsn");
  s.differential_base = text_of(o, "differential_base");
  s.open_at_backup_end = transactions(member(o, "open_transactions"));
  s.replayed = transactions(member(o, "replayed_transactions"));
  s.lost_by_common_recipe = transactions(member(o, "lost_by_common_recipe"));
  return s;
}

std::vector<ReportThroughput> throughput_of(const StepRecord* backup, const StepRecord* upload,
                                            const StepRecord* restore) {
  std::vector<ReportThroughput> out;
  if (backup && backup->status == StepStatus::done) {
    ReportThroughput t{.what = "backup"};
    const auto& files = array_of(backup->outputs, "file_identity");
    for (const auto& f : files) t.bytes += static_cast<std::uint64_t>(integer_of(f, "size").value_or(0));
    t.seconds = seconds_between(backup->started_at, backup->finished_at);
    t.mb_per_s = rate(t.bytes, t.seconds);
    t.detail = fmt::format("{} file(s) written by SQL Server", files.size());
    out.push_back(t);
  }
  std::uint64_t uploaded = 0;
  if (upload && upload->status == StepStatus::done) {
    ReportThroughput t{.what = "upload"};
    std::int64_t parts = 0, reused = 0, retries = 0;
    std::optional<double> transfer = 0.0;  // the objects go one after the other, each timed by the upload
    const auto& objects = array_of(upload->outputs, "objects");
    for (const auto& o : objects) {
      t.bytes += static_cast<std::uint64_t>(integer_of(o, "size").value_or(0));
      parts += integer_of(o, "parts").value_or(0);
      reused += integer_of(o, "parts_reused").value_or(0);
      retries += integer_of(o, "retries").value_or(0);
      const auto secs = number_of(o, "seconds");
      transfer = transfer && secs ? std::optional<double>(*transfer + *secs) : std::nullopt;
    }
    uploaded = t.bytes;
    // The objects' own transfer times (a streaming upload starts beside the backup, before its
    // step does); the step's duration when an object lacks one.
    t.seconds = transfer && *transfer > 0 && !objects.empty() ? transfer
                                                              : seconds_between(upload->started_at, upload->finished_at);
    t.mb_per_s = rate(t.bytes, t.seconds);
    t.detail = fmt::format("{} object(s), {} part(s), {} reused from an earlier attempt, {} retried", objects.size(),
                           parts, reused, retries);
    out.push_back(t);
  }
  if (restore && restore->status == StepStatus::done) {
    ReportThroughput t{.what = "restore"};
    t.bytes = uploaded;
    t.seconds = seconds_between(restore->started_at, restore->finished_at);
    t.mb_per_s = rate(t.bytes, t.seconds);
    t.detail = fmt::format("RDS task {} read the uploaded backup", integer_of(restore->outputs, "task_id").value_or(0));
    out.push_back(t);
  }
  return out;
}

ReportValidation validation_of(const JournalEvent& e) {
  ReportValidation v;
  v.at = e.at;
  v.run_by = text_of(e.data, "run_by");
  v.ok = flag_of(e.data, "ok");
  v.mismatches = static_cast<int>(integer_of(e.data, "mismatches").value_or(0));
  for (const auto& t : array_of(e.data, "tables")) {
    ReportValidatedTable r;
    r.table = text_of(t, "table");
    r.matches = flag_of(t, "matches");
    r.method = text_of(t, "method");
    r.compared = text_of(t, "compared");
    r.source_rows = integer_of(t, "source_rows");
    r.target_rows = integer_of(t, "target_rows");
    r.key_columns = texts_of(t, "key_columns");
    r.left_out_columns = texts_of(t, "left_out_columns");
    r.problem = text_of(t, "problem");
    r.missing_on_target = integer_of(t, "missing_on_target").value_or(0);
    r.extra_on_target = integer_of(t, "extra_on_target").value_or(0);
    r.differing = integer_of(t, "differing").value_or(0);
    v.tables.push_back(r);
  }
  return v;
}

std::string state_of(const std::vector<ReportStep>& timeline, bool cut_over, const StepRecord* abort) {
  if (abort && abort->status == StepStatus::done) return "aborted: the DMS task was deleted; nothing was cut over";
  if (cut_over) return "cut over: the target is ready and the DMS task is stopped";
  const ReportStep* last_done = nullptr;
  for (const auto& s : timeline) {
    if (s.part) continue;
    if (s.status == "running" || s.status == "failed") {
      return fmt::format("not cut over yet: step '{}' is {}{}", s.name, s.status,
                         s.status == "failed" ? " (run the same command again to continue)" : "");
    }
    if (s.status == "done") last_done = &s;
  }
  if (!last_done) return "not cut over yet: nothing has run";
  if (last_done->name == steps::replicate) return "not cut over yet: CDC replication is running";
  return fmt::format("not cut over yet: done up to step '{}'", last_done->name);
}

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json opt(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json opt(const std::optional<TimePoint>& t) { return t ? nlohmann::json(report_time(*t)) : nlohmann::json(); }

nlohmann::json transactions_json(const std::vector<ReportTransaction>& list) {
  auto out = nlohmann::json::array();
  for (const auto& t : list) {
    out.push_back({{"transaction_id", t.transaction_id}, {"name", t.name}, {"begin", t.begin}, {"end", t.end},
                   {"tables", t.tables}});
  }
  return out;
}

nlohmann::json notes_json(const std::vector<ReportNote>& notes) {
  auto out = nlohmann::json::array();
  for (const auto& n : notes) out.push_back({{"at", report_time(n.at)}, {"step", n.step}, {"message", n.message}});
  return out;
}

}  // namespace

MigrationReport build_migration_report(const ReportMeta& meta, const std::vector<StepRecord>& records,
                                       const std::vector<JournalEvent>& events) {
  MigrationReport r;
  r.meta = meta;
  auto find = [&](const std::string& name) -> const StepRecord* {
    for (const auto& s : records) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };

  // The run's steps in their order (pending ones too: what is still to come), each followed by
  // its sub-steps, then the cutover with its parts, then an abort.
  std::vector<std::string> order = run_step_order();
  order.push_back(steps::cutover);
  for (const auto& name : order) {
    const StepRecord* s = find(name);
    r.timeline.push_back(step_row(s ? *s : blank_step(name)));
    for (const auto& sub : records) {
      if (sub.name.rfind(name + "/", 0) == 0) r.timeline.push_back(step_row(sub));
    }
    if (name == steps::cutover && s) add_cutover_parts(*s, r.timeline);
  }
  const StepRecord* abort = find("abort");
  if (abort) r.timeline.push_back(step_row(*abort));

  const StepRecord* cut = find(steps::cutover);
  r.cut_over = cut && cut->status == StepStatus::done;
  r.state = state_of(r.timeline, r.cut_over, abort);
  r.throughput = throughput_of(find(steps::backup), find(steps::upload), find(steps::restore));
  r.start_lsn = start_lsn_of(find(steps::capture_lsn), find(steps::replicate));

  if (cut) {
    r.downtime.known = r.cut_over;
    r.downtime.total_s = number_of(cut->outputs, "downtime_seconds");
    r.downtime.lock_s = number_of(cut->outputs, "lock_seconds");
    r.downtime.drain_s = number_of(cut->outputs, "drain_seconds");
    r.downtime.stop_s = number_of(cut->outputs, "stop_seconds");
    r.downtime.validation_s = number_of(cut->outputs, "validation_seconds");
    r.downtime.reenable_s = number_of(cut->outputs, "reenable_seconds");
    r.downtime.drain_proven_by_marker = flag_of(cut->outputs, "drain_proven_by_marker");
    if (r.cut_over && !r.downtime.drain_proven_by_marker) {
      r.warnings.push_back({cut->finished_at.value_or(meta.generated_at), steps::cutover,
                            "the drain was judged from CloudWatch latency and table statistics (no cutover marker "
                            "table on both sides): validation alone proved the target complete"});
    }
    if (r.cut_over && member(cut->outputs, "schema_ok").is_boolean() && !flag_of(cut->outputs, "schema_ok")) {
      r.warnings.push_back({cut->finished_at.value_or(meta.generated_at), steps::cutover,
                            "the schema comparison after the cutover found objects missing, disabled or untrusted "
                            "on the target (the cutover's output names them)"});
    }
  }

  for (const auto& e : events) {
    if (e.kind == report_records::lag_sample) {
      r.lag.push_back({e.at, number_of(e.data, "source_s"), number_of(e.data, "target_s"), text_of(e.data, "read_by")});
    } else if (e.kind == report_records::validation) {
      r.validations.push_back(validation_of(e));
    } else if (e.kind == "warning") {
      r.warnings.push_back({e.at, e.step, text_of(e.data, "message")});
    } else if (e.kind == "step_failed") {
      r.failures.push_back({e.at, e.step, text_of(e.data, "message")});
    } else if (e.kind == "login_carried") {
      r.logins_carried.push_back({e.at, text_of(e.data, "action"), text_of(e.data, "login"), text_of(e.data, "user"),
                                  text_of(e.data, "role")});
    } else if (e.kind == source_lock::k_locked_event || e.kind == source_lock::k_unlocked_event) {
      r.source_locks.push_back({e.at, e.kind == source_lock::k_locked_event, text_of(e.data, "database"),
                                text_of(e.data, "statement"), text_of(e.data, "previous_access")});
    }
  }
  r.not_carried = {
      "SQL logins: the restore brings the database's users, not the server's logins; `mssql2rds logins --yes` "
      "creates them on RDS with their SID and password hash (those it carried are listed above); Windows logins "
      "need the instance joined to AWS Managed Microsoft AD",
      "SQL Server Agent jobs: `mssql2rds check --script-jobs FILE` scripts the jobs that touch the database for "
      "RDS (RDS runs Agent); run the script on RDS",
      "linked servers, credentials, server triggers and sp_configure values: `mssql2rds check` lists them with "
      "what RDS allows",
  };
  return r;
}

std::string report_time(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::floor<std::chrono::seconds>(t));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count());
}

std::string report_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "-";
  if (s < 1) return fmt::format("{:.0f} ms", s * 1000);
  if (s < 60) return fmt::format("{:.1f} s", s);
  const auto total = static_cast<long long>(std::llround(s));
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

std::string report_bytes(std::uint64_t b) {
  if (b < 1000) return fmt::format("{} bytes", b);
  const double v = static_cast<double>(b);
  if (b < 1000 * 1000) return fmt::format("{:.1f} kB", v / 1e3);
  if (b < 1000ULL * 1000 * 1000) return fmt::format("{:.1f} MB", v / 1e6);
  return fmt::format("{:.2f} GB", v / 1e9);
}

nlohmann::json to_json(const MigrationReport& r) {
  auto timeline = nlohmann::json::array();
  for (const auto& s : r.timeline) {
    timeline.push_back({{"step", s.name},        {"title", s.title},       {"status", s.status},
                        {"started_at", opt(s.started_at)}, {"finished_at", opt(s.finished_at)},
                        {"seconds", opt(s.seconds)}, {"attempts", s.attempts}, {"error", s.error},
                        {"part", s.part}});
  }
  auto throughput = nlohmann::json::array();
  for (const auto& t : r.throughput) {
    throughput.push_back({{"what", t.what}, {"bytes", t.bytes}, {"seconds", opt(t.seconds)},
                          {"mb_per_s", opt(t.mb_per_s)}, {"detail", t.detail}});
  }
  const auto& l = r.start_lsn;
  nlohmann::json start = {{"known", l.known},
                          {"hex", l.hex},
                          {"numeric", l.numeric},
                          {"decimal_triplet", l.decimal_triplet},
                          {"binary", l.binary},
                          {"dms_cdc_start_position", l.dms_cdc_start_position},
                          {"rule", l.rule},
                          {"backup_first_lsn", l.backup_first_lsn},
                          {"backup_last_lsn", l.backup_last_lsn},
                          {"backup_checkpoint_lsn", l.backup_checkpoint_lsn},
                          {"differential_base", l.differential_base},
                          {"open_at_backup_end", transactions_json(l.open_at_backup_end)},
                          {"replayed", transactions_json(l.replayed)},
                          {"lost_by_common_recipe", transactions_json(l.lost_by_common_recipe)}};
  auto lag = nlohmann::json::array();
  for (const auto& s : r.lag) {
    lag.push_back({{"at", report_time(s.at)}, {"source_s", opt(s.source_s)}, {"target_s", opt(s.target_s)},
                   {"read_by", s.read_by}});
  }
  auto validations = nlohmann::json::array();
  for (const auto& v : r.validations) {
    auto tables = nlohmann::json::array();
    for (const auto& t : v.tables) {
      tables.push_back({{"table", t.table},
                        {"matches", t.matches},
                        {"method", t.method},
                        {"compared", t.compared},
                        {"source_rows", opt(t.source_rows)},
                        {"target_rows", opt(t.target_rows)},
                        {"key_columns", t.key_columns},
                        {"left_out_columns", t.left_out_columns},
                        {"problem", t.problem},
                        {"missing_on_target", t.missing_on_target},
                        {"extra_on_target", t.extra_on_target},
                        {"differing", t.differing}});
    }
    validations.push_back({{"at", report_time(v.at)}, {"run_by", v.run_by}, {"ok", v.ok},
                           {"mismatches", v.mismatches}, {"tables", tables}});
  }
  auto logins = nlohmann::json::array();
  for (const auto& carried : r.logins_carried) {
    logins.push_back({{"at", report_time(carried.at)}, {"action", carried.action}, {"login", carried.login},
                      {"user", carried.user}, {"role", carried.role}});
  }
  auto locks = nlohmann::json::array();
  for (const auto& lock : r.source_locks) {
    locks.push_back({{"at", report_time(lock.at)}, {"locked", lock.locked}, {"database", lock.database},
                     {"statement", lock.statement}, {"previous_access", lock.previous_access}});
  }
  const auto& d = r.downtime;
  return {{"migration", r.meta.migration},
          {"journal", r.meta.journal},
          {"generated_at", report_time(r.meta.generated_at)},
          {"cut_over", r.cut_over},
          {"state", r.state},
          {"timeline", timeline},
          {"throughput", throughput},
          {"start_lsn", start},
          {"cdc_lag", lag},
          {"validations", validations},
          {"downtime", {{"known", d.known},
                        {"total_s", opt(d.total_s)},
                        {"lock_s", opt(d.lock_s)},
                        {"drain_s", opt(d.drain_s)},
                        {"stop_s", opt(d.stop_s)},
                        {"validation_s", opt(d.validation_s)},
                        {"reenable_s", opt(d.reenable_s)},
                        {"drain_proven_by_marker", d.drain_proven_by_marker}}},
          {"warnings", notes_json(r.warnings)},
          {"failures", notes_json(r.failures)},
          {"logins_carried", logins},
          {"source_locks", locks},
          {"not_carried", r.not_carried}};
}

}  // namespace m2r
