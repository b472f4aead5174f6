#pragma once
// rds_restore_database on the target, followed through rds_task_status (docs/facts.md §5).
#include <chrono>

#include "aws/clock.hpp"
#include "migrate/step_runner.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct RestoreInputs {
  std::string database;
  std::string s3_arn;
  std::chrono::milliseconds poll{5000};
  std::chrono::seconds timeout{24 * 3600};
  std::shared_ptr<aws::Clock> clock = std::make_shared<aws::SystemClock>();  // polls and the deadline
};

// Outputs: task_id, lifecycle. Resumable: the task id is recorded as soon as RDS returns it,
// and a task RDS already runs for this database and ARN is adopted rather than started twice.
Expected<nlohmann::json> run_restore_step(StepContext& ctx, mssql::SqlSession& target_master, const RestoreInputs& in);

}  // namespace m2r
