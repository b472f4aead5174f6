// API server cursors, as Microsoft documents the system procedures ("System stored procedures:
// Cursor"): sp_cursoropen, sp_cursorfetch, sp_cursor, sp_cursoroption, sp_cursorclose and
// sp_cursorprepare / sp_cursorexecute / sp_cursorprepexec / sp_cursorunprepare. ODBC drivers
// call them (by the ProcIDs of [MS-TDS] 2.2.6.6) for scrollable and updatable cursors.
// README.md "Server cursors" says what is modelled and what is not.
#include <algorithm>
#include <cstdio>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

namespace opt = cursor_opt;

// sp_cursorfetch's fetchtype values.
enum FetchType : int {
  fetch_first = 0x1, fetch_next = 0x2, fetch_prev = 0x4, fetch_last = 0x8, fetch_absolute = 0x10,
  fetch_relative = 0x20, fetch_refresh = 0x80, fetch_info = 0x100, fetch_prev_noadjust = 0x200,
  fetch_skip_update_concurrency = 0x400,
};
// sp_cursor's optype values.
enum CursorOp : int {
  op_update = 0x1, op_delete = 0x2, op_insert = 0x4, op_refresh = 0x8, op_lock = 0x10, op_setposition = 0x20,
  op_absolute = 0x40,
};

const char* const k_rowid_column = "__m2r_cursor_rowid";

std::optional<std::int64_t> int_value(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    try {
      std::size_t used = 0;
      const std::int64_t n = std::stoll(*s, &used);
      if (used == s->size()) return n;
    } catch (...) {
    }
  }
  return std::nullopt;
}

// Keeps what a statement run for a cursor produces: its result sets and its messages.
class CollectingSink : public ResultSink {
 public:
  explicit CollectingSink(ResultSink& client) : m_client(client) {}
  void columns(const std::vector<Column>& c) override {
    sets.push_back({c, {}});
  }
  void row(const std::vector<Value>& v) override {
    if (!sets.empty()) sets.back().rows.push_back(v);
  }
  void done(DoneKind, std::optional<std::int64_t>, bool) override {}
  void message(const Message& m) override {
    failed = failed || m.is_error();
    messages.push_back(m);
  }
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  void transaction_changed(Transaction e) override { m_client.transaction_changed(e); }
  bool cancelled() override { return m_client.cancelled(); }

  struct Set {
    std::vector<Column> columns;
    std::vector<std::vector<Value>> rows;
  };
  std::vector<Set> sets;
  std::vector<Message> messages;
  bool failed = false;

 private:
  ResultSink& m_client;
};

// Passes a statement's results through to the client, without the return status and the
// DONEPROC of the sp_executesql it ran in (the cursor procedure sends its own).
class PassThroughSink : public ForwardingSink {
 public:
  explicit PassThroughSink(ResultSink& inner) : ForwardingSink(inner) {}
  void done(DoneKind k, std::optional<std::int64_t> n, bool e) override {
    if (k != DoneKind::proc) m_inner.done(DoneKind::in_proc, n, e);
  }
  void message(const Message& m) override {
    failed = failed || m.is_error();
    m_inner.message(m);
  }
  void return_status(int) override {}
  void return_value(const std::string&, const ColumnType&, const Value&) override {}  // sp_executesql's: not the cursor's
  bool failed = false;
};

RpcParam text_param(const std::string& name, const std::string& text) {
  RpcParam p;
  p.name = name;
  p.type = {SqlType::nvarchar, k_max_length, 0, 0};
  p.value = text;
  return p;
}

// The declared type of a value sp_cursor passes for a column (only its value reaches the engine).
std::string declared_type(const Value& v) {
  if (std::holds_alternative<std::int64_t>(v)) return "bigint";
  if (std::holds_alternative<double>(v)) return "float";
  if (std::holds_alternative<Bytes>(v)) return "varbinary(max)";
  return "nvarchar(max)";
}

std::string bracketed(const std::string& name) {
  std::string q = "[";
  for (char c : name) q += c == ']' ? std::string("]]") : std::string(1, c);
  return q + "]";
}

std::string fetch_type_name(int type) {
  switch (type) {
    case fetch_first: return "FIRST";
    case fetch_prev: return "PREV";
    case fetch_last: return "LAST";
    case fetch_absolute: return "ABSOLUTE";
    case fetch_relative: return "RELATIVE";
    case fetch_refresh: return "REFRESH";
    default: return "NEXT";
  }
}

// The first type among `bits` in the documented order of preference.
int first_of(int bits, std::initializer_list<int> order) {
  for (int b : order) {
    if (bits & b) return b;
  }
  return 0;
}

// The key columns a keyed statement's row ends with (one rowid per base table), taken off it.
std::vector<std::optional<std::int64_t>> take_keys(std::vector<Value>& row, std::size_t tables) {
  std::vector<std::optional<std::int64_t>> keys;
  for (std::size_t k = row.size() - std::min(tables, row.size()); k < row.size(); ++k) keys.push_back(int_value(row[k]));
  row.resize(row.size() - keys.size());
  return keys;
}

// What makes a SELECT's rows updatable through a cursor, as far as the sandbox goes: base tables
// in FROM (a list or joins; no derived table or function), no set operator, grouping, DISTINCT,
// aggregate or window function.
struct SelectShape {
  bool single_select = false;  // one SELECT statement
  std::size_t from = 0;        // the top-level FROM token (0: none)
  std::vector<ServerCursor::Table> tables;  // FROM's base tables; empty: none that can be named
  bool updatable = false;
  std::map<std::string, std::pair<std::string, std::string>> origins;
  bool for_read_only = false;  // FOR READ ONLY
  std::size_t for_clause = 0;  // FOR UPDATE [OF ...] / FOR READ ONLY: where it starts (0: none)
};

bool ends_from_item(const Token& k) {
  return is_sym(k, ",") || k.is("JOIN") || k.is("INNER") || k.is("LEFT") || k.is("RIGHT") || k.is("FULL") ||
         k.is("CROSS") || k.is("WHERE") || k.is("ORDER") || k.is("OPTION") || k.is("FOR") || k.is("ON");
}

// The select list's plain column references: `[q.]col [[AS] label]`.
void select_list_origins(const std::vector<Token>& t, std::size_t from, SelectShape& shape) {
  std::size_t i = 1;
  if (i < from && t[i].is("TOP")) {
    ++i;
    if (i < from && is_sym(t[i], "(")) i = match_paren(t, i, from) + 1;
    else ++i;
    if (i < from && t[i].is("PERCENT")) ++i;
  }
  while (i < from) {
    std::size_t e = i;
    int depth = 0;
    while (e < from && !(depth == 0 && is_sym(t[e], ","))) {
      if (is_sym(t[e], "(")) ++depth;
      else if (is_sym(t[e], ")")) --depth;
      ++e;
    }
    // [q .] col [[AS] label]
    std::size_t k = i;
    std::string qualifier, column, label;
    if (k < e && t[k].is_name()) {
      column = t[k].text;
      ++k;
      if (k + 1 < e && is_sym(t[k], ".") && t[k + 1].is_name()) {
        qualifier = column;
        column = t[k + 1].text;
        k += 2;
      }
      label = column;
      if (k < e && t[k].is("AS")) ++k;
      if (k < e && (t[k].is_name() || t[k].kind == TokKind::string)) label = t[k++].text;
      if (k == e) shape.origins[lower(label)] = {qualifier, column};
    }
    i = e + 1;
  }
}

SelectShape select_shape(const std::vector<Token>& t) {
  SelectShape shape;
  if (t.empty() || !t[0].is("SELECT")) return shape;
  shape.single_select = true;
  static const char* const aggregates[] = {"COUNT", "COUNT_BIG", "SUM", "AVG", "MIN", "MAX", "STRING_AGG",
                                           "STDEV", "STDEVP", "VAR", "VARP", "CHECKSUM_AGG", "GROUPING"};
  bool updatable = true;
  int depth = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const Token& k = t[i];
    if (is_sym(k, "(")) ++depth;
    else if (is_sym(k, ")")) --depth;
    if (depth != 0) continue;
    if (is_sym(k, ";")) {
      // Anything after the first statement makes it a batch, which is not cursored.
      if (i + 1 < t.size()) shape.single_select = false;
      break;
    }
    if (k.is("UNION") || k.is("EXCEPT") || k.is("INTERSECT") || k.is("GROUP") || k.is("HAVING") || k.is("DISTINCT") ||
        k.is("INTO") || k.is("OVER")) {
      updatable = false;
    }
    if (k.is("FROM") && shape.from == 0) shape.from = i;
    if (k.is("FOR") && i + 1 < t.size() && (t[i + 1].is("UPDATE") || t[i + 1].is("READ"))) {
      shape.for_clause = i;
      shape.for_read_only = t[i + 1].is("READ");
      break;
    }
  }
  if (shape.from == 0) return shape;
  for (std::size_t i = 1; i < shape.from; ++i) {
    if (!t[i].is_name() || i + 1 >= shape.from || !is_sym(t[i + 1], "(")) continue;
    for (const char* a : aggregates) {
      if (t[i].is(a)) updatable = false;
    }
  }
  // FROM item [, item | [INNER | LEFT [OUTER] | ...] JOIN item ON condition]...
  const std::size_t end = shape.for_clause ? shape.for_clause : t.size();
  std::vector<ServerCursor::Table> tables;
  std::size_t i = shape.from + 1;
  while (true) {
    if (i >= end || !t[i].is_name()) return shape;  // a derived table, a variable: not updatable
    const std::size_t first = i;
    while (i + 2 < end && is_sym(t[i + 1], ".") && t[i + 2].is_name()) i += 2;
    if (i + 1 < end && is_sym(t[i + 1], "(")) return shape;  // a table-valued function
    ServerCursor::Table table;
    for (std::size_t k = first; k <= i; k += 2) table.name += (k > first ? "." : "") + bracketed(t[k].text);
    table.qualifier = t[i].text;
    ++i;
    if (i < end && t[i].is("AS")) ++i;
    if (i < end && (t[i].kind == TokKind::ident_quoted || (t[i].kind == TokKind::word && !is_reserved_keyword(t[i]) &&
                                                           !ends_from_item(t[i])))) {
      table.qualifier = t[i++].text;
    }
    if (i < end && t[i].is("WITH") && i + 1 < end && is_sym(t[i + 1], "(")) i = match_paren(t, i + 1, end) + 1;
    tables.push_back(table);
    // Skip an ON condition up to the next item.
    int d = 0;
    if (i < end && t[i].is("ON")) {
      while (i < end && !(d == 0 && (is_sym(t[i], ",") || t[i].is("JOIN") || t[i].is("INNER") || t[i].is("LEFT") ||
                                     t[i].is("RIGHT") || t[i].is("FULL") || t[i].is("CROSS") || t[i].is("WHERE") ||
                                     t[i].is("ORDER") || t[i].is("OPTION")))) {
        if (is_sym(t[i], "(")) ++d;
        else if (is_sym(t[i], ")")) --d;
        ++i;
      }
    }
    if (i >= end || t[i].is("WHERE") || t[i].is("ORDER") || t[i].is("OPTION")) break;
    if (is_sym(t[i], ",")) { ++i; continue; }
    while (i < end && (t[i].is("INNER") || t[i].is("LEFT") || t[i].is("RIGHT") || t[i].is("FULL") || t[i].is("CROSS") ||
                       t[i].is("OUTER"))) {
      ++i;
    }
    if (i < end && t[i].is("JOIN")) { ++i; continue; }
    return shape;  // something else (APPLY, PIVOT, ...): not updatable
  }
  shape.tables = std::move(tables);
  shape.updatable = updatable;
  select_list_origins(t, shape.from, shape);
  return shape;
}

}  // namespace

// The procedures, with the session's internals at hand (a friend of SessionImpl).
class CursorProcedures {
 public:
  CursorProcedures(SessionImpl& s, const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                   const CallOutputs* outputs, ResultSink& sink)
      : m_s(s), m_args(args), m_positional(positional), m_outputs(outputs), m_sink(sink) {}

  bool run(const std::string& proc) {
    if (proc == "sp_cursoropen") open();
    else if (proc == "sp_cursorfetch") fetch();
    else if (proc == "sp_cursor") positioned();
    else if (proc == "sp_cursorclose") close();
    else if (proc == "sp_cursoroption") option();
    else if (proc == "sp_cursorprepare") prepare(false);
    else if (proc == "sp_cursorprepexec") prepare(true);
    else if (proc == "sp_cursorexecute") execute_prepared();
    else if (proc == "sp_cursorunprepare") unprepare();
    else return false;
    return true;
  }

 private:
  // --- parameters -----------------------------------------------------------------------
  const Value* arg(const char* name, std::size_t position) const {
    if (auto it = m_args.find(name); it != m_args.end()) return &it->second;
    if (position < m_positional.size()) return &m_positional[position];
    return nullptr;
  }
  std::optional<std::int64_t> int_arg(const char* name, std::size_t position) const {
    const Value* v = arg(name, position);
    return v ? int_value(*v) : std::nullopt;
  }
  std::string text_arg(const char* name, std::size_t position) const {
    const Value* v = arg(name, position);
    return v ? value_str(*v) : std::string();
  }
  // An OUTPUT parameter's value when the caller asked for it: a RETURNVALUE for an RPC, the
  // caller's variable for EXEC in a batch.
  void answer(const char* formal, std::size_t position, std::int64_t value) {
    if (!m_outputs || !m_outputs->requested(formal, position)) return;
    const ColumnType int_type{SqlType::int_, 0, 0, 0};
    if (m_outputs->to_sink) {
      m_sink.return_value(formal, int_type, Value{value});
      return;
    }
    const std::string target = m_outputs->target(formal, position);
    if (auto it = m_s.m_vars.find(target); !target.empty() && it != m_s.m_vars.end()) {
      it->second.value = value_to_cell(Value{value});
    }
  }
  // The return status, then sp_cursorprepexec's @handle (its first OUTPUT parameter).
  void return_status(int status) {
    m_sink.return_status(status);
    if (m_prepared_answer) answer("@handle", 0, *m_prepared_answer);
    m_prepared_answer.reset();
  }
  void finish(int status) {
    return_status(status);
    m_sink.done(DoneKind::proc, std::nullopt, false);
  }

  ServerCursor& cursor_arg(const char* proc) {
    const auto handle = int_arg("@cursor", 0);
    auto it = handle ? m_s.m_cursors.open.find(static_cast<std::int32_t>(*handle)) : m_s.m_cursors.open.end();
    if (it == m_s.m_cursors.open.end()) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(handle.value_or(0)));
      raise(16909, 16, std::string(proc) + ": The cursor identifier value provided (" + hex + ") is not valid.");
    }
    m_handle = it->first;
    return it->second;
  }

  // --- open -------------------------------------------------------------------------------
  // sp_cursoropen @cursor OUTPUT, @stmt [, @scrollopt OUTPUT [, @ccopt OUTPUT [, @rowcount OUTPUT
  //   [, @params, values...]]]]
  void open() {
    if (!arg("@stmt", 1)) raise(16903, 16, "The \"sp_cursoropen\" procedure was called with an incorrect number of parameters.");
    const int scrollopt = static_cast<int>(int_arg("@scrollopt", 2).value_or(opt::keyset));
    const std::string params = (scrollopt & opt::parameterized_stmt) ? text_arg("@params", 5) : std::string();
    std::vector<Value> values;
    for (std::size_t k = (scrollopt & opt::parameterized_stmt) ? 6 : 5; k < m_positional.size(); ++k) {
      values.push_back(m_positional[k]);
    }
    for (const auto& arg : m_args) {
      // A named pair, not a structured binding: clang 14 (the fuzz build) cannot capture those in a lambda.
      const std::string& name = arg.first;
      static const char* const formal[] = {"@cursor", "@stmt", "@scrollopt", "@ccopt", "@rowcount", "@params"};
      if (std::none_of(std::begin(formal), std::end(formal), [&](const char* f) { return name == f; })) {
        m_named_values.push_back({name, arg.second});
      }
    }
    open_cursor(text_arg("@stmt", 1), params, values, scrollopt, static_cast<int>(int_arg("@ccopt", 3).value_or(opt::read_only)),
                int_arg("@rowcount", 4).value_or(20), {"@cursor", 0}, {"@scrollopt", 2}, {"@ccopt", 3}, {"@rowcount", 4});
  }

  struct Slot {
    const char* formal;
    std::size_t position;
  };

  void open_cursor(std::string stmt, const std::string& params, const std::vector<Value>& values, int scrollopt,
                   int ccopt, std::int64_t fetch_rows, Slot cursor_slot, Slot scroll_slot, Slot cc_slot, Slot rowcount_slot) {
    const std::vector<Token> tokens = tokenize(stmt);
    SelectShape shape = select_shape(tokens);
    // The type: the one asked for, else the first acceptable one (the *_ACCEPTABLE bits).
    int scroll = first_of(scrollopt & 0x1f, {opt::keyset, opt::dynamic, opt::forward_only, opt::static_, opt::fast_forward});
    if (!scroll) {
      scroll = first_of((scrollopt >> 16) & 0x1f, {opt::keyset, opt::dynamic, opt::forward_only, opt::static_, opt::fast_forward});
    }
    if (!scroll) scroll = opt::keyset;
    int cc = first_of(ccopt & 0xf, {opt::read_only, opt::scroll_locks, opt::optimistic, opt::optimistic_values});
    if (!cc) cc = first_of((ccopt >> 16) & 0xf, {opt::read_only, opt::scroll_locks, opt::optimistic, opt::optimistic_values});
    if (!cc) cc = opt::read_only;

    std::vector<RpcParam> run_params = {text_param("@stmt", stmt), text_param("@params", params)};
    for (const Value& v : values) {
      RpcParam p;
      p.value = v;
      run_params.push_back(std::move(p));
    }
    for (const auto& [name, value] : m_named_values) {
      RpcParam p;
      p.name = name;
      p.value = value;
      run_params.push_back(std::move(p));
    }
    if (!shape.single_select) {
      // Not a single SELECT (DML, DDL, EXEC, a batch): SQL Server runs it as it is, says so with
      // 16954 (sent as an informational message: drivers skip it while opening a cursor), and
      // opens no cursor (handle 0).
      Message info;
      info.number = 16954;
      info.severity = 10;
      info.text = "Executing SQL directly; no cursor.";
      m_sink.message(info);
      PassThroughSink pass(m_sink);
      m_s.run_sp_executesql(run_params, pass, nullptr);
      return_status(pass.failed ? 1 : 0);
      answer(cursor_slot.formal, cursor_slot.position, 0);
      answer(scroll_slot.formal, scroll_slot.position, scroll);
      answer(cc_slot.formal, cc_slot.position, cc);
      answer(rowcount_slot.formal, rowcount_slot.position, -1);
      m_sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    if (shape.for_clause) {
      // FOR UPDATE [OF ...] / FOR READ ONLY belong to cursor statements only: the SELECT runs without.
      stmt = stmt.substr(0, tokens[shape.for_clause].offset);
      run_params[0] = text_param("@stmt", stmt);
      if (shape.for_read_only) cc = opt::read_only;
      if (!shape.for_read_only && cc == opt::read_only) {
        raise(16957, 16, "FOR UPDATE cannot be specified on a READ ONLY cursor.");
      }
    }
    // STATIC and FAST_FORWARD cursors are read-only, and so is one over anything but base
    // tables: SQL Server answers with the concurrency it chose.
    const bool scrollable_keyset = scroll == opt::keyset || scroll == opt::dynamic || scroll == opt::forward_only;
    const bool keyable = scrollable_keyset && shape.updatable && !shape.tables.empty();
    if (!keyable) cc = opt::read_only;

    ServerCursor c;
    c.scroll = scroll;
    c.allow_direct = (ccopt & opt::allow_direct) != 0;
    c.auto_close = (scrollopt & opt::auto_close) != 0;
    CollectingSink collected(m_sink);
    bool keyed = false;
    if (keyable) {
      // The keyset: the rowid of each table's row, as last columns the client never sees.
      std::string key_columns;
      for (std::size_t k = 0; k < shape.tables.size(); ++k) {
        key_columns += ", " + bracketed(shape.tables[k].qualifier) + ".rowid AS " + k_rowid_column + std::to_string(k);
      }
      const std::string keyed_stmt = stmt.substr(0, tokens[shape.from].offset) + key_columns + " " +
                                     stmt.substr(tokens[shape.from].offset);
      run_params[0] = text_param("@stmt", keyed_stmt);
      try {
        m_s.run_sp_executesql(run_params, collected, nullptr);
      } catch (const SqlError&) {
        collected.failed = true;
      }
      keyed = !collected.failed && collected.sets.size() == 1;
      if (!keyed) {
        // A view or anything else without a rowid: a read-only cursor over the statement as given.
        collected.sets.clear();
        collected.messages.clear();
        collected.failed = false;
        run_params[0] = text_param("@stmt", stmt);
        cc = opt::read_only;
      }
    }
    if (!keyed) {
      m_s.run_sp_executesql(run_params, collected, nullptr);
    }
    for (const Message& m : collected.messages) m_sink.message(m);
    if (collected.failed || collected.sets.empty()) {
      if (!collected.failed) {
        raise(16938, 16, "sp_cursoropen/sp_cursorprepare: The statement parameter can only be a batch or a stored "
                         "procedure with a single select, without FOR BROWSE, COMPUTE BY, or variable assignments.");
      }
      return_status(1);
      answer(cursor_slot.formal, cursor_slot.position, 0);
      m_sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    CollectingSink::Set& set = collected.sets.front();
    c.columns = set.columns;
    if (keyed) c.columns.resize(c.columns.size() - shape.tables.size());
    for (auto& r : set.rows) {
      CursorRow row;
      if (keyed) row.rowids = take_keys(r, shape.tables.size());
      row.values = std::move(r);
      c.rows.push_back(std::move(row));
    }
    // CHECK_ACCEPTED_TYPES / CHECK_ACCEPTED_OPTS: an option other than the one asked for must be
    // among the *_ACCEPTABLE ones (the type always is: the sandbox opens the type asked for).
    const int asked_cc = ccopt & 0xf;
    if ((ccopt & opt::check_accepted_opts) && cc != asked_cc && !(((ccopt >> 16) & 0xf) & cc)) {
      raise(16955, 16, "Could not create an acceptable cursor.");
    }
    c.concurrency = cc;
    if (keyed) c.statement = run_params;
    c.tables = shape.tables;
    c.origins = shape.origins;
    name_base_columns(c);
    const std::int32_t handle = m_s.m_cursors.next_handle++;
    ServerCursor& cursor = m_s.m_cursors.open.emplace(handle, std::move(c)).first->second;
    m_handle = handle;

    // COLMETADATA without rows, unless AUTO_FETCH asks for the first buffer at once.
    m_sink.columns(wire_columns(cursor));
    std::int64_t rowcount = cursor.is_dynamic() || cursor.is_forward_only() ? -1 : static_cast<std::int64_t>(cursor.rows.size());
    if (scrollopt & opt::auto_fetch) {
      move(cursor, fetch_next, 0, std::max<std::int64_t>(fetch_rows, 1));
      send_buffer(cursor);
      rowcount = static_cast<std::int64_t>(cursor.buffer.size());
    }
    m_sink.done(DoneKind::in_proc, std::nullopt, false);
    return_status(0);
    const int answered_scroll = scroll | (scrollopt & (opt::parameterized_stmt | opt::auto_fetch | opt::auto_close));
    answer(cursor_slot.formal, cursor_slot.position, handle);
    answer(scroll_slot.formal, scroll_slot.position, answered_scroll);
    answer(cc_slot.formal, cc_slot.position, cursor.concurrency | (cursor.allow_direct ? opt::allow_direct : 0));
    answer(rowcount_slot.formal, rowcount_slot.position, rowcount);
    m_sink.done(DoneKind::proc, std::nullopt, false);
    if ((scrollopt & opt::auto_close) && cursor.start > visible(cursor).size()) m_s.m_cursors.open.erase(handle);
  }

  // --- fetch ------------------------------------------------------------------------------
  // The rows a fetch can see, as indices into rows: a dynamic cursor does not see deleted rows,
  // a keyset cursor shows them as holes.
  static std::vector<std::size_t> visible(const ServerCursor& c) {
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < c.rows.size(); ++i) {
      if (!c.is_dynamic() || !c.rows[i].missing) v.push_back(i);
    }
    return v;
  }

  // Where the fetch buffer starts now, 1-based among the visible rows (0 before the first,
  // size + 1 after the last): rows deleted from a dynamic cursor move it.
  static std::size_t current_start(const ServerCursor& c, const std::vector<std::size_t>& v) {
    if (c.start == 0) return 0;
    if (c.buffer.empty()) return std::min(c.start, v.size() + 1);
    const auto it = std::lower_bound(v.begin(), v.end(), c.buffer.front());
    return static_cast<std::size_t>(it - v.begin()) + 1;
  }

  // Moves the cursor as sp_cursorfetch's fetchtype says (ODBC's SQLFetchScroll rules, which SQL
  // Server's follow) and fills the fetch buffer.
  void move(ServerCursor& c, int type, std::int64_t rownum, std::int64_t nrows) {
    const std::vector<std::size_t> v = visible(c);
    const auto n = static_cast<std::int64_t>(v.size());
    const auto cur = static_cast<std::int64_t>(current_start(c, v));
    const std::int64_t after = n + 1;
    std::int64_t s = 0;
    switch (type) {
      case fetch_first: s = 1; break;
      case fetch_next:
        if (cur == 0) s = 1;
        else if (cur > n) s = after;
        else if (!c.buffer.empty()) {
          const auto last = std::upper_bound(v.begin(), v.end(), c.buffer.back());
          s = static_cast<std::int64_t>(last - v.begin()) + 1;
        } else s = cur + 1;
        break;
      case fetch_prev:
      case fetch_prev_noadjust:
        if (cur == 0 || cur == 1) s = 0;
        else if (cur > n) s = std::max<std::int64_t>(1, n - nrows + 1);
        else s = cur - nrows < 1 ? (type == fetch_prev ? 1 : 0) : cur - nrows;
        break;
      case fetch_last: s = std::max<std::int64_t>(1, n - nrows + 1); break;
      case fetch_absolute:
        if (rownum > 0) s = rownum;
        else if (rownum < 0) s = n + rownum + 1 >= 1 ? n + rownum + 1 : (-rownum > nrows ? 0 : 1);
        else s = 0;
        break;
      case fetch_relative:
        if (cur == 0 && rownum <= 0) s = 0;
        else if (cur > n && rownum >= 0) s = after;
        else {
          s = cur + rownum;
          if (s < 1) s = (cur == 1 || -rownum > nrows) ? 0 : 1;
        }
        break;
      case fetch_refresh: s = cur; break;
      default: break;
    }
    if (n == 0 && s > 0) s = after;
    if (s > n) s = after;
    c.buffer.clear();
    if (s >= 1 && s <= n) {
      for (std::int64_t k = s; k <= n && static_cast<std::int64_t>(c.buffer.size()) < nrows; ++k) {
        c.buffer.push_back(v[static_cast<std::size_t>(k - 1)]);
      }
    }
    // A fetch of no rows leaves the cursor just before the row it would have returned first:
    // FreeTDS fetches ABSOLUTE n on a dynamic cursor as FIRST with no rows, then RELATIVE n.
    if (nrows == 0 && s >= 1 && s <= n) s -= 1;
    c.start = static_cast<std::size_t>(s);
  }

  // sp_cursorfetch's ROWSTAT values.
  static constexpr std::int64_t k_fetch_succeeded = 0x1, k_fetch_missing = 0x2;

  // The result set's columns as sent: the statement's, then the hidden ROWSTAT.
  static std::vector<Column> wire_columns(const ServerCursor& c) {
    std::vector<Column> cols = c.columns;
    Column rowstat;
    rowstat.name = "ROWSTAT";
    rowstat.type = {SqlType::int_, 0, 0, 0};
    rowstat.nullable = false;
    rowstat.hidden = true;
    cols.push_back(rowstat);
    return cols;
  }

  void send_buffer(ServerCursor& c) {
    for (std::size_t i : c.buffer) {
      const CursorRow& r = c.rows[i];
      // A hole (a deleted row of a keyset): its key is there, its values are not.
      std::vector<Value> values = r.missing ? std::vector<Value>(c.columns.size(), Value{}) : r.values;
      values.emplace_back(r.missing ? k_fetch_missing : k_fetch_succeeded);
      m_sink.row(values);
    }
  }

  // Each column's base table and column (COLINFO): a select-list item naming a column, or a
  // column of `*`, belongs to the table its qualifier names, else to the first table that has a
  // column of that name; anything else is an expression.
  void name_base_columns(ServerCursor& c) {
    std::map<std::size_t, std::vector<std::string>> table_columns;
    auto has_column = [&](std::size_t k, const std::string& column) {
      auto it = table_columns.find(k);
      if (it == table_columns.end()) it = table_columns.emplace(k, columns_of(c.tables[k].name)).first;
      return std::any_of(it->second.begin(), it->second.end(), [&](const std::string& n) { return iequals(n, column); });
    };
    for (Column& col : c.columns) {
      const auto origin = c.origins.find(lower(col.name));
      const std::string qualifier = origin == c.origins.end() ? std::string() : origin->second.first;
      const std::string column = origin == c.origins.end() ? col.name : origin->second.second;
      for (std::size_t k = 0; k < c.tables.size(); ++k) {
        if (qualifier.empty() ? has_column(k, column) : iequals(c.tables[k].qualifier, qualifier)) {
          col.base_table = last_part(c.tables[k].name);
          col.base_column = column;
          break;
        }
      }
    }
  }

  std::vector<std::string> columns_of(const std::string& table) {
    CollectingSink collected(m_sink);
    try {
      m_s.run_sp_executesql({text_param("@stmt", "SELECT * FROM " + table + " WHERE 1 = 0"), text_param("@params", "")},
                            collected, nullptr);
    } catch (const SqlError&) {
      return {};
    }
    std::vector<std::string> names;
    if (!collected.sets.empty()) {
      for (const Column& col : collected.sets.front().columns) names.push_back(col.name);
    }
    return names;
  }

  // A keyset or dynamic cursor's rows carry their current values: the statement runs again and
  // each row takes the values its key now has (a key no longer there is a deleted row).
  void refetch(ServerCursor& c) {
    if (c.statement.empty() || c.scroll == opt::static_) return;
    CollectingSink collected(m_sink);
    try {
      m_s.run_sp_executesql(c.statement, collected, nullptr);
    } catch (const SqlError&) {
      return;
    }
    if (collected.failed || collected.sets.size() != 1) return;
    std::map<std::vector<std::optional<std::int64_t>>, std::vector<Value>> now;
    for (auto& r : collected.sets.front().rows) {
      auto keys = take_keys(r, c.tables.size());
      now[std::move(keys)] = std::move(r);
    }
    for (CursorRow& row : c.rows) {
      if (row.rowids.empty()) continue;
      auto it = now.find(row.rowids);
      if (it == now.end()) {
        row.missing = true;
      } else {
        row.values = it->second;
        row.missing = false;
      }
    }
  }

  // sp_cursorfetch @cursor, @fetchtype [, @rownum [OUTPUT], @nrows [OUTPUT]]
  void fetch() {
    ServerCursor& c = cursor_arg("sp_cursorfetch");
    const int type = static_cast<int>(int_arg("@fetchtype", 1).value_or(fetch_next));
    const std::int64_t rownum = int_arg("@rownum", 2).value_or(0);
    const std::int64_t nrows = int_arg("@nrows", 3).value_or(20);
    const int base = type & ~fetch_skip_update_concurrency;
    if (base == fetch_info) {
      // No rows: where the cursor stands (the buffer's first row, 0 before the first row, -1 after
      // the last) and its row count (-1 when unknown: dynamic and forward-only cursors).
      const std::vector<std::size_t> v = visible(c);
      const std::size_t cur = current_start(c, v);
      const std::int64_t pos = cur > v.size() ? -1 : static_cast<std::int64_t>(cur);
      m_sink.return_status(0);
      answer("@rownum", 2, pos);
      answer("@nrows", 3, c.is_dynamic() || c.is_forward_only() ? -1 : static_cast<std::int64_t>(v.size()));
      m_sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    static const int known[] = {fetch_first, fetch_next,    fetch_prev,    fetch_last,
                                fetch_absolute, fetch_relative, fetch_refresh, fetch_prev_noadjust};
    if (std::find(std::begin(known), std::end(known), base) == std::end(known) || nrows < 0) {
      raise(16902, 16, "sp_cursorfetch: The value of the parameter fetchtype is invalid.");
    }
    if (c.is_forward_only() && base != fetch_next && base != fetch_refresh) {
      raise(16911, 16, "sp_cursorfetch: The fetch type " + fetch_type_name(base) + " cannot be used with forward only cursors.");
    }
    if (c.is_dynamic() && base == fetch_absolute) {
      raise(16925, 16, "The fetch type ABSOLUTE cannot be used with dynamic cursors.");
    }
    refetch(c);
    move(c, base, rownum, nrows);
    c.current.reset();
    m_sink.columns(wire_columns(c));
    send_buffer(c);
    m_sink.done(DoneKind::in_proc, static_cast<std::int64_t>(c.buffer.size()), false);
    m_sink.return_status(0);
    m_sink.done(DoneKind::proc, std::nullopt, false);
    if (c.auto_close && c.start > visible(c).size()) m_s.m_cursors.open.erase(m_handle);
  }

  // --- positioned operations ---------------------------------------------------------------
  // Runs a statement for sp_cursor through the session's ordinary path (permissions, locks, the
  // log); its row count and errors go to the client.
  bool run_statement(const std::string& sql, const std::vector<std::pair<std::string, Value>>& values,
                     std::int64_t* rows_changed) {
    std::string decl;
    std::vector<RpcParam> params = {text_param("@stmt", sql), text_param("@params", "")};
    for (std::size_t k = 0; k < values.size(); ++k) {
      decl += (k ? ", " : "") + values[k].first + " " + declared_type(values[k].second);
      RpcParam p;
      p.value = values[k].second;
      params.push_back(std::move(p));
    }
    params[1] = text_param("@params", decl);
    struct CountingPass : PassThroughSink {
      using PassThroughSink::PassThroughSink;
      void done(DoneKind k, std::optional<std::int64_t> n, bool e) override {
        if (k != DoneKind::proc && n) count += *n;
        PassThroughSink::done(k, n, e);
      }
      std::int64_t count = 0;
    } pass(m_sink);
    m_s.run_sp_executesql(params, pass, nullptr);
    if (rows_changed) *rows_changed = pass.count;
    return !pass.failed;
  }

  // sp_cursor @cursor, @optype, @rownum, @table [, values...]: UPDATE / DELETE / INSERT on the
  // base table at a row of the fetch buffer (rownum 1..n; 0 for every row of the buffer), or
  // SETPOSITION for WHERE CURRENT OF.
  void positioned() {
    ServerCursor& c = cursor_arg("sp_cursor");
    const int optype = static_cast<int>(int_arg("@optype", 1).value_or(0));
    const std::int64_t rownum = int_arg("@rownum", 2).value_or(0);
    const std::string table_arg = text_arg("@table", 3);
    const int op = optype & (op_update | op_delete | op_insert | op_refresh | op_lock);
    if ((optype & op_absolute) && !(op & (op_update | op_delete))) {
      raise(16904, 16, "sp_cursor: optype: You can only specify ABSOLUTE in conjunction with DELETE or UPDATE.");
    }
    if ((op & (op_update | op_delete | op_insert)) && c.concurrency == opt::read_only) {
      raise(16929, 16, "The cursor is READ ONLY.");
    }
    // The column values: named @column, else positional in the order of the cursor's columns.
    std::vector<std::pair<std::string, Value>> values;  // (column name, value)
    for (const auto& [name, value] : m_args) {
      if (name == "@cursor" || name == "@optype" || name == "@rownum" || name == "@table") continue;
      values.emplace_back(name.size() > 1 && name[0] == '@' ? name.substr(1) : name, value);
    }
    for (std::size_t k = 4; k < m_positional.size() && k - 4 < c.columns.size(); ++k) {
      values.emplace_back(c.columns[k - 4].name, m_positional[k]);
    }
    // Which rows.
    std::vector<std::size_t> targets;
    if (op != op_insert && (op || (optype & op_setposition))) {
      if (optype & op_absolute) {
        if (rownum < 1 || rownum > static_cast<std::int64_t>(c.rows.size())) raise(16930, 16, "The requested row is not in the fetch buffer.");
        targets.push_back(static_cast<std::size_t>(rownum - 1));
      } else {
        if (c.buffer.empty()) raise(16931, 16, "There are no rows in the current fetch buffer.");
        if (rownum < 0 || rownum > static_cast<std::int64_t>(c.buffer.size())) raise(16930, 16, "The requested row is not in the fetch buffer.");
        if (rownum == 0) targets = c.buffer;
        else targets.push_back(c.buffer[static_cast<std::size_t>(rownum - 1)]);
      }
    }
    if (optype & op_setposition) c.current = targets.empty() ? std::nullopt : std::optional<std::size_t>(targets.front());
    bool ok = true;
    if (op == op_update || op == op_delete) {
      if (op == op_update && values.empty()) raise(16935, 16, "No parameter values were specified for the sp_cursor-UPDATE statement.");
      const std::size_t table = target_table(c, table_arg);
      for (std::size_t index : targets) {
        ok = change_row(c, index, op, table, values) && ok;
      }
    } else if (op == op_insert) {
      if (values.empty()) raise(16935, 16, "No parameter values were specified for the sp_cursor-INSERT statement.");
      const std::size_t table = target_table(c, table_arg);
      std::string cols, vals;
      std::vector<std::pair<std::string, Value>> bound;
      for (std::size_t k = 0; k < values.size(); ++k) {
        cols += (k ? ", " : "") + bracketed(base_column(c, values[k].first));
        vals += (k ? ", " : "") + std::string("@v") + std::to_string(k);
        bound.emplace_back("@v" + std::to_string(k), values[k].second);
      }
      ok = run_statement("INSERT INTO " + c.tables[table].name + " (" + cols + ") VALUES (" + vals + ")", bound, nullptr);
    }
    // REFRESH and LOCK: the rows are read afresh at every fetch and row locks are not held
    // between statements, so there is nothing more to do.
    finish(ok ? 0 : 1);
  }

  // The cursor's table a change goes to: the one @table names, else the first table of FROM
  // (sp_cursor's documented default for a cursor over a join).
  std::size_t target_table(ServerCursor& c, const std::string& table_arg) {
    if (table_arg.empty()) return 0;
    const std::vector<Token> t = tokenize(table_arg);
    const std::string wanted = t.empty() ? table_arg : t.back().text;
    for (std::size_t k = 0; k < c.tables.size(); ++k) {
      if (iequals(last_part(c.tables[k].name), wanted) || iequals(c.tables[k].qualifier, wanted)) return k;
    }
    raise(16933, 16, "The cursor does not include the table being modified or the table is not updatable through the cursor.");
  }

  static std::string last_part(const std::string& bracketed_name) {
    const std::size_t open = bracketed_name.rfind('[');
    return open == std::string::npos ? bracketed_name : bracketed_name.substr(open + 1, bracketed_name.size() - open - 2);
  }

  // The table column a cursor column comes from (`x` for `x AS i`), else its own name.
  static std::string base_column(const ServerCursor& c, const std::string& label) {
    const auto origin = c.origins.find(lower(label));
    return origin == c.origins.end() ? label : origin->second.second;
  }

  bool change_row(ServerCursor& c, std::size_t index, int op, std::size_t table,
                  const std::vector<std::pair<std::string, Value>>& values) {
    CursorRow& row = c.rows[index];
    if (table >= row.rowids.size() || c.tables.empty()) raise(16929, 16, "The cursor is READ ONLY.");
    if (row.missing || !row.rowids[table]) {
      concurrency_check_failed();
      return false;
    }
    std::vector<std::pair<std::string, Value>> bound;
    std::string sql;
    if (op == op_update) {
      std::string set;
      for (std::size_t k = 0; k < values.size(); ++k) {
        set += (k ? ", " : "") + bracketed(base_column(c, values[k].first)) + " = @v" + std::to_string(k);
        bound.emplace_back("@v" + std::to_string(k), values[k].second);
      }
      sql = "UPDATE " + c.tables[table].name + " SET " + set + " WHERE rowid = " + std::to_string(*row.rowids[table]);
    } else {
      sql = "DELETE FROM " + c.tables[table].name + " WHERE rowid = " + std::to_string(*row.rowids[table]);
    }
    std::int64_t changed = 0;
    if (!run_statement(sql, bound, &changed)) return false;
    if (changed == 0) {  // deleted since the last fetch
      concurrency_check_failed();
      row.missing = true;
      return false;
    }
    if (op == op_delete) row.missing = true;
    return true;
  }

  void concurrency_check_failed() {
    Message m;
    m.number = 16934;
    m.severity = 10;
    m.text = "Optimistic concurrency check failed. The row was modified outside of this cursor.";
    m_sink.message(m);
  }

  // --- close, options, prepared cursors ----------------------------------------------------
  void close() {
    cursor_arg("sp_cursorclose");
    m_s.m_cursors.open.erase(m_handle);
    finish(0);
  }

  // sp_cursoroption @cursor, @code, @value: 2 CURSOR_NAME names it for WHERE CURRENT OF; the
  // text options (TEXTPTR_ONLY, TEXTDATA) are accepted and change nothing.
  void option() {
    ServerCursor& c = cursor_arg("sp_cursoroption");
    const auto code = int_arg("@code", 1);
    if (!code || *code < 1 || *code > 6) raise(16902, 16, "sp_cursoroption: The value of the parameter code is invalid.");
    if (*code == 2) {
      const std::string name = text_arg("@value", 2);
      for (const auto& [h, other] : m_s.m_cursors.open) {
        if (h != m_handle && iequals(other.name, name)) raise(16915, 16, "A cursor with the name '" + name + "' already exists.");
      }
      c.name = name;
    }
    finish(0);
  }

  // sp_cursorprepare @handle OUTPUT, @params, @stmt, @options [, @scrollopt [, @ccopt]]
  // sp_cursorprepexec @handle OUTPUT, @cursor OUTPUT, @params, @stmt, @options [, @scrollopt
  //   [, @ccopt [, @rowcount]]] [, values...]
  void prepare(bool then_execute) {
    const std::size_t shift = then_execute ? 1 : 0;
    if (!arg("@stmt", 2 + shift)) {
      raise(16903, 16, std::string("The \"") + (then_execute ? "sp_cursorprepexec" : "sp_cursorprepare") +
                           "\" procedure was called with an incorrect number of parameters.");
    }
    PreparedCursor p;
    p.params = text_arg("@params", 1 + shift);
    p.stmt = text_arg("@stmt", 2 + shift);
    p.scroll = static_cast<int>(int_arg("@scrollopt", 4 + shift).value_or(opt::keyset));
    p.concurrency = static_cast<int>(int_arg("@ccopt", 5 + shift).value_or(opt::read_only));
    const std::int32_t handle = m_s.m_cursors.next_prepared++;
    m_s.m_cursors.prepared[handle] = p;
    if (!then_execute) {
      m_sink.return_status(0);
      answer("@handle", 0, handle);
      answer("@scrollopt", 4, p.scroll);
      answer("@ccopt", 5, p.concurrency);
      m_sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    m_prepared_answer = handle;  // answered first, after the return status
    std::vector<Value> values(m_positional.begin() + std::min<std::size_t>(m_positional.size(), 8), m_positional.end());
    open_cursor(p.stmt, p.params, values, p.scroll | (p.params.empty() ? 0 : opt::parameterized_stmt), p.concurrency,
                int_arg("@rowcount", 7).value_or(20), {"@cursor", 1}, {"@scrollopt", 5}, {"@ccopt", 6}, {"@rowcount", 7});
  }

  // sp_cursorexecute @handle, @cursor OUTPUT [, @scrollopt OUTPUT [, @ccopt OUTPUT [, @rowcount
  //   OUTPUT [, values...]]]]
  void execute_prepared() {
    const auto handle = int_arg("@handle", 0);
    auto it = handle ? m_s.m_cursors.prepared.find(static_cast<std::int32_t>(*handle)) : m_s.m_cursors.prepared.end();
    if (it == m_s.m_cursors.prepared.end()) {
      raise(16902, 16, "sp_cursorexecute: The value of the parameter prepared_handle is invalid.");
    }
    const PreparedCursor p = it->second;
    const int scrollopt = static_cast<int>(int_arg("@scrollopt", 2).value_or(p.scroll));
    const int ccopt = static_cast<int>(int_arg("@ccopt", 3).value_or(p.concurrency));
    std::vector<Value> values(m_positional.begin() + std::min<std::size_t>(m_positional.size(), 5), m_positional.end());
    open_cursor(p.stmt, p.params, values, scrollopt | (p.params.empty() ? 0 : opt::parameterized_stmt), ccopt,
                int_arg("@rowcount", 4).value_or(20), {"@cursor", 1}, {"@scrollopt", 2}, {"@ccopt", 3}, {"@rowcount", 4});
  }

  void unprepare() {
    const auto handle = int_arg("@handle", 0);
    if (!handle || !m_s.m_cursors.prepared.erase(static_cast<std::int32_t>(*handle))) {
      raise(16902, 16, "sp_cursorunprepare: The value of the parameter prepared_handle is invalid.");
    }
    finish(0);
  }

  SessionImpl& m_s;
  const std::map<std::string, Value>& m_args;
  const std::vector<Value>& m_positional;
  const CallOutputs* m_outputs;
  ResultSink& m_sink;
  std::int32_t m_handle = 0;
  std::optional<std::int32_t> m_prepared_answer;
  std::vector<std::pair<std::string, Value>> m_named_values;  // sp_cursoropen's values passed by name
};

std::optional<Statement> SessionImpl::positioned_statement(const Statement& st) {
  const std::vector<Token>& t = st.tokens;
  int depth = 0;
  for (std::size_t i = 0; i + 3 < t.size(); ++i) {
    if (is_sym(t[i], "(")) ++depth;
    else if (is_sym(t[i], ")")) --depth;
    if (depth != 0 || !t[i].is("WHERE") || !t[i + 1].is("CURRENT") || !t[i + 2].is("OF")) continue;
    std::size_t n = i + 3;
    if (t[n].is("GLOBAL") && n + 1 < t.size() && t[n + 1].is_name()) ++n;
    if (t[n].kind == TokKind::variable) unsupported("WHERE CURRENT OF a cursor variable");
    if (!t[n].is_name()) syntax_near(t, n);
    const std::string name = t[n].text;
    auto it = std::find_if(m_cursors.open.begin(), m_cursors.open.end(),
                           [&](const auto& entry) { return !entry.second.name.empty() && iequals(entry.second.name, name); });
    // Only API cursors exist in the sandbox (DECLARE CURSOR is refused), so a name is theirs.
    if (it == m_cursors.open.end()) raise(16916, 16, "A cursor with the name '" + name + "' does not exist.");
    ServerCursor& c = it->second;
    if (c.concurrency == cursor_opt::read_only || c.tables.empty()) raise(16929, 16, "The cursor is READ ONLY.");
    // The statement's table must be one of the cursor's (its last name part, as written).
    std::size_t k = 1;
    if (k < t.size() && t[k].is("FROM")) ++k;
    while (k + 2 < i && is_sym(t[k + 1], ".")) k += 2;
    std::optional<std::size_t> table;
    for (std::size_t n2 = 0; k < i && n2 < c.tables.size() && !table; ++n2) {
      const std::string& full = c.tables[n2].name;
      const std::size_t open = full.rfind('[');
      if (iequals(t[k].text, full.substr(open + 1, full.size() - open - 2))) table = n2;
    }
    if (!table) {
      raise(16933, 16, "The cursor does not include the table being modified or the table is not updatable through the cursor.");
    }
    // Its current row: the one sp_cursor SETPOSITION chose, else the fetch buffer's first.
    std::optional<std::size_t> row = c.current;
    if (!row && !c.buffer.empty()) row = c.buffer.front();
    if (!row) raise(16930, 16, "The requested row is not in the fetch buffer.");
    const CursorRow& current = c.rows[*row];
    if (current.missing || *table >= current.rowids.size() || !current.rowids[*table]) {
      raise(16947, 16, "No rows were updated or deleted.");
    }
    Statement positioned = st;
    positioned.tokens.assign(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(i));
    for (const Token& tk : tokenize("WHERE rowid = " + std::to_string(*current.rowids[*table]))) positioned.tokens.push_back(tk);
    return positioned;
  }
  return std::nullopt;
}

bool SessionImpl::cursor_procedure(const std::string& name, const std::map<std::string, Value>& args,
                                   const std::vector<Value>& positional, const CallOutputs* outputs, ResultSink& sink) {
  CursorProcedures procedures(*this, args, positional, outputs, sink);
  return procedures.run(name);
}

}  // namespace sandbox::engine
