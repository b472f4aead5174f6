// Logins, users and roles in the sandbox engine (sandbox/engine/README.md "Logins and users"):
// SQL Server's documented behaviour and refusals, the password hash, SIDs across instances, and
// users that a restore brings orphaned.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

constexpr const char* k_app_password = "Str0ng-Secret!x";  // meets CHECK_POLICY (it may not contain the login name)

std::string hex(const Value& v) {
  static const char* d = "0123456789ABCDEF";
  std::string out = "0x";
  for (auto b : std::get<Bytes>(v).data) {
    out += d[b >> 4];
    out += d[b & 15];
  }
  return out;
}

int error_number(const Collected& r) { return r.error() ? r.error()->number : 0; }

class EngineLoginsTest : public ShopInstanceTest {
 protected:
  EngineLoginsTest() : ShopInstanceTest("logins") {}

  std::unique_ptr<Instance> second_instance(const std::string& tag) {
    m_other_dir = temp_dir(tag);
    InstanceConfig cfg;
    cfg.name = "other";
    cfg.data_dir = m_other_dir;
    cfg.sa_password = k_sa_password;
    return open_instance(cfg);
  }
  void TearDown() override {
    ShopInstanceTest::TearDown();
    if (!m_other_dir.empty()) std::filesystem::remove_all(m_other_dir);
  }
  // Logs in as `user`, expecting success.
  std::unique_ptr<Session> as(Instance& inst, const std::string& user, const std::string& password, const std::string& db = "") {
    auto l = inst.login(user, password, db);
    EXPECT_TRUE(l.session) << user << ": " << l.failure.number << " " << l.failure.text;
    return std::move(l.session);
  }
  std::string m_other_dir;
};

TEST_F(EngineLoginsTest, SaIsTheSysadminWithSid01) {
  // Given a new instance, sa should be a SQL login with SID 0x01 in sysadmin, and the session's
  // functions should name it.
  auto r = must(*m_s, "SELECT sp.name, sp.sid, sp.type, sp.type_desc FROM sys.server_principals sp WHERE sp.name = 'sa'");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(hex(r.sets[0].rows[0][1]), "0x01");
  EXPECT_EQ(as_str(r.sets[0].rows[0][2]), "S");
  EXPECT_EQ(as_str(r.sets[0].rows[0][3]), "SQL_LOGIN");
  r = must(*m_s, "SELECT r.name FROM sys.server_role_members rm JOIN sys.server_principals r ON r.principal_id = rm.role_principal_id"
                 " JOIN sys.server_principals m ON m.principal_id = rm.member_principal_id WHERE m.name = SUSER_SNAME()");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "sysadmin");
  r = must(*m_s, "SELECT SUSER_SNAME(), SUSER_NAME(), USER_NAME(), IS_SRVROLEMEMBER('sysadmin'), SUSER_SID()");
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "sa");
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "sa");
  EXPECT_EQ(as_str(r.sets[0].rows[0][2]), "dbo");
  EXPECT_EQ(as_int(r.sets[0].rows[0][3]), 1);
  EXPECT_EQ(hex(r.sets[0].rows[0][4]), "0x01");
  r = must(*m_s, "SELECT COUNT(*) FROM sys.server_principals WHERE type = 'R'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 9);  // sysadmin ... bulkadmin and public
}

TEST_F(EngineLoginsTest, SqlLoginAuthenticatesByItsPasswordHash) {
  // Given CREATE LOGIN with a password, the login should open a session with that password only,
  // and its hash should be 0x0200 + salt + SHA-512(UTF-16LE(password) + salt).
  must(*m_s, std::string("CREATE LOGIN app WITH PASSWORD = '") + k_app_password + "', CHECK_POLICY = OFF");
  auto r = must(*m_s, "SELECT password_hash, is_policy_checked, is_expiration_checked, default_database_name FROM sys.sql_logins WHERE name = 'app'");
  const auto hash = std::get<Bytes>(r.sets.at(0).rows.at(0)[0]).data;
  ASSERT_EQ(hash.size(), 70u);
  EXPECT_EQ(hash[0], 0x02);
  EXPECT_EQ(hash[1], 0x00);
  std::string input;
  for (char c : std::string(k_app_password)) input += std::string{c, '\0'};
  input.append(hash.begin() + 2, hash.begin() + 6);
  unsigned char digest[64];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), digest, &n, EVP_sha512(), nullptr);
  EXPECT_TRUE(std::equal(digest, digest + 64, hash.begin() + 6));
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 0);
  EXPECT_EQ(as_str(r.sets[0].rows[0][3]), "master");

  EXPECT_TRUE(m_inst->login("app", k_app_password, "").session);
  auto wrong = m_inst->login("app", "not-it", "");
  EXPECT_FALSE(wrong.session);
  EXPECT_EQ(wrong.failure.number, 18456);
  EXPECT_EQ(wrong.failure.text, "Login failed for user 'app'.");
  auto unknown = m_inst->login("nobody", k_app_password, "");
  EXPECT_EQ(unknown.failure.number, 18456);
}

TEST_F(EngineLoginsTest, LoginsSurviveARestartOfTheInstance) {
  // Given a login and a user, after the instance is closed and opened again both should still be there.
  must(*m_s, std::string("CREATE LOGIN app WITH PASSWORD = '") + k_app_password + "'; CREATE USER app FOR LOGIN app;");
  m_s.reset();
  m_inst.reset();
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = m_dir;
  cfg.sa_password = k_sa_password;
  m_inst = open_instance(cfg);
  auto app = as(*m_inst, "app", k_app_password, "shop");
  ASSERT_TRUE(app);
  auto r = must(*app, "SELECT USER_NAME(), SUSER_SNAME()");
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "app");
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "app");
  m_s = login(*m_inst);
}

TEST_F(EngineLoginsTest, CreateLoginRefusalsAreSqlServers) {
  // Given the documented refusals of CREATE LOGIN, each should fail with its number and text.
  must(*m_s, "CREATE LOGIN app WITH PASSWORD = 'x', CHECK_POLICY = OFF, SID = 0x0102030405060708090A0B0C0D0E0F10");
  auto r = run(*m_s, "CREATE LOGIN app WITH PASSWORD = 'y', CHECK_POLICY = OFF");
  EXPECT_EQ(error_number(r), 15025);
  EXPECT_EQ(r.error()->text, "The server principal 'app' already exists.");
  r = run(*m_s, "CREATE LOGIN [APP] WITH PASSWORD = 'y', CHECK_POLICY = OFF");
  EXPECT_EQ(error_number(r), 15025);  // names compare without case
  r = run(*m_s, "CREATE LOGIN app2 WITH PASSWORD = 'y', CHECK_POLICY = OFF, SID = 0x0102030405060708090A0B0C0D0E0F10");
  EXPECT_EQ(error_number(r), 15433);
  EXPECT_EQ(r.error()->text, "Supplied parameter sid is in use.");
  r = run(*m_s, "CREATE LOGIN app3 WITH PASSWORD = 0x0200ABCD HASHED");
  EXPECT_EQ(error_number(r), 15021);
  EXPECT_EQ(r.error()->text, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.");
  r = run(*m_s, "CREATE LOGIN app4 WITH PASSWORD = 'y', CHECK_POLICY = OFF, SID = 0x0102");
  EXPECT_EQ(error_number(r), 15419);
  r = run(*m_s, "CREATE LOGIN app5 WITH PASSWORD = 'simplepassword'");
  EXPECT_EQ(error_number(r), 15118);  // CHECK_POLICY is ON by default
  r = run(*m_s, "CREATE LOGIN app6 WITH PASSWORD = 'Sh0rt!'");
  EXPECT_EQ(error_number(r), 15116);
  r = run(*m_s, "CREATE LOGIN app7 WITH PASSWORD = 'y', CHECK_POLICY = OFF, CHECK_EXPIRATION = ON");
  EXPECT_EQ(error_number(r), 15122);
  r = run(*m_s, "DROP LOGIN nobody");
  EXPECT_EQ(error_number(r), 15151);
  EXPECT_EQ(r.error()->text, "Cannot drop the login 'nobody', because it does not exist or you do not have permission.");
  r = run(*m_s, "ALTER LOGIN nobody DISABLE");
  EXPECT_EQ(error_number(r), 15151);
  must(*m_s, "DROP LOGIN app");
  r = must(*m_s, "SELECT COUNT(*) FROM sys.server_principals WHERE name = 'app'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 0);
}

TEST_F(EngineLoginsTest, HashAndSidCopiedToAnotherInstanceKeepThePassword) {
  // Given a login scripted from one instance as KB 918992 does (hash HASHED, SID), the second
  // instance should accept the original password and report the same SID.
  must(*m_s, std::string("CREATE LOGIN app WITH PASSWORD = '") + k_app_password + "'");
  auto r = must(*m_s, "SELECT password_hash, sid FROM sys.sql_logins WHERE name = 'app'");
  const std::string hash = hex(r.sets.at(0).rows.at(0)[0]), sid = hex(r.sets[0].rows[0][1]);
  auto other = second_instance("logins-other");
  auto admin = login(*other);
  EXPECT_FALSE(other->login("app", k_app_password, "").session);
  must(*admin, "CREATE LOGIN app WITH PASSWORD = " + hash + " HASHED, SID = " + sid + ", CHECK_POLICY = ON");
  auto app = as(*other, "app", k_app_password);
  ASSERT_TRUE(app);
  r = must(*app, "SELECT SUSER_SID()");
  EXPECT_EQ(hex(r.sets[0].rows[0][0]), sid);
  EXPECT_FALSE(other->login("app", "wrong", "").session);
}

TEST_F(EngineLoginsTest, WindowsLoginsCannotUseSqlAuthentication) {
  // Given CREATE LOGIN [DOM\name] FROM WINDOWS, the login should exist as type U and never open a
  // session with a password; a name without a domain should be refused.
  must(*m_s, "CREATE LOGIN [CORP\\alice] FROM WINDOWS WITH DEFAULT_DATABASE = shop");
  auto r = must(*m_s, "SELECT type, type_desc, default_database_name FROM sys.server_principals WHERE name = 'CORP\\alice'");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "U");
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "WINDOWS_LOGIN");
  EXPECT_EQ(as_str(r.sets[0].rows[0][2]), "shop");
  EXPECT_EQ(m_inst->login("CORP\\alice", "", "").failure.number, 18456);
  r = run(*m_s, "CREATE LOGIN alice FROM WINDOWS");
  EXPECT_EQ(error_number(r), 15407);
  r = must(*m_s, "SELECT COUNT(*) FROM sys.sql_logins WHERE name = 'CORP\\alice'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 0);
}

TEST_F(EngineLoginsTest, DisabledLoginFailsWith18470) {
  // Given ALTER LOGIN ... DISABLE, the login should fail with 18470 until it is enabled again.
  must(*m_s, "CREATE LOGIN app WITH PASSWORD = 'x', CHECK_POLICY = OFF; ALTER LOGIN app DISABLE;");
  auto l = m_inst->login("app", "x", "");
  EXPECT_EQ(l.failure.number, 18470);
  EXPECT_EQ(l.failure.text, "Login failed for user 'app'. Reason: The account is disabled.");
  auto r = must(*m_s, "SELECT is_disabled FROM sys.server_principals WHERE name = 'app'");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 1);
  must(*m_s, "ALTER LOGIN app ENABLE; ALTER LOGIN app WITH PASSWORD = 'y', CHECK_POLICY = OFF");
  EXPECT_FALSE(m_inst->login("app", "x", "").session);
  EXPECT_TRUE(m_inst->login("app", "y", "").session);
}

TEST_F(EngineLoginsTest, OnlySysadminSecurityadminOrAlterAnyLoginManageLogins) {
  // Given a login in no server role, CREATE LOGIN should fail with 15247 and it should not see
  // password hashes; in securityadmin it may create logins but still not read hashes.
  must(*m_s, "CREATE LOGIN plain WITH PASSWORD = 'x', CHECK_POLICY = OFF");
  auto plain = as(*m_inst, "plain", "x");
  ASSERT_TRUE(plain);
  auto r = run(*plain, "CREATE LOGIN other WITH PASSWORD = 'y', CHECK_POLICY = OFF");
  EXPECT_EQ(error_number(r), 15247);
  EXPECT_EQ(r.error()->text, "User does not have permission to perform this action.");
  r = run(*plain, "ALTER SERVER ROLE sysadmin ADD MEMBER plain");
  EXPECT_EQ(error_number(r), 15151);
  r = run(*plain, "EXEC sp_addsrvrolemember 'plain', 'sysadmin'");
  EXPECT_EQ(error_number(r), 15247);
  r = must(*plain, "SELECT name FROM sys.server_principals WHERE type = 'S' ORDER BY name");
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);  // itself and sa
  r = must(*plain, "SELECT password_hash FROM sys.sql_logins WHERE name = 'plain'");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets.at(0).rows.at(0)[0]));
  r = must(*plain, "SELECT LOGINPROPERTY('plain', 'PasswordHash'), IS_SRVROLEMEMBER('sysadmin')");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets.at(0).rows.at(0)[0]));
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 0);

  must(*m_s, "ALTER SERVER ROLE securityadmin ADD MEMBER plain");
  must(*plain, "CREATE LOGIN other WITH PASSWORD = 'y', CHECK_POLICY = OFF");
  r = must(*plain, "SELECT password_hash FROM sys.sql_logins WHERE name = 'other'");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets.at(0).rows.at(0)[0]));
  must(*m_s, "EXEC sp_addsrvrolemember @loginame = 'plain', @rolename = 'sysadmin'");
  r = must(*plain, "SELECT IS_SRVROLEMEMBER('sysadmin'), LOGINPROPERTY('other', 'PasswordHash')");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 1);
  EXPECT_EQ(std::get<Bytes>(r.sets[0].rows[0][1]).data.size(), 70u);
}

TEST_F(EngineLoginsTest, ALoginWithoutAUserCannotOpenTheDatabase) {
  // Given a login with no user in shop, opening shop should fail with 4060 at login and 916 on
  // USE; master lets it in as guest; once a user maps to it, shop opens.
  must(*m_s, "CREATE LOGIN app WITH PASSWORD = 'x', CHECK_POLICY = OFF, DEFAULT_DATABASE = shop");
  auto l = m_inst->login("app", "x", "shop");
  EXPECT_FALSE(l.session);
  EXPECT_EQ(l.failure.number, 4060);
  EXPECT_EQ(l.failure.text, "Cannot open database \"shop\" requested by the login. The login failed.");
  EXPECT_EQ(m_inst->login("app", "x", "").failure.number, 4064);  // its default database
  auto app = as(*m_inst, "app", "x", "master");
  ASSERT_TRUE(app);
  auto r = must(*app, "SELECT USER_NAME()");
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "guest");
  r = run(*app, "USE shop");
  EXPECT_EQ(error_number(r), 916);
  EXPECT_EQ(r.error()->text,
            "The server principal \"app\" is not able to access the database \"shop\" under the current security context.");
  must(*m_s, "USE shop; CREATE USER app FOR LOGIN app");
  must(*app, "USE shop");
  EXPECT_TRUE(m_inst->login("app", "x", "").session);
}

TEST_F(EngineLoginsTest, DatabaseUsersAndRoles) {
  // Given users of each kind, sys.database_principals should show their type and authentication,
  // roles their members, and the refusals should be SQL Server's.
  must(*m_s, "CREATE LOGIN app WITH PASSWORD = 'x', CHECK_POLICY = OFF; CREATE LOGIN [CORP\\bob] FROM WINDOWS;");
  must(*m_s, "CREATE USER app_user FOR LOGIN app WITH DEFAULT_SCHEMA = dbo; CREATE USER [CORP\\bob]; CREATE USER loose WITHOUT LOGIN;");
  must(*m_s, "ALTER ROLE db_datareader ADD MEMBER app_user; EXEC sp_addrolemember 'db_datawriter', 'app_user';");
  auto r = must(*m_s, "SELECT name, type, authentication_type_desc FROM sys.database_principals WHERE type IN ('S', 'U') ORDER BY name");
  std::map<std::string, std::pair<std::string, std::string>> users;
  for (const auto& row : r.sets.at(0).rows) users[as_str(row[0])] = {as_str(row[1]), as_str(row[2])};
  EXPECT_EQ(users["app_user"], std::make_pair(std::string("S"), std::string("INSTANCE")));
  EXPECT_EQ(users["CORP\\bob"], std::make_pair(std::string("U"), std::string("WINDOWS")));
  EXPECT_EQ(users["loose"], std::make_pair(std::string("S"), std::string("NONE")));
  EXPECT_EQ(users["dbo"], std::make_pair(std::string("S"), std::string("INSTANCE")));
  r = must(*m_s, "SELECT dp.sid FROM sys.database_principals dp WHERE dp.name = 'dbo'");
  EXPECT_EQ(hex(r.sets[0].rows[0][0]), "0x01");
  r = must(*m_s, "SELECT r.name FROM sys.database_role_members rm JOIN sys.database_principals r ON r.principal_id = rm.role_principal_id"
                 " JOIN sys.database_principals m ON m.principal_id = rm.member_principal_id WHERE m.name = 'app_user' ORDER BY 1");
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "db_datareader");
  EXPECT_EQ(as_str(r.sets[0].rows[1][0]), "db_datawriter");

  r = run(*m_s, "CREATE USER app_user FOR LOGIN app");
  EXPECT_EQ(error_number(r), 15023);
  EXPECT_EQ(r.error()->text, "User, group, or role 'app_user' already exists in the current database.");
  r = run(*m_s, "CREATE USER second FOR LOGIN app");
  EXPECT_EQ(error_number(r), 15063);
  r = run(*m_s, "CREATE USER ghost FOR LOGIN nobody");
  EXPECT_EQ(error_number(r), 15007);
  EXPECT_EQ(r.error()->text, "'nobody' is not a valid login or you do not have permission.");
  r = run(*m_s, "DROP USER nobody");
  EXPECT_EQ(error_number(r), 15151);
  r = run(*m_s, "ALTER ROLE db_nothing ADD MEMBER app_user");
  EXPECT_EQ(error_number(r), 15151);
  must(*m_s, "DROP USER loose; DROP USER IF EXISTS loose;");

  // A user in no role may not create users.
  auto app = as(*m_inst, "app", "x", "shop");
  ASSERT_TRUE(app);
  r = run(*app, "CREATE USER another WITHOUT LOGIN");
  EXPECT_EQ(error_number(r), 15247);
}

TEST_F(EngineLoginsTest, ARestoreOnAnotherInstanceBringsItsUsersOrphaned) {
  // Given a database with a user for a SQL login, restored on an instance without that login, the
  // user should be orphaned (the documented query names it) and the login should not get in;
  // CREATE LOGIN with the same SID mends one user, ALTER USER ... WITH LOGIN another.
  must(*m_s, "CREATE TABLE dbo.T (Id int PRIMARY KEY); INSERT INTO T VALUES (1), (2);");
  must(*m_s, std::string("CREATE LOGIN app WITH PASSWORD = '") + k_app_password + "'; CREATE USER app FOR LOGIN app;"
             "ALTER ROLE db_datareader ADD MEMBER app;");
  must(*m_s, "CREATE LOGIN rep WITH PASSWORD = 'r', CHECK_POLICY = OFF; CREATE USER rep FOR LOGIN rep;");
  auto r = must(*m_s, "SELECT password_hash, sid FROM sys.sql_logins WHERE name = 'app'");
  const std::string hash = hex(r.sets.at(0).rows.at(0)[0]), sid = hex(r.sets[0].rows[0][1]);
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + m_dir + "/shop.bak'");

  auto other = second_instance("logins-restore");
  auto admin = login(*other);
  must(*admin, "RESTORE DATABASE shop FROM DISK = N'" + m_dir + "/shop.bak'");
  const std::string orphans =
      "SELECT dp.name AS user_name, dp.sid AS sid FROM sys.database_principals AS dp "
      "LEFT JOIN sys.server_principals AS sp ON sp.sid = dp.sid "
      "WHERE dp.type = 'S' AND dp.authentication_type_desc = 'INSTANCE' AND sp.sid IS NULL "
      "AND dp.name NOT IN ('dbo', 'guest', 'sys', 'INFORMATION_SCHEMA') ORDER BY dp.name";
  must(*admin, "USE shop");
  r = must(*admin, orphans);
  ASSERT_EQ(r.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(as_str(r.sets[0].rows[0][0]), "app");
  EXPECT_EQ(hex(r.sets[0].rows[0][1]), sid);
  EXPECT_EQ(as_str(r.sets[0].rows[1][0]), "rep");

  EXPECT_EQ(other->login("app", k_app_password, "shop").failure.number, 18456);
  must(*admin, "CREATE LOGIN app WITH PASSWORD = " + hash + " HASHED, SID = " + sid + ", DEFAULT_DATABASE = shop");
  auto app = as(*other, "app", k_app_password, "shop");
  ASSERT_TRUE(app);
  r = must(*app, "SELECT COUNT(*), USER_NAME() FROM dbo.T");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 2);
  EXPECT_EQ(as_str(r.sets[0].rows[0][1]), "app");

  // A login of the same name with another SID does not map until ALTER USER remaps the user.
  must(*admin, "CREATE LOGIN rep WITH PASSWORD = 'r2', CHECK_POLICY = OFF");
  EXPECT_EQ(other->login("rep", "r2", "shop").failure.number, 4060);
  must(*admin, "ALTER USER rep WITH LOGIN = rep");
  EXPECT_TRUE(other->login("rep", "r2", "shop").session);
  r = must(*admin, orphans);
  EXPECT_TRUE(r.sets.at(0).rows.empty());
}

}  // namespace
