#include "core/login_transfer.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/checks.hpp"
#include "core/tsql.hpp"

namespace m2r {

namespace {

// QUOTENAME for principal names (a name from the catalog is at most 128 characters; if one is
// not, the bracketed text still cannot break out of the brackets).
std::string quoted(const std::string& name) {
  auto q = tsql::quote_name(name);
  if (q) return *q;
  std::string out = "[";
  for (char c : name) out += c == ']' ? std::string("]]") : std::string(1, c);
  return out + "]";
}

// Principals every database has; the restore brings them and nothing maps them to a login.
bool is_builtin_user(const DatabaseUser& u) {
  return u.name == "dbo" || u.name == "guest" || u.name == "sys" || u.name == "INFORMATION_SCHEMA";
}

const ServerLogin* by_sid(const std::vector<ServerLogin>& logins, const std::string& sid) {
  for (const auto& l : logins)
    if (principal_key(l.sid_hex) == principal_key(sid)) return &l;
  return nullptr;
}

const ServerLogin* by_name(const std::vector<ServerLogin>& logins, const std::string& name) {
  for (const auto& l : logins)
    if (principal_key(l.name) == principal_key(name)) return &l;  // logins compare case-insensitively (server collation)
  return nullptr;
}

std::string create_login_sql(const ServerLogin& login, const std::string& default_database, bool show) {
  const std::string hash = login.password_hash_hex.value_or("");
  const std::string password =
      show ? fmt::format("<password hash of {} bytes, not shown>", hash.size() > 2 ? (hash.size() - 2) / 2 : 0) : hash;
  std::string sql = fmt::format("CREATE LOGIN {} WITH PASSWORD = {} HASHED, SID = {}, DEFAULT_DATABASE = {}", quoted(login.name),
                                password, login.sid_hex, quoted(default_database));
  if (!login.default_language.empty()) sql += ", DEFAULT_LANGUAGE = " + quoted(login.default_language);
  sql += fmt::format(", CHECK_POLICY = {}, CHECK_EXPIRATION = {}", login.policy_checked ? "ON" : "OFF",
                     login.expiration_checked ? "ON" : "OFF");
  return sql;
}

void add(LoginPlan& plan, LoginActionKind kind, const std::string& login, std::string sql, std::string shown = {},
         const std::string& user = {}, const std::string& role = {}) {
  if (shown.empty()) shown = sql;
  plan.actions.push_back(LoginAction{kind, login, user, role, std::move(sql), std::move(shown)});
}

}  // namespace

bool LoginPlan::blocked() const {
  return std::any_of(issues.begin(), issues.end(), [](const LoginIssue& i) { return i.blocks; });
}

LoginPlan plan_login_transfer(const LoginTransferInput& in) {
  LoginPlan plan;
  std::map<std::string, bool> handled;  // source logins already planned (several users may map to one)
  for (const auto& user : in.users) {
    if (is_builtin_user(user) || user.sid_hex.empty() || principal_key(user.authentication) == "none" ||
        principal_key(user.authentication) == "database") {
      continue;  // no login to carry: WITHOUT LOGIN or a contained user
    }
    const ServerLogin* login = by_sid(in.source_logins, user.sid_hex);
    if (!login) {
      plan.issues.push_back({LoginIssueKind::orphaned_on_source, user.name,
                             fmt::format("user {} of [{}] maps to no login on the source either (SID {})", user.name,
                                         in.source_database, user.sid_hex),
                             fmt::format("after the restore: `ALTER USER {} WITH LOGIN = <login>` on RDS, or drop the user",
                                         quoted(user.name)),
                             false});
      continue;
    }
    if (handled.count(principal_key(login->name))) continue;
    handled[principal_key(login->name)] = true;

    if (login->type != 'S') {
      plan.issues.push_back({LoginIssueKind::windows_login, login->name,
                             fmt::format("{} is a Windows {} (user {}): RDS authenticates Windows principals only "
                                         "through AWS Managed Microsoft AD",
                                         login->name, login->type == 'G' ? "group" : "login", user.name),
                             fmt::format("join the RDS instance to AWS Managed Microsoft AD and `CREATE LOGIN {} FROM "
                                         "WINDOWS` there, or give the application a SQL login and `ALTER USER {} WITH "
                                         "LOGIN = <it>`",
                                         quoted(login->name), quoted(user.name)),
                             false});
      continue;
    }
    const ServerLogin* same_sid = by_sid(in.target_logins, login->sid_hex);
    if (same_sid) {
      plan.already_present.push_back(login->name);
    } else if (const ServerLogin* same_name = by_name(in.target_logins, login->name)) {
      plan.issues.push_back(
          {LoginIssueKind::name_taken, login->name,
           fmt::format("RDS already has a login {} with another SID ({}): user {} is remapped to it and keeps that "
                       "login's password, not the source's",
                       login->name, same_name->sid_hex, user.name),
           fmt::format("if the application's password must be the source's: `ALTER LOGIN {} WITH PASSWORD = ...` on RDS",
                       quoted(login->name)),
           false});
      const std::string remap = fmt::format("USE {}; ALTER USER {} WITH LOGIN = {}", quoted(in.target_database),
                                            quoted(user.name), quoted(same_name->name));
      add(plan, LoginActionKind::remap_user, login->name, remap, {}, user.name);
    } else if (!login->password_hash_hex || login->password_hash_hex->size() <= 2) {
      plan.issues.push_back(
          {LoginIssueKind::hash_unreadable, login->name,
           fmt::format("the password hash of SQL login {} cannot be read on the source (sys.sql_logins.password_hash "
                       "needs CONTROL SERVER)",
                       login->name),
           fmt::format("run as a sysadmin login, or `GRANT CONTROL SERVER TO <the source login>`; or create it on RDS "
                       "yourself with its password and `SID = {}` so that user {} maps to it",
                       login->sid_hex, quoted(user.name)),
           true});
      continue;
    } else {
      std::string default_database = "master";
      if (principal_key(login->default_database) == principal_key(in.source_database)) {
        default_database = in.target_database;
      } else if (principal_key(login->default_database) != "master" && !login->default_database.empty()) {
        plan.issues.push_back({LoginIssueKind::default_database, login->name,
                               fmt::format("the default database of {} is [{}], which this migration does not carry: "
                                           "master on RDS",
                                           login->name, login->default_database),
                               fmt::format("`ALTER LOGIN {} WITH DEFAULT_DATABASE = ...` on RDS once it exists",
                                           quoted(login->name)),
                               false});
      }
      add(plan, LoginActionKind::create_login, login->name, create_login_sql(*login, default_database, false),
          create_login_sql(*login, default_database, true));
      if (login->disabled) add(plan, LoginActionKind::disable_login, login->name, "ALTER LOGIN " + quoted(login->name) + " DISABLE");
    }

    for (const auto& role : login->server_roles) {
      if (principal_key(role) == "public") continue;
      if (in.grantable_roles.count(principal_key(role))) {
        add(plan, LoginActionKind::grant_server_role, login->name,
            fmt::format("ALTER SERVER ROLE {} ADD MEMBER {}", quoted(principal_key(role)), quoted(login->name)), {}, {}, role);
      } else {
        plan.issues.push_back({LoginIssueKind::role_not_grantable, login->name,
                               fmt::format("{} is a member of the server role {} on the source; the RDS master user "
                                           "may not grant it",
                                           login->name, role),
                               "grant the permissions the application needs instead (RDS keeps sysadmin and most "
                               "fixed server roles to itself), e.g. `GRANT VIEW SERVER STATE TO " +
                                   quoted(login->name) + "`",
                               false});
      }
    }
  }
  return plan;
}

std::string principal_key(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string orphaned_users_query() {
  return "SELECT dp.name AS user_name, dp.sid AS sid FROM sys.database_principals AS dp "
         "LEFT JOIN sys.server_principals AS sp ON sp.sid = dp.sid "
         "WHERE dp.type = 'S' AND dp.authentication_type_desc = 'INSTANCE' AND sp.sid IS NULL "
         "AND dp.name NOT IN ('dbo', 'guest', 'sys', 'INFORMATION_SCHEMA') ORDER BY dp.name";
}

CheckResult evaluate_logins(const LoginPlan& plan) {
  CheckResult r{"source.logins", "the logins the database's users map to can be carried to RDS", CheckStatus::pass, "", ""};
  std::vector<std::string> carried;
  for (const auto& a : plan.actions) {
    if (a.kind == LoginActionKind::create_login) carried.push_back(a.login);
  }
  std::string names;
  for (const auto& n : carried) names += (names.empty() ? "" : ", ") + n;
  const std::string carried_text =
      carried.empty() ? std::string("no SQL login to create on RDS")
                      : fmt::format("{} SQL login(s) to create on RDS with their SID and password hash after the "
                                    "restore (`mssql2rds logins --yes`): {}",
                                    carried.size(), names);
  if (plan.issues.empty()) {
    r.detail = carried_text + (plan.already_present.empty()
                                   ? ""
                                   : fmt::format("; {} already on RDS with the same SID", plan.already_present.size()));
    return r;
  }
  r.status = CheckStatus::warn;
  std::string issues;
  for (const auto& i : plan.issues) issues += (issues.empty() ? "" : "; ") + i.detail;
  r.detail = carried_text + "; " + issues;
  r.fix = plan.issues.front().fix;
  return r;
}

}  // namespace m2r
