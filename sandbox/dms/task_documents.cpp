#include "dms/task_documents.hpp"

#include <map>
#include <set>

namespace sandbox::dms {

namespace {

using nlohmann::json;

bool numeric_text(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_string()) return false;
  const auto s = v.get<std::string>();
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// A rule's rule-id as text ("" without one).
std::string rule_id(const json& rule) {
  if (!rule.contains("rule-id")) return "";
  return rule["rule-id"].is_string() ? rule["rule-id"].get<std::string>() : rule["rule-id"].dump();
}

}  // namespace

std::optional<std::string> table_mappings_problem(const json& m) {
  if (!m.is_object() || !m.contains("rules") || !m["rules"].is_array() || m["rules"].empty()) return "No rules found";
  static const std::set<std::string> types = {"selection", "transformation", "table-settings"};
  static const std::set<std::string> selection_actions = {"include", "exclude", "explicit"};
  static const std::set<std::string> targets = {"schema", "table", "column", "table-tablespace", "index-tablespace",
                                                "primary-key"};
  static const std::set<std::string> transformation_actions = {
      "add-column",      "include-column", "remove-column",  "rename",        "convert-lowercase",
      "convert-uppercase", "add-prefix",   "remove-prefix",  "replace-prefix", "add-suffix",
      "remove-suffix",   "replace-suffix", "define-primary-key", "change-data-type", "add-before-image-columns"};
  std::set<std::string> ids;
  bool any_selection = false;
  for (const auto& rule : m["rules"]) {
    if (!rule.is_object()) return "every rule must be an object";
    const std::string id = rule_id(rule);
    const std::string label = id.empty() ? std::string("a rule") : "rule " + id;
    const std::string type = rule.value("rule-type", "");
    if (!types.count(type)) return label + ": rule-type must be selection, transformation or table-settings";
    if (!rule.contains("rule-id") || !numeric_text(rule["rule-id"])) return label + ": rule-id must be a number";
    if (!rule.contains("rule-name") || !(rule["rule-name"].is_string() || rule["rule-name"].is_number()))
      return label + ": rule-name is missing";
    if (!ids.insert(id).second) return label + ": rule-id is used twice";
    const auto locator = rule.contains("object-locator") ? rule["object-locator"] : json();
    if (!locator.is_object() || !locator.contains("schema-name") || !locator["schema-name"].is_string() ||
        !locator.contains("table-name") || !locator["table-name"].is_string())
      return label + ": object-locator needs schema-name and table-name";
    const std::string action = rule.value("rule-action", "");
    if (type == "selection") {
      any_selection = true;
      if (!selection_actions.count(action)) return label + ": rule-action must be include, exclude or explicit";
    } else if (type == "transformation") {
      if (!targets.count(rule.value("rule-target", ""))) return label + ": unknown rule-target";
      if (!transformation_actions.count(action)) return label + ": unknown rule-action '" + action + "'";
    }
  }
  if (!any_selection) return "at least one selection rule is needed";
  return std::nullopt;
}

std::optional<std::string> task_settings_problem(const json& s) {
  if (!s.is_object()) return "the settings must be an object";
  enum class Kind { boolean, integer, text, object, array, any };
  struct Key {
    Kind kind;
    std::set<std::string> values;  // for text: the allowed values (empty: any)
  };
  const std::set<std::string> policies = {"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"};
  auto with = [](std::set<std::string> base, const char* extra) {
    base.insert(extra);
    return base;
  };
  // The sections DMS documents and, where the sandbox or the product use them, their keys.
  // A section listed with no keys accepts any.
  const std::map<std::string, std::map<std::string, Key>> sections = {
      {"TargetMetadata",
       {{"TargetSchema", {Kind::text, {}}}, {"SupportLobs", {Kind::boolean, {}}}, {"FullLobMode", {Kind::boolean, {}}},
        {"LobChunkSize", {Kind::integer, {}}}, {"LimitedSizeLobMode", {Kind::boolean, {}}},
        {"LobMaxSize", {Kind::integer, {}}}, {"InlineLobMaxSize", {Kind::integer, {}}},
        {"LoadMaxFileSize", {Kind::integer, {}}}, {"ParallelLoadThreads", {Kind::integer, {}}},
        {"ParallelLoadBufferSize", {Kind::integer, {}}}, {"ParallelLoadQueuesPerThread", {Kind::integer, {}}},
        {"ParallelApplyThreads", {Kind::integer, {}}}, {"ParallelApplyBufferSize", {Kind::integer, {}}},
        {"ParallelApplyQueuesPerThread", {Kind::integer, {}}}, {"BatchApplyEnabled", {Kind::boolean, {}}},
        {"TaskRecoveryTableEnabled", {Kind::boolean, {}}}}},
      {"FullLoadSettings",
       {{"TargetTablePrepMode", {Kind::text, {"DO_NOTHING", "TRUNCATE_BEFORE_LOAD", "DROP_AND_CREATE"}}},
        {"CreatePkAfterFullLoad", {Kind::boolean, {}}}, {"StopTaskCachedChangesApplied", {Kind::boolean, {}}},
        {"StopTaskCachedChangesNotApplied", {Kind::boolean, {}}}, {"MaxFullLoadSubTasks", {Kind::integer, {}}},
        {"TransactionConsistencyTimeout", {Kind::integer, {}}}, {"CommitRate", {Kind::integer, {}}}}},
      {"Logging", {{"EnableLogging", {Kind::boolean, {}}}, {"LogComponents", {Kind::array, {}}},
                   {"CloudWatchLogGroup", {Kind::any, {}}}, {"CloudWatchLogStream", {Kind::any, {}}},
                   {"EnableLogContext", {Kind::boolean, {}}}}},
      {"ErrorBehavior",
       {{"DataErrorPolicy", {Kind::text, policies}},
        {"DataTruncationErrorPolicy", {Kind::text, policies}},
        {"DataErrorEscalationPolicy", {Kind::text, {"SUSPEND_TABLE", "STOP_TASK"}}},
        {"DataErrorEscalationCount", {Kind::integer, {}}},
        {"TableErrorPolicy", {Kind::text, {"SUSPEND_TABLE", "STOP_TASK"}}},
        {"TableErrorEscalationPolicy", {Kind::text, {"STOP_TASK"}}},
        {"TableErrorEscalationCount", {Kind::integer, {}}},
        {"RecoverableErrorCount", {Kind::integer, {}}},
        {"RecoverableErrorInterval", {Kind::integer, {}}},
        {"RecoverableErrorThrottling", {Kind::boolean, {}}},
        {"RecoverableErrorThrottlingMax", {Kind::integer, {}}},
        {"ApplyErrorDeletePolicy", {Kind::text, policies}},
        {"ApplyErrorInsertPolicy", {Kind::text, with(policies, "INSERT_RECORD")}},
        {"ApplyErrorUpdatePolicy", {Kind::text, with(policies, "UPDATE_RECORD")}},
        {"ApplyErrorEscalationPolicy", {Kind::text, {"LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"}}},
        {"ApplyErrorEscalationCount", {Kind::integer, {}}},
        {"ApplyErrorFailOnTruncationDdl", {Kind::boolean, {}}},
        {"FailOnTransactionConsistencyBreached", {Kind::boolean, {}}},
        {"FailOnNoTablesCaptured", {Kind::boolean, {}}},
        {"FullLoadIgnoreConflicts", {Kind::boolean, {}}},
        {"EventErrorPolicy", {Kind::text, {"IGNORE", "STOP_TASK"}}}}},
      {"ChangeProcessingTuning", {}},
      {"ChangeProcessingDdlHandlingPolicy", {}},
      {"ControlTablesSettings", {}},
      {"StreamBufferSettings", {}},
      {"ValidationSettings", {}},
      {"TTSettings", {}},
      {"BeforeImageSettings", {}},
      {"CharacterSetSettings", {}},
      {"LoopbackPreventionSettings", {}},
      {"PostProcessingRules", {}},
      {"FailTaskWhenCleanTaskResourceFailed", {}},
      // The sandbox's own (cdc_engine.hpp CdcPace): the replication pace tests set.
      {"SandboxPace", {{"ApplyDelayMs", {Kind::integer, {}}}, {"BatchSize", {Kind::integer, {}}}}},
  };
  for (auto it = s.begin(); it != s.end(); ++it) {
    const auto section = sections.find(it.key());
    if (section == sections.end()) return "unknown section " + it.key();
    if (section->second.empty()) continue;
    if (!it.value().is_object()) return it.key() + " must be an object";
    for (auto k = it.value().begin(); k != it.value().end(); ++k) {
      const auto key = section->second.find(k.key());
      if (key == section->second.end()) return "unknown setting " + it.key() + "." + k.key();
      const auto& v = k.value();
      const std::string where = it.key() + "." + k.key();
      switch (key->second.kind) {
        case Kind::boolean:
          if (!v.is_boolean()) return where + " must be true or false";
          break;
        case Kind::integer:
          if (!v.is_number_integer() || v.get<long long>() < 0) return where + " must be a whole number";
          break;
        case Kind::text:
          if (!v.is_string()) return where + " must be a string";
          if (!key->second.values.empty() && !key->second.values.count(v.get<std::string>()))
            return where + ": invalid value " + v.get<std::string>();
          break;
        case Kind::array:
          if (!v.is_array()) return where + " must be a list";
          break;
        case Kind::object:
          if (!v.is_object()) return where + " must be an object";
          break;
        case Kind::any:
          break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace sandbox::dms
