#include "core/validation.hpp"

#include <gtest/gtest.h>

using namespace m2r;

TEST(ValidationTest, TablesOnOneSideAndUnreadableTablesAreMismatches) {
  const std::vector<TableFingerprint> src = {{"dbo.A", 10, ""}, {"dbo.C", 1, ""}, {"dbo.E", 0, "permission denied"}};
  const std::vector<TableFingerprint> tgt = {{"dbo.A", 10, ""}, {"dbo.D", 1, ""}, {"dbo.E", 0, ""}};
  const auto r = compare_tables(src, tgt);
  EXPECT_EQ(r.mismatches, 3);
  ASSERT_EQ(r.tables.size(), 4u);
  EXPECT_TRUE(r.tables[0].matches);                                   // A
  EXPECT_EQ(r.tables[1].problem, "missing on the target");           // C
  EXPECT_EQ(r.tables[2].problem, "exists only on the target");       // D
  EXPECT_EQ(r.tables[3].problem, "could not be read: permission denied");  // E
}

TEST(ValidationTest, RowCountDifferenceIsReportedWithBothNumbers) {
  const auto r = compare_tables({{"dbo.A", 10, ""}}, {{"dbo.A", 9, ""}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.tables[0].problem, "row counts differ: source 10, target 9");
}

TEST(ValidationTest, DifferencesAreSummarisedByKindWithTheUnnamedCounted) {
  // Given three missing rows, one extra and two differing, with only two named, the summary
  // should count each kind and say how many were not named.
  TableComparison t;
  for (int i = 0; i < 3; ++i) t.differences.add({DifferenceKind::missing_on_target, {std::to_string(i)}}, 2);
  t.differences.add({DifferenceKind::extra_on_target, {"9"}}, 2);
  t.differences.add({DifferenceKind::differs, {"5"}}, 2);
  t.differences.add({DifferenceKind::differs, {"6"}}, 2);
  EXPECT_EQ(t.differences.named.size(), 2u);
  EXPECT_EQ(describe_differences(t), "rows: 3 missing on the target, 1 extra on the target, 2 differ (2 named, 4 more counted)");
  EXPECT_EQ(describe_differences(TableComparison{}), "");
}
