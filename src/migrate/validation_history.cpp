#include "migrate/validation_history.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

namespace {

constexpr const char* k_event = "table_validated";
const mssql::StatementOptions k_read{.idempotent = mssql::Idempotent::yes};
// Records read to name changed rows at most; past it the tables that changed are compared whole.
constexpr std::size_t k_max_log_records = 200000;

std::string text_or_empty(const mssql::SqlValue& v) { return v.is_null() ? std::string() : v.to_text(); }

// The records after `since` with their locks (nullopt past k_max_log_records), and the tables'
// clustered indexes (core/changed_rows).
Expected<std::pair<std::optional<std::vector<LogRecordLocks>>, std::map<std::string, ClusteredIndex>>>
changed_row_records(mssql::SqlSession& source, const std::string& since) {
  // The records with their locks (core/changed_rows), and begin records for transaction names.
  const auto records = M2R_TRY(source.query(
      fmt::format("SELECT TOP ({}) [Current LSN] AS lsn, Operation AS operation, Context AS context, "
                  "[Transaction ID] AS xact, AllocUnitName AS unit, [Transaction Name] AS xact_name, "
                  "[Lock Information] AS locks FROM fn_dblog(NULL, NULL) WHERE [Current LSN] >= ? AND "
                  "(AllocUnitName IS NOT NULL OR Operation = N'LOP_BEGIN_XACT') ORDER BY [Current LSN]",
                  k_max_log_records + 1),
      {mssql::SqlParam::nvarchar(since)}, k_read));
  std::optional<std::vector<LogRecordLocks>> read_records;
  if (records.rows().size() <= k_max_log_records) {
    std::vector<LogRecordLocks> read;
    read.reserve(records.rows().size());
    for (std::size_t i = 0; i < records.rows().size(); ++i) {
      LogRecordLocks r;
      r.lsn = text_or_empty(M2R_TRY(records.first().value(i, "lsn")));
      r.operation = text_or_empty(M2R_TRY(records.first().value(i, "operation")));
      r.context = text_or_empty(M2R_TRY(records.first().value(i, "context")));
      r.transaction_id = text_or_empty(M2R_TRY(records.first().value(i, "xact")));
      r.unit = text_or_empty(M2R_TRY(records.first().value(i, "unit")));
      r.transaction_name = text_or_empty(M2R_TRY(records.first().value(i, "xact_name")));
      r.lock_information = text_or_empty(M2R_TRY(records.first().value(i, "locks")));
      read.push_back(std::move(r));
    }
    read_records = std::move(read);
  }
  std::map<std::string, ClusteredIndex> clustered;
  const auto partitions = M2R_TRY(source.query(
      "SELECT s.name AS schema_name, t.name AS table_name, t.object_id, CONVERT(nvarchar(20), p.hobt_id) AS hobt_id "
      "FROM sys.partitions AS p JOIN sys.tables AS t ON t.object_id = p.object_id "
      "JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE p.index_id = 1",
      {}, k_read));
  for (std::size_t i = 0; i < partitions.rows().size(); ++i) {
    const auto table = tsql::TableName{M2R_TRY(partitions.first().value(i, "schema_name")).to_text(),
                                       M2R_TRY(partitions.first().value(i, "table_name")).to_text()}
                           .display();
    auto& c = clustered[table];
    c.object_id = M2R_TRY(M2R_TRY(partitions.first().value(i, "object_id")).as_int64());
    c.hobt_ids.insert(M2R_TRY(partitions.first().value(i, "hobt_id")).to_text());
  }
  return std::make_pair(std::move(read_records), std::move(clustered));
}

}  // namespace

Expected<std::string> source_log_position(mssql::SqlSession& source) {
  const auto last = M2R_TRY(source.query("SELECT MAX([Current LSN]) AS lsn FROM fn_dblog(NULL, NULL)", {}, k_read));
  const std::string last_lsn = last.rows().empty() ? std::string() : text_or_empty(M2R_TRY(last.first().value(0, "lsn")));
  const auto r = M2R_TRY(source.query(
      "SELECT [Current LSN] AS lsn, Operation AS operation, [Transaction ID] AS xact FROM fn_dblog(NULL, NULL) "
      "WHERE Operation IN (N'LOP_BEGIN_XACT', N'LOP_COMMIT_XACT', N'LOP_ABORT_XACT') AND [Current LSN] <= ?",
      {mssql::SqlParam::nvarchar(last_lsn)}, k_read));
  std::vector<TransactionRecord> records;
  for (std::size_t i = 0; i < r.rows().size(); ++i) {
    records.push_back({text_or_empty(M2R_TRY(r.first().value(i, "lsn"))), text_or_empty(M2R_TRY(r.first().value(i, "operation"))),
                       text_or_empty(M2R_TRY(r.first().value(i, "xact")))});
  }
  return validation_start_position(records, last_lsn);
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
  if (out.last_lsn_by_unit.empty()) return out;
  // Naming the rows is an improvement on the table-level answer above: when it cannot be read,
  // the tables that changed are compared whole.
  if (auto rows = changed_row_records(source, since)) {
    out.records = std::move(rows->first);
    out.clustered = std::move(rows->second);
  }
  return out;
}

Expected<void> record_validation(Journal& journal, const ValidationReport& report, const std::string& source_lsn) {
  const auto at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                              std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  for (const auto& t : report.tables) {
    if (!t.compared.empty()) continue;  // not compared in full in this run: its earlier record stands
    nlohmann::json data = {{"table", t.table},
                           {"equal", t.matches},
                           {"rows", t.source ? t.source->rows : 0},
                           {"method", t.method},
                           {"left_out_columns", t.left_out_columns},
                           {"source_lsn", source_lsn},
                           {"at", at}};
    // A keyed table whose every difference has its key: cutover compares those rows again
    // rather than the table (core/incremental_validation).
    const bool keyed = !t.key_columns.empty() && t.method.rfind("row multiset", 0) != 0;
    if (!t.matches && keyed && t.differences.total() > 0 && t.differences.unnamed() == 0) {
      nlohmann::json keys = nlohmann::json::array();
      for (const auto& d : t.differences.named) keys.push_back(d.key);
      data["differing_keys"] = std::move(keys);
    }
    M2R_TRY(journal.append_event("validate", k_event, data));
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
      if (d.contains("differing_keys") && d["differing_keys"].is_array()) {
        std::vector<KeyValues> keys;
        bool readable_keys = true;
        for (const auto& k : d["differing_keys"]) {
          if (!k.is_array() || !std::all_of(k.begin(), k.end(), [](const nlohmann::json& x) { return x.is_string(); })) {
            readable_keys = false;
            break;
          }
          keys.push_back(k.get<KeyValues>());
        }
        if (readable_keys) v.differing_keys = std::move(keys);
      }
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
