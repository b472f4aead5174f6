#include "dms/table_mappings.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

namespace sandbox::dms {

bool wildcard_match(const std::string& pattern, const std::string& text) {
  // Iterative glob with backtracking to the last %.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && eq(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

m2r::Expected<TableMappings> TableMappings::parse(const std::string& json_text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception&) {
    return m2r::fail(m2r::ErrorKind::invalid_input, "Invalid Table Mappings document. Invalid json");
  }
  TableMappings m;
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array())
    return m2r::fail(m2r::ErrorKind::invalid_input, "Invalid Table Mappings document. No rules found");
  for (const auto& rule : doc["rules"]) {
    if (!rule.is_object() || rule.value("rule-type", "") != "selection") continue;
    const auto& locator = rule.contains("object-locator") ? rule["object-locator"] : nlohmann::json::object();
    SelectionRule r;
    r.schema_pattern = locator.value("schema-name", "%");
    r.table_pattern = locator.value("table-name", "%");
    const std::string action = rule.value("rule-action", "include");
    if (action != "include" && action != "exclude" && action != "explicit")
      return m2r::fail(m2r::ErrorKind::invalid_input, "Invalid Table Mappings document. Unknown rule-action " + action);
    r.include = action != "exclude";
    m.m_rules.push_back(r);
  }
  if (m.m_rules.empty())
    return m2r::fail(m2r::ErrorKind::invalid_input, "Invalid Table Mappings document. No selection rules found");
  return m;
}

bool TableMappings::selects(const std::string& schema, const std::string& table) const {
  bool included = false;
  for (const auto& r : m_rules) {
    if (!wildcard_match(r.schema_pattern, schema) || !wildcard_match(r.table_pattern, table)) continue;
    if (!r.include) return false;
    included = true;
  }
  return included;
}

}  // namespace sandbox::dms
