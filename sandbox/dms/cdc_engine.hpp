#pragma once
// The CDC engine behind a running DMS task (issue 4 part 3). It connects to the source and
// target endpoints as DMS does (over TDS, through the m2r::mssql::SqlSession interface),
// reads the source's log with fn_dblog from the task's start point, and applies, in commit
// order, the transactions that began at or after it, through the target's SQL layer
// (IDENTITY_INSERT on, so target triggers fire unless disabled). See cdc_engine.cpp for
// the failures it reports as DMS words them (docs/facts.md §10). LOB columns are carried as
// the task settings' TargetMetadata says (docs/facts.md §12, the DMS guide's LOB support page):
// truncated at LobMaxSize in limited mode with a warning in the task log, whole in full mode,
// not at all with SupportLobs false or ApplyErrorUpdatePolicy UPDATE_RECORD, and not in CDC
// on tables without a primary key.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "dms/cdc_runner.hpp"
#include "mssql/sql_session.hpp"

namespace sandbox::dms {

// Opens a session to an endpoint (the real one connects with FreeTDS ODBC).
using SessionOpener =
    std::function<m2r::Expected<std::unique_ptr<m2r::mssql::SqlSession>>(const EndpointSpec& endpoint)>;

// Receives CDCLatencySource / CDCLatencyTarget (seconds) for CloudWatch (docs/facts.md §4).
using LatencyPublisher = std::function<void(const CdcTaskSpec& spec, double source_seconds, double target_seconds)>;

// The replication pace (issue 4 part 4): at most batch_size transactions per round, then a
// pause of apply_delay, so tests can build up lag and watch it drain. Task settings
// {"SandboxPace": {"ApplyDelayMs": n, "BatchSize": n}} override these defaults.
struct CdcPace {
  std::chrono::milliseconds poll_interval{200};
  std::chrono::milliseconds apply_delay{0};
  int batch_size = 1000;
  std::chrono::milliseconds metrics_interval{5000};
};

struct CdcEnvironment {
  SessionOpener open_session;
  LatencyPublisher publish_latency;  // may be empty
  CdcPace pace;
  // A stalled task, for tests: while this answers true the runner keeps reading the source's
  // log but applies nothing (may be empty).
  std::function<bool()> apply_paused;
  // The task's log (CloudWatch Logs on AWS): warnings such as a truncated LOB, one line each.
  // May be empty.
  std::function<void(const CdcTaskSpec& spec, const std::string& line)> task_log;
};

CdcRunnerFactory make_cdc_runner_factory(CdcEnvironment environment);

// SessionOpener over FreeTDS ODBC (m2r::mssql::OdbcSession) to the endpoint's server, port and
// database, encrypted as its SslMode says (dms/endpoint_connection.hpp); ca_file verifies for
// verify-ca / verify-full.
SessionOpener odbc_session_opener(std::string ca_file = {});

}  // namespace sandbox::dms
