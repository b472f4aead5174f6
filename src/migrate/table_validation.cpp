#include "migrate/table_validation.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "aws/sigv4.hpp"
#include "core/row_hash.hpp"
#include "core/tsql.hpp"
#include "mssql/error_mapping.hpp"
#include "core/ascii_case.hpp"

namespace m2r {

namespace {

// STRING_AGG ... WITHIN GROUP came with SQL Server 2017 (major version 14).
constexpr int k_first_major_with_string_agg = 14;
// Parameters of one lookup of changed rows (SQL Server takes at most 2100 per request).
constexpr std::size_t k_parameters_per_lookup = 500;
// A heap difference is shown by its row's values, each cut to this many characters.
constexpr std::size_t k_shown_value_chars = 60;

std::string hex_upper(const mssql::Bytes& b) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(b.data.size() * 2);
  for (auto c : b.data) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

Expected<std::string> hash_text(const mssql::SqlValue& v) {
  if (v.is_null()) return std::string();
  return hex_upper(M2R_TRY(v.as_bytes()));
}

std::vector<mssql::SqlParam> nvarchar_params(const std::vector<std::string>& texts) {
  std::vector<mssql::SqlParam> out;
  for (const auto& t : texts) out.push_back(mssql::SqlParam::nvarchar(t));
  return out;
}

// One side of one table: the keyset statements run on its session.
class SqlRangeReader final : public RangeReader {
 public:
  SqlRangeReader(mssql::SqlSession& db, const KeysetQueries& queries, bool server_aggregates,
                 mssql::StatementOptions options)
      : m_db(db), m_queries(queries), m_server_aggregates(server_aggregates), m_options(options) {}

  Expected<RangeDigest> digest(const KeyRange& range) override {
    if (!m_server_aggregates) {
      // SQL Server 2016 has no STRING_AGG: the chunk's row hashes come to the client, which
      // hashes their hex concatenation exactly as HASHBYTES over STRING_AGG does on 2017+.
      const auto rows_in_range = M2R_TRY(rows(range));
      RangeDigest d;
      d.rows = static_cast<std::int64_t>(rows_in_range.size());
      if (rows_in_range.empty()) return d;
      std::string joined;
      for (const auto& r : rows_in_range) joined += r.row_hash;
      d.hash = aws::sha256_hex(joined);
      std::transform(d.hash.begin(), d.hash.end(), d.hash.begin(), [](unsigned char c) { return std::toupper(c); });
      return d;
    }
    const auto s = m_queries.digest(range);
    const auto r = M2R_TRY(m_db.query(s.sql, nvarchar_params(s.params), m_options));
    RangeDigest d;
    if (r.rows().empty()) return d;
    d.rows = M2R_TRY(r.rows().front().at(0).as_int64());
    d.hash = M2R_TRY(hash_text(r.rows().front().at(1)));
    return d;
  }

  Expected<std::optional<KeyValues>> key_at(const KeyRange& range, std::int64_t position) override {
    const auto s = m_queries.key_at(range, position);
    const auto r = M2R_TRY(m_db.query(s.sql, nvarchar_params(s.params), m_options));
    if (r.rows().empty()) return std::optional<KeyValues>();
    KeyValues key;
    for (const auto& v : r.rows().front()) key.push_back(M2R_TRY(v.as_string()));
    return std::optional<KeyValues>(std::move(key));
  }

  Expected<std::vector<KeyedRowHash>> rows(const KeyRange& range) override {
    const auto s = m_queries.row_hashes(range);
    const auto r = M2R_TRY(m_db.query(s.sql, nvarchar_params(s.params), m_options));
    std::vector<KeyedRowHash> out;
    const std::size_t n = m_queries.key().size();
    for (const auto& row : r.rows()) {
      KeyedRowHash k;
      for (std::size_t i = 0; i < n; ++i) k.key.push_back(M2R_TRY(row.at(i).as_string()));
      k.row_hash = M2R_TRY(hash_text(row.at(n)));
      out.push_back(std::move(k));
    }
    return out;
  }

 private:
  mssql::SqlSession& m_db;
  const KeysetQueries& m_queries;
  bool m_server_aggregates;
  mssql::StatementOptions m_options;
};

struct TableOnSide {
  tsql::TableName name;
  std::int64_t object_id = 0;
};

struct Side {
  mssql::SqlSession& db;
  bool server_aggregates = false;
  std::map<std::string, TableOnSide> tables;  // by display name
};

Expected<std::vector<ColumnInfo>> read_columns(mssql::SqlSession& db, std::int64_t object_id,
                                               const mssql::StatementOptions& options) {
  const auto r = M2R_TRY(db.query(table_columns(), {mssql::SqlParam::int64(object_id)}, options));
  std::vector<ColumnInfo> out;
  for (std::size_t i = 0; i < r.rows().size(); ++i) {
    ColumnInfo c;
    c.name = M2R_TRY(r.first().value(i, "name")).to_text();
    const auto type = M2R_TRY(r.first().value(i, "type_name"));
    c.type = type.is_null() ? "" : type.to_text();
    c.type = ascii_lower(c.type);
    c.max_length = static_cast<int>(M2R_TRY(M2R_TRY(r.first().value(i, "max_length")).as_int64()));
    c.precision = static_cast<int>(M2R_TRY(M2R_TRY(r.first().value(i, "precision")).as_int64()));
    c.scale = static_cast<int>(M2R_TRY(M2R_TRY(r.first().value(i, "scale")).as_int64()));
    c.nullable = M2R_TRY(M2R_TRY(r.first().value(i, "is_nullable")).as_int64()) != 0;
    c.is_computed = M2R_TRY(M2R_TRY(r.first().value(i, "is_computed")).as_int64()) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

struct TableKey {
  std::vector<ColumnInfo> columns;
  bool primary = false;
};

// The primary key, else the first unique index whose columns are all NOT NULL and have a
// canonical text (a NULL key breaks keyset predicates): nullopt = compare as a multiset.
Expected<std::optional<TableKey>> read_key(mssql::SqlSession& db, std::int64_t object_id,
                                           const std::vector<ColumnInfo>& columns, const mssql::StatementOptions& options) {
  const auto r = M2R_TRY(db.query(table_key_columns(), {mssql::SqlParam::int64(object_id)}, options));
  std::map<std::int64_t, TableKey> by_index;
  std::vector<std::int64_t> order;
  std::map<std::int64_t, bool> usable;
  for (std::size_t i = 0; i < r.rows().size(); ++i) {
    const auto index_id = M2R_TRY(M2R_TRY(r.first().value(i, "index_id")).as_int64());
    const auto name = M2R_TRY(r.first().value(i, "name")).to_text();
    if (!by_index.count(index_id)) {
      order.push_back(index_id);
      usable[index_id] = true;
    }
    auto& key = by_index[index_id];
    key.primary = M2R_TRY(M2R_TRY(r.first().value(i, "is_primary_key")).as_int64()) != 0;
    auto it = std::find_if(columns.begin(), columns.end(), [&](const ColumnInfo& c) { return c.name == name; });
    if (it == columns.end() || it->nullable || !canonical_text(*it)) usable[index_id] = false;
    else key.columns.push_back(*it);
  }
  for (auto id : order) {
    if (usable[id]) return std::optional<TableKey>(by_index[id]);
  }
  return std::optional<TableKey>();
}

std::string join(const std::vector<std::string>& parts, const char* sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string columns_signature(const std::vector<ColumnInfo>& cols) {
  std::vector<std::string> parts;
  for (const auto& c : cols) parts.push_back(c.name + " " + type_declaration(c));
  return join(parts);
}

class TableValidator {
 public:
  TableValidator(Side& source, Side& target, const ValidationOptions& options, aws::Clock& clock)
      : m_source(source), m_target(target), m_options(options), m_clock(clock) {
    m_statement.timeout = options.chunk_timeout;
    m_statement.idempotent = mssql::Idempotent::yes;
  }

  // An error that ends the whole validation (a stop, a lock or statement timeout), or the
  // table's comparison (a table that cannot be read is a problem of that table).
  Expected<TableComparison> compare(const std::string& display, std::size_t index, std::size_t count) {
    m_display = display;
    m_index = index;
    m_count = count;
    TableComparison c;
    c.table = display;
    const auto& s = m_source.tables.at(display);
    const auto& t = m_target.tables.at(display);
    auto result = compare_rows(s, t, c);
    if (!result) {
      auto stop = classify(result.error());
      if (!stop) return tl::unexpected(stop.error());
      c.problem = "could not be read: " + result.error().message;
    }
    c.matches = c.problem.empty();
    return c;
  }

 private:
  // An error that must end the validation, or the problem text to record for this table.
  Expected<void> classify(const Error& e) const {
    if (stop_requested(m_options.stop)) {
      return tl::unexpected(interrupted_error(
          fmt::format("validation stopped while comparing {}; it only reads, nothing was changed", m_display),
          "run `mssql2rds validate` again: it starts from the beginning"));
    }
    if (mssql::is_lock_timeout(e)) {
      return fail(ErrorKind::timeout,
                  fmt::format("validation stopped at {}: a read waited longer than the lock timeout ({} ms) for a "
                              "writer's lock (SQL Server error 1222); it only reads, nothing was changed",
                              m_display, m_options.lock_timeout.count()),
                  "run `mssql2rds validate` again when the writers are quieter, or raise --lock-timeout-ms");
    }
    if (e.kind == ErrorKind::timeout) {
      return fail(ErrorKind::timeout,
                  fmt::format("validation stopped at {}: one chunk took longer than {} s ({}); it only reads, nothing "
                              "was changed",
                              m_display, m_options.chunk_timeout.count(), e.message),
                  "run `mssql2rds validate` again with a smaller --chunk-rows or a larger --chunk-timeout-s");
    }
    return {};
  }

  Expected<void> compare_rows(const TableOnSide& s, const TableOnSide& t, TableComparison& c) {
    const auto source_columns = M2R_TRY(read_columns(m_source.db, s.object_id, m_statement));
    const auto target_columns = M2R_TRY(read_columns(m_target.db, t.object_id, m_statement));
    c.source = TableFingerprint{c.table, 0, ""};
    c.target = TableFingerprint{c.table, 0, ""};
    if (columns_signature(source_columns) != columns_signature(target_columns)) {
      c.problem = fmt::format("columns differ: source ({}), target ({})", columns_signature(source_columns),
                              columns_signature(target_columns));
      return {};
    }
    const RowHashPlan plan = row_hash_plan(source_columns);
    c.left_out_columns = plan.left_out();
    if (!plan.unsupported().empty()) {
      c.problem = "not validated: no lossless comparison for column " + join(plan.unsupported());
      return {};
    }
    const auto key = M2R_TRY(read_key(m_source.db, s.object_id, source_columns, m_statement));
    if (key) {
      for (const auto& k : key->columns) c.key_columns.push_back(k.name);
      c.method = (key->primary ? "primary key (" : "unique index (") + join(c.key_columns) + ")";
      if (const auto only = m_options.compare_rows.find(c.table); only != m_options.compare_rows.end()) {
        M2R_TRY(compare_selected(s, t, *key, plan, only->second, c));
      } else {
        M2R_TRY(walk_keyed(s, *key, plan, c));
      }
    } else {
      c.method = "row multiset (no primary key or NOT NULL unique index)";
      M2R_TRY(compare_heap(s, t, plan, c));
    }
    c.problem = describe_differences(c);
    if (c.source->rows != c.target->rows) {
      c.problem = fmt::format("row counts differ: source {}, target {}{}{}", c.source->rows, c.target->rows,
                              c.problem.empty() ? "" : "; ", c.problem);
    }
    return {};
  }

  Expected<void> walk_keyed(const TableOnSide& s, const TableKey& key, const RowHashPlan& plan, TableComparison& c) {
    const KeysetQueries queries(s.name, key.columns, plan);
    SqlRangeReader source(m_source.db, queries, m_source.server_aggregates, m_statement);
    SqlRangeReader target(m_target.db, queries, m_target.server_aggregates, m_statement);
    const auto walked = M2R_TRY(walk_keyed_table(source, target, m_options.limits, [this, &c](const ChunkDone& done) {
      return after_chunk(done, c.differences.total());
    }));
    c.source->rows = walked.source_rows;
    c.target->rows = walked.target_rows;
    c.differences = walked.differences;
    return {};
  }

  // Only the rows named (by %%lockres%% or key), looked up on both sides in batches, and the
  // row counts of both sides.
  Expected<void> compare_selected(const TableOnSide& s, const TableOnSide& t, const TableKey& key, const RowHashPlan& plan,
                                  const RowsToCompare& rows, TableComparison& c) {
    const KeysetQueries queries(s.name, key.columns, plan);
    std::map<KeyValues, std::string> on_source, on_target;
    const std::vector<std::string> resources(rows.lock_resources.begin(), rows.lock_resources.end());
    std::size_t next_resource = 0, next_key = 0;
    while (next_resource < resources.size() || next_key < rows.keys.size()) {
      // A batch stays far below SQL Server's 2100 parameters per request.
      std::vector<std::string> batch_resources;
      std::vector<KeyValues> batch_keys;
      std::size_t params = 0;
      while (next_resource < resources.size() && params < k_parameters_per_lookup) {
        batch_resources.push_back(resources[next_resource++]);
        ++params;
      }
      while (next_key < rows.keys.size() && params < k_parameters_per_lookup) {
        batch_keys.push_back(rows.keys[next_key++]);
        params += key.columns.size();
      }
      const auto statement = queries.rows_at(batch_resources, batch_keys);
      M2R_TRY(read_selected(m_source.db, statement, key.columns.size(), on_source));
      M2R_TRY(read_selected(m_target.db, statement, key.columns.size(), on_target));
      M2R_TRY(after_chunk(ChunkDone{static_cast<std::int64_t>(on_source.size()), static_cast<std::int64_t>(on_target.size()),
                                    false},
                          c.differences.total()));
    }
    for (const auto& [k, hash] : on_source) {
      const auto other = on_target.find(k);
      if (other == on_target.end()) c.differences.add({DifferenceKind::missing_on_target, k, 1}, m_options.limits.max_named);
      else if (other->second != hash) c.differences.add({DifferenceKind::differs, k, 1}, m_options.limits.max_named);
    }
    for (const auto& [k, hash] : on_target) {
      if (!on_source.count(k)) c.differences.add({DifferenceKind::extra_on_target, k, 1}, m_options.limits.max_named);
    }
    c.source->rows = M2R_TRY(count_rows(m_source.db, s.name));
    c.target->rows = M2R_TRY(count_rows(m_target.db, t.name));
    c.compared = rows.description;
    return {};
  }

  Expected<void> read_selected(mssql::SqlSession& db, const KeysetStatement& statement, std::size_t key_columns,
                               std::map<KeyValues, std::string>& out) {
    const auto r = M2R_TRY(db.query(statement.sql, nvarchar_params(statement.params), m_statement));
    for (const auto& row : r.rows()) {
      KeyValues k;
      for (std::size_t i = 0; i < key_columns; ++i) k.push_back(M2R_TRY(row.at(i).as_string()));
      out[std::move(k)] = M2R_TRY(hash_text(row.at(key_columns)));
    }
    return {};
  }

  Expected<std::int64_t> count_rows(mssql::SqlSession& db, const tsql::TableName& name) {
    const auto r = M2R_TRY(db.query("SELECT COUNT_BIG(*) AS n FROM " + name.qualified(), {}, m_statement));
    if (r.rows().empty()) return std::int64_t{0};
    return r.rows().front().at(0).as_int64();
  }

  Expected<RowHashCounts> heap_counts(Side& side, const tsql::TableName& name, const RowHashPlan& plan, std::int64_t& rows) {
    const auto r = M2R_TRY(side.db.query(heap_row_hash_counts(name, plan), {}, m_statement));
    RowHashCounts out;
    rows = 0;
    for (const auto& row : r.rows()) {
      const auto copies = M2R_TRY(row.at(1).as_int64());
      out[M2R_TRY(hash_text(row.at(0)))] += copies;
      rows += copies;
    }
    return out;
  }

  Expected<void> compare_heap(const TableOnSide& s, const TableOnSide& t, const RowHashPlan& plan, TableComparison& c) {
    const auto on_source = M2R_TRY(heap_counts(m_source, s.name, plan, c.source->rows));
    const auto on_target = M2R_TRY(heap_counts(m_target, t.name, plan, c.target->rows));
    for (const auto& col : plan.columns) {
      if (col.use == ColumnUse::hashed) c.key_columns.push_back(col.column.name);
    }
    for (const auto& d : compare_multisets(on_source, on_target)) {
      RowDifference row{d.kind, {}, d.copies};
      if (c.differences.named.size() < m_options.limits.max_named) {
        // Shown by its values, read from the side that has it.
        Side& has_it = d.kind == DifferenceKind::missing_on_target ? m_source : m_target;
        const auto r = M2R_TRY(has_it.db.query(heap_row_by_hash(s.name, plan), {mssql::SqlParam::nvarchar(d.row_hash)},
                                               m_statement));
        if (!r.rows().empty()) {
          for (const auto& v : r.rows().front()) {
            std::string text = v.is_null() ? "NULL" : v.to_text();
            if (text.size() > k_shown_value_chars) text = text.substr(0, k_shown_value_chars) + "...";
            row.key.push_back(std::move(text));
          }
        }
      }
      c.differences.add(std::move(row), m_options.limits.max_named);
    }
    M2R_TRY(after_chunk(ChunkDone{c.source->rows, c.target->rows, c.differences.total() > 0}, c.differences.total()));
    return {};
  }

  // Progress, the stop, and the throttle, once per chunk.
  Expected<void> after_chunk(const ChunkDone& done, std::int64_t differences) {
    if (stop_requested(m_options.stop)) return tl::unexpected(Error(ErrorKind::interrupted, "stopped"));
    m_rows_read += done.source_rows - m_table_rows;
    m_table_rows = done.source_rows;
    if (m_options.events) {
      Event e;
      e.kind = EventKind::progress;
      e.step = "validate";
      e.message = fmt::format("{}: {} rows compared", m_display, done.source_rows);
      e.fraction = m_count ? static_cast<double>(m_index) / static_cast<double>(m_count) : 0.0;
      e.data = {{"table", m_display},
                {"source_rows", done.source_rows},
                {"target_rows", done.target_rows},
                {"differences", differences}};
      m_options.events->emit(e);
    }
    if (m_options.max_rows_per_second > 0) {
      if (!m_started) m_started = m_clock.now();
      const auto due = *m_started + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                        std::chrono::duration<double>(static_cast<double>(m_rows_read) /
                                                                      m_options.max_rows_per_second));
      const auto now = m_clock.now();
      if (due > now) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now);
        if (m_clock.sleep_or_stop(m_options.stop, wait)) return tl::unexpected(Error(ErrorKind::interrupted, "stopped"));
      }
    }
    return {};
  }

 public:
  void start_table() { m_table_rows = 0; }

 private:
  Side& m_source;
  Side& m_target;
  const ValidationOptions& m_options;
  aws::Clock& m_clock;
  mssql::StatementOptions m_statement;
  std::string m_display;
  std::size_t m_index = 0, m_count = 0;
  std::int64_t m_rows_read = 0, m_table_rows = 0;
  std::optional<std::chrono::system_clock::time_point> m_started;
};

Expected<void> prepare(Side& side, const ValidationOptions& options) {
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  M2R_TRY(side.db.execute(fmt::format("SET LOCK_TIMEOUT {}", options.lock_timeout.count()), {}, read));
  if (auto v = side.db.query("SELECT CONVERT(int, SERVERPROPERTY('ProductMajorVersion')) AS major", {}, read);
      v && !v->rows().empty() && !v->rows().front().at(0).is_null()) {
    if (auto major = v->rows().front().at(0).as_int64()) side.server_aggregates = *major >= k_first_major_with_string_agg;
  }
  const auto tables = M2R_TRY(side.db.query(tsql::list_user_tables(), {}, read));
  for (std::size_t i = 0; i < tables.rows().size(); ++i) {
    TableOnSide t;
    t.name = {M2R_TRY(tables.first().value(i, "schema_name")).to_text(), M2R_TRY(tables.first().value(i, "table_name")).to_text()};
    t.object_id = M2R_TRY(M2R_TRY(tables.first().value(i, "object_id")).as_int64());
    side.tables[t.name.display()] = t;
  }
  return {};
}

}  // namespace

Expected<ValidationReport> validate_databases(mssql::SqlSession& source, mssql::SqlSession& target,
                                              const ValidationOptions& options) {
  const auto cancel = on_stop(options.stop, [&source, &target] {
    source.cancel();
    target.cancel();
  });
  aws::SystemClock system_clock;
  aws::Clock& clock = options.clock ? *options.clock : static_cast<aws::Clock&>(system_clock);
  Side s{source, false, {}};
  Side t{target, false, {}};
  const auto stopped = [&](const char* where) {
    return interrupted_error(fmt::format("validation stopped {}; it only reads, nothing was changed", where),
                             "run `mssql2rds validate` again");
  };
  if (auto p = prepare(s, options); !p) return stop_requested(options.stop) ? tl::unexpected(stopped("reading the source catalog")) : tl::unexpected(p.error());
  if (auto p = prepare(t, options); !p) return stop_requested(options.stop) ? tl::unexpected(stopped("reading the target catalog")) : tl::unexpected(p.error());

  std::vector<TableFingerprint> only_source, only_target;
  std::vector<std::string> both;
  for (const auto& [name, table] : s.tables) {
    if (t.tables.count(name)) {
      if (!options.skip_tables.count(name)) both.push_back(name);
    } else {
      only_source.push_back(TableFingerprint{name, 0, ""});
    }
  }
  for (const auto& [name, table] : t.tables) {
    if (!s.tables.count(name)) only_target.push_back(TableFingerprint{name, 0, ""});
  }
  ValidationReport report = compare_tables(only_source, only_target);
  TableValidator validator(s, t, options, clock);
  for (std::size_t i = 0; i < both.size(); ++i) {
    if (stop_requested(options.stop)) {
      return tl::unexpected(stopped(fmt::format("after {} of {} tables", i, both.size()).c_str()));
    }
    validator.start_table();
    auto c = M2R_TRY(validator.compare(both[i], i, both.size()));
    if (!c.matches) ++report.mismatches;
    report.tables.push_back(std::move(c));
  }
  std::sort(report.tables.begin(), report.tables.end(),
            [](const TableComparison& a, const TableComparison& b) { return a.table < b.table; });
  // Back to waiting for locks as long as it takes, as a session starts (the sessions may be reused).
  for (Side* side : {&s, &t}) (void)side->db.execute("SET LOCK_TIMEOUT -1");
  return report;
}

}  // namespace m2r
