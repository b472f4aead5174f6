// What `validate` journals for the cutover to build on: a keyed table whose every difference was
// named keeps those keys (the cutover compares them again with the changed rows); a table with
// differences counted but not named keeps none (compared whole).
#include "migrate/validation_history.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "migrate/sqlite_journal.hpp"

using namespace m2r;
namespace fs = std::filesystem;

namespace {

TableComparison differing(const std::string& table, std::size_t named, std::int64_t counted) {
  TableComparison t;
  t.table = table;
  t.source = TableFingerprint{table, 10, {}};
  t.target = TableFingerprint{table, 10, {}};
  t.method = "primary key (OrderId, LineNumber)";
  t.key_columns = {"OrderId", "LineNumber"};
  for (std::int64_t i = 0; i < counted; ++i) {
    t.differences.add({DifferenceKind::differs, {std::to_string(i), "1"}, 1}, named);
  }
  t.problem = describe_differences(t);
  return t;
}

}  // namespace

TEST(ValidationHistoryTest, NamedDifferencesOfAKeyedTableAreKeptAndCountedOnesAreNot) {
  const auto dir = fs::temp_directory_path() / ("m2r-history-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto journal = SqliteJournal::open((dir / "m.journal").string());
  ASSERT_TRUE(journal) << journal.error().message;
  ValidationReport report;
  report.tables = {differing("dbo.OrderLines", 100, 2), differing("dbo.Orders", 1, 3)};
  ASSERT_TRUE(record_validation(**journal, report, "00000020:00000010:0001"));
  const auto last = last_validations(**journal);
  ASSERT_TRUE(last) << last.error().message;
  const auto& lines = last->at("dbo.OrderLines");
  EXPECT_FALSE(lines.equal);
  ASSERT_TRUE(lines.differing_keys.has_value());
  EXPECT_EQ(*lines.differing_keys, (std::vector<KeyValues>{{"0", "1"}, {"1", "1"}}));
  EXPECT_FALSE(last->at("dbo.Orders").differing_keys.has_value()) << "2 of 3 differences were not named";
  fs::remove_all(dir);
}
