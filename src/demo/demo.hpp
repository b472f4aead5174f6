#pragma once
// `mssql2rds demo`: the whole migration against the rehearsal world, under a live workload.
// Starts the world, creates the sample database, starts the application's workload and a
// transaction held open across the end of the backup, then runs exactly what a user runs —
// check (--fix), run, status, cutover, logins — and shows that the target equals the source: every
// table's row count and checksum, and the long transaction's row present once. Stops the
// world at the end, also on failure.
#include <chrono>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/events.hpp"
#include "demo/demo_workload.hpp"
#include "migrate/migration.hpp"

namespace m2r {

struct DemoOptions {
  std::string dir;          // the world's and the migration's files
  std::string sandbox_exe;  // empty: found beside this executable or on PATH
  bool keep_world = false;  // leave the world running (to try the other commands by hand)
  bool setup_only = false;  // stop once the world, the config and the sample database exist
  int size_mib = 8;                 // the sample database's size (demo/sample_database.hpp)
  std::optional<int> customers;     // instead of the size's proportional count
  double transactions_per_second = 10;
  std::chrono::seconds replicate_for{8};  // CDC under the workload before the cutover
};

struct DemoReport {
  std::string dir;
  std::string config_path;
  CutoverReport cutover;
  WorkloadCounts workload;
  std::int64_t long_transaction_rows_on_target = 0;  // 1: neither lost nor duplicated
  // After `logins`, the application's own login (demo/sample_logins.hpp) logged in to RDS with
  // its password and counted every table's rows equal to the source's.
  bool app_login_rows_equal = false;
  std::string app_login_detail;  // the first difference, or why it could not log in
  double total_s = 0;
};

Expected<DemoReport> run_demo(const DemoOptions& options, EventSink& events);

}  // namespace m2r
