// The workload generator against an in-process instance.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "engine/workload.hpp"
#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

TEST(EngineWorkloadTest, SampleDatabaseAndMixedWorkloadRunWithoutErrors) {
  // Given the sample database, a short workload run should insert, update and delete through the procedure,
  // the trigger and PK-less tables, commit a long transaction, and report no errors.
  const std::string dir = temp_dir("workload");
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = dir;
  cfg.sa_password = "Secret#1";
  auto inst = open_instance(cfg);
  {
    auto admin = inst->login("sa", "Secret#1", "").session;
    ASSERT_TRUE(admin);
    ASSERT_EQ(create_sample_database(*admin, "m2r_sample"), "");
    WorkloadOptions o;
    o.password = "Secret#1";
    o.statements_per_second = 200;
    o.long_every = std::chrono::milliseconds(100);
    o.long_duration = std::chrono::milliseconds(200);
    Workload w(*inst, o);
    w.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    w.stop();
    EXPECT_EQ(w.counters().errors.load(), 0) << w.last_error();
    EXPECT_GT(w.counters().inserts.load(), 10);
    EXPECT_GT(w.counters().updates.load(), 0);
    EXPECT_GE(w.counters().long_transactions.load(), 1);
    run(*admin, "USE m2r_sample");
    auto audit = run(*admin, "SELECT COUNT(*) FROM dbo.OrderAudit");
    auto orders = run(*admin, "SELECT COUNT(*) FROM dbo.Orders");
    EXPECT_EQ(as_int(audit.sets[0].rows[0][0]), as_int(orders.sets[0].rows[0][0]));
    auto view = run(*admin, "SELECT COUNT(*) FROM dbo.CustomerTotals");
    EXPECT_EQ(as_int(view.sets[0].rows[0][0]), 20);
  }
  inst.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
