#include "core/incremental_validation.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

namespace {

bool can_build_on(const ValidatedTable& v) { return !v.source_lsn.empty() && (v.equal || v.differing_keys); }

TableComparison reused_comparison(const std::string& table, const ValidatedTable& v) {
  TableComparison c;
  c.table = table;
  c.source = TableFingerprint{table, v.rows, {}};
  c.target = TableFingerprint{table, v.rows, {}};
  c.matches = true;
  c.method = v.method;
  c.left_out_columns = v.left_out_columns;
  c.compared = fmt::format("equal by the validation of {}; the source's log shows no change to it since {}", v.at,
                           v.source_lsn);
  return c;
}

}  // namespace

std::string oldest_position(const std::map<std::string, ValidatedTable>& last) {
  std::string oldest;
  for (const auto& [name, v] : last) {
    if (can_build_on(v) && (oldest.empty() || v.source_lsn < oldest)) oldest = v.source_lsn;
  }
  return oldest;
}

RevalidationPlan plan_revalidation(const std::vector<std::string>& tables,
                                   const std::map<std::string, ValidatedTable>& last,
                                   const std::optional<LogChanges>& log, std::size_t max_rows_by_key) {
  RevalidationPlan plan;
  const auto whole = [&plan](const std::string& table, std::string why) {
    plan.compare.insert(table);
    if (!why.empty()) plan.why_whole[table] = std::move(why);
  };
  for (const auto& table : tables) {
    const auto it = last.find(table);
    if (it == last.end()) {
      whole(table, "");
      continue;
    }
    const auto& v = it->second;
    if (!can_build_on(v)) {
      whole(table, v.source_lsn.empty() ? "its last validation has no log position"
                                        : "it differed at the validation of " + v.at + " in more rows than were named");
      continue;
    }
    // Fixed-width hex LSNs sort as strings (docs/facts.md §2).
    if (!log || log->first_lsn.empty() || log->first_lsn > v.source_lsn) {
      whole(table, log ? "the source's log no longer reaches back to " + v.source_lsn : "the source's log could not be read");
      continue;
    }
    const bool touched = std::any_of(log->last_lsn_by_unit.begin(), log->last_lsn_by_unit.end(), [&](const auto& u) {
      return unit_of_table(u.first, table) && u.second > v.source_lsn;
    });
    if (!touched && v.equal) {
      plan.reused.push_back(reused_comparison(table, v));
      continue;
    }
    RowsToCompare rows;
    if (v.differing_keys) rows.keys = *v.differing_keys;
    if (touched) {
      if (!log->records) {
        whole(table, "the source's log since " + v.source_lsn + " holds too many records to name the rows changed");
        continue;
      }
      const auto c = log->clustered.find(table);
      const auto changed = changed_rows(*log->records, table,
                                        c == log->clustered.end() ? std::nullopt : std::optional<ClusteredIndex>(c->second),
                                        v.source_lsn);
      if (!changed.known) {
        whole(table, changed.why_unknown);
        continue;
      }
      rows.lock_resources = changed.lock_resources;
    }
    if (rows.lock_resources.size() + rows.keys.size() > max_rows_by_key) {
      whole(table, fmt::format("{} rows changed or differed since {}: one scan is cheaper",
                               rows.lock_resources.size() + rows.keys.size(), v.source_lsn));
      continue;
    }
    rows.description = fmt::format(
        "{} row(s) the source's log shows changed since {} and {} that differed at the validation of {} compared now; "
        "the other rows equal by that validation",
        rows.lock_resources.size(), v.source_lsn, rows.keys.size(), v.at);
    plan.compare_rows[table] = std::move(rows);
  }
  return plan;
}

std::string validation_start_position(const std::vector<TransactionRecord>& records, const std::string& last_lsn) {
  std::map<std::string, std::string> open;  // transaction -> its begin LSN
  for (const auto& r : records) {
    if (r.operation == "LOP_BEGIN_XACT") open[r.transaction_id] = r.lsn;
    else if (r.operation == "LOP_COMMIT_XACT" || r.operation == "LOP_ABORT_XACT") open.erase(r.transaction_id);
  }
  std::string oldest = last_lsn;
  for (const auto& [id, lsn] : open) {
    if (oldest.empty() || lsn < oldest) oldest = lsn;
  }
  return oldest;
}

}  // namespace m2r
