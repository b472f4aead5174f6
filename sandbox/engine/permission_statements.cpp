// GRANT, DENY and REVOKE (README.md "Permissions"), and the checks the session makes before the
// statements that need a permission: reading and writing tables and views, fn_dblog, msdb's
// backup history, EXECUTE of procedures, BACKUP. Texts as SQL Server words them.
#include "engine/parse_util.hpp"
#include "engine/permissions.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {

namespace {

void done(ResultSink& sink) { sink.done(DoneKind::statement, std::nullopt, false); }

[[noreturn]] void grantor_denied() { raise(4613, 16, "Grantor does not have GRANT permission."); }

// A dotted name at t[i] ([a].b.c); i moves past it.
std::vector<std::string> dotted_name(const Tokens& t, std::size_t& i) {
  std::vector<std::string> parts;
  if (!t[i].is_name()) syntax_near(t, i);
  parts.push_back(t[i++].text);
  while (i + 1 < t.size() && is_sym(t[i], ".") && t[i + 1].is_name()) {
    parts.push_back(t[i + 1].text);
    i += 2;
  }
  return parts;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
  return out;
}

// The object-class permissions (GRANT ... ON OBJECT:: / SCHEMA::).
bool applies_to_objects(const std::string& p) {
  return p == "SELECT" || p == "INSERT" || p == "UPDATE" || p == "DELETE" || p == "EXECUTE" || p == "REFERENCES" ||
         p == "ALTER" || p == "CONTROL" || p == "VIEW DEFINITION" || p == "TAKE OWNERSHIP" || p == "VIEW CHANGE TRACKING";
}

}  // namespace

sqlite3* SessionImpl::connection_for(const std::string& db) { return conn(db); }

bool SessionImpl::do_permission_statement(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  const std::string verb = upper(t[0].text);
  if (verb != "GRANT" && verb != "DENY" && verb != "REVOKE") return false;
  PrincipalStore& store = m_inst.principals();
  auto login = store.by_name(m_user);
  if (!login) raise(15151, 16, "Cannot find the login '" + m_user + "', because it does not exist or you do not have permission.");
  std::size_t i = 1;
  bool option_only = false;  // REVOKE GRANT OPTION FOR
  if (verb == "REVOKE" && t[i].is("GRANT") && t[i + 1].is("OPTION") && t[i + 2].is("FOR")) {
    option_only = true;
    i += 3;
  }
  // The permission list: words up to ON / TO / FROM, separated by commas.
  std::vector<std::string> permissions;
  std::vector<std::size_t> permission_at;
  std::string current;
  std::size_t current_at = i;
  for (;; ++i) {
    const bool end = i >= t.size() || t[i].is("ON") || t[i].is("TO") || (verb == "REVOKE" && t[i].is("FROM")) || is_sym(t[i], ",");
    if (end) {
      if (current.empty()) syntax_near(t, i);
      permissions.push_back(current);
      permission_at.push_back(current_at);
      current.clear();
      if (i < t.size() && is_sym(t[i], ",")) {
        current_at = i + 1;
        continue;
      }
      break;
    }
    if (t[i].is("ALL")) unsupported(verb + " ALL");
    if (is_sym(t[i], "(")) unsupported(verb + " on columns");
    if (t[i].kind != TokKind::word) syntax_near(t, i);
    current += (current.empty() ? "" : " ") + upper(t[i].text);
  }
  // The securable: ON [OBJECT:: | SCHEMA:: | DATABASE::]name, or none (the server or the database).
  std::optional<Securable> on;
  bool server_scope = false;
  if (t[i].is("ON")) {
    ++i;
    std::string cls = "OBJECT";
    if (i + 1 < t.size() && t[i].kind == TokKind::word && is_sym(t[i + 1], "::")) {
      cls = upper(t[i].text);
      i += 2;
    }
    const std::size_t name_at = i;
    auto parts = dotted_name(t, i);
    if (cls == "DATABASE") {
      if (parts.size() != 1 || !iequals(parts[0], m_db)) unsupported(verb + " ON DATABASE:: another database");
      on = Securable{};
      on->database = m_db;
    } else if (cls == "SCHEMA") {
      if (parts.size() != 1) syntax_near(t, name_at);
      Stmt q(cur(), "SELECT schema_id, name FROM main.__m2r_schemas WHERE name = ? COLLATE NOCASE");
      q.bind(1, parts[0]);
      if (!q.step()) raise(15151, 16, "Cannot find the schema '" + parts[0] + "', because it does not exist or you do not have permission.");
      on = Securable{SecurableClass::schema, static_cast<int>(q.i64(0)), 0, m_db, "", q.str(1)};
    } else if (cls == "OBJECT") {
      if (parts.size() == 3) {
        if (!iequals(parts[0], m_db)) unsupported(verb + " on an object of another database");
        parts.erase(parts.begin());
      }
      if (parts.size() > 2) syntax_near(t, name_at);
      const std::string schema = parts.size() == 2 ? parts[0] : "";
      if ((schema.empty() || iequals(schema, "sys")) && system_object_id("master", "sys", parts.back()) &&
          !iequals(m_db, "master")) {
        raise(4629, 16, "Permissions on server scoped catalog views or system stored procedures or extended stored "
                        "procedures can be granted only when the current database is master.");
      }
      on = find_object(cur(), m_db, schema, parts.back());
      if (!on) {
        raise(15151, 16, "Cannot find the object '" + joined(parts) + "', because it does not exist or you do not have permission.");
      }
    } else {
      unsupported(verb + " ON " + cls + "::");
    }
    for (std::size_t k = 0; k < permissions.size(); ++k) {
      if (!is_database_permission(permissions[k]) || (on->cls != SecurableClass::database && !applies_to_objects(permissions[k]))) {
        syntax_near(t, permission_at[k]);
      }
    }
  } else {
    // No ON: server permissions (from master) or database permissions, never a mixture.
    server_scope = is_server_permission(permissions[0]);
    for (std::size_t k = 0; k < permissions.size(); ++k) {
      if (server_scope ? !is_server_permission(permissions[k]) : !is_database_permission(permissions[k])) {
        syntax_near(t, permission_at[k]);
      }
    }
    if (server_scope && !iequals(m_db, "master")) {
      raise(4621, 16, "Permissions at the server scope can only be granted when the current database is master");
    }
    if (!server_scope) {
      on = Securable{};
      on->database = m_db;
    }
  }
  if (!(t[i].is("TO") || (verb == "REVOKE" && t[i].is("FROM")))) syntax_near(t, i);
  ++i;
  std::vector<std::string> grantees;
  for (;;) {
    if (!t[i].is_name()) syntax_near(t, i);
    grantees.push_back(t[i++].text);
    if (i < t.size() && is_sym(t[i], ",")) {
      ++i;
      continue;
    }
    break;
  }
  bool with_grant_option = false;
  while (i < t.size()) {
    if (verb == "GRANT" && t[i].is("WITH") && t[i + 1].is("GRANT") && t[i + 2].is("OPTION")) {
      with_grant_option = true;
      i += 3;
    } else if (verb != "GRANT" && t[i].is("CASCADE")) {
      ++i;
    } else if (t[i].is("AS")) {
      unsupported(verb + " ... AS");
    } else {
      syntax_near(t, i);
    }
  }
  const char state = verb == "DENY" ? 'D' : verb == "REVOKE" ? 0 : with_grant_option ? 'W' : 'G';

  if (server_scope) {
    // Who may: a sysadmin, securityadmin ("can GRANT, DENY, and REVOKE server-level
    // permissions"), or a holder of each permission WITH GRANT OPTION.
    if (!store.is_sysadmin(m_user) && !store.is_member("securityadmin", m_user)) {
      for (const auto& p : permissions) {
        bool may = false;
        for (const auto& held : store.server_permissions()) {
          if (held.grantee == login->id && held.permission == p && held.state == 'W') may = true;
        }
        if (!may) grantor_denied();
      }
    }
    std::vector<ServerPrincipal> to;
    for (const auto& g : grantees) {
      auto p = store.by_name(g);
      if (!p) raise(15151, 16, "Cannot find the login '" + g + "', because it does not exist or you do not have permission.");
      to.push_back(*p);
    }
    for (const auto& p : to) {
      for (const auto& perm : permissions) {
        if (option_only) {
          for (const auto& held : store.server_permissions()) {
            if (held.grantee == p.id && held.permission == perm && held.state == 'W') store.set_server_permission(p.id, login->id, perm, 'G');
          }
        } else {
          store.set_server_permission(p.id, login->id, perm, state);
        }
      }
    }
    done(sink);
    return true;
  }

  // Database scope: dbo (a sysadmin), db_owner or db_securityadmin, or a holder WITH GRANT OPTION.
  sqlite3* c = cur();
  auto me = database_user_of(c, store, *login);
  const bool may_all = store.is_sysadmin(m_user) ||
                       (me && (me->id == 1 || database_role_member(c, me->id, "db_owner") ||
                               database_role_member(c, me->id, "db_securityadmin")));
  if (!may_all) {
    for (const auto& p : permissions) {
      Stmt q(c, "SELECT 1 FROM main.__m2r_database_permissions WHERE grantee_principal_id = ? AND class = ? AND"
                " major_id = ? AND permission_name = ? AND state = 'W'");
      q.bind(1, static_cast<std::int64_t>(me ? me->id : -1)).bind(2, static_cast<std::int64_t>(on->cls))
          .bind(3, static_cast<std::int64_t>(on->major_id)).bind(4, p);
      if (!q.step()) grantor_denied();
    }
  }
  std::vector<DatabasePrincipal> to;
  for (const auto& g : grantees) {
    auto p = database_principal(c, g);
    if (!p) raise(15151, 16, "Cannot find the user '" + g + "', because it does not exist or you do not have permission.");
    to.push_back(*p);
  }
  for (const auto& p : to) {
    for (const auto& perm : permissions) {
      if (state == 0) {
        Stmt d(c, option_only ? "UPDATE main.__m2r_database_permissions SET state = 'G' WHERE class = ? AND major_id = ? AND"
                                " grantee_principal_id = ? AND permission_name = ? AND state = 'W'"
                              : "DELETE FROM main.__m2r_database_permissions WHERE class = ? AND major_id = ? AND"
                                " grantee_principal_id = ? AND permission_name = ?");
        d.bind(1, static_cast<std::int64_t>(on->cls)).bind(2, static_cast<std::int64_t>(on->major_id))
            .bind(3, static_cast<std::int64_t>(p.id)).bind(4, perm);
        d.step();
        continue;
      }
      // GRANT replaces a DENY of the same permission on the same securable, and DENY a GRANT.
      Stmt s(c, "INSERT OR REPLACE INTO main.__m2r_database_permissions(class, major_id, minor_id, grantee_principal_id,"
                " grantor_principal_id, type, permission_name, state) VALUES(?, ?, 0, ?, ?, ?, ?, ?)");
      s.bind(1, static_cast<std::int64_t>(on->cls)).bind(2, static_cast<std::int64_t>(on->major_id))
          .bind(3, static_cast<std::int64_t>(p.id)).bind(4, static_cast<std::int64_t>(me ? me->id : 1))
          .bind(5, database_permission_type(perm)).bind(6, perm).bind(7, std::string(1, state));
      s.step();
    }
  }
  done(sink);
  return true;
}

// ---------------------------------------------------------------------------------------
// Enforcement.

bool SessionImpl::sees_server_state() {
  auto login = m_inst.principals().by_name(m_user);
  return login && has_server_permission(m_inst.principals(), *login, "VIEW SERVER STATE");
}

void SessionImpl::require_object_permission(const std::string& db, const std::string& schema, const std::string& name,
                                            const std::string& permission) {
  PrincipalStore& store = m_inst.principals();
  if (store.is_sysadmin(m_user)) return;
  auto login = store.by_name(m_user);
  if (!login) return;
  sqlite3* c = conn(db);
  auto o = find_object(c, db, schema, name);
  if (!o) return;  // not an object the sandbox checks (the statement fails or runs as before)
  if (!has_database_permission(c, store, *login, *o, permission)) raise_object_denied(permission, *o);
}

void SessionImpl::check_object_permissions(const Statement& st, const std::string& kind) {
  // Statements inside a procedure run on the ownership chain (every module and table here is
  // dbo's), so only the EXECUTE of the procedure was checked.
  if (m_proc_depth > 0 || m_inst.principals().is_sysadmin(m_user)) return;
  const Tokens t(st.tokens);
  // The first table an INSERT/UPDATE/DELETE names is written; every other table and view named
  // after FROM or JOIN is read (SELECT).
  bool target_seen = kind == "SELECT";
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind == TokKind::word && (t[i].is("fn_dblog")) && i + 1 < t.size() && is_sym(t[i + 1], "(")) {
      require_object_permission("master", "sys", "fn_dblog", "SELECT");
      continue;
    }
    const bool reads = t[i].is("FROM") || t[i].is("JOIN");
    const bool writes = !target_seen && (t[i].is("INSERT") || t[i].is("UPDATE") || t[i].is("DELETE"));
    if (!reads && !writes) continue;
    std::size_t j = i + 1;
    if (writes && j < t.size() && (t[j].is("INTO") || t[j].is("FROM"))) ++j;
    if (writes && j < t.size() && t[j].is("TOP")) continue;  // DELETE TOP (n) ...: not checked
    if (j >= t.size() || !t[j].is_name() || t[j].kind == TokKind::variable) continue;
    std::vector<std::string> parts = {t[j].text};
    std::size_t k = j + 1;
    while (k + 1 < t.size() && is_sym(t[k], ".") && t[k + 1].is_name()) {
      parts.push_back(t[k + 1].text);
      k += 2;
    }
    if (k < t.size() && is_sym(t[k], "(")) continue;  // a function
    if (is_temp_name(parts.back())) continue;
    std::string db = m_db, schema;
    if (parts.size() >= 3) {
      db = parts[0];
      schema = parts[1];
    } else if (parts.size() == 2) {
      schema = parts[0];
    }
    if (iequals(schema, "sys") || iequals(schema, "INFORMATION_SCHEMA") || !m_inst.find(db)) continue;
    const std::string permission = writes ? upper(t[i].text) : "SELECT";
    require_object_permission(db, schema, parts.back(), permission);
    if (writes) {
      target_seen = true;
      i = k - 1;  // DELETE FROM t: t is the target, not a table read
    }
  }
}

void SessionImpl::check_backup_permission(const std::string& database, bool log, ResultSink& sink) {
  PrincipalStore& store = m_inst.principals();
  if (store.is_sysadmin(m_user) || !m_inst.find(database)) return;  // a missing database fails as before
  auto login = store.by_name(m_user);
  Securable s;
  s.database = database;
  const std::string what = log ? "BACKUP LOG" : "BACKUP DATABASE";
  if (login && has_database_permission(conn(database), store, *login, s, what)) return;
  // "BACKUP DATABASE and BACKUP LOG permissions default to members of the sysadmin fixed server
  // role and the db_owner and db_backupoperator fixed database roles" (BACKUP, Permissions).
  Message m;
  m.number = 262;
  m.severity = 14;
  m.state = 1;
  m.text = what + " permission denied in database '" + database + "'.";
  sink.message(m);
  raise(3013, 16, what + " is terminating abnormally.");
}

}  // namespace sandbox::engine
