#include "migrate/database_settings_facts.hpp"

#include <fmt/format.h>

namespace m2r {

namespace {

Expected<bool> flag(const mssql::ResultSet& rs, const char* column) {
  const auto v = M2R_TRY(rs.value(0, column));
  return !v.is_null() && M2R_TRY(v.as_int64()) != 0;
}

Expected<std::string> text(const mssql::ResultSet& rs, std::size_t row, const char* column) {
  const auto v = M2R_TRY(rs.value(row, column));
  return v.is_null() ? std::string() : M2R_TRY(v.as_string());
}

}  // namespace

Expected<DatabaseSettings> read_database_settings(mssql::SqlSession& session, const std::string& database) {
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  const auto r = M2R_TRY(session.query(database_settings::settings_query(), {mssql::SqlParam::nvarchar(database)}, read));
  const auto& rs = r.first();
  if (rs.rows.empty()) {
    return fail(ErrorKind::not_found, fmt::format("no database [{}] on {}", database, session.describe()),
                "check the database name in the configuration");
  }
  DatabaseSettings s;
  s.owner = M2R_TRY(text(rs, 0, "owner"));
  s.trustworthy = M2R_TRY(flag(rs, "is_trustworthy_on"));
  s.db_chaining = M2R_TRY(flag(rs, "is_db_chaining_on"));
  s.broker_enabled = M2R_TRY(flag(rs, "is_broker_enabled"));
  s.compatibility_level = static_cast<int>(M2R_TRY(M2R_TRY(rs.value(0, "compatibility_level")).as_int64()));
  s.collation = M2R_TRY(text(rs, 0, "collation_name"));
  s.read_committed_snapshot = M2R_TRY(flag(rs, "is_read_committed_snapshot_on"));
  s.snapshot_isolation = M2R_TRY(text(rs, 0, "snapshot_isolation_state_desc"));
  // SQL Server 2016 and later; before, the view does not exist (Msg 208) and there is nothing to compare.
  if (const auto scoped = session.query(database_settings::scoped_configurations_query(), {}, read); scoped) {
    const auto& sc = scoped->first();
    for (std::size_t i = 0; i < sc.rows.size(); ++i) {
      s.scoped_configurations[M2R_TRY(text(sc, i, "name"))] = M2R_TRY(text(sc, i, "value"));
    }
  }
  return s;
}

}  // namespace m2r
