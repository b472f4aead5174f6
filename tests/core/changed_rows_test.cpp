// The rows the source's log shows changed, from the locks its records name; anything the locks
// do not account for makes the table compared whole, never a guess.
#include "core/changed_rows.hpp"

#include <gtest/gtest.h>

#include "core/incremental_validation.hpp"

using namespace m2r;

namespace {

const std::string k_hobt = "72057594043760640";
const std::string k_table = "dbo.Orders";

ClusteredIndex orders_index() {
  ClusteredIndex c;
  c.object_id = 245575913;
  c.hobt_ids = {k_hobt};
  return c;
}

// A row record of dbo.Orders' clustered index, as SQL Server writes it.
LogRecordLocks row(const std::string& lsn, const std::string& xact, const std::string& hash,
                   const std::string& operation = "LOP_MODIFY_ROW") {
  return {lsn, operation, "LCX_CLUSTERED", xact, "dbo.Orders.PK_Orders", "",
          "HoBt " + k_hobt + ":ACQUIRE_LOCK_IX OBJECT: 5:245575913:0 ;ACQUIRE_LOCK_IX PAGE: 5:1:280 ;ACQUIRE_LOCK_X KEY: 5:" +
              k_hobt + " " + hash};
}

LogRecordLocks begin(const std::string& lsn, const std::string& xact, const std::string& name) {
  return {lsn, "LOP_BEGIN_XACT", "LCX_NULL", xact, "", name, ""};
}

const std::string k_since = "00000020:00000010:0001";

}  // namespace

TEST(ChangedRowsTest, SqlServersLockInformationIsReadLockByLock) {
  const auto info = parse_lock_information(
      "HoBt 72057594043760640:ACQUIRE_LOCK_IX OBJECT: 8:1029578706:0 ;ACQUIRE_LOCK_IX PAGE: 8:1:154 ;ACQUIRE_LOCK_X KEY: "
      "8:72057594043760640 (8194443284A0)");
  EXPECT_EQ(info.hobt, "72057594043760640");
  ASSERT_EQ(info.locks.size(), 3u);
  EXPECT_EQ(info.locks[0].resource, "OBJECT");
  EXPECT_TRUE(info.locks[0].intent());
  EXPECT_EQ(info.locks[2].mode, "X");
  EXPECT_EQ(info.locks[2].resource, "KEY");
  EXPECT_EQ(info.locks[2].id, "8:72057594043760640");
  EXPECT_EQ(info.locks[2].hash, "(8194443284a0)") << "hashes compare as %%lockres%% prints them";
  EXPECT_TRUE(parse_lock_information("").locks.empty());
}

TEST(ChangedRowsTest, TheKeysLockedByRecordsAfterThePositionAreTheRowsChanged) {
  // Given records before and after the position, of this table and of another, the rows
  // named should be the keys the table's records after the position locked.
  const std::vector<LogRecordLocks> log = {
      row("00000020:00000010:0001", "0000:00000100", "(111111111111)"),  // at the position: not since
      row("00000020:00000011:0002", "0000:00000101", "(222222222222)", "LOP_INSERT_ROWS"),
      row("00000020:00000012:0002", "0000:00000102", "(333333333333)", "LOP_DELETE_ROWS"),
      {"00000020:00000013:0002", "LOP_MODIFY_ROW", "LCX_CLUSTERED", "0000:00000103", "dbo.OrdersArchive.PK", "",
       "HoBt 9:ACQUIRE_LOCK_X KEY: 5:9 (444444444444)"},
  };
  const auto c = changed_rows(log, k_table, orders_index(), k_since);
  ASSERT_TRUE(c.known) << c.why_unknown;
  EXPECT_EQ(c.lock_resources, (std::set<std::string>{"(222222222222)", "(333333333333)"}));
  EXPECT_EQ(c.records, 2);
}

TEST(ChangedRowsTest, LobPagesAndIndexRowsCountWithTheRowTheirTransactionLocked) {
  // A LOB value's pages and a nonclustered index's entries name no clustered key; they change
  // with the row their transaction locked, which is the row compared.
  const std::vector<LogRecordLocks> log = {
      row("00000020:00000011:0001", "0000:00000101", "(222222222222)"),
      {"00000020:00000011:0002", "LOP_INSERT_ROWS", "LCX_TEXT_MIX", "0000:00000101", "dbo.Orders.PK_Orders", "",
       "HoBt " + k_hobt + ":ACQUIRE_LOCK_IX OBJECT: 5:245575913:0"},
      {"00000020:00000011:0003", "LOP_INSERT_ROWS", "LCX_INDEX_LEAF", "0000:00000101", "dbo.Orders.IX_Status", "",
       "HoBt 777:ACQUIRE_LOCK_X KEY: 5:777 (555555555555)"},
      // allocation bookkeeping is not a change of data
      {"00000020:00000011:0004", "LOP_MODIFY_ROW", "LCX_PFS", "0000:00000104", "dbo.Orders.PK_Orders", "", ""},
  };
  const auto c = changed_rows(log, k_table, orders_index(), k_since);
  ASSERT_TRUE(c.known) << c.why_unknown;
  EXPECT_EQ(c.lock_resources, (std::set<std::string>{"(222222222222)"}));
}

TEST(ChangedRowsTest, AChangeTheLocksDoNotNameMakesTheTableComparedWhole) {
  // A clustered row record without its KEY lock (escalated).
  const std::vector<LogRecordLocks> escalated = {
      row("00000020:00000011:0001", "0000:00000101", "(222222222222)"),
      {"00000020:00000011:0002", "LOP_MODIFY_ROW", "LCX_CLUSTERED", "0000:00000101", "dbo.Orders.PK_Orders", "",
       "HoBt " + k_hobt + ":ACQUIRE_LOCK_IX OBJECT: 5:245575913:0"}};
  const auto a = changed_rows(escalated, k_table, orders_index(), k_since);
  EXPECT_FALSE(a.known);
  EXPECT_NE(a.why_unknown.find("00000020:00000011:0002"), std::string::npos) << a.why_unknown;
  // A transaction that locked the table (TABLOCK, escalation) or changed it under Sch-M.
  for (const std::string mode : {"X", "SCH_M"}) {
    const std::vector<LogRecordLocks> table_lock = {
        {"00000020:00000011:0001", "LOP_MODIFY_ROW", "LCX_CLUSTERED", "0000:00000101", "dbo.Orders.PK_Orders", "",
         "HoBt " + k_hobt + ":ACQUIRE_LOCK_" + mode + " OBJECT: 5:245575913:0 ;ACQUIRE_LOCK_X KEY: 5:" + k_hobt +
             " (222222222222)"}};
    const auto b = changed_rows(table_lock, k_table, orders_index(), k_since);
    EXPECT_FALSE(b.known) << mode;
    EXPECT_NE(b.why_unknown.find(mode + " OBJECT"), std::string::npos) << b.why_unknown;
  }
  // A LOB change in a transaction that locked no row of the table.
  const std::vector<LogRecordLocks> lob_only = {
      {"00000020:00000011:0002", "LOP_MODIFY_ROW", "LCX_TEXT_TREE", "0000:00000105", "dbo.Orders.PK_Orders", "", ""}};
  EXPECT_FALSE(changed_rows(lob_only, k_table, orders_index(), k_since).known);
  // A heap: its RIDs differ between source and target.
  const std::vector<LogRecordLocks> heap = {{"00000020:00000011:0002", "LOP_INSERT_ROWS", "LCX_HEAP", "0000:00000106",
                                             "dbo.Orders", "", "ACQUIRE_LOCK_X RID: 5:1:280:3"}};
  EXPECT_FALSE(changed_rows(heap, k_table, std::nullopt, k_since).known);
}

TEST(ChangedRowsTest, APageSplitMovesRowsWithoutChangingThem) {
  const std::vector<LogRecordLocks> log = {
      begin("00000020:00000011:0001", "0000:00000107", "SplitPage"),
      {"00000020:00000011:0002", "LOP_INSERT_ROWS", "LCX_INDEX_LEAF", "0000:00000107", "dbo.Orders.PK_Orders", "",
       "HoBt " + k_hobt + ":"},
      row("00000020:00000012:0001", "0000:00000108", "(222222222222)", "LOP_INSERT_ROWS"),
  };
  const auto c = changed_rows(log, k_table, orders_index(), k_since);
  ASSERT_TRUE(c.known) << c.why_unknown;
  EXPECT_EQ(c.lock_resources, (std::set<std::string>{"(222222222222)"}));
}

TEST(ChangedRowsTest, CutoverComparesTheChangedRowsAndTheKeysThatDifferedBefore) {
  ValidatedTable orders{"dbo.Orders", true, 100, "primary key (OrderId)", {}, k_since, "2026-12-02T16:00:00Z", {}};
  ValidatedTable lines{"dbo.OrderLines", false, 50, "primary key (OrderId, LineNumber)", {}, k_since,
                       "2026-12-02T16:00:00Z", std::vector<KeyValues>{{"7", "1"}}};
  const std::map<std::string, ValidatedTable> last = {{orders.table, orders}, {lines.table, lines}};
  LogChanges log{"00000001:00000010:0001", {{"dbo.Orders.PK_Orders", "00000020:00000011:0002"}}, {}, {}};
  log.records = std::vector<LogRecordLocks>{row("00000020:00000011:0002", "0000:00000101", "(222222222222)")};
  log.clustered[k_table] = orders_index();
  const auto plan = plan_revalidation({"dbo.Orders", "dbo.OrderLines"}, last, log);
  EXPECT_TRUE(plan.compare.empty());
  ASSERT_EQ(plan.compare_rows.count("dbo.Orders"), 1u);
  EXPECT_EQ(plan.compare_rows.at("dbo.Orders").lock_resources, (std::set<std::string>{"(222222222222)"}));
  ASSERT_EQ(plan.compare_rows.count("dbo.OrderLines"), 1u) << "differed at named keys, unchanged since";
  EXPECT_EQ(plan.compare_rows.at("dbo.OrderLines").keys, (std::vector<KeyValues>{{"7", "1"}}));
  EXPECT_TRUE(plan.compare_rows.at("dbo.OrderLines").lock_resources.empty());
  EXPECT_EQ(oldest_position(last), k_since) << "a table with named differences needs the log as well";

  // More rows than a scan costs, and a log too long to read, are compared whole, saying why.
  const auto few = plan_revalidation({"dbo.Orders"}, last, log, 0);
  EXPECT_EQ(few.compare, (std::set<std::string>{"dbo.Orders"}));
  EXPECT_NE(few.why_whole.at("dbo.Orders").find("one scan is cheaper"), std::string::npos);
  log.records.reset();
  const auto unread = plan_revalidation({"dbo.Orders"}, last, log);
  EXPECT_EQ(unread.compare, (std::set<std::string>{"dbo.Orders"}));
  EXPECT_NE(unread.why_whole.at("dbo.Orders").find("too many records"), std::string::npos);
  // Differences not all named: whole.
  auto unnamed = last;
  unnamed["dbo.OrderLines"].differing_keys.reset();
  EXPECT_EQ(plan_revalidation({"dbo.OrderLines"}, unnamed, log).compare.count("dbo.OrderLines"), 1u);
}

TEST(ChangedRowsTest, AValidationReadsTheLogFromTheOldestTransactionStillOpen) {
  // A transaction open when a validation starts may have changed rows before the log's last
  // record and commit after the validation read them: its begin is where the log is read from.
  const std::vector<TransactionRecord> records = {
      {"00000020:00000010:0001", "LOP_BEGIN_XACT", "0000:00000100"},
      {"00000020:00000011:0001", "LOP_BEGIN_XACT", "0000:00000101"},
      {"00000020:00000012:0001", "LOP_COMMIT_XACT", "0000:00000100"},
      {"00000020:00000013:0001", "LOP_BEGIN_XACT", "0000:00000102"},
  };
  EXPECT_EQ(validation_start_position(records, "00000020:00000014:0001"), "00000020:00000011:0001");
  EXPECT_EQ(validation_start_position({}, "00000020:00000014:0001"), "00000020:00000014:0001");
}
