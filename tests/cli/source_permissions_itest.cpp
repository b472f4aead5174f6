// The source login's permissions (docs/facts.md §3), end to end against the rehearsal world: a
// login that is not sysadmin and lacks one of the rights DMS needs makes `check` fail naming the
// GRANT that gives it, `run` refuse (exit 3) with nothing changed, and once a DBA runs that GRANT
// the check passes.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using SourcePermissionsTest = CliWorldTest;

constexpr const char* k_login = "m2r_check";
constexpr const char* k_password = "Ch3ck-Pa55word!";


TEST_F(SourcePermissionsTest, AMissingGrantFailsCheckNamingItAndTheGrantMakesItPass) {
  ASSERT_TRUE(set_up_world());
  auto sa = source_session();
  ASSERT_TRUE(sa) << sa.error().message;
  // Given a login with every right of docs/facts.md §3 but SELECT on msdb.dbo.backupfile.
  for (const std::string& sql :
       {std::string("CREATE LOGIN m2r_check WITH PASSWORD = '") + k_password + "', DEFAULT_DATABASE = sales",
        std::string("CREATE USER m2r_check FOR LOGIN m2r_check; ALTER ROLE db_owner ADD MEMBER m2r_check"),
        std::string("USE master; GRANT VIEW SERVER STATE TO m2r_check; CREATE USER m2r_check FOR LOGIN m2r_check;"
                    " GRANT SELECT ON sys.fn_dblog TO m2r_check; USE sales"),
        std::string("USE msdb; CREATE USER m2r_check FOR LOGIN m2r_check; GRANT SELECT ON dbo.backupset TO m2r_check;"
                    " GRANT SELECT ON dbo.backupmediafamily TO m2r_check; USE sales")}) {
    auto done = (*sa)->execute(sql);
    ASSERT_TRUE(done) << sql << ": " << done.error().message;
  }
  const std::string login_config = m_dir + "/least.toml";
  {
    std::string toml = read_text(config());
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"login = \"sa\"", std::string("login = \"") + k_login + "\""},
                                   {"password_env = \"MSSQL2RDS_SOURCE_PASSWORD\"", "password_env = \"M2R_CHECK_PASSWORD\""}}) {
      const auto at = toml.find(from);
      ASSERT_NE(at, std::string::npos) << toml;
      toml.replace(at, from.size(), to);
    }
    std::ofstream(login_config) << toml;
  }
  const std::string as_login = std::string("M2R_CHECK_PASSWORD='") + k_password + "' ";
  const std::string title = "source login has the permissions DMS and the backup need";
  const std::string grant = "USE msdb; GRANT SELECT ON dbo.backupfile TO [m2r_check];";

  const auto before = run_shell(as_login + with_world("check --no-test-connection -c " + login_config));
  EXPECT_EQ(before.exit_code, 1) << before.text;
  const auto line = check_line(before.text, title);
  EXPECT_EQ(line.rfind("FAIL", 0), 0u) << before.text;
  EXPECT_NE(line.find("SELECT on msdb.dbo.backupfile"), std::string::npos) << line;
  EXPECT_NE(line.find(grant), std::string::npos) << line;
  EXPECT_EQ(line.find("VIEW SERVER STATE TO"), std::string::npos) << "only what is missing: " << line;
  EXPECT_EQ(line.find("fn_dblog TO"), std::string::npos) << line;

  // `run` refuses before any step: exit 3, the same GRANT named, no backup written.
  const auto run = run_shell(as_login + with_world("run -c " + login_config));
  EXPECT_EQ(run.exit_code, 3) << run.text;
  EXPECT_NE(run.text.find(grant), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("nothing was changed"), std::string::npos) << run.text;
  EXPECT_EQ(count_rows(**sa, "SELECT COUNT_BIG(*) FROM msdb.dbo.backupset WHERE database_name = N'sales'"), 0);

  // The way forward: the DBA runs the named statement, and the check passes.
  auto granted = (*sa)->execute(grant);
  ASSERT_TRUE(granted) << granted.error().message;
  const auto after = run_shell(as_login + with_world("check --no-test-connection -c " + login_config));
  EXPECT_EQ(check_line(after.text, title).rfind("PASS", 0), 0u) << after.text;
}

}  // namespace
}  // namespace m2r::testing
