// INSERT BULK and the rows of a bulk load (README.md "Bulk load"). The statement is checked
// against the table when the batch runs; the rows arrive in the next request (the TDS layer's
// bulk load message) and go through the session's normal write path, so they are logged
// (CDC reads them), locked and undone with a transaction like an INSERT's.
#include "engine/bulk_load.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "engine/constraint_errors.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {
namespace {

bool is_statement_end(const Tokens& t, std::size_t i) {
  return i >= t.size() || is_sym(t[i], ";") || t[i].kind == TokKind::end;
}

void expect_sym(const Tokens& t, std::size_t i, const char* s) {
  if (i >= t.size() || !is_sym(t[i], s)) syntax_near(t, i);
}

bool is_string_type(SqlType t) {
  return t == SqlType::varchar || t == SqlType::nvarchar || t == SqlType::char_ || t == SqlType::nchar;
}
bool is_binary_type(SqlType t) { return t == SqlType::varbinary || t == SqlType::binary; }

// A value's length as the column's type counts it: UTF-16 units for the N types, bytes of
// the single-byte code page (one per character) for the others, bytes for binary.
std::size_t value_length(const Cell& v, SqlType target) {
  if (v.type == SQLITE_BLOB || is_binary_type(target)) return v.s.size();
  std::size_t n = 0;
  for (std::size_t i = 0; i < v.s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(v.s[i]);
    if ((ch & 0xC0) == 0x80) continue;
    n += (target == SqlType::nvarchar || target == SqlType::nchar) && ch >= 0xF0 ? 2 : 1;  // a surrogate pair
  }
  return n;
}

void bind(sqlite3_stmt* s, int i, const Cell& v) {
  switch (v.type) {
    case SQLITE_INTEGER: sqlite3_bind_int64(s, i, v.i); break;
    case SQLITE_FLOAT: sqlite3_bind_double(s, i, v.d); break;
    case SQLITE_TEXT: sqlite3_bind_text(s, i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case SQLITE_BLOB: sqlite3_bind_blob(s, i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    default: sqlite3_bind_null(s, i); break;
  }
}

Cell read_cell(sqlite3_stmt* s, int i) {
  Cell c;
  c.type = sqlite3_column_type(s, i);
  if (c.type == SQLITE_INTEGER) c.i = sqlite3_column_int64(s, i);
  else if (c.type == SQLITE_FLOAT) c.d = sqlite3_column_double(s, i);
  else if (c.type == SQLITE_TEXT || c.type == SQLITE_BLOB) {
    const void* p = c.type == SQLITE_TEXT ? static_cast<const void*>(sqlite3_column_text(s, i)) : sqlite3_column_blob(s, i);
    c.s.assign(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  }
  return c;
}

// Compares two cells of the same column (ORDER's check): numbers by value, text without case.
int compare_cells(const Cell& a, const Cell& b) {
  if (a.type == SQLITE_NULL || b.type == SQLITE_NULL) return (a.type == SQLITE_NULL ? 0 : 1) - (b.type == SQLITE_NULL ? 0 : 1);
  if ((a.type == SQLITE_INTEGER || a.type == SQLITE_FLOAT) && (b.type == SQLITE_INTEGER || b.type == SQLITE_FLOAT)) {
    const double x = a.type == SQLITE_INTEGER ? static_cast<double>(a.i) : a.d;
    const double y = b.type == SQLITE_INTEGER ? static_cast<double>(b.i) : b.d;
    if (a.type == SQLITE_INTEGER && b.type == SQLITE_INTEGER) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const std::string x = lower(a.s), y = lower(b.s);
  return x < y ? -1 : x > y ? 1 : 0;
}

std::string shown(const Cell& c) {
  if (c.type == SQLITE_NULL) return "NULL";
  if (c.type == SQLITE_INTEGER) return std::to_string(c.i);
  if (c.type == SQLITE_FLOAT) return fmt::format("{}", c.d);
  return c.s;
}

}  // namespace

BulkLoadStatement parse_insert_bulk(const std::vector<Token>& tokens) {
  const Tokens t(tokens);
  BulkLoadStatement out;
  std::size_t i = 2;  // INSERT BULK
  out.table = parse_name(t, i);
  expect_sym(t, i, "(");
  const std::size_t close = match_paren(t, i);
  ++i;
  while (i < close) {
    if (!is_identifier(t[i])) syntax_near(t, i);
    BulkLoadStatement::ColumnDecl col;
    col.name = t[i].text;
    ++i;
    const std::string decl = type_decl_text(t, i);
    if (!parse_type(decl, col.type)) {
      std::string name = decl.substr(0, decl.find('('));
      raise(243, 16, "Type " + name + " is not a defined system type.");
    }
    if (i < close && t[i].is("COLLATE")) i += 2;
    if (i < close && t[i].is("NULL")) ++i;
    else if (i + 1 < close && t[i].is("NOT") && t[i + 1].is("NULL")) i += 2;
    out.columns.push_back(std::move(col));
    if (i < close) {
      expect_sym(t, i, ",");
      ++i;
      if (i >= close) syntax_near(t, i);
    }
  }
  if (out.columns.empty()) syntax_near(t, close);
  i = close + 1;
  if (!is_statement_end(t, i) && t[i].is("WITH")) {
    ++i;
    expect_sym(t, i, "(");
    const std::size_t with_close = match_paren(t, i);
    ++i;
    while (i < with_close) {
      const std::string opt = upper(t[i].text);
      if (opt == "CHECK_CONSTRAINTS") out.check_constraints = true, ++i;
      else if (opt == "FIRE_TRIGGERS") out.fire_triggers = true, ++i;
      else if (opt == "KEEP_NULLS") out.keep_nulls = true, ++i;
      else if (opt == "TABLOCK") out.tablock = true, ++i;
      else if (opt == "ORDER") {
        ++i;
        expect_sym(t, i, "(");
        const std::size_t order_close = match_paren(t, i, with_close);
        ++i;
        while (i < order_close) {
          if (!is_identifier(t[i])) syntax_near(t, i);
          BulkLoadStatement::OrderColumn oc;
          oc.name = t[i++].text;
          if (i < order_close && (t[i].is("ASC") || t[i].is("DESC"))) oc.descending = t[i++].is("DESC");
          out.order.push_back(std::move(oc));
          if (i < order_close) {
            expect_sym(t, i, ",");
            ++i;
          }
        }
        i = order_close + 1;
      } else if (opt == "ROWS_PER_BATCH" || opt == "KILOBYTES_PER_BATCH") {
        // Hints on how the server sizes its batches; the sandbox inserts each bulk load
        // message as one batch whatever they say.
        ++i;
        expect_sym(t, i, "=");
        ++i;
        if (t[i].kind != TokKind::number) syntax_near(t, i);
        int_literal(t[i]);
        ++i;
      } else {
        syntax_near(t, i);
      }
      if (i < with_close) {
        expect_sym(t, i, ",");
        ++i;
      }
    }
    i = with_close + 1;
  }
  if (!is_statement_end(t, i)) syntax_near(t, i);
  return out;
}

void SessionImpl::do_insert_bulk(const Statement& st, ResultSink& sink) {
  m_bulk.reset();
  BulkLoadStatement stmt = parse_insert_bulk(st.tokens);
  auto plan = std::make_shared<BulkLoadPlan>();
  sqlite3* c = cur();
  const std::string& name = stmt.table.name;
  if (is_temp_name(name)) {
    const auto tt = find_temp_table(c, name, m_spid);
    if (!tt) raise(208, 16, "Invalid object name '" + name + "'.");
    plan->temp = true;
    plan->schema = "tempdb";
    plan->sqlite_name = tt->sqlite_name;
    plan->identity_column = tt->identity_column;
  } else {
    if (!stmt.table.db.empty() && !iequals(stmt.table.db, m_db)) unsupported("INSERT BULK into another database");
    plan->schema = "main";
    plan->sqlite_name = sqlite_table_name(stmt.table.schema, name);
    {
      Stmt s(c, "SELECT object_id FROM __m2r_objects WHERE sqlite_name = ? COLLATE NOCASE AND type = 'U'");
      s.bind(1, plan->sqlite_name);
      if (s.step()) plan->object_id = s.i64(0);
    }
    if (!plan->object_id) {
      if (query_int(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'view' AND name = " + quote_literal(plan->sqlite_name) +
                           " COLLATE NOCASE")) {
        unsupported("INSERT BULK into a view");
      }
      raise(208, 16, "Invalid object name '" + name + "'.");
    }
    require_object_permission(m_db, stmt.table.schema, name, "INSERT");
    Stmt s(c, "SELECT name, seed_value, increment_value FROM __m2r_columns WHERE object_id = ? AND is_identity = 1");
    s.bind(1, plan->object_id);
    if (s.step()) {
      plan->identity_column = s.str(0);
      plan->identity_seed = s.i64(1);
      plan->identity_increment = s.i64(2);
      plan->identity_is_rowid =
          query_int(c, "SELECT COUNT(*) FROM pragma_table_info(" + quote_literal(plan->sqlite_name) + ") WHERE pk = 1 AND name = " +
                           quote_literal(plan->identity_column) + " COLLATE NOCASE AND type = 'INTEGER'") > 0;
    }
  }
  plan->identity_insert = m_identity_insert.count(lower(plan->sqlite_name)) > 0;

  // The table's columns: declared type, default, generated (computed or rowversion).
  struct TableColumn {
    std::string name, decl;
    bool has_default = false;
    int pk = 0;
  };
  std::vector<TableColumn> table_cols;
  {
    Stmt s(c, "SELECT name, type, dflt_value IS NOT NULL, pk FROM pragma_table_xinfo(?, ?) WHERE hidden IN (0, 2, 3) ORDER BY cid");
    s.bind(1, plan->sqlite_name).bind(2, plan->schema);
    while (s.step()) table_cols.push_back({s.str(0), s.str(1), s.i64(2) != 0, static_cast<int>(s.i64(3))});
  }
  std::set<std::string> generated;
  if (!plan->temp) {
    Stmt s(c, "SELECT c.name FROM __m2r_columns c WHERE c.object_id = ? AND (c.type_name IN ('rowversion', 'timestamp') OR"
              " EXISTS (SELECT 1 FROM __m2r_computed_columns k WHERE k.object_id = c.object_id AND k.column_id = c.column_id))");
    s.bind(1, plan->object_id);
    while (s.step()) generated.insert(lower(s.str(0)));
  }
  for (const auto& decl : stmt.columns) {
    const auto it = std::find_if(table_cols.begin(), table_cols.end(), [&](const TableColumn& tc) { return iequals(tc.name, decl.name); });
    if (it == table_cols.end()) {
      // SQL Server answers an INSERT BULK naming a column the table does not have with DONE
      // and DONE_ERROR but no message (tedious's bulk-load test relies on exactly that).
      sink.done(DoneKind::statement, std::nullopt, true);
      return;
    }
    BulkLoadPlan::Target target;
    target.name = it->name;
    if (!parse_type(it->decl, target.type)) target.type = {SqlType::bigint, 0, 0, 0};  // the rowid of an identity key
    target.has_default = it->has_default;
    target.generated = generated.count(lower(it->name)) > 0;
    plan->targets.push_back(std::move(target));
  }
  // ORDER is a promise about the rows' order; SQL Server holds the client to it (4819) only
  // when it names the clustered key, in the key's order, and ignores it otherwise. It also
  // ignores it when a key column is declared in another type than the table's (tedious's
  // nvarchar(1) for an nvarchar(255) key): the values are converted, so their order may change.
  std::vector<std::string> key;
  {
    std::vector<std::pair<int, std::string>> pk;
    for (const auto& tc : table_cols) if (tc.pk > 0) pk.emplace_back(tc.pk, tc.name);
    std::sort(pk.begin(), pk.end());
    for (auto& [_, n] : pk) key.push_back(n);
  }
  if (!stmt.order.empty() && stmt.order.size() == key.size()) {
    bool matches = true;
    std::vector<std::size_t> positions;
    for (std::size_t k = 0; k < key.size() && matches; ++k) {
      matches = iequals(stmt.order[k].name, key[k]) && !stmt.order[k].descending;
      std::size_t p = 0;
      while (p < plan->targets.size() && !iequals(plan->targets[p].name, key[k])) ++p;
      matches = matches && p < plan->targets.size();
      if (matches) {
        const ColumnType& declared = stmt.columns[p].type;
        const ColumnType& table_type = plan->targets[p].type;
        matches = declared.type == table_type.type && declared.length == table_type.length &&
                  declared.precision == table_type.precision && declared.scale == table_type.scale;
      }
      positions.push_back(p);
    }
    if (matches) {
      plan->order_key = positions;
      for (const auto& o : stmt.order) plan->order_descending.push_back(o.descending);
    }
  }
  plan->statement = std::move(stmt);
  m_bulk = plan;
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::bulk_load_rows(const std::vector<Column>& columns, const std::vector<std::vector<Value>>& rows,
                                 ResultSink& client_sink) {
  ActivityScope activity(*m_entry);
  KillAwareSink sink(client_sink, *m_entry);
  std::shared_ptr<BulkLoadPlan> plan = std::move(m_bulk);
  m_bulk.reset();
  if (report_if_killed(sink)) return;
  RequestScope request(*this);
  RequestSinkScope request_sink(m_request_sink, &sink);
  try {
    if (!plan) {
      raise(4002, 16, "The incoming tabular data stream (TDS) protocol stream is incorrect."
                      " A bulk load message arrived without an INSERT BULK before it.");
    }
    const std::int64_t n = insert_bulk_rows(*plan, columns, rows);
    m_error = 0;
    m_rowcount = n;
    sink.done(DoneKind::statement, n, false);
  } catch (const SqlError& e) {
    m_error = e.msg.number;
    sink.message(e.msg);
    sink.done(DoneKind::statement, std::nullopt, true);
  } catch (const BatchAborted&) {
    // An attention: nothing was inserted; the TDS layer acknowledges it.
  }
  report_if_killed(sink);
}

std::int64_t SessionImpl::insert_bulk_rows(const BulkLoadPlan& plan, const std::vector<Column>& columns,
                                           const std::vector<std::vector<Value>>& rows) {
  if (columns.size() != plan.targets.size()) {
    raise(4002, 16, fmt::format("The incoming tabular data stream (TDS) protocol stream is incorrect. The bulk load describes {} "
                                "columns; its INSERT BULK named {}.", columns.size(), plan.targets.size()));
  }
  const BulkLoadStatement& opt = plan.statement;
  sqlite3* c = cur();
  // Each value converted to its column's type as CAST converts it (SQL Server's errors: 245,
  // 8114, 8115, 241, ...). nullopt: the column is left to the table (its default, an identity,
  // a generated value).
  std::vector<std::vector<std::optional<Cell>>> cells;
  cells.reserve(rows.size());
  {
    Stmt cast(c, "SELECT m2r_cast(?1, ?2, ?3)");
    std::vector<std::string> from, to;
    for (std::size_t k = 0; k < columns.size(); ++k) {
      // A string or binary column's declared length does not bound its values: tedious
      // declares nvarchar(1) for a column it was given no length for and sends longer values,
      // which SQL Server stores when the table's column holds them.
      ColumnType sent = columns[k].type;
      if (is_string_type(sent.type) || is_binary_type(sent.type)) sent.length = k_max_length;
      from.push_back(type_to_string(sent));
      to.push_back(type_to_string(plan.targets[k].type));
    }
    for (const auto& row : rows) {
      if (cells.size() % 256 == 0 && request_cancelled()) throw BatchAborted{};
      if (row.size() != columns.size()) raise(4002, 16, "The incoming tabular data stream (TDS) protocol stream is incorrect.");
      std::vector<std::optional<Cell>> out(row.size());
      for (std::size_t k = 0; k < row.size(); ++k) {
        const BulkLoadPlan::Target& target = plan.targets[k];
        if (target.generated) continue;
        if (iequals(target.name, plan.identity_column) && !plan.identity_insert) continue;  // identities are generated
        Cell v = value_to_cell(row[k]);
        if (v.type == SQLITE_NULL) {
          // Without KEEP_NULLS a NULL takes the column's default.
          if (!opt.keep_nulls && target.has_default) continue;
          out[k] = v;
          continue;
        }
        const SqlType tt = target.type.type;
        if ((is_string_type(tt) || is_binary_type(tt)) && target.type.length != k_max_length &&
            value_length(v, tt) > static_cast<std::size_t>(target.type.length)) {
          raise(4815, 16, fmt::format("Received an invalid column length from the bcp client for colid {}.", k + 1));
        }
        cast.reset();
        bind(cast.get(), 1, v);
        cast.bind(2, from[k]).bind(3, to[k]);
        cast.step();
        out[k] = read_cell(cast.get(), 0);
      }
      cells.push_back(std::move(out));
    }
  }
  if (!plan.order_key.empty()) {
    for (std::size_t r = 1; r < cells.size(); ++r) {
      int cmp = 0;
      for (std::size_t k = 0; k < plan.order_key.size() && cmp == 0; ++k) {
        const std::size_t p = plan.order_key[k];
        const Cell none;
        cmp = compare_cells(cells[r - 1][p].value_or(none), cells[r][p].value_or(none));
        if (plan.order_descending[k]) cmp = -cmp;
      }
      if (cmp >= 0) {
        auto key_text = [&](std::size_t row) {
          std::string s;
          for (std::size_t p : plan.order_key) s += (s.empty() ? "" : ", ") + shown(cells[row][p].value_or(Cell{}));
          return "(" + s + ")";
        };
        raise(4819, 16, "Cannot bulk load. The bulk data stream was incorrectly specified as sorted or the data violates a uniqueness"
                        " constraint imposed by the target table. Sort order incorrect for the following two rows: primary key of"
                        " first row: " + key_text(r - 1) + ", primary key of second row: " + key_text(r) + ".");
      }
    }
  }

  // Without CHECK_CONSTRAINTS neither CHECK nor FOREIGN KEY constraints are checked (and
  // the table's constraints become not trusted); without FIRE_TRIGGERS no trigger fires.
  struct Restore {
    SessionImpl& s;
    sqlite3* c;
    ~Restore() {
      s.m_skip_foreign_keys = false;
      s.m_suppress_triggers = false;
      sqlite3_exec(c, "PRAGMA ignore_check_constraints = OFF", nullptr, nullptr, nullptr);
    }
  } restore{*this, c};
  m_skip_foreign_keys = !opt.check_constraints;
  m_suppress_triggers = !opt.fire_triggers;
  exec(c, opt.check_constraints ? "PRAGMA ignore_check_constraints = OFF" : "PRAGMA ignore_check_constraints = ON");
  set_statement_database(plan.temp ? "tempdb" : m_db);
  const std::string table = plan.schema + "." + quote_ident(plan.sqlite_name);
  const bool fill_identity = !plan.identity_column.empty() && !plan.identity_is_rowid && !plan.identity_insert;
  const std::int64_t n = write("INSERT", [&](sqlite3* wc) {
    std::map<std::string, std::unique_ptr<Stmt>> inserts;  // by the columns a row gives
    // An identity that is not the rowid: the next values counted from the table's maximum, as
    // INSERT assigns them (statements.cpp), once for the load rather than once per row.
    std::unique_ptr<Stmt> fill;
    std::int64_t next_identity = 0;
    if (fill_identity) {
      const std::string ic = quote_ident(plan.identity_column);
      next_identity = query_int(wc, "SELECT COALESCE(MAX(" + ic + "), " + std::to_string(plan.identity_seed - plan.identity_increment) +
                                        ") + " + std::to_string(plan.identity_increment) + " FROM " + table);
      fill = std::make_unique<Stmt>(wc, "UPDATE " + table + " SET " + ic + " = ? WHERE rowid = ?");
    }
    std::int64_t count = 0;
    for (const auto& row : cells) {
      if (count % 256 == 0 && request_cancelled()) throw BatchAborted{};
      std::string shape(row.size(), '0');
      for (std::size_t k = 0; k < row.size(); ++k) if (row[k]) shape[k] = '1';
      auto& ins = inserts[shape];
      if (!ins) {
        std::string cols, qs;
        for (std::size_t k = 0; k < row.size(); ++k) {
          if (!row[k]) continue;
          cols += (cols.empty() ? "" : ", ") + quote_ident(plan.targets[k].name);
          qs += qs.empty() ? "?" : ", ?";
        }
        ins = std::make_unique<Stmt>(wc, cols.empty() ? "INSERT INTO " + table + " DEFAULT VALUES"
                                                      : "INSERT INTO " + table + " (" + cols + ") VALUES (" + qs + ")");
      }
      ins->reset();
      int b = 1;
      for (const auto& v : row) if (v) bind(ins->get(), b++, *v);
      ins->step();
      const std::int64_t rowid = sqlite3_last_insert_rowid(wc);
      if (!plan.identity_column.empty()) m_last_identity = rowid;
      if (fill) {
        fill->reset();
        fill->bind(1, next_identity).bind(2, rowid);
        fill->step();
        m_last_identity = next_identity;
        next_identity += plan.identity_increment;
      }
      ++count;
    }
    return count;
  });
  if (!opt.check_constraints && n > 0 && !plan.temp) {
    // What SQL Server does after a bulk load that skipped them (sys.foreign_keys.is_not_trusted).
    exec(cur_db()->admin, "UPDATE __m2r_objects SET is_not_trusted = 1 WHERE type IN ('F', 'C') AND parent_object_id = " +
                              std::to_string(plan.object_id));
  }
  return n;
}

}  // namespace sandbox::engine
