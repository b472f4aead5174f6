// Typed arithmetic, comparison and conversion SQL functions (value_ops.hpp).
#include "engine/value_ops.hpp"

#include <memory>
#include <new>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <cctype>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "engine/constraint_errors.hpp"
#include "engine/decimal.hpp"
#include "engine/sql_variant.hpp"
#include "engine/sqlite_util.hpp"
#include "engine/tsql_lexer.hpp"
#include "engine/xml_value.hpp"

namespace sandbox::engine {

bool is_string_type(SqlType t) {
  switch (t) {
    case SqlType::varchar: case SqlType::nvarchar: case SqlType::char_: case SqlType::nchar: case SqlType::text:
    case SqlType::ntext:
      return true;
    default:
      return false;
  }
}
bool is_integer_type(SqlType t) {
  return t == SqlType::int_ || t == SqlType::bigint || t == SqlType::smallint || t == SqlType::tinyint || t == SqlType::bit;
}
bool is_datetime_type(SqlType t) {
  switch (t) {
    case SqlType::datetime: case SqlType::datetime2: case SqlType::smalldatetime: case SqlType::date: case SqlType::time:
    case SqlType::datetimeoffset:
      return true;
    default:
      return false;
  }
}

namespace {

// ---- types as the translator passes them ------------------------------------------------

struct TypeArg {
  bool known = false;
  ColumnType t;
};

TypeArg type_arg(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  std::string s = p ? reinterpret_cast<const char*>(p) : "?";
  static thread_local std::map<std::string, TypeArg> cache;
  auto it = cache.find(s);
  if (it != cache.end()) return it->second;
  TypeArg a;
  if (s != "?") a.known = parse_type(s, a.t);
  cache.emplace(s, a);
  return a;
}

bool is_decimal_like(SqlType t) { return t == SqlType::decimal || t == SqlType::money || t == SqlType::smallmoney; }
bool is_float_like(SqlType t) { return t == SqlType::float_ || t == SqlType::real; }

// SQL Server's name of a type in messages ("int", "numeric", "varchar", "expression").
std::string message_type_name(const TypeArg& a) {
  if (!a.known) return "expression";
  switch (a.t.type) {
    case SqlType::decimal: return "numeric";
    case SqlType::char_: return "char";
    case SqlType::nchar: return "nchar";
    case SqlType::varchar: return "varchar";
    case SqlType::nvarchar: return "nvarchar";
    default: {
      std::string n = type_to_string(a.t);
      return n.substr(0, n.find('('));
    }
  }
}

std::string target_name(const ColumnType& t) {
  if (t.type == SqlType::decimal) return "numeric";
  std::string n = type_to_string(t);
  return n.substr(0, n.find('('));
}

[[noreturn]] void fail(sqlite3_context* ctx, int number, int severity, const std::string& text, int state = 1) {
  Message m;
  m.number = number;
  m.severity = severity;
  m.state = state;
  m.text = text;
  set_function_error(m);
  sqlite3_result_error(ctx, text.c_str(), -1);
  throw 0;  // unwinds to the function's catch (never past SQLite)
}

// Every function body runs inside this: `fail` throws to it after setting the error.
template <typename F>
void guarded(sqlite3_context* ctx, F&& body) {
  try {
    body();
  } catch (int) {
  } catch (const SqlError& e) {
    set_function_error(e.msg);
    sqlite3_result_error(ctx, e.msg.text.c_str(), -1);
  }
}

std::string text_of(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string();
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

void result_text(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::string string_type_word(const TypeArg& a) {
  if (a.known && (a.t.type == SqlType::nvarchar || a.t.type == SqlType::nchar || a.t.type == SqlType::ntext)) return "nvarchar";
  if (a.known && (a.t.type == SqlType::char_)) return "char";
  return "varchar";
}

// ---- reading a value as a number --------------------------------------------------------

std::int64_t integer_min(SqlType t) {
  switch (t) {
    case SqlType::tinyint: return 0;
    case SqlType::smallint: return -32768;
    case SqlType::int_: return -2147483648LL;
    case SqlType::bit: return 0;
    default: return std::numeric_limits<std::int64_t>::min();
  }
}
std::int64_t integer_max(SqlType t) {
  switch (t) {
    case SqlType::tinyint: return 255;
    case SqlType::smallint: return 32767;
    case SqlType::int_: return 2147483647LL;
    case SqlType::bit: return 1;
    default: return std::numeric_limits<std::int64_t>::max();
  }
}

// A string converted to an integer type: SQL Server accepts blanks and a sign, no point.
std::int64_t string_to_integer(sqlite3_context* ctx, const std::string& raw, const TypeArg& from, const ColumnType& to) {
  const std::string s = trim(raw);
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  bool any = false;
  __extension__ typedef __int128 I128;
  I128 v = 0;
  bool too_big = false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') break;
    any = true;
    v = v * 10 + (s[i] - '0');
    if (v > static_cast<I128>(std::numeric_limits<std::int64_t>::max()) + 1) too_big = true;
  }
  const std::string tname = target_name(to);
  if (!any || i != s.size()) {
    fail(ctx, 245, 16, "Conversion failed when converting the " + string_type_word(from) + " value '" + raw +
                           "' to data type " + tname + ".");
  }
  if (neg) v = -v;
  if (too_big || v < integer_min(to.type) || v > integer_max(to.type)) {
    fail(ctx, 248, 16, "The conversion of the " + string_type_word(from) + " value '" + raw + "' overflowed an " +
                           tname + " column. Use a larger integer column.");
  }
  return static_cast<std::int64_t>(v);
}

// The value as a Decimal at its static type's scale (REAL values of decimal columns carry at
// most 15 digits, which from_double restores exactly).
Decimal to_decimal(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from, int scale_hint) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return Decimal::from_int(sqlite3_value_int64(v));
    case SQLITE_FLOAT: {
      const int scale = from.known && is_decimal_like(from.t.type) ? from.t.scale : scale_hint;
      auto d = Decimal::from_double(sqlite3_value_double(v), scale);
      if (!d) fail(ctx, 8115, 16, "Arithmetic overflow error converting float to data type numeric.");
      return *d;
    }
    default: {
      const std::string s = text_of(v);
      auto d = Decimal::parse(s);
      if (!d) fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to numeric.");
      return *d;
    }
  }
}

double to_double(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return static_cast<double>(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return sqlite3_value_double(v);
    default: {
      const std::string s = trim(text_of(v));
      if (from.known && is_decimal_like(from.t.type)) {
        auto d = Decimal::parse(s);
        if (d) return d->to_double();
      }
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || !end || *end != '\0') {
        fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to float.");
      }
      return d;
    }
  }
}

std::int64_t to_integer(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from, const ColumnType& to) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return sqlite3_value_int64(v);
    case SQLITE_FLOAT: {
      const double d = std::trunc(sqlite3_value_double(v));  // float and decimal to int truncate
      if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)) {
        fail(ctx, 8115, 16, "Arithmetic overflow error converting " + message_type_name(from) + " to data type " + target_name(to) + ".");
      }
      return static_cast<std::int64_t>(d);
    }
    default: {
      const std::string s = text_of(v);
      if (from.known && is_decimal_like(from.t.type)) {
        auto d = Decimal::parse(s);
        if (d) {
          auto i = d->to_int64();
          if (!i) fail(ctx, 8115, 16, "Arithmetic overflow error converting numeric to data type " + target_name(to) + ".");
          return *i;
        }
      }
      return string_to_integer(ctx, s, from, to);
    }
  }
}

// A decimal result: a number when a double holds it exactly (precision <= 15), else text.
void result_decimal(sqlite3_context* ctx, const Decimal& d, int precision) {
  if (precision <= 15) {
    if (d.scale() == 0) {
      sqlite3_result_int64(ctx, *d.to_int64());
    } else {
      sqlite3_result_double(ctx, d.to_double());
    }
    return;
  }
  result_text(ctx, d.to_string());
}

DecimalType decimal_type_of(const TypeArg& a, sqlite3_value* v) {
  if (a.known) {
    switch (a.t.type) {
      case SqlType::decimal: return {a.t.precision, a.t.scale};
      case SqlType::money: return {19, 4};
      case SqlType::smallmoney: return {10, 4};
      case SqlType::tinyint: return {3, 0};
      case SqlType::smallint: return {5, 0};
      case SqlType::int_: return {10, 0};
      case SqlType::bigint: return {19, 0};
      case SqlType::bit: return {1, 0};
      default: break;
    }
  }
  if (sqlite3_value_type(v) == SQLITE_INTEGER) return {19, 0};
  const std::string s = text_of(v);
  auto d = Decimal::parse(s);
  if (d) return {std::max(d->digits(), d->scale()), d->scale()};
  return {38, 0};
}

std::string overflow_text(const ColumnType& result) {
  return "Arithmetic overflow error converting expression to data type " + target_name(result) + ".";
}

// ---- m2r_op(op, a, b, type_a, type_b, result_type) --------------------------------------

void fn_op(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    const std::string op = text_of(argv[0]);
    sqlite3_value* a = argv[1];
    sqlite3_value* b = argv[2];
    if (sqlite3_value_type(a) == SQLITE_NULL || sqlite3_value_type(b) == SQLITE_NULL) return sqlite3_result_null(ctx);
    const TypeArg ta = type_arg(argv[3]), tb = type_arg(argv[4]);
    TypeArg tr = type_arg(argv[5]);
    if (op == "^") {
      // Bitwise exclusive OR: integer (or bit) operands only.
      auto integer = [](const TypeArg& t, sqlite3_value* v) {
        return t.known ? is_integer_type(t.t.type) : sqlite3_value_type(v) == SQLITE_INTEGER;
      };
      if (!integer(ta, a) || !integer(tb, b)) {
        const std::string left = ta.known ? message_type_name(ta) : "numeric", right = tb.known ? message_type_name(tb) : "numeric";
        fail(ctx, 402, 16, "The data types " + left + " and " + right + " are incompatible in the '^' operator.");
      }
      return sqlite3_result_int64(ctx, sqlite3_value_int64(a) ^ sqlite3_value_int64(b));
    }
    if (!tr.known) {
      // Unknown at translation: decide from the values, as SQL Server's precedence would.
      const int ka = sqlite3_value_type(a), kb = sqlite3_value_type(b);
      if (ka == SQLITE_TEXT && kb == SQLITE_TEXT && op == "+") {
        return result_text(ctx, text_of(a) + text_of(b));
      }
      tr.known = true;
      auto numeric_text = [](sqlite3_value* v) {
        return sqlite3_value_type(v) == SQLITE_TEXT && Decimal::parse(text_of(v)).has_value();
      };
      const bool a_num = ka == SQLITE_INTEGER || numeric_text(a), b_num = kb == SQLITE_INTEGER || numeric_text(b);
      if (ka == SQLITE_FLOAT || kb == SQLITE_FLOAT) {
        tr.t.type = SqlType::float_;
      } else if ((ka == SQLITE_TEXT || kb == SQLITE_TEXT) && a_num && b_num) {
        // Exact text of an untyped operand (a wide decimal through a view, say): decimal.
        const DecimalType da = decimal_type_of(ta, a), db = decimal_type_of(tb, b);
        const DecimalType r = op == "+" || op == "-" ? decimal_add_type(da, db) : op == "*" ? decimal_mul_type(da, db)
                              : op == "/" ? decimal_div_type(da, db) : decimal_mod_type(da, db);
        tr.t.type = SqlType::decimal;
        tr.t.precision = r.precision;
        tr.t.scale = r.scale;
      } else {
        tr.t.type = SqlType::bigint;
      }
    }
    const SqlType rt = tr.t.type;
    if (is_string_type(rt)) {
      if (op != "+") fail(ctx, 402, 16, "The data types varchar and varchar are incompatible in the " +
                                            std::string(op == "-" ? "subtract" : op == "*" ? "multiply" : op == "/" ? "divide" : "modulo") +
                                            " operator.");
      return result_text(ctx, text_of(a) + text_of(b));
    }
    if (is_float_like(rt)) {
      const double x = to_double(ctx, a, ta), y = to_double(ctx, b, tb);
      double r = 0;
      if ((op == "/" || op == "%") && y == 0) fail(ctx, 8134, 16, "Divide by zero error encountered.");
      if (op == "+") r = x + y;
      else if (op == "-") r = x - y;
      else if (op == "*") r = x * y;
      else if (op == "/") r = x / y;
      else fail(ctx, 402, 16, "The data types float and float are incompatible in the modulo operator.");
      if (!std::isfinite(r)) fail(ctx, 8115, 16, overflow_text(tr.t));
      if (rt == SqlType::real) r = static_cast<double>(static_cast<float>(r));
      return sqlite3_result_double(ctx, r);
    }
    if (is_integer_type(rt)) {
      const std::int64_t x = to_integer(ctx, a, ta, tr.t), y = to_integer(ctx, b, tb, tr.t);
      std::int64_t r = 0;
      bool overflow = false;
      if (op == "+") overflow = __builtin_add_overflow(x, y, &r);
      else if (op == "-") overflow = __builtin_sub_overflow(x, y, &r);
      else if (op == "*") overflow = __builtin_mul_overflow(x, y, &r);
      else {
        if (y == 0) fail(ctx, 8134, 16, "Divide by zero error encountered.");
        if (x == std::numeric_limits<std::int64_t>::min() && y == -1) overflow = true;
        else r = op == "/" ? x / y : x % y;  // both truncate toward zero, as T-SQL's
      }
      if (overflow || r < integer_min(rt == SqlType::bit ? SqlType::tinyint : rt) || r > integer_max(rt == SqlType::bit ? SqlType::tinyint : rt)) {
        fail(ctx, 8115, 16, overflow_text(tr.t));
      }
      return sqlite3_result_int64(ctx, r);
    }
    if (is_decimal_like(rt)) {
      const DecimalType da = decimal_type_of(ta, a), db = decimal_type_of(tb, b);
      const Decimal x = to_decimal(ctx, a, ta, da.scale), y = to_decimal(ctx, b, tb, db.scale);
      DecimalType res{tr.t.precision, tr.t.scale};
      if ((op == "/" || op == "%") && y.is_zero()) fail(ctx, 8134, 16, "Divide by zero error encountered.");
      std::optional<Decimal> r;
      if (op == "+") r = Decimal::add(x, y, res);
      else if (op == "-") r = Decimal::sub(x, y, res);
      else if (op == "*") r = Decimal::mul(x, y, res);
      else if (op == "/") r = Decimal::div(x, y, res);
      else r = Decimal::mod(x, y, res);
      if (!r) fail(ctx, 8115, 16, overflow_text(tr.t));
      return result_decimal(ctx, *r, res.precision);
    }
    fail(ctx, 402, 16, "The data types " + message_type_name(ta) + " and " + message_type_name(tb) +
                           " are incompatible in the " + (op == "+" ? "add" : op == "-" ? "subtract" : op == "*" ? "multiply" : op == "/" ? "divide" : "modulo") + " operator.");
  });
}

// ---- m2r_cast(x, source_type, target_type) ----------------------------------------------

std::string float_to_varchar(double d) {
  // CAST(float AS varchar) style 0: at most 6 significant digits, scientific beyond.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", d);
  std::string s = buf;
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), ex = s.substr(e + 1);
    const char sign = ex[0] == '-' ? '-' : '+';
    if (ex[0] == '-' || ex[0] == '+') ex = ex.substr(1);
    while (ex.size() < 3) ex = "0" + ex;
    s = mant + "e" + sign + ex;
  }
  return s;
}

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++n;
  return n;
}
std::string utf8_prefix(const std::string& s, std::size_t chars) {
  std::size_t n = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == chars) break;
      ++n;
    }
  }
  return s.substr(0, i);
}

// The value as text for a string target (numbers formatted as SQL Server does).
std::string value_as_text(sqlite3_value* v, const TypeArg& from) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: {
      if (from.known && is_decimal_like(from.t.type)) {
        return Decimal::from_int(sqlite3_value_int64(v)).rescaled(from.t.scale)->to_string();
      }
      return std::to_string(sqlite3_value_int64(v));
    }
    case SQLITE_FLOAT: {
      const double d = sqlite3_value_double(v);
      if (from.known && is_decimal_like(from.t.type)) {
        auto dec = Decimal::from_double(d, from.t.scale);
        if (dec) return dec->to_string();
      }
      return float_to_varchar(d);
    }
    default: {
      std::string s = text_of(v);
      if (from.known && is_decimal_like(from.t.type)) {
        auto dec = Decimal::parse(s);
        if (dec) {
          auto r = dec->rescaled(from.t.scale);
          if (r) return r->to_string();
        }
      }
      return s;
    }
  }
}

void convert(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from, const ColumnType& to, const std::string* table,
             const std::string* column);

// ---- sql_variant (sql_variant.hpp) ---------------------------------------------------------

// A value of the connection, owned (sqlite3_value_dup), to hand a variant's base value to convert().
struct OwnedValue {
  sqlite3_value* v = nullptr;
  ~OwnedValue() { sqlite3_value_free(v); }
};

void bind_value(sqlite3_stmt* st, const Value& value) {
  if (auto i = std::get_if<std::int64_t>(&value)) sqlite3_bind_int64(st, 1, *i);
  else if (auto d = std::get_if<double>(&value)) sqlite3_bind_double(st, 1, *d);
  else if (auto s = std::get_if<std::string>(&value)) sqlite3_bind_text(st, 1, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  else if (auto b = std::get_if<Bytes>(&value)) sqlite3_bind_blob(st, 1, b->data.data(), static_cast<int>(b->data.size()), SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, 1);
}

void sqlite_value_of(sqlite3_context* ctx, const Value& value, OwnedValue* out) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx), "SELECT ?1", -1, &st, nullptr) != SQLITE_OK) {
    fail(ctx, 50000, 16, "The sandbox engine could not read a sql_variant value.");
  }
  bind_value(st, value);
  if (sqlite3_step(st) == SQLITE_ROW) out->v = sqlite3_value_dup(sqlite3_column_value(st, 0));
  sqlite3_finalize(st);
  if (!out->v) fail(ctx, 50000, 16, "The sandbox engine could not read a sql_variant value.");
}

// The base type of a value whose static type the translator did not know: by its SQLite
// storage class (an integer is int or bigint, text nvarchar(n), a blob varbinary(n)).
ColumnType base_type_of_storage(sqlite3_value* v) {
  ColumnType t;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: {
      const std::int64_t i = sqlite3_value_int64(v);
      t.type = i < integer_min(SqlType::int_) || i > integer_max(SqlType::int_) ? SqlType::bigint : SqlType::int_;
      break;
    }
    case SQLITE_FLOAT: t.type = SqlType::float_; break;
    case SQLITE_BLOB: {
      t.type = SqlType::varbinary;
      const int n = sqlite3_value_bytes(v);
      t.length = n > 8000 ? k_max_length : std::max(n, 1);
      break;
    }
    default: {
      t.type = SqlType::nvarchar;
      const auto n = static_cast<int>(utf8_chars(text_of(v)));
      t.length = n > 4000 ? k_max_length : std::max(n, 1);
      break;
    }
  }
  return t;
}

// CAST(v AS sql_variant) and a value stored into a sql_variant column or variable: the value
// in its base type's representation, tagged with that type.
std::string variant_of(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from) {
  if (from.known && from.t.type == SqlType::sql_variant) return text_of(v);
  const ColumnType base = from.known ? from.t : base_type_of_storage(v);
  // Msg 206 is "Operand type clash: %ls is incompatible with %ls" (sys.messages); the
  // documentation lists the types a sql_variant cannot hold but shows no error text.
  if (auto refused = variant_refused_type(base)) fail(ctx, 206, 16, "Operand type clash: " + *refused + " is incompatible with sql_variant");
  const int kind = sqlite3_value_type(v);
  Value value;
  const SqlType bt = base.type;
  if (is_integer_type(bt)) {
    value = kind == SQLITE_TEXT ? static_cast<std::int64_t>(std::strtoll(text_of(v).c_str(), nullptr, 10)) : sqlite3_value_int64(v);
  } else if (is_float_like(bt)) {
    double d = sqlite3_value_double(v);
    if (bt == SqlType::real) d = static_cast<double>(static_cast<float>(d));
    value = d;
  } else if (is_decimal_like(bt)) {
    TypeArg f = from;
    f.known = true;
    if (bt == SqlType::money || bt == SqlType::smallmoney) f.t.scale = 4;
    value = value_as_text(v, f);
  } else if (bt == SqlType::varbinary || bt == SqlType::binary) {
    Bytes b;
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
    if (p) b.data.assign(p, p + sqlite3_value_bytes(v));
    if (bt == SqlType::binary && base.length > 0) b.data.resize(static_cast<std::size_t>(base.length), 0);
    value = std::move(b);
  } else if (is_datetime_type(bt)) {
    const std::string s = text_of(v);
    auto norm = normalize_datetime(s, base, nullptr);
    value = norm ? *norm : s;
  } else if (bt == SqlType::uniqueidentifier) {
    value = upper(text_of(v));
  } else {
    // A blob as a character base type: its bytes as the characters (as CAST does).
    std::string s = kind == SQLITE_BLOB ? std::string(static_cast<const char*>(sqlite3_value_blob(v)), static_cast<std::size_t>(sqlite3_value_bytes(v)))
                                        : text_of(v);
    if ((bt == SqlType::char_ || bt == SqlType::nchar) && base.length > 0) {
      const std::size_t n = utf8_chars(s);
      if (n < static_cast<std::size_t>(base.length)) s.append(static_cast<std::size_t>(base.length) - n, ' ');
    }
    value = std::move(s);
  }
  return encode_variant(base, value);
}

void to_variant(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from) {
  if (from.known && from.t.type == SqlType::sql_variant) return sqlite3_result_value(ctx, v);
  result_text(ctx, variant_of(ctx, v, from));
}

// Comparing sql_variants ("sql_variant (Transact-SQL)", "Comparing sql_variant values"): by
// data type family first (date and time > approximate numeric > exact numeric > character >
// binary > uniqueidentifier), then by value within the family.
int variant_family(SqlType t) {
  if (is_datetime_type(t)) return 6;
  if (is_float_like(t)) return 5;
  if (is_integer_type(t) || is_decimal_like(t)) return 4;
  if (is_string_type(t)) return 3;
  if (t == SqlType::varbinary || t == SqlType::binary) return 2;
  return 1;
}

std::string variant_payload_text(const Value& v) {
  if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto s = std::get_if<std::string>(&v)) return *s;
  return {};
}

// Character values compare as the default collation does: case-insensitively, trailing blanks ignored.
std::string collation_key(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int compare_variants(sqlite3_context* ctx, sqlite3_value* a, const TypeArg& ta, sqlite3_value* b, const TypeArg& tb) {
  auto decoded = [&](sqlite3_value* v, const TypeArg& t) {
    auto d = decode_variant(variant_of(ctx, v, t));
    if (!d) d = VariantValue{ColumnType{SqlType::nvarchar, 4000, 0, 0}, Value{text_of(v)}};
    return *d;
  };
  const VariantValue x = decoded(a, ta), y = decoded(b, tb);
  const int fx = variant_family(x.base.type), fy = variant_family(y.base.type);
  if (fx != fy) return fx < fy ? -1 : 1;
  auto sign = [](auto l, auto r) { return l < r ? -1 : r < l ? 1 : 0; };
  switch (fx) {
    case 5: return sign(std::get<double>(x.value), std::get<double>(y.value));
    case 4: {
      auto dx = Decimal::parse(variant_payload_text(x.value)), dy = Decimal::parse(variant_payload_text(y.value));
      if (dx && dy) return dx->compare(*dy);
      return 0;
    }
    case 3: return sign(collation_key(std::get<std::string>(x.value)), collation_key(std::get<std::string>(y.value)));
    case 2: return sign(std::get<Bytes>(x.value).data, std::get<Bytes>(y.value).data);
    default: return sign(variant_payload_text(x.value), variant_payload_text(y.value));  // date/time text, guid text
  }
}

// CAST(v AS type) of a sql_variant: converts from its base type. Storing one into a column of
// another type is an implicit conversion, which SQL Server refuses (257).
void from_variant(sqlite3_context* ctx, sqlite3_value* v, const ColumnType& to, const std::string* table,
                  const std::string* column) {
  if (table) {
    fail(ctx, 257, 16, "Implicit conversion from data type sql_variant to " + message_type_name(TypeArg{true, to}) +
                           " is not allowed. Use the CONVERT function to run this query.");
  }
  auto variant = decode_variant(text_of(v));
  if (!variant) return convert(ctx, v, TypeArg{}, to, table, column);  // not a stored variant: by its value
  OwnedValue base;
  sqlite_value_of(ctx, variant->value, &base);
  convert(ctx, base.v, TypeArg{true, variant->base}, to, table, column);
}

// SQL_VARIANT_PROPERTY(v, property): a sql_variant (BaseType, Collation sysname; the others int).
void fn_variant_property(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) return sqlite3_result_null(ctx);
    auto variant = decode_variant(text_of(argv[0]));
    if (!variant) return sqlite3_result_null(ctx);
    auto answer = variant_property(*variant, text_of(argv[1]));
    if (!answer) return sqlite3_result_null(ctx);
    result_text(ctx, encode_variant(answer->base, answer->value));
  });
}

// Converts `v` (of static type `from`) to `to`; `assign` names the column for 2628 (string
// truncation is an error when storing, silent in CAST).
void convert(sqlite3_context* ctx, sqlite3_value* v, const TypeArg& from, const ColumnType& to, const std::string* table,
             const std::string* column) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return sqlite3_result_null(ctx);
  if (to.type == SqlType::sql_variant) return to_variant(ctx, v, from);
  if (from.known && from.t.type == SqlType::sql_variant) return from_variant(ctx, v, to, table, column);
  const int kind = sqlite3_value_type(v);
  const SqlType tt = to.type;
  if (tt == SqlType::xml) {
    const std::string s = text_of(v);
    if (auto error = xml_parse_error(s)) fail(ctx, error->number, error->severity, error->text);
    return result_text(ctx, s);
  }
  if (tt == SqlType::bit) {
    if (kind == SQLITE_TEXT) {
      const std::string s = lower(trim(text_of(v)));
      if (s == "true") return sqlite3_result_int(ctx, 1);
      if (s == "false") return sqlite3_result_int(ctx, 0);
    }
    if (kind == SQLITE_FLOAT) return sqlite3_result_int(ctx, sqlite3_value_double(v) != 0 ? 1 : 0);
    ColumnType big;
    big.type = SqlType::bigint;
    const std::int64_t i = to_integer(ctx, v, from, kind == SQLITE_TEXT ? to : big);
    return sqlite3_result_int(ctx, i != 0 ? 1 : 0);
  }
  if (is_integer_type(tt)) {
    const std::int64_t i = to_integer(ctx, v, from, to);
    if (i < integer_min(tt) || i > integer_max(tt)) {
      fail(ctx, 8115, 16, "Arithmetic overflow error converting " + message_type_name(from) + " to data type " + target_name(to) + ".");
    }
    return sqlite3_result_int64(ctx, i);
  }
  if (is_decimal_like(tt)) {
    Decimal d;
    if (kind == SQLITE_TEXT && !(from.known && is_decimal_like(from.t.type))) {
      auto p = Decimal::parse(text_of(v));
      if (!p) fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to " + target_name(to) + ".");
      d = *p;
    } else {
      d = to_decimal(ctx, v, from, to.scale);
    }
    const DecimalType t2 = tt == SqlType::decimal ? DecimalType{to.precision, to.scale}
                           : DecimalType{tt == SqlType::money ? 19 : 10, 4};
    auto r = d.rescaled(t2.scale);
    if (!r || !(r->is_zero() || r->digits() <= t2.precision) ||
        (tt == SqlType::smallmoney && std::fabs(r->to_double()) > 214748.3647) ||
        (tt == SqlType::money && std::fabs(r->to_double()) > 922337203685477.5807)) {
      const std::string src = kind == SQLITE_TEXT && !(from.known && is_decimal_like(from.t.type)) ? string_type_word(from)
                              : from.known ? message_type_name(from) : (kind == SQLITE_FLOAT ? "float" : kind == SQLITE_INTEGER ? "int" : "expression");
      fail(ctx, 8115, 16, "Arithmetic overflow error converting " + src + " to data type " + target_name(to) + ".");
    }
    return result_decimal(ctx, *r, t2.precision);
  }
  if (is_float_like(tt)) {
    double d = to_double(ctx, v, from);
    if (tt == SqlType::real) d = static_cast<double>(static_cast<float>(d));
    return sqlite3_result_double(ctx, d);
  }
  if (is_string_type(tt)) {
    if (kind == SQLITE_BLOB && !(from.known && is_string_type(from.t.type))) {
      // binary to varchar: the bytes as characters
      return result_text(ctx, std::string(static_cast<const char*>(sqlite3_value_blob(v)), static_cast<std::size_t>(sqlite3_value_bytes(v))));
    }
    std::string s = value_as_text(v, from);
    if (to.length > 0 && utf8_chars(s) > static_cast<std::size_t>(to.length)) {
      std::string kept = s;
      // Trailing blanks beyond the length are not an error (ANSI_PADDING semantics).
      std::string stripped = s;
      while (!stripped.empty() && stripped.back() == ' ') stripped.pop_back();
      if (table && utf8_chars(stripped) > static_cast<std::size_t>(to.length)) {
        fail(ctx, 2628, 16, "String or binary data would be truncated in table '" + *table + "', column '" + *column +
                                "'. Truncated value: '" + utf8_prefix(s, static_cast<std::size_t>(to.length)) + "'.");
      }
      if (!table && kind != SQLITE_TEXT && !(from.known && is_string_type(from.t.type))) {
        // A number too long for the string: SQL Server gives '*' for int, 8115 otherwise.
        if (from.known && is_integer_type(from.t.type)) return result_text(ctx, "*");
        fail(ctx, 8115, 16, "Arithmetic overflow error converting " + message_type_name(from) + " to data type " + target_name(to) + ".");
      }
      s = utf8_prefix(s, static_cast<std::size_t>(to.length));
    }
    if ((tt == SqlType::char_ || tt == SqlType::nchar) && to.length > 0) {
      const std::size_t n = utf8_chars(s);
      if (n < static_cast<std::size_t>(to.length)) s.append(static_cast<std::size_t>(to.length) - n, ' ');
    }
    return result_text(ctx, s);
  }
  if (is_datetime_type(tt)) {
    std::string s;
    if (kind == SQLITE_INTEGER && !(from.known && is_datetime_type(from.t.type))) {
      // int to datetime: days since 1900-01-01 (SQL Server allows it for datetime only).
      if (tt != SqlType::datetime && tt != SqlType::smalldatetime) {
        fail(ctx, 529, 16, "Explicit conversion from data type int to " + target_name(to) + " is not allowed.");
      }
      const std::int64_t days = sqlite3_value_int64(v);
      std::time_t base = static_cast<std::time_t>((days - 25567) * 86400);  // 1900-01-01 -> 1970-01-01
      std::tm tm{};
      gmtime_r(&base, &tm);
      char buf[96];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d 00:00:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
      s = buf;
    } else {
      s = text_of(v);
    }
    bool out_of_range = false;
    auto norm = normalize_datetime(s, to, &out_of_range);
    if (!norm) {
      if (out_of_range) {
        fail(ctx, 242, 16, "The conversion of a " + string_type_word(from) + " data type to a " + target_name(to) +
                               " data type resulted in an out-of-range value.", 3);
      }
      fail(ctx, 241, 16, "Conversion failed when converting date and/or time from character string.");
    }
    return result_text(ctx, *norm);
  }
  if (tt == SqlType::uniqueidentifier) {
    std::string s = trim(text_of(v));
    if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
    bool ok = s.size() == 36;
    for (std::size_t i = 0; ok && i < s.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      ok = dash ? s[i] == '-' : std::isxdigit(static_cast<unsigned char>(s[i])) != 0;
    }
    if (!ok) fail(ctx, 8169, 16, "Conversion failed when converting from a character string to uniqueidentifier.");
    return result_text(ctx, upper(s));
  }
  if (tt == SqlType::varbinary || tt == SqlType::binary || tt == SqlType::image) {
    std::string bytes;
    if (kind == SQLITE_INTEGER && !(from.known && is_string_type(from.t.type))) {
      // int to binary: big-endian bytes of the integer's own size
      const std::int64_t i = sqlite3_value_int64(v);
      const int n = from.known && from.t.type == SqlType::bigint ? 8 : from.known && from.t.type == SqlType::smallint ? 2
                    : from.known && from.t.type == SqlType::tinyint ? 1 : 4;
      for (int k = n - 1; k >= 0; --k) bytes += static_cast<char>((static_cast<std::uint64_t>(i) >> (8 * k)) & 0xFF);
    } else {
      bytes.assign(static_cast<const char*>(sqlite3_value_blob(v)) ? static_cast<const char*>(sqlite3_value_blob(v)) : "",
                   static_cast<std::size_t>(sqlite3_value_bytes(v)));
    }
    if (to.length > 0 && bytes.size() > static_cast<std::size_t>(to.length)) {
      if (table) {
        fail(ctx, 2628, 16, "String or binary data would be truncated in table '" + *table + "', column '" + *column +
                                "'. Truncated value: ''.");
      }
      bytes.resize(static_cast<std::size_t>(to.length));
    }
    if (tt == SqlType::binary && to.length > 0) bytes.resize(static_cast<std::size_t>(to.length), '\0');
    return sqlite3_result_blob(ctx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  sqlite3_result_value(ctx, v);
}

void fn_cast(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    const TypeArg from = type_arg(argv[1]), to = type_arg(argv[2]);
    if (!to.known) return sqlite3_result_value(ctx, argv[0]);
    convert(ctx, argv[0], from, to.t, nullptr, nullptr);
  });
}

// CONVERT(type, x, style) with the styles validation relies on (README.md "Types and values"):
// float/real 0-3, money 0-2, binary <-> string 0-2, date/time 20/21/23/120/121/126/127. Other
// styles convert as CONVERT without a style does.
std::string float_style(double d, int style) {
  if (style != 1 && style != 2 && style != 3) return float_to_varchar(d);
  // 1: 8 digits, 2: 16 digits, scientific with a three-digit exponent ("1.0000000e+000");
  // 3: 17 digits, lossless ("1.0000000000000000E+0").
  const int digits = style == 1 ? 8 : style == 2 ? 16 : 17;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, d);
  std::string s = buf;
  const auto e = s.find('e');
  std::string mant = s.substr(0, e), ex = s.substr(e + 1);
  const char sign = ex[0] == '-' ? '-' : '+';
  ex = ex.substr(1);
  while (ex.size() > 1 && ex[0] == '0') ex = ex.substr(1);
  if (style == 3) return mant + "E" + sign + ex;
  while (ex.size() < 3) ex = "0" + ex;
  return mant + "e" + sign + ex;
}

std::string money_style(const std::string& four_places, int style) {
  if (style == 2) return four_places;
  // 0 and 1: two digits after the point, rounded half away from zero; 1 adds thousands separators.
  auto d = Decimal::parse(four_places);
  std::string two = d ? (d->rescaled(2) ? d->rescaled(2)->to_string() : four_places) : four_places;
  if (style != 1) return two;
  const bool neg = !two.empty() && two[0] == '-';
  std::string digits = two.substr(neg ? 1 : 0);
  const auto point = digits.find('.');
  std::string whole = digits.substr(0, point), rest = point == std::string::npos ? "" : digits.substr(point);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return (neg ? "-" : "") + grouped + rest;
}

std::string hex_of(const std::string& bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void fn_cast_style(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    const TypeArg from = type_arg(argv[1]), to = type_arg(argv[2]);
    if (sqlite3_value_type(argv[3]) == SQLITE_NULL) return sqlite3_result_null(ctx);  // a NULL style gives NULL
    const int style = static_cast<int>(sqlite3_value_int64(argv[3]));
    if (!to.known) return sqlite3_result_value(ctx, argv[0]);
    const int kind = sqlite3_value_type(argv[0]);
    if (kind == SQLITE_NULL) return sqlite3_result_null(ctx);
    if (is_string_type(to.t.type) && from.known) {
      std::optional<std::string> text;
      const SqlType ft = from.t.type;
      if (is_float_like(ft)) text = float_style(sqlite3_value_double(argv[0]), style);
      else if (ft == SqlType::money || ft == SqlType::smallmoney) text = money_style(value_as_text(argv[0], from), style);
      else if ((ft == SqlType::binary || ft == SqlType::varbinary || ft == SqlType::image) && (style == 1 || style == 2)) {
        const std::string bytes(static_cast<const char*>(sqlite3_value_blob(argv[0])) ? static_cast<const char*>(sqlite3_value_blob(argv[0])) : "",
                                static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
        text = (style == 1 ? "0x" : "") + hex_of(bytes);
      } else if (is_datetime_type(ft)) {
        std::string stored = text_of(argv[0]);
        if (style == 20 || style == 120) text = stored.substr(0, std::min<std::size_t>(stored.size(), 19));
        else if (style == 23) text = stored.substr(0, std::min<std::size_t>(stored.size(), 10));
        else if ((style == 126 || style == 127) && stored.size() > 10 && stored[10] == ' ') text = stored.replace(10, 1, "T");
        else text = stored;  // 21, 121: the stored form; others are not modelled and give it too
      }
      if (text) {
        if (to.t.length > 0 && utf8_chars(*text) > static_cast<std::size_t>(to.t.length)) *text = utf8_prefix(*text, static_cast<std::size_t>(to.t.length));
        return result_text(ctx, *text);
      }
    }
    if ((to.t.type == SqlType::binary || to.t.type == SqlType::varbinary) && kind == SQLITE_TEXT && (style == 1 || style == 2)) {
      // Hex digits (style 1 with its 0x prefix, style 2 without) to the bytes they spell.
      std::string hex = trim(text_of(argv[0]));
      const bool prefixed = hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X');
      if (style == 1 && !prefixed) fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to " + target_name(to.t) + ".");
      if (prefixed) hex = hex.substr(2);
      if (hex.size() % 2) fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to " + target_name(to.t) + ".");
      std::string bytes;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (!std::isxdigit(static_cast<unsigned char>(hex[i])) || !std::isxdigit(static_cast<unsigned char>(hex[i + 1]))) {
          fail(ctx, 8114, 16, "Error converting data type " + string_type_word(from) + " to " + target_name(to.t) + ".");
        }
        bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      }
      if (to.t.length > 0 && bytes.size() > static_cast<std::size_t>(to.t.length)) bytes.resize(static_cast<std::size_t>(to.t.length));
      if (to.t.type == SqlType::binary && to.t.length > 0) bytes.resize(static_cast<std::size_t>(to.t.length), '\0');
      return sqlite3_result_blob(ctx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    }
    convert(ctx, argv[0], from, to.t, nullptr, nullptr);
  });
}

void fn_assign(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    const TypeArg from = type_arg(argv[1]), to = type_arg(argv[2]);
    if (!to.known) return sqlite3_result_value(ctx, argv[0]);
    const std::string table = text_of(argv[3]), column = text_of(argv[4]);
    convert(ctx, argv[0], from, to.t, &table, &column);
    // Kept for "The duplicate key value is (...)" should this row violate a key.
    const std::string sqlite_table = table.rfind("dbo.", 0) == 0 ? table.substr(4) : table;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) note_assigned_value(sqlite_table, column, "<NULL>");
    else note_assigned_value(sqlite_table, column, value_as_text(argv[0], from));
  });
}

// ---- m2r_cmp(a, b, type_a, type_b) -------------------------------------------------------

void fn_cmp(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    sqlite3_value* a = argv[0];
    sqlite3_value* b = argv[1];
    if (sqlite3_value_type(a) == SQLITE_NULL || sqlite3_value_type(b) == SQLITE_NULL) return sqlite3_result_null(ctx);
    const TypeArg ta = type_arg(argv[2]), tb = type_arg(argv[3]);
    if ((ta.known && ta.t.type == SqlType::sql_variant) || (tb.known && tb.t.type == SqlType::sql_variant)) {
      return sqlite3_result_int(ctx, compare_variants(ctx, a, ta, b, tb));
    }
    const bool af = sqlite3_value_type(a) == SQLITE_FLOAT && !(ta.known && is_decimal_like(ta.t.type));
    const bool bf = sqlite3_value_type(b) == SQLITE_FLOAT && !(tb.known && is_decimal_like(tb.t.type));
    if ((ta.known && is_float_like(ta.t.type)) || (tb.known && is_float_like(tb.t.type)) || af || bf) {
      const double x = to_double(ctx, a, ta), y = to_double(ctx, b, tb);
      return sqlite3_result_int(ctx, x < y ? -1 : x > y ? 1 : 0);
    }
    const Decimal x = to_decimal(ctx, a, ta, decimal_type_of(ta, a).scale);
    const Decimal y = to_decimal(ctx, b, tb, decimal_type_of(tb, b).scale);
    sqlite3_result_int(ctx, x.compare(y));
  });
}

// ---- exact aggregates ---------------------------------------------------------------------

struct DecAgg {
  bool any = false;
  bool failed = false;
  Decimal value;
  std::int64_t count = 0;
};

// SQLite's aggregate context is zeroed memory aligned for 8 bytes; a Decimal holds an
// __int128 (16). The context holds a pointer to a state of our own instead, which the final
// call (SQLite makes exactly one per aggregate) takes back.
DecAgg* agg_state(sqlite3_context* ctx) {
  auto** slot = static_cast<DecAgg**>(sqlite3_aggregate_context(ctx, sizeof(DecAgg*)));
  if (slot == nullptr) throw std::bad_alloc();
  if (*slot == nullptr) *slot = new DecAgg();
  return *slot;
}
std::unique_ptr<DecAgg> take_state(sqlite3_context* ctx) {
  auto** slot = static_cast<DecAgg**>(sqlite3_aggregate_context(ctx, 0));
  if (slot == nullptr) return nullptr;
  std::unique_ptr<DecAgg> st(*slot);
  *slot = nullptr;
  return st;
}

void sum_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    DecAgg* st = agg_state(ctx);
    const TypeArg t = type_arg(argv[1]);
    const Decimal d = to_decimal(ctx, argv[0], t, decimal_type_of(t, argv[0]).scale);
    if (!st->any) {
      st->value = d;
      st->any = true;
    } else {
      auto r = Decimal::add(st->value, d, {38, std::max(st->value.scale(), d.scale())});
      if (!r) fail(ctx, 8115, 16, "Arithmetic overflow error converting expression to data type numeric.");
      st->value = *r;
    }
    ++st->count;
  });
}

void minmax_step(sqlite3_context* ctx, sqlite3_value** argv, int sign) {
  guarded(ctx, [&] {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    DecAgg* st = agg_state(ctx);
    const TypeArg t = type_arg(argv[1]);
    const Decimal d = to_decimal(ctx, argv[0], t, decimal_type_of(t, argv[0]).scale);
    if (!st->any || d.compare(st->value) * sign > 0) st->value = d;
    st->any = true;
  });
}
void min_step(sqlite3_context* ctx, int, sqlite3_value** argv) { minmax_step(ctx, argv, -1); }
void max_step(sqlite3_context* ctx, int, sqlite3_value** argv) { minmax_step(ctx, argv, 1); }

// The result type's precision decides the representation; the translator passes the
// argument type, and SUM/MIN/MAX keep its scale (SUM widens to 38 digits).
void sum_final(sqlite3_context* ctx) {
  const auto st = take_state(ctx);
  if (!st || !st->any) return sqlite3_result_null(ctx);
  result_decimal(ctx, st->value, 38);
}
void minmax_final(sqlite3_context* ctx) {
  const auto st = take_state(ctx);
  if (!st || !st->any) return sqlite3_result_null(ctx);
  result_decimal(ctx, st->value, 38);
}
void avg_final(sqlite3_context* ctx) {
  const auto st = take_state(ctx);
  guarded(ctx, [&] {
    if (!st || !st->any) return sqlite3_result_null(ctx);
    const int scale = std::max(st->value.scale(), 6);
    auto r = Decimal::div(st->value, Decimal::from_int(st->count), {38, scale});
    if (!r) fail(ctx, 8115, 16, "Arithmetic overflow error converting expression to data type numeric.");
    result_decimal(ctx, *r, 38);
  });
}

// m2r_xml_check(x): 1, or SQL Server's XML parsing error. The CHECK of every xml column
// (ddl.cpp), so that INSERT ... SELECT and UPDATE are checked as INSERT ... VALUES is.
void fn_xml_check(sqlite3_context* ctx, int, sqlite3_value** argv) {
  guarded(ctx, [&] {
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
      if (auto error = xml_parse_error(text_of(argv[0]))) fail(ctx, error->number, error->severity, error->text);
    }
    sqlite3_result_int(ctx, 1);
  });
}

}  // namespace

void register_value_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function_v2(db, "m2r_xml_check", 1, flags, nullptr, fn_xml_check, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_op", 6, flags, nullptr, fn_op, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_cast", 3, flags, nullptr, fn_cast, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_cast", 4, flags, nullptr, fn_cast_style, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_assign", 5, flags, nullptr, fn_assign, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_variant_property", 2, flags, nullptr, fn_variant_property, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_cmp", 4, flags, nullptr, fn_cmp, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_dec_sum", 2, flags, nullptr, nullptr, sum_step, sum_final, nullptr);
  sqlite3_create_function_v2(db, "m2r_dec_avg", 2, flags, nullptr, nullptr, sum_step, avg_final, nullptr);
  sqlite3_create_function_v2(db, "m2r_dec_min", 2, flags, nullptr, nullptr, min_step, minmax_final, nullptr);
  sqlite3_create_function_v2(db, "m2r_dec_max", 2, flags, nullptr, nullptr, max_step, minmax_final, nullptr);
}

// ---- date/time literals -------------------------------------------------------------------

namespace {

bool digits_at(const std::string& s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool valid_date(int y, int m, int d) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

}  // namespace

namespace {

// The parts of a date/time character string, before it is rounded to a type.
struct DateTimeParts {
  int y = 1900, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  std::int64_t frac7 = 0;  // 100 ns units
  int off_min = 0;
  bool has_offset = false;
};

// hh:mm[:ss[.fffffff | :fff]] [AM|PM], or hh AM|PM, starting at i. On success i is past it.
bool parse_time_of_day(const std::string& s, std::size_t& i, DateTimeParts& result) {
  DateTimeParts p = result;  // result is changed only when a time is there
  auto digits_from = [&](std::size_t at, int max_digits, int* out) {
    int n = 0, v = 0;
    while (at + n < s.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s[at + n]))) v = v * 10 + (s[at + n++] - '0');
    *out = v;
    return n;
  };
  std::size_t j = i;
  int n = digits_from(j, 2, &p.h);
  if (n == 0) return false;
  j += n;
  bool has_minutes = false;
  if (j < s.size() && s[j] == ':') {
    n = digits_from(j + 1, 2, &p.mi);
    if (n == 0) return false;
    j += 1 + n;
    has_minutes = true;
    if (j < s.size() && s[j] == ':') {
      n = digits_from(j + 1, 2, &p.sec);
      if (n == 0) return false;
      j += 1 + n;
      if (j < s.size() && (s[j] == '.' || s[j] == ':')) {  // ':' is the datetime milliseconds form
        ++j;
        int count = 0;
        std::int64_t f = 0, extra = 0;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
          if (count < 7) f = f * 10 + (s[j] - '0');
          else if (count == 7) extra = s[j] - '0';
          ++count;
          ++j;
        }
        for (int k = count; k < 7; ++k) f *= 10;
        if (extra >= 5) ++f;
        p.frac7 = f;
      }
    }
  }
  std::size_t k = j;
  while (k < s.size() && s[k] == ' ') ++k;
  const std::string meridiem = k + 1 < s.size() ? upper(s.substr(k, 2)) : std::string();
  const bool has_meridiem = (meridiem == "AM" || meridiem == "PM") &&
                            (k + 2 == s.size() || !std::isalpha(static_cast<unsigned char>(s[k + 2])));
  if (!has_minutes && !has_meridiem) return false;  // a number alone is not a time
  if (p.h > 23 || p.mi > 59 || p.sec > 59) return false;
  if (has_meridiem) {
    if (p.h > 12) return false;
    if (meridiem == "PM" && p.h < 12) p.h += 12;
    if (meridiem == "AM" && p.h == 12) p.h = 0;
    j = k + 2;
  }
  i = j;
  result = p;
  return true;
}

// The ISO forms: YYYY-MM-DD, YYYYMMDD or no date, then [T| ]time, then an offset.
bool parse_iso_datetime(const std::string& s, DateTimeParts& p) {
  std::size_t i = 0;
  bool has_date = false;
  if (s.size() >= 10 && s[4] == '-' && s[7] == '-') {
    if (!digits_at(s, 0, 4, &p.y) || !digits_at(s, 5, 2, &p.mo) || !digits_at(s, 8, 2, &p.d)) return false;
    i = 10;
    has_date = true;
  } else if (s.size() >= 8 && digits_at(s, 0, 8, &p.y) && (s.size() == 8 || !std::isdigit(static_cast<unsigned char>(s[8])))) {
    const int all = p.y;
    p.y = all / 10000;
    p.mo = (all / 100) % 100;
    p.d = all % 100;
    i = 8;
    has_date = true;
  }
  if (has_date && !valid_date(p.y, p.mo, p.d)) return false;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
  }
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (!parse_time_of_day(s, i, p)) return false;
  } else if (!has_date) {
    return false;
  }
  while (i < s.size() && s[i] == ' ') ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == 'Z')) {
    if (s[i] == 'Z') {
      ++i;
    } else {
      int oh = 0, om = 0;
      const bool neg = s[i] == '-';
      if (!digits_at(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits_at(s, i + 4, 2, &om)) return false;
      if (oh > 14 || om > 59) return false;
      p.off_min = (neg ? -1 : 1) * (oh * 60 + om);
      i += 6;
    }
    p.has_offset = true;
  }
  while (i < s.size() && s[i] == ' ') ++i;
  return i == s.size();
}

int month_number(const std::string& word) {
  static const char* const names[] = {"JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
                                      "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"};
  const std::string w = upper(word);
  for (int m = 0; m < 12; ++m) {
    const std::string full = names[m];
    if (w == full || (w.size() == 3 && full.compare(0, 3, w) == 0)) return m + 1;
  }
  return 0;
}

// A two-digit year, by the default "two digit year cutoff" of 2049.
int full_year(int year, int digits) { return digits <= 2 ? (year < 50 ? 2000 + year : 1900 + year) : year; }

// The other forms of "Supported string literal formats for datetime" under DATEFORMAT mdy:
// numeric dates (4/15/1996, 4-15-96, 4.15.1996, 1996/4/15, 2011-12-4), alphabetic dates
// (Apr 15 1996, 15 April, 1996, Sep 11 2001), unseparated (960415, 1996), each with an
// optional time of day (10:00AM, 10 PM, 23:59:59.997), or a time alone.
bool parse_general_datetime(const std::string& s, DateTimeParts& p) {
  std::size_t i = 0;
  struct Number { int value; int digits; };
  std::vector<Number> numbers;
  std::vector<char> separators;  // the separator after each number of a numeric date
  int month = 0;
  bool has_time = false;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == ',') {
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
      const int m = month_number(s.substr(i, j - i));
      if (m == 0 || month != 0) return false;
      month = m;
      i = j;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    std::size_t j = i;
    if (!has_time && parse_time_of_day(s, j, p)) {
      has_time = true;
      i = j;
      continue;
    }
    if (has_time) return false;  // nothing but the time after the time
    j = i;
    int v = 0, n = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      if (++n > 8) return false;
      v = v * 10 + (s[j++] - '0');
    }
    numbers.push_back({v, n});
    if (j < s.size() && (s[j] == '/' || s[j] == '-' || s[j] == '.')) {
      separators.push_back(s[j]);
      ++j;
      if (j >= s.size() || !std::isdigit(static_cast<unsigned char>(s[j]))) return false;
    }
    i = j;
  }
  if (month != 0) {
    if (!separators.empty() || numbers.empty() || numbers.size() > 2) return false;
    // A four-digit number is the year; of two short ones the first is the day.
    Number day{1, 1}, year{0, 0};
    if (numbers.size() == 1) {
      if (numbers[0].digits != 4) return false;
      year = numbers[0];
    } else if (numbers[0].digits == 4) {
      year = numbers[0];
      day = numbers[1];
    } else {
      day = numbers[0];
      year = numbers[1];
    }
    if (day.digits > 2 || (year.digits != 2 && year.digits != 4)) return false;
    p.y = full_year(year.value, year.digits);
    p.mo = month;
    p.d = day.value;
  } else if (numbers.size() == 3 && separators.size() == 2 && separators[0] == separators[1]) {
    if (numbers[0].digits == 4) {  // y/m/d
      p.y = numbers[0].value;
      p.mo = numbers[1].value;
      p.d = numbers[2].value;
      if (numbers[1].digits > 2 || numbers[2].digits > 2) return false;
    } else {  // m/d/y
      if (numbers[0].digits > 2 || numbers[1].digits > 2 || (numbers[2].digits != 2 && numbers[2].digits != 4)) return false;
      p.mo = numbers[0].value;
      p.d = numbers[1].value;
      p.y = full_year(numbers[2].value, numbers[2].digits);
    }
  } else if (numbers.size() == 1 && separators.empty() && (numbers[0].digits == 6 || numbers[0].digits == 4)) {
    if (numbers[0].digits == 4) {
      p.y = numbers[0].value;
    } else {
      p.y = full_year(numbers[0].value / 10000, 2);
      p.mo = (numbers[0].value / 100) % 100;
      p.d = numbers[0].value % 100;
    }
  } else if (!(numbers.empty() && has_time)) {
    return false;
  }
  return valid_date(p.y, p.mo, p.d);
}

}  // namespace

std::optional<std::string> normalize_datetime(const std::string& raw, const ColumnType& type, bool* out_of_range) {
  if (out_of_range) *out_of_range = false;
  const std::string s = trim(raw);
  DateTimeParts p;
  if (!parse_iso_datetime(s, p)) {
    p = DateTimeParts{};
    if (!parse_general_datetime(s, p)) return std::nullopt;
  }
  if (p.has_offset && type.type != SqlType::datetimeoffset && type.type != SqlType::datetime2 && type.type != SqlType::date &&
      type.type != SqlType::time) {
    return std::nullopt;  // datetime/smalldatetime reject an offset
  }
  int y = p.y, mo = p.mo, d = p.d, h = p.h, mi = p.mi, sec = p.sec;
  std::int64_t frac7 = p.frac7;
  const int off_min = p.off_min;
  char buf[96];
  auto frac_text = [&](int scale, std::int64_t f7) {
    if (scale <= 0) return std::string();
    std::int64_t div = 1;
    for (int k = scale; k < 7; ++k) div *= 10;
    std::string digits = std::to_string(f7 / div);
    if (digits.size() < static_cast<std::size_t>(scale)) digits.insert(0, static_cast<std::size_t>(scale) - digits.size(), '0');
    return "." + digits;
  };
  // Rounding a fraction to fewer digits may carry into the seconds (and the day).
  auto carry_round = [&](int scale) {
    std::int64_t div = 1;
    for (int k = scale; k < 7; ++k) div *= 10;
    std::int64_t units = (frac7 + div / 2) / div;
    frac7 = units * div;
    if (frac7 >= 10'000'000) {
      frac7 -= 10'000'000;
      if (++sec == 60) { sec = 0; if (++mi == 60) { mi = 0; if (++h == 24) { h = 0; ++d; if (!valid_date(y, mo, d)) { d = 1; if (++mo == 13) { mo = 1; ++y; } } } } }
    }
  };
  switch (type.type) {
    case SqlType::date:
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
      return std::string(buf);
    case SqlType::time: {
      carry_round(type.scale);
      std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", h, mi, sec);
      return std::string(buf) + frac_text(type.scale, frac7);
    }
    case SqlType::datetime: {
      if (y < 1753) {
        if (out_of_range) *out_of_range = true;
        return std::nullopt;
      }
      // 1/300 s ticks, shown as .000/.003/.007
      const std::int64_t ticks = (frac7 * 300 + 5'000'000) / 10'000'000;
      if (ticks >= 300) {
        frac7 = 10'000'000;
        carry_round(7);
      } else {
        frac7 = ((ticks * 1000 + 150) / 300) * 10'000;
      }
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, sec);
      return std::string(buf) + frac_text(3, frac7);
    }
    case SqlType::smalldatetime: {
      if (y < 1900 || y > 2079 || (y == 2079 && (mo > 6 || (mo == 6 && d > 6)))) {
        if (out_of_range) *out_of_range = true;
        return std::nullopt;
      }
      if (sec * 10'000'000LL + frac7 >= 295'000'000LL) {  // 29.998 s and more rounds up
        sec = 0;
        frac7 = 0;
        if (++mi == 60) { mi = 0; if (++h == 24) { h = 0; ++d; if (!valid_date(y, mo, d)) { d = 1; if (++mo == 13) { mo = 1; ++y; } } } }
      }
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:00", y, mo, d, h, mi);
      return std::string(buf);
    }
    case SqlType::datetimeoffset: {
      carry_round(type.scale);
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, sec);
      char off[48];
      const int a = std::abs(off_min);
      std::snprintf(off, sizeof off, " %c%02d:%02d", off_min < 0 ? '-' : '+', a / 60, a % 60);
      return std::string(buf) + frac_text(type.scale, frac7) + off;
    }
    default: {  // datetime2
      carry_round(type.scale);
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, sec);
      return std::string(buf) + frac_text(type.scale, frac7);
    }
  }
}

}  // namespace sandbox::engine
