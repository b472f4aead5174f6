#pragma once
// SQL Server's exact decimal/numeric(p, s), p <= 38, which SQLite does not have: a 128-bit
// magnitude with a sign and a scale. Arithmetic follows "Precision, scale, and length
// (Transact-SQL)": the result type of each operator, the scale reduction above 38 digits,
// rounding half away from zero, and overflow as Msg 8115 (README.md "Types and values").
#include <optional>
#include <string>

namespace sandbox::engine {

inline constexpr int k_max_decimal_precision = 38;

struct DecimalType {
  int precision = 18;
  int scale = 0;
  bool operator==(const DecimalType&) const = default;
};

// The result types of the decimal operators (inputs already decimal; an integer operand is
// decimal(10,0), bigint decimal(19,0), ...).
DecimalType decimal_add_type(DecimalType a, DecimalType b);  // + and -
DecimalType decimal_mul_type(DecimalType a, DecimalType b);
DecimalType decimal_div_type(DecimalType a, DecimalType b);
DecimalType decimal_mod_type(DecimalType a, DecimalType b);

class Decimal {
 public:
  __extension__ typedef unsigned __int128 Magnitude;

  Decimal() = default;
  static Decimal from_int(long long v);
  static Decimal from_parts(bool negative, Magnitude magnitude, int scale);
  // Text as SQL Server's numeric literals and string conversions accept it: optional blanks,
  // sign, digits with at most one point, an optional exponent ("1.5E3"). nullopt when
  // malformed or beyond 38 significant digits after rounding to 38.
  static std::optional<Decimal> parse(const std::string& text);
  // A float's value, rounded to `scale` digits (from its shortest exact-enough text, 17 digits).
  static std::optional<Decimal> from_double(double v, int scale);

  bool negative() const { return m_negative; }
  int scale() const { return m_scale; }
  Magnitude magnitude() const { return m_mag; }
  bool is_zero() const { return m_mag == 0; }
  // Digits of the magnitude (1 for zero).
  int digits() const;
  // Integer digits (digits() - scale, at least 0) and whether the value fits decimal(p, s)
  // once rescaled to s.
  bool fits(DecimalType t) const;

  // The value at another scale: more digits are exact, fewer round half away from zero.
  // nullopt if the result would need more than 38 digits.
  std::optional<Decimal> rescaled(int scale) const;
  // Toward zero instead (CAST of a decimal to an integer type truncates).
  Decimal truncated(int scale) const;

  std::string to_string() const;  // "-123.4500": exactly scale() digits after the point
  double to_double() const;
  // The integer part, when it fits 64 bits.
  std::optional<long long> to_int64() const;
  int compare(const Decimal& other) const;  // -1, 0, 1 by value (scales may differ)

  // Exact operations, the result rounded to `result.scale` (half away from zero); nullopt when
  // the result does not fit `result.precision` (the caller raises 8115). div and mod return
  // nullopt for a zero divisor too: callers test is_zero() first to raise 8134.
  static std::optional<Decimal> add(const Decimal& a, const Decimal& b, DecimalType result);
  static std::optional<Decimal> sub(const Decimal& a, const Decimal& b, DecimalType result);
  static std::optional<Decimal> mul(const Decimal& a, const Decimal& b, DecimalType result);
  static std::optional<Decimal> div(const Decimal& a, const Decimal& b, DecimalType result);
  static std::optional<Decimal> mod(const Decimal& a, const Decimal& b, DecimalType result);
  Decimal negated() const;

 private:
  bool m_negative = false;
  Magnitude m_mag = 0;
  int m_scale = 0;
};

}  // namespace sandbox::engine
