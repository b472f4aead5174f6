// Permissions: storage, the rules of a check, catalog views and functions (permissions.hpp;
// README.md "Permissions").
#include "engine/permissions.hpp"

#include <map>
#include <set>

#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

// sys.database_permissions.type / sys.server_permissions.type codes (learn.microsoft.com
// "sys.database_permissions", "sys.server_permissions").
const std::map<std::string, std::string>& database_types() {
  static const std::map<std::string, std::string> m = {
      {"ALTER", "AL"}, {"ALTER ANY ROLE", "ALRL"}, {"ALTER ANY SCHEMA", "ALSM"}, {"ALTER ANY USER", "ALUS"},
      {"BACKUP DATABASE", "BADB"}, {"BACKUP LOG", "BALO"}, {"CHECKPOINT", "CP"}, {"CONNECT", "CO"}, {"CONTROL", "CL"},
      {"CREATE FUNCTION", "CRFN"}, {"CREATE PROCEDURE", "CRPR"}, {"CREATE SCHEMA", "CRSM"}, {"CREATE TABLE", "CRTB"},
      {"CREATE VIEW", "CRVW"}, {"DELETE", "DL"}, {"EXECUTE", "EX"}, {"INSERT", "IN"}, {"REFERENCES", "RF"},
      {"SELECT", "SL"}, {"SHOWPLAN", "SPLN"}, {"TAKE OWNERSHIP", "TO"}, {"UPDATE", "UP"}, {"VIEW CHANGE TRACKING", "VWCT"},
      {"VIEW DATABASE STATE", "VWDS"}, {"VIEW DEFINITION", "VW"}};
  return m;
}
const std::map<std::string, std::string>& server_types() {
  static const std::map<std::string, std::string> m = {
      {"ADMINISTER BULK OPERATIONS", "ADBO"}, {"ALTER ANY CONNECTION", "ALCO"}, {"ALTER ANY CREDENTIAL", "ALCD"},
      {"ALTER ANY DATABASE", "ALDB"}, {"ALTER ANY ENDPOINT", "ALHE"}, {"ALTER ANY LINKED SERVER", "ALLS"},
      {"ALTER ANY LOGIN", "ALLG"}, {"ALTER ANY SERVER ROLE", "ALSR"}, {"ALTER RESOURCES", "ALRS"},
      {"ALTER SERVER STATE", "ALSS"}, {"ALTER SETTINGS", "ALST"}, {"ALTER TRACE", "ALTR"}, {"AUTHENTICATE SERVER", "AUTH"},
      {"CONNECT SQL", "COSQ"}, {"CONTROL SERVER", "CL"}, {"CREATE ANY DATABASE", "CRDB"}, {"SHUTDOWN", "SHDN"},
      {"VIEW ANY DATABASE", "VWDB"}, {"VIEW ANY DEFINITION", "VWAD"}, {"VIEW SERVER STATE", "VWSS"}};
  return m;
}

// "Permissions of fixed server roles" (learn.microsoft.com, "Server-level roles").
const std::map<std::string, std::vector<std::string>>& server_role_permissions() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"sysadmin", {"CONTROL SERVER"}},
      {"securityadmin", {"ALTER ANY LOGIN"}},
      {"serveradmin", {"ALTER ANY ENDPOINT", "ALTER RESOURCES", "ALTER SERVER STATE", "ALTER SETTINGS", "SHUTDOWN",
                       "VIEW SERVER STATE"}},
      {"setupadmin", {"ALTER ANY LINKED SERVER"}},
      {"processadmin", {"ALTER ANY CONNECTION", "ALTER SERVER STATE"}},
      {"diskadmin", {"ALTER RESOURCES"}},
      {"dbcreator", {"CREATE ANY DATABASE"}},
      {"bulkadmin", {"ADMINISTER BULK OPERATIONS"}},
      {"public", {"VIEW ANY DATABASE", "CONNECT SQL"}}};
  return m;
}

// "Fixed database roles": what each grants (G) or denies (D) on its database.
struct RoleRight {
  char state;
  const char* permission;
};
const std::map<std::string, std::vector<RoleRight>>& database_role_permissions() {
  static const std::map<std::string, std::vector<RoleRight>> m = {
      {"db_owner", {{'G', "CONTROL"}}},
      {"db_datareader", {{'G', "SELECT"}}},
      {"db_datawriter", {{'G', "INSERT"}, {'G', "UPDATE"}, {'G', "DELETE"}}},
      {"db_denydatareader", {{'D', "SELECT"}}},
      {"db_denydatawriter", {{'D', "INSERT"}, {'D', "UPDATE"}, {'D', "DELETE"}}},
      {"db_backupoperator", {{'G', "BACKUP DATABASE"}, {'G', "BACKUP LOG"}, {'G', "CHECKPOINT"}}},
      {"db_ddladmin", {{'G', "CREATE TABLE"}, {'G', "CREATE VIEW"}, {'G', "CREATE PROCEDURE"}, {'G', "CREATE FUNCTION"},
                       {'G', "CREATE SCHEMA"}, {'G', "ALTER ANY SCHEMA"}}},
      {"db_securityadmin", {{'G', "ALTER ANY ROLE"}, {'G', "CREATE SCHEMA"}, {'G', "VIEW DEFINITION"}}},
      {"db_accessadmin", {{'G', "ALTER ANY USER"}, {'G', "CONNECT"}, {'G', "CREATE SCHEMA"}}}};
  return m;
}

struct SystemObject {
  const char* database;  // where it is granted
  const char* schema;
  const char* name;
  int id;
  const char* type;  // sys.objects.type
};
// fn_dblog is granted in master (its permissions, as every system object's, are kept there:
// "DENY System Object Permissions"); msdb's backup history tables and the RDS procedures in msdb.
constexpr SystemObject k_system_objects[] = {
    {"master", "sys", "fn_dblog", -1001, "IF"},
    {"msdb", "dbo", "backupset", -2001, "U"},          {"msdb", "dbo", "backupmediafamily", -2002, "U"},
    {"msdb", "dbo", "backupfile", -2003, "U"},         {"msdb", "dbo", "backupmediaset", -2004, "U"},
    {"msdb", "dbo", "restorehistory", -2005, "U"},
    {"msdb", "dbo", "rds_restore_database", -3001, "P"}, {"msdb", "dbo", "rds_restore_log", -3002, "P"},
    {"msdb", "dbo", "rds_finish_restore", -3003, "P"},   {"msdb", "dbo", "rds_task_status", -3004, "P"},
    {"msdb", "dbo", "rds_cancel_task", -3005, "P"},      {"msdb", "dbo", "rds_drop_database", -3006, "P"},
    {"msdb", "dbo", "rds_backup_database", -3007, "P"},  {"msdb", "dbo", "rds_cdc_enable_db", -3008, "P"},
    {"msdb", "dbo", "rds_cdc_disable_db", -3009, "P"}};

constexpr int k_dbo_schema = 1, k_sys_schema = 4;

// The database principals `user` acts as: itself, public, and the roles it is in (nested too).
std::set<int> principal_set(sqlite3* c, int user) {
  std::set<int> out = {user, 0};
  std::vector<int> todo = {user};
  Stmt s(c, "SELECT role_principal_id FROM main.__m2r_database_role_members WHERE member_principal_id = ?");
  while (!todo.empty()) {
    const int m = todo.back();
    todo.pop_back();
    s.reset();
    s.bind(1, static_cast<std::int64_t>(m));
    while (s.step()) {
      const int r = static_cast<int>(s.i64(0));
      if (out.insert(r).second) todo.push_back(r);
    }
  }
  return out;
}

struct Right {
  SecurableClass cls;
  int major_id;
  std::string permission;
  char state;  // G, W (with grant option), D
};

// Every right the principals hold in the database: their rows, and their fixed roles'.
std::vector<Right> rights_of(sqlite3* c, const std::set<int>& principals) {
  std::vector<Right> out;
  Stmt s(c, "SELECT grantee_principal_id, class, major_id, permission_name, state FROM main.__m2r_database_permissions");
  while (s.step()) {
    if (!principals.count(static_cast<int>(s.i64(0)))) continue;
    const std::string st = s.str(4);
    out.push_back({static_cast<SecurableClass>(s.i64(1)), static_cast<int>(s.i64(2)), s.str(3), st.empty() ? 'G' : st[0]});
  }
  Stmt n(c, "SELECT name FROM main.__m2r_database_principals WHERE principal_id = ? AND type = 'R'");
  for (int p : principals) {
    n.reset();
    n.bind(1, static_cast<std::int64_t>(p));
    if (!n.step()) continue;
    auto it = database_role_permissions().find(lower(n.str(0)));
    if (it == database_role_permissions().end()) continue;
    for (const auto& r : it->second) out.push_back({SecurableClass::database, 0, r.permission, r.state});
  }
  return out;
}

// The (securable, permission) pairs whose holder holds `permission` on `s`: the permission
// itself and CONTROL, on the securable, its schema and its database (the permission hierarchy).
std::vector<std::tuple<SecurableClass, int, std::string>> covering(const Securable& s, const std::string& permission) {
  std::vector<std::tuple<SecurableClass, int, std::string>> out;
  auto both = [&](SecurableClass cls, int id) {
    out.emplace_back(cls, id, permission);
    out.emplace_back(cls, id, "CONTROL");
  };
  if (s.cls == SecurableClass::object) {
    both(SecurableClass::object, s.major_id);
    both(SecurableClass::schema, s.schema_id);
  } else if (s.cls == SecurableClass::schema) {
    both(SecurableClass::schema, s.major_id);
  }
  both(SecurableClass::database, 0);
  return out;
}

bool matches(const Right& r, const std::vector<std::tuple<SecurableClass, int, std::string>>& pairs) {
  for (const auto& [cls, id, perm] : pairs) {
    if (r.cls == cls && r.major_id == id && r.permission == perm) return true;
  }
  return false;
}

}  // namespace

void create_permission_tables(sqlite3* c) {
  exec(c,
       "CREATE TABLE IF NOT EXISTS __m2r_database_permissions(class int, major_id int, minor_id int DEFAULT 0,"
       " grantee_principal_id int, grantor_principal_id int, type char(4), permission_name nvarchar(128), state char(1),"
       " PRIMARY KEY(class, major_id, grantee_principal_id, permission_name))");
}

std::optional<int> system_object_id(const std::string& database, const std::string& schema, const std::string& name) {
  for (const auto& o : k_system_objects) {
    if (iequals(database, o.database) && (schema.empty() || iequals(schema, o.schema)) && iequals(name, o.name)) return o.id;
  }
  return std::nullopt;
}

std::optional<Securable> find_object(sqlite3* c, const std::string& database, const std::string& schema,
                                     const std::string& name) {
  Securable s;
  s.cls = SecurableClass::object;
  s.database = database;
  s.name = name;
  for (const auto& o : k_system_objects) {
    if (iequals(database, o.database) && (schema.empty() || iequals(schema, o.schema)) && iequals(name, o.name)) {
      s.major_id = o.id;
      s.schema = o.schema;
      s.schema_id = iequals(o.schema, "sys") ? k_sys_schema : k_dbo_schema;
      if (s.major_id == -1001) s.database = "mssqlsystemresource";  // where SQL Server's message places it
      return s;
    }
  }
  Stmt q(c, "SELECT o.object_id, o.name, s.schema_id, s.name FROM main.__m2r_objects o JOIN main.__m2r_schemas s"
            " ON s.schema_id = o.schema_id WHERE o.name = ? COLLATE NOCASE AND s.name = ? COLLATE NOCASE"
            " AND o.type IN ('U', 'V', 'P', 'FN', 'IF', 'TF')");
  q.bind(1, name).bind(2, schema.empty() ? std::string("dbo") : schema);
  if (!q.step()) return std::nullopt;
  s.major_id = static_cast<int>(q.i64(0));
  s.name = q.str(1);
  s.schema_id = static_cast<int>(q.i64(2));
  s.schema = q.str(3);
  return s;
}

// ---------------------------------------------------------------------------------------
// Server permissions (in master, beside the logins).

std::vector<PrincipalStore::ServerPermission> PrincipalStore::server_permissions() {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "SELECT grantee_principal_id, grantor_principal_id, permission_name, state FROM __m2r_server_permissions"
               " ORDER BY grantee_principal_id, permission_name");
  std::vector<ServerPermission> out;
  while (s.step()) {
    const std::string st = s.str(3);
    out.push_back({static_cast<int>(s.i64(0)), static_cast<int>(s.i64(1)), s.str(2), st.empty() ? 'G' : st[0]});
  }
  return out;
}

void PrincipalStore::set_server_permission(int grantee, int grantor, const std::string& permission, char state) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (state == 0) {
    Stmt d(m_db, "DELETE FROM __m2r_server_permissions WHERE grantee_principal_id = ? AND permission_name = ?");
    d.bind(1, static_cast<std::int64_t>(grantee)).bind(2, permission);
    d.step();
    return;
  }
  Stmt s(m_db, "INSERT OR REPLACE INTO __m2r_server_permissions(grantee_principal_id, grantor_principal_id, type,"
               " permission_name, state) VALUES(?, ?, ?, ?, ?)");
  auto it = server_types().find(permission);
  s.bind(1, static_cast<std::int64_t>(grantee)).bind(2, static_cast<std::int64_t>(grantor))
      .bind(3, it == server_types().end() ? std::string() : it->second).bind(4, permission).bind(5, std::string(1, state));
  s.step();
}

bool is_server_permission(const std::string& permission) { return server_types().count(permission) > 0; }
bool is_database_permission(const std::string& permission) { return database_types().count(permission) > 0; }
std::string database_permission_type(const std::string& permission) {
  auto it = database_types().find(permission);
  return it == database_types().end() ? std::string() : it->second;
}

bool has_server_permission(PrincipalStore& store, const ServerPrincipal& login, const std::string& permission) {
  if (store.is_sysadmin(login.name)) return true;
  // What covers it: CONTROL SERVER covers every server permission; ALTER SERVER STATE covers
  // VIEW SERVER STATE ("Permissions hierarchy").
  std::set<std::string> covers = {permission, "CONTROL SERVER"};
  if (permission == "VIEW SERVER STATE") covers.insert("ALTER SERVER STATE");
  if (permission == "VIEW ANY DEFINITION" || permission == "VIEW ANY DATABASE") covers.insert("VIEW ANY DEFINITION");
  std::set<int> principals = {login.id, 2};  // the login and public
  for (const auto& [role, member] : store.role_members()) {
    if (member == login.id) principals.insert(role);
  }
  bool granted = false;
  for (const auto& p : store.server_permissions()) {
    if (!principals.count(p.grantee) || !covers.count(p.permission)) continue;
    if (p.state == 'D') return false;
    granted = true;
  }
  if (granted) return true;
  for (int id : principals) {
    auto role = store.by_id(id);
    if (!role || role->type != 'R') continue;
    auto it = server_role_permissions().find(lower(role->name));
    if (it == server_role_permissions().end()) continue;
    for (const auto& p : it->second) {
      if (covers.count(p)) return true;
    }
  }
  return false;
}

bool has_database_permission(sqlite3* c, PrincipalStore& store, const ServerPrincipal& login, const Securable& securable,
                             const std::string& permission) {
  if (store.is_sysadmin(login.name)) return true;
  auto user = database_user_of(c, store, login);
  if (!user) return false;
  if (user->id == 1) return true;  // dbo: no permission checks in its database
  // RDS grants its master user EXECUTE on its msdb procedures (RDS User Guide, "Master user
  // account privileges"; the procedures are the documented way to restore).
  if (securable.cls == SecurableClass::object && securable.major_id <= -3001 && securable.major_id >= -3999 &&
      permission == "EXECUTE" && store.is_rds_master_user(login.name)) {
    return true;
  }
  const auto pairs = covering(securable, permission);
  const auto rights = rights_of(c, principal_set(c, user->id));
  for (const auto& r : rights) {
    if (r.state == 'D' && matches(r, pairs)) return false;  // DENY wins
  }
  for (const auto& r : rights) {
    if (r.state != 'D' && matches(r, pairs)) return true;
  }
  if (permission == "VIEW DEFINITION" && has_server_permission(store, login, "VIEW ANY DEFINITION")) return true;
  return false;
}

void raise_object_denied(const std::string& permission, const Securable& o) {
  raise(229, 14, "The " + permission + " permission was denied on the object '" + o.name + "', database '" + o.database +
                     "', schema '" + o.schema + "'.");
}

// ---------------------------------------------------------------------------------------
// Catalog views and functions.

void create_permission_views(sqlite3* c) {
  exec(c,
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.database_permissions\" AS SELECT class,"
       " CASE class WHEN 0 THEN 'DATABASE' WHEN 1 THEN 'OBJECT_OR_COLUMN' WHEN 3 THEN 'SCHEMA' END AS class_desc,"
       " major_id, minor_id, grantee_principal_id, grantor_principal_id, type, permission_name, state,"
       " CASE state WHEN 'G' THEN 'GRANT' WHEN 'D' THEN 'DENY' WHEN 'W' THEN 'GRANT_WITH_GRANT_OPTION' END AS state_desc"
       " FROM main.__m2r_database_permissions;"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.server_permissions\"(class tinyint, class_desc nvarchar(60), major_id int,"
       " minor_id int, grantee_principal_id int, grantor_principal_id int, type char(4), permission_name nvarchar(128),"
       " state char(1), state_desc nvarchar(60));");
}

void refresh_permission_views(SessionImpl& session, sqlite3* c, const std::string& sql) {
  if (sql.find("\"sys.server_permissions\"") == std::string::npos) return;
  PrincipalStore& store = session.instance().principals();
  auto me = store.by_name(session.login_name());
  // Like sys.server_principals: a login sees its own rows (and public's) unless it may see all.
  const bool sees_all = me && (store.may_alter_any_login(me->name) || has_server_permission(store, *me, "VIEW ANY DEFINITION"));
  exec(c, "DELETE FROM temp.\"sys.server_permissions\"");
  Stmt ins(c, "INSERT INTO temp.\"sys.server_permissions\" VALUES(100, 'SERVER', 0, 0, ?, ?, ?, ?, ?, ?)");
  for (const auto& p : store.server_permissions()) {
    if (!sees_all && (!me || (p.grantee != me->id && p.grantee != 2))) continue;
    auto it = server_types().find(p.permission);
    ins.reset();
    ins.bind(1, static_cast<std::int64_t>(p.grantee)).bind(2, static_cast<std::int64_t>(p.grantor))
        .bind(3, it == server_types().end() ? std::string() : it->second).bind(4, p.permission)
        .bind(5, std::string(1, p.state))
        .bind(6, std::string(p.state == 'D' ? "DENY" : p.state == 'W' ? "GRANT_WITH_GRANT_OPTION" : "GRANT"));
    ins.step();
  }
}

namespace {

SessionImpl* session_of(sqlite3_context* ctx) { return static_cast<SessionImpl*>(sqlite3_user_data(ctx)); }

std::string text_arg(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string();
}

// "a.b.c" with [brackets] or "quotes" around parts, into its parts.
std::vector<std::string> split_name(const std::string& s) {
  std::vector<std::string> parts(1);
  char close = 0;
  for (char ch : s) {
    if (close) {
      if (ch == close) close = 0;
      else parts.back() += ch;
    } else if (ch == '[') {
      close = ']';
    } else if (ch == '"') {
      close = '"';
    } else if (ch == '.') {
      parts.emplace_back();
    } else if (ch != ' ') {
      parts.back() += ch;
    }
  }
  return parts;
}

// Normalizes a permission name: upper case, single spaces.
std::string permission_name(const std::string& s) {
  std::string out;
  for (char ch : upper(s)) {
    if (ch == ' ' || ch == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// HAS_PERMS_BY_NAME(securable, securable_class, permission [, sub_securable, sub_securable_class]):
// 1 or 0 for the caller; NULL when the securable or the class is unknown or the permission does
// not apply to the class (learn.microsoft.com "HAS_PERMS_BY_NAME"). Column permissions (the
// sub-securable) are those of the object.
void fn_has_perms_by_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  SessionImpl* session = session_of(ctx);
  PrincipalStore& store = session->instance().principals();
  auto login = store.by_name(session->login_name());
  if (!login) return sqlite3_result_null(ctx);
  const std::string cls = upper(text_arg(argv[1]));
  const std::string permission = permission_name(text_arg(argv[2]));
  const bool securable_null = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  const std::string securable = text_arg(argv[0]);
  try {
    if (cls == "SERVER" || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
      if (!is_server_permission(permission)) return sqlite3_result_null(ctx);
      return sqlite3_result_int(ctx, has_server_permission(store, *login, permission) ? 1 : 0);
    }
    if (!is_database_permission(permission)) return sqlite3_result_null(ctx);
    if (cls == "DATABASE") {
      const std::string db = securable_null ? session->current_database() : securable;
      if (!session->instance().find(db)) return sqlite3_result_null(ctx);
      Securable s;
      s.database = db;
      return sqlite3_result_int(ctx, has_database_permission(session->connection_for(db), store, *login, s, permission) ? 1 : 0);
    }
    if (cls == "OBJECT" || cls == "SCHEMA") {
      auto parts = split_name(securable);
      std::string db = session->current_database();
      if (cls == "OBJECT" && parts.size() == 3) {
        db = parts[0];
        parts.erase(parts.begin());
      }
      if (!session->instance().find(db)) return sqlite3_result_null(ctx);
      sqlite3* c = session->connection_for(db);
      if (cls == "SCHEMA") {
        if (parts.size() != 1) return sqlite3_result_null(ctx);
        Stmt q(c, "SELECT schema_id, name FROM main.__m2r_schemas WHERE name = ? COLLATE NOCASE");
        q.bind(1, parts[0]);
        if (!q.step()) return sqlite3_result_null(ctx);
        Securable s;
        s.cls = SecurableClass::schema;
        s.major_id = static_cast<int>(q.i64(0));
        s.database = db;
        s.name = q.str(1);
        return sqlite3_result_int(ctx, has_database_permission(c, store, *login, s, permission) ? 1 : 0);
      }
      if (parts.size() > 2) return sqlite3_result_null(ctx);
      const std::string schema = parts.size() == 2 ? parts[0] : std::string();
      // A system object is found in every database and granted in its home (fn_dblog: master).
      if (schema.empty() || iequals(schema, "sys")) {
        if (system_object_id("master", "sys", parts.back())) db = "master", c = session->connection_for("master");
      }
      auto o = find_object(c, db, schema, parts.back());
      if (!o) return sqlite3_result_null(ctx);
      return sqlite3_result_int(ctx, has_database_permission(c, store, *login, *o, permission) ? 1 : 0);
    }
  } catch (const SqlError&) {
    return sqlite3_result_null(ctx);
  }
  sqlite3_result_null(ctx);
}

// IS_ROLEMEMBER('role' [, 'database_principal']): 1, 0, or NULL when the role or the principal is
// not in the current database. A sysadmin (dbo) is a member of db_owner.
void fn_is_rolemember(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  SessionImpl* session = session_of(ctx);
  sqlite3* c = sqlite3_context_db_handle(ctx);
  PrincipalStore& store = session->instance().principals();
  auto role = database_principal(c, text_arg(argv[0]));
  if (!role || role->type != 'R') return sqlite3_result_null(ctx);
  std::optional<DatabasePrincipal> who;
  if (argc > 1) {
    who = database_principal(c, text_arg(argv[1]));
  } else if (auto login = store.by_name(session->login_name())) {
    who = database_user_of(c, store, *login);
  }
  if (!who) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, principal_set(c, who->id).count(role->id) ? 1 : 0);
}

}  // namespace

void register_permission_functions(sqlite3* c, SessionImpl* session) {
  sqlite3_create_function_v2(c, "m2r_has_perms_by_name", 3, SQLITE_UTF8, session, fn_has_perms_by_name, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(c, "m2r_has_perms_by_name", 5, SQLITE_UTF8, session, fn_has_perms_by_name, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(c, "m2r_is_rolemember", 1, SQLITE_UTF8, session, fn_is_rolemember, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(c, "m2r_is_rolemember", 2, SQLITE_UTF8, session, fn_is_rolemember, nullptr, nullptr, nullptr);
}

}  // namespace sandbox::engine
