// Token-wise translation of T-SQL expressions and DML to SQLite (README.md "Translation").
#include <set>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

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
    case SqlType::float_: return "REAL";
    case SqlType::decimal: return "NUMERIC";
    case SqlType::varbinary: return "BLOB";
    default: return "TEXT";
  }
}

const std::set<std::string> k_hints = {"NOLOCK", "READUNCOMMITTED", "ROWLOCK", "UPDLOCK", "HOLDLOCK", "TABLOCK", "TABLOCKX",
                                       "READPAST", "XLOCK", "PAGLOCK", "NOWAIT", "SERIALIZABLE", "READCOMMITTED",
                                       "REPEATABLEREAD"};

bool is_hint_group(const std::vector<Token>& t, std::size_t open, std::size_t end) {
  if (open + 1 >= end || !is_sym(t[open], "(")) return false;
  return t[open + 1].kind == TokKind::word && k_hints.count(upper(t[open + 1].text));
}

}  // namespace

std::string SessionImpl::sqlite_table_name(const std::string& schema, const std::string& table) {
  if (schema.empty() || iequals(schema, "dbo")) return table;
  return schema + "." + table;
}

std::vector<std::string> SessionImpl::table_columns(const std::string& sqlite_name) {
  std::vector<std::string> cols;
  Stmt s(cur(), "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  s.bind(1, sqlite_name);
  while (s.step()) cols.push_back(s.str(0));
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
  // Three or more parts: database first.
  if (parts.size() >= 3) {
    const std::string dbn = parts[0];
    if (iequals(dbn, "msdb") && !iequals(m_db, "msdb")) {
      if (is_table) *is_table = true;
      std::string out = "msdb." + q(parts[2]);
      for (std::size_t k = 3; k < parts.size(); ++k) out += "." + q(parts[k]);
      return out;
    }
    if (iequals(dbn, m_db) || (iequals(dbn, "master") && iequals(parts[1], "sys"))) {
      parts.erase(parts.begin());
    } else if (!m_inst.find(dbn) && !iequals(parts[1], "sys")) {
      // Not a database: schema.table.column
    } else {
      raise(40517, 16, "Keyword or statement option 'cross-database reference " + dbn + "." + parts[1] + "." + parts[2] +
                           "' is not supported in this version of SQL Server.");
    }
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

std::string SessionImpl::translate(const std::vector<Token>& t, std::size_t begin, std::size_t end, bool* needs_iv) {
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
    switch (tk.kind) {
      case TokKind::string: emit(quote_literal(tk.text)); continue;
      case TokKind::number:
        if (tk.text.size() > 1 && (tk.text[1] == 'x' || tk.text[1] == 'X')) emit("X'" + tk.text.substr(2) + (tk.text.size() % 2 ? "0" : "") + "'");
        else emit(tk.text);
        continue;
      case TokKind::variable:
        if (tk.text.rfind("@@", 0) == 0) emit("m2r_global(" + quote_literal(tk.text.substr(2)) + ")");
        else emit("m2r_var(" + quote_literal(lower(tk.text)) + ")");
        continue;
      case TokKind::symbol:
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
          if (ct.type == SqlType::decimal) repl = "ROUND(CAST(" + e + " AS REAL), " + std::to_string(ct.scale) + ")";
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
          if (ct.type == SqlType::decimal) repl = "ROUND(CAST(" + e + " AS REAL), " + std::to_string(ct.scale) + ")";
          else repl = "CAST(" + e + " AS " + target + ")";
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
          for (auto& c : table_columns(bare)) cols += (cols.empty() ? "" : ", ") + quote_ident(c);
          repl = "m2r_binary_checksum(" + cols + ")";
        } else if (up == "BINARY_CHECKSUM" || up == "CHECKSUM") {
          repl = "m2r_binary_checksum(" + args() + ")";
        } else {
          static const std::map<std::string, std::string> simple = {
              {"ISNULL", "IFNULL"}, {"COUNT_BIG", "COUNT"}, {"LEN", "m2r_len"}, {"DATALENGTH", "m2r_datalength"},
              {"LEFT", "m2r_left"}, {"RIGHT", "m2r_right"}, {"SUBSTRING", "SUBSTR"}, {"CHECKSUM_AGG", "m2r_checksum_agg"},
              {"HASHBYTES", "m2r_hashbytes"}, {"DB_ID", "m2r_db_id"}, {"DB_NAME", "m2r_db_name"},
              {"SERVERPROPERTY", "m2r_serverproperty"}, {"SESSIONPROPERTY", "m2r_sessionproperty"}, {"QUOTENAME", "m2r_quotename"}, {"OBJECT_ID", "m2r_object_id"},
              {"NEWID", "m2r_newid"}, {"SCOPE_IDENTITY", "m2r_scope_identity"}, {"SCHEMA_NAME", "m2r_schema_name"},
              {"OBJECT_NAME", "m2r_object_name"}, {"USER_NAME", "m2r_user"}, {"SUSER_SNAME", "m2r_user"},
              {"SUSER_NAME", "m2r_user"}, {"CEILING", "CEIL"}, {"POWER", "POW"}, {"CHAR", "CHAR"}, {"ASCII", "UNICODE"},
              {"NCHAR", "CHAR"}, {"UNICODE", "UNICODE"}};
          auto it = simple.find(up);
          if (it != simple.end()) repl = it->second + "(" + args() + ")";
          else if (const char* cf = control_flow_function(up)) repl = std::string(cf) + "(" + args() + ")";
          else if (up == "GETDATE" || up == "CURRENT_TIMESTAMP") repl = "m2r_now(0)";
          else if (up == "GETUTCDATE") repl = "m2r_now(1)";
          else if (up == "SYSDATETIME") repl = "m2r_now(2)";
          else if (up == "SYSUTCDATETIME") repl = "m2r_now(3)";
          else if (up == "CHARINDEX") {
            int d = 0;
            std::size_t comma = close;
            for (std::size_t k = i + 2; k < close; ++k) {
              if (is_sym(t[k], "(")) ++d;
              else if (is_sym(t[k], ")")) --d;
              else if (d == 0 && is_sym(t[k], ",")) { comma = k; break; }
            }
            repl = "INSTR(" + translate(t, comma + 1, close, needs_iv) + ", " + translate(t, i + 2, comma, needs_iv) + ")";
          } else if (up == "DATEADD" || up == "DATEDIFF" || up == "DATEPART") {
            if (up == "DATEPART") raise(40517, 16, "Keyword or statement option 'DATEPART' is not supported in this version of SQL Server.");
            repl = (up == "DATEADD" ? "m2r_dateadd(" : "m2r_datediff(") + quote_literal(t[i + 2].text) + ", " +
                   translate(t, i + 4, close, needs_iv) + ")";
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
            if (up == "CONCAT") repl = "(" + [&] {
              std::string a = args();
              std::string r;
              int d = 0;
              std::string curp;
              for (char c : a) {
                if (c == '(') ++d;
                if (c == ')') --d;
                if (c == ',' && d == 0) { r += (r.empty() ? "" : " || ") + ("IFNULL(" + curp + ",'')"); curp.clear(); continue; }
                curp += c;
              }
              r += (r.empty() ? "" : " || ") + ("IFNULL(" + curp + ",'')");
              return r;
            }() + ")";
            else if (!known_sqlite) {
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
        name.rfind("temp.\"sys.dm_exec_requests\"", 0) == 0) {
      if (needs_iv) *needs_iv = true;
    }
    emit(name);
  }
  if (limits.count(0)) emit("LIMIT " + limits[0]);
  return out;
}

std::vector<std::optional<ColumnType>> SessionImpl::infer_select_types(const std::vector<Token>& t) {
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
      else if (u == "DB_NAME" || u == "SCHEMA_NAME" || u == "OBJECT_NAME" || u == "SUSER_SNAME" || u == "USER_NAME") ty = mk(SqlType::nvarchar, 128);
      else if (u == "SERVERPROPERTY") ty = mk(SqlType::nvarchar, 128);
      else if (u == "SESSIONPROPERTY") ty = mk(SqlType::int_);  // sql_variant holding an int
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
      else if (const Variable* var = variable(lower(f.text))) ty = var->type;
    } else if (f.kind == TokKind::string && (b + 1 == e || t[b + 1].is("AS") || t[b + 1].is_name())) {
      ty = mk(f.national ? SqlType::nvarchar : SqlType::varchar, std::max<int>(1, static_cast<int>(f.text.size())));
    } else if (f.kind == TokKind::number && (b + 1 == e || t[b + 1].is("AS") || t[b + 1].is_name())) {
      if (f.text.find('.') != std::string::npos) {
        auto dot = f.text.find('.');
        ty = mk(SqlType::decimal, 0, static_cast<int>(f.text.size() - 1), static_cast<int>(f.text.size() - dot - 1));
      } else {
        ty = mk(std::stoll(f.text.size() > 18 ? "0" : f.text) > 2147483647LL ? SqlType::bigint : SqlType::int_);
      }
    }
    out.push_back(ty);
  }
  return out;
}

}  // namespace sandbox::engine
