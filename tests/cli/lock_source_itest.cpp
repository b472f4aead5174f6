// `cutover --lock-source` and `unlock-source` end to end against the rehearsal world: an
// application session still connected with an open transaction when the cutover starts is
// ended by RESTRICTED_USER WITH ROLLBACK IMMEDIATE (its row never committed, so on neither
// side), the application's login is refused while the source is locked, every table is equal,
// and `unlock-source` lets the login in again (a second one has nothing to undo, exit 6). The
// refusals (the cutover's own login or DMS's user locked out, SINGLE_USER) are
// tests/migrate/cutover_test.cpp's CutoverLockTest and tests/core/source_lock_test.cpp. On the
// way, the database's own settings: `check` warns that TRUSTWORTHY will not survive the restore,
// and the cutover compares the settings on both sides and names the one that differs.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r::testing {
namespace {

using LockSourceTest = CliWorldTest;

constexpr const char* k_app_password = "L0ck-test-app-pw";

Expected<std::unique_ptr<mssql::SqlSession>> source_as_app(const std::string& world_dir, int port) {
  mssql::ConnectionSettings settings;
  settings.server = "127.0.0.1";
  settings.port = static_cast<std::uint16_t>(port);
  settings.database = "sales";
  settings.login = "lock_app";
  settings.ca_file = world_dir + "/tls/ca.pem";  // the world's CA: encrypted and verified
  auto session = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::Secret(k_app_password)));
  return std::unique_ptr<mssql::SqlSession>(std::move(session));
}

std::string user_access(mssql::SqlSession& db) {
  auto r = db.query("SELECT user_access_desc FROM sys.databases WHERE name = 'sales'");
  if (!r || r->rows().empty()) return "?";
  return r->rows().front().at(0).to_text();
}

std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  const auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

TEST_F(LockSourceTest, AnApplicationSessionLeftOpenIsEndedItsWriteRolledBackAndUnlockLetsItBackIn) {
  ASSERT_TRUE(set_up_world());
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  // The application's login: a plain user of the database (not db_owner).
  ASSERT_TRUE((*source)->execute(std::string("CREATE LOGIN lock_app WITH PASSWORD = '") + k_app_password +
                                     "', CHECK_POLICY = OFF, DEFAULT_DATABASE = sales",
                                 {}, {.carries_secret = true}));
  ASSERT_TRUE((*source)->execute("CREATE USER lock_app FOR LOGIN lock_app; ALTER ROLE db_datawriter ADD MEMBER lock_app"));
  // Settings of the database itself: TRUSTWORTHY, which a restore does not keep and RDS cannot
  // set again, and a scoped MAXDOP, which the backup carries.
  ASSERT_TRUE((*source)->execute("ALTER DATABASE sales SET TRUSTWORTHY ON"));
  ASSERT_TRUE((*source)->execute("ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 4"));
  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;
  EXPECT_NE(check.text.find("[sales] has TRUSTWORTHY ON: the restore on RDS leaves it OFF"), std::string::npos) << check.text;
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;

  // The application still connected, its transaction open.
  auto app = source_as_app(world_dir(), source_port());
  ASSERT_TRUE(app) << app.error().message;
  ASSERT_TRUE((*app)->execute("BEGIN TRANSACTION; INSERT INTO dbo.Customers (Name) VALUES (N'written after the marker?')"));

  const auto cutover = run_shell(with_world("--json cutover --lock-source --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text;
  const auto result = nlohmann::json::parse(last_line(cutover.text), nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << cutover.text;
  EXPECT_EQ(result.value("source_locked", false), true);
  EXPECT_EQ(result["validation"].value("ok", false), true) << cutover.text;
  EXPECT_EQ(user_access(**source), "RESTRICTED_USER");
  // The database's settings compared: TRUSTWORTHY lost by the restore is said with what to do;
  // MAXDOP came with the backup and is not mentioned.
  EXPECT_NE(cutover.text.find("database setting TRUSTWORTHY: ON on the source, OFF on RDS"), std::string::npos)
      << cutover.text;
  EXPECT_EQ(cutover.text.find("MAXDOP"), std::string::npos) << cutover.text;

  // The open transaction was rolled back and its connection ended: the row is on neither side.
  EXPECT_FALSE((*app)->execute("COMMIT TRANSACTION")) << "the application's session survived the lock";
  EXPECT_EQ(count_rows(**source, "SELECT COUNT_BIG(*) FROM dbo.Customers WHERE Name = N'written after the marker?'"), 0);
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(count_rows(**target, "SELECT COUNT_BIG(*) FROM dbo.Customers WHERE Name = N'written after the marker?'"), 0);
  // Locked: the application's login cannot come back.
  auto again = source_as_app(world_dir(), source_port());
  ASSERT_FALSE(again) << "a plain user connected to a RESTRICTED_USER database";
  EXPECT_NE(again.error().message.find("Cannot open database"), std::string::npos) << again.error().message;

  // unlock-source sets it back; the login connects again; nothing is left to undo after.
  const auto unlock = run_shell(with_world("--json unlock-source --yes -c " + config()));
  ASSERT_EQ(unlock.exit_code, 0) << unlock.text;
  const auto unlocked = nlohmann::json::parse(last_line(unlock.text), nullptr, false);
  ASSERT_FALSE(unlocked.is_discarded()) << unlock.text;
  EXPECT_EQ(unlocked.value("statement", ""), "ALTER DATABASE [sales] SET MULTI_USER");
  EXPECT_EQ(user_access(**source), "MULTI_USER");
  EXPECT_TRUE(source_as_app(world_dir(), source_port())) << "the login is still refused after unlock-source";
  const auto twice = run_shell(with_world("unlock-source --yes -c " + config()));
  EXPECT_EQ(twice.exit_code, 6) << twice.text;
  EXPECT_NE(twice.text.find("no source lock in force"), std::string::npos) << twice.text;
}

}  // namespace
}  // namespace m2r::testing
