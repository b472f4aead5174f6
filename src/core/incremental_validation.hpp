#pragma once
// Cutover's validation without a downtime that grows with the database: the full comparison
// runs while CDC replicates (`mssql2rds validate`, journaled per table with the source's log
// position read before it started), and at cutover only what the source's log shows changed
// since is compared again: by row where the log names the rows (core/changed_rows.hpp), by
// table where it does not. A table is reused whole only when that is provable: its last
// validation found it equal, the active log still reaches back to the position read before
// that validation, and no log record since belongs to the table (a record's AllocUnitName is
// "schema.table" or "schema.table.index"). A table that differed only at keys that validation
// named has those keys compared again with the changed rows. Everything else is compared whole:
// no record, differences not all named, a log that no longer reaches back, changes the log
// does not attribute to rows.
//
// Why the rows the log names are enough: a row not changed on the source after the position
// had the same source value throughout the earlier validation and since; that validation saw
// the target equal to it, or named it; and DMS changes a target row only to apply a source
// change, which would be in the log after the position. The position is the begin of the
// oldest transaction open when the validation started (a transaction open then may have
// changed a row before the position and committed after the row was read).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/changed_rows.hpp"
#include "core/row_hash.hpp"
#include "core/validation.hpp"

namespace m2r {

// One table's last validation, as the journal keeps it.
struct ValidatedTable {
  std::string table;  // schema.table
  bool equal = false;
  std::int64_t rows = 0;
  std::string method;
  std::vector<std::string> left_out_columns;
  std::string source_lsn;  // the source's log position before the validation began
  std::string at;          // when it finished, UTC ISO 8601
  // A keyed table that differed with every difference named: the keys (nullopt otherwise).
  std::optional<std::vector<KeyValues>> differing_keys;
};

// The source's active log as seen now.
struct LogChanges {
  std::string first_lsn;
  // Per AllocUnitName, the last record after the oldest position asked about.
  std::map<std::string, std::string> last_lsn_by_unit;
  // The records after the oldest position with their locks; nullopt when there were too many
  // to read (tables that changed are then compared whole).
  std::optional<std::vector<LogRecordLocks>> records;
  std::map<std::string, ClusteredIndex> clustered;  // by schema.table; a heap has none
};

// The rows of one table compared again at cutover.
struct RowsToCompare {
  std::set<std::string> lock_resources;  // %%lockres%% of the rows the log shows changed
  std::vector<KeyValues> keys;           // keys that differed at the last validation
  std::string description;               // what and since when, for the report
};

struct RevalidationPlan {
  std::set<std::string> compare;                       // compared whole now
  std::map<std::string, std::string> why_whole;        // why, for those with an earlier validation
  std::map<std::string, RowsToCompare> compare_rows;   // compared by the rows named
  std::vector<TableComparison> reused;                 // equal before and unchanged since, with why
};

// Beyond this many rows a table is compared whole. Each lookup of up to 500 rows by %%lockres%%
// scans the table's clustered index (the hash is computed per row, there is no index on it), so
// four lookups are about what one hashing scan of the whole table costs.
inline constexpr std::size_t k_max_rows_compared_by_key = 2000;

// `tables`: the source's tables now. `log`: nullopt when the log could not be read (every
// table is compared whole).
RevalidationPlan plan_revalidation(const std::vector<std::string>& tables,
                                   const std::map<std::string, ValidatedTable>& last,
                                   const std::optional<LogChanges>& log,
                                   std::size_t max_rows_by_key = k_max_rows_compared_by_key);

// The oldest source position of the validations among `last` that revalidation can build on
// (where the log must be read from); empty when there is none.
std::string oldest_position(const std::map<std::string, ValidatedTable>& last);

// A transaction boundary record of fn_dblog: LOP_BEGIN_XACT, LOP_COMMIT_XACT or LOP_ABORT_XACT.
struct TransactionRecord {
  std::string lsn;
  std::string operation;
  std::string transaction_id;
};

// Where a validation starting now must read the log from afterwards: the begin record of the
// oldest transaction still open, else `last_lsn` (the log's last record).
std::string validation_start_position(const std::vector<TransactionRecord>& records, const std::string& last_lsn);

}  // namespace m2r
