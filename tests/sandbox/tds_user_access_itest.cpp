// ALTER DATABASE ... SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE seen from the wire
// (sandbox/engine/README.md "User access modes"): the engine served over TCP by the sandbox's TDS
// server, the application's connection a hand-built TDS client. The ended session's connection is
// closed by the server (an idle one at once; a running request first gets Msg 596); a qualified
// connection keeps its open transaction; the application can no longer log in.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine_test_support.hpp"
#include "sandbox/support/tds_client.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

using B = std::vector<std::uint8_t>;
constexpr int k_deadline_ms = 20000;  // a bound for what should happen promptly, never a wait in itself

class TdsUserAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = test::temp_dir("tds-useraccess");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = test::k_sa_password;
    m_instance = open_instance(cfg);
    m_sa = test::login(*m_instance);
    test::must(*m_sa, "CREATE DATABASE shop; USE shop; CREATE TABLE dbo.Orders(id int IDENTITY(1,1) PRIMARY KEY, amount int NOT NULL);"
                      " INSERT INTO dbo.Orders(amount) VALUES (1), (2)");
    // The demo's application login (src/demo/sample_logins.cpp): a plain user of the database.
    test::must(*m_sa, "CREATE LOGIN sales_app WITH PASSWORD = 'pw', DEFAULT_DATABASE = shop, CHECK_POLICY = OFF;"
                      " CREATE USER sales_app FOR LOGIN sales_app; ALTER ROLE db_datareader ADD MEMBER sales_app;"
                      " ALTER ROLE db_datawriter ADD MEMBER sales_app; USE master");
    m_reader = test::login(*m_instance, "shop");  // sa in the database (qualified: never ended)
    m_server = std::make_unique<tds::TdsServer>(*m_instance, "127.0.0.1", 0);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().message;
  }
  void TearDown() override {
    for (int fd : m_fds) ::close(fd);
    m_server->stop();
    m_server.reset();
    m_reader.reset();
    m_sa.reset();
    m_instance.reset();
    std::filesystem::remove_all(m_dir);
  }

  // A TCP connection to the server, logged in as `user` to `database`; the login's response.
  int connect_as(const std::string& user, const std::string& password, B* response) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(m_server->port());
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{k_deadline_ms / 1000, 0};  // a broken test fails instead of hanging
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    m_fds.push_back(fd);
    RawTdsClient c(fd);
    c.send(18, build_prelogin(0));
    c.read_message();
    c.send(16, build_login7(user, password, "shop"));
    *response = RawTdsClient::join(c.read_message());
    return fd;
  }
  static B batch(int fd, const std::string& sql) {
    RawTdsClient c(fd);
    c.send(1, build_sql_batch(sql));
    return RawTdsClient::join(c.read_message());
  }
  // True when the server closed the connection (EOF) within the deadline, having sent nothing
  // more than `drained` (the bytes read before the end).
  static bool closed_by_server(int fd, B* drained) {
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, k_deadline_ms) <= 0) return false;
      std::uint8_t buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;
      drained->insert(drained->end(), buf, buf + n);
    }
  }
  std::int64_t orders() { return test::as_int(test::scalar_of(*m_reader, "SELECT COUNT(*) FROM dbo.Orders WITH (NOLOCK)")); }

  std::string m_dir;
  std::unique_ptr<Instance> m_instance;
  std::unique_ptr<Session> m_sa;
  std::unique_ptr<Session> m_reader;
  std::unique_ptr<tds::TdsServer> m_server;
  std::vector<int> m_fds;
};

TEST_F(TdsUserAccessTest, RollbackImmediateClosesTheApplicationsConnectionAndKeepsTheQualifiedOne) {
  // Given sales_app connected over TDS with an open transaction that inserted a row, and sa
  // connected with an open transaction of its own, RESTRICTED_USER WITH ROLLBACK IMMEDIATE should
  // return with the row gone and sales_app's connection closed by the server; sa's connection
  // should still answer inside its transaction; a new sales_app login should get 4060.
  B login;
  const int app = connect_as("sales_app", "pw", &login);
  ASSERT_NE(find_bytes(login, {0xAD}), std::string::npos) << "no LOGINACK";
  batch(app, "BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (70)");
  const int admin = connect_as("sa", test::k_sa_password, &login);
  batch(admin, "BEGIN TRAN; UPDATE dbo.Orders SET amount = 10 WHERE id = 1");
  EXPECT_EQ(orders(), 3);

  test::must(*m_sa, "ALTER DATABASE shop SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(orders(), 2);
  B drained;
  EXPECT_TRUE(closed_by_server(app, &drained));
  EXPECT_TRUE(drained.empty());  // an idle connection is closed without a message

  const B still = batch(admin, "SELECT @@TRANCOUNT AS open_transactions");
  EXPECT_NE(find_bytes(still, utf16le("open_transactions")), std::string::npos);
  batch(admin, "COMMIT");

  connect_as("sales_app", "pw", &login);
  EXPECT_NE(find_bytes(login, utf16le("Cannot open database \"shop\" requested by the login. The login failed.")), std::string::npos);
  EXPECT_EQ(find_bytes(login, {0xAD}), std::string::npos);
}

TEST_F(TdsUserAccessTest, ARunningRequestGets596AndThenTheConnectionCloses) {
  // Given sales_app running a long WAITFOR inside a transaction, ROLLBACK IMMEDIATE should end the
  // request with Msg 596, undo its insert, and close the connection.
  B login;
  const int app = connect_as("sales_app", "pw", &login);
  RawTdsClient(app).send(1, build_sql_batch("BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (70); WAITFOR DELAY '00:10:00'"));
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(k_deadline_ms);
  while (test::as_int(test::scalar_of(*m_sa, "SELECT COUNT(*) FROM sys.dm_exec_requests WHERE command = 'WAITFOR'")) == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the WAITFOR never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  test::must(*m_sa, "ALTER DATABASE shop SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(orders(), 2);
  B drained;
  EXPECT_TRUE(closed_by_server(app, &drained));
  EXPECT_NE(find_bytes(drained, utf16le("Cannot continue the execution because the session is in the kill state.")), std::string::npos);
}

}  // namespace
}  // namespace sandbox::testing
