#include "core/tsql.hpp"

#include <gtest/gtest.h>

using namespace m2r;

TEST(TsqlTest, QuoteNameDoublesClosingBrackets) {
  EXPECT_EQ(tsql::quote_name("Sales").value(), "[Sales]");
  EXPECT_EQ(tsql::quote_name("a]b").value(), "[a]]b]");
  EXPECT_EQ(tsql::quote_name("x'; DROP TABLE t;--").value(), "[x'; DROP TABLE t;--]");
  EXPECT_EQ(tsql::quote_name("").value(), "[]");
  EXPECT_TRUE(tsql::quote_name(std::string(128, 'a')));
  EXPECT_FALSE(tsql::quote_name(std::string(129, 'a')));
}

TEST(TsqlTest, QuoteLiteralDoublesSingleQuotes) {
  EXPECT_EQ(tsql::quote_literal("D:\\Backups\\O'Brien.bak"), "N'D:\\Backups\\O''Brien.bak'");
}

TEST(TsqlTest, BackupStatementStripesAndOptions) {
  // Given two stripes, the statement should name both disks and never be COPY_ONLY (docs/facts.md §8).
  const auto sql = tsql::backup_database({"Sales", {"D:\\b\\s_1.bak", "D:\\b\\s_2.bak"}, true, 5});
  EXPECT_EQ(sql, "BACKUP DATABASE [Sales] TO DISK = N'D:\\b\\s_1.bak', DISK = N'D:\\b\\s_2.bak' WITH CHECKSUM, "
                 "COMPRESSION, FORMAT, INIT, STATS = 5");
  EXPECT_EQ(sql.find("COPY_ONLY"), std::string::npos);
}

TEST(TsqlTest, CutoverStatementsRestoreTrustedConstraints) {
  const tsql::TableName t{"dbo", "Order Lines"};
  EXPECT_EQ(tsql::check_constraint(t, "FK_x"), "ALTER TABLE [dbo].[Order Lines] WITH CHECK CHECK CONSTRAINT [FK_x]");
  EXPECT_EQ(tsql::disable_trigger(t, "trg"), "ALTER TABLE [dbo].[Order Lines] DISABLE TRIGGER [trg]");
  EXPECT_EQ(tsql::reseed_identity(t), "DBCC CHECKIDENT (N'[dbo].[Order Lines]', RESEED)");
}
