#include "mssql/error_mapping.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace m2r::mssql {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// FreeTDS's own client-side message numbers for a broken link (its db-lib/ct-lib numbering,
// reused in the ODBC driver's native error): 20004 read failed, 20006 write failed,
// 20017 unexpected EOF, 20009 unable to connect.
bool is_freetds_link_error(int number) {
  return number == 20004 || number == 20006 || number == 20017 || number == 20009;
}

const SqlMessage* first_error(const std::vector<SqlMessage>& diagnostics) {
  for (const auto& m : diagnostics) {
    if (m.is_error() || (!m.sqlstate.empty() && !starts_with(m.sqlstate, "01"))) return &m;
  }
  return nullptr;
}

std::string all_errors(const std::vector<SqlMessage>& diagnostics, const SqlMessage& primary) {
  std::string out = describe_message(primary);
  for (const auto& m : diagnostics) {
    if (&m == &primary || !(m.is_error() || (!m.sqlstate.empty() && !starts_with(m.sqlstate, "01")))) continue;
    if (m.number == primary.number && m.text == primary.text) continue;
    out += "; " + describe_message(m);
  }
  return out;
}

std::string password_hint(const ErrorContext& c) {
  if (c.password_env.empty()) return fmt::format("check the login '{}' and the password typed at the prompt", c.login);
  return fmt::format("check the login '{}' in the config and the password in the environment variable {}", c.login,
                     c.password_env);
}

}  // namespace

std::string describe_message(const SqlMessage& m) {
  if (m.number == 0 && m.severity == 0) return fmt::format("[{}] {}", m.sqlstate, m.text);
  return fmt::format("SQL Server error {} (severity {}, state {}): {}", m.number, m.severity, m.state, m.text);
}

bool is_connection_failure(const SqlMessage& m) {
  return starts_with(m.sqlstate, "08") || is_freetds_link_error(m.number);
}
bool is_timeout(const SqlMessage& m) { return m.sqlstate == "HYT00" || m.sqlstate == "HYT01"; }
bool is_cancelled(const SqlMessage& m) { return m.sqlstate == "HY008"; }

Error map_statement_error(const std::vector<SqlMessage>& diagnostics, const ErrorContext& c) {
  const SqlMessage* primary = first_error(diagnostics);
  if (primary == nullptr) {
    return Error(ErrorKind::fatal, fmt::format("a statement on {} failed without saying why", c.endpoint));
  }
  // A timeout or a cancel is reported with the SQLSTATE; look for it anywhere.
  for (const auto& m : diagnostics) {
    if (is_timeout(m)) {
      return Error(ErrorKind::timeout, fmt::format("a statement on {} did not finish in time ({})", c.endpoint, m.text),
                   "raise the statement's timeout, or look for what blocks it on the server (sp_who2, blocking sessions)");
    }
    if (is_cancelled(m)) return Error(ErrorKind::fatal, fmt::format("the statement on {} was cancelled", c.endpoint));
  }
  const std::string text = all_errors(diagnostics, *primary);
  if (is_connection_failure(*primary)) {
    return Error(ErrorKind::retryable, fmt::format("the connection to {} broke: {}", c.endpoint, text),
                 fmt::format("check that SQL Server at {} is up and reachable, then run the command again", c.endpoint));
  }
  using namespace sql_error;
  switch (primary->number) {
    case k_login_failed:
      return Error(ErrorKind::auth, text, password_hint(c));
    case k_cannot_open_database:
    case k_missing_database:
      return Error(ErrorKind::not_found, text,
                   fmt::format("check the database name '{}' and that the login '{}' may use it", c.database, c.login));
    case k_invalid_object:
    case k_missing_procedure:
      return Error(ErrorKind::not_found, text, "check the object's name and the current database");
    case k_database_exists:
      return Error(ErrorKind::conflict, text, "choose another database name, or drop the existing database first");
    case k_log_backup_simple:
      return Error(ErrorKind::prerequisite, text,
                   "set the recovery model to FULL (ALTER DATABASE ... SET RECOVERY FULL) and take a full backup");
    case k_no_current_backup:
      return Error(ErrorKind::prerequisite, text, "take a full backup of the database first");
    case k_backup_device_error:
      return Error(ErrorKind::prerequisite, text,
                   "check that the backup directory exists on the SQL Server host and that the SQL Server service account "
                   "may write to it");
    case k_incompatible_version:
      return Error(ErrorKind::prerequisite, text,
                   "restore on a SQL Server of the same or a newer major version than the source");
    case k_backup_terminating:
      return Error(ErrorKind::prerequisite, text, "the messages before this one name the cause");
    case k_permission_denied:
    case k_server_permission_denied:
    case k_permission_denied_in_database:
      return Error(ErrorKind::prerequisite, text,
                   fmt::format("grant the login '{}' the permission named above (see docs: source permissions)", c.login));
    default:
      // A refusal the mapping has no fix of its own for (log full, a constraint, ...): the
      // server's words name the cause; it is not a bug of the tool.
      return Error(ErrorKind::refused, text,
                   fmt::format("the message of SQL Server at {} names the cause: fix it, then run the command again "
                               "(what is done is kept)",
                               c.endpoint));
  }
}

Error map_tls_failure(const TlsProbeResult& p, const ErrorContext& c, const std::string& expected_name) {
  const std::string section = c.config_section.empty() ? "the connection" : "[" + c.config_section + "]";
  const std::string bundle = c.ca_file.empty() ? "the system's trust store" : c.ca_file;
  const std::string names = p.certificate_names.empty() ? "no host name" : fmt::format("{}", fmt::join(p.certificate_names, ", "));
  const std::string ca_fix = fmt::format(
      "set {} ca_file to the CA bundle that signed the server's certificate (RDS: global-bundle.pem from "
      "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem); trust_server_certificate = true would accept "
      "any certificate, an impostor's too",
      section);
  switch (p.failure) {
    case TlsFailure::untrusted_certificate:
      return Error(ErrorKind::tls,
                   fmt::format("the TLS certificate of SQL Server at {} is not signed by a CA in {} ({})", c.endpoint,
                               bundle, p.detail),
                   ca_fix);
    case TlsFailure::expired_certificate:
      return Error(ErrorKind::tls,
                   fmt::format("the TLS certificate of SQL Server at {} expired on {}", c.endpoint, p.not_after),
                   "renew the server's certificate (RDS: move the instance to a current CA with aws rds "
                   "modify-db-instance --ca-certificate-identifier); nothing was changed");
    case TlsFailure::not_yet_valid_certificate:
      return Error(ErrorKind::tls, fmt::format("the TLS certificate of SQL Server at {} is not valid yet", c.endpoint),
                   "check the clocks of this host and of the server, or the certificate's start date");
    case TlsFailure::name_mismatch:
      return Error(ErrorKind::tls,
                   fmt::format("the TLS certificate of SQL Server at {} names {}, not {}", c.endpoint, names,
                               expected_name),
                   fmt::format("connect to {} by a name the certificate carries (server, or [target] host_override); "
                               "through a tunnel, FreeTDS 1.3 checks the certificate against the tunnel's address: "
                               "use Microsoft's ODBC Driver 18 (it checks the RDS endpoint's name) or FreeTDS 1.5",
                               c.endpoint));
    case TlsFailure::no_tls:
      return Error(ErrorKind::tls,
                   fmt::format("SQL Server at {} offers no encryption (PRELOGIN ENCRYPT_NOT_SUP)", c.endpoint),
                   "give the server a certificate (SQL Server Configuration Manager: Certificate, Force Encryption); "
                   "without TLS the password would cross the network in clear");
    case TlsFailure::handshake_failed:
      return Error(ErrorKind::tls, fmt::format("the TLS handshake with SQL Server at {} failed: {}", c.endpoint, p.detail),
                   "the server must offer TLS 1.2 or newer with a certificate this host can verify");
    case TlsFailure::none:
    case TlsFailure::unreachable:
      break;
  }
  return Error(ErrorKind::fatal, fmt::format("TLS to SQL Server at {}: {}", c.endpoint, p.detail));
}

Error server_requires_encryption_error(const ErrorContext& c) {
  return Error(ErrorKind::tls,
               fmt::format("SQL Server at {} requires encryption (rds.force_ssl = 1, or Force Encryption) and closed the "
                           "connection after PRELOGIN: odbc_connection_string turns encryption off (Encryption=off)",
                           c.endpoint),
               "remove Encryption=off from odbc_connection_string (or the whole string: the product always encrypts "
               "at least the login)");
}

Error map_connect_error(const std::vector<SqlMessage>& diagnostics, const ErrorContext& c) {
  const auto has = [&](auto pred) { return std::any_of(diagnostics.begin(), diagnostics.end(), pred); };
  const SqlMessage* primary = first_error(diagnostics);
  const std::string text = primary ? all_errors(diagnostics, *primary) : std::string("no diagnostics");
  if (has([](const SqlMessage& m) { return m.number == sql_error::k_login_failed; })) {
    return Error(ErrorKind::auth, fmt::format("SQL Server at {} refused the login: {}", c.endpoint, text), password_hint(c));
  }
  if (has([](const SqlMessage& m) { return m.number == sql_error::k_cannot_open_database; })) {
    return Error(ErrorKind::not_found, fmt::format("SQL Server at {} cannot open the database: {}", c.endpoint, text),
                 fmt::format("check the database name '{}' and that the login '{}' may use it", c.database, c.login));
  }
  if (has([](const SqlMessage& m) {
        return m.sqlstate == "IM002" || m.text.find("Can't open lib") != std::string::npos;  // unixODBC's words
      })) {
    return Error(ErrorKind::prerequisite, fmt::format("the ODBC driver could not be loaded: {}", text),
                 "install the driver (tdsodbc for FreeTDS, msodbcsql18 for Microsoft's) or fix driver in the config");
  }
  if (has([](const SqlMessage& m) { return is_timeout(m); })) {
    return Error(ErrorKind::timeout, fmt::format("connecting to SQL Server at {} timed out: {}", c.endpoint, text),
                 fmt::format("check that {} is reachable from this host (firewall, security group, VPN)", c.endpoint));
  }
  if (has([](const SqlMessage& m) { return is_connection_failure(m); }) || primary == nullptr) {
    return Error(ErrorKind::retryable, fmt::format("could not connect to SQL Server at {}: {}", c.endpoint, text),
                 fmt::format("check that SQL Server is running at {} and that the port is reachable from this host; "
                             "with encrypt = true the server must offer TLS",
                             c.endpoint));
  }
  return Error(ErrorKind::refused, fmt::format("could not connect to SQL Server at {}: {}", c.endpoint, text),
               fmt::format("the message names why SQL Server at {} refused the connection", c.endpoint));
}

}  // namespace m2r::mssql
