// Server and database principals: storage, the password hash, authentication, database access,
// catalog views and functions (principals.hpp; README.md "Logins and users").
#include "engine/principals.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <cstring>
#include <set>
#include <stdexcept>

#include "engine/hash_functions.hpp"
#include "engine/permissions.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

// principal_id of the fixed server roles, as SQL Server numbers them (sa is 1).
struct FixedRole {
  int id;
  const char* name;
};
constexpr FixedRole k_server_roles[] = {{2, "public"},       {3, "sysadmin"},     {4, "securityadmin"},
                                        {5, "serveradmin"},  {6, "setupadmin"},   {7, "processadmin"},
                                        {8, "diskadmin"},    {9, "dbcreator"},    {10, "bulkadmin"}};
// The fixed database roles and their principal_id.
constexpr FixedRole k_database_roles[] = {{0, "public"},           {16384, "db_owner"},        {16385, "db_accessadmin"},
                                          {16386, "db_securityadmin"}, {16387, "db_ddladmin"}, {16389, "db_backupoperator"},
                                          {16390, "db_datareader"},    {16391, "db_datawriter"}, {16392, "db_denydatareader"},
                                          {16393, "db_denydatawriter"}};
constexpr int k_first_login_id = 256;  // SQL Server numbers new logins from 256 up

void bind_blob(Stmt& s, int i, const std::string& bytes) {
  sqlite3_bind_blob(s.get(), i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

std::string sha(const EVP_MD* md, const std::string& input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

const char* server_type_desc(char t) {
  switch (t) {
    case 'S': return "SQL_LOGIN";
    case 'U': return "WINDOWS_LOGIN";
    case 'G': return "WINDOWS_GROUP";
    default: return "SERVER_ROLE";
  }
}

ServerPrincipal read_principal(const Stmt& s) {
  ServerPrincipal p;
  p.id = static_cast<int>(s.i64(0));
  p.name = s.str(1);
  p.sid = s.str(2);
  const std::string type = s.str(3);
  p.type = type.empty() ? 'S' : type[0];
  p.disabled = s.i64(4) != 0;
  p.default_database = s.str(5);
  p.default_language = s.str(6);
  p.password_hash = s.str(7);
  p.policy_checked = s.i64(8) != 0;
  p.expiration_checked = s.i64(9) != 0;
  p.create_date = s.str(10);
  p.modify_date = s.str(11);
  return p;
}

constexpr const char* k_select =
    "SELECT principal_id, name, sid, type, is_disabled, default_database_name, default_language_name, password_hash,"
    " is_policy_checked, is_expiration_checked, create_date, modify_date FROM __m2r_server_principals";

}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("no random bytes for a salt or a SID");
  }
  return out;
}

std::string hex_bytes(const std::string& raw) {
  static const char* digits = "0123456789ABCDEF";
  std::string out = "0x";
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string hash_password(const std::string& password, const std::string& salt) {
  return std::string("\x02\x00", 2) + salt + sha(EVP_sha512(), utf16le_bytes(password) + salt);
}

bool is_valid_password_hash(const std::string& h) {
  if (h.size() == 2 + 4 + 64 && h[0] == '\x02' && h[1] == '\x00') return true;  // 2012+
  if (h.size() == 2 + 4 + 20 && h[0] == '\x01' && h[1] == '\x00') return true;  // 2005-2008 (SHA-1)
  return false;
}

bool password_matches(const std::string& h, const std::string& password) {
  if (!is_valid_password_hash(h)) return false;
  const std::string salt = h.substr(2, 4);
  const std::string expected = h[0] == '\x02' ? hash_password(password, salt)
                                              : std::string("\x01\x00", 2) + salt + sha(EVP_sha1(), utf16le_bytes(password) + salt);
  return expected.size() == h.size() && CRYPTO_memcmp(expected.data(), h.data(), h.size()) == 0;
}

// ---------------------------------------------------------------------------------------
// The instance's principals.

PrincipalStore::PrincipalStore(const std::string& master_path, const InstanceConfig& config) : m_config(config) {
  m_db = open_connection(master_path);
  exec(m_db,
       "CREATE TABLE IF NOT EXISTS __m2r_server_principals(principal_id INTEGER PRIMARY KEY,"
       " name nvarchar(128) NOT NULL UNIQUE COLLATE NOCASE, sid varbinary(85) UNIQUE, type char(1),"
       " is_disabled bit DEFAULT 0, default_database_name nvarchar(128), default_language_name nvarchar(128),"
       " password_hash varbinary(256), is_policy_checked bit DEFAULT 0, is_expiration_checked bit DEFAULT 0,"
       " create_date datetime, modify_date datetime);"
       "CREATE TABLE IF NOT EXISTS __m2r_server_role_members(role_principal_id int, member_principal_id int,"
       " PRIMARY KEY(role_principal_id, member_principal_id));"
       "CREATE TABLE IF NOT EXISTS __m2r_server_permissions(grantee_principal_id int, grantor_principal_id int,"
       " type char(4), permission_name nvarchar(128), state char(1), PRIMARY KEY(grantee_principal_id, permission_name));");
  seed();
}

PrincipalStore::~PrincipalStore() { sqlite3_close_v2(m_db); }

void PrincipalStore::seed() {
  const std::string now = now_datetime();
  for (const auto& r : k_server_roles) {
    Stmt s(m_db, "INSERT OR IGNORE INTO __m2r_server_principals(principal_id, name, sid, type, create_date, modify_date)"
                 " VALUES(?, ?, ?, 'R', ?, ?)");
    s.bind(1, static_cast<std::int64_t>(r.id)).bind(2, std::string(r.name)).bind(4, now).bind(5, now);
    bind_blob(s, 3, std::string(1, static_cast<char>(r.id)));
    s.step();
  }
  // sa (SID 0x01) and, on RDS, the master user: their password is the instance's configured one,
  // set again at every start so that the world's secret stays the one that opens them.
  auto ensure_admin = [&](const std::string& name, const std::string& sid, const std::vector<std::string>& roles) {
    auto existing = by_name(name);
    if (!existing) {
      ServerPrincipal p;
      p.name = name;
      p.sid = sid.empty() ? random_bytes(16) : sid;
      p.password_hash = hash_password(m_config.sa_password, random_bytes(4));
      p.policy_checked = true;
      if (name == "sa") p.id = 1;
      insert(p);
      existing = by_name(name);
    } else if (!password_matches(existing->password_hash, m_config.sa_password)) {
      existing->password_hash = hash_password(m_config.sa_password, random_bytes(4));
      update(*existing);
    }
    for (const auto& role : roles) add_member(by_name(role)->id, existing->id);
  };
  ensure_admin("sa", std::string(1, '\x01'), {"sysadmin"});
  if (!iequals(m_config.admin_user, "sa") && !m_config.admin_user.empty()) {
    ensure_admin(m_config.admin_user, {},
                 m_config.kind == InstanceKind::rds ? std::vector<std::string>{"processadmin", "setupadmin"}
                                                    : std::vector<std::string>{"sysadmin"});
    if (m_config.kind == InstanceKind::rds) {
      // The server-level permissions the RDS User Guide lists for the master user ("Master user
      // account privileges"); with the grant option, so that it can pass them on to the logins it
      // creates (an inference: RDS documents that the master user manages logins).
      const int master = by_name(m_config.admin_user)->id;
      for (const char* p : {"ALTER ANY CONNECTION", "ALTER ANY LINKED SERVER", "ALTER ANY LOGIN", "ALTER SERVER STATE",
                            "ALTER TRACE", "CONNECT SQL", "CREATE ANY DATABASE", "VIEW ANY DATABASE", "VIEW ANY DEFINITION",
                            "VIEW SERVER STATE"}) {
        set_server_permission(master, 1, p, 'W');
      }
    }
  }
}

std::optional<ServerPrincipal> PrincipalStore::by_name(const std::string& name) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, std::string(k_select) + " WHERE name = ? COLLATE NOCASE");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_principal(s);
}

std::optional<ServerPrincipal> PrincipalStore::by_sid(const std::string& sid) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, std::string(k_select) + " WHERE sid = ?");
  bind_blob(s, 1, sid);
  if (!s.step()) return std::nullopt;
  return read_principal(s);
}

std::optional<ServerPrincipal> PrincipalStore::by_id(int id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, std::string(k_select) + " WHERE principal_id = ?");
  s.bind(1, static_cast<std::int64_t>(id));
  if (!s.step()) return std::nullopt;
  return read_principal(s);
}

std::vector<ServerPrincipal> PrincipalStore::all() {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, std::string(k_select) + " ORDER BY principal_id");
  std::vector<ServerPrincipal> out;
  while (s.step()) out.push_back(read_principal(s));
  return out;
}

std::vector<std::pair<int, int>> PrincipalStore::role_members() {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "SELECT role_principal_id, member_principal_id FROM __m2r_server_role_members ORDER BY 1, 2");
  std::vector<std::pair<int, int>> out;
  while (s.step()) out.emplace_back(static_cast<int>(s.i64(0)), static_cast<int>(s.i64(1)));
  return out;
}

bool PrincipalStore::is_member(const std::string& role, const std::string& login) {
  if (iequals(role, "public")) return by_name(login).has_value();
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "SELECT 1 FROM __m2r_server_role_members m JOIN __m2r_server_principals r ON r.principal_id = m.role_principal_id"
               " JOIN __m2r_server_principals l ON l.principal_id = m.member_principal_id"
               " WHERE r.name = ? COLLATE NOCASE AND l.name = ? COLLATE NOCASE");
  s.bind(1, role).bind(2, login);
  return s.step();
}

bool PrincipalStore::is_rds_master_user(const std::string& login) const {
  return m_config.kind == InstanceKind::rds && !iequals(m_config.admin_user, "sa") && iequals(login, m_config.admin_user);
}

bool PrincipalStore::may_alter_any_login(const std::string& login) {
  return is_sysadmin(login) || is_member("securityadmin", login) || is_rds_master_user(login);
}

void PrincipalStore::insert(ServerPrincipal p) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (p.id == 0) {
    p.id = static_cast<int>(std::max<std::int64_t>(
        k_first_login_id, query_int(m_db, "SELECT MAX(principal_id) + 1 FROM __m2r_server_principals", k_first_login_id)));
  }
  const std::string now = now_datetime();
  Stmt s(m_db, "INSERT INTO __m2r_server_principals(principal_id, name, sid, type, is_disabled, default_database_name,"
               " default_language_name, password_hash, is_policy_checked, is_expiration_checked, create_date, modify_date)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, static_cast<std::int64_t>(p.id)).bind(2, p.name).bind(4, std::string(1, p.type))
      .bind(5, static_cast<std::int64_t>(p.disabled)).bind(6, p.default_database).bind(7, p.default_language)
      .bind(9, static_cast<std::int64_t>(p.policy_checked)).bind(10, static_cast<std::int64_t>(p.expiration_checked))
      .bind(11, now).bind(12, now);
  bind_blob(s, 3, p.sid);
  if (p.type == 'S') bind_blob(s, 8, p.password_hash);
  s.step();
}

void PrincipalStore::update(const ServerPrincipal& p) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "UPDATE __m2r_server_principals SET name = ?, is_disabled = ?, default_database_name = ?,"
               " default_language_name = ?, password_hash = ?, is_policy_checked = ?, is_expiration_checked = ?,"
               " modify_date = ? WHERE principal_id = ?");
  s.bind(1, p.name).bind(2, static_cast<std::int64_t>(p.disabled)).bind(3, p.default_database).bind(4, p.default_language)
      .bind(6, static_cast<std::int64_t>(p.policy_checked)).bind(7, static_cast<std::int64_t>(p.expiration_checked))
      .bind(8, now_datetime()).bind(9, static_cast<std::int64_t>(p.id));
  bind_blob(s, 5, p.password_hash);
  s.step();
}

void PrincipalStore::remove(int id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt d(m_db, "DELETE FROM __m2r_server_role_members WHERE member_principal_id = ?");
  d.bind(1, static_cast<std::int64_t>(id));
  d.step();
  Stmt s(m_db, "DELETE FROM __m2r_server_principals WHERE principal_id = ?");
  s.bind(1, static_cast<std::int64_t>(id));
  s.step();
}

void PrincipalStore::add_member(int role, int member) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "INSERT OR IGNORE INTO __m2r_server_role_members VALUES(?, ?)");
  s.bind(1, static_cast<std::int64_t>(role)).bind(2, static_cast<std::int64_t>(member));
  s.step();
}

void PrincipalStore::drop_member(int role, int member) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Stmt s(m_db, "DELETE FROM __m2r_server_role_members WHERE role_principal_id = ? AND member_principal_id = ?");
  s.bind(1, static_cast<std::int64_t>(role)).bind(2, static_cast<std::int64_t>(member));
  s.step();
}

std::optional<ServerPrincipal> PrincipalStore::authenticate(const std::string& user, const std::string& password,
                                                            Message& failure) {
  failure.number = 18456;
  failure.severity = 14;
  failure.state = 1;
  failure.text = "Login failed for user '" + user + "'.";
  auto p = by_name(user);
  // A Windows login cannot authenticate with a password (SQL Server authentication).
  if (!p || p->type != 'S' || !password_matches(p->password_hash, password)) return std::nullopt;
  if (p->disabled) {
    failure.number = 18470;
    failure.text = "Login failed for user '" + user + "'. Reason: The account is disabled.";
    return std::nullopt;
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// Database principals.

void create_database_principals(sqlite3* c, const std::string& database_name) {
  exec(c,
       "CREATE TABLE IF NOT EXISTS __m2r_database_principals(principal_id INTEGER PRIMARY KEY,"
       " name nvarchar(128) NOT NULL UNIQUE COLLATE NOCASE, type char(1), type_desc nvarchar(60),"
       " default_schema_name nvarchar(128), create_date datetime, modify_date datetime, owning_principal_id int,"
       " sid varbinary(85), is_fixed_role bit, authentication_type int, authentication_type_desc nvarchar(60),"
       " has_dbaccess bit DEFAULT 1);"
       "CREATE TABLE IF NOT EXISTS __m2r_database_role_members(role_principal_id int, member_principal_id int,"
       " PRIMARY KEY(role_principal_id, member_principal_id));");
  create_permission_tables(c);  // permissions.hpp: they travel with the file too
  if (query_int(c, "SELECT COUNT(*) FROM __m2r_database_principals") > 0) return;
  const std::string now = now_datetime();
  // guest may connect to master and msdb only (SQL Server's defaults; tempdb too, not a file here).
  const bool guest = iequals(database_name, "master") || iequals(database_name, "msdb");
  Stmt u(c, "INSERT INTO __m2r_database_principals(principal_id, name, type, type_desc, default_schema_name, create_date,"
            " modify_date, owning_principal_id, sid, is_fixed_role, authentication_type, authentication_type_desc, has_dbaccess)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto add = [&](int id, const std::string& name, char type, const std::string& schema, const std::string& sid, int auth,
                 bool access) {
    u.reset();
    u.bind(1, static_cast<std::int64_t>(id)).bind(2, name).bind(3, std::string(1, type))
        .bind(4, std::string(type == 'R' ? "DATABASE_ROLE" : "SQL_USER")).bind(6, now).bind(7, now)
        .bind(10, static_cast<std::int64_t>(type == 'R' && id != 0))
        .bind(11, static_cast<std::int64_t>(auth)).bind(12, std::string(auth == 1 ? "INSTANCE" : "NONE"))
        .bind(13, static_cast<std::int64_t>(access));
    if (schema.empty()) u.bind_null(5);
    else u.bind(5, schema);
    if (type == 'R') u.bind(8, static_cast<std::int64_t>(1));
    else u.bind_null(8);
    if (sid.empty()) u.bind_null(9);
    else bind_blob(u, 9, sid);
    u.step();
  };
  add(1, "dbo", 'S', "dbo", std::string(1, '\x01'), 1, true);
  add(2, "guest", 'S', "guest", std::string(1, '\x00'), 0, guest);
  add(3, "INFORMATION_SCHEMA", 'S', "", "", 0, false);
  add(4, "sys", 'S', "", "", 0, false);
  for (const auto& r : k_database_roles) add(r.id, r.name, 'R', "", "", 0, false);
  exec(c, "INSERT INTO __m2r_database_role_members VALUES(16384, 1)");  // dbo is db_owner
}

namespace {

constexpr const char* k_select_user =
    "SELECT principal_id, name, type, sid, default_schema_name, authentication_type_desc FROM main.__m2r_database_principals";

DatabasePrincipal read_user(const Stmt& s) {
  DatabasePrincipal p;
  p.id = static_cast<int>(s.i64(0));
  p.name = s.str(1);
  const std::string t = s.str(2);
  p.type = t.empty() ? 'S' : t[0];
  p.sid = s.str(3);
  p.default_schema = s.str(4);
  p.authentication = s.str(5);
  return p;
}

}  // namespace

std::optional<DatabasePrincipal> database_principal(sqlite3* c, const std::string& name) {
  Stmt s(c, std::string(k_select_user) + " WHERE name = ? COLLATE NOCASE");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

std::optional<DatabasePrincipal> database_principal_by_sid(sqlite3* c, const std::string& sid) {
  Stmt s(c, std::string(k_select_user) + " WHERE sid = ? AND type IN ('S', 'U', 'G') AND has_dbaccess = 1");
  bind_blob(s, 1, sid);
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

bool database_role_member(sqlite3* c, int member, const std::string& role) {
  if (iequals(role, "public")) return true;
  Stmt s(c, "SELECT 1 FROM main.__m2r_database_role_members m JOIN main.__m2r_database_principals r"
            " ON r.principal_id = m.role_principal_id WHERE m.member_principal_id = ? AND r.name = ? COLLATE NOCASE");
  s.bind(1, static_cast<std::int64_t>(member)).bind(2, role);
  return s.step();
}

namespace {
// master and msdb (data_dir/master.sqlite, msdb.sqlite): where RDS's master user is not dbo.
bool is_system_database(sqlite3* c) {
  const char* f = sqlite3_db_filename(c, "main");
  const std::string stem = f ? std::filesystem::path(f).stem().string() : std::string();
  return stem == "master" || stem == "msdb";
}
}  // namespace

std::optional<DatabasePrincipal> database_user_of(sqlite3* c, PrincipalStore& store, const ServerPrincipal& login) {
  if (store.is_sysadmin(login.name)) return database_principal(c, "dbo");  // a sysadmin is dbo everywhere
  if (auto u = database_principal_by_sid(c, login.sid)) return u;
  if (store.is_rds_master_user(login.name) && !is_system_database(c)) return database_principal(c, "dbo");
  Stmt g(c, "SELECT 1 FROM main.__m2r_database_principals WHERE name = 'guest' AND has_dbaccess = 1");
  if (g.step()) return database_principal(c, "guest");
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Catalog views and functions.

void create_principal_views(sqlite3* c) {
  exec(c,
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.database_principals\" AS SELECT name, principal_id, type, type_desc,"
       " default_schema_name, create_date, modify_date, owning_principal_id, sid, is_fixed_role, authentication_type,"
       " authentication_type_desc FROM main.__m2r_database_principals;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.database_role_members\" AS SELECT role_principal_id, member_principal_id"
       " FROM main.__m2r_database_role_members;"
       // Filled from the instance's principals before each statement that reads them.
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.server_principals\"(name nvarchar(128), principal_id int, sid varbinary(85),"
       " type char(1), type_desc nvarchar(60), is_disabled bit, create_date datetime, modify_date datetime,"
       " default_database_name nvarchar(128), default_language_name nvarchar(128), credential_id int,"
       " owning_principal_id int, is_fixed_role bit);"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.sql_logins\"(name nvarchar(128), principal_id int, sid varbinary(85),"
       " type char(1), type_desc nvarchar(60), is_disabled bit, create_date datetime, modify_date datetime,"
       " default_database_name nvarchar(128), default_language_name nvarchar(128), credential_id int,"
       " is_policy_checked bit, is_expiration_checked bit, password_hash varbinary(256));"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.server_role_members\"(role_principal_id int, member_principal_id int);");
  create_permission_views(c);
}

void refresh_principal_views(SessionImpl& session, sqlite3* c, const std::string& sql) {
  refresh_permission_views(session, c, sql);
  const bool principals = sql.find("\"sys.server_principals\"") != std::string::npos;
  const bool logins = sql.find("\"sys.sql_logins\"") != std::string::npos;
  const bool members = sql.find("\"sys.server_role_members\"") != std::string::npos;
  if (!principals && !logins && !members) return;
  PrincipalStore& store = session.instance().principals();
  const std::string me = session.login_name();
  // Without ALTER ANY LOGIN (or VIEW ANY DEFINITION) a login sees itself, sa and the fixed roles;
  // password_hash needs CONTROL SERVER (sysadmin here) — the documented visibility.
  const bool sees_all = store.may_alter_any_login(me);
  const bool sees_hashes = store.is_sysadmin(me);
  exec(c, "DELETE FROM temp.\"sys.server_principals\"; DELETE FROM temp.\"sys.sql_logins\";"
          " DELETE FROM temp.\"sys.server_role_members\";");
  Stmt sp(c, "INSERT INTO temp.\"sys.server_principals\" VALUES(?,?,?,?,?,?,?,?,?,?,NULL,?,?)");
  Stmt sl(c, "INSERT INTO temp.\"sys.sql_logins\" VALUES(?,?,?,?,?,?,?,?,?,?,NULL,?,?,?)");
  std::set<int> visible;
  for (const auto& p : store.all()) {
    if (!sees_all && p.type != 'R' && !iequals(p.name, me) && p.id != 1) continue;
    visible.insert(p.id);
    for (Stmt* s : {&sp, &sl}) {
      if (s == &sl && p.type != 'S') continue;
      s->reset();
      s->bind(1, p.name).bind(2, static_cast<std::int64_t>(p.id)).bind(4, std::string(1, p.type))
          .bind(5, std::string(server_type_desc(p.type))).bind(6, static_cast<std::int64_t>(p.disabled))
          .bind(7, p.create_date).bind(8, p.modify_date);
      bind_blob(*s, 3, p.sid);
      if (p.type == 'R') s->bind_null(9).bind_null(10);
      else s->bind(9, p.default_database).bind(10, p.default_language);
      if (s == &sp) {
        if (p.type == 'R') s->bind(11, static_cast<std::int64_t>(1));
        else s->bind_null(11);
        s->bind(12, static_cast<std::int64_t>(p.type == 'R' && p.id != 2));
      } else {
        s->bind(11, static_cast<std::int64_t>(p.policy_checked)).bind(12, static_cast<std::int64_t>(p.expiration_checked));
        if (sees_hashes) bind_blob(*s, 13, p.password_hash);
        else s->bind_null(13);
      }
      s->step();
    }
  }
  Stmt rm(c, "INSERT INTO temp.\"sys.server_role_members\" VALUES(?, ?)");
  for (const auto& [role, member] : store.role_members()) {
    if (!visible.count(member)) continue;
    rm.reset();
    rm.bind(1, static_cast<std::int64_t>(role)).bind(2, static_cast<std::int64_t>(member));
    rm.step();
  }
}

namespace {

SessionImpl* session_of(sqlite3_context* ctx) { return static_cast<SessionImpl*>(sqlite3_user_data(ctx)); }

std::string arg(sqlite3_value* v) {
  const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string();
}

void result_text(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}
void result_blob(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_blob(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::optional<ServerPrincipal> me(sqlite3_context* ctx) {
  SessionImpl* s = session_of(ctx);
  return s->instance().principals().by_name(s->login_name());
}

// SUSER_SNAME([sid]), SUSER_NAME([principal_id]): the session's login, or the one named.
void fn_suser_sname(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto& store = session_of(ctx)->instance().principals();
  std::optional<ServerPrincipal> p;
  if (argc == 0) p = me(ctx);
  else if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  else if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER) p = store.by_id(static_cast<int>(sqlite3_value_int64(argv[0])));
  else p = store.by_sid(arg(argv[0]));
  if (p) result_text(ctx, p->name);
  else sqlite3_result_null(ctx);
}

// SUSER_SID(['login']).
void fn_suser_sid(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto p = argc == 0 ? me(ctx) : session_of(ctx)->instance().principals().by_name(arg(argv[0]));
  if (p) result_blob(ctx, p->sid);
  else sqlite3_result_null(ctx);
}

// USER_NAME([id]): the session's user in the current database, or the principal with that id.
void fn_user_name(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* c = sqlite3_context_db_handle(ctx);
  std::optional<DatabasePrincipal> u;
  if (argc == 0) {
    if (auto login = me(ctx)) u = database_user_of(c, session_of(ctx)->instance().principals(), *login);
  } else if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    Stmt s(c, std::string(k_select_user) + " WHERE principal_id = ?");
    s.bind(1, static_cast<std::int64_t>(sqlite3_value_int64(argv[0])));
    if (s.step()) u = read_user(s);
  }
  if (u) result_text(ctx, u->name);
  else sqlite3_result_null(ctx);
}

// IS_SRVROLEMEMBER('role' [, 'login']): 1, 0, or NULL for a role that does not exist.
void fn_is_srvrolemember(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto& store = session_of(ctx)->instance().principals();
  const std::string role = arg(argv[0]);
  auto r = store.by_name(role);
  if (!r || r->type != 'R') return sqlite3_result_null(ctx);
  const std::string login = argc > 1 ? arg(argv[1]) : session_of(ctx)->login_name();
  if (!store.by_name(login)) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, store.is_member(role, login) ? 1 : 0);
}

// LOGINPROPERTY('login', 'PasswordHash' | 'IsLocked' | 'IsExpired' | 'IsMustChange' | 'PasswordHashAlgorithm').
void fn_loginproperty(sqlite3_context* ctx, int, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  auto& store = s->instance().principals();
  auto p = store.by_name(arg(argv[0]));
  if (!p || p->type != 'S') return sqlite3_result_null(ctx);
  const std::string prop = upper(arg(argv[1]));
  if (prop == "PASSWORDHASH") {
    if (!store.is_sysadmin(s->login_name())) return sqlite3_result_null(ctx);  // needs CONTROL SERVER
    return result_blob(ctx, p->password_hash);
  }
  if (prop == "PASSWORDHASHALGORITHM") return sqlite3_result_int(ctx, p->password_hash.size() > 1 && p->password_hash[0] == '\x02' ? 2 : 1);
  if (prop == "ISLOCKED" || prop == "ISEXPIRED" || prop == "ISMUSTCHANGE") return sqlite3_result_int(ctx, 0);
  sqlite3_result_null(ctx);
}

}  // namespace

void register_principal_functions(sqlite3* c, SessionImpl* session) {
  struct F {
    const char* name;
    int argc;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  static const F fns[] = {
      {"m2r_suser_sname", 0, fn_suser_sname}, {"m2r_suser_sname", 1, fn_suser_sname},
      {"m2r_suser_sid", 0, fn_suser_sid},     {"m2r_suser_sid", 1, fn_suser_sid},
      {"m2r_user_name", 0, fn_user_name},     {"m2r_user_name", 1, fn_user_name},
      {"m2r_is_srvrolemember", 1, fn_is_srvrolemember}, {"m2r_is_srvrolemember", 2, fn_is_srvrolemember},
      {"m2r_loginproperty", 2, fn_loginproperty},
  };
  for (const F& f : fns) sqlite3_create_function_v2(c, f.name, f.argc, SQLITE_UTF8, session, f.fn, nullptr, nullptr, nullptr);
  register_permission_functions(c, session);
}

}  // namespace sandbox::engine
