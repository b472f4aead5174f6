// The rows a log record changed, as SQL Server names them: fn_dblog's [Lock Information] has an
// X lock on each row's KEY (clustered key hash) or RID (heap), and %%lockres%% gives the same
// resource for the row as it stands, on any database holding the same key.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class LockResourceTest : public ShopInstanceTest {
 protected:
  LockResourceTest() : ShopInstanceTest("lockres") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE DATABASE copy");
  }
  Collected ok(const std::string& sql) { return must(*m_s, sql); }
  // The KEY hashes ("(0123456789ab)") locked by the row records of `table` after `after_lsn`.
  std::vector<std::string> keys_locked(const std::string& table, const std::string& operation) {
    const auto r = ok("SELECT [Lock Information] FROM fn_dblog(NULL, NULL) WHERE AllocUnitName = N'" + table +
                      "' AND Operation = N'" + operation + "'");
    std::vector<std::string> out;
    const std::regex key(R"(ACQUIRE_LOCK_X KEY: (\d+):(\d+) (\([0-9a-f]{12}\)))");
    for (const auto& row : r.sets.at(0).rows) {
      const std::string info = as_str(row.at(0));
      for (std::sregex_iterator it(info.begin(), info.end(), key), end; it != end; ++it) {
        m_hobts.insert((*it)[2].str());
        out.push_back((*it)[3].str());
      }
    }
    return out;
  }
  std::string lockres(const std::string& where) {
    const auto r = ok("SELECT %%lockres%% FROM dbo.Lines WITH (INDEX(1)) WHERE " + where);
    EXPECT_EQ(r.sets.at(0).rows.size(), 1u) << where;
    return r.sets.at(0).rows.empty() ? std::string() : as_str(r.sets.at(0).rows[0][0]);
  }
  std::set<std::string> m_hobts;
};

TEST_F(LockResourceTest, ARowRecordLocksTheKeyThatLockresGivesForTheRow) {
  // Given a table with a composite clustered key, one insert, one update and one delete, each
  // record's [Lock Information] should name an X KEY lock on the table's hobt whose hash is the
  // row's %%lockres%%, and the hobt should be sys.partitions' for the clustered index.
  ok("CREATE TABLE dbo.Lines (OrderId int NOT NULL, Code nvarchar(10) NOT NULL, Qty int, PRIMARY KEY (OrderId, Code))");
  ok("INSERT INTO dbo.Lines VALUES (1, N'a', 5), (2, N'b', 6)");
  ok("UPDATE dbo.Lines SET Qty = 7 WHERE OrderId = 2");
  const std::string one = lockres("OrderId = 1");
  const std::string two = lockres("OrderId = 2");
  EXPECT_NE(one, two);
  EXPECT_TRUE(std::regex_match(one, std::regex(R"(\([0-9a-f]{12}\))"))) << one;
  EXPECT_EQ(keys_locked("dbo.Lines", "LOP_INSERT_ROWS"), (std::vector<std::string>{one, two}));
  EXPECT_EQ(keys_locked("dbo.Lines", "LOP_MODIFY_ROW"), (std::vector<std::string>{two}));
  ok("DELETE FROM dbo.Lines WHERE OrderId = 1");
  EXPECT_EQ(keys_locked("dbo.Lines", "LOP_DELETE_ROWS"), (std::vector<std::string>{one}));
  const auto p = ok("SELECT CONVERT(nvarchar(30), hobt_id) FROM sys.partitions WHERE object_id = OBJECT_ID(N'dbo.Lines') AND index_id = 1");
  ASSERT_EQ(p.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(m_hobts, (std::set<std::string>{as_str(p.sets[0].rows[0][0])}));
}

TEST_F(LockResourceTest, TheSameKeyHasTheSameLockresInAnotherDatabaseAndSelectsItsRow) {
  // Given the same key in a second database (as on a migration's target), %%lockres%% should be
  // equal there, and a WHERE %%lockres%% IN (...) should select exactly the rows named.
  ok("CREATE TABLE dbo.Lines (OrderId int NOT NULL, Code nvarchar(10) NOT NULL, Qty int, PRIMARY KEY (OrderId, Code))");
  ok("INSERT INTO dbo.Lines VALUES (1, N'a', 5), (2, N'b', 6), (3, N'c', 7)");
  const std::string two = lockres("OrderId = 2");
  ok("USE copy; CREATE TABLE dbo.Lines (OrderId int NOT NULL, Code nvarchar(10) NOT NULL, Qty int, PRIMARY KEY (OrderId, Code))");
  ok("INSERT INTO dbo.Lines VALUES (3, N'c', 70), (2, N'b', 60)");
  EXPECT_EQ(lockres("OrderId = 2"), two);
  const auto r = ok("SELECT OrderId, Qty FROM dbo.Lines WITH (INDEX(1)) WHERE %%lockres%% IN (N'" + two + "', N'(000000000000)')");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(as_int(r.sets[0].rows[0][1]), 60);
}

TEST_F(LockResourceTest, AnUpdateThatMovesARowLocksBothKeysAndAnUndoLocksThemAgain) {
  // Given an update of the key itself, its record should lock the old and the new key; rolled
  // back, the compensation record should name the same rows.
  ok("CREATE TABLE dbo.Lines (OrderId int NOT NULL, Code nvarchar(10) NOT NULL, Qty int, PRIMARY KEY (OrderId, Code))");
  ok("INSERT INTO dbo.Lines VALUES (1, N'a', 5)");
  const std::string before = lockres("OrderId = 1");
  ok("UPDATE dbo.Lines SET OrderId = 9 WHERE OrderId = 1");
  const std::string after = lockres("OrderId = 9");
  EXPECT_EQ(keys_locked("dbo.Lines", "LOP_MODIFY_ROW"), (std::vector<std::string>{before, after}));
  ok("BEGIN TRAN; DELETE FROM dbo.Lines WHERE OrderId = 9; ROLLBACK TRAN;");
  EXPECT_EQ(keys_locked("dbo.Lines", "LOP_INSERT_ROWS"), (std::vector<std::string>{before, after}))
      << "the insert, then the compensation of the delete";
}

TEST_F(LockResourceTest, AHeapRowIsLockedByItsRid) {
  // Given a table without a primary key, its records should lock RIDs, not keys, and
  // %%lockres%% should give the RID form file:page:slot.
  ok("CREATE TABLE dbo.Heap (v int)");
  ok("INSERT INTO dbo.Heap VALUES (1)");
  const auto log = ok("SELECT [Lock Information] FROM fn_dblog(NULL, NULL) WHERE AllocUnitName = N'dbo.Heap'");
  ASSERT_EQ(log.sets.at(0).rows.size(), 1u);
  const std::string info = as_str(log.sets[0].rows[0][0]);
  EXPECT_NE(info.find("ACQUIRE_LOCK_X RID: "), std::string::npos) << info;
  EXPECT_EQ(info.find(" KEY: "), std::string::npos) << info;
  const auto r = ok("SELECT %%lockres%% FROM dbo.Heap");
  ASSERT_EQ(r.sets.at(0).rows.size(), 1u);
  EXPECT_TRUE(std::regex_match(as_str(r.sets[0].rows[0][0]), std::regex(R"(1:\d+:\d+)"))) << as_str(r.sets[0].rows[0][0]);
  EXPECT_NE(info.find(":" + as_str(r.sets[0].rows[0][0])), std::string::npos) << info;
}

}  // namespace
