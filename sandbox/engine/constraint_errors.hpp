#pragma once
// SQL Server's constraint violation messages (2627, 2601, 515, 547) built from SQLite's terse
// "UNIQUE constraint failed: T.c" and the database's catalog (README.md "Types and values").
#include <sqlite3.h>

#include <string>

namespace sandbox::engine {

// The running statement's database name (shown in 515 and 547); set per statement by the
// translator, per thread like the session that runs it.
void set_statement_database(const std::string& name);
// The last row INSERT ... VALUES converted (m2r_assign), column -> value as SQL Server shows
// it in "The duplicate key value is (...)".
void note_assigned_value(const std::string& table, const std::string& column, const std::string& shown);

// Raises the SQL Server error for a SQLite constraint failure on connection `db` running
// `sql`; returns without raising when `extended_code` is not a constraint it maps.
void raise_constraint_error(sqlite3* db, int extended_code, const std::string& sqlite_message, const std::string& sql);

}  // namespace sandbox::engine
