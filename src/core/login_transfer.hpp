#pragma once
// Logins after a native restore (docs/facts.md §15): the restore brings the database's users
// but not the server's logins, so every user whose login is missing on RDS is orphaned and
// the application's login fails (18456). From the source's users, the source's logins they map
// to (by SID) and what the target already has, this plans what makes the target usable: SQL
// logins created with the same SID and password hash (KB 918992: `CREATE LOGIN ... WITH PASSWORD
// = 0x... HASHED, SID = 0x...`, so the password and the user mapping both survive), users remapped
// where a login of the same name but another SID exists (`ALTER USER ... WITH LOGIN`), server
// roles granted where the RDS master user may grant them; and names what it cannot do, each with
// the fix (Windows logins, a hash it cannot read, roles RDS keeps to itself). Pure logic.
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace m2r {

// A database user of the source database (sys.database_principals, types S, U, G).
struct DatabaseUser {
  std::string name;
  char type = 'S';      // S: SQL user, U: Windows user, G: Windows group
  std::string sid_hex;  // "0x..."; empty for a user without a login (WITHOUT LOGIN, authentication NONE)
  std::string authentication;  // authentication_type_desc: INSTANCE, NONE, WINDOWS, DATABASE
};

// A server login (sys.server_principals, sys.sql_logins).
struct ServerLogin {
  std::string name;
  char type = 'S';  // S: SQL login, U: Windows login, G: Windows group
  std::string sid_hex;
  // sys.sql_logins.password_hash; nullopt when the reader may not see it (it needs CONTROL SERVER).
  std::optional<std::string> password_hash_hex;
  std::string default_database = "master";
  std::string default_language;
  bool policy_checked = false;
  bool expiration_checked = false;
  bool disabled = false;
  std::vector<std::string> server_roles;  // fixed server roles it is a member of (not public)
};

enum class LoginActionKind { create_login, disable_login, remap_user, grant_server_role };

struct LoginAction {
  LoginActionKind kind;
  std::string login;
  std::string user;  // remap_user
  std::string role;  // grant_server_role
  std::string sql;   // what runs; carries the password hash: never logged or journaled
  std::string shown_sql;  // what is printed: the hash replaced by its length
};

enum class LoginIssueKind {
  windows_login,        // RDS needs AWS Managed Microsoft AD for it
  hash_unreadable,      // password_hash needs CONTROL SERVER on the source
  role_not_grantable,   // a server role the RDS master user may not grant (sysadmin, ...)
  orphaned_on_source,   // the user maps to no login on the source either
  name_taken,           // the target has a login of that name with another SID: the user is remapped to it
  default_database,     // the login's default database is not migrated: master on RDS
};

struct LoginIssue {
  LoginIssueKind kind;
  std::string principal;  // the login or user it is about
  std::string detail;
  std::string fix;
  bool blocks = false;  // the login cannot be carried until it is fixed
};

struct LoginPlan {
  std::vector<LoginAction> actions;  // in order
  std::vector<LoginIssue> issues;
  std::vector<std::string> already_present;  // logins the target has with the same SID
  bool blocked() const;
};

struct LoginTransferInput {
  std::string source_database;
  std::string target_database;
  std::vector<DatabaseUser> users;           // of the source database
  std::vector<ServerLogin> source_logins;    // of the source server
  std::vector<ServerLogin> target_logins;    // of the RDS instance (name and SID suffice)
  std::set<std::string> grantable_roles;     // fixed server roles the RDS master user is a member of
};

LoginPlan plan_login_transfer(const LoginTransferInput& input);

// `check`'s item source.logins: the logins the database's users map to, before anything runs.
// PASS naming the SQL logins `mssql2rds logins --yes` will carry after the restore (or none);
// WARN with the first fix when one cannot be carried as things stand (a Windows login, a hash
// the source login may not read, a role RDS keeps to itself, a user orphaned already).
struct CheckResult;
CheckResult evaluate_logins(const LoginPlan& plan);

// A principal's name as compared: case-insensitive, as under a server's default collation
// (logins, roles and SIDs in hex).
std::string principal_key(std::string name);

// The documented orphan query, for the restored database: SQL users whose SID has no server login.
std::string orphaned_users_query();

}  // namespace m2r
