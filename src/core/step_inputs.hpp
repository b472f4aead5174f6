#pragma once
// Which configuration values each run step depends on, and what a changed configuration
// means for a journal whose steps are partly done. Pure: the step runner records each step's
// values when it starts and compares them when it resumes.
//
// A step depends on the values it acted on (the backup on the source database and the backup
// directories; the upload on the bucket and prefix; the restore on the RDS instance and the
// target database; the DMS task on its instance, endpoints, id and table mappings). A changed
// value invalidates the first step that depends on it and every later step, which consumed its
// outputs. Values no done step depends on change nothing and are accepted. Secrets are never
// inputs (a password change invalidates nothing, and the journal never holds one).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"

namespace m2r {

// The values `step` depends on, as {"[table] key": value}; {} for an unknown step.
// `table_mappings_digest` identifies the content of a table-mappings file (a hash; "" for
// "include-all"), so an edited file counts as a change even when its path did not.
nlohmann::json step_config_inputs(const MigrationConfig& config, const std::string& step,
                                  const std::string& table_mappings_digest = {});

struct ConfigChange {
  std::string step;  // the done step that depended on it
  std::string key;   // "[s3] bucket"
  nlohmann::json recorded;
  nlohmann::json current;
};

struct RecordedStep {
  std::string name;
  bool done = false;
  nlohmann::json inputs;  // what was recorded when it ran ({} for journals from before inputs were recorded)
};

// The changes that affect done steps, in step order. A step recorded without inputs is not
// judged (nothing to compare with).
std::vector<ConfigChange> config_changes(const std::vector<RecordedStep>& recorded,
                                         const std::vector<std::pair<std::string, nlohmann::json>>& current);

// "[s3] bucket: \"old\" -> \"new\" (step upload)" lines, one per change.
std::string describe_changes(const std::vector<ConfigChange>& changes);

}  // namespace m2r
