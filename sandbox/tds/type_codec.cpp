#include "tds/type_codec.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/sql_variant.hpp"

namespace sandbox::tds {
namespace {

__extension__ typedef unsigned __int128 Uint128;

constexpr std::uint16_t k_max_marker = 0xFFFF;      // USHORTLEN max length of a (max) type
constexpr std::uint16_t k_null_ushort = 0xFFFF;     // CHARBIN_NULL
constexpr std::uint64_t k_plp_null = ~0ULL;         // PLP_NULL
constexpr std::uint64_t k_plp_unknown = ~0ULL - 1;  // UNKNOWN_PLP_LEN
constexpr int k_default_varchar = 8000;             // bytes of a non-max (n)varchar/varbinary
constexpr std::int64_t k_ticks_per_day = 300LL * 86400;  // datetime: 1/300 s ticks

// ---- coercions from the engine's Value to what a type needs -----------------

std::int64_t as_int(const Value& v) {
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return std::llround(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::stoll(*p);
  throw std::invalid_argument("binary value for an integer column");
}

double as_double(const Value& v) {
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::stod(*p);
  throw std::invalid_argument("binary value for a float column");
}

std::string as_text(const Value& v) {
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return fmt::format("{}", *p);
  if (auto p = std::get_if<Bytes>(&v)) return {p->data.begin(), p->data.end()};
  return {};
}

std::vector<std::uint8_t> as_bytes(const Value& v) {
  if (auto p = std::get_if<Bytes>(&v)) return p->data;
  const std::string s = as_text(v);
  return {s.begin(), s.end()};
}

// ---- dates (Howard Hinnant's days_from_civil / civil_from_days) ------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2));
}

struct DateTimeParts {
  std::int64_t days = 0;          // since 1970-01-01
  std::int64_t seconds = 0;       // of the day
  std::int64_t hundred_ns = 0;    // fraction, in 100 ns units (7 digits)
};

int parse_digits(const std::string& s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) throw std::invalid_argument("malformed date/time '" + s + "'");
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') throw std::invalid_argument("malformed date/time '" + s + "'");
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

DateTimeParts parse_datetime_text(const std::string& s) {
  DateTimeParts p;
  const int y = parse_digits(s, 0, 4), mo = parse_digits(s, 5, 2), d = parse_digits(s, 8, 2);
  if (s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > 31) {
    throw std::invalid_argument("malformed date '" + s + "'");
  }
  p.days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  if (s.size() > 10) {
    const int h = parse_digits(s, 11, 2), mi = parse_digits(s, 14, 2);
    const int sec = s.size() >= 19 ? parse_digits(s, 17, 2) : 0;
    p.seconds = h * 3600 + mi * 60 + sec;
    if (s.size() > 20 && s[19] == '.') {
      std::int64_t frac = 0;
      int digits = 0;
      for (std::size_t i = 20; i < s.size() && digits < 7 && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
        frac = frac * 10 + (s[i] - '0');
      }
      for (; digits < 7; ++digits) frac *= 10;
      p.hundred_ns = frac;
    }
  }
  return p;
}

std::string format_date(std::int64_t days_since_epoch) {
  int y = 0, m = 0, d = 0;
  civil_from_days(days_since_epoch, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::string format_time(std::int64_t seconds, std::int64_t fraction, int digits) {
  std::string s = fmt::format("{:02}:{:02}:{:02}", seconds / 3600, (seconds / 60) % 60, seconds % 60);
  if (digits > 0) s += fmt::format(".{:0{}}", fraction, digits);
  return s;
}

std::int64_t pow10(int n) {
  std::int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

int time_bytes(int scale) { return scale <= 2 ? 3 : scale <= 4 ? 4 : 5; }

bool is_plp(const ColumnType& t) {
  switch (t.type) {
    case SqlType::xml:
      return true;
    case SqlType::varchar:
    case SqlType::varbinary:
      return t.length == k_max_length || t.length > k_default_varchar;
    case SqlType::nvarchar:
      return t.length == k_max_length || t.length > k_default_varchar / 2;
    default:
      return false;
  }
}

std::vector<std::uint8_t> string_bytes(const ColumnType& t, const Value& v) {
  switch (t.type) {
    case SqlType::nvarchar: case SqlType::nchar: case SqlType::ntext: case SqlType::xml: return utf8_to_utf16le(as_text(v));
    case SqlType::varchar: case SqlType::char_: case SqlType::text: return utf8_to_cp1252(as_text(v));
    case SqlType::binary: {
      auto b = as_bytes(v);
      if (t.length > 0 && b.size() < static_cast<std::size_t>(t.length)) b.resize(static_cast<std::size_t>(t.length), 0);
      return b;
    }
    default: return as_bytes(v);
  }
}

// money/smallmoney: the value in 1/10000 units, from canonical decimal text.
std::int64_t money_units(const Value& v) {
  if (auto p = std::get_if<std::int64_t>(&v)) return *p * 10000;
  if (auto p = std::get_if<double>(&v)) return std::llround(*p * 10000.0);
  const std::string s = as_text(v);
  const auto bytes = decimal_to_wire(s, 38, 4);
  Uint128 mag = 0;
  for (std::size_t k = bytes.size() - 1; k >= 1; --k) mag = (mag << 8) | bytes[k];
  if (mag > static_cast<Uint128>(std::numeric_limits<std::int64_t>::max())) throw std::invalid_argument("money value out of range");
  const auto units = static_cast<std::int64_t>(mag);
  return bytes[0] == 1 ? units : -units;
}

// "YYYY-MM-DD HH:MM:SS[.f] +hh:mm" -> the local date/time text and the offset in minutes.
std::string split_offset(const std::string& text, int* minutes) {
  *minutes = 0;
  const auto sp = text.find_last_of(' ');
  if (sp == std::string::npos || sp + 1 >= text.size() || (text[sp + 1] != '+' && text[sp + 1] != '-')) return text;
  const std::string off = text.substr(sp + 1);
  if (off.size() != 6 || off[3] != ':') throw std::invalid_argument("malformed offset in '" + text + "'");
  const int h = parse_digits(off, 1, 2), m = parse_digits(off, 4, 2);
  *minutes = (off[0] == '-' ? -1 : 1) * (h * 60 + m);
  return text.substr(0, sp);
}

void write_le(ByteWriter& w, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) w.u8(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
}

std::uint64_t read_le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

int int_size(SqlType t) {
  switch (t) {
    case SqlType::tinyint: return 1;
    case SqlType::smallint: return 2;
    case SqlType::int_: return 4;
    default: return 8;
  }
}

}  // namespace

int decimal_storage_size(int precision) {
  if (precision <= 9) return 5;
  if (precision <= 19) return 9;
  if (precision <= 28) return 13;
  return 17;
}

// ---- decimal ------------------------------------------------------------------

std::vector<std::uint8_t> decimal_to_wire(const std::string& text, int precision, int scale) {
  std::size_t i = 0;
  bool negative = false;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string int_digits, frac_digits;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !point) { point = true; continue; }
    if (c < '0' || c > '9') throw std::invalid_argument("malformed decimal '" + text + "'");
    (point ? frac_digits : int_digits) += c;
  }
  if (int_digits.empty() && frac_digits.empty()) throw std::invalid_argument("malformed decimal '" + text + "'");
  bool round_up = false;
  if (static_cast<int>(frac_digits.size()) > scale) {
    round_up = frac_digits[static_cast<std::size_t>(scale)] >= '5';  // half away from zero
    frac_digits.resize(static_cast<std::size_t>(scale));
  }
  while (static_cast<int>(frac_digits.size()) < scale) frac_digits += '0';
  Uint128 mag = 0;
  int significant = 0;
  for (char c : int_digits + frac_digits) {
    if (significant > 0 || c != '0') ++significant;
    if (significant > 38) throw std::invalid_argument("decimal '" + text + "' exceeds 38 digits");
    mag = mag * 10 + static_cast<unsigned>(c - '0');
  }
  if (round_up) ++mag;
  Uint128 limit = 1;
  for (int k = 0; k < precision; ++k) limit *= 10;
  if (mag >= limit) {
    throw std::invalid_argument(fmt::format("decimal '{}' does not fit numeric({},{})", text, precision, scale));
  }
  const int n = decimal_storage_size(precision);
  std::vector<std::uint8_t> out;
  out.push_back(negative && mag != 0 ? 0 : 1);  // sign: 1 = positive
  for (int k = 0; k < n - 1; ++k) {
    out.push_back(static_cast<std::uint8_t>(mag & 0xFF));
    mag >>= 8;
  }
  return out;
}

std::string decimal_from_wire(const std::uint8_t* p, std::size_t n, int scale) {
  if (n < 1 || n > 17) throw ProtocolError("bad DECIMALN length");
  const bool positive = p[0] == 1;
  Uint128 mag = 0;
  for (std::size_t k = n - 1; k >= 1; --k) mag = (mag << 8) | p[k];
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  const bool zero = digits.find_first_not_of("0.") == std::string::npos;
  return (positive || zero ? "" : "-") + digits;
}

// ---- GUID: the first three groups little-endian, the last eight bytes as written

std::vector<std::uint8_t> guid_to_wire(const std::string& text) {
  std::vector<std::uint8_t> b;
  int nibble = -1;
  for (char c : text) {
    if (c == '-' || c == '{' || c == '}') continue;
    int v = 0;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else throw std::invalid_argument("malformed uniqueidentifier '" + text + "'");
    if (nibble < 0) { nibble = v; }
    else { b.push_back(static_cast<std::uint8_t>(nibble * 16 + v)); nibble = -1; }
  }
  if (b.size() != 16 || nibble >= 0) throw std::invalid_argument("malformed uniqueidentifier '" + text + "'");
  return {b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]};
}

std::string guid_from_wire(const std::uint8_t* p) {
  return fmt::format("{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
                     p[3], p[2], p[1], p[0], p[5], p[4], p[7], p[6], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
}

// ---- datetime: days since 1900-01-01 (int32), 1/300 s ticks since midnight (uint32)

std::vector<std::uint8_t> datetime_to_wire(const std::string& text) {
  const DateTimeParts p = parse_datetime_text(text);
  std::int64_t days = p.days - days_from_civil(1900, 1, 1);
  std::int64_t ticks = p.seconds * 300 + (p.hundred_ns * 300 + 5'000'000) / 10'000'000;
  if (ticks >= k_ticks_per_day) { ticks -= k_ticks_per_day; ++days; }
  ByteWriter w;
  w.i32(static_cast<std::int32_t>(days));
  w.u32(static_cast<std::uint32_t>(ticks));
  return w.data();
}

std::string datetime_from_wire(const std::uint8_t* p) {
  const auto days = static_cast<std::int32_t>(read_le(p, 4));
  const auto ticks = static_cast<std::int64_t>(read_le(p + 4, 4));
  std::int64_t ms = (ticks * 20 + 3) / 6;  // ticks * 1000 / 300, rounded as SQL Server shows it
  return format_date(days + days_from_civil(1900, 1, 1)) + " " + format_time(ms / 1000, ms % 1000, 3);
}

// ---- datetime2(scale): time in 10^-scale s units (3-5 bytes), days since 0001-01-01 (3 bytes)

std::vector<std::uint8_t> datetime2_to_wire(const std::string& text, int scale) {
  const DateTimeParts p = parse_datetime_text(text);
  const std::int64_t units = p.seconds * pow10(scale) + p.hundred_ns / pow10(7 - scale);
  const std::int64_t days = p.days - days_from_civil(1, 1, 1);
  ByteWriter w;
  write_le(w, static_cast<std::uint64_t>(units), time_bytes(scale));
  write_le(w, static_cast<std::uint64_t>(days), 3);
  return w.data();
}

std::string datetime2_from_wire(const std::uint8_t* p, std::size_t n, int scale) {
  const auto tb = static_cast<std::size_t>(time_bytes(scale));
  if (n != tb + 3) throw ProtocolError("bad DATETIME2N length");
  const auto units = static_cast<std::int64_t>(read_le(p, tb));
  const auto days = static_cast<std::int64_t>(read_le(p + tb, 3));
  return format_date(days + days_from_civil(1, 1, 1)) + " " +
         format_time(units / pow10(scale), units % pow10(scale), scale);
}

// ---- TYPE_INFO ------------------------------------------------------------------

void write_type_info(ByteWriter& w, const ColumnType& t) {
  switch (t.type) {
    case SqlType::int_:
    case SqlType::bigint:
    case SqlType::smallint:
    case SqlType::tinyint:
      w.u8(k_intn);
      w.u8(static_cast<std::uint8_t>(int_size(t.type)));
      return;
    case SqlType::bit:
      w.u8(k_bitn);
      w.u8(1);
      return;
    case SqlType::decimal: {
      const int precision = t.precision > 0 ? t.precision : 18;
      w.u8(k_decimaln);
      w.u8(static_cast<std::uint8_t>(decimal_storage_size(precision)));
      w.u8(static_cast<std::uint8_t>(precision));
      w.u8(static_cast<std::uint8_t>(t.scale));
      return;
    }
    case SqlType::float_:
      w.u8(k_fltn);
      w.u8(8);
      return;
    case SqlType::varchar:
    case SqlType::nvarchar: {
      const bool wide = t.type == SqlType::nvarchar;
      w.u8(wide ? k_nvarchar : k_bigvarchr);
      const int chars = t.length > 0 ? t.length : (wide ? k_default_varchar / 2 : k_default_varchar);
      w.u16(is_plp(t) ? k_max_marker : static_cast<std::uint16_t>(wide ? chars * 2 : chars));
      w.bytes(k_default_collation.data(), k_default_collation.size());
      return;
    }
    case SqlType::varbinary:
      w.u8(k_bigvarbin);
      w.u16(is_plp(t) ? k_max_marker : static_cast<std::uint16_t>(t.length > 0 ? t.length : k_default_varchar));
      return;
    case SqlType::datetime:
      w.u8(k_datetimn);
      w.u8(8);
      return;
    case SqlType::datetime2:
      w.u8(k_datetime2n);
      w.u8(static_cast<std::uint8_t>(t.scale >= 0 && t.scale <= 7 ? t.scale : 7));
      return;
    case SqlType::uniqueidentifier:
      w.u8(k_guid);
      w.u8(16);
      return;
    case SqlType::money:
    case SqlType::smallmoney:
      w.u8(k_moneyn);
      w.u8(t.type == SqlType::money ? 8 : 4);
      return;
    case SqlType::real:
      w.u8(k_fltn);
      w.u8(4);
      return;
    case SqlType::date:
      w.u8(k_daten);
      return;
    case SqlType::time:
    case SqlType::datetimeoffset:
      w.u8(t.type == SqlType::time ? k_timen : k_datetimeoffsetn);
      w.u8(static_cast<std::uint8_t>(t.scale >= 0 && t.scale <= 7 ? t.scale : 7));
      return;
    case SqlType::smalldatetime:
      w.u8(k_datetimn);
      w.u8(4);
      return;
    case SqlType::char_:
    case SqlType::nchar: {
      const bool wide = t.type == SqlType::nchar;
      w.u8(wide ? k_nchar : k_bigchar);
      const int chars = t.length > 0 ? t.length : 1;
      w.u16(static_cast<std::uint16_t>(wide ? chars * 2 : chars));
      w.bytes(k_default_collation.data(), k_default_collation.size());
      return;
    }
    case SqlType::binary:
      w.u8(k_bigbinary);
      w.u16(static_cast<std::uint16_t>(t.length > 0 ? t.length : 1));
      return;
    case SqlType::text:
    case SqlType::ntext:
    case SqlType::image:
      // [MS-TDS] 2.2.5.6: LONGLEN max, collation (not for image), then the table name
      // (TDS 7.2+: the number of parts, here none: the column of an expression).
      w.u8(t.type == SqlType::text ? k_text : t.type == SqlType::ntext ? k_ntext : k_image);
      w.u32(t.type == SqlType::ntext ? 0x7FFFFFFE : 0x7FFFFFFF);
      if (t.type != SqlType::image) w.bytes(k_default_collation.data(), k_default_collation.size());
      w.u8(0);
      return;
    case SqlType::xml:
      w.u8(k_xml);
      w.u8(0);  // SCHEMA_PRESENT: untyped xml
      return;
    case SqlType::sql_variant:
      w.u8(k_ssvariant);
      w.u32(k_ssvariant_max_length);
      return;
  }
}

void write_value(ByteWriter& w, const ColumnType& t, const Value& v) {
  const bool null = std::holds_alternative<std::monostate>(v);
  switch (t.type) {
    case SqlType::sql_variant:
      if (null) { w.u32(0); return; }  // a NULL sql_variant: length 0
      w.bytes(variant_to_wire(as_text(v)));
      return;
    case SqlType::int_:
    case SqlType::bigint:
    case SqlType::smallint:
    case SqlType::tinyint: {
      if (null) { w.u8(0); return; }
      const int n = int_size(t.type);
      w.u8(static_cast<std::uint8_t>(n));
      write_le(w, static_cast<std::uint64_t>(as_int(v)), n);
      return;
    }
    case SqlType::bit:
      if (null) { w.u8(0); return; }
      w.u8(1);
      w.u8(as_int(v) != 0 ? 1 : 0);
      return;
    case SqlType::decimal: {
      if (null) { w.u8(0); return; }
      const auto bytes = decimal_to_wire(as_text(v), t.precision > 0 ? t.precision : 18, t.scale);
      w.u8(static_cast<std::uint8_t>(bytes.size()));
      w.bytes(bytes);
      return;
    }
    case SqlType::float_: {
      if (null) { w.u8(0); return; }
      const double d = as_double(v);
      std::uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      w.u8(8);
      w.u64(bits);
      return;
    }
    case SqlType::varchar:
    case SqlType::nvarchar:
    case SqlType::varbinary:
    case SqlType::xml: {
      // UTF-16 without a byte order mark, as CAST(x AS nvarchar(max)) serializes xml.
      if (is_plp(t)) {
        if (null) { w.u64(k_plp_null); return; }
        const auto bytes = string_bytes(t, v);
        w.u64(bytes.size());
        if (!bytes.empty()) {
          w.u32(static_cast<std::uint32_t>(bytes.size()));
          w.bytes(bytes);
        }
        w.u32(0);  // PLP_TERMINATOR
        return;
      }
      if (null) { w.u16(k_null_ushort); return; }
      const auto bytes = string_bytes(t, v);
      if (bytes.size() >= k_null_ushort) throw std::invalid_argument("value longer than its column");
      w.u16(static_cast<std::uint16_t>(bytes.size()));
      w.bytes(bytes);
      return;
    }
    case SqlType::datetime:
      if (null) { w.u8(0); return; }
      w.u8(8);
      w.bytes(datetime_to_wire(as_text(v)));
      return;
    case SqlType::datetime2: {
      if (null) { w.u8(0); return; }
      const auto bytes = datetime2_to_wire(as_text(v), t.scale >= 0 && t.scale <= 7 ? t.scale : 7);
      w.u8(static_cast<std::uint8_t>(bytes.size()));
      w.bytes(bytes);
      return;
    }
    case SqlType::uniqueidentifier:
      if (null) { w.u8(0); return; }
      w.u8(16);
      w.bytes(guid_to_wire(as_text(v)));
      return;
    case SqlType::money: {
      if (null) { w.u8(0); return; }
      const std::int64_t units = money_units(v);
      w.u8(8);
      const auto u = static_cast<std::uint64_t>(units);
      w.u32(static_cast<std::uint32_t>(u >> 32));  // the high half first
      w.u32(static_cast<std::uint32_t>(u & 0xFFFFFFFFu));
      return;
    }
    case SqlType::smallmoney: {
      if (null) { w.u8(0); return; }
      const std::int64_t units = money_units(v);
      if (units < std::numeric_limits<std::int32_t>::min() || units > std::numeric_limits<std::int32_t>::max()) {
        throw std::invalid_argument("smallmoney value out of range");
      }
      w.u8(4);
      w.i32(static_cast<std::int32_t>(units));
      return;
    }
    case SqlType::real: {
      if (null) { w.u8(0); return; }
      const auto f = static_cast<float>(as_double(v));
      std::uint32_t bits = 0;
      std::memcpy(&bits, &f, sizeof bits);
      w.u8(4);
      w.u32(bits);
      return;
    }
    case SqlType::date: {
      if (null) { w.u8(0); return; }
      const DateTimeParts p = parse_datetime_text(as_text(v));
      w.u8(3);
      write_le(w, static_cast<std::uint64_t>(p.days - days_from_civil(1, 1, 1)), 3);
      return;
    }
    case SqlType::time: {
      if (null) { w.u8(0); return; }
      const int scale = t.scale >= 0 && t.scale <= 7 ? t.scale : 7;
      const auto bytes = datetime2_to_wire("1900-01-01 " + as_text(v), scale);
      const auto n = static_cast<std::size_t>(time_bytes(scale));
      w.u8(static_cast<std::uint8_t>(n));
      w.bytes(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
      return;
    }
    case SqlType::datetimeoffset: {
      if (null) { w.u8(0); return; }
      const int scale = t.scale >= 0 && t.scale <= 7 ? t.scale : 7;
      int offset = 0;
      const std::string local = split_offset(as_text(v), &offset);
      // The wire carries UTC and the offset.
      DateTimeParts p = parse_datetime_text(local);
      std::int64_t secs = p.days * 86400 + p.seconds - static_cast<std::int64_t>(offset) * 60;
      std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
      secs -= days * 86400;
      const std::string utc = format_date(days) + " " + format_time(secs, p.hundred_ns, 7);
      auto bytes = datetime2_to_wire(utc, scale);
      w.u8(static_cast<std::uint8_t>(bytes.size() + 2));
      w.bytes(bytes);
      w.u16(static_cast<std::uint16_t>(static_cast<std::int16_t>(offset)));
      return;
    }
    case SqlType::smalldatetime: {
      if (null) { w.u8(0); return; }
      const DateTimeParts p = parse_datetime_text(as_text(v));
      w.u8(4);
      w.u16(static_cast<std::uint16_t>(p.days - days_from_civil(1900, 1, 1)));
      w.u16(static_cast<std::uint16_t>(p.seconds / 60));
      return;
    }
    case SqlType::char_:
    case SqlType::nchar:
    case SqlType::binary: {
      if (null) { w.u16(k_null_ushort); return; }
      auto bytes = string_bytes(t, v);
      if (bytes.size() >= k_null_ushort) throw std::invalid_argument("value longer than its column");
      w.u16(static_cast<std::uint16_t>(bytes.size()));
      w.bytes(bytes);
      return;
    }
    case SqlType::text:
    case SqlType::ntext:
    case SqlType::image: {
      if (null) { w.u8(0); return; }  // no text pointer: NULL
      const auto bytes = string_bytes(t, v);
      w.u8(16);
      for (int k = 0; k < 16; ++k) w.u8(0xFF);  // text pointer (a dummy, as nothing reads it back)
      for (int k = 0; k < 8; ++k) w.u8(0);      // timestamp
      w.u32(static_cast<std::uint32_t>(bytes.size()));
      w.bytes(bytes);
      return;
    }
  }
}

// ---- sql_variant: SSVARIANT_INSTANCE ([MS-TDS] 2.2.5.5.4) -------------------------

std::vector<std::uint8_t> variant_to_wire(const std::string& stored) {
  const auto variant = engine::decode_variant(stored);
  if (!variant) throw std::invalid_argument("malformed sql_variant value");
  const ColumnType& base = variant->base;
  // The base type's token (the fixed-length form where there is one) and its properties.
  std::uint8_t token = 0;
  ByteWriter props;
  int prefix = 1;  // bytes of the length in front of the value in a ROW, dropped here
  switch (base.type) {
    case SqlType::tinyint: token = k_int1; break;
    case SqlType::smallint: token = k_int2; break;
    case SqlType::int_: token = k_int4; break;
    case SqlType::bigint: token = k_int8; break;
    case SqlType::bit: token = k_bit; break;
    case SqlType::float_: token = k_flt8; break;
    case SqlType::real: token = k_flt4; break;
    case SqlType::money: token = k_money; break;
    case SqlType::smallmoney: token = k_money4; break;
    case SqlType::datetime: token = k_datetime; break;
    case SqlType::smalldatetime: token = k_datetim4; break;
    case SqlType::uniqueidentifier: token = k_guid; break;
    case SqlType::date: token = k_daten; break;
    case SqlType::decimal:
      // The sandbox does not tell decimal from numeric (README.md "Types and values").
      token = k_decimaln;
      props.u8(static_cast<std::uint8_t>(base.precision));
      props.u8(static_cast<std::uint8_t>(base.scale));
      break;
    case SqlType::time: case SqlType::datetime2: case SqlType::datetimeoffset:
      token = base.type == SqlType::time ? k_timen : base.type == SqlType::datetime2 ? k_datetime2n : k_datetimeoffsetn;
      props.u8(static_cast<std::uint8_t>(base.scale));
      break;
    case SqlType::varchar: case SqlType::char_: case SqlType::nvarchar: case SqlType::nchar: {
      const bool wide = base.type == SqlType::nvarchar || base.type == SqlType::nchar;
      token = base.type == SqlType::varchar ? k_bigvarchr : base.type == SqlType::char_ ? k_bigchar
              : base.type == SqlType::nvarchar ? k_nvarchar : k_nchar;
      props.u16(static_cast<std::uint16_t>(wide ? base.length * 2 : base.length));
      props.bytes(k_default_collation.data(), k_default_collation.size());
      prefix = 2;
      break;
    }
    case SqlType::varbinary: case SqlType::binary:
      token = base.type == SqlType::varbinary ? k_bigvarbin : k_bigbinary;
      props.u16(static_cast<std::uint16_t>(base.length));
      prefix = 2;
      break;
    default:
      throw std::invalid_argument("sql_variant of a type it cannot hold");
  }
  // A base value longer than 8000 bytes (stored by UPDATE unconverted) has no SSVARIANT form.
  if (is_plp(base)) throw std::invalid_argument("sql_variant value longer than 8000 bytes");
  ByteWriter row_form;
  write_value(row_form, base, variant->value);
  const auto& value = row_form.data();
  const std::size_t value_size = value.size() - static_cast<std::size_t>(prefix);
  ByteWriter out;
  out.u32(static_cast<std::uint32_t>(2 + props.data().size() + value_size));
  out.u8(token);
  out.u8(static_cast<std::uint8_t>(props.data().size()));
  out.bytes(props.data());
  out.bytes(value.data() + prefix, value_size);
  return out.data();
}

// ---- RPC parameters -------------------------------------------------------------

namespace {

std::vector<std::uint8_t> read_plp(ByteReader& r, bool* is_null) {
  const std::uint64_t total = r.u64();
  std::vector<std::uint8_t> out;
  *is_null = total == k_plp_null;
  if (*is_null) return out;
  if (total != k_plp_unknown) out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(total, 1 << 20)));
  for (;;) {
    const std::uint32_t n = r.u32();
    if (n == 0) break;
    const auto chunk = r.bytes(n);
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

Value text_value(SqlType t, const std::vector<std::uint8_t>& b) {
  if (t == SqlType::nvarchar || t == SqlType::nchar || t == SqlType::ntext || t == SqlType::xml) {
    // An xml parameter may start with the UTF-16 byte order mark.
    const std::size_t skip = b.size() >= 2 && b[0] == 0xFF && b[1] == 0xFE ? 2 : 0;
    return utf16le_to_utf8(b.data() + skip, b.size() - skip);
  }
  if (t == SqlType::varchar || t == SqlType::char_ || t == SqlType::text) return cp1252_to_utf8(b.data(), b.size());
  return Bytes{b};
}

std::int64_t signed_le(const std::vector<std::uint8_t>& b) {
  const std::uint64_t u = read_le(b.data(), b.size());
  if (b.size() >= 8) return static_cast<std::int64_t>(u);
  const std::uint64_t sign = 1ULL << (8 * b.size() - 1);
  return static_cast<std::int64_t>((u ^ sign) - sign);
}

Value fixed_value(std::uint8_t token, const std::vector<std::uint8_t>& b, ColumnType* type) {
  switch (token) {
    case k_int1: type->type = SqlType::tinyint; return static_cast<std::int64_t>(b[0]);
    case k_bit: type->type = SqlType::bit; return static_cast<std::int64_t>(b[0] != 0);
    case k_int2: type->type = SqlType::smallint; return signed_le(b);
    case k_int4: type->type = SqlType::int_; return signed_le(b);
    case k_int8: type->type = SqlType::bigint; return signed_le(b);
    case k_flt4: {
      type->type = SqlType::real;
      float f = 0;
      const auto bits = static_cast<std::uint32_t>(read_le(b.data(), 4));
      std::memcpy(&f, &bits, sizeof f);
      return static_cast<double>(f);
    }
    case k_flt8: {
      type->type = SqlType::float_;
      double d = 0;
      const std::uint64_t bits = read_le(b.data(), 8);
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case k_datetime: type->type = SqlType::datetime; return datetime_from_wire(b.data());
    case k_datetim4: {
      // smalldatetime: days since 1900-01-01 (uint16), minutes since midnight (uint16)
      type->type = SqlType::smalldatetime;
      const auto days = static_cast<std::int64_t>(read_le(b.data(), 2));
      const auto minutes = static_cast<std::int64_t>(read_le(b.data() + 2, 2));
      return format_date(days + days_from_civil(1900, 1, 1)) + " " + format_time(minutes * 60, 0, 0);
    }
    case k_money:
    case k_money4: {
      // money: the high 32 bits first, then the low; both are 1/10000 units.
      type->type = token == k_money ? SqlType::money : SqlType::smallmoney;
      type->precision = token == k_money ? 19 : 10;
      type->scale = 4;
      std::int64_t units = 0;
      if (b.size() == 8) {
        units = static_cast<std::int64_t>((read_le(b.data(), 4) << 32) | read_le(b.data() + 4, 4));
      } else {
        units = signed_le(b);
      }
      const std::uint64_t mag = units < 0 ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
      return fmt::format("{}{}.{:04}", units < 0 ? "-" : "", mag / 10000, mag % 10000);
    }
    default: break;
  }
  throw ProtocolError(fmt::format("unsupported fixed-length type 0x{:02X}", token));
}

int fixed_length(std::uint8_t token) {
  switch (token) {
    case k_null_type: return 0;
    case k_int1: case k_bit: return 1;
    case k_int2: return 2;
    case k_int4: case k_datetim4: case k_flt4: case k_money4: return 4;
    case k_money: case k_datetime: case k_flt8: case k_int8: return 8;
    default: return -1;
  }
}

}  // namespace

Value read_value(ByteReader& r, const WireType& w);

namespace {

// SSVARIANT_INSTANCE after its length: the base type's TYPE_INFO and value rebuilt as a
// parameter would carry them, decoded by read_type_info/read_value, kept in the engine's form.
Value variant_from_wire(const std::vector<std::uint8_t>& b) {
  const std::uint8_t token = b[0];
  const std::size_t prop_count = b[1];
  if (2 + prop_count > b.size()) throw ProtocolError("SSVARIANT_INSTANCE shorter than its properties");
  const std::size_t value_size = b.size() - 2 - prop_count;
  ByteWriter w;
  w.u8(token);
  const int fixed = fixed_length(token);
  bool two_byte_length = false;
  switch (token) {
    case k_guid: w.u8(16); break;
    case k_decimaln: case k_numericn:
      if (prop_count != 2) throw ProtocolError("SSVARIANT decimal without precision and scale");
      w.u8(static_cast<std::uint8_t>(decimal_storage_size(b[2])));
      break;
    case k_daten: break;
    case k_timen: case k_datetime2n: case k_datetimeoffsetn:
      if (prop_count != 1) throw ProtocolError("SSVARIANT time without its scale");
      break;
    case k_bigvarchr: case k_bigchar: case k_nvarchar: case k_nchar:
      if (prop_count != 7) throw ProtocolError("SSVARIANT string without max length and collation");
      two_byte_length = true;
      break;
    case k_bigvarbin: case k_bigbinary:
      if (prop_count != 2) throw ProtocolError("SSVARIANT binary without max length");
      two_byte_length = true;
      break;
    default:
      if (fixed <= 0) throw ProtocolError(fmt::format("SSVARIANT base type 0x{:02X} is not one a sql_variant holds", token));
      if (static_cast<std::size_t>(fixed) != value_size) throw ProtocolError("SSVARIANT value length does not match its base type");
  }
  w.bytes(b.data() + 2, prop_count);
  if (fixed <= 0) {
    if (two_byte_length) w.u16(static_cast<std::uint16_t>(value_size));
    else w.u8(static_cast<std::uint8_t>(value_size));
  }
  w.bytes(b.data() + 2 + prop_count, value_size);
  ByteReader r(w.data());
  const WireType base = read_type_info(r);
  const Value value = read_value(r, base);
  if (std::holds_alternative<std::monostate>(value)) throw ProtocolError("SSVARIANT with an empty value");
  return engine::encode_variant(base.type, value);
}

}  // namespace

WireType read_type_info(ByteReader& r) {
  WireType w;
  w.token = r.u8();
  if (w.token == k_null_type) {
    w.type.type = SqlType::int_;
    return w;
  }
  if (const int n = fixed_length(w.token); n > 0) {
    std::vector<std::uint8_t> zeros(static_cast<std::size_t>(n), 0);
    fixed_value(w.token, zeros, &w.type);  // sets the type only
    w.max_length = static_cast<std::uint32_t>(n);
    return w;
  }
  switch (w.token) {
    case k_intn: case k_bitn: case k_fltn: case k_moneyn: case k_datetimn: case k_guid: {
      const std::uint8_t max = r.u8();
      w.max_length = max;
      if (w.token == k_guid) {
        w.type.type = SqlType::uniqueidentifier;
        return w;
      }
      switch (w.token) {
        case k_intn: w.fixed_token = max == 1 ? k_int1 : max == 2 ? k_int2 : max == 4 ? k_int4 : k_int8; break;
        case k_bitn: w.fixed_token = k_bit; break;
        case k_fltn: w.fixed_token = max == 4 ? k_flt4 : k_flt8; break;
        case k_moneyn: w.fixed_token = max == 4 ? k_money4 : k_money; break;
        default: w.fixed_token = max == 4 ? k_datetim4 : k_datetime; break;
      }
      std::vector<std::uint8_t> zeros(static_cast<std::size_t>(fixed_length(w.fixed_token)), 0);
      fixed_value(w.fixed_token, zeros, &w.type);  // sets the type only
      return w;
    }
    case k_decimaln: case k_numericn: {
      w.max_length = r.u8();
      w.type.type = SqlType::decimal;
      w.type.precision = r.u8();
      w.type.scale = r.u8();
      return w;
    }
    case k_daten:
      w.type = {SqlType::date, 0, 0, 0};
      return w;
    case k_timen: case k_datetime2n: case k_datetimeoffsetn: {
      const int scale = r.u8();
      if (scale > 7) throw ProtocolError("time scale above 7");
      w.type = {w.token == k_timen ? SqlType::time : w.token == k_datetimeoffsetn ? SqlType::datetimeoffset : SqlType::datetime2,
                0, 0, scale};
      return w;
    }
    case k_char: case k_varchar: case k_binary: case k_varbinary: {
      const std::uint8_t max = r.u8();
      w.max_length = max;
      w.type = {w.token == k_char ? SqlType::char_ : w.token == k_varchar ? SqlType::varchar
                : w.token == k_binary ? SqlType::binary : SqlType::varbinary, max, 0, 0};
      return w;
    }
    case k_bigvarbin: case k_bigvarchr: case k_bigbinary: case k_bigchar: case k_nvarchar: case k_nchar: {
      const std::uint16_t max = r.u16();
      const bool wide = w.token == k_nvarchar || w.token == k_nchar;
      const bool text = wide || w.token == k_bigvarchr || w.token == k_bigchar;
      if (text) r.skip(5);  // collation
      w.max_length = max;
      w.plp = max == k_max_marker;
      w.type.type = w.token == k_nchar ? SqlType::nchar : w.token == k_bigchar ? SqlType::char_
                    : w.token == k_bigbinary ? SqlType::binary : wide ? SqlType::nvarchar
                    : text ? SqlType::varchar : SqlType::varbinary;
      w.type.length = max == k_max_marker ? k_max_length : (wide ? max / 2 : max);
      return w;
    }
    case k_xml:
      if (r.u8() != 0) throw ProtocolError("typed xml parameters (an XML schema collection) are not supported by the sandbox");
      w.type = {SqlType::xml, k_max_length, 0, 0};
      w.plp = true;
      return w;
    case k_ssvariant:
      w.max_length = r.u32();
      w.type = {SqlType::sql_variant, 0, 0, 0};
      return w;
    case k_text: case k_ntext: case k_image:
      w.max_length = r.u32();
      if (w.token != k_image) r.skip(5);  // collation
      w.type.type = w.token == k_ntext ? SqlType::ntext : w.token == k_text ? SqlType::text : SqlType::image;
      w.type.length = k_max_length;
      return w;
    default:
      break;
  }
  throw ProtocolError(fmt::format("parameter type 0x{:02X} is not supported by the sandbox (udt, tvp)", w.token));
}

Value read_value(ByteReader& r, const WireType& w) {
  if (w.token == k_null_type) return {};
  if (const int n = fixed_length(w.token); n > 0) {
    ColumnType ignored;
    return fixed_value(w.token, r.bytes(static_cast<std::size_t>(n)), &ignored);
  }
  switch (w.token) {
    case k_intn: case k_bitn: case k_fltn: case k_moneyn: case k_datetimn: case k_guid: {
      const std::uint8_t n = r.u8();
      if (n > w.max_length && w.token != k_guid) throw ProtocolError("value longer than its type");
      if (n == 0) return {};
      if (w.token == k_guid) {
        if (n != 16) throw ProtocolError("GUID of length other than 16");
        return guid_from_wire(r.bytes(16).data());
      }
      if (n != fixed_length(w.fixed_token)) throw ProtocolError("value length does not match its type");
      ColumnType ignored;
      return fixed_value(w.fixed_token, r.bytes(n), &ignored);
    }
    case k_decimaln: case k_numericn: {
      const std::uint8_t n = r.u8();
      if (n == 0) return {};
      const auto b = r.bytes(n);
      return decimal_from_wire(b.data(), b.size(), w.type.scale);
    }
    case k_daten: {
      const std::uint8_t n = r.u8();
      if (n == 0) return {};
      if (n != 3) throw ProtocolError("DATEN of length other than 3");
      const auto b = r.bytes(3);
      return format_date(static_cast<std::int64_t>(read_le(b.data(), 3)) + days_from_civil(1, 1, 1));
    }
    case k_timen: {
      const int scale = w.type.scale;
      const std::uint8_t n = r.u8();
      if (n == 0) return {};
      const auto b = r.bytes(n);
      const auto units = static_cast<std::int64_t>(read_le(b.data(), b.size()));
      return format_time(units / pow10(scale), units % pow10(scale), scale);
    }
    case k_datetime2n: case k_datetimeoffsetn: {
      const int scale = w.type.scale;
      const std::uint8_t n = r.u8();
      if (n == 0) return {};
      const auto b = r.bytes(n);
      const std::size_t dt_len = static_cast<std::size_t>(time_bytes(scale)) + 3;
      if (w.token == k_datetimeoffsetn && n != dt_len + 2) throw ProtocolError("bad DATETIMEOFFSETN length");
      if (w.token != k_datetimeoffsetn) return datetime2_from_wire(b.data(), dt_len, scale);
      // datetimeoffset carries UTC time plus the offset: kept as local time and offset.
      const auto offset = static_cast<std::int16_t>(read_le(b.data() + dt_len, 2));
      const auto tb = static_cast<std::size_t>(time_bytes(scale));
      const auto units = static_cast<std::int64_t>(read_le(b.data(), tb));
      std::int64_t days = static_cast<std::int64_t>(read_le(b.data() + tb, 3)) + days_from_civil(1, 1, 1);
      std::int64_t secs = units / pow10(scale) + static_cast<std::int64_t>(offset) * 60;
      if (secs < 0) { secs += 86400; --days; }
      if (secs >= 86400) { secs -= 86400; ++days; }
      const int a = offset < 0 ? -offset : offset;
      return format_date(days) + " " + format_time(secs, units % pow10(scale), scale) +
             fmt::format(" {}{:02}:{:02}", offset < 0 ? '-' : '+', a / 60, a % 60);
    }
    case k_char: case k_varchar: case k_binary: case k_varbinary: {
      const std::uint8_t n = r.u8();
      if (n == 0) return {};
      return text_value(w.type.type, r.bytes(n));
    }
    case k_bigvarbin: case k_bigvarchr: case k_bigbinary: case k_bigchar: case k_nvarchar: case k_nchar:
    case k_xml: {
      if (w.plp) {
        bool is_null = false;
        auto b = read_plp(r, &is_null);
        if (is_null) return {};
        return text_value(w.type.type, b);
      }
      const std::uint16_t n = r.u16();
      if (n == k_null_ushort) return {};
      return text_value(w.type.type, r.bytes(n));
    }
    case k_text: case k_ntext: case k_image: {
      const std::uint32_t n = r.u32();
      if (n == 0xFFFFFFFFu) return {};
      return text_value(w.type.type, r.bytes(n));
    }
    case k_ssvariant: {
      const std::uint32_t n = r.u32();
      if (n == 0) return {};
      if (n > w.max_length || n < 2) throw ProtocolError("SSVARIANT_INSTANCE longer than its type");
      return variant_from_wire(r.bytes(n));
    }
    default:
      break;
  }
  throw ProtocolError(fmt::format("type 0x{:02X} is not supported by the sandbox", w.token));
}

DecodedValue read_type_and_value(ByteReader& r) {
  const WireType w = read_type_info(r);
  DecodedValue out;
  out.type = w.type;
  out.value = read_value(r, w);
  return out;
}

}  // namespace sandbox::tds
