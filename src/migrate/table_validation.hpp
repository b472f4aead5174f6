#pragma once
// Every user table compared, source against target, by row hashes per key range
// (core/row_hash.hpp, core/range_compare.hpp; docs/architecture.md "Validation").
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "aws/clock.hpp"
#include "core/events.hpp"
#include "core/incremental_validation.hpp"
#include "core/interrupt.hpp"
#include "core/validation.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct ValidationOptions {
  CompareLimits limits;
  // SET LOCK_TIMEOUT on both sessions: a read that waits longer for a writer's lock fails with
  // 1222 and the validation stops naming the table (0 = do not wait, -1 = wait forever).
  std::chrono::milliseconds lock_timeout{10000};
  // The bound of each statement (one chunk's digest on one side, one drill-down step).
  std::chrono::seconds chunk_timeout{300};
  // Source rows read per second at most, summed over the walk (0 = as fast as it goes).
  double max_rows_per_second = 0;
  EventSink* events = nullptr;   // a progress event per chunk, step "validate"
  aws::Clock* clock = nullptr;   // the throttle's sleeps; the system clock when null
  const StopSignal* stop = nullptr;
  // Tables (schema.table) not compared in this run: an earlier comparison stands for them
  // (cutover's revalidation of what changed). Tables present on one side only are reported
  // whatever it holds.
  std::set<std::string> skip_tables;
  // Tables compared only at these rows (cutover: what changed since an earlier comparison,
  // core/incremental_validation.hpp), with row counts on both sides.
  std::map<std::string, RowsToCompare> compare_rows;
};

// With `options.stop`: a stop cancels the statement in flight and ends with ErrorKind::interrupted
// naming the table (validation only reads: nothing is left half done).
Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target,
                                              const ValidationOptions& options);

inline Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target,
                                                     const StopSignal* stop = nullptr) {
  ValidationOptions options;
  options.stop = stop;
  return validate_databases(source, target, options);
}

}  // namespace m2r
