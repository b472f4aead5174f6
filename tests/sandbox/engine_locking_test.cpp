// Locking as SQL Server does it by default (sandbox/engine/README.md "Transactions and locking"): writers block on rows other
// open transactions wrote, locking READ COMMITTED readers wait for them too, NOLOCK reads
// dirty, LOCK_TIMEOUT gives 1222, a deadlock gives one 1205 victim, READ_COMMITTED_SNAPSHOT
// and SNAPSHOT read committed versions (3952, 3960). Blocked sessions are found the way a
// DBA finds them: sys.dm_exec_requests.blocking_session_id, polled with a deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;
using namespace std::chrono_literals;

namespace {

std::int64_t scalar(Session& s, const std::string& sql) {
  auto r = must(s, sql);
  if (r.sets.empty() || r.sets[0].rows.empty()) return -999;
  return as_int(r.sets[0].rows[0][0]);
}

int spid(Session& s) { return static_cast<int>(scalar(s, "SELECT @@SPID")); }

struct World {
  std::string dir = temp_dir("locking");
  std::unique_ptr<Instance> inst;
  std::unique_ptr<Session> observer;  // the DBA's session: sys.dm_exec_requests

  World() {
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = dir;
    cfg.sa_password = k_sa_password;
    inst = open_instance(cfg);
    auto admin = login(*inst, "");
    must(*admin, "CREATE DATABASE shop; USE shop; CREATE TABLE dbo.t (id int NOT NULL PRIMARY KEY, v int NOT NULL);"
                 " INSERT INTO dbo.t VALUES (1, 1), (2, 2), (3, 3)");
    observer = login(*inst, "shop");
  }
  ~World() {
    observer.reset();
    inst.reset();
    std::filesystem::remove_all(dir);
  }

  std::unique_ptr<Session> session() { return login(*inst, "shop"); }

  // Waits until `session` is blocked by `blocker` as sys.dm_exec_requests shows it; returns
  // its wait_type ("" if it never was, within the deadline).
  std::string wait_blocked(int session, int blocker) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = run(*observer, "SELECT blocking_session_id, wait_type, status FROM sys.dm_exec_requests WHERE session_id = " +
                                  std::to_string(session));
      if (!r.sets.empty() && !r.sets[0].rows.empty() && std::holds_alternative<std::int64_t>(r.sets[0].rows[0][0]) &&
          as_int(r.sets[0].rows[0][0]) == blocker) {
        EXPECT_EQ(as_str(r.sets[0].rows[0][2]), "suspended");
        return as_str(r.sets[0].rows[0][1]);
      }
      std::this_thread::sleep_for(10ms);  // polling the view, as a DBA would; not a synchronisation by time
    }
    return "";
  }
  // Runs `sql` on `waiter` in the background and waits until it is blocked by `holder` with
  // `wait_type`; returns what the statement will produce.
  std::future<Collected> blocked_behind(Session& holder, Session& waiter, const std::string& sql, const std::string& wait_type) {
    const int holder_id = spid(holder), waiter_id = spid(waiter);
    auto pending = std::async(std::launch::async, [&waiter, sql] { return run(waiter, sql); });
    EXPECT_EQ(wait_blocked(waiter_id, holder_id), wait_type) << sql;
    return pending;
  }
  std::int64_t value(int id) { return scalar(*observer, "SELECT v FROM dbo.t WITH (NOLOCK) WHERE id = " + std::to_string(id)); }
};

int error_number(const Collected& c) { return c.error() ? c.error()->number : 0; }

}  // namespace

TEST(EngineLockingTest, AWriterWaitsForAnotherTransactionsRowUntilItCommits) {
  // Given A's open transaction that updated row 1, B's update of row 1 should wait (LCK_M_X,
  // blocked by A) and apply on A's committed value once A commits.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  auto pending = w.blocked_behind(*a, *b, "UPDATE dbo.t SET v = v + 1 WHERE id = 1", "LCK_M_X");
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout);
  must(*a, "COMMIT TRANSACTION");
  const Collected done = pending.get();
  EXPECT_EQ(done.errors, 0) << (done.error() ? done.error()->text : "");
  EXPECT_EQ(w.value(1), 101);
}

TEST(EngineLockingTest, AWriterWaitsUntilTheOtherTransactionRollsBack) {
  // Given A's open transaction that updated row 1, B's update should wait and, after A's
  // rollback, apply on the value from before A.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  auto pending = w.blocked_behind(*a, *b, "UPDATE dbo.t SET v = v + 10 WHERE id = 1", "LCK_M_X");
  must(*a, "ROLLBACK TRANSACTION");
  EXPECT_EQ(pending.get().errors, 0);
  EXPECT_EQ(w.value(1), 11);
}

TEST(EngineLockingTest, WritersOfOtherRowsDoNotWait) {
  // Given A's open transaction on row 1, B should update row 2 and insert a row at once
  // (LOCK_TIMEOUT 0 turns any wait into an error).
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  must(*b, "SET LOCK_TIMEOUT 0; UPDATE dbo.t SET v = 20 WHERE id = 2; INSERT INTO dbo.t VALUES (4, 4)");
  must(*a, "COMMIT TRANSACTION");
  EXPECT_EQ(w.value(2), 20);
  EXPECT_EQ(w.value(4), 4);
}

TEST(EngineLockingTest, AReaderWaitsUnderLockingReadCommittedAndSeesTheCommittedValue) {
  // Given A's uncommitted update of row 1, B's SELECT of row 1 should wait (LCK_M_S) and read
  // A's value once A commits; a read of another row should not wait.
  World w;
  auto a = w.session(), b = w.session(), c = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  EXPECT_EQ(scalar(*c, "SET LOCK_TIMEOUT 0; SELECT v FROM dbo.t WHERE id = 2"), 2);
  auto pending = w.blocked_behind(*a, *b, "SELECT v FROM dbo.t WHERE id = 1", "LCK_M_S");
  must(*a, "COMMIT TRANSACTION");
  const Collected read = pending.get();
  ASSERT_EQ(read.errors, 0) << (read.error() ? read.error()->text : "");
  ASSERT_EQ(read.sets.size(), 1u);
  ASSERT_EQ(read.sets[0].rows.size(), 1u);
  EXPECT_EQ(as_int(read.sets[0].rows[0][0]), 100);
  EXPECT_EQ(read.sets[0].columns.at(0).type.type, SqlType::int_);
}

TEST(EngineLockingTest, AReadThroughAViewWaitsAndUnderRcsiReadsCommittedRows) {
  // Given a view over the table and A's uncommitted update, a locking read of the view should
  // wait (1222 with LOCK_TIMEOUT 0); with READ_COMMITTED_SNAPSHOT it should read the committed row.
  World w;
  must(*w.observer, "CREATE VIEW dbo.big AS SELECT id, v FROM dbo.t WHERE v >= 1");
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  EXPECT_EQ(error_number(run(*b, "SET LOCK_TIMEOUT 0; SELECT SUM(v) FROM dbo.big")), 1222);
  must(*w.observer, "ALTER DATABASE shop SET READ_COMMITTED_SNAPSHOT ON");
  EXPECT_EQ(scalar(*b, "SELECT SUM(v) FROM dbo.big"), 6);
  must(*a, "COMMIT TRANSACTION");
  EXPECT_EQ(scalar(*b, "SELECT SUM(v) FROM dbo.big"), 105);
}

TEST(EngineLockingTest, AReaderDoesNotSeeARolledBackChange) {
  // Given A's uncommitted delete of row 3 and insert of row 5, B's count should wait and, after
  // A's rollback, count the rows as they were.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; DELETE FROM dbo.t WHERE id = 3; INSERT INTO dbo.t VALUES (5, 5)");
  auto pending = w.blocked_behind(*a, *b, "SELECT COUNT(*), SUM(v) FROM dbo.t", "LCK_M_S");
  must(*a, "ROLLBACK TRANSACTION");
  const Collected read = pending.get();
  ASSERT_EQ(read.errors, 0);
  EXPECT_EQ(as_int(read.sets.at(0).rows.at(0)[0]), 3);
  EXPECT_EQ(as_int(read.sets.at(0).rows.at(0)[1]), 6);
}

TEST(EngineLockingTest, NolockAndReadUncommittedReadDirtyRows) {
  // Given A's uncommitted update, a NOLOCK read and a READ UNCOMMITTED session should see A's
  // value without waiting.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  EXPECT_EQ(scalar(*b, "SET LOCK_TIMEOUT 0; SELECT v FROM dbo.t WITH (NOLOCK) WHERE id = 1"), 100);
  EXPECT_EQ(scalar(*b, "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SELECT SUM(v) FROM dbo.t"), 105);
  auto c = w.session();
  EXPECT_EQ(error_number(run(*c, "SET LOCK_TIMEOUT 0; SELECT SUM(v) FROM dbo.t")), 1222);
  must(*a, "ROLLBACK TRANSACTION");
}

TEST(EngineLockingTest, LockTimeoutFailsTheStatementAndKeepsTheTransaction) {
  // Given A holding row 1, B in a transaction with LOCK_TIMEOUT 0 and then 50 ms should get
  // Msg 1222 (severity 16) for row 1 each time, keep its transaction and its other change,
  // and commit it; @@LOCK_TIMEOUT shows the setting.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  EXPECT_EQ(scalar(*b, "SELECT @@LOCK_TIMEOUT"), -1);
  must(*b, "SET LOCK_TIMEOUT 0; BEGIN TRANSACTION; UPDATE dbo.t SET v = 20 WHERE id = 2");
  for (const char* timeout : {"0", "50"}) {
    must(*b, std::string("SET LOCK_TIMEOUT ") + timeout);
    EXPECT_EQ(scalar(*b, "SELECT @@LOCK_TIMEOUT"), std::stoi(timeout));
    auto r = run(*b, "UPDATE dbo.t SET v = 10 WHERE id = 1");
    ASSERT_TRUE(r.error());
    EXPECT_EQ(r.error()->number, 1222);
    EXPECT_EQ(r.error()->severity, 16);
    EXPECT_EQ(r.error()->text, "Lock request time out period exceeded.");
    EXPECT_EQ(scalar(*b, "SELECT @@TRANCOUNT"), 1);
  }
  must(*b, "UPDATE dbo.t SET v = 30 WHERE id = 3; COMMIT TRANSACTION");
  must(*a, "COMMIT TRANSACTION");
  EXPECT_EQ(w.value(1), 100);
  EXPECT_EQ(w.value(2), 20);
  EXPECT_EQ(w.value(3), 30);
  auto bad = run(*b, "SET LOCK_TIMEOUT -2");
  ASSERT_TRUE(bad.error());
}

TEST(EngineLockingTest, ADeadlockRollsBackOneVictimAndTheOtherProceeds) {
  // Given A holding row 1 and B holding row 2, A waiting for row 2: B's request for row 1
  // closes the cycle; B should be the victim (Msg 1205, severity 13, its transaction rolled
  // back, the rest of its batch not run) and A should then get row 2 and commit.
  World w;
  auto a = w.session(), b = w.session();
  const int b_id = spid(*b);
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 10 WHERE id = 1");
  must(*b, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 200 WHERE id = 2");
  auto a_pending = w.blocked_behind(*b, *a, "UPDATE dbo.t SET v = 20 WHERE id = 2", "LCK_M_X");
  auto victim = run(*b, "UPDATE dbo.t SET v = 100 WHERE id = 1; UPDATE dbo.t SET v = 300 WHERE id = 3");
  ASSERT_TRUE(victim.error());
  EXPECT_EQ(victim.error()->number, 1205);
  EXPECT_EQ(victim.error()->severity, 13);
  EXPECT_EQ(victim.error()->text, "Transaction (Process ID " + std::to_string(b_id) +
                                      ") was deadlocked on lock resources with another process and has been chosen as the"
                                      " deadlock victim. Rerun the transaction.");
  EXPECT_EQ(scalar(*b, "SELECT @@TRANCOUNT"), 0);
  const Collected a_done = a_pending.get();
  EXPECT_EQ(a_done.errors, 0) << (a_done.error() ? a_done.error()->text : "");
  must(*a, "COMMIT TRANSACTION");
  EXPECT_EQ(w.value(1), 10);
  EXPECT_EQ(w.value(2), 20);
  EXPECT_EQ(w.value(3), 3) << "the victim's batch stops at the deadlock";
}

TEST(EngineLockingTest, ClosingASessionRollsBackAndReleasesItsLocks) {
  // Given A's open transaction and B waiting for its row, closing A's connection should roll
  // A back and let B apply on the value from before A.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1");
  auto pending = w.blocked_behind(*a, *b, "UPDATE dbo.t SET v = v + 5 WHERE id = 1", "LCK_M_X");
  a.reset();
  EXPECT_EQ(pending.get().errors, 0);
  EXPECT_EQ(w.value(1), 6);
}

TEST(EngineLockingTest, ReadCommittedSnapshotReadsTheLastCommittedVersionWritersStillWait) {
  // Given READ_COMMITTED_SNAPSHOT ON and A's uncommitted update, delete and insert, B should
  // read the committed rows at once, typed as the table declares them; B's update of A's row
  // should still wait (1222 with LOCK_TIMEOUT 0). sys.databases shows the option.
  World w;
  must(*w.observer, "ALTER DATABASE shop SET READ_COMMITTED_SNAPSHOT ON");
  EXPECT_EQ(scalar(*w.observer, "SELECT CAST(is_read_committed_snapshot_on AS int) FROM sys.databases WHERE name = N'shop'"), 1);
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1; DELETE FROM dbo.t WHERE id = 2;"
           " INSERT INTO dbo.t VALUES (7, 7)");
  must(*b, "SET LOCK_TIMEOUT 0");
  auto r = must(*b, "SELECT id, v FROM dbo.t ORDER BY id");
  ASSERT_EQ(r.sets.at(0).rows.size(), 3u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 1);
  EXPECT_EQ(as_int(r.sets[0].rows[1][0]), 2);
  EXPECT_EQ(as_int(r.sets[0].rows[2][0]), 3);
  EXPECT_EQ(r.sets[0].columns.at(1).type.type, SqlType::int_);
  EXPECT_EQ(scalar(*a, "SELECT v FROM dbo.t WHERE id = 1"), 100) << "a transaction reads its own changes";
  EXPECT_EQ(error_number(run(*b, "UPDATE dbo.t SET v = 5 WHERE id = 1")), 1222);
  must(*a, "COMMIT TRANSACTION");
  EXPECT_EQ(scalar(*b, "SELECT v FROM dbo.t WHERE id = 1"), 100);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM dbo.t"), 3);
}

TEST(EngineLockingTest, SnapshotIsolationNeedsTheDatabaseOption) {
  // Given a database without ALLOW_SNAPSHOT_ISOLATION, a SNAPSHOT transaction's first read of
  // a table should fail with Msg 3952.
  World w;
  auto b = w.session();
  must(*b, "SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRANSACTION");
  auto r = run(*b, "SELECT v FROM dbo.t WHERE id = 1");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 3952);
  EXPECT_EQ(r.error()->severity, 16);
  EXPECT_EQ(r.error()->text, "Snapshot isolation transaction failed accessing database 'shop' because snapshot isolation is"
                             " not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.");
  EXPECT_EQ(error_number(run(*b, "UPDATE dbo.t SET v = 9 WHERE id = 1")), 3952);
  must(*b, "ROLLBACK TRANSACTION");
  auto state = must(*w.observer, "SELECT snapshot_isolation_state, snapshot_isolation_state_desc FROM sys.databases WHERE name = N'shop'");
  EXPECT_EQ(as_int(state.sets.at(0).rows.at(0)[0]), 0);
  EXPECT_EQ(as_str(state.sets.at(0).rows.at(0)[1]), "OFF");
}

TEST(EngineLockingTest, SnapshotSeesItsStartAndAnUpdateConflictAborts) {
  // Given ALLOW_SNAPSHOT_ISOLATION ON and B's SNAPSHOT transaction that has read row 1, A's
  // committed changes should stay invisible to B, B's own update of row 2 should be seen by
  // B, and B's update of row 1 (changed by A since B's snapshot) should fail with Msg 3960 and
  // roll B's transaction back.
  World w;
  must(*w.observer, "ALTER DATABASE shop SET ALLOW_SNAPSHOT_ISOLATION ON");
  auto state = must(*w.observer, "SELECT snapshot_isolation_state, snapshot_isolation_state_desc FROM sys.databases WHERE name = N'shop'");
  EXPECT_EQ(as_int(state.sets.at(0).rows.at(0)[0]), 1);
  EXPECT_EQ(as_str(state.sets.at(0).rows.at(0)[1]), "ON");
  auto a = w.session(), b = w.session();
  must(*b, "SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRANSACTION");
  EXPECT_EQ(scalar(*b, "SELECT v FROM dbo.t WHERE id = 1"), 1);
  must(*a, "UPDATE dbo.t SET v = 100 WHERE id = 1; INSERT INTO dbo.t VALUES (8, 8)");
  EXPECT_EQ(scalar(*b, "SELECT v FROM dbo.t WHERE id = 1"), 1);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM dbo.t"), 3);
  must(*b, "UPDATE dbo.t SET v = 22 WHERE id = 2");
  EXPECT_EQ(scalar(*b, "SELECT v FROM dbo.t WHERE id = 2"), 22);
  auto conflict = run(*b, "UPDATE dbo.t SET v = 11 WHERE id = 1");
  ASSERT_TRUE(conflict.error());
  EXPECT_EQ(conflict.error()->number, 3960);
  EXPECT_EQ(conflict.error()->severity, 16);
  EXPECT_EQ(conflict.error()->text,
            "Snapshot isolation transaction aborted due to update conflict. You cannot use snapshot isolation to access table"
            " 'dbo.t' directly or indirectly in database 'shop' to update, delete, or insert the row that has been modified"
            " or deleted by another transaction. Retry the transaction or change the isolation level for the update/delete"
            " statement.");
  EXPECT_EQ(scalar(*b, "SELECT @@TRANCOUNT"), 0);
  EXPECT_EQ(w.value(1), 100);
  EXPECT_EQ(w.value(2), 2) << "the aborted transaction's change is rolled back";
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM dbo.t"), 4) << "a new transaction sees what is committed now";
}

TEST(EngineLockingTest, BackupLogCatalogAndRequestReadsNeverWaitForRowLocks) {
  // Given A's open transaction holding X locks, another session that may not wait at all
  // (LOCK_TIMEOUT 0) should still back the database up, read fn_dblog, msdb, the catalog and
  // sys.dm_exec_requests: none of them takes row locks, as in SQL Server.
  World w;
  auto a = w.session(), b = w.session();
  must(*a, "BEGIN TRANSACTION; UPDATE dbo.t SET v = 100 WHERE id = 1; INSERT INTO dbo.t VALUES (9, 9)");
  must(*b, "SET LOCK_TIMEOUT 0");
  must(*b, "BACKUP DATABASE shop TO DISK = N'" + w.dir + "/shop.bak' WITH CHECKSUM");
  EXPECT_GT(scalar(*b, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_MODIFY_ROW'"), 0);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM msdb.dbo.backupset WHERE database_name = N'shop'"), 1);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM sys.tables WHERE name = N't'"), 1);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = N't'"), 2);
  EXPECT_EQ(scalar(*b, "SELECT COUNT(*) FROM sys.databases WHERE name = N'shop'"), 1);
  EXPECT_GE(scalar(*b, "SELECT COUNT(*) FROM sys.dm_exec_requests"), 1);
  must(*a, "COMMIT TRANSACTION");
}

TEST(EngineLockingTest, IsolationLevelsThatNeedRangeLocksAreRefused) {
  // Given the sandbox's row locks only, REPEATABLE READ and SERIALIZABLE should be refused
  // with 40517 naming the level, not run silently as READ COMMITTED.
  World w;
  for (const std::string level : {"REPEATABLE READ", "SERIALIZABLE"}) {
    auto r = run(*w.observer, "SET TRANSACTION ISOLATION LEVEL " + level);
    ASSERT_TRUE(r.error()) << level;
    EXPECT_EQ(r.error()->number, 40517);
    EXPECT_NE(r.error()->text.find("SET TRANSACTION ISOLATION LEVEL " + level), std::string::npos) << r.error()->text;
  }
  must(*w.observer, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
}
