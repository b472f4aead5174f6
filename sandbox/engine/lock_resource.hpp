#pragma once
// The lock resources SQL Server names in fn_dblog's [Lock Information] and in the %%lockres%%
// pseudo-column (README.md "The log"): a row of a table with a clustered key is the KEY
// resource `<db>:<hobt> (<hash>)`, the hash a 6-byte digest of the row's clustered key values,
// printed as 12 hex digits in parentheses; a heap row is the RID `<db>:<file>:<page>:<slot>`.
// SQL Server's hash function is internal; the sandbox's is its own, and what matters is what
// SQL Server guarantees: the same key values give the same hash on every database (a restored
// copy, a target DMS writes), and different keys can collide.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/session.hpp"

namespace sandbox::engine {

// sys.partitions' hobt_id of a table's heap or clustered index (one partition per table).
std::int64_t hobt_id(std::int64_t object_id);

// "(8194443284a0)": the KEY hash of a clustered key, values in key order. Text compares
// case-insensitively and without trailing spaces (the sandbox's collation), so it hashes so.
std::string key_hash(const std::vector<const Cell*>& key);

// "1:<page>:<slot>" of a heap row, from its row id.
std::string heap_rid(std::int64_t row_id);

// fn_dblog's [Lock Information] of a row record: the IX lock on the object, then an X lock on
// each row the record changes (`key_hashes` for a keyed table, `row_ids` for a heap).
std::string row_lock_information(int db_id, std::int64_t object_id, const std::vector<std::string>& key_hashes,
                                 const std::vector<std::int64_t>& heap_row_ids);

// m2r_lockres(k1, k2, ...): %%lockres%% of a row of a keyed table, given its key values.
// m2r_heap_lockres(rowid): %%lockres%% of a heap row. m2r_hobt_id(object_id): sys.partitions.
void register_lock_resource_functions(sqlite3* db);

}  // namespace sandbox::engine
