#include "core/cutover_plan.hpp"

#include <fmt/format.h>

#include "core/cutover_marker.hpp"
#include "core/source_lock.hpp"

namespace m2r {

namespace reenable_keys {
namespace {
// Bracketed with ']' doubled, as QUOTENAME: a name containing a dot cannot make two keys equal.
std::string bracketed(const std::string& name) {
  std::string out = "[";
  for (char c : name) out += c == ']' ? std::string("]]") : std::string(1, c);
  return out + "]";
}
}  // namespace
std::string trigger(const TargetObject& t) { return fmt::format("trigger {}.{}", t.table.qualified(), bracketed(t.name)); }
std::string foreign_key(const TargetObject& fk) {
  return fmt::format("foreign key {}.{} WITH CHECK", fk.table.qualified(), bracketed(fk.name));
}
std::string identity(const TargetObject& t) { return fmt::format("identity of {} reseeded", t.table.qualified()); }
}  // namespace reenable_keys

namespace {

std::string skipped_if_done(const std::set<std::string>& done, const std::string& key) {
  return done.count(key) ? "  (done by the interrupted cutover: skipped)" : "";
}

}  // namespace

std::vector<PlannedStep> cutover_plan(const CutoverPlanInputs& in) {
  std::vector<PlannedStep> plan;
  const std::string earlier = "  (an earlier attempt did this: skipped while the task stays stopped)";
  if (!in.lock_statement.empty()) {
    plan.push_back({"lock-source", "end the sessions still writing and keep them out: only sysadmin, dbcreator and "
                                   "db_owner may connect (the tool, for the marker, and DMS)",
                    {{"source", source_lock::user_access_query() + "  (SINGLE_USER refused; RESTRICTED_USER: nothing to run)"},
                     {"source", source_lock::qualification_query() + "  (for SUSER_SNAME() and DMS's source endpoint user: "
                                                                     "each must still be let in)"},
                     {"DMS", "DescribeEndpoints Filters=[endpoint-arn=<the task's source endpoint>]  (its Username)"},
                     {"source", in.lock_statement + "  (`mssql2rds unlock-source` sets it back)"}}});
  }
  PlannedStep drain{"drain", "wait until every change committed on the source has reached the target", {}};
  drain.actions.push_back({"DMS", "DescribeReplicationTasks Filters=[replication-task-arn=" + in.task_arn + "]" +
                                      (in.task_stopped_before ? "  (stopped: drain and stop are skipped)" : "")});
  if (!in.task_stopped_before) {
    drain.actions.push_back({"source", cutover_marker::write() + "  (a fresh token)"});
    drain.actions.push_back({"target", cutover_marker::arrived() +
                                           fmt::format("  (every 0.5 s, at most {} s: --drain-timeout)", in.drain_timeout_s)});
    drain.actions.push_back({"DMS", fmt::format("DescribeTableStatistics + CloudWatch CDCLatencySource/CDCLatencyTarget "
                                                "(progress; the drain itself, latency <= {} s and counts still, "
                                                "when the marker's table is missing on either side)",
                                                in.max_latency_s)});
  }
  plan.push_back(drain);
  plan.push_back({"stop", "stop the DMS task",
                  {{"DMS", "StopReplicationTask ReplicationTaskArn=" + in.task_arn + (in.task_stopped_before ? earlier : "")},
                   {"DMS", "DescribeReplicationTasks every 1 s until stopped (at most 300 s)"}}});
  plan.push_back({"validate", "compare every table, source against target, row by row",
                  {{"source+target", validation_plan_text() + (in.validation_passed_before ? earlier : "")}}});
  PlannedStep reenable{"re-enable", "turn back on what prepare_target turned off, each exactly once", {}};
  for (const auto& t : in.triggers) {
    reenable.actions.push_back({"target", tsql::enable_trigger(t.table, t.name) +
                                              skipped_if_done(in.reenabled, reenable_keys::trigger(t))});
  }
  for (const auto& fk : in.foreign_keys) {
    reenable.actions.push_back({"target", tsql::check_constraint(fk.table, fk.name) +
                                              skipped_if_done(in.reenabled, reenable_keys::foreign_key(fk))});
  }
  for (const auto& t : in.identity_tables) {
    reenable.actions.push_back({"target", tsql::reseed_identity(t.table) +
                                              skipped_if_done(in.reenabled, reenable_keys::identity(t))});
  }
  if (reenable.actions.empty()) reenable.actions.push_back({"target", "(nothing: no trigger, foreign key or identity)"});
  plan.push_back(reenable);
  PlannedStep schema{"schema", "compare tables, views, procedures, functions, triggers and foreign keys: present and "
                               "enabled on both sides (a gap is reported, the cutover stands)", {}};
  for (const auto& q : in.schema_queries) schema.actions.push_back({"source+target", q});
  plan.push_back(schema);
  return plan;
}

}  // namespace m2r
