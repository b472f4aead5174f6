// The T-SQL that manages logins, users and roles (README.md "Logins and users"), with SQL
// Server's documented errors: CREATE/ALTER/DROP LOGIN, ALTER SERVER ROLE, CREATE/ALTER/DROP USER,
// ALTER ROLE, sp_addsrvrolemember and friends, and the database access check of USE.
#include <algorithm>
#include <cctype>

#include "engine/parse_util.hpp"
#include "engine/principals.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

constexpr int k_first_user_id = 5;  // after dbo, guest, INFORMATION_SCHEMA, sys
constexpr int k_first_role_id = 16384;

// A principal's name at t[i] ([DOM\name], "name", name); i moves past it.
std::string principal_name(const Tokens& t, std::size_t& i) {
  if (!t[i].is_name()) syntax_near(t, i);
  return t[i++].text;
}

// A binary literal's bytes (0x0200AB...); an odd number of digits has a leading 0 implied.
std::string hex_literal(const Token& tk) {
  std::string digits = tk.text.substr(2);
  if (digits.size() % 2) digits = "0" + digits;
  std::string out;
  for (std::size_t k = 0; k < digits.size(); k += 2) out += static_cast<char>(std::stoi(digits.substr(k, 2), nullptr, 16));
  return out;
}

bool is_hex(const Token& tk) { return tk.kind == TokKind::number && tk.text.size() >= 2 && (tk.text[1] == 'x' || tk.text[1] == 'X'); }

bool on_off(const Tokens& t, std::size_t i) {
  if (t[i].is("ON")) return true;
  if (t[i].is("OFF")) return false;
  syntax_near(t, i);
}

// The option name at t[i] followed by '=': its upper-case name, i past the '='.
std::string option_name(const Tokens& t, std::size_t& i) {
  if (t[i].kind != TokKind::word) syntax_near(t, i);
  std::string name = upper(t[i].text);
  ++i;
  if (!is_sym(t[i], "=")) syntax_near(t, i);
  ++i;
  return name;
}

// Windows' complexity rules as CHECK_POLICY applies them (learn.microsoft.com "Password Policy"):
// at least 8 characters, three of upper case, lower case, digits and other characters, and not
// the login's name.
void check_password_policy(const std::string& login, const std::string& password) {
  if (password.size() < 8) {
    raise(15116, 16, "Password validation failed. The password does not meet the operating system policy requirements because it is too short.");
  }
  int upper_c = 0, lower_c = 0, digit = 0, other = 0;
  for (unsigned char c : password) {
    if (std::isupper(c)) upper_c = 1;
    else if (std::islower(c)) lower_c = 1;
    else if (std::isdigit(c)) digit = 1;
    else other = 1;
  }
  std::string lp = lower(password), ll = lower(login);
  if (upper_c + lower_c + digit + other < 3 || (!ll.empty() && lp.find(ll) != std::string::npos)) {
    raise(15118, 16, "Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.");
  }
}

std::string windows_sid() {
  // S-1-5-21-<domain>-<rid>, as a Windows account's SID is stored (28 bytes).
  return std::string("\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00", 12) + random_bytes(16);
}

std::string user_without_login_sid() {
  // S-1-9-3-..., the form SQL Server gives a user created WITHOUT LOGIN.
  return std::string("\x01\x05\x00\x00\x00\x00\x00\x09\x03\x00\x00\x00", 12) + random_bytes(16);
}

void done(ResultSink& sink) { sink.done(DoneKind::statement, std::nullopt, false); }

void bind_blob(Stmt& s, int i, const std::string& bytes) {
  if (bytes.empty()) s.bind_null(i);
  else sqlite3_bind_blob(s.get(), i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

}  // namespace

void SessionImpl::check_database_access(const std::string& db) {
  auto login = m_inst.principals().by_name(m_user);
  if (!login || !database_user_of(conn(db), m_inst.principals(), *login)) {
    raise(916, 14, "The server principal \"" + m_user + "\" is not able to access the database \"" + db +
                       "\" under the current security context.");
  }
}

bool SessionImpl::do_principal_statement(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 2) return false;
  const std::string verb = upper(t[0].text);
  PrincipalStore& store = m_inst.principals();
  std::size_t i = 2;

  // --- Server level: logins and server roles -------------------------------------------------
  if (t[1].is("LOGIN")) {
    const std::string name = principal_name(t, i);
    if (verb == "CREATE") {
      if (!store.may_alter_any_login(m_user)) raise(15247, 16, "User does not have permission to perform this action.");
      ServerPrincipal p;
      p.name = name;
      bool hashed = false, sid_given = false;
      std::string password;
      std::optional<bool> policy, expiration;
      if (t[i].is("FROM")) {
        ++i;
        if (!t[i].is("WINDOWS")) unsupported("CREATE LOGIN ... FROM " + upper(t[i].text));
        ++i;
        if (name.find('\\') == std::string::npos) {
          raise(15407, 16, "'" + name + "' is not a valid Windows NT name. Give the complete name: <domain\\username>.");
        }
        p.type = 'U';
        p.sid = windows_sid();
        if (i < t.size() && t[i].is("WITH")) {
          ++i;
          while (i < t.size()) {
            const std::string opt = option_name(t, i);
            if (opt == "DEFAULT_DATABASE") p.default_database = principal_name(t, i);
            else if (opt == "DEFAULT_LANGUAGE") p.default_language = principal_name(t, i);
            else syntax_near(t, i - 2);
            if (i < t.size() && is_sym(t[i], ",")) ++i;
          }
        }
      } else {
        if (!t[i].is("WITH")) syntax_near(t, i);
        ++i;
        if (name.find('\\') != std::string::npos) {
          raise(15006, 16, "'" + name + "' is not a valid name because it contains invalid characters.");
        }
        while (i < t.size()) {
          const std::string opt = option_name(t, i);
          if (opt == "PASSWORD") {
            if (t[i].kind == TokKind::string) {
              password = t[i++].text;
            } else if (is_hex(t[i])) {
              p.password_hash = hex_literal(t[i++]);
              if (!t[i].is("HASHED")) syntax_near(t, i);
              ++i;
              hashed = true;
            } else {
              syntax_near(t, i);
            }
            if (i < t.size() && t[i].is("MUST_CHANGE")) unsupported("CREATE LOGIN ... MUST_CHANGE");
          } else if (opt == "SID") {
            if (!is_hex(t[i])) syntax_near(t, i);
            p.sid = hex_literal(t[i++]);
            sid_given = true;
          } else if (opt == "DEFAULT_DATABASE") {
            p.default_database = principal_name(t, i);
          } else if (opt == "DEFAULT_LANGUAGE") {
            p.default_language = principal_name(t, i);
          } else if (opt == "CHECK_POLICY") {
            policy = on_off(t, i++);
          } else if (opt == "CHECK_EXPIRATION") {
            expiration = on_off(t, i++);
          } else if (opt == "CREDENTIAL") {
            unsupported("CREATE LOGIN ... CREDENTIAL");
          } else {
            syntax_near(t, i - 2);
          }
          if (i < t.size() && is_sym(t[i], ",")) ++i;
        }
        if (!hashed && password.empty() && p.password_hash.empty()) {
          // PASSWORD is required for a SQL login (an empty one is allowed with CHECK_POLICY OFF).
          bool had_password = false;
          for (std::size_t k = 0; k + 1 < t.size(); ++k) had_password = had_password || t[k].is("PASSWORD");
          if (!had_password) syntax_near(t, t.size());
        }
        p.policy_checked = policy.value_or(true);
        p.expiration_checked = expiration.value_or(false);
        if (p.expiration_checked && !p.policy_checked) {
          raise(15122, 16, "The CHECK_EXPIRATION option cannot be used when CHECK_POLICY is OFF.");
        }
        if (hashed) {
          if (!is_valid_password_hash(p.password_hash)) {
            raise(15021, 16, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.", 2);
          }
        } else {
          if (p.policy_checked) check_password_policy(name, password);
          p.password_hash = hash_password(password, random_bytes(4));
        }
        if (sid_given && p.sid.size() != 16) raise(15419, 16, "Supplied parameter sid should be binary(16).");
        if (!sid_given) p.sid = random_bytes(16);
      }
      if (store.by_name(name)) raise(15025, 16, "The server principal '" + name + "' already exists.");
      if (store.by_sid(p.sid)) raise(15433, 16, "Supplied parameter sid is in use.");
      store.insert(p);
      done(sink);
      return true;
    }
    if (verb == "ALTER") {
      auto p = store.by_name(name);
      const bool privileged = store.may_alter_any_login(m_user);
      const bool self = p && iequals(p->name, m_user);
      const std::string refused = "Cannot alter the login '" + name + "', because it does not exist or you do not have permission.";
      if (!p || p->type == 'R' || (!privileged && !self)) raise(15151, 16, refused);
      if (t[i].is("ENABLE") || t[i].is("DISABLE")) {
        if (!privileged) raise(15151, 16, refused);
        p->disabled = t[i].is("DISABLE");
        store.update(*p);
        done(sink);
        return true;
      }
      if (!t[i].is("WITH")) syntax_near(t, i);
      ++i;
      std::optional<std::string> new_password, old_password;
      bool hashed = false;
      while (i < t.size()) {
        const std::string opt = option_name(t, i);
        if (opt == "PASSWORD") {
          if (p->type != 'S') raise(15080, 16, "Cannot use parameter PASSWORD for a windows login.");
          if (t[i].kind == TokKind::string) {
            new_password = t[i++].text;
          } else if (is_hex(t[i])) {
            new_password = hex_literal(t[i++]);
            if (!t[i].is("HASHED")) syntax_near(t, i);
            ++i;
            hashed = true;
          } else {
            syntax_near(t, i);
          }
          while (i < t.size() && (t[i].is("OLD_PASSWORD") || t[i].is("UNLOCK") || t[i].is("MUST_CHANGE"))) {
            if (t[i].is("MUST_CHANGE")) unsupported("ALTER LOGIN ... MUST_CHANGE");
            if (t[i].is("OLD_PASSWORD")) {
              i += 2;
              if (t[i].kind != TokKind::string) syntax_near(t, i);
              old_password = t[i].text;
            }
            ++i;
          }
        } else if (opt == "DEFAULT_DATABASE" && privileged) {
          p->default_database = principal_name(t, i);
        } else if (opt == "DEFAULT_LANGUAGE" && privileged) {
          p->default_language = principal_name(t, i);
        } else if (opt == "CHECK_POLICY" && privileged) {
          p->policy_checked = on_off(t, i++);
        } else if (opt == "CHECK_EXPIRATION" && privileged) {
          p->expiration_checked = on_off(t, i++);
        } else if (opt == "NAME" && privileged) {
          const std::string renamed = principal_name(t, i);
          if (auto other = store.by_name(renamed); other && other->id != p->id) {
            raise(15025, 16, "The server principal '" + renamed + "' already exists.");
          }
          p->name = renamed;
        } else if (!privileged) {
          raise(15151, 16, refused);
        } else {
          syntax_near(t, i - 2);
        }
        if (i < t.size() && is_sym(t[i], ",")) ++i;
      }
      if (p->expiration_checked && !p->policy_checked) {
        raise(15122, 16, "The CHECK_EXPIRATION option cannot be used when CHECK_POLICY is OFF.");
      }
      if (new_password) {
        // Changing one's own password without ALTER ANY LOGIN needs the old one.
        if (!privileged && (!old_password || !password_matches(p->password_hash, *old_password))) raise(15151, 16, refused);
        if (hashed) {
          if (!is_valid_password_hash(*new_password)) {
            raise(15021, 16, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.", 2);
          }
          p->password_hash = *new_password;
        } else {
          if (p->policy_checked) check_password_policy(p->name, *new_password);
          p->password_hash = hash_password(*new_password, random_bytes(4));
        }
      }
      store.update(*p);
      done(sink);
      return true;
    }
    if (verb == "DROP") {
      auto p = store.by_name(name);
      if (!p || p->type == 'R' || p->id == 1 || !store.may_alter_any_login(m_user)) {
        raise(15151, 16, "Cannot drop the login '" + name + "', because it does not exist or you do not have permission.");
      }
      if (iequals(p->name, m_user)) raise(15434, 16, "Could not drop login '" + p->name + "' as the user is currently logged in.");
      store.remove(p->id);
      done(sink);
      return true;
    }
    return false;
  }

  if (verb == "ALTER" && t[1].is("SERVER") && t.size() > 2 && t[2].is("ROLE")) {
    i = 3;
    const std::string role = principal_name(t, i);
    const bool add = t[i].is("ADD");
    if (!add && !t[i].is("DROP")) syntax_near(t, i);
    ++i;
    if (!t[i].is("MEMBER")) syntax_near(t, i);
    ++i;
    const std::string member = principal_name(t, i);
    auto r = store.by_name(role);
    // A fixed role's members may add others to it; a sysadmin to any role.
    if (!r || r->type != 'R' || r->id == 2 || !(store.is_sysadmin(m_user) || store.is_member(r->name, m_user))) {
      raise(15151, 16, "Cannot alter the server role '" + role + "', because it does not exist or you do not have permission.");
    }
    auto m = store.by_name(member);
    if (!m || m->type == 'R') {
      raise(15151, 16, std::string("Cannot ") + (add ? "add" : "drop") + " the principal '" + member +
                           "', because it does not exist or you do not have permission.");
    }
    if (!add && m->id == 1 && r->id == 3) raise(15405, 16, "Cannot use the special principal 'sa'.");
    if (add) store.add_member(r->id, m->id);
    else store.drop_member(r->id, m->id);
    done(sink);
    return true;
  }

  // --- Database level: users and roles ----------------------------------------------------------
  const bool user_stmt = t[1].is("USER");
  const bool role_stmt = verb == "ALTER" && t[1].is("ROLE");
  if (!user_stmt && !role_stmt) return false;
  sqlite3* c = cur();
  auto login = store.by_name(m_user);
  auto me = login ? database_user_of(c, store, *login) : std::nullopt;
  auto may = [&](const char* role) {
    return store.is_sysadmin(m_user) || (me && (me->id == 1 || database_role_member(c, me->id, "db_owner") ||
                                                database_role_member(c, me->id, role)));
  };
  if (role_stmt) {
    const std::string role = principal_name(t, i);
    const bool add = t[i].is("ADD");
    if (!add && !t[i].is("DROP")) syntax_near(t, i);
    ++i;
    if (!t[i].is("MEMBER")) syntax_near(t, i);
    ++i;
    const std::string member = principal_name(t, i);
    auto r = database_principal(c, role);
    if (!r || r->type != 'R' || r->id == 0 || !may("db_securityadmin")) {
      raise(15151, 16, "Cannot alter the role '" + role + "', because it does not exist or you do not have permission.");
    }
    auto u = database_principal(c, member);
    if (!u) {
      raise(15151, 16, std::string("Cannot ") + (add ? "add" : "drop") + " the principal '" + member +
                           "', because it does not exist or you do not have permission.");
    }
    if (u->id == 1) raise(15405, 16, "Cannot use the special principal 'dbo'.");
    Stmt s(c, add ? "INSERT OR IGNORE INTO main.__m2r_database_role_members VALUES(?, ?)"
                  : "DELETE FROM main.__m2r_database_role_members WHERE role_principal_id = ? AND member_principal_id = ?");
    s.bind(1, static_cast<std::int64_t>(r->id)).bind(2, static_cast<std::int64_t>(u->id));
    s.step();
    done(sink);
    return true;
  }

  if (verb == "DROP") {
    bool if_exists = false;
    if (t[i].is("IF")) {
      if (!t[i + 1].is("EXISTS")) syntax_near(t, i + 1);
      if_exists = true;
      i += 2;
    }
    const std::string name = principal_name(t, i);
    auto u = database_principal(c, name);
    if (!may("db_accessadmin") || ((!u || u->type == 'R') && !if_exists)) {
      raise(15151, 16, "Cannot drop the user '" + name + "', because it does not exist or you do not have permission.");
    }
    if (!u || u->type == 'R') {
      done(sink);
      return true;
    }
    if (u->id <= 4) raise(15150, 16, "Cannot drop the user '" + u->name + "'.");
    Stmt m(c, "DELETE FROM main.__m2r_database_role_members WHERE member_principal_id = ?");
    m.bind(1, static_cast<std::int64_t>(u->id));
    m.step();
    Stmt d(c, "DELETE FROM main.__m2r_database_principals WHERE principal_id = ?");
    d.bind(1, static_cast<std::int64_t>(u->id));
    d.step();
    done(sink);
    return true;
  }

  const std::string name = principal_name(t, i);
  // The login a user maps to: its SID is the mapping (sys.database_principals.sid).
  auto login_for = [&](const std::string& login_name, int except_user) {
    auto l = store.by_name(login_name);
    if (!l || l->type == 'R') raise(15007, 16, "'" + login_name + "' is not a valid login or you do not have permission.");
    if (auto other = database_principal_by_sid(c, l->sid); other && other->id != except_user) {
      raise(15063, 16, "The login already has an account under a different user name.");
    }
    return *l;
  };

  if (verb == "CREATE") {
    if (!may("db_accessadmin")) raise(15247, 16, "User does not have permission to perform this action.");
    if (database_principal(c, name)) raise(15023, 16, "User, group, or role '" + name + "' already exists in the current database.");
    DatabasePrincipal u;
    u.name = name;
    u.default_schema = "dbo";
    bool without_login = false;
    std::string login_name = name;  // without FOR LOGIN: the login of the same name
    if (i < t.size() && (t[i].is("FOR") || t[i].is("FROM"))) {
      ++i;
      if (!t[i].is("LOGIN")) unsupported("CREATE USER ... " + upper(t[i - 1].text) + " " + upper(t[i].text));
      ++i;
      login_name = principal_name(t, i);
    } else if (i < t.size() && t[i].is("WITHOUT")) {
      if (!t[i + 1].is("LOGIN")) syntax_near(t, i + 1);
      i += 2;
      without_login = true;
    }
    if (i < t.size() && t[i].is("WITH")) {
      ++i;
      while (i < t.size()) {
        const std::string opt = option_name(t, i);
        if (opt == "DEFAULT_SCHEMA") u.default_schema = principal_name(t, i);
        else unsupported("CREATE USER ... WITH " + opt);
        if (i < t.size() && is_sym(t[i], ",")) ++i;
      }
    }
    if (i < t.size()) syntax_near(t, i);
    int auth = 0;
    std::string auth_desc = "NONE";
    if (without_login) {
      u.sid = user_without_login_sid();
    } else {
      const ServerPrincipal l = login_for(login_name, 0);
      u.sid = l.sid;
      u.type = l.type == 'U' ? 'U' : 'S';
      auth = l.type == 'U' ? 3 : 1;
      auth_desc = l.type == 'U' ? "WINDOWS" : "INSTANCE";
    }
    const std::int64_t id = std::max<std::int64_t>(
        k_first_user_id,
        query_int(c, "SELECT MAX(principal_id) + 1 FROM main.__m2r_database_principals WHERE principal_id < " +
                         std::to_string(k_first_role_id), k_first_user_id));
    const std::string now = now_datetime();
    Stmt s(c, "INSERT INTO main.__m2r_database_principals(principal_id, name, type, type_desc, default_schema_name,"
              " create_date, modify_date, sid, is_fixed_role, authentication_type, authentication_type_desc, has_dbaccess)"
              " VALUES(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 1)");
    s.bind(1, id).bind(2, u.name).bind(3, std::string(1, u.type))
        .bind(4, std::string(u.type == 'U' ? "WINDOWS_USER" : "SQL_USER")).bind(5, u.default_schema).bind(6, now).bind(7, now)
        .bind(9, static_cast<std::int64_t>(auth)).bind(10, auth_desc);
    bind_blob(s, 8, u.sid);
    s.step();
    done(sink);
    return true;
  }

  if (verb == "ALTER") {
    auto u = database_principal(c, name);
    if (!u || u->type == 'R' || !may("db_accessadmin")) {
      raise(15151, 16, "Cannot alter the user '" + name + "', because it does not exist or you do not have permission.");
    }
    if (!t[i].is("WITH")) syntax_near(t, i);
    ++i;
    while (i < t.size()) {
      const std::string opt = option_name(t, i);
      if (opt == "LOGIN") {
        const ServerPrincipal l = login_for(principal_name(t, i), u->id);
        Stmt s(c, "UPDATE main.__m2r_database_principals SET sid = ?, type = ?, type_desc = ?, authentication_type = ?,"
                  " authentication_type_desc = ?, modify_date = ? WHERE principal_id = ?");
        bind_blob(s, 1, l.sid);
        s.bind(2, std::string(1, l.type == 'U' ? 'U' : 'S')).bind(3, std::string(l.type == 'U' ? "WINDOWS_USER" : "SQL_USER"))
            .bind(4, static_cast<std::int64_t>(l.type == 'U' ? 3 : 1)).bind(5, std::string(l.type == 'U' ? "WINDOWS" : "INSTANCE"))
            .bind(6, now_datetime()).bind(7, static_cast<std::int64_t>(u->id));
        s.step();
      } else if (opt == "NAME" || opt == "DEFAULT_SCHEMA") {
        const std::string value = principal_name(t, i);
        if (opt == "NAME") {
          if (auto other = database_principal(c, value); other && other->id != u->id) {
            raise(15023, 16, "User, group, or role '" + value + "' already exists in the current database.");
          }
        }
        Stmt s(c, std::string("UPDATE main.__m2r_database_principals SET ") + (opt == "NAME" ? "name" : "default_schema_name") +
                      " = ?, modify_date = ? WHERE principal_id = ?");
        s.bind(1, value).bind(2, now_datetime()).bind(3, static_cast<std::int64_t>(u->id));
        s.step();
      } else {
        unsupported("ALTER USER ... WITH " + opt);
      }
      if (i < t.size() && is_sym(t[i], ",")) ++i;
    }
    done(sink);
    return true;
  }
  return false;
}

bool SessionImpl::principal_procedure(const std::string& name, const std::map<std::string, Value>& args,
                                      const std::vector<Value>& positional, ResultSink& sink) {
  auto arg = [&](const char* key, std::size_t pos) -> std::string {
    if (auto it = args.find(key); it != args.end()) return value_str(it->second);
    if (pos < positional.size()) return value_str(positional[pos]);
    return {};
  };
  auto bracket = [](const std::string& s) {
    std::string out = "[";
    for (char ch : s) out += ch == ']' ? std::string("]]") : std::string(1, ch);
    return out + "]";
  };
  // do_principal_statement ends a statement; a procedure call ends with its return status.
  struct ProcSink : ResultSink {
    ResultSink& inner;
    explicit ProcSink(ResultSink& s) : inner(s) {}
    void columns(const std::vector<Column>& c) override { inner.columns(c); }
    void row(const std::vector<Value>& v) override { inner.row(v); }
    void done(DoneKind, std::optional<std::int64_t>, bool) override {}
    void message(const Message& m) override { inner.message(m); }
    void database_changed(const std::string& a, const std::string& b) override { inner.database_changed(a, b); }
    void return_status(int s) override { inner.return_status(s); }
    bool cancelled() override { return inner.cancelled(); }
  };
  PrincipalStore& store = m_inst.principals();
  if (name == "sp_addsrvrolemember" || name == "sp_dropsrvrolemember") {
    const std::string login = arg("@loginame", 0), role = arg("@rolename", 1);
    auto r = store.by_name(role);
    if (!r || r->type != 'R' || r->id == 2) raise(15402, 16, "'" + role + "' is not a fixed server role.");
    if (!(store.is_sysadmin(m_user) || store.is_member(r->name, m_user))) {
      raise(15247, 16, "User does not have permission to perform this action.");
    }
    if (!store.by_name(login)) raise(15007, 16, "'" + login + "' is not a valid login or you do not have permission.");
    // The procedures are the statements' older spelling: the statement does the rest.
    ProcSink ps(sink);
    Statement st;
    st.tokens = tokenize("ALTER SERVER ROLE " + bracket(role) + (name == "sp_addsrvrolemember" ? " ADD" : " DROP") +
                         " MEMBER " + bracket(login));
    do_principal_statement(st, ps);
  } else if (name == "sp_addrolemember" || name == "sp_droprolemember") {
    const std::string role = arg("@rolename", 0), member = arg("@membername", 1);
    auto r = database_principal(cur(), role);
    if (!r || r->type != 'R') raise(15014, 16, "The role '" + role + "' does not exist in the current database.");
    if (!database_principal(cur(), member)) raise(15410, 16, "User or role '" + member + "' does not exist in this database.");
    ProcSink ps(sink);
    Statement st;
    st.tokens = tokenize("ALTER ROLE " + bracket(role) + (name == "sp_addrolemember" ? " ADD" : " DROP") + " MEMBER " + bracket(member));
    do_principal_statement(st, ps);
  } else {
    return false;
  }
  sink.return_status(0);
  sink.done(DoneKind::proc, std::nullopt, false);
  return true;
}

}  // namespace sandbox::engine
