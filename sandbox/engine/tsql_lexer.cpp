#include "engine/tsql_lexer.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace sandbox::engine {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool iequals(const std::string& a, const std::string& b) { return upper(a) == upper(b); }

bool Token::is(const char* keyword) const { return kind == TokKind::word && iequals(text, keyword); }

namespace {
bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '#' || (c & 0x80); }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$' || c == '@'; }
}  // namespace

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      int depth = 0;
      while (i < n) {
        if (s.compare(i, 2, "/*") == 0) { ++depth; i += 2; continue; }
        if (s.compare(i, 2, "*/") == 0) { i += 2; if (--depth == 0) break; continue; }
        ++i;
      }
      continue;
    }
    Token t;
    t.offset = i;
    if ((c == 'N' || c == 'n') && i + 1 < n && s[i + 1] == '\'') { t.national = true; ++i; c = '\''; }
    if (c == '\'') {
      std::string v;
      ++i;
      while (i < n) {
        if (s[i] == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') { v += '\''; i += 2; continue; }
          ++i;
          break;
        }
        v += s[i++];
      }
      t.kind = TokKind::string;
      t.text = v;
    } else if (c == '[' || c == '"') {
      const char close = c == '[' ? ']' : '"';
      std::string v;
      ++i;
      while (i < n) {
        if (s[i] == close) {
          if (i + 1 < n && s[i + 1] == close) { v += close; i += 2; continue; }
          ++i;
          break;
        }
        v += s[i++];
      }
      t.kind = TokKind::ident_quoted;
      t.text = v;
    } else if (c == '@') {
      std::size_t j = i + 1;
      while (j < n && ident_char(s[j])) ++j;
      t.kind = TokKind::variable;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t j = i;
      if (c == '0' && j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X')) {
        j += 2;
        while (j < n && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
      } else {
        while (j < n && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
        if (j < n && (s[j] == 'e' || s[j] == 'E')) {
          ++j;
          if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
          while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      t.kind = TokKind::number;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (ident_start(c)) {
      std::size_t j = i;
      while (j < n && ident_char(s[j])) ++j;
      t.kind = TokKind::word;
      t.text = s.substr(i, j - i);
      i = j;
    } else {
      static const char* const two[] = {"<>", "!=", ">=", "<=", "!<", "!>", "+=", "-=", "*=", "/=", "||", "::"};
      t.kind = TokKind::symbol;
      t.text = std::string(1, c);
      for (const char* op : two) {
        if (s.compare(i, 2, op) == 0) { t.text = op; break; }
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

// Splits the batch text at lines holding only GO.
std::vector<std::pair<std::string, std::size_t>> split_go(const std::string& sql) {
  std::vector<std::pair<std::string, std::size_t>> batches;
  std::size_t start = 0, pos = 0;
  while (pos <= sql.size()) {
    std::size_t eol = sql.find('\n', pos);
    if (eol == std::string::npos) eol = sql.size();
    std::string line = sql.substr(pos, eol - pos);
    std::string trimmed;
    for (char c : line) if (!std::isspace(static_cast<unsigned char>(c))) trimmed += c;
    if (iequals(trimmed, "GO")) {
      batches.emplace_back(sql.substr(start, pos - start), start);
      start = eol + 1;
    }
    pos = eol + 1;
  }
  if (start < sql.size()) batches.emplace_back(sql.substr(start), start);
  return batches;
}

bool starts_statement(const std::vector<Token>& cur, const Token& prev, const Token& t) {
  static const std::set<std::string> starters = {
      "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "EXEC", "EXECUTE", "BACKUP", "RESTORE", "USE",
      "BEGIN", "COMMIT", "ROLLBACK", "SET", "DECLARE", "DBCC", "PRINT", "TRUNCATE", "CHECKPOINT", "WAITFOR",
      "IF", "SELECT", "MERGE", "WHILE", "RAISERROR", "THROW", "GRANT", "REVOKE", "DENY", "SAVE", "RETURN", "WITH"};
  if (t.kind != TokKind::word || cur.empty()) return false;
  const std::string k = upper(t.text);
  if (!starters.count(k)) return false;
  const std::string first = upper(cur.front().text);
  const std::string p = prev.kind == TokKind::word ? upper(prev.text) : prev.text;
  if (k == "SET" && first == "SET") return true;  // "SET ANSI_NULLS ON SET ..." (tedious's connect batch): two statements
  if (p == "ON" || p == "FOR" || p == "AFTER" || p == "OF" || p == ",") return false;  // ON DELETE CASCADE, triggers
  if (k == "SET") return !(first == "UPDATE" || first == "ALTER" || p == "DELETE" || p == "UPDATE");
  if (k == "SELECT") {
    if (p == "UNION" || p == "ALL" || p == "EXCEPT" || p == "INTERSECT" || p == "(" || p == "AS") return false;
    if (first == "INSERT" || first == "WITH") {
      for (const auto& x : cur) if (x.is("SELECT") || x.is("VALUES")) return true;
      return false;
    }
    if (first == "DECLARE" || first == "SET") return true;
    return true;
  }
  if (k == "WITH") return p != ")" && first != "BACKUP" && first != "RESTORE" && first != "ALTER" && first != "CREATE" &&
                          first != "SELECT" && first != "DBCC" && first != "INSERT" && first != "UPDATE" && first != "DELETE";
  if (k == "TRUNCATE" || k == "EXEC" || k == "EXECUTE") return first != "INSERT";
  if (k == "BEGIN" || k == "COMMIT" || k == "ROLLBACK") return true;
  if (k == "DELETE" || k == "INSERT" || k == "UPDATE") return first != "CREATE" && first != "GRANT";
  return true;
}

}  // namespace

std::vector<Statement> split_statements(const std::string& sql) {
  std::vector<Statement> out;
  for (const auto& [batch, base] : split_go(sql)) {
    auto toks = tokenize(batch);
    std::vector<Token> cur;
    auto line_of = [&](std::size_t off) {
      return 1 + static_cast<int>(std::count(sql.begin(), sql.begin() + static_cast<long>(base + off), '\n'));
    };
    auto flush = [&](std::size_t end_off) {
      if (cur.empty()) return;
      Statement st;
      st.line = line_of(cur.front().offset);
      st.text = batch.substr(cur.front().offset, end_off - cur.front().offset);
      while (!st.text.empty() && (std::isspace(static_cast<unsigned char>(st.text.back())) || st.text.back() == ';')) st.text.pop_back();
      st.tokens = std::move(cur);
      cur.clear();
      out.push_back(std::move(st));
    };
    int depth = 0;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      const Token& t = toks[i];
      if (cur.empty()) {
        // CREATE/ALTER VIEW|PROC|FUNCTION|TRIGGER: the rest of the batch.
        if ((t.is("CREATE") || t.is("ALTER")) && i + 1 < toks.size()) {
          std::size_t j = i + 1;
          if (toks[j].is("OR") && j + 2 < toks.size()) j += 2;
          const Token& k = toks[j];
          if (k.is("VIEW") || k.is("PROC") || k.is("PROCEDURE") || k.is("FUNCTION") || k.is("TRIGGER")) {
            cur.assign(toks.begin() + static_cast<long>(i), toks.end());
            flush(batch.size());
            break;
          }
        }
      }
      if (t.kind == TokKind::symbol && t.text == ";" && depth == 0) { flush(t.offset); continue; }
      if (t.kind == TokKind::symbol && t.text == "(") ++depth;
      if (t.kind == TokKind::symbol && t.text == ")") --depth;
      if (depth == 0 && !cur.empty() && starts_statement(cur, cur.back(), t)) flush(t.offset);
      cur.push_back(t);
    }
    flush(batch.size());
  }
  return out;
}

}  // namespace sandbox::engine
