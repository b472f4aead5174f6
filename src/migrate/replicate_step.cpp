#include "migrate/replicate_step.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/checks.hpp"
#include "core/json_fields.hpp"

#include "core/dms_task_spec.hpp"
#include "core/troubleshooting.hpp"

namespace m2r {

Error task_failed_error(const aws::ReplicationTask& task) {
  const std::string msg = task.last_failure_message.empty() ? task.stop_reason : task.last_failure_message;
  if (const auto d = diagnose_dms_failure(msg)) {
    return Error(ErrorKind::prerequisite,
                 fmt::format("DMS task {} failed: {} ({})", task.identifier, d->cause, msg), d->fix);
  }
  return Error(ErrorKind::refused, fmt::format("DMS task {} is {}: {}", task.identifier, task.status, msg),
               "see the task's CloudWatch logs; `mssql2rds status` shows its statistics");
}

Expected<aws::ReplicationTask> wait_for_task(aws::DmsClient& dms, const std::string& arn,
                                             const std::vector<std::string>& until_any_of, std::chrono::seconds timeout,
                                             std::chrono::milliseconds poll, aws::Clock& clock,
                                             const StopSignal* stop) {
  const auto deadline = clock.now() + timeout;
  for (;;) {
    const auto task = M2R_TRY(dms.describe_replication_task(arn));
    if (std::find(until_any_of.begin(), until_any_of.end(), task.status) != until_any_of.end()) return task;
    if (task.status == "failed") return tl::unexpected(task_failed_error(task));
    if (clock.now() > deadline) {
      return fail(ErrorKind::timeout,
                  fmt::format("DMS task {} still '{}' after {}s", task.identifier, task.status, timeout.count()),
                  "re-run `mssql2rds run` to keep waiting; it resumes with the same task");
    }
    // A stop ends the wait, not the task: DMS goes on, and the next run finds the same task.
    if (clock.sleep_or_stop(stop, poll)) {
      return tl::unexpected(interrupted_error(
          fmt::format("stopped waiting for DMS task {} (now '{}'); DMS goes on with it", task.identifier, task.status),
          "run the same command again: it follows the same task"));
    }
  }
}

namespace {

Expected<std::optional<aws::ReplicationTask>> find_task(StepContext& ctx, aws::DmsClient& dms,
                                                        const ReplicateInputs& in) {
  const std::string recorded = M2R_TRY(string_field_or(ctx.partial(), "task_arn", "", journal_outputs(ctx.step())));
  if (!recorded.empty()) {
    auto task = dms.describe_replication_task(recorded);
    if (task) return std::optional<aws::ReplicationTask>(*task);
    if (task.error().kind != ErrorKind::not_found) return tl::unexpected(task.error());
    if (in.log_holds_start) {
      if (auto held = in.log_holds_start(in.start); !held) {
        return fail(held.error().kind == ErrorKind::prerequisite ? ErrorKind::prerequisite : held.error().kind,
                    fmt::format("the DMS task {} no longer exists (deleted outside mssql2rds), and it cannot be "
                                "created again from its start LSN {}: {}",
                                recorded, in.start.to_hex(), held.error().message),
                    held.error().hint);
      }
    }
    ctx.warning(fmt::format("the DMS task {} recorded by an earlier attempt no longer exists; creating it again from "
                            "the recorded start LSN {}, which the source log still holds",
                            recorded, in.start.to_hex()));
    return std::optional<aws::ReplicationTask>{};
  }
  // DMS answers ResourceNotFoundFault when no task matches the filter.
  auto found = dms.describe_replication_tasks({{"replication-task-id", {in.task_id}}});
  if (!found && found.error().kind != ErrorKind::not_found) return tl::unexpected(found.error());
  if (!found || found->empty()) return std::optional<aws::ReplicationTask>{};
  const auto tasks = *found;
  const auto& t = tasks.front();
  // A kill between CreateReplicationTask and the journal write leaves a task the journal
  // does not know: adopt it only when it is ours in every respect.
  const bool ours = t.source_endpoint_arn == in.arns.source_endpoint && t.target_endpoint_arn == in.arns.target_endpoint &&
                    t.migration_type == "cdc" && (t.cdc_start_position.empty() || t.cdc_start_position == in.start.to_hex());
  if (!ours) {
    return fail(ErrorKind::conflict,
                fmt::format("a DMS task named '{}' already exists and was not created by this migration", in.task_id),
                "set another [dms] task_id, or delete that task if it is a leftover");
  }
  ctx.info(fmt::format("adopting the existing DMS task {} (created by an interrupted attempt)", t.arn));
  return std::optional<aws::ReplicationTask>(t);
}

// The LOB mode the task is created with, recorded before the task exists. A task created again
// (the recorded one vanished) gets the recorded mode, as the first creation had; until a task was
// ever created (no task_arn recorded, none found to adopt), the source is measured again.
Expected<LobDecision> lob_decision(StepContext& ctx, const ReplicateInputs& in) {
  if (ctx.partial().contains("lobs") && ctx.partial().contains("task_arn")) {
    auto recorded = M2R_TRY(lob_decision_from_json(ctx.partial()["lobs"]));
    ctx.info(describe(recorded) + " (as measured when the task was first created)", to_json(recorded));
    return recorded;
  }
  LobDecision decision;
  if (in.decide_lobs) decision = M2R_TRY(in.decide_lobs());
  else decision.reason = "not measured (DMS's default size kept)";
  M2R_TRY(ctx.record({{"lobs", to_json(decision)}}));
  ctx.info(describe(decision), to_json(decision));
  return decision;
}

// DMS starts a task only once both endpoints passed TestConnection with the task's replication
// instance ("Test connection for replication instance ... should be successful for starting the
// replication task"). After the restore the target database exists, so both must succeed; a
// failure is the server's own error, reported before anything is created or started.
Expected<void> test_task_connections(StepContext& ctx, aws::DmsClient& dms, const ReplicateInputs& in) {
  for (const auto& [which, arn] : {std::pair<std::string, std::string>{"source", in.arns.source_endpoint},
                                   {"target", in.arns.target_endpoint}}) {
    const auto c = M2R_TRY(test_dms_connection(dms, in.arns.replication_instance, arn, *in.clock, in.timeout, in.poll));
    const std::string name = c.endpoint_identifier.empty() ? arn : c.endpoint_identifier;
    if (c.status == "successful") {
      ctx.info(fmt::format("DMS TestConnection of the {} endpoint {}: successful", which, name));
      continue;
    }
    if (c.status == "testing") {
      return fail(ErrorKind::timeout,
                  fmt::format("DMS TestConnection of the {} endpoint {} still testing after {}s", which, name,
                              in.timeout.count()),
                  "re-run `mssql2rds run`; `aws dms describe-connections` shows the test's result");
    }
    return fail(ErrorKind::prerequisite,
                fmt::format("DMS cannot connect to the {} endpoint {} (TestConnection {}): {}", which, name, c.status,
                            c.last_failure_message),
                dms_connection_fix(c.last_failure_message, which));
  }
  return {};
}

}  // namespace

Expected<nlohmann::json> run_replicate_step(StepContext& ctx, aws::DmsClient& dms, const ReplicateInputs& in) {
  auto task = M2R_TRY(find_task(ctx, dms, in));
  // A task that will be created or started needs both endpoints tested first.
  if (!task || (task->status != "running" && task->status != "starting" && task->status != "failed"))
    M2R_TRY(test_task_connections(ctx, dms, in));
  if (!task) {
    const LobDecision lobs = M2R_TRY(lob_decision(ctx, in));
    aws::CreateReplicationTaskRequest req;
    req.identifier = in.task_id;
    req.source_endpoint_arn = in.arns.source_endpoint;
    req.target_endpoint_arn = in.arns.target_endpoint;
    req.replication_instance_arn = in.arns.replication_instance;
    req.migration_type = "cdc";
    req.table_mappings = in.table_mappings;
    req.settings = replication_task_settings_json(lobs);
    req.cdc_start_position = in.start.to_hex();  // docs/facts.md §4: the plain hex string
    task = M2R_TRY(dms.create_replication_task(req));
    M2R_TRY(ctx.record({{"task_arn", task->arn}, {"cdc_start_position", in.start.to_hex()}}));
    ctx.info(fmt::format("created DMS task {} (cdc from {})", task->arn, in.start.to_hex()));
  } else {
    M2R_TRY(ctx.record({{"task_arn", task->arn}, {"cdc_start_position", in.start.to_hex()}}));
  }

  if (task->status == "creating" || task->status == "modifying") {
    task = M2R_TRY(wait_for_task(dms, task->arn, {"ready", "stopped", "running"}, in.timeout, in.poll, *in.clock, ctx.stop()));
  }
  if (task->status == "failed") return tl::unexpected(task_failed_error(*task));
  if (task->status == "ready") {
    task = M2R_TRY(dms.start_replication_task(task->arn, "start-replication"));
    ctx.info("started DMS task " + task->identifier);
  } else if (task->status == "stopped") {
    // Resume keeps DMS's own position (RecoveryCheckpoint); never restart from the LSN.
    task = M2R_TRY(dms.start_replication_task(task->arn, "resume-processing"));
    ctx.info("resumed DMS task " + task->identifier);
  }
  task = M2R_TRY(wait_for_task(dms, task->arn, {"running"}, in.timeout, in.poll, *in.clock, ctx.stop()));
  return nlohmann::json{{"task_arn", task->arn}, {"status", task->status}, {"cdc_start_position", in.start.to_hex()}};
}

}  // namespace m2r
