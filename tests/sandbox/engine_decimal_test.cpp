// Unit tests of the engine's exact decimal (sandbox/engine/decimal.hpp): parsing, rounding
// half away from zero, SQL Server's result precision/scale rules and overflow.
#include <gtest/gtest.h>

#include "engine/decimal.hpp"

using sandbox::engine::Decimal;
using sandbox::engine::DecimalType;

namespace {

Decimal dec(const std::string& s) {
  auto d = Decimal::parse(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or(Decimal{});
}

std::string at(const std::string& s, int scale) {
  auto r = dec(s).rescaled(scale);
  return r ? r->to_string() : "overflow";
}

}  // namespace

TEST(EngineDecimal, ParsesTwentyFiveDigitIntegersExactly) {
  EXPECT_EQ(dec("1234567890123456789012345").to_string(), "1234567890123456789012345");
  EXPECT_EQ(dec("-99999999999999999999999999999999999999").to_string(), "-99999999999999999999999999999999999999");
  EXPECT_EQ(dec("  +0012.500 ").to_string(), "12.500");
  EXPECT_EQ(dec("12.500").scale(), 3);
  EXPECT_EQ(dec(".5").to_string(), "0.5");
  EXPECT_EQ(dec("5.").to_string(), "5");
  EXPECT_EQ(dec("1.5E3").to_string(), "1500");
  EXPECT_EQ(dec("15E-1").to_string(), "1.5");
  EXPECT_EQ(dec("-0.000").to_string(), "0.000");  // no negative zero
}

TEST(EngineDecimal, RefusesMalformedTextAndMoreThan38IntegerDigits) {
  EXPECT_FALSE(Decimal::parse("abc"));
  EXPECT_FALSE(Decimal::parse(""));
  EXPECT_FALSE(Decimal::parse("1.2.3"));
  EXPECT_FALSE(Decimal::parse("12a"));
  EXPECT_FALSE(Decimal::parse("-"));
  EXPECT_FALSE(Decimal::parse("123456789012345678901234567890123456789"));  // 39 digits
  // 39 significant digits with a fraction: the fraction is rounded away.
  EXPECT_EQ(dec("1234567890123456789012345678901234567.89").to_string(), "1234567890123456789012345678901234567.9");
}

TEST(EngineDecimal, RoundsHalfAwayFromZeroToASmallerScale) {
  EXPECT_EQ(at("2.345", 2), "2.35");
  EXPECT_EQ(at("2.344", 2), "2.34");
  EXPECT_EQ(at("-2.345", 2), "-2.35");
  EXPECT_EQ(at("0.5", 0), "1");
  EXPECT_EQ(at("-0.5", 0), "-1");
  EXPECT_EQ(at("-0.4", 0), "0");
  EXPECT_EQ(at("1.5", 3), "1.500");
  EXPECT_EQ(dec("2.99").truncated(0).to_string(), "2");
  EXPECT_EQ(dec("-2.99").truncated(0).to_string(), "-2");
}

TEST(EngineDecimal, FitsChecksPrecisionAfterRounding) {
  EXPECT_TRUE(dec("999.994").fits({5, 2}));
  EXPECT_FALSE(dec("999.995").fits({5, 2}));  // rounds to 1000.00: 6 digits
  EXPECT_FALSE(dec("12345").fits({4, 0}));
  EXPECT_TRUE(dec("-9999").fits({4, 0}));
}

TEST(EngineDecimal, ResultTypesFollowSqlServerRules) {
  EXPECT_EQ(sandbox::engine::decimal_add_type({5, 2}, {10, 4}), (DecimalType{11, 4}));
  EXPECT_EQ(sandbox::engine::decimal_mul_type({5, 2}, {10, 4}), (DecimalType{16, 6}));
  EXPECT_EQ(sandbox::engine::decimal_div_type({10, 2}, {5, 1}), (DecimalType{17, 8}));
  // Above 38: decimal(38,10) * decimal(38,10) -> integral part 67 > 32, scale 20 > 6 -> (38,6).
  EXPECT_EQ(sandbox::engine::decimal_mul_type({38, 10}, {38, 10}), (DecimalType{38, 6}));
  // decimal(18,2)*decimal(18,2) = (37,4): no reduction.
  EXPECT_EQ(sandbox::engine::decimal_mul_type({18, 2}, {18, 2}), (DecimalType{37, 4}));
  // decimal(38,0)/decimal(10,0): scale 11, integral 38 -> scale 6.
  EXPECT_EQ(sandbox::engine::decimal_div_type({38, 0}, {10, 0}), (DecimalType{38, 6}));
  // (38,20)+(38,20): integral 18 -> p 39 -> scale 38-18 = 20.
  EXPECT_EQ(sandbox::engine::decimal_add_type({38, 20}, {38, 20}), (DecimalType{38, 20}));
  EXPECT_EQ(sandbox::engine::decimal_add_type({38, 0}, {38, 0}), (DecimalType{38, 0}));
  EXPECT_EQ(sandbox::engine::decimal_mod_type({10, 2}, {5, 0}), (DecimalType{7, 2}));
}

TEST(EngineDecimal, ArithmeticIsExactAtThirtyEightDigits) {
  const DecimalType wide{38, 0};
  auto sum = Decimal::add(dec("1234567890123456789012345"), dec("1"), wide);
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->to_string(), "1234567890123456789012346");
  auto diff = Decimal::sub(dec("1"), dec("1234567890123456789012345"), wide);
  EXPECT_EQ(diff->to_string(), "-1234567890123456789012344");
  auto prod = Decimal::mul(dec("12345678901234567890"), dec("1000000000000000000"), wide);
  EXPECT_EQ(prod->to_string(), "12345678901234567890000000000000000000");
  auto p2 = Decimal::mul(dec("1.25"), dec("-0.5"), sandbox::engine::decimal_mul_type({3, 2}, {1, 1}));
  EXPECT_EQ(p2->to_string(), "-0.625");
  // 1/3 as decimal(1,0)/decimal(1,0): (8,6)
  auto q = Decimal::div(dec("1"), dec("3"), sandbox::engine::decimal_div_type({1, 0}, {1, 0}));
  EXPECT_EQ(q->to_string(), "0.333333");
  auto q2 = Decimal::div(dec("2"), dec("3"), {8, 6});
  EXPECT_EQ(q2->to_string(), "0.666667");  // rounded, not truncated
  auto q3 = Decimal::div(dec("-10.00"), dec("4"), {14, 8});
  EXPECT_EQ(q3->to_string(), "-2.50000000");
  auto big = Decimal::div(dec("99999999999999999999999999999999999999"), dec("0.00000000000000000000000000000000000001"), {38, 0});
  EXPECT_FALSE(big);  // overflow
  auto m = Decimal::mod(dec("-7.5"), dec("2"), {3, 1});
  EXPECT_EQ(m->to_string(), "-1.5");
}

TEST(EngineDecimal, OverflowIsReportedNotWrapped) {
  const auto max38 = dec("99999999999999999999999999999999999999");
  EXPECT_FALSE(Decimal::add(max38, dec("1"), {38, 0}));
  EXPECT_FALSE(Decimal::mul(max38, max38, {38, 0}));
  EXPECT_FALSE(Decimal::add(dec("999"), dec("1"), {3, 0}));
  EXPECT_FALSE(Decimal::div(dec("1"), dec("0"), {8, 6}));
}

TEST(EngineDecimal, ComparesAcrossScales) {
  EXPECT_EQ(dec("1.50").compare(dec("1.5")), 0);
  EXPECT_LT(dec("-2").compare(dec("1")), 0);
  EXPECT_GT(dec("1234567890123456789012346").compare(dec("1234567890123456789012345")), 0);
  EXPECT_LT(dec("-1234567890123456789012346").compare(dec("-1234567890123456789012345")), 0);
  EXPECT_EQ(dec("0").compare(dec("-0.00")), 0);
}

TEST(EngineDecimal, ConvertsFromAndToDoubleAndInt) {
  EXPECT_EQ(Decimal::from_double(0.1, 2)->to_string(), "0.10");
  EXPECT_EQ(Decimal::from_double(1234567.891, 2)->to_string(), "1234567.89");
  EXPECT_EQ(Decimal::from_double(-2.5, 0)->to_string(), "-3");
  EXPECT_EQ(Decimal::from_int(-42).to_string(), "-42");
  EXPECT_EQ(*dec("-42.9").to_int64(), -42);
  EXPECT_FALSE(dec("99999999999999999999").to_int64());
  EXPECT_DOUBLE_EQ(dec("12.25").to_double(), 12.25);
}
