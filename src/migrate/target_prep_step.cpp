#include "migrate/target_prep_step.hpp"

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

namespace {

Expected<nlohmann::json> list_objects(mssql::SqlSession& db, const std::string& sql, const char* name_column) {
  const auto rows = M2R_TRY(db.query(sql, {}, {.idempotent = mssql::Idempotent::yes}));
  auto out = nlohmann::json::array();
  const auto& rs = rows.first();
  for (std::size_t i = 0; i < rs.rows.size(); ++i) {
    out.push_back({{"schema", M2R_TRY(rs.value(i, "schema_name")).to_text()},
                   {"table", M2R_TRY(rs.value(i, "table_name")).to_text()},
                   {"name", M2R_TRY(rs.value(i, name_column)).to_text()}});
  }
  return out;
}

tsql::TableName table_of(const nlohmann::json& o) { return {o.value("schema", ""), o.value("table", "")}; }

void say(EventSink& events, const std::string& step, const std::string& message) {
  Event e;
  e.kind = EventKind::info;
  e.step = step;
  e.message = message;
  events.emit(e);
}

}  // namespace

Expected<nlohmann::json> run_target_prep_step(StepContext& ctx, mssql::SqlSession& db) {
  // The lists are recorded before anything is disabled: a resumed attempt must not re-list
  // (it would miss what the first attempt already turned off).
  if (!ctx.partial().contains("triggers")) {
    const auto triggers = M2R_TRY(list_objects(db, tsql::list_enabled_triggers(), "trigger_name"));
    const auto fks = M2R_TRY(list_objects(db, tsql::list_enabled_foreign_keys(), "fk_name"));
    auto identity = nlohmann::json::array();
    const auto tables = M2R_TRY(db.query(tsql::list_user_tables(), {}, {.idempotent = mssql::Idempotent::yes}));
    for (std::size_t i = 0; i < tables.rows().size(); ++i) {
      if (M2R_TRY(tables.first().value(i, "has_identity")).to_text() == "1") {
        identity.push_back({{"schema", M2R_TRY(tables.first().value(i, "schema_name")).to_text()},
                            {"table", M2R_TRY(tables.first().value(i, "table_name")).to_text()}});
      }
    }
    M2R_TRY(ctx.record({{"triggers", triggers}, {"foreign_keys", fks}, {"identity_tables", identity}}));
  }
  const auto& p = ctx.partial();
  for (const auto& t : p["triggers"]) {
    M2R_TRY(db.execute(tsql::disable_trigger(table_of(t), t.value("name", ""))));
  }
  for (const auto& fk : p["foreign_keys"]) {
    M2R_TRY(db.execute(tsql::nocheck_constraint(table_of(fk), fk.value("name", ""))));
  }
  ctx.info(fmt::format("disabled {} trigger(s) and {} foreign key(s) on the target; cutover re-enables exactly these",
                       p["triggers"].size(), p["foreign_keys"].size()));
  return nlohmann::json{{"triggers", p["triggers"]}, {"foreign_keys", p["foreign_keys"]},
                        {"identity_tables", p["identity_tables"]}};
}

Expected<void> restore_target_objects(mssql::SqlSession& db, const nlohmann::json& prep, EventSink& events) {
  for (const auto& t : prep.value("triggers", nlohmann::json::array())) {
    M2R_TRY(db.execute(tsql::enable_trigger(table_of(t), t.value("name", ""))));
  }
  for (const auto& fk : prep.value("foreign_keys", nlohmann::json::array())) {
    auto checked = db.execute(tsql::check_constraint(table_of(fk), fk.value("name", "")));
    if (!checked) {
      return fail(ErrorKind::integrity,
                  fmt::format("foreign key {} on {}.{} does not hold on the target: {}", fk.value("name", ""),
                              fk.value("schema", ""), fk.value("table", ""), checked.error().message),
                  "find the orphaned rows on the target, fix them, and run `mssql2rds cutover` again");
    }
  }
  for (const auto& t : prep.value("identity_tables", nlohmann::json::array())) {
    M2R_TRY(db.execute(tsql::reseed_identity(table_of(t))));
  }
  say(events, "cutover",
      fmt::format("re-enabled {} trigger(s), {} foreign key(s) WITH CHECK; reseeded {} identity column(s)",
                  prep.value("triggers", nlohmann::json::array()).size(),
                  prep.value("foreign_keys", nlohmann::json::array()).size(),
                  prep.value("identity_tables", nlohmann::json::array()).size()));
  return {};
}

}  // namespace m2r
