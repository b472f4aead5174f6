#pragma once
// The source's LOB columns and their largest values (core/lob_mode.hpp decides from them): the
// catalog read once, then one bounded, cancellable MAX(DATALENGTH(col)) query per table for all
// its LOB columns. Only reads.
#include <chrono>
#include <string>
#include <vector>

#include "core/interrupt.hpp"
#include "core/lob_mode.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct LobMeasureOptions {
  // SET LOCK_TIMEOUT for the measurement (reset to -1 after): a scan waiting longer for a
  // writer's lock fails with 1222 and the measurement stops naming the table.
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::seconds statement_timeout{300};  // the bound of each table's query
  const StopSignal* stop = nullptr;             // a stop cancels the query in flight
};

// The LOB columns of the user tables the table mappings (JSON text) select.
Expected<std::vector<LobColumn>> list_lob_columns(mssql::SqlSession& source, const std::string& table_mappings,
                                                 const LobMeasureOptions& options);

// MAX(DATALENGTH(col)) of every column given, one query per table. Errors name the table: a
// stop (ErrorKind::interrupted), a lock timeout or a statement over its bound (timeout).
Expected<std::vector<LobColumnSize>> measure_lob_columns(mssql::SqlSession& source, const std::vector<LobColumn>& columns,
                                                        const LobMeasureOptions& options);

}  // namespace m2r
