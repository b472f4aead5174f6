#pragma once
// The sample application's own SQL login (docs/facts.md §15): created on the source with a
// generated password and a user in the sample database (db_datareader, db_datawriter), so that
// the demo shows what a native restore alone does not give: after `mssql2rds logins` the
// application logs in to RDS with its own password and finds every row. The password lives in
// this process's memory only: never printed, logged, journaled or put in a process's arguments.
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "mssql/connection_string.hpp"
#include "mssql/secret.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

inline constexpr const char* k_app_login = "sales_app";

struct AppLogin {
  std::string name = k_app_login;
  mssql::Secret password;
};

// Creates the login (CHECK_POLICY on: the generated password meets it) and its user in
// `database`, through `source_master` (a sysadmin session on the source's master).
Expected<AppLogin> create_app_login(mssql::SqlSession& source_master, const std::string& database);

// The migration login's database-level right (docs/facts.md §3: db_owner on the database), given
// by the DBA through `source_master` once the database exists; the world created the login with
// its server-level rights (`world up --migration-login`).
Expected<void> grant_migration_database(mssql::SqlSession& source_master, const std::string& login,
                                        const std::string& database);

struct AppLoginCheck {
  bool rows_equal = false;
  std::int64_t tables = 0;       // tables compared
  std::string first_difference;  // "dbo.Orders: 90 on the source, 0 seen by sales_app on RDS"
};

// Logs in to `target` (its database set) as `app` and compares every table's row count with
// `source_database` (a session on the source's database).
Expected<AppLoginCheck> check_app_login(const mssql::ConnectionSettings& target, const AppLogin& app,
                                        mssql::SqlSession& source_database);

}  // namespace m2r
