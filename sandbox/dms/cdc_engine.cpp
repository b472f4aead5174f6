#include "dms/cdc_engine.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/lsn.hpp"
#include "dms/cdc_checkpoint.hpp"
#include "dms/dms_service.hpp"
#include "dms/table_mappings.hpp"
#include "dms/endpoint_connection.hpp"
#include "mssql/odbc_session.hpp"
#include "mssql/quote.hpp"

namespace sandbox::dms {

using m2r::Expected;
using m2r::mssql::QueryResult;
using m2r::mssql::SqlParam;
using m2r::mssql::SqlSession;
using nlohmann::json;

namespace {

// docs/facts.md §10, DMS task failures as users reported them.
constexpr const char* k_no_full_backup =
    "SOURCE_CAPTURE E: No FULL database backup found (under the 'FULL' recovery model). To enable all changes to be "
    "captured, you must perform a full database backup. 120438 Changes may be missed.";
constexpr const char* k_bad_envelope =
    "CDC task failed with a Bad Envelope, invalid data context/LCX code while processing a transaction";
constexpr const char* k_no_where = "[TARGET_APPLY ]E: Failed to build 'where' statement";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string bracket(const std::string& name) {
  std::string out = "[";
  for (char c : name) {
    out += c;
    if (c == ']') out += ']';
  }
  return out + "]";
}

std::string text_of(const m2r::mssql::SqlValue& v) { return v.is_null() ? std::string() : v.to_text(); }

// fn_dblog's time "YYYY/MM/DD HH:MM:SS:mmm" as epoch seconds (UTC); 0 when unreadable.
double parse_log_time(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d/%d/%d %d:%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

struct RowOp {
  std::string operation;  // LOP_INSERT_ROWS, LOP_MODIFY_ROW, LOP_DELETE_ROWS
  std::string schema, table;
  json before, after;
};

struct Transaction {
  std::string begin_lsn;
  std::string commit_lsn;
  double commit_time = 0;
  std::vector<RowOp> ops;
};

struct TargetTable {
  std::vector<std::string> columns;
  std::vector<std::string> primary_key;
  bool has_identity = false;
  std::map<std::string, std::string> lob_columns;  // lower-case name -> type, as DMS counts LOBs
  // Lower-case names of the columns DMS does not write (docs/facts.md §12): computed ones (the
  // target computes them) and rowversion/timestamp (the target generates its own).
  std::set<std::string> not_written;
};

// The LOB data types of a SQL Server source in the DMS guide's data type table: varchar(max),
// nvarchar(max) and varbinary(max) ((max): max_length -1), xml, text, ntext, image, and the
// spatial types DMS maps to BLOB.
bool is_lob_column(const std::string& type, std::int64_t max_length) {
  static const std::set<std::string> always = {"xml", "text", "ntext", "image", "geometry", "geography"};
  if (always.count(type)) return true;
  return max_length == -1 && (type == "varchar" || type == "nvarchar" || type == "varbinary");
}

bool is_binary_type(const std::string& type) {
  return type == "varbinary" || type == "image" || type == "geometry" || type == "geography";
}

// A row image's value's size in bytes as SQL Server stores it: hex "0x.." for binary types,
// UTF-16 for the Unicode types (and xml), one byte a character for varchar and text.
std::size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
}

std::size_t stored_bytes(const std::string& type, const std::string& text) {
  if (is_binary_type(type)) return text.size() >= 2 ? (text.size() - 2) / 2 : 0;
  const bool unicode = type == "nvarchar" || type == "ntext" || type == "xml";
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < text.size(); i += utf8_length(static_cast<unsigned char>(text[i]))) {
    const std::size_t n = utf8_length(static_cast<unsigned char>(text[i]));
    bytes += unicode ? (n == 4 ? 4 : 2) : 1;
  }
  return bytes;
}

// The value cut so that its stored size is at most `limit` bytes: whole bytes of a binary
// value, whole characters of a text value (a UTF-16 pair is never split).
std::string truncated_to(const std::string& type, const std::string& text, std::size_t limit) {
  if (is_binary_type(type)) return text.substr(0, 2 + 2 * limit);
  const bool unicode = type == "nvarchar" || type == "ntext" || type == "xml";
  std::size_t bytes = 0, i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_length(static_cast<unsigned char>(text[i]));
    const std::size_t size = unicode ? (n == 4 ? 4 : 2) : 1;
    if (bytes + size > limit) break;
    bytes += size;
    i += n;
  }
  return text.substr(0, i);
}

// A SQL literal for a row-image value (the sandbox's log stores images as JSON).
std::string literal(const json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number()) return v.dump();
  // Binary values are {"$binary": "0x..."} in the images (sandbox/engine cell_json).
  if (v.is_object() && v.contains("$binary") && v["$binary"].is_string()) return v["$binary"].get<std::string>();
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
      std::all_of(s.begin() + 2, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return s;  // varbinary
  std::string out = "N'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

class SqlCdcRunner final : public CdcRunner {
 public:
  SqlCdcRunner(CdcTaskSpec spec, TaskStatusSink& sink, CdcEnvironment env)
      : m_spec(std::move(spec)), m_sink(sink), m_env(std::move(env)) {
    read_pace_settings();
    m_thread = std::thread([this] { run(); });
  }
  ~SqlCdcRunner() override {
    request_stop();
    join();
  }
  void request_stop() override {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_cv.notify_all();
  }
  void join() override {
    if (m_thread.joinable()) m_thread.join();
  }

 private:
  void read_pace_settings() {
    json settings = json::parse(m_spec.task_settings.empty() ? "{}" : m_spec.task_settings, nullptr, false);
    if (!settings.is_object()) return;
    const json eb = settings.value("ErrorBehavior", json::object());
    m_insert_policy = eb.value("ApplyErrorInsertPolicy", std::string("LOG_ERROR"));
    m_update_policy = eb.value("ApplyErrorUpdatePolicy", std::string("LOG_ERROR"));
    m_delete_policy = eb.value("ApplyErrorDeletePolicy", std::string("IGNORE_RECORD"));
    // TargetMetadata as the service stored it (DMS's defaults merged under the task's own).
    const json tm = settings.value("TargetMetadata", json::object());
    const auto flag = [&tm](const char* name, bool otherwise) {
      return tm.contains(name) && tm[name].is_boolean() ? tm[name].get<bool>() : otherwise;
    };
    m_support_lobs = flag("SupportLobs", true);
    m_full_lob_mode = flag("FullLobMode", false);
    m_limited_lob_mode = flag("LimitedSizeLobMode", true);
    if (tm.contains("LobMaxSize") && tm["LobMaxSize"].is_number_integer())
      m_lob_max_kb = std::max<std::int64_t>(0, tm["LobMaxSize"].get<std::int64_t>());
    // The guide (task settings, error handling): with UPDATE_RECORD "AWS DMS completely
    // disables LOB column support for the task" (docs/facts.md §2, §12).
    m_lobs_on = m_support_lobs && m_update_policy != "UPDATE_RECORD";
    const json pace = settings.value("SandboxPace", json::object());
    if (pace.contains("ApplyDelayMs")) m_env.pace.apply_delay = std::chrono::milliseconds(pace["ApplyDelayMs"].get<int>());
    if (pace.contains("BatchSize")) m_env.pace.batch_size = std::max(1, pace["BatchSize"].get<int>());
  }

  bool stopping() {
    std::lock_guard lock(m_mutex);
    return m_stop;
  }

  void wait(std::chrono::milliseconds d) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, d, [this] { return m_stop; });
  }

  void run() {
    auto failure = start();
    if (!failure.empty()) {
      m_sink.task_failed(m_spec.task_arn, failure);
      return;
    }
    m_sink.task_running(m_spec.task_arn);
    if (!m_support_lobs)
      log("[TASK_MANAGER ]W:  LOB support is disabled for the task (SupportLobs false): LOB columns are not replicated");
    else if (!m_lobs_on)
      log("[TASK_MANAGER ]W:  LOB support is disabled for the task: ApplyErrorUpdatePolicy is UPDATE_RECORD; LOB columns "
          "are not replicated");
    report();
    auto last_metrics = std::chrono::steady_clock::now() - m_env.pace.metrics_interval;
    while (!stopping()) {
      auto read = read_log();
      if (!read) {
        m_sink.task_failed(m_spec.task_arn, "[SOURCE_CAPTURE ]E: " + read.error().message);
        return;
      }
      int applied = 0;
      const bool paused = m_env.apply_paused && m_env.apply_paused();
      while (!paused && !m_ready.empty() && applied < m_env.pace.batch_size && !stopping()) {
        auto error = apply(m_ready.front());
        if (!error.empty()) {
          report();
          m_sink.task_failed(m_spec.task_arn, error);
          return;
        }
        m_last_commit = m_ready.front().commit_lsn;
        m_ready.pop_front();
        ++applied;
      }
      if (applied > 0 || *read > 0) report();
      if (m_env.publish_latency && std::chrono::steady_clock::now() - last_metrics >= m_env.pace.metrics_interval) {
        last_metrics = std::chrono::steady_clock::now();
        publish_latency(*read);
      }
      if (applied > 0 && m_env.pace.apply_delay.count() > 0) wait(m_env.pace.apply_delay);
      else if ((m_ready.empty() || paused) && *read == 0) wait(m_env.pace.poll_interval);
    }
    report();
    m_sink.task_stopped(m_spec.task_arn);
  }

  // Connects, checks the source as DMS does, and finds the start point. Returns a failure
  // message, or "" when the task may run.
  std::string start() {
    auto source = m_env.open_session(m_spec.source);
    if (!source) return "[SOURCE_CAPTURE ]E: Cannot connect to the source endpoint: " + source.error().message;
    m_source = std::move(*source);
    auto target = m_env.open_session(m_spec.target);
    if (!target) return "[TARGET_APPLY ]E: Cannot connect to the target endpoint: " + target.error().message;
    m_target = std::move(*target);
    auto mappings = TableMappings::parse(m_spec.table_mappings);
    if (!mappings) return mappings.error().message;
    m_mappings = *mappings;

    // docs/facts.md §3: FULL or BULK_LOGGED recovery and a full backup.
    auto model = m_source->query("SELECT recovery_model_desc FROM sys.databases WHERE name = DB_NAME()");
    if (!model) return "[SOURCE_CAPTURE ]E: " + model.error().message;
    const std::string recovery = model->rows().empty() ? "" : text_of(model->rows()[0][0]);
    auto backups = m_source->query("SELECT COUNT(*) FROM msdb.dbo.backupset WHERE database_name = DB_NAME() AND type = 'D'");
    if (!backups) return "[SOURCE_CAPTURE ]E: " + backups.error().message;
    const bool has_backup = !backups->rows().empty() && text_of(backups->rows()[0][0]) != "0";
    if ((recovery != "FULL" && recovery != "BULK_LOGGED") || !has_backup) return k_no_full_backup;

    // docs/facts.md §3: a publication (tables with a primary key) or MS-CDC must cover the tables.
    auto tables = m_source->query(
        "SELECT s.name, t.name, t.is_replicated, t.is_tracked_by_cdc FROM sys.tables t "
        "JOIN sys.schemas s ON s.schema_id = t.schema_id");
    if (!tables) return "[SOURCE_CAPTURE ]E: " + tables.error().message;
    int selected = 0;
    for (const auto& row : tables->rows()) {
      const std::string schema = text_of(row[0]), table = text_of(row[1]);
      if (!m_mappings.selects(schema, table)) continue;
      ++selected;
      const bool replicated = text_of(row[2]) == "1", cdc = text_of(row[3]) == "1";
      if (cdc) m_cdc_tables.insert(lower(schema + "." + table));
      if (!replicated && !cdc)
        return "[SOURCE_CAPTURE ]E: Table '" + schema + "." + table +
               "' is neither in a publication (MS-Replication) nor enabled for MS-CDC; its changes cannot be captured "
               "from a native CDC start point";
      m_stats[lower(schema + "." + table)] = TableStats{schema, table};
      m_stats[lower(schema + "." + table)].last_update_time = epoch_seconds_now();
    }
    if (selected == 0)
      return "[TASK_MANAGER ]E: No tables were found at task initialization. Either the selected table(s) or schemas(s) "
             "do not exist or no matching tables are defined in the include/exclude rules.";

    // The start point.
    std::string position = m_spec.cdc_start_position;
    if (m_spec.start_kind == StartKind::resume_processing && !m_spec.recovery_checkpoint.empty())
      position = m_spec.recovery_checkpoint;
    if (auto cp = parse_checkpoint(position)) {
      m_read_from = lower(cp->read_from);
      m_track_from = m_read_from;
      m_last_commit = lower(cp->last_commit);
      m_checkpoint_seq = cp->sequence;
    } else if (is_hex_lsn(position)) {
      m_read_from = lower(position);
      m_track_from = m_read_from;
    } else if (!position.empty() || m_spec.cdc_start_time) {
      return "[SOURCE_CAPTURE ]E: The sandbox's DMS starts CDC from an LSN or a RecoveryCheckpoint only, not from a time";
    } else {
      // No start point: changes from now on.
      auto last = m_source->query("SELECT MAX([Current LSN]) FROM fn_dblog(NULL, NULL)");
      if (!last) return "[SOURCE_CAPTURE ]E: " + last.error().message;
      m_read_from = last->rows().empty() ? "" : lower(text_of(last->rows()[0][0]));
      m_track_from = m_read_from;
      m_inclusive = false;
    }
    if (!m_read_from.empty()) {
      auto oldest = m_source->query("SELECT MIN([Current LSN]) FROM fn_dblog(NULL, NULL)");
      if (!oldest) return "[SOURCE_CAPTURE ]E: " + oldest.error().message;
      const std::string first = oldest->rows().empty() ? "" : lower(text_of(oldest->rows()[0][0]));
      if (!first.empty() && m_read_from < first) {
        // docs/facts.md §3: not in the active log; DMS then looks in the log backups.
        if (log_backup_covers(m_read_from))
          return "[SOURCE_CAPTURE ]E: LSN '" + m_read_from +
                 "' is only in a log backup; the sandbox's DMS reads the active log only";
        return "[SOURCE_CAPTURE ]E: Failed to access LSN '" + m_read_from +
               "' in the backup log sets since BACKUP/LOG-s are not available. [1020465]";
      }
      if (m_inclusive) {
        // docs/facts.md §2: a start point must be a transaction's begin record.
        auto at = m_source->query("SELECT [Operation] FROM fn_dblog(NULL, NULL) WHERE [Current LSN] = ?",
                                  {SqlParam::nvarchar(m_read_from)});
        if (!at) return "[SOURCE_CAPTURE ]E: " + at.error().message;
        if (!at->rows().empty() && text_of(at->rows()[0][0]) != "LOP_BEGIN_XACT") return k_bad_envelope;
      }
    }
    return {};
  }

  bool log_backup_covers(const std::string& lsn_hex) {
    auto sets = m_source->query(
        "SELECT first_lsn, last_lsn FROM msdb.dbo.backupset WHERE database_name = DB_NAME() AND type = 'L'");
    if (!sets) return false;
    auto want = m2r::Lsn::parse(lsn_hex);
    for (const auto& row : sets->rows()) {
      auto first = m2r::Lsn::parse(text_of(row[0])), last = m2r::Lsn::parse(text_of(row[1]));
      if (want && first && last && *first <= *want && *want < *last) return true;
    }
    return false;
  }

  // Reads the next records; returns how many it read.
  Expected<int> read_log() {
    std::string sql =
        "SELECT TOP (5000) [Current LSN], [Operation], [Transaction ID], [AllocUnitName], [Row Before], [Row After], "
        "[End Time] FROM fn_dblog(NULL, NULL)";
    std::vector<SqlParam> params;
    if (!m_read_from.empty()) {
      sql += m_inclusive ? " WHERE [Current LSN] >= ?" : " WHERE [Current LSN] > ?";
      params.push_back(SqlParam::nvarchar(m_read_from));
    }
    sql += " ORDER BY [Current LSN]";
    auto result = m_source->query(sql, params);
    if (!result) return tl::unexpected(result.error());
    int n = 0;
    for (const auto& row : result->rows()) {
      ++n;
      const std::string lsn = lower(text_of(row[0])), op = text_of(row[1]), xact = text_of(row[2]);
      m_read_from = lsn;
      m_inclusive = false;
      if (op == "LOP_BEGIN_XACT") {
        // DMS "captures transactions that started after the chosen CDC start point" (docs/facts.md §2).
        if (m_track_from.empty() || lsn >= m_track_from) m_open[xact] = Transaction{lsn, {}, 0, {}};
      } else if (op == "LOP_COMMIT_XACT") {
        auto it = m_open.find(xact);
        if (it == m_open.end()) continue;
        Transaction t = std::move(it->second);
        m_open.erase(it);
        if (!m_last_commit.empty() && lsn <= m_last_commit) continue;  // applied before a resume
        t.commit_lsn = lsn;
        t.commit_time = parse_log_time(text_of(row[6]));
        m_ready.push_back(std::move(t));
      } else if (op == "LOP_ABORT_XACT") {
        m_open.erase(xact);
      } else if (op == "LOP_INSERT_ROWS" || op == "LOP_MODIFY_ROW" || op == "LOP_DELETE_ROWS") {
        auto it = m_open.find(xact);
        if (it == m_open.end()) continue;
        std::string name = text_of(row[3]);
        auto dot = name.find('.');
        RowOp r;
        r.operation = op;
        r.schema = dot == std::string::npos ? "dbo" : name.substr(0, dot);
        r.table = dot == std::string::npos ? name : name.substr(dot + 1);
        if (auto second = r.table.find('.'); second != std::string::npos) r.table.resize(second);  // "dbo.T.PK_T"
        if (!m_mappings.selects(r.schema, r.table)) continue;
        r.before = json::parse(text_of(row[4]).empty() ? "null" : text_of(row[4]), nullptr, false);
        r.after = json::parse(text_of(row[5]).empty() ? "null" : text_of(row[5]), nullptr, false);
        it->second.ops.push_back(std::move(r));
      }
    }
    m_source_behind = n >= 5000;
    return n;
  }

  Expected<TargetTable> target_table(const std::string& schema, const std::string& table) {
    const std::string key = lower(schema + "." + table);
    if (auto it = m_tables.find(key); it != m_tables.end()) return it->second;
    const std::string object = bracket(schema) + "." + bracket(table);
    TargetTable t;
    auto cols = m_target->query(
        "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
        "ORDER BY ORDINAL_POSITION",
        {SqlParam::nvarchar(schema), SqlParam::nvarchar(table)});
    if (!cols) return tl::unexpected(cols.error());
    for (const auto& r : cols->rows()) t.columns.push_back(text_of(r[0]));
    auto pk = m_target->query(
        "SELECT c.name FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND "
        "ic.index_id = i.index_id JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
        "WHERE i.is_primary_key = 1 AND i.object_id = OBJECT_ID(?) ORDER BY ic.key_ordinal",
        {SqlParam::nvarchar(object)});
    if (!pk) return tl::unexpected(pk.error());
    for (const auto& r : pk->rows()) t.primary_key.push_back(text_of(r[0]));
    auto ident = m_target->query("SELECT COUNT(*) FROM sys.identity_columns WHERE object_id = OBJECT_ID(?)",
                                 {SqlParam::nvarchar(object)});
    if (!ident) return tl::unexpected(ident.error());
    t.has_identity = !ident->rows().empty() && text_of(ident->rows()[0][0]) != "0";
    auto types = m_target->query(
        "SELECT c.name, ty.name AS type_name, c.max_length, c.is_computed FROM sys.columns AS c LEFT JOIN sys.types AS ty ON "
        "ty.user_type_id = c.system_type_id WHERE c.object_id = OBJECT_ID(?)",
        {SqlParam::nvarchar(object)});
    if (!types) return tl::unexpected(types.error());
    for (const auto& r : types->rows()) {
      const std::string type = lower(text_of(r[1]));
      const std::int64_t max_length = r[2].is_null() ? 0 : r[2].as_int64().value_or(0);
      if (is_lob_column(type, max_length)) t.lob_columns[lower(text_of(r[0]))] = type;
      if (type == "timestamp" || (r.size() > 3 && text_of(r[3]) == "1")) t.not_written.insert(lower(text_of(r[0])));
    }
    m_tables[key] = t;
    return t;
  }

  static std::string where_clause(const std::vector<std::string>& columns, const json& image) {
    std::string w;
    for (const auto& c : columns) {
      if (!w.empty()) w += " AND ";
      const json v = image.contains(c) ? image[c] : json();
      w += v.is_null() ? bracket(c) + " IS NULL" : bracket(c) + " = " + literal(v);
    }
    return w;
  }

  static std::string insert_sql(const std::string& object, const TargetTable& t, const json& image) {
    std::string cols, vals;
    for (const auto& [name, value] : image.items()) {
      if (!cols.empty()) {
        cols += ", ";
        vals += ", ";
      }
      cols += bracket(name);
      vals += literal(value);
    }
    std::string sql = "INSERT INTO " + object + " (" + cols + ") VALUES (" + vals + ")";
    // docs/facts.md §3: DMS sets IDENTITY_INSERT on.
    if (t.has_identity) sql = "SET IDENTITY_INSERT " + object + " ON; " + sql + "; SET IDENTITY_INSERT " + object + " OFF";
    return sql;
  }

  static std::string update_sql(const std::string& object, const json& after, const std::string& where) {
    std::string set;
    for (const auto& [name, value] : after.items()) {
      if (!set.empty()) set += ", ";
      set += bracket(name) + " = " + literal(value);
    }
    return "UPDATE " + object + " SET " + set + " WHERE " + where;
  }

  static bool is_duplicate_key(const m2r::Error& e) {
    return e.message.find("error 2627") != std::string::npos || e.message.find("error 2601") != std::string::npos;
  }

  // Applies one source transaction; returns a failure message or "".
  std::string apply(const Transaction& txn) {
    if (txn.ops.empty()) return {};
    for (const auto& op : txn.ops)  // metadata first, so the transaction holds only the changes
      if (auto t = target_table(op.schema, op.table); !t) return "[TARGET_APPLY ]E: " + t.error().message;
    if (auto r = m_target->execute("BEGIN TRANSACTION"); !r) return "[TARGET_APPLY ]E: " + r.error().message;
    for (const auto& op : txn.ops) {
      auto failure = apply_op(op);
      if (!failure.empty()) {
        (void)m_target->execute("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION");
        return failure;
      }
    }
    if (auto r = m_target->execute("COMMIT TRANSACTION"); !r) return "[TARGET_APPLY ]E: " + r.error().message;
    return {};
  }

  std::string apply_op(const RowOp& op) {
    auto table = target_table(op.schema, op.table);
    if (!table) return "[TARGET_APPLY ]E: " + table.error().message;
    const std::string object = bracket(op.schema) + "." + bracket(op.table);
    TableStats& stats = m_stats[lower(op.schema + "." + op.table)];
    if (stats.table_name.empty()) {
      stats.schema_name = op.schema;
      stats.table_name = op.table;
    }
    stats.last_update_time = epoch_seconds_now();
    const bool has_pk = !table->primary_key.empty();
    const bool cdc = m_cdc_tables.count(lower(op.schema + "." + op.table)) > 0;
    const auto written = [&](const json& image) {
      if (!image.is_object() || table->not_written.empty()) return image;
      json out = json::object();
      for (const auto& [name, value] : image.items())
        if (!table->not_written.count(lower(name))) out[name] = value;
      return out;
    };
    auto key_where = [&](const json& image) -> std::optional<std::string> {
      if (has_pk) return where_clause(table->primary_key, image);
      // Without a primary key, only MS-CDC gives the full before image DMS needs (docs/facts.md §3).
      if (cdc || op.operation == "LOP_DELETE_ROWS") {
        std::vector<std::string> all;  // LOBs are not compared (nor replicated here: see below)
        for (const auto& [name, value] : image.items())
          if (!table->lob_columns.count(lower(name)) && !table->not_written.count(lower(name))) all.push_back(name);
        return where_clause(all, image);
      }
      return std::nullopt;
    };

    // The LOB columns as DMS carries them: none without LOB support or (in CDC) without a
    // primary key, "LOBs that exceed the maximum LOB size are truncated, and a warning is
    // issued to the log file" in limited mode, all of them in full mode.
    const bool carry_lobs = m_lobs_on && has_pk;
    const bool limited = !m_full_lob_mode && m_limited_lob_mode;
    const auto lob_image = [&](const json& source_image, bool insert) {
      const json image = written(source_image);
      if (!image.is_object() || table->lob_columns.empty()) return image;
      json out = json::object();
      for (const auto& [name, value] : image.items()) {
        auto lob = table->lob_columns.find(lower(name));
        if (lob == table->lob_columns.end()) {
          out[name] = value;
        } else if (!carry_lobs) {
          if (insert) out[name] = nullptr;  // an update leaves the target's value as it was
        } else if (limited && (value.is_string() || (value.is_object() && value.contains("$binary")))) {
          const bool binary = value.is_object();
          const std::string text = binary ? value["$binary"].get<std::string>() : value.get<std::string>();
          const std::size_t limit = static_cast<std::size_t>(m_lob_max_kb) * 1024;
          const std::size_t size = stored_bytes(lob->second, text);
          if (size > limit) {
            log("[TARGET_APPLY ]W:  The LOB value of column '" + name + "' of table '" + op.schema + "." + op.table +
                "' (" + std::to_string(size) + " bytes) exceeds LobMaxSize (" + std::to_string(m_lob_max_kb) +
                " KB) and was truncated to " + std::to_string(limit) + " bytes (limited LOB mode)");
            const std::string cut = truncated_to(lob->second, text, limit);
            out[name] = binary ? json{{"$binary", cut}} : json(cut);
          } else {
            out[name] = value;
          }
        } else {
          out[name] = value;
        }
      }
      return out;
    };

    if (op.operation == "LOP_INSERT_ROWS") {
      ++stats.inserts;
      const json after = lob_image(op.after, true);
      auto r = m_target->execute(insert_sql(object, *table, after));
      if (r) {
        ++stats.applied_inserts;
        return {};
      }
      if (!is_duplicate_key(r.error())) return "[TARGET_APPLY ]E: " + r.error().message;
      if (m_insert_policy == "INSERT_RECORD" && has_pk) {  // upsert: the row is there, make it equal
        auto u = m_target->execute(update_sql(object, after, *key_where(op.after)));
        if (!u) return "[TARGET_APPLY ]E: " + u.error().message;
        ++stats.applied_inserts;
        return {};
      }
      if (m_insert_policy == "STOP_TASK") return "[TARGET_APPLY ]E: " + r.error().message;
      return {};  // LOG_ERROR / IGNORE_RECORD: the change is dropped
    }
    if (op.operation == "LOP_MODIFY_ROW") {
      ++stats.updates;
      auto where = key_where(op.before.is_object() ? op.before : op.after);
      if (!where) return k_no_where;
      const json after = lob_image(op.after, false);
      if (after.is_object() && after.empty()) {  // only LOB columns changed, and they are not carried
        ++stats.applied_updates;
        return {};
      }
      auto r = m_target->execute(update_sql(object, after, *where));
      if (!r) return "[TARGET_APPLY ]E: " + r.error().message;
      if (*r == 0) {
        if (m_update_policy == "UPDATE_RECORD") {  // upsert: the row is missing, insert it
          auto i = m_target->execute(insert_sql(object, *table, lob_image(op.after, true)));
          if (!i) return "[TARGET_APPLY ]E: " + i.error().message;
        } else if (m_update_policy == "STOP_TASK") {
          return "[TARGET_APPLY ]E: 0 rows affected by an UPDATE of " + object;
        } else {
          return {};
        }
      }
      ++stats.applied_updates;
      return {};
    }
    if (op.operation == "LOP_DELETE_ROWS") {
      ++stats.deletes;
      auto where = key_where(op.before);
      if (!where) return k_no_where;
      std::string sql = has_pk ? "DELETE FROM " + object + " WHERE " + *where
                               : "DELETE TOP (1) FROM " + object + " WHERE " + *where;
      auto r = m_target->execute(sql);
      if (!r) return "[TARGET_APPLY ]E: " + r.error().message;
      if (*r == 0 && m_delete_policy == "STOP_TASK") return "[TARGET_APPLY ]E: 0 rows affected by a DELETE on " + object;
      if (*r > 0) ++stats.applied_deletes;
      return {};
    }
    return {};
  }

  void log(const std::string& line) {
    if (m_env.task_log) m_env.task_log(m_spec, line);
  }

  void report() {
    Checkpoint cp;
    cp.sequence = ++m_checkpoint_seq;
    // Read again from the oldest transaction not yet applied: open ones and committed ones waiting.
    std::string from = m_read_from;
    for (const auto& [xact, t] : m_open) from = std::min(from, t.begin_lsn);
    for (const auto& t : m_ready) from = std::min(from, t.begin_lsn);
    cp.read_from = from;
    cp.last_commit = m_last_commit;
    std::vector<TableStats> tables;
    for (const auto& [key, s] : m_stats) tables.push_back(s);
    m_sink.task_progress(m_spec.task_arn, from.empty() ? std::string() : format_checkpoint(cp), tables);
  }

  void publish_latency(int read) {
    const double now = epoch_seconds_now();
    double target = m_ready.empty() || m_ready.front().commit_time == 0 ? 0 : std::max(0.0, now - m_ready.front().commit_time);
    double source = 0;
    if (read > 0 && m_source_behind && !m_ready.empty() && m_ready.back().commit_time > 0)
      source = std::max(0.0, now - m_ready.back().commit_time);
    m_env.publish_latency(m_spec, source, target);
  }

  CdcTaskSpec m_spec;
  TaskStatusSink& m_sink;
  CdcEnvironment m_env;
  std::string m_insert_policy = "LOG_ERROR", m_update_policy = "LOG_ERROR", m_delete_policy = "IGNORE_RECORD";
  // TargetMetadata, DMS's defaults unless the task says otherwise (docs/facts.md §12).
  bool m_support_lobs = true, m_full_lob_mode = false, m_limited_lob_mode = true;
  std::int64_t m_lob_max_kb = 32;
  bool m_lobs_on = true;  // SupportLobs and not turned off by UPDATE_RECORD
  std::unique_ptr<SqlSession> m_source, m_target;
  TableMappings m_mappings;
  std::set<std::string> m_cdc_tables;
  std::map<std::string, TableStats> m_stats;
  std::map<std::string, TargetTable> m_tables;
  std::string m_read_from;    // last LSN read (or the start point before the first read)
  bool m_inclusive = true;    // the first read includes m_read_from itself
  std::string m_track_from;   // transactions that begin at or after this are replicated
  std::string m_last_commit;  // the last applied commit
  std::uint64_t m_checkpoint_seq = 0;
  bool m_source_behind = false;
  std::map<std::string, Transaction> m_open;  // by transaction id
  std::deque<Transaction> m_ready;            // committed, in commit order, not applied yet
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::thread m_thread;
};

}  // namespace

CdcRunnerFactory make_cdc_runner_factory(CdcEnvironment environment) {
  return [environment](const CdcTaskSpec& spec, TaskStatusSink& sink) -> std::unique_ptr<CdcRunner> {
    return std::make_unique<SqlCdcRunner>(spec, sink, environment);
  };
}

SessionOpener odbc_session_opener(std::string ca_file) {
  return [ca_file = std::move(ca_file)](const EndpointSpec& endpoint) -> Expected<std::unique_ptr<SqlSession>> {
    // As TestConnection logs in: the endpoint's server, port, database and SslMode.
    const auto settings = endpoint_connection_settings(endpoint, ca_file);
    auto session = m2r::mssql::OdbcSession::connect(settings, m2r::mssql::Secret(endpoint.password));
    if (!session) return tl::unexpected(session.error());
    return std::unique_ptr<SqlSession>(std::move(*session));
  };
}

}  // namespace sandbox::dms
