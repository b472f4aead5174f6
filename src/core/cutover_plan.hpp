#pragma once
// `cutover --dry-run`: the cutover's parts in order with the exact T-SQL and DMS calls, from
// what the journal holds (the task, the objects prepare_target turned off, what an interrupted
// cutover already finished). Pure: the CLI reads the journal, this decides what is shown, and
// the keys below are the ones the cutover journals as it re-enables, so what the plan marks as
// done is what the cutover will skip.
#include <set>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/tsql.hpp"

namespace m2r {

// A trigger or foreign key (name set) or an identity table (name empty) on the target.
struct TargetObject {
  tsql::TableName table;
  std::string name;
};

// The journal's key for each object turned back on at cutover.
namespace reenable_keys {
std::string trigger(const TargetObject& t);      // "trigger [dbo].[Orders].[trg_audit]"
std::string foreign_key(const TargetObject& fk);  // "foreign key [dbo].[Orders].[FK_x] WITH CHECK"
std::string identity(const TargetObject& t);      // "identity of [dbo].[Orders] reseeded"
}  // namespace reenable_keys

struct CutoverPlanInputs {
  std::string task_arn;
  std::vector<TargetObject> triggers, foreign_keys, identity_tables;
  std::set<std::string> reenabled;        // finished by an earlier, interrupted cutover
  bool task_stopped_before = false;       // an earlier attempt drained and stopped the task
  bool validation_passed_before = false;  // ... and its validation passed
  int drain_timeout_s = 600;
  double max_latency_s = 5;
  std::string lock_statement;  // --lock-source: core/source_lock's ALTER DATABASE; empty without it
  std::vector<std::string> schema_queries;  // migrate/schema_comparison's statements, run on both sides
};

std::vector<PlannedStep> cutover_plan(const CutoverPlanInputs& inputs);

}  // namespace m2r
