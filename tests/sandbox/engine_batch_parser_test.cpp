// The batch parser on its own: statement boundaries as a tree, and text that is not T-SQL
// (random token soup, deep nesting) gives a SQL Server error, never a crash or a hang.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/batch_parser.hpp"
#include "engine/sqlite_util.hpp"

using namespace sandbox;
using namespace sandbox::engine;

namespace {

TEST(EngineBatchParserTest, ControlFlowBecomesATree) {
  auto nodes = parse_batch("IF 1 = 1 BEGIN SELECT 1 SELECT 2 END ELSE PRINT 'x'\nWHILE 0 = 1 BREAK\n"
                           "BEGIN TRY SELECT 1 END TRY BEGIN CATCH SELECT 2 END CATCH");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].kind, NodeKind::if_);
  ASSERT_EQ(nodes[0].children.size(), 2u);
  EXPECT_EQ(nodes[0].children[0].kind, NodeKind::block);
  EXPECT_EQ(nodes[0].children[0].children.size(), 2u);
  EXPECT_EQ(nodes[0].children[1].stmt.text, "PRINT 'x'");
  EXPECT_EQ(nodes[1].kind, NodeKind::while_);
  EXPECT_EQ(nodes[1].stmt.text, "0 = 1");
  EXPECT_EQ(nodes[1].children[0].kind, NodeKind::break_);
  EXPECT_EQ(nodes[2].kind, NodeKind::try_catch);
  EXPECT_EQ(nodes[2].stmt.line, 3);
}

TEST(EngineBatchParserTest, StatementTextsAndLinesAreTheSources) {
  auto st = flatten_statements(parse_batch("SET NOCOUNT ON\n  UPDATE dbo.t SET v = 1 WHERE id = 2 ;\nEXEC p 1, N'a'"));
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].text, "SET NOCOUNT ON");
  EXPECT_EQ(st[1].text, "UPDATE dbo.t SET v = 1 WHERE id = 2");
  EXPECT_EQ(st[1].line, 2);
  EXPECT_EQ(st[2].text, "EXEC p 1, N'a'");
}

TEST(EngineBatchParserTest, RandomTokenSoupIsAnErrorOrAParseNeverACrash) {
  const std::vector<std::string> vocabulary = {
      "SELECT", "FROM", "WHERE", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "BEGIN", "END", "IF", "ELSE", "WHILE",
      "TRY", "CATCH", "THROW", "RAISERROR", "RETURN", "BREAK", "CONTINUE", "EXEC", "DECLARE", "@v", "=", "(", ")", ",", ";",
      "CASE", "WHEN", "THEN", "AND", "OR", "NOT", "EXISTS", "IN", "IS", "NULL", "1", "'s'", "t", "dbo.t", "+", "-", "*", "ON",
      "OFF", "NOCOUNT", "WITH", "AS", "TRAN", "COMMIT", "ROLLBACK", "GO", "CREATE", "PROCEDURE", "TABLE", "MERGE", "LIKE",
      "BETWEEN", "ORDER", "BY", "GROUP", "UNION", "ALL", "TOP", "JOIN", "x:", "GOTO", "PRINT", "USE", "[a b]", "/*", "*/", "--",
      "\n"};
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string sql;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) sql += vocabulary[rng() % vocabulary.size()] + " ";
    try {
      (void)parse_batch(sql);
    } catch (const SqlError& e) {
      EXPECT_GE(e.msg.severity, 15) << sql;
      EXPECT_FALSE(e.msg.text.empty()) << sql;
    }
  }
}

TEST(EngineBatchParserTest, DeepNestingIsMsg191NotAStackOverflow) {
  std::string sql = "SELECT ";
  for (int k = 0; k < 100000; ++k) sql += "- ";
  sql += "1";
  try {
    (void)parse_batch(sql);
    FAIL() << "parsed";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.msg.number, 191);
  }
  std::string blocks;
  for (int k = 0; k < 100000; ++k) blocks += "BEGIN ";
  try {
    (void)parse_batch(blocks);
    FAIL() << "parsed";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.msg.number, 191);
  }
}

}  // namespace
