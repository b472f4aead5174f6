#include "mssql/error_mapping.hpp"

#include <gtest/gtest.h>

namespace m2r::mssql {
namespace {

const ErrorContext k_context{"db.example.com:1433", "Sales", "migrator", "SRC_PASSWORD"};

SqlMessage error(int number, int severity, std::string text, std::string sqlstate = "42000") {
  SqlMessage m;
  m.number = number;
  m.severity = severity;
  m.state = 1;
  m.text = std::move(text);
  m.sqlstate = std::move(sqlstate);
  return m;
}

TEST(ErrorMappingTest, TlsFailuresNameTheCauseAndTheFix) {
  // Given each certificate failure the probe can find, the error should be ErrorKind::tls, name the cause (the CA
  // bundle, the expiry, the names on the certificate) and the fix, and say where in the config it goes.
  ErrorContext c = k_context;
  c.config_section = "target";
  c.ca_file = "/etc/rds/global-bundle.pem";
  TlsProbeResult p;
  p.failure = TlsFailure::untrusted_certificate;
  p.detail = "unable to get local issuer certificate";
  auto e = map_tls_failure(p, c, "db.example.com");
  EXPECT_EQ(e.kind, ErrorKind::tls);
  EXPECT_NE(e.message.find("not signed by a CA in /etc/rds/global-bundle.pem"), std::string::npos) << e.message;
  EXPECT_NE(e.hint.find("set [target] ca_file"), std::string::npos);
  EXPECT_NE(e.hint.find("global-bundle.pem"), std::string::npos);
  p.failure = TlsFailure::expired_certificate;
  p.not_after = "Jan  1 00:00:00 2020 GMT";
  e = map_tls_failure(p, c, "db.example.com");
  EXPECT_NE(e.message.find("expired on Jan  1 00:00:00 2020 GMT"), std::string::npos);
  p.failure = TlsFailure::name_mismatch;
  p.certificate_names = {"sales.abc.rds.amazonaws.com", "10.0.0.5"};
  e = map_tls_failure(p, c, "db.example.com");
  EXPECT_NE(e.message.find("names sales.abc.rds.amazonaws.com, 10.0.0.5, not db.example.com"), std::string::npos);
  EXPECT_NE(e.hint.find("host_override"), std::string::npos);
  p.failure = TlsFailure::no_tls;
  EXPECT_NE(map_tls_failure(p, c, "x").message.find("ENCRYPT_NOT_SUP"), std::string::npos);
  const Error off = server_requires_encryption_error(c);
  EXPECT_EQ(off.kind, ErrorKind::tls);
  EXPECT_NE(off.message.find("rds.force_ssl = 1"), std::string::npos);
}

TEST(ErrorMappingTest, LoginFailedIsAuthNamingLoginAndVariable) {
  // Given 18456 at connect, should be auth with a hint naming the login and the password variable.
  const auto e = map_connect_error({error(18456, 14, "Login failed for user 'migrator'.", "28000"),
                                    error(0, 16, "Unable to connect to data source", "08001")},
                                   k_context);
  EXPECT_EQ(e.kind, ErrorKind::auth);
  EXPECT_NE(e.message.find("db.example.com:1433"), std::string::npos);
  EXPECT_NE(e.hint.find("migrator"), std::string::npos);
  EXPECT_NE(e.hint.find("SRC_PASSWORD"), std::string::npos);
}

TEST(ErrorMappingTest, UnreachableServerIsRetryableNamingServerAndPort) {
  // Given only an 08001 from the driver, should be retryable with a hint naming host:port.
  const auto e = map_connect_error({error(20009, 9, "Unable to connect: Adaptive Server is unavailable", "08001")},
                                   k_context);
  EXPECT_EQ(e.kind, ErrorKind::retryable);
  EXPECT_NE(e.hint.find("db.example.com:1433"), std::string::npos);
}

TEST(ErrorMappingTest, ConnectTimeoutIsTimeout) {
  // Given HYT00 while connecting, should be a timeout that names the endpoint.
  const auto e = map_connect_error({error(0, 16, "Login timeout expired", "HYT00")}, k_context);
  EXPECT_EQ(e.kind, ErrorKind::timeout);
  EXPECT_NE(e.hint.find("db.example.com:1433"), std::string::npos);
}

TEST(ErrorMappingTest, MissingDriverLibraryIsAPrerequisite) {
  // Given unixODBC's "Can't open lib", should say the driver could not be loaded.
  const auto e = map_connect_error({error(0, 16, "Can't open lib 'x.so' : file not found", "01000")}, k_context);
  EXPECT_EQ(e.kind, ErrorKind::prerequisite);
}

TEST(ErrorMappingTest, BackupFailureNamesTheCauseFirstThen3013) {
  // Given 3201 then 3013 (docs/facts.md §10), should be a prerequisite whose message starts with the cause.
  const auto e = map_statement_error({error(3201, 16, "Cannot open backup device '/x/y.bak'. Operating system error 2."),
                                      error(3013, 16, "BACKUP DATABASE is terminating abnormally.")},
                                     k_context);
  EXPECT_EQ(e.kind, ErrorKind::prerequisite);
  EXPECT_EQ(e.message.rfind("SQL Server error 3201 (severity 16, state 1): Cannot open backup device", 0), 0u) << e.message;
  EXPECT_NE(e.message.find("3013"), std::string::npos);
  EXPECT_NE(e.hint.find("backup directory"), std::string::npos);
}

TEST(ErrorMappingTest, RecoveryModelAndMissingBackupArePrerequisites) {
  // Given 4208 or 4214, should be prerequisites with SQL Server's own text.
  const auto a = map_statement_error({error(4208, 16, "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE.")},
                                     k_context);
  EXPECT_EQ(a.kind, ErrorKind::prerequisite);
  EXPECT_NE(a.message.find("recovery model is SIMPLE"), std::string::npos);
  EXPECT_NE(a.hint.find("RECOVERY FULL"), std::string::npos);
  const auto b = map_statement_error(
      {error(4214, 16, "BACKUP LOG cannot be performed because there is no current database backup.")}, k_context);
  EXPECT_EQ(b.kind, ErrorKind::prerequisite);
}

TEST(ErrorMappingTest, InformationalMessagesAreNotTheCause) {
  // Given progress messages before an error, should describe the error, not the progress.
  SqlMessage info = error(3211, 10, "10 percent processed.", "01000");
  const auto e = map_statement_error({info, error(1801, 16, "Database 'Sales' already exists.")}, k_context);
  EXPECT_EQ(e.kind, ErrorKind::conflict);
  EXPECT_EQ(e.message.find("percent"), std::string::npos);
}

TEST(ErrorMappingTest, TimeoutCancelAndBrokenLink) {
  // Given HYT00, HY008 or 08S01 during a statement, should be timeout, a cancel, and retryable.
  EXPECT_EQ(map_statement_error({error(0, 16, "Timeout expired", "HYT00")}, k_context).kind, ErrorKind::timeout);
  const auto c = map_statement_error({error(0, 16, "Operation canceled", "HY008")}, k_context);
  EXPECT_NE(c.message.find("cancelled"), std::string::npos);
  const auto l = map_statement_error({error(20004, 9, "Read from the server failed", "08S01")}, k_context);
  EXPECT_EQ(l.kind, ErrorKind::retryable);
  EXPECT_TRUE(is_connection_failure(error(20004, 9, "Read from the server failed", "08S01")));
  EXPECT_FALSE(is_connection_failure(error(208, 16, "Invalid object name 'x'.")));
}

TEST(ErrorMappingTest, UnknownErrorsAreTheServersRefusalNotABugWithNumberSeverityState) {
  // Given an error the mapping does not know, should be the server's refusal (exit 14, not the
  // bug's 10) and carry number, severity and state.
  const auto e = map_statement_error({error(50000, 16, "custom")}, k_context);
  EXPECT_EQ(e.kind, ErrorKind::refused);
  EXPECT_NE(e.hint.find("names the cause"), std::string::npos) << e.hint;
  EXPECT_EQ(e.message, "SQL Server error 50000 (severity 16, state 1): custom");
}

}  // namespace
}  // namespace m2r::mssql
