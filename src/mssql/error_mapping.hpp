#pragma once
// SQL Server's errors (number, severity, state, text) and the ODBC driver's SQLSTATEs,
// mapped to the product's error kinds with a hint that names the fix.
#include <string>
#include <vector>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"
#include "mssql/tls_probe.hpp"

namespace m2r::mssql {

// What a message or hint may name about the connection. Never the password.
struct ErrorContext {
  std::string endpoint;      // "host:port"
  std::string database;
  std::string login;
  std::string password_env;  // the variable's name
  std::string config_section;  // "source" or "target": where the fix goes
  std::string ca_file;         // empty: the system's trust store
};

// SQL Server message numbers the mapping knows (docs/facts.md §10 and the documentation of each).
namespace sql_error {
inline constexpr int k_lock_timeout = 1222;  // "Lock request time out period exceeded." (SET LOCK_TIMEOUT)
inline constexpr int k_deadlock_victim = 1205;  // "... was deadlocked ... and has been chosen as the deadlock victim."
inline constexpr int k_login_failed = 18456;
inline constexpr int k_cannot_open_database = 4060;   // "Cannot open database ... requested by the login"
inline constexpr int k_database_exists = 1801;
inline constexpr int k_backup_terminating = 3013;     // follows the real cause of a failed BACKUP/RESTORE
inline constexpr int k_backup_device_error = 3201;
inline constexpr int k_incompatible_version = 3169;
inline constexpr int k_log_backup_simple = 4208;
inline constexpr int k_no_current_backup = 4214;
inline constexpr int k_invalid_object = 208;
inline constexpr int k_missing_procedure = 2812;
inline constexpr int k_missing_database = 911;
inline constexpr int k_permission_denied = 229;
inline constexpr int k_server_permission_denied = 300;
inline constexpr int k_permission_denied_in_database = 262;
}  // namespace sql_error

// A statement that waited longer than SET LOCK_TIMEOUT for a lock: its message carries
// "error 1222 " as the mapping words SQL Server's errors.
inline bool is_lock_timeout(const Error& e) {
  return e.message.find("error " + std::to_string(sql_error::k_lock_timeout) + " ") != std::string::npos;
}
// A transaction SQL Server rolled back to break a deadlock (1205): run it again.
inline bool is_deadlock_victim(const Error& e) {
  return e.message.find("error " + std::to_string(sql_error::k_deadlock_victim) + " ") != std::string::npos;
}

// A connection-level failure: the link is gone or never came up (SQLSTATE class 08, or the
// driver's own "read/write failed" numbers), as opposed to an error SQL Server raised.
bool is_connection_failure(const SqlMessage& message);
bool is_timeout(const SqlMessage& message);    // HYT00 / HYT01
bool is_cancelled(const SqlMessage& message);  // HY008

// The error of a statement from every diagnostic it produced (informational ones are ignored;
// the first error names the cause, later ones such as 3013 are appended).
Error map_statement_error(const std::vector<SqlMessage>& diagnostics, const ErrorContext& context);

// The error of a failed connection attempt.
Error map_connect_error(const std::vector<SqlMessage>& diagnostics, const ErrorContext& context);

// The error for a TLS failure the probe found (mssql/tls_probe.hpp): the cause and the fix,
// ErrorKind::tls. expected_name: the name the certificate was checked against.
Error map_tls_failure(const TlsProbeResult& probe, const ErrorContext& context, const std::string& expected_name);

// The server requires encryption (PRELOGIN ENCRYPT_REQ) and odbc_connection_string turns it off.
Error server_requires_encryption_error(const ErrorContext& context);

// "SQL Server error 4208 (severity 16, state 1): <text>"
std::string describe_message(const SqlMessage& message);

}  // namespace m2r::mssql
