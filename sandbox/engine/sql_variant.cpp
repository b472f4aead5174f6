#include "engine/sql_variant.hpp"

#include <cstdio>
#include <cstdlib>

#include "engine/sqlite_util.hpp"

namespace sandbox::engine {
namespace {

bool is_character(SqlType t) {
  return t == SqlType::varchar || t == SqlType::nvarchar || t == SqlType::char_ || t == SqlType::nchar;
}
bool is_unicode(SqlType t) { return t == SqlType::nvarchar || t == SqlType::nchar; }

int decimal_bytes(int precision) { return precision <= 9 ? 5 : precision <= 19 ? 9 : precision <= 28 ? 13 : 17; }
int time_bytes(int scale) { return scale <= 2 ? 3 : scale <= 4 ? 4 : 5; }

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// UTF-16 code units of UTF-8 text (a character beyond the BMP takes two).
std::size_t utf16_units(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
    if ((c & 0xF8) == 0xF0) ++n;
  }
  return n;
}

// Bytes of the type's largest value (SQL_VARIANT_PROPERTY's MaxLength).
int max_length(const ColumnType& t) {
  switch (t.type) {
    case SqlType::tinyint: case SqlType::bit: return 1;
    case SqlType::smallint: return 2;
    case SqlType::int_: case SqlType::real: case SqlType::smallmoney: case SqlType::smalldatetime: return 4;
    case SqlType::bigint: case SqlType::float_: case SqlType::money: case SqlType::datetime: return 8;
    case SqlType::uniqueidentifier: return 16;
    case SqlType::decimal: return decimal_bytes(t.precision);
    case SqlType::date: return 3;
    case SqlType::time: return time_bytes(t.scale);
    case SqlType::datetime2: return time_bytes(t.scale) + 3;
    case SqlType::datetimeoffset: return time_bytes(t.scale) + 5;
    case SqlType::varchar: case SqlType::char_: case SqlType::varbinary: case SqlType::binary: return t.length;
    case SqlType::nvarchar: case SqlType::nchar: return t.length * 2;
    default: return 0;
  }
}

// Bytes of this value (variable-length types: the value's own).
int value_length(const VariantValue& v) {
  const ColumnType& t = v.base;
  if (auto b = std::get_if<Bytes>(&v.value)) return static_cast<int>(b->data.size());
  if (auto s = std::get_if<std::string>(&v.value); s && is_character(t.type)) {
    return static_cast<int>(is_unicode(t.type) ? 2 * utf16_units(*s) : utf8_chars(*s));
  }
  return max_length(t);
}

// Property bytes of the base type in SSVARIANT_INSTANCE ([MS-TDS] 2.2.5.5.4).
int prop_bytes(SqlType t) {
  switch (t) {
    case SqlType::decimal: return 2;                                         // precision, scale
    case SqlType::time: case SqlType::datetime2: case SqlType::datetimeoffset: return 1;  // scale
    case SqlType::varchar: case SqlType::nvarchar: case SqlType::char_: case SqlType::nchar: return 7;  // max length, collation
    case SqlType::varbinary: case SqlType::binary: return 2;                 // max length
    default: return 0;
  }
}

// Documented precision for each base type ("all other types = 0"); the date/time types
// answer as sys.types shows them (date 10, time(n) 8+n+1, datetime2(n) 19+n+1, ...).
int precision_of(const ColumnType& t) {
  const int frac = t.scale > 0 ? t.scale + 1 : 0;
  switch (t.type) {
    case SqlType::datetime: return 23;
    case SqlType::smalldatetime: return 16;
    case SqlType::float_: return 53;
    case SqlType::real: return 24;
    case SqlType::decimal: return t.precision;
    case SqlType::money: return 19;
    case SqlType::smallmoney: return 10;
    case SqlType::bigint: return 19;
    case SqlType::int_: return 10;
    case SqlType::smallint: return 5;
    case SqlType::tinyint: return 3;
    case SqlType::bit: return 1;
    case SqlType::date: return 10;
    case SqlType::time: return 8 + frac;
    case SqlType::datetime2: return 19 + frac;
    case SqlType::datetimeoffset: return 26 + frac;
    default: return 0;
  }
}

int scale_of(const ColumnType& t) {
  switch (t.type) {
    case SqlType::decimal: return t.scale;
    case SqlType::money: case SqlType::smallmoney: return 4;
    case SqlType::datetime: return 3;
    case SqlType::time: case SqlType::datetime2: case SqlType::datetimeoffset: return t.scale;
    default: return 0;
  }
}

VariantValue int_answer(int n) { return {ColumnType{SqlType::int_, 0, 0, 0}, Value{static_cast<std::int64_t>(n)}}; }
VariantValue sysname_answer(const std::string& s) { return {ColumnType{SqlType::nvarchar, 128, 0, 0}, Value{s}}; }

std::string lower_ascii(std::string s) {
  for (char& c : s) if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

std::optional<std::string> variant_refused_type(const ColumnType& t) {
  // "sql_variant (Transact-SQL)": varchar(max), varbinary(max), nvarchar(max), xml, text,
  // ntext, image, rowversion (timestamp), sql_variant, geography, hierarchyid, geometry,
  // user-defined types and datetimeoffset before SQL Server 2008 cannot be stored.
  switch (t.type) {
    case SqlType::varchar: case SqlType::nvarchar: case SqlType::varbinary:
      if (t.length == k_max_length) return type_to_string(t);
      return std::nullopt;
    case SqlType::text: return std::string("text");
    case SqlType::ntext: return std::string("ntext");
    case SqlType::image: return std::string("image");
    case SqlType::xml: return std::string("xml");
    case SqlType::sql_variant: return std::string("sql_variant");
    default: return std::nullopt;
  }
}

std::string encode_variant(const ColumnType& base, const Value& value) {
  std::string payload;
  if (auto i = std::get_if<std::int64_t>(&value)) {
    payload = std::to_string(*i);
  } else if (auto d = std::get_if<double>(&value)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    payload = buf;
  } else if (auto s = std::get_if<std::string>(&value)) {
    payload = *s;
  } else if (auto b = std::get_if<Bytes>(&value)) {
    static const char* hex = "0123456789abcdef";
    for (auto byte : b->data) {
      payload += hex[byte >> 4];
      payload += hex[byte & 0xF];
    }
  }
  return type_to_string(base) + ":" + payload;
}

std::optional<VariantValue> decode_variant(const std::string& stored) {
  const auto colon = stored.find(':');
  if (colon == std::string::npos) return std::nullopt;
  VariantValue v;
  if (!parse_type(stored.substr(0, colon), v.base) || variant_refused_type(v.base)) return std::nullopt;
  const std::string payload = stored.substr(colon + 1);
  switch (v.base.type) {
    case SqlType::int_: case SqlType::bigint: case SqlType::smallint: case SqlType::tinyint: case SqlType::bit:
      v.value = static_cast<std::int64_t>(std::strtoll(payload.c_str(), nullptr, 10));
      break;
    case SqlType::float_: case SqlType::real:
      v.value = std::strtod(payload.c_str(), nullptr);
      break;
    case SqlType::varbinary: case SqlType::binary: {
      if (payload.size() % 2 != 0) return std::nullopt;
      Bytes b;
      for (std::size_t i = 0; i < payload.size(); i += 2) {
        b.data.push_back(static_cast<std::uint8_t>(std::strtoul(payload.substr(i, 2).c_str(), nullptr, 16)));
      }
      v.value = std::move(b);
      break;
    }
    default:
      v.value = payload;
  }
  return v;
}

std::string variant_base_type_name(const ColumnType& base) {
  const std::string n = type_to_string(base);
  return n.substr(0, n.find('('));
}

std::optional<VariantValue> variant_property(const VariantValue& v, const std::string& property) {
  const std::string p = lower_ascii(property);
  if (p == "basetype") return sysname_answer(variant_base_type_name(v.base));
  if (p == "precision") return int_answer(precision_of(v.base));
  if (p == "scale") return int_answer(scale_of(v.base));
  // The bytes of SSVARIANT_INSTANCE (base type, property count, properties, value): SQL
  // Server counts its on-disk form, which may differ by a byte for the character types.
  if (p == "totalbytes") return int_answer(2 + prop_bytes(v.base.type) + value_length(v));
  if (p == "collation") {
    if (!is_character(v.base.type)) return std::nullopt;
    return sysname_answer(k_variant_collation);
  }
  if (p == "maxlength") return int_answer(max_length(v.base));
  return std::nullopt;
}

}  // namespace sandbox::engine
