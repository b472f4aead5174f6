// Database options in the sandbox engine (sandbox/engine/database_options.hpp): TRUSTWORTHY and
// DB_CHAINING (CONTROL SERVER only; never on RDS), Service Broker, COMPATIBILITY_LEVEL, the
// database scoped configurations; what a backup carries and what a restore resets.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineDatabaseOptionsTest : public ShopInstanceTest {
 protected:
  EngineDatabaseOptionsTest() : ShopInstanceTest("dboptions") {}
  std::int64_t column(const std::string& name, const std::string& db = "shop") {
    return as_int(scalar_of(*m_s, "SELECT " + name + " FROM sys.databases WHERE name = '" + db + "'"));
  }
};

}  // namespace

TEST_F(EngineDatabaseOptionsTest, ANewDatabaseIsNotTrustworthyNotChainedAndHasTheBroker) {
  EXPECT_EQ(column("is_trustworthy_on"), 0);
  EXPECT_EQ(column("is_db_chaining_on"), 0);
  EXPECT_EQ(column("is_broker_enabled"), 1);
  EXPECT_EQ(column("compatibility_level"), 150);
}

TEST_F(EngineDatabaseOptionsTest, SysadminSetsEachOptionAndSysDatabasesShowsIt) {
  must(*m_s, "ALTER DATABASE shop SET TRUSTWORTHY ON");
  must(*m_s, "ALTER DATABASE shop SET DB_CHAINING ON");
  must(*m_s, "ALTER DATABASE shop SET DISABLE_BROKER WITH ROLLBACK IMMEDIATE");
  must(*m_s, "ALTER DATABASE shop SET COMPATIBILITY_LEVEL = 130");
  EXPECT_EQ(column("is_trustworthy_on"), 1);
  EXPECT_EQ(column("is_db_chaining_on"), 1);
  EXPECT_EQ(column("is_broker_enabled"), 0);
  EXPECT_EQ(column("compatibility_level"), 130);
  must(*m_s, "ALTER DATABASE shop SET TRUSTWORTHY OFF");
  EXPECT_EQ(column("is_trustworthy_on"), 0);
}

TEST_F(EngineDatabaseOptionsTest, TrustworthyNeedsControlServerEvenForTheDatabaseOwner) {
  must(*m_s, "CREATE LOGIN shop_owner WITH PASSWORD = 'pw', CHECK_POLICY = OFF; CREATE USER shop_owner FOR LOGIN shop_owner;"
             " ALTER ROLE db_owner ADD MEMBER shop_owner");
  auto owner = m_inst->login("shop_owner", "pw", "shop");
  ASSERT_TRUE(owner.session) << owner.failure.text;
  for (const char* sql : {"ALTER DATABASE shop SET TRUSTWORTHY ON", "ALTER DATABASE shop SET DB_CHAINING ON"}) {
    const auto e = error_of(*owner.session, sql);
    EXPECT_EQ(e.number, 15247) << sql;
    EXPECT_EQ(e.text, "User does not have permission to perform this action.");
  }
  EXPECT_EQ(column("is_trustworthy_on"), 0);
  // What db_owner may change, it may.
  must(*owner.session, "ALTER DATABASE shop SET COMPATIBILITY_LEVEL = 140");
  must(*owner.session, "ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 2");
}

TEST_F(EngineDatabaseOptionsTest, CompatibilityLevelsOutsideTheVersionsRangeAreRefused) {
  const auto e = error_of(*m_s, "ALTER DATABASE shop SET COMPATIBILITY_LEVEL = 160");  // 2019 goes to 150
  EXPECT_EQ(e.number, 15048);
  EXPECT_EQ(e.text, "Valid values of the database compatibility level are 100, 110, 120, 130, 140, 150.");
  EXPECT_EQ(column("compatibility_level"), 150);
}

TEST_F(EngineDatabaseOptionsTest, ScopedConfigurationsHaveTheirDefaultsAndChangeInTheSessionsDatabase) {
  auto value = [&](const std::string& name) {
    return as_int(scalar_of(*m_s, "SELECT CAST(value AS int) FROM sys.database_scoped_configurations WHERE name = '" + name + "'"));
  };
  EXPECT_EQ(value("MAXDOP"), 0);
  EXPECT_EQ(value("PARAMETER_SNIFFING"), 1);
  must(*m_s, "ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 4");
  must(*m_s, "ALTER DATABASE SCOPED CONFIGURATION SET PARAMETER_SNIFFING = OFF");
  EXPECT_EQ(value("MAXDOP"), 4);
  EXPECT_EQ(value("PARAMETER_SNIFFING"), 0);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT is_value_default FROM sys.database_scoped_configurations WHERE name = 'MAXDOP'")), 0);
  must(*m_s, "ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = DEFAULT");
  EXPECT_EQ(value("MAXDOP"), 0);
  EXPECT_EQ(error_of(*m_s, "ALTER DATABASE SCOPED CONFIGURATION SET NO_SUCH_SETTING = 1").number, 102);
  // Another database keeps its own.
  must(*m_s, "ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 8; CREATE DATABASE other; USE other");
  EXPECT_EQ(value("MAXDOP"), 0);
}

TEST_F(EngineDatabaseOptionsTest, ABackupCarriesTheOptionsAndARestoreIsNotTrusted) {
  // Given TRUSTWORTHY, DB_CHAINING, a compatibility level and MAXDOP set on shop, its restored
  // copy should keep the level and MAXDOP and have TRUSTWORTHY and DB_CHAINING OFF: a restored
  // database is not trusted until someone with CONTROL SERVER says so again.
  must(*m_s, "ALTER DATABASE shop SET TRUSTWORTHY ON; ALTER DATABASE shop SET DB_CHAINING ON;"
             " ALTER DATABASE shop SET COMPATIBILITY_LEVEL = 140; ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 4");
  const std::string bak = m_dir + "/shop_options.bak";
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + bak + "'");
  must(*m_s, "RESTORE DATABASE shop_copy FROM DISK = N'" + bak + "'");
  EXPECT_EQ(column("is_trustworthy_on", "shop_copy"), 0);
  EXPECT_EQ(column("is_db_chaining_on", "shop_copy"), 0);
  EXPECT_EQ(column("compatibility_level", "shop_copy"), 140);
  EXPECT_EQ(column("is_trustworthy_on"), 1);  // the original keeps its own
  must(*m_s, "USE shop_copy");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT CAST(value AS int) FROM sys.database_scoped_configurations WHERE name = 'MAXDOP'")), 4);
}

class EngineDatabaseOptionsRdsTest : public RdsInstanceTest {
 protected:
  EngineDatabaseOptionsRdsTest() : RdsInstanceTest("dboptions-rds") {}
};

TEST_F(EngineDatabaseOptionsRdsTest, NobodyOnRdsMaySetTrustworthy) {
  // RDS gives no login CONTROL SERVER (no sysadmin): its master user, db_owner of the database it
  // created, is refused TRUSTWORTHY and DB_CHAINING.
  must(*m_s, "CREATE DATABASE app");
  EXPECT_EQ(error_of(*m_s, "ALTER DATABASE app SET TRUSTWORTHY ON").number, 15247);
  EXPECT_EQ(error_of(*m_s, "ALTER DATABASE app SET DB_CHAINING ON").number, 15247);
  must(*m_s, "ALTER DATABASE app SET COMPATIBILITY_LEVEL = 140");
}
