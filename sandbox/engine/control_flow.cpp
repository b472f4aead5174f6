// The executor of statement trees (batch_parser.hpp): batches, procedure bodies and
// sp_executesql run here; IF/WHILE conditions, TRY...CATCH, RETURN and return status, THROW,
// RAISERROR, @@ERROR, @@ROWCOUNT, ERROR_*() and XACT_STATE() (README.md "Batches and control
// flow").
#include <algorithm>
#include <cstdio>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

// An error inside TRY on its way to the CATCH block (it is not sent to the client).
struct CatchTransfer {
  Message msg;
};

// A compile-class error (severity 15: syntax, undeclared variable, ...) ends the running
// batch or procedure body; the caller goes on.
struct ScopeAbort {};

// RAII for the executor's stacks, so that an error unwinding to an outer CATCH (or ending
// the batch) leaves them as they were.
template <typename T>
struct PopOnExit {
  std::vector<T>& v;
  ~PopOnExit() { v.pop_back(); }
};

std::string cell_text(const Cell& c) {
  switch (c.type) {
    case SQLITE_INTEGER: return std::to_string(c.i);
    case SQLITE_FLOAT: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", c.d);
      return buf;
    }
    case SQLITE_NULL: return "(null)";
    default: return c.s;
  }
}

std::int64_t cell_int(const Cell& c) {
  if (c.type == SQLITE_INTEGER) return c.i;
  if (c.type == SQLITE_FLOAT) return static_cast<std::int64_t>(c.d);
  if (c.type == SQLITE_TEXT) return std::strtoll(c.s.c_str(), nullptr, 10);
  return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"  // the conversion specs are built from RAISERROR's own format
// RAISERROR's message: printf-style %[flags][width][.precision][h|l]{d,i,o,s,u,x,X} and %%
// (https://learn.microsoft.com/sql/t-sql/language-elements/raiserror-transact-sql).
std::string format_raiserror(const std::string& fmt, const std::vector<Cell>& args) {
  std::string out;
  std::size_t next = 0;
  auto take = [&]() -> const Cell* { return next < args.size() ? &args[next++] : nullptr; };
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') { out += fmt[i]; continue; }
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') { out += '%'; ++i; continue; }
    std::size_t j = i + 1;
    std::string spec = "%";
    while (j < fmt.size() && (fmt[j] == '-' || fmt[j] == '+' || fmt[j] == '0' || fmt[j] == ' ' || fmt[j] == '#')) spec += fmt[j++];
    auto number_part = [&]() {
      if (j < fmt.size() && fmt[j] == '*') {
        const Cell* w = take();
        spec += std::to_string(w ? cell_int(*w) : 0);
        ++j;
        return;
      }
      while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j]))) spec += fmt[j++];
    };
    number_part();
    if (j < fmt.size() && fmt[j] == '.') { spec += fmt[j++]; number_part(); }
    if (j < fmt.size() && (fmt[j] == 'h' || fmt[j] == 'l' || fmt[j] == 'I')) {
      if (fmt[j] == 'I' && fmt.compare(j, 3, "I64") == 0) j += 3;
      else ++j;
    }
    if (j >= fmt.size()) { out += fmt.substr(i); break; }
    const char type = fmt[j];
    const Cell* a = take();
    char buf[4096];
    if (type == 's') {
      const std::string v = a ? cell_text(*a) : "(null)";
      std::snprintf(buf, sizeof buf, (spec + "s").c_str(), v.c_str());
      out += buf;
    } else if (type == 'd' || type == 'i' || type == 'o' || type == 'u' || type == 'x' || type == 'X') {
      if (!a || a->type == SQLITE_NULL) {
        out += "(null)";
      } else {
        std::snprintf(buf, sizeof buf, (spec + "ll" + std::string(1, type == 'i' ? 'd' : type)).c_str(), static_cast<long long>(cell_int(*a)));
        out += buf;
      }
    } else {
      out += fmt.substr(i, j - i + 1);  // not a conversion RAISERROR knows: kept as written
    }
    i = j;
  }
  return out;
}
#pragma GCC diagnostic pop

// The comma-separated arguments of t[open] ( ... ) as [begin, end) token ranges.
std::vector<std::pair<std::size_t, std::size_t>> arguments(const std::vector<Token>& t, std::size_t open) {
  const std::size_t close = match_paren(t, open);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  int depth = 0;
  std::size_t b = open + 1;
  for (std::size_t k = open + 1; k < close; ++k) {
    if (is_sym(t[k], "(")) ++depth;
    else if (is_sym(t[k], ")")) --depth;
    else if (depth == 0 && is_sym(t[k], ",")) { out.emplace_back(b, k); b = k + 1; }
  }
  if (b < close || !out.empty()) out.emplace_back(b, close);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Running statement lists

SessionImpl::BodyResult SessionImpl::run_body(const std::vector<Node>& nodes, ResultSink& sink, const std::string& procedure,
                                              bool in_proc) {
  Scope scope;
  scope.in_proc = in_proc;
  scope.procedure = procedure;
  try {
    run_nodes(nodes, sink, scope);
  } catch (const ScopeAbort&) {
    scope.failed = true;
  }
  BodyResult r;
  r.failed = scope.failed;
  // No RETURN: 0, or after an error SQL Server's negative status (10 - severity: -6 for 16).
  r.status = scope.return_status ? *scope.return_status : scope.failed ? 10 - scope.last_error_severity : 0;
  return r;
}

SessionImpl::BodyResult SessionImpl::run_nested(const std::string& text, const ParseOptions& options, ResultSink& sink,
                                                const std::string& procedure) {
  ++m_level;
  struct LevelGuard {
    int& level;
    ~LevelGuard() { --level; }
  } guard{m_level};
  std::vector<Node> nodes;
  try {
    ParseOptions o = options;
    // Procedure bodies and dynamic SQL are parsed with the session's QUOTED_IDENTIFIER (SQL
    // Server keeps a procedure's from its CREATE: sandbox/engine/README.md, "SET options").
    o.quoted_identifier = m_options.quoted_identifier;
    nodes = parse_batch(text, o);
  } catch (const SqlError& e) {
    // A compile error one level down is caught by the caller's TRY (it is not at its level).
    if (!m_try_levels.empty() && m_try_levels.back() < m_level) {
      Message m = e.msg;
      m.procedure = procedure;
      m_error = m.number;
      throw CatchTransfer{m};
    }
    throw;
  }
  return run_body(nodes, sink, procedure, true);
}

SessionImpl::Flow SessionImpl::run_nodes(const std::vector<Node>& nodes, ResultSink& sink, Scope& scope) {
  for (const auto& n : nodes) {
    const Flow f = run_node(n, sink, scope);
    if (f != Flow::next) return f;
  }
  return Flow::next;
}

SessionImpl::Flow SessionImpl::run_node(const Node& n, ResultSink& sink, Scope& scope) {
  switch (n.kind) {
    case NodeKind::simple: run_simple(n.stmt, sink, scope); return Flow::next;
    case NodeKind::block: return run_nodes(n.children, sink, scope);
    case NodeKind::if_: {
      std::optional<bool> c = condition(n.stmt, sink, scope);
      if (!c) return Flow::next;  // the condition failed: the IF is skipped, as a failed statement
      if (*c) return run_node(n.children[0], sink, scope);
      if (n.children.size() > 1) return run_node(n.children[1], sink, scope);
      return Flow::next;
    }
    case NodeKind::while_:
      for (;;) {
        if (sink.cancelled()) throw BatchAborted{};
        std::optional<bool> c = condition(n.stmt, sink, scope);
        if (!c || !*c) return Flow::next;
        const Flow f = run_node(n.children[0], sink, scope);
        if (f == Flow::break_loop) return Flow::next;
        if (f == Flow::return_) return f;
      }
    case NodeKind::try_catch: {
      std::optional<Message> caught;
      Flow f = Flow::next;
      m_try_levels.push_back(m_level);
      {
        PopOnExit<int> pop{m_try_levels};
        try {
          f = run_node(n.children[0], sink, scope);
        } catch (CatchTransfer& transfer) {
          caught = std::move(transfer.msg);
        }
      }
      if (!caught) return f;
      m_catch_stack.push_back(*caught);
      PopOnExit<Message> pop{m_catch_stack};
      return run_node(n.children[1], sink, scope);
    }
    case NodeKind::break_: return Flow::break_loop;
    case NodeKind::continue_: return Flow::continue_loop;
    case NodeKind::return_: {
      if (n.stmt.tokens.empty()) {
        if (scope.in_proc) scope.return_status = 0;
        return Flow::return_;
      }
      try {
        bool iv = false;
        const std::string sql = "SELECT CAST((" + translate(n.stmt.tokens, 0, n.stmt.tokens.size(), &iv) + ") AS INTEGER)";
        std::int64_t v = 0;
        read(sql, false, [&](sqlite3* c, bool) {
          if (iv) refresh_instance_views(c, sql);
          v = query_int(c, sql, 0);  // NULL: SQL Server returns 0 instead
        });
        scope.return_status = static_cast<int>(v);
      } catch (const SqlError& e) {
        statement_failed(e.msg, n.stmt, sink, scope, false);
        return Flow::next;
      }
      return Flow::return_;
    }
  }
  return Flow::next;
}

std::optional<bool> SessionImpl::condition(const Statement& cond, ResultSink& sink, Scope& scope) {
  try {
    bool iv = false;
    const std::string sql = "SELECT CASE WHEN " + translate(cond.tokens, 0, cond.tokens.size(), &iv) + " THEN 1 ELSE 0 END";
    std::int64_t v = 0;
    read(sql, has_nolock_hint(cond.tokens), [&](sqlite3* c, bool) {
      if (iv) refresh_instance_views(c, sql);
      v = query_int(c, sql);
    });
    m_error = 0;  // IF / WHILE are statements: @@ERROR is 0 after them
    return v == 1;
  } catch (const SqlError& e) {
    statement_failed(e.msg, cond, sink, scope, false);
    return std::nullopt;
  }
}

void SessionImpl::run_simple(const Statement& st, ResultSink& sink, Scope& scope) {
  if (sink.cancelled()) throw BatchAborted{};
  if (st.tokens.empty()) return;
  m_statement_rows.reset();
  m_error_override.reset();
  const std::string head = upper(st.tokens[0].text);
  try {
    execute_statement(st, sink, scope.in_proc);
  } catch (const SqlError& e) {
    statement_failed(e.msg, st, sink, scope, head == "THROW");
    return;
  }
  m_error = m_error_override.value_or(0);
  // @@ROWCOUNT: the rows the statement read or changed; 1 for an assignment; EXEC keeps what
  // the procedure's last statement left; statements that touch no rows reset it to 0.
  if (head == "SET" && st.tokens.size() > 1 && st.tokens[1].kind == TokKind::variable) m_rowcount = 1;
  else if (head != "EXEC" && head != "EXECUTE" && head != "DECLARE") m_rowcount = m_statement_rows.value_or(0);
}

void SessionImpl::statement_failed(Message m, const Statement& st, ResultSink& sink, Scope& scope, bool from_throw) {
  const bool rethrow = from_throw && st.tokens.size() == 1;  // THROW; in CATCH keeps the original's line and procedure
  if (!rethrow) {
    m.line = std::max(m.line, st.line);  // a compile error inside the statement (a procedure body) has its own line
    m.procedure = scope.procedure;
  }
  m_error = m.number;
  m_rowcount = 0;
  const bool compile = m.severity == 15;
  // Object / column name resolution at run time (SQL Server's deferred name resolution and
  // statement-level recompilation).
  const bool name_resolution = m.number == 208 || m.number == 207;
  const bool try_here = !m_try_levels.empty() && m_try_levels.back() == m_level;
  // SET XACT_ABORT ON: a run-time error (not a compile error, not RAISERROR) ends the whole
  // transaction: rolled back, and the batch ends; inside TRY the transaction is doomed
  // instead and CATCH runs (https://learn.microsoft.com/sql/t-sql/statements/set-xact-abort-transact-sql).
  const bool xact_abort = m_options.xact_abort && !compile && m.severity > 10 && !st.tokens.empty() &&
                          !st.tokens[0].is("RAISERROR");
  if (xact_abort && m_xact && !m_try_levels.empty() && m.severity < 20) m_xact->doomed = true;
  // Inside TRY every error of severity 11-19 goes to CATCH, except compile and name-resolution
  // errors at the TRY's own level (https://learn.microsoft.com/sql/t-sql/language-elements/try-catch-transact-sql).
  if (!m_try_levels.empty() && m.severity > 10 && m.severity < 20 && !((compile || name_resolution) && try_here)) {
    throw CatchTransfer{m};
  }
  sink.message(m);
  sink.done(scope.in_proc ? DoneKind::in_proc : DoneKind::statement, std::nullopt, true);
  scope.failed = true;
  scope.last_error_severity = m.severity;
  if (xact_abort) {
    rollback_transaction();
    throw BatchAborted{};
  }
  // THROW outside TRY ends the batch; so does a deadlock victim's 1205 (its transaction is gone).
  if (from_throw || m.number == 1205 || m.severity >= 20) throw BatchAborted{};
  if (compile || (name_resolution && try_here)) throw ScopeAbort{};
}

void check_procedure_body(const Statement& st) {
  // CREATE [OR ALTER] | ALTER PROC[EDURE] name [params] [WITH options] AS body: SQL Server
  // compiles the body when the procedure is created, so a syntax error is reported then.
  const auto& t = st.tokens;
  std::size_t i = 0;
  while (i < t.size() && !(t[i].is("PROC") || t[i].is("PROCEDURE"))) ++i;
  if (i >= 3 || i >= t.size()) return;  // not CREATE/ALTER [OR ALTER] PROCEDURE
  int depth = 0;
  for (++i; i < t.size(); ++i) {
    if (is_sym(t[i], "(")) ++depth;
    else if (is_sym(t[i], ")")) --depth;
    else if (depth == 0 && t[i].is("AS") && t[i - 1].kind != TokKind::variable && !t[i - 1].is("EXECUTE") &&
             !t[i - 1].is("EXEC")) {
      break;
    }
  }
  if (i + 1 >= t.size()) return;  // no body: the handler reports it
  ParseOptions o;
  o.procedure_body = true;
  o.line_base = st.line - 1 + static_cast<int>(std::count(st.text.begin(), st.text.begin() + static_cast<long>(t[i + 1].offset - t[0].offset), '\n'));
  parse_batch(st.text.substr(t[i + 1].offset - t[0].offset), o);
}

// ---------------------------------------------------------------------------------------
// RAISERROR and THROW

void SessionImpl::do_raiserror(const Statement& st, ResultSink& sink) {
  const auto& t = st.tokens;
  if (t.size() < 2 || !is_sym(t[1], "(")) syntax_near(t, 1);
  const auto args = arguments(t, 1);
  if (args.size() < 3) raise(102, 15, "Incorrect syntax near ')'.");
  bool log = false, seterror = false;
  for (std::size_t k = match_paren(t, 1) + 1; k < t.size(); ++k) {
    if (t[k].is("LOG")) log = true;
    if (t[k].is("SETERROR")) seterror = true;
  }
  std::string select;
  bool iv = false;
  for (const auto& [b, e] : args) {
    if (b == e) syntax_near(t, b);
    select += (select.empty() ? "SELECT " : ", ") + translate(t, b, e, &iv);
  }
  std::vector<Cell> values;
  read(select, false, [&](sqlite3* c, bool) {
    values.clear();
    if (iv) refresh_instance_views(c, select);
    Stmt s(c, select);
    if (s.step()) {
      for (int k = 0; k < sqlite3_column_count(s.get()); ++k) {
        Cell cell;
        sqlite3_value* v = sqlite3_column_value(s.get(), k);
        cell.type = sqlite3_value_type(v);
        if (cell.type == SQLITE_INTEGER) cell.i = sqlite3_value_int64(v);
        else if (cell.type == SQLITE_FLOAT) cell.d = sqlite3_value_double(v);
        else if (cell.type != SQLITE_NULL) cell.s.assign(reinterpret_cast<const char*>(sqlite3_value_text(v)), static_cast<std::size_t>(sqlite3_value_bytes(v)));
        values.push_back(cell);
      }
    }
  });
  int severity = static_cast<int>(cell_int(values[1]));
  int state = static_cast<int>(cell_int(values[2]));
  if (severity > 25) severity = 25;
  if (severity < 0) severity = 0;  // "Severity levels less than 0 are interpreted as 0."
  if (state < 0) state = 1;
  if (state > 255) state = 255;
  if (severity > 18 && !log) {
    raise(2754, 16, "Error severity levels greater than 18 can only be specified by members of the sysadmin role, using the WITH LOG option.");
  }
  if (severity >= 20) unsupported("RAISERROR with severity 20 or higher (it ends the connection)");
  Message m;
  m.severity = severity;
  m.state = state;
  m.line = st.line;
  const bool by_number = values[0].type == SQLITE_INTEGER;
  if (by_number) {
    const std::int64_t id = values[0].i;
    if (id < 13000 || id == 50000) {
      raise(2732, 16, "Error number " + std::to_string(id) + " is invalid. The number must be from 13000 through 2147483647 and it cannot be 50000.");
    }
    // The sandbox has no sp_addmessage: every user-defined number is missing from sys.messages.
    m.number = 18054;
    m.text = "Error " + std::to_string(id) + ", severity " + std::to_string(severity) + ", state " + std::to_string(state) +
             " was raised, but no message with that error number was found in sys.messages. If error is larger than 50000, "
             "make sure the user-defined message is added using sp_addmessage.";
  } else {
    m.number = 50000;
    m.text = format_raiserror(values[0].type == SQLITE_NULL ? std::string() : values[0].s,
                              std::vector<Cell>(values.begin() + 3, values.end()));
    if (m.text.size() > 2047) m.text = m.text.substr(0, 2044) + "...";
  }
  if (severity <= 10) {
    // An informational message: not an error, never goes to CATCH.
    sink.message(m);
    if (seterror) m_error_override = m.number;
    return;
  }
  throw SqlError{m};
}

void SessionImpl::do_throw(const Statement& st) {
  const auto& t = st.tokens;
  if (t.size() == 1) {
    if (m_catch_stack.empty()) {
      raise(10704, 15, "To rethrow an error, a THROW statement must be used inside a CATCH block. Insert the THROW statement inside a "
                       "CATCH block, or add error parameters to the THROW statement.");
    }
    throw SqlError{m_catch_stack.back()};
  }
  std::vector<std::pair<std::size_t, std::size_t>> parts;
  int depth = 0;
  std::size_t b = 1;
  for (std::size_t k = 1; k < t.size(); ++k) {
    if (is_sym(t[k], "(")) ++depth;
    else if (is_sym(t[k], ")")) --depth;
    else if (depth == 0 && is_sym(t[k], ",")) { parts.emplace_back(b, k); b = k + 1; }
  }
  parts.emplace_back(b, t.size());
  if (parts.size() != 3) syntax_near(t, t.size());
  bool iv = false;
  const std::string sql = "SELECT " + translate(t, parts[0].first, parts[0].second, &iv) + ", " +
                          translate(t, parts[1].first, parts[1].second, &iv) + ", " + translate(t, parts[2].first, parts[2].second, &iv);
  Cell number, text, state;
  read(sql, false, [&](sqlite3* c, bool) {
    Stmt s(c, sql);
    if (s.step()) {
      number.type = sqlite3_column_type(s.get(), 0);
      number.i = sqlite3_column_int64(s.get(), 0);
      text.type = sqlite3_column_type(s.get(), 1);
      if (text.type != SQLITE_NULL) text.s = s.str(1);
      state.type = sqlite3_column_type(s.get(), 2);
      state.i = sqlite3_column_int64(s.get(), 2);
    }
  });
  if (number.type == SQLITE_NULL || text.type == SQLITE_NULL || state.type == SQLITE_NULL) {
    raise(35100, 16, "Error number NULL in the THROW statement is outside the valid range. Specify an error number in the valid range "
                     "of 50000 to 2147483647.");
  }
  if (number.i < 50000 || number.i > 2147483647LL) {
    raise(35100, 16, "Error number " + std::to_string(number.i) + " in the THROW statement is outside the valid range. Specify an error "
                     "number in the valid range of 50000 to 2147483647.");
  }
  if (state.i < 0 || state.i > 255) {
    raise(35101, 16, "State " + std::to_string(state.i) + " in the THROW statement is outside the valid range. Specify a state in the "
                     "valid range of 0 to 255.");
  }
  Message m;
  m.number = static_cast<int>(number.i);
  m.severity = 16;
  m.state = static_cast<int>(state.i);
  m.text = text.s;
  throw SqlError{m};
}

// ---------------------------------------------------------------------------------------
// ERROR_*() and XACT_STATE()

const Message* SessionImpl::caught_error() const { return m_catch_stack.empty() ? nullptr : &m_catch_stack.back(); }

namespace {

SessionImpl* session_of(sqlite3_context* ctx) { return static_cast<SessionImpl*>(sqlite3_user_data(ctx)); }

template <typename F>
void with_error(sqlite3_context* ctx, F f) {
  const Message* m = session_of(ctx)->caught_error();
  if (!m) sqlite3_result_null(ctx);
  else f(*m);
}

void fn_error_number(sqlite3_context* ctx, int, sqlite3_value**) { with_error(ctx, [&](const Message& m) { sqlite3_result_int(ctx, m.number); }); }
void fn_error_severity(sqlite3_context* ctx, int, sqlite3_value**) { with_error(ctx, [&](const Message& m) { sqlite3_result_int(ctx, m.severity); }); }
void fn_error_state(sqlite3_context* ctx, int, sqlite3_value**) { with_error(ctx, [&](const Message& m) { sqlite3_result_int(ctx, m.state); }); }
void fn_error_line(sqlite3_context* ctx, int, sqlite3_value**) { with_error(ctx, [&](const Message& m) { sqlite3_result_int(ctx, m.line); }); }
void fn_error_message(sqlite3_context* ctx, int, sqlite3_value**) {
  with_error(ctx, [&](const Message& m) { sqlite3_result_text(ctx, m.text.c_str(), static_cast<int>(m.text.size()), SQLITE_TRANSIENT); });
}
void fn_error_procedure(sqlite3_context* ctx, int, sqlite3_value**) {
  with_error(ctx, [&](const Message& m) {
    if (m.procedure.empty()) sqlite3_result_null(ctx);
    else sqlite3_result_text(ctx, m.procedure.c_str(), static_cast<int>(m.procedure.size()), SQLITE_TRANSIENT);
  });
}
void fn_xact_state(sqlite3_context* ctx, int, sqlite3_value**) {
  // 1: a committable transaction is open; -1: an uncommittable one (doomed by an error under
  // XACT_ABORT ON inside TRY); 0: none.
  sqlite3_result_int(ctx, session_of(ctx)->xact_state());
}

}  // namespace

const char* control_flow_function(const std::string& upper_name) {
  static const std::map<std::string, const char*> names = {
      {"ERROR_NUMBER", "m2r_error_number"}, {"ERROR_SEVERITY", "m2r_error_severity"}, {"ERROR_STATE", "m2r_error_state"},
      {"ERROR_LINE", "m2r_error_line"},     {"ERROR_MESSAGE", "m2r_error_message"},   {"ERROR_PROCEDURE", "m2r_error_procedure"},
      {"XACT_STATE", "m2r_xact_state"}};
  auto it = names.find(upper_name);
  return it == names.end() ? nullptr : it->second;
}

void register_control_flow_functions(sqlite3* db, SessionImpl* s) {
  struct F {
    const char* name;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  static const F fns[] = {{"m2r_error_number", fn_error_number},   {"m2r_error_severity", fn_error_severity},
                          {"m2r_error_state", fn_error_state},     {"m2r_error_line", fn_error_line},
                          {"m2r_error_message", fn_error_message}, {"m2r_error_procedure", fn_error_procedure},
                          {"m2r_xact_state", fn_xact_state}};
  for (const F& f : fns) sqlite3_create_function_v2(db, f.name, 0, SQLITE_UTF8, s, f.fn, nullptr, nullptr, nullptr);
}

}  // namespace sandbox::engine
