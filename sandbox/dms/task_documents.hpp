#pragma once
// What CreateReplicationTask and ModifyReplicationTask accept as TableMappings and
// ReplicationTaskSettings, checked as DMS checks them ("Table-mapping rules and actions" and
// "Task settings" in the DMS User Guide) before a task exists. DMS answers
// InvalidParameterValueException "Invalid Table Mappings document" / "Invalid task settings
// JSON"; the sandbox adds, after a period, which rule or key is wrong (DMS says no more).
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sandbox::dms {

// nullopt when the document is acceptable; else the reason.
// Each rule: rule-type selection | transformation | table-settings; rule-id (numeric) and
// rule-name, rule-ids unique; object-locator with schema-name and table-name; a selection's
// rule-action include | exclude | explicit; a transformation's rule-target and rule-action
// from the documented sets.
std::optional<std::string> table_mappings_problem(const nlohmann::json& mappings);

// Known sections only (DMS's, and the sandbox's own SandboxPace); in them, known keys with the
// documented types, and the enumerations (TargetTablePrepMode, the ErrorBehavior policies)
// within their documented values.
std::optional<std::string> task_settings_problem(const nlohmann::json& settings);

}  // namespace sandbox::dms
