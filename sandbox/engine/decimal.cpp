#include "engine/decimal.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace sandbox::engine {

namespace {

__extension__ typedef unsigned __int128 U128;
__extension__ typedef __int128 I128;

// A 256-bit unsigned integer: wide enough for any intermediate of two 38-digit operands
// (10^76 < 2^253), so no operation below loses a digit before the final rounding.
struct U256 {
  std::array<std::uint64_t, 4> limb{};  // little-endian

  static U256 of(U128 v) {
    U256 r;
    r.limb[0] = static_cast<std::uint64_t>(v);
    r.limb[1] = static_cast<std::uint64_t>(v >> 64);
    return r;
  }
  bool is_zero() const { return (limb[0] | limb[1] | limb[2] | limb[3]) == 0; }
  bool fits_u128() const { return limb[2] == 0 && limb[3] == 0; }
  U128 low() const { return (static_cast<U128>(limb[1]) << 64) | limb[0]; }

  // false on overflow past 256 bits
  bool mul_small(std::uint64_t m) {
    U128 carry = 0;
    for (auto& l : limb) {
      const U128 p = static_cast<U128>(l) * m + carry;
      l = static_cast<std::uint64_t>(p);
      carry = p >> 64;
    }
    return carry == 0;
  }
  std::uint64_t div_small(std::uint64_t d) {  // returns the remainder
    U128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      const U128 cur = (rem << 64) | limb[static_cast<std::size_t>(i)];
      limb[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(cur / d);
      rem = cur % d;
    }
    return static_cast<std::uint64_t>(rem);
  }
  void add(const U256& o) {
    U128 carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const U128 s = static_cast<U128>(limb[i]) + o.limb[i] + carry;
      limb[i] = static_cast<std::uint64_t>(s);
      carry = s >> 64;
    }
  }
  void sub(const U256& o) {  // requires *this >= o
    std::uint64_t borrow = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const U128 lhs = static_cast<U128>(limb[i]);
      const U128 rhs = static_cast<U128>(o.limb[i]) + borrow;
      if (lhs >= rhs) {
        limb[i] = static_cast<std::uint64_t>(lhs - rhs);
        borrow = 0;
      } else {
        limb[i] = static_cast<std::uint64_t>((static_cast<U128>(1) << 64) + lhs - rhs);
        borrow = 1;
      }
    }
  }
  int compare(const U256& o) const {
    for (int i = 3; i >= 0; --i) {
      const auto a = limb[static_cast<std::size_t>(i)], b = o.limb[static_cast<std::size_t>(i)];
      if (a != b) return a < b ? -1 : 1;
    }
    return 0;
  }
  bool bit(int i) const { return (limb[static_cast<std::size_t>(i / 64)] >> (i % 64)) & 1U; }
  void shl1() {
    for (int i = 3; i > 0; --i) {
      limb[static_cast<std::size_t>(i)] = (limb[static_cast<std::size_t>(i)] << 1) | (limb[static_cast<std::size_t>(i - 1)] >> 63);
    }
    limb[0] <<= 1;
  }
};

U256 mul(U128 a, U128 b) {
  const std::uint64_t a0 = static_cast<std::uint64_t>(a), a1 = static_cast<std::uint64_t>(a >> 64);
  const std::uint64_t b0 = static_cast<std::uint64_t>(b), b1 = static_cast<std::uint64_t>(b >> 64);
  U256 r;
  auto add_at = [&](std::size_t at, U128 v) {
    U256 t;
    t.limb[at] = static_cast<std::uint64_t>(v);
    if (at + 1 < 4) t.limb[at + 1] = static_cast<std::uint64_t>(v >> 64);
    r.add(t);
  };
  add_at(0, static_cast<U128>(a0) * b0);
  add_at(1, static_cast<U128>(a0) * b1);
  add_at(1, static_cast<U128>(a1) * b0);
  add_at(2, static_cast<U128>(a1) * b1);
  return r;
}

// q = a / b, r = a % b (b != 0, b < 2^255).
void divmod(const U256& a, const U256& b, U256* q, U256* r) {
  *q = U256{};
  *r = U256{};
  for (int i = 255; i >= 0; --i) {
    r->shl1();
    if (a.bit(i)) r->limb[0] |= 1;
    if (r->compare(b) >= 0) {
      r->sub(b);
      q->limb[static_cast<std::size_t>(i / 64)] |= 1ULL << (i % 64);
    }
  }
}

U256 pow10_256(int n) {
  U256 r = U256::of(1);
  for (int i = 0; i < n; ++i) r.mul_small(10);
  return r;
}

bool mul_pow10(U256& x, int n) {
  for (int i = 0; i < n; ++i) {
    if (!x.mul_small(10)) return false;
  }
  return true;
}

// x / 10^n rounded half away from zero (on the magnitude).
U256 div_pow10_round(U256 x, int n) {
  if (n <= 0) return x;
  for (int i = 0; i < n - 1; ++i) x.div_small(10);
  const std::uint64_t digit = x.div_small(10);
  if (digit >= 5) x.add(U256::of(1));
  return x;
}

// A signed 256-bit value at some scale, the working form of every operation.
struct Wide {
  bool negative = false;
  U256 mag;
  int scale = 0;
};

Wide widen(const Decimal& d, int scale) {
  Wide w;
  w.negative = d.negative();
  w.mag = U256::of(d.magnitude());
  w.scale = scale;
  mul_pow10(w.mag, scale - d.scale());  // scale >= d.scale(), at most 38 more digits: fits
  return w;
}

}  // namespace

// ---- result types ---------------------------------------------------------------------

namespace {
// Precision above 38: the scale gives way to the integer part (rules for + and -).
DecimalType cap_additive(int p, int s, int integral) {
  if (p <= k_max_decimal_precision) return {p, s};
  return {k_max_decimal_precision, std::max(0, std::min(s, k_max_decimal_precision - integral))};
}
// Multiplication and division: the scale keeps at least 6 digits when the integer part is
// large (SQL Server 2016 and later).
DecimalType cap_multiplicative(int p, int s) {
  if (p <= k_max_decimal_precision) return {p, s};
  const int integral = p - s;
  if (integral < 32) s = std::min(s, k_max_decimal_precision - integral);
  else if (s > 6) s = 6;
  return {k_max_decimal_precision, s};
}
}  // namespace

DecimalType decimal_add_type(DecimalType a, DecimalType b) {
  const int s = std::max(a.scale, b.scale);
  const int integral = std::max(a.precision - a.scale, b.precision - b.scale);
  return cap_additive(s + integral + 1, s, integral);
}
DecimalType decimal_mul_type(DecimalType a, DecimalType b) {
  return cap_multiplicative(a.precision + b.precision + 1, a.scale + b.scale);
}
DecimalType decimal_div_type(DecimalType a, DecimalType b) {
  const int s = std::max(6, a.scale + b.precision + 1);
  return cap_multiplicative(a.precision - a.scale + b.scale + s, s);
}
DecimalType decimal_mod_type(DecimalType a, DecimalType b) {
  const int s = std::max(a.scale, b.scale);
  const int p = std::min(a.precision - a.scale, b.precision - b.scale) + s;
  return {std::min(std::max(p, 1), k_max_decimal_precision), s};
}

// ---- Decimal --------------------------------------------------------------------------

namespace {
std::optional<Decimal> make(bool negative, const U256& mag, int scale, int precision) {
  if (!mag.fits_u128() || mag.compare(pow10_256(precision)) >= 0) return std::nullopt;
  return Decimal::from_parts(negative, mag.low(), scale);
}
}  // namespace

Decimal Decimal::from_parts(bool negative, Magnitude magnitude, int scale) {
  Decimal d;
  d.m_mag = magnitude;
  d.m_scale = scale;
  d.m_negative = negative && magnitude != 0;
  return d;
}

Decimal Decimal::from_int(long long v) {
  const auto mag = v < 0 ? static_cast<Magnitude>(-static_cast<I128>(v)) : static_cast<Magnitude>(v);
  return from_parts(v < 0, mag, 0);
}

std::optional<Decimal> Decimal::parse(const std::string& text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < n && blank(text[i])) ++i;
  bool negative = false;
  if (i < n && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;  // without leading zeros
  int frac = 0;
  bool point = false, any = false;
  for (; i < n; ++i) {
    const char c = text[i];
    if (c == '.' && !point) { point = true; continue; }
    if (c < '0' || c > '9') break;
    any = true;
    if (point) ++frac;
    if (!(digits.empty() && c == '0')) digits += c;
    else if (point) digits += c;  // keep zeros after the point (they count toward the scale)
  }
  if (!any) return std::nullopt;
  int exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    if (i >= n || text[i] < '0' || text[i] > '9') return std::nullopt;
    int e = 0;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      e = e * 10 + (text[i] - '0');
      if (e > 400) return std::nullopt;
    }
    exponent = eneg ? -e : e;
  }
  while (i < n && blank(text[i])) ++i;
  if (i != n) return std::nullopt;
  // Leading zeros went; the remaining digits are the value's digits at scale `frac`.
  while (digits.size() > 1 && digits[0] == '0') digits.erase(digits.begin());
  if (digits.empty()) digits = "0";
  int scale = frac - exponent;
  if (scale < 0) {
    if (digits != "0") digits.append(static_cast<std::size_t>(-scale), '0');
    scale = 0;
  }
  // More digits than 38 (or a scale above 38): round the fraction away.
  int drop = 0;
  if (scale > k_max_decimal_precision) drop = scale - k_max_decimal_precision;
  const int significant = static_cast<int>(digits.size()) - drop;
  if (significant > k_max_decimal_precision) drop += significant - k_max_decimal_precision;
  if (drop > scale) return std::nullopt;  // integer digits beyond 38
  bool round_up = false;
  if (drop > 0) {
    if (drop > static_cast<int>(digits.size())) {
      digits = "0";
    } else {
      round_up = digits[digits.size() - static_cast<std::size_t>(drop)] >= '5';
      digits.resize(digits.size() - static_cast<std::size_t>(drop));
      if (digits.empty()) digits = "0";
    }
    scale -= drop;
  }
  U128 mag = 0;
  for (char c : digits) mag = mag * 10 + static_cast<unsigned>(c - '0');
  if (round_up) ++mag;
  Decimal d;
  d.m_mag = mag;
  d.m_scale = scale;
  d.m_negative = negative && mag != 0;
  if (d.digits() > k_max_decimal_precision) return std::nullopt;  // 99..9 rounded up
  return d;
}

std::optional<Decimal> Decimal::from_double(double v, int scale) {
  char buf[64];
  // 15 significant digits reproduce a decimal SQLite stored as REAL; 17 any other double.
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  auto d = parse(buf);
  if (!d) return std::nullopt;
  return d->rescaled(scale);
}

int Decimal::digits() const {
  int n = 0;
  Magnitude m = m_mag;
  do {
    ++n;
    m /= 10;
  } while (m != 0);
  return n;
}

bool Decimal::fits(DecimalType t) const {
  auto r = rescaled(t.scale);
  return r && (r->is_zero() || r->digits() <= t.precision);
}

std::optional<Decimal> Decimal::rescaled(int scale) const {
  if (scale == m_scale) return *this;
  U256 m = U256::of(m_mag);
  if (scale > m_scale) {
    mul_pow10(m, scale - m_scale);
  } else {
    m = div_pow10_round(m, m_scale - scale);
  }
  if (m.compare(pow10_256(k_max_decimal_precision)) >= 0) return std::nullopt;
  Decimal d;
  d.m_mag = m.low();
  d.m_scale = scale;
  d.m_negative = m_negative && d.m_mag != 0;
  return d;
}

Decimal Decimal::truncated(int scale) const {
  if (scale >= m_scale) return *rescaled(scale);
  Decimal d = *this;
  for (int i = 0; i < m_scale - scale; ++i) d.m_mag /= 10;
  d.m_scale = scale;
  d.m_negative = m_negative && d.m_mag != 0;
  return d;
}

std::string Decimal::to_string() const {
  std::string digits;
  Magnitude m = m_mag;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m != 0);
  while (static_cast<int>(digits.size()) <= m_scale) digits.insert(digits.begin(), '0');
  if (m_scale > 0) digits.insert(digits.end() - m_scale, '.');
  return (m_negative ? "-" : "") + digits;
}

double Decimal::to_double() const { return std::strtod(to_string().c_str(), nullptr); }

std::optional<long long> Decimal::to_int64() const {
  Magnitude m = m_mag;
  for (int i = 0; i < m_scale; ++i) m /= 10;
  if (m_negative) {
    if (m > static_cast<Magnitude>(1) << 63) return std::nullopt;
    return static_cast<long long>(-static_cast<I128>(m));
  }
  if (m >= static_cast<Magnitude>(1) << 63) return std::nullopt;
  return static_cast<long long>(m);
}

int Decimal::compare(const Decimal& o) const {
  if (is_zero() && o.is_zero()) return 0;
  if (m_negative != o.m_negative) return m_negative ? -1 : 1;
  const int s = std::max(m_scale, o.m_scale);
  const int c = widen(*this, s).mag.compare(widen(o, s).mag);
  return m_negative ? -c : c;
}

Decimal Decimal::negated() const {
  Decimal d = *this;
  d.m_negative = !m_negative && m_mag != 0;
  return d;
}

namespace {
std::optional<Decimal> finish(Wide w, DecimalType result) {
  if (result.scale < w.scale) {
    w.mag = div_pow10_round(w.mag, w.scale - result.scale);
  } else if (!mul_pow10(w.mag, result.scale - w.scale)) {
    return std::nullopt;
  }
  return make(w.negative && !w.mag.is_zero(), w.mag, result.scale, result.precision);
}

Wide signed_add(Wide a, const Wide& b) {
  if (a.negative == b.negative) {
    a.mag.add(b.mag);
    return a;
  }
  if (a.mag.compare(b.mag) >= 0) {
    a.mag.sub(b.mag);
    return a;
  }
  Wide r = b;
  r.mag.sub(a.mag);
  return r;
}
}  // namespace

std::optional<Decimal> Decimal::add(const Decimal& a, const Decimal& b, DecimalType result) {
  const int s = std::max(a.scale(), b.scale());
  return finish(signed_add(widen(a, s), widen(b, s)), result);
}

std::optional<Decimal> Decimal::sub(const Decimal& a, const Decimal& b, DecimalType result) {
  return add(a, b.negated(), result);
}

std::optional<Decimal> Decimal::mul(const Decimal& a, const Decimal& b, DecimalType result) {
  Wide w;
  w.mag = engine::mul(a.magnitude(), b.magnitude());
  w.scale = a.scale() + b.scale();
  w.negative = a.negative() != b.negative();
  return finish(w, result);
}

std::optional<Decimal> Decimal::div(const Decimal& a, const Decimal& b, DecimalType result) {
  if (b.is_zero()) return std::nullopt;
  // a/b = (a.mag * 10^b.scale) / (b.mag * 10^a.scale); long division to result.scale + 1
  // digits, then the last one rounds.
  U256 num = U256::of(a.magnitude()), den = U256::of(b.magnitude());
  mul_pow10(num, b.scale());
  mul_pow10(den, a.scale());
  U256 q, r;
  divmod(num, den, &q, &r);
  const U256 limit = pow10_256(k_max_decimal_precision + 1);
  if (q.compare(limit) >= 0) return std::nullopt;
  for (int k = 0; k <= result.scale; ++k) {
    r.mul_small(10);  // r < den <= 10^76: 10r < 2^256
    std::uint64_t digit = 0;
    while (r.compare(den) >= 0) {
      r.sub(den);
      ++digit;
    }
    q.mul_small(10);
    q.add(U256::of(digit));
    if (q.compare(pow10_256(k_max_decimal_precision + 2)) >= 0) return std::nullopt;
  }
  Wide w;
  w.negative = a.negative() != b.negative();
  w.mag = q;
  w.scale = result.scale + 1;
  return finish(w, result);
}

std::optional<Decimal> Decimal::mod(const Decimal& a, const Decimal& b, DecimalType result) {
  if (b.is_zero()) return std::nullopt;
  const int s = std::max(a.scale(), b.scale());
  Wide wa = widen(a, s), wb = widen(b, s);
  U256 q, r;
  divmod(wa.mag, wb.mag, &q, &r);
  Wide w;
  w.negative = a.negative();  // the remainder takes the dividend's sign
  w.mag = r;
  w.scale = s;
  return finish(w, result);
}

}  // namespace sandbox::engine
