#include "mssql/odbc_session.hpp"

#include "mssql/freetds_conf.hpp"
#include "mssql/tls_probe.hpp"

#include <sql.h>
#include <sqlext.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "mssql/text_encoding.hpp"
#include "core/ascii_case.hpp"

namespace m2r::mssql {
namespace {

// Microsoft's driver-specific diagnostic fields (msodbcsql.h: SQL_DIAG_SS_BASE = -1150).
// FreeTDS's driver answers the same identifiers with the server's state, class and line.
constexpr SQLSMALLINT k_diag_ss_msgstate = -1150;
constexpr SQLSMALLINT k_diag_ss_severity = -1151;
constexpr SQLSMALLINT k_diag_ss_line = -1154;
// Microsoft's time(n) and datetimeoffset ODBC type codes (sqlncli.h).
constexpr SQLSMALLINT k_sql_ss_time2 = -154;
constexpr SQLSMALLINT k_sql_ss_timestampoffset = -155;

constexpr std::size_t k_chunk_bytes = 16 * 1024;

bool ok(SQLRETURN rc) { return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO; }

// Drops the "[FreeTDS][SQL Server]" / "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"
// prefixes drivers put before the server's text.
std::string strip_driver_prefixes(std::string text) {
  while (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) break;
    text.erase(0, close + 1);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::vector<SqlMessage> read_diagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
  std::vector<SqlMessage> out;
  const auto now = std::chrono::steady_clock::now();
  for (SQLSMALLINT rec = 1;; ++rec) {
    SQLCHAR state[8] = {};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    std::vector<SQLCHAR> text(1024);
    SQLRETURN rc = SQLGetDiagRec(handle_type, handle, rec, state, &native, text.data(),
                                 static_cast<SQLSMALLINT>(text.size()), &len);
    if (rc == SQL_SUCCESS_WITH_INFO && len >= static_cast<SQLSMALLINT>(text.size())) {
      text.resize(static_cast<std::size_t>(len) + 1);
      rc = SQLGetDiagRec(handle_type, handle, rec, state, &native, text.data(), static_cast<SQLSMALLINT>(text.size()),
                         &len);
    }
    if (!ok(rc)) break;
    SqlMessage m;
    m.number = static_cast<int>(native);
    m.sqlstate = reinterpret_cast<const char*>(state);
    m.text = strip_driver_prefixes(std::string(reinterpret_cast<const char*>(text.data()),
                                               std::min<std::size_t>(static_cast<std::size_t>(std::max<SQLSMALLINT>(len, 0)),
                                                                     text.size() - 1)));
    m.received_at = now;
    SQLINTEGER value = 0;
    const bool have_severity =
        ok(SQLGetDiagField(handle_type, handle, rec, k_diag_ss_severity, &value, SQL_IS_INTEGER, nullptr));
    if (have_severity) {
      m.severity = static_cast<int>(value);
    } else {
      // FreeTDS (as Debian builds it) answers none of the SQL_DIAG_SS_* fields, so severity,
      // state and line are unknown. Approximate the severity: SQLSTATE class 01 is SQL Server's
      // informational class (severity <= 10), a failed login is 14 (docs/facts.md §10), any other
      // error 16, the common user-error severity. state and line stay 0 (unknown).
      m.severity = m.sqlstate.rfind("01", 0) == 0 ? 10 : m.number == 18456 ? 14 : 16;
    }
    value = 0;
    if (ok(SQLGetDiagField(handle_type, handle, rec, k_diag_ss_msgstate, &value, SQL_IS_INTEGER, nullptr))) {
      m.state = static_cast<int>(value);
    }
    value = 0;  // SQLUSMALLINT in Microsoft's driver: read into a zeroed integer, keep 16 bits
    if (ok(SQLGetDiagField(handle_type, handle, rec, k_diag_ss_line, &value, SQL_IS_INTEGER, nullptr))) {
      m.line = static_cast<int>(value & 0xFFFF);
    }
    // Severity 10 arrives with class 0 from some servers (docs/facts.md §10): informational either way.
    if (m.severity == 0 && m.sqlstate.rfind("01", 0) != 0 && m.number != 0) m.severity = 16;
    out.push_back(std::move(m));
  }
  return out;
}

SqlType sql_type_of(SQLSMALLINT odbc_type, const std::string& type_name) {
  const std::string t = ascii_lower(type_name);
  if (t == "datetime" || t == "smalldatetime") return SqlType::datetime;
  if (t == "datetime2") return SqlType::datetime2;
  if (t == "date") return SqlType::date;
  if (t == "time") return SqlType::time;
  if (t == "datetimeoffset") return SqlType::datetimeoffset;
  switch (odbc_type) {
    case SQL_BIT: return SqlType::bit;
    case SQL_TINYINT: return SqlType::tinyint;
    case SQL_SMALLINT: return SqlType::smallint;
    case SQL_INTEGER: return SqlType::int_;
    case SQL_BIGINT: return SqlType::bigint;
    case SQL_DECIMAL:
    case SQL_NUMERIC: return SqlType::decimal;
    case SQL_REAL: return SqlType::real;
    case SQL_FLOAT:
    case SQL_DOUBLE: return SqlType::float_;
    case SQL_CHAR: return SqlType::char_;
    case SQL_VARCHAR:
    case SQL_LONGVARCHAR: return SqlType::varchar;
    case SQL_WCHAR: return SqlType::nchar;
    case SQL_WVARCHAR:
    case SQL_WLONGVARCHAR: return SqlType::nvarchar;
    case SQL_BINARY: return SqlType::binary;
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY: return SqlType::varbinary;
    case SQL_TYPE_DATE: return SqlType::date;
    case SQL_TYPE_TIME:
    case k_sql_ss_time2: return SqlType::time;
    case SQL_TYPE_TIMESTAMP: return SqlType::datetime2;
    case k_sql_ss_timestampoffset: return SqlType::datetimeoffset;
    case SQL_GUID: return SqlType::uniqueidentifier;
    default: return SqlType::unknown;
  }
}

// Drivers render numerics between -1 and 1 without the leading zero (".5"); the exact text
// the rest of the product compares is "0.5".
std::string normalize_decimal(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (!s.empty() && s.front() == '.') s.insert(0, "0");
  if (s.size() > 1 && s[0] == '-' && s[1] == '.') s.insert(1, "0");
  return s;
}

struct ParamBuffer {
  std::vector<char> data;
  SQLLEN indicator = 0;
};

struct StatementHandle {
  SQLHSTMT handle = SQL_NULL_HSTMT;
  ~StatementHandle() {
    if (handle != SQL_NULL_HSTMT) SQLFreeHandle(SQL_HANDLE_STMT, handle);
  }
};

Expected<TIMESTAMP_STRUCT> parse_timestamp(const std::string& text) {
  TIMESTAMP_STRUCT ts{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char frac[16] = {};
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%9[0-9]", &y, &mo, &d, &h, &mi, &s, frac);
  if (n != 3 && n != 6 && n != 7) {
    return fail(ErrorKind::invalid_input, fmt::format("'{}' is not a date and time (YYYY-MM-DD HH:MM:SS[.fffffff])", text));
  }
  ts.year = static_cast<SQLSMALLINT>(y);
  ts.month = static_cast<SQLUSMALLINT>(mo);
  ts.day = static_cast<SQLUSMALLINT>(d);
  ts.hour = static_cast<SQLUSMALLINT>(h);
  ts.minute = static_cast<SQLUSMALLINT>(mi);
  ts.second = static_cast<SQLUSMALLINT>(s);
  std::string f = frac;
  f.resize(9, '0');  // the fraction is in nanoseconds
  ts.fraction = static_cast<SQLUINTEGER>(std::stoul(f));
  return ts;
}

Expected<SQLGUID> parse_guid(const std::string& text) {
  unsigned int a = 0, b = 0, c = 0, d[8] = {};
  const int n = std::sscanf(text.c_str(), "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &a, &b, &c, &d[0], &d[1], &d[2], &d[3],
                            &d[4], &d[5], &d[6], &d[7]);
  if (n != 11 || text.size() != 36) {
    return fail(ErrorKind::invalid_input, fmt::format("'{}' is not a uniqueidentifier", text));
  }
  SQLGUID g{};
  g.Data1 = a;
  g.Data2 = static_cast<unsigned short>(b);
  g.Data3 = static_cast<unsigned short>(c);
  for (int i = 0; i < 8; ++i) g.Data4[i] = static_cast<unsigned char>(d[i]);
  return g;
}

template <typename T>
void put(ParamBuffer& buffer, const T& value) {
  buffer.data.resize(sizeof(T));
  std::memcpy(buffer.data.data(), &value, sizeof(T));
  buffer.indicator = sizeof(T);
}

}  // namespace

struct OdbcSession::Handles {
  SQLHENV env = SQL_NULL_HENV;
  SQLHDBC dbc = SQL_NULL_HDBC;
  bool connected = false;
  ~Handles() {
    if (connected) SQLDisconnect(dbc);
    if (dbc != SQL_NULL_HDBC) SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    if (env != SQL_NULL_HENV) SQLFreeHandle(SQL_HANDLE_ENV, env);
  }
};

DriverCatalog system_driver_catalog() {
  DriverCatalog catalog;
  SQLHENV env = SQL_NULL_HENV;
  if (ok(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env))) {
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLUSMALLINT direction = SQL_FETCH_FIRST;
    for (;;) {
      SQLCHAR name[256] = {};
      SQLCHAR attrs[1024] = {};
      SQLSMALLINT name_len = 0, attrs_len = 0;
      const SQLRETURN rc = SQLDrivers(env, direction, name, sizeof(name), &name_len, attrs, sizeof(attrs), &attrs_len);
      if (!ok(rc)) break;
      catalog.registered.emplace_back(reinterpret_cast<const char*>(name));
      direction = SQL_FETCH_NEXT;
    }
    SQLFreeHandle(SQL_HANDLE_ENV, env);
  }
  catalog.file_exists = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  };
  return catalog;
}

OdbcSession::OdbcSession(ConnectionSettings settings, Secret password, OdbcConnectionString connection_string,
                         LogFn log)
    : m_settings(std::move(settings)),
      m_password(std::move(password)),
      m_connection_string(std::move(connection_string)),
      m_log(std::move(log)) {}

OdbcSession::~OdbcSession() { close(); }

Expected<std::unique_ptr<OdbcSession>> OdbcSession::connect(const ConnectionSettings& settings, Secret password,
                                                             LogFn log) {
  auto cs = M2R_TRY(build_connection_string(settings, password, system_driver_catalog()));
  std::unique_ptr<OdbcSession> session(new OdbcSession(settings, std::move(password), std::move(cs), std::move(log)));
  M2R_TRY(session->open());
  return session;
}

Expected<std::unique_ptr<OdbcSession>> OdbcSession::connect(const ConnectionSettings& settings,
                                                             const PasswordSources& sources, LogFn log) {
  const std::string who = fmt::format("{} on {}", settings.login, settings.endpoint());
  auto password = M2R_TRY(resolve_password(settings.password_env, who, sources));
  return connect(settings, std::move(password), std::move(log));
}

void OdbcSession::log(std::string_view line) const {
  if (m_log) m_log(line);
}

ErrorContext OdbcSession::error_context() const {
  return ErrorContext{m_settings.endpoint(), m_settings.database,       m_settings.login,
                      m_settings.password_env, m_settings.config_section, m_settings.ca_file};
}

std::string OdbcSession::describe() const {
  return m_settings.database.empty() ? m_settings.endpoint()
                                     : fmt::format("{}/{}", m_settings.endpoint(), m_settings.database);
}

Expected<void> OdbcSession::open() {
  // A write to a connection the server closed must come back as an error (and a reconnect),
  // not end the process: the drivers do not all send with MSG_NOSIGNAL.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
  close();
  auto h = std::make_unique<Handles>();
  if (!ok(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &h->env)) ||
      !ok(SQLSetEnvAttr(h->env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0)) ||
      !ok(SQLAllocHandle(SQL_HANDLE_DBC, h->env, &h->dbc))) {
    return fail(ErrorKind::fatal, "unixODBC could not allocate its handles", "check the unixODBC installation");
  }
  const auto login_timeout = static_cast<SQLULEN>(m_settings.login_timeout.count());
  SQLSetConnectAttr(h->dbc, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(login_timeout), 0);
  if (m_connection_string.freetds_section) M2R_TRY(install_freetds_section(*m_connection_string.freetds_section));
  log(fmt::format("mssql: connecting to {} ({}; {})", m_settings.endpoint(), m_connection_string.redacted,
                  describe_encryption(m_settings)));
  const auto& cs = m_connection_string.value;
  SQLCHAR out[1024] = {};
  SQLSMALLINT out_len = 0;
  // The connection string holds the password: it goes to the driver and nowhere else.
  const SQLRETURN rc = SQLDriverConnect(h->dbc, nullptr, reinterpret_cast<SQLCHAR*>(const_cast<char*>(cs.c_str())),
                                        static_cast<SQLSMALLINT>(cs.size()), out, sizeof(out), &out_len,
                                        SQL_DRIVER_NOPROMPT);
  std::memset(out, 0, sizeof(out));  // the completed string echoes PWD
  if (!ok(rc)) {
    const auto diags = read_diagnostics(SQL_HANDLE_DBC, h->dbc);
    Error e = map_connect_error(diags, error_context());
    if (auto tls = diagnose_tls(e)) e = std::move(*tls);
    log(fmt::format("mssql: connect to {} failed: {}", m_settings.endpoint(), e.message));
    return tl::unexpected(std::move(e));
  }
  h->connected = true;
  m_handles = std::move(h);
  log(fmt::format("mssql: connected to {}", describe()));
  return {};
}

std::optional<Error> OdbcSession::diagnose_tls(const Error& connect_error) const {
  // The drivers say no more than "connection failed" when TLS fails; a login refused, a
  // database missing or a driver missing are already precise.
  if (connect_error.kind != ErrorKind::retryable && connect_error.kind != ErrorKind::refused) return std::nullopt;
  if (m_settings.server.empty()) return std::nullopt;
  const bool turned_off = encryption_turned_off(m_settings.odbc_connection_string);
  const bool verifies = m_settings.odbc_connection_string.empty() && !m_settings.trust_server_certificate;
  // FreeTDS (1.3) checks the name it connects to; Microsoft's driver HostNameInCertificate.
  const std::string expected =
      driver_kind(m_settings.driver) == DriverKind::microsoft && !m_settings.certificate_host_name.empty()
          ? m_settings.certificate_host_name
          : m_settings.server;
  const TlsProbeResult probe = probe_tls({m_settings.server, m_settings.port, m_settings.ca_file, expected,
                                          std::chrono::seconds(std::max<long>(5, m_settings.login_timeout.count()))});
  log(fmt::format("mssql: TLS probe of {}: {} ({})", m_settings.endpoint(), to_string(probe.failure), probe.detail));
  if (turned_off && probe.server_requires_tls) return server_requires_encryption_error(error_context());
  if (probe.failure == TlsFailure::no_tls && !turned_off && m_settings.encrypt) return map_tls_failure(probe, error_context(), expected);
  const bool certificate_failure = probe.failure == TlsFailure::untrusted_certificate ||
                                   probe.failure == TlsFailure::expired_certificate ||
                                   probe.failure == TlsFailure::not_yet_valid_certificate ||
                                   probe.failure == TlsFailure::name_mismatch;
  if ((certificate_failure && verifies) || probe.failure == TlsFailure::handshake_failed) {
    return map_tls_failure(probe, error_context(), expected);
  }
  return std::nullopt;
}

void OdbcSession::close() { m_handles.reset(); }

Expected<void> OdbcSession::reconnect() {
  log(fmt::format("mssql: reconnecting to {}", m_settings.endpoint()));
  return open();
}

void OdbcSession::cancel() {
  m_cancel_requested = true;
  std::lock_guard lock(m_running_mutex);
  if (m_running_statement != nullptr) {
    log("mssql: cancelling the running statement");
    SQLCancel(static_cast<SQLHSTMT>(m_running_statement));
  }
}

Expected<QueryResult> OdbcSession::run(const Statement& statement, const MessageHandler& on_message) {
  m_cancel_requested = false;
  bool connection_failed = false;
  auto result = run_once(statement, on_message, connection_failed);
  // The link is gone: drop the handles (after run_once freed its statement) so that the next
  // statement reconnects.
  if (!result && connection_failed) close();
  if (!result && connection_failed && statement.options.idempotent == Idempotent::yes && !m_cancel_requested) {
    log(fmt::format("mssql: connection to {} lost ({}); reconnecting once to retry a read", m_settings.endpoint(),
                    result.error().message));
    if (auto re = reconnect(); !re) return tl::unexpected(std::move(re.error()));
    connection_failed = false;
    result = run_once(statement, on_message, connection_failed);
    if (!result && connection_failed) close();
  }
  return result;
}

Expected<QueryResult> OdbcSession::run_once(const Statement& st, const MessageHandler& on_message,
                                            bool& connection_failed) {
  if (!m_handles) M2R_TRY(open());
  StatementHandle stmt;
  if (!ok(SQLAllocHandle(SQL_HANDLE_STMT, m_handles->dbc, &stmt.handle))) {
    const auto diags = read_diagnostics(SQL_HANDLE_DBC, m_handles->dbc);
    connection_failed = true;
    return tl::unexpected(map_statement_error(diags, error_context()));
  }
  if (st.options.timeout.count() > 0) {
    SQLSetStmtAttr(stmt.handle, SQL_ATTR_QUERY_TIMEOUT,
                   reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(st.options.timeout.count())), 0);
  }

  // Parameters: buffers stay put (deque) until the statement is done.
  std::deque<ParamBuffer> buffers;
  for (std::size_t i = 0; i < st.params.size(); ++i) {
    const SqlParam& p = st.params[i];
    ParamBuffer& b = buffers.emplace_back();
    SQLSMALLINT c_type = SQL_C_CHAR;
    SQLSMALLINT sql_type = SQL_VARCHAR;
    SQLULEN column_size = 0;
    SQLSMALLINT digits = 0;
    const bool null = p.value.is_null();
    switch (p.type) {
      case ParamType::bit:
        c_type = SQL_C_BIT;
        sql_type = SQL_BIT;
        column_size = 1;
        if (!null) put(b, static_cast<unsigned char>(M2R_TRY(p.value.as_int64()) != 0));
        break;
      case ParamType::int32:
        c_type = SQL_C_SLONG;
        sql_type = SQL_INTEGER;
        column_size = 10;
        if (!null) put(b, static_cast<SQLINTEGER>(M2R_TRY(p.value.as_int64())));
        break;
      case ParamType::int64:
        c_type = SQL_C_SBIGINT;
        sql_type = SQL_BIGINT;
        column_size = 19;
        if (!null) put(b, static_cast<SQLBIGINT>(M2R_TRY(p.value.as_int64())));
        break;
      case ParamType::float64:
        c_type = SQL_C_DOUBLE;
        sql_type = SQL_DOUBLE;
        column_size = 15;
        if (!null) put(b, M2R_TRY(p.value.as_double()));
        break;
      case ParamType::decimal: {
        c_type = SQL_C_CHAR;
        sql_type = SQL_NUMERIC;
        column_size = static_cast<SQLULEN>(std::max(1, p.precision));
        digits = static_cast<SQLSMALLINT>(p.scale);
        if (!null) {
          const auto text = M2R_TRY(p.value.as_string());
          b.data.assign(text.begin(), text.end());
          b.data.push_back('\0');
          b.indicator = static_cast<SQLLEN>(text.size());
        }
        break;
      }
      case ParamType::nvarchar: {
        c_type = SQL_C_WCHAR;
        sql_type = SQL_WVARCHAR;
        std::u16string wide;
        if (!null) wide = utf8_to_utf16(M2R_TRY(p.value.as_string()));
        // nvarchar(n) up to 4000 characters; beyond, nvarchar(max) (column size 0).
        column_size = wide.size() > 4000 ? 0 : std::max<SQLULEN>(1, wide.size());
        if (wide.size() > 4000) sql_type = SQL_WLONGVARCHAR;
        if (!null) {
          b.data.resize((wide.size() + 1) * sizeof(char16_t));
          std::memcpy(b.data.data(), wide.data(), wide.size() * sizeof(char16_t));
          b.indicator = static_cast<SQLLEN>(wide.size() * sizeof(char16_t));
        }
        break;
      }
      case ParamType::varchar: {
        c_type = SQL_C_CHAR;
        sql_type = SQL_VARCHAR;
        std::string text;
        if (!null) text = M2R_TRY(p.value.as_string());
        column_size = text.size() > 8000 ? 0 : std::max<SQLULEN>(1, text.size());
        if (text.size() > 8000) sql_type = SQL_LONGVARCHAR;
        if (!null) {
          b.data.assign(text.begin(), text.end());
          b.data.push_back('\0');
          b.indicator = static_cast<SQLLEN>(text.size());
        }
        break;
      }
      case ParamType::varbinary: {
        c_type = SQL_C_BINARY;
        sql_type = SQL_VARBINARY;
        Bytes bytes;
        if (!null) bytes = M2R_TRY(p.value.as_bytes());
        column_size = bytes.data.size() > 8000 ? 0 : std::max<SQLULEN>(1, bytes.data.size());
        if (bytes.data.size() > 8000) sql_type = SQL_LONGVARBINARY;
        if (!null) {
          b.data.assign(bytes.data.begin(), bytes.data.end());
          if (b.data.empty()) b.data.push_back('\0');
          b.indicator = static_cast<SQLLEN>(bytes.data.size());
        }
        break;
      }
      case ParamType::datetime2:
        c_type = SQL_C_TYPE_TIMESTAMP;
        sql_type = SQL_TYPE_TIMESTAMP;
        digits = static_cast<SQLSMALLINT>(p.scale);
        column_size = static_cast<SQLULEN>(p.scale > 0 ? 20 + p.scale : 19);
        if (!null) {
          const auto text = M2R_TRY(p.value.as_string());
          put(b, M2R_TRY(parse_timestamp(text)));
        }
        break;
      case ParamType::uniqueidentifier:
        c_type = SQL_C_GUID;
        sql_type = SQL_GUID;
        column_size = 36;
        if (!null) {
          const auto text = M2R_TRY(p.value.as_string());
          put(b, M2R_TRY(parse_guid(text)));
        }
        break;
    }
    if (null) {
      b.data.assign(16, '\0');
      b.indicator = SQL_NULL_DATA;
    }
    const SQLRETURN rc =
        SQLBindParameter(stmt.handle, static_cast<SQLUSMALLINT>(i + 1), SQL_PARAM_INPUT, c_type, sql_type, column_size,
                         digits, b.data.data(), static_cast<SQLLEN>(b.data.size()), &b.indicator);
    if (!ok(rc)) {
      auto diags = read_diagnostics(SQL_HANDLE_STMT, stmt.handle);
      return tl::unexpected(Error(ErrorKind::fatal, fmt::format("could not bind parameter {}: {}", i + 1,
                                                                 diags.empty() ? "no diagnostics" : diags[0].text)));
    }
  }

  {
    std::lock_guard lock(m_running_mutex);
    m_running_statement = stmt.handle;
  }
  struct ClearRunning {
    OdbcSession& s;
    ~ClearRunning() {
      std::lock_guard lock(s.m_running_mutex);
      s.m_running_statement = nullptr;
    }
  } clear_running{*this};

  // The timeout is a deadline for the whole statement. The driver's SQL_ATTR_QUERY_TIMEOUT
  // alone is not: FreeTDS restarts it whenever a packet arrives, so a BACKUP that sends
  // progress messages would never time out. A watchdog cancels the statement at the deadline.
  std::atomic<bool> timed_out{false};
  struct Watchdog {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::thread thread;
    ~Watchdog() {
      {
        std::lock_guard lock(mutex);
        done = true;
      }
      cv.notify_all();
      if (thread.joinable()) thread.join();
    }
  } watchdog;
  if (st.options.timeout.count() > 0) {
    watchdog.thread = std::thread([this, &watchdog, &timed_out, timeout = st.options.timeout] {
      std::unique_lock lock(watchdog.mutex);
      if (watchdog.cv.wait_for(lock, timeout, [&] { return watchdog.done; })) return;
      timed_out = true;
      std::lock_guard running(m_running_mutex);
      if (m_running_statement != nullptr) SQLCancel(static_cast<SQLHSTMT>(m_running_statement));
    });
  }

  const std::string shown = st.options.carries_secret ? std::string("<a statement carrying a secret, not shown>")
                            : st.sql.size() > 300        ? st.sql.substr(0, 300) + "..."
                                                         : st.sql;
  log(fmt::format("mssql: executing on {}: {}{}", describe(), shown,
                  st.params.empty() ? "" : fmt::format(" ({} parameters)", st.params.size())));

  QueryResult result;
  std::vector<SqlMessage> diagnostics;  // everything, for the error mapping
  bool failed = false;
  const auto take_diagnostics = [&] {
    for (auto& m : read_diagnostics(SQL_HANDLE_STMT, stmt.handle)) {
      if (m.sqlstate == "01004") continue;  // string truncated: our own chunked reads
      if (m.is_error() || (!m.sqlstate.empty() && m.sqlstate.rfind("01", 0) != 0)) failed = true;
      if (on_message) on_message(m);
      if (!m.is_error() && m.sqlstate.rfind("01", 0) == 0) result.messages.push_back(m);
      diagnostics.push_back(std::move(m));
    }
  };

  if (m_cancel_requested) SQLCancel(stmt.handle);
  SQLRETURN rc = SQLExecDirect(stmt.handle, reinterpret_cast<SQLCHAR*>(const_cast<char*>(st.sql.c_str())),
                               static_cast<SQLINTEGER>(st.sql.size()));
  while (true) {
    if (rc == SQL_SUCCESS_WITH_INFO || rc == SQL_ERROR) take_diagnostics();
    if (rc == SQL_ERROR || rc == SQL_INVALID_HANDLE) {
      failed = true;
      break;
    }
    // SQL_NO_DATA from SQLExecDirect: a statement that touched no rows; go on to the next result.
    if (rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO) {
      SQLSMALLINT ncols = 0;
      SQLNumResultCols(stmt.handle, &ncols);
      if (ncols > 0) {
        ResultSet set;
        for (SQLSMALLINT c = 1; c <= ncols; ++c) {
          SQLCHAR name[256] = {};
          SQLSMALLINT name_len = 0, data_type = 0, digits = 0, nullable = 0;
          SQLULEN size = 0;
          SQLDescribeCol(stmt.handle, static_cast<SQLUSMALLINT>(c), name, sizeof(name), &name_len, &data_type, &size,
                         &digits, &nullable);
          SQLCHAR type_name[128] = {};
          SQLSMALLINT type_name_len = 0;
          SQLColAttribute(stmt.handle, static_cast<SQLUSMALLINT>(c), SQL_DESC_TYPE_NAME, type_name, sizeof(type_name),
                          &type_name_len, nullptr);
          SqlColumn col;
          col.name = reinterpret_cast<const char*>(name);
          col.type_name = reinterpret_cast<const char*>(type_name);
          col.type = sql_type_of(data_type, col.type_name);
          col.size = static_cast<std::int64_t>(size);
          if (col.type == SqlType::decimal) {
            col.precision = static_cast<int>(size);
            col.scale = digits;
          } else if (col.type == SqlType::datetime2 || col.type == SqlType::time) {
            col.scale = digits;
          }
          col.nullable = nullable != SQL_NO_NULLS;
          set.columns.push_back(std::move(col));
        }
        bool fetch_failed = false;
        for (;;) {
          const SQLRETURN frc = SQLFetch(stmt.handle);
          if (frc == SQL_NO_DATA) break;
          if (frc == SQL_SUCCESS_WITH_INFO || frc == SQL_ERROR) take_diagnostics();
          if (!ok(frc)) {
            fetch_failed = true;
            break;
          }
          SqlRow row;
          row.reserve(set.columns.size());
          for (std::size_t c = 0; c < set.columns.size() && !fetch_failed; ++c) {
            const auto col_no = static_cast<SQLUSMALLINT>(c + 1);
            const SqlType type = set.columns[c].type;
            SQLLEN ind = 0;
            SQLRETURN grc = SQL_SUCCESS;
            switch (type) {
              case SqlType::bit:
              case SqlType::tinyint:
              case SqlType::smallint:
              case SqlType::int_:
              case SqlType::bigint: {
                SQLBIGINT v = 0;
                grc = SQLGetData(stmt.handle, col_no, SQL_C_SBIGINT, &v, sizeof(v), &ind);
                row.emplace_back(ind == SQL_NULL_DATA ? SqlValue() : SqlValue(static_cast<std::int64_t>(v)));
                break;
              }
              case SqlType::real:
              case SqlType::float_: {
                double v = 0;
                grc = SQLGetData(stmt.handle, col_no, SQL_C_DOUBLE, &v, sizeof(v), &ind);
                row.emplace_back(ind == SQL_NULL_DATA ? SqlValue() : SqlValue(v));
                break;
              }
              case SqlType::binary:
              case SqlType::varbinary: {
                Bytes bytes;
                std::vector<std::uint8_t> chunk(k_chunk_bytes);
                bool is_null = false;
                for (;;) {
                  grc = SQLGetData(stmt.handle, col_no, SQL_C_BINARY, chunk.data(), static_cast<SQLLEN>(chunk.size()), &ind);
                  if (grc == SQL_NO_DATA) {
                    grc = SQL_SUCCESS;
                    break;
                  }
                  if (!ok(grc)) break;
                  if (ind == SQL_NULL_DATA) {
                    is_null = true;
                    break;
                  }
                  const auto got = (ind == SQL_NO_TOTAL || ind > static_cast<SQLLEN>(chunk.size()))
                                       ? chunk.size()
                                       : static_cast<std::size_t>(ind);
                  bytes.data.insert(bytes.data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
                  if (grc == SQL_SUCCESS) break;
                }
                row.emplace_back(is_null ? SqlValue() : SqlValue(std::move(bytes)));
                break;
              }
              case SqlType::char_:
              case SqlType::varchar:
              case SqlType::nchar:
              case SqlType::nvarchar:
              case SqlType::unknown: {
                // Wide reads: text arrives as UTF-16 whatever the locale, converted here.
                std::u16string wide;
                std::vector<char16_t> chunk(k_chunk_bytes / sizeof(char16_t));
                bool is_null = false;
                for (;;) {
                  grc = SQLGetData(stmt.handle, col_no, SQL_C_WCHAR, chunk.data(),
                                   static_cast<SQLLEN>(chunk.size() * sizeof(char16_t)), &ind);
                  if (grc == SQL_NO_DATA) {
                    grc = SQL_SUCCESS;
                    break;
                  }
                  if (!ok(grc)) break;
                  if (ind == SQL_NULL_DATA) {
                    is_null = true;
                    break;
                  }
                  const std::size_t room = chunk.size() - 1;  // the driver terminates each chunk
                  const std::size_t got =
                      (ind == SQL_NO_TOTAL || static_cast<std::size_t>(ind) / sizeof(char16_t) > room)
                          ? room
                          : static_cast<std::size_t>(ind) / sizeof(char16_t);
                  wide.append(chunk.data(), got);
                  if (grc == SQL_SUCCESS) break;
                }
                row.emplace_back(is_null ? SqlValue() : SqlValue(utf16_to_utf8(wide)));
                break;
              }
              default: {
                // decimal, date and time, uniqueidentifier: the driver's exact text.
                char buf[128] = {};
                grc = SQLGetData(stmt.handle, col_no, SQL_C_CHAR, buf, sizeof(buf), &ind);
                if (ind == SQL_NULL_DATA) {
                  row.emplace_back();
                } else {
                  std::string text(buf);
                  if (type == SqlType::decimal) text = normalize_decimal(text);
                  if (type == SqlType::uniqueidentifier) {
                    std::transform(text.begin(), text.end(), text.begin(),
                                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
                  }
                  row.emplace_back(std::move(text));
                }
                break;
              }
            }
            if (!ok(grc)) {
              take_diagnostics();
              fetch_failed = true;
            }
          }
          if (fetch_failed) break;
          set.rows.push_back(std::move(row));
        }
        result.result_sets.push_back(std::move(set));
        if (fetch_failed) {
          failed = true;
          break;
        }
      } else {
        SQLLEN count = -1;
        if (ok(SQLRowCount(stmt.handle, &count)) && count >= 0) result.rows_affected = count;
      }
    }
    if (m_cancel_requested) {
      SQLCancel(stmt.handle);
      diagnostics.push_back(SqlMessage{0, 0, 0, "cancelled", 0, "HY008", std::chrono::steady_clock::now()});
      failed = true;
      break;
    }
    rc = SQLMoreResults(stmt.handle);
    if (rc == SQL_NO_DATA) break;
  }

  const bool server_error = std::any_of(diagnostics.begin(), diagnostics.end(), [](const SqlMessage& m) {
    return m.is_error() || (!m.sqlstate.empty() && m.sqlstate.rfind("01", 0) != 0);
  });
  if (failed || server_error || timed_out) {
    if (timed_out) {
      diagnostics.insert(diagnostics.begin(),
                         SqlMessage{0, 0, 0, fmt::format("the statement ran longer than its {} s timeout",
                                                         st.options.timeout.count()),
                                    0, "HYT00", std::chrono::steady_clock::now()});
    } else if (m_cancel_requested &&
        std::none_of(diagnostics.begin(), diagnostics.end(), [](const SqlMessage& m) { return is_cancelled(m); })) {
      diagnostics.push_back(SqlMessage{0, 0, 0, "cancelled", 0, "HY008", std::chrono::steady_clock::now()});
    }
    connection_failed =
        std::any_of(diagnostics.begin(), diagnostics.end(), [](const SqlMessage& m) { return is_connection_failure(m); });
    const bool raised_by_server = std::any_of(diagnostics.begin(), diagnostics.end(),
                                              [](const SqlMessage& m) { return m.number > 0 && m.is_error(); });
    if (!connection_failed && !raised_by_server && !timed_out && !m_cancel_requested) {
      // FreeTDS reports a link the server closed as HY000 "Unknown error"; ask the driver.
      SQLUINTEGER dead = SQL_CD_FALSE;
      if (ok(SQLGetConnectAttr(m_handles->dbc, SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) && dead == SQL_CD_TRUE) {
        diagnostics.insert(diagnostics.begin(), SqlMessage{0, 0, 0, "the connection to the server is closed", 0, "08S01",
                                                           std::chrono::steady_clock::now()});
        connection_failed = true;
      }
    }
    Error e = map_statement_error(diagnostics, error_context());
    // A server's message may quote the statement ("Incorrect syntax near ..."): withheld too.
    log(st.options.carries_secret
            ? fmt::format("mssql: a statement carrying a secret failed on {} (message not shown)", describe())
            : fmt::format("mssql: statement failed on {}: {}", describe(), e.message));
    return tl::unexpected(std::move(e));
  }
  return result;
}

}  // namespace m2r::mssql
