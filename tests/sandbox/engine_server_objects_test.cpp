// Server-level objects (sandbox/engine/server_objects.hpp): Agent jobs in msdb, linked servers,
// credentials, server triggers and sp_configure, with their documented errors, and what an RDS
// instance refuses its master user.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineServerObjectsTest : public ShopInstanceTest {
 protected:
  EngineServerObjectsTest() : ShopInstanceTest("server-objects") {}
  std::int64_t count(const std::string& sql) {
    auto r = must(*m_s, sql);
    if (r.sets.empty() || r.sets[0].rows.empty()) return -1;
    return as_int(r.sets[0].rows[0][0]);
  }
  int error_of(const std::string& sql) {
    auto r = run(*m_s, sql);
    return r.error() ? r.error()->number : 0;
  }
};

class EngineServerObjectsRdsTest : public RdsInstanceTest {
 protected:
  EngineServerObjectsRdsTest() : RdsInstanceTest("server-objects-rds") {}
};

TEST_F(EngineServerObjectsTest, AddJobAndStepsAreListedInMsdb) {
  // Given a job with two steps added by the documented procedures, msdb should list them in order.
  must(*m_s, "EXEC msdb.dbo.sp_add_job @job_name = N'nightly purge', @description = N'purges old orders'");
  must(*m_s, "EXEC msdb.dbo.sp_add_jobstep @job_name = N'nightly purge', @step_name = N'purge', @subsystem = N'TSQL',"
             " @command = N'DELETE FROM dbo.orders WHERE created < DATEADD(day, -90, GETDATE())', @database_name = N'shop'");
  must(*m_s, "EXEC msdb.dbo.sp_add_jobstep @job_name = N'nightly purge', @step_name = N'export', @subsystem = N'CmdExec',"
             " @command = N'bcp shop.dbo.orders out c:\\x.dat'");
  must(*m_s, "EXEC msdb.dbo.sp_add_jobserver @job_name = N'nightly purge'");
  auto r = must(*m_s, "SELECT j.name, j.enabled, j.description, s.step_id, s.step_name, s.subsystem, s.database_name"
                      " FROM msdb.dbo.sysjobs AS j JOIN msdb.dbo.sysjobsteps AS s ON s.job_id = j.job_id ORDER BY s.step_id");
  ASSERT_EQ(r.sets.size(), 1u);
  ASSERT_EQ(r.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "nightly purge");
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 1);
  EXPECT_EQ(as_str(r.sets[0].rows[0][2]), "purges old orders");
  EXPECT_EQ(as_str(r.sets[0].rows[0][4]), "purge");
  EXPECT_EQ(as_str(r.sets[0].rows[0][6]), "shop");
  EXPECT_EQ(as_str(r.sets[0].rows[1][5]), "CmdExec");
  EXPECT_EQ(count("SELECT COUNT(*) FROM msdb.dbo.sysjobservers"), 1);
}

TEST_F(EngineServerObjectsTest, JobErrorsAreTheDocumentedOnes) {
  // Given a job, a second of the same name, an unknown job, a bad subsystem and an unknown database should fail as documented.
  must(*m_s, "EXEC msdb.dbo.sp_add_job @job_name = N'j1'");
  auto dup = run(*m_s, "EXEC msdb.dbo.sp_add_job @job_name = N'j1'");
  ASSERT_TRUE(dup.error());
  EXPECT_EQ(dup.error()->number, 14261);
  EXPECT_EQ(dup.error()->text, "The specified @job_name ('j1') already exists.");
  auto unknown = run(*m_s, "EXEC msdb.dbo.sp_delete_job @job_name = N'nope'");
  ASSERT_TRUE(unknown.error());
  EXPECT_EQ(unknown.error()->number, 14262);
  EXPECT_EQ(unknown.error()->text, "The specified @job_name ('nope') does not exist.");
  EXPECT_EQ(error_of("EXEC msdb.dbo.sp_add_jobstep @job_name = N'j1', @step_name = N's', @subsystem = N'Bogus'"), 14234);
  EXPECT_EQ(error_of("EXEC msdb.dbo.sp_add_jobstep @job_name = N'j1', @step_name = N's', @database_name = N'nodb'"), 14262);
  EXPECT_EQ(error_of("EXEC msdb.dbo.sp_add_jobstep @step_name = N's'"), 14294);
  // The Agent's procedures are in msdb: from a user database without the prefix they are not found.
  EXPECT_EQ(error_of("EXEC sp_add_job @job_name = N'j2'"), 2812);
}

TEST_F(EngineServerObjectsTest, DeleteJobRemovesItsStepsAndJobIdComesBackAsOutput) {
  // Given a job created with @job_id OUTPUT, the variable should hold its id, and sp_delete_job should remove it whole.
  auto r = must(*m_s, "DECLARE @id uniqueidentifier; EXEC msdb.dbo.sp_add_job @job_name = N'j', @job_id = @id OUTPUT;"
                      " EXEC msdb.dbo.sp_add_jobstep @job_id = @id, @step_name = N's', @command = N'SELECT 1';"
                      " SELECT COUNT(*) FROM msdb.dbo.sysjobs WHERE job_id = @id");
  ASSERT_FALSE(r.sets.empty());
  EXPECT_EQ(as_int(r.sets.back().rows[0][0]), 1);
  must(*m_s, "EXEC msdb.dbo.sp_delete_job @job_name = N'j'");
  EXPECT_EQ(count("SELECT COUNT(*) FROM msdb.dbo.sysjobs"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM msdb.dbo.sysjobsteps"), 0);
}

TEST_F(EngineServerObjectsTest, LinkedServersAreInSysServersBesideTheLocalOne) {
  // Given a linked server, sys.servers should hold it (is_linked 1) and the local server as server_id 0.
  must(*m_s, "EXEC sp_addlinkedserver @server = N'REPORTING', @srvproduct = N'', @provider = N'SQLNCLI', @datasrc = N'rpt01,1433'");
  auto r = must(*m_s, "SELECT server_id, name, is_linked, data_source FROM sys.servers ORDER BY server_id");
  ASSERT_EQ(r.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 0);
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "src");
  EXPECT_EQ(as_int(r.sets[0].rows[0][2]), 0);
  EXPECT_EQ(as_str(r.sets[0].rows[1][1]), "REPORTING");
  EXPECT_EQ(as_int(r.sets[0].rows[1][2]), 1);
  EXPECT_EQ(as_str(r.sets[0].rows[1][3]), "rpt01,1433");
  auto dup = run(*m_s, "EXEC sp_addlinkedserver @server = N'reporting', @srvproduct = N'SQL Server'");
  ASSERT_TRUE(dup.error());
  EXPECT_EQ(dup.error()->number, 15028);
  EXPECT_EQ(dup.error()->text, "The server 'reporting' already exists.");
  must(*m_s, "EXEC sp_dropserver @server = N'REPORTING'");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sys.servers WHERE is_linked = 1"), 0);
  EXPECT_EQ(error_of("EXEC sp_dropserver @server = N'REPORTING'"), 15015);
}

TEST_F(EngineServerObjectsTest, CredentialsListTheIdentityNeverTheSecret) {
  // Given a credential with a secret, sys.credentials should show its identity and have no column holding the secret.
  must(*m_s, "CREATE CREDENTIAL ftp_upload WITH IDENTITY = 'svc_ftp', SECRET = 'pa55word!'");
  auto r = must(*m_s, "SELECT * FROM sys.credentials");
  ASSERT_EQ(r.sets[0].rows.size(), 1u);
  for (const auto& column : r.sets[0].columns) EXPECT_EQ(column.name.find("secret"), std::string::npos);
  for (const auto& v : r.sets[0].rows[0]) {
    if (std::holds_alternative<std::string>(v)) {
      EXPECT_EQ(as_str(v).find("pa55word"), std::string::npos);
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM sys.credentials WHERE name = 'ftp_upload' AND credential_identity = 'svc_ftp'"), 1);
  EXPECT_EQ(error_of("CREATE CREDENTIAL ftp_upload WITH IDENTITY = 'x'"), 15025);
  must(*m_s, "DROP CREDENTIAL ftp_upload");
  EXPECT_EQ(error_of("DROP CREDENTIAL ftp_upload"), 15151);
}

TEST_F(EngineServerObjectsTest, ServerTriggersAreStoredAndListed) {
  // Given a trigger ON ALL SERVER, sys.server_triggers and its events should list it, DISABLE should mark it, DROP remove it.
  must(*m_s, "CREATE TRIGGER audit_logins ON ALL SERVER FOR CREATE_LOGIN, DROP_LOGIN AS PRINT 'login changed'");
  auto r = must(*m_s, "SELECT name, parent_class_desc, is_disabled FROM sys.server_triggers");
  ASSERT_EQ(r.sets[0].rows.size(), 1u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "audit_logins");
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "SERVER");
  EXPECT_EQ(as_int(r.sets[0].rows[0][2]), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sys.server_trigger_events"), 2);
  must(*m_s, "DISABLE TRIGGER audit_logins ON ALL SERVER");
  EXPECT_EQ(count("SELECT CAST(is_disabled AS int) FROM sys.server_triggers"), 1);
  must(*m_s, "DROP TRIGGER audit_logins ON ALL SERVER");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sys.server_triggers"), 0);
  EXPECT_EQ(error_of("DROP TRIGGER audit_logins ON ALL SERVER"), 3701);
}

TEST_F(EngineServerObjectsTest, SpConfigureChangesTheValueAndReconfigureInstallsIt) {
  // Given sp_configure of an advanced option, it should need 'show advanced options', then RECONFIGURE puts it in use.
  EXPECT_EQ(error_of("EXEC sp_configure 'max degree of parallelism', 4"), 15123);
  must(*m_s, "EXEC sp_configure 'show advanced options', 1; RECONFIGURE;");
  auto changed = must(*m_s, "EXEC sp_configure 'max degree of parallelism', 4");
  EXPECT_TRUE(changed.has_message(15457));
  EXPECT_EQ(count("SELECT CAST(value AS int) - CAST(value_in_use AS int) FROM sys.configurations"
                  " WHERE name = 'max degree of parallelism'"), 4);
  must(*m_s, "RECONFIGURE");
  EXPECT_EQ(count("SELECT CAST(value_in_use AS int) FROM sys.configurations WHERE name = 'max degree of parallelism'"), 4);
  EXPECT_EQ(error_of("EXEC sp_configure 'max degree of parallelism', -1"), 15129);
  EXPECT_EQ(error_of("EXEC sp_configure 'memory', 100"), 15124);  // min and max server memory
  auto listed = must(*m_s, "EXEC sp_configure 'cost threshold'");
  ASSERT_EQ(listed.sets.size(), 1u);
  ASSERT_EQ(listed.sets[0].columns.size(), 5u);
  EXPECT_EQ(listed.sets[0].columns[3].name, "config_value");
  EXPECT_EQ(as_int(listed.sets[0].rows[0][4]), 5);
}

TEST_F(EngineServerObjectsRdsTest, SpConfigureAndReconfigureAreRefusedButListingWorks) {
  // Given the RDS master user (no ALTER SETTINGS), changing a value and RECONFIGURE should be refused; reading is allowed.
  auto r = run(*m_s, "EXEC sp_configure 'remote access', 0");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 15247);
  auto re = run(*m_s, "RECONFIGURE");
  ASSERT_TRUE(re.error());
  EXPECT_EQ(re.error()->number, 5812);
  auto listing = must(*m_s, "SELECT value_in_use FROM sys.configurations WHERE name = 'max degree of parallelism'");
  ASSERT_EQ(listing.sets[0].rows.size(), 1u);
}

TEST_F(EngineServerObjectsRdsTest, ServerTriggersAreRefusedAgentJobsAreNot) {
  // Given RDS, a server-level trigger should be refused, while the master user creates Agent jobs in msdb.
  auto r = run(*m_s, "CREATE TRIGGER t ON ALL SERVER FOR CREATE_LOGIN AS PRINT 'x'");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 15247);
  must(*m_s, "EXEC msdb.dbo.sp_add_job @job_name = N'on rds'");
  must(*m_s, "EXEC msdb.dbo.sp_add_jobstep @job_name = N'on rds', @step_name = N's', @command = N'SELECT 1'");
  auto jobs = must(*m_s, "SELECT COUNT(*) FROM msdb.dbo.sysjobs");
  EXPECT_EQ(as_int(jobs.sets[0].rows[0][0]), 1);
}

}  // namespace
