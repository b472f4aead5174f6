#pragma once
// Server and database principals (README.md "Logins and users"): SQL and Windows logins and the
// fixed server roles of an instance, kept in master; the users and fixed roles of a database,
// kept in its own file so that they travel with a backup (and come back orphaned on a server
// without their logins). The password hash is SQL Server 2012+'s; authentication, database
// access, and the catalog views and functions over them. The T-SQL that manages them is in
// principal_statements.cpp.
#include <sqlite3.h>

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/api.hpp"
#include "engine/instance_factory.hpp"

namespace sandbox::engine {

class SessionImpl;

// A row of sys.server_principals (and sys.sql_logins for SQL logins).
struct ServerPrincipal {
  int id = 0;
  std::string name;
  std::string sid;  // the raw bytes
  char type = 'S';  // S: SQL login, U: Windows login, R: server role
  bool disabled = false;
  std::string default_database = "master";
  std::string default_language = "us_english";
  std::string password_hash;  // the raw bytes (SQL logins)
  bool policy_checked = false;
  bool expiration_checked = false;
  std::string create_date, modify_date;
};

// SQL Server 2012+'s password hash: 0x0200, a 4-byte salt, SHA-512(UTF-16LE(password) + salt).
std::string hash_password(const std::string& password, const std::string& salt);
// True when `password` hashes to `hash` (the 2012+ form, or 2005-2008's 0x0100 + salt + SHA-1).
bool password_matches(const std::string& hash, const std::string& password);
// A hash given to CREATE LOGIN ... HASHED has one of those two forms.
bool is_valid_password_hash(const std::string& hash);
std::string random_bytes(std::size_t n);
std::string hex_bytes(const std::string& raw);  // "0x..." upper case

// The principals of an instance, in master.sqlite (__m2r_server_principals,
// __m2r_server_role_members), over a connection of its own. Thread-safe.
class PrincipalStore {
 public:
  PrincipalStore(const std::string& master_path, const InstanceConfig& config);
  ~PrincipalStore();
  PrincipalStore(const PrincipalStore&) = delete;
  PrincipalStore& operator=(const PrincipalStore&) = delete;

  std::optional<ServerPrincipal> by_name(const std::string& name);
  std::optional<ServerPrincipal> by_sid(const std::string& sid);
  std::optional<ServerPrincipal> by_id(int id);
  std::vector<ServerPrincipal> all();
  std::vector<std::pair<int, int>> role_members();  // (role, member)
  bool is_member(const std::string& role, const std::string& login);
  bool is_sysadmin(const std::string& login) { return is_member("sysadmin", login); }
  // ALTER ANY LOGIN: sysadmin, securityadmin, and RDS's master user (docs/facts.md §15).
  bool may_alter_any_login(const std::string& login);
  // RDS's master user (InstanceConfig::admin_user on an RDS instance when it is not sa): a
  // member of processadmin and setupadmin with the server permissions RDS documents (ALTER ANY
  // LOGIN, VIEW SERVER STATE, CREATE ANY DATABASE, ...), not sysadmin.
  bool is_rds_master_user(const std::string& login) const;

  // Server permissions (master's __m2r_server_permissions; permissions.hpp/.cpp): state G (grant),
  // W (with grant option), D (deny); set_server_permission with state 0 revokes.
  struct ServerPermission {
    int grantee = 0, grantor = 0;
    std::string permission;
    char state = 'G';
  };
  std::vector<ServerPermission> server_permissions();
  void set_server_permission(int grantee, int grantor, const std::string& permission, char state);

  void insert(ServerPrincipal p);  // the caller has checked names and SIDs
  void update(const ServerPrincipal& p);
  void remove(int id);
  void add_member(int role, int member);
  void drop_member(int role, int member);

  // The login `user` opening a session with `password`, or nullopt with `failure` set: 18456
  // for an unknown login, a wrong password or a Windows login over SQL authentication; 18470
  // for a disabled login.
  std::optional<ServerPrincipal> authenticate(const std::string& user, const std::string& password, Message& failure);

 private:
  void seed();
  std::mutex m_mutex;
  sqlite3* m_db = nullptr;
  InstanceConfig m_config;
};

// A row of sys.database_principals.
struct DatabasePrincipal {
  int id = 0;
  std::string name;
  char type = 'S';  // S: SQL user, U: Windows user, R: database role
  std::string sid;  // raw bytes; empty for a user without a login
  std::string default_schema;
  std::string authentication;  // INSTANCE, NONE, WINDOWS
};

// The database's principal tables with dbo (SID 0x01, sa's), guest (CONNECT only in master and
// msdb, as SQL Server ships them), INFORMATION_SCHEMA, sys and the fixed database roles; on any
// database file, old ones included.
void create_database_principals(sqlite3* c, const std::string& database_name);
std::optional<DatabasePrincipal> database_principal(sqlite3* c, const std::string& name);
std::optional<DatabasePrincipal> database_principal_by_sid(sqlite3* c, const std::string& sid);
bool database_role_member(sqlite3* c, int member, const std::string& role);
// The user `login` is in the database `c` is opened on: dbo for a sysadmin (and for RDS's master
// user in a user database where no user maps to it: RDS makes it the owner of the databases it
// creates and restores, not of master or msdb), the user whose SID is the login's, guest where guest may
// connect; nullopt when the login may not open the database (4060, 916).
std::optional<DatabasePrincipal> database_user_of(sqlite3* c, PrincipalStore& store, const ServerPrincipal& login);

// Catalog views and functions on a session's connection: sys.database_principals and
// sys.database_role_members (views over the database's tables), sys.server_principals,
// sys.sql_logins and sys.server_role_members (filled by refresh_principal_views when a statement
// reads them, as the caller may see them), SUSER_SNAME, SUSER_NAME, SUSER_SID, USER_NAME,
// IS_SRVROLEMEMBER, LOGINPROPERTY.
void create_principal_views(sqlite3* c);
void refresh_principal_views(SessionImpl& session, sqlite3* c, const std::string& sql);
void register_principal_functions(sqlite3* c, SessionImpl* session);

}  // namespace sandbox::engine
