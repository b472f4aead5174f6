#pragma once
// SqlSession over unixODBC, for FreeTDS's driver (tdsodbc) or Microsoft's ODBC Driver 18.
//
// Messages: SQL Server sends BACKUP ... WITH STATS progress (3211 "n percent processed.")
// as INFO tokens while the statement runs (docs/facts.md §8). When the driver returns
// SQL_SUCCESS_WITH_INFO the session reads the diagnostics, hands them to the MessageHandler
// and calls SQLMoreResults for more. How early they come is the driver's choice: FreeTDS's
// keeps reading through INFO and DONEINPROC tokens until the statement's final DONE, so with
// it they all arrive when the statement ends. Live progress of a long statement comes from
// a second session instead (request_progress.hpp).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "mssql/connection_string.hpp"
#include "mssql/error_mapping.hpp"
#include "mssql/secret.hpp"
#include "mssql/sql_session.hpp"

namespace m2r::mssql {

// Receives the session's log lines (connects, statements, retries, errors). Lines never
// contain the password: the connection string is logged in its redacted form only.
using LogFn = std::function<void(std::string_view line)>;

// Drivers registered with unixODBC (SQLDrivers) and a file check, for resolve_driver().
DriverCatalog system_driver_catalog();

class OdbcSession final : public SqlSession {
 public:
  // Connects (SQLDriverConnect) with the settings' login timeout.
  static Expected<std::unique_ptr<OdbcSession>> connect(const ConnectionSettings& settings, Secret password,
                                                        LogFn log = {});
  // Resolves the password (environment variable or prompt) and the driver, then connects.
  static Expected<std::unique_ptr<OdbcSession>> connect(const ConnectionSettings& settings,
                                                        const PasswordSources& sources, LogFn log = {});

  ~OdbcSession() override;
  OdbcSession(const OdbcSession&) = delete;
  OdbcSession& operator=(const OdbcSession&) = delete;

  Expected<QueryResult> run(const Statement& statement, const MessageHandler& on_message) override;
  void cancel() override;
  std::string describe() const override;

  // Reconnects (used after a connection-level failure; public for tests and long waits).
  Expected<void> reconnect();

 private:
  struct Handles;
  OdbcSession(ConnectionSettings settings, Secret password, OdbcConnectionString connection_string, LogFn log);
  Expected<void> open();
  void close();
  // A precise TLS error (mssql/tls_probe.hpp) when TLS is what made the connection fail.
  std::optional<Error> diagnose_tls(const Error& connect_error) const;
  Expected<QueryResult> run_once(const Statement& statement, const MessageHandler& on_message,
                                 bool& connection_failed);
  void log(std::string_view line) const;
  ErrorContext error_context() const;

  ConnectionSettings m_settings;
  Secret m_password;
  OdbcConnectionString m_connection_string;
  LogFn m_log;
  std::unique_ptr<Handles> m_handles;
  // The statement handle that runs now (null when idle), for cancel() from another thread.
  std::mutex m_running_mutex;
  void* m_running_statement = nullptr;
  std::atomic<bool> m_cancel_requested{false};
};

}  // namespace m2r::mssql
