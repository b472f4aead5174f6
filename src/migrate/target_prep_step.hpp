#pragma once
// Turns off triggers and foreign keys on the target for CDC (docs/facts.md §3), recording exactly
// which ones were on, so that cutover turns back on those and no others.
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// Outputs: triggers [{schema, table, name}], foreign_keys [{schema, table, name}],
// identity_tables [{schema, table}].
Expected<nlohmann::json> run_target_prep_step(StepContext& ctx, mssql::SqlSession& target_db);

// Cutover's half: re-enables what the step recorded (foreign keys WITH CHECK) and reseeds identities.
Expected<void> restore_target_objects(mssql::SqlSession& target_db, const nlohmann::json& prep_outputs,
                                      EventSink& events);

}  // namespace m2r
