// TLS in the sandbox's TDS server ([MS-TDS] 2.2.6.5 PRELOGIN, docs/facts.md §14) with
// independent clients (FreeTDS tsql and its ODBC driver, Node's tedious), and the product's
// connections against it: verified, refused for a wrong CA, an expired certificate, a host
// name the certificate does not carry, and a client that turns encryption off against
// force_ssl, each with a precise error and exit code 13.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sql.h>
#include <sqlext.h>

#include "mssql/odbc_session.hpp"
#include "sandbox/support/fake_instance.hpp"
#include "sandbox/support/process.hpp"
#include "tds/tds_server.hpp"
#include "world/certificates.hpp"

namespace sandbox::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// A CA, a server certificate from it naming `names`, and a second CA that signed nothing here.
struct TlsFiles {
  fs::path dir;
  fs::path ca, other_ca, cert, key;
};

TlsFiles make_tls_files(const fs::path& dir, const std::vector<std::string>& names, const world::Validity& validity) {
  fs::create_directories(dir);
  TlsFiles f{dir, dir / "ca.pem", dir / "other-ca.pem", dir / "server.pem", dir / "server.key"};
  const auto ca = world::create_certificate_authority("test CA", world::Validity::from_now(30)).value();
  const auto other = world::create_certificate_authority("another CA", world::Validity::from_now(30)).value();
  const auto server = world::issue_server_certificate(ca, names, validity).value();
  write(f.ca, ca.certificate);
  write(f.other_ca, other.certificate);
  write(f.cert, server.certificate);
  write(f.key, server.private_key);
  return f;
}

// Passes bytes between a client and the server and keeps what the client sent.
class Relay {
 public:
  explicit Relay(std::uint16_t server_port) : m_server_port(server_port) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_listen, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(m_listen, 4);
    socklen_t len = sizeof a;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    m_thread = std::thread([this] { run(); });
  }
  ~Relay() {
    ::shutdown(m_listen, SHUT_RDWR);
    ::close(m_listen);
    m_thread.join();
  }
  std::uint16_t port() const { return m_port; }
  std::string client_bytes() {
    std::lock_guard lock(m_mutex);
    return m_client_bytes;
  }

 private:
  void run() {
    const int client = ::accept(m_listen, nullptr, nullptr);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(m_server_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::thread back([&] { pump(server, client, false); });
      pump(client, server, true);
      back.join();
    }
    ::close(server);
    ::close(client);
  }
  void pump(int from, int to, bool record) {
    char buf[16384];
    for (ssize_t n; (n = ::recv(from, buf, sizeof buf, 0)) > 0;) {
      if (record) {
        std::lock_guard lock(m_mutex);
        m_client_bytes.append(buf, static_cast<std::size_t>(n));
      }
      if (::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_WR);
  }
  std::uint16_t m_server_port;
  std::uint16_t m_port = 0;
  int m_listen = -1;
  std::thread m_thread;
  std::mutex m_mutex;
  std::string m_client_bytes;
};

// The password as LOGIN7 carries it without TLS: UCS-2, each byte nibble-swapped and XORed with 0xA5.
std::string obfuscated(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    for (unsigned char b : {static_cast<unsigned char>(c), static_cast<unsigned char>(0)}) {
      out += static_cast<char>((((b & 0x0F) << 4) | (b >> 4)) ^ 0xA5);
    }
  }
  return out;
}
std::string ucs2(const std::string& ascii) {
  std::string out;
  for (char c : ascii) out += std::string{c, '\0'};
  return out;
}

class TdsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / fmt::format("m2r-tls-{}-{}", ::getpid(),
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    m_files = make_tls_files(m_dir, {"127.0.0.1"}, world::Validity::from_now(30));
  }
  void TearDown() override {
    if (m_server) m_server->stop();
    fs::remove_all(m_dir);
  }

  void start(bool required, const fs::path& cert = {}, const fs::path& key = {}) {
    m_server = std::make_unique<tds::TdsServer>(m_instance, "127.0.0.1", 0, [this](const std::string& line) {
      std::lock_guard lock(m_log_mutex);
      m_log.push_back(line);
    });
    auto context = tds::TlsServerContext::load((cert.empty() ? m_files.cert : cert).string(),
                                               (key.empty() ? m_files.key : key).string());
    ASSERT_TRUE(context) << context.error().message;
    m_server->set_tls({*context, required});
    ASSERT_TRUE(m_server->start());
    m_port = m_server->port();
  }
  std::vector<std::string> log() {
    std::lock_guard lock(m_log_mutex);
    return m_log;
  }

  // tsql through a freetds.conf section: encryption = off|request|require, ca file when given.
  ProcessResult tsql(const std::string& encryption, const fs::path& ca_file, std::uint16_t port = 0,
                     const std::string& host = "127.0.0.1") {
    const fs::path conf = m_dir / "freetds.conf";
    write(conf, fmt::format("[sandbox]\n\thost = {}\n\tport = {}\n\ttds version = 7.4\n\tencryption = {}\n{}", host,
                            port ? port : m_port, encryption,
                            ca_file.empty() ? "" : "\tca file = " + ca_file.string() + "\n"));
    return run_process({find_program("tsql"), "-S", "sandbox", "-U", k_fake_user, "-P", k_fake_password},
                       "SELECT 1\ngo\nexit\n", {"FREETDSCONF=" + conf.string()});
  }

  m2r::mssql::ConnectionSettings product_settings(const std::string& host = "127.0.0.1") const {
    m2r::mssql::ConnectionSettings s;
    s.server = host;
    s.port = m_port;
    s.login = k_fake_user;
    s.encrypt = true;
    s.trust_server_certificate = false;
    s.ca_file = m_files.ca.string();
    s.config_section = "target";
    s.login_timeout = std::chrono::seconds(5);
    return s;
  }

  fs::path m_dir;
  TlsFiles m_files;
  FakeInstance m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  std::uint16_t m_port = 0;
  std::mutex m_log_mutex;
  std::vector<std::string> m_log;
};

// ---- independent clients ------------------------------------------------------------

TEST_F(TdsTlsTest, TsqlRequiringEncryptionVerifiesTheCertificateAndQueries) {
  // Given a server requiring TLS and tsql with encryption = require and the CA file, tsql should verify the
  // certificate, log in and run its batch over TLS.
  start(true);
  const ProcessResult r = tsql("require", m_files.ca);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(m_instance.batches(), ::testing::Contains(HasSubstr("SELECT 1")));
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("TLS on (whole connection)")));
}

TEST_F(TdsTlsTest, ABatchSpanningManyPacketsArrivesWholeOverTls) {
  // Given a 200 KB batch over TLS in 32 KB packets (several TLS records per packet and per recv()), the server should read the
  // records OpenSSL has not decrypted yet instead of waiting on the socket for more: the batch arrives whole,
  // well within the (here short) read timeout.
  start(true);
  m_server->stop();
  m_server->set_read_timeout(std::chrono::milliseconds(2000));
  ASSERT_TRUE(m_server->start());
  m_port = m_server->port();
  const std::string text(200000, 'x');
  // tsql and the FreeTDS ODBC driver (through the product's session) both send it.
  const fs::path conf = m_dir / "big.conf";
  // Packets of 32 KB: each spans two TLS records (16 KB of plain text at most).
  write(conf, fmt::format("[sandbox]\n\thost = 127.0.0.1\n\tport = {}\n\ttds version = 7.4\n\tencryption = require\n"
                          "\tca file = {}\n\tinitial block size = 32767\n", m_port, m_files.ca.string()));
  const ProcessResult r = run_process({find_program("tsql"), "-S", "sandbox", "-U", k_fake_user, "-P", k_fake_password},
                                      "PRINT '" + text + "'\ngo\nexit\n", {"FREETDSCONF=" + conf.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 2000);
  auto session = m2r::mssql::OdbcSession::connect(product_settings(), m2r::mssql::Secret(k_fake_password));
  ASSERT_TRUE(session) << session.error().message;
  const auto printed = (*session)->query("PRINT '" + text + "'");
  EXPECT_TRUE(printed) << printed.error().message;
  const auto batches = m_instance.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_NE(batches[0].find(text), std::string::npos);
  EXPECT_NE(batches[1].find(text), std::string::npos);
}

TEST_F(TdsTlsTest, TsqlWithTheWrongCaIsRefusedBeforeLogin) {
  // Given tsql verifying with a CA that did not sign the server's certificate, the connection should fail in the
  // handshake: no login, no batch.
  start(true);
  const ProcessResult r = tsql("require", m_files.other_ca);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(m_instance.batches().empty());
  EXPECT_THAT(log(), ::testing::Not(::testing::Contains(HasSubstr("logged in"))));
}

TEST_F(TdsTlsTest, ForceSslDropsAClientThatDoesNotEncrypt) {
  // Given force_ssl and tsql with encryption = off (PRELOGIN ENCRYPT_NOT_SUP), the server should close the
  // connection after PRELOGIN, before any login.
  start(true);
  const ProcessResult r = tsql("off", {});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(m_instance.batches().empty());
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("does not support encryption (ENCRYPT_NOT_SUP) and this server "
                                                   "requires it (force_ssl)")));
}

TEST_F(TdsTlsTest, LoginOnlyEncryptionHidesThePasswordAndTheClearTextControlShowsIt) {
  // Given a server offering TLS without requiring it and tsql with encryption = request (PRELOGIN ENCRYPT_OFF on
  // both sides), only LOGIN7 should travel in TLS: the query then goes in clear, and the password never does.
  // The control: with encryption = off (ENCRYPT_NOT_SUP) the obfuscated password is on the wire.
  start(false);
  {
    Relay relay(m_port);
    const ProcessResult r = tsql("request", {}, relay.port());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string sent = relay.client_bytes();
    EXPECT_EQ(sent.find(obfuscated(k_fake_password)), std::string::npos);
    EXPECT_EQ(sent.find(ucs2(k_fake_password)), std::string::npos);
    EXPECT_NE(sent.find(ucs2("SELECT 1")), std::string::npos) << "after the login the session is in clear";
  }
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("TLS on (login packet only)")));
  {
    Relay relay(m_port);
    const ProcessResult r = tsql("off", {}, relay.port());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(relay.client_bytes().find(obfuscated(k_fake_password)), std::string::npos);
  }
}

TEST_F(TdsTlsTest, FreeTdsOdbcRequiringEncryptionVerifiesAndQueries) {
  // Given the FreeTDS ODBC driver with Encryption=require and a freetds.conf section naming the CA (FreeTDS 1.3 has
  // no connection-string attribute for it), the driver should connect over TLS and run a statement.
  start(true);
  const fs::path conf = m_dir / "odbc-freetds.conf";
  write(conf, fmt::format("[verified]\n\thost = 127.0.0.1\n\tport = {}\n\ttds version = 7.4\n\tca file = {}\n", m_port,
                          m_files.ca.string()));
  const char* before = std::getenv("FREETDSCONF");
  const std::string saved = before ? before : "";
  ::setenv("FREETDSCONF", conf.c_str(), 1);
  SQLHENV env = nullptr;
  SQLHDBC dbc = nullptr;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
  std::string cs = fmt::format("Driver={{{}}};Servername=verified;Encryption=require;UID={};PWD={};",
                               m2r::mssql::freetds_driver_paths().front(), k_fake_user, k_fake_password);
  const SQLRETURN rc = SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, nullptr, 0,
                                        nullptr, SQL_DRIVER_NOPROMPT);
  EXPECT_TRUE(SQL_SUCCEEDED(rc));
  if (SQL_SUCCEEDED(rc)) {
    SQLHSTMT stmt = nullptr;
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
    EXPECT_TRUE(SQL_SUCCEEDED(SQLExecDirect(stmt, reinterpret_cast<SQLCHAR*>(const_cast<char*>("SELECT * FROM all_types")), SQL_NTS)));
    SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    SQLDisconnect(dbc);
  }
  SQLFreeHandle(SQL_HANDLE_DBC, dbc);
  SQLFreeHandle(SQL_HANDLE_ENV, env);
  if (saved.empty()) ::unsetenv("FREETDSCONF");
  else ::setenv("FREETDSCONF", saved.c_str(), 1);
  EXPECT_THAT(m_instance.batches(), ::testing::Contains("SELECT * FROM all_types"));
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("TLS on (whole connection)")));
}

TEST_F(TdsTlsTest, TediousVerifiesTheCertificateWithTheCa) {
  // Given tedious with encrypt: true, trustServerCertificate: false and the CA in cryptoCredentialsDetails, against a
  // server requiring TLS, it should connect and run its statement; with the other CA it should fail without a login.
  start(true);
  const std::string dir = std::string(MSSQL2RDS_SOURCE_DIR) + "/tests/sandbox/conformance";
  ASSERT_TRUE(fs::exists(dir + "/node_modules/tedious")) << "run npm ci in " << dir;
  auto run = [&](const fs::path& ca) {
    return run_process({find_program("node"), dir + "/tedious_client.js", std::to_string(m_port), "tls"}, "",
                       {std::string("SANDBOX_PASSWORD=") + k_fake_password, "SANDBOX_CA=" + ca.string()});
  };
  const ProcessResult ok = run(m_files.ca);
  EXPECT_THAT(ok.output, HasSubstr("\"event\":\"connected\"")) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("\"label\":\"tls\",\"error\":null")) << ok.output;
  EXPECT_THAT(m_instance.batches(), ::testing::Contains("SELECT 1"));
  const std::size_t batches = m_instance.batches().size();
  const ProcessResult bad = run(m_files.other_ca);
  EXPECT_THAT(bad.output, HasSubstr("\"event\":\"connect_failed\"")) << bad.output;
  EXPECT_EQ(m_instance.batches().size(), batches);
}

// ---- the product ------------------------------------------------------------------------

TEST_F(TdsTlsTest, ProductConnectsEncryptedAndVerified) {
  // Given the product's settings (FreeTDS, encrypt, the CA file), it should connect to a server requiring TLS.
  start(true);
  auto session = m2r::mssql::OdbcSession::connect(product_settings(), m2r::mssql::Secret(k_fake_password));
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("TLS on (whole connection)")));
}

TEST_F(TdsTlsTest, ProductWithoutEncryptStillEncryptsTheLoginAgainstForceSsl) {
  // Given encrypt = false (FreeTDS Encryption=request), the product should still connect to a force_ssl server:
  // it never sends ENCRYPT_NOT_SUP.
  start(true);
  auto s = product_settings();
  s.encrypt = false;
  auto session = m2r::mssql::OdbcSession::connect(s, m2r::mssql::Secret(k_fake_password));
  ASSERT_TRUE(session) << session.error().message;
}

TEST_F(TdsTlsTest, ProductRefusesAServerCertificateFromAnotherCa) {
  // Given ca_file naming a CA that did not sign the server's certificate, connect should fail with a TLS error that
  // names the cause and ca_file as the fix (exit code 13), before any login.
  start(true);
  auto s = product_settings();
  s.ca_file = m_files.other_ca.string();
  auto session = m2r::mssql::OdbcSession::connect(s, m2r::mssql::Secret(k_fake_password));
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().kind, m2r::ErrorKind::tls) << session.error().message;
  EXPECT_THAT(session.error().message, HasSubstr("is not signed by a CA in " + m_files.other_ca.string()));
  EXPECT_THAT(session.error().hint, HasSubstr("set [target] ca_file to the CA bundle"));
  EXPECT_EQ(m2r::exit_code_for(session.error().kind), 13);
  EXPECT_THAT(log(), ::testing::Not(::testing::Contains(HasSubstr("logged in"))));
}

TEST_F(TdsTlsTest, ProductRefusesAnExpiredCertificate) {
  // Given a server whose certificate expired yesterday, connect should fail naming the expiry.
  const auto now = std::chrono::system_clock::now();
  const TlsFiles expired = make_tls_files(m_dir / "expired", {"127.0.0.1"},
                                          {now - std::chrono::hours(24 * 30), now - std::chrono::hours(24)});
  m_files.ca = expired.ca;
  start(true, expired.cert, expired.key);
  auto session = m2r::mssql::OdbcSession::connect(product_settings(), m2r::mssql::Secret(k_fake_password));
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().kind, m2r::ErrorKind::tls) << session.error().message;
  EXPECT_THAT(session.error().message, HasSubstr("expired on"));
  EXPECT_THAT(session.error().hint, HasSubstr("renew the server's certificate"));
}

TEST_F(TdsTlsTest, ProductRefusesACertificateForAnotherHostName) {
  // Given a certificate naming 127.0.0.1 only and the product connecting to localhost, connect should fail naming
  // the names the certificate carries and the one it was checked against.
  start(true);
  auto session = m2r::mssql::OdbcSession::connect(product_settings("localhost"), m2r::mssql::Secret(k_fake_password));
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().kind, m2r::ErrorKind::tls) << session.error().message;
  EXPECT_THAT(session.error().message, HasSubstr("names 127.0.0.1, not localhost"));
}

TEST_F(TdsTlsTest, ProductNamesForceSslWhenItsConnectionStringTurnsEncryptionOff) {
  // Given odbc_connection_string with Encryption=off against force_ssl, the server drops the connection after
  // PRELOGIN; the error should say the server requires encryption and what to remove.
  start(true);
  auto s = product_settings();
  s.odbc_connection_string = fmt::format("Driver={{{}}};Server=127.0.0.1;Port={};TDS_Version=7.4;Encryption=off;",
                                         m2r::mssql::freetds_driver_paths().front(), m_port);
  auto session = m2r::mssql::OdbcSession::connect(s, m2r::mssql::Secret(k_fake_password));
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().kind, m2r::ErrorKind::tls) << session.error().message;
  EXPECT_THAT(session.error().message, HasSubstr("requires encryption (rds.force_ssl = 1"));
  EXPECT_THAT(session.error().hint, HasSubstr("remove Encryption=off"));
}

}  // namespace
}  // namespace sandbox::testing
