// The source login's permissions (core/source_permissions.hpp; docs/facts.md §3): each missing
// permission names the statement that grants it, a sysadmin or a login holding all passes.
#include "core/source_permissions.hpp"

#include <gtest/gtest.h>

namespace m2r {
namespace {

// A login holding every permission of docs/facts.md §3 through its own users.
SourcePermissionFacts least_privilege() {
  SourcePermissionFacts f;
  f.known = true;
  f.login = "m2r_migrator";
  f.db_owner = true;
  f.database_user = "m2r_migrator";
  f.view_server_state = true;
  f.master_user = "m2r_migrator";
  f.msdb_user = "m2r_migrator";
  f.select_fn_dblog = true;
  f.select_backupset = f.select_backupmediafamily = f.select_backupfile = true;
  return f;
}

std::vector<std::string> statements(const SourcePermissionFacts& f) {
  std::vector<std::string> out;
  for (const auto& m : missing_source_grants(f, "sales")) out.push_back(m.statement);
  return out;
}

TEST(SourcePermissionsTest, EveryPermissionHeldPasses) {
  // Given a login with each permission, the check should pass and name nothing to grant.
  const auto r = evaluate_source_permissions(least_privilege(), "sales");
  EXPECT_EQ(r.status, CheckStatus::pass);
  EXPECT_EQ(r.id, "source.permissions");
  EXPECT_TRUE(missing_source_grants(least_privilege(), "sales").empty());
}

TEST(SourcePermissionsTest, SysadminPassesWhateverElseItSees) {
  // Given a sysadmin (HAS_PERMS_BY_NAME answers 1 anyway; here unanswered), nothing is missing.
  SourcePermissionFacts f;
  f.known = true;
  f.login = "sa";
  f.is_sysadmin = true;
  EXPECT_EQ(evaluate_source_permissions(f, "sales").status, CheckStatus::pass);
  EXPECT_TRUE(missing_source_grants(f, "sales").empty());
}

TEST(SourcePermissionsTest, EachMissingPermissionNamesItsGrant) {
  // Given one permission missing at a time, the statement for exactly that one should come back.
  struct Case {
    void (*remove)(SourcePermissionFacts&);
    const char* statement;
  };
  const Case cases[] = {
      {[](SourcePermissionFacts& f) { f.view_server_state = false; }, "USE master; GRANT VIEW SERVER STATE TO [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.select_fn_dblog = false; }, "USE master; GRANT SELECT ON sys.fn_dblog TO [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.select_backupset = false; }, "USE msdb; GRANT SELECT ON dbo.backupset TO [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.select_backupmediafamily = false; },
       "USE msdb; GRANT SELECT ON dbo.backupmediafamily TO [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.select_backupfile = std::nullopt; },  // unanswered counts as missing
       "USE msdb; GRANT SELECT ON dbo.backupfile TO [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.db_owner = false; }, "USE [sales]; ALTER ROLE db_owner ADD MEMBER [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.master_user = "guest"; }, "USE master; CREATE USER [m2r_migrator] FOR LOGIN [m2r_migrator];"},
      {[](SourcePermissionFacts& f) { f.msdb_user = "guest"; }, "USE msdb; CREATE USER [m2r_migrator] FOR LOGIN [m2r_migrator];"},
  };
  for (const auto& c : cases) {
    auto f = least_privilege();
    c.remove(f);
    EXPECT_EQ(statements(f), std::vector<std::string>{c.statement});
    const auto r = evaluate_source_permissions(f, "sales");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_NE(r.fix.find(c.statement), std::string::npos) << r.fix;
  }
}

TEST(SourcePermissionsTest, ALoginWithNothingGetsEveryStatementInOrder) {
  // Given a login with no user anywhere, the users are created before they are granted to, and
  // a name with ] is quoted.
  SourcePermissionFacts f;
  f.known = true;
  f.login = "odd]name";
  f.master_user = f.msdb_user = "guest";
  const auto s = statements(f);
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[0], "USE [sales]; CREATE USER [odd]]name] FOR LOGIN [odd]]name]; ALTER ROLE db_owner ADD MEMBER [odd]]name];");
  EXPECT_EQ(s[2], "USE master; CREATE USER [odd]]name] FOR LOGIN [odd]]name];");
  EXPECT_EQ(s[3], "USE master; GRANT SELECT ON sys.fn_dblog TO [odd]]name];");
  EXPECT_EQ(s[4], "USE msdb; CREATE USER [odd]]name] FOR LOGIN [odd]]name];");
}

TEST(SourcePermissionsTest, UnreadablePermissionsFail) {
  // Given the questions could not be asked, the check fails saying why instead of passing.
  SourcePermissionFacts f;
  f.error = "connection reset";
  const auto r = evaluate_source_permissions(f, "sales");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("connection reset"), std::string::npos);
}

}  // namespace
}  // namespace m2r
