#include "core/incremental_validation.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace m2r {

namespace {

// Object names compare case-insensitively under SQL Server's default collations. A unit named
// "dbo.Orders.PK_Orders" or "dbo.Orders" belongs to dbo.Orders; a prefix match also counts
// "dbo.OrdersArchive" for dbo.Orders, which only makes the check compare more, never less.
bool names_table(const std::string& unit, const std::string& table) {
  if (unit.size() < table.size()) return false;
  return std::equal(table.begin(), table.end(), unit.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

}  // namespace

std::string oldest_position(const std::map<std::string, ValidatedTable>& last) {
  std::string oldest;
  for (const auto& [name, v] : last) {
    if (v.equal && !v.source_lsn.empty() && (oldest.empty() || v.source_lsn < oldest)) oldest = v.source_lsn;
  }
  return oldest;
}

RevalidationPlan plan_revalidation(const std::vector<std::string>& tables,
                                   const std::map<std::string, ValidatedTable>& last,
                                   const std::optional<LogChanges>& log) {
  RevalidationPlan plan;
  for (const auto& table : tables) {
    const auto it = last.find(table);
    // Fixed-width hex LSNs sort as strings (docs/facts.md §2).
    const bool reusable = log && it != last.end() && it->second.equal && !it->second.source_lsn.empty() &&
                          !log->first_lsn.empty() && log->first_lsn <= it->second.source_lsn &&
                          std::none_of(log->last_lsn_by_unit.begin(), log->last_lsn_by_unit.end(), [&](const auto& u) {
                            return names_table(u.first, table) && u.second > it->second.source_lsn;
                          });
    if (!reusable) {
      plan.compare.insert(table);
      continue;
    }
    const auto& v = it->second;
    TableComparison c;
    c.table = table;
    c.source = TableFingerprint{table, v.rows, {}};
    c.target = TableFingerprint{table, v.rows, {}};
    c.matches = true;
    c.method = v.method;
    c.left_out_columns = v.left_out_columns;
    c.compared = fmt::format("equal by the validation of {}; the source's log shows no change to it since {}", v.at,
                             v.source_lsn);
    plan.reused.push_back(std::move(c));
  }
  return plan;
}

}  // namespace m2r
