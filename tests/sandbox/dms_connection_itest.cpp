// The sandbox's DMS reaching its endpoints as DMS does, driven by the AWS CLI v2 (/usr/bin/aws):
// TestConnection logs in over TDS to the server, port and database the endpoint names, with its
// user, password and SslMode, asynchronously (testing, then successful or failed with the
// server's error in DMS's words); StartReplicationTask is refused until both endpoints passed;
// a task whose endpoint stops accepting its login fails as DMS does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dms/cdc_engine.hpp"
#include "dms/endpoint_connection.hpp"
#include "dms_test_support.hpp"
#include "engine_test_support.hpp"
#include "tds/tds_server.hpp"
#include "tds/tls.hpp"
#include "world/certificates.hpp"

namespace sandbox::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using m2r::test::aws_dms;
using m2r::test::InProcessDms;
using nlohmann::json;

constexpr const char* k_dms_password = "Dms-Passw0rd";

// A port nothing listens on: bound, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// An RDS-like instance: database sales, login dms_user mapped into it, TLS from a test CA with
// rds.force_ssl = 1; and a DMS whose TestConnection logs in for real.
class DmsConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access("/usr/bin/aws", X_OK), 0) << "AWS CLI v2 is missing at /usr/bin/aws; run scripts/install-deps.sh";
    m_dir = test::temp_dir("dms-connection");
    InstanceConfig cfg;
    cfg.name = "rds";
    cfg.data_dir = m_dir;
    cfg.sa_password = test::k_sa_password;
    m_instance = open_instance(cfg);
    auto sa = test::login(*m_instance);
    test::must(*sa, std::string("CREATE DATABASE sales; CREATE LOGIN dms_user WITH PASSWORD = '") + k_dms_password +
                        "', CHECK_POLICY = OFF;");
    sa = test::login(*m_instance, "sales");
    test::must(*sa, "CREATE USER dms_user FOR LOGIN dms_user; CREATE TABLE dbo.Orders(id int PRIMARY KEY)");

    const auto ca = world::create_certificate_authority("test CA", world::Validity::from_now(30)).value();
    const auto other = world::create_certificate_authority("another CA", world::Validity::from_now(30)).value();
    const auto server = world::issue_server_certificate(ca, {"127.0.0.1"}, world::Validity::from_now(30)).value();
    std::ofstream(m_dir + "/ca.pem") << ca.certificate;
    std::ofstream(m_dir + "/other-ca.pem") << other.certificate;
    std::ofstream(m_dir + "/server.pem") << server.certificate;
    std::ofstream(m_dir + "/server.key") << server.private_key;
    m_server = std::make_unique<tds::TdsServer>(*m_instance, "127.0.0.1", 0);
    auto context = tds::TlsServerContext::load(m_dir + "/server.pem", m_dir + "/server.key");
    ASSERT_TRUE(context) << context.error().message;
    m_server->set_tls({*context, /*required=*/true});
    ASSERT_TRUE(m_server->start());
    m_port = m_server->port();
  }
  void TearDown() override {
    m_dms.reset();
    if (m_server) m_server->stop();
    m_server.reset();
    m_instance.reset();
    fs::remove_all(m_dir);
  }

  // The DMS API with the real tester (CA: the one that signed the server's certificate unless
  // told otherwise) and the real CDC engine.
  void start_dms(const std::string& ca_file = {}) {
    const std::string ca = ca_file.empty() ? m_dir + "/ca.pem" : ca_file;
    dms::CdcEnvironment env;
    env.open_session = dms::odbc_session_opener(ca);
    m_dms = std::make_unique<InProcessDms>(dms::make_cdc_runner_factory(env), std::string{},
                                           dms::odbc_connection_tester(ca));
    ASSERT_TRUE(m_dms->server->start());
  }

  json ok(const std::vector<std::string>& args) {
    auto r = aws_dms(m_dms->endpoint(), args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    return r.out.empty() ? json::object() : json::parse(r.out, nullptr, false);
  }
  std::string error(const std::vector<std::string>& args) {
    auto r = aws_dms(m_dms->endpoint(), args);
    EXPECT_NE(r.exit_code, 0) << args[0] << " unexpectedly succeeded: " << r.out;
    return r.err;
  }

  std::string instance() {
    return ok({"create-replication-instance", "--replication-instance-identifier", "ri-test",
               "--replication-instance-class", "dms.t3.medium"})["ReplicationInstance"]["ReplicationInstanceArn"];
  }
  std::string endpoint(const std::string& id, const std::string& type, int port, const std::string& database = "sales",
                       const std::string& password = k_dms_password, const std::string& ssl_mode = "none") {
    return ok({"create-endpoint", "--endpoint-identifier", id, "--endpoint-type", type, "--engine-name", "sqlserver",
               "--server-name", "127.0.0.1", "--port", std::to_string(port), "--database-name", database,
               "--username", "dms_user", "--password", password, "--ssl-mode", ssl_mode})["Endpoint"]["EndpointArn"];
  }

  // TestConnection, then DescribeConnections until the test ends; `first` gets the answer's status.
  json tested(const std::string& ri, const std::string& ep, std::string* first = nullptr) {
    json tc = ok({"test-connection", "--replication-instance-arn", ri, "--endpoint-arn", ep});
    if (first) *first = tc["Connection"].value("Status", "");
    json c;
    for (int i = 0; i < 300; ++i) {
      json conns = ok({"describe-connections", "--filters", "Name=endpoint-arn,Values=" + ep});
      c = conns["Connections"].empty() ? json::object() : conns["Connections"][0];
      if (c.value("Status", "") != "testing") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return c;
  }

  std::string task(const std::string& ri, const std::string& src, const std::string& dst) {
    return ok({"create-replication-task", "--replication-task-identifier", "cdc-sales", "--source-endpoint-arn", src,
               "--target-endpoint-arn", dst, "--replication-instance-arn", ri, "--migration-type", "cdc",
               "--table-mappings",
               R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})"})
        ["ReplicationTask"]["ReplicationTaskArn"];
  }
  json describe_task(const std::string& arn) {
    json d = ok({"describe-replication-tasks", "--filters", "Name=replication-task-arn,Values=" + arn});
    return d["ReplicationTasks"].empty() ? json::object() : d["ReplicationTasks"][0];
  }

  std::string m_dir;
  std::unique_ptr<Instance> m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  int m_port = 0;
  std::unique_ptr<InProcessDms> m_dms;
};

TEST_F(DmsConnectionTest, TheRightSettingsLogInTestingFirstThenSuccessful) {
  // Given an endpoint naming the server, its database and the login's password, TestConnection
  // should answer "testing" at once and DescribeConnections then say successful.
  start_dms();
  const std::string ri = instance(), ep = endpoint("src", "source", m_port);
  std::string first;
  json c = tested(ri, ep, &first);
  EXPECT_EQ(first, "testing");
  EXPECT_EQ(c["Status"], "successful") << c.dump();
  EXPECT_FALSE(c.contains("LastFailureMessage")) << c.dump();
}

TEST_F(DmsConnectionTest, AWrongPasswordFailsWithTheServersLoginFailedAndNoPassword) {
  // Given the wrong password, the test should fail with SQL Server's 18456 as DMS reports it,
  // and the password given should appear nowhere.
  start_dms();
  const std::string ri = instance(), ep = endpoint("src", "source", m_port, "sales", "Not-The-Passw0rd");
  json c = tested(ri, ep);
  EXPECT_EQ(c["Status"], "failed");
  const std::string m = c.value("LastFailureMessage", "");
  EXPECT_THAT(m, HasSubstr("Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect "
                           "to SQL Server Authentication failed"));
  EXPECT_THAT(m, HasSubstr("NativeError: 18456 Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server]"
                           "[SQL Server]Login failed for user 'dms_user'."));
  EXPECT_THAT(m, Not(HasSubstr("Not-The-Passw0rd")));
}

TEST_F(DmsConnectionTest, ADatabaseThatDoesNotExistFailsWithCannotOpenDatabase) {
  // Given a database name the server does not have, the login should be accepted and the test
  // fail with 4060 naming that database.
  start_dms();
  const std::string ri = instance(), ep = endpoint("tgt", "target", m_port, "nosuch");
  json c = tested(ri, ep);
  EXPECT_EQ(c["Status"], "failed");
  EXPECT_THAT(c.value("LastFailureMessage", ""),
              HasSubstr("NativeError: 4060 Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]"
                        "Cannot open database \"nosuch\" requested by the login. The login failed."));
}

TEST_F(DmsConnectionTest, APortNothingListensOnIsANetworkError) {
  // Given a port with no server, the test should fail as a network error, not succeed.
  start_dms();
  const std::string ri = instance(), ep = endpoint("src", "source", closed_port());
  json c = tested(ri, ep);
  EXPECT_EQ(c["Status"], "failed");
  // The SQLSTATE of a link that never came up (08xxx) is the driver's: FreeTDS says 08S01.
  EXPECT_THAT(c.value("LastFailureMessage", ""),
              HasSubstr("Application-Message: Cannot connect to ODBC provider Network error has occurred, "
                        "Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 08"));
}

TEST_F(DmsConnectionTest, SslModesAgainstAServerThatForcesSsl) {
  // Given rds.force_ssl = 1: SslMode none still connects (DMS's driver encrypts the login and the
  // server then requires the whole session in TLS), require connects without verifying, and
  // verify-full fails when the certificate is not signed by the CA DMS trusts.
  start_dms(m_dir + "/other-ca.pem");
  const std::string ri = instance();
  EXPECT_EQ(tested(ri, endpoint("plain", "source", m_port, "sales", k_dms_password, "none"))["Status"], "successful");
  EXPECT_EQ(tested(ri, endpoint("enc", "source", m_port, "sales", k_dms_password, "require"))["Status"], "successful");
  json c = tested(ri, endpoint("verified", "source", m_port, "sales", k_dms_password, "verify-full"));
  EXPECT_EQ(c["Status"], "failed") << c.dump();
  EXPECT_THAT(c.value("LastFailureMessage", ""), HasSubstr("Test Endpoint failed:"));
}

TEST_F(DmsConnectionTest, VerifyFullWithTheServersCaConnects) {
  // Given the CA that signed the server's certificate, verify-full should connect.
  start_dms();
  const std::string ri = instance();
  EXPECT_EQ(tested(ri, endpoint("verified", "source", m_port, "sales", k_dms_password, "verify-full"))["Status"],
            "successful");
}

TEST_F(DmsConnectionTest, StartIsRefusedUntilBothEndpointsPassedTestConnection) {
  // Given a task whose endpoints were never tested, or one of which failed its test,
  // StartReplicationTask should be InvalidResourceStateFault in DMS's words; once both pass it starts.
  start_dms();
  const std::string ri = instance(), src = endpoint("src", "source", m_port), dst = endpoint("tgt", "target", m_port);
  const std::string arn = task(ri, src, dst);
  describe_task(arn);
  std::string err = error({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type",
                           "start-replication"});
  EXPECT_THAT(err, HasSubstr("(InvalidResourceStateFault)"));
  EXPECT_THAT(err, HasSubstr("Test connection for replication instance ri-test and endpoint src should be successful "
                             "for starting the replication task"));
  ASSERT_EQ(tested(ri, src)["Status"], "successful");
  err = error({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type",
               "start-replication"});
  EXPECT_THAT(err, HasSubstr("and endpoint tgt should be successful"));
  EXPECT_EQ(describe_task(arn)["Status"], "ready");  // nothing changed
  ASSERT_EQ(tested(ri, dst)["Status"], "successful");
  ok({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type", "start-replication"});
}

TEST_F(DmsConnectionTest, ATaskWhoseSourceNoLongerAcceptsTheLoginFailsNamingTheError) {
  // Given endpoints that passed their tests, and then the source's login password changed, the
  // started task should fail (Status failed, FATAL_ERROR) with the server's login error rather
  // than read from anywhere else.
  start_dms();
  const std::string ri = instance(), src = endpoint("src", "source", m_port), dst = endpoint("tgt", "target", m_port);
  ASSERT_EQ(tested(ri, src)["Status"], "successful");
  ASSERT_EQ(tested(ri, dst)["Status"], "successful");
  const std::string arn = task(ri, src, dst);
  describe_task(arn);
  auto sa = test::login(*m_instance);
  test::must(*sa, "ALTER LOGIN dms_user WITH PASSWORD = 'Changed-Passw0rd'");
  ok({"start-replication-task", "--replication-task-arn", arn, "--start-replication-task-type", "start-replication"});
  json t;
  for (int i = 0; i < 300; ++i) {
    t = describe_task(arn);
    if (t.value("Status", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(t["Status"], "failed") << t.dump();
  EXPECT_EQ(t["StopReason"], "Stop Reason FATAL_ERROR");
  EXPECT_THAT(t.value("LastFailureMessage", ""), HasSubstr("[SOURCE_CAPTURE ]E:"));
  EXPECT_THAT(t.value("LastFailureMessage", ""), HasSubstr("Login failed for user 'dms_user'"));
}

TEST_F(DmsConnectionTest, ASecondTestWhileOneRunsIsRefused) {
  // Given a test in flight (a server that never answers keeps it testing), a second one for the
  // same endpoint should be InvalidResourceStateFault "Connection is already being tested".
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(silent, 4);
  socklen_t len = sizeof a;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  start_dms();
  const std::string ri = instance(), ep = endpoint("silent", "source", ntohs(a.sin_port));
  EXPECT_EQ(ok({"test-connection", "--replication-instance-arn", ri, "--endpoint-arn", ep})["Connection"]["Status"],
            "testing");
  EXPECT_THAT(error({"test-connection", "--replication-instance-arn", ri, "--endpoint-arn", ep}),
              HasSubstr("Connection is already being tested"));
  ::close(silent);  // the login in flight fails now, and the service's teardown joins it
}

}  // namespace
}  // namespace sandbox::testing
