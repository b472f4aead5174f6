#pragma once
// The T-SQL of validation that proves equality (docs/facts.md §12, docs/architecture.md
// "Validation"): a per-row HASHBYTES('SHA2_256', ...) over every column's full value in a
// canonical, type-exact text encoding, and the keyset statements that walk a table in key
// order and aggregate those hashes per key range. Pure: it builds text, it runs nothing.
//
// Encoding of one row: the concatenation, in column_id order, of one piece per hashed column:
//   NULL      -> N'N'
//   non-NULL  -> CONCAT(DATALENGTH(v), N':', v), v = the column's canonical nvarchar(max) text
// A piece is either "N" or starts with a digit and carries its own length, so the pieces
// cannot run into each other and NULL is distinct from an empty value ("0:").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/tsql.hpp"

namespace m2r {

// A column as sys.columns and sys.types describe it (type = the base type's name, lower case).
struct ColumnInfo {
  std::string name;
  std::string type;     // "int", "nvarchar", "timestamp", ...; empty when sys.types had no row for it
  int max_length = 0;   // bytes; -1 = (max)
  int precision = 0;
  int scale = 0;
  bool nullable = true;
  bool is_computed = false;
};

// How a column takes part in the row hash.
enum class ColumnUse {
  hashed,
  left_out,     // rowversion/timestamp: the target generates its own values (DMS, docs/facts.md §12)
  unsupported,  // a type whose full value has no lossless text form here (sql_variant, unknown)
};

struct ColumnPlan {
  ColumnInfo column;
  ColumnUse use = ColumnUse::hashed;
  std::string canonical;  // T-SQL: the value as nvarchar(max), lossless (hashed columns)
  std::string reason;     // left_out / unsupported: why, for the report
};

// The canonical text (T-SQL expression of type nvarchar(max)) of `column`'s value, or nullopt
// when the type has none (see ColumnUse::unsupported) or is left out.
std::optional<std::string> canonical_text(const ColumnInfo& column);

struct RowHashPlan {
  std::vector<ColumnPlan> columns;  // every column, in the order given
  std::string expression;           // T-SQL: HASHBYTES('SHA2_256', ...) over the hashed columns, varbinary(32)
  std::vector<std::string> left_out() const;     // "name (reason)" of left-out columns
  std::vector<std::string> unsupported() const;  // "name (reason)" of unsupported columns
};

RowHashPlan row_hash_plan(const std::vector<ColumnInfo>& columns);

// The SQL Server declaration of a column's type ("decimal(18,2)", "nvarchar(max)", "datetime2(3)"),
// for converting a bound key value back to it.
std::string type_declaration(const ColumnInfo& column);

// Key values travel as the canonical text of each key column (never NULL: key columns are
// NOT NULL). Bound as nvarchar parameters and converted back with CONVERT(type, ?, style),
// which the canonical form makes exact.
using KeyValues = std::vector<std::string>;

// A range of keys in key order: (after, through]; nullopt = unbounded on that side.
struct KeyRange {
  std::optional<KeyValues> after;
  std::optional<KeyValues> through;
};

// A statement with its nvarchar parameters, in `?` order.
struct KeysetStatement {
  std::string sql;
  std::vector<std::string> params;
};

// Builds the statements of one table's keyed walk. Every key column must be hashed-capable
// (canonical_text has a value) and NOT NULL.
class KeysetQueries {
 public:
  KeysetQueries(tsql::TableName table, std::vector<ColumnInfo> key, RowHashPlan row_hash);

  // The key of the `position`-th row (1-based) of `range` in key order (of the last row when
  // the range holds fewer): one row of key texts (k1, k2, ...), none when the range is empty.
  KeysetStatement key_at(const KeyRange& range, std::int64_t position) const;
  // row_count, range_hash: COUNT_BIG(*) and HASHBYTES('SHA2_256', STRING_AGG of the uppercase
  // hex row hashes in key order) (SQL Server 2017+).
  KeysetStatement digest(const KeyRange& range) const;
  // k1..kn, rh: every row's key texts and row hash, in key order (the drill-down, and the
  // digest of SQL Server 2016, computed by the client the same way).
  KeysetStatement row_hashes(const KeyRange& range) const;

  // k1..kn, rh of the rows whose %%lockres%% (read through the clustered index, index 1, so that
  // it is the clustered key's hash) is one of `lock_resources`, or whose key is one of `keys`
  // (cutover's comparison of what changed: core/changed_rows.hpp), in key order.
  KeysetStatement rows_at(const std::vector<std::string>& lock_resources, const std::vector<KeyValues>& keys) const;
  const std::vector<ColumnInfo>& key() const { return m_key; }

 private:
  std::string where(const KeyRange& range, std::vector<std::string>& params) const;
  std::string greater_than(std::vector<std::string>& params, const KeyValues& values) const;
  std::string bound(std::vector<std::string>& params, std::size_t column, const std::string& value) const;
  std::string order_by(const std::string& prefix, bool descending = false) const;
  std::string key_texts(const std::string& prefix) const;

  tsql::TableName m_table;
  std::vector<ColumnInfo> m_key;
  RowHashPlan m_row_hash;
};

// Tables with no usable key: every row's hash with its number of copies (a multiset).
std::string heap_row_hash_counts(const tsql::TableName& table, const RowHashPlan& row_hash);
// One row whose hash is parameter 1 (uppercase hex text), every column as canonical text
// (nothing for left-out columns): how a heap difference is shown.
std::string heap_row_by_hash(const tsql::TableName& table, const RowHashPlan& row_hash);

// The column metadata of one table (parameter 1: object_id): name, type_name, max_length,
// precision, scale, is_nullable, is_computed, in column_id order.
std::string table_columns();
// The key validation walks by (parameter 1: object_id): the primary key, else the unique index
// with the lowest index_id whose columns are all NOT NULL (enabled and unfiltered: a filtered or
// disabled index does not make every row's key unique); index_id, is_primary_key, column
// name, in key order.
std::string table_key_columns();

}  // namespace m2r
