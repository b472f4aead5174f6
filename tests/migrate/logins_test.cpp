// `mssql2rds logins` over scripted servers: what it reads, what it runs on RDS and where, what
// it refuses before anything changes, and that the password hash reaches neither the events
// nor the journal.
#include "migrate/logins.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "fakes/fake_sql_session.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

namespace m2r {
namespace {

using mssql::Bytes;
using mssql::FakeSqlSession;
using mssql::SharedFakeSession;

const char* const k_hash = "0x0200AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";

struct LoginsWorld {
  std::shared_ptr<FakeSqlSession> source = std::make_shared<FakeSqlSession>();
  std::shared_ptr<FakeSqlSession> master = std::make_shared<FakeSqlSession>();
  std::shared_ptr<FakeSqlSession> target_db = std::make_shared<FakeSqlSession>();
  bool restored = true;
  std::vector<std::string> target_databases_opened;
  MigrationConfig config;

  LoginsWorld() {
    config.source.database = "sales";
    config.target.database = "sales";
    // The source: user app_user maps to SQL login app (SID 0x01), report_user to a Windows login.
    source->on_rows("sys.database_principals", {"name", "type", "sid", "authentication_type_desc"},
                    {{"app_user", "S", Bytes{{0x01}}, "INSTANCE"},
                     {"dbo", "S", Bytes{{0x02}}, "INSTANCE"},
                     {"CORP\\reports", "G", Bytes{{0x03}}, "WINDOWS"}});
    source->on_rows("sys.sql_logins",
                    {"name", "type", "sid", "is_disabled", "default_database_name", "default_language_name",
                     "password_hash", "is_policy_checked", "is_expiration_checked"},
                    {{"app", "S", Bytes{{0x01}}, 0, "sales", "us_english", Bytes{{0x02, 0x00, 0xAA, 0xBB}}, 1, 0},
                     {"CORP\\reports", "G", Bytes{{0x03}}, 0, "master", "us_english", mssql::SqlValue(), 0, 0},
                     {"sa", "S", Bytes{{0x02}}, 0, "master", "us_english", Bytes{{0x02, 0x00, 0x01}}, 1, 0}});
    source->on_rows("sys.server_role_members", {"role_name", "member_name"},
                    {{"processadmin", "app"}, {"sysadmin", "app"}, {"sysadmin", "sa"}});
    // RDS: only its master user; it is a member of processadmin and setupadmin.
    master->on_rows("sys.sql_logins",
                    {"name", "type", "sid", "is_disabled", "default_database_name", "default_language_name",
                     "password_hash", "is_policy_checked", "is_expiration_checked"},
                    {{"admin", "S", Bytes{{0x09}}, 0, "master", "us_english", mssql::SqlValue(), 1, 0}});
    master->on_rows("SUSER_SNAME()", {"role_name"}, {{"processadmin"}, {"setupadmin"}});
    master->on_rows("sys.server_role_members", {"role_name", "member_name"},
                    {{"processadmin", "admin"}, {"setupadmin", "admin"}});
    master->on_count("CREATE LOGIN", 0);
    master->on_count("ALTER SERVER ROLE", 0);
    target_db->on_rows("LEFT JOIN sys.server_principals", {"user_name", "sid"}, {});
  }

  Connections connections() {
    Connections c;
    c.source = [this]() -> Expected<std::unique_ptr<mssql::SqlSession>> {
      return std::make_unique<SharedFakeSession>(source);
    };
    c.target = [this](const std::string& db) -> Expected<std::unique_ptr<mssql::SqlSession>> {
      target_databases_opened.push_back(db);
      if (db == "master") return std::make_unique<SharedFakeSession>(master);
      if (!restored) return fail(ErrorKind::fatal, "SQL Server error 4060 (severity 11, state 1): Cannot open database \"sales\"");
      return std::make_unique<SharedFakeSession>(target_db);
    };
    return c;
  }
};

TEST(LoginsTest, CarriesTheSqlLoginWithItsSidAndHashAndTheRoleRdsLetsItGrant) {
  LoginsWorld w;
  auto connections = w.connections();
  MemoryJournal journal;
  RecordingEventSink events;
  auto report = transfer_logins(w.config, connections, &journal, events, {.apply = true});
  ASSERT_TRUE(report) << report.error().message;

  const auto ran = w.master->executed();
  std::vector<std::string> writes;
  for (const auto& st : ran) {
    if (st.sql.rfind("CREATE LOGIN", 0) == 0 || st.sql.rfind("ALTER SERVER ROLE", 0) == 0) writes.push_back(st.sql);
  }
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0],
            "CREATE LOGIN [app] WITH PASSWORD = 0x0200AABB HASHED, SID = 0x01, DEFAULT_DATABASE = [sales], "
            "DEFAULT_LANGUAGE = [us_english], CHECK_POLICY = ON, CHECK_EXPIRATION = OFF");
  EXPECT_EQ(writes[1], "ALTER SERVER ROLE [processadmin] ADD MEMBER [app]");
  // The statement carrying the hash is marked so the session's log withholds it.
  for (const auto& st : ran) {
    if (st.sql.rfind("CREATE LOGIN", 0) == 0) {
      EXPECT_TRUE(st.options.carries_secret);
    }
  }
  // Nothing ran on the source but reads; the Windows group and sysadmin are reported, not attempted.
  for (const auto& sql : w.source->executed_sql()) EXPECT_EQ(sql.rfind("SELECT", 0), 0u) << sql;
  bool windows = false, sysadmin = false;
  for (const auto& issue : report->plan.issues) {
    windows |= issue.kind == LoginIssueKind::windows_login && issue.principal == "CORP\\reports";
    sysadmin |= issue.kind == LoginIssueKind::role_not_grantable && issue.detail.find("sysadmin") != std::string::npos;
  }
  EXPECT_TRUE(windows);
  EXPECT_TRUE(sysadmin);

  // The hash is in neither the events nor the journal; the journal names what was carried.
  for (const auto& e : events.events()) {
    EXPECT_EQ(e.message.find("0x0200AABB"), std::string::npos) << e.message;
    EXPECT_EQ(e.data.dump().find("0200AABB"), std::string::npos) << e.data.dump();
  }
  auto journaled = journal.events(0, 100);
  ASSERT_TRUE(journaled);
  int carried = 0;
  for (const auto& e : *journaled) {
    EXPECT_EQ(e.data.dump().find("0200AABB"), std::string::npos) << e.data.dump();
    if (e.kind == "login_carried") ++carried;
  }
  EXPECT_EQ(carried, 2);
  EXPECT_TRUE(report->orphaned_users.empty());
}

TEST(LoginsTest, BeforeTheRestoreItPlansAndRefusesToApplyChangingNothing) {
  LoginsWorld w;
  w.restored = false;
  auto connections = w.connections();
  RecordingEventSink events;
  auto planned = transfer_logins(w.config, connections, nullptr, events, {.apply = false});
  ASSERT_TRUE(planned) << planned.error().message;
  EXPECT_FALSE(planned->target_database_present);
  ASSERT_FALSE(planned->plan.actions.empty());
  EXPECT_NE(planned->plan.actions.front().shown_sql.find("<password hash of 4 bytes, not shown>"), std::string::npos);

  auto applied = transfer_logins(w.config, connections, nullptr, events, {.apply = true});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(applied.error().message.find("not on RDS yet"), std::string::npos) << applied.error().message;
  EXPECT_NE(applied.error().hint.find("mssql2rds run"), std::string::npos) << applied.error().hint;
  for (const auto& sql : w.master->executed_sql()) EXPECT_EQ(sql.rfind("SELECT", 0), 0u) << sql;
}

TEST(LoginsTest, AHashTheSourceLoginMayNotReadBlocksApplyingAndNamesTheGrant) {
  LoginsWorld w;
  // Without CONTROL SERVER, sys.sql_logins.password_hash reads as NULL.
  auto unreadable = std::make_shared<FakeSqlSession>();
  unreadable->on_rows("sys.database_principals", {"name", "type", "sid", "authentication_type_desc"},
                      {{"app_user", "S", Bytes{{0x01}}, "INSTANCE"}});
  unreadable->on_rows("sys.sql_logins",
                      {"name", "type", "sid", "is_disabled", "default_database_name", "default_language_name",
                       "password_hash", "is_policy_checked", "is_expiration_checked"},
                      {{"app", "S", Bytes{{0x01}}, 0, "master", "us_english", mssql::SqlValue(), 1, 0}});
  unreadable->on_rows("sys.server_role_members", {"role_name", "member_name"}, {});
  w.source = unreadable;
  auto connections = w.connections();
  RecordingEventSink events;
  auto applied = transfer_logins(w.config, connections, nullptr, events, {.apply = true});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(applied.error().hint.find("GRANT CONTROL SERVER"), std::string::npos) << applied.error().hint;
  for (const auto& sql : w.master->executed_sql()) EXPECT_EQ(sql.rfind("SELECT", 0), 0u) << sql;
}

TEST(LoginsTest, AFailedCreateNamesTheLoginAndNeverTheStatement) {
  LoginsWorld w;
  w.master = std::make_shared<FakeSqlSession>();
  w.master->on_error("CREATE LOGIN",
                     Error(ErrorKind::auth, "SQL Server error 15247 (severity 16, state 1): User does not have "
                                                  "permission to perform this action near '0x0200aabb'."));
  w.master->on_rows("sys.sql_logins",
                    {"name", "type", "sid", "is_disabled", "default_database_name", "default_language_name",
                     "password_hash", "is_policy_checked", "is_expiration_checked"},
                    {});
  w.master->on_rows("SUSER_SNAME()", {"role_name"}, {});
  w.master->on_rows("sys.server_role_members", {"role_name", "member_name"}, {});
  auto connections = w.connections();
  RecordingEventSink events;
  auto applied = transfer_logins(w.config, connections, nullptr, events, {.apply = true});
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("for login app"), std::string::npos) << applied.error().message;
  EXPECT_NE(applied.error().message.find("15247"), std::string::npos) << applied.error().message;
  // Even where the server's message quotes the statement, the hash is gone.
  EXPECT_EQ(applied.error().message.find("0x0200aabb"), std::string::npos) << applied.error().message;
  EXPECT_NE(applied.error().message.find("<password hash>"), std::string::npos) << applied.error().message;
  EXPECT_NE(applied.error().hint.find("mssql2rds logins --yes"), std::string::npos) << applied.error().hint;
}

}  // namespace
}  // namespace m2r
