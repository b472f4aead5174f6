#pragma once
// INSERT BULK (README.md "Bulk load"): the statement a bulk load client sends before its
// rows ([MS-TDS] 2.2.6.1), parsed, and what the session keeps of it until the rows arrive.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "engine/parse_util.hpp"

namespace sandbox::engine {

struct BulkLoadStatement {
  ObjName table;
  struct ColumnDecl {
    std::string name;
    ColumnType type;  // as the client declared it (its rows come in COLMETADATA's types)
  };
  std::vector<ColumnDecl> columns;
  bool check_constraints = false, fire_triggers = false, keep_nulls = false, tablock = false;
  struct OrderColumn {
    std::string name;
    bool descending = false;
  };
  std::vector<OrderColumn> order;
};

// INSERT BULK table (col type [COLLATE name] [NULL | NOT NULL], ...) [WITH (option, ...)];
// syntax errors (102/156) and unknown types (243) as SQL Server raises them.
BulkLoadStatement parse_insert_bulk(const std::vector<Token>& t);

// A pending bulk load: the statement resolved against the table (SessionImpl::do_insert_bulk).
struct BulkLoadPlan {
  BulkLoadStatement statement;
  bool temp = false;
  std::string schema;       // SQLite schema: main or tempdb
  std::string sqlite_name;  // the table in that schema
  std::int64_t object_id = 0;
  std::string identity_column;     // empty: none
  bool identity_is_rowid = true;   // else filled after the insert from the table's maximum
  std::int64_t identity_seed = 1, identity_increment = 1;
  bool identity_insert = false;    // SET IDENTITY_INSERT ON: the rows' values are kept
  struct Target {
    std::string name;         // the table's column (as the table spells it)
    ColumnType type;          // the table's type
    bool has_default = false;
    bool generated = false;   // computed or rowversion: the rows' values are not stored
  };
  std::vector<Target> targets;  // one per INSERT BULK column, in its order
  std::vector<std::size_t> order_key;  // positions in `targets` of the clustered key, when ORDER matches it
  std::vector<bool> order_descending;
};

}  // namespace sandbox::engine
