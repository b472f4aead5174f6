#pragma once
// Source against target, table by table: row counts and checksums (validate, cutover).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace m2r {

struct TableFingerprint {
  std::string table;  // schema.table
  std::int64_t rows = 0;
  std::optional<std::int64_t> checksum;  // CHECKSUM_AGG(BINARY_CHECKSUM(*)); NULL on an empty table
  std::string error;  // when the table could not be read on that side
};

struct TableComparison {
  std::string table;
  std::optional<TableFingerprint> source;
  std::optional<TableFingerprint> target;
  bool matches = false;
  std::string problem;  // names what differs
};

struct ValidationReport {
  std::vector<TableComparison> tables;
  int mismatches = 0;
  bool ok() const { return mismatches == 0; }
};

ValidationReport compare_tables(const std::vector<TableFingerprint>& source, const std::vector<TableFingerprint>& target);

}  // namespace m2r
