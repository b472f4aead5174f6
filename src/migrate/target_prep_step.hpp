#pragma once
// Turns off triggers and foreign keys on the target for CDC (docs/facts.md §3), recording exactly
// which ones were on, so that cutover turns back on those and no others.
#include <functional>
#include <set>
#include <string>

#include "core/cutover_plan.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// Outputs: triggers [{schema, table, name}], foreign_keys [{schema, table, name}],
// identity_tables [{schema, table}].
Expected<nlohmann::json> run_target_prep_step(StepContext& ctx, mssql::SqlSession& target_db);

// What an earlier, interrupted cutover already turned back on (keys like "trigger dbo.T.tr"),
// and where each newly finished object is recorded before the next one starts: a resumed
// cutover continues with the rest and never re-enables anything twice.
struct ReenableProgress {
  std::set<std::string> done;
  std::function<Expected<void>(const std::set<std::string>& done)> record;
};

// What the step recorded, read with checks (a hand-edited record is journal_damaged).
struct PreparedObjects {
  std::vector<TargetObject> triggers, foreign_keys, identity_tables;
};
Expected<PreparedObjects> recorded_target_objects(const nlohmann::json& prep_outputs);

// Cutover's half: re-enables what the step recorded (foreign keys WITH CHECK) and reseeds identities.
Expected<void> restore_target_objects(mssql::SqlSession& target_db, const nlohmann::json& prep_outputs,
                                      EventSink& events, ReenableProgress& progress);

}  // namespace m2r
