// The T-SQL of the canonical row hash and of the keyset walk (core/row_hash.hpp).
#include "core/row_hash.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

ColumnInfo col(std::string name, std::string type, int max_length = 0, int precision = 0, int scale = 0, bool nullable = true) {
  return ColumnInfo{std::move(name), std::move(type), max_length, precision, scale, nullable, false};
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST(RowHashTest, EveryColumnIsLengthPrefixedWithNullDistinctFromEmpty) {
  // Given two nullable columns, each piece should be N'N' for NULL and "<DATALENGTH>:<text>"
  // otherwise, so boundaries cannot move and '' is not NULL.
  const auto plan = row_hash_plan({col("a", "nvarchar", -1), col("b", "int", 4)});
  EXPECT_EQ(plan.expression,
            "HASHBYTES('SHA2_256', CONCAT(N'', "
            "CASE WHEN [a] IS NULL THEN N'N' ELSE CONCAT(DATALENGTH(CONVERT(nvarchar(max), [a])), N':', CONVERT(nvarchar(max), [a])) END, "
            "CASE WHEN [b] IS NULL THEN N'N' ELSE CONCAT(DATALENGTH(CONVERT(nvarchar(max), [b])), N':', CONVERT(nvarchar(max), [b])) END))");
}

TEST(RowHashTest, EachTypeIsRenderedLosslessly) {
  EXPECT_EQ(canonical_text(col("f", "float")), "CONVERT(nvarchar(max), [f], 3)");
  EXPECT_EQ(canonical_text(col("r", "real")), "CONVERT(nvarchar(max), [r], 3)");
  EXPECT_EQ(canonical_text(col("m", "money")), "CONVERT(nvarchar(max), [m], 2)");
  EXPECT_EQ(canonical_text(col("m", "smallmoney")), "CONVERT(nvarchar(max), [m], 2)");
  EXPECT_EQ(canonical_text(col("d", "datetime")), "CONVERT(nvarchar(max), [d], 121)");
  EXPECT_EQ(canonical_text(col("d", "datetime2", 8, 27, 7)), "CONVERT(nvarchar(max), [d], 121)");
  EXPECT_EQ(canonical_text(col("o", "datetimeoffset")), "CONVERT(nvarchar(max), [o])");
  EXPECT_EQ(canonical_text(col("b", "varbinary", -1)), "CONVERT(nvarchar(max), [b], 2)");
  EXPECT_EQ(canonical_text(col("i", "image")), "CONVERT(nvarchar(max), CONVERT(varbinary(max), [i]), 2)");
  EXPECT_EQ(canonical_text(col("t", "text")), "CONVERT(nvarchar(max), CONVERT(varchar(max), [t]))");
  EXPECT_EQ(canonical_text(col("n", "ntext")), "CONVERT(nvarchar(max), [n])");
  EXPECT_EQ(canonical_text(col("x", "xml")), "CONVERT(nvarchar(max), [x])");
  EXPECT_EQ(canonical_text(col("v", "varchar", 10)), "CONVERT(nvarchar(max), [v])");
  EXPECT_EQ(canonical_text(col("k", "decimal", 9, 18, 2)), "CONVERT(nvarchar(max), [k])");
  EXPECT_EQ(canonical_text(col("s", "sql_variant")), std::nullopt);
}

TEST(RowHashTest, RowversionIsLeftOutAndComputedColumnsAreHashed) {
  auto computed = col("total", "decimal", 9, 18, 2);
  computed.is_computed = true;
  const auto plan = row_hash_plan({col("id", "int", 4), col("rv", "timestamp", 8), computed});
  EXPECT_FALSE(contains(plan.expression, "[rv]"));
  EXPECT_TRUE(contains(plan.expression, "[total]"));
  EXPECT_EQ(plan.left_out(), (std::vector<std::string>{"rv (rowversion: the target generates its own values)"}));
  EXPECT_TRUE(plan.unsupported().empty());
}

TEST(RowHashTest, ATypeWithoutLosslessTextIsNamedNotSkipped) {
  const auto plan = row_hash_plan({col("id", "int", 4), col("v", "sql_variant"), col("u", "")});
  EXPECT_EQ(plan.unsupported(), (std::vector<std::string>{"v (type sql_variant has no lossless text form)",
                                                           "u (type unknown to sys.types)"}));
}

TEST(RowHashTest, WideTablesNestConcatUnderItsArgumentLimit) {
  std::vector<ColumnInfo> cols;
  for (int i = 0; i < 450; ++i) cols.push_back(col("c" + std::to_string(i), "int", 4));
  const auto plan = row_hash_plan(cols);
  // 450 pieces: three CONCATs of at most 200 under one.
  EXPECT_TRUE(contains(plan.expression, "HASHBYTES('SHA2_256', CONCAT(N'', CONCAT(N'', CASE WHEN [c0]"));
  EXPECT_TRUE(contains(plan.expression, "[c449]"));
}

TEST(RowHashTest, TypeDeclarationsReadKeysBackExactly) {
  EXPECT_EQ(type_declaration(col("a", "nvarchar", 100)), "nvarchar(50)");
  EXPECT_EQ(type_declaration(col("a", "nvarchar", -1)), "nvarchar(max)");
  EXPECT_EQ(type_declaration(col("a", "varchar", 20)), "varchar(20)");
  EXPECT_EQ(type_declaration(col("a", "decimal", 9, 18, 2)), "decimal(18,2)");
  EXPECT_EQ(type_declaration(col("a", "datetime2", 8, 27, 3)), "datetime2(3)");
  EXPECT_EQ(type_declaration(col("a", "binary", 16)), "binary(16)");
  EXPECT_EQ(type_declaration(col("a", "int", 4)), "int");
}

TEST(RowHashTest, CompositeKeysetPredicatesBindEveryValueAsAParameter) {
  // Given a key (region varchar(10), id int) and a range after ('eu', 7) through ('us', 3),
  // the WHERE clause should be the keyset form with each value bound, never spliced.
  const KeysetQueries q({"dbo", "Orders"}, {col("region", "varchar", 10, 0, 0, false), col("id", "int", 4, 10, 0, false)},
                        row_hash_plan({col("region", "varchar", 10), col("id", "int", 4)}));
  const auto s = q.row_hashes(KeyRange{KeyValues{"eu", "7"}, KeyValues{"us", "3"}});
  EXPECT_TRUE(contains(s.sql,
                       " WHERE (([region] > CONVERT(varchar(10), ?)) OR ([region] = CONVERT(varchar(10), ?) AND [id] > CONVERT(int, ?)))"
                       " AND NOT (([region] > CONVERT(varchar(10), ?)) OR ([region] = CONVERT(varchar(10), ?) AND [id] > CONVERT(int, ?)))"
                       " ORDER BY [region], [id]"))
      << s.sql;
  EXPECT_EQ(s.params, (std::vector<std::string>{"eu", "eu", "7", "us", "us", "3"}));
  EXPECT_FALSE(contains(s.sql, "'eu'"));
}

TEST(RowHashTest, DigestAggregatesOrderedRowHashesAndKeyAtPicksThePositionedRow) {
  const KeysetQueries q({"dbo", "T"}, {col("when", "datetime", 8, 23, 3, false)}, row_hash_plan({col("when", "datetime", 8)}));
  const auto d = q.digest(KeyRange{});
  EXPECT_TRUE(contains(d.sql, "SELECT COUNT_BIG(*) AS row_count, HASHBYTES('SHA2_256', STRING_AGG(CONVERT(varchar(max), c.rh, 2), '') "
                              "WITHIN GROUP (ORDER BY c.[when])) AS range_hash FROM (SELECT [when], HASHBYTES("))
      << d.sql;
  EXPECT_TRUE(d.params.empty());
  const auto k = q.key_at(KeyRange{KeyValues{"2026-12-02 10:00:00.000"}, std::nullopt}, 5000);
  EXPECT_EQ(k.sql,
            "SELECT TOP (1) CONVERT(nvarchar(max), c.[when], 121) AS [k1] FROM (SELECT TOP (5000) [when] FROM [dbo].[T] "
            "WHERE (([when] > CONVERT(datetime, ?, 121))) ORDER BY [when]) AS c ORDER BY c.[when] DESC");
  EXPECT_EQ(k.params, (std::vector<std::string>{"2026-12-02 10:00:00.000"}));
}
