#include "dms/endpoint_connection.hpp"

#include <sql.h>
#include <sqlext.h>

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "mssql/freetds_conf.hpp"
#include "mssql/odbc_session.hpp"

namespace sandbox::dms {

namespace {

bool ok(SQLRETURN rc) { return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO; }

std::vector<LoginDiagnostic> read_diagnostics(SQLHDBC dbc) {
  std::vector<LoginDiagnostic> out;
  for (SQLSMALLINT rec = 1;; ++rec) {
    SQLCHAR state[8] = {};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    SQLCHAR text[1024] = {};
    if (!ok(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, rec, state, &native, text, static_cast<SQLSMALLINT>(sizeof text), &len)))
      break;
    std::string message(reinterpret_cast<const char*>(text));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    out.push_back({reinterpret_cast<const char*>(state), static_cast<int>(native), std::move(message)});
  }
  return out;
}

// FreeTDS numbers its own (client-side) messages from 20000 (sybdb.h's SYBE* codes).
bool from_sql_server(const LoginDiagnostic& d) { return d.native_error > 0 && d.native_error < 20000; }

struct OdbcHandles {
  SQLHENV env = SQL_NULL_HENV;
  SQLHDBC dbc = SQL_NULL_HDBC;
  bool connected = false;
  ~OdbcHandles() {
    if (connected) SQLDisconnect(dbc);
    if (dbc != SQL_NULL_HDBC) SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    if (env != SQL_NULL_HENV) SQLFreeHandle(SQL_HANDLE_ENV, env);
  }
};

}  // namespace

m2r::mssql::ConnectionSettings endpoint_connection_settings(const EndpointSpec& endpoint, const std::string& ca_file) {
  m2r::mssql::ConnectionSettings s;
  s.server = endpoint.server_name;
  s.port = static_cast<std::uint16_t>(endpoint.port);
  s.database = endpoint.database_name;
  s.login = endpoint.username;
  s.application_name = "AWS DMS (sandbox)";
  s.login_timeout = std::chrono::seconds(15);
  const std::string mode = endpoint.ssl_mode.empty() ? "none" : endpoint.ssl_mode;
  if (mode == "none") {
    s.encrypt = false;
    s.trust_server_certificate = true;  // nothing is verified without verify-ca / verify-full
  } else if (mode == "require") {
    s.encrypt = true;
    s.trust_server_certificate = true;
  } else {  // verify-ca, verify-full
    s.encrypt = true;
    s.trust_server_certificate = false;
    s.ca_file = ca_file;
  }
  return s;
}

std::optional<LoginDiagnostic> login_to_endpoint(const EndpointSpec& endpoint, const std::string& ca_file) {
  const auto settings = endpoint_connection_settings(endpoint, ca_file);
  auto cs = m2r::mssql::build_connection_string(settings, m2r::mssql::Secret(endpoint.password),
                                                m2r::mssql::system_driver_catalog());
  if (!cs) return LoginDiagnostic{"IM002", 0, "[unixODBC]" + cs.error().message};
  if (cs->freetds_section) {
    if (auto installed = m2r::mssql::install_freetds_section(*cs->freetds_section); !installed)
      return LoginDiagnostic{"HY000", 0, "[unixODBC]" + installed.error().message};
  }
  auto h = std::make_unique<OdbcHandles>();
  if (!ok(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &h->env)) ||
      !ok(SQLSetEnvAttr(h->env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0)) ||
      !ok(SQLAllocHandle(SQL_HANDLE_DBC, h->env, &h->dbc)))
    return LoginDiagnostic{"HY001", 0, "[unixODBC]could not allocate ODBC handles"};
  SQLSetConnectAttr(h->dbc, SQL_ATTR_LOGIN_TIMEOUT,
                    reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(settings.login_timeout.count())), 0);
  // The connection string holds the password: it goes to the driver and nowhere else.
  const SQLRETURN rc = SQLDriverConnect(h->dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs->value.data()),
                                        static_cast<SQLSMALLINT>(cs->value.size()), nullptr, 0, nullptr,
                                        SQL_DRIVER_NOPROMPT);
  if (ok(rc)) {
    h->connected = true;
    return std::nullopt;
  }
  const auto diagnostics = read_diagnostics(h->dbc);
  if (diagnostics.empty()) return LoginDiagnostic{"08001", 0, "[unixODBC]the connection failed without a diagnostic"};
  // The server's own error names the cause; the driver's generic "Unable to connect" only
  // when there is none (the link never came up).
  for (const auto& d : diagnostics)
    if (from_sql_server(d)) return d;
  return diagnostics.front();
}

std::string test_endpoint_failure_message(const LoginDiagnostic& d) {
  std::string message = d.message;
  // DMS's replication instance runs Microsoft's driver under unixODBC.
  if (message.rfind("[FreeTDS]", 0) == 0)
    message = "[unixODBC][Microsoft][ODBC Driver 17 for SQL Server]" + message.substr(9);
  const bool network = d.sqlstate.rfind("08", 0) == 0 || d.sqlstate == "HYT00";
  const char* application_message =
      d.native_error == 18456 || d.sqlstate == "28000"
          ? "Cannot connect to SQL Server Authentication failed"
          : network && !from_sql_server(d) ? "Cannot connect to ODBC provider Network error has occurred"
                                           : "Cannot connect to ODBC provider ODBC general error.";
  return fmt::format("Test Endpoint failed: Application-Status: 1020912, Application-Message: {}, "
                     "Application-Detailed-Message: RetCode: SQL_ERROR SqlState: {} NativeError: {} Message: {}",
                     application_message, d.sqlstate, d.native_error, message);
}

ConnectionTester odbc_connection_tester(std::string ca_file) {
  return [ca_file = std::move(ca_file)](const EndpointSpec& endpoint) -> std::optional<std::string> {
    if (endpoint.engine_name != "sqlserver")
      return "Test Endpoint failed: the sandbox's DMS connects to SQL Server endpoints only, not " + endpoint.engine_name;
    if (auto failure = login_to_endpoint(endpoint, ca_file)) return test_endpoint_failure_message(*failure);
    return std::nullopt;
  };
}

}  // namespace sandbox::dms
