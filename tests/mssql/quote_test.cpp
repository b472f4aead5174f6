#include "mssql/quote.hpp"

#include <gtest/gtest.h>

namespace m2r::mssql {
namespace {

TEST(QuoteNameTest, PlainNameIsBracketed) {
  // Given an ordinary name, QUOTENAME brackets it.
  EXPECT_EQ(quote_name("Sales").value(), "[Sales]");
  EXPECT_EQ(quote_name("").value(), "[]");
}

TEST(QuoteNameTest, ClosingBracketIsDoubled) {
  // Given names containing ']', should double each one and leave '[' alone, as QUOTENAME('a]b[c') = [a]]b[c].
  EXPECT_EQ(quote_name("a]b[c").value(), "[a]]b[c]");
  EXPECT_EQ(quote_name("]]").value(), "[]]]]]");
  EXPECT_EQ(quote_name("x'; DROP TABLE t; --").value(), "[x'; DROP TABLE t; --]");
}

TEST(QuoteNameTest, OneHundredTwentyEightCharactersAreAllowed) {
  // Given a name of exactly 128 characters (even with ']' that doubles past 128), should quote it.
  const std::string name(127, 'n');
  EXPECT_EQ(quote_name(name + "]").value(), "[" + name + "]]]");
}

TEST(QuoteNameTest, LongerNamesAreInvalidInput) {
  // Given 129 characters, QUOTENAME returns NULL: should be invalid input with a hint.
  const auto r = quote_name(std::string(129, 'n'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(r.error().message.find("128"), std::string::npos);
  EXPECT_FALSE(r.error().hint.empty());
}

TEST(QuoteNameTest, LimitCountsCharactersNotBytes) {
  // Given 128 two-byte UTF-8 characters (256 bytes), should still be within the limit;
  // 65 characters outside the BMP are 130 UTF-16 units, over it.
  std::string accented;
  for (int i = 0; i < 128; ++i) accented += "\xC3\xA9";  // é
  EXPECT_TRUE(quote_name(accented));
  std::string emoji;
  for (int i = 0; i < 65; ++i) emoji += "\xF0\x9F\x98\x80";  // U+1F600
  EXPECT_FALSE(quote_name(emoji));
  EXPECT_EQ(utf16_length(emoji), 130u);
}

TEST(QuoteStringLiteralTest, QuotesAreDoubledInsideNPrefix) {
  // Given text with single quotes, should produce an N'' literal with each quote doubled.
  EXPECT_EQ(quote_string_literal("C:\\backup\\it's.bak"), "N'C:\\backup\\it''s.bak'");
  EXPECT_EQ(quote_string_literal(""), "N''");
  EXPECT_EQ(quote_string_literal("'"), "N''''");
}

}  // namespace
}  // namespace m2r::mssql
