#include "demo/sample_logins.hpp"

#include <random>

#include <fmt/format.h>

#include "core/tsql.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r {

namespace {

// 24 random letters and digits, then "-", a digit, a lower and an upper case letter: three
// character classes whatever the draw, as CHECK_POLICY requires, and nothing to escape.
std::string generate_password() {
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
  std::string p;
  for (int i = 0; i < 24; ++i) p += alphabet[pick(rd)];
  return p + "-7qQ";
}

std::string text_of(const mssql::ResultSet& rs, std::size_t row, const char* column) {
  auto v = rs.value(row, column);
  return v && !v->is_null() ? v->to_text() : "";
}

Expected<std::int64_t> count(mssql::SqlSession& db, const std::string& table) {
  auto r = M2R_TRY(db.query("SELECT COUNT_BIG(*) AS n FROM " + table, {}, {.idempotent = mssql::Idempotent::yes}));
  const auto n = M2R_TRY(r.first().value(0, "n"));
  return n.as_int64();
}

}  // namespace

Expected<AppLogin> create_app_login(mssql::SqlSession& source_master, const std::string& database) {
  AppLogin app;
  app.password = mssql::Secret(generate_password());
  const std::string login = M2R_TRY(tsql::quote_name(app.name));
  const std::string db = M2R_TRY(tsql::quote_name(database));
  // The statement carries the password: the session keeps it out of its log and its errors.
  M2R_TRY(source_master.execute(fmt::format("CREATE LOGIN {} WITH PASSWORD = N'{}', DEFAULT_DATABASE = {}, CHECK_POLICY = ON",
                                            login, app.password.reveal(), db),
                                {}, {.carries_secret = true}));
  M2R_TRY(source_master.execute(fmt::format("USE {}; CREATE USER {} FOR LOGIN {}; ALTER ROLE db_datareader ADD MEMBER {}; "
                                            "ALTER ROLE db_datawriter ADD MEMBER {}; USE master;",
                                            db, login, login, login, login)));
  return app;
}

Expected<void> grant_migration_database(mssql::SqlSession& source_master, const std::string& login,
                                        const std::string& database) {
  const std::string l = M2R_TRY(tsql::quote_name(login));
  const std::string db = M2R_TRY(tsql::quote_name(database));
  M2R_TRY(source_master.execute(
      fmt::format("USE {}; CREATE USER {} FOR LOGIN {}; ALTER ROLE db_owner ADD MEMBER {}; USE master;", db, l, l, l)));
  return {};
}

Expected<AppLoginCheck> check_app_login(const mssql::ConnectionSettings& target, const AppLogin& app,
                                        mssql::SqlSession& source_database) {
  auto settings = target;
  settings.login = app.name;
  auto as_app = M2R_TRY(mssql::OdbcSession::connect(settings, app.password));
  const auto tables = M2R_TRY(source_database.query(
      "SELECT s.name AS schema_name, t.name AS table_name FROM sys.tables AS t JOIN sys.schemas AS s "
      "ON s.schema_id = t.schema_id ORDER BY s.name, t.name",
      {}, {.idempotent = mssql::Idempotent::yes}));
  AppLoginCheck check;
  check.rows_equal = true;
  const auto& rs = tables.first();
  for (std::size_t i = 0; i < rs.rows.size(); ++i) {
    const std::string name =
        M2R_TRY(tsql::quote_name(text_of(rs, i, "schema_name"))) + "." + M2R_TRY(tsql::quote_name(text_of(rs, i, "table_name")));
    const auto on_source = M2R_TRY(count(source_database, name));
    const auto seen = count(*as_app, name);
    ++check.tables;
    if (!seen || *seen != on_source) {
      check.rows_equal = false;
      if (check.first_difference.empty()) {
        check.first_difference = fmt::format("{}: {} on the source, {} seen by {} on RDS", name, on_source,
                                             seen ? std::to_string(*seen) : seen.error().message, app.name);
      }
    }
  }
  return check;
}

}  // namespace m2r
