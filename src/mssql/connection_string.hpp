#pragma once
// The ODBC connection string for a source or target SQL Server, for either driver users may
// choose through unixODBC: FreeTDS (tdsodbc, used by the tests) or Microsoft's "ODBC Driver
// 18 for SQL Server". Pure: the driver catalog and the password are inputs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "mssql/secret.hpp"

namespace m2r::mssql {

// What a connection needs, from a SourceConfig or a TargetConfig.
struct ConnectionSettings {
  std::string server;
  std::uint16_t port = 1433;
  std::string database;
  std::string login;
  std::string password_env;  // the name of the variable, never its value
  std::string driver = "FreeTDS";
  // encrypt = false still encrypts the login packet (FreeTDS Encryption=request, Microsoft's
  // Encrypt=no): the password never travels in clear; the rest of the session does.
  bool encrypt = true;
  bool trust_server_certificate = false;
  std::string ca_file;  // the CA bundle that verifies the server; empty = the system's trust store
  // The name the server's certificate must carry when it differs from server (host_override:
  // a tunnel to an RDS endpoint); empty = server.
  std::string certificate_host_name;
  // When set, replaces driver, server, port, database and encryption; UID and PWD are added
  // from login and the password. It may not carry a password itself (secrets never live in
  // the config file).
  std::string odbc_connection_string;
  std::chrono::seconds login_timeout{15};
  std::string config_section;  // "source" / "target": where messages say the fix goes
  std::string application_name = "mssql2rds";

  std::string endpoint() const;  // "server:port" for messages, or "the ODBC connection string"
};
ConnectionSettings settings_for(const SourceConfig& source);
// host and port come from the RDS endpoint or TargetConfig::host_override.
ConnectionSettings settings_for(const TargetConfig& target, std::string host, std::uint16_t port);

enum class DriverKind { freetds, microsoft, other };
DriverKind driver_kind(const std::string& driver);

// Which drivers unixODBC knows (names registered in odbcinst.ini) and which files exist.
struct DriverCatalog {
  std::vector<std::string> registered;
  std::function<bool(const std::string& path)> file_exists;
};

// Where tdsodbc installs its driver when it is not registered by name.
const std::vector<std::string>& freetds_driver_paths();

// The value for Driver=: the registered name (case-insensitively matched) when unixODBC knows
// it, a path given as the driver, or for FreeTDS the installed libtdsodbc.so.
Expected<std::string> resolve_driver(const std::string& driver, const DriverCatalog& catalog);

// FreeTDS 1.3 (Debian 12's tdsodbc) verifies a certificate only with a "ca file", which it
// reads from freetds.conf and from no connection-string attribute (FreeTDS 1.5 added
// ServerCertificate), so a verified FreeTDS connection names a freetds.conf section of its
// own (Servername=) that mssql/freetds_conf.hpp installs before connecting.
struct FreeTdsSection {
  std::string name;
  std::string text;  // "[name]\n\thost = ...\n..." (no secret)
};

struct OdbcConnectionString {
  std::string value;     // handed to SQLDriverConnect only; contains the password
  std::string redacted;  // the same with PWD={***}: the only form that may be logged
  std::optional<FreeTdsSection> freetds_section;
};

// odbc_connection_string asks for no encryption at all (FreeTDS Encryption=off, which sends
// ENCRYPT_NOT_SUP; Encrypt=no for Microsoft's driver encrypts the login still, so it is not).
bool encryption_turned_off(const std::string& odbc_connection_string);

// What the connection asks for and checks, in words for logs and for `check`.
std::string describe_encryption(const ConnectionSettings& settings);

Expected<OdbcConnectionString> build_connection_string(const ConnectionSettings& settings, const Secret& password,
                                                       const DriverCatalog& catalog);

// An ODBC attribute value, braced when it needs to be ({...} with '}' doubled).
std::string odbc_value(const std::string& value);
// Always braced: for passwords and other free text.
std::string odbc_braced(const std::string& value);
// Any connection string with the values of PWD / Password replaced by ***.
std::string redact_connection_string(const std::string& connection_string);

}  // namespace m2r::mssql
