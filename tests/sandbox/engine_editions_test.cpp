// Editions, versions and SQL Server Agent (README.md "Editions, versions and SQL Server Agent",
// docs/facts.md §13): what Express and Web refuse (21106, 1844, 22988), SERVERPROPERTY,
// sys.dm_server_services and VIEW SERVER STATE, MS-CDC's capture job holding the log while
// Agent is stopped, sys.databases per version, and the RDS procedures inside a transaction.
#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EditionTest : public InstanceTest {
 protected:
  EditionTest() : InstanceTest("editions") {}
  // sa in a new database `shop` on an instance of this edition, Agent state and version.
  void start(std::optional<Edition> edition, AgentState agent = AgentState::running, int version = 2019) {
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.edition = edition;
    cfg.agent = agent;
    cfg.version = version;
    open(cfg);
    m_s = login(*m_inst);
    must(*m_s, "CREATE DATABASE shop");
    must(*m_s, "USE shop");
  }
  std::string agent_status() {
    return as_str(scalar_of(*m_s, "SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'"));
  }
  std::string log_wait() {
    return as_str(scalar_of(*m_s, "SELECT log_reuse_wait_desc FROM sys.databases WHERE name = N'shop'"));
  }
  std::int64_t logged_inserts() {
    return as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE [Operation] = 'LOP_INSERT_ROWS'"));
  }
};

TEST_F(EditionTest, TheDefaultIsDeveloperWithAgentRunning) {
  // Given an instance configured as before editions existed, it should say Developer,
  // EngineEdition 3, and SQL Server Agent running.
  start(std::nullopt);
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128))")), "Developer Edition (64-bit)");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int)")), 3);
  EXPECT_EQ(agent_status(), "Running");
  EXPECT_NE(as_str(scalar_of(*m_s, "SELECT @@VERSION")).find("Developer Edition"), std::string::npos);
}

TEST_F(EditionTest, ExpressRefusesPublishingCompressionAndCdcAndChangesNothing) {
  // Given Express, publishing should fail with 21106, BACKUP WITH COMPRESSION with 1844 then
  // 3013 (no file written), sys.sp_cdc_enable_db with 22988; the database stays unpublished and
  // without CDC, and the same backup without COMPRESSION works. Agent shows disabled and stopped.
  start(Edition::express);
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128))")), "Express Edition (64-bit)");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int)")), 4);
  must(*m_s, local_distributor_sql("src"));

  auto pub = error_of(*m_s, "EXEC sp_replicationdboption @dbname = N'shop', @optname = N'publish', @value = N'true'");
  EXPECT_EQ(pub.number, 21106);
  EXPECT_EQ(pub.text, "This edition of SQL Server does not support publications.");
  EXPECT_EQ(error_of(*m_s, "EXEC sp_addpublication @publication = N'p', @status = N'active'").number, 21106);

  const std::string file = m_dir + "/shop.bak";
  auto backup = run(*m_s, "BACKUP DATABASE shop TO DISK = N'" + file + "' WITH CHECKSUM, COMPRESSION, STATS = 10");
  ASSERT_TRUE(backup.has_message(1844));
  for (const auto& m : backup.messages) {
    if (m.number == 1844) {
      EXPECT_EQ(m.text, "BACKUP DATABASE WITH COMPRESSION is not supported on Express Edition (64-bit).");
    }
  }
  EXPECT_TRUE(backup.has_message(3013));
  EXPECT_FALSE(std::filesystem::exists(file));

  auto cdc = error_of(*m_s, "EXEC sys.sp_cdc_enable_db");
  EXPECT_EQ(cdc.number, 22988);
  EXPECT_NE(cdc.text.find("Express Edition (64-bit). Change data capture is only available in the Enterprise"),
            std::string::npos) << cdc.text;

  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(is_published AS int) FROM sys.databases WHERE name = N'shop'")), 0);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(is_cdc_enabled AS int) FROM sys.databases WHERE name = N'shop'")), 0);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.schemas WHERE name = N'cdc'")), 0);
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + file + "' WITH CHECKSUM, STATS = 10");
  EXPECT_TRUE(std::filesystem::exists(file));

  EXPECT_EQ(agent_status(), "Stopped");
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT startup_type_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'")),
            "Disabled");
}

TEST_F(EditionTest, WebRefusesPublishingAndCompressionNamingItsEdition) {
  // Given Web (EngineEdition 2, like Standard), publishing should fail with 21106 and
  // compression with 1844 naming Web; Standard should take the compressed backup.
  start(Edition::web);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int)")), 2);
  must(*m_s, local_distributor_sql("src"));
  EXPECT_EQ(error_of(*m_s, "EXEC sp_replicationdboption @dbname = N'shop', @optname = N'publish', @value = N'true'").number, 21106);
  auto backup = run(*m_s, "BACKUP DATABASE shop TO DISK = N'" + m_dir + "/w.bak' WITH COMPRESSION");
  bool named = false;
  for (const auto& m : backup.messages) named |= m.number == 1844 && m.text.find("on Web Edition (64-bit).") != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_EQ(error_of(*m_s, "EXEC sys.sp_cdc_enable_db").number, 22988);
}

TEST_F(EditionTest, StandardPublishesAndCompresses) {
  // Given Standard, the documented publishing steps and a compressed backup should succeed.
  start(Edition::standard);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int)")), 2);
  must(*m_s, local_distributor_sql("src"));
  must(*m_s, "EXEC sp_replicationdboption @dbname = N'shop', @optname = N'publish', @value = N'true'");
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + m_dir + "/s.bak' WITH CHECKSUM, COMPRESSION");
}

TEST_F(EditionTest, CdcCreatesItsSchemaAndJobsAndDisablingRemovesThem) {
  // Given MS-CDC enabled on a database without a publication, the cdc schema should exist, and
  // the first enabled table should create the capture and cleanup jobs in msdb; disabling CDC
  // for the database should remove both.
  start(Edition::developer);
  must(*m_s, "CREATE TABLE dbo.notes(body nvarchar(100))");
  must(*m_s, "EXEC sys.sp_cdc_enable_db");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.schemas WHERE name = N'cdc'")), 1);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM msdb.dbo.sysjobs WHERE name LIKE N'cdc.shop_%'")), 0);
  must(*m_s, "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'notes', @role_name = NULL");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM msdb.dbo.sysjobs WHERE name IN (N'cdc.shop_capture', N'cdc.shop_cleanup')")), 2);
  must(*m_s, "EXEC sys.sp_cdc_disable_db");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.schemas WHERE name = N'cdc'")), 0);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM msdb.dbo.sysjobs WHERE name LIKE N'cdc.shop_%'")), 0);
}

TEST_F(EditionTest, WithAgentStoppedTheCaptureJobDoesNotRunAndTheLogIsHeld) {
  // Given MS-CDC on a table and SQL Server Agent stopped, a CHECKPOINT should truncate nothing
  // the capture has not read: log_reuse_wait_desc REPLICATION and the inserts still in the log.
  start(Edition::developer, AgentState::stopped);
  EXPECT_EQ(agent_status(), "Stopped");
  must(*m_s, "CREATE TABLE dbo.notes(body nvarchar(100))");
  must(*m_s, "EXEC sys.sp_cdc_enable_db");
  must(*m_s, "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'notes', @role_name = NULL");
  must(*m_s, "INSERT INTO dbo.notes VALUES (N'a'); INSERT INTO dbo.notes VALUES (N'b'); CHECKPOINT");
  EXPECT_EQ(log_wait(), "REPLICATION");
  EXPECT_EQ(logged_inserts(), 2);
}

TEST_F(EditionTest, WithAgentRunningTheCaptureJobReadsTheLogAndCheckpointTruncatesIt) {
  // Given the same database with Agent running (no full backup yet: the log truncates at
  // checkpoint), the capture job should have read the log and CHECKPOINT should truncate it.
  start(Edition::developer, AgentState::running);
  must(*m_s, "CREATE TABLE dbo.notes(body nvarchar(100))");
  must(*m_s, "EXEC sys.sp_cdc_enable_db");
  must(*m_s, "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'notes', @role_name = NULL");
  must(*m_s, "INSERT INTO dbo.notes VALUES (N'a'); INSERT INTO dbo.notes VALUES (N'b'); CHECKPOINT");
  EXPECT_EQ(log_wait(), "NOTHING");
  EXPECT_EQ(logged_inserts(), 0);
}

TEST_F(EditionTest, ServerServicesNeedViewServerState) {
  // Given a login that is not sysadmin, reading sys.dm_server_services should fail with Msg 300.
  start(Edition::standard);
  must(*m_s, "CREATE LOGIN app WITH PASSWORD = 'Str0ng#Pass1'");
  auto l = m_inst->login("app", "Str0ng#Pass1", "master");
  ASSERT_TRUE(l.session) << l.failure.text;
  auto denied = error_of(*l.session, "SELECT status_desc FROM sys.dm_server_services");
  EXPECT_EQ(denied.number, 300);
  EXPECT_EQ(denied.text, "VIEW SERVER STATE permission was denied on object 'server', database 'master'.");
}

TEST_F(EditionTest, AcceleratedDatabaseRecoveryIsAColumnFrom2019On) {
  // Given SQL Server 2017, sys.databases should have no is_accelerated_database_recovery_on
  // (207) while its other columns answer; 2019 should have it.
  start(Edition::developer, AgentState::running, 2017);
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('ProductMajorVersion') AS nvarchar(10))")), "14");
  EXPECT_EQ(error_of(*m_s, "SELECT is_accelerated_database_recovery_on FROM sys.databases WHERE name = N'shop'").number, 207);
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT delayed_durability_desc FROM sys.databases WHERE name = N'shop'")), "DISABLED");
  m_s.reset();
  m_inst.reset();
  std::filesystem::remove_all(m_dir);
  start(Edition::developer, AgentState::running, 2019);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(is_accelerated_database_recovery_on AS int) FROM sys.databases WHERE name = N'shop'")), 0);
}

class RdsEditionTest : public RdsInstanceTest {
 protected:
  RdsEditionTest() : RdsInstanceTest("rds-editions") {}
};

TEST_F(RdsEditionTest, RdsIsStandardAndItsProceduresRefuseAnOpenTransaction) {
  // Given RDS (Standard by default), an RDS procedure inside a transaction should be refused and
  // start no task; the transaction stays open for the caller to end.
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int)")), 2);
  must(*m_s, "USE msdb");
  auto r = run(*m_s, "BEGIN TRAN; EXEC msdb.dbo.rds_restore_database @restore_db_name = N'x', "
                     "@s3_arn_to_restore_from = N'arn:aws:s3:::b/x.bak'");
  ASSERT_NE(r.error(), nullptr);
  EXPECT_NE(r.error()->text.find("rds_restore_database cannot be run inside a transaction"), std::string::npos) << r.error()->text;
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT @@TRANCOUNT")), 1);
  must(*m_s, "ROLLBACK");
  auto status = must(*m_s, "EXEC msdb.dbo.rds_task_status @db_name = N'x'");
  ASSERT_FALSE(status.sets.empty());
  EXPECT_TRUE(status.sets.back().rows.empty());
}

}  // namespace
