#include "core/lob_mode.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

bool is_lob_type(const std::string& type, int max_length) {
  if (type == "xml" || type == "text" || type == "ntext" || type == "image" || type == "geometry" ||
      type == "geography")
    return true;
  return max_length == -1 && (type == "varchar" || type == "nvarchar" || type == "varbinary");
}

std::string LobColumn::display() const { return table.display() + "." + column; }

const char* to_string(LobMode mode) { return mode == LobMode::full ? "full" : "limited"; }

namespace {

// Whole KB, rounded up.
int kb_of(std::int64_t bytes) { return static_cast<int>((bytes + 1023) / 1024); }

std::optional<LobColumnSize> largest_of(const std::vector<LobColumnSize>& columns) {
  std::optional<LobColumnSize> largest;
  for (const auto& c : columns) {
    if (c.max_bytes && (!largest || *c.max_bytes > *largest->max_bytes)) largest = c;
  }
  return largest;
}

}  // namespace

std::string format_bytes(std::int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{} KB", kb_of(bytes));
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

LobDecision decide_lob_mode(const std::vector<LobColumnSize>& columns, int forced_kb) {
  LobDecision d;
  d.columns = columns;
  const auto largest = largest_of(columns);
  if (forced_kb > 0) {
    d.forced = true;
    d.lob_max_size_kb = forced_kb;
    if (largest && *largest->max_bytes > std::int64_t{forced_kb} * 1024) {
      d.reason = fmt::format("set by [dms] lob_max_size_kb; the largest value, {} in {}, is already over it and will "
                             "be truncated on the target",
                             format_bytes(*largest->max_bytes), largest->column.display());
    } else if (largest) {
      d.reason = fmt::format("set by [dms] lob_max_size_kb; largest value {} in {}", format_bytes(*largest->max_bytes),
                             largest->column.display());
    } else {
      d.reason = "set by [dms] lob_max_size_kb";
    }
    return d;
  }
  if (columns.empty()) {
    d.reason = "no LOB column in the task's tables (DMS's default size kept)";
    return d;
  }
  if (!largest || *largest->max_bytes == 0) {
    d.reason = fmt::format("{} LOB column(s), every value NULL or empty (DMS's default size kept)", columns.size());
    return d;
  }
  const std::int64_t bytes = *largest->max_bytes;
  if (bytes > k_limited_mode_largest_bytes) {
    d.mode = LobMode::full;
    d.reason = fmt::format("largest value {} in {}: over {} ({} KB, the largest LobMaxSize DMS takes, with x{} "
                           "headroom), every LOB fetched in {} KB chunks",
                           format_bytes(bytes), largest->column.display(), format_bytes(k_limited_mode_largest_bytes),
                           k_dms_max_lob_max_size_kb, k_lob_headroom_factor, d.lob_chunk_size_kb);
    return d;
  }
  d.lob_max_size_kb = std::max(k_dms_default_lob_max_size_kb, kb_of(bytes * k_lob_headroom_factor));
  d.reason = fmt::format("largest value {} in {} (x{} headroom)", format_bytes(bytes), largest->column.display(),
                         k_lob_headroom_factor);
  return d;
}

nlohmann::json target_metadata(const LobDecision& d) {
  nlohmann::json tm = {{"SupportLobs", d.support_lobs},
                       {"FullLobMode", d.mode == LobMode::full},
                       {"LimitedSizeLobMode", d.mode == LobMode::limited},
                       // Ignored in full mode (DMS's default kept there).
                       {"LobMaxSize", d.lob_max_size_kb},
                       {"LobChunkSize", d.lob_chunk_size_kb}};
  return tm;
}

nlohmann::json to_json(const LobDecision& d) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& c : d.columns) {
    columns.push_back({{"schema", c.column.table.schema},
                       {"table", c.column.table.name},
                       {"column", c.column.column},
                       {"type", c.column.type},
                       {"max_bytes", c.max_bytes ? nlohmann::json(*c.max_bytes) : nlohmann::json()}});
  }
  return {{"support_lobs", d.support_lobs}, {"mode", to_string(d.mode)},  {"lob_max_size_kb", d.lob_max_size_kb},
          {"lob_chunk_size_kb", d.lob_chunk_size_kb}, {"forced", d.forced}, {"reason", d.reason},
          {"columns", columns}};
}

Expected<LobDecision> lob_decision_from_json(const nlohmann::json& j) {
  const auto damaged = [](const std::string& what) {
    return fail(ErrorKind::journal_damaged, "the journal's LOB decision of step 'replicate' is damaged: " + what,
                "run `mssql2rds run --redo-from replicate` to measure again and create the task again");
  };
  if (!j.is_object()) return damaged("not an object");
  LobDecision d;
  try {
    d.support_lobs = j.at("support_lobs").get<bool>();
    const std::string mode = j.at("mode").get<std::string>();
    if (mode != "limited" && mode != "full") return damaged("mode '" + mode + "'");
    d.mode = mode == "full" ? LobMode::full : LobMode::limited;
    d.lob_max_size_kb = j.at("lob_max_size_kb").get<int>();
    d.lob_chunk_size_kb = j.at("lob_chunk_size_kb").get<int>();
    d.forced = j.value("forced", false);
    d.reason = j.value("reason", std::string());
    for (const auto& c : j.at("columns")) {
      LobColumnSize s;
      s.column.table = {c.at("schema").get<std::string>(), c.at("table").get<std::string>()};
      s.column.column = c.at("column").get<std::string>();
      s.column.type = c.value("type", std::string());
      if (!c.at("max_bytes").is_null()) s.max_bytes = c.at("max_bytes").get<std::int64_t>();
      d.columns.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    return damaged(e.what());
  }
  return d;
}

std::string describe(const LobDecision& d) {
  if (!d.support_lobs) return "LOBs: not replicated (SupportLobs false): " + d.reason;
  if (d.mode == LobMode::full) return fmt::format("LOBs: full mode, LobChunkSize {} KB: {}", d.lob_chunk_size_kb, d.reason);
  return fmt::format("LOBs: limited mode, LobMaxSize {} KB: {}", d.lob_max_size_kb, d.reason);
}

std::string lob_columns_query() {
  // The base type of an alias type (system_type_id); the CLR types geometry and geography share
  // system_type_id 240, which names no row of sys.types: their own user_type_id does.
  const std::string type = "COALESCE(ty.name, ut.name)";
  return "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, " + type +
         " AS type_name, c.max_length FROM sys.columns AS c JOIN sys.tables AS t ON t.object_id = c.object_id "
         "JOIN sys.schemas AS s ON s.schema_id = t.schema_id "
         "LEFT JOIN sys.types AS ty ON ty.user_type_id = c.system_type_id "
         "LEFT JOIN sys.types AS ut ON ut.user_type_id = c.user_type_id "
         "WHERE t.is_ms_shipped = 0 AND (" + type + " IN ('xml', 'text', 'ntext', 'image', 'geometry', 'geography') "
         "OR (c.max_length = -1 AND " + type + " IN ('varchar', 'nvarchar', 'varbinary'))) "
         "ORDER BY s.name, t.name, c.column_id";
}

Expected<std::string> lob_measure_query(const tsql::TableName& table, const std::vector<std::string>& columns) {
  std::string select;
  for (const auto& c : columns) {
    const std::string q = M2R_TRY(tsql::quote_name(c));
    if (!select.empty()) select += ", ";
    select += fmt::format("MAX(CONVERT(bigint, DATALENGTH({}))) AS {}", q, q);
  }
  return fmt::format("SELECT {} FROM {}.{}", select, M2R_TRY(tsql::quote_name(table.schema)),
                     M2R_TRY(tsql::quote_name(table.name)));
}

std::vector<LobColumnSize> over_limit(const LobDecision& d, const std::vector<LobColumnSize>& now) {
  std::vector<LobColumnSize> out;
  if (!d.support_lobs || d.mode != LobMode::limited) return out;
  for (const auto& c : now) {
    if (c.max_bytes && *c.max_bytes > std::int64_t{d.lob_max_size_kb} * 1024) out.push_back(c);
  }
  return out;
}

std::string over_limit_note(const LobColumnSize& c, int lob_max_size_kb) {
  return fmt::format("{}: {} on the source, over LobMaxSize {} KB: values over it are truncated on the target; fix: "
                     "take a new backup and redo, the task then measured above it (`mssql2rds run --redo-from backup`; "
                     "raise [dms] lob_max_size_kb first if it is set), or copy the affected rows from the source after "
                     "the cutover",
                     c.column.display(), c.max_bytes ? format_bytes(*c.max_bytes) : "?", lob_max_size_kb);
}

}  // namespace m2r
