#include "engine/database_options.hpp"

#include "engine/principals.hpp"
#include "engine/session.hpp"
#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

namespace {

// The scoped configurations SQL Server 2016 has, with their defaults (ALTER DATABASE SCOPED
// CONFIGURATION); configuration_id as sys.database_scoped_configurations numbers them.
struct ScopedSetting {
  int id;
  const char* name;
  const char* default_value;
};
constexpr ScopedSetting k_scoped[] = {
    {1, "MAXDOP", "0"},
    {2, "LEGACY_CARDINALITY_ESTIMATION", "0"},
    {3, "PARAMETER_SNIFFING", "1"},
    {4, "QUERY_OPTIMIZER_HOTFIXES", "0"},
};

void done(ResultSink& sink) { sink.done(DoneKind::statement, std::nullopt, false); }

bool on_off(const Tokens& t, std::size_t i) {
  if (i >= t.size() || !(t[i].is("ON") || t[i].is("OFF"))) syntax_near(t, i < t.size() ? i : t.size() - 1);
  if (i + 1 < t.size()) syntax_near(t, i + 1);
  return t[i].is("ON");
}

// TRUSTWORTHY and DB_CHAINING need CONTROL SERVER; RDS gives it to nobody.
void require_control_server(InstanceImpl& instance, const std::string& login) {
  if (instance.info().is_rds || !instance.principals().is_sysadmin(login)) {
    raise(15247, 16, "User does not have permission to perform this action.");
  }
}

}  // namespace

bool alter_database_option(InstanceImpl& instance, Database& db, const std::string& login, const Tokens& t,
                           ResultSink& sink) {
  if (t.size() < 5 || !t[3].is("SET")) return false;
  if (t[4].is("TRUSTWORTHY") || t[4].is("DB_CHAINING")) {
    const bool on = on_off(t, 5);
    require_control_server(instance, login);
    std::lock_guard<std::mutex> lock(db.write_mutex);
    db.set_meta(db.admin, t[4].is("TRUSTWORTHY") ? "trustworthy" : "db_chaining", on ? "1" : "0");
    done(sink);
    return true;
  }
  if (t[4].is("ENABLE_BROKER") || t[4].is("DISABLE_BROKER")) {
    // WITH ROLLBACK IMMEDIATE / NO_WAIT: accepted; the sandbox has no broker sessions to end.
    if (t.size() > 5 && !(t[5].is("WITH") && t.size() > 6 && (t[6].is("ROLLBACK") || t[6].is("NO_WAIT")))) syntax_near(t, 5);
    std::lock_guard<std::mutex> lock(db.write_mutex);
    db.set_meta(db.admin, "broker_enabled", t[4].is("ENABLE_BROKER") ? "1" : "0");
    done(sink);
    return true;
  }
  if (t[4].is("COMPATIBILITY_LEVEL")) {
    if (t.size() != 7 || !is_sym(t[5], "=") || t[6].kind != TokKind::number) syntax_near(t, t.size() > 5 ? 5 : 4);
    const int level = static_cast<int>(int_literal(t[6]));
    const int major = instance.major_version();
    const int highest = major == 2016 ? 130 : major == 2017 ? 140 : major == 2022 ? 160 : 150;
    if (level < 100 || level > highest || level % 10 != 0) {
      std::string valid;
      for (int v = 100; v <= highest; v += 10) valid += (valid.empty() ? "" : ", ") + std::to_string(v);
      raise(15048, 16, "Valid values of the database compatibility level are " + valid + ".");
    }
    std::lock_guard<std::mutex> lock(db.write_mutex);
    db.set_meta(db.admin, "compatibility_level", std::to_string(level));
    done(sink);
    return true;
  }
  return false;
}

void alter_scoped_configuration(InstanceImpl& instance, Database& db, const std::string& login, const Tokens& t,
                                ResultSink& sink) {
  // ALTER DATABASE SCOPED CONFIGURATION [FOR SECONDARY] SET name = value: needs ALTER ANY
  // DATABASE SCOPED CONFIGURATION (db_owner has it).
  (void)instance;
  (void)login;
  if (t.size() < 8 || !t[3].is("CONFIGURATION") || !t[4].is("SET") || !is_sym(t[6], "=")) syntax_near(t, t.size() > 4 ? 4 : 2);
  const ScopedSetting* setting = nullptr;
  for (const auto& s : k_scoped)
    if (t[5].is(s.name)) setting = &s;
  if (!setting) raise(102, 15, "Incorrect syntax near '" + t[5].text + "'.");
  std::string value;
  if (t[7].is("DEFAULT")) value = setting->default_value;
  else if (t[7].is("ON")) value = "1";
  else if (t[7].is("OFF")) value = "0";
  else if (t[7].kind == TokKind::number) value = std::to_string(int_literal(t[7]));
  else syntax_near(t, 7);
  if (t.size() > 8) syntax_near(t, 8);
  if (std::string(setting->name) == "MAXDOP" && (std::stoll(value) < 0 || std::stoll(value) > 32767)) {
    raise(102, 15, "Incorrect syntax near '" + t[7].text + "'.");
  }
  std::lock_guard<std::mutex> lock(db.write_mutex);
  db.set_meta(db.admin, std::string("scoped:") + setting->name, value);
  done(sink);
}

void reset_on_restore(Database& db) {
  std::lock_guard<std::mutex> lock(db.write_mutex);
  db.set_meta(db.admin, "trustworthy", "0");
  db.set_meta(db.admin, "db_chaining", "0");
}

void fill_database_options_row(sqlite3* c, Database& db) {
  Stmt s(c, "UPDATE temp.\"sys.databases\" SET is_trustworthy_on = ?, is_db_chaining_on = ?, is_broker_enabled = ?,"
            " compatibility_level = COALESCE(?, compatibility_level) WHERE database_id = ?");
  s.bind(1, static_cast<std::int64_t>(db.meta("trustworthy") == "1"))
      .bind(2, static_cast<std::int64_t>(db.meta("db_chaining") == "1"))
      // New databases have Service Broker enabled (as model's copy does).
      .bind(3, static_cast<std::int64_t>(db.meta("broker_enabled", "1") == "1"));
  const std::string level = db.meta("compatibility_level");
  if (level.empty()) s.bind_null(4);
  else s.bind(4, static_cast<std::int64_t>(std::stoll(level)));
  s.bind(5, static_cast<std::int64_t>(db.id));
  s.step();
}

void refresh_scoped_configurations(sqlite3* c, Database& db, const std::string& sql) {
  if (sql.find("\"sys.database_scoped_configurations\"") == std::string::npos) return;
  exec(c, "DELETE FROM temp.\"sys.database_scoped_configurations\"");
  Stmt s(c, "INSERT INTO temp.\"sys.database_scoped_configurations\"(configuration_id, name, value, value_for_secondary,"
            " is_value_default) VALUES(?,?,?,NULL,?)");
  for (const auto& setting : k_scoped) {
    const std::string value = db.meta(std::string("scoped:") + setting.name, setting.default_value);
    s.reset();
    s.bind(1, static_cast<std::int64_t>(setting.id)).bind(2, std::string(setting.name))
        .bind(3, static_cast<std::int64_t>(std::stoll(value)))
        .bind(4, static_cast<std::int64_t>(value == setting.default_value));
    s.step();
  }
}

}  // namespace sandbox::engine
