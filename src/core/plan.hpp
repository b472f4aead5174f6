#pragma once
// The migration's steps, in order, with the exact T-SQL and AWS calls each makes. `plan`
// prints this; `run` executes the same steps, using the same generators (core/tsql,
// core/dms_task_spec), so what is shown is what runs.
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/lsn.hpp"
#include "core/server_edition.hpp"

namespace m2r {

// Step names, as the journal records them.
namespace steps {
inline constexpr const char* backup = "backup";
inline constexpr const char* capture_lsn = "capture_lsn";
inline constexpr const char* upload = "upload";
inline constexpr const char* restore = "restore";
inline constexpr const char* prepare_target = "prepare_target";
inline constexpr const char* replicate = "replicate";
inline constexpr const char* cutover = "cutover";
}  // namespace steps

// The run steps, in order.
const std::vector<std::string>& run_step_order();

// Where the backup lives at each stage.
struct BackupLayout {
  std::vector<std::string> server_files;  // as SQL Server writes them
  std::vector<std::string> local_files;   // as this host reads them
  std::vector<std::string> s3_keys;
  std::string restore_arn;                // one file, or a prefix with '*' for a stripe set (docs/facts.md §5)
};
BackupLayout backup_layout(const MigrationConfig& config, const std::string& stamp);

// The S3 keys of backup files under the configuration's [s3] prefix (file names kept).
std::vector<std::string> s3_keys_for(const MigrationConfig& config, const std::vector<std::string>& local_files);
// What rds_restore_database takes for these objects: the object's ARN, or for a stripe set the
// keys' common prefix up to its last '_' followed by '*' (docs/facts.md §5).
std::string restore_arn_for(const std::string& bucket, const std::vector<std::string>& keys);

struct PlannedAction {
  std::string where;  // "source", "target", "S3", "RDS", "DMS", "CloudWatch", "local"
  std::string what;   // the T-SQL statement or the API call with its parameters
};

struct PlannedStep {
  std::string name;
  std::string title;
  std::vector<PlannedAction> actions;
};

struct PlanInputs {
  MigrationConfig config;
  std::string stamp;  // names the backup files (UTC yyyymmddThhmmss)
  std::string replication_instance_arn;
  std::string source_endpoint_arn;
  std::string target_endpoint_arn;
  std::string table_mappings;     // JSON text
  std::optional<Lsn> start;       // known once the backup has run
  // The source's edition when plan could read it: the backup omits COMPRESSION where the
  // edition lacks it (core/server_edition), as run does.
  EditionKind source_edition = EditionKind::unknown;
};

std::vector<PlannedStep> build_plan(const PlanInputs& inputs);

// How validation runs, as statements with placeholders (docs/architecture.md "Validation").
std::string validation_plan_text();

}  // namespace m2r
