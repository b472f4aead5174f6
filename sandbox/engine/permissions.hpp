#pragma once
// Permissions (README.md "Permissions"): what GRANT, DENY and REVOKE record, and the check every
// enforced statement makes. Server permissions live in master (with the logins, principals.hpp);
// database, schema and object permissions in each database's own file, so they travel with a
// backup. The rules, as Microsoft documents them ("Permissions (Database Engine)", "Permissions
// of fixed server roles", "Fixed database roles"):
// - a sysadmin (CONTROL SERVER) passes every check; so does dbo in its database;
// - a permission is held when it, or one that covers it (CONTROL, the same permission on the
//   schema or the database), is granted to the principal, a role it is in, or public, or is
//   implied by a fixed role (db_owner: everything in the database; db_datareader: SELECT; ...);
// - a DENY of it, or of one that covers it, to any of those wins over every GRANT.
#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/principals.hpp"

namespace sandbox::engine {

// sys.database_permissions.class (and sys.server_permissions' 100).
enum class SecurableClass : int { database = 0, object = 1, schema = 3, server = 100 };

// What a check is about: the server, a database, a schema or an object of a database.
struct Securable {
  SecurableClass cls = SecurableClass::database;
  int major_id = 0;       // object_id or schema_id; 0 for the database and the server
  int schema_id = 0;      // an object's schema (for permissions granted on the schema)
  std::string database;   // as the caller named it (messages)
  std::string schema;     // an object's schema name (messages)
  std::string name;       // the object's name (messages)
};

// The database tables behind sys.database_permissions (on any database file, old ones included).
void create_permission_tables(sqlite3* c);

// System objects the product reads that the sandbox keeps outside __m2r_objects (fn_dblog in
// the resource database, msdb's backup history, the RDS procedures): their object_id (negative,
// as SQL Server's system objects), or nullopt. `database` is where they are granted.
std::optional<int> system_object_id(const std::string& database, const std::string& schema, const std::string& name);

// An object of the database `c` is opened on (`database` its name) by schema and name, system
// objects included; nullopt when there is none.
std::optional<Securable> find_object(sqlite3* c, const std::string& database, const std::string& schema,
                                     const std::string& name);

// The permission names GRANT knows at each level (upper case, one space between words), and a
// database permission's sys.database_permissions.type code.
bool is_server_permission(const std::string& permission);
bool is_database_permission(const std::string& permission);
std::string database_permission_type(const std::string& permission);

// Whether `login` holds the server permission `permission` (upper case, words separated by one
// space), through its grants, public's, its fixed server roles, or CONTROL SERVER.
bool has_server_permission(PrincipalStore& store, const ServerPrincipal& login, const std::string& permission);

// Whether `login`, as its user in the database `c` is opened on, holds `permission` on
// `securable` (a database, schema or object of that database). False when the login has no user
// there.
bool has_database_permission(sqlite3* c, PrincipalStore& store, const ServerPrincipal& login, const Securable& securable,
                             const std::string& permission);

// Msg 229: "The %ls permission was denied on the object '%.*ls', database '%.*ls', schema '%.*ls'."
[[noreturn]] void raise_object_denied(const std::string& permission, const Securable& object);

// Catalog views over the permission tables: sys.database_permissions (a view of the database's
// table) and sys.server_permissions (a TEMP table filled by refresh_permission_views from master
// before each statement that reads it, as the caller may see it).
void create_permission_views(sqlite3* c);
class SessionImpl;
void refresh_permission_views(SessionImpl& session, sqlite3* c, const std::string& sql);
// HAS_PERMS_BY_NAME(securable, class, permission [, sub_securable, sub_class]) and
// IS_ROLEMEMBER(role [, user]) on a session's connection.
void register_permission_functions(sqlite3* c, SessionImpl* session);

}  // namespace sandbox::engine
