#include "migrate/target_prep_step.hpp"

#include <fmt/format.h>

#include "core/json_fields.hpp"
#include "core/cutover_plan.hpp"
#include "core/plan.hpp"
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

// One trigger, foreign key or identity table as the journal records it, read with checks: a
// record edited by hand is a named error, not an exception.
using RecordedObject = TargetObject;

Expected<std::vector<RecordedObject>> recorded_objects(const nlohmann::json& record, const char* key, bool named) {
  const JsonSource source = journal_outputs(steps::prepare_target);
  const nlohmann::json list = record.contains(key) ? M2R_TRY(object_field(record, key, source)) : nlohmann::json::array();
  if (!list.is_array()) {
    return fail(ErrorKind::journal_damaged,
                fmt::format("{}: \"{}\" should be an array, found {}", source.what, key, json_kind(&list)), source.fix);
  }
  std::vector<RecordedObject> out;
  for (const auto& o : list) {
    RecordedObject r;
    r.table = {M2R_TRY(string_field(o, "schema", source)), M2R_TRY(string_field(o, "table", source))};
    if (named) r.name = M2R_TRY(string_field(o, "name", source));
    out.push_back(std::move(r));
  }
  return out;
}

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
  const auto triggers = M2R_TRY(recorded_objects(p, "triggers", true));
  const auto fks = M2R_TRY(recorded_objects(p, "foreign_keys", true));
  M2R_TRY(recorded_objects(p, "identity_tables", false));
  for (const auto& t : triggers) M2R_TRY(db.execute(tsql::disable_trigger(t.table, t.name)));
  for (const auto& fk : fks) M2R_TRY(db.execute(tsql::nocheck_constraint(fk.table, fk.name)));
  ctx.info(fmt::format("disabled {} trigger(s) and {} foreign key(s) on the target; cutover re-enables exactly these",
                       triggers.size(), fks.size()));
  return nlohmann::json{{"triggers", p.value("triggers", nlohmann::json::array())},
                        {"foreign_keys", p.value("foreign_keys", nlohmann::json::array())},
                        {"identity_tables", p.value("identity_tables", nlohmann::json::array())}};  // checked above
}

Expected<PreparedObjects> recorded_target_objects(const nlohmann::json& prep) {
  PreparedObjects o;
  o.triggers = M2R_TRY(recorded_objects(prep, "triggers", true));
  o.foreign_keys = M2R_TRY(recorded_objects(prep, "foreign_keys", true));
  o.identity_tables = M2R_TRY(recorded_objects(prep, "identity_tables", false));
  return o;
}

Expected<void> restore_target_objects(mssql::SqlSession& db, const nlohmann::json& prep, EventSink& events,
                                      ReenableProgress& progress) {
  const auto objects = M2R_TRY(recorded_target_objects(prep));
  const auto& triggers = objects.triggers;
  const auto& fks = objects.foreign_keys;
  const auto& identity = objects.identity_tables;
  int skipped = 0;
  // Runs one object's statement unless an earlier attempt finished it, then records it.
  auto once = [&](const std::string& key, const std::function<Expected<void>()>& act) -> Expected<void> {
    if (progress.done.count(key)) {
      ++skipped;
      return {};
    }
    M2R_TRY(act());
    progress.done.insert(key);
    if (progress.record) M2R_TRY(progress.record(progress.done));
    say(events, "cutover", key + ": done");
    return {};
  };
  for (const auto& t : triggers) {
    M2R_TRY(once(reenable_keys::trigger(t), [&]() -> Expected<void> {
      M2R_TRY(db.execute(tsql::enable_trigger(t.table, t.name)));
      return {};
    }));
  }
  for (const auto& fk : fks) {
    M2R_TRY(once(reenable_keys::foreign_key(fk), [&]() -> Expected<void> {
      if (auto checked = db.execute(tsql::check_constraint(fk.table, fk.name)); !checked) {
        return fail(ErrorKind::integrity,
                    fmt::format("foreign key {} on {}.{} does not hold on the target: {}", fk.name, fk.table.schema,
                                fk.table.name, checked.error().message),
                    "find the orphaned rows on the target, fix them, and run `mssql2rds cutover` again");
      }
      return {};
    }));
  }
  for (const auto& t : identity) {
    M2R_TRY(once(reenable_keys::identity(t), [&]() -> Expected<void> {
      M2R_TRY(db.execute(tsql::reseed_identity(t.table)));
      return {};
    }));
  }
  say(events, "cutover",
      fmt::format("re-enabled {} trigger(s), {} foreign key(s) WITH CHECK; reseeded {} identity column(s){}",
                  triggers.size(), fks.size(), identity.size(),
                  skipped ? fmt::format(" ({} of them by the interrupted cutover before)", skipped) : std::string()));
  return {};
}

}  // namespace m2r
