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
  // Given the FreeTDS driver registered by name and a trusted certificate, should name it, give host and port apart,
  // TDS 7.4, UTF-8, and need no freetds.conf section.
  auto s = source();
  s.trust_server_certificate = true;
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_EQ(cs.value,
            "Driver={FreeTDS};Server=db.example.com;Port=14331;TDS_Version=7.4;ClientCharset=UTF-8;Encryption=require;"
            "Database={Sales};UID={migrator};APP=mssql2rds;PWD={pw};");
  EXPECT_FALSE(cs.freetds_section);
}

TEST(ConnectionStringTest, FreeTdsVerifiesThroughItsOwnFreetdsConfSection) {
  // Given FreeTDS and trust_server_certificate = false, should name a freetds.conf section (Servername=) holding the
  // host, the port, the CA file ("system" when none is set) and the host name check: FreeTDS 1.3 takes a CA file from
  // freetds.conf only.
  const auto cs = build_connection_string(source(), Secret("pw"), catalog_with({"FreeTDS"})).value();
  ASSERT_TRUE(cs.freetds_section);
  const auto& section = *cs.freetds_section;
  EXPECT_EQ(section.name.rfind("mssql2rds-", 0), 0u);
  EXPECT_EQ(cs.value.rfind("Driver={FreeTDS};Servername=" + section.name + ";Port=14331;", 0), 0u) << cs.value;
  EXPECT_EQ(cs.value.find("Server="), std::string::npos);
  EXPECT_EQ(section.text.rfind("[" + section.name + "]\n", 0), 0u);
  for (const char* line : {"\thost = db.example.com\n", "\tport = 14331\n", "\tencryption = require\n",
                           "\tca file = system\n", "\tcheck certificate hostname = yes\n"}) {
    EXPECT_NE(section.text.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(section.text.find("pw"), std::string::npos);
  auto with_ca = source();
  with_ca.ca_file = "/etc/rds/global-bundle.pem";
  const auto cs2 = build_connection_string(with_ca, Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_NE(cs2.freetds_section->text.find("\tca file = /etc/rds/global-bundle.pem\n"), std::string::npos);
  EXPECT_NE(cs2.freetds_section->name, section.name);  // another CA, another section
}

TEST(ConnectionStringTest, FreeTdsWithoutEncryptionStillEncryptsTheLogin) {
  // Given encrypt = false, should ask FreeTDS for "request" (the login packet encrypted), never "off" (which sends
  // ENCRYPT_NOT_SUP and the password merely obfuscated).
  for (bool trust : {false, true}) {
    auto s = source();
    s.encrypt = false;
    s.trust_server_certificate = trust;
    const auto cs = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"})).value();
    EXPECT_NE(cs.value.find("Encryption=request;"), std::string::npos) << cs.value;
    EXPECT_EQ(cs.value.find("Encryption=off"), std::string::npos);
    if (!trust) {
      EXPECT_NE(cs.freetds_section->text.find("\tencryption = request\n"), std::string::npos);
    }
  }
}

TEST(ConnectionStringTest, CertificateHostNameGoesToBothDrivers) {
  // Given host_override's endpoint name, should pass HostNameInCertificate to FreeTDS (1.5 reads it) and to
  // Microsoft's driver.
  auto s = source();
  s.certificate_host_name = "sales.abc.us-east-1.rds.amazonaws.com";
  const auto ft = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"})).value();
  EXPECT_NE(ft.value.find("HostNameInCertificate=sales.abc.us-east-1.rds.amazonaws.com;"), std::string::npos);
  s.driver = "ODBC Driver 18 for SQL Server";
  const auto ms = build_connection_string(s, Secret("pw"), catalog_with({"ODBC Driver 18 for SQL Server"})).value();
  EXPECT_NE(ms.value.find("Encrypt=yes;TrustServerCertificate=no;HostNameInCertificate=sales.abc.us-east-1.rds.amazonaws.com;"),
            std::string::npos) << ms.value;
}

TEST(ConnectionStringTest, MicrosoftDriverRefusesACaFile) {
  // Given Microsoft's driver and ca_file, should refuse as invalid input naming the system trust store as the way.
  auto s = source();
  s.driver = "ODBC Driver 18 for SQL Server";
  s.ca_file = "/tmp/ca.pem";
  const auto r = build_connection_string(s, Secret("pw"), catalog_with({"ODBC Driver 18 for SQL Server"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(r.error().hint.find("update-ca-certificates"), std::string::npos);
}

TEST(ConnectionStringTest, CaFileWithALineBreakIsRefused) {
  // Given a ca_file with a line break (it would add lines to freetds.conf), should refuse it.
  auto s = source();
  s.ca_file = "/tmp/ca.pem\n\tca file = system";
  const auto r = build_connection_string(s, Secret("pw"), catalog_with({"FreeTDS"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
}

TEST(ConnectionStringTest, EncryptionTurnedOffIsFoundInACustomString) {
  // Given odbc_connection_string texts, should tell Encryption=off (FreeTDS's ENCRYPT_NOT_SUP) from the rest.
  EXPECT_TRUE(encryption_turned_off("Driver={FreeTDS};Server=h;Encryption = off;"));
  EXPECT_TRUE(encryption_turned_off("driver=FreeTDS;encryption=OFF"));
  EXPECT_FALSE(encryption_turned_off("Driver={FreeTDS};Server=h;Encryption=request;"));
  EXPECT_FALSE(encryption_turned_off("Driver={ODBC Driver 18 for SQL Server};Encrypt=no;"));
}

TEST(ConnectionStringTest, FreeTdsNotRegisteredFallsBackToTheInstalledLibrary) {
  // Given no odbcinst.ini entry but tdsodbc's library on disk, should use its path.
  const std::string path = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so";
  auto s = source();
  s.trust_server_certificate = true;
  const auto cs = build_connection_string(s, Secret("pw"), catalog_with({}, {path})).value();
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
