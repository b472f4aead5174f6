#include "mssql/connection_string.hpp"

#include <gtest/gtest.h>

#include <set>

namespace m2r::mssql {
namespace {

const char* k_secret = "s3cr;et}pa{ss=";

DriverCatalog catalog_with(std::vector<std::string> registered, std::set<std::string> files = {}) {
  DriverCatalog c;
  c.registered = std::move(registered);
  c.file_exists = [files](const std::string& p) { return files.count(p) > 0; };
  return c;
}

ConnectionSettings source() {
  ConnectionSettings s;
  s.server = "db.example.com";
  s.port = 14331;
  s.database = "Sales";
  s.login = "migrator";
  s.password_env = "SRC_PASSWORD";
  s.encrypt = true;
  s.trust_server_certificate = false;
  return s;
}

TEST(ConnectionStringTest, FreeTdsUsesServerPortAndTds74) {
  // Given the FreeTDS driver registered by name, should name it, give host and port apart, TDS 7.4, UTF-8.
  const auto cs = build_connection_string(source(), Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_EQ(cs.value,
            "Driver={FreeTDS};Server=db.example.com;Port=14331;TDS_Version=7.4;ClientCharset=UTF-8;Encryption=require;"
            "Database={Sales};UID={migrator};APP=mssql2rds;PWD={pw};");
}

TEST(ConnectionStringTest, FreeTdsWithoutEncryptionSaysOff) {
  // Given encrypt = false, should ask FreeTDS for no encryption.
  auto s = source();
  s.encrypt = false;
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_NE(cs.value.find("Encryption=off;"), std::string::npos);
}

TEST(ConnectionStringTest, FreeTdsNotRegisteredFallsBackToTheInstalledLibrary) {
  // Given no odbcinst.ini entry but tdsodbc's library on disk, should use its path.
  const std::string path = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so";
  const auto cs = build_connection_string(source(), Secret("pw"), catalog_with({}, {path})).value();
  EXPECT_EQ(cs.value.rfind("Driver={" + path + "};Server=db.example.com;Port=14331;", 0), 0u) << cs.value;
}

TEST(ConnectionStringTest, RegisteredNameMatchesCaseInsensitively) {
  // Given "freetds" in the config and "FreeTDS" registered, should use the registered spelling.
  auto s = source();
  s.driver = "freetds";
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_EQ(cs.value.rfind("Driver={FreeTDS};", 0), 0u);
}

TEST(ConnectionStringTest, MissingDriverIsAPrerequisiteNamingThePackage) {
  // Given a driver neither registered nor installed, should fail as a prerequisite with the package to install.
  const auto r = build_connection_string(source(), Secret("pw"), catalog_with({"PostgreSQL"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("PostgreSQL"), std::string::npos);
  EXPECT_NE(r.error().hint.find("tdsodbc"), std::string::npos);
  auto s = source();
  s.driver = "ODBC Driver 18 for SQL Server";
  const auto r2 = build_connection_string(s, Secret("pw"), catalog_with({}));
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().hint.find("msodbcsql18"), std::string::npos);
}

TEST(ConnectionStringTest, MicrosoftDriverUsesTcpHostCommaPortAndYesNo) {
  // Given Microsoft's driver, should use Server=tcp:host,port and Encrypt / TrustServerCertificate yes|no.
  auto s = source();
  s.driver = "ODBC Driver 18 for SQL Server";
  s.trust_server_certificate = true;
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({"ODBC Driver 18 for SQL Server"})).value();
  EXPECT_EQ(cs.value,
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:db.example.com,14331;Encrypt=yes;"
            "TrustServerCertificate=yes;Database={Sales};UID={migrator};APP=mssql2rds;PWD={pw};");
  s.encrypt = false;
  s.trust_server_certificate = false;
  const auto cs2 = build_connection_string(s, Secret("pw"), catalog_with({"ODBC Driver 18 for SQL Server"})).value();
  EXPECT_NE(cs2.value.find("Encrypt=no;TrustServerCertificate=no;"), std::string::npos);
}

TEST(ConnectionStringTest, ValuesWithSpecialCharactersAreBracedWithClosingBracesDoubled) {
  // Given Microsoft's driver and a password and a database with ; } { =, should brace them and double '}'.
  auto s = source();
  s.driver = "ODBC Driver 18 for SQL Server";
  s.database = "we}ird;db";
  const auto cs = build_connection_string(s, Secret(k_secret), catalog_with({"ODBC Driver 18 for SQL Server"})).value();
  EXPECT_NE(cs.value.find("Database={we}}ird;db};"), std::string::npos) << cs.value;
  EXPECT_NE(cs.value.find("PWD={s3cr;et}}pa{ss=};"), std::string::npos) << cs.value;
  EXPECT_EQ(odbc_value("plain"), "plain");
  EXPECT_EQ(odbc_value("has space"), "{has space}");
  EXPECT_EQ(odbc_braced("}"), "{}}}");
}

TEST(ConnectionStringTest, FreeTdsBracesValuesButRefusesClosingBraces) {
  // Given FreeTDS, ; { = inside braces are fine; a '}' cannot be spelled for FreeTDS 1.3 and
  // newer drivers alike, so should be refused without echoing the password.
  const auto ok = build_connection_string(source(), Secret("a;b{c=d e"), catalog_with({"FreeTDS"})).value();
  EXPECT_NE(ok.value.find("PWD={a;b{c=d e};"), std::string::npos) << ok.value;
  const auto r = build_connection_string(source(), Secret(k_secret), catalog_with({"FreeTDS"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(r.error().message.find("s3cr"), std::string::npos);
  EXPECT_NE(r.error().hint.find("ODBC Driver 18"), std::string::npos);
}

TEST(ConnectionStringTest, RedactedFormNeverHoldsThePassword) {
  // Given any settings, the redacted form should say PWD={***} and contain no part of the password.
  auto s = source();
  s.driver = "ODBC Driver 18 for SQL Server";
  const auto cs = build_connection_string(s, Secret(k_secret), catalog_with({"ODBC Driver 18 for SQL Server"})).value();
  EXPECT_NE(cs.value.find("PWD={s3cr;et}}pa{ss=};"), std::string::npos);
  EXPECT_EQ(cs.redacted.find("s3cr"), std::string::npos);
  EXPECT_NE(cs.redacted.find("PWD={***};"), std::string::npos);
  EXPECT_EQ(cs.redacted.substr(0, cs.redacted.find("PWD=")), cs.value.substr(0, cs.value.find("PWD=")));
}

TEST(ConnectionStringTest, RedactionParsesBracesAndBothKeywords) {
  // Given raw strings with PWD or Password, braced or not, should hide every value and keep the rest.
  EXPECT_EQ(redact_connection_string("Driver={FreeTDS};PWD={a;b}}c};Server=x"), "Driver={FreeTDS};PWD={***};Server=x");
  EXPECT_EQ(redact_connection_string("password=hunter2;UID=sa"), "password={***};UID=sa");
  // An unterminated brace: everything from the password key on is hidden.
  EXPECT_EQ(redact_connection_string("Server=x;PWD={abc"), "Server=x;***");
}

TEST(ConnectionStringTest, RawConnectionStringGetsLoginAndPasswordAppended) {
  // Given a raw ODBC connection string without UID/PWD, should keep it and add UID and PWD.
  auto s = source();
  s.odbc_connection_string = "Driver={FreeTDS};Server=10.0.0.5;Port=1433;TDS_Version=7.4";
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({})).value();
  EXPECT_EQ(cs.value, "Driver={FreeTDS};Server=10.0.0.5;Port=1433;TDS_Version=7.4;UID={migrator};PWD={pw};");
  EXPECT_EQ(cs.redacted, "Driver={FreeTDS};Server=10.0.0.5;Port=1433;TDS_Version=7.4;UID={migrator};PWD={***};");
}

TEST(ConnectionStringTest, RawConnectionStringMayNotCarryAPassword) {
  // Given a raw string with PWD, should refuse it (secrets never live in the config) and name the variable.
  auto s = source();
  s.odbc_connection_string = "Driver={FreeTDS};Server=x;PWD=oops";
  const auto r = build_connection_string(s, Secret("pw"), catalog_with({}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(r.error().message.find("oops"), std::string::npos);
  EXPECT_NE(r.error().hint.find("SRC_PASSWORD"), std::string::npos);
}

TEST(ConnectionStringTest, SettingsComeFromSourceAndTargetConfig) {
  // Given the config sections, should carry every connection field over.
  SourceConfig src;
  src.server = "h";
  src.port = 1500;
  src.database = "d";
  src.login = "l";
  src.password_env = "E";
  src.driver = "ODBC Driver 18 for SQL Server";
  src.encrypt = false;
  src.trust_server_certificate = true;
  const auto s = settings_for(src);
  EXPECT_EQ(s.endpoint(), "h:1500");
  EXPECT_EQ(s.database, "d");
  EXPECT_EQ(s.password_env, "E");
  EXPECT_FALSE(s.encrypt);
  EXPECT_TRUE(s.trust_server_certificate);
  TargetConfig tgt;
  tgt.database = "d2";
  tgt.login = "admin";
  tgt.password_env = "TGT";
  const auto t = settings_for(tgt, "inst.rds.amazonaws.com", 1433);
  EXPECT_EQ(t.endpoint(), "inst.rds.amazonaws.com:1433");
  EXPECT_EQ(t.login, "admin");
}

}  // namespace
}  // namespace m2r::mssql
