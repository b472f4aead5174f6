// Which tables cutover compares again: only a table proven unchanged is reused (equal at its
// last validation, the log still reaching back to the position read before it, no record since
// naming it); anything unknown is compared.
#include "core/incremental_validation.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

ValidatedTable equal_at(const std::string& table, const std::string& lsn, std::int64_t rows = 10) {
  ValidatedTable v;
  v.table = table;
  v.equal = true;
  v.rows = rows;
  v.method = "primary key (id)";
  v.source_lsn = lsn;
  v.at = "2026-12-02T16:00:00Z";
  return v;
}

const std::vector<std::string> k_tables = {"dbo.Customers", "dbo.Orders", "dbo.OrderEvents"};

}  // namespace

TEST(IncrementalValidationTest, OnlyTheTablesTheLogNamesSinceTheirValidationAreComparedAgain) {
  const std::map<std::string, ValidatedTable> last = {{"dbo.Customers", equal_at("dbo.Customers", "00000020:00000010:0001")},
                                                       {"dbo.Orders", equal_at("dbo.Orders", "00000020:00000010:0001", 90)},
                                                       {"dbo.OrderEvents", equal_at("dbo.OrderEvents", "00000020:00000010:0001")}};
  // SQL Server names the unit schema.table.index; the rehearsal world schema.table.
  const LogChanges log{"0000001f:00000100:0001",
                       {{"dbo.Customers.PK_Customers", "00000021:00000010:0002"}, {"sys.sysallocunits.clust", "00000021:00000010:0003"}}};
  const auto plan = plan_revalidation(k_tables, last, log);
  EXPECT_EQ(plan.compare, (std::set<std::string>{"dbo.Customers"}));
  ASSERT_EQ(plan.reused.size(), 2u);
  EXPECT_EQ(plan.reused[0].table, "dbo.Orders");
  EXPECT_TRUE(plan.reused[0].matches);
  EXPECT_EQ(plan.reused[0].source->rows, 90);
  EXPECT_EQ(plan.reused[0].method, "primary key (id)");
  EXPECT_NE(plan.reused[0].compared.find("2026-12-02T16:00:00Z"), std::string::npos) << plan.reused[0].compared;
  EXPECT_NE(plan.reused[0].compared.find("00000020:00000010:0001"), std::string::npos);
}

TEST(IncrementalValidationTest, ARecordAtOrBeforeThePositionIsNotAChangeSinceButOneAfterIs) {
  const std::map<std::string, ValidatedTable> last = {{"dbo.Orders", equal_at("dbo.Orders", "00000020:00000010:0005")}};
  const auto before = plan_revalidation({"dbo.Orders"}, last, LogChanges{"00000001:00000010:0001", {{"dbo.Orders", "00000020:00000010:0005"}}});
  EXPECT_TRUE(before.compare.empty());
  const auto after = plan_revalidation({"dbo.Orders"}, last, LogChanges{"00000001:00000010:0001", {{"dbo.Orders", "00000020:00000010:0006"}}});
  EXPECT_EQ(after.compare.count("dbo.Orders"), 1u);
}

TEST(IncrementalValidationTest, NamesCompareWithoutCaseAndAnotherTableWithTheSamePrefixIsNotAChange) {
  const std::map<std::string, ValidatedTable> last = {{"dbo.Orders", equal_at("dbo.Orders", "00000020:00000010:0001")}};
  const auto other_case = plan_revalidation({"dbo.Orders"}, last, LogChanges{"00000001:00000010:0001", {{"DBO.ORDERS.PK", "00000030:00000010:0001"}}});
  EXPECT_EQ(other_case.compare.count("dbo.Orders"), 1u) << "no records were read to name rows: compared whole";
  const auto longer = plan_revalidation({"dbo.Orders"}, last, LogChanges{"00000001:00000010:0001", {{"dbo.OrdersArchive", "00000030:00000010:0001"}}});
  EXPECT_TRUE(longer.compare.empty());
  EXPECT_EQ(longer.reused.size(), 1u);
}

TEST(IncrementalValidationTest, EverythingUnprovenIsCompared) {
  std::map<std::string, ValidatedTable> last = {{"dbo.Customers", equal_at("dbo.Customers", "00000020:00000010:0001")},
                                                {"dbo.Orders", equal_at("dbo.Orders", "00000020:00000010:0001")},
                                                {"dbo.OrderEvents", equal_at("dbo.OrderEvents", "")}};
  last["dbo.Orders"].equal = false;  // differed at its last validation (lag, or worse)
  const LogChanges quiet{"00000001:00000010:0001", {}};
  // No position for OrderEvents (fn_dblog was not readable then); Orders differed.
  EXPECT_EQ(plan_revalidation(k_tables, last, quiet).compare, (std::set<std::string>{"dbo.Orders", "dbo.OrderEvents"}));
  // A table never validated is compared.
  EXPECT_EQ(plan_revalidation({"dbo.New"}, last, quiet).compare, (std::set<std::string>{"dbo.New"}));
  // The log no longer reaches back to the position (truncated by log backups since).
  EXPECT_EQ(plan_revalidation({"dbo.Customers"}, last, LogChanges{"00000020:00000010:0002", {}}).compare.count("dbo.Customers"), 1u);
  // The log could not be read at all.
  EXPECT_EQ(plan_revalidation(k_tables, last, std::nullopt).compare.size(), 3u);
}

TEST(IncrementalValidationTest, TheLogIsReadFromTheOldestEqualValidation) {
  std::map<std::string, ValidatedTable> last = {{"a.t", equal_at("a.t", "00000030:00000010:0001")},
                                                {"b.t", equal_at("b.t", "00000020:00000010:0001")},
                                                {"c.t", equal_at("c.t", "00000010:00000010:0001")}};
  last["c.t"].equal = false;
  EXPECT_EQ(oldest_position(last), "00000020:00000010:0001");
  EXPECT_EQ(oldest_position({}), "");
}
