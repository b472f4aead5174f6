#include "migrate/source_capture_fix.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "core/cutover_marker.hpp"
#include "core/distributor.hpp"
#include "core/tsql.hpp"

namespace m2r {

namespace {

// distributor_admin's password (sp_adddistributor @password): random, used once, never shown.
// 24 characters from four classes, each present, for any password policy.
std::string random_distributor_password() {
  static constexpr std::string_view k_classes[] = {"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "#%+-=_"};
  std::random_device device;
  std::string out;
  for (int i = 0; i < 24; ++i) {
    const auto& set = k_classes[i < 4 ? i : device() % 4];
    out += set[device() % set.size()];
  }
  std::shuffle(out.begin(), out.end(), std::mt19937(device()));
  return out;
}

}  // namespace

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
  const bool create_marker =
      std::none_of(tables.begin(), tables.end(), [&](const SourceTableFacts& t) { return t.name == marker; });
  if (create_marker) tables.push_back(SourceTableFacts{.name = marker, .has_pk = true});
  bool need_publication = false, need_cdc = false;
  for (const auto& t : tables) {
    if (t.has_pk && !t.published && !t.cdc_enabled) need_publication = true;
    if (!t.has_pk && !t.cdc_enabled) need_cdc = true;
  }
  // Publishing needs sysadmin (sp_replicationdboption) and a Distributor (Msg 20028 otherwise):
  // both are known before anything changes, so a refusal leaves the source as it was.
  const bool publish = need_publication && !f.is_published;
  const auto distributor = distributor_state(f);
  if (publish && !f.is_sysadmin) {
    const auto script = local_distributor_script(f);
    return fail(ErrorKind::prerequisite,
                "check --fix must publish " + f.database + ", and the login is not sysadmin (sp_replicationdboption and "
                "the Distributor's set-up need sysadmin); nothing was changed",
                "a sysadmin runs " + (script.empty() ? std::string() : script + "; then ") +
                    fmt::format("EXEC sp_replicationdboption @dbname = {}, @optname = N'publish', @value = N'true'; "
                                "then run `mssql2rds check --fix` again",
                                db));
  }
  if (publish && distributor == DistributorState::unknown) {
    return fail(ErrorKind::prerequisite,
                "cannot tell whether the source has a Distributor (sp_get_distributor failed: " + f.distributor.error +
                    "); nothing was changed",
                "run EXEC sp_get_distributor on the source as this login and fix what it reports, then run `mssql2rds "
                "check --fix` again");
  }
  if (create_marker) M2R_TRY(run(cutover_marker::create_table()));
  if (publish) {
    // A local Distributor configured the documented way (a remote one is left as it is).
    for (const auto& step : local_distributor_steps(f)) {
      events.emit(info_event("check", "fix: " + step.shown));
      std::vector<mssql::SqlParam> params;
      if (step.takes_password) params.push_back(mssql::SqlParam::nvarchar(random_distributor_password()));
      if (auto done = s.execute(step.sql, std::move(params), {.carries_secret = step.takes_password}); !done) {
        return fail(done.error().kind, "configuring the source's Distributor (" + step.shown + "): " + done.error().message,
                    "fix what the message names (or configure the Distributor yourself: " + local_distributor_script(f) +
                        ") and run `mssql2rds check --fix` again");
      }
    }
  }
  if (need_publication) {
    if (publish) {
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
