#pragma once
// T-SQL tokens for the sandbox engine: [bracketed] and "quoted" identifiers, N'...' literals,
// @variables, -- and /* */ comments. Statement boundaries and control flow: batch_parser.hpp.
#include <string>
#include <vector>

namespace sandbox::engine {

enum class TokKind { word, ident_quoted, string, number, variable, symbol, end };

struct Token {
  TokKind kind = TokKind::end;
  std::string text;  // words: as written; quoted identifiers and strings: the unquoted value
  bool national = false;  // N'...'
  std::size_t offset = 0;  // in the batch text
  std::size_t end = 0;     // just past the token in the batch text
  bool is(const char* keyword) const;  // case-insensitive word comparison
  bool is_name() const { return kind == TokKind::word || kind == TokKind::ident_quoted; }
};

// quoted_identifier: SET QUOTED_IDENTIFIER; OFF reads "text" as a string literal, not a name.
std::vector<Token> tokenize(const std::string& sql, bool quoted_identifier = true);

struct Statement {
  std::vector<Token> tokens;
  std::string text;  // the statement's source text (for definitions and messages)
  int line = 1;
};

// Splits a script (GO lines included) into its simple statements, by T-SQL's grammar
// (batch_parser.hpp; control-flow constructs come out as one statement each). CREATE VIEW/
// PROCEDURE/FUNCTION/TRIGGER take the rest of their batch, as in SQL Server. Throws SqlError
// (102/156/...) on text that is not a statement.
std::vector<Statement> split_statements(const std::string& sql);

std::string upper(std::string s);
std::string lower(std::string s);
bool iequals(const std::string& a, const std::string& b);

}  // namespace sandbox::engine
