#include "engine/tsql_lexer.hpp"

#include "engine/batch_parser.hpp"

#include <algorithm>
#include <cctype>

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

std::vector<Token> tokenize(const std::string& s, bool quoted_identifier) {
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
      t.kind = c == '"' && !quoted_identifier ? TokKind::string : TokKind::ident_quoted;
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
    t.end = i;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Statement> split_statements(const std::string& sql) {
  std::vector<Statement> out;
  for (const auto& batch : split_go_batches(sql)) {
    ParseOptions o;
    o.procedure_body = true;
    o.line_base = batch.line_base;
    for (auto& st : flatten_statements(parse_batch(batch.text, o))) out.push_back(std::move(st));
  }
  return out;
}

}  // namespace sandbox::engine
