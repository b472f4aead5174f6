#pragma once
// Token helpers every statement handler shares (session, statements, DDL, EXEC, translation):
// symbols, parentheses, dotted object names, type declarations, and the two errors a handler
// raises most (102 syntax, 40517 unsupported).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

inline bool is_sym(const Token& t, const char* s) { return t.kind == TokKind::symbol && t.text == s; }
// A token that can name an object: a [quoted] identifier or a word that is not a reserved keyword.
bool is_identifier(const Token& t);

// Msg 40517, naming the statement or option the sandbox does not support.
[[noreturn]] void unsupported(const std::string& what);
// A syntax error at t[i], as SQL Server reports it (severity 15): Msg 156 "Incorrect syntax near
// the keyword '%.*ls'." when t[i] is a reserved keyword, otherwise Msg 102 "Incorrect syntax near
// '%.*ls'."; past the end of the statement, Msg 102 near its last token (SQL Server names the
// token where the batch ended).
[[noreturn]] void syntax_near(const std::vector<Token>& t, std::size_t i);
// True for T-SQL's reserved keywords (learn.microsoft.com "Reserved Keywords (Transact-SQL)").
bool is_reserved_keyword(const std::string& word);

// A statement's tokens with bounds-checked access: every handler reads its tokens through one
// of these, so reading past the end of a statement is a syntax error (syntax_near) instead of
// an out-of-bounds read. Converts to the vector for helpers that take one.
class Tokens {
 public:
  Tokens(const std::vector<Token>& t) : m_t(&t) {}  // NOLINT: implicit on purpose
  const Token& operator[](std::size_t i) const {
    if (i >= m_t->size()) syntax_near(*m_t, i);
    return (*m_t)[i];
  }
  std::size_t size() const { return m_t->size(); }
  bool empty() const { return m_t->empty(); }
  const Token& front() const { return (*this)[0]; }
  const Token& back() const { return m_t->empty() ? (*this)[0] : m_t->back(); }
  std::vector<Token>::const_iterator begin() const { return m_t->begin(); }
  std::vector<Token>::const_iterator end() const { return m_t->end(); }
  operator const std::vector<Token>&() const { return *m_t; }  // NOLINT
  const std::vector<Token>& vec() const { return *m_t; }

 private:
  const std::vector<Token>* m_t;
};

// A T-SQL N'...' literal holding `s` (quotes doubled), for statements the engine writes itself.
std::string nliteral(const std::string& s);
// An integer literal's value; Msg 8115 (arithmetic overflow) when it does not fit a bigint.
std::int64_t int_literal(const Token& t);
// WAITFOR DELAY 'hh:mm[:ss[.fff]]' in milliseconds (at most 24 hours); Msg 148 for any other text.
std::int64_t waitfor_delay_ms(const std::string& text);
// A number literal as a parameter value: an integer (bigint range) or a float (anything with a
// '.' or an exponent); Msg 102 for a malformed one, 8115 when out of range.
Value number_literal(const Token& t);
// The ")" matching the "(" at t[open], before `end` (102 if there is none).
std::size_t match_paren(const std::vector<Token>& t, std::size_t open, std::size_t end);
inline std::size_t match_paren(const std::vector<Token>& t, std::size_t open) { return match_paren(t, open, t.size()); }

// A dotted object name: [db.][schema.]name, `db..name` included.
struct ObjName {
  std::string db, schema = "dbo", name;
  std::string display() const { return schema + "." + name; }
};
ObjName parse_name(const std::vector<Token>& t, std::size_t& i);

// The names inside t[open] ... t[close] (a column list; ASC/DESC left out).
std::vector<std::string> name_list(const std::vector<Token>& t, std::size_t open, std::size_t close);
// A type declaration at t[i] as lower-case text, `(max)` as `(-1)`; i moves past it.
std::string type_decl_text(const std::vector<Token>& t, std::size_t& i);
// A parameter value as text (strings, integers, floats; empty for NULL and bytes).
std::string value_str(const Value& v);

}  // namespace sandbox::engine
