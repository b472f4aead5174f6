#pragma once
// `mssql2rds-sandbox workload`: creates the sample database on a served instance (--create)
// and drives the workload generator against it over TDS until --seconds pass or SIGINT/SIGTERM.
#include <chrono>
#include <cstdint>
#include <string>

namespace sandbox::workload {

struct WorkloadCommand {
  std::string server = "127.0.0.1";
  std::uint16_t port = 0;
  std::string database = "m2r_sample";
  bool create = false;
  double rate = 20;                 // short transactions per second
  int long_every_ms = 10000;        // a long transaction starts this often (0: none)
  int long_duration_ms = 5000;      // and stays open this long
  int seconds = 0;                  // 0: until interrupted
};

// The sa password comes from $MSSQL2RDS_SANDBOX_SA_PASSWORD, as for `serve`. Prints the
// counters every few seconds and at the end; exit code 0 when no transaction failed.
int run_workload(const WorkloadCommand& command);

}  // namespace sandbox::workload
