#include "core/dms_task_spec.hpp"

#include <cctype>

#include <fmt/format.h>

namespace m2r {

Expected<std::string> table_mappings_json(const std::string& mode_or_file_text) {
  if (mode_or_file_text == "include-all") {
    const nlohmann::json mappings = {
        {"rules",
         {{{"rule-type", "selection"},
           {"rule-id", "1"},
           {"rule-name", "include-all"},
           {"object-locator", {{"schema-name", "%"}, {"table-name", "%"}}},
           {"rule-action", "include"}}}}};
    return mappings.dump();
  }
  const auto j = nlohmann::json::parse(mode_or_file_text, nullptr, false);
  const char* example = R"(example: {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",)"
                        R"("object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})";
  if (j.is_discarded() || !j.is_object() || !j.contains("rules") || !j["rules"].is_array() || j["rules"].empty()) {
    return fail(ErrorKind::invalid_input, "the table mappings are not a DMS table-mappings document with a 'rules' array",
                example);
  }
  bool has_selection = false;
  for (const auto& rule : j["rules"]) {
    if (!rule.is_object() || !rule.contains("rule-type") || !rule.contains("rule-id") || !rule.contains("rule-name")) {
      return fail(ErrorKind::invalid_input, "every table-mapping rule needs rule-type, rule-id and rule-name", example);
    }
    if (rule["rule-type"] == "selection") {
      has_selection = true;
      if (!rule.contains("object-locator") || !rule.contains("rule-action")) {
        return fail(ErrorKind::invalid_input,
                    fmt::format("selection rule '{}' needs object-locator and rule-action", rule["rule-name"].dump()),
                    example);
      }
    }
  }
  if (!has_selection) {
    return fail(ErrorKind::invalid_input, "the table mappings select no table (no selection rule)", example);
  }
  return j.dump();
}

namespace {

// SQL-style LIKE with '%' only (DMS's object-locator wildcard), without case.
bool name_matches(const std::string& pattern, const std::string& name) {
  const auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(name[n])) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace

bool table_mappings_select(const std::string& mappings_json, const std::string& schema, const std::string& table) {
  const auto j = nlohmann::json::parse(mappings_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rules") || !j["rules"].is_array()) return false;
  bool included = false;
  for (const auto& rule : j["rules"]) {
    if (!rule.is_object() || rule.value("rule-type", "") != "selection" || !rule.contains("object-locator")) continue;
    const auto& locator = rule["object-locator"];
    if (!locator.is_object()) continue;
    const bool match = name_matches(locator.value("schema-name", "%"), schema) &&
                       name_matches(locator.value("table-name", "%"), table);
    if (!match) continue;
    const std::string action = rule.value("rule-action", "");
    if (action == "exclude") return false;
    if (action == "include" || action == "explicit") included = true;
  }
  return included;
}

std::string replication_task_settings_json(const LobDecision& lobs) {
  const nlohmann::json settings = {
      // How LOB columns are carried, from the source's largest values (core/lob_mode.hpp):
      // without it DMS truncates every value over 32 KB (docs/facts.md §12).
      {"TargetMetadata", target_metadata(lobs)},
      // The target is a restored backup: DMS must not drop, truncate or create tables.
      {"FullLoadSettings", {{"TargetTablePrepMode", "DO_NOTHING"}}},
      // The overlap between the backup and the start point converges on tables with a primary
      // key (docs/facts.md §2): a replayed insert replaces the row; a replayed update or delete of
      // a row that is gone is skipped, and later changes bring the row to its final state.
      // Never ApplyErrorUpdatePolicy=UPDATE_RECORD: it disables LOB support for the whole task
      // (docs/facts.md §2, correction of 2026-12-01; §12).
      {"ErrorBehavior",
       {{"ApplyErrorInsertPolicy", "INSERT_RECORD"},
        {"ApplyErrorUpdatePolicy", "LOG_ERROR"},
        {"ApplyErrorDeletePolicy", "IGNORE_RECORD"}}},
      {"Logging", {{"EnableLogging", true}}},
  };
  return settings.dump();
}

nlohmann::json create_replication_task_body(const ReplicationTaskRequest& r) {
  return {
      {"ReplicationTaskIdentifier", r.identifier},
      {"SourceEndpointArn", r.source_endpoint_arn},
      {"TargetEndpointArn", r.target_endpoint_arn},
      {"ReplicationInstanceArn", r.replication_instance_arn},
      {"MigrationType", "cdc"},
      {"TableMappings", r.table_mappings},
      {"ReplicationTaskSettings", replication_task_settings_json(r.lobs)},
      {"CdcStartPosition", r.start.to_hex()},
  };
}

}  // namespace m2r
