#include "migrate/source_facts.hpp"

#include <cstdlib>
#include <optional>

#include "core/server_edition.hpp"
#include "core/tsql.hpp"

namespace m2r {

namespace {

std::optional<mssql::QueryResult> try_query(mssql::SqlSession& s, const std::string& sql) {
  auto r = s.query(sql, {}, {.idempotent = mssql::Idempotent::yes});
  if (!r) return std::nullopt;
  return *r;
}
// A cell as text; "" when NULL or when the answer lacks the column (never a dereference of a
// missing value: these facts are best effort, and the checks built on them say what is unknown).
std::string cell(const mssql::QueryResult& r, const char* column, std::size_t row = 0) {
  auto v = r.first().value(row, column);
  return v && !v->is_null() ? v->to_text() : "";
}

}  // namespace


namespace {

// The columns and indexes DMS cannot carry faithfully, per table (docs/facts.md §12). A catalog
// that cannot answer leaves the lists empty: the checks then have nothing to warn about, and
// validation still compares every column.
void read_column_facts(mssql::SqlSession& s, SourceFacts& f) {
  auto table_of = [&](const std::string& name) -> SourceTableFacts* {
    for (auto& t : f.tables)
      if (t.name == name) return &t;
    return nullptr;
  };
  if (auto cols = try_query(s, "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, "
                               "ty.name AS type_name, c.max_length, c.is_computed, c.is_sparse, c.is_column_set, "
                               "ty.is_assembly_type FROM sys.columns AS c JOIN sys.tables AS t ON t.object_id = c.object_id "
                               "JOIN sys.schemas AS s ON s.schema_id = t.schema_id "
                               "JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id WHERE t.is_ms_shipped = 0")) {
    for (std::size_t i = 0; i < cols->rows().size(); ++i) {
      auto* t = table_of(cell(*cols, "schema_name", i) + "." + cell(*cols, "table_name", i));
      if (!t) continue;
      const auto type = cell(*cols, "type_name", i);
      const auto column = cell(*cols, "column_name", i) + " (" + type + (cell(*cols, "max_length", i) == "-1" ? "(max)" : "") + ")";
      const bool spatial = type == "geography" || type == "geometry";
      if (cell(*cols, "max_length", i) == "-1" || type == "text" || type == "ntext" || type == "image" || type == "xml" || spatial) {
        t->lob_columns.push_back(column);
      }
      if (type == "timestamp" || type == "rowversion") t->rowversion_columns.push_back(column);
      if (cell(*cols, "is_computed", i) == "1") t->computed_columns.push_back(column);
      if (cell(*cols, "is_sparse", i) == "1" || cell(*cols, "is_column_set", i) == "1") t->sparse_columns.push_back(column);
      if (cell(*cols, "is_assembly_type", i) == "1") t->clr_columns.push_back(column);
    }
  }
  if (auto unique = try_query(s, "SELECT DISTINCT s.name AS schema_name, t.name AS table_name FROM sys.indexes AS i "
                                 "JOIN sys.tables AS t ON t.object_id = i.object_id JOIN sys.schemas AS s ON s.schema_id = t.schema_id "
                                 "WHERE i.is_unique = 1 AND i.is_primary_key = 0 AND i.is_disabled = 0 AND i.has_filter = 0")) {
    for (std::size_t i = 0; i < unique->rows().size(); ++i) {
      if (auto* t = table_of(cell(*unique, "schema_name", i) + "." + cell(*unique, "table_name", i))) t->has_unique_index = true;
    }
  }
}
}  // namespace

SourceFacts gather_source_facts(mssql::SqlSession& s, const std::string& db) {
  SourceFacts f;
  f.reachable = true;
  f.database = db;
  if (auto v = try_query(s, "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS v"); v && !v->rows().empty() && !v->rows()[0].empty()) {
    f.product_version = v->rows()[0][0].to_text();
    f.major_version = std::atoi(f.product_version.c_str());
  }
  if (auto e = try_query(s, edition_query()); e && !e->rows().empty()) {
    f.edition = cell(*e, "edition");
    f.engine_edition = std::atoi(cell(*e, "engine_edition").c_str());
  }
  // SQL Server Agent's state needs VIEW SERVER STATE: an unreadable view is reported, not guessed.
  if (auto a = s.query(agent_state_query(), {}, {.idempotent = mssql::Idempotent::yes}); !a) {
    f.agent_error = a.error().message;
  } else if (a->rows().empty()) {
    f.agent_error = "sys.dm_server_services has no SQL Server Agent row";
  } else {
    f.agent_status = cell(*a, "status_desc");
  }
  auto state = try_query(s, tsql::database_state(db));
  if (!state || state->rows().empty()) return f;
  f.database_exists = true;
  f.recovery_model = cell(*state, "recovery_model_desc");
  f.log_reuse_wait = cell(*state, "log_reuse_wait_desc");
  f.is_published = cell(*state, "is_published") == "1";
  f.is_cdc_enabled = cell(*state, "is_cdc_enabled") == "1";
  f.is_encrypted = cell(*state, "is_encrypted") == "1";
  // is_accelerated_database_recovery_on exists from SQL Server 2019 on (docs/facts.md §13): asked
  // on its own, so a 2016/2017 source (Msg 207) still gets delayed durability; absent = not in use.
  if (auto v = try_query(s, "SELECT delayed_durability_desc FROM sys.databases WHERE name = " + tsql::quote_literal(db));
      v && !v->rows().empty()) {
    f.delayed_durability = cell(*v, "delayed_durability_desc");
  }
  if (auto v = try_query(s, "SELECT is_accelerated_database_recovery_on FROM sys.databases WHERE name = " +
                                tsql::quote_literal(db)); v && !v->rows().empty()) {
    f.accelerated_database_recovery = cell(*v, "is_accelerated_database_recovery_on") == "1";
  }
  if (auto v = try_query(s, "SELECT IS_SRVROLEMEMBER('sysadmin') AS s"); v && !v->rows().empty() && !v->rows()[0].empty()) {
    f.is_sysadmin = v->rows()[0][0].to_text() == "1";
  }
  if (auto v = try_query(s, "SELECT @@SERVERNAME AS name"); v && !v->rows().empty()) f.server_name = cell(*v, "name");
  // docs/facts.md §13: the Distributor a publication needs ("distribution server" NULL: none).
  if (auto d = s.query("EXEC sp_get_distributor", {}, {.idempotent = mssql::Idempotent::yes}); !d) {
    f.distributor.error = d.error().message;
  } else if (!d->rows().empty()) {
    f.distributor.known = true;
    f.distributor.installed = cell(*d, "installed") == "1";
    f.distributor.server = cell(*d, "distribution server");
    f.distributor.database_installed = cell(*d, "distribution db installed") == "1";
    f.distributor.is_publisher = cell(*d, "is distribution publisher") == "1";
  } else {
    f.distributor.error = "it answered no row";
  }
  if (auto v = try_query(s, "SELECT SUM(CAST(size AS bigint)) * 8 AS kb FROM sys.master_files WHERE database_id = DB_ID(" +
                                tsql::quote_literal(db) + ")"); v && !v->rows().empty() && !v->rows()[0].empty() && !v->rows()[0][0].is_null()) {
    f.size_gb = v->rows()[0][0].as_double().value_or(0) / 1024.0 / 1024.0;
  }
  auto tables = try_query(s, tsql::list_user_tables());
  // Per-table capture flags; when the catalog lacks them, the database-level flags apply.
  auto flags = try_query(s, "SELECT s.name AS schema_name, t.name AS table_name, t.is_published, t.is_tracked_by_cdc, "
                            "t.is_memory_optimized FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id");
  if (tables) {
    for (std::size_t i = 0; i < tables->rows().size(); ++i) {
      SourceTableFacts t;
      t.name = cell(*tables, "schema_name", i) + "." + cell(*tables, "table_name", i);
      t.has_pk = cell(*tables, "has_pk", i) == "1";
      t.published = f.is_published && t.has_pk;
      t.cdc_enabled = false;
      if (flags) {
        for (std::size_t j = 0; j < flags->rows().size(); ++j) {
          const auto n = cell(*flags, "schema_name", j) + "." + cell(*flags, "table_name", j);
          if (n != t.name) continue;
          t.published = cell(*flags, "is_published", j) == "1";
          t.cdc_enabled = cell(*flags, "is_tracked_by_cdc", j) == "1";
          t.memory_optimized = cell(*flags, "is_memory_optimized", j) == "1";
        }
      } else {
        t.cdc_enabled = f.is_cdc_enabled;
      }
      f.tables.push_back(t);
    }
  }
  read_column_facts(s, f);
  return f;
}

}  // namespace m2r
