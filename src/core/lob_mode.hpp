#pragma once
// How DMS carries the LOB columns (docs/facts.md §12; DMS user guide, "Setting LOB support for
// source databases in an AWS DMS task"): chosen from the largest value the source holds, so that
// limited LOB mode, the fast one, never truncates a value it has seen, and full LOB mode is used
// when the values are too large for a limited mode. Pure: the SQL that measures, the decision,
// its journal form and the lines `run`, `status` and `validate` print.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/tsql.hpp"

namespace m2r {

// DMS's defaults when a task sets no TargetMetadata (the guide's task settings reference).
inline constexpr int k_dms_default_lob_max_size_kb = 32;
inline constexpr int k_dms_default_lob_chunk_size_kb = 64;
// "The maximum value for this parameter is 102400 KB (100 MB)" (LobMaxSize, LOB support page).
inline constexpr int k_dms_max_lob_max_size_kb = 102400;
// LobMaxSize is the largest value found times this: a value may grow during CDC, and a
// value that outgrows the limit is truncated on the target (status and validate name it).
inline constexpr int k_lob_headroom_factor = 2;
// Limited mode up to the largest value whose headroom still fits the documented maximum
// LobMaxSize (50 MiB); beyond it, full mode. The guide recommends limited mode "whenever
// possible" (it preallocates and loads in bulk; full mode moves LOBs "one at a time, piece by
// piece"); its warning about LobMaxSize over 63 KB concerns full loads, and this task is CDC only.
inline constexpr std::int64_t k_limited_mode_largest_bytes =
    std::int64_t{k_dms_max_lob_max_size_kb} * 1024 / k_lob_headroom_factor;

// A LOB column as DMS counts them for a SQL Server source: varchar(max), nvarchar(max),
// varbinary(max), xml, text, ntext, image, and geometry/geography (DMS maps them to BLOB).
// `type` is sys.types' name (lower case), `max_length` sys.columns' (-1 for (max)).
bool is_lob_type(const std::string& type, int max_length);

struct LobColumn {
  tsql::TableName table;
  std::string column;
  std::string type;
  std::string display() const;  // schema.table.column
  bool operator==(const LobColumn&) const = default;
};

struct LobColumnSize {
  LobColumn column;
  std::optional<std::int64_t> max_bytes;  // MAX(DATALENGTH(col)); none when every value is NULL
  bool operator==(const LobColumnSize&) const = default;
};

enum class LobMode { limited, full };
const char* to_string(LobMode mode);

struct LobDecision {
  bool support_lobs = true;
  LobMode mode = LobMode::limited;
  int lob_max_size_kb = k_dms_default_lob_max_size_kb;  // limited mode
  int lob_chunk_size_kb = k_dms_default_lob_chunk_size_kb;  // full mode
  bool forced = false;  // by [dms] lob_max_size_kb, not by the measurement
  std::string reason;   // "largest value 412 KB in dbo.Docs.body (x2 headroom)"
  std::vector<LobColumnSize> columns;  // what was measured
  bool operator==(const LobDecision&) const = default;
};

// The decision from the measured columns. `forced_kb` > 0 ([dms] lob_max_size_kb) forces
// limited mode at that size; the reason then says whether a value already exceeds it.
LobDecision decide_lob_mode(const std::vector<LobColumnSize>& columns, int forced_kb = 0);

// The task settings' TargetMetadata for the decision (merged over DMS's defaults by DMS).
nlohmann::json target_metadata(const LobDecision& decision);

// The journal's form (the replicate step's outputs, key "lobs"), read back on a resume.
nlohmann::json to_json(const LobDecision& decision);
Expected<LobDecision> lob_decision_from_json(const nlohmann::json& j);

// "LOBs: limited mode, LobMaxSize 1024 KB: largest value 412 KB in dbo.Docs.body (x2 headroom)"
std::string describe(const LobDecision& decision);

// 412 bytes -> "412 bytes", 421888 -> "412 KB", 2202010 -> "2.1 MB" (binary units, as DMS's KB).
std::string format_bytes(std::int64_t bytes);

// The LOB columns of every user table: schema_name, table_name, column_name, type_name, max_length.
std::string lob_columns_query();
// One query per table for all its LOB columns: one row, one MAX(DATALENGTH(col)) per column,
// in the order given. Fails on a name SQL Server would refuse (over 128 characters).
Expected<std::string> lob_measure_query(const tsql::TableName& table, const std::vector<std::string>& columns);

// The columns whose current largest value is over the decision's LobMaxSize (limited mode
// only; none in full mode or with LOBs off).
std::vector<LobColumnSize> over_limit(const LobDecision& decision, const std::vector<LobColumnSize>& now);
// "dbo.Docs.body: 2.1 MB on the source, over LobMaxSize 1024 KB: values over it are truncated
// on the target; fix: ..."
std::string over_limit_note(const LobColumnSize& column, int lob_max_size_kb);

}  // namespace m2r
