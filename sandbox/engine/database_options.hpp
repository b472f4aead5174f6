#pragma once
// Database options beyond recovery, row versioning and user access (those are ddl.cpp and
// user_access.hpp): TRUSTWORTHY, DB_CHAINING, Service Broker, COMPATIBILITY_LEVEL, and the
// database scoped configurations (ALTER DATABASE SCOPED CONFIGURATION,
// sys.database_scoped_configurations). All are kept in the database's __m2r_meta, so a backup
// carries them, except what a restore resets: "a database that is attached to an instance of
// SQL Server cannot be immediately trusted" (TRUSTWORTHY property), so a restored database has
// TRUSTWORTHY and DB_CHAINING OFF (reset_on_restore). Setting either needs CONTROL SERVER
// (sysadmin); on an RDS instance nobody has it (RDS "Microsoft SQL Server security": no
// sysadmin, no CONTROL_SERVER), so RDS refuses it to every login.
#include <string>

#include "engine/engine_internal.hpp"
#include "engine/parse_util.hpp"

namespace sandbox::engine {

class SessionImpl;

// ALTER DATABASE db SET TRUSTWORTHY | DB_CHAINING | ENABLE_BROKER | DISABLE_BROKER |
// COMPATIBILITY_LEVEL = n, already past the permission check: false when `t` is none of those.
bool alter_database_option(InstanceImpl& instance, Database& db, const std::string& login, const Tokens& t,
                           ResultSink& sink);
// ALTER DATABASE SCOPED CONFIGURATION SET name = value | DEFAULT, in the session's database.
void alter_scoped_configuration(InstanceImpl& instance, Database& db, const std::string& login, const Tokens& t,
                                ResultSink& sink);
// A restored database's TRUSTWORTHY and DB_CHAINING: OFF.
void reset_on_restore(Database& db);
// The row of sys.databases for `db`: the options above (and compatibility_level when set).
void fill_database_options_row(sqlite3* c, Database& db);
// sys.database_scoped_configurations of the session's database, when `sql` reads it.
void refresh_scoped_configurations(sqlite3* c, Database& db, const std::string& sql);

}  // namespace sandbox::engine
