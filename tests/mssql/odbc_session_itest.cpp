// OdbcSession against the rehearsal world's SQL Server (mssql2rds-sandbox serve), through
// unixODBC and FreeTDS's driver (tdsodbc), as users with the default config connect.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "mssql/odbc_session.hpp"
#include "mssql/quote.hpp"
#include "mssql/request_progress.hpp"
#include "mssql/support/sandbox_process.hpp"

namespace m2r::mssql {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Characters that must survive the connection string's {...} escaping (FreeTDS cannot take
// '}', see connection_string.cpp).
const std::string k_password = "Itest;Pa ss{w0rd=";

class OdbcSessionTest : public ::testing::Test {
 protected:
  // One sandbox for the suite. A failure to start it fails every test (in SetUp), so none
  // is reported as skipped.
  static void SetUpTestSuite() {
    s_sandbox = new testing::SandboxProcess();
    testing::SandboxOptions o;
    o.sa_password = k_password;
    // Slow enough that BACKUP WITH STATS of a small database takes a few seconds.
    o.backup_throughput = 60000;
    auto started = s_sandbox->start(o);
    if (!started) {
      s_setup_error = started.error().message + " / " + started.error().hint;
      return;
    }
    auto admin = connect_to("master");
    if (!admin) {
      s_setup_error = "connecting to master: " + admin.error().message;
      return;
    }
    auto created = (*admin)->execute("CREATE DATABASE itest");
    if (!created) s_setup_error = "CREATE DATABASE itest: " + created.error().message;
  }
  void SetUp() override { ASSERT_TRUE(s_setup_error.empty()) << s_setup_error; }
  static void TearDownTestSuite() {
    delete s_sandbox;
    s_sandbox = nullptr;
  }

  static ConnectionSettings settings(const std::string& database) {
    ConnectionSettings s;
    s.server = "127.0.0.1";
    s.port = s_sandbox->port();
    s.database = database;
    s.login = "sa";
    s.password_env = "MSSQL_ITEST_PASSWORD";
    s.driver = "FreeTDS";
    s.encrypt = false;  // this in-process server has no certificate (PRELOGIN ENCRYPT_NOT_SUP)
    s.login_timeout = 10s;
    return s;
  }

  static Expected<std::unique_ptr<OdbcSession>> connect_to(const std::string& database, LogFn log = {}) {
    return OdbcSession::connect(settings(database), Secret(k_password), std::move(log));
  }

  std::vector<std::string> m_log;
  std::mutex m_log_mutex;
  LogFn capture() {
    return [this](std::string_view line) {
      std::lock_guard lock(m_log_mutex);
      m_log.emplace_back(line);
    };
  }

  static testing::SandboxProcess* s_sandbox;
  static std::string s_setup_error;
};
testing::SandboxProcess* OdbcSessionTest::s_sandbox = nullptr;
std::string OdbcSessionTest::s_setup_error;

std::string backup_sql(const std::string& db, const std::string& path, int stats) {
  return "BACKUP DATABASE " + quote_name(db).value() + " TO DISK = " + quote_string_literal(path) +
         " WITH INIT, STATS = " + std::to_string(stats);
}

TEST_F(OdbcSessionTest, ConnectsAndRunsAQuery) {
  // Given the sandbox and the FreeTDS driver, should connect and read a typed value.
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  auto r = (*session)->query("SELECT 42 AS answer");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows().size(), 1u);
  EXPECT_EQ(r->first().columns.at(0).name, "answer");
  EXPECT_EQ(r->rows()[0][0].as_int64().value(), 42);
}

TEST_F(OdbcSessionTest, ParametersOfEveryTypeRoundTripTyped) {
  // Given a table of every type the product uses, inserting with parameters (no SQL built from
  // values) and reading back should return each value, typed, numeric(25,0) exact.
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  auto& s = **session;
  ASSERT_TRUE(s.execute("CREATE TABLE dbo.all_types (id int NOT NULL PRIMARY KEY, c_bigint bigint, c_bit bit, "
                        "c_lsn numeric(25,0), c_dec decimal(10,4), c_float float, c_nvarchar nvarchar(100), "
                        "c_varchar varchar(50), c_varbinary varbinary(50), c_datetime2 datetime2(7), "
                        "c_guid uniqueidentifier)"));
  const std::string unicode = "Gr\xC3\xBC\xC3\x9F" "e \xE2\x98\x83 it's; DROP TABLE x --";
  auto inserted = s.execute(
      "INSERT INTO dbo.all_types (id, c_bigint, c_bit, c_lsn, c_dec, c_float, c_nvarchar, c_varchar, c_varbinary, "
      "c_datetime2, c_guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {SqlParam::int32(1), SqlParam::int64(9223372036854775807LL), SqlParam::bit(true),
       SqlParam::decimal("9999999999999999999999999", 25, 0), SqlParam::decimal("-123.4500", 10, 4),
       SqlParam::float64(2.5), SqlParam::nvarchar(unicode), SqlParam::varchar("plain"),
       SqlParam::varbinary(Bytes{{0xDE, 0xAD, 0x00, 0xBE, 0xEF}}), SqlParam::datetime2("2024-02-29 13:45:10.1234567"),
       SqlParam::uniqueidentifier("6F9619FF-8B86-D011-B42D-00C04FC964FF")});
  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_EQ(*inserted, 1);
  auto nulls = s.execute(
      "INSERT INTO dbo.all_types (id, c_bigint, c_lsn, c_nvarchar, c_varbinary) VALUES (?, ?, ?, ?, ?)",
      {SqlParam::int32(2), SqlParam::null(ParamType::int64), SqlParam::null(ParamType::decimal),
       SqlParam::null(ParamType::nvarchar), SqlParam::null(ParamType::varbinary)});
  ASSERT_TRUE(nulls) << nulls.error().message;

  auto r = s.query("SELECT id, c_bigint, c_bit, c_lsn, c_dec, c_float, c_nvarchar, c_varchar, c_varbinary, "
                   "c_datetime2, c_guid FROM dbo.all_types WHERE id >= ? ORDER BY id",
                   {SqlParam::int32(1)});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows().size(), 2u);
  const auto& set = r->first();
  auto v = [&](std::size_t row, const char* col) { return set.value(row, col).value(); };
  EXPECT_EQ(v(0, "c_bigint").as_int64().value(), 9223372036854775807LL);
  EXPECT_TRUE(v(0, "c_bit").as_bool().value());
  EXPECT_EQ(v(0, "c_lsn").as_string().value(), "9999999999999999999999999");
  EXPECT_EQ(v(0, "c_dec").as_string().value(), "-123.4500");
  EXPECT_DOUBLE_EQ(v(0, "c_float").as_double().value(), 2.5);
  EXPECT_EQ(v(0, "c_nvarchar").as_string().value(), unicode);
  EXPECT_EQ(v(0, "c_varchar").as_string().value(), "plain");
  EXPECT_EQ(v(0, "c_varbinary").as_bytes().value(), (Bytes{{0xDE, 0xAD, 0x00, 0xBE, 0xEF}}));
  EXPECT_EQ(v(0, "c_datetime2").as_string().value(), "2024-02-29 13:45:10.1234567");
  EXPECT_EQ(v(0, "c_guid").as_string().value(), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
  EXPECT_TRUE(v(1, "c_bigint").is_null());
  EXPECT_TRUE(v(1, "c_lsn").is_null());
  EXPECT_TRUE(v(1, "c_nvarchar").is_null());
  EXPECT_TRUE(v(1, "c_varbinary").is_null());
  // Column types as the server described them.
  EXPECT_EQ(set.columns[*set.column_index("c_lsn")].type, SqlType::decimal);
  EXPECT_EQ(set.columns[*set.column_index("c_lsn")].precision, 25);
  EXPECT_EQ(set.columns[*set.column_index("c_bigint")].type, SqlType::bigint);
  EXPECT_EQ(set.columns[*set.column_index("c_nvarchar")].type, SqlType::nvarchar);
  EXPECT_EQ(set.columns[*set.column_index("c_datetime2")].type, SqlType::datetime2);
  EXPECT_EQ(set.columns[*set.column_index("c_guid")].type, SqlType::uniqueidentifier);
}

TEST_F(OdbcSessionTest, ServerErrorsCarryNumberAndSeverityAndMapToKinds) {
  // Given a statement on a missing table, should fail with SQL Server's 208 at severity 16,
  // mapped to not_found, with the message delivered to the handler too. (FreeTDS does not
  // report the state or line; see sql_session.hpp.)
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  std::vector<SqlMessage> seen;
  auto r = (*session)->execute_with_messages("SELECT * FROM dbo.no_such_table", {},
                                            [&](const SqlMessage& m) { seen.push_back(m); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_NE(r.error().message.find("SQL Server error 208 (severity 16"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("no_such_table"), std::string::npos);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().number, 208);
  EXPECT_EQ(seen.back().severity, 16);
  EXPECT_TRUE(seen.back().is_error());
  // The session stays usable after an error.
  EXPECT_TRUE((*session)->query("SELECT 1"));
}

TEST_F(OdbcSessionTest, WrongPasswordIsAnAuthErrorNamingTheFix) {
  // Given a wrong password, should fail with auth, 18456 in the message, and a hint naming the
  // login and the environment variable, without the password anywhere.
  auto s = OdbcSession::connect(settings("itest"), Secret("not-the-password"), capture());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::auth);
  EXPECT_NE(s.error().message.find("18456"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().hint.find("'sa'"), std::string::npos) << s.error().hint;
  EXPECT_NE(s.error().hint.find("MSSQL_ITEST_PASSWORD"), std::string::npos) << s.error().hint;
  EXPECT_EQ(s.error().message.find("not-the-password"), std::string::npos);
}

TEST_F(OdbcSessionTest, UnreachableServerIsRetryableNamingServerAndPort) {
  // Given a port nobody listens on, should fail as retryable with server:port in the hint.
  auto cs = settings("itest");
  cs.port = 1;  // privileged, never listened on here
  auto s = OdbcSession::connect(cs, Secret(k_password));
  ASSERT_FALSE(s);
  EXPECT_TRUE(s.error().kind == ErrorKind::retryable || s.error().kind == ErrorKind::timeout) << s.error().message;
  EXPECT_NE(s.error().hint.find("127.0.0.1:1"), std::string::npos) << s.error().hint;
}

TEST_F(OdbcSessionTest, BackupProgressArrivesWhileTheStatementRunsThroughTheRequestsView) {
  // Given BACKUP DATABASE ... WITH STATS = 10 on a throttled instance, run as the backup step
  // runs it (run_with_live_progress: a second session polls sys.dm_exec_requests), progress
  // from the polls should arrive while the statement runs: the first in its first half, the
  // reports spread over at least half of it. Every reported fraction should be larger than
  // the one before, and the 3211 messages (docs/facts.md §8, §10) should all still arrive, in
  // order, with 3014 last. (FreeTDS hands those messages over only when the statement ends,
  // which is why the polls exist; this test does not depend on when they arrive.)
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  const SessionOpener open_monitor = []() -> Expected<std::unique_ptr<SqlSession>> {
    auto s = M2R_TRY(connect_to("master"));
    return std::unique_ptr<SqlSession>(std::move(s));
  };
  struct Report {
    Clock::time_point at;
    double fraction;
    std::string text;
  };
  std::vector<Report> reports;
  std::vector<SqlMessage> messages;
  std::vector<std::string> unavailable;
  LiveProgressHandlers handlers;
  handlers.on_message = [&](const SqlMessage& m) { messages.push_back(m); };
  handlers.on_progress = [&](double f, const std::string& text) { reports.push_back({Clock::now(), f, text}); };
  handlers.on_polling_unavailable = [&](const std::string& why) { unavailable.push_back(why); };

  const auto start = Clock::now();
  // Polls four times a second (the product polls once a second) so that a backup of a few
  // seconds gets several; the assertions below are relative to the statement's duration.
  auto r = run_with_live_progress(**session, open_monitor,
                                  Statement{backup_sql("itest", s_sandbox->data_dir() + "/itest.bak", 10), {}, {}},
                                  handlers, {.poll_interval = 250ms});
  const auto end = Clock::now();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(unavailable.empty()) << unavailable.front();
  const auto duration = end - start;
  ASSERT_GE(duration, 1s) << "the backup was too fast to show progress; lower backup_throughput";

  // Monotone, from both sources together.
  ASSERT_FALSE(reports.empty());
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GT(reports[i].fraction, reports[i - 1].fraction) << reports[i].text << " after " << reports[i - 1].text;
  }
  EXPECT_DOUBLE_EQ(reports.back().fraction, 1.0);

  // Live: the reports from sys.dm_exec_requests ("n percent complete", not the messages'
  // "n percent processed.").
  std::vector<Clock::time_point> polled;
  for (const auto& rep : reports) {
    if (rep.text.find("percent complete") != std::string::npos) polled.push_back(rep.at);
  }
  ASSERT_GE(polled.size(), 2u);
  EXPECT_LT(polled.front() - start, duration / 2)
      << "first polled progress after " << std::chrono::duration<double>(polled.front() - start).count() << " s of "
      << std::chrono::duration<double>(duration).count() << " s";
  EXPECT_GT(polled.back() - polled.front(), duration / 2)
      << "polled progress spread over " << std::chrono::duration<double>(polled.back() - polled.front()).count()
      << " s of " << std::chrono::duration<double>(duration).count() << " s";

  // The messages are all there, in order, the completion message last.
  std::vector<std::string> stats;
  for (const auto& m : messages) {
    if (m.number == 3211) stats.push_back(m.text);
  }
  std::vector<std::string> expected;
  for (int pct = 10; pct <= 100; pct += 10) expected.push_back(std::to_string(pct) + " percent processed.");
  EXPECT_EQ(stats, expected);
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back().number, 3014);
}

TEST_F(OdbcSessionTest, CancelFromAnotherThreadStopsALongStatement) {
  // Given a slow BACKUP, cancel() from another thread should end it early with a cancelled
  // error, and the session should run the next statement.
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  std::thread canceller([&] {
    std::this_thread::sleep_for(500ms);
    (*session)->cancel();
  });
  const auto start = Clock::now();
  auto r = (*session)->execute(backup_sql("itest", s_sandbox->data_dir() + "/cancelled.bak", 10));
  const auto took = Clock::now() - start;
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cancelled"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 1500ms);
  auto next = (*session)->query("SELECT 7");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->rows()[0][0].as_int64().value(), 7);
}

TEST_F(OdbcSessionTest, TimeoutStopsAStatementThatRunsTooLong) {
  // Given a 1 s timeout on a BACKUP that takes longer, should fail with the timeout kind
  // soon after 1 s.
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  StatementOptions o;
  o.timeout = 1s;
  const auto start = Clock::now();
  auto r = (*session)->execute(backup_sql("itest", s_sandbox->data_dir() + "/timeout.bak", 10), {}, o);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout) << r.error().message;
  EXPECT_LT(took, 2500ms);
  EXPECT_TRUE((*session)->query("SELECT 1"));
}

TEST_F(OdbcSessionTest, IdempotentReadsReconnectOnceAfterTheServerRestarts) {
  // Given a session whose server restarted under it, an idempotent read should reconnect and
  // succeed; a non-idempotent statement should fail as retryable instead of being resent.
  auto session = connect_to("itest");
  ASSERT_TRUE(session) << session.error().message;
  ASSERT_TRUE((*session)->query("SELECT 1"));
  auto restart = [&] {
    auto o = s_sandbox->options();
    o.port = s_sandbox->port();
    s_sandbox->stop();
    auto started = s_sandbox->start(o);
    ASSERT_TRUE(started) << started.error().message;
  };
  restart();
  auto not_retried = (*session)->execute("SELECT 2");
  ASSERT_FALSE(not_retried);
  EXPECT_EQ(not_retried.error().kind, ErrorKind::retryable) << not_retried.error().message;

  ASSERT_TRUE((*session)->query("SELECT 1"));  // the failed statement closed the link; this reconnects
  restart();
  StatementOptions read;
  read.idempotent = Idempotent::yes;
  auto retried = (*session)->query("SELECT 3", {}, read);
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(retried->rows()[0][0].as_int64().value(), 3);
}

TEST_F(OdbcSessionTest, PasswordNeverAppearsInAnyLogLineOrError) {
  // Given connects that succeed and fail and statements that fail, no log line, error message
  // or hint should contain the password or a recognisable piece of it.
  std::vector<std::string> texts;
  {
    auto ok = connect_to("itest", capture());
    ASSERT_TRUE(ok) << ok.error().message;
    auto bad = (*ok)->query("SELECT * FROM dbo.nothing_here");
    ASSERT_FALSE(bad);
    texts.push_back(bad.error().message);
    texts.push_back(bad.error().hint);
  }
  auto wrong_db = connect_to("no_such_database", capture());
  if (!wrong_db) {
    texts.push_back(wrong_db.error().message);
    texts.push_back(wrong_db.error().hint);
  }
  auto refused = OdbcSession::connect(settings("itest"), Secret(k_password + "x"), capture());
  ASSERT_FALSE(refused);
  texts.push_back(refused.error().message);
  texts.push_back(refused.error().hint);
  {
    std::lock_guard lock(m_log_mutex);
    ASSERT_GE(m_log.size(), 4u);  // connecting, connected, executing, failed, ...
    texts.insert(texts.end(), m_log.begin(), m_log.end());
  }
  bool saw_redacted = false;
  for (const auto& t : texts) {
    EXPECT_EQ(t.find(k_password), std::string::npos) << t;
    EXPECT_EQ(t.find("Itest;Pa"), std::string::npos) << t;
    EXPECT_EQ(t.find("ss{w0rd"), std::string::npos) << t;
    EXPECT_EQ(t.find("w0rd="), std::string::npos) << t;
    if (t.find("PWD={***}") != std::string::npos) saw_redacted = true;
  }
  EXPECT_TRUE(saw_redacted) << "the connect log line should show the redacted connection string";
}

}  // namespace
TEST_F(OdbcSessionTest, AStatementCarryingASecretIsLoggedWithoutItsTextRunOrFailed) {
  // Given statements marked carries_secret (CREATE LOGIN ... PASSWORD = 0x... HASHED is one),
  // the log should say that they ran or failed and never show their text, not even as the
  // server's "Incorrect syntax near ..." quoting it.
  auto session = connect_to("itest", capture());
  ASSERT_TRUE(session) << session.error().message;
  auto ran = (*session)->query("SELECT 'hash-0x0200F00DCAFE' AS s", {}, {.carries_secret = true});
  ASSERT_TRUE(ran) << ran.error().message;
  auto failed = (*session)->query("SELEC 'hash-0x0200F00DCAFE'", {}, {.carries_secret = true});
  ASSERT_FALSE(failed);
  std::lock_guard lock(m_log_mutex);
  int withheld = 0;
  for (const auto& line : m_log) {
    EXPECT_EQ(line.find("F00DCAFE"), std::string::npos) << line;
    if (line.find("carrying a secret") != std::string::npos) ++withheld;
  }
  EXPECT_EQ(withheld, 3) << "executing twice, failed once";
}

}  // namespace m2r::mssql
