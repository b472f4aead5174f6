#pragma once
// Source against target, table by table (validate, cutover): row counts, and row hashes
// compared per key range down to the differing keys (core/range_compare.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/range_compare.hpp"

namespace m2r {

// What one side holds of one table.
struct TableFingerprint {
  std::string table;  // schema.table
  std::int64_t rows = 0;
  std::string error;  // when the table could not be read on that side
};

struct TableComparison {
  std::string table;
  std::optional<TableFingerprint> source;
  std::optional<TableFingerprint> target;
  bool matches = false;
  std::string problem;  // names what differs
  std::string method;   // "key (id)" / "unique index (a, b)" / "row multiset (no key)"
  std::vector<std::string> key_columns;      // the columns a named difference's key values belong to
  std::vector<std::string> left_out_columns; // "col (reason)": not compared (rowversion)
  std::string compared;  // empty: compared whole in this run; else what an earlier comparison covers and what was compared now
  TableDifferences differences;
};

struct ValidationReport {
  std::vector<TableComparison> tables;
  int mismatches = 0;
  bool ok() const { return mismatches == 0; }
};

// Tables present on one side only are mismatches; a table read on both sides is compared by
// whoever filled `differences` (table_validation); this only merges and names the problem.
ValidationReport compare_tables(const std::vector<TableFingerprint>& source, const std::vector<TableFingerprint>& target);

// The problem text of a compared table ("" when equal).
std::string describe_differences(const TableComparison& table);

// "id = 2" / "region = us, id = 100": a named difference's key values beside their columns.
std::string difference_key_text(const std::vector<std::string>& columns, const KeyValues& values);
// "missing on the target", "extra on the target", "differs".
const char* difference_kind_text(DifferenceKind kind);
// The first `count` named differences: "differs: id = 2; missing on the target: id = 7"
// ("" when none is named).
std::string first_differences(const TableComparison& table, std::size_t count);

}  // namespace m2r
