#include "migrate/lob_measurement.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "core/dms_task_spec.hpp"
#include "mssql/error_mapping.hpp"
#include "core/ascii_case.hpp"

namespace m2r {

namespace {


mssql::StatementOptions bounded(const LobMeasureOptions& options) {
  return {.timeout = options.statement_timeout, .idempotent = mssql::Idempotent::yes};
}

// A failed read as the error the user sees: what stopped it, at which table, and what to do.
Error measurement_error(const Error& e, const std::string& where, const LobMeasureOptions& options) {
  if (stop_requested(options.stop)) {
    return interrupted_error(fmt::format("the LOB measurement stopped at {}; it only reads, nothing was changed", where),
                             "run the same command again: it measures again before the DMS task is created");
  }
  if (mssql::is_lock_timeout(e)) {
    return Error(ErrorKind::timeout,
                 fmt::format("the LOB measurement of {} waited longer than the lock timeout ({} ms) for a writer's "
                             "lock (SQL Server error 1222); nothing was changed",
                             where, options.lock_timeout.count()),
                 "run again when the writers are quieter, or raise [validate] lock_timeout_ms");
  }
  if (e.kind == ErrorKind::timeout) {
    return Error(ErrorKind::timeout,
                 fmt::format("the LOB measurement of {} took longer than {} s ({}); nothing was changed", where,
                             options.statement_timeout.count(), e.message),
                 "run again with a larger [validate] chunk_timeout_s, or set [dms] lob_max_size_kb to skip the "
                 "choice from the data");
  }
  return Error(e.kind, fmt::format("the LOB measurement of {} failed: {}", where, e.message), e.hint);
}

// SET LOCK_TIMEOUT for the reads, back to -1 (wait as long as it takes, a session's default) after.
class LockTimeoutScope {
 public:
  LockTimeoutScope(mssql::SqlSession& db, std::chrono::milliseconds timeout) : m_db(db) {
    m_set = m_db.execute(fmt::format("SET LOCK_TIMEOUT {}", timeout.count()));
  }
  ~LockTimeoutScope() {
    if (m_set) (void)m_db.execute("SET LOCK_TIMEOUT -1");
  }
  const Expected<std::int64_t>& set() const { return m_set; }

 private:
  mssql::SqlSession& m_db;
  Expected<std::int64_t> m_set;
};

}  // namespace

Expected<std::vector<LobColumn>> list_lob_columns(mssql::SqlSession& source, const std::string& table_mappings,
                                                 const LobMeasureOptions& options) {
  const auto cancel = on_stop(options.stop, [&source] { source.cancel(); });
  auto r = source.query(lob_columns_query(), {}, bounded(options));
  if (!r) return tl::unexpected(measurement_error(r.error(), "the source catalog", options));
  std::vector<LobColumn> out;
  const auto& set = r->first();
  for (std::size_t i = 0; i < set.rows.size(); ++i) {
    LobColumn c;
    c.table = {M2R_TRY(set.value(i, "schema_name")).to_text(), M2R_TRY(set.value(i, "table_name")).to_text()};
    c.column = M2R_TRY(set.value(i, "column_name")).to_text();
    const auto type = M2R_TRY(set.value(i, "type_name"));
    c.type = type.is_null() ? "" : type.to_text();
    c.type = ascii_lower(c.type);
    const int max_length = static_cast<int>(M2R_TRY(M2R_TRY(set.value(i, "max_length")).as_int64()));
    // The query already filters; the same rule here keeps one definition of a LOB column.
    if (!is_lob_type(c.type, max_length)) continue;
    if (!table_mappings_select(table_mappings, c.table.schema, c.table.name)) continue;
    out.push_back(std::move(c));
  }
  return out;
}

Expected<std::vector<LobColumnSize>> measure_lob_columns(mssql::SqlSession& source, const std::vector<LobColumn>& columns,
                                                        const LobMeasureOptions& options) {
  std::vector<LobColumnSize> out;
  if (columns.empty()) return out;
  const auto cancel = on_stop(options.stop, [&source] { source.cancel(); });
  LockTimeoutScope lock_timeout(source, options.lock_timeout);
  if (!lock_timeout.set()) return tl::unexpected(measurement_error(lock_timeout.set().error(), "the source", options));
  // Tables in order, each table's columns in the order given.
  std::vector<tsql::TableName> tables;
  std::map<tsql::TableName, std::vector<const LobColumn*>> by_table;
  for (const auto& c : columns) {
    if (!by_table.count(c.table)) tables.push_back(c.table);
    by_table[c.table].push_back(&c);
  }
  for (const auto& table : tables) {
    if (stop_requested(options.stop)) {
      return tl::unexpected(measurement_error(Error(ErrorKind::interrupted, "stopped"), table.display(), options));
    }
    std::vector<std::string> names;
    for (const auto* c : by_table[table]) names.push_back(c->column);
    const std::string sql = M2R_TRY(lob_measure_query(table, names));
    auto r = source.query(sql, {}, bounded(options));
    if (!r) return tl::unexpected(measurement_error(r.error(), table.display(), options));
    if (r->rows().size() != 1 || r->rows().front().size() != names.size()) {
      return fail(ErrorKind::fatal, fmt::format("the LOB measurement of {} returned {} row(s) of {} value(s); expected "
                                                "one row of {}",
                                                table.display(), r->rows().size(),
                                                r->rows().empty() ? 0 : r->rows().front().size(), names.size()));
    }
    const auto& row = r->rows().front();
    for (std::size_t i = 0; i < names.size(); ++i) {
      LobColumnSize s{*by_table[table][i], std::nullopt};
      if (!row[i].is_null()) s.max_bytes = M2R_TRY(row[i].as_int64());
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace m2r
