#include "engine/parse_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

void unsupported(const std::string& what) {
  raise(40517, 16, "Keyword or statement option '" + what + "' is not supported in this version of SQL Server.");
}

bool is_reserved_keyword(const std::string& word) {
  static const std::set<std::string> reserved = {
      "ADD", "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "AUTHORIZATION", "BACKUP", "BEGIN", "BETWEEN", "BREAK", "BROWSE",
      "BULK", "BY", "CASCADE", "CASE", "CHECK", "CHECKPOINT", "CLOSE", "CLUSTERED", "COALESCE", "COLLATE", "COLUMN",
      "COMMIT", "COMPUTE", "CONSTRAINT", "CONTAINS", "CONTAINSTABLE", "CONTINUE", "CONVERT", "CREATE", "CROSS", "CURRENT",
      "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "DATABASE", "DBCC", "DEALLOCATE",
      "DECLARE", "DEFAULT", "DELETE", "DENY", "DESC", "DISK", "DISTINCT", "DISTRIBUTED", "DOUBLE", "DROP", "DUMP", "ELSE",
      "END", "ERRLVL", "ESCAPE", "EXCEPT", "EXEC", "EXECUTE", "EXISTS", "EXIT", "EXTERNAL", "FETCH", "FILE", "FILLFACTOR",
      "FOR", "FOREIGN", "FREETEXT", "FREETEXTTABLE", "FROM", "FULL", "FUNCTION", "GOTO", "GRANT", "GROUP", "HAVING",
      "HOLDLOCK", "IDENTITY", "IDENTITY_INSERT", "IDENTITYCOL", "IF", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO",
      "IS", "JOIN", "KEY", "KILL", "LEFT", "LIKE", "LINENO", "LOAD", "MERGE", "NATIONAL", "NOCHECK", "NONCLUSTERED", "NOT",
      "NULL", "NULLIF", "OF", "OFF", "OFFSETS", "ON", "OPEN", "OPENDATASOURCE", "OPENQUERY", "OPENROWSET", "OPENXML",
      "OPTION", "OR", "ORDER", "OUTER", "OVER", "PERCENT", "PIVOT", "PLAN", "PRECISION", "PRIMARY", "PRINT", "PROC",
      "PROCEDURE", "PUBLIC", "RAISERROR", "READ", "READTEXT", "RECONFIGURE", "REFERENCES", "REPLICATION", "RESTORE",
      "RESTRICT", "RETURN", "REVERT", "REVOKE", "RIGHT", "ROLLBACK", "ROWCOUNT", "ROWGUIDCOL", "RULE", "SAVE", "SCHEMA",
      "SECURITYAUDIT", "SELECT", "SEMANTICKEYPHRASETABLE", "SEMANTICSIMILARITYDETAILSTABLE", "SEMANTICSIMILARITYTABLE",
      "SESSION_USER", "SET", "SETUSER", "SHUTDOWN", "SOME", "STATISTICS", "SYSTEM_USER", "TABLE", "TABLESAMPLE",
      "TEXTSIZE", "THEN", "TO", "TOP", "TRAN", "TRANSACTION", "TRIGGER", "TRUNCATE", "TRY_CONVERT", "TSEQUAL", "UNION",
      "UNIQUE", "UNPIVOT", "UPDATE", "UPDATETEXT", "USE", "USER", "VALUES", "VARYING", "VIEW", "WAITFOR", "WHEN", "WHERE",
      "WHILE", "WITH", "WITHIN", "WRITETEXT"};
  return reserved.count(upper(word)) > 0;
}

bool is_identifier(const Token& t) {
  return t.kind == TokKind::ident_quoted || (t.kind == TokKind::word && !is_reserved_keyword(t.text));
}

void syntax_near(const std::vector<Token>& t, std::size_t i) {
  if (i < t.size() && t[i].kind == TokKind::word && is_reserved_keyword(t[i].text)) {
    raise(156, 15, "Incorrect syntax near the keyword '" + t[i].text + "'.");
  }
  // Past the end: SQL Server names the token where the batch (here: the statement) ended.
  const std::string near = i < t.size() ? t[i].text : t.empty() ? std::string() : t.back().text;
  raise(102, 15, "Incorrect syntax near '" + near + "'.");
}

std::string nliteral(const std::string& s) {
  std::string out = "N'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::int64_t int_literal(const Token& t) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.text.c_str(), &end, 10);
  if (t.kind != TokKind::number || t.text.empty() || end == t.text.c_str() || *end != '\0') {
    raise(102, 15, "Incorrect syntax near '" + t.text + "'.");
  }
  if (errno == ERANGE) raise(8115, 16, "Arithmetic overflow error converting expression to data type bigint.");
  return v;
}

std::size_t match_paren(const std::vector<Token>& t, std::size_t open, std::size_t end) {
  end = std::min(end, t.size());
  if (open >= end || !is_sym(t[open], "(")) syntax_near(t, open);
  int depth = 0;
  for (std::size_t i = open; i < end; ++i) {
    if (is_sym(t[i], "(")) ++depth;
    else if (is_sym(t[i], ")") && --depth == 0) return i;
  }
  syntax_near(t, open);
}

ObjName parse_name(const std::vector<Token>& t, std::size_t& i) {
  std::vector<std::string> parts;
  if (i >= t.size() || !is_identifier(t[i])) syntax_near(t, i);
  parts.push_back(t[i++].text);
  while (i + 1 < t.size() && is_sym(t[i], ".")) {
    if (t[i + 1].is_name()) { parts.push_back(t[i + 1].text); i += 2; }
    else if (is_sym(t[i + 1], ".")) { parts.push_back(""); i += 1; }
    else break;
  }
  ObjName n;
  n.name = parts.back();
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) n.schema = parts[parts.size() - 2];
  if (parts.size() >= 3) n.db = parts[parts.size() - 3];
  return n;
}

std::int64_t waitfor_delay_ms(const std::string& text) {
  auto bad = [&]() -> std::int64_t {
    raise(148, 15, "Incorrect time syntax in time string '" + text + "' used with WAITFOR.");
  };
  std::size_t p = 0;
  auto field = [&](std::size_t max_digits) -> std::int64_t {
    std::int64_t v = 0;
    std::size_t n = 0;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9' && n < max_digits) v = v * 10 + (text[p++] - '0'), ++n;
    if (n == 0) bad();
    return v;
  };
  while (p < text.size() && text[p] == ' ') ++p;
  // Leading zeros are allowed in the hours (FreeTDS's cancel test waits '000:05:00').
  while (p + 2 < text.size() && text[p] == '0' && text[p + 1] >= '0' && text[p + 1] <= '9' && text[p + 2] >= '0' && text[p + 2] <= '9') ++p;
  const std::int64_t h = field(2);
  if (p >= text.size() || text[p] != ':') bad();
  ++p;
  const std::int64_t m = field(2);
  std::int64_t s = 0, ms = 0;
  if (p < text.size() && text[p] == ':') {
    ++p;
    s = field(2);
    if (p < text.size() && text[p] == '.') {
      ++p;
      const std::size_t start = p;
      ms = field(3);
      for (std::size_t digits = p - start; digits < 3; ++digits) ms *= 10;  // '.5' is 500 ms
    }
  }
  while (p < text.size() && text[p] == ' ') ++p;
  if (p != text.size() || h > 24 || m > 59 || s > 59 || (h == 24 && (m || s || ms))) bad();
  return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

Value number_literal(const Token& t) {
  if (t.kind == TokKind::number && t.text.find_first_of(".eE") != std::string::npos && t.text.find_first_of("xX") == std::string::npos) {
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(t.text.c_str(), &end);
    if (end == t.text.c_str() || *end != '\0') raise(102, 15, "Incorrect syntax near '" + t.text + "'.");
    if (errno == ERANGE) raise(8115, 16, "Arithmetic overflow error converting expression to data type float.");
    return d;
  }
  return int_literal(t);
}

std::vector<std::string> name_list(const std::vector<Token>& t, std::size_t open, std::size_t close) {
  std::vector<std::string> out;
  for (std::size_t k = open + 1; k < close; ++k) {
    if (t[k].is_name() && !t[k].is("ASC") && !t[k].is("DESC")) out.push_back(t[k].text);
  }
  return out;
}

std::string type_decl_text(const std::vector<Token>& t, std::size_t& i) {
  if (i >= t.size() || !is_identifier(t[i])) syntax_near(t, i);
  std::string decl = t[i].text;
  ++i;
  if (i < t.size() && is_sym(t[i], "(")) {
    std::size_t close = match_paren(t, i);
    decl += "(";
    for (std::size_t k = i + 1; k < close; ++k) decl += lower(t[k].text) == "max" ? "-1" : t[k].text;
    decl += ")";
    i = close + 1;
  }
  return lower(decl);
}

std::string value_str(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

}  // namespace sandbox::engine
