#pragma once
// A batch's text as a tree of T-SQL statements (README.md "Batches and control flow").
//
// Statement ends follow T-SQL's grammar, `;` being optional: each statement is parsed as far
// as its grammar goes (SET <option> ON stops after ON, SET @v = expr where the expression
// ends, a SELECT after its last clause, INSERT ... VALUES after its last row, EXEC after its
// last argument, ...), and the next statement starts there. Text that is not a statement is
// a syntax error (Msg 102 / 156), never dropped. Control flow (BEGIN...END, IF...ELSE, WHILE,
// BREAK, CONTINUE, BEGIN TRY...END TRY BEGIN CATCH...END CATCH, RETURN) becomes nodes the
// session's executor runs; every other statement is a simple node handed to the statement
// handlers as tokens.
#include <string>
#include <vector>

#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

enum class NodeKind {
  simple,     // stmt: one statement (its tokens, without the `;`)
  block,      // BEGIN ... END: children
  if_,        // stmt: the condition; children: [then] or [then, else]
  while_,     // stmt: the condition; children: [body]
  try_catch,  // children: [try block, catch block]
  break_,
  continue_,
  return_,    // stmt: the integer expression (no tokens for a bare RETURN)
};

struct Node {
  NodeKind kind = NodeKind::simple;
  Statement stmt;
  std::vector<Node> children;
};

struct ParseOptions {
  // A procedure's body: RETURN may carry a status (in a batch that is Msg 178).
  bool procedure_body = false;
  // Lines before the text (a procedure body's line numbers count from its CREATE).
  int line_base = 0;
  // SET QUOTED_IDENTIFIER in force when the text is parsed (it takes effect at parse time).
  bool quoted_identifier = true;
};

// One GO-separated batch of a script: its text and where it starts.
struct BatchText {
  std::string text;
  std::size_t offset = 0;  // in the script
  int line_base = 0;       // newlines in the script before it
};
std::vector<BatchText> split_go_batches(const std::string& sql);

// Parses one batch (no GO inside) into its statements. Throws SqlError: 102 / 156 for text
// that is not a statement, 319 for a WITH (CTE) whose previous statement lacks its `;`,
// 111 for CREATE VIEW/PROCEDURE/FUNCTION/TRIGGER after another statement, 135 / 136 for
// BREAK / CONTINUE outside WHILE, 178 for RETURN n outside a procedure, 40517 for GOTO and
// labels.
std::vector<Node> parse_batch(const std::string& text, const ParseOptions& options = {});

// The simple statements of a statement list in order, control-flow constructs each as one
// Statement covering its text (trigger bodies, which take DML only, use this).
std::vector<Statement> flatten_statements(const std::vector<Node>& nodes);

// T-SQL's reserved keywords (they cannot be an alias or a bare name).
bool is_reserved_keyword(const Token& t);

}  // namespace sandbox::engine
