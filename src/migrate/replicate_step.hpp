#pragma once
// Creates (exactly once) and starts the DMS CDC task from the chosen start point.
#include <chrono>
#include <functional>
#include <string>

#include "aws/clock.hpp"
#include "aws/dms_client.hpp"
#include "core/lob_mode.hpp"
#include "core/lsn.hpp"
#include "migrate/aws_facts.hpp"
#include "core/interrupt.hpp"
#include "migrate/step_runner.hpp"

namespace m2r {

struct ReplicateInputs {
  std::string task_id;
  DmsArns arns;
  std::string table_mappings;  // JSON text
  Lsn start;
  std::chrono::seconds timeout{600};
  std::chrono::milliseconds poll{1000};
  std::shared_ptr<aws::Clock> clock = std::make_shared<aws::SystemClock>();  // polls and the deadline
  // Proves the source's log still holds `start` (its oldest LSN is not past it): a task created
  // again after the recorded one vanished must not start where changes are gone. Unset: not
  // checked (the first creation, right after the LSN was captured from the log).
  std::function<Expected<void>(const Lsn& start)> log_holds_start;
  // Measures the LOB columns of the task's tables on the source and chooses the LOB mode
  // (migrate/lob_measurement, core/lob_mode), before the task is created. Unset: DMS's default
  // LOB settings, written explicitly.
  std::function<Expected<LobDecision>()> decide_lobs;
};

// Outputs: task_arn, cdc_start_position, status, lobs (the measurement and the LOB mode, recorded
// before the task is created: a task created again after it vanished gets the same settings). Resumable: a task recorded by an earlier
// attempt (or found with the same identifier, endpoints and start) is reused, never doubled.
Expected<nlohmann::json> run_replicate_step(StepContext& ctx, aws::DmsClient& dms, const ReplicateInputs& in);

// Waits until the task reaches one of `until_any_of`; returns its last description. Polls
// every `poll` and gives up after `timeout`, both on `clock`.
Expected<aws::ReplicationTask> wait_for_task(aws::DmsClient& dms, const std::string& arn,
                                             const std::vector<std::string>& until_any_of,
                                             std::chrono::seconds timeout, std::chrono::milliseconds poll,
                                             aws::Clock& clock, const StopSignal* stop = nullptr);

// An error for a failed task, with the diagnosis of its LastFailureMessage.
Error task_failed_error(const aws::ReplicationTask& task);

}  // namespace m2r
