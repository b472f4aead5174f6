// Backup consistency (docs/facts.md §2): a full backup taken under a concurrent workload, with a
// transaction open across it, restores exactly the transactions committed by its end E; the
// log tells every later one apart by its begin and commit LSNs.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/lsn.hpp"
#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

std::string hex_of_numeric(const std::string& numeric) {
  auto l = m2r::Lsn::parse(numeric);
  EXPECT_TRUE(l.has_value()) << numeric;
  return l ? l->to_hex() : "";
}

TEST(EngineBackupTest, RestoreHoldsExactlyTheTransactionsCommittedByTheBackupEnd) {
  // Given a workload inserting rows while a full backup runs, and a transaction opened before the
  // backup and committed after it, the restored database should hold exactly the rows whose
  // transactions committed before backupset.last_lsn, and the long transaction's begin LSN should
  // lie before E and its commit LSN after.
  const std::string dir = temp_dir("backup");
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = dir;
  cfg.sa_password = "Secret#1";
  cfg.backup_throughput = 400000;  // bytes/s: the backup takes a visible while
  auto inst = open_instance(cfg);
  auto admin = login(*inst);
  must(*admin, "CREATE DATABASE shop; USE shop; CREATE TABLE dbo.Events (Id int NOT NULL PRIMARY KEY, Source nvarchar(20));");
  for (int i = 0; i < 20; ++i) must(*admin, "INSERT INTO Events VALUES (" + std::to_string(i) + ", N'seed')");

  auto longtx = login(*inst, "shop");
  must(*longtx, "BEGIN TRANSACTION; INSERT INTO Events VALUES (100000, N'long');");

  std::atomic<bool> stop{false};
  std::thread workload([&] {
    auto w = login(*inst, "shop");
    int id = 1000;
    while (!stop) {
      run(*w, "INSERT INTO Events VALUES (" + std::to_string(id++) + ", N'workload')");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto b = must(*admin, "BACKUP DATABASE shop TO DISK = N'" + dir + "/shop_1.bak', DISK = N'" + dir +
                            "/shop_2.bak' WITH CHECKSUM, COMPRESSION, STATS = 10");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  workload.join();
  must(*longtx, "COMMIT TRANSACTION");

  // Progress and completion messages as SQL Server words them (docs/facts.md §10).
  int stats = 0;
  for (auto& m : b.messages) if (m.number == 3211) ++stats;
  EXPECT_GE(stats, 9);
  EXPECT_TRUE(b.has_message(4035));
  ASSERT_FALSE(b.messages.empty());
  EXPECT_EQ(b.messages.back().number, 3014);
  EXPECT_EQ(b.messages.back().text.rfind("BACKUP DATABASE successfully processed ", 0), 0u);

  auto bs = must(*admin, "SELECT TOP 1 first_lsn, last_lsn, checkpoint_lsn, database_backup_lsn, is_copy_only, type, backup_set_id"
                         " FROM msdb.dbo.backupset WHERE database_name = N'shop' ORDER BY backup_set_id DESC");
  ASSERT_EQ(bs.sets[0].rows.size(), 1u);
  const auto& row = bs.sets[0].rows[0];
  EXPECT_EQ(bs.sets[0].columns[1].type.type, SqlType::decimal);
  EXPECT_EQ(bs.sets[0].columns[1].type.precision, 25);
  const std::string first = hex_of_numeric(as_str(row[0]));
  const std::string E = hex_of_numeric(as_str(row[1]));
  EXPECT_EQ(as_int(row[4]), 0);
  EXPECT_EQ(as_str(row[5]), "D");
  auto fam = must(*admin, "SELECT COUNT(*) FROM msdb.dbo.backupmediafamily f JOIN msdb.dbo.backupset s ON s.media_set_id = f.media_set_id"
                          " WHERE s.backup_set_id = " + std::to_string(as_int(row[6])));
  EXPECT_EQ(as_int(fam.sets[0].rows[0][0]), 2);

  // The source's log: for every inserted Id, its transaction's begin and commit LSNs.
  must(*admin, "USE shop");
  auto log = must(*admin, "SELECT [Current LSN], Operation, [Transaction ID], [Transaction Name], [Row After] FROM fn_dblog(NULL, NULL)");
  std::map<std::string, std::string> begin_of, commit_of;
  std::map<std::int64_t, std::string> xact_of_id;
  std::string cdb_begin;
  for (auto& r : log.sets[0].rows) {
    const std::string lsn = as_str(r[0]), op = as_str(r[1]), x = as_str(r[2]);
    if (op == "LOP_BEGIN_XACT") {
      begin_of[x] = lsn;
      if (as_str(r[3]) == "Backup:CommitDifferentialBase") cdb_begin = lsn;
    }
    if (op == "LOP_COMMIT_XACT") commit_of[x] = lsn;
    if (op == "LOP_INSERT_ROWS") xact_of_id[nlohmann::json::parse(as_str(r[4]))["Id"].get<std::int64_t>()] = x;
  }
  ASSERT_FALSE(cdb_begin.empty());
  EXPECT_LT(cdb_begin, E);
  const std::string long_x = xact_of_id.at(100000);
  EXPECT_LT(begin_of.at(long_x), E);
  EXPECT_GT(commit_of.at(long_x), E);
  EXPECT_LE(first, begin_of.at(long_x));  // the backup's log reaches back to the oldest open transaction
  std::set<std::int64_t> expected;
  int after = 0;
  for (auto& [id, x] : xact_of_id) {
    if (commit_of.count(x) && commit_of[x] < E) expected.insert(id);
    else ++after;
  }
  EXPECT_GT(after, 0) << "the workload should have committed after the backup's end too";

  // Restore and compare.
  must(*admin, "USE master");
  auto r = must(*admin, "RESTORE DATABASE shop_copy FROM DISK = N'" + dir + "/shop_1.bak', DISK = N'" + dir + "/shop_2.bak'");
  EXPECT_TRUE(r.has_message(3014));
  auto copy = login(*inst, "shop_copy");
  auto ids = must(*copy, "SELECT Id FROM Events ORDER BY Id");
  std::set<std::int64_t> restored;
  for (auto& x : ids.sets[0].rows) restored.insert(as_int(x[0]));
  EXPECT_EQ(restored, expected);
  EXPECT_EQ(restored.count(100000), 0u);
  // Recovery wrote the rollback of the transaction open at E into the restored log.
  auto aborts = must(*copy, "SELECT COUNT(*) FROM fn_dblog(NULL, NULL) WHERE Operation = 'LOP_ABORT_XACT'");
  EXPECT_EQ(as_int(aborts.sets[0].rows[0][0]), 1);
  copy.reset();
  longtx.reset();
  admin.reset();
  inst.reset();
  std::filesystem::remove_all(dir);
}

TEST(EngineBackupTest, BackupFromNewerVersionIsRefusedWith3169) {
  // Given a backup written by SQL Server 2022, a 2019 instance should refuse it with 3169 and 3013.
  const std::string dir = temp_dir("version");
  InstanceConfig newer;
  newer.name = "new";
  newer.version = 2022;
  newer.data_dir = dir + "/new";
  newer.sa_password = "Secret#1";
  {
    auto inst = open_instance(newer);
    auto s = login(*inst);
    must(*s, "CREATE DATABASE d; BACKUP DATABASE d TO DISK = N'" + dir + "/d.bak' WITH COPY_ONLY");
  }
  InstanceConfig older = newer;
  older.name = "old";
  older.version = 2019;
  older.data_dir = dir + "/old";
  auto inst = open_instance(older);
  auto s = login(*inst);
  auto r = run(*s, "RESTORE DATABASE d FROM DISK = N'" + dir + "/d.bak'");
  EXPECT_TRUE(r.has_message(3169));
  EXPECT_TRUE(r.has_message(3013));
  s.reset();
  inst.reset();
  std::filesystem::remove_all(dir);
}

TEST(EngineBackupTest, CopyOnlyWritesNoDifferentialBaseAndLogBackupChains) {
  // Given a COPY_ONLY backup, no Backup:CommitDifferentialBase is written; a regular full backup and
  // a log backup then restore WITH NORECOVERY + RESTORE LOG to the same rows.
  const std::string dir = temp_dir("chain");
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = dir;
  cfg.sa_password = "Secret#1";
  auto inst = open_instance(cfg);
  auto s = login(*inst);
  must(*s, "CREATE DATABASE c; USE c; CREATE TABLE t (id int PRIMARY KEY, v nvarchar(10)); INSERT INTO t VALUES (1, N'a');");
  must(*s, "BACKUP DATABASE c TO DISK = N'" + dir + "/copy.bak' WITH COPY_ONLY");
  EXPECT_EQ(as_int(must(*s, "SELECT COUNT(*) FROM fn_dblog(NULL,NULL) WHERE [Transaction Name] = 'Backup:CommitDifferentialBase'").sets[0].rows[0][0]), 0);
  must(*s, "BACKUP DATABASE c TO DISK = N'" + dir + "/full.bak'");
  EXPECT_EQ(as_int(must(*s, "SELECT COUNT(*) FROM fn_dblog(NULL,NULL) WHERE [Transaction Name] = 'Backup:CommitDifferentialBase'").sets[0].rows[0][0]), 1);
  must(*s, "INSERT INTO t VALUES (2, N'b'); UPDATE t SET v = N'c' WHERE id = 1; DELETE FROM t WHERE id = 2; INSERT INTO t VALUES (3, N'd');");
  must(*s, "BACKUP LOG c TO DISK = N'" + dir + "/log.trn'");
  must(*s, "USE master; RESTORE DATABASE c2 FROM DISK = N'" + dir + "/full.bak' WITH NORECOVERY;");
  auto st = must(*s, "SELECT state_desc FROM sys.databases WHERE name = 'c2'");
  EXPECT_EQ(as_str(st.sets[0].rows[0][0]), "RESTORING");
  must(*s, "RESTORE LOG c2 FROM DISK = N'" + dir + "/log.trn' WITH RECOVERY");
  must(*s, "USE c2");
  auto rows = must(*s, "SELECT id, v FROM t ORDER BY id");
  ASSERT_EQ(rows.sets[0].rows.size(), 2u);
  EXPECT_EQ(as_str(rows.sets[0].rows[0][1]), "c");
  EXPECT_EQ(as_int(rows.sets[0].rows[1][0]), 3);
  s.reset();
  inst.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
