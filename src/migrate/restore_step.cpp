#include "migrate/restore_step.hpp"

#include <fmt/format.h>

#include "core/interrupt.hpp"
#include "core/json_fields.hpp"
#include "core/troubleshooting.hpp"
#include "core/tsql.hpp"

namespace m2r {

namespace {

struct TaskRow {
  long long task_id = 0;
  std::string task_type;
  std::string database;
  double percent = 0;
  std::string lifecycle;
  std::string info;
  std::string s3_arn;
};

Expected<std::vector<TaskRow>> task_rows(const mssql::QueryResult& result) {
  std::vector<TaskRow> out;
  const auto& rs = result.first();
  for (std::size_t i = 0; i < rs.rows.size(); ++i) {
    TaskRow t;
    t.task_id = M2R_TRY(M2R_TRY(rs.value(i, "task_id")).as_int64());
    t.task_type = M2R_TRY(rs.value(i, "task_type")).to_text();
    t.database = M2R_TRY(rs.value(i, "database_name")).to_text();
    const auto pct = M2R_TRY(rs.value(i, "% complete"));
    t.percent = pct.is_null() ? 0 : pct.as_double().value_or(0);
    t.lifecycle = M2R_TRY(rs.value(i, "lifecycle")).to_text();
    const auto info = M2R_TRY(rs.value(i, "task_info"));
    t.info = info.is_null() ? "" : info.to_text();
    const auto arn = M2R_TRY(rs.value(i, "S3_object_arn"));
    t.s3_arn = arn.is_null() ? "" : arn.to_text();
    out.push_back(t);
  }
  return out;
}

bool active(const std::string& lifecycle) { return lifecycle == "CREATED" || lifecycle == "IN_PROGRESS"; }

// A restore task that ended in ERROR or CANCELLED: the attempt is kept in the step's outputs,
// the task id forgotten (the next run starts a new task instead of re-reporting this one), and
// a partial database the task left is dropped, unless RDS refused because the name was taken
// (then the database is somebody else's).
Expected<nlohmann::json> restore_failed(StepContext& ctx, mssql::SqlSession& target, const RestoreInputs& in,
                                        const TaskRow& t) {
  const auto d = diagnose_rds_task(t.info);
  const bool name_taken = t.info.find("already exists") != std::string::npos;
  nlohmann::json attempts = ctx.partial().contains("failed_attempts") && ctx.partial()["failed_attempts"].is_array()
                                ? ctx.partial()["failed_attempts"]
                                : nlohmann::json::array();
  attempts.push_back({{"task_id", t.task_id}, {"lifecycle", t.lifecycle}, {"task_info", t.info}});
  M2R_TRY(ctx.record({{"task_id", 0}, {"failed_attempts", attempts}}));
  std::string dropped;
  if (!name_taken) {
    // The task's failure is what the user must see: a failure to clean up only adds to it.
    const auto exists = target.query("SELECT DB_ID(?) AS id", {mssql::SqlParam::nvarchar(in.database)});
    if (!exists) {
      dropped = fmt::format("; whether it left a partial database {} could not be checked ({})", in.database,
                            exists.error().message);
    } else if (!exists->rows().empty() && !exists->rows().front().empty() && !exists->rows().front().front().is_null()) {
      if (auto drop = target.execute("exec msdb.dbo.rds_drop_database @db_name = ?", {mssql::SqlParam::nvarchar(in.database)});
          drop) {
        dropped = fmt::format("; the partial database {} it left was dropped", in.database);
        ctx.info(fmt::format("dropped the partial database {} left by restore task {}", in.database, t.task_id));
      } else {
        dropped = fmt::format("; the partial database {} it left could not be dropped ({}): drop it with "
                              "msdb.dbo.rds_drop_database",
                              in.database, drop.error().message);
      }
    }
  }
  const std::string again = "then `mssql2rds run` again: it starts a new restore task";
  // Not a bug of the tool: whatever RDS reports, the way forward is to fix it and run again.
  return fail(ErrorKind::prerequisite,
              fmt::format("RDS restore task {} ended in {}: {}{}{}", t.task_id, t.lifecycle, t.info,
                          d ? " (" + d->cause + ")" : "", dropped),
              d ? d->fix + "; " + again
                : "see task_info above and in `exec msdb.dbo.rds_task_status`; fix its cause, " + again);
}

}  // namespace

Expected<nlohmann::json> run_restore_step(StepContext& ctx, mssql::SqlSession& target, const RestoreInputs& in) {
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  long long task_id = M2R_TRY(int_field_or(ctx.partial(), "task_id", 0, journal_outputs(ctx.step())));

  if (task_id == 0) {
    // Adopt a task an interrupted attempt started before it could record the id.
    const auto all = M2R_TRY(task_rows(M2R_TRY(target.query("exec msdb.dbo.rds_task_status", {}, read))));
    for (const auto& t : all) {
      if (t.database == in.database && t.task_type.rfind("RESTORE_DB", 0) == 0 && t.s3_arn == in.s3_arn &&
          (active(t.lifecycle) || t.lifecycle == "SUCCESS")) {
        task_id = t.task_id;
        ctx.info(fmt::format("adopting RDS restore task {} started by an interrupted attempt", task_id));
      }
    }
  }
  if (task_id == 0) {
    // At most two backup/restore tasks per instance (docs/facts.md §5): wait for a slot.
    for (;;) {
      const auto all = M2R_TRY(task_rows(M2R_TRY(target.query("exec msdb.dbo.rds_task_status", {}, read))));
      const auto running = std::count_if(all.begin(), all.end(), [](const TaskRow& t) { return active(t.lifecycle); });
      if (running < 2) break;
      ctx.progress(0, "waiting: two backup/restore tasks already run on the instance (RDS allows two)");
      if (in.clock->sleep_or_stop(ctx.stop(), in.poll)) {
        return tl::unexpected(interrupted_error("stopped waiting for a free RDS task slot; no restore was started",
                                                "run the same command again: it waits again"));
      }
    }
    const auto sql = tsql::rds_restore_database(in.database, in.s3_arn);
    ctx.info(sql);
    auto started = target.query(sql);
    if (!started) {
      const auto d = diagnose_rds_task(started.error().message);
      return fail(d ? ErrorKind::prerequisite : started.error().kind,
                  "rds_restore_database refused: " + (d ? d->cause + " (" + started.error().message + ")"
                                                        : started.error().message),
                  d ? d->fix : started.error().hint);
    }
    if (started->rows().empty() || started->rows().front().empty()) {
      return fail(ErrorKind::fatal, "rds_restore_database returned no task id", "see rds_task_status on the instance");
    }
    task_id = M2R_TRY(started->rows().front().front().as_int64());
    M2R_TRY(ctx.record({{"task_id", task_id}}));
  }

  const auto deadline = in.clock->now() + in.timeout;
  double last_percent = -1;
  for (;;) {
    const auto rows = M2R_TRY(task_rows(M2R_TRY(target.query(tsql::rds_task_status(task_id), {}, read))));
    if (rows.empty()) {
      return fail(ErrorKind::not_found, fmt::format("RDS knows no task {}", task_id),
                  "the task history was lost; `mssql2rds abort` then run again");
    }
    const auto& t = rows.front();
    if (t.percent != last_percent) {
      ctx.progress(t.percent / 100.0, t.lifecycle);
      last_percent = t.percent;
    }
    if (t.lifecycle == "SUCCESS") {
      return nlohmann::json{{"task_id", task_id}, {"lifecycle", t.lifecycle}};
    }
    if (t.lifecycle == "ERROR" || t.lifecycle == "CANCELLED") return restore_failed(ctx, target, in, t);
    if (in.clock->now() > deadline) {
      return fail(ErrorKind::timeout, fmt::format("RDS restore task {} still {} after the timeout", task_id, t.lifecycle),
                  "re-run `mssql2rds run`: it follows the same task");
    }
    // A stop ends the polling, not the restore: RDS keeps restoring, and the next run follows
    // the task id recorded above.
    if (in.clock->sleep_or_stop(ctx.stop(), in.poll)) {
      return tl::unexpected(interrupted_error(
          fmt::format("stopped following RDS restore task {} ({:.0f}%); RDS keeps restoring", task_id, t.percent),
          "run the same command again: it follows the same task"));
    }
  }
}

}  // namespace m2r
