#include "migrate/validation_history.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace m2r {

namespace {

constexpr const char* k_event = "table_validated";
const mssql::StatementOptions k_read{.idempotent = mssql::Idempotent::yes};

std::string text_or_empty(const mssql::SqlValue& v) { return v.is_null() ? std::string() : v.to_text(); }

}  // namespace

Expected<std::string> source_log_position(mssql::SqlSession& source) {
  const auto r = M2R_TRY(source.query("SELECT MAX([Current LSN]) AS lsn FROM fn_dblog(NULL, NULL)", {}, k_read));
  if (r.rows().empty()) return std::string();
  return text_or_empty(M2R_TRY(r.first().value(0, "lsn")));
}

Expected<LogChanges> source_log_changes_since(mssql::SqlSession& source, const std::string& since) {
  LogChanges out;
  const auto first = M2R_TRY(source.query("SELECT MIN([Current LSN]) AS lsn FROM fn_dblog(NULL, NULL)", {}, k_read));
  if (!first.rows().empty()) out.first_lsn = text_or_empty(M2R_TRY(first.first().value(0, "lsn")));
  const auto units = M2R_TRY(source.query(
      "SELECT AllocUnitName AS unit, MAX([Current LSN]) AS last_lsn FROM fn_dblog(NULL, NULL) "
      "WHERE [Current LSN] > ? AND AllocUnitName IS NOT NULL GROUP BY AllocUnitName",
      {mssql::SqlParam::nvarchar(since)}, k_read));
  for (std::size_t i = 0; i < units.rows().size(); ++i) {
    out.last_lsn_by_unit[text_or_empty(M2R_TRY(units.first().value(i, "unit")))] =
        text_or_empty(M2R_TRY(units.first().value(i, "last_lsn")));
  }
  return out;
}

Expected<void> record_validation(Journal& journal, const ValidationReport& report, const std::string& source_lsn) {
  const auto at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                              std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  for (const auto& t : report.tables) {
    if (!t.compared.empty()) continue;  // not compared in this run: its earlier record stands
    M2R_TRY(journal.append_event("validate", k_event,
                                 {{"table", t.table},
                                  {"equal", t.matches},
                                  {"rows", t.source ? t.source->rows : 0},
                                  {"method", t.method},
                                  {"left_out_columns", t.left_out_columns},
                                  {"source_lsn", source_lsn},
                                  {"at", at}}));
  }
  return {};
}

Expected<std::map<std::string, ValidatedTable>> last_validations(Journal& journal) {
  std::map<std::string, ValidatedTable> out;
  std::int64_t after = 0;
  for (;;) {
    const auto page = M2R_TRY(journal.events(after, 500));
    if (page.empty()) break;
    for (const auto& e : page) {
      after = e.id;
      if (e.kind != k_event) continue;
      const auto& d = e.data;
      if (!d.is_object() || !d.contains("table") || !d["table"].is_string()) continue;
      ValidatedTable v;
      v.table = d["table"].get<std::string>();
      const bool readable = d.contains("equal") && d["equal"].is_boolean() && d.contains("rows") &&
                            d["rows"].is_number_integer() && d.contains("source_lsn") && d["source_lsn"].is_string();
      if (!readable) {
        out.erase(v.table);  // damaged: that table is compared again
        continue;
      }
      v.equal = d["equal"].get<bool>();
      v.rows = d["rows"].get<std::int64_t>();
      v.source_lsn = d["source_lsn"].get<std::string>();
      if (d.contains("method") && d["method"].is_string()) v.method = d["method"].get<std::string>();
      if (d.contains("at") && d["at"].is_string()) v.at = d["at"].get<std::string>();
      if (d.contains("left_out_columns") && d["left_out_columns"].is_array()) {
        for (const auto& c : d["left_out_columns"])
          if (c.is_string()) v.left_out_columns.push_back(c.get<std::string>());
      }
      out[v.table] = std::move(v);
    }
  }
  return out;
}

}  // namespace m2r
