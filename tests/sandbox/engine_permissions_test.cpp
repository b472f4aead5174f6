// Permissions in the sandbox engine (sandbox/engine/README.md "Permissions"): GRANT, DENY and
// REVOKE, what fixed roles imply, DENY over GRANT, the messages SQL Server words for each refusal,
// VIEW SERVER STATE's visibility of other sessions, HAS_PERMS_BY_NAME, and RDS's master user.
#include <gtest/gtest.h>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

constexpr const char* k_password = "Str0ng-Secret!x";

int error_number(const Collected& r) { return r.error() ? r.error()->number : 0; }

class EnginePermissionsTest : public ShopInstanceTest {
 protected:
  EnginePermissionsTest() : ShopInstanceTest("perms") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE TABLE dbo.Orders(Id int PRIMARY KEY, Total int)");
    must(*m_s, "INSERT INTO dbo.Orders VALUES(1, 10)");
    must(*m_s, std::string("CREATE LOGIN clerk WITH PASSWORD = '") + k_password + "', DEFAULT_DATABASE = shop");
    must(*m_s, "CREATE USER clerk FOR LOGIN clerk");
  }
  std::unique_ptr<Session> clerk(const std::string& db = "shop") {
    auto l = m_inst->login("clerk", k_password, db);
    EXPECT_TRUE(l.session) << l.failure.text;
    return std::move(l.session);
  }
};

TEST_F(EnginePermissionsTest, SelectIsDeniedUntilGrantedAndDenyBeatsGrant) {
  // Given a user with no permission, SELECT should fail with SQL Server's Msg 229; after GRANT it
  // should read; a DENY on the schema should win over the GRANT on the table; REVOKE lifts it.
  auto c = clerk();
  auto e = error_of(*c, "SELECT Total FROM dbo.Orders");
  EXPECT_EQ(e.number, 229);
  EXPECT_EQ(e.severity, 14);
  EXPECT_EQ(e.text, "The SELECT permission was denied on the object 'Orders', database 'shop', schema 'dbo'.");
  must(*m_s, "GRANT SELECT ON dbo.Orders TO clerk");
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT Total FROM Orders")), 10);
  must(*m_s, "DENY SELECT ON SCHEMA::dbo TO clerk");
  EXPECT_EQ(error_of(*c, "SELECT o.Total FROM dbo.Orders AS o").number, 229);
  must(*m_s, "REVOKE SELECT ON SCHEMA::dbo FROM clerk");
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT COUNT(*) FROM dbo.Orders")), 1);
  // Writing needs its own permission.
  e = error_of(*c, "INSERT INTO dbo.Orders VALUES(2, 20)");
  EXPECT_EQ(e.text, "The INSERT permission was denied on the object 'Orders', database 'shop', schema 'dbo'.");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM dbo.Orders")), 1);  // nothing written
}

TEST_F(EnginePermissionsTest, FixedDatabaseRolesImplyTheirPermissions) {
  // Given db_datareader, a user should read but not write; db_datawriter adds writing;
  // db_denydatareader wins over both the role and an explicit GRANT.
  auto c = clerk();
  must(*m_s, "ALTER ROLE db_datareader ADD MEMBER clerk");
  must(*c, "SELECT * FROM dbo.Orders");
  EXPECT_EQ(error_of(*c, "UPDATE dbo.Orders SET Total = 11").text,
            "The UPDATE permission was denied on the object 'Orders', database 'shop', schema 'dbo'.");
  EXPECT_EQ(error_of(*c, "DELETE FROM dbo.Orders").number, 229);
  must(*m_s, "ALTER ROLE db_datawriter ADD MEMBER clerk");
  must(*c, "UPDATE dbo.Orders SET Total = 11 WHERE Id = 1");
  must(*m_s, "GRANT SELECT ON dbo.Orders TO clerk; ALTER ROLE db_denydatareader ADD MEMBER clerk");
  EXPECT_EQ(error_of(*c, "SELECT * FROM dbo.Orders").number, 229);
}

TEST_F(EnginePermissionsTest, DenyStopsDbOwnerMembersButNotDboOrSysadmin) {
  // Given a db_owner member denied SELECT on a table, it should be refused (DENY applies to
  // db_owner members); sa (dbo in every database) is never checked.
  must(*m_s, "ALTER ROLE db_owner ADD MEMBER clerk");
  auto c = clerk();
  must(*c, "SELECT * FROM dbo.Orders");
  must(*m_s, "DENY SELECT ON OBJECT::dbo.Orders TO clerk");
  EXPECT_EQ(error_of(*c, "SELECT * FROM dbo.Orders").number, 229);
  must(*m_s, "DENY SELECT ON dbo.Orders TO public");
  must(*m_s, "SELECT * FROM dbo.Orders");
}

TEST_F(EnginePermissionsTest, FnDblogNeedsSelectGrantedInMaster) {
  // Given a login that is not sysadmin, fn_dblog should be refused as SQL Server refuses a
  // system object; the GRANT is made in master (4629 elsewhere) to the login's user there.
  auto c = clerk();
  auto e = error_of(*c, "SELECT TOP 1 [Current LSN] FROM fn_dblog(NULL, NULL)");
  EXPECT_EQ(e.number, 229);
  EXPECT_EQ(e.text, "The SELECT permission was denied on the object 'fn_dblog', database 'mssqlsystemresource', schema 'sys'.");
  EXPECT_EQ(error_of(*m_s, "GRANT SELECT ON sys.fn_dblog TO clerk").number, 4629);
  must(*m_s, "USE master; CREATE USER clerk FOR LOGIN clerk; GRANT SELECT ON sys.fn_dblog TO clerk; USE shop");
  must(*c, "SELECT TOP 1 [Current LSN] FROM fn_dblog(NULL, NULL)");
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME('sys.fn_dblog', 'OBJECT', 'SELECT')")), 1);
}

TEST_F(EnginePermissionsTest, MsdbBackupHistoryNeedsSelectInMsdb) {
  // Given no permission in msdb, backupset should be refused naming msdb; a user in msdb with
  // SELECT on it should read it, and the other tables stay refused.
  auto c = clerk();
  auto e = error_of(*c, "SELECT COUNT(*) FROM msdb.dbo.backupset");
  EXPECT_EQ(e.text, "The SELECT permission was denied on the object 'backupset', database 'msdb', schema 'dbo'.");
  must(*m_s, "USE msdb; CREATE USER clerk FOR LOGIN clerk; GRANT SELECT ON dbo.backupset TO clerk; USE shop");
  must(*c, "SELECT COUNT(*) FROM msdb.dbo.backupset");
  EXPECT_EQ(error_of(*c, "SELECT COUNT(*) FROM msdb.dbo.backupmediafamily").number, 229);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME('msdb.dbo.backupset', 'OBJECT', 'SELECT')")), 1);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME('msdb.dbo.backupfile', 'OBJECT', 'SELECT')")), 0);
}

TEST_F(EnginePermissionsTest, ViewServerStateShowsOtherSessions) {
  // Given a login without VIEW SERVER STATE, sys.dm_exec_sessions and sys.dm_exec_requests should
  // show its own session only; granted (in master: 4621 elsewhere), every session.
  auto c = clerk();
  const auto own = as_int(scalar_of(*c, "SELECT @@SPID"));
  auto r = must(*c, "SELECT session_id FROM sys.dm_exec_sessions");
  ASSERT_EQ(r.sets.back().rows.size(), 1u);
  EXPECT_EQ(as_int(r.sets.back().rows[0][0]), own);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT COUNT(*) FROM sys.dm_exec_requests WHERE session_id <> @@SPID")), 0);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')")), 0);
  auto e = error_of(*m_s, "GRANT VIEW SERVER STATE TO clerk");
  EXPECT_EQ(e.number, 4621);
  must(*m_s, "USE master; GRANT VIEW SERVER STATE TO clerk; USE shop");
  EXPECT_GE(as_int(scalar_of(*c, "SELECT COUNT(*) FROM sys.dm_exec_sessions")), 2);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')")), 1);
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT p.state_desc FROM sys.server_permissions p JOIN sys.server_principals s"
                                   " ON s.principal_id = p.grantee_principal_id WHERE s.name = 'clerk'"
                                   " AND p.permission_name = 'VIEW SERVER STATE'")),
            "GRANT");
}

TEST_F(EnginePermissionsTest, BackupNeedsDbOwnerOrDbBackupOperator) {
  // Given a user with no backup right, BACKUP DATABASE should fail with 262 then 3013 and write
  // nothing; in db_backupoperator it should succeed.
  auto c = clerk();
  const std::string file = m_dir + "/shop.bak";
  auto r = run(*c, "BACKUP DATABASE shop TO DISK = N'" + file + "'");
  ASSERT_GE(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].number, 262);
  EXPECT_EQ(r.messages[0].text, "BACKUP DATABASE permission denied in database 'shop'.");
  EXPECT_TRUE(r.has_message(3013));
  EXPECT_FALSE(std::filesystem::exists(file));
  must(*m_s, "ALTER ROLE db_backupoperator ADD MEMBER clerk");
  must(*c, "BACKUP DATABASE shop TO DISK = N'" + file + "'");
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(EnginePermissionsTest, GrantNeedsTheGrantorsRightAndKnownNames) {
  // Given a user without rights, GRANT should fail with 4613; unknown grantees and objects with 15151.
  auto c = clerk();
  EXPECT_EQ(error_of(*c, "GRANT SELECT ON dbo.Orders TO clerk").text, "Grantor does not have GRANT permission.");
  EXPECT_EQ(error_of(*m_s, "GRANT SELECT ON dbo.Orders TO nobody").text,
            "Cannot find the user 'nobody', because it does not exist or you do not have permission.");
  EXPECT_EQ(error_of(*m_s, "GRANT SELECT ON dbo.Missing TO clerk").number, 15151);
  EXPECT_EQ(error_of(*m_s, "USE master; GRANT VIEW SERVER STATE TO nobody").text,
            "Cannot find the login 'nobody', because it does not exist or you do not have permission.");
  // WITH GRANT OPTION lets the grantee pass the permission on.
  must(*m_s, "USE shop; GRANT SELECT ON dbo.Orders TO clerk WITH GRANT OPTION; CREATE USER u2 WITHOUT LOGIN");
  must(*c, "GRANT SELECT ON dbo.Orders TO u2");
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT p.state_desc FROM sys.database_permissions p JOIN sys.database_principals u"
                                   " ON u.principal_id = p.grantee_principal_id WHERE u.name = 'clerk'")),
            "GRANT_WITH_GRANT_OPTION");
}

TEST_F(EnginePermissionsTest, PermissionsTravelWithTheDatabase) {
  // Given a GRANT in shop, a backup restored as another database should carry it.
  must(*m_s, "GRANT SELECT ON dbo.Orders TO clerk");
  must(*m_s, "USE master; BACKUP DATABASE shop TO DISK = N'" + m_dir + "/p.bak'");
  must(*m_s, "RESTORE DATABASE shop2 FROM DISK = N'" + m_dir + "/p.bak'");
  auto c = clerk("shop2");
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT COUNT(*) FROM dbo.Orders")), 1);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT HAS_PERMS_BY_NAME('dbo.Orders', 'OBJECT', 'INSERT')")), 0);
  EXPECT_EQ(as_int(scalar_of(*c, "SELECT IS_ROLEMEMBER('db_owner')")), 0);
}

TEST_F(EnginePermissionsTest, ExecuteOfAProcedureNeedsExecuteButNotItsTables) {
  // Given a procedure reading Orders, EXECUTE on it should suffice (the ownership chain), and
  // without it the call is refused with 229.
  must(*m_s, "CREATE PROCEDURE dbo.Total AS SELECT SUM(Total) FROM dbo.Orders");
  auto c = clerk();
  EXPECT_EQ(error_of(*c, "EXEC dbo.Total").text,
            "The EXECUTE permission was denied on the object 'Total', database 'shop', schema 'dbo'.");
  must(*m_s, "GRANT EXECUTE ON dbo.Total TO clerk");
  must(*c, "EXEC dbo.Total");
}

class EngineRdsPermissionsTest : public RdsInstanceTest {
 protected:
  EngineRdsPermissionsTest() : RdsInstanceTest("rds-perms") {}
};

TEST_F(EngineRdsPermissionsTest, MasterUserHasWhatRdsDocumentsAndOthersDoNot) {
  // Given RDS's master user, it should not be sysadmin but hold the server permissions RDS lists,
  // own the databases it creates, and run the rds_ procedures; another login gets 229 on them.
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT IS_SRVROLEMEMBER('sysadmin')")), 0);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')")), 1);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN')")), 1);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'CREATE ANY DATABASE')")), 1);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'CONTROL SERVER')")), 0);
  must(*m_s, "CREATE DATABASE app; USE app; CREATE TABLE t(a int)");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT IS_ROLEMEMBER('db_owner')")), 1);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT HAS_PERMS_BY_NAME('app', 'DATABASE', 'ALTER')")), 1);
  auto status = run(*m_s, "EXEC msdb.dbo.rds_task_status @db_name = 'app'");
  EXPECT_NE(error_number(status), 229) << (status.error() ? status.error()->text : "");
  // The master user creates a login (ALTER ANY LOGIN) and passes VIEW SERVER STATE on.
  must(*m_s, std::string("USE master; CREATE LOGIN ops WITH PASSWORD = '") + k_password + "'; GRANT VIEW SERVER STATE TO ops");
  auto l = m_inst->login("ops", k_password, "");
  ASSERT_TRUE(l.session) << l.failure.text;
  auto e = error_of(*l.session, "EXEC msdb.dbo.rds_task_status @db_name = 'app'");
  EXPECT_EQ(e.text, "The EXECUTE permission was denied on the object 'rds_task_status', database 'msdb', schema 'dbo'.");
  EXPECT_EQ(as_int(scalar_of(*l.session, "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')")), 1);
}

}  // namespace
