#pragma once
// After cutover the target must hold what the source holds beyond rows: every table, view,
// procedure, function, trigger and foreign key (a native restore brings them all; a missing
// one means the wrong backup was restored or someone changed the target), with the triggers
// enabled and the foreign keys trusted as on the source.
#include <string>
#include <vector>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct SchemaComparison {
  int source_objects = 0;                        // of the types compared
  std::vector<std::string> missing_on_target;    // "dbo.CustomerTotals (V)"
  std::vector<std::string> disabled_on_target;   // triggers disabled on the target, enabled on the source
  std::vector<std::string> untrusted_on_target;  // foreign keys not trusted (or disabled) on the target only
  bool ok() const { return missing_on_target.empty() && disabled_on_target.empty() && untrusted_on_target.empty(); }
  std::string summary() const;
};

// The statements compare_schemas runs on each side, for `cutover --dry-run`.
std::vector<std::string> schema_comparison_queries();

Expected<SchemaComparison> compare_schemas(mssql::SqlSession& source, mssql::SqlSession& target);

}  // namespace m2r
