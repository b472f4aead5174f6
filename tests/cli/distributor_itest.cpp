// The Distributor a publication needs (docs/facts.md §13), end to end against the rehearsal
// world, whose source starts as a fresh SQL Server does: without one. `check` fails naming the
// fix; `check --fix --yes` configures a local Distributor the documented way (its password never
// shown) and publishes; the printed T-SQL run by hand makes `check` pass too; a login that is
// not sysadmin is refused by --fix with nothing changed.
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using DistributorTest = CliWorldTest;

// sp_get_distributor's "installed" on the source, as sa; -1 when it cannot be read.
std::int64_t distributor_installed(mssql::SqlSession& sa) {
  auto r = sa.query("EXEC sp_get_distributor");
  if (!r || r->rows().empty()) return -1;
  return r->rows()[0][0].as_int64().value_or(-1);
}


TEST_F(DistributorTest, CheckFailsWithoutADistributorAndCheckFixConfiguresOneThenPublishes) {
  ASSERT_TRUE(set_up_world());
  auto sa = source_session();
  ASSERT_TRUE(sa) << sa.error().message;
  ASSERT_EQ(distributor_installed(**sa), 0) << "the world's source starts without a Distributor";

  const auto before = run_shell(with_world("check --no-test-connection -c " + config()));
  EXPECT_EQ(before.exit_code, 1) << before.text;
  const auto line = check_line(before.text, "a Distributor is configured");
  EXPECT_EQ(line.rfind("FAIL", 0), 0u) << before.text;
  EXPECT_NE(line.find("mssql2rds check --fix"), std::string::npos) << line;
  EXPECT_NE(line.find("EXEC sp_adddistributor @distributor = N'"), std::string::npos) << line;
  EXPECT_NE(line.find("EXEC sp_adddistpublisher"), std::string::npos) << line;
  EXPECT_EQ(distributor_installed(**sa), 0) << "check changes nothing";

  const auto fix = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(fix.exit_code, 0) << fix.text;
  EXPECT_NE(fix.text.find("fix: EXEC sp_adddistributor @distributor = N'"), std::string::npos) << fix.text;
  EXPECT_NE(fix.text.find("@password = N'<password, not shown>'"), std::string::npos) << fix.text;
  EXPECT_LT(fix.text.find("sp_adddistpublisher"), fix.text.find("sp_replicationdboption")) << fix.text;
  EXPECT_EQ(check_line(fix.text, "a Distributor is configured").rfind("PASS", 0), 0u) << fix.text;
  EXPECT_EQ(distributor_installed(**sa), 1);
  EXPECT_EQ(count_rows(**sa, "SELECT COUNT_BIG(*) FROM sys.databases WHERE name = N'distribution' AND is_distributor = 1"), 1);
  EXPECT_EQ(count_rows(**sa, "SELECT COUNT_BIG(*) FROM sys.databases WHERE name = N'sales' AND is_published = 1"), 1);

  // A second --fix finds everything in place and changes nothing.
  const auto again = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(again.exit_code, 0) << again.text;
  EXPECT_EQ(again.text.find("fix: EXEC"), std::string::npos) << again.text;
}

TEST_F(DistributorTest, ThePrintedStepsRunByASysadminMakeCheckPass) {
  // Given check's fix text, its T-SQL (with a password of our choosing) run as sa should
  // configure the Distributor, and check should then pass source.distributor.
  ASSERT_TRUE(set_up_world());
  const auto before = run_shell(with_world("check --no-test-connection -c " + config()));
  const auto line = check_line(before.text, "a Distributor is configured");
  const std::regex steps("(EXEC sp_adddistributor .*@distribution_db = N'distribution')");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, steps)) << line;
  const std::string script = std::regex_replace(m[1].str(), std::regex("<a strong password>"), "Dist-0f-Choice#9");
  auto sa = source_session();
  ASSERT_TRUE(sa) << sa.error().message;
  auto done = (*sa)->execute(script);
  ASSERT_TRUE(done) << script << ": " << done.error().message;
  const auto after = run_shell(with_world("check --no-test-connection -c " + config()));
  EXPECT_EQ(check_line(after.text, "a Distributor is configured").rfind("PASS", 0), 0u) << after.text;
}

TEST_F(DistributorTest, CheckFixAsALoginThatIsNotSysadminChangesNothingAndSaysWhoMustRunWhat) {
  ASSERT_TRUE(set_up_world());
  auto sa = source_session();
  ASSERT_TRUE(sa) << sa.error().message;
  // Given a login that owns the database but is not sysadmin, with what DMS needs to read.
  for (const std::string sql : {"CREATE LOGIN sales_owner WITH PASSWORD = 'Own3r-Pa55word', DEFAULT_DATABASE = sales",
                                "CREATE USER sales_owner FOR LOGIN sales_owner; ALTER ROLE db_owner ADD MEMBER sales_owner"}) {
    auto done = (*sa)->execute(sql);
    ASSERT_TRUE(done) << sql << ": " << done.error().message;
  }
  const std::string owner_config = m_dir + "/owner.toml";
  {
    std::string toml = read_text(config());
    // The [source] section comes first: its login and password variable are the first ones.
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"login = \"sa\"", "login = \"sales_owner\""},
                                   {"password_env = \"MSSQL2RDS_SOURCE_PASSWORD\"", "password_env = \"SALES_OWNER_PASSWORD\""}}) {
      const auto at = toml.find(from);
      ASSERT_NE(at, std::string::npos) << toml;
      toml.replace(at, from.size(), to);
    }
    ASSERT_NE(toml.find("SALES_OWNER_PASSWORD"), std::string::npos) << toml;
    std::ofstream(owner_config) << toml;
  }
  const auto tables = count_rows(**sa, "SELECT COUNT_BIG(*) FROM sys.tables");
  const auto fix = run_shell("SALES_OWNER_PASSWORD='Own3r-Pa55word' " +
                             with_world("check --fix --yes --no-test-connection -c " + owner_config));
  EXPECT_EQ(fix.exit_code, 3) << fix.text;  // a prerequisite is missing
  EXPECT_NE(fix.text.find("not sysadmin"), std::string::npos) << fix.text;
  EXPECT_NE(fix.text.find("nothing was changed"), std::string::npos) << fix.text;
  EXPECT_NE(fix.text.find("a sysadmin runs EXEC sp_adddistributor"), std::string::npos) << fix.text;
  EXPECT_EQ(fix.text.find("fix: EXEC"), std::string::npos) << fix.text;
  EXPECT_EQ(fix.text.find("fix: IF OBJECT_ID"), std::string::npos) << fix.text;
  EXPECT_EQ(distributor_installed(**sa), 0);
  EXPECT_EQ(count_rows(**sa, "SELECT COUNT_BIG(*) FROM sys.tables"), tables) << "not even the marker's table";
  EXPECT_EQ(count_rows(**sa, "SELECT COUNT_BIG(*) FROM sys.databases WHERE name = N'sales' AND is_published = 1"), 0);
}

}  // namespace
}  // namespace m2r::testing
