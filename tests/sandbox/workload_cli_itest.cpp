// `mssql2rds-sandbox workload` against a served instance over TDS: it creates the sample
// database, drives the mixed workload (with long transactions) and stops on time or on SIGTERM.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "engine/api.hpp"
#include "engine/instance_factory.hpp"
#include "engine_test_support.hpp"
#include "sandbox/support/process.hpp"
#include "tds/tds_server.hpp"

using namespace sandbox;
using namespace sandbox::test;
using sandbox::testing::run_process;

namespace {

constexpr const char* k_password = "Workload#Pw1";

class RowCountSink final : public ResultSink {
 public:
  std::int64_t value = -1;
  void columns(const std::vector<Column>&) override {}
  void row(const std::vector<Value>& v) override {
    if (!v.empty() && std::holds_alternative<std::int64_t>(v[0])) value = std::get<std::int64_t>(v[0]);
  }
  void done(DoneKind, std::optional<std::int64_t>, bool) override {}
  void message(const Message&) override {}
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  bool cancelled() override { return false; }
};

std::int64_t counter(const std::string& output, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex("stopped: .*\\b" + name + "=(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

TEST(WorkloadCliTest, CreatesTheSampleDatabaseAndDrivesItOverTds) {
  // Given a served instance, `workload --create --seconds 3` should create the sample database
  // in FULL recovery, commit short and long transactions without an error, and exit 0; the
  // rows it reports are in the database.
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = temp_dir("workload-cli");
  cfg.sa_password = k_password;
  auto instance = open_instance(cfg);
  tds::TdsServer server(*instance, "127.0.0.1", 0);
  ASSERT_TRUE(server.start().has_value());
  const auto result = run_process(
      {std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox", "workload", "--port",
       std::to_string(server.port()), "--create", "--seconds", "3", "--rate", "40", "--long-every-ms", "500",
       "--long-duration-ms", "300"},
      "", {std::string("MSSQL2RDS_SANDBOX_SA_PASSWORD=") + k_password});
  server.stop();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("created [m2r_sample] (recovery FULL)"), std::string::npos) << result.output;
  EXPECT_EQ(counter(result.output, "errors"), 0) << result.output;
  EXPECT_GT(counter(result.output, "transactions"), 30) << result.output;
  EXPECT_GE(counter(result.output, "long_transactions"), 1) << result.output;

  auto session = instance->login("sa", k_password, "m2r_sample").session;
  ASSERT_TRUE(session);
  RowCountSink orders;
  session->execute_batch("SELECT COUNT_BIG(*) FROM dbo.Orders", orders);
  EXPECT_GT(orders.value, 0);
  RowCountSink recovery;
  session->execute_batch("SELECT CASE WHEN recovery_model_desc = 'FULL' THEN 1 ELSE 0 END FROM sys.databases "
                         "WHERE name = 'm2r_sample'", recovery);
  EXPECT_EQ(recovery.value, 1);
}

TEST(WorkloadCliTest, WithoutThePasswordItSaysWhereToFindIt) {
  // Given no $MSSQL2RDS_SANDBOX_SA_PASSWORD, the command should exit 2 naming the variable.
  const auto result = run_process(
      {"env", "-u", "MSSQL2RDS_SANDBOX_SA_PASSWORD", std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox",
       "workload", "--port", "1"},
      "");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("MSSQL2RDS_SANDBOX_SA_PASSWORD"), std::string::npos) << result.output;
}

}  // namespace
