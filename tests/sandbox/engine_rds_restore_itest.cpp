// rds_restore_database from an object in moto's S3 (SigV4 enforced) yields an identical
// database: every row of every table and every schema object's definition.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/aws_context.hpp"
#include "aws/s3_client.hpp"
#include "engine/workload.hpp"
#include "engine_test_support.hpp"
#include "support/moto_server.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

std::vector<std::vector<Value>> rows_of(Session& s, const std::string& sql) {
  auto r = run(s, sql);
  EXPECT_EQ(r.errors, 0) << sql << " -> " << (r.error() ? r.error()->text : "");
  return r.sets.empty() ? std::vector<std::vector<Value>>{} : r.sets[0].rows;
}

std::string wait_task(Session& s, std::int64_t task) {
  std::string lifecycle;
  for (int i = 0; i < 1500; ++i) {
    auto st = run(s, "exec msdb.dbo.rds_task_status @task_id = " + std::to_string(task));
    lifecycle = as_str(st.sets.at(0).rows.at(0)[5]);
    if (lifecycle == "SUCCESS" || lifecycle == "ERROR") {
      if (lifecycle == "ERROR") return "ERROR: " + as_str(st.sets[0].rows[0][6]);
      return lifecycle;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return lifecycle;
}

TEST(EngineRdsRestoreTest, RestoreFromMotoS3YieldsAnIdenticalDatabase) {
  // Given the sample database with a workload's rows backed up to a file uploaded to S3, an RDS
  // instance with the option group should restore it through SigV4-signed S3 calls into a database
  // with the same rows and the same schema objects; a wrong secret should end the task in ERROR.
  auto moto = m2r::test::MotoServer::start();
  ASSERT_TRUE(moto) << moto.error().message;
  const std::string dir = temp_dir("rdsitest");
  m2r::aws::Credentials creds;
  creds.access_key_id = (*moto)->access_key_id();
  creds.secret_access_key = (*moto)->secret_access_key();
  auto ctx = m2r::aws::AwsContext::for_endpoint(creds, "us-east-1", (*moto)->endpoint());
  m2r::aws::S3Client s3(ctx);
  ASSERT_TRUE(s3.create_bucket("backups"));

  InstanceConfig src_cfg;
  src_cfg.name = "onprem";
  src_cfg.data_dir = dir + "/src";
  src_cfg.sa_password = "Secret#1";
  auto src = open_instance(src_cfg);
  auto s = src->login("sa", "Secret#1", "").session;
  ASSERT_EQ(create_sample_database(*s, "m2r_sample"), "");
  {
    WorkloadOptions o;
    o.password = "Secret#1";
    o.statements_per_second = 200;
    o.long_duration = std::chrono::milliseconds(0);
    Workload w(*src, o);
    w.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    w.stop();
    ASSERT_EQ(w.counters().errors.load(), 0) << w.last_error();
  }
  auto b = run(*s, "BACKUP DATABASE m2r_sample TO DISK = N'" + dir + "/m2r_sample.bak' WITH CHECKSUM");
  ASSERT_EQ(b.errors, 0) << (b.error() ? b.error()->text : "");
  std::ifstream in(dir + "/m2r_sample.bak", std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  ASSERT_TRUE(s3.put_object("backups", "m2r_sample.bak", body.str()));

  InstanceConfig rds_cfg;
  rds_cfg.name = "rds";
  rds_cfg.kind = InstanceKind::rds;
  rds_cfg.data_dir = dir + "/rds";
  rds_cfg.sa_password = "Secret#1";
  rds_cfg.admin_user = "admin";
  rds_cfg.rds_task_pace = 0.0;
  rds_cfg.rds_s3_endpoint = (*moto)->endpoint();
  rds_cfg.rds_region = "us-east-1";
  rds_cfg.rds_access_key_id = creds.access_key_id;
  rds_cfg.rds_secret_access_key = creds.secret_access_key;
  rds_cfg.rds_option_group_role_arn = "arn:aws:iam::123456789012:role/rds-backup-restore";
  auto rds = open_instance(rds_cfg);
  auto t = rds->login("admin", "Secret#1", "").session;
  ASSERT_TRUE(t);
  auto started = run(*t, "exec msdb.dbo.rds_restore_database @restore_db_name='m2r_sample', "
                         "@s3_arn_to_restore_from='arn:aws:s3:::backups/m2r_sample.bak'");
  ASSERT_EQ(started.errors, 0) << (started.error() ? started.error()->text : "");
  EXPECT_EQ(wait_task(*t, as_int(started.sets[0].rows[0][0])), "SUCCESS");

  run(*s, "USE m2r_sample");
  run(*t, "USE m2r_sample");
  for (const char* table : {"Customers", "Orders", "OrderAudit", "Notes"}) {
    const std::string q = std::string("SELECT * FROM dbo.") + table;
    auto a = rows_of(*s, q);
    auto c = rows_of(*t, q);
    EXPECT_FALSE(a.empty()) << table;
    EXPECT_EQ(a, c) << table;
  }
  const std::string modules = "SELECT o.name, o.type, m.definition FROM sys.objects o LEFT JOIN sys.sql_modules m ON m.object_id = o.object_id ORDER BY o.name";
  EXPECT_EQ(rows_of(*s, modules), rows_of(*t, modules));
  EXPECT_EQ(rows_of(*s, "SELECT name, column_id, system_type_id, max_length, is_identity FROM sys.columns ORDER BY object_id, column_id"),
            rows_of(*t, "SELECT name, column_id, system_type_id, max_length, is_identity FROM sys.columns ORDER BY object_id, column_id"));

  // A missing key and a wrong secret end in ERROR with RDS's wording.
  run(*t, "USE msdb");
  auto missing = run(*t, "exec msdb.dbo.rds_restore_database @restore_db_name='other', @s3_arn_to_restore_from='arn:aws:s3:::backups/nope.bak'");
  ASSERT_EQ(missing.errors, 0);
  EXPECT_NE(wait_task(*t, as_int(missing.sets[0].rows[0][0])).find("does not exist"), std::string::npos);
  t.reset();
  rds.reset();
  rds_cfg.rds_secret_access_key = "wrong";
  rds_cfg.data_dir = dir + "/rds2";
  auto rds2 = open_instance(rds_cfg);
  auto t2 = rds2->login("admin", "Secret#1", "").session;
  auto denied = run(*t2, "exec msdb.dbo.rds_restore_database @restore_db_name='x', @s3_arn_to_restore_from='arn:aws:s3:::backups/m2r_sample.bak'");
  ASSERT_EQ(denied.errors, 0);
  EXPECT_NE(wait_task(*t2, as_int(denied.sets[0].rows[0][0])).find("Access Denied"), std::string::npos);
  t2.reset();
  rds2.reset();
  s.reset();
  src.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
