// `mssql2rds logins` end to end (docs/facts.md §15, README "Logins"): the restore brings the
// sample database's users but not the source's logins, so the application's login fails on RDS;
// `logins --dry-run` shows the plan with the hash hidden, `logins --yes` creates the login with
// its SID and hash, and the application then logs in to RDS with its original password and finds
// its rows. The Windows login and the user orphaned on the source are named with their fixes;
// the exit code is 3 while a user is orphaned.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r::testing {
namespace {

using LoginsTest = CliWorldTest;

constexpr const char* k_app_password = "Orig1nal-Pa55word";

Expected<std::unique_ptr<mssql::SqlSession>> target_as_app(const std::string& world_dir, const std::string& password) {
  const auto w = nlohmann::json::parse(read_text(world_dir + "/world.json"), nullptr, false);
  mssql::ConnectionSettings settings;
  settings.server = "127.0.0.1";
  settings.port = static_cast<std::uint16_t>(w.is_discarded() ? 0 : w["target"].value("port", 0));
  settings.database = "sales";
  settings.login = "sales_app";
  settings.ca_file = world_dir + "/tls/ca.pem";
  auto session = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::Secret(password)));
  return std::unique_ptr<mssql::SqlSession>(std::move(session));
}

std::string first_text(mssql::SqlSession& db, const std::string& sql) {
  auto r = db.query(sql);
  if (!r || r->rows().empty()) return "";
  return r->rows().front().at(0).to_text();
}

TEST_F(LoginsTest, TheApplicationLogsInToRdsWithItsOwnPasswordOnceLoginsHasRun) {
  ASSERT_TRUE(set_up_world());
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  // Given the application's SQL login with a user in db_datareader and db_datawriter, a Windows
  // login with a user, and a user whose login was dropped (orphaned on the source already).
  for (const std::string& sql :
       {std::string("CREATE LOGIN sales_app WITH PASSWORD = '") + k_app_password + "', DEFAULT_DATABASE = sales",
        std::string("CREATE USER sales_app FOR LOGIN sales_app; ALTER ROLE db_datareader ADD MEMBER sales_app; "
                    "ALTER ROLE db_datawriter ADD MEMBER sales_app"),
        std::string("CREATE LOGIN [CORP\\reporting] FROM WINDOWS; CREATE USER [CORP\\reporting] FOR LOGIN [CORP\\reporting]"),
        std::string("CREATE LOGIN departed WITH PASSWORD = 'x', CHECK_POLICY = OFF; CREATE USER departed_user FOR LOGIN departed; "
                    "DROP LOGIN departed")}) {
    auto done = (*source)->execute(sql);
    ASSERT_TRUE(done) << sql << ": " << done.error().message;
  }
  const std::string source_sid = first_text(**source, "SELECT sid FROM sys.server_principals WHERE name = 'sales_app'");
  const std::string source_hash = first_text(**source, "SELECT password_hash FROM sys.sql_logins WHERE name = 'sales_app'");
  const std::int64_t customers = count_rows(**source, "SELECT COUNT_BIG(*) FROM dbo.Customers");
  ASSERT_GT(customers, 0);
  ASSERT_EQ(source_hash.size(), 2u + 2 * 70) << source_hash;

  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;
  // check names the login to carry and warns about the Windows login, with what RDS needs.
  EXPECT_NE(check.text.find("SQL login(s) to create on RDS with their SID and password hash after the restore "
                            "(`mssql2rds logins --yes`): sales_app"),
            std::string::npos)
      << check.text;
  EXPECT_NE(check.text.find("CORP\\reporting"), std::string::npos) << check.text;
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;

  // The restore brought the user, not the login.
  auto before = target_as_app(world_dir(), k_app_password);
  ASSERT_FALSE(before);
  EXPECT_NE(before.error().message.find("18456"), std::string::npos) << before.error().message;

  const auto dry = run_shell(with_world("logins --dry-run -c " + config()));
  EXPECT_EQ(dry.exit_code, 3) << dry.text;  // users orphaned on RDS
  EXPECT_NE(dry.text.find("CREATE LOGIN [sales_app] WITH PASSWORD = <password hash of 70 bytes, not shown> HASHED, SID = " +
                          source_sid),
            std::string::npos)
      << dry.text;
  EXPECT_EQ(dry.text.find(source_hash.substr(2)), std::string::npos) << "the hash is printed";
  ASSERT_FALSE(target_as_app(world_dir(), k_app_password)) << "--dry-run changed something";

  const auto applied = run_shell(with_world("logins --yes -c " + config()));
  EXPECT_EQ(applied.exit_code, 3) << applied.text;  // departed_user stays orphaned
  EXPECT_EQ(applied.text.find(source_hash.substr(2)), std::string::npos) << "the hash is printed";
  EXPECT_NE(applied.text.find("CORP\\reporting"), std::string::npos) << applied.text;
  EXPECT_NE(applied.text.find("AWS Managed Microsoft AD"), std::string::npos) << applied.text;
  EXPECT_NE(applied.text.find("departed_user"), std::string::npos) << applied.text;
  EXPECT_NE(applied.text.find("ALTER USER [departed_user] WITH LOGIN"), std::string::npos) << applied.text;
  EXPECT_NE(applied.text.find("1 user(s) still orphaned"), std::string::npos) << applied.text;

  // The application's login: its original password, the source's SID, every row.
  auto app = target_as_app(world_dir(), k_app_password);
  ASSERT_TRUE(app) << app.error().message;
  EXPECT_EQ(first_text(**app, "SELECT SUSER_SID()"), source_sid);
  EXPECT_EQ(first_text(**app, "SELECT USER_NAME()"), "sales_app");
  EXPECT_EQ(count_rows(**app, "SELECT COUNT_BIG(*) FROM dbo.Customers"), customers);
  EXPECT_FALSE(target_as_app(world_dir(), "not-the-password"));

  // Run again: nothing left to create, the orphan still reported.
  const auto again = run_shell(with_world("--json logins --yes -c " + config()));
  EXPECT_EQ(again.exit_code, 3) << again.text;
  const auto j = nlohmann::json::parse(last_line(again.text), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << again.text;
  EXPECT_EQ(j["orphaned_users"], nlohmann::json::array({"departed_user"})) << j.dump();
  EXPECT_EQ(j["already_present"], nlohmann::json::array({"sales_app"})) << j.dump();
}

}  // namespace
}  // namespace m2r::testing
