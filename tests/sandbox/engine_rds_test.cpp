// RDS procedures without S3: the documented failures (docs/facts.md §5, §10).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineRdsTest : public ::testing::Test {
 protected:
  void open(double pace, const std::string& role) {
    m_dir = temp_dir("rds");
    InstanceConfig cfg;
    cfg.name = "rds";
    cfg.kind = InstanceKind::rds;
    cfg.data_dir = m_dir;
    cfg.sa_password = "Secret#1";
    cfg.admin_user = "admin";
    cfg.rds_task_pace = pace;
    cfg.rds_option_group_role_arn = role;
    m_inst = open_instance(cfg);
    auto l = m_inst->login("admin", "Secret#1", "");
    ASSERT_TRUE(l.session);
    m_s = std::move(l.session);
  }
  void TearDown() override {
    m_s.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_s;
};

TEST_F(EngineRdsTest, WithoutTheOptionGroupTheTaskEndsInError) {
  // Given an instance without SQLSERVER_BACKUP_RESTORE, a restore task should go to ERROR with RDS's message.
  open(0.0, "");
  auto r = run(*m_s, "exec msdb.dbo.rds_restore_database @restore_db_name='db1', @s3_arn_to_restore_from='arn:aws:s3:::bucket/db1.bak'");
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_FALSE(r.sets.empty());
  EXPECT_EQ(r.sets[0].columns[0].name, "task_id");
  const std::int64_t task = as_int(r.sets[0].rows[0][0]);
  std::string lifecycle, info;
  for (int i = 0; i < 200 && lifecycle != "ERROR"; ++i) {
    auto st = run(*m_s, "exec msdb.dbo.rds_task_status @task_id = " + std::to_string(task));
    ASSERT_EQ(st.sets.size(), 1u);
    const auto& cols = st.sets[0].columns;
    ASSERT_EQ(cols.size(), 14u);
    EXPECT_EQ(cols[3].name, "% complete");
    EXPECT_EQ(cols[4].name, "duration (mins)");
    lifecycle = as_str(st.sets[0].rows[0][5]);
    info = std::holds_alternative<std::string>(st.sets[0].rows[0][6]) ? as_str(st.sets[0].rows[0][6]) : "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(lifecycle, "ERROR");
  EXPECT_NE(info.find("Database backup/restore option is not enabled yet or is in the process of being enabled. Please try again later."),
            std::string::npos);
}

TEST_F(EngineRdsTest, RestoringOverAnExistingNameFails) {
  // Given a database that exists, rds_restore_database should refuse its name as RDS words it.
  open(0.0, "arn:aws:iam::123456789012:role/rds-restore");
  run(*m_s, "CREATE DATABASE taken");
  auto r = run(*m_s, "exec msdb.dbo.rds_restore_database @restore_db_name='taken', @s3_arn_to_restore_from='arn:aws:s3:::b/k.bak'");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->text, "Database 'taken' already exists. Two databases that differ only by case or accent are not allowed. Choose a different database name.");
}

TEST_F(EngineRdsTest, AThirdConcurrentTaskIsRefused) {
  // Given two restore tasks still running, a third should be refused (at most two at a time).
  open(100.0, "arn:aws:iam::123456789012:role/rds-restore");
  for (const char* db : {"a", "b"}) {
    auto r = run(*m_s, std::string("exec msdb.dbo.rds_restore_database @restore_db_name='") + db + "', @s3_arn_to_restore_from='arn:aws:s3:::b/k.bak'");
    ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  }
  auto third = run(*m_s, "exec msdb.dbo.rds_restore_database @restore_db_name='c', @s3_arn_to_restore_from='arn:aws:s3:::b/k.bak'");
  ASSERT_TRUE(third.error());
  EXPECT_NE(third.error()->text.find("2 backup or restore tasks"), std::string::npos);
  auto cancel = run(*m_s, "exec msdb.dbo.rds_cancel_task @task_id = 1");
  EXPECT_EQ(cancel.errors, 0);
}

TEST_F(EngineRdsTest, PlainBackupAndRestoreAreRefused) {
  // Given an RDS instance, BACKUP and RESTORE statements should be refused as on RDS.
  open(0.0, "");
  run(*m_s, "CREATE DATABASE d");
  auto b = run(*m_s, "BACKUP DATABASE d TO DISK = N'/tmp/x.bak'");
  ASSERT_TRUE(b.error());
  EXPECT_EQ(b.error()->number, 262);
  auto r = run(*m_s, "RESTORE DATABASE d FROM DISK = N'/tmp/x.bak'");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 262);
}

}  // namespace
