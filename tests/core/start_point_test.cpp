#include "core/start_point.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace m2r;

namespace {

// A tiny log builder: LSNs in one VLF, one block per record, so order is obvious.
struct LogBuilder {
  std::vector<LogRecord> records;
  std::uint32_t block = 0x10;
  Lsn next() { return Lsn(0x25, block++, 1); }
  Lsn begin(const std::string& id, const std::string& name = "user_transaction") {
    const Lsn l = next();
    records.push_back({l, LogOperation::begin_xact, id, name, ""});
    return l;
  }
  Lsn write(const std::string& id, const std::string& table) {
    const Lsn l = next();
    records.push_back({l, LogOperation::other, id, "", table});
    return l;
  }
  Lsn commit(const std::string& id) {
    const Lsn l = next();
    records.push_back({l, LogOperation::commit_xact, id, "", ""});
    return l;
  }
  Lsn abort(const std::string& id) {
    const Lsn l = next();
    records.push_back({l, LogOperation::abort_xact, id, "", ""});
    return l;
  }
};

BackupSetLsns backup_ending_at(Lsn first, Lsn end) {
  BackupSetLsns b;
  b.first_lsn = first;
  b.checkpoint_lsn = first;
  b.database_backup_lsn = first;
  b.last_lsn = end;
  return b;
}

}  // namespace

TEST(StartPointTest, LongTransactionOpenAcrossTheBackupEndIsCaptured) {
  // Given a transaction that began before the differential base and commits after the
  // backup's end, we should start at its begin (the common recipe would lose it).
  LogBuilder log;
  const Lsn first = log.begin("0000:00000001", "INSERT");
  log.write("0000:00000001", "dbo.Orders");
  log.commit("0000:00000001");
  const Lsn long_begin = log.begin("0000:00000002");
  log.write("0000:00000002", "dbo.Orders");
  const Lsn diff_base = log.begin("0000:00000003", "Backup:CommitDifferentialBase");
  log.commit("0000:00000003");
  const Lsn end = log.next();  // E: the backup ends here
  log.write("0000:00000002", "dbo.Orders");
  log.commit("0000:00000002");
  const Lsn after = log.begin("0000:00000004", "UPDATE");
  log.commit("0000:00000004");

  auto d = choose_start_point(backup_ending_at(first, end), log.records, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->start, long_begin);
  ASSERT_EQ(d->open_at_backup_end.size(), 1u);
  EXPECT_EQ(d->open_at_backup_end[0].transaction_id, "0000:00000002");
  ASSERT_TRUE(d->differential_base);
  EXPECT_EQ(*d->differential_base, diff_base);
  ASSERT_EQ(d->lost_by_common_recipe.size(), 1u) << "the recipe's start point would lose the long transaction";
  // The differential-base transaction began after S and committed before E: replayed harmlessly.
  ASSERT_EQ(d->replayed.size(), 1u);
  EXPECT_EQ(d->replayed[0].transaction_id, "0000:00000003");
  EXPECT_LT(d->start, after);
}

TEST(StartPointTest, OldestOfSeveralOpenTransactionsWins) {
  LogBuilder log;
  const Lsn a = log.begin("0000:0000000a");
  const Lsn b = log.begin("0000:0000000b");
  log.commit("0000:0000000b");
  const Lsn c = log.begin("0000:0000000c");
  const Lsn end = log.next();
  log.commit("0000:0000000c");
  log.commit("0000:0000000a");
  auto d = choose_start_point(backup_ending_at(a, end), log.records, {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->start, a);
  EXPECT_EQ(d->open_at_backup_end.size(), 2u);
  EXPECT_EQ(d->replayed.size(), 1u);  // b
  (void)b;
  (void)c;
}

TEST(StartPointTest, NothingOpenStartsAtTheLastBeginBeforeTheEnd) {
  // Given an idle moment at E, we should start at the last begin before E: every later
  // transaction is captured, and only that one (already in the backup) is replayed.
  LogBuilder log;
  const Lsn first = log.begin("0000:00000001", "INSERT");
  log.commit("0000:00000001");
  const Lsn diff_base = log.begin("0000:00000002", "Backup:CommitDifferentialBase");
  log.commit("0000:00000002");
  const Lsn end = log.next();
  log.begin("0000:00000003", "INSERT");
  log.commit("0000:00000003");
  auto d = choose_start_point(backup_ending_at(first, end), log.records, {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->start, diff_base);
  EXPECT_TRUE(d->open_at_backup_end.empty());
  EXPECT_TRUE(d->lost_by_common_recipe.empty());
  EXPECT_EQ(d->replayed.size(), 1u);
}

TEST(StartPointTest, AbortedTransactionsAreNeitherOpenNorReplayed) {
  LogBuilder log;
  const Lsn first = log.begin("0000:00000001");
  log.write("0000:00000001", "dbo.T");
  log.abort("0000:00000001");
  const Lsn end = log.next();
  auto d = choose_start_point(backup_ending_at(first, end), log.records, {});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->open_at_backup_end.empty());
  EXPECT_TRUE(d->replayed.empty());
}

TEST(StartPointTest, WarnsWhenReplayTouchesTablesWithoutPrimaryKey) {
  LogBuilder log;
  const Lsn open = log.begin("0000:00000001");
  log.begin("0000:00000002", "INSERT");
  log.write("0000:00000002", "dbo.AuditLog");
  log.commit("0000:00000002");
  const Lsn end = log.next();
  log.commit("0000:00000001");
  auto d = choose_start_point(backup_ending_at(open, end), log.records, {"dbo.AuditLog"});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->replayed_tables_without_pk, std::set<std::string>{"dbo.AuditLog"});
  const bool named = std::any_of(d->warnings.begin(), d->warnings.end(),
                                 [](const std::string& w) { return w.find("dbo.AuditLog") != std::string::npos; });
  EXPECT_TRUE(named) << "a warning should name the table without a primary key";
}

TEST(StartPointTest, RefusesWhenAnOpenTransactionBeganBeforeTheVisibleLog) {
  // Given records of a transaction whose begin is gone and which had not ended by E, no
  // safe start exists.
  LogBuilder log;
  log.write("0000:00000009", "dbo.T");  // its begin is not visible
  const Lsn first = log.begin("0000:00000001");
  log.commit("0000:00000001");
  const Lsn end = log.next();
  log.commit("0000:00000009");
  auto d = choose_start_point(backup_ending_at(first, end), log.records, {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(d.error().message.find("0000:00000009"), std::string::npos);
}

TEST(StartPointTest, RefusesWhenTheLogStartsAfterTheBackupEnd) {
  LogBuilder log;
  const Lsn end = log.next();
  log.begin("0000:00000001");
  auto d = choose_start_point(backup_ending_at(end, end), log.records, {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::prerequisite);
}

TEST(StartPointTest, NoLossNoDuplicationPropertyOverRandomLogs) {
  // Property (docs/facts.md §2): with S chosen, every committed transaction is either in the
  // backup (ended before E) or replayed (began at or after S), and every transaction that
  // committed at or after E began at or after S (so CDC sees it).
  std::mt19937 rng(99);
  for (int round = 0; round < 500; ++round) {
    LogBuilder log;
    std::vector<std::string> open;
    int next_id = 1;
    std::optional<Lsn> end;
    const int length = 10 + static_cast<int>(rng() % 40);
    const int end_at = 3 + static_cast<int>(rng() % (length - 3));
    for (int i = 0; i < length; ++i) {
      if (i == end_at) end = log.next();
      const auto roll = rng() % 3;
      if (roll == 0 || open.empty()) {
        const std::string id = fmt::format("0000:{:08x}", next_id++);
        log.begin(id);
        open.push_back(id);
      } else {
        const auto k = rng() % open.size();
        if (roll == 1) log.commit(open[k]); else log.abort(open[k]);
        open.erase(open.begin() + static_cast<long>(k));
      }
    }
    auto d = choose_start_point(backup_ending_at(log.records.front().lsn, *end), log.records, {});
    ASSERT_TRUE(d) << d.error().message;
    for (const auto& t : transactions_of(log.records)) {
      if (!t.committed) continue;
      const bool in_backup = *t.end < *end;
      const bool captured = t.begin >= d->start;
      EXPECT_TRUE(in_backup || captured) << "lost transaction " << t.transaction_id;
    }
  }
}
