// SQL functions the translator maps T-SQL built-ins to, and the catalog views (sys.*,
// fn_dblog) each session connection sees as TEMP views over the internal tables.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "aws/sigv4.hpp"
#include "engine/tempdb.hpp"
#include "engine/server_objects.hpp"
#include "engine/session.hpp"
#include "engine/decimal.hpp"
#include "engine/hash_functions.hpp"
#include "engine/lock_resource.hpp"
#include "engine/sql_variant.hpp"
#include "engine/value_ops.hpp"

namespace sandbox::engine {

namespace {

SessionImpl* session_of(sqlite3_context* ctx) { return static_cast<SessionImpl*>(sqlite3_user_data(ctx)); }

std::string arg_text(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string();
}

void result_text(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void result_cell(sqlite3_context* ctx, const Cell& c) {
  switch (c.type) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, c.i); break;
    case SQLITE_FLOAT: sqlite3_result_double(ctx, c.d); break;
    case SQLITE_TEXT: result_text(ctx, c.s); break;
    case SQLITE_BLOB: sqlite3_result_blob(ctx, c.s.data(), static_cast<int>(c.s.size()), SQLITE_TRANSIENT); break;
    default: sqlite3_result_null(ctx);
  }
}

void fn_var(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const Variable* v = session_of(ctx)->variable(lower(arg_text(argv[0])));
  if (!v) {
    sqlite3_result_error(ctx, ("Must declare the scalar variable \"" + arg_text(argv[0]) + "\".").c_str(), -1);
    return;
  }
  result_cell(ctx, v->value);
}

// A rowversion as SQL Server shows it: 8 bytes, big-endian (0x00000000000007D1).
void result_rowversion(sqlite3_context* ctx, std::uint64_t v) {
  unsigned char b[8];
  for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<unsigned char>(v & 0xFF);
  sqlite3_result_blob(ctx, b, 8, SQLITE_TRANSIENT);
}

// The DEFAULT of every rowversion column (ddl.cpp) and the value an UPDATE sets it to
// (statements.cpp): the database's @@DBTS + 1, which becomes @@DBTS.
void fn_next_rowversion(sqlite3_context* ctx, int, sqlite3_value**) {
  result_rowversion(ctx, ++session_of(ctx)->rowversion_database()->dbts);
}

void fn_global(sqlite3_context* ctx, int, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  const std::string name = upper(arg_text(argv[0]));
  const InstanceInfo info = s->instance().info();
  if (name == "VERSION") result_text(ctx, info.version_banner);
  else if (name == "SERVERNAME") result_text(ctx, info.server_name);
  else if (name == "SPID") sqlite3_result_int(ctx, s->spid());
  else if (name == "TRANCOUNT") sqlite3_result_int(ctx, s->trancount());
  else if (name == "LOCK_TIMEOUT") sqlite3_result_int(ctx, s->lock_timeout());
  else if (name == "IDENTITY") s->last_identity() ? sqlite3_result_int64(ctx, s->last_identity()) : sqlite3_result_null(ctx);
  else if (name == "ROWCOUNT") sqlite3_result_int64(ctx, s->last_rowcount());
  else if (name == "ERROR") sqlite3_result_int(ctx, s->last_error());
  else if (name == "LANGUAGE") result_text(ctx, "us_english");
  else if (auto option = s->option_global(name)) sqlite3_result_int64(ctx, *option);  // session_options.cpp
  else if (name == "SERVICENAME") result_text(ctx, "MSSQLSERVER");
  else if (name == "DBTS") result_rowversion(ctx, s->rowversion_database()->dbts.load());
  else sqlite3_result_error(ctx, ("'@@" + name + "' is not supported by the sandbox.").c_str(), -1);
}

void fn_scope_identity(sqlite3_context* ctx, int, sqlite3_value**) {
  SessionImpl* s = session_of(ctx);
  s->last_identity() ? sqlite3_result_int64(ctx, s->last_identity()) : sqlite3_result_null(ctx);
}

std::string now_text(bool utc, bool seven_digits) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  if (utc) gmtime_r(&t, &tm);
  else localtime_r(&t, &tm);
  auto us = duration_cast<microseconds>(now.time_since_epoch()).count() % 1000000;
  char buf[48];
  if (seven_digits) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld0", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us / 1000));
  }
  return buf;
}

void fn_now(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const int mode = argc > 0 ? sqlite3_value_int(argv[0]) : 0;  // 0 local, 1 utc, 2 local 7 digits, 3 utc 7 digits
  result_text(ctx, now_text(mode & 1, mode & 2));
}

void fn_newid(sqlite3_context* ctx, int, sqlite3_value**) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%04X-%012llX", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>((a & 0x0FFF) | 0x4000),
                static_cast<unsigned>(((b >> 48) & 0x3FFF) | 0x8000), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  result_text(ctx, buf);
}

void fn_len(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string s = arg_text(argv[0]);
  while (!s.empty() && s.back() == ' ') s.pop_back();  // LEN ignores trailing blanks
  std::int64_t n = 0;
  for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++n;
  sqlite3_result_int64(ctx, n);
}

void fn_datalength(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  sqlite3_result_int64(ctx, sqlite3_value_bytes(argv[0]));
}

void fn_left(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string s = arg_text(argv[0]);
  auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, sqlite3_value_int64(argv[1])));
  result_text(ctx, s.substr(0, std::min(n, s.size())));
}

void fn_right(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string s = arg_text(argv[0]);
  auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, sqlite3_value_int64(argv[1])));
  result_text(ctx, n >= s.size() ? s : s.substr(s.size() - n));
}

void fn_db_id(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  std::string name = argc > 0 ? arg_text(argv[0]) : s->current_database();
  auto db = s->instance().find(name);
  if (!db) {
    static const std::map<std::string, int> sys = {{"tempdb", 2}, {"model", 3}};
    auto it = sys.find(lower(name));
    if (it != sys.end()) return sqlite3_result_int(ctx, it->second);
    return sqlite3_result_null(ctx);
  }
  sqlite3_result_int(ctx, db->id);
}

void fn_db_name(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  if (argc == 0) return result_text(ctx, s->current_database());
  const std::int64_t id = sqlite3_value_int64(argv[0]);
  if (id == 2) return result_text(ctx, "tempdb");
  if (id == 3) return result_text(ctx, "model");
  for (auto& db : s->instance().databases()) {
    if (db->id == id) return result_text(ctx, db->name);
  }
  sqlite3_result_null(ctx);
}

void fn_serverproperty(sqlite3_context* ctx, int, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  const InstanceInfo info = s->instance().info();
  const std::string p = lower(arg_text(argv[0]));
  if (p == "productversion") result_text(ctx, info.product_version);
  else if (p == "productmajorversion") result_text(ctx, info.product_version.substr(0, info.product_version.find('.')));
  else if (p == "edition") result_text(ctx, info.edition);
  else if (p == "engineedition") sqlite3_result_int(ctx, info.engine_edition);
  else if (p == "servername" || p == "machinename") result_text(ctx, info.server_name);
  else if (p == "productlevel") result_text(ctx, "RTM");
  else if (p == "isclustered" || p == "ishadrenabled" || p == "isintegratedsecurityonly") sqlite3_result_int(ctx, 0);
  else if (p == "collation") result_text(ctx, "SQL_Latin1_General_CP1_CI_AS");
  else if (p == "instancename") sqlite3_result_null(ctx);
  else sqlite3_result_null(ctx);  // SQL Server returns NULL for unknown properties
}

// DATABASEPROPERTYEX(database, property) for the properties whose value is text: UserAccess
// (MULTI_USER, SINGLE_USER, RESTRICTED_USER), Recovery (FULL, BULK_LOGGED, SIMPLE), Status
// (ONLINE, RESTORING), Updateability (READ_WRITE), Collation. NULL for a database that does not
// exist and, as SQL Server does, for a property it does not know; the sandbox also answers NULL
// for the numeric properties (IsAutoShrink, Version, ...).
void fn_databasepropertyex(sqlite3_context* ctx, int, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  auto db = s->instance().find(arg_text(argv[0]));
  if (!db) return sqlite3_result_null(ctx);
  const std::string p = lower(arg_text(argv[1]));
  if (p == "useraccess") result_text(ctx, user_access_desc(db->user_access));
  else if (p == "recovery") result_text(ctx, db->meta("recovery"));
  else if (p == "status") result_text(ctx, db->restoring ? "RESTORING" : "ONLINE");
  else if (p == "updateability") result_text(ctx, "READ_WRITE");
  else if (p == "collation") result_text(ctx, "SQL_Latin1_General_CP1_CI_AS");
  else sqlite3_result_null(ctx);
}

void fn_quotename(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string s = arg_text(argv[0]);
  std::string q = argc > 1 ? arg_text(argv[1]) : "[";
  char open = q.empty() ? '[' : q[0];
  char close = open == '[' ? ']' : open == '(' ? ')' : open == '<' ? '>' : open == '{' ? '}' : open;
  if (s.size() > 128) return sqlite3_result_null(ctx);
  std::string out(1, open);
  for (char c : s) {
    out += c;
    if (c == close) out += c;
  }
  out += close;
  result_text(ctx, out);
}

void fn_object_id(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  // OBJECT_ID('[db.][schema.]name' [, 'type']), resolved against the connection's own catalog
  // (brackets allowed); a temporary table needs the tempdb prefix, as in SQL Server
  // ('tempdb..#t'). A name in another user database gives NULL (the sandbox resolves names in
  // the current database only). The type, when given, must match (U, V, P, FN, IF, TR, PK, F).
  std::string name = arg_text(argv[0]);
  std::string schema = "dbo", obj = name;
  std::vector<std::string> parts;
  std::string curp;
  bool br = false;
  for (char c : name) {
    if (c == '[') { br = true; continue; }
    if (c == ']') { br = false; continue; }
    if (c == '.' && !br) { parts.push_back(curp); curp.clear(); continue; }
    curp += c;
  }
  parts.push_back(curp);
  obj = parts.back();
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) schema = parts[parts.size() - 2];
  const std::string dbname = parts.size() >= 3 ? parts[parts.size() - 3] : std::string();
  std::string type;
  if (argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL) {
    type = upper(arg_text(argv[1]));
    while (!type.empty() && type.back() == ' ') type.pop_back();
  }
  sqlite3* db = sqlite3_context_db_handle(ctx);
  SessionImpl* session = session_of(ctx);
  sqlite3_stmt* st = nullptr;
  if (is_temp_name(obj)) {
    if (!iequals(dbname, "tempdb") || !session) return sqlite3_result_null(ctx);
    sqlite3_prepare_v2(db, "SELECT object_id FROM tempdb.__m2r_temp_objects WHERE sqlite_name = ?1 AND (?2 = '' OR type = ?2)", -1,
                       &st, nullptr);
    sqlite3_bind_text(st, 1, temp_sqlite_name(obj, session->spid()).c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, type.c_str(), -1, SQLITE_TRANSIENT);
  } else {
    if (!dbname.empty() && session && !iequals(dbname, session->current_database())) return sqlite3_result_null(ctx);
    sqlite3_prepare_v2(db,
                       "SELECT o.object_id FROM main.__m2r_objects o JOIN main.__m2r_schemas s ON s.schema_id = o.schema_id"
                       " WHERE o.name = ?1 COLLATE NOCASE AND s.name = ?2 COLLATE NOCASE AND (?3 = '' OR o.type = ?3)",
                       -1, &st, nullptr);
    sqlite3_bind_text(st, 1, obj.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, schema.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, type.c_str(), -1, SQLITE_TRANSIENT);
  }
  if (st && sqlite3_step(st) == SQLITE_ROW) sqlite3_result_int64(ctx, sqlite3_column_int64(st, 0));
  else sqlite3_result_null(ctx);
  sqlite3_finalize(st);
}

// BINARY_CHECKSUM over a row: a deterministic 32-bit hash of the values and their order.
std::uint32_t mix(std::uint32_t h, const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

void fn_binary_checksum(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::uint32_t h = 2166136261u;
  for (int i = 0; i < argc; ++i) {
    const int t = sqlite3_value_type(argv[i]);
    unsigned char tag = static_cast<unsigned char>(t);
    h = mix(h, &tag, 1);
    if (t == SQLITE_INTEGER) {
      std::int64_t v = sqlite3_value_int64(argv[i]);
      h = mix(h, reinterpret_cast<const unsigned char*>(&v), sizeof v);
    } else if (t == SQLITE_FLOAT) {
      double d = sqlite3_value_double(argv[i]);
      if (d == std::floor(d) && std::fabs(d) < 9e15) {  // 12.0 and 12 are the same value
        std::int64_t v = static_cast<std::int64_t>(d);
        tag = SQLITE_INTEGER;
        h = mix(h - 0, reinterpret_cast<const unsigned char*>(&v), sizeof v);
      } else {
        h = mix(h, reinterpret_cast<const unsigned char*>(&d), sizeof d);
      }
    } else if (t != SQLITE_NULL) {
      const void* p = t == SQLITE_BLOB ? sqlite3_value_blob(argv[i]) : static_cast<const void*>(sqlite3_value_text(argv[i]));
      h = mix(h, static_cast<const unsigned char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(argv[i])));
    }
  }
  sqlite3_result_int(ctx, static_cast<int>(h));
}

// CHECKSUM_AGG: order-independent aggregate (XOR of the values, as SQL Server's is).
void agg_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* acc = static_cast<std::int64_t*>(sqlite3_aggregate_context(ctx, sizeof(std::int64_t)));
  if (acc && sqlite3_value_type(argv[0]) != SQLITE_NULL) *acc ^= static_cast<std::int32_t>(sqlite3_value_int64(argv[0]));
}
void agg_final(sqlite3_context* ctx) {
  auto* acc = static_cast<std::int64_t*>(sqlite3_aggregate_context(ctx, 0));
  sqlite3_result_int(ctx, acc ? static_cast<int>(*acc) : 0);
}

void fn_triggers_enabled(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  SessionImpl* s = session_of(ctx);
  if (s->triggers_suppressed()) return sqlite3_result_int(ctx, 0);
  auto db = s->instance().find(s->current_database());
  if (db) {
    std::lock_guard<std::mutex> lock(db->flags_mutex);
    const std::string table = arg_text(argv[0]);
    if (db->triggers_disabled.count(table)) return sqlite3_result_int(ctx, 0);
    if (argc > 1 && db->triggers_disabled.count(table + "|" + arg_text(argv[1]))) return sqlite3_result_int(ctx, 0);
  }
  sqlite3_result_int(ctx, 1);
}

void fn_dateadd(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const std::string unit = lower(arg_text(argv[0]));
  const std::int64_t n = sqlite3_value_int64(argv[1]);
  std::string d = arg_text(argv[2]);
  if (argc >= 4 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
    // The T-SQL literal forms ('20261202', ...) in the form SQLite's date functions read.
    ColumnType as_text_type;
    if (parse_type(arg_text(argv[3]), as_text_type) && as_text_type.type != SqlType::datetimeoffset) {
      ColumnType wide;
      wide.type = SqlType::datetime2;
      wide.scale = 7;
      auto norm = normalize_datetime(d, wide, nullptr);
      if (!norm) {
        Message m;
        m.number = 241;
        m.severity = 16;
        m.text = "Conversion failed when converting date and/or time from character string.";
        set_function_error(m);
        return sqlite3_result_error(ctx, m.text.c_str(), -1);
      }
      d = *norm;
    }
  }
  static const std::map<std::string, std::string> units = {
      {"year", "years"}, {"yy", "years"}, {"month", "months"}, {"mm", "months"}, {"day", "days"}, {"dd", "days"},
      {"d", "days"}, {"hour", "hours"}, {"hh", "hours"}, {"minute", "minutes"}, {"mi", "minutes"}, {"n", "minutes"},
      {"second", "seconds"}, {"ss", "seconds"}, {"s", "seconds"}};
  auto it = units.find(unit);
  if (it == units.end()) return sqlite3_result_error(ctx, "DATEADD unit not supported by the sandbox.", -1);
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT strftime('%Y-%m-%d %H:%M:%f', ?1, ?2)", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, d.c_str(), -1, SQLITE_TRANSIENT);
  std::string mod = std::to_string(n) + " " + it->second;
  sqlite3_bind_text(st, 2, mod.c_str(), -1, SQLITE_TRANSIENT);
  const bool null_input = sqlite3_value_type(argv[1]) == SQLITE_NULL || sqlite3_value_type(argv[2]) == SQLITE_NULL;
  std::optional<std::string> out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  if (argc < 4 || null_input) {
    if (out) result_text(ctx, *out);
    else sqlite3_result_null(ctx);
    return;
  }
  // DATEADD returns its date argument's type; a result the type cannot hold is Msg 517.
  ColumnType type;
  if (!parse_type(arg_text(argv[3]), type)) type.type = SqlType::datetime;
  const int min_year = type.type == SqlType::datetime ? 1753 : type.type == SqlType::smalldatetime ? 1900 : 1;
  const int max_year = type.type == SqlType::smalldatetime ? 2079 : 9999;
  std::optional<std::string> norm;
  if (out && out->size() >= 10 && (*out)[4] == '-') {
    const int year = std::atoi(out->substr(0, 4).c_str());
    if (year >= min_year && year <= max_year) norm = normalize_datetime(*out, type, nullptr);
  }
  if (!norm) {
    const std::string name = arg_text(argv[3]).substr(0, arg_text(argv[3]).find('('));
    const std::string text = "Adding a value to a '" + name + "' column caused an overflow.";
    Message m;
    m.number = 517;
    m.severity = 16;
    m.text = text;
    set_function_error(m);
    return sqlite3_result_error(ctx, text.c_str(), -1);
  }
  result_text(ctx, *norm);
}

void fn_datediff(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const std::string unit = lower(arg_text(argv[0]));
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT (julianday(?2) - julianday(?1))", -1, &st, nullptr);
  sqlite3_bind_value(st, 1, argv[1]);
  sqlite3_bind_value(st, 2, argv[2]);
  double days = 0;
  if (sqlite3_step(st) == SQLITE_ROW) days = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  double v = days;
  if (unit == "second" || unit == "ss" || unit == "s") v = days * 86400;
  else if (unit == "minute" || unit == "mi") v = days * 1440;
  else if (unit == "hour" || unit == "hh") v = days * 24;
  else if (unit == "millisecond" || unit == "ms") v = days * 86400000;
  sqlite3_result_int64(ctx, static_cast<std::int64_t>(std::llround(v)));
}

void fn_schema_name(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::int64_t id = argc ? sqlite3_value_int64(argv[0]) : 1;
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM main.__m2r_schemas WHERE schema_id = ?1", -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) == SQLITE_ROW) result_text(ctx, reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  else sqlite3_result_null(ctx);
  sqlite3_finalize(st);
}

void fn_object_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM main.__m2r_objects WHERE object_id = ?1", -1, &st, nullptr);
  sqlite3_bind_value(st, 1, argv[0]);
  if (sqlite3_step(st) == SQLITE_ROW) result_text(ctx, reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  else sqlite3_result_null(ctx);
  sqlite3_finalize(st);
}

void fn_lsn_numeric(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  auto lsn = m2r::Lsn::parse(arg_text(argv[0]));
  if (!lsn) return sqlite3_result_null(ctx);
  result_text(ctx, lsn->to_numeric());
}

// m2r_lock_probe(table, rowid): the filter of a locking READ COMMITTED read's shadow views
// (session.cpp): a row another transaction held X on when the read began stops the read,
// which then waits for the lock and runs again.
void fn_lock_probe(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (session_of(ctx)->lock_probe(arg_text(argv[0]), sqlite3_value_int64(argv[1]))) return sqlite3_result_int(ctx, 1);
  sqlite3_result_error(ctx, "the read waits for a row lock", -1);
}

}  // namespace

// HOST_NAME() and APP_NAME(): the client's LOGIN7 HostName and AppName; NULL when it sent none.
static void fn_host_name(sqlite3_context* ctx, int, sqlite3_value**) {
  const std::string& v = session_of(ctx)->host_name();
  if (v.empty()) return sqlite3_result_null(ctx);
  sqlite3_result_text(ctx, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
static void fn_app_name(sqlite3_context* ctx, int, sqlite3_value**) {
  const std::string& v = session_of(ctx)->program_name();
  if (v.empty()) return sqlite3_result_null(ctx);
  sqlite3_result_text(ctx, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void register_functions(sqlite3* db, SessionImpl* s) {
  struct F {
    const char* name;
    int argc;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
    bool deterministic;
  };
  static const F fns[] = {
      {"m2r_var", 1, fn_var, false},           {"m2r_global", 1, fn_global, false},
      {"m2r_lock_probe", 2, fn_lock_probe, false},
      {"m2r_now", 1, fn_now, false},           {"m2r_newid", 0, fn_newid, false},
      {"m2r_host_name", 0, fn_host_name, false}, {"m2r_app_name", 0, fn_app_name, false},
      {"m2r_len", 1, fn_len, true},            {"m2r_datalength", 1, fn_datalength, true},
      {"m2r_left", 2, fn_left, true},          {"m2r_right", 2, fn_right, true},
      {"m2r_db_id", 0, fn_db_id, false},       {"m2r_db_id", 1, fn_db_id, false},
      {"m2r_db_name", 0, fn_db_name, false},   {"m2r_db_name", 1, fn_db_name, false},
      {"m2r_serverproperty", 1, fn_serverproperty, false}, {"m2r_databasepropertyex", 2, fn_databasepropertyex, false},
      {"m2r_quotename", 1, fn_quotename, true}, {"m2r_quotename", 2, fn_quotename, true},
      {"m2r_object_id", 1, fn_object_id, false}, {"m2r_object_id", 2, fn_object_id, false},
      {"m2r_binary_checksum", -1, fn_binary_checksum, true},
      {"m2r_triggers_enabled", -1, fn_triggers_enabled, false},
      {"m2r_dateadd", 3, fn_dateadd, true},     {"m2r_dateadd", 4, fn_dateadd, true},     {"m2r_datediff", 3, fn_datediff, true},
      {"m2r_scope_identity", 0, fn_scope_identity, false},
      {"m2r_schema_name", 0, fn_schema_name, false}, {"m2r_schema_name", 1, fn_schema_name, false},
      {"m2r_object_name", 1, fn_object_name, false}, {"m2r_object_name", 2, fn_object_name, false},
      {"m2r_lsn_numeric", 1, fn_lsn_numeric, true},
      {"m2r_next_rowversion", 0, fn_next_rowversion, false},
  };
  register_session_option_functions(db, s);
  for (const F& f : fns) {
    sqlite3_create_function_v2(db, f.name, f.argc, SQLITE_UTF8 | (f.deterministic ? SQLITE_DETERMINISTIC : 0), s, f.fn,
                               nullptr, nullptr, nullptr);
  }
  sqlite3_create_function_v2(db, "m2r_checksum_agg", 1, SQLITE_UTF8, s, nullptr, agg_step, agg_final, nullptr);
  register_value_functions(db);
  register_hash_functions(db);
  register_lock_resource_functions(db);
}

void register_schema_functions(sqlite3* db) {
  // The deterministic functions that use no session: what a computed column or a CHECK may
  // call, so that a connection of the engine's own (backup's VACUUM, restore's undo, log redo)
  // can evaluate them too.
  struct F {
    const char* name;
    int argc;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  static const F fns[] = {
      {"m2r_len", 1, fn_len},           {"m2r_datalength", 1, fn_datalength}, {"m2r_left", 2, fn_left},
      {"m2r_right", 2, fn_right},       {"m2r_quotename", 1, fn_quotename},   {"m2r_quotename", 2, fn_quotename},
      {"m2r_binary_checksum", -1, fn_binary_checksum}, {"m2r_dateadd", 3, fn_dateadd}, {"m2r_dateadd", 4, fn_dateadd},
      {"m2r_datediff", 3, fn_datediff}, {"m2r_lsn_numeric", 1, fn_lsn_numeric},
  };
  for (const F& f : fns) {
    sqlite3_create_function_v2(db, f.name, f.argc, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, f.fn, nullptr, nullptr, nullptr);
  }
  register_value_functions(db);
  register_hash_functions(db);
}

// The compatibility view sys.sysobjects (learn.microsoft.com/sql/relational-databases/system-compatibility-views/
// sys-sysobjects-transact-sql) over a database's catalog (`schema`: main, or m2r_master for
// master..sysobjects from another database): its objects, then the sandbox's own system views
// (negative ids, as SQL Server's system objects have), sysobjects among them. xtype and type
// hold sys.objects' type as the sandbox keeps it, unpadded, so that `type = 'P'` matches.
std::string sysobjects_view(const std::string& view, const std::string& schema) {
  return "CREATE TEMP VIEW IF NOT EXISTS " + quote_ident(view) + " AS SELECT name, object_id AS id, type AS xtype,"
         " schema_id AS uid, 0 AS info, 0 AS status, 0 AS base_schema_ver, 0 AS replinfo,"
         " coalesce(parent_object_id, 0) AS parent_obj, create_date AS crdate, 0 AS ftcatid, 0 AS schema_ver,"
         " 0 AS stats_schema_ver, type, 0 AS userstat, 0 AS sysstat, 0 AS indexdel,"
         " create_date AS refdate, 0 AS version, 0 AS deltrig, 0 AS instrig, 0 AS updtrig, 0 AS seltrig, 0 AS category,"
         " 0 AS cache FROM " + schema + ".__m2r_objects"
         " UNION ALL SELECT substr(name, 5), -rowid, 'V', 4, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 'V', 0, 0, 0, NULL, 0, 0, 0, 0,"
         " 0, 2, 0 FROM sqlite_temp_master WHERE type = 'view' AND name LIKE 'sys.%';";
}

void create_catalog_views(sqlite3* db, bool attached_msdb) {
  (void)attached_msdb;
  exec(db,
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.schemas\" AS SELECT name, schema_id, principal_id FROM main.__m2r_schemas;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.objects\" AS SELECT name, object_id, NULL AS principal_id, schema_id,"
       " parent_object_id, type, type_desc, create_date, modify_date, 0 AS is_ms_shipped, 0 AS is_published,"
       " 0 AS is_schema_published FROM main.__m2r_objects;"
       + sysobjects_view("sys.sysobjects", "main") +
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.tables\" AS SELECT name, object_id, NULL AS principal_id, schema_id,"
       " parent_object_id, type, type_desc, create_date, modify_date, 0 AS is_ms_shipped, is_replicated,"
       " is_tracked_by_cdc, 0 AS temporal_type, 0 AS is_memory_optimized FROM main.__m2r_objects WHERE type = 'U';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.views\" AS SELECT name, object_id, schema_id, type, type_desc, create_date,"
       " modify_date FROM main.__m2r_objects WHERE type = 'V';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.procedures\" AS SELECT name, object_id, schema_id, type, type_desc,"
       " create_date, modify_date FROM main.__m2r_objects WHERE type = 'P';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.triggers\" AS SELECT name, object_id, 1 AS parent_class,"
       " 'OBJECT_OR_COLUMN' AS parent_class_desc, parent_object_id AS parent_id, type, type_desc, create_date, modify_date,"
       " 0 AS is_ms_shipped, is_disabled, 0 AS is_not_for_replication, 0 AS is_instead_of_trigger"
       " FROM main.__m2r_objects WHERE type = 'TR';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.sql_modules\" AS SELECT object_id, definition FROM main.__m2r_objects"
       " WHERE definition IS NOT NULL;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.columns\" AS SELECT object_id, name, column_id, system_type_id,"
       " system_type_id AS user_type_id, max_length, precision, scale, is_nullable, is_identity,"
       " EXISTS (SELECT 1 FROM main.__m2r_computed_columns k WHERE k.object_id = c.object_id AND k.column_id = c.column_id)"
       " AS is_computed,"
       // the sandbox has no sparse columns or column sets
       " 0 AS is_sparse, 0 AS is_column_set FROM main.__m2r_columns c;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.computed_columns\" AS SELECT c.object_id, c.name, c.column_id, c.system_type_id,"
       " c.system_type_id AS user_type_id, c.max_length, c.precision, c.scale, c.is_nullable, 0 AS is_identity,"
       " 1 AS is_computed, k.definition, 1 AS uses_database_collation, k.is_persisted"
       " FROM main.__m2r_columns c JOIN main.__m2r_computed_columns k ON k.object_id = c.object_id AND k.column_id = c.column_id;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.identity_columns\" AS SELECT object_id, name, column_id, seed_value,"
       " increment_value, NULL AS last_value FROM main.__m2r_columns WHERE is_identity = 1;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.indexes\" AS"
       " SELECT parent_object_id AS object_id, name, 1 AS index_id, 1 AS type, 'CLUSTERED' AS type_desc, 1 AS is_unique,"
       " 1 AS is_primary_key, 0 AS is_unique_constraint, 0 AS is_disabled, 0 AS has_filter FROM main.__m2r_objects WHERE type = 'PK'"
       " UNION ALL SELECT t.object_id, NULL, 0, 0, 'HEAP', 0, 0, 0, 0, 0 FROM main.__m2r_objects t WHERE t.type = 'U'"
       " AND NOT EXISTS (SELECT 1 FROM main.__m2r_objects k WHERE k.type = 'PK' AND k.parent_object_id = t.object_id);"
       // One partition per table: its heap (index_id 0) or clustered index (1); hobt ids as
       // lock_resource.hpp computes them for [Lock Information] and %%lockres%%.
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.partitions\" AS SELECT m2r_hobt_id(o.object_id) AS partition_id,"
       " o.object_id, CASE WHEN EXISTS (SELECT 1 FROM main.__m2r_objects k WHERE k.type = 'PK' AND"
       " k.parent_object_id = o.object_id) THEN 1 ELSE 0 END AS index_id, 1 AS partition_number,"
       " m2r_hobt_id(o.object_id) AS hobt_id, 0 AS data_compression,"
       " 'NONE' AS data_compression_desc FROM main.__m2r_objects o WHERE o.type = 'U';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.key_constraints\" AS SELECT name, object_id, NULL AS principal_id, schema_id,"
       " parent_object_id, type, type_desc, create_date, modify_date, 1 AS unique_index_id, 0 AS is_system_named"
       " FROM main.__m2r_objects WHERE type IN ('PK','UQ');"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.index_columns\" AS SELECT object_id, index_id, key_ordinal AS index_column_id,"
       " column_id, key_ordinal, 0 AS is_descending_key, 0 AS is_included_column FROM main.__m2r_index_columns;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.foreign_keys\" AS SELECT name, object_id, schema_id, parent_object_id, type,"
       " type_desc, create_date, modify_date, referenced_object_id, 1 AS key_index_id, is_disabled, is_not_trusted,"
       " 0 AS is_not_for_replication, delete_action AS delete_referential_action_desc,"
       " update_action AS update_referential_action_desc FROM main.__m2r_objects WHERE type = 'F';"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.foreign_key_columns\" AS SELECT * FROM main.__m2r_fk_columns;"
       "CREATE TEMP VIEW IF NOT EXISTS \"INFORMATION_SCHEMA.TABLES\" AS SELECT m2r_db_name() AS TABLE_CATALOG,"
       " s.name AS TABLE_SCHEMA, o.name AS TABLE_NAME, CASE o.type WHEN 'U' THEN 'BASE TABLE' ELSE 'VIEW' END AS TABLE_TYPE"
       " FROM main.__m2r_objects o JOIN main.__m2r_schemas s ON s.schema_id = o.schema_id WHERE o.type IN ('U','V');"
       "CREATE TEMP VIEW IF NOT EXISTS \"INFORMATION_SCHEMA.COLUMNS\" AS SELECT m2r_db_name() AS TABLE_CATALOG,"
       " s.name AS TABLE_SCHEMA, o.name AS TABLE_NAME, c.name AS COLUMN_NAME, c.column_id AS ORDINAL_POSITION,"
       " CASE c.is_nullable WHEN 1 THEN 'YES' ELSE 'NO' END AS IS_NULLABLE, c.type_name AS DATA_TYPE"
       " FROM main.__m2r_columns c JOIN main.__m2r_objects o ON o.object_id = c.object_id"
       " JOIN main.__m2r_schemas s ON s.schema_id = o.schema_id;"
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.types\" AS SELECT column1 AS name, column2 AS system_type_id,"
       // no CLR types (geography, geometry, hierarchyid, user assemblies) in the sandbox
       " column2 AS user_type_id, 4 AS schema_id, column3 AS max_length, 1 AS is_nullable, 0 AS is_assembly_type,"
       " 0 AS is_user_defined FROM (VALUES ('int',56,4),('bigint',127,8),('smallint',52,2),('tinyint',48,1),('bit',104,1),"
       " ('decimal',106,17),('numeric',108,17),('float',62,8),('varchar',167,8000),('nvarchar',231,8000),('char',175,8000),"
       " ('nchar',239,8000),('datetime',61,8),('datetime2',42,8),('date',40,3),('uniqueidentifier',36,16),"
       " ('varbinary',165,8000),('money',60,8),"
       // the other types the sandbox stores (validation reads every column's type name from here)
       " ('real',59,4),('smallmoney',122,4),('time',41,5),('datetimeoffset',43,10),('smalldatetime',58,4),('text',35,16),"
       " ('ntext',99,16),('image',34,16),('binary',173,8000),('xml',241,-1),('timestamp',189,8),('sql_variant',98,8016));"
       // The compatibility view sys.systypes (learn.microsoft.com/sql/relational-databases/system-compatibility-views/
       // sys-systypes-transact-sql): one row per type of sys.types, in its columns' old names.
       "CREATE TEMP VIEW IF NOT EXISTS \"sys.systypes\" AS SELECT name, system_type_id AS xtype, 0 AS status,"
       " user_type_id AS xusertype, max_length AS length, 0 AS xprec, 0 AS xscale, 0 AS tdefault, 0 AS domain, 4 AS uid,"
       " 0 AS reserved, 0 AS collationid, user_type_id AS usertype,"
       " CASE WHEN name IN ('varchar','nvarchar','varbinary') THEN 1 ELSE 0 END AS variable, is_nullable AS allownulls,"
       " system_type_id AS type, NULL AS printfmt, NULL AS prec, NULL AS scale, NULL AS collation FROM temp.\"sys.types\";"
       // fn_dblog(NULL, NULL): the active log (docs/facts.md §11), first columns in SQL Server's order,
       // then the sandbox's row images for CDC (README.md "The log").
       "CREATE TEMP VIEW IF NOT EXISTS fn_dblog AS SELECT lsn AS \"Current LSN\", operation AS \"Operation\","
       " context AS \"Context\", xact_id AS \"Transaction ID\", 0 AS \"LogBlockGeneration\", 0 AS \"Tag Bits\","
       " 60 AS \"Log Record Fixed Length\", record_length AS \"Log Record Length\", prev_lsn AS \"Previous LSN\","
       " 0 AS \"Flag Bits\", 0 AS \"Log Reserve\", NULL AS \"AllocUnitId\", table_name AS \"AllocUnitName\","
       " NULL AS \"Page ID\", NULL AS \"Slot ID\", spid AS \"SPID\", begin_time AS \"Begin Time\","
       " xact_name AS \"Transaction Name\", end_time AS \"End Time\", description AS \"Description\","
       " lock_info AS \"Lock Information\","
       " begin_lsn AS \"Begin LSN\", row_id AS \"Row ID\", before_json AS \"Row Before\", after_json AS \"Row After\""
       " FROM main.__m2r_log ORDER BY seq;"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.databases\"(name nvarchar(128), database_id int, source_database_id int,"
       " owner_sid varbinary(85), create_date datetime, compatibility_level tinyint, collation_name nvarchar(128),"
       " user_access tinyint, user_access_desc nvarchar(60), is_read_only bit, state tinyint, state_desc nvarchar(60),"
       " recovery_model tinyint, recovery_model_desc nvarchar(60), log_reuse_wait tinyint, log_reuse_wait_desc nvarchar(60),"
       " is_published bit, is_subscribed bit, is_merge_published bit, is_distributor bit, is_cdc_enabled bit,"
       " is_encrypted bit, is_read_committed_snapshot_on bit, snapshot_isolation_state tinyint, snapshot_isolation_state_desc nvarchar(60),"
       " is_accelerated_database_recovery_on bit, delayed_durability_desc nvarchar(60),"
       " is_trustworthy_on bit, is_db_chaining_on bit, is_broker_enabled bit);"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.database_scoped_configurations\"(configuration_id int, name nvarchar(60),"
       " value sql_variant, value_for_secondary sql_variant, is_value_default bit);"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.master_files\"(database_id int, file_id int, file_guid uniqueidentifier,"
       " type tinyint, type_desc nvarchar(60), data_space_id int, name nvarchar(128), physical_name nvarchar(260),"
       " state tinyint, state_desc nvarchar(60), size int, max_size int, growth int);"
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.dm_database_encryption_keys\"(database_id int, encryption_state int,"
       " create_date datetime, key_algorithm nvarchar(32), key_length int, percent_complete float);"
       // Filled from the instance's RequestRegistry before each statement that reads it.
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.dm_exec_requests\"(session_id smallint, request_id int,"
       " start_time datetime, status nvarchar(30), command nvarchar(32), database_id smallint,"
       " percent_complete real, estimated_completion_time bigint, total_elapsed_time int, blocking_session_id smallint,"
       " wait_type nvarchar(60), wait_time int);"
       // Filled from the instance's SessionRegistry before each statement that reads it.
       "CREATE TEMP TABLE IF NOT EXISTS \"sys.dm_exec_sessions\"(session_id smallint, login_time datetime,"
       " host_name nvarchar(128), program_name nvarchar(128), login_name nvarchar(128), status nvarchar(30),"
       " database_id smallint, is_user_process bit, text_size int, language nvarchar(128), date_format nvarchar(3),"
       " date_first smallint, quoted_identifier bit, arithabort bit, ansi_null_dflt_on bit, ansi_defaults bit,"
       " ansi_warnings bit, ansi_padding bit, ansi_nulls bit, concat_null_yields_null bit,"
       " transaction_isolation_level smallint, lock_timeout int);");
  create_server_object_views(db, attached_msdb);  // server_objects.hpp
}

std::string cell_json(const Cell& c) {
  switch (c.type) {
    case SQLITE_INTEGER: return std::to_string(c.i);
    case SQLITE_FLOAT: return nlohmann::json(c.d).dump();
    case SQLITE_TEXT: return nlohmann::json(c.s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    case SQLITE_BLOB: {
      static const char* hex = "0123456789ABCDEF";
      std::string h = "0x";
      for (unsigned char b : c.s) { h += hex[b >> 4]; h += hex[b & 15]; }
      return "{\"$binary\":\"" + h + "\"}";
    }
    default: return "null";
  }
}

Cell value_to_cell(const Value& v) {
  Cell c;
  if (auto* i = std::get_if<std::int64_t>(&v)) { c.type = SQLITE_INTEGER; c.i = *i; }
  else if (auto* d = std::get_if<double>(&v)) { c.type = SQLITE_FLOAT; c.d = *d; }
  else if (auto* s = std::get_if<std::string>(&v)) { c.type = SQLITE_TEXT; c.s = *s; }
  else if (auto* b = std::get_if<Bytes>(&v)) { c.type = SQLITE_BLOB; c.s.assign(b->data.begin(), b->data.end()); }
  return c;
}

namespace {
// A decimal cell as canonical text at `scale` (rounded half away from zero, exactly).
std::string format_decimal(const Cell& c, int scale) {
  std::optional<Decimal> d;
  if (c.type == SQLITE_INTEGER) d = Decimal::from_int(c.i).rescaled(scale);
  else if (c.type == SQLITE_FLOAT) d = Decimal::from_double(c.d, scale);
  else if (auto p = Decimal::parse(c.s)) d = p->rescaled(scale);
  if (d) return d->to_string();
  return c.type == SQLITE_TEXT ? c.s : std::string("0");
}

std::string cell_text(const Cell& c) {
  if (c.type == SQLITE_INTEGER) return std::to_string(c.i);
  if (c.type == SQLITE_FLOAT) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", c.d);
    return buf;
  }
  return c.s;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) if ((ch & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

Value cell_to_value(const Cell& c, const ColumnType& t) {
  if (c.type == SQLITE_NULL) return std::monostate{};
  switch (t.type) {
    case SqlType::int_: case SqlType::bigint: case SqlType::smallint: case SqlType::tinyint: case SqlType::bit:
      if (c.type == SQLITE_INTEGER) return c.i;
      if (c.type == SQLITE_FLOAT) {
        // A REAL beyond bigint (SQLite keeps 3.7e40 in an int column as is) would be undefined
        // behaviour to convert: SQL Server's arithmetic overflow instead.
        if (!(c.d >= -9223372036854775808.0 && c.d < 9223372036854775808.0)) {
          raise(8115, 16, "Arithmetic overflow error converting expression to data type " + type_to_string(t) + ".");
        }
        return static_cast<std::int64_t>(c.d);
      }
      return static_cast<std::int64_t>(std::atoll(c.s.c_str()));
    case SqlType::float_: case SqlType::real: {
      double d = c.type == SQLITE_INTEGER ? static_cast<double>(c.i) : c.type == SQLITE_FLOAT ? c.d : std::atof(c.s.c_str());
      if (t.type == SqlType::real) d = static_cast<double>(static_cast<float>(d));
      return d;
    }
    case SqlType::decimal: return format_decimal(c, t.scale);
    case SqlType::money: case SqlType::smallmoney: return format_decimal(c, 4);
    case SqlType::varbinary: case SqlType::binary: case SqlType::image: {
      Bytes b;
      b.data.assign(c.s.begin(), c.s.end());
      if (c.type == SQLITE_INTEGER) {
        std::string s = std::to_string(c.i);
        b.data.assign(s.begin(), s.end());
      }
      if (t.type == SqlType::binary && t.length > 0) b.data.resize(static_cast<std::size_t>(t.length), 0);
      return b;
    }
    case SqlType::uniqueidentifier: return upper(c.s);
    case SqlType::sql_variant: {
      if (c.type == SQLITE_TEXT && decode_variant(c.s)) return c.s;
      // A value that reached the column without CAST (UPDATE ... SET, INSERT ... SELECT do not
      // convert): its base type from its storage class (README.md "Types and values").
      ColumnType base;
      Value v;
      if (c.type == SQLITE_INTEGER) {
        base.type = c.i > 2147483647LL || c.i < -2147483648LL ? SqlType::bigint : SqlType::int_;
        v = c.i;
      } else if (c.type == SQLITE_FLOAT) {
        base.type = SqlType::float_;
        v = c.d;
      } else if (c.type == SQLITE_BLOB) {
        base = ColumnType{SqlType::varbinary, std::max(1, static_cast<int>(c.s.size())), 0, 0};
        v = Bytes{{c.s.begin(), c.s.end()}};
      } else {
        base = ColumnType{SqlType::nvarchar, std::max(1, static_cast<int>(utf8_length(c.s))), 0, 0};
        v = c.s;
      }
      return encode_variant(base, v);
    }
    case SqlType::char_: case SqlType::nchar: {
      std::string s = cell_text(c);
      const std::size_t n = utf8_length(s);
      if (t.length > 0 && n < static_cast<std::size_t>(t.length)) s.append(static_cast<std::size_t>(t.length) - n, ' ');
      return s;
    }
    case SqlType::datetime: case SqlType::datetime2: case SqlType::smalldatetime: case SqlType::date: case SqlType::time:
    case SqlType::datetimeoffset: {
      // Stored as written by older paths ('20261202', or an INTEGER under NUMERIC affinity):
      // shown in the type's canonical form.
      const std::string s = cell_text(c);
      auto norm = normalize_datetime(s, t, nullptr);
      return norm ? *norm : s;
    }
    default:
      return cell_text(c);
  }
}

}  // namespace sandbox::engine
