// The sandbox instance: its databases (one SQLite file each under data_dir), master and
// msdb, logins, log truncation. See README.md.
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "engine/tempdb.hpp"
#include "engine/engine_internal.hpp"

namespace sandbox::engine {

namespace fs = std::filesystem;

std::string now_datetime() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string lsn_numeric(const std::string& hex) {
  auto lsn = m2r::Lsn::parse(hex);
  return lsn ? lsn->to_numeric() : std::string("0");
}

Database::~Database() {
  if (admin) sqlite3_close_v2(admin);
}

std::string Database::meta(const std::string& key, const std::string& def) {
  std::lock_guard<std::mutex> lock(flags_mutex);
  Stmt s(admin, "SELECT value FROM __m2r_meta WHERE key = ?");
  s.bind(1, key);
  return s.step() ? s.str(0) : def;
}

void Database::set_meta(sqlite3* c, const std::string& key, const std::string& value) {
  Stmt s(c, "INSERT INTO __m2r_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.bind(1, key).bind(2, value);
  s.step();
}

void Database::persist_lsn(sqlite3* c) {
  set_meta(c, "lsn_state", lsn.serialize());
  set_meta(c, "next_xact", std::to_string(next_xact));
}

std::string Database::append(sqlite3* c, const LogRecord& rec) { return append_log(c, lsn, rec); }

sqlite3* open_connection(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    if (db) sqlite3_close_v2(db);
    raise(5120, 16, "Unable to open the physical file \"" + path + "\". Operating system error: " + m + ".");
  }
  sqlite3_busy_timeout(db, 30000);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  return db;
}

void create_internal_schema(sqlite3* db) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS __m2r_meta(key TEXT PRIMARY KEY, value TEXT);"
       "CREATE TABLE IF NOT EXISTS __m2r_schemas(schema_id int PRIMARY KEY, name nvarchar(128) NOT NULL, principal_id int);"
       "INSERT OR IGNORE INTO __m2r_schemas VALUES(1,'dbo',1),(2,'guest',2),(3,'INFORMATION_SCHEMA',3),(4,'sys',4);"
       "CREATE TABLE IF NOT EXISTS __m2r_objects(object_id int PRIMARY KEY, name nvarchar(128) NOT NULL, schema_id int,"
       " parent_object_id int, type char(2), type_desc nvarchar(60), create_date datetime, modify_date datetime,"
       " definition nvarchar(-1), is_disabled bit DEFAULT 0, is_replicated bit DEFAULT 0, is_tracked_by_cdc bit DEFAULT 0,"
       " sqlite_name nvarchar(256), referenced_object_id int, delete_action nvarchar(60), update_action nvarchar(60),"
       " is_not_trusted bit DEFAULT 0);"
       "CREATE TABLE IF NOT EXISTS __m2r_columns(object_id int, column_id int, name nvarchar(128), type_name nvarchar(128),"
       " system_type_id tinyint, max_length smallint, precision tinyint, scale tinyint, is_nullable bit, is_identity bit,"
       " seed_value bigint, increment_value bigint, PRIMARY KEY(object_id, column_id));"
       "CREATE TABLE IF NOT EXISTS __m2r_index_columns(object_id int, index_id int, column_id int, key_ordinal int);"
       "CREATE TABLE IF NOT EXISTS __m2r_fk_columns(constraint_object_id int, constraint_column_id int, parent_object_id int,"
       " parent_column_id int, referenced_object_id int, referenced_column_id int);");
  create_log_schema(db);
}

namespace {

std::string product_version(int v) {
  switch (v) {
    case 2016: return "13.0.6300.2";
    case 2017: return "14.0.3456.2";
    case 2022: return "16.0.4135.4";
    default: return "15.0.4355.3";
  }
}

void create_msdb_schema(sqlite3* db) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS backupset(backup_set_id INTEGER PRIMARY KEY, media_set_id int, name nvarchar(128),"
       " database_name nvarchar(128), server_name nvarchar(128), machine_name nvarchar(128), type char(1),"
       " first_lsn numeric(25,0), last_lsn numeric(25,0), checkpoint_lsn numeric(25,0), database_backup_lsn numeric(25,0),"
       " is_copy_only bit, backup_start_date datetime, backup_finish_date datetime, backup_size numeric(20,0),"
       " compressed_backup_size numeric(20,0), software_major_version tinyint, database_version int,"
       " recovery_model nvarchar(60), has_backup_checksums bit, is_damaged bit DEFAULT 0, position int DEFAULT 1,"
       " backup_set_uuid uniqueidentifier, user_name nvarchar(128));"
       "CREATE TABLE IF NOT EXISTS backupmediafamily(media_set_id int, family_sequence_number tinyint,"
       " media_family_id uniqueidentifier, physical_device_name nvarchar(260), device_type tinyint, mirror tinyint DEFAULT 0);"
       "CREATE TABLE IF NOT EXISTS backupmediaset(media_set_id INTEGER PRIMARY KEY, media_family_count tinyint,"
       " is_compressed bit, software_name nvarchar(128));"
       "CREATE TABLE IF NOT EXISTS backupfile(backup_set_id int, file_type char(1), logical_name nvarchar(128),"
       " physical_name nvarchar(260), backup_size numeric(20,0));"
       "CREATE TABLE IF NOT EXISTS rds_tasks(task_id INTEGER PRIMARY KEY, task_type nvarchar(50), database_name nvarchar(128),"
       " percent_complete int, lifecycle nvarchar(20), task_info nvarchar(-1), last_updated datetime, created_at datetime,"
       " s3_object_arn nvarchar(1000), overwrite_s3_backup_file tinyint, kms_master_key_arn nvarchar(1000),"
       " filepath nvarchar(1000), overwrite_file tinyint, with_norecovery tinyint, restore_type nvarchar(20), stopat nvarchar(40));");
}

}  // namespace

InstanceImpl::InstanceImpl(const InstanceConfig& config) : m_config(config) {
  fs::create_directories(m_config.data_dir);
  reset_tempdb(m_config.data_dir);  // SQL Server re-creates tempdb at every start
  m_info.server_name = m_config.name;
  m_info.product_version = product_version(m_config.version);
  m_info.is_rds = m_config.kind == InstanceKind::rds;
  m_info.edition = m_info.is_rds ? "Standard Edition (64-bit)" : "Developer Edition (64-bit)";
  const char* year = m_config.version == 2016 ? "2016 (SP3)" : m_config.version == 2017 ? "2017 (RTM-CU31)"
                   : m_config.version == 2022 ? "2022 (RTM-CU12)" : "2019 (RTM-CU22)";
  m_info.version_banner = std::string("Microsoft SQL Server ") + year + " - " + m_info.product_version +
                          " (X64) \n\tmssql2rds sandbox \n\tCopyright (C) Microsoft Corporation\n\t" + m_info.edition +
                          " on Linux (mssql2rds rehearsal world)" + (m_info.is_rds ? " (Amazon RDS)" : "");
  m_master = open_connection(m_config.data_dir + "/master.sqlite");
  exec(m_master,
       "CREATE TABLE IF NOT EXISTS __m2r_databases(database_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
       " path TEXT, create_date TEXT);");
  create_internal_schema(m_master);
  m_principals = std::make_unique<PrincipalStore>(m_config.data_dir + "/master.sqlite", m_config);
  m_msdb = open_connection(msdb_path());
  create_internal_schema(m_msdb);
  create_msdb_schema(m_msdb);
  // Pending RDS tasks do not survive a restart.
  exec(m_msdb, "UPDATE rds_tasks SET lifecycle = 'ERROR', task_info = 'Task interrupted by an instance restart.' "
               "WHERE lifecycle IN ('CREATED','IN_PROGRESS','CANCEL_REQUESTED')");
  m_dbs["master"] = open_db("master", 1, m_config.data_dir + "/master.sqlite");
  m_dbs["msdb"] = open_db("msdb", 4, msdb_path());
  Stmt s(m_master, "SELECT database_id, name, path FROM __m2r_databases ORDER BY database_id");
  while (s.step()) m_dbs[lower(s.str(1))] = open_db(s.str(1), static_cast<int>(s.i64(0)), s.str(2));
}

InstanceImpl::~InstanceImpl() {
  m_stopping = true;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(m_tasks_mutex);
    threads.swap(m_task_threads);
  }
  for (auto& t : threads) if (t.joinable()) t.join();
  m_dbs.clear();
  sqlite3_close_v2(m_msdb);
  sqlite3_close_v2(m_master);
}

std::shared_ptr<Database> InstanceImpl::open_db(const std::string& name, int id, const std::string& path) {
  static std::atomic<std::uint64_t> generations{0};
  auto db = std::make_shared<Database>();
  db->generation = ++generations;
  db->name = name;
  db->id = id;
  db->path = path;
  db->admin = open_connection(path);
  create_internal_schema(db->admin);
  create_database_principals(db->admin, name);  // users travel with the database file
  std::string st = db->meta("lsn_state");
  if (!st.empty()) db->lsn = LsnState::parse(st);
  else db->lsn.vlf = 0x20 + static_cast<std::uint32_t>(id);
  std::string nx = db->meta("next_xact");
  if (!nx.empty()) db->next_xact = std::stoll(nx);
  if (db->meta("recovery").empty()) db->set_meta(db->admin, "recovery", name == "master" || name == "msdb" ? "SIMPLE" : "FULL");
  if (db->meta("create_date").empty()) db->set_meta(db->admin, "create_date", now_datetime());
  db->restoring = db->meta("state") == "RESTORING";
  db->read_committed_snapshot = db->meta("read_committed_snapshot") == "1";
  db->allow_snapshot_isolation = db->meta("allow_snapshot_isolation") == "1";
  auto load_set = [&](const std::string& key, std::set<std::string>& out) {
    std::string v = db->meta(key);
    std::size_t p = 0;
    while (p < v.size()) {
      auto e = v.find('\n', p);
      if (e == std::string::npos) e = v.size();
      if (e > p) out.insert(v.substr(p, e - p));
      p = e + 1;
    }
  };
  load_set("triggers_disabled", db->triggers_disabled);
  load_set("fk_nocheck", db->fk_nocheck);
  return db;
}

std::shared_ptr<Database> InstanceImpl::find(const std::string& name) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_dbs.find(lower(name));
  return it == m_dbs.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Database>> InstanceImpl::databases() {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<std::shared_ptr<Database>> out;
  for (auto& [k, v] : m_dbs) out.push_back(v);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a->id < b->id; });
  return out;
}

std::shared_ptr<Database> InstanceImpl::create_database(const std::string& name) {
  std::lock_guard<std::mutex> lock(m_mutex);
  static const std::set<std::string> reserved = {"master", "msdb", "model", "tempdb"};
  if (m_dbs.count(lower(name)) || reserved.count(lower(name))) {
    raise(1801, 16, "Database '" + name + "' already exists. Choose a different database name.");
  }
  int id = 5;
  for (auto& [k, v] : m_dbs) id = std::max(id, v->id + 1);
  std::string path = m_config.data_dir + "/db_" + std::to_string(id) + "_" + std::to_string(std::time(nullptr)) + ".sqlite";
  fs::remove(path);
  Stmt s(m_master, "INSERT INTO __m2r_databases(database_id, name, path, create_date) VALUES(?,?,?,?)");
  s.bind(1, static_cast<std::int64_t>(id)).bind(2, name).bind(3, path).bind(4, now_datetime());
  s.step();
  auto db = open_db(name, id, path);
  m_dbs[lower(name)] = db;
  return db;
}

void InstanceImpl::drop_database(const std::string& name) {
  std::shared_ptr<Database> db;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_dbs.find(lower(name));
    if (it == m_dbs.end() || it->second->id <= 4) {
      raise(3701, 11, "Cannot drop the database '" + name + "', because it does not exist or you do not have permission.");
    }
    db = it->second;
    m_dbs.erase(it);
    Stmt s(m_master, "DELETE FROM __m2r_databases WHERE database_id = ?");
    s.bind(1, static_cast<std::int64_t>(db->id));
    s.step();
  }
  db->dropped = true;
  std::lock_guard<std::mutex> wl(db->write_mutex);
  sqlite3_close_v2(db->admin);
  db->admin = nullptr;
  std::error_code ec;
  fs::remove(db->path, ec);
  fs::remove(db->path + "-wal", ec);
  fs::remove(db->path + "-shm", ec);
}

// Log truncation (docs/facts.md §3 and the issue): SIMPLE truncates at checkpoint; FULL and
// BULK_LOGGED only after a log backup (or never, before the first full backup: the
// database then behaves as SIMPLE) and never past the oldest open transaction or what
// replication / CDC has not yet read. Caller holds db.write_mutex.
void InstanceImpl::truncate_log(Database& db) {
  sqlite3* c = db.admin;
  std::string oldest_open = query_str(c,
      "SELECT MIN(b.lsn) FROM __m2r_log b WHERE b.operation = 'LOP_BEGIN_XACT' AND NOT EXISTS (SELECT 1 FROM __m2r_log e"
      " WHERE e.xact_id = b.xact_id AND e.operation IN ('LOP_COMMIT_XACT','LOP_ABORT_XACT'))");
  std::string last_ckpt = query_str(c, "SELECT MAX(lsn) FROM __m2r_log WHERE operation = 'LOP_BEGIN_CKPT'");
  if (last_ckpt.empty()) return;
  std::string point = last_ckpt;
  const std::string recovery = db.meta("recovery");
  const bool has_full = !db.meta("database_backup_lsn").empty();
  if (recovery != "SIMPLE" && has_full) {
    std::string lb = db.meta("log_backup_lsn");
    if (lb.empty()) return;
    point = std::min(point, lb);
  }
  if (!oldest_open.empty()) point = std::min(point, oldest_open);
  if (db.meta("is_published") == "1" || db.meta("is_cdc_enabled") == "1") {
    std::string rd = db.meta("repl_done_lsn");
    if (rd.empty()) return;
    point = std::min(point, rd);
  }
  Stmt s(c, "DELETE FROM __m2r_log WHERE lsn < ?");
  s.bind(1, point);
  s.step();
}

std::string InstanceImpl::log_reuse_wait(Database& db) {
  sqlite3* c = db.admin;
  std::string oldest_open = query_str(c,
      "SELECT MIN(b.lsn) FROM __m2r_log b WHERE b.operation = 'LOP_BEGIN_XACT' AND NOT EXISTS (SELECT 1 FROM __m2r_log e"
      " WHERE e.xact_id = b.xact_id AND e.operation IN ('LOP_COMMIT_XACT','LOP_ABORT_XACT'))");
  std::string end = db.lsn.peek().to_hex();
  const std::string recovery = db.meta("recovery");
  const bool has_full = !db.meta("database_backup_lsn").empty();
  if (db.meta("is_published") == "1" || db.meta("is_cdc_enabled") == "1") {
    std::string rd = db.meta("repl_done_lsn");
    if (rd.empty() || rd < end) return "REPLICATION";
  }
  if (!oldest_open.empty()) return "ACTIVE_TRANSACTION";
  if (recovery != "SIMPLE" && has_full) {
    std::string lb = db.meta("log_backup_lsn");
    if (lb.empty() || lb < end) return "LOG_BACKUP";
  }
  return "NOTHING";
}

void InstanceImpl::checkpoint(Database& db) {
  exec(db.admin, "BEGIN IMMEDIATE");
  try {
    LogRecord b;
    b.operation = "LOP_BEGIN_CKPT";
    b.begin_time = fn_dblog_time_now();
    db.append(db.admin, b);
    LogRecord e;
    e.operation = "LOP_END_CKPT";
    e.end_time = fn_dblog_time_now();
    db.append(db.admin, e);
    db.persist_lsn(db.admin);
    truncate_log(db);
    exec(db.admin, "COMMIT");
  } catch (...) {
    exec(db.admin, "ROLLBACK");
    db.lsn = LsnState::parse(db.meta("lsn_state"));
    throw;
  }
}

}  // namespace sandbox::engine
