#include "migrate/logins.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/tsql.hpp"
#include "mssql/error_mapping.hpp"

namespace m2r {

namespace {

constexpr const char* k_step = "logins";

std::string text(const mssql::ResultSet& rs, std::size_t row, const char* column) {
  auto v = rs.value(row, column);
  return v && !v->is_null() ? v->to_text() : "";
}

Expected<std::vector<ServerLogin>> read_logins(mssql::SqlSession& server) {
  const auto logins = M2R_TRY(server.query(tsql::list_server_logins(), {}, {.idempotent = mssql::Idempotent::yes}));
  const auto members = M2R_TRY(server.query(tsql::list_server_role_members(), {}, {.idempotent = mssql::Idempotent::yes}));
  std::map<std::string, std::vector<std::string>> roles;
  for (std::size_t i = 0; i < members.first().rows.size(); ++i)
    roles[principal_key(text(members.first(), i, "member_name"))].push_back(text(members.first(), i, "role_name"));
  std::vector<ServerLogin> out;
  const auto& rs = logins.first();
  for (std::size_t i = 0; i < rs.rows.size(); ++i) {
    ServerLogin l;
    l.name = text(rs, i, "name");
    const std::string type = text(rs, i, "type");
    l.type = type.empty() ? 'S' : type[0];
    l.sid_hex = text(rs, i, "sid");
    const std::string hash = text(rs, i, "password_hash");
    if (!hash.empty()) l.password_hash_hex = hash;
    l.default_database = text(rs, i, "default_database_name");
    l.default_language = text(rs, i, "default_language_name");
    l.disabled = text(rs, i, "is_disabled") == "1";
    l.policy_checked = text(rs, i, "is_policy_checked") == "1";
    l.expiration_checked = text(rs, i, "is_expiration_checked") == "1";
    l.server_roles = roles[principal_key(l.name)];
    out.push_back(std::move(l));
  }
  return out;
}

Expected<std::vector<std::string>> orphaned_users(mssql::SqlSession& target_db) {
  const auto r = M2R_TRY(target_db.query(orphaned_users_query(), {}, {.idempotent = mssql::Idempotent::yes}));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.first().rows.size(); ++i) out.push_back(text(r.first(), i, "user_name"));
  return out;
}

// The restored database on RDS, or nullopt when it does not exist yet (4060 / 911).
Expected<std::unique_ptr<mssql::SqlSession>> open_target_database(Connections& connections, const std::string& db,
                                                                  bool& present) {
  auto session = connections.target(db);
  present = static_cast<bool>(session);
  if (session) return session;
  const auto& e = session.error();
  if (e.message.find("error 4060 ") != std::string::npos || e.message.find("error 911 ") != std::string::npos ||
      e.message.find("Cannot open database") != std::string::npos) {
    return connections.target("master");
  }
  return tl::unexpected(e);
}

// `message` with every occurrence of the action's password hash (any case) replaced.
std::string without_secret(std::string message, const LoginAction& action) {
  const auto at = action.sql.find("PASSWORD = ");
  if (at == std::string::npos) return message;
  const auto start = at + 11;
  const std::string hash = principal_key(action.sql.substr(start, action.sql.find(' ', start) - start));
  if (hash.size() < 4) return message;
  for (auto pos = principal_key(message).find(hash); pos != std::string::npos; pos = principal_key(message).find(hash)) {
    message.replace(pos, hash.size(), "<password hash>");
  }
  return message;
}

}  // namespace

Expected<LoginTransferInput> read_login_facts(const MigrationConfig& config, Connections& connections) {
  LoginTransferInput in;
  in.source_database = config.source.database;
  in.target_database = config.target.database.empty() ? config.source.database : config.target.database;
  auto source = M2R_TRY(connections.source());
  const auto users = M2R_TRY(source->query(tsql::list_database_users(), {}, {.idempotent = mssql::Idempotent::yes}));
  const auto& rs = users.first();
  for (std::size_t i = 0; i < rs.rows.size(); ++i) {
    DatabaseUser u;
    u.name = text(rs, i, "name");
    const std::string type = text(rs, i, "type");
    u.type = type.empty() ? 'S' : type[0];
    u.sid_hex = text(rs, i, "sid");
    u.authentication = text(rs, i, "authentication_type_desc");
    in.users.push_back(std::move(u));
  }
  in.source_logins = M2R_TRY(read_logins(*source));

  auto target = M2R_TRY(connections.target("master"));
  in.target_logins = M2R_TRY(read_logins(*target));
  // A member of a fixed server role may add others to it; a sysadmin to any of them.
  const auto own = M2R_TRY(target->query(tsql::own_server_roles(), {}, {.idempotent = mssql::Idempotent::yes}));
  for (std::size_t i = 0; i < own.first().rows.size(); ++i) in.grantable_roles.insert(principal_key(text(own.first(), i, "role_name")));
  if (in.grantable_roles.count("sysadmin")) {
    for (const char* r : {"securityadmin", "serveradmin", "setupadmin", "processadmin", "diskadmin", "dbcreator", "bulkadmin"})
      in.grantable_roles.insert(r);
  }
  return in;
}

Expected<LoginTransferReport> transfer_logins(const MigrationConfig& config, Connections& connections, Journal* journal,
                                              EventSink& events, const LoginTransferOptions& options) {
  const auto in = M2R_TRY(read_login_facts(config, connections));
  LoginTransferReport report;
  report.plan = plan_login_transfer(in);
  auto say = [&](EventKind kind, const std::string& message, nlohmann::json data = nlohmann::json::object()) {
    events.emit(Event{.kind = kind, .step = k_step, .message = message, .data = std::move(data)});
  };
  for (const auto& name : report.plan.already_present) say(EventKind::info, "login " + name + ": already on RDS with the same SID");
  for (const auto& issue : report.plan.issues)
    say(issue.blocks ? EventKind::warning : EventKind::info, issue.detail + " (fix: " + issue.fix + ")");

  bool present = false;
  auto target_db = M2R_TRY(open_target_database(connections, in.target_database, present));
  report.target_database_present = present;

  if (options.apply) {
    if (!present) {
      return fail(ErrorKind::prerequisite,
                  fmt::format("the database [{}] is not on RDS yet; nothing was changed", in.target_database),
                  "carry the logins once `mssql2rds run` has restored it (status shows the restore done), before the "
                  "cutover: the users it brings then map to the logins by SID");
    }
    if (report.plan.blocked()) {
      return fail(ErrorKind::prerequisite,
                  fmt::format("{} login(s) cannot be carried as the source stands; nothing was changed on RDS",
                              std::count_if(report.plan.issues.begin(), report.plan.issues.end(),
                                            [](const LoginIssue& i) { return i.blocks; })),
                  report.plan.issues.front().fix);
    }
    auto master = M2R_TRY(connections.target("master"));
    for (const auto& action : report.plan.actions) {
      const bool secret = action.kind == LoginActionKind::create_login;
      if (auto done = master->execute(action.sql, {}, {.carries_secret = secret}); !done) {
        // The statement carried a password hash: the error names the login, never the SQL (and
        // a server message quoting it, "Incorrect syntax near ...", loses the hash).
        return fail(done.error().kind,
                    fmt::format("on RDS, for login {}: {}", action.login, without_secret(done.error().message, action)),
                    "fix what the message names and run `mssql2rds logins --yes` again: what is done stays done "
                    "(a login present with its SID is not created twice)");
      }
      report.applied.push_back(action.shown_sql);
      say(EventKind::info, action.shown_sql);
      if (journal) {
        (void)journal->append_event(k_step, "login_carried",
                                    {{"login", action.login}, {"user", action.user}, {"role", action.role},
                                     {"action", action.kind == LoginActionKind::create_login       ? "create_login"
                                                : action.kind == LoginActionKind::disable_login   ? "disable_login"
                                                : action.kind == LoginActionKind::remap_user      ? "remap_user"
                                                                                                  : "grant_server_role"}});
      }
    }
  }

  if (present) {
    report.orphaned_users = M2R_TRY(orphaned_users(*target_db));
    for (const auto& u : report.orphaned_users)
      say(EventKind::warning, fmt::format("user {} of [{}] on RDS maps to no login (orphaned)", u, in.target_database));
  }
  return report;
}

}  // namespace m2r
