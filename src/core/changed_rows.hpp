#pragma once
// Which rows of a table the source's log shows changed since a position, from the locks each
// log record names (fn_dblog's [Lock Information]): a row change takes an X lock on the row's
// KEY in the clustered index, `KEY: <db>:<hobt> (<hash>)`, and `%%lockres%%` read through that
// index gives the same `(<hash>)` for the row on the source and on the target (the hash is
// of the key values). Cutover compares those rows again instead of the whole table.
//
// A change the locks do not name is never guessed at: the table is then compared whole. That
// is the case for a data record in a transaction that locked none of the table's keys, or
// that locked the table, a page of it or its hobt outright (lock escalation, TABLOCK, page
// locking, TRUNCATE's Sch-M), and for a table without a clustered index (a heap's rows are
// RIDs, which differ between the two databases). Records that move rows without changing them
// (page splits, ghost cleanup) and allocation records are not changes. Hash collisions only
// select more rows. Pure: the records are read elsewhere (migrate/validation_history).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace m2r {

// One lock of a [Lock Information] text: "ACQUIRE_LOCK_X KEY: 5:72057594043760640 (8194443284a0)".
struct LogLock {
  std::string mode;      // "X", "IX", "SCH_M", ...
  std::string resource;  // "KEY", "OBJECT", "PAGE", "RID", "HOBT", ...
  std::string id;        // "5:72057594043760640" (KEY), "5:245575913:0" (OBJECT), "5:1:280" (PAGE)
  std::string hash;      // KEY only: "(8194443284a0)"
  bool intent() const;   // IS, IX, IU: the lock of a finer grain follows
};

// "HoBt 72057594043760640:ACQUIRE_LOCK_IX OBJECT: 5:245575913:0 ;ACQUIRE_LOCK_X KEY: ...":
// the record's own hobt, then its locks.
struct LockInformation {
  std::string hobt;  // empty when the text does not start with "HoBt <id>:"
  std::vector<LogLock> locks;
};

LockInformation parse_lock_information(const std::string& text);

// One record of fn_dblog as the comparison needs it.
struct LogRecordLocks {
  std::string lsn;
  std::string operation;
  std::string context;
  std::string transaction_id;
  std::string unit;              // AllocUnitName
  std::string transaction_name;  // begin records
  std::string lock_information;
};

// A table's clustered index as sys.partitions shows it (index_id 1); none for a heap.
struct ClusteredIndex {
  std::int64_t object_id = 0;
  std::set<std::string> hobt_ids;  // decimal text, one per partition
};

struct ChangedRows {
  bool known = true;                        // false: the table must be compared whole
  std::string why_unknown;                  // when !known: the record and what it lacks
  std::set<std::string> lock_resources;     // "(8194443284a0)" of every row changed
  std::int64_t records = 0;                 // data records of the table after `since`
};

// The rows of `table` (schema.table) changed by the records after `since` (hex LSNs, which
// sort as text). `records` in log order; those at or before `since` only give transaction
// names. `clustered`: nullopt for a heap.
ChangedRows changed_rows(const std::vector<LogRecordLocks>& records, const std::string& table,
                         const std::optional<ClusteredIndex>& clustered, const std::string& since);

// An AllocUnitName belongs to `table` when it is "schema.table" or "schema.table.index"
// (compared case-insensitively, as object names are under SQL Server's default collations).
bool unit_of_table(const std::string& unit, const std::string& table);

}  // namespace m2r
