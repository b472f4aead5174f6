#include "core/validation.hpp"

#include <map>

#include <fmt/format.h>

namespace m2r {

ValidationReport compare_tables(const std::vector<TableFingerprint>& source, const std::vector<TableFingerprint>& target) {
  std::map<std::string, TableComparison> by_name;
  for (const auto& s : source) {
    by_name[s.table].table = s.table;
    by_name[s.table].source = s;
  }
  for (const auto& t : target) {
    by_name[t.table].table = t.table;
    by_name[t.table].target = t;
  }
  ValidationReport report;
  for (auto& [name, c] : by_name) {
    if (!c.source) {
      c.problem = "exists only on the target";
    } else if (!c.target) {
      c.problem = "missing on the target";
    } else if (!c.source->error.empty() || !c.target->error.empty()) {
      c.problem = "could not be read: " + (c.source->error.empty() ? c.target->error : c.source->error);
    } else if (c.source->rows != c.target->rows) {
      c.problem = fmt::format("row counts differ: source {}, target {}", c.source->rows, c.target->rows);
    } else {
      c.matches = true;
    }
    if (!c.matches) ++report.mismatches;
    report.tables.push_back(c);
  }
  return report;
}

std::string describe_differences(const TableComparison& t) {
  const auto& d = t.differences;
  if (d.total() == 0) return "";
  std::string out;
  const auto part = [&out](std::int64_t n, const char* what) {
    if (n) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, what);
  };
  part(d.missing_on_target, "missing on the target");
  part(d.extra_on_target, "extra on the target");
  part(d.differing, "differ");
  if (d.unnamed() > 0) out += fmt::format(" ({} named, {} more counted)", d.total() - d.unnamed(), d.unnamed());
  return "rows: " + out;
}

std::string difference_key_text(const std::vector<std::string>& columns, const KeyValues& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (out.empty() ? "" : ", ") + (i < columns.size() ? columns[i] : "?") + " = " + values[i];
  }
  return out;
}

const char* difference_kind_text(DifferenceKind kind) {
  switch (kind) {
    case DifferenceKind::missing_on_target: return "missing on the target";
    case DifferenceKind::extra_on_target: return "extra on the target";
    case DifferenceKind::differs: return "differs";
  }
  return "differs";
}

std::string first_differences(const TableComparison& table, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < table.differences.named.size() && i < count; ++i) {
    const auto& d = table.differences.named[i];
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", difference_kind_text(d.kind),
                       difference_key_text(table.key_columns, d.key));
  }
  return out;
}

}  // namespace m2r
