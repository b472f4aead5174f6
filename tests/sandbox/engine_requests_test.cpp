// sys.dm_exec_requests: one row per session running a request, readable from any session of
// the instance; BACKUP shows its live percent_complete there (how DBAs follow a backup on
// SQL Server with any driver).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

std::unique_ptr<Instance> instance(const std::string& tag, double backup_throughput = 0) {
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = temp_dir(tag);
  cfg.sa_password = "Secret#1";
  cfg.backup_throughput = backup_throughput;
  return open_instance(cfg);
}

TEST(EngineRequestsTest, ASessionSeesItsOwnRunningRequestWithSqlServersColumnTypes) {
  // Given a session, querying sys.dm_exec_requests for @@SPID should show its own request,
  // running a SELECT, typed as Microsoft documents the view.
  auto inst = instance("requests-own");
  auto s = login(*inst);
  auto spid = must(*s, "SELECT @@SPID");
  ASSERT_EQ(spid.sets.at(0).rows.size(), 1u);
  const auto id = as_int(spid.sets[0].rows[0][0]);
  EXPECT_GT(id, 50);
  auto r = must(*s, "SELECT session_id, request_id, start_time, status, command, database_id, percent_complete,"
                    " estimated_completion_time, total_elapsed_time FROM sys.dm_exec_requests WHERE session_id = @@SPID");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  const auto& row = r.sets[0].rows[0];
  const auto& cols = r.sets[0].columns;
  EXPECT_EQ(as_int(row[0]), id);
  EXPECT_EQ(as_int(row[1]), 0);
  EXPECT_EQ(as_str(row[3]), "running");
  EXPECT_EQ(as_str(row[4]), "SELECT");
  EXPECT_EQ(as_int(row[5]), 1);  // master
  EXPECT_EQ(std::get<double>(row[6]), 0.0);
  EXPECT_EQ(cols[0].type.type, SqlType::smallint);
  EXPECT_EQ(cols[2].type.type, SqlType::datetime);
  EXPECT_EQ(cols[4].type.type, SqlType::nvarchar);
  EXPECT_EQ(cols[4].type.length, 32);
  EXPECT_EQ(cols[6].type.type, SqlType::real);  // real, as SQL Server declares it
  EXPECT_EQ(cols[7].type.type, SqlType::bigint);
  EXPECT_EQ(cols[8].type.type, SqlType::int_);
}

TEST(EngineRequestsTest, AnIdleSessionHasNoRow) {
  // Given two sessions, the one not running anything should not appear (SQL Server lists
  // requests, not sessions).
  auto inst = instance("requests-idle");
  auto idle = login(*inst);
  auto watcher = login(*inst);
  const auto idle_id = as_int(must(*idle, "SELECT @@SPID").sets.at(0).rows.at(0).at(0));
  auto r = must(*watcher, "SELECT session_id FROM sys.dm_exec_requests");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_NE(as_int(r.sets[0].rows[0][0]), idle_id);
}

TEST(EngineRequestsTest, SecondSessionSeesBackupPercentCompleteRiseThenNoRow) {
  // Given a throttled BACKUP DATABASE on one session, a second session polling
  // sys.dm_exec_requests for it should see command 'BACKUP DATABASE' with percent_complete
  // rising (never falling) and an estimate of the time left, and no row once it finished.
  auto inst = instance("requests-backup", 60000);  // bytes/s: the backup takes a second or more
  auto admin = login(*inst);
  must(*admin, "CREATE DATABASE shop; USE shop; CREATE TABLE dbo.Events (Id int NOT NULL PRIMARY KEY, Source nvarchar(20));");
  for (int i = 0; i < 20; ++i) must(*admin, "INSERT INTO Events VALUES (" + std::to_string(i) + ", N'seed')");
  const auto backup_spid = as_int(must(*admin, "SELECT @@SPID").sets.at(0).rows.at(0).at(0));
  const std::string dir = temp_dir("requests-backup-files");

  std::atomic<bool> finished{false};
  Collected backup;
  std::thread runner([&] {
    backup = run(*admin, "USE master; BACKUP DATABASE shop TO DISK = N'" + dir + "/shop.bak' WITH INIT, STATS = 10");
    finished = true;
  });
  auto watcher = login(*inst);
  const std::string poll = "SELECT percent_complete, command, estimated_completion_time, total_elapsed_time, database_id"
                           " FROM sys.dm_exec_requests WHERE session_id = " + std::to_string(backup_spid);
  std::vector<double> seen;
  bool saw_estimate = false;
  while (!finished) {
    auto r = must(*watcher, poll);
    for (const auto& row : r.sets.at(0).rows) {
      if (as_str(row[1]) != "BACKUP DATABASE") continue;  // USE master before it
      seen.push_back(std::get<double>(row[0]));
      if (as_int(row[2]) > 0) saw_estimate = true;
      EXPECT_EQ(as_int(row[4]), 1);  // the session's database (master), as the view documents it
      EXPECT_GE(as_int(row[3]), 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  runner.join();
  EXPECT_EQ(backup.errors, 0);
  ASSERT_FALSE(backup.messages.empty());
  EXPECT_EQ(backup.messages.back().number, 3014);

  ASSERT_GE(seen.size(), 3u) << "the backup was too fast to be watched; lower backup_throughput";
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]) << "sample " << i;
  EXPECT_GT(seen.back(), seen.front());
  bool in_between = false;
  for (double p : seen) in_between = in_between || (p > 0 && p < 100);
  EXPECT_TRUE(in_between);
  EXPECT_TRUE(saw_estimate);

  auto after = must(*watcher, poll);
  EXPECT_TRUE(after.sets.at(0).rows.empty());
}

TEST(EngineRequestsTest, AFailedBackupLeavesNoRow) {
  // Given a BACKUP that fails (3201: no such directory), its request should be gone after it.
  auto inst = instance("requests-failed");
  auto admin = login(*inst);
  must(*admin, "CREATE DATABASE shop");
  const auto spid = as_int(must(*admin, "SELECT @@SPID").sets.at(0).rows.at(0).at(0));
  auto b = run(*admin, "BACKUP DATABASE shop TO DISK = N'/nonexistent-dir/x/shop.bak'");
  EXPECT_GT(b.errors, 0);
  auto watcher = login(*inst);
  auto r = must(*watcher, "SELECT session_id FROM sys.dm_exec_requests WHERE session_id = " + std::to_string(spid));
  EXPECT_TRUE(r.sets.at(0).rows.empty());
}

}  // namespace
