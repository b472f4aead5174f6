// Statement boundaries by T-SQL's grammar and the control-flow tree (README.md "Batches and
// control flow"). The parser only finds where each statement ends and how control flow
// nests; the statement handlers read the tokens of each simple statement themselves.
#include "engine/batch_parser.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/parse_util.hpp"
#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

namespace {

// Keywords that begin a statement: inside a statement whose grammar does not take them
// (DDL, BACKUP, GRANT, ...) they end it.
const std::set<std::string>& statement_keywords() {
  static const std::set<std::string> k = {
      "ALTER", "BACKUP", "BEGIN", "BREAK", "BULK", "CHECKPOINT", "CLOSE", "COMMIT", "CONTINUE", "CREATE", "DBCC",
      "DEALLOCATE", "DECLARE", "DELETE", "DENY", "DROP", "ELSE", "END", "EXEC", "EXECUTE", "FETCH", "GOTO", "GRANT", "IF",
      "INSERT", "KILL", "MERGE", "OPEN", "PRINT", "RAISERROR", "RECONFIGURE", "RESTORE", "RETURN", "REVERT", "REVOKE",
      "ROLLBACK", "SAVE", "SELECT", "SET", "SETUSER", "SHUTDOWN", "THROW", "TRUNCATE", "UPDATE", "USE", "WAITFOR", "WHILE",
      "WITH"};
  return k;
}

// Reserved words that still read as an expression's operand (functions, niladic functions).
bool reserved_operand(const std::string& up, bool call) {
  if (up == "NULL" || up == "CURRENT_TIMESTAMP" || up == "CURRENT_USER" || up == "SESSION_USER" || up == "SYSTEM_USER" ||
      up == "USER" || up == "CURRENT_DATE" || up == "DEFAULT") {
    return true;
  }
  return call && (up == "LEFT" || up == "RIGHT" || up == "COALESCE" || up == "NULLIF" || up == "CONVERT" ||
                  up == "TRY_CONVERT" || up == "IDENTITY" || up == "UPDATE" || up == "FILE" || up == "USER" ||
                  up == "CONTAINS" || up == "FREETEXT");
}

class Parser {
 public:
  Parser(const std::string& text, const ParseOptions& o) : m_src(text), m_t(tokenize(text, o.quoted_identifier)), m_opts(o) {}

  std::vector<Node> batch() {
    std::vector<Node> out;
    bool terminated = true;  // the previous statement ended with `;` (or there is none)
    while (!at_end()) {
      if (sym(";")) { ++m_i; terminated = true; continue; }
      if (word("END")) fail(m_i);
      if (word("ELSE")) fail(m_i);
      out.push_back(statement(terminated, out.empty()));
      terminated = false;
    }
    return out;
  }

 private:
  // --- tokens -----------------------------------------------------------------------------
  bool at_end() const { return m_i >= m_t.size(); }
  bool sym(const char* s, std::size_t at) const { return at < m_t.size() && m_t[at].kind == TokKind::symbol && m_t[at].text == s; }
  bool sym(const char* s) const { return sym(s, m_i); }
  bool word(const char* k, std::size_t at) const { return at < m_t.size() && m_t[at].is(k); }
  bool word(const char* k) const { return word(k, m_i); }
  std::string up(std::size_t at) const { return at < m_t.size() && m_t[at].kind == TokKind::word ? upper(m_t[at].text) : std::string(); }
  bool reserved_at(std::size_t at) const { return at < m_t.size() && is_reserved_keyword(m_t[at]); }
  // A name that is not a reserved keyword (a quoted identifier always is one).
  bool plain_name(std::size_t at) const {
    return at < m_t.size() && (m_t[at].kind == TokKind::ident_quoted || (m_t[at].kind == TokKind::word && !reserved_at(at)));
  }

  // A compile error (severity 15) at the line of t[at].
  [[noreturn]] void error_at(std::size_t at, int number, const std::string& text) const {
    Message m;
    m.number = number;
    m.severity = 15;
    m.text = text;
    m.line = m_t.empty() ? 1 + m_opts.line_base : line_of(m_t[std::min(at, m_t.size() - 1)].offset);
    throw SqlError{m};
  }
  [[noreturn]] void fail(std::size_t at) const {
    const std::size_t k = at < m_t.size() ? at : m_t.size() - 1;
    if (m_t.empty()) error_at(0, 102, "Incorrect syntax near ''.");
    const Token& tk = m_t[k];
    if (tk.kind == TokKind::word && is_reserved_keyword(tk)) error_at(k, 156, "Incorrect syntax near the keyword '" + tk.text + "'.");
    error_at(k, 102, "Incorrect syntax near '" + tk.text + "'.");
  }
  void expect_word(const char* k) {
    if (!word(k)) fail(m_i);
    ++m_i;
  }
  void expect_sym(const char* s) {
    if (!sym(s)) fail(m_i);
    ++m_i;
  }
  // Past the ")" matching the "(" at m_i.
  void skip_parens() {
    if (!sym("(")) fail(m_i);
    int depth = 0;
    for (; m_i < m_t.size(); ++m_i) {
      if (sym("(")) ++depth;
      else if (sym(")") && --depth == 0) { ++m_i; return; }
    }
    fail(m_t.size());
  }
  // Past the END matching the CASE at m_i.
  void skip_case() {
    int depth = 0;
    for (; m_i < m_t.size(); ++m_i) {
      if (word("CASE")) ++depth;
      else if (word("END") && --depth == 0) { ++m_i; return; }
    }
    fail(m_t.size());
  }
  void name_chain() {
    if (!(m_t.size() > m_i && (m_t[m_i].is_name()))) fail(m_i);
    ++m_i;
    while (sym(".")) {
      ++m_i;
      if (sym(".")) continue;  // db..table
      if (at_end() || !(m_t[m_i].is_name() || sym("*"))) fail(m_i);
      ++m_i;
    }
  }

  // --- expressions ----------------------------------------------------------------------------
  bool starts_operand(std::size_t at) const {
    if (at >= m_t.size()) return false;
    const Token& tk = m_t[at];
    switch (tk.kind) {
      case TokKind::number: case TokKind::string: case TokKind::variable: case TokKind::ident_quoted: return true;
      case TokKind::symbol:
        return tk.text == "(" || tk.text == "-" || tk.text == "+" || tk.text == "~" || tk.text == "$" || tk.text == "{";
      case TokKind::word: {
        const std::string u = upper(tk.text);
        if (u == "CASE" || u == "EXISTS" || u == "NOT") return true;
        if (!is_reserved_keyword(tk)) return true;
        return reserved_operand(u, sym("(", at + 1));
      }
      case TokKind::end: return false;
    }
    return false;
  }
  // Msg 191 past this nesting (SQL Server's own limit is its stack; the sandbox's is this).
  static constexpr int k_max_nesting = 500;
  struct Nesting {
    const Parser& p;
    int& depth;
    Nesting(const Parser& parser, int& d) : p(parser), depth(d) {
      if (++depth > k_max_nesting) {
        --depth;
        p.error_at(p.m_i, 191, "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries.");
      }
    }
    ~Nesting() { --depth; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
  };
  void operand() {
    Nesting guard(*this, m_depth);
    if (at_end()) fail(m_i);
    const Token& tk = m_t[m_i];
    if (sym("(")) { skip_parens(); return; }
    if (sym("{")) {  // an ODBC escape: {d '...'}, {ts '...'}, {t '...'}, {fn ...}
      const std::size_t open = m_i;
      while (!at_end() && !sym("}")) ++m_i;
      if (at_end()) fail(open);
      ++m_i;
      return;
    }
    if (sym("-") || sym("+") || sym("~")) { ++m_i; operand(); return; }
    if (sym("$")) { ++m_i; if (!at_end() && m_t[m_i].kind == TokKind::number) ++m_i; return; }
    // %%lockres%% (and SQL Server's other %%name%% pseudo-columns)
    if (sym("%") && sym("%", m_i + 1) && m_i + 4 < m_t.size() && m_t[m_i + 2].kind == TokKind::word && sym("%", m_i + 3) &&
        sym("%", m_i + 4)) {
      m_i += 5;
      return;
    }
    if (word("NOT")) { ++m_i; operand(); return; }
    if (word("EXISTS")) { ++m_i; skip_parens(); return; }
    if (word("CASE")) { skip_case(); return; }
    if (tk.kind == TokKind::number || tk.kind == TokKind::string) { ++m_i; return; }
    if (tk.kind == TokKind::variable) { ++m_i; return; }
    if (tk.kind == TokKind::word && is_reserved_keyword(tk) && !reserved_operand(upper(tk.text), sym("(", m_i + 1))) fail(m_i);
    if (!tk.is_name()) fail(m_i);
    // name [. name]... [(args)] [OVER (...)] [WITHIN GROUP (...)] [. method (...)]...
    ++m_i;
    for (;;) {
      if (sym(".") || sym("::")) {
        ++m_i;
        if (sym(".")) continue;
        if (at_end() || !(m_t[m_i].is_name() || sym("*"))) fail(m_i);
        ++m_i;
        continue;
      }
      if (sym("(")) {
        skip_parens();
        if (word("WITHIN") && word("GROUP", m_i + 1)) { m_i += 2; skip_parens(); }
        if (word("OVER")) { ++m_i; skip_parens(); }
        continue;
      }
      break;
    }
  }
  bool binary_operator() const {
    static const std::set<std::string> ops = {"+", "-", "*", "/", "%", "=", "<>", "!=", "<", ">", "<=", ">=", "!<", "!>",
                                              "&", "|", "^", "||"};
    return !at_end() && m_t[m_i].kind == TokKind::symbol && ops.count(m_t[m_i].text);
  }
  // Operands joined by arithmetic, string and comparison operators.
  void arith() {
    operand();
    for (;;) {
      if (word("COLLATE")) { ++m_i; if (at_end()) fail(m_i); ++m_i; continue; }
      if (!binary_operator()) return;
      ++m_i;
      if ((word("ALL") || word("ANY") || word("SOME")) && sym("(", m_i + 1)) { ++m_i; skip_parens(); continue; }
      operand();
    }
  }
  // A scalar or boolean expression.
  void expr() {
    for (;;) {
      arith();
      for (;;) {
        if (word("IS")) { ++m_i; if (word("NOT")) ++m_i; expect_word("NULL"); continue; }
        const bool negated = word("NOT") && (word("IN", m_i + 1) || word("LIKE", m_i + 1) || word("BETWEEN", m_i + 1));
        if (negated) ++m_i;
        if (word("IN")) { ++m_i; skip_parens(); continue; }
        if (word("LIKE")) { ++m_i; arith(); if (word("ESCAPE")) { ++m_i; arith(); } continue; }
        if (word("BETWEEN")) { ++m_i; arith(); expect_word("AND"); arith(); continue; }
        break;
      }
      if (word("AND") || word("OR")) { ++m_i; continue; }
      return;
    }
  }
  void expr_list() {
    expr();
    while (sym(",")) { ++m_i; expr(); }
  }

  // --- queries ---------------------------------------------------------------------------------
  void alias(bool column_list) {
    if (word("AS")) {
      ++m_i;
      if (at_end() || !(m_t[m_i].is_name() || m_t[m_i].kind == TokKind::string)) fail(m_i);
      ++m_i;
    } else if (plain_name(m_i) || (!at_end() && m_t[m_i].kind == TokKind::string && !column_list)) {
      ++m_i;
    } else {
      return;
    }
    if (column_list && sym("(")) skip_parens();
  }
  void select_item() {
    if (sym("*")) { ++m_i; return; }
    expr();
    alias(false);
  }
  void table_hints() {
    if (word("WITH") && sym("(", m_i + 1)) { ++m_i; skip_parens(); }
  }
  void table_primary() {
    if (sym("(")) {
      skip_parens();
    } else if (!at_end() && m_t[m_i].kind == TokKind::variable) {
      ++m_i;
    } else {
      if (!at_end() && m_t[m_i].kind == TokKind::word && is_reserved_keyword(m_t[m_i]) &&
          !(sym("(", m_i + 1) && (word("OPENQUERY") || word("OPENROWSET") || word("OPENXML") || word("OPENDATASOURCE") ||
                                  word("CONTAINSTABLE") || word("FREETEXTTABLE")))) {
        fail(m_i);
      }
      name_chain();
      if (sym("(")) skip_parens();  // table-valued function arguments, or old-style hints
    }
    if (word("TABLESAMPLE")) { ++m_i; if (word("SYSTEM")) ++m_i; skip_parens(); if (word("REPEATABLE")) { ++m_i; skip_parens(); } }
    alias(true);
    if (sym("(") && m_i + 1 < m_t.size() && m_t[m_i + 1].kind == TokKind::word) skip_parens();  // t a (NOLOCK)
    table_hints();
    while (word("PIVOT") || word("UNPIVOT")) { ++m_i; skip_parens(); alias(false); }
  }
  void table_source() {
    table_primary();
    for (;;) {
      std::size_t k = m_i;
      if (word("CROSS", k) && word("APPLY", k + 1)) { m_i += 2; table_primary(); continue; }
      if (word("OUTER", k) && word("APPLY", k + 1)) { m_i += 2; table_primary(); continue; }
      if (word("INNER", k) || word("CROSS", k)) ++k;
      else if (word("LEFT", k) || word("RIGHT", k) || word("FULL", k)) { ++k; if (word("OUTER", k)) ++k; }
      if (word("LOOP", k) || word("HASH", k) || word("MERGE", k) || word("REMOTE", k)) ++k;
      if (!word("JOIN", k)) break;
      m_i = k + 1;
      table_source_nested();
    }
  }
  // The right side of a JOIN: a source, joins nested in it, and ON conditions.
  void table_source_nested() {
    table_primary();
    for (;;) {
      std::size_t k = m_i;
      if (word("ON")) { ++m_i; expr(); return; }
      if (word("CROSS", k) && word("APPLY", k + 1)) { m_i += 2; table_primary(); continue; }
      if (word("OUTER", k) && word("APPLY", k + 1)) { m_i += 2; table_primary(); continue; }
      if (word("INNER", k) || word("CROSS", k)) ++k;
      else if (word("LEFT", k) || word("RIGHT", k) || word("FULL", k)) { ++k; if (word("OUTER", k)) ++k; }
      if (word("LOOP", k) || word("HASH", k) || word("MERGE", k) || word("REMOTE", k)) ++k;
      if (!word("JOIN", k)) return;  // CROSS JOIN has no ON
      m_i = k + 1;
      table_source_nested();
    }
  }
  void from_list() {
    table_source();
    while (sym(",")) { ++m_i; table_source(); }
  }
  void select_spec() {
    expect_word("SELECT");
    if (word("ALL") || word("DISTINCT")) ++m_i;
    if (word("TOP")) {
      ++m_i;
      if (sym("(")) skip_parens();
      else if (!at_end() && (m_t[m_i].kind == TokKind::number || m_t[m_i].kind == TokKind::variable)) ++m_i;
      else fail(m_i);
      if (word("PERCENT")) ++m_i;
      if (word("WITH") && word("TIES", m_i + 1)) m_i += 2;
    }
    select_item();
    while (sym(",")) { ++m_i; select_item(); }
    if (word("INTO")) { ++m_i; table_primary(); }
    if (word("FROM")) { ++m_i; from_list(); }
    if (word("WHERE")) { ++m_i; expr(); }
    if (word("GROUP")) {
      ++m_i;
      expect_word("BY");
      if (word("ALL")) ++m_i;
      expr_list();
      if (word("WITH") && (word("ROLLUP", m_i + 1) || word("CUBE", m_i + 1))) m_i += 2;
    }
    if (word("HAVING")) { ++m_i; expr(); }
  }
  void query_term() {
    if (sym("(")) { skip_parens(); return; }
    select_spec();
  }
  void query_expr() {
    query_term();
    while (word("UNION") || word("EXCEPT") || word("INTERSECT")) {
      ++m_i;
      if (word("ALL")) ++m_i;
      query_term();
    }
  }
  void order_by_and_options() {
    if (word("ORDER")) {
      ++m_i;
      expect_word("BY");
      for (;;) {
        expr();
        if (word("ASC") || word("DESC")) ++m_i;
        if (!sym(",")) break;
        ++m_i;
      }
      if (word("OFFSET")) {
        ++m_i;
        arith();
        if (word("ROW") || word("ROWS")) ++m_i; else fail(m_i);
        if (word("FETCH")) {
          ++m_i;
          if (word("FIRST") || word("NEXT")) ++m_i; else fail(m_i);
          arith();
          if (word("ROW") || word("ROWS")) ++m_i; else fail(m_i);
          expect_word("ONLY");
        }
      }
    }
    if (word("FOR") && (word("XML", m_i + 1) || word("JSON", m_i + 1) || word("BROWSE", m_i + 1))) {
      m_i += 2;
      // FOR XML PATH('r'), ROOT('x'), TYPE / FOR JSON AUTO, INCLUDE_NULL_VALUES
      while (!at_end()) {
        if (sym("(")) { skip_parens(); continue; }
        if (sym(",") || (m_t[m_i].kind == TokKind::word && !statement_keywords().count(up(m_i)) && !word("OPTION"))) { ++m_i; continue; }
        break;
      }
    }
    option_clause();
  }
  void option_clause() {
    if (word("OPTION") && sym("(", m_i + 1)) { ++m_i; skip_parens(); }
  }
  void select_statement() {
    query_expr();
    order_by_and_options();
  }
  void output_clause() {
    if (!word("OUTPUT")) return;
    ++m_i;
    select_item();
    while (sym(",")) { ++m_i; select_item(); }
    if (word("INTO")) {
      ++m_i;
      table_primary_name_only();
      if (sym("(")) skip_parens();
    }
  }
  void table_primary_name_only() {
    if (!at_end() && m_t[m_i].kind == TokKind::variable) { ++m_i; return; }
    name_chain();
  }
  void top_clause() {
    if (!word("TOP")) return;
    ++m_i;
    skip_parens();
    if (word("PERCENT")) ++m_i;
  }

  // --- statements ------------------------------------------------------------------------------
  void insert_statement() {
    if (word("BULK", m_i + 1)) {
      // INSERT BULK table (columns) [WITH (options)]: a bulk load's announcement (bulk_load.cpp).
      m_i += 2;
      table_primary_name_only();
      if (sym("(")) skip_parens();
      if (word("WITH")) {
        ++m_i;
        if (sym("(")) skip_parens();
      }
      return;
    }
    ++m_i;
    top_clause();
    if (word("INTO")) ++m_i;
    table_primary_name_only();
    table_hints();
    if (sym("(") && !word("SELECT", m_i + 1) && !word("WITH", m_i + 1)) skip_parens();  // the column list
    output_clause();
    if (word("VALUES")) {
      ++m_i;
      skip_parens();
      while (sym(",")) { ++m_i; skip_parens(); }
    } else if (word("DEFAULT")) {
      ++m_i;
      expect_word("VALUES");
    } else if (word("EXEC") || word("EXECUTE")) {
      exec_statement();
    } else if (word("SELECT") || sym("(")) {
      select_statement();
    } else if (word("WITH")) {
      cte_statement(false);
    } else {
      fail(m_i);
    }
  }
  void set_assignment() {
    // col | @v | @v = col | col.method(...), then = or a compound operator, then the expression.
    if (!at_end() && m_t[m_i].kind == TokKind::variable) ++m_i;
    else name_chain();
    if (sym("(")) { skip_parens(); return; }  // col.WRITE(...)
    if (sym("=") || sym("+=") || sym("-=") || sym("*=") || sym("/=")) ++m_i;
    else if ((sym("%") || sym("&") || sym("|") || sym("^")) && sym("=", m_i + 1)) m_i += 2;
    else fail(m_i);
    expr();
  }
  void update_statement() {
    ++m_i;
    top_clause();
    table_primary_name_only();
    table_hints();
    expect_word("SET");
    set_assignment();
    while (sym(",")) { ++m_i; set_assignment(); }
    output_clause();
    if (word("FROM")) { ++m_i; from_list(); }
    where_clause();
    option_clause();
  }
  void where_clause() {
    if (!word("WHERE")) return;
    ++m_i;
    if (word("CURRENT") && word("OF", m_i + 1)) { m_i += 2; if (word("GLOBAL")) ++m_i; ++m_i; return; }
    expr();
  }
  void delete_statement() {
    ++m_i;
    top_clause();
    if (word("FROM")) ++m_i;
    table_primary_name_only();
    table_hints();
    output_clause();
    if (word("FROM")) { ++m_i; from_list(); }
    where_clause();
    option_clause();
  }
  // WITH name [(cols)] AS (query) [, ...] followed by SELECT / INSERT / UPDATE / DELETE / MERGE.
  void cte_statement(bool allow_dml) {
    expect_word("WITH");
    if (word("XMLNAMESPACES")) { ++m_i; skip_parens(); }
    else {
      for (;;) {
        if (!plain_name(m_i)) fail(m_i);
        ++m_i;
        if (sym("(")) skip_parens();
        expect_word("AS");
        skip_parens();
        if (!sym(",")) break;
        ++m_i;
      }
    }
    if (word("SELECT") || sym("(")) select_statement();
    else if (allow_dml && word("INSERT")) insert_statement();
    else if (allow_dml && word("UPDATE")) update_statement();
    else if (allow_dml && word("DELETE")) delete_statement();
    else if (allow_dml && word("MERGE")) merge_statement();
    else fail(m_i);
  }
  // MERGE must end with `;` (Msg 10713); its extent is up to it.
  void merge_statement() {
    while (!at_end() && !sym(";")) {
      if (sym("(")) { skip_parens(); continue; }
      ++m_i;
    }
    if (at_end()) error_at(m_i, 10713, "A MERGE statement must be terminated by a semi-colon (;).");
  }
  void set_statement() {
    ++m_i;
    if (at_end()) fail(m_i);
    if (m_t[m_i].kind == TokKind::variable) { set_assignment(); return; }
    if (word("TRANSACTION")) {
      ++m_i;
      expect_word("ISOLATION");
      expect_word("LEVEL");
      if (word("READ")) { ++m_i; if (word("UNCOMMITTED") || word("COMMITTED")) ++m_i; else fail(m_i); }
      else if (word("REPEATABLE")) { ++m_i; expect_word("READ"); }
      else if (word("SNAPSHOT") || word("SERIALIZABLE")) ++m_i;
      else fail(m_i);
      return;
    }
    if (word("IDENTITY_INSERT")) {
      ++m_i;
      name_chain();
      if (word("ON") || word("OFF")) ++m_i; else fail(m_i);
      return;
    }
    if (word("STATISTICS")) {
      ++m_i;
      for (;;) {
        if (!plain_name(m_i)) fail(m_i);
        ++m_i;
        if (!sym(",")) break;
        ++m_i;
      }
      if (word("ON") || word("OFF")) ++m_i; else fail(m_i);
      return;
    }
    // SET option [, option]... value: ON | OFF | a number | a name | a string | @variable.
    for (;;) {
      if (at_end() || m_t[m_i].kind != TokKind::word) fail(m_i);
      ++m_i;
      if (!sym(",")) break;
      ++m_i;
    }
    if (at_end()) fail(m_i);
    if (sym("-") || sym("+")) ++m_i;
    const Token& v = m_t[std::min(m_i, m_t.size() - 1)];
    if (at_end()) fail(m_i);
    if (word("ON") || word("OFF") || v.kind == TokKind::number || v.kind == TokKind::string || v.kind == TokKind::variable ||
        plain_name(m_i)) {
      ++m_i;
      return;
    }
    fail(m_i);
  }
  void type_name() {
    if (word("DOUBLE") && word("PRECISION", m_i + 1)) { m_i += 2; return; }
    if (at_end() || !m_t[m_i].is_name()) fail(m_i);
    name_chain();
    if (word("VARYING")) ++m_i;
    if (sym("(")) skip_parens();
  }
  void declare_statement() {
    ++m_i;
    for (;;) {
      if (plain_name(m_i) && (word("CURSOR", m_i + 1) || word("INSENSITIVE", m_i + 1) || word("SCROLL", m_i + 1))) {
        m_i += 1;
        while (!at_end() && !word("FOR")) {
          if (m_t[m_i].kind != TokKind::word) fail(m_i);
          ++m_i;
        }
        expect_word("FOR");
        select_statement();
        if (word("FOR") && word("READ", m_i + 1)) { m_i += 2; expect_word("ONLY"); }
        else if (word("FOR") && word("UPDATE", m_i + 1)) {
          m_i += 2;
          if (word("OF")) { ++m_i; name_chain(); while (sym(",")) { ++m_i; name_chain(); } }
        }
        return;
      }
      if (at_end() || m_t[m_i].kind != TokKind::variable) fail(m_i);
      ++m_i;
      if (word("AS")) ++m_i;
      if (word("TABLE")) {
        ++m_i;
        skip_parens();
      } else if (word("CURSOR")) {
        ++m_i;
      } else {
        type_name();
        if (sym("=")) { ++m_i; expr(); }
      }
      if (!sym(",")) return;
      ++m_i;
    }
  }
  bool starts_exec_argument(std::size_t at) const {
    if (at >= m_t.size()) return false;
    const Token& tk = m_t[at];
    if (tk.kind == TokKind::variable || tk.kind == TokKind::string || tk.kind == TokKind::number || tk.kind == TokKind::ident_quoted) return true;
    if ((sym("-", at) || sym("+", at)) && at + 1 < m_t.size() && m_t[at + 1].kind == TokKind::number) return true;
    if (tk.is("DEFAULT") || tk.is("NULL")) return true;
    return tk.kind == TokKind::word && !is_reserved_keyword(tk);
  }
  void exec_argument() {
    if (!at_end() && m_t[m_i].kind == TokKind::variable && sym("=", m_i + 1)) m_i += 2;
    if (sym("-") || sym("+")) ++m_i;
    if (!starts_exec_argument(m_i)) fail(m_i);
    ++m_i;
    if (word("OUTPUT") || word("OUT")) ++m_i;
  }
  void exec_statement() {
    ++m_i;
    if (sym("(")) {
      // EXEC (string expression) [AS LOGIN|USER = '...'] [AT linked_server]
      skip_parens();
      if (word("AS") && (word("LOGIN", m_i + 1) || word("USER", m_i + 1))) { m_i += 2; expect_sym("="); ++m_i; }
      if (word("AT")) { m_i += 2; }
      return;
    }
    if (!at_end() && m_t[m_i].kind == TokKind::variable && sym("=", m_i + 1)) m_i += 2;  // @status =
    if (!at_end() && m_t[m_i].kind == TokKind::variable) ++m_i;                            // EXEC @procedure_name
    else name_chain();
    if (sym(";") && !at_end() && m_i + 1 < m_t.size() && m_t[m_i + 1].kind == TokKind::number) m_i += 2;  // proc;number
    exec_arguments();
  }
  void exec_arguments() {
    if (starts_exec_argument(m_i) || ((sym("-") || sym("+")) && starts_exec_argument(m_i))) {
      exec_argument();
      while (sym(",")) { ++m_i; exec_argument(); }
    }
    if (word("WITH") && (word("RECOMPILE", m_i + 1) || word("RESULT", m_i + 1))) {
      ++m_i;
      for (;;) {
        if (word("RECOMPILE")) ++m_i;
        else if (word("RESULT")) {
          m_i += 2;  // RESULT SETS
          if (word("UNDEFINED") || word("NONE")) ++m_i;
          else { skip_parens(); }
        } else fail(m_i);
        if (!sym(",")) break;
        ++m_i;
      }
    }
  }
  void transaction_name() {
    if (!at_end() && (m_t[m_i].kind == TokKind::variable || plain_name(m_i))) ++m_i;
  }
  // DDL, BACKUP/RESTORE, DBCC, GRANT and the other statements the sandbox handles from their
  // tokens: up to the next keyword that starts a statement and that their grammar does not
  // take at that place.
  void generic_statement() {
    const std::string head = up(m_i);
    const std::size_t start = m_i;
    ++m_i;
    bool seen_to = false;
    while (!at_end()) {
      if (sym(";")) return;
      if (sym("(")) { skip_parens(); continue; }
      if (word("CASE")) { skip_case(); continue; }
      if (m_t[m_i].kind == TokKind::word) {
        const std::string k = up(m_i);
        const std::string prev = up(m_i - 1);
        if (k == "TO" || (head == "REVOKE" && k == "FROM")) seen_to = true;
        if (statement_keywords().count(k)) {
          bool takes = prev == "WITH";                                               // WITH ROLLBACK IMMEDIATE, WITH GRANT OPTION
          if (k == "WITH") takes = true;                                             // option lists
          if ((k == "DELETE" || k == "UPDATE") && prev == "ON") takes = true;        // ON DELETE CASCADE
          if (k == "SET" && (prev == "DELETE" || prev == "UPDATE" || head == "ALTER")) takes = true;  // ON DELETE SET NULL
          if ((k == "ALTER" || k == "DROP") && head == "ALTER") takes = true;        // ALTER TABLE t ALTER COLUMN / DROP
          if (k == "IF" && word("EXISTS", m_i + 1)) takes = true;                   // DROP TABLE IF EXISTS
          if ((head == "GRANT" || head == "REVOKE" || head == "DENY") && !seen_to) takes = true;  // permission lists
          if (head == "BULK" && k == "INSERT" && m_i == start + 1) takes = true;
          if (!takes) return;
        }
      }
      ++m_i;
    }
  }
  // CREATE/ALTER VIEW|PROCEDURE|FUNCTION|TRIGGER: the rest of the batch (SQL Server: it must
  // be the batch's first statement, Msg 111).
  bool module_statement(bool first) {
    if (!(word("CREATE") || word("ALTER"))) return false;
    std::size_t k = m_i + 1;
    if (word("CREATE") && word("OR", k) && word("ALTER", k + 1)) k += 2;
    std::string what = up(k);
    if (what == "PROC") what = "PROCEDURE";
    if (what != "VIEW" && what != "PROCEDURE" && what != "FUNCTION" && what != "TRIGGER") return false;
    if (!first) {
      const std::string shown = what == "PROCEDURE" ? "CREATE/ALTER PROCEDURE" : (word("ALTER") ? "ALTER " : "CREATE ") + what;
      error_at(m_i, 111, "'" + shown + "' must be the first statement in a query batch.");
    }
    m_i = m_t.size();
    return true;
  }

  Statement make_statement(std::size_t b, std::size_t e) const {
    Statement st;
    st.tokens.assign(m_t.begin() + static_cast<long>(b), m_t.begin() + static_cast<long>(e));
    if (b < e) {
      st.text = m_src.substr(m_t[b].offset, m_t[e - 1].end - m_t[b].offset);
      st.line = line_of(m_t[b].offset);
    }
    return st;
  }
  int line_of(std::size_t offset) const {
    return 1 + m_opts.line_base + static_cast<int>(std::count(m_src.begin(), m_src.begin() + static_cast<long>(offset), '\n'));
  }

  // A simple statement from its first token to where its grammar ended.
  Node simple(std::size_t b) const {
    Node n;
    n.stmt = make_statement(b, m_i);
    return n;
  }

  // The statements up to END [TRY|CATCH] (consumed).
  std::vector<Node> block_body(const char* closer) {
    std::vector<Node> out;
    bool terminated = true;
    for (;;) {
      if (at_end()) fail(m_t.size());
      if (sym(";")) { ++m_i; terminated = true; continue; }
      if (word("END")) {
        ++m_i;
        if (closer) expect_word(closer);
        return out;
      }
      if (word("ELSE")) fail(m_i);
      out.push_back(statement(terminated, false));
      terminated = false;
    }
  }

  // One statement; `terminated`: the previous one ended with `;` (WITH and THROW need it).
  Node statement(bool terminated, bool first) {
    Nesting guard(*this, m_depth);
    if (at_end()) fail(m_i);
    const std::size_t b = m_i;
    const Token& tk = m_t[m_i];
    const std::string k = up(m_i);
    if (tk.kind == TokKind::word && sym(":", m_i + 1) && !is_reserved_keyword(tk)) unsupported_here("GOTO label");
    if (k == "GOTO") unsupported_here("GOTO");
    if (module_statement(first)) return simple(b);
    if (k == "BEGIN") {
      if (word("TRAN", m_i + 1) || word("TRANSACTION", m_i + 1)) {
        m_i += 2;
        transaction_name();
        if (word("WITH") && word("MARK", m_i + 1)) { m_i += 2; if (!at_end() && m_t[m_i].kind == TokKind::string) ++m_i; }
        return simple(b);
      }
      if (word("DISTRIBUTED", m_i + 1)) { m_i += 2; if (word("TRAN") || word("TRANSACTION")) ++m_i; else fail(m_i); transaction_name(); return simple(b); }
      if (word("TRY", m_i + 1)) {
        m_i += 2;
        Node n;
        n.kind = NodeKind::try_catch;
        n.stmt = make_statement(b, b + 2);
        Node tryb, catchb;
        tryb.kind = catchb.kind = NodeKind::block;
        tryb.children = block_body("TRY");
        if (!(word("BEGIN") && word("CATCH", m_i + 1))) fail(m_i);
        m_i += 2;
        catchb.children = block_body("CATCH");
        n.children.push_back(std::move(tryb));
        n.children.push_back(std::move(catchb));
        return n;
      }
      if (word("CATCH", m_i + 1)) fail(m_i + 1);
      if (word("DIALOG", m_i + 1) || word("CONVERSATION", m_i + 1)) { generic_statement(); return simple(b); }
      ++m_i;
      Node n;
      n.kind = NodeKind::block;
      n.stmt = make_statement(b, b + 1);
      n.children = block_body(nullptr);
      return n;
    }
    if (k == "IF" || k == "WHILE") {
      ++m_i;
      const std::size_t cb = m_i;
      expr();
      Node n;
      n.kind = k == "IF" ? NodeKind::if_ : NodeKind::while_;
      n.stmt = make_statement(cb, m_i);
      n.stmt.line = line_of(tk.offset);
      if (k == "WHILE") ++m_loops;
      n.children.push_back(statement(true, false));
      if (k == "WHILE") --m_loops;
      if (k == "IF") {
        std::size_t k2 = m_i;
        while (sym(";", k2)) ++k2;
        if (word("ELSE", k2)) {
          m_i = k2 + 1;
          n.children.push_back(statement(true, false));
        }
      }
      return n;
    }
    if (k == "BREAK" || k == "CONTINUE") {
      ++m_i;
      if (m_loops == 0) {
        error_at(b, k == "BREAK" ? 135 : 136,
              std::string("Cannot use a ") + k + " statement outside the scope of a WHILE statement.");
      }
      Node n;
      n.kind = k == "BREAK" ? NodeKind::break_ : NodeKind::continue_;
      n.stmt = make_statement(b, m_i);
      return n;
    }
    if (k == "RETURN") {
      ++m_i;
      const std::size_t eb = m_i;
      if (starts_operand(m_i)) expr();
      if (m_i > eb && !m_opts.procedure_body) error_at(m_i, 178, "A RETURN statement with a return value cannot be used in this context.");
      Node n;
      n.kind = NodeKind::return_;
      n.stmt = make_statement(eb, m_i);
      n.stmt.line = line_of(tk.offset);
      return n;
    }
    if (k == "WITH") {
      if (!terminated) {
        error_at(m_i, 319, "Incorrect syntax near the keyword 'with'. If this statement is a common table expression, an xmlnamespaces "
                       "clause or a change tracking context clause, the previous statement must be terminated with a semicolon.");
      }
      cte_statement(true);
      return simple(b);
    }
    if (k == "THROW") {
      if (!terminated) fail(m_i);
      ++m_i;
      if (starts_operand(m_i)) {
        arith();
        expect_sym(",");
        arith();
        expect_sym(",");
        arith();
      }
      return simple(b);
    }
    if (k == "SELECT" || sym("(")) { select_statement(); return simple(b); }
    if (k == "INSERT") { insert_statement(); return simple(b); }
    if (k == "UPDATE" && word("STATISTICS", m_i + 1)) { generic_statement(); return simple(b); }
    if (k == "UPDATE") { update_statement(); return simple(b); }
    if (k == "DELETE") { delete_statement(); return simple(b); }
    if (k == "MERGE") { merge_statement(); return simple(b); }
    if (k == "SET") { set_statement(); return simple(b); }
    if (k == "DECLARE") { declare_statement(); return simple(b); }
    if (k == "EXEC" || k == "EXECUTE") { exec_statement(); return simple(b); }
    if (k == "PRINT") { ++m_i; expr(); return simple(b); }
    if (k == "RAISERROR") {
      ++m_i;
      skip_parens();
      if (word("WITH")) {
        ++m_i;
        for (;;) {
          if (word("LOG") || word("NOWAIT") || word("SETERROR")) ++m_i; else fail(m_i);
          if (!sym(",")) break;
          ++m_i;
        }
      }
      return simple(b);
    }
    if (k == "COMMIT" || k == "ROLLBACK") {
      ++m_i;
      if (word("WORK")) ++m_i;
      else if (word("TRAN") || word("TRANSACTION")) { ++m_i; transaction_name(); }
      else if (k == "ROLLBACK") transaction_name();
      if (k == "COMMIT" && word("WITH") && sym("(", m_i + 1)) { ++m_i; skip_parens(); }
      return simple(b);
    }
    if (k == "SAVE") { ++m_i; if (word("TRAN") || word("TRANSACTION")) ++m_i; else fail(m_i); transaction_name(); return simple(b); }
    if (k == "USE") { ++m_i; if (!plain_name(m_i)) fail(m_i); ++m_i; return simple(b); }
    if (k == "TRUNCATE") {
      ++m_i;
      expect_word("TABLE");
      name_chain();
      if (word("WITH") && sym("(", m_i + 1)) { ++m_i; skip_parens(); }
      return simple(b);
    }
    if (k == "CHECKPOINT") { ++m_i; if (!at_end() && m_t[m_i].kind == TokKind::number) ++m_i; return simple(b); }
    if (k == "WAITFOR") {
      ++m_i;
      if (word("DELAY") || word("TIME")) { ++m_i; arith(); return simple(b); }
      if (sym("(")) { skip_parens(); if (sym(",") && word("TIMEOUT", m_i + 1)) { m_i += 2; arith(); } return simple(b); }
      fail(m_i);
    }
    if (tk.kind == TokKind::word && statement_keywords().count(k)) { generic_statement(); return simple(b); }
    if (k == "ENABLE" || k == "DISABLE" || k == "RECEIVE" || k == "SEND" || k == "GET" || k == "MOVE") {
      generic_statement();
      return simple(b);
    }
    // A procedure name as the batch's first statement runs it (EXEC implied).
    if (first && tk.is_name() && !is_reserved_keyword(tk)) {
      name_chain();
      exec_arguments();
      Node n = simple(b);
      Token exec;
      exec.kind = TokKind::word;
      exec.text = "EXEC";
      exec.offset = exec.end = tk.offset;
      n.stmt.tokens.insert(n.stmt.tokens.begin(), exec);
      return n;
    }
    fail(m_i);
  }

  [[noreturn]] void unsupported_here(const std::string& what) const {
    raise(40517, 16, "Keyword or statement option '" + what + "' is not supported in this version of SQL Server.");
  }

  const std::string& m_src;
  std::vector<Token> m_t;
  ParseOptions m_opts;
  std::size_t m_i = 0;
  int m_loops = 0;
  int m_depth = 0;  // operands and statements being parsed (recursion)
};

void flatten_into(const std::vector<Node>& nodes, std::vector<Statement>& out) {
  for (const auto& n : nodes) {
    if (n.kind == NodeKind::simple) { out.push_back(n.stmt); continue; }
    if (n.kind == NodeKind::block) { flatten_into(n.children, out); continue; }
    // A control-flow construct as one statement (its first token names it).
    Statement st = n.stmt;
    std::vector<Statement> inner;
    flatten_into(n.children, inner);
    Token head;
    head.kind = TokKind::word;
    head.text = n.kind == NodeKind::if_ ? "IF" : n.kind == NodeKind::while_ ? "WHILE" : n.kind == NodeKind::try_catch ? "BEGIN"
              : n.kind == NodeKind::break_ ? "BREAK" : n.kind == NodeKind::continue_ ? "CONTINUE" : "RETURN";
    if (n.kind == NodeKind::if_ || n.kind == NodeKind::while_ || n.kind == NodeKind::return_) st.tokens.insert(st.tokens.begin(), head);
    for (auto& s : inner) st.tokens.insert(st.tokens.end(), s.tokens.begin(), s.tokens.end());
    if (st.tokens.empty()) st.tokens.push_back(head);
    out.push_back(std::move(st));
  }
}

}  // namespace

// One list of SQL Server's reserved keywords: parse_util's.
bool is_reserved_keyword(const Token& t) { return t.kind == TokKind::word && is_reserved_keyword(t.text); }

std::vector<BatchText> split_go_batches(const std::string& sql) {
  std::vector<BatchText> batches;
  std::size_t start = 0, pos = 0;
  int line = 0, start_line = 0;
  while (pos <= sql.size()) {
    std::size_t eol = sql.find('\n', pos);
    if (eol == std::string::npos) eol = sql.size();
    std::string trimmed;
    for (std::size_t k = pos; k < eol; ++k) if (!std::isspace(static_cast<unsigned char>(sql[k]))) trimmed += sql[k];
    if (iequals(trimmed, "GO")) {
      batches.push_back({sql.substr(start, pos - start), start, start_line});
      start = eol + 1;
      start_line = line + 1;
    }
    pos = eol + 1;
    ++line;
  }
  if (start < sql.size()) batches.push_back({sql.substr(start), start, start_line});
  return batches;
}

std::vector<Node> parse_batch(const std::string& text, const ParseOptions& options) {
  Parser p(text, options);
  return p.batch();
}

std::vector<Statement> flatten_statements(const std::vector<Node>& nodes) {
  std::vector<Statement> out;
  flatten_into(nodes, out);
  return out;
}

}  // namespace sandbox::engine
