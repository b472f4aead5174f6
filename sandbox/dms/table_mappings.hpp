#pragma once
// DMS table mappings, the part the CDC engine honours: selection rules with
// object-locator schema-name / table-name, % wildcards, rule-action include | exclude.
// A table is replicated when some include rule matches it and no exclude rule does.
#include <string>
#include <vector>

#include "core/error.hpp"

namespace sandbox::dms {

struct SelectionRule {
  std::string schema_pattern;
  std::string table_pattern;
  bool include = true;
};

class TableMappings {
 public:
  static m2r::Expected<TableMappings> parse(const std::string& json_text);
  bool selects(const std::string& schema, const std::string& table) const;
  const std::vector<SelectionRule>& rules() const { return m_rules; }

 private:
  std::vector<SelectionRule> m_rules;
};

// DMS's LIKE-style match: % is any run of characters, case-insensitive as SQL Server's
// default collation compares names.
bool wildcard_match(const std::string& pattern, const std::string& text);

}  // namespace sandbox::dms
