// Conformance of the sandbox's TDS server with independent clients: FreeTDS (tsql,
// bsqldb, the ODBC driver through unixODBC) and Node's tedious. The server runs
// in-process over the fake instance (support/fake_instance.hpp) on a free port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "sandbox/support/fake_instance.hpp"
#include "sandbox/support/process.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TdsConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_server = std::make_unique<tds::TdsServer>(m_instance, "127.0.0.1", 0);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().message;
    m_port = std::to_string(m_server->port());
  }
  void TearDown() override { m_server->stop(); }

  std::string require(const std::string& program) {
    const std::string path = find_program(program);
    if (path.empty()) {
      ADD_FAILURE() << program << " is not installed; run scripts/install-deps.sh";
    }
    return path;
  }

  ProcessResult tsql(const std::string& sql, const std::string& password = k_fake_password) {
    return run_process({require("tsql"), "-H", "127.0.0.1", "-p", m_port, "-U", k_fake_user, "-P", password},
                       sql + "\ngo\nexit\n", {"TDSVER=7.4", "FREETDSCONF=/dev/null"});
  }

  FakeInstance m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  std::string m_port;
};

TEST_F(TdsConformanceTest, TsqlReadsEveryType) {
  // Given the all-types result set, tsql (TDS 7.4) should print each value as SQL Server would.
  const ProcessResult r = tsql("SELECT * FROM all_types");
  std::cout << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace sandbox::testing
