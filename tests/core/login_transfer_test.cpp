// Logins after a native restore (core/login_transfer, docs/facts.md §15): what is created on
// RDS, what is remapped, and what is named with its fix.
#include <gtest/gtest.h>

#include "core/login_transfer.hpp"

#include "core/checks.hpp"

namespace m2r {
namespace {

// A SQL Server 2012+ hash: 0x0200, a 4-byte salt, SHA2_512 (64 bytes): 70 bytes.
constexpr const char* k_hash = "0x0200A1B2C3D40123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

DatabaseUser user(std::string name, std::string sid, char type = 'S') {
  return DatabaseUser{std::move(name), type, std::move(sid), type == 'S' ? "INSTANCE" : "WINDOWS"};
}

ServerLogin sql_login(std::string name, std::string sid) {
  ServerLogin l;
  l.name = std::move(name);
  l.sid_hex = std::move(sid);
  l.password_hash_hex = k_hash;
  l.default_database = "sales";
  l.default_language = "us_english";
  l.policy_checked = true;
  return l;
}

LoginTransferInput input() {
  LoginTransferInput in;
  in.source_database = "sales";
  in.target_database = "sales_rds";
  in.users = {user("dbo", "0x01"), user("guest", "0x00"), user("app", "0xAA01")};
  in.source_logins = {sql_login("app_login", "0xAA01")};
  in.target_logins = {sql_login("admin", "0x99")};
  in.grantable_roles = {"processadmin", "setupadmin"};
  return in;
}

TEST(LoginTransferTest, CheckNamesTheLoginsToCarryAndWarnsWithTheFixWhenOneCannotBe) {
  const auto ok = evaluate_logins(plan_login_transfer(input()));
  EXPECT_EQ(ok.id, "source.logins");
  EXPECT_EQ(ok.status, CheckStatus::pass);
  EXPECT_NE(ok.detail.find("1 SQL login(s) to create on RDS"), std::string::npos) << ok.detail;
  EXPECT_NE(ok.detail.find("`mssql2rds logins --yes`): app_login"), std::string::npos) << ok.detail;
  // A hash the source login may not read: a warning naming the grant, the password never shown.
  auto in = input();
  in.source_logins[0].password_hash_hex.reset();
  const auto unreadable = evaluate_logins(plan_login_transfer(in));
  EXPECT_EQ(unreadable.status, CheckStatus::warn);
  EXPECT_NE(unreadable.fix.find("GRANT CONTROL SERVER"), std::string::npos) << unreadable.fix;
  EXPECT_NE(unreadable.detail.find("no SQL login to create on RDS"), std::string::npos) << unreadable.detail;
}

TEST(LoginTransferTest, AMissingSqlLoginIsCreatedWithItsSidAndHashAndTheHashIsNeverShown) {
  const auto plan = plan_login_transfer(input());
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& a = plan.actions[0];
  EXPECT_EQ(a.kind, LoginActionKind::create_login);
  EXPECT_EQ(a.sql, std::string("CREATE LOGIN [app_login] WITH PASSWORD = ") + k_hash +
                       " HASHED, SID = 0xAA01, DEFAULT_DATABASE = [sales_rds], DEFAULT_LANGUAGE = [us_english], "
                       "CHECK_POLICY = ON, CHECK_EXPIRATION = OFF");
  EXPECT_EQ(a.shown_sql.find(k_hash), std::string::npos) << a.shown_sql;
  EXPECT_NE(a.shown_sql.find("<password hash of 70 bytes, not shown>"), std::string::npos) << a.shown_sql;
  EXPECT_TRUE(plan.issues.empty());
  EXPECT_FALSE(plan.blocked());
}

TEST(LoginTransferTest, ALoginOnRdsWithTheSameSidIsLeftAsItIs) {
  auto in = input();
  in.target_logins.push_back(sql_login("app_login", "0xaa01"));  // SIDs compare as bytes, whatever the hex case
  const auto plan = plan_login_transfer(in);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.already_present, (std::vector<std::string>{"app_login"}));
}

TEST(LoginTransferTest, ALoginOfTheSameNameWithAnotherSidGetsTheUserRemappedAndSaysWhosePasswordCounts) {
  auto in = input();
  in.target_logins.push_back(sql_login("APP_LOGIN", "0x5555"));
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].kind, LoginActionKind::remap_user);
  EXPECT_EQ(plan.actions[0].sql, "USE [sales_rds]; ALTER USER [app] WITH LOGIN = [APP_LOGIN]");
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::name_taken);
  EXPECT_NE(plan.issues[0].detail.find("keeps that login's password"), std::string::npos);
  EXPECT_FALSE(plan.blocked());
}

TEST(LoginTransferTest, AnUnreadableHashBlocksAndNamesTheGrantAndTheSid) {
  auto in = input();
  in.source_logins[0].password_hash_hex.reset();
  const auto plan = plan_login_transfer(in);
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::hash_unreadable);
  EXPECT_TRUE(plan.issues[0].blocks);
  EXPECT_NE(plan.issues[0].fix.find("GRANT CONTROL SERVER"), std::string::npos);
  EXPECT_NE(plan.issues[0].fix.find("SID = 0xAA01"), std::string::npos);
  EXPECT_TRUE(plan.blocked());
}

TEST(LoginTransferTest, WindowsLoginsAreNamedWithWhatRdsNeedsInstead) {
  auto in = input();
  in.users.push_back(user("CORP\\reporting", "0x010500000000000515", 'G'));
  ServerLogin windows;
  windows.name = "CORP\\reporting";
  windows.type = 'G';
  windows.sid_hex = "0x010500000000000515";
  in.source_logins.push_back(windows);
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.actions.size(), 1u) << "the SQL login is still carried";
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::windows_login);
  EXPECT_NE(plan.issues[0].fix.find("AWS Managed Microsoft AD"), std::string::npos);
  EXPECT_NE(plan.issues[0].fix.find("CREATE LOGIN [CORP\\reporting] FROM WINDOWS"), std::string::npos);
  EXPECT_FALSE(plan.blocked());
}

TEST(LoginTransferTest, RolesTheMasterUserHoldsAreGrantedTheOthersNamed) {
  auto in = input();
  in.source_logins[0].server_roles = {"public", "processadmin", "sysadmin"};
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[1].kind, LoginActionKind::grant_server_role);
  EXPECT_EQ(plan.actions[1].sql, "ALTER SERVER ROLE [processadmin] ADD MEMBER [app_login]");
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::role_not_grantable);
  EXPECT_NE(plan.issues[0].detail.find("sysadmin"), std::string::npos);
}

TEST(LoginTransferTest, UsersWithoutALoginAnywhereAreNamedAndBuiltinsAndLoginlessUsersIgnored) {
  auto in = input();
  in.users.push_back(user("old_app", "0xDEAD"));
  in.users.push_back(DatabaseUser{"loader", 'S', "0x0105", "NONE"});  // CREATE USER ... WITHOUT LOGIN
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::orphaned_on_source);
  EXPECT_EQ(plan.issues[0].principal, "old_app");
  EXPECT_NE(plan.issues[0].fix.find("ALTER USER [old_app] WITH LOGIN"), std::string::npos);
  EXPECT_EQ(plan.actions.size(), 1u) << "dbo and guest map to no login to carry";
}

TEST(LoginTransferTest, OneLoginForSeveralUsersIsCreatedOnceAndADisabledOneStaysDisabled) {
  auto in = input();
  in.users.push_back(user("app_too", "0xAA01"));
  in.source_logins[0].disabled = true;
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0].kind, LoginActionKind::create_login);
  EXPECT_EQ(plan.actions[1].sql, "ALTER LOGIN [app_login] DISABLE");
}

TEST(LoginTransferTest, ADefaultDatabaseNotMigratedBecomesMasterAndIsNamed) {
  auto in = input();
  in.source_logins[0].default_database = "reports";
  in.source_logins[0].name = "we]ird";
  const auto plan = plan_login_transfer(in);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_NE(plan.actions[0].sql.find("CREATE LOGIN [we]]ird]"), std::string::npos) << plan.actions[0].sql;
  EXPECT_NE(plan.actions[0].sql.find("DEFAULT_DATABASE = [master]"), std::string::npos);
  ASSERT_EQ(plan.issues.size(), 1u);
  EXPECT_EQ(plan.issues[0].kind, LoginIssueKind::default_database);
}

}  // namespace
}  // namespace m2r
