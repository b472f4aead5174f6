#pragma once
// How the sandbox's DMS reaches a SQL Server endpoint: the replication instance logs in over
// TDS (FreeTDS ODBC here, Microsoft's ODBC Driver 17 on AWS) to the ServerName and Port the
// endpoint names, as its Username into its DatabaseName, encrypted as its SslMode says. Used
// by TestConnection (a login, then disconnect) and by the CDC engine (its sessions), so a
// wrong server, port, password, database or SSL mode fails with the server's own error.
#include <functional>
#include <optional>
#include <string>

#include "dms/cdc_runner.hpp"
#include "mssql/connection_string.hpp"

namespace sandbox::dms {

// The endpoint's connection as the product's ConnectionSettings. SslMode (CreateEndpoint):
//   none        - encrypt = false: FreeTDS "request", Microsoft's Encrypt=no. The login is still
//                 encrypted and a server that requires encryption (rds.force_ssl = 1) gets the
//                 whole session in TLS, as with DMS's driver (docs/facts.md §14).
//   require     - encrypted, the certificate not verified.
//   verify-ca / verify-full - encrypted, the certificate verified against `ca_file` and the
//                 host name. The sandbox has no ImportCertificate: the world's CA stands for
//                 the endpoint's CertificateArn. FreeTDS 1.3 checks the host name whenever it
//                 verifies, so verify-ca is as strict as verify-full here.
m2r::mssql::ConnectionSettings endpoint_connection_settings(const EndpointSpec& endpoint, const std::string& ca_file);

// One ODBC diagnostic record of a failed login, the driver prefix kept.
struct LoginDiagnostic {
  std::string sqlstate;  // 28000, 08001, 42000, ...
  int native_error = 0;  // SQL Server's number (18456, 4060) or the driver's
  std::string message;   // "[FreeTDS][SQL Server]Login failed for user 'x'."
};

// Logs in as the endpoint says and disconnects. nullopt: the login succeeded; otherwise the
// first diagnostic that names the cause (a SQL Server error before the driver's generic ones).
std::optional<LoginDiagnostic> login_to_endpoint(const EndpointSpec& endpoint, const std::string& ca_file);

// DescribeConnections' LastFailureMessage for a failed login, worded as DMS words it (users'
// reports of TestConnection failures for SQL Server endpoints):
//   Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to SQL
//   Server Authentication failed, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 28000
//   NativeError: 18456 Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]
//   Login failed for user 'x'.
// with "Cannot connect to ODBC provider Network error has occurred" for a connection that never
// came up (SQLSTATE 08xxx, HYT00) and "Cannot connect to ODBC provider ODBC general error." for
// the rest. The driver's name is DMS's (FreeTDS's "[FreeTDS]" prefix is replaced): the message
// text after it is the server's own.
std::string test_endpoint_failure_message(const LoginDiagnostic& diagnostic);

// What TestConnection runs: nullopt when the endpoint accepts the login, else LastFailureMessage.
// Called on a thread of its own (TestConnection is asynchronous); must not block forever.
using ConnectionTester = std::function<std::optional<std::string>(const EndpointSpec& endpoint)>;

// The real tester: login_to_endpoint, worded by test_endpoint_failure_message.
ConnectionTester odbc_connection_tester(std::string ca_file);

}  // namespace sandbox::dms
