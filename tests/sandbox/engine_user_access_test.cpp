// Database user access modes in the sandbox engine (sandbox/engine/README.md "User access modes"):
// ALTER DATABASE ... SET SINGLE_USER | RESTRICTED_USER | MULTI_USER with its termination clause,
// who is admitted and who is ended, the killed sessions' rollback in the log, persistence,
// sys.databases / DATABASEPROPERTYEX / sys.dm_exec_sessions, and the refusals SQL Server documents.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_password = "pw";
constexpr auto k_deadline = 20s;  // a bound for things that should happen promptly, never a wait in itself

int error_number(const Collected& r) { return r.error() ? r.error()->number : 0; }

std::vector<int> message_numbers(const Collected& r) {
  std::vector<int> out;
  for (const auto& m : r.messages) out.push_back(m.number);
  return out;
}

// A sink whose client sends an attention when the test says so.
class CancellableSink : public CollectSink {
 public:
  std::atomic<bool> cancel{false};
  bool cancelled() override { return cancel.load(); }
};

class EngineUserAccessTest : public ShopInstanceTest {
 protected:
  EngineUserAccessTest() : ShopInstanceTest("useraccess") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE TABLE dbo.Orders(id int IDENTITY(1,1) PRIMARY KEY, amount int NOT NULL)");
    must(*m_s, "INSERT INTO dbo.Orders(amount) VALUES (1), (2)");
    // The demo's application login as src/demo/sample_logins.cpp creates it: a plain user with
    // db_datareader and db_datawriter, its default database the application's.
    must(*m_s, "CREATE LOGIN sales_app WITH PASSWORD = 'pw', DEFAULT_DATABASE = shop, CHECK_POLICY = OFF");
    must(*m_s, "CREATE USER sales_app FOR LOGIN sales_app; ALTER ROLE db_datareader ADD MEMBER sales_app;"
               " ALTER ROLE db_datawriter ADD MEMBER sales_app");
    must(*m_s, "CREATE LOGIN reporting WITH PASSWORD = 'pw', CHECK_POLICY = OFF; CREATE USER reporting FOR LOGIN reporting");
    // Qualified for RESTRICTED_USER: a db_owner member, a dbcreator member (with a plain user, so
    // that it may open the database at all, in db_datareader so that it may read), a sysadmin member.
    must(*m_s, "CREATE LOGIN shop_owner WITH PASSWORD = 'pw', CHECK_POLICY = OFF; CREATE USER shop_owner FOR LOGIN shop_owner;"
               " ALTER ROLE db_owner ADD MEMBER shop_owner");
    must(*m_s, "CREATE LOGIN creator WITH PASSWORD = 'pw', CHECK_POLICY = OFF; CREATE USER creator FOR LOGIN creator;"
               " ALTER ROLE db_datareader ADD MEMBER creator; ALTER SERVER ROLE dbcreator ADD MEMBER creator");
    must(*m_s, "CREATE LOGIN admin2 WITH PASSWORD = 'pw', CHECK_POLICY = OFF; ALTER SERVER ROLE sysadmin ADD MEMBER admin2");
    must(*m_s, "USE master");
  }
  std::unique_ptr<Session> as(const std::string& user, const std::string& db = "shop") {
    auto l = m_inst->login(user, k_password, db);
    EXPECT_TRUE(l.session) << user << ": " << l.failure.number << " " << l.failure.text;
    return std::move(l.session);
  }
  Message refusal(const std::string& user, const std::string& db) {
    auto l = m_inst->login(user, k_password, db);
    EXPECT_FALSE(l.session) << user << " was let into '" << db << "'";
    return l.failure;
  }
  std::string user_access() { return as_str(scalar_of(*m_s, "SELECT DATABASEPROPERTYEX('shop', 'UserAccess')")); }
};

TEST_F(EngineUserAccessTest, RestrictedUserRefusesAnUnqualifiedLoginEveryWayIn) {
  // Given RESTRICTED_USER, sales_app should be refused naming the database (4060), with it as its
  // default database (4064), and on USE (923, the catalog's message for a database in restricted mode).
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER");
  Message m = refusal("sales_app", "shop");
  EXPECT_EQ(m.number, 4060);
  EXPECT_EQ(m.text, "Cannot open database \"shop\" requested by the login. The login failed.");
  m = refusal("sales_app", "");
  EXPECT_EQ(m.number, 4064);
  EXPECT_EQ(m.text, "Cannot open user default database. Login failed.");
  auto in_master = as("reporting", "master");
  m = error_of(*in_master, "USE shop");
  EXPECT_EQ(m.number, 923);
  EXPECT_EQ(m.severity, 14);
  EXPECT_EQ(m.text, "Database 'shop' is in restricted mode. Only the database owner and members of the dbcreator and sysadmin roles can access it.");
  EXPECT_EQ(as_str(scalar_of(*in_master, "SELECT DB_NAME()")), "master");
}

TEST_F(EngineUserAccessTest, RestrictedUserAdmitsDbOwnerDbcreatorAndSysadminAnyNumberAtOnce) {
  // Given RESTRICTED_USER, a db_owner member, a dbcreator member, a sysadmin member and sa should
  // all be in the database at the same time, by login and by USE.
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER");
  auto owner = as("shop_owner");
  auto creator = as("creator");
  auto admin = as("admin2", "master");
  must(*admin, "USE shop");
  must(*m_s, "USE shop");
  for (Session* s : {owner.get(), creator.get(), admin.get(), m_s.get()}) {
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT COUNT(*) FROM dbo.Orders")), 2);
  }
  auto r = must(*m_s, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE database_id = DB_ID('shop')");
  EXPECT_EQ(as_int(r.sets[0].rows[0][0]), 4);
}

TEST_F(EngineUserAccessTest, RollbackImmediateEndsTheUnqualifiedSessionAndUndoesItsTransactionInTheLog) {
  // Given sales_app with an open transaction (two inserts, one update) and shop_owner with one of
  // its own, RESTRICTED_USER WITH ROLLBACK IMMEDIATE should return with sales_app's changes undone
  // by compensation records and LOP_ABORT_XACT, its lock released, its session ended (596), and
  // shop_owner's transaction untouched.
  auto app = as("sales_app");
  must(*app, "BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (70), (80); UPDATE dbo.Orders SET amount = 20 WHERE id = 2");
  auto owner = as("shop_owner");
  must(*owner, "BEGIN TRAN; UPDATE dbo.Orders SET amount = 10 WHERE id = 1");
  const std::int64_t app_spid = as_int(scalar_of(*app, "SELECT @@SPID"));

  auto r = must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(message_numbers(r), (std::vector<int>{5060, 5060}));
  EXPECT_EQ(r.messages.back().text, "Nonqualified transactions are being rolled back. Estimated rollback completion: 100%.");
  EXPECT_EQ(r.messages.back().severity, 10);

  must(*m_s, "USE shop; SET LOCK_TIMEOUT 0");
  // The inserted rows are gone and the updated row has its value back; its lock is free at once.
  auto rows = must(*m_s, "SELECT id, amount FROM dbo.Orders WITH (NOLOCK) ORDER BY id");
  ASSERT_EQ(rows.sets.at(0).rows.size(), 2u);
  EXPECT_EQ(as_int(rows.sets[0].rows[1][1]), 2);
  must(*m_s, "UPDATE dbo.Orders SET amount = 3 WHERE id = 2");
  // The log: compensation for each of the three changes, then the abort, in sales_app's transaction.
  auto abort = must(*m_s, "SELECT [Transaction ID] FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_ABORT_XACT'");
  ASSERT_EQ(abort.sets.at(0).rows.size(), 1u);
  const std::string xact = as_str(abort.sets[0].rows[0][0]);
  auto comp = must(*m_s, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Description = 'COMPENSATION' AND [Transaction ID] = '" + xact + "'");
  EXPECT_EQ(as_int(comp.sets[0].rows[0][0]), 3);
  // shop_owner's transaction is still open, its row still locked by it.
  EXPECT_EQ(error_number(run(*m_s, "UPDATE dbo.Orders SET amount = 4 WHERE id = 1")), 1222);
  EXPECT_EQ(as_int(scalar_of(*owner, "SELECT @@TRANCOUNT")), 1);
  must(*owner, "COMMIT");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT amount FROM dbo.Orders WHERE id = 1")), 10);
  // The killed session runs nothing more and has left sys.dm_exec_sessions.
  const Message dead = error_of(*app, "SELECT 1");
  EXPECT_EQ(dead.number, 596);
  EXPECT_EQ(dead.severity, 21);
  EXPECT_EQ(dead.text, "Cannot continue the execution because the session is in the kill state.");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE session_id = " + std::to_string(app_spid))), 0);
  EXPECT_EQ(refusal("sales_app", "shop").number, 4060);
}

TEST_F(EngineUserAccessTest, RollbackImmediateStopsARunningBatchAndALockWait) {
  // Given sales_app waiting for a row lock shop_owner holds and reporting inside a long WAITFOR in a
  // transaction, ROLLBACK IMMEDIATE should end both requests (596) and return.
  auto owner = as("shop_owner");
  must(*owner, "BEGIN TRAN; UPDATE dbo.Orders SET amount = 10 WHERE id = 1");
  auto app = as("sales_app");
  auto reporting = as("reporting");
  auto blocked = std::async(std::launch::async, [&] { return run(*app, "UPDATE dbo.Orders SET amount = 11 WHERE id = 1"); });
  auto sleeping = std::async(std::launch::async, [&] {
    return run(*reporting, "BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (99); WAITFOR DELAY '00:10:00'");
  });
  // Both are in flight once sys.dm_exec_requests shows them (a lock wait, and the WAITFOR).
  const auto until = std::chrono::steady_clock::now() + k_deadline;
  while (as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.dm_exec_requests WHERE wait_type = 'LCK_M_X' OR command = 'WAITFOR'")) < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the requests never started";
    std::this_thread::sleep_for(10ms);
  }
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  ASSERT_EQ(blocked.wait_for(k_deadline), std::future_status::ready);
  ASSERT_EQ(sleeping.wait_for(k_deadline), std::future_status::ready);
  EXPECT_TRUE(blocked.get().has_message(596));
  EXPECT_TRUE(sleeping.get().has_message(596));
  must(*m_s, "USE shop");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM dbo.Orders WITH (NOLOCK) WHERE amount = 99")), 0);
  EXPECT_EQ(as_int(scalar_of(*owner, "SELECT @@TRANCOUNT")), 1);
}

TEST_F(EngineUserAccessTest, NoWaitFailsWhileAnUnqualifiedSessionIsInAndChangesNothing) {
  // Given sales_app in the database, WITH NO_WAIT should fail with 5070 then 5069, and the
  // database stay MULTI_USER with sales_app working.
  auto app = as("sales_app");
  auto r = run(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER WITH NO_WAIT");
  ASSERT_EQ(message_numbers(r), (std::vector<int>{5070, 5069}));
  EXPECT_EQ(r.messages[0].text, "Database state cannot be changed while other users are using the database 'shop'");
  EXPECT_EQ(r.messages[0].severity, 16);
  EXPECT_EQ(r.messages[1].text, "ALTER DATABASE statement failed.");
  EXPECT_EQ(user_access(), "MULTI_USER");
  EXPECT_EQ(as_int(scalar_of(*app, "SELECT COUNT(*) FROM dbo.Orders")), 2);
  // A qualified session does not stand in the way.
  app.reset();
  auto owner = as("shop_owner");
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER WITH NO_WAIT");
  EXPECT_EQ(user_access(), "RESTRICTED_USER");
}

TEST_F(EngineUserAccessTest, WithoutATerminationClauseTheAlterWaitsUntilTheSessionLeaves) {
  // Given sales_app in the database, the ALTER without a clause should wait (refusing new
  // unqualified sessions meanwhile) and complete once sales_app disconnects.
  auto app = as("sales_app");
  auto alter = std::async(std::launch::async, [&] { return run(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER"); });
  // While it waits, a new unqualified session is refused already.
  const auto until = std::chrono::steady_clock::now() + k_deadline;
  for (;;) {
    auto l = m_inst->login("reporting", k_password, "shop");
    if (!l.session) {
      EXPECT_EQ(l.failure.number, 4060);
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the ALTER never started waiting";
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(alter.wait_for(0ms), std::future_status::timeout);
  EXPECT_EQ(as_int(scalar_of(*app, "SELECT COUNT(*) FROM dbo.Orders")), 2);  // not disconnected
  app.reset();
  ASSERT_EQ(alter.wait_for(k_deadline), std::future_status::ready);
  EXPECT_EQ(alter.get().errors, 0);
  EXPECT_EQ(user_access(), "RESTRICTED_USER");
}

TEST_F(EngineUserAccessTest, AWaitingAlterEndsAtLockTimeoutOrAnAttentionAndChangesNothing) {
  // Given sales_app in the database, SET LOCK_TIMEOUT 200 should end the waiting ALTER with 1222
  // and 5069; an attention should end it too; both leave MULTI_USER and admit new sessions.
  auto app = as("sales_app");
  auto r = run(*m_s, "SET LOCK_TIMEOUT 200; ALTER DATABASE shop SET RESTRICTED_USER");
  EXPECT_EQ(message_numbers(r), (std::vector<int>{1222, 5069}));
  EXPECT_EQ(user_access(), "MULTI_USER");
  as("reporting");

  must(*m_s, "SET LOCK_TIMEOUT -1");
  CancellableSink sink;
  auto alter = std::async(std::launch::async, [&] { m_s->execute_batch("ALTER DATABASE shop SET RESTRICTED_USER", sink); });
  const auto until = std::chrono::steady_clock::now() + k_deadline;
  while (m_inst->login("reporting", k_password, "shop").session) {  // waiting once new ones are refused
    ASSERT_LT(std::chrono::steady_clock::now(), until);
    std::this_thread::sleep_for(10ms);
  }
  sink.cancel = true;
  ASSERT_EQ(alter.wait_for(k_deadline), std::future_status::ready);
  alter.get();
  EXPECT_EQ(user_access(), "MULTI_USER");
  as("reporting");
  EXPECT_EQ(as_int(scalar_of(*app, "SELECT COUNT(*) FROM dbo.Orders")), 2);
}

TEST_F(EngineUserAccessTest, RollbackAfterWaitsItsSecondsThenEndsTheSession) {
  // Given sales_app with an open transaction, ROLLBACK AFTER 1 SECONDS should take at least a
  // second, then end it and undo its insert.
  auto app = as("sales_app");
  must(*app, "BEGIN TRAN; INSERT INTO dbo.Orders(amount) VALUES (70)");
  const auto start = std::chrono::steady_clock::now();
  auto r = must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER WITH ROLLBACK AFTER 1 SECONDS");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, k_deadline);
  EXPECT_TRUE(r.has_message(5060));
  EXPECT_EQ(error_number(run(*app, "SELECT 1")), 596);
  must(*m_s, "USE shop");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM dbo.Orders")), 2);
}

TEST_F(EngineUserAccessTest, SingleUserAdmitsOneSessionAtATime) {
  // Given SINGLE_USER set by a session in the database, a second one should get 924 by login and by
  // USE; once the first leaves, the next one gets in and shuts the others out.
  must(*m_s, "USE shop; ALTER DATABASE shop SET SINGLE_USER");
  EXPECT_EQ(user_access(), "SINGLE_USER");
  Message m = refusal("shop_owner", "shop");
  EXPECT_EQ(m.number, 924);
  EXPECT_EQ(m.severity, 14);
  EXPECT_EQ(m.text, "Database 'shop' is already open and can only have one user at a time.");
  auto admin = as("admin2", "master");
  EXPECT_EQ(error_of(*admin, "USE shop").number, 924);
  must(*m_s, "USE master");
  must(*admin, "USE shop");  // any user with access: SINGLE_USER does not ask for db_owner
  EXPECT_EQ(refusal("sales_app", "shop").number, 924);
  // A change of mode from outside while the single user is in: 5064; with ROLLBACK IMMEDIATE it is ended.
  auto r = run(*m_s, "ALTER DATABASE shop SET MULTI_USER");
  ASSERT_EQ(message_numbers(r), (std::vector<int>{5064, 5069}));
  EXPECT_EQ(r.messages[0].text, "Changes to the state or options of database 'shop' cannot be made at this time. The database is in "
                                "single-user mode, and a user is currently connected to it.");
  must(*m_s, "ALTER DATABASE shop SET MULTI_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(error_number(run(*admin, "SELECT 1")), 596);
  EXPECT_EQ(user_access(), "MULTI_USER");
  auto a = as("sales_app");
  auto b = as("reporting");
}

TEST_F(EngineUserAccessTest, SingleUserWithRollbackImmediateEndsEveryOtherSessionQualifiedOrNot) {
  // Given shop_owner and sales_app in the database, SINGLE_USER WITH ROLLBACK IMMEDIATE from sa in
  // the database should end both and leave sa the one user.
  auto owner = as("shop_owner");
  auto app = as("sales_app");
  must(*m_s, "USE shop; ALTER DATABASE shop SET SINGLE_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(error_number(run(*owner, "SELECT 1")), 596);
  EXPECT_EQ(error_number(run(*app, "SELECT 1")), 596);
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM dbo.Orders")), 2);
  EXPECT_EQ(refusal("admin2", "shop").number, 924);
}

TEST_F(EngineUserAccessTest, TheModeShowsInTheCatalogSurvivesARestartAndMultiUserUndoesIt) {
  // Given RESTRICTED_USER, sys.databases and DATABASEPROPERTYEX should report it, an instance
  // restart should keep it, and MULTI_USER should let sales_app in again.
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER");
  auto row = must(*m_s, "SELECT user_access, user_access_desc FROM sys.databases WHERE name = 'shop'");
  EXPECT_EQ(as_int(row.sets.at(0).rows.at(0)[0]), 2);
  EXPECT_EQ(as_str(row.sets[0].rows[0][1]), "RESTRICTED_USER");
  auto props = must(*m_s, "SELECT DATABASEPROPERTYEX('shop', 'UserAccess'), DATABASEPROPERTYEX('shop', 'Recovery'),"
                          " DATABASEPROPERTYEX('shop', 'Status'), DATABASEPROPERTYEX('shop', 'Updateability'),"
                          " DATABASEPROPERTYEX('master', 'UserAccess'), DATABASEPROPERTYEX('nosuchdb', 'UserAccess'),"
                          " DATABASEPROPERTYEX('shop', 'NoSuchProperty')");
  const auto& p = props.sets.at(0).rows.at(0);
  EXPECT_EQ(as_str(p[0]), "RESTRICTED_USER");
  EXPECT_EQ(as_str(p[1]), "FULL");
  EXPECT_EQ(as_str(p[2]), "ONLINE");
  EXPECT_EQ(as_str(p[3]), "READ_WRITE");
  EXPECT_EQ(as_str(p[4]), "MULTI_USER");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p[5]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p[6]));

  m_s.reset();
  m_inst.reset();
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = m_dir;
  cfg.sa_password = k_sa_password;
  m_inst = open_instance(cfg);
  m_s = login(*m_inst);
  EXPECT_EQ(user_access(), "RESTRICTED_USER");
  EXPECT_EQ(refusal("sales_app", "shop").number, 4060);
  must(*m_s, "ALTER DATABASE shop SET MULTI_USER");
  row = must(*m_s, "SELECT user_access, user_access_desc FROM sys.databases WHERE name = 'shop'");
  EXPECT_EQ(as_int(row.sets.at(0).rows.at(0)[0]), 0);
  EXPECT_EQ(as_str(row.sets[0].rows[0][1]), "MULTI_USER");
  auto app = as("sales_app");
  EXPECT_EQ(as_int(scalar_of(*app, "SELECT COUNT(*) FROM dbo.Orders")), 2);
}

TEST_F(EngineUserAccessTest, ARestoredCopyKeepsTheModeOfItsBackup) {
  // Given a backup of shop taken while RESTRICTED_USER, the copy restored under another name should
  // be RESTRICTED_USER too (the option lives in the database, as its other options do).
  must(*m_s, "ALTER DATABASE shop SET RESTRICTED_USER");
  const std::string file = m_dir + "/shop_restricted.bak";
  must(*m_s, "BACKUP DATABASE shop TO DISK = N'" + file + "'");
  must(*m_s, "ALTER DATABASE shop SET MULTI_USER");
  must(*m_s, "RESTORE DATABASE shop_copy FROM DISK = N'" + file + "'");
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT user_access_desc FROM sys.databases WHERE name = 'shop_copy'")), "RESTRICTED_USER");
  EXPECT_EQ(user_access(), "MULTI_USER");
}

TEST_F(EngineUserAccessTest, OnlyTheDatabasesOwnersMayChangeItsMode) {
  // Given sales_app (no ALTER on the database), the ALTER should fail with 5011; shop_owner
  // (db_owner) and creator (dbcreator) may run it; inside a transaction it is 226; master refuses
  // SINGLE_USER with 5058.
  auto app = as("sales_app");
  Message m = error_of(*app, "ALTER DATABASE shop SET RESTRICTED_USER");
  EXPECT_EQ(m.number, 5011);
  EXPECT_EQ(m.severity, 14);
  EXPECT_EQ(m.text, "User does not have permission to alter database 'shop', the database does not exist, or the database is not in a "
                    "state that allows access checks.");
  EXPECT_EQ(error_of(*app, "ALTER DATABASE CURRENT SET RECOVERY SIMPLE").number, 5011);
  EXPECT_EQ(user_access(), "MULTI_USER");
  app.reset();
  auto owner = as("shop_owner");
  must(*owner, "ALTER DATABASE shop SET RESTRICTED_USER");
  auto creator = as("creator", "master");
  must(*creator, "ALTER DATABASE shop SET MULTI_USER");
  m = error_of(*owner, "BEGIN TRAN; ALTER DATABASE shop SET RESTRICTED_USER");
  EXPECT_EQ(m.number, 226);
  EXPECT_EQ(m.text, "ALTER DATABASE statement not allowed within multi-statement transaction.");
  must(*owner, "ROLLBACK");
  EXPECT_EQ(error_of(*m_s, "ALTER DATABASE master SET SINGLE_USER").number, 5058);
}

class EngineUserAccessRdsTest : public RdsInstanceTest {
 protected:
  EngineUserAccessRdsTest() : RdsInstanceTest("useraccess-rds") {}
};

TEST_F(EngineUserAccessRdsTest, TheMasterUserMayRestrictAUserDatabase) {
  // Given an RDS instance, its master user (dbo of user databases, not sysadmin) should be able to
  // set RESTRICTED_USER on a database it created, and stay in it.
  must(*m_s, "CREATE DATABASE app; USE app; ALTER DATABASE app SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(as_str(scalar_of(*m_s, "SELECT DATABASEPROPERTYEX('app', 'UserAccess')")), "RESTRICTED_USER");
  EXPECT_EQ(as_int(scalar_of(*m_s, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE database_id = DB_ID('app')")), 1);
}

}  // namespace
