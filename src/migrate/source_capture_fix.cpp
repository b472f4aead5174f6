#include "migrate/source_capture_fix.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/cutover_marker.hpp"
#include "core/tsql.hpp"

namespace m2r {

Expected<void> fix_source_capture(mssql::SqlSession& s, const SourceFacts& f, EventSink& events) {
  const auto db = tsql::quote_literal(f.database);
  // DMS names its publication after the database id (docs/facts.md §3).
  const auto id = M2R_TRY(s.query("SELECT DB_ID(" + db + ") AS id", {}, {.idempotent = mssql::Idempotent::yes}));
  const auto id_value = id.first().value(0, "id");
  const long long db_id = id_value && !id_value->is_null() ? id_value->as_int64().value_or(0) : 0;
  if (db_id <= 0) {
    return fail(ErrorKind::not_found, "the source database " + f.database + " was not found by DB_ID",
                "check [source] database in the configuration");
  }
  const std::string publication = fmt::format("AR_PUBLICATION_{:05}", db_id);
  auto run = [&](const std::string& sql) -> Expected<void> {
    events.emit(info_event("check", "fix: " + sql));
    M2R_TRY(s.execute(sql));
    return {};
  };
  // The cutover marker's table, before the backup so that the restore brings it to the target;
  // it has a primary key, so it is published below like the user's tables.
  std::vector<SourceTableFacts> tables = f.tables;
  const auto marker = cutover_marker::table().display();
  if (std::none_of(tables.begin(), tables.end(), [&](const SourceTableFacts& t) { return t.name == marker; })) {
    M2R_TRY(run(cutover_marker::create_table()));
    tables.push_back(SourceTableFacts{.name = marker, .has_pk = true});
  }
  bool need_publication = false, need_cdc = false;
  for (const auto& t : tables) {
    if (t.has_pk && !t.published && !t.cdc_enabled) need_publication = true;
    if (!t.has_pk && !t.cdc_enabled) need_cdc = true;
  }
  if (need_publication) {
    if (!f.is_published) {
      M2R_TRY(run(fmt::format("EXEC sp_replicationdboption @dbname = {}, @optname = N'publish', @value = N'true'", db)));
      M2R_TRY(run(fmt::format("EXEC sp_addpublication @publication = {}, @sync_method = N'native', @repl_freq = "
                              "N'continuous', @status = N'active', @replicate_ddl = 1",
                              tsql::quote_literal(publication))));
    }
    for (const auto& t : tables) {
      if (!t.has_pk || t.published || t.cdc_enabled) continue;
      const auto dot = t.name.find('.');
      M2R_TRY(run(fmt::format("EXEC sp_addarticle @publication = {}, @article = {}, @source_owner = {}, @source_object "
                              "= {}, @type = N'logbased'",
                              tsql::quote_literal(publication), tsql::quote_literal(t.name.substr(dot + 1)),
                              tsql::quote_literal(t.name.substr(0, dot)), tsql::quote_literal(t.name.substr(dot + 1)))));
    }
  }
  if (need_cdc) {
    if (!f.is_cdc_enabled) M2R_TRY(run("EXEC sys.sp_cdc_enable_db"));
    for (const auto& t : tables) {
      if (t.has_pk || t.cdc_enabled) continue;
      const auto dot = t.name.find('.');
      M2R_TRY(run(fmt::format("EXEC sys.sp_cdc_enable_table @source_schema = {}, @source_name = {}, @role_name = NULL",
                              tsql::quote_literal(t.name.substr(0, dot)), tsql::quote_literal(t.name.substr(dot + 1)))));
    }
  }
  return {};
}

}  // namespace m2r
