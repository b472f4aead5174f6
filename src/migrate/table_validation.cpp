#include "migrate/table_validation.hpp"

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

Expected<std::vector<TableFingerprint>> fingerprint_tables(mssql::SqlSession& db, const StopSignal* stop) {
  const auto cancel = on_stop(stop, [&db] { db.cancel(); });
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  const auto tables = M2R_TRY(db.query(tsql::list_user_tables(), {}, read));
  std::vector<TableFingerprint> out;
  for (std::size_t i = 0; i < tables.rows().size(); ++i) {
    if (stop_requested(stop)) {
      return tl::unexpected(interrupted_error(
          fmt::format("validation stopped after {} of {} tables; it only reads, nothing was changed", i,
                      tables.rows().size()),
          "run `mssql2rds validate` again"));
    }
    const tsql::TableName name{M2R_TRY(tables.first().value(i, "schema_name")).to_text(),
                               M2R_TRY(tables.first().value(i, "table_name")).to_text()};
    TableFingerprint f;
    f.table = name.display();
    auto r = db.query(tsql::table_count_and_checksum(name), {}, read);
    if (!r) {
      f.error = r.error().message;
    } else if (!r->rows().empty()) {
      f.rows = M2R_TRY(r->rows().front()[0].as_int64());
      if (!r->rows().front()[1].is_null()) f.checksum = M2R_TRY(r->rows().front()[1].as_int64());
    }
    if (stop_requested(stop)) continue;  // a cancelled count is not a difference: reported above
    out.push_back(f);
  }
  if (stop_requested(stop)) {
    return tl::unexpected(interrupted_error("validation stopped during the last table; it only reads, nothing was changed",
                                            "run `mssql2rds validate` again"));
  }
  return out;
}

Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target,
                                              const StopSignal* stop) {
  const auto s = M2R_TRY(fingerprint_tables(source, stop));
  const auto t = M2R_TRY(fingerprint_tables(target, stop));
  return compare_tables(s, t);
}

}  // namespace m2r
