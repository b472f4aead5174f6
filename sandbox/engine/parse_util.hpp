#pragma once
// Token helpers every statement handler shares (session, statements, DDL, EXEC, translation):
// symbols, parentheses, dotted object names, type declarations, and the two errors a handler
// raises most (102 syntax, 40517 unsupported).
#include <cstddef>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

inline bool is_sym(const Token& t, const char* s) { return t.kind == TokKind::symbol && t.text == s; }

// Msg 40517, naming the statement or option the sandbox does not support.
[[noreturn]] void unsupported(const std::string& what);
// Msg 102 at t[i] (or at the end of the statement).
[[noreturn]] void syntax_near(const std::vector<Token>& t, std::size_t i);
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
