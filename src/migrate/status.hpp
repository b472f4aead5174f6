#pragma once
// `mssql2rds status`: the journal's steps, the DMS task, its table statistics and CDC lag.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_context.hpp"
#include "core/config.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"
#include "core/lob_mode.hpp"
#include "core/validation.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct StatusReport {
  std::vector<StepRecord> steps;
  nlohmann::json task;          // DMS task summary, when one exists
  nlohmann::json tables;        // DescribeTableStatistics
  std::optional<double> latency_source_s;
  std::optional<double> latency_target_s;
  std::string note;             // what could not be read
  nlohmann::json lobs;          // the replicate step's LOB decision, when one was recorded
  // In limited LOB mode, each LOB column whose largest value on the source is now over
  // LobMaxSize (values over it are truncated on the target), with its fix.
  std::vector<std::string> lob_notes;
  // The replication is broken behind the tool's back (its task deleted or failed outside
  // mssql2rds): `status` shows the report, then this error, and exits with its code.
  std::optional<Error> problem;
};

using SourceOpener = std::function<Expected<std::unique_ptr<mssql::SqlSession>>()>;

// With `open_source`, a limited LOB mode is checked against the source's values of today
// (lob_notes); a source that cannot be reached is said in `note`, not an error. `stop` cancels
// that re-measurement (said in `note` too).
Expected<StatusReport> migration_status(const MigrationConfig& config, Journal& journal,
                                        std::optional<aws::AwsContext> aws, const SourceOpener& open_source = {},
                                        const StopSignal* stop = nullptr);

// The LOB columns (of `tables`, all when empty) whose largest value on the source is over the
// recorded decision's LobMaxSize: the same bounded MAX(DATALENGTH) query as the measurement.
Expected<std::vector<LobColumnSize>> lob_columns_over_limit(mssql::SqlSession& source, const LobDecision& decision,
                                                            const MigrationConfig& config,
                                                            const std::vector<std::string>& tables = {},
                                                            const StopSignal* stop = nullptr);

// `validate`'s note: each differing table with a LOB column over LobMaxSize gets the note in
// its problem (the row-hash comparison already names the differing keys). Reads the decision
// from the journal; without one (or in full mode) nothing is added.
Expected<void> note_lobs_over_limit(ValidationReport& report, mssql::SqlSession& source, const MigrationConfig& config,
                                    const StopSignal* stop = nullptr);

}  // namespace m2r
