// The session's SET options (README.md "SET options"), @@OPTIONS / @@TEXTSIZE / @@DATEFIRST,
// SESSIONPROPERTY, SET TEXTSIZE's cut of large values, and sp_reset_connection.
#include <array>
#include <stdexcept>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {

namespace {

// @@OPTIONS bits (SQL Server's "user options" server configuration documents them).
constexpr std::int64_t k_opt_implicit_transactions = 2;
constexpr std::int64_t k_opt_cursor_close_on_commit = 4;
constexpr std::int64_t k_opt_ansi_warnings = 8;
constexpr std::int64_t k_opt_ansi_padding = 16;
constexpr std::int64_t k_opt_ansi_nulls = 32;
constexpr std::int64_t k_opt_arithabort = 64;
constexpr std::int64_t k_opt_arithignore = 128;
constexpr std::int64_t k_opt_quoted_identifier = 256;
constexpr std::int64_t k_opt_nocount = 512;
constexpr std::int64_t k_opt_ansi_null_dflt_on = 1024;
constexpr std::int64_t k_opt_ansi_null_dflt_off = 2048;
constexpr std::int64_t k_opt_concat_null_yields_null = 4096;
constexpr std::int64_t k_opt_xact_abort = 16384;

constexpr std::int64_t k_default_textsize = 4096;  // SET TEXTSIZE 0 returns to it

// Language names and aliases SQL Server ships (sys.syslanguages) other than us_english: the
// sandbox speaks only us_english, so these are refused as unsupported, not as unknown (2740).
bool known_other_language(const std::string& lower_name) {
  static const std::array<const char*, 36> names = {
      "deutsch", "german", "français", "french", "日本語", "japanese", "dansk", "danish", "español", "spanish",
      "italiano", "italian", "nederlands", "dutch", "norsk", "norwegian", "português", "portuguese", "suomi",
      "finnish", "svenska", "swedish", "british", "british english", "polski", "polish", "русский", "russian",
      "türkçe", "turkish", "magyar", "hungarian", "čeština", "czech", "brazilian", "korean"};
  for (const char* n : names) {
    if (lower_name == n) return true;
  }
  return false;
}

// The value of SET DATEFIRST / DATEFORMAT / LANGUAGE: a literal, a bare word or a variable.
std::string set_argument(const std::vector<Token>& t, SessionImpl& s) {
  if (t.size() < 3) syntax_near(t, 2);
  const Token& v = t[2];
  if (v.kind == TokKind::variable) {
    const Variable* var = s.variable(lower(v.text));
    if (!var) raise(137, 15, "Must declare the scalar variable \"" + v.text + "\".");
    if (var->value.type == SQLITE_INTEGER) return std::to_string(var->value.i);
    return var->value.s;
  }
  std::string text;
  for (std::size_t k = 2; k < t.size(); ++k) text += t[k].text;  // "-1" arrives as two tokens
  return text;
}

}  // namespace

std::int64_t SessionOptions::bits(bool nocount) const {
  std::int64_t b = 0;
  if (implicit_transactions) b |= k_opt_implicit_transactions;
  if (cursor_close_on_commit) b |= k_opt_cursor_close_on_commit;
  if (ansi_warnings) b |= k_opt_ansi_warnings;
  if (ansi_padding) b |= k_opt_ansi_padding;
  if (ansi_nulls) b |= k_opt_ansi_nulls;
  if (arithabort) b |= k_opt_arithabort;
  if (arithignore) b |= k_opt_arithignore;
  if (quoted_identifier) b |= k_opt_quoted_identifier;
  if (nocount) b |= k_opt_nocount;
  if (ansi_null_dflt_on) b |= k_opt_ansi_null_dflt_on;
  if (ansi_null_dflt_off) b |= k_opt_ansi_null_dflt_off;
  if (concat_null_yields_null) b |= k_opt_concat_null_yields_null;
  if (xact_abort) b |= k_opt_xact_abort;
  return b;
}

std::optional<std::int64_t> SessionImpl::option_global(const std::string& name) const {
  if (name == "OPTIONS") return m_options.bits(m_nocount);
  if (name == "TEXTSIZE") return m_options.textsize;
  if (name == "DATEFIRST") return m_options.datefirst;
  if (name == "LANGID") return 0;  // us_english
  return std::nullopt;
}

std::optional<std::int64_t> SessionImpl::session_property(const std::string& option) const {
  const std::string o = upper(option);
  if (o == "ANSI_NULLS") return m_options.ansi_nulls;
  if (o == "ANSI_PADDING") return m_options.ansi_padding;
  if (o == "ANSI_WARNINGS") return m_options.ansi_warnings;
  if (o == "ARITHABORT") return m_options.arithabort;
  if (o == "CONCAT_NULL_YIELDS_NULL") return m_options.concat_null_yields_null;
  if (o == "NUMERIC_ROUNDABORT") return 0;  // ON is refused
  if (o == "QUOTED_IDENTIFIER") return m_options.quoted_identifier;
  return std::nullopt;  // SQL Server: NULL for any other string
}

bool SessionImpl::set_session_option(const Statement& st, const std::string& opt) {
  const auto& t = st.tokens;
  // SET opt [, opt ...] { ON | OFF }
  static const std::set<std::string> switches = {
      "NOCOUNT", "ANSI_NULLS", "QUOTED_IDENTIFIER", "CONCAT_NULL_YIELDS_NULL", "ANSI_WARNINGS", "ANSI_PADDING",
      "ANSI_NULL_DFLT_ON", "ANSI_NULL_DFLT_OFF", "ARITHABORT", "ARITHIGNORE", "CURSOR_CLOSE_ON_COMMIT",
      "NUMERIC_ROUNDABORT", "IMPLICIT_TRANSACTIONS", "XACT_ABORT", "FMTONLY"};
  if (switches.count(opt)) {
    std::vector<std::string> names;
    std::size_t i = 1;
    for (;;) {
      if (i >= t.size() || t[i].kind != TokKind::word || !switches.count(upper(t[i].text))) syntax_near(t, i);
      names.push_back(upper(t[i].text));
      ++i;
      if (i < t.size() && is_sym(t[i], ",")) {
        ++i;
        continue;
      }
      break;
    }
    if (i + 1 != t.size() || !(t[i].is("ON") || t[i].is("OFF"))) syntax_near(t, i);
    const bool on = t[i].is("ON");
    // The sandbox computes as these settings' ANSI values do; the other value would change
    // results it does not model, so the whole statement is refused before any option changes.
    for (const auto& n : names) {
      const bool refused = ((n == "CONCAT_NULL_YIELDS_NULL" ||
                             n == "ANSI_WARNINGS" || n == "ANSI_PADDING") && !on) ||
                           (n == "NUMERIC_ROUNDABORT" && on);
      if (refused) unsupported("SET " + n + (on ? " ON" : " OFF"));
    }
    for (const auto& n : names) {
      if (n == "NOCOUNT") m_nocount = on;
      else if (n == "ARITHABORT") m_options.arithabort = on;
      else if (n == "ARITHIGNORE") m_options.arithignore = on;
      else if (n == "CURSOR_CLOSE_ON_COMMIT") m_options.cursor_close_on_commit = on;
      else if (n == "IMPLICIT_TRANSACTIONS") m_options.implicit_transactions = on;
      else if (n == "QUOTED_IDENTIFIER") m_options.quoted_identifier = on;  // the next batch's parse
      else if (n == "ANSI_NULLS") m_options.ansi_nulls = on;
      else if (n == "XACT_ABORT") m_options.xact_abort = on;
      // At most one of the two is ON; both OFF leaves the database's ANSI_NULL_DEFAULT.
      else if (n == "ANSI_NULL_DFLT_ON") {
        m_options.ansi_null_dflt_on = on;
        if (on) m_options.ansi_null_dflt_off = false;
      } else if (n == "ANSI_NULL_DFLT_OFF") {
        m_options.ansi_null_dflt_off = on;
        if (on) m_options.ansi_null_dflt_on = false;
      }
      else if (n == "FMTONLY") m_options.fmtonly = on;
      // The rest stay at the one value the sandbox allows.
    }
    return true;
  }
  if (opt == "TEXTSIZE") {
    const std::string n = set_argument(t, *this);
    char* end = nullptr;
    const long long v = std::strtoll(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0') syntax_near(t, 2);
    // 0 returns to the default (4 KB); -1 means no limit, and @@TEXTSIZE then answers -1 (what
    // SQL Server answers a TDS 7.3+ client: tedious's "should allow setting it to -1"); other
    // negatives and anything above 2 GB mean the largest size.
    m_options.textsize = v == 0 ? k_default_textsize : v == -1 ? -1 : (v < 0 || v > 2147483647LL) ? 2147483647LL : v;
    return true;
  }
  if (opt == "DATEFIRST") {
    const std::string n = set_argument(t, *this);
    char* end = nullptr;
    const long v = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0') syntax_near(t, 2);
    if (v < 1 || v > 7) raise(2742, 16, "SET DATEFIRST " + std::to_string(v) + " is out of range.");
    m_options.datefirst = static_cast<int>(v);
    return true;
  }
  if (opt == "DATEFORMAT") {
    const std::string f = lower(set_argument(t, *this));
    static const std::set<std::string> orders = {"mdy", "dmy", "ymd", "ydm", "myd", "dym"};
    if (!orders.count(f)) raise(2741, 16, "SET DATEFORMAT date order '" + f + "' is invalid.");
    // Dates are read in the ISO forms and us_english's month-day-year only.
    if (f != "mdy") unsupported("SET DATEFORMAT " + f);
    m_options.dateformat = f;
    return true;
  }
  if (opt == "LANGUAGE") {
    const std::string name = set_argument(t, *this);
    const std::string l = lower(name);
    if (l == "us_english" || l == "english") {
      Message m;
      m.number = 5703;
      m.severity = 0;
      m.text = "Changed language setting to us_english.";
      if (m_request_sink) m_request_sink->message(m);
      return true;
    }
    if (known_other_language(l)) unsupported("SET LANGUAGE " + name);
    raise(2740, 16, "SET LANGUAGE failed because '" + name + "' is not an official language name or a language alias on this SQL Server.");
  }
  return false;
}

Value limit_to_textsize(const Value& v, const ColumnType& type, std::int64_t textsize) {
  // SET TEXTSIZE: varchar(max), nvarchar(max) and varbinary(max) values a SELECT returns are
  // cut to that many bytes (two per character of nvarchar).
  if (type.length != k_max_length || textsize < 0) return v;
  if (type.type == SqlType::varbinary) {
    const auto* b = std::get_if<Bytes>(&v);
    if (!b || static_cast<std::int64_t>(b->data.size()) <= textsize) return v;
    Bytes cut;
    cut.data.assign(b->data.begin(), b->data.begin() + textsize);
    return cut;
  }
  if (type.type != SqlType::varchar && type.type != SqlType::nvarchar) return v;
  const auto* s = std::get_if<std::string>(&v);
  if (!s) return v;
  const std::int64_t chars = type.type == SqlType::nvarchar ? textsize / 2 : textsize;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < s->size(); ++i) {
    if ((static_cast<unsigned char>((*s)[i]) & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    if (n++ == chars) return s->substr(0, i);
  }
  return v;
}

void SessionImpl::publish_settings() {
  SessionSettings s;
  s.text_size = m_options.textsize;
  s.date_format = m_options.dateformat;
  s.date_first = m_options.datefirst;
  s.quoted_identifier = m_options.quoted_identifier;
  s.arithabort = m_options.arithabort;
  s.ansi_null_dflt_on = m_options.ansi_null_dflt_on;
  s.ansi_warnings = m_options.ansi_warnings;
  s.ansi_padding = m_options.ansi_padding;
  s.ansi_nulls = m_options.ansi_nulls;
  s.concat_null_yields_null = m_options.concat_null_yields_null;
  s.transaction_isolation_level = m_isolation == Isolation::read_uncommitted ? 1 : m_isolation == Isolation::snapshot ? 5 : 2;
  s.lock_timeout = m_lock_timeout;
  // SET ANSI_DEFAULTS ON sets these seven (https://learn.microsoft.com/sql/t-sql/statements/set-ansi-defaults-transact-sql).
  s.ansi_defaults = m_options.ansi_nulls && m_options.ansi_null_dflt_on && m_options.ansi_padding && m_options.ansi_warnings &&
                    m_options.quoted_identifier && m_options.cursor_close_on_commit && m_options.implicit_transactions;
  m_entry->set_settings(s);
}

void SessionImpl::notify_transaction(ResultSink::Transaction event) {
  if (m_request_sink) m_request_sink->transaction_changed(event);
}

void SessionImpl::reset(bool keep_transaction) {
  // sp_reset_connection as SQL Server 2014 and later run it for a pooled connection.
  ActivityScope activity(*m_entry);
  if (m_entry->killed()) return;  // the request that follows gets Msg 596
  if (!keep_transaction) rollback_transaction();
  m_vars.clear();
  m_identity_insert.clear();
  m_nocount = false;
  m_lock_timeout = -1;
  m_isolation = Isolation::read_committed;
  m_options = SessionOptions{};
  m_last_identity = 0;
  m_cursors.close_all();
  // The session's temporary tables and procedures go (tempdb.hpp), as a new login would find
  // none; its SQLite connections close and reopen on the next statement. A kept transaction
  // is the session's, not the connections', so it survives.
  if (!m_conns.empty()) drop_session_temp_tables(m_conns.begin()->second, m_spid);
  for (auto& [key, c] : m_conns) sqlite3_close_v2(c);
  m_conns.clear();
  m_conn_gen.clear();
  auto db = m_inst.find(m_login_db);
  if (!db || db->restoring) db = m_inst.find("master");
  // Back into the login's database, as a login would come in (its user access mode may have
  // changed since: README.md "User access modes").
  if (auto refusal = enter_database(*db, m_login_db.empty() ? Entry::login_default : Entry::reset)) {
    throw std::runtime_error(refusal->text);
  }
  m_db = db->name;
  publish_settings();
}

namespace {
void fn_sessionproperty(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* s = static_cast<SessionImpl*>(sqlite3_user_data(ctx));
  const auto* text = sqlite3_value_text(argv[0]);
  const auto v = text ? s->session_property(reinterpret_cast<const char*>(text)) : std::nullopt;
  if (v) sqlite3_result_int64(ctx, *v);
  else sqlite3_result_null(ctx);
}
}  // namespace

void register_session_option_functions(sqlite3* db, SessionImpl* session) {
  sqlite3_create_function_v2(db, "m2r_sessionproperty", 1, SQLITE_UTF8, session, fn_sessionproperty, nullptr, nullptr,
                             nullptr);
}

}  // namespace sandbox::engine
