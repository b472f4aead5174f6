#include "migrate/schema_comparison.hpp"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace m2r {

namespace {

constexpr const char* k_objects =
    "SELECT s.name + N'.' + o.name AS name, RTRIM(o.type) AS type FROM sys.objects o "
    "JOIN sys.schemas s ON s.schema_id = o.schema_id "
    "WHERE o.is_ms_shipped = 0 AND o.type IN ('U', 'V', 'P', 'FN', 'IF', 'TF', 'TR', 'F')";
constexpr const char* k_disabled_triggers =
    "SELECT s.name + N'.' + t.name AS name FROM sys.triggers t JOIN sys.objects o ON o.object_id = t.object_id "
    "JOIN sys.schemas s ON s.schema_id = o.schema_id WHERE t.is_disabled = 1";
constexpr const char* k_untrusted_foreign_keys =
    "SELECT s.name + N'.' + f.name AS name FROM sys.foreign_keys f JOIN sys.schemas s ON s.schema_id = f.schema_id "
    "WHERE f.is_disabled = 1 OR f.is_not_trusted = 1";

}  // namespace

std::vector<std::string> schema_comparison_queries() { return {k_objects, k_disabled_triggers, k_untrusted_foreign_keys}; }

namespace {

Expected<std::set<std::string>> names(mssql::SqlSession& db, const char* sql, bool with_type) {
  const auto result = M2R_TRY(db.query(sql));
  std::set<std::string> out;
  const auto& set = result.first();
  for (std::size_t r = 0; r < set.rows.size(); ++r) {
    const auto name = M2R_TRY(M2R_TRY(set.value(r, "name")).as_string());
    if (!with_type) {
      out.insert(name);
      continue;
    }
    const auto type = M2R_TRY(M2R_TRY(set.value(r, "type")).as_string());
    out.insert(fmt::format("{} ({})", name, type));
  }
  return out;
}

std::vector<std::string> only_in(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a) {
    if (!b.count(x)) out.push_back(x);
  }
  return out;
}

}  // namespace

std::string SchemaComparison::summary() const {
  if (ok()) {
    return fmt::format("all {} schema objects present on the target; triggers enabled and foreign keys trusted as on "
                       "the source", source_objects);
  }
  std::string text;
  const auto add = [&](const char* what, const std::vector<std::string>& list) {
    if (list.empty()) return;
    text += fmt::format("{}{}: {}", text.empty() ? "" : "; ", what, fmt::join(list, ", "));
  };
  add("missing on the target", missing_on_target);
  add("triggers disabled on the target only", disabled_on_target);
  add("foreign keys not trusted on the target only", untrusted_on_target);
  return text;
}

Expected<SchemaComparison> compare_schemas(mssql::SqlSession& source, mssql::SqlSession& target) {
  SchemaComparison c;
  const auto source_objects = M2R_TRY(names(source, k_objects, true));
  const auto target_objects = M2R_TRY(names(target, k_objects, true));
  c.source_objects = static_cast<int>(source_objects.size());
  c.missing_on_target = only_in(source_objects, target_objects);
  c.disabled_on_target = only_in(M2R_TRY(names(target, k_disabled_triggers, false)),
                                 M2R_TRY(names(source, k_disabled_triggers, false)));
  c.untrusted_on_target = only_in(M2R_TRY(names(target, k_untrusted_foreign_keys, false)),
                                  M2R_TRY(names(source, k_untrusted_foreign_keys, false)));
  return c;
}

}  // namespace m2r
