#pragma once
// Reads core/database_settings' model from a server: sys.databases for the database, and
// sys.database_scoped_configurations from a session in it.
#include <string>

#include "core/database_settings.hpp"
#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// `session` must be in `database` (the scoped configurations are the current database's). A
// server without sys.database_scoped_configurations (before 2016) gives an empty map.
Expected<DatabaseSettings> read_database_settings(mssql::SqlSession& session, const std::string& database);

}  // namespace m2r
