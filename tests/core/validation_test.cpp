#include "core/validation.hpp"

#include <gtest/gtest.h>

using namespace m2r;

TEST(ValidationTest, NamesEveryKindOfMismatch) {
  const std::vector<TableFingerprint> src = {{"dbo.A", 10, 5, ""}, {"dbo.B", 3, 7, ""}, {"dbo.C", 1, 1, ""}, {"dbo.E", 0, std::nullopt, ""}};
  const std::vector<TableFingerprint> tgt = {{"dbo.A", 10, 5, ""}, {"dbo.B", 3, 8, ""}, {"dbo.D", 1, 1, ""}, {"dbo.E", 0, std::nullopt, ""}};
  const auto r = compare_tables(src, tgt);
  EXPECT_EQ(r.mismatches, 3);
  ASSERT_EQ(r.tables.size(), 5u);
  EXPECT_TRUE(r.tables[0].matches);                                      // A
  EXPECT_NE(r.tables[1].problem.find("checksums differ"), std::string::npos);  // B
  EXPECT_EQ(r.tables[2].problem, "missing on the target");              // C
  EXPECT_EQ(r.tables[3].problem, "exists only on the target");          // D
  EXPECT_TRUE(r.tables[4].matches);                                      // E: empty on both
}

TEST(ValidationTest, RowCountDifferenceIsReportedWithBothNumbers) {
  const auto r = compare_tables({{"dbo.A", 10, 5, ""}}, {{"dbo.A", 9, 5, ""}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.tables[0].problem, "row counts differ: source 10, target 9");
}
