// A Multi-AZ RDS instance restores natively only backups taken in the FULL recovery model
// (docs/facts.md §13): rds_restore_database of a SIMPLE-recovery backup ends in ERROR naming
// the recovery model and the fix, and creates no database; the FULL-recovery backup of the same
// database restores.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/aws_context.hpp"
#include "aws/s3_client.hpp"
#include "engine_test_support.hpp"
#include "support/moto_server.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

std::string wait_task(Session& s, std::int64_t task) {
  std::string lifecycle;
  for (int i = 0; i < 1500; ++i) {
    auto st = run(s, "exec msdb.dbo.rds_task_status @task_id = " + std::to_string(task));
    lifecycle = as_str(st.sets.at(0).rows.at(0)[5]);
    if (lifecycle == "ERROR") return "ERROR: " + as_str(st.sets[0].rows[0][6]);
    if (lifecycle == "SUCCESS") return lifecycle;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return lifecycle;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  return body.str();
}

TEST(EngineMultiAzTest, AMultiAzInstanceRestoresOnlyFullRecoveryBackups) {
  // Given backups of one database taken in SIMPLE and then in FULL recovery, a Multi-AZ RDS
  // instance should refuse the first (ERROR naming SIMPLE and FULL, no database) and restore the
  // second.
  auto moto = m2r::test::MotoServer::start();
  ASSERT_TRUE(moto) << moto.error().message;
  const std::string dir = temp_dir("multiaz");
  m2r::aws::Credentials creds;
  creds.access_key_id = (*moto)->access_key_id();
  creds.secret_access_key = (*moto)->secret_access_key();
  m2r::aws::S3Client s3(m2r::aws::AwsContext::for_endpoint(creds, "us-east-1", (*moto)->endpoint()));
  ASSERT_TRUE(s3.create_bucket("backups"));

  InstanceConfig src_cfg;
  src_cfg.name = "onprem";
  src_cfg.data_dir = dir + "/src";
  src_cfg.sa_password = k_sa_password;
  auto src = open_instance(src_cfg);
  auto s = login(*src);
  must(*s, "CREATE DATABASE shop");
  must(*s, "USE shop; CREATE TABLE dbo.t(id int PRIMARY KEY); INSERT INTO dbo.t VALUES (1)");
  must(*s, "ALTER DATABASE shop SET RECOVERY SIMPLE");
  must(*s, "BACKUP DATABASE shop TO DISK = N'" + dir + "/simple.bak' WITH CHECKSUM");
  must(*s, "ALTER DATABASE shop SET RECOVERY FULL");
  must(*s, "BACKUP DATABASE shop TO DISK = N'" + dir + "/full.bak' WITH CHECKSUM");
  ASSERT_TRUE(s3.put_object("backups", "simple.bak", read_all(dir + "/simple.bak")));
  ASSERT_TRUE(s3.put_object("backups", "full.bak", read_all(dir + "/full.bak")));

  InstanceConfig rds_cfg;
  rds_cfg.name = "rds";
  rds_cfg.kind = InstanceKind::rds;
  rds_cfg.data_dir = dir + "/rds";
  rds_cfg.sa_password = k_sa_password;
  rds_cfg.admin_user = "admin";
  rds_cfg.rds_task_pace = 0.0;
  rds_cfg.rds_multi_az = true;
  rds_cfg.rds_s3_endpoint = (*moto)->endpoint();
  rds_cfg.rds_region = "us-east-1";
  rds_cfg.rds_access_key_id = creds.access_key_id;
  rds_cfg.rds_secret_access_key = creds.secret_access_key;
  rds_cfg.rds_option_group_role_arn = "arn:aws:iam::123456789012:role/rds-backup-restore";
  auto rds = open_instance(rds_cfg);
  auto t = rds->login("admin", k_sa_password, "msdb").session;
  ASSERT_TRUE(t);

  auto simple = must(*t, "exec msdb.dbo.rds_restore_database @restore_db_name='shop', "
                         "@s3_arn_to_restore_from='arn:aws:s3:::backups/simple.bak'");
  const std::string refused = wait_task(*t, as_int(simple.sets.at(0).rows.at(0)[0]));
  EXPECT_NE(refused.find("ERROR: "), std::string::npos) << refused;
  EXPECT_NE(refused.find("taken in the SIMPLE recovery model"), std::string::npos) << refused;
  EXPECT_NE(refused.find("only backups taken in the FULL recovery model"), std::string::npos) << refused;
  EXPECT_EQ(as_int(scalar_of(*t, "SELECT COUNT(*) FROM sys.databases WHERE name = N'shop'")), 0);

  auto full = must(*t, "exec msdb.dbo.rds_restore_database @restore_db_name='shop', "
                       "@s3_arn_to_restore_from='arn:aws:s3:::backups/full.bak'");
  EXPECT_EQ(wait_task(*t, as_int(full.sets.at(0).rows.at(0)[0])), "SUCCESS");
  EXPECT_EQ(as_int(scalar_of(*t, "USE shop; SELECT COUNT(*) FROM dbo.t")), 1);
  t.reset();
  rds.reset();
  s.reset();
  src.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
