#pragma once
// The failures users meet, recognised from what DMS and RDS say (docs/facts.md §10), turned into
// a cause and a fix.
#include <optional>
#include <string>

namespace m2r {

struct Diagnosis {
  std::string cause;
  std::string fix;
};

// A DMS task's LastFailureMessage, or an API error message.
std::optional<Diagnosis> diagnose_dms_failure(const std::string& message);

// An RDS rds_task_status task_info, or an error from rds_restore_database.
std::optional<Diagnosis> diagnose_rds_task(const std::string& task_info);

}  // namespace m2r
