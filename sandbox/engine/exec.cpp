// EXEC and RPC: user procedures, sp_executesql, MS-CDC switches, RDS procedures;
// BACKUP and RESTORE statement parsing; login and the factory.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "engine/cdc.hpp"
#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {

namespace {

class NullSink : public ResultSink {
 public:
  void columns(const std::vector<Column>&) override {}
  void row(const std::vector<Value>&) override {}
  void done(DoneKind, std::optional<std::int64_t>, bool) override {}
  void message(const Message&) override {}
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  bool cancelled() override { return false; }
};

// Routes a procedure's inner statements as DONEINPROC.
class InProcSink : public ForwardingSink {
 public:
  explicit InProcSink(ResultSink& inner) : ForwardingSink(inner) {}
  void done(DoneKind, std::optional<std::int64_t> n, bool e) override { m_inner.done(DoneKind::in_proc, n, e); }
};

// Forwards everything and keeps the last return status (EXEC @rc = proc: the called procedure's
// own status comes last, after those of the procedures it called).
class StatusTap : public ForwardingSink {
 public:
  explicit StatusTap(ResultSink& inner) : ForwardingSink(inner) {}
  void return_status(int s) override {
    status = s;
    m_inner.return_status(s);
  }
  std::optional<int> status;
};

}  // namespace

// EXEC ( { @variable | [N]'string' } [+ ...] ): the string runs as a batch one level down
// ("EXECUTE", "Using EXECUTE with a character string"). Only literals and variables may be
// concatenated: SQL Server refuses any other expression there as a syntax error.
void SessionImpl::exec_string(const Statement& st, std::size_t i, ResultSink& sink) {
  const Tokens t(st.tokens);
  ++i;  // (
  std::string sql;
  for (;;) {
    if (i >= t.size()) syntax_near(t, i);
    if (t[i].kind == TokKind::string) sql += t[i].text;
    else if (t[i].kind == TokKind::variable) {
      const Variable* var = variable(lower(t[i].text));
      if (!var) raise(137, 15, "Must declare the scalar variable \"" + t[i].text + "\".");
      if (var->value.type == SQLITE_TEXT) sql += var->value.s;  // NULL adds nothing, as in SQL Server
      else if (var->value.type != SQLITE_NULL) syntax_near(t, i);
    } else {
      syntax_near(t, i);
    }
    ++i;
    if (i < t.size() && is_sym(t[i], "+")) { ++i; continue; }
    break;
  }
  if (i >= t.size() || !is_sym(t[i], ")")) syntax_near(t, i);
  ++i;
  if (i < t.size() && (t[i].is("AS") || t[i].is("AT"))) unsupported("EXEC (...) " + upper(t[i].text));
  if (i < t.size() && !is_sym(t[i], ";")) syntax_near(t, i);
  InProcSink inner(sink);
  // The string is its own batch: the caller's variables are not visible in it, and its own
  // go when it ends.
  auto saved = std::move(m_vars);
  m_vars.clear();
  bool failed = false;
  try {
    failed = run_nested(sql, ParseOptions{}, inner, "").failed;
  } catch (...) {
    m_vars = std::move(saved);
    throw;
  }
  m_vars = std::move(saved);
  sink.done(DoneKind::statement, std::nullopt, failed);
}

void SessionImpl::do_exec(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  std::size_t i = 1;
  std::string status_variable;  // EXEC @rc = proc: @rc receives the return status
  if (i < t.size() && t[i].kind == TokKind::variable && i + 1 < t.size() && is_sym(t[i + 1], "=")) {
    status_variable = lower(t[i].text);
    if (!variable(status_variable)) raise(137, 15, "Must declare the scalar variable \"" + t[i].text + "\".");
    i += 2;
  }
  if (i < t.size() && is_sym(t[i], "(")) {
    if (!status_variable.empty()) syntax_near(t, i);
    return exec_string(st, i, sink);
  }
  std::string name;
  while (i < t.size() && (t[i].is_name() || is_sym(t[i], "."))) {
    name += is_sym(t[i], ".") ? "." : t[i].text;
    ++i;
  }
  if (name.empty()) syntax_near(t, i);
  std::map<std::string, Value> named;
  std::vector<Value> positional;
  CallOutputs outputs;
  while (i < t.size()) {
    std::string pname;
    const std::size_t value_at = i + (t[i].kind == TokKind::variable && i + 1 < t.size() && is_sym(t[i + 1], "=") ? 2 : 0);
    if (t[i].kind == TokKind::variable && i + 1 < t.size() && is_sym(t[i + 1], "=")) {
      pname = lower(t[i].text);
      i += 2;
    }
    if (i >= t.size()) syntax_near(t, i);
    Value v;
    if (is_sym(t[i], "-") && i + 1 < t.size() && t[i + 1].kind == TokKind::number) {
      v = number_literal(t[i + 1]);
      if (auto* n = std::get_if<std::int64_t>(&v)) v = -*n;
      else if (auto* d = std::get_if<double>(&v)) v = -*d;
      ++i;
    } else if (t[i].kind == TokKind::string) v = t[i].text;
    else if (t[i].kind == TokKind::number) {
      v = number_literal(t[i]);
    } else if (t[i].is("NULL") || t[i].is("DEFAULT")) v = std::monostate{};
    else if (t[i].kind == TokKind::variable) {
      const Variable* var = variable(lower(t[i].text));
      if (!var) raise(137, 15, "Must declare the scalar variable \"" + t[i].text + "\".");
      const Cell& c = var->value;
      if (c.type == SQLITE_INTEGER) v = c.i;
      else if (c.type == SQLITE_FLOAT) v = c.d;
      else if (c.type == SQLITE_TEXT) v = c.s;
    } else v = t[i].text;
    ++i;
    if (i < t.size() && (t[i].is("OUTPUT") || t[i].is("OUT"))) {
      // @formal = @variable OUTPUT: the variable receives the parameter's value at the end.
      if (value_at >= t.size() || t[value_at].kind != TokKind::variable) {
        raise(179, 15, "Cannot use the OUTPUT option when passing a constant to a stored procedure.");
      }
      if (pname.empty()) outputs.positional[positional.size()] = lower(t[value_at].text);
      else outputs.named[pname] = lower(t[value_at].text);
      ++i;
    }
    if (pname.empty()) positional.push_back(v);
    else named[pname] = v;
    if (i < t.size() && is_sym(t[i], ",")) ++i;
    else if (i < t.size()) syntax_near(t, i);
  }
  if (status_variable.empty()) return call_procedure(name, named, sink, false, positional, &outputs);
  StatusTap tap(sink);
  call_procedure(name, named, tap, false, positional, &outputs);
  if (tap.status) {
    Cell c;
    c.type = SQLITE_INTEGER;
    c.i = *tap.status;
    m_vars[status_variable].value = c;
  }
}

void SessionImpl::execute_rpc(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& client_sink) {
  ActivityScope activity(*m_entry);
  KillAwareSink sink(client_sink, *m_entry);
  m_bulk.reset();  // an INSERT BULK waits for the very next request only
  if (report_if_killed(sink)) return;
  execute_rpc_call(procedure, params, sink, nullptr);
  report_if_killed(sink);  // killed while it ran
}

namespace {

// One parameter of sp_executesql's @params: "@name type [= default] [OUTPUT]".
struct DeclaredParam {
  std::string name;  // lower case
  ColumnType type;
  bool output = false;
  std::optional<Value> def;
};

std::vector<DeclaredParam> parse_declared_params(const std::string& decl) {
  std::vector<DeclaredParam> out;
  const auto t = tokenize(decl);
  std::size_t i = 0;
  while (i < t.size()) {
    if (t[i].kind == TokKind::end) break;
    if (t[i].kind != TokKind::variable) syntax_near(t, i);
    DeclaredParam p;
    p.name = lower(t[i].text);
    ++i;
    if (i < t.size() && t[i].is("AS")) ++i;
    const std::string type_text = type_decl_text(t, i);
    if (!parse_type(type_text, p.type)) raise(2715, 16, "Column, parameter, or variable #" + std::to_string(out.size() + 1) +
                                                      ": Cannot find data type " + type_text + ".");
    if (i < t.size() && is_sym(t[i], "=")) {
      ++i;
      if (i < t.size() && t[i].kind == TokKind::string) p.def = Value(t[i].text);
      else if (i < t.size() && t[i].kind == TokKind::number) p.def = Value(static_cast<std::int64_t>(std::stoll(t[i].text)));
      else p.def = Value(std::monostate{});
      ++i;
    }
    while (i < t.size() && (t[i].is("OUTPUT") || t[i].is("OUT") || t[i].is("READONLY"))) {
      p.output = p.output || !t[i].is("READONLY");
      ++i;
    }
    out.push_back(std::move(p));
    if (i < t.size() && is_sym(t[i], ",")) ++i;
    else if (i < t.size() && t[i].kind != TokKind::end) syntax_near(t, i);
  }
  return out;
}

}  // namespace

void SessionImpl::run_sp_executesql(const std::vector<RpcParam>& params, ResultSink& sink, const CallOutputs* outputs) {
  if (params.empty()) raise(201, 16, "Procedure or function 'sp_executesql' expects parameter '@statement', which was not supplied.");
  const std::string sql = value_str(params[0].value);
  const std::string decl_text = params.size() > 1 ? value_str(params[1].value) : std::string();
  const std::vector<DeclaredParam> declared = parse_declared_params(decl_text);
  // Values: by name, or (unnamed, as FreeTDS sends them) by position among the declared ones.
  std::map<std::string, std::size_t> supplied;  // declared name -> index in params
  for (std::size_t k = 2; k < params.size(); ++k) {
    std::string pname = lower(params[k].name);
    if (pname.empty() && k - 2 < declared.size()) pname = declared[k - 2].name;
    const auto d = std::find_if(declared.begin(), declared.end(), [&](const DeclaredParam& p) { return p.name == pname; });
    if (d == declared.end()) {
      raise(8145, 16, params[k].name.empty() ? "Too many arguments were supplied for procedure or function 'sp_executesql'."
                                             : params[k].name + " is not a parameter for procedure sp_executesql.");
    }
    const bool wants_output = outputs ? outputs->requested(pname, k) : params[k].output;
    if (wants_output && !d->output) {
      raise(8162, 16, "The formal parameter \"" + d->name + "\" was not declared as an OUTPUT parameter, but the actual parameter "
                      "passed in requested output.");
    }
    supplied[pname] = k;
  }
  auto saved = m_vars;
  for (const auto& d : declared) {
    Variable v;
    v.type = d.type;
    if (auto it = supplied.find(d.name); it != supplied.end()) v.value = value_to_cell(params[it->second].value);
    else if (d.def) v.value = value_to_cell(*d.def);
    else {
      m_vars = saved;
      raise(8178, 16, "The parameterized query '(" + decl_text + ")" + sql.substr(0, 100) + "' expects the parameter '" +
                          d.name + "', which was not supplied.");
    }
    m_vars[d.name] = v;
  }
  InProcSink inner(sink);
  // The statement runs through the control-flow executor, as a batch one level down.
  bool failed = false;
  try {
    failed = run_nested(sql, ParseOptions{}, inner, "").failed;
  } catch (...) {
    m_vars = saved;
    throw;
  }
  // The OUTPUT parameters' values as the statement left them, in the call's order.
  struct Out {
    std::string name, target;
    ColumnType type;
    Cell value;
  };
  std::vector<Out> outs;
  for (std::size_t k = 2; k < params.size(); ++k) {
    for (const auto& entry : supplied) {
      // A named copy, not a structured binding: lambdas cannot capture those before C++20 in clang 14.
      const std::string& name = entry.first;
      if (entry.second != k) continue;
      const bool wants_output = outputs ? outputs->requested(name, k) : params[k].output;
      if (!wants_output) continue;
      const auto d = std::find_if(declared.begin(), declared.end(), [&](const DeclaredParam& p) { return p.name == name; });
      outs.push_back({d->name, outputs ? outputs->target(name, k) : std::string(), d->type, m_vars[name].value});
    }
  }
  m_vars = saved;
  for (const auto& o : outs) {
    if (!o.target.empty()) {
      if (auto it = m_vars.find(o.target); it != m_vars.end()) it->second.value = o.value;
    }
  }
  sink.return_status(failed ? -6 : 0);
  if (!outputs) {
    for (const auto& o : outs) sink.return_value(o.name, o.type, cell_to_value(o.value, o.type));
  }
  // A statement's error is on its own DONEINPROC; the procedure itself ran to its end, so its
  // DONEPROC has no DONE_ERROR (ODBC drivers would report the error a second time).
  sink.done(DoneKind::proc, std::nullopt, false);
}

void SessionImpl::execute_rpc_call(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& sink,
                                   const CallOutputs* outputs) {
  RequestScope request(*this);
  RequestSinkScope request_sink(m_request_sink, m_request_sink ? m_request_sink : &sink);
  try {
    if (iequals(procedure, "sp_executesql") || iequals(procedure, "sys.sp_executesql")) {
      run_sp_executesql(params, sink, outputs);
      return;
    }
    std::map<std::string, Value> named;
    std::vector<Value> positional;
    CallOutputs rpc_outputs;
    rpc_outputs.to_sink = true;
    for (const auto& p : params) {
      if (p.name.empty()) {
        if (p.output) {
          rpc_outputs.positional[positional.size()] = "";
          rpc_outputs.positional_types[positional.size()] = p.type;
        }
        positional.push_back(p.value);
      } else {
        if (p.output) {
          rpc_outputs.named[lower(p.name)] = "";
          rpc_outputs.named_types[lower(p.name)] = p.type;
        }
        named[lower(p.name)] = p.value;
      }
    }
    call_procedure(procedure, named, sink, false, positional, &rpc_outputs);
  } catch (const SqlError& e) {
    sink.message(e.msg);
    sink.return_status(-6);
    sink.done(DoneKind::proc, std::nullopt, true);
  } catch (const BatchAborted&) {
    if (m_request_depth > 1) throw;  // EXEC sp_executesql inside a batch: the batch ends
    sink.return_status(-6);
    sink.done(DoneKind::proc, std::nullopt, true);
  }
}

void SessionImpl::call_procedure(const std::string& full_name, std::map<std::string, Value> args, ResultSink& sink,
                                 bool, const std::vector<Value>& positional, const CallOutputs* outputs) {
  // Split db.schema.name.
  std::vector<std::string> parts;
  {
    std::string cur_part;
    for (char c : full_name) {
      if (c == '.') { parts.push_back(cur_part); cur_part.clear(); }
      else cur_part += c;
    }
    parts.push_back(cur_part);
    // [db]..[name]: brackets off, an empty schema is the default one.
    for (auto& part : parts) {
      if (part.size() >= 2 && part.front() == '[' && part.back() == ']') part = part.substr(1, part.size() - 2);
    }
    if (parts.size() >= 2 && parts[parts.size() - 2].empty()) parts[parts.size() - 2] = "dbo";
  }
  const std::string proc = lower(parts.back());
  const std::string dbpart = parts.size() >= 3 ? lower(parts[0]) : "";
  if (proc.rfind("rds_", 0) == 0) {
    if (m_inst.config().kind != InstanceKind::rds) {
      raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    }
    if (!dbpart.empty() && dbpart != "msdb") raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    if (dbpart.empty() && !iequals(m_db, "msdb")) raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    // The RDS procedures cannot be called inside a transaction (docs/facts.md §13). RDS's own
    // wording was not found in its documentation: this text is the sandbox's.
    if (m_xact) raise(50000, 16, "The procedure " + proc + " cannot be run inside a transaction. Commit or roll back the transaction, then run it again.");
    require_object_permission("msdb", "dbo", proc, "EXECUTE");  // the master user holds it (permissions.cpp)
    if (proc == "rds_cdc_enable_db" || proc == "rds_cdc_disable_db") {
      std::string name = args.count("@db_name") ? value_str(args["@db_name"]) : positional.empty() ? "" : value_str(positional[0]);
      auto db = m_inst.find(name);
      if (!db) raise(15010, 16, "The database '" + name + "' does not exist. Supply a valid database name.");
      std::lock_guard<std::mutex> lock(db->write_mutex);
      db->set_meta(db->admin, "is_cdc_enabled", proc == "rds_cdc_enable_db" ? "1" : "0");
      if (db->meta("repl_done_lsn").empty()) db->set_meta(db->admin, "repl_done_lsn", db->lsn.peek().to_hex());
      sink.return_status(0);
      sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    if (!positional.empty()) raise(50000, 16, "RDS procedures take named parameters.");
    m_inst.rds_procedure(proc, args, sink);
    sink.return_status(0);
    sink.done(DoneKind::proc, std::nullopt, false);
    return;
  }
  if (proc == "sp_executesql") {
    // EXEC sp_executesql in a batch: its arguments as the RPC's parameters, OUTPUT variables kept.
    std::vector<RpcParam> params(2);
    CallOutputs mapped;
    std::size_t next_positional = 0;
    auto slot = [&](const char* name, std::size_t index) {
      if (args.count(name)) params[index].value = args[name];
      else if (next_positional < positional.size()) params[index].value = positional[next_positional++];
    };
    slot("@stmt", 0);
    slot("@params", 1);
    for (; next_positional < positional.size(); ++next_positional) {
      RpcParam p;
      p.value = positional[next_positional];
      if (outputs && outputs->positional.count(next_positional)) {
        mapped.positional[params.size()] = outputs->positional.at(next_positional);
      }
      params.push_back(std::move(p));
    }
    for (const auto& [name, value] : args) {
      if (name == "@stmt" || name == "@params") continue;
      RpcParam p;
      p.name = name;
      p.value = value;
      if (outputs && outputs->named.count(name)) mapped.named[name] = outputs->named.at(name);
      params.push_back(std::move(p));
    }
    return execute_rpc_call("sp_executesql", params, sink, &mapped);
  }
  if (proc.rfind("sp_cursor", 0) == 0 && cursor_procedure(proc, args, positional, outputs, sink)) return;  // cursors.cpp
  if (server_object_procedure(proc, dbpart, args, positional, outputs, sink)) return;  // server_objects.cpp
  // An sp_ name is a system procedure when master has one by that name, else the current
  // database's procedure (CREATE PROCEDURE, "Naming stored procedures").
  if ((proc.rfind("sp_", 0) == 0 || proc.rfind("xp_", 0) == 0) && system_procedure(proc, args, positional, sink)) return;
  // A user procedure in the current database.
  const std::string schema = parts.size() >= 2 ? parts[parts.size() - 2] : "dbo";
  std::string def;
  if (is_temp_name(parts.back())) {
    // EXEC #p / ##p: a temporary procedure (tempdb.hpp), whatever the current database; it
    // runs there. Its creator owns it and any session may run a global one: no permission check.
    if (!dbpart.empty() && dbpart != "tempdb") raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    auto tp = find_temp_procedure(cur(), parts.back(), m_spid);
    if (!tp) raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    def = tp->definition;
  } else {
    if (!dbpart.empty() && !iequals(dbpart, m_db)) unsupported("EXEC of a procedure in another database");
    Stmt s(cur(), "SELECT o.definition FROM __m2r_objects o JOIN __m2r_schemas s ON s.schema_id = o.schema_id"
                  " WHERE o.type = 'P' AND o.name = ? COLLATE NOCASE AND s.name = ? COLLATE NOCASE");
    s.bind(1, parts.back()).bind(2, schema);
    if (!s.step()) raise(2812, 16, "Could not find stored procedure '" + full_name + "'.");
    def = s.str(0);
    if (m_proc_depth == 0) require_object_permission(m_db, schema, parts.back(), "EXECUTE");  // nested: the ownership chain
  }
  const std::vector<Token> def_tokens = tokenize(def);
  const Tokens toks(def_tokens);
  // CREATE [OR ALTER] PROC[EDURE] name [(] @p type [= default] [OUTPUT], ... [)] [WITH ...] AS body
  std::size_t i = 0;
  while (i < toks.size() && !(toks[i].is("PROC") || toks[i].is("PROCEDURE"))) ++i;
  ++i;
  // The (multi-part) name: name [. name]... — AS right after it is the body's keyword.
  if (i < toks.size() && toks[i].is_name()) ++i;
  while (i + 1 < toks.size() && is_sym(toks[i], ".") && toks[i + 1].is_name()) i += 2;
  if (i < toks.size() && is_sym(toks[i], "(")) ++i;
  struct Param { std::string name; ColumnType type; std::optional<Value> def; bool output = false; };
  std::vector<Param> params;
  while (i < toks.size() && toks[i].kind == TokKind::variable) {
    Param p;
    p.name = lower(toks[i].text);
    ++i;
    if (toks[i].is("AS")) ++i;
    std::string decl = lower(toks[i].text);
    ++i;
    if (i < toks.size() && is_sym(toks[i], "(")) {
      decl += "(";
      ++i;
      while (i < toks.size() && !is_sym(toks[i], ")")) decl += lower(toks[i++].text) == "max" ? "-1" : toks[i - 1].text;
      decl += ")";
      ++i;
    }
    if (!parse_type(decl, p.type)) raise(2715, 16, "Cannot find data type " + decl + ".");
    if (i < toks.size() && is_sym(toks[i], "=")) {
      ++i;
      const Token& d = toks[i];
      if (d.kind == TokKind::string) p.def = Value(d.text);
      else if (d.kind == TokKind::number) p.def = number_literal(d);
      else p.def = Value(std::monostate{});
      ++i;
    }
    while (i < toks.size() && (toks[i].is("OUTPUT") || toks[i].is("OUT") || toks[i].is("READONLY"))) {
      p.output = p.output || !toks[i].is("READONLY");
      ++i;
    }
    params.push_back(p);
    if (i < toks.size() && is_sym(toks[i], ",")) ++i;
  }
  while (i < toks.size() && !toks[i].is("AS")) ++i;
  if (i + 1 >= toks.size()) raise(50000, 16, "The definition of procedure '" + full_name + "' has no body.");
  std::string body = def.substr(toks[i + 1].offset);
  if (outputs) {
    // An argument passed as OUTPUT must be an OUTPUT parameter of the procedure.
    for (std::size_t k = 0; k < params.size(); ++k) {
      if (!params[k].output && outputs->requested(params[k].name, args.count(params[k].name) ? std::size_t(-1) : k)) {
        raise(8162, 16, "The formal parameter \"" + params[k].name + "\" was not declared as an OUTPUT parameter, but the "
                        "actual parameter passed in requested output.");
      }
    }
  }
  auto saved_vars = m_vars;
  for (std::size_t k = 0; k < params.size(); ++k) {
    Variable v;
    v.type = params[k].type;
    if (args.count(params[k].name)) v.value = value_to_cell(args[params[k].name]);
    else if (k < positional.size()) v.value = value_to_cell(positional[k]);
    else if (params[k].def) v.value = value_to_cell(*params[k].def);
    else {
      m_vars = saved_vars;
      raise(201, 16, "Procedure or function '" + parts.back() + "' expects parameter '" + params[k].name + "', which was not supplied.");
    }
    // An argument takes its parameter's type ('2004-10-15 12:09:08' for a datetime is a datetime).
    if (v.value.type != SQLITE_NULL) {
      try {
        v.value = convert_cell(cur(), v.value, std::nullopt, v.type);
      } catch (...) {
        m_vars = saved_vars;
        throw;
      }
    }
    m_vars[params[k].name] = v;
  }
  InProcSink inner(sink);
  const bool nocount = m_nocount;
  if (++m_proc_depth > 32) {
    --m_proc_depth;
    m_vars = saved_vars;
    raise(217, 16, "Maximum stored procedure, function, trigger, or view nesting level exceeded (limit 32).");
  }
  // The body runs through the control-flow executor; its line numbers count from CREATE.
  BodyResult result;
  try {
    ParseOptions o;
    o.procedure_body = true;
    o.line_base = static_cast<int>(std::count(def.begin(), def.begin() + static_cast<long>(toks[i + 1].offset), '\n'));
    result = run_nested(body, o, inner, parts.back());
  } catch (...) {
    --m_proc_depth;
    m_nocount = nocount;
    m_vars = saved_vars;
    throw;
  }
  --m_proc_depth;
  m_nocount = nocount;
  // OUTPUT parameters the caller asked for: their values as the body left them.
  struct Out {
    std::string name, target;
    ColumnType type;
    Cell value;
  };
  std::vector<Out> outs;
  for (std::size_t k = 0; outputs && k < params.size(); ++k) {
    const std::size_t position = args.count(params[k].name) ? std::size_t(-1) : k;
    if (!params[k].output || !outputs->requested(params[k].name, position)) continue;
    Out o{params[k].name, outputs->target(params[k].name, position), params[k].type, m_vars[params[k].name].value};
    const auto client = outputs->client_type(params[k].name, position);
    if (outputs->to_sink && client && (client->type != o.type.type || client->length != o.type.length ||
                                   client->precision != o.type.precision || client->scale != o.type.scale)) {
      o.value = convert_cell(cur(), o.value, o.type, *client);
      o.type = *client;
    }
    outs.push_back(std::move(o));
  }
  m_vars = saved_vars;
  for (const auto& o : outs) {
    if (o.target.empty()) continue;
    if (auto it = m_vars.find(o.target); it != m_vars.end()) it->second.value = o.value;
  }
  sink.return_status(result.status);
  if (outputs && outputs->to_sink) {
    for (const auto& o : outs) sink.return_value(o.name, o.type, cell_to_value(o.value, o.type));
  }
  // As for sp_executesql: the failed statement's DONEINPROC carried the error.
  sink.done(DoneKind::proc, std::nullopt, false);
}

bool SessionImpl::system_procedure(const std::string& proc, const std::map<std::string, Value>& args_in,
                                   const std::vector<Value>& positional, ResultSink& sink) {
  if (catalog_procedure(proc, args_in, positional, sink)) return true;
  if (principal_procedure(proc, args_in, positional, sink)) return true;
  if (replication_procedure(proc, args_in, positional, sink)) return true;  // replication.cpp
  auto args = args_in;
  auto arg = [&](const char* name, std::size_t pos) -> std::string {
    if (args.count(name)) return value_str(args[name]);
    if (pos < positional.size()) return value_str(positional[pos]);
    return {};
  };
  auto finish = [&]() {
    sink.return_status(0);
    sink.done(DoneKind::proc, std::nullopt, false);
    return true;
  };
  if (proc == "sp_cdc_enable_db" || proc == "sp_cdc_disable_db") {
    auto db = cur_db();
    if (m_inst.config().kind == InstanceKind::rds)
      raise(22902, 16, "Caught error in sys.sp_cdc_enable_db: User does not have permission. On Amazon RDS use msdb.dbo.rds_cdc_enable_db.");
    std::lock_guard<std::mutex> lock(db->write_mutex);
    if (proc == "sp_cdc_enable_db") cdc_enable_db(m_inst, *db);  // cdc.hpp
    else cdc_disable_db(m_inst, *db);
    return finish();
  }
  if (proc == "sp_cdc_enable_table" || proc == "sp_cdc_disable_table") {
    auto db = cur_db();
    if (db->meta("is_cdc_enabled") != "1")
      raise(22901, 16, "The database '" + db->name + "' is not enabled for Change Data Capture. Ensure that the correct database context is set and retry the operation. To report on the databases enabled for Change Data Capture, query the is_cdc_enabled column in the sys.databases catalog view.");
    const std::string schema = arg("@source_schema", 0);
    const std::string name = arg("@source_name", 1);
    if (proc == "sp_cdc_enable_table" && !args.count("@role_name") && positional.size() < 3)
      raise(201, 16, "Procedure or function 'sp_cdc_enable_table' expects parameter '@role_name', which was not supplied.");
    std::lock_guard<std::mutex> lock(db->write_mutex);
    const std::string table = sqlite_table_name(schema, name);
    Stmt o(db->admin, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
    o.bind(1, table);
    if (!o.step()) raise(22931, 16, "Source table '" + schema + "." + name + "' does not exist in the current database. Ensure that the correct database context is set. Specify a valid schema and table name for the database.");
    exec(db->admin, "UPDATE __m2r_objects SET is_tracked_by_cdc = " + std::string(proc == "sp_cdc_enable_table" ? "1" : "0") +
                        " WHERE object_id = " + std::to_string(o.i64(0)));
    if (proc == "sp_cdc_enable_table") cdc_table_enabled(m_inst, *db);
    return finish();
  }
  if (proc == "sp_repldone") {
    // The log reader (DMS) marks everything read so far as replicated; truncation may proceed.
    auto db = cur_db();
    std::lock_guard<std::mutex> lock(db->write_mutex);
    db->set_meta(db->admin, "repl_done_lsn", db->lsn.peek().to_hex());
    return finish();
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// BACKUP / RESTORE statements (documented form only; docs/facts.md §8).

void SessionImpl::do_backup(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 3) syntax_near(t, 1);
  if (m_inst.config().kind == InstanceKind::rds) {
    // Amazon RDS: native BACKUP is not allowed; use msdb.dbo.rds_backup_database.
    raise(262, 14, "BACKUP DATABASE permission denied in database '" + t[2].text + "'.");
  }
  BackupOptions o;
  if (t[1].is("LOG")) o.log = true;
  else if (!t[1].is("DATABASE")) unsupported("BACKUP " + upper(t[1].text));
  o.database = t[2].text;
  if (t[2].kind == TokKind::variable) o.database = variable(lower(t[2].text)) ? variable(lower(t[2].text))->value.s : "";
  std::size_t i = 3;
  if (i >= t.size() || !t[i].is("TO")) syntax_near(t, i);
  ++i;
  while (i < t.size()) {
    if (t[i].is("URL") || t[i].is("TAPE")) unsupported("BACKUP ... TO " + upper(t[i].text));
    if (!t[i].is("DISK")) syntax_near(t, i);
    if (i + 2 >= t.size() || !is_sym(t[i + 1], "=")) syntax_near(t, i + 1);
    const Token& f = t[i + 2];
    if (f.kind == TokKind::string) o.files.push_back(f.text);
    else if (f.kind == TokKind::variable && variable(lower(f.text))) o.files.push_back(variable(lower(f.text))->value.s);
    else syntax_near(t, i + 2);
    i += 3;
    if (i < t.size() && is_sym(t[i], ",")) { ++i; continue; }
    break;
  }
  if (i < t.size() && t[i].is("MIRROR")) unsupported("BACKUP ... MIRROR TO");
  if (i < t.size()) {
    if (!t[i].is("WITH")) syntax_near(t, i);
    ++i;
    while (i < t.size()) {
      const std::string opt = upper(t[i].text);
      ++i;
      std::string val;
      if (i < t.size() && is_sym(t[i], "=")) { val = t[i + 1].text; i += 2; }
      if (opt == "COPY_ONLY") o.copy_only = true;
      else if (opt == "COMPRESSION") o.compression = true;
      else if (opt == "NO_COMPRESSION") o.compression = false;
      else if (opt == "CHECKSUM") o.checksum = true;
      else if (opt == "NO_CHECKSUM") o.checksum = false;
      else if (opt == "STATS") {
        const std::int64_t n = val.empty() ? 10 : int_literal(t[i - 1]);
        o.stats = static_cast<int>(std::min<std::int64_t>(n, 100));  // a percentage step
      }
      else if (opt == "INIT" || opt == "FORMAT") o.init = true;
      else if (opt == "NOINIT" || opt == "SKIP" || opt == "NOSKIP" || opt == "NOFORMAT" || opt == "NAME" || opt == "DESCRIPTION" ||
               opt == "NOREWIND" || opt == "NOUNLOAD" || opt == "MAXTRANSFERSIZE" || opt == "BUFFERCOUNT" || opt == "BLOCKSIZE" ||
               opt == "MEDIANAME") {
      } else if (opt == "DIFFERENTIAL") unsupported("BACKUP DATABASE ... WITH DIFFERENTIAL");
      else if (opt == "NORECOVERY" || opt == "NO_TRUNCATE" || opt == "ENCRYPTION") unsupported("BACKUP ... WITH " + opt);
      else syntax_near(t, i - 1);
      if (i < t.size() && is_sym(t[i], ",")) ++i;
    }
  }
  if (o.files.empty()) syntax_near(t, 3);
  check_backup_permission(o.database, o.log, sink);  // permission_statements.cpp
  if (m_xact) raise(3021, 16, "Cannot perform a backup or restore operation within a transaction.");
  o.spid = m_spid;
  m_inst.backup(o, sink);
}

void SessionImpl::do_restore(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 3) syntax_near(t, 1);
  if (m_inst.config().kind == InstanceKind::rds) {
    raise(262, 14, "RESTORE DATABASE permission denied in database '" + t[2].text + "'.");
  }
  RestoreOptions o;
  if (t[1].is("LOG")) o.log = true;
  else if (!t[1].is("DATABASE")) unsupported("RESTORE " + upper(t[1].text));
  o.database = t[2].text;
  std::size_t i = 3;
  if (i < t.size() && t[i].is("FROM")) {
    ++i;
    while (i < t.size()) {
      if (!t[i].is("DISK")) { if (t[i].is("URL")) unsupported("RESTORE ... FROM URL"); syntax_near(t, i); }
      if (i + 2 >= t.size()) syntax_near(t, i);
      o.files.push_back(t[i + 2].text);
      i += 3;
      if (i < t.size() && is_sym(t[i], ",")) { ++i; continue; }
      break;
    }
  }
  if (i < t.size()) {
    if (!t[i].is("WITH")) syntax_near(t, i);
    ++i;
    while (i < t.size()) {
      const std::string opt = upper(t[i].text);
      ++i;
      if (opt == "REPLACE") o.replace = true;
      else if (opt == "NORECOVERY") o.norecovery = true;
      else if (opt == "RECOVERY") o.norecovery = false;
      else if (opt == "STATS" || opt == "FILE" || opt == "CHECKSUM" || opt == "NOUNLOAD") {
        if (i < t.size() && is_sym(t[i], "=")) i += 2;
      } else if (opt == "MOVE") {
        i += 3;  // MOVE 'logical' TO 'physical': the sandbox keeps its own file names
      } else if (opt == "STOPAT" || opt == "STOPATMARK" || opt == "STOPBEFOREMARK" || opt == "STANDBY") {
        unsupported("RESTORE ... WITH " + opt);
      } else syntax_near(t, i - 1);
      if (i < t.size() && is_sym(t[i], ",")) ++i;
    }
  }
  if (m_xact) raise(3021, 16, "Cannot perform a backup or restore operation within a transaction.");
  o.spid = m_spid;
  if (o.files.empty()) {
    if (o.log) syntax_near(t, 3);
    m_inst.finish_restore(o.database);
    Message m;
    m.number = 3014;
    m.text = "RESTORE DATABASE successfully processed 0 pages in 0.001 seconds (0.000 MB/sec).";
    sink.message(m);
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  if (iequals(m_db, o.database)) raise(3102, 16, "RESTORE cannot process database '" + o.database + "' because it is in use by this session. It is recommended that the master database be used when performing this operation.");
  for (auto it = m_conns.begin(); it != m_conns.end(); ++it) {
    if (iequals(it->first, o.database)) { sqlite3_close_v2(it->second); m_conns.erase(it); break; }
  }
  m_inst.restore(o, sink);
}

// ---------------------------------------------------------------------------------------

LoginResult InstanceImpl::login(const std::string& user, const std::string& password, const std::string& database) {
  LoginResult r;
  auto who = principals().authenticate(user, password, r.failure);  // 18456, 18470 (principals.hpp)
  if (!who) return r;
  // The database asked for, else the login's default; the login needs a way in (a user mapped by
  // SID, sysadmin, guest): 4060 for a requested database, 4064 for the default one.
  const std::string db = database.empty() ? who->default_database : database;
  auto d = find(db);
  bool may_open = d && !d->restoring;
  if (may_open) {
    std::lock_guard<std::mutex> lock(d->flags_mutex);  // d->admin is shared; flags_mutex serializes its readers
    may_open = database_user_of(d->admin, principals(), *who).has_value();
  }
  if (!may_open) {
    r.failure.severity = 11;
    r.failure.number = database.empty() ? 4064 : 4060;
    r.failure.text = database.empty() ? "Cannot open user default database. Login failed."
                                      : "Cannot open database \"" + db + "\" requested by the login. The login failed.";
    return r;
  }
  auto session = std::make_unique<SessionImpl>(*this, d->name, who->name);
  // The database's user access mode (README.md "User access modes"): RESTRICTED_USER admits only
  // sysadmin, dbcreator and db_owner; SINGLE_USER one session at a time.
  if (auto refusal = session->enter_database(*d, database.empty() ? SessionImpl::Entry::login_default
                                                                  : SessionImpl::Entry::login_named)) {
    r.failure = *refusal;
    return r;
  }
  r.session = std::move(session);
  return r;
}

}  // namespace sandbox::engine

namespace sandbox {

std::unique_ptr<Instance> open_instance(const InstanceConfig& config) {
  return std::make_unique<engine::InstanceImpl>(config);
}

}  // namespace sandbox
