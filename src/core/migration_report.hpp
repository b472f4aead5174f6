#pragma once
// The cutover report: one document a DBA can attach to a change ticket, built from the journal
// alone (its steps and events), so `mssql2rds report` can write it again at any time, also
// before the cutover. Pure: the caller reads the journal; this builds the model, and
// core/report_html renders it as HTML (inline CSS and SVG) or JSON.
//
// What the steps record and where the report finds it:
//   timeline          every step's record (times, attempts, error); upload's sub-steps
//                     ("upload/1"); the cutover's parts from its outputs (drain_seconds, ...)
//   throughput        backup: file_identity sizes / the backup step's duration; upload: its
//                     objects' sizes / their transfer seconds (else the upload step's
//                     duration); restore: the same bytes /
//                     the restore step's duration
//   start LSN         capture_lsn's outputs (start_lsn, rule, backup LSNs, open transactions)
//                     and replicate's cdc_start_position (what DMS was given)
//   CDC lag           events of kind report_records::lag_sample (status, the cutover's drain)
//   validation        events of kind report_records::validation (validate, cutover)
//   downtime          the cutover step's outputs
//   warnings          events of kind "warning"; failed attempts from "step_failed" events
//   logins            events of kind "login_carried" (migrate/logins)
//   source lock       events source_locked / source_unlocked (core/source_lock)
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/journal.hpp"
#include "core/validation.hpp"

namespace m2r {

// The journal records the report needs beyond the steps' own: their event kinds and data.
namespace report_records {
inline constexpr const char* lag_sample = "cdc_lag_sample";
inline constexpr const char* validation = "validation";

// One read of CloudWatch's CDCLatencySource / CDCLatencyTarget; a missing datapoint stays null
// (unknown, never 0 s). `read_by`: "status", "cutover drain".
nlohmann::json lag_sample_data(std::optional<double> source_s, std::optional<double> target_s,
                               const std::string& read_by);
// One validation's per-table results; `run_by`: "validate", "cutover".
nlohmann::json validation_data(const ValidationReport& report, const std::string& run_by);
}  // namespace report_records

struct ReportStep {
  std::string name;    // as journaled: "backup", "upload/1", "cutover: drain"
  std::string title;   // what it is, for a person
  std::string status;  // pending, running, done, failed
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  std::optional<double> seconds;  // finished - started (running: unknown)
  int attempts = 0;
  std::string error;
  bool part = false;  // a sub-step or a part of the cutover, shown under its step
};

struct ReportThroughput {
  std::string what;  // "backup", "upload", "restore"
  std::uint64_t bytes = 0;
  std::optional<double> seconds;
  std::optional<double> mb_per_s;  // MB = 10^6 bytes
  std::string detail;              // "3 files", "12 parts, 2 reused, 0 retries"
};

struct ReportTransaction {
  std::string transaction_id;
  std::string name;
  std::string begin;
  std::string end;  // "" while open
  std::vector<std::string> tables;
};

struct ReportStartLsn {
  bool known = false;
  std::string hex;              // fn_dblog form, DMS CdcStartPosition
  std::string numeric;          // numeric(25,0)
  std::string decimal_triplet;  // display only
  std::string binary;           // binary(10)
  std::string dms_cdc_start_position;  // what the replicate step gave DMS ("" before it ran)
  std::string rule;                    // why this LSN
  std::string backup_first_lsn, backup_last_lsn, backup_checkpoint_lsn, differential_base;
  std::vector<ReportTransaction> open_at_backup_end;
  std::vector<ReportTransaction> replayed;
  std::vector<ReportTransaction> lost_by_common_recipe;
};

struct ReportLagSample {
  TimePoint at;
  std::optional<double> source_s;
  std::optional<double> target_s;
  std::string read_by;
};

struct ReportValidatedTable {
  std::string table;
  bool matches = false;
  std::string method;  // what was compared: "key (id)", "row multiset (no key)"
  std::string compared;  // empty: compared in that run; else when and why an earlier comparison stands
  std::optional<std::int64_t> source_rows;
  std::optional<std::int64_t> target_rows;
  std::vector<std::string> key_columns;
  std::vector<std::string> left_out_columns;
  std::string problem;
  std::int64_t missing_on_target = 0;
  std::int64_t extra_on_target = 0;
  std::int64_t differing = 0;
};

struct ReportValidation {
  TimePoint at;
  std::string run_by;  // "validate", "cutover"
  bool ok = false;
  int mismatches = 0;
  std::vector<ReportValidatedTable> tables;
};

struct ReportDowntime {
  bool known = false;  // the cutover finished
  std::optional<double> total_s;
  std::optional<double> lock_s;  // --lock-source: the source set to RESTRICTED_USER
  std::optional<double> drain_s;
  std::optional<double> stop_s;
  std::optional<double> validation_s;
  std::optional<double> reenable_s;
  bool drain_proven_by_marker = false;
};

struct ReportNote {
  TimePoint at;
  std::string step;
  std::string message;
};

// What `mssql2rds logins --yes` did on RDS (its login_carried events).
struct ReportLoginAction {
  TimePoint at;
  std::string action;  // create_login, disable_login, remap_user, grant_server_role
  std::string login;
  std::string user;    // remap_user
  std::string role;    // grant_server_role
};

// `cutover --lock-source` and `unlock-source` (core/source_lock's events).
struct ReportSourceLock {
  TimePoint at;
  bool locked = false;    // false: the lock was undone
  std::string database;
  std::string statement;  // what ran ("" when nothing had to)
  std::string previous_access;
};

struct ReportMeta {
  std::string migration;  // the configuration's name
  std::string journal;    // its path
  TimePoint generated_at;
};

struct MigrationReport {
  ReportMeta meta;
  bool cut_over = false;
  std::string state;  // one sentence: cut over, or how far it got
  std::vector<ReportStep> timeline;
  std::vector<ReportThroughput> throughput;
  ReportStartLsn start_lsn;
  std::vector<ReportLagSample> lag;
  std::vector<ReportValidation> validations;  // oldest first
  ReportDowntime downtime;
  std::vector<ReportNote> warnings;
  std::vector<ReportNote> failures;  // failed attempts (a resumed step ran again)
  std::vector<ReportLoginAction> logins_carried;
  std::vector<ReportSourceLock> source_locks;  // oldest first; the last one is how the source stands
  std::vector<std::string> not_carried;  // what the restore and the logins step leave at the server level
};

// Builds the report from the journal's records. Never fails: what the journal lacks is shown
// as not yet known, a value of the wrong type as absent.
MigrationReport build_migration_report(const ReportMeta& meta, const std::vector<StepRecord>& steps,
                                       const std::vector<JournalEvent>& events);

// "2026-12-02 15:53:26.042Z" (UTC, milliseconds)
std::string report_time(TimePoint t);
// "850 ms", "42.0 s", "3 min 12 s", "1 h 02 min"
std::string report_duration(double seconds);
// "1.5 GB", "12.3 MB", "512 bytes" (10^n units, as MB/s)
std::string report_bytes(std::uint64_t bytes);

// The same content as the HTML, for machines.
nlohmann::json to_json(const MigrationReport& report);

}  // namespace m2r
