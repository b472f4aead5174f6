// Token-wise translation of T-SQL expressions and DML to SQLite (README.md "Translation").
#include <set>

#include "engine/constraint_errors.hpp"
#include "engine/decimal.hpp"
#include "engine/tempdb.hpp"
#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/value_ops.hpp"

namespace sandbox::engine {

namespace {

// T-SQL type (tokens b..e) to a SQLite CAST target.
std::string sqlite_cast_type(const std::vector<Token>& t, std::size_t b, std::size_t e, ColumnType* out) {
  std::string decl;
  for (std::size_t i = b; i < e; ++i) decl += t[i].text;
  ColumnType ct;
  if (!parse_type(decl, ct)) raise(243, 16, "Type " + decl + " is not a defined system type.");
  if (out) *out = ct;
  switch (ct.type) {
    case SqlType::int_: case SqlType::bigint: case SqlType::smallint: case SqlType::tinyint: case SqlType::bit:
      return "INTEGER";
    case SqlType::float_: case SqlType::real: return "REAL";
    case SqlType::decimal: case SqlType::money: case SqlType::smallmoney: return "NUMERIC";
    case SqlType::varbinary: case SqlType::binary: case SqlType::image: return "BLOB";
    default: return "TEXT";
  }
}

const std::set<std::string> k_hints = {"INDEX", "NOLOCK", "READUNCOMMITTED", "ROWLOCK", "UPDLOCK", "HOLDLOCK", "TABLOCK", "TABLOCKX",
                                       "READPAST", "XLOCK", "PAGLOCK", "NOWAIT", "SERIALIZABLE", "READCOMMITTED",
                                       "REPEATABLEREAD"};

bool is_hint_group(const std::vector<Token>& t, std::size_t open, std::size_t end) {
  if (open + 1 >= end || !is_sym(t[open], "(")) return false;
  return t[open + 1].kind == TokKind::word && k_hints.count(upper(t[open + 1].text));
}

}  // namespace

// ---- static types of expressions (README.md "Types and values") -------------------------
//
// The translator types what it can: literals, variables, CAST/CONVERT, the columns of the
// tables the statement names, and the operators over them, so that m2r_op/m2r_cast get the
// T-SQL types and compute exactly (value_ops.hpp). What it cannot type is "?" and decided
// from the values at run time.

namespace {

using ColumnScope = std::map<std::string, ColumnType>;  // lower-case column name -> type
thread_local const ColumnScope* t_scope = nullptr;
thread_local int t_translate_depth = 0;
thread_local bool t_plain = false;  // CREATE/ALTER TABLE: CHECK/DEFAULT stay plain SQLite

ColumnType mk_type(SqlType ty, int len = 0, int p = 0, int s = 0) {
  ColumnType c;
  c.type = ty;
  c.length = len;
  c.precision = p;
  c.scale = s;
  return c;
}

std::string type_code(const std::optional<ColumnType>& t) { return t ? type_to_string(*t) : "?"; }

bool is_arith_op(const Token& t) {
  // ^ (bitwise exclusive OR) has no SQLite operator: m2r_op computes it, at the precedence of + and -.
  return t.kind == TokKind::symbol &&
         (t.text == "+" || t.text == "-" || t.text == "*" || t.text == "/" || t.text == "%" || t.text == "^");
}
bool is_cmp_op(const Token& t) {
  return t.kind == TokKind::symbol && (t.text == "=" || t.text == "<>" || t.text == "!=" || t.text == "<" ||
                                       t.text == ">" || t.text == "<=" || t.text == ">=");
}

const std::set<std::string>& non_operand_words() {
  static const std::set<std::string> w = {
      "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "AS", "ON", "JOIN", "INNER",
      "LEFT", "RIGHT", "OUTER", "FULL", "CROSS", "GROUP", "BY", "ORDER", "HAVING", "ASC", "DESC", "UNION", "ALL",
      "DISTINCT", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "WHEN", "THEN", "ELSE", "END", "EXISTS",
      "DEFAULT", "ESCAPE", "EXCEPT", "INTERSECT", "OFFSET", "ROWS", "ROW", "FETCH", "NEXT", "ONLY", "OVER", "PARTITION",
      "COLLATE", "WITH", "TOP", "PERCENT", "TIES", "OUTPUT", "USING", "TABLE", "KEY", "PRIMARY", "REFERENCES",
      "CHECK", "UNIQUE", "CONSTRAINT", "IDENTITY", "RETURN", "PRINT", "DECLARE", "EXEC", "EXECUTE", "IF", "WHILE",
      "BEGIN", "GO", "NULL"};
  return w;
}

// Does t[i] start an operand (a primary, perhaps after unary signs)?
bool starts_operand(const std::vector<Token>& t, std::size_t i, std::size_t end) {
  if (i >= end) return false;
  const Token& k = t[i];
  switch (k.kind) {
    case TokKind::number: case TokKind::string: case TokKind::variable: case TokKind::ident_quoted: return true;
    case TokKind::word: return !non_operand_words().count(upper(k.text)) || k.is("NULL");
    case TokKind::symbol:
      if (k.text == "(") return !(i + 1 < end && t[i + 1].is("SELECT"));
      return false;
    default: return false;
  }
}

// The end (exclusive) of the primary at t[i], or i when there is none.
std::size_t primary_end(const std::vector<Token>& t, std::size_t i, std::size_t end) {
  if (!starts_operand(t, i, end)) return i;
  const Token& k = t[i];
  if (is_sym(k, "(")) return match_paren(t, i, end) + 1;
  if (k.kind == TokKind::word && k.is("CASE")) {
    int d = 0;
    for (std::size_t j = i; j < end; ++j) {
      if (t[j].is("CASE")) ++d;
      else if (t[j].is("END") && --d == 0) return j + 1;
    }
    return i;
  }
  if (k.kind == TokKind::word || k.kind == TokKind::ident_quoted) {
    std::size_t j = i + 1;
    while (j + 1 < end && is_sym(t[j], ".") && t[j + 1].is_name()) j += 2;
    if (j < end && is_sym(t[j], ".")) return i;  // t.* and the like: not an operand
    if (j < end && is_sym(t[j], "(")) j = match_paren(t, j, end) + 1;
    return j;
  }
  return i + 1;
}

// An operand: unary signs then a primary. Returns its end (== i when none).
std::size_t operand_end(const std::vector<Token>& t, std::size_t i, std::size_t end) {
  std::size_t j = i;
  while (j < end && (is_sym(t[j], "-") || is_sym(t[j], "+") || is_sym(t[j], "~"))) ++j;
  const std::size_t e = primary_end(t, j, end);
  return e == j ? i : e;
}

DecimalType as_decimal_type(const ColumnType& t) {
  switch (t.type) {
    case SqlType::decimal: return {t.precision, t.scale};
    case SqlType::money: return {19, 4};
    case SqlType::smallmoney: return {10, 4};
    case SqlType::tinyint: return {3, 0};
    case SqlType::smallint: return {5, 0};
    case SqlType::int_: return {10, 0};
    case SqlType::bigint: return {19, 0};
    case SqlType::bit: return {1, 0};
    default: return {18, 0};
  }
}

int integer_rank(SqlType t) {
  switch (t) {
    case SqlType::bit: return 1;
    case SqlType::tinyint: return 2;
    case SqlType::smallint: return 3;
    case SqlType::int_: return 4;
    case SqlType::bigint: return 5;
    default: return 0;
  }
}

// The type of `a op b` by SQL Server's data type precedence; nullopt when unknown.
std::optional<ColumnType> binary_type(const std::string& op, const std::optional<ColumnType>& a, const std::optional<ColumnType>& b) {
  if (!a || !b) return std::nullopt;  // decided at run time (m2r_op with "?")
  const SqlType x = a->type, y = b->type;
  if (op == "^") {  // integers only; m2r_op raises 402 for the others
    const int rx = integer_rank(x), ry = integer_rank(y);
    if (rx && ry) return mk_type(rx >= ry ? x : y);
    return std::nullopt;
  }
  if (is_string_type(x) && is_string_type(y)) {
    const bool wide = x == SqlType::nvarchar || x == SqlType::nchar || x == SqlType::ntext || y == SqlType::nvarchar ||
                      y == SqlType::nchar || y == SqlType::ntext;
    const int la = a->length, lb = b->length;
    const int cap = wide ? 4000 : 8000;
    const int len = (la == k_max_length || lb == k_max_length) ? k_max_length : std::min(cap, la + lb);
    return mk_type(wide ? SqlType::nvarchar : SqlType::varchar, len);
  }
  if (x == SqlType::float_ || y == SqlType::float_) return mk_type(SqlType::float_);
  if (x == SqlType::real || y == SqlType::real) return mk_type(SqlType::real);
  if (is_datetime_type(x) || is_datetime_type(y)) return std::nullopt;
  const bool dx = x == SqlType::decimal, dy = y == SqlType::decimal;
  if (dx || dy) {
    const DecimalType da = as_decimal_type(*a), db = as_decimal_type(*b);
    DecimalType r;
    if (op == "+" || op == "-") r = decimal_add_type(da, db);
    else if (op == "*") r = decimal_mul_type(da, db);
    else if (op == "/") r = decimal_div_type(da, db);
    else r = decimal_mod_type(da, db);
    return mk_type(SqlType::decimal, 0, r.precision, r.scale);
  }
  if (x == SqlType::money || y == SqlType::money) return mk_type(SqlType::money, 0, 19, 4);
  if (x == SqlType::smallmoney || y == SqlType::smallmoney) return mk_type(SqlType::smallmoney, 0, 10, 4);
  const int rx = integer_rank(x), ry = integer_rank(y);
  if (rx && ry) return mk_type(rx >= ry ? x : y);  // the higher integer type (tinyint + tinyint is tinyint)
  if (rx && is_string_type(y)) return mk_type(x);  // the string converts to the integer
  if (ry && is_string_type(x)) return mk_type(y);
  if ((dx || x == SqlType::money) && is_string_type(y)) return a;
  return std::nullopt;
}

// A literal number's type: int, then numeric(p,0) beyond int; numeric(p,s) with a point;
// float with an exponent.
ColumnType number_literal_type(const std::string& text) {
  if (text.size() > 1 && (text[1] == 'x' || text[1] == 'X')) {
    return mk_type(SqlType::varbinary, std::max<int>(1, static_cast<int>((text.size() - 1) / 2)));
  }
  if (text.find_first_of("eE") != std::string::npos) return mk_type(SqlType::float_);
  const auto dot = text.find('.');
  std::string digits = dot == std::string::npos ? text : text.substr(0, dot) + text.substr(dot + 1);
  const int scale = dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  std::size_t lead = 0;
  while (lead + 1 < digits.size() - static_cast<std::size_t>(scale) && digits[lead] == '0') ++lead;
  const int precision = std::max(1, std::max(scale, static_cast<int>(digits.size() - lead)));
  if (dot == std::string::npos && digits.size() <= 10) {
    const long long v = std::stoll(digits);
    if (v <= 2147483647LL) return mk_type(SqlType::int_);
  }
  return mk_type(SqlType::decimal, 0, std::min(precision, 38), scale);
}

// Literal numbers a double cannot hold exactly go to SQLite as exact text.
std::string number_literal_sql(const std::string& text) {
  if (text.size() > 1 && (text[1] == 'x' || text[1] == 'X')) return {};
  if (text.find_first_of("eE") != std::string::npos) return text;
  std::size_t significant = 0;
  bool started = false;
  for (char c : text) {
    if (c == '.') continue;
    if (c != '0') started = true;
    if (started) ++significant;
  }
  const bool integer = text.find('.') == std::string::npos;
  if (integer && text.size() <= 18) return text;
  if (!integer && significant <= 15) return text;
  return quote_literal(text);
}

}  // namespace

namespace {
// The statement's column scope and plain mode, set by the outermost translation.
class TranslationScope {
 public:
  TranslationScope(SessionImpl& s, const std::vector<Token>& t) : m_top(t_translate_depth == 0) {
    ++t_translate_depth;
    if (!m_top) return;
    set_statement_database(s.current_database());
    t_plain = t.size() > 1 && (t[0].is("CREATE") || t[0].is("ALTER")) && t[1].is("TABLE");
    try {
      s.build_column_scope(t, m_scope);
    } catch (const SqlError&) {
    }
    t_scope = &m_scope;
  }
  ~TranslationScope() {
    --t_translate_depth;
    if (m_top) {
      t_scope = nullptr;
      t_plain = false;
    }
  }
  TranslationScope(const TranslationScope&) = delete;
  TranslationScope& operator=(const TranslationScope&) = delete;

 private:
  bool m_top;
  ColumnScope m_scope;
};

bool allows_comparison(const Token* prev) {
  if (!prev) return false;
  if (is_sym(*prev, "(")) return true;
  return prev->is("WHERE") || prev->is("AND") || prev->is("OR") || prev->is("ON") || prev->is("HAVING") ||
         prev->is("WHEN") || prev->is("NOT") || prev->is("IF") || prev->is("WHILE");
}
}  // namespace

std::optional<ColumnType> SessionImpl::operand_type(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  if (b >= e) return std::nullopt;
  std::size_t i = b;
  while (i < e && (is_sym(t[i], "-") || is_sym(t[i], "+") || is_sym(t[i], "~"))) ++i;  // a sign keeps the type
  if (i >= e) return std::nullopt;
  const Token& f = t[i];
  if (f.kind == TokKind::number) return number_literal_type(f.text);
  if (f.kind == TokKind::string) return mk_type(f.national ? SqlType::nvarchar : SqlType::varchar, std::max<int>(1, static_cast<int>(f.text.size())));
  if (f.kind == TokKind::variable) {
    const std::string v = upper(f.text);
    if (v == "@@VERSION") return mk_type(SqlType::nvarchar, 300);
    if (v == "@@SERVERNAME" || v == "@@SERVICENAME" || v == "@@LANGUAGE") return mk_type(SqlType::nvarchar, 128);
    if (v == "@@SPID") return mk_type(SqlType::smallint);
    if (v == "@@TRANCOUNT" || v == "@@ROWCOUNT" || v == "@@ERROR" || v == "@@LOCK_TIMEOUT") return mk_type(SqlType::int_);
    if (v == "@@IDENTITY") return mk_type(SqlType::decimal, 0, 38, 0);
    if (const Variable* var = variable(lower(f.text))) return var->type;
    return std::nullopt;
  }
  if (is_sym(f, "(")) {
    const std::size_t close = match_paren(t, i, e);
    return expr_type(t, i + 1, close);
  }
  if (f.is("NULL")) return std::nullopt;
  if (f.kind != TokKind::word && f.kind != TokKind::ident_quoted) return std::nullopt;
  const bool call = i + 1 < e && is_sym(t[i + 1], "(");
  const std::string u = f.kind == TokKind::word ? upper(f.text) : "";
  if (call && f.kind == TokKind::word) {
    const std::size_t close = match_paren(t, i + 1, e);
    std::vector<std::pair<std::size_t, std::size_t>> args;
    std::size_t start = i + 2;
    int d = 0;
    for (std::size_t k = i + 2; k < close; ++k) {
      if (is_sym(t[k], "(")) ++d;
      else if (is_sym(t[k], ")")) --d;
      else if (d == 0 && is_sym(t[k], ",")) { args.emplace_back(start, k); start = k + 1; }
    }
    args.emplace_back(start, close);
    if (u == "CAST") {
      int dd = 0;
      for (std::size_t k = i + 2; k < close; ++k) {
        if (is_sym(t[k], "(")) ++dd;
        else if (is_sym(t[k], ")")) --dd;
        else if (dd == 0 && t[k].is("AS")) {
          std::string decl;
          for (std::size_t m = k + 1; m < close; ++m) decl += t[m].text;
          ColumnType ct;
          if (parse_type(decl, ct)) return ct;
          return std::nullopt;
        }
      }
      return std::nullopt;
    }
    if (u == "CONVERT") {
      std::string decl;
      for (std::size_t k = args[0].first; k < args[0].second; ++k) decl += t[k].text;
      ColumnType ct;
      if (parse_type(decl, ct)) return ct;
      return std::nullopt;
    }
    if (u == "SUM" || u == "AVG" || u == "MIN" || u == "MAX") {
      std::size_t ab = args[0].first;
      if (ab < args[0].second && t[ab].is("DISTINCT")) ++ab;
      auto at = expr_type(t, ab, args[0].second);
      if (!at) return std::nullopt;
      if (u == "MIN" || u == "MAX") return at;
      if (at->type == SqlType::decimal) {
        return mk_type(SqlType::decimal, 0, 38, u == "AVG" ? std::max(at->scale, 6) : at->scale);
      }
      if (at->type == SqlType::money || at->type == SqlType::smallmoney) return mk_type(SqlType::money, 0, 19, 4);
      if (at->type == SqlType::real || at->type == SqlType::float_) return mk_type(SqlType::float_);
      if (at->type == SqlType::bigint) return mk_type(SqlType::bigint);
      if (is_integer_type(at->type)) return mk_type(SqlType::int_);
      return std::nullopt;
    }
    if (u == "ABS" || u == "ISNULL" || u == "COALESCE" || u == "NULLIF") return expr_type(t, args[0].first, args[0].second);
    if (u == "COUNT" || u == "LEN" || u == "DATALENGTH" || u == "CHARINDEX" || u == "DATEDIFF" || u == "YEAR" ||
        u == "MONTH" || u == "DAY" || u == "CHECKSUM_AGG" || u == "BINARY_CHECKSUM" || u == "CHECKSUM" || u == "OBJECT_ID" ||
        u == "ROW_NUMBER" || u == "RANK" || u == "DENSE_RANK" || u == "ASCII" || u == "UNICODE" || u == "IS_SRVROLEMEMBER") {
      return mk_type(SqlType::int_);
    }
    if (u == "COUNT_BIG") return mk_type(SqlType::bigint);
    if (u == "SQL_VARIANT_PROPERTY") return mk_type(SqlType::sql_variant);
    if (u == "SUSER_SID") return mk_type(SqlType::varbinary, 85);
    if (u == "LOGINPROPERTY") return mk_type(SqlType::varbinary, 256);  // sql_variant in SQL Server; the hash here
    if (u == "GETDATE" || u == "GETUTCDATE" || u == "CURRENT_TIMESTAMP") return mk_type(SqlType::datetime);
    if (u == "SYSDATETIME" || u == "SYSUTCDATETIME") return mk_type(SqlType::datetime2, 0, 0, 7);
    if (u == "SCOPE_IDENTITY") return mk_type(SqlType::decimal, 0, 38, 0);
    if (u == "NEWID") return mk_type(SqlType::uniqueidentifier);
    if (u == "DB_ID") return mk_type(SqlType::smallint);
    if (u == "HASHBYTES" || u == "CONCAT" || u == "STRING_AGG") return hash_call_type(t, i, close);
    if (u == "DB_NAME" || u == "SCHEMA_NAME" || u == "OBJECT_NAME" || u == "SUSER_SNAME" || u == "USER_NAME" ||
        u == "SERVERPROPERTY" || u == "SUSER_NAME" || u == "DATABASEPROPERTYEX" || u == "HOST_NAME" || u == "APP_NAME") {
      return mk_type(SqlType::nvarchar, 128);
    }
    if (u == "QUOTENAME") return mk_type(SqlType::nvarchar, 258);
    if (u == "UPPER" || u == "LOWER" || u == "LTRIM" || u == "RTRIM" || u == "TRIM" || u == "LEFT" || u == "RIGHT" ||
        u == "SUBSTRING" || u == "REPLACE") {
      auto at = expr_type(t, args[0].first, args[0].second);
      if (at && is_string_type(at->type)) {
        const bool wide = at->type == SqlType::nvarchar || at->type == SqlType::nchar || at->type == SqlType::ntext;
        return mk_type(wide ? SqlType::nvarchar : SqlType::varchar, at->length > 0 ? at->length : (wide ? 4000 : 8000));
      }
      return std::nullopt;
    }
    if (u == "DATEADD" && args.size() == 3) {
      auto dt = expr_type(t, args[2].first, args[2].second);
      if (dt && is_datetime_type(dt->type)) return dt;
      return mk_type(SqlType::datetime);
    }
    return std::nullopt;
  }
  // A column: the last part of a dotted name, looked up in the statement's tables.
  std::size_t j = i;
  while (j + 2 < e && is_sym(t[j + 1], ".") && t[j + 2].is_name()) j += 2;
  if (t_scope) {
    auto it = t_scope->find(lower(t[j].text));
    if (it != t_scope->end()) return it->second;
  }
  return std::nullopt;
}

std::optional<ColumnType> SessionImpl::expr_type(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  // operand (op operand)*: * / % bind tighter than + -.
  std::vector<std::optional<ColumnType>> terms;
  std::vector<std::string> ops;
  std::size_t i = b;
  std::size_t oe = operand_end(t, i, e);
  if (oe == i) return std::nullopt;
  std::optional<ColumnType> cur = operand_type(t, i, oe);
  i = oe;
  while (i < e && is_arith_op(t[i])) {
    const std::string op = t[i].text;
    const std::size_t ne = operand_end(t, i + 1, e);
    if (ne == i + 1) return std::nullopt;
    auto rhs = operand_type(t, i + 1, ne);
    if (op == "*" || op == "/" || op == "%") {
      cur = binary_type(op, cur, rhs);
    } else {
      terms.push_back(cur);
      ops.push_back(op);
      cur = rhs;
    }
    i = ne;
  }
  if (i != e) return std::nullopt;  // something else follows (a comparison, a keyword)
  terms.push_back(cur);
  std::optional<ColumnType> r = terms[0];
  for (std::size_t k = 0; k < ops.size(); ++k) r = binary_type(ops[k], r, terms[k + 1]);
  return r;
}

// The types of the columns of every table the statement names (FROM, JOIN, UPDATE, INTO).
void SessionImpl::build_column_scope(const std::vector<Token>& t, std::map<std::string, ColumnType>& scope) {
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!(t[k].is("FROM") || t[k].is("JOIN") || t[k].is("UPDATE") || t[k].is("INTO"))) continue;
    if (!t[k + 1].is_name()) continue;
    std::size_t j = k + 1;
    bool is_table = false;
    std::string name;
    try {
      name = resolve_table(t, j, t.size(), &is_table);
    } catch (const SqlError&) {
      continue;
    }
    if (name.rfind("temp.", 0) == 0 || name.rfind("msdb.", 0) == 0) continue;
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    if (name.find("\".\"") != std::string::npos) continue;
    try {
      // table_xinfo: computed (generated) columns too; hidden 1 would be a virtual table's.
      Stmt s(cur(), "SELECT name, type FROM pragma_table_xinfo(?) WHERE hidden <> 1");
      s.bind(1, name);
      while (s.step()) {
        ColumnType ct;
        if (parse_type(s.str(1), ct)) scope.emplace(lower(s.str(0)), ct);
      }
    } catch (const SqlError&) {
    }
  }
}

std::string SessionImpl::translate_computed(const std::vector<Token>& t, std::size_t b, std::size_t e,
                                           const std::map<std::string, ColumnType>& columns, std::optional<ColumnType>* type) {
  // As the outermost translation, but over the columns of a table not yet created, and typed
  // (not plain as the rest of CREATE TABLE): a generated column computes as a query would.
  struct Restore {
    const ColumnScope* scope = t_scope;
    bool plain = t_plain;
    ~Restore() {
      --t_translate_depth;
      t_scope = scope;
      t_plain = plain;
    }
  } restore;
  ++t_translate_depth;
  ColumnScope scope(columns.begin(), columns.end());
  t_scope = &scope;
  t_plain = false;
  bool needs_iv = false;
  std::string sql = translate(t, b, e, &needs_iv);
  if (needs_iv) raise(40517, 16, "Keyword or statement option 'computed column over a server view' is not supported in this version of SQL Server.");
  if (type) *type = expr_type(t, b, e);
  return sql;
}

std::string SessionImpl::translate_assignment(const std::vector<Token>& t, std::size_t b, std::size_t e,
                                             const ColumnType& target, bool* needs_iv) {
  TranslationScope scope(*this, t);
  const std::string expr = translate(t, b, e, needs_iv);
  return "m2r_cast(" + expr + ", " + quote_literal(type_code(expr_type(t, b, e))) + ", " + quote_literal(type_to_string(target)) + ")";
}

std::string SessionImpl::translate_insert_source(const std::vector<Token>& t, std::size_t rest, const std::string& table,
                                                 const std::vector<std::string>& cols, bool explicit_columns, bool* needs_iv,
                                                 const std::string& sqlite_schema, const std::string& display_name) {
  TranslationScope scope(*this, t);
  if (rest >= t.size() || !t[rest].is("VALUES") || cols.empty()) return translate(t, rest, t.size(), needs_iv);
  std::map<std::string, ColumnType> types;
  {
    Stmt s(cur(), "SELECT name, type FROM pragma_table_info(?, ?)");
    s.bind(1, table).bind(2, sqlite_schema);
    while (s.step()) {
      ColumnType ct;
      if (parse_type(s.str(1), ct)) types.emplace(lower(s.str(0)), ct);
    }
  }
  const std::string display = !display_name.empty() ? display_name : table.find('.') == std::string::npos ? "dbo." + table : table;
  std::string out = "VALUES";
  std::size_t i = rest + 1;
  bool first_row = true;
  while (i < t.size() && is_sym(t[i], "(")) {
    const std::size_t close = match_paren(t, i, t.size());
    std::vector<std::pair<std::size_t, std::size_t>> items;
    std::size_t start = i + 1;
    int d = 0;
    for (std::size_t k = i + 1; k < close; ++k) {
      if (is_sym(t[k], "(")) ++d;
      else if (is_sym(t[k], ")")) --d;
      else if (d == 0 && is_sym(t[k], ",")) { items.emplace_back(start, k); start = k + 1; }
    }
    items.emplace_back(start, close);
    if (items.size() != cols.size()) {
      if (!explicit_columns) raise(213, 16, "Column name or number of supplied values does not match table definition.");
      const char* more = items.size() < cols.size() ? "more" : "fewer";
      raise(items.size() < cols.size() ? 109 : 110, 15,
            std::string("There are ") + more + " columns in the INSERT statement than values specified in the VALUES clause. "
            "The number of values in the VALUES clause must match the number of columns specified in the INSERT statement.");
    }
    std::string row;
    for (std::size_t k = 0; k < items.size(); ++k) {
      auto [b, e] = items[k];
      std::string v = translate(t, b, e, needs_iv);
      if (k < cols.size() && !(e == b + 1 && t[b].is("DEFAULT"))) {
        auto it = types.find(lower(cols[k]));
        if (it != types.end()) {
          v = "m2r_assign(" + v + ", " + quote_literal(type_code(expr_type(t, b, e))) + ", " +
              quote_literal(type_to_string(it->second)) + ", " + quote_literal(display) + ", " + quote_literal(cols[k]) + ")";
        }
      }
      row += (k ? ", " : "") + v;
    }
    out += std::string(first_row ? " " : ", ") + "(" + row + ")";
    first_row = false;
    i = close + 1;
    if (i < t.size() && is_sym(t[i], ",")) ++i;
  }
  if (i < t.size()) out += " " + translate(t, i, t.size(), needs_iv);
  return out;
}

namespace {
void refuse_xml_comparison(const std::optional<ColumnType>& a, const std::optional<ColumnType>& b) {
  if ((a && a->type == SqlType::xml) || (b && b->type == SqlType::xml)) {
    raise(305, 16, "The XML data type cannot be compared or sorted, except when using the IS NULL operator.");
  }
}
}  // namespace

// An arithmetic chain starting at t[i] (operand op operand ...), perhaps compared with
// another: rewritten into m2r_op / m2r_cmp calls. Returns false (nothing emitted) when
// t[i] does not start one.
bool SessionImpl::translate_typed_expression(const std::vector<Token>& t, std::size_t& i, std::size_t end, bool* needs_iv,
                                             std::string& out, bool allow_compare) {
  if (t_plain) return false;
  const std::size_t first_end = operand_end(t, i, end);
  if (first_end == i) return false;
  const bool arith = first_end < end && is_arith_op(t[first_end]) && operand_end(t, first_end + 1, end) > first_end + 1;
  // Parse the chain.
  struct Term {
    std::string sql;
    std::optional<ColumnType> type;
  };
  auto operand_sql = [&](std::size_t b, std::size_t e) { return translate(t, b, e, needs_iv); };
  auto parse_chain = [&](std::size_t b, std::size_t* stop) {
    std::size_t oe = operand_end(t, b, end);
    Term cur{operand_sql(b, oe), operand_type(t, b, oe)};
    std::vector<Term> terms;
    std::vector<std::string> ops;
    std::size_t k = oe;
    while (k < end && is_arith_op(t[k])) {
      const std::size_t ne = operand_end(t, k + 1, end);
      if (ne == k + 1) break;
      const std::string op = t[k].text;
      Term rhs{operand_sql(k + 1, ne), operand_type(t, k + 1, ne)};
      if (op == "*" || op == "/" || op == "%") {
        auto rt = binary_type(op, cur.type, rhs.type);
        cur = Term{"m2r_op(" + quote_literal(op) + ", " + cur.sql + ", " + rhs.sql + ", " + quote_literal(type_code(cur.type)) +
                       ", " + quote_literal(type_code(rhs.type)) + ", " + quote_literal(type_code(rt)) + ")",
                   rt};
      } else {
        terms.push_back(cur);
        ops.push_back(op);
        cur = rhs;
      }
      k = ne;
    }
    terms.push_back(cur);
    Term r = terms[0];
    for (std::size_t n = 0; n < ops.size(); ++n) {
      const Term& rhs = terms[n + 1];
      auto rt = binary_type(ops[n], r.type, rhs.type);
      const bool concat = ops[n] == "+" && ((r.type && is_string_type(r.type->type) && !rt) ||
                                            (rhs.type && is_string_type(rhs.type->type) && !rt));
      if (concat) {
        r = Term{"(" + r.sql + " || " + rhs.sql + ")", std::nullopt};
        continue;
      }
      r = Term{"m2r_op(" + quote_literal(ops[n]) + ", " + r.sql + ", " + rhs.sql + ", " + quote_literal(type_code(r.type)) +
                   ", " + quote_literal(type_code(rhs.type)) + ", " + quote_literal(type_code(rt)) + ")",
               rt};
    }
    *stop = k;
    return r;
  };
  // Values SQLite keeps as exact text (README.md "Types and values"): compared as numbers.
  // So are sql_variants: by base type family, then value (sql_variant.hpp, m2r_cmp).
  auto wide_decimal = [](const std::optional<ColumnType>& ty) {
    return ty && ((ty->type == SqlType::decimal && ty->precision > 15) || ty->type == SqlType::money ||
                  ty->type == SqlType::sql_variant);
  };
  // A comparison with a wide decimal on either side compares exactly.
  std::size_t stop = first_end;
  if (!arith) {
    if (!allow_compare || !(first_end < end && is_cmp_op(t[first_end]))) return false;
    auto lt = operand_type(t, i, first_end);
    const std::size_t rb = first_end + 1;
    if (operand_end(t, rb, end) == rb) return false;
    std::size_t rstop = rb;
    // Peek at the right side's type without emitting.
    std::size_t re = operand_end(t, rb, end);
    while (re < end && is_arith_op(t[re]) && operand_end(t, re + 1, end) > re + 1) re = operand_end(t, re + 1, end);
    auto rt = expr_type(t, rb, re);
    refuse_xml_comparison(lt, rt);
    if (!wide_decimal(lt) && !wide_decimal(rt)) return false;
    Term l{translate(t, i, first_end, needs_iv), lt};
    Term r = parse_chain(rb, &rstop);
    std::string op = t[first_end].text == "!=" ? "<>" : t[first_end].text;
    out = "m2r_cmp(" + l.sql + ", " + r.sql + ", " + quote_literal(type_code(l.type)) + ", " + quote_literal(type_code(r.type)) +
          ") " + op + " 0";
    i = rstop;
    return true;
  }
  Term l = parse_chain(i, &stop);
  if (allow_compare && stop < end && is_cmp_op(t[stop]) && operand_end(t, stop + 1, end) > stop + 1) {
    std::size_t re = operand_end(t, stop + 1, end);
    while (re < end && is_arith_op(t[re]) && operand_end(t, re + 1, end) > re + 1) re = operand_end(t, re + 1, end);
    auto rt = expr_type(t, stop + 1, re);
    refuse_xml_comparison(l.type, rt);
    if (wide_decimal(l.type) || wide_decimal(rt)) {
      std::size_t rstop = stop + 1;
      Term r = parse_chain(stop + 1, &rstop);
      std::string op = t[stop].text == "!=" ? "<>" : t[stop].text;
      out = "m2r_cmp(" + l.sql + ", " + r.sql + ", " + quote_literal(type_code(l.type)) + ", " + quote_literal(type_code(r.type)) +
            ") " + op + " 0";
      i = rstop;
      return true;
    }
  }
  out = l.sql;
  i = stop;
  return true;
}

std::string SessionImpl::sqlite_table_name(const std::string& schema, const std::string& table) {
  if (schema.empty() || iequals(schema, "dbo")) return table;
  return schema + "." + table;
}

std::string SessionImpl::lockres_expression(const std::vector<Token>& t) {
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!(t[k].is("FROM") || t[k].is("UPDATE")) || !t[k + 1].is_name()) continue;
    std::size_t j = k + 1;
    bool is_table = false;
    std::string name = resolve_table(t, j, t.size(), &is_table);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    Stmt k_cols(cur(), "SELECT cl.name FROM main.__m2r_objects o JOIN main.__m2r_index_columns ic ON ic.object_id = o.object_id"
                       " AND ic.index_id = 1 JOIN main.__m2r_columns cl ON cl.object_id = ic.object_id AND cl.column_id = ic.column_id"
                       " WHERE o.type = 'U' AND o.sqlite_name = ? COLLATE NOCASE ORDER BY ic.key_ordinal");
    k_cols.bind(1, name);
    std::string args;
    while (k_cols.step()) args += (args.empty() ? "" : ", ") + quote_ident(name) + "." + quote_ident(k_cols.str(0));
    if (!args.empty()) return "m2r_lockres(" + args + ")";
    return "m2r_heap_lockres(" + quote_ident(name) + ".rowid)";
  }
  raise(207, 16, "Invalid column name '%%lockres%%'.");
}

std::vector<std::string> SessionImpl::table_columns(const std::string& sqlite_name) {
  std::vector<std::string> cols;
  Stmt s(cur(), "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  s.bind(1, sqlite_name);
  while (s.step()) cols.push_back(s.str(0));
  return cols;
}

std::vector<std::string> SessionImpl::image_columns(const std::string& sqlite_name) {
  std::vector<std::string> cols;
  // hidden: 0 a column, 2 a VIRTUAL generated column (not in the record), 3 a STORED one.
  Stmt s(cur(), "SELECT name, hidden FROM pragma_table_xinfo(?) WHERE hidden IN (0, 3) ORDER BY cid");
  s.bind(1, sqlite_name);
  while (s.step()) cols.push_back(s.i64(1) == 0 ? s.str(0) : std::string());
  return cols;
}

// A dotted name at t[i]: db.schema.object, schema.object, alias.column, object.
std::string SessionImpl::resolve_table(const std::vector<Token>& t, std::size_t& i, std::size_t end, bool* is_table) {
  std::vector<std::string> parts;
  parts.push_back(t[i].text);
  std::size_t j = i + 1;
  while (j + 1 < end + 1 && j < end && is_sym(t[j], ".")) {
    if (j + 1 < end && t[j + 1].is_name()) {
      parts.push_back(t[j + 1].text);
      j += 2;
    } else if (j + 1 < end && is_sym(t[j + 1], ".")) {
      parts.push_back("");  // db..table
      j += 1;
    } else if (j + 1 < end && is_sym(t[j + 1], "*")) {
      break;
    } else {
      break;
    }
  }
  i = j;
  if (is_table) *is_table = false;
  auto q = [](const std::string& s) { return quote_ident(s); };
  // Temporary tables (tempdb.hpp): #t, ##t, tempdb..#t, tempdb.dbo.#t, and #t.column.
  if (parts.size() >= 3 && iequals(parts[0], "tempdb") && is_temp_name(parts[2])) parts.erase(parts.begin(), parts.begin() + 2);
  if (is_temp_name(parts[0])) {
    if (is_table) *is_table = true;
    std::string out = temp_qualified(parts[0], m_spid);
    for (std::size_t k = 1; k < parts.size(); ++k) out += "." + q(parts[k]);
    return out;
  }
  // Three or more parts: database first.
  if (parts.size() >= 3) {
    const std::string dbn = parts[0];
    if (iequals(dbn, "msdb") && !iequals(m_db, "msdb")) {
      if (is_table) *is_table = true;
      std::string out = "msdb." + q(parts[2]);
      for (std::size_t k = 3; k < parts.size(); ++k) out += "." + q(parts[k]);
      return out;
    }
    // master..sysobjects from another database: master's catalog (attached as m2r_master).
    const bool master_compat = iequals(dbn, "master") && (parts[1].empty() || iequals(parts[1], "dbo") || iequals(parts[1], "sys"));
    if (master_compat && !iequals(m_db, "master") && iequals(parts[2], "sysobjects")) {
      if (is_table) *is_table = true;
      std::string out = "temp." + q("master.sys.sysobjects");
      for (std::size_t k = 3; k < parts.size(); ++k) out += "." + q(parts[k]);
      return out;
    }
    if (master_compat && iequals(parts[2], "systypes")) {
      parts.erase(parts.begin());  // the same in every database
      parts[0] = "sys";
    } else if (iequals(dbn, m_db) || (iequals(dbn, "master") && iequals(parts[1], "sys"))) {
      parts.erase(parts.begin());
    } else if (!m_inst.find(dbn) && !iequals(parts[1], "sys")) {
      // Not a database: schema.table.column
    } else {
      raise(40517, 16, "Keyword or statement option 'cross-database reference " + dbn + "." + parts[1] + "." + parts[2] +
                           "' is not supported in this version of SQL Server.");
    }
  }
  // The compatibility view sysobjects answers to sysobjects, dbo.sysobjects and db..sysobjects
  // as well as sys.sysobjects, as in SQL Server.
  auto compatibility_view = [](const std::string& n) { return iequals(n, "sysobjects") || iequals(n, "systypes"); };
  if ((parts.size() == 1 && compatibility_view(parts[0]) && !(i < end && is_sym(t[i], "("))) ||
      (parts.size() >= 2 && compatibility_view(parts[1]) && (parts[0].empty() || iequals(parts[0], "dbo")))) {
    if (parts.size() == 1) parts.push_back(parts[0]);
    parts[0] = "sys";
  }
  if (parts.size() >= 2) {
    const std::string a = parts[0], b = parts[1];
    if (iequals(a, "sys") || iequals(a, "INFORMATION_SCHEMA")) {
      std::string view = (iequals(a, "sys") ? "sys." : "INFORMATION_SCHEMA.") + (iequals(a, "sys") ? lower(b) : upper(b));
      if (iequals(a, "sys") && lower(b) == "fn_dblog") view = "fn_dblog";
      const int n = static_cast<int>(query_int(cur(), "SELECT COUNT(*) FROM sqlite_temp_master WHERE name = " + quote_literal(view)));
      if (n == 0 && !(iequals(a, "sys") && (lower(b).rfind("sp_", 0) == 0))) raise(208, 16, "Invalid object name '" + a + "." + b + "'.");
      if (is_table) *is_table = true;
      std::string out = "temp." + q(view);
      for (std::size_t k = 2; k < parts.size(); ++k) out += "." + q(parts[k]);
      return out;
    }
    const bool schema_known = query_int(cur(), "SELECT COUNT(*) FROM main.__m2r_schemas WHERE name = " + quote_literal(a) +
                                                   " COLLATE NOCASE") > 0;
    if (schema_known) {
      if (is_table) *is_table = true;
      std::string out = q(sqlite_table_name(a, b));
      for (std::size_t k = 2; k < parts.size(); ++k) out += "." + q(parts[k]);
      return out;
    }
  }
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) out += (k ? "." : "") + q(parts[k]);
  return out;
}

namespace {
// The first `,` of t[begin, end) outside parentheses (a function's argument list), else end.
std::size_t first_top_level_comma(const std::vector<Token>& t, std::size_t begin, std::size_t end) {
  int depth = 0;
  for (std::size_t k = begin; k < end; ++k) {
    if (is_sym(t[k], "(")) ++depth;
    else if (is_sym(t[k], ")")) --depth;
    else if (depth == 0 && is_sym(t[k], ",")) return k;
  }
  return end;
}

// SET ANSI_NULLS OFF: `=` and `<>` with a NULL literal or a variable on either side compare
// NULL as equal to NULL (SQLite's IS / IS NOT); comparisons of columns and expressions keep
// ISO semantics (https://learn.microsoft.com/sql/t-sql/statements/set-ansi-nulls-transact-sql).
// The `=` of an UPDATE's SET list (column = value, @v = column = value) is an assignment.
bool nulls_compare_equal_here(const std::vector<Token>& t, std::size_t begin, std::size_t op, std::size_t end) {
  auto null_or_variable = [&](std::size_t k) {
    return k >= begin && k < end && (t[k].is("NULL") || (t[k].kind == TokKind::variable && t[k].text.rfind("@@", 0) != 0));
  };
  if (!null_or_variable(op - 1) && !null_or_variable(op + 1)) return false;
  if (op >= begin + 2 && t[op - 1].text != "=" && (t[op - 2].is("SET") || is_sym(t[op - 2], ",") || is_sym(t[op - 2], "=") ||
                                                   is_sym(t[op - 2], "."))) {
    // A SET list's target? Only inside UPDATE ... SET, before its FROM / WHERE.
    bool in_set_list = false;
    int depth = 0;
    for (std::size_t k = begin; k < op; ++k) {
      if (is_sym(t[k], "(")) ++depth;
      else if (is_sym(t[k], ")")) --depth;
      else if (depth == 0 && t[k].is("SET") && k > begin) in_set_list = true;
      else if (depth == 0 && (t[k].is("FROM") || t[k].is("WHERE") || t[k].is("OUTPUT"))) in_set_list = false;
    }
    if (in_set_list && depth == 0) return false;
  }
  return true;
}
}  // namespace

std::string SessionImpl::translate(const std::vector<Token>& t, std::size_t begin, std::size_t end, bool* needs_iv) {
  TranslationScope scope(*this, t);
  std::string out;
  std::map<int, std::string> limits;  // paren depth -> LIMIT expression from TOP
  int depth = 0;
  auto emit = [&](const std::string& s) {
    if (!out.empty() && out.back() != ' ' && out.back() != '(') out += ' ';
    out += s;
  };
  for (std::size_t i = begin; i < end; ++i) {
    const Token& tk = t[i];
    const Token* prev = i > begin ? &t[i - 1] : nullptr;
    const bool call = i + 1 < end && is_sym(t[i + 1], "(");
    // A typed chain starts an expression, never the right side of an operator whose left
    // operand the chain cannot see (a subquery): `(SELECT 2) * 3 + 1` is 7, not 2 * (3 + 1).
    const bool after_untyped_group = prev && is_arith_op(*prev) && i >= begin + 2 && is_sym(t[i - 2], ")");
    if (!t_plain && starts_operand(t, i, end) && !after_untyped_group) {
      std::string typed;
      std::size_t j = i;
      if (translate_typed_expression(t, j, end, needs_iv, typed, allows_comparison(prev))) {
        emit(typed);
        i = j - 1;
        continue;
      }
    }
    // ODBC escapes: {ts '...'}, {d '...'}, {t '...'}.
    if (is_sym(tk, "{") && i + 3 < end && t[i + 1].kind == TokKind::word && t[i + 2].kind == TokKind::string &&
        is_sym(t[i + 3], "}")) {
      const std::string kind = lower(t[i + 1].text);
      const char* target = kind == "ts" ? "datetime" : kind == "d" ? "date" : kind == "t" ? "time(7)" : nullptr;
      if (target) {
        emit("m2r_cast(" + quote_literal(t[i + 2].text) + ", 'varchar(40)', '" + target + "')");
        i += 3;
        continue;
      }
    }
    switch (tk.kind) {
      case TokKind::string: emit(quote_literal(tk.text)); continue;
      case TokKind::number:
        if (tk.text.size() > 1 && (tk.text[1] == 'x' || tk.text[1] == 'X')) emit("X'" + tk.text.substr(2) + (tk.text.size() % 2 ? "0" : "") + "'");
        else emit(number_literal_sql(tk.text));
        continue;
      case TokKind::variable:
        if (tk.text.rfind("@@", 0) == 0) emit("m2r_global(" + quote_literal(tk.text.substr(2)) + ")");
        else emit("m2r_var(" + quote_literal(lower(tk.text)) + ")");
        continue;
      case TokKind::symbol:
        if (tk.text == "%" && i + 4 < end && is_sym(t[i + 1], "%") && t[i + 2].kind == TokKind::word &&
            iequals(t[i + 2].text, "lockres") && is_sym(t[i + 3], "%") && is_sym(t[i + 4], "%")) {
          emit(lockres_expression(t));
          i += 4;
          continue;
        }
        if (tk.text == "(") {
          if (is_hint_group(t, i, end)) { i = match_paren(t, i, end); continue; }
          ++depth;
          emit("(");
          continue;
        }
        if (tk.text == ")") {
          if (limits.count(depth)) { emit("LIMIT " + limits[depth]); limits.erase(depth); }
          --depth;
          out += ")";
          continue;
        }
        if (tk.text == "+" && ((prev && prev->kind == TokKind::string) || (i + 1 < end && t[i + 1].kind == TokKind::string))) {
          emit("||");
          continue;
        }
        if (tk.text == "." || tk.text == ",") { out += tk.text; continue; }
        if (!m_options.ansi_nulls && (tk.text == "=" || tk.text == "<>" || tk.text == "!=") &&
            nulls_compare_equal_here(t, begin, i, end)) {
          emit(tk.text == "=" ? "IS" : "IS NOT");
          continue;
        }
        emit(tk.text);
        continue;
      case TokKind::ident_quoted:
      case TokKind::word: break;
      case TokKind::end: continue;
    }
    const std::string up = tk.kind == TokKind::word ? upper(tk.text) : std::string();
    if (tk.kind == TokKind::word) {
      if (up == "TOP" && prev && (prev->is("SELECT") || prev->is("DISTINCT") || prev->is("ALL") || prev->is("UPDATE") ||
                                  prev->is("DELETE"))) {
        std::string n;
        if (i + 1 < end && is_sym(t[i + 1], "(")) {
          std::size_t close = match_paren(t, i + 1, end);
          n = "(" + translate(t, i + 2, close, needs_iv) + ")";
          i = close;
        } else if (i + 1 < end) {
          n = t[i + 1].text;
          ++i;
        }
        if (i + 1 < end && t[i + 1].is("PERCENT")) raise(40517, 16, "Keyword or statement option 'TOP ... PERCENT' is not supported in this version of SQL Server.");
        if (i + 2 < end && t[i + 1].is("WITH") && t[i + 2].is("TIES")) raise(40517, 16, "Keyword or statement option 'TOP ... WITH TIES' is not supported in this version of SQL Server.");
        limits[depth] = n;
        continue;
      }
      if (up == "WITH" && i + 1 < end && is_hint_group(t, i + 1, end)) { i = match_paren(t, i + 1, end); continue; }
      if (up == "COLLATE" && i + 1 < end) {
        emit(upper(t[i + 1].text).find("_CI") != std::string::npos ? "COLLATE NOCASE" : "COLLATE BINARY");
        ++i;
        continue;
      }
      if (up == "OUTPUT" || up == "MERGE" || up == "PIVOT" || up == "UNPIVOT" || up == "OPENQUERY" || up == "OPENROWSET") {
        raise(40517, 16, "Keyword or statement option '" + up + "' is not supported in this version of SQL Server.");
      }
      if (call) {
        std::size_t close = match_paren(t, i + 1, end);
        auto args = [&]() { return translate(t, i + 2, close, needs_iv); };
        std::string repl;
        if (up == "CAST") {
          // CAST(expr AS type): find AS at depth 0 within.
          int d = 0;
          std::size_t as = close;
          for (std::size_t k = i + 2; k < close; ++k) {
            if (is_sym(t[k], "(")) ++d;
            else if (is_sym(t[k], ")")) --d;
            else if (d == 0 && t[k].is("AS")) { as = k; break; }
          }
          ColumnType ct;
          std::string target = sqlite_cast_type(t, as + 1, close, &ct);
          std::string e = translate(t, i + 2, as, needs_iv);
          if (!t_plain) repl = "m2r_cast(" + e + ", " + quote_literal(type_code(expr_type(t, i + 2, as))) + ", " + quote_literal(type_to_string(ct)) + ")";
          else if (ct.type == SqlType::decimal) repl = "ROUND(CAST(" + e + " AS REAL), " + std::to_string(ct.scale) + ")";
          else repl = "CAST(" + e + " AS " + target + ")";
        } else if (up == "CONVERT" || up == "TRY_CONVERT" || up == "TRY_CAST") {
          if (up == "TRY_CAST") raise(40517, 16, "Keyword or statement option 'TRY_CAST' is not supported in this version of SQL Server.");
          int d = 0;
          std::vector<std::size_t> commas;
          for (std::size_t k = i + 2; k < close; ++k) {
            if (is_sym(t[k], "(")) ++d;
            else if (is_sym(t[k], ")")) --d;
            else if (d == 0 && is_sym(t[k], ",")) commas.push_back(k);
          }
          if (commas.empty()) raise(102, 15, "Incorrect syntax near 'CONVERT'.");
          ColumnType ct;
          std::string target = sqlite_cast_type(t, i + 2, commas[0], &ct);
          std::size_t eend = commas.size() > 1 ? commas[1] : close;
          std::string e = translate(t, commas[0] + 1, eend, needs_iv);
          // The style (third argument) goes along: value_ops.cpp's m2r_cast with four arguments.
          const std::string style = commas.size() > 1 ? ", " + translate(t, commas[1] + 1, close, needs_iv) : "";
          if (!t_plain) repl = "m2r_cast(" + e + ", " + quote_literal(type_code(expr_type(t, commas[0] + 1, eend))) + ", " + quote_literal(type_to_string(ct)) + style + ")";
          else if (ct.type == SqlType::decimal) repl = "ROUND(CAST(" + e + " AS REAL), " + std::to_string(ct.scale) + ")";
          else repl = "CAST(" + e + " AS " + target + ")";
        } else if (up == "SQL_VARIANT_PROPERTY" && !t_plain) {
          // The expression converts to sql_variant first (a sql_variant passes through), so
          // SQL_VARIANT_PROPERTY(1, 'BaseType') answers int as SQL Server does.
          const std::size_t comma = first_top_level_comma(t, i + 2, close);
          if (comma == close) raise(174, 15, "The sql_variant_property function requires 2 argument(s).");
          repl = "m2r_variant_property(m2r_cast(" + translate(t, i + 2, comma, needs_iv) + ", " +
                 quote_literal(type_code(expr_type(t, i + 2, comma))) + ", 'sql_variant'), " +
                 translate(t, comma + 1, close, needs_iv) + ")";
        } else if (up == "HASHBYTES" || up == "STRING_AGG" || up == "CONCAT" || up == "DATALENGTH") {
          repl = translate_hash_call(t, i, close, end, needs_iv);
        } else if (!t_plain && (up == "SUM" || up == "AVG" || up == "MIN" || up == "MAX") && i + 2 < close &&
                   !t[i + 2].is("DISTINCT") && !(close + 1 < end && t[close + 1].is("OVER")) &&
                   [&] {
                     auto at = expr_type(t, i + 2, close);
                     return at && (at->type == SqlType::decimal || at->type == SqlType::money || at->type == SqlType::smallmoney);
                   }()) {
          // Exact decimal aggregates (SQLite's would sum doubles).
          repl = "m2r_dec_" + lower(up) + "(" + args() + ", " + quote_literal(type_code(expr_type(t, i + 2, close))) + ")";
        } else if ((up == "BINARY_CHECKSUM" || up == "CHECKSUM") && i + 3 == close + 0 + 0 && is_sym(t[i + 2], "*")) {
          // BINARY_CHECKSUM(*): every column of the (single) table in FROM.
          std::string table;
          int d = 0;
          for (std::size_t k = close; k < t.size(); ++k) {  // the whole statement: FROM follows the aggregate
            if (is_sym(t[k], "(")) ++d;
            else if (is_sym(t[k], ")")) --d;
            else if (d <= 0 && t[k].is("FROM") && k + 1 < t.size()) {
              std::size_t kk = k + 1;
              table = resolve_table(t, kk, t.size(), nullptr);
              break;
            }
          }
          if (table.empty()) raise(4101, 16, "BINARY_CHECKSUM(*) needs a table in FROM.");
          std::string bare = table;
          if (bare.rfind("msdb.", 0) == 0) bare = bare.substr(5);
          if (!bare.empty() && bare.front() == '"') bare = bare.substr(1, bare.size() - 2);
          std::string cols;
          // As documented: noncomparable types (text, ntext, image; xml, cursor) are ignored, and of an
          // nvarchar(max) only the first 255 characters count (varbinary(max): any length).
          for (auto& c : table_columns(bare)) {
            std::optional<ColumnType> ct;
            if (t_scope) {
              auto it = t_scope->find(lower(c));
              if (it != t_scope->end()) ct = it->second;
            }
            if (ct && (ct->type == SqlType::text || ct->type == SqlType::ntext || ct->type == SqlType::image)) continue;
            const bool long_unicode = ct && ct->type == SqlType::nvarchar && ct->length == k_max_length;
            cols += (cols.empty() ? "" : ", ") + (long_unicode ? "SUBSTR(" + quote_ident(c) + ", 1, 255)" : quote_ident(c));
          }
          repl = "m2r_binary_checksum(" + cols + ")";
        } else if (up == "BINARY_CHECKSUM" || up == "CHECKSUM") {
          repl = "m2r_binary_checksum(" + args() + ")";
        } else {
          static const std::map<std::string, std::string> simple = {
              {"ISNULL", "IFNULL"}, {"COUNT_BIG", "COUNT"}, {"LEN", "m2r_len"}, {"DATALENGTH", "m2r_datalength"},
              {"LEFT", "m2r_left"}, {"RIGHT", "m2r_right"}, {"SUBSTRING", "SUBSTR"}, {"CHECKSUM_AGG", "m2r_checksum_agg"},
              {"DB_ID", "m2r_db_id"}, {"DB_NAME", "m2r_db_name"},
              {"SERVERPROPERTY", "m2r_serverproperty"}, {"DATABASEPROPERTYEX", "m2r_databasepropertyex"}, {"SESSIONPROPERTY", "m2r_sessionproperty"}, {"QUOTENAME", "m2r_quotename"}, {"OBJECT_ID", "m2r_object_id"},
              {"NEWID", "m2r_newid"}, {"SCOPE_IDENTITY", "m2r_scope_identity"}, {"SCHEMA_NAME", "m2r_schema_name"},
              {"OBJECT_NAME", "m2r_object_name"}, {"USER_NAME", "m2r_user_name"}, {"SUSER_SNAME", "m2r_suser_sname"},
              {"SUSER_NAME", "m2r_suser_sname"}, {"SUSER_SID", "m2r_suser_sid"}, {"IS_SRVROLEMEMBER", "m2r_is_srvrolemember"}, {"HAS_PERMS_BY_NAME", "m2r_has_perms_by_name"},
              {"IS_ROLEMEMBER", "m2r_is_rolemember"}, {"HOST_NAME", "m2r_host_name"}, {"APP_NAME", "m2r_app_name"},
              {"LOGINPROPERTY", "m2r_loginproperty"}, {"CEILING", "CEIL"}, {"POWER", "POW"}, {"CHAR", "CHAR"}, {"ASCII", "UNICODE"},
              {"NCHAR", "CHAR"}, {"UNICODE", "UNICODE"},
              // statements.cpp adds it to an UPDATE of a table with a rowversion column
              {"M2R_NEXT_ROWVERSION", "m2r_next_rowversion"}};
          auto it = simple.find(up);
          if (it != simple.end()) repl = it->second + "(" + args() + ")";
          else if (const char* cf = control_flow_function(up)) repl = std::string(cf) + "(" + args() + ")";
          else if (up == "GETDATE" || up == "CURRENT_TIMESTAMP") repl = "m2r_now(0)";
          else if (up == "GETUTCDATE") repl = "m2r_now(1)";
          else if (up == "SYSDATETIME") repl = "m2r_now(2)";
          else if (up == "SYSUTCDATETIME") repl = "m2r_now(3)";
          else if (up == "CHARINDEX") {
            const std::size_t comma = first_top_level_comma(t, i + 2, close);
            repl = "INSTR(" + translate(t, comma + 1, close, needs_iv) + ", " + translate(t, i + 2, comma, needs_iv) + ")";
          } else if (up == "DATEADD" || up == "DATEDIFF" || up == "DATEPART") {
            if (up == "DATEPART") raise(40517, 16, "Keyword or statement option 'DATEPART' is not supported in this version of SQL Server.");
            std::string type_arg;
            if (up == "DATEADD") {
              // The date argument's type is the result's (a string literal is datetime): 517 names it.
              std::size_t last = close;
              int dd = 0;
              for (std::size_t k = i + 4; k < close; ++k) {
                if (is_sym(t[k], "(")) ++dd;
                else if (is_sym(t[k], ")")) --dd;
                else if (dd == 0 && is_sym(t[k], ",")) last = k;
              }
              auto dt = last < close ? expr_type(t, last + 1, close) : std::nullopt;
              type_arg = ", " + quote_literal(dt && is_datetime_type(dt->type) ? type_to_string(*dt) : "datetime");
            }
            repl = (up == "DATEADD" ? "m2r_dateadd(" : "m2r_datediff(") + quote_literal(t[i + 2].text) + ", " +
                   translate(t, i + 4, close, needs_iv) + type_arg + ")";
          } else if (up == "YEAR") repl = "CAST(strftime('%Y', " + args() + ") AS INTEGER)";
          else if (up == "MONTH") repl = "CAST(strftime('%m', " + args() + ") AS INTEGER)";
          else if (up == "DAY") repl = "CAST(strftime('%d', " + args() + ") AS INTEGER)";
          else if (up == "FN_DBLOG" || up == "FN_DUMP_DBLOG") {
            if (up == "FN_DUMP_DBLOG") raise(40517, 16, "Keyword or statement option 'fn_dump_dblog' is not supported in this version of SQL Server.");
            for (std::size_t k = i + 2; k < close; ++k) {
              if (!(t[k].is("NULL") || is_sym(t[k], ","))) {
                raise(40517, 16, "Keyword or statement option 'fn_dblog with an LSN range' is not supported in this version of SQL Server.");
              }
            }
            repl = "temp.fn_dblog";
          } else if (tk.kind == TokKind::word) {
            const bool known_sqlite = std::set<std::string>{"COUNT", "SUM", "MIN", "MAX", "AVG", "ABS", "ROUND", "UPPER", "LOWER",
                "LTRIM", "RTRIM", "TRIM", "REPLACE", "COALESCE", "NULLIF", "IIF", "FLOOR", "SQRT", "SIGN", "EXISTS", "IN",
                "VALUES", "REPLICATE", "REVERSE", "STUFF", "FORMAT", "CONCAT", "STR", "SPACE", "AS", "ON", "AND", "OR", "NOT",
                "WHERE", "FROM", "SELECT", "INTO", "KEY", "CHECK", "OVER", "ROW_NUMBER", "RANK", "DENSE_RANK", "PARTITION",
                "JOIN", "USING", "DEFAULT", "REFERENCES", "UNIQUE", "TABLE", "SET", "BY", "THEN", "ELSE", "WHEN", "CASE",
                "END", "IS", "LIKE", "BETWEEN", "UNION", "ALL", "DISTINCT", "HAVING", "GROUP", "ORDER", "EXCEPT", "INTERSECT"}.count(up);
            if (up == "REPLICATE" || up == "REVERSE" || up == "STUFF" || up == "FORMAT" || up == "STR" || up == "SPACE") {
              raise(40517, 16, "Keyword or statement option '" + up + "' is not supported in this version of SQL Server.");
            }
            if (!known_sqlite) {
              raise(195, 15, "'" + tk.text + "' is not a recognized built-in function name.");
            }
          }
        }
        if (!repl.empty()) {
          emit(repl);
          i = close;
          continue;
        }
        if (tk.kind == TokKind::word && (up == "IN" || up == "EXISTS" || up == "VALUES" || up == "AS" || up == "ON" ||
                                         up == "AND" || up == "OR" || up == "NOT" || up == "FROM" || up == "INTO" ||
                                         up == "WHERE" || up == "SELECT" || up == "KEY" || up == "OVER" || up == "JOIN" ||
                                         up == "TABLE" || up == "SET" || up == "THEN" || up == "ELSE" || up == "WHEN" ||
                                         up == "IS" || up == "LIKE" || up == "BY" || up == "HAVING" || up == "UNION" ||
                                         up == "ALL" || up == "DISTINCT" || up == "END" || up == "BETWEEN" || up == "CASE" ||
                                         up == "EXCEPT" || up == "INTERSECT")) {
          emit(tk.text);
          continue;
        }
        emit(tk.text);  // a SQLite built-in with the same name
        continue;
      }
    }
    // Names (possibly dotted).
    if (tk.kind == TokKind::word && !(i + 1 < end && is_sym(t[i + 1], "."))) {
      static const std::set<std::string> keywords = {
          "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE", "BETWEEN", "AS", "ON", "JOIN", "INNER",
          "LEFT", "RIGHT", "OUTER", "FULL", "CROSS", "GROUP", "BY", "ORDER", "HAVING", "ASC", "DESC", "UNION", "ALL",
          "DISTINCT", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "CASE", "WHEN", "THEN", "ELSE", "END",
          "EXISTS", "DEFAULT", "ESCAPE", "EXCEPT", "INTERSECT", "OFFSET", "ROWS", "ROW", "FETCH", "NEXT", "ONLY", "OVER",
          "PARTITION", "COLLATE", "WITH", "CAST"};
      if (keywords.count(up)) {
        if (up == "FETCH" || up == "OFFSET") raise(40517, 16, "Keyword or statement option '" + up + "' is not supported in this version of SQL Server.");
        emit(tk.text);
        continue;
      }
    }
    bool is_table = false;
    std::string name = resolve_table(t, i, end, &is_table);
    --i;
    if (name.rfind("temp.\"sys.databases\"", 0) == 0 || name.rfind("temp.\"sys.master_files\"", 0) == 0 ||
        name.rfind("temp.\"sys.dm_database_encryption_keys\"", 0) == 0 ||
        name.rfind("temp.\"sys.dm_exec_requests\"", 0) == 0 || name.rfind("temp.\"sys.dm_exec_sessions\"", 0) == 0 ||
        name.rfind("temp.\"sys.dm_server_services\"", 0) == 0 ||
        name.rfind("temp.\"sys.database_scoped_configurations\"", 0) == 0 ||
        name.rfind("temp.\"sys.server_principals\"", 0) == 0 ||
        name.rfind("temp.\"sys.sql_logins\"", 0) == 0 || name.rfind("temp.\"sys.server_role_members\"", 0) == 0 ||
        name.rfind("temp.\"sys.server_permissions\"", 0) == 0) {
      if (needs_iv) *needs_iv = true;
    }
    emit(name);
  }
  if (limits.count(0)) emit("LIMIT " + limits[0]);
  return out;
}

std::vector<std::optional<ColumnType>> SessionImpl::infer_select_types(const std::vector<Token>& t) {
  TranslationScope scope(*this, t);
  std::vector<std::optional<ColumnType>> out;
  if (t.empty() || !t[0].is("SELECT")) return out;
  std::size_t i = 1;
  if (i < t.size() && (t[i].is("DISTINCT") || t[i].is("ALL"))) ++i;
  if (i < t.size() && t[i].is("TOP")) {
    ++i;
    if (i < t.size() && is_sym(t[i], "(")) i = match_paren(t, i, t.size()) + 1;
    else ++i;
  }
  std::size_t start = i;
  int depth = 0;
  std::vector<std::pair<std::size_t, std::size_t>> items;
  for (; i <= t.size(); ++i) {
    if (i == t.size() || (depth == 0 && (t[i].is("FROM") || t[i].is("INTO") || t[i].is("WHERE") || t[i].is("UNION") ||
                                         t[i].is("ORDER") || t[i].is("GROUP") || t[i].is("HAVING") || is_sym(t[i], ";")))) {
      items.emplace_back(start, i);
      break;
    }
    if (is_sym(t[i], "(")) ++depth;
    else if (is_sym(t[i], ")")) --depth;
    else if (depth == 0 && is_sym(t[i], ",")) {
      items.emplace_back(start, i);
      start = i + 1;
    }
  }
  auto mk = [](SqlType ty, int len = 0, int p = 0, int s = 0) {
    ColumnType c;
    c.type = ty;
    c.length = len;
    c.precision = p;
    c.scale = s;
    return c;
  };
  for (auto [b, e] : items) {
    std::optional<ColumnType> ty;
    if (b >= e) { out.push_back(ty); continue; }
    if (is_sym(t[b], "*") || (e - b >= 3 && is_sym(t[b + 1], ".") && is_sym(t[b + 2], "*"))) return {};
    // Alias form "alias = expr".
    if (e - b >= 3 && t[b].is_name() && is_sym(t[b + 1], "=")) b += 2;
    const Token& f = t[b];
    const std::string u = f.kind == TokKind::word ? upper(f.text) : "";
    const bool call = b + 1 < e && is_sym(t[b + 1], "(");
    if (call && (u == "CAST" || u == "CONVERT")) {
      std::size_t close = match_paren(t, b + 1, e);
      std::string decl;
      if (u == "CAST") {
        int d = 0;
        std::size_t as = close;
        for (std::size_t k = b + 2; k < close; ++k) {
          if (is_sym(t[k], "(")) ++d;
          else if (is_sym(t[k], ")")) --d;
          else if (d == 0 && t[k].is("AS")) { as = k; break; }
        }
        for (std::size_t k = as + 1; k < close; ++k) decl += t[k].text;
      } else {
        for (std::size_t k = b + 2; k < close && !is_sym(t[k], ","); ++k) decl += t[k].text;
      }
      ColumnType ct;
      if (parse_type(decl, ct)) ty = ct;
    } else if (call) {
      if (u == "COUNT_BIG") ty = mk(SqlType::bigint);
      else if (u == "COUNT" || u == "CHECKSUM_AGG" || u == "BINARY_CHECKSUM" || u == "CHECKSUM" || u == "LEN" ||
               u == "DATALENGTH" || u == "OBJECT_ID" || u == "CHARINDEX" || u == "DATEDIFF" || u == "YEAR" || u == "MONTH" ||
               u == "DAY") ty = mk(SqlType::int_);
      else if (u == "HASHBYTES") ty = mk(SqlType::varbinary, 8000);
      else if (u == "DB_ID") ty = mk(SqlType::smallint);
      else if (u == "DB_NAME" || u == "SCHEMA_NAME" || u == "OBJECT_NAME" || u == "SUSER_SNAME" || u == "USER_NAME" || u == "HOST_NAME" || u == "APP_NAME") ty = mk(SqlType::nvarchar, 128);
      else if (u == "SERVERPROPERTY" || u == "DATABASEPROPERTYEX") ty = mk(SqlType::nvarchar, 128);
      else if (u == "SESSIONPROPERTY") ty = mk(SqlType::int_);  // sql_variant holding an int
      else if (u == "SQL_VARIANT_PROPERTY") ty = mk(SqlType::sql_variant);
      else if (u == "QUOTENAME") ty = mk(SqlType::nvarchar, 258);
      else if (u == "GETDATE" || u == "GETUTCDATE" || u == "CURRENT_TIMESTAMP") ty = mk(SqlType::datetime);
      else if (u == "SYSDATETIME" || u == "SYSUTCDATETIME") ty = mk(SqlType::datetime2, 0, 0, 7);
      else if (u == "SCOPE_IDENTITY") ty = mk(SqlType::decimal, 0, 38, 0);
      else if (u == "NEWID") ty = mk(SqlType::uniqueidentifier);
    } else if (f.kind == TokKind::variable) {
      const std::string v = upper(f.text);
      if (v == "@@VERSION") ty = mk(SqlType::nvarchar, 300);
      else if (v == "@@SERVERNAME" || v == "@@SERVICENAME") ty = mk(SqlType::nvarchar, 128);
      else if (v == "@@SPID") ty = mk(SqlType::smallint);
      else if (v == "@@TRANCOUNT" || v == "@@ROWCOUNT" || v == "@@ERROR" || v == "@@OPTIONS" || v == "@@TEXTSIZE") ty = mk(SqlType::int_);
      else if (v == "@@DATEFIRST") ty = mk(SqlType::tinyint);
      else if (v == "@@LANGID") ty = mk(SqlType::smallint);
      else if (v == "@@LANGUAGE") ty = mk(SqlType::nvarchar, 128);
      else if (v == "@@IDENTITY") ty = mk(SqlType::decimal, 0, 38, 0);
      else if (v == "@@DBTS") ty = mk(SqlType::varbinary, 8);
      else if (const Variable* var = variable(lower(f.text))) ty = var->type;
    } else if (f.kind == TokKind::string && (b + 1 == e || t[b + 1].is("AS") || t[b + 1].is_name())) {
      ty = mk(f.national ? SqlType::nvarchar : SqlType::varchar, std::max<int>(1, static_cast<int>(f.text.size())));
    } else if (f.kind == TokKind::number && (b + 1 == e || t[b + 1].is("AS") || t[b + 1].is_name())) {
      ty = number_literal_type(f.text);
    }
    // Anything else the static typer can type: arithmetic, aggregates, columns, literals.
    if (!ty || (e > b + 1 && !(call && match_paren(t, b + 1, e) + 1 == e))) {
      std::size_t ee = e;
      if (ee >= b + 2 && t[ee - 2].is("AS")) ee -= 2;
      else if (ee >= b + 2 && t[ee - 1].is_name() && !t[ee - 1].is("END") && !is_sym(t[ee - 2], ".") &&
               (t[ee - 2].kind != TokKind::word || !t[ee - 2].is("CASE"))) {
        if (auto alt = expr_type(t, b, ee - 1)) ty = alt;
      }
      if (auto full = expr_type(t, b, ee)) ty = full;
    }
    out.push_back(ty);
  }
  return out;
}

}  // namespace sandbox::engine
