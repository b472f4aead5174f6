// BACKUP DATABASE / BACKUP LOG and RESTORE, SQL Server style (docs/facts.md §2, §8, §10): a full
// backup is consistent as of its end E; transactions open at E are in the image with their
// log records and a restore rolls them back (recovery).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/checksums.hpp"
#include "engine/backup_file.hpp"
#include "engine/database_options.hpp"
#include "engine/engine_internal.hpp"

namespace sandbox::engine {

namespace fs = std::filesystem;

namespace {

Message info_msg(int number, std::string text) {
  Message m;
  m.number = number;
  m.severity = 0;
  m.text = std::move(text);
  return m;
}

// SQL Server follows each progress message of BACKUP ... WITH STATS with a DONEINPROC
// (DONE_MORE set); ODBC drivers hand the message to the caller at that marker.
void progress(ResultSink& sink, const Message& m) {
  sink.message(m);
  sink.done(DoneKind::in_proc, std::nullopt, false);
}

std::string new_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%04X-%012llX", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>((a & 0x0FFF) | 0x4000),
                static_cast<unsigned>(((b >> 48) & 0x3FFF) | 0x8000), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) raise(3201, 16, "Cannot open backup device '" + path + "'. Operating system error 2(The system cannot find the file specified.).");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) raise(3201, 16, "Cannot open backup device '" + path + "'. Operating system error 3(The system cannot find the path specified.).");
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) raise(3201, 16, "Cannot open backup device '" + path + "'. Operating system error 112(There is not enough space on the disk.).");
}

std::string elapsed_text(const char* what, std::int64_t pages, double seconds) {
  char buf[200];
  if (seconds < 0.001) seconds = 0.001;
  const double mb = static_cast<double>(pages) * 8192.0 / 1048576.0 / seconds;
  std::snprintf(buf, sizeof buf, "%s successfully processed %lld pages in %.3f seconds (%.3f MB/sec).", what,
                static_cast<long long>(pages), seconds, mb);
  return buf;
}

void triggers_off(sqlite3* c) {
  sqlite3_create_function_v2(c, "m2r_triggers_enabled", -1, SQLITE_UTF8, nullptr,
                             [](sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_int(ctx, 0); }, nullptr, nullptr, nullptr);
}

// Transactions with a begin record and no commit/abort record (open at the log's end).
std::vector<std::string> open_xacts(sqlite3* c) {
  std::vector<std::string> out;
  Stmt s(c, "SELECT b.xact_id FROM __m2r_log b WHERE b.operation = 'LOP_BEGIN_XACT' AND NOT EXISTS (SELECT 1 FROM __m2r_log e"
            " WHERE e.xact_id = b.xact_id AND e.operation IN ('LOP_COMMIT_XACT','LOP_ABORT_XACT')) ORDER BY b.seq");
  while (s.step()) out.push_back(s.str(0));
  return out;
}

// Restore recovery: roll back what was open at the end of the restored log.
void recover(sqlite3* c) {
  LsnState lsn = LsnState::parse(query_str(c, "SELECT value FROM __m2r_meta WHERE key = 'lsn_state'"));
  exec(c, "BEGIN IMMEDIATE");
  try {
    for (auto& x : open_xacts(c)) undo_records(c, x, &lsn, 0, true);
    Stmt s(c, "INSERT INTO __m2r_meta(key, value) VALUES('lsn_state', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, lsn.serialize());
    s.step();
    exec(c, "DELETE FROM __m2r_meta WHERE key = 'state'");
    exec(c, "COMMIT");
  } catch (...) {
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void record_backupset(InstanceImpl& inst, const BackupHeader& h, const std::vector<std::string>& files, const std::string& server) {
  std::lock_guard<std::mutex> lock(inst.msdb_mutex());
  sqlite3* m = inst.msdb();
  exec(m, "BEGIN IMMEDIATE");
  try {
    const std::int64_t media = query_int(m, "SELECT COALESCE(MAX(media_set_id), 0) + 1 FROM backupmediaset");
    Stmt ms(m, "INSERT INTO backupmediaset(media_set_id, media_family_count, is_compressed, software_name) VALUES(?,?,?,?)");
    ms.bind(1, media).bind(2, static_cast<std::int64_t>(files.size())).bind(3, static_cast<std::int64_t>(h.compressed))
        .bind(4, std::string("Microsoft SQL Server (mssql2rds sandbox)"));
    ms.step();
    for (std::size_t i = 0; i < files.size(); ++i) {
      Stmt f(m, "INSERT INTO backupmediafamily(media_set_id, family_sequence_number, media_family_id, physical_device_name, device_type)"
                " VALUES(?,?,?,?,2)");
      f.bind(1, media).bind(2, static_cast<std::int64_t>(i + 1)).bind(3, new_uuid()).bind(4, files[i]);
      f.step();
    }
    Stmt b(m, "INSERT INTO backupset(media_set_id, name, database_name, server_name, machine_name, type, first_lsn, last_lsn,"
              " checkpoint_lsn, database_backup_lsn, is_copy_only, backup_start_date, backup_finish_date, backup_size,"
              " compressed_backup_size, software_major_version, database_version, recovery_model, has_backup_checksums,"
              " backup_set_uuid, user_name) VALUES(?,NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'sa')");
    auto num = [](const std::string& hex) { return hex.empty() ? std::string() : lsn_numeric(hex); };
    b.bind(1, media).bind(2, h.database).bind(3, server).bind(4, server).bind(5, h.type)
        .bind(6, num(h.first_lsn)).bind(7, num(h.last_lsn)).bind(8, num(h.checkpoint_lsn));
    if (h.database_backup_lsn.empty()) b.bind_null(9);
    else b.bind(9, num(h.database_backup_lsn));
    b.bind(10, static_cast<std::int64_t>(h.is_copy_only)).bind(11, h.start_date).bind(12, h.finish_date)
        .bind(13, static_cast<std::int64_t>(h.payload_size)).bind(14, static_cast<std::int64_t>(h.payload_size))
        .bind(15, static_cast<std::int64_t>(h.server_major == 2016 ? 13 : h.server_major == 2017 ? 14 : h.server_major == 2022 ? 16 : 15))
        .bind(16, static_cast<std::int64_t>(h.server_major == 2016 ? 852 : h.server_major == 2017 ? 869 : h.server_major == 2022 ? 957 : 904))
        .bind(17, h.recovery_model).bind(18, static_cast<std::int64_t>(h.has_checksum)).bind(19, h.backup_set_uuid);
    b.step();
    exec(m, "COMMIT");
  } catch (...) {
    sqlite3_exec(m, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace

void InstanceImpl::backup(const BackupOptions& o, ResultSink& sink) {
  const char* what = o.log ? "BACKUP LOG" : "BACKUP DATABASE";
  auto fail = [&](const Message& first) {
    sink.message(first);
    raise(3013, 16, std::string(what) + " is terminating abnormally.");
  };
  auto db = find(o.database);
  if (!db) {
    Message m;
    m.number = 911;
    m.severity = 16;
    m.text = "Database '" + o.database + "' does not exist. Make sure that the name is entered correctly.";
    fail(m);
  }
  if (db->restoring) {
    Message m;
    m.number = 927;
    m.severity = 14;
    m.text = "Database '" + o.database + "' cannot be opened. It is in the middle of a restore.";
    fail(m);
  }
  // Backup compression is not available on Express and Web (docs/facts.md §13): Msg 1844 with
  // SERVERPROPERTY('Edition')'s text. (For BACKUP LOG the sandbox names BACKUP LOG.)
  if (o.compression && !editions::has_backup_compression(edition_of(m_config))) {
    Message m;
    m.number = 1844;
    m.severity = 16;
    m.text = std::string(what) + " WITH COMPRESSION is not supported on " + m_info.edition + ".";
    fail(m);
  }
  for (auto& f : o.files) {
    fs::path p(f);
    if (p.has_parent_path() && !fs::exists(p.parent_path())) {
      Message m;
      m.number = 3201;
      m.severity = 16;
      m.text = "Cannot open backup device '" + f + "'. Operating system error 3(The system cannot find the path specified.).";
      fail(m);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  BackupHeader h;
  h.database = db->name;
  h.type = o.log ? "L" : "D";
  h.server_major = m_config.version;
  h.product_version = m_info.product_version;
  h.is_copy_only = o.copy_only;
  h.compressed = o.compression;
  h.has_checksum = o.checksum;
  h.stripes = static_cast<int>(o.files.size());
  h.backup_set_uuid = new_uuid();
  h.start_date = now_datetime();
  h.recovery_model = db->meta("recovery");
  std::string payload;
  std::int64_t data_pages = 0, log_pages = 0;

  if (o.log) {
    if (h.recovery_model == "SIMPLE") {
      Message m;
      m.number = 4208;
      m.severity = 16;
      m.text = "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.";
      fail(m);
    }
    if (db->meta("database_backup_lsn").empty()) {
      Message m;
      m.number = 4214;
      m.severity = 16;
      m.text = "BACKUP LOG cannot be performed because there is no current database backup.";
      fail(m);
    }
    if (o.files.size() > 1) {
      // Allowed by SQL Server; DMS cannot read striped log backups (docs/facts.md §3).
    }
    std::lock_guard<std::mutex> lock(db->write_mutex);
    std::string first = db->meta("log_backup_lsn");
    if (first.empty()) first = db->meta("log_chain_start");
    h.first_lsn = first;
    h.last_lsn = db->lsn.peek().to_hex();
    h.checkpoint_lsn = query_str(db->admin, "SELECT MAX(lsn) FROM __m2r_log WHERE operation = 'LOP_BEGIN_CKPT'", h.first_lsn);
    h.database_backup_lsn = db->meta("database_backup_lsn");
    h.lsn_state = db->lsn.serialize();
    Stmt s(db->admin, "SELECT lsn, operation, context, xact_id, xact_name, begin_time, end_time, prev_lsn, spid, table_name,"
                      " row_id, row_id_after, before_json, after_json, record_length, description, begin_lsn, lock_info FROM __m2r_log"
                      " WHERE lsn >= ? AND lsn < ? ORDER BY seq");
    s.bind(1, first).bind(2, h.last_lsn);
    static const char* names[] = {"lsn", "operation", "context", "xact_id", "xact_name", "begin_time", "end_time", "prev_lsn", "spid",
                                  "table_name", "row_id", "row_id_after", "before_json", "after_json", "record_length",
                                  "description", "begin_lsn", "lock_info"};
    std::int64_t n = 0;
    while (s.step()) {
      nlohmann::json j;
      for (int c = 0; c < 18; ++c) {
        if (s.null(c)) j[names[c]] = nullptr;
        else if (c == 8 || c == 10 || c == 11 || c == 14) j[names[c]] = s.i64(c);
        else j[names[c]] = s.str(c);
      }
      payload += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      ++n;
    }
    log_pages = std::max<std::int64_t>(1, static_cast<std::int64_t>(payload.size() / 8192) + 1);
    db->set_meta(db->admin, "log_backup_lsn", h.last_lsn);
    exec(db->admin, "BEGIN IMMEDIATE");
    try {
      truncate_log(*db);
      exec(db->admin, "COMMIT");
    } catch (...) {
      sqlite3_exec(db->admin, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } else {
    // 1. Checkpoint (database_backup_lsn / checkpoint_lsn) and, unless COPY_ONLY, the
    //    Backup:CommitDifferentialBase transaction (docs/facts.md §2).
    {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      exec(db->admin, "BEGIN IMMEDIATE");
      try {
        LogRecord b;
        b.operation = "LOP_BEGIN_CKPT";
        b.begin_time = fn_dblog_time_now();
        h.checkpoint_lsn = db->append(db->admin, b);
        LogRecord e;
        e.operation = "LOP_END_CKPT";
        e.end_time = fn_dblog_time_now();
        db->append(db->admin, e);
        h.database_backup_lsn = h.checkpoint_lsn;
        if (!o.copy_only) {
          LogRecord x;
          x.operation = "LOP_BEGIN_XACT";
          x.xact_id = format_xact_id(db->next_xact++);
          x.xact_name = "Backup:CommitDifferentialBase";
          x.begin_time = fn_dblog_time_now();
          x.description = "Backup:CommitDifferentialBase;0x01";
          const std::string bl = db->append(db->admin, x);
          LogRecord c;
          c.operation = "LOP_COMMIT_XACT";
          c.xact_id = x.xact_id;
          c.end_time = fn_dblog_time_now();
          c.begin_lsn = bl;
          db->append(db->admin, c);
        }
        db->persist_lsn(db->admin);
        exec(db->admin, "COMMIT");
      } catch (...) {
        sqlite3_exec(db->admin, "ROLLBACK", nullptr, nullptr, nullptr);
        db->lsn = LsnState::parse(db->meta("lsn_state"));
        throw;
      }
    }
    // 2. Read the data (paced so that STATS progress is visible), reporting percentages.
    const std::int64_t pages4k = query_int(db->admin, "PRAGMA page_count");
    data_pages = std::max<std::int64_t>(pages4k / 2, 1) + 8;
    const double total_bytes = static_cast<double>(data_pages) * 8192.0;
    int next_pct = o.stats > 0 ? o.stats : 101;
    const int steps = 100;
    for (int i = 1; i <= steps; ++i) {
      if (m_config.backup_throughput > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(total_bytes / steps / m_config.backup_throughput));
      }
      if (sink.cancelled()) {
        Message m;
        m.number = 3204;
        m.severity = 16;
        m.text = "The backup or restore was aborted.";
        fail(m);
      }
      // sys.dm_exec_requests.percent_complete follows the copy, whatever STATS says.
      m_requests.set_percent(o.spid, i);
      while (i >= next_pct && next_pct <= 100) {
        if (next_pct < 100) progress(sink, info_msg(3211, std::to_string(next_pct) + " percent processed."));
        next_pct += o.stats;
      }
    }
    // 3. The image as of E: snapshot the file and note E under the write lock.
    const std::string image = m_config.data_dir + "/.backup-" + h.backup_set_uuid + ".sqlite";
    {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      h.last_lsn = db->lsn.peek().to_hex();
      h.lsn_state = db->lsn.serialize();
      sqlite3* dst = nullptr;
      sqlite3_open(image.c_str(), &dst);
      sqlite3_backup* bk = sqlite3_backup_init(dst, "main", db->admin, "main");
      if (!bk) {
        std::string e = sqlite3_errmsg(dst);
        sqlite3_close(dst);
        raise(3013, 16, "BACKUP DATABASE is terminating abnormally. (" + e + ")");
      }
      sqlite3_backup_step(bk, -1);
      sqlite3_backup_finish(bk);
      sqlite3_close(dst);
    }
    // 4. The log a full backup includes starts at MIN(checkpoint, oldest open transaction).
    {
      sqlite3* c = open_connection(image);
      exec(c, "PRAGMA journal_mode=DELETE");
      std::string oldest;
      {
        auto xs = open_xacts(c);
        if (!xs.empty()) oldest = query_str(c, "SELECT lsn FROM __m2r_log WHERE operation = 'LOP_BEGIN_XACT' AND xact_id = " + quote_literal(xs.front()));
      }
      h.first_lsn = oldest.empty() ? h.checkpoint_lsn : std::min(oldest, h.checkpoint_lsn);
      Stmt d(c, "DELETE FROM __m2r_log WHERE lsn < ?");
      d.bind(1, h.first_lsn);
      d.step();
      exec(c, "VACUUM");
      sqlite3_close_v2(c);
    }
    payload = read_file(image);
    std::error_code ec;
    fs::remove(image, ec);
    log_pages = 2;
    if (!o.copy_only) {
      std::lock_guard<std::mutex> lock(db->write_mutex);
      db->set_meta(db->admin, "database_backup_lsn", h.checkpoint_lsn);
      if (db->meta("log_backup_lsn").empty()) db->set_meta(db->admin, "log_chain_start", h.first_lsn);
    }
  }
  // Write the stripes.
  h.payload_size = payload.size();
  h.payload_crc32c = m2r::aws::crc32c(payload);
  h.finish_date = now_datetime();
  const std::size_t n = o.files.size();
  const std::size_t per = (payload.size() + n - 1) / std::max<std::size_t>(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    BackupHeader sh = h;
    sh.stripe = static_cast<int>(i + 1);
    const std::size_t off = std::min(payload.size(), i * per);
    const std::string part = payload.substr(off, std::min(per, payload.size() - off));
    if (!o.init && fs::exists(o.files[i])) {
      // NOINIT appends a backup set in SQL Server; the sandbox keeps one set per file (README.md).
    }
    try {
      write_file(o.files[i], encode_stripe(sh, part));
    } catch (const SqlError& e) {
      fail(e.msg);
    }
  }
  if (!o.log) {
    sink.message(info_msg(4035, "Processed " + std::to_string(data_pages) + " pages for database '" + db->name + "', file '" + db->name + "' on file 1."));
    if (o.stats > 0) progress(sink, info_msg(3211, "100 percent processed."));
  }
  sink.message(info_msg(4035, "Processed " + std::to_string(log_pages) + " pages for database '" + db->name + "', file '" + db->name +
                              "_log' on file 1."));
  if (o.log && o.stats > 0) progress(sink, info_msg(3211, "100 percent processed."));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  record_backupset(*this, h, o.files, m_config.name);
  sink.message(info_msg(3014, elapsed_text(what, data_pages + log_pages, secs)));
  sink.done(DoneKind::statement, std::nullopt, false);
}

std::shared_ptr<Database> InstanceImpl::install_database(const std::string& name, const std::string& image_path) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_dbs.count(lower(name))) raise(1801, 16, "Database '" + name + "' already exists. Choose a different database name.");
  int id = 5;
  for (auto& [k, v] : m_dbs) id = std::max(id, v->id + 1);
  static std::atomic<int> counter{0};
  const std::string path = m_config.data_dir + "/db_" + std::to_string(id) + "_" + std::to_string(std::time(nullptr)) + "_" +
                           std::to_string(++counter) + ".sqlite";
  fs::rename(image_path, path);
  Stmt s(m_master, "INSERT INTO __m2r_databases(database_id, name, path, create_date) VALUES(?,?,?,?)");
  s.bind(1, static_cast<std::int64_t>(id)).bind(2, name).bind(3, path).bind(4, now_datetime());
  s.step();
  auto db = open_db(name, id, path);
  reset_on_restore(*db);  // a restored database is not trusted (database_options.hpp)
  m_dbs[lower(name)] = db;
  return db;
}

void InstanceImpl::restore_from_stripes(const RestoreOptions& o, const std::vector<std::string>& files,
                                        const std::function<void(int)>& percent, ResultSink* sink) {
  const char* what = o.log ? "RESTORE LOG" : "RESTORE DATABASE";
  auto fail = [&](int number, const std::string& text) {
    if (sink) {
      Message m;
      m.number = number;
      m.severity = 16;
      m.text = text;
      sink->message(m);
      raise(3013, 16, std::string(what) + " is terminating abnormally.");
    }
    raise(number, 16, text);
  };
  std::vector<std::pair<BackupHeader, std::string>> parts;
  for (std::size_t i = 0; i < files.size(); ++i) {
    BackupHeader h;
    std::string payload, err;
    if (!decode_stripe(files[i], h, payload, err)) {
      fail(3241, "The media family on device '" + (o.source_label.empty() ? std::to_string(i + 1) : o.source_label) +
                     "' is incorrectly formed. SQL Server cannot process this media family. (" + err + ")");
    }
    parts.emplace_back(h, std::move(payload));
  }
  if (parts.empty()) fail(3201, "Cannot open backup device. No backup files were given.");
  const BackupHeader& h0 = parts.front().first;
  for (auto& [h, p] : parts) {
    if (h.backup_set_uuid != h0.backup_set_uuid) fail(3227, "The volume on device is a duplicate or belongs to a different media set.");
  }
  if (static_cast<int>(parts.size()) != h0.stripes) {
    fail(3132, "The media set has " + std::to_string(h0.stripes) + " media families but only " + std::to_string(parts.size()) +
                   " are provided. All members must be provided.");
  }
  std::sort(parts.begin(), parts.end(), [](auto& a, auto& b) { return a.first.stripe < b.first.stripe; });
  std::string payload;
  for (auto& [h, p] : parts) payload += p;
  if (m2r::aws::crc32c(payload) != h0.payload_crc32c) fail(3189, "Damage to the backup set was detected.");
  if (h0.server_major > m_config.version) {
    auto v = [](int year) {
      return std::string(year == 2016 ? "13.00.6300" : year == 2017 ? "14.00.3456" : year == 2022 ? "16.00.4135" : "15.00.4355");
    };
    fail(3169, "The database was backed up on a server running version " + v(h0.server_major) +
                   ". That version is incompatible with this server, which is running version " + v(m_config.version) +
                   ". Either restore the database on a server that supports the backup, or use a backup that is compatible with this server.");
  }
  if ((h0.type == "L") != o.log) {
    fail(3136, "This backup set cannot be applied because it is on a recovery path that is inconsistent with the database.");
  }
  if (percent) percent(50);
  if (!o.log) {
    auto existing = find(o.database);
    if (existing && !o.replace) {
      if (m_config.kind == InstanceKind::rds) {
        fail(1801, "Database '" + o.database + "' already exists. Two databases that differ only by case or accent are not allowed. Choose a different database name.");
      }
      fail(3159, "The tail of the log for the database \"" + o.database + "\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just overwrite the contents of the log.");
    }
    if (existing) drop_database(o.database);
    static std::atomic<int> counter{0};
    const std::string tmp = m_config.data_dir + "/.restore-" + std::to_string(++counter) + "-" + h0.backup_set_uuid + ".sqlite";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    }
    {
      sqlite3* c = open_connection(tmp);
      triggers_off(c);
      exec(c, "PRAGMA foreign_keys = OFF");
      // Replication and CDC settings do not travel with a restore to another server
      // (unless KEEP_REPLICATION / KEEP_CDC), nor does the backup history.
      exec(c, "DELETE FROM __m2r_meta WHERE key IN ('is_published','is_cdc_enabled','cdc_capture_job','repl_done_lsn','log_backup_lsn','log_chain_start');"
              "UPDATE __m2r_objects SET is_replicated = 0, is_tracked_by_cdc = 0;");
      if (o.norecovery) exec(c, "INSERT INTO __m2r_meta(key, value) VALUES('state','RESTORING') ON CONFLICT(key) DO UPDATE SET value = 'RESTORING'");
      else recover(c);
      exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
      sqlite3_close_v2(c);
    }
    install_database(o.database, tmp);
  } else {
    auto db = find(o.database);
    if (!db) fail(3701, "Cannot restore the log: database '" + o.database + "' does not exist.");
    if (!db->restoring) fail(3117, "The log or differential backup cannot be restored because no files are ready to rollforward.");
    std::lock_guard<std::mutex> lock(db->write_mutex);
    sqlite3* c = db->admin;
    const std::string end = db->lsn.peek().to_hex();
    const std::string last_have = query_str(c, "SELECT MAX(lsn) FROM __m2r_log", end);
    if (h0.first_lsn > end) {
      fail(4305, "The log in this backup set begins at LSN " + lsn_numeric(h0.first_lsn) +
                     ", which is too recent to apply to the database. An earlier log backup that includes LSN " + lsn_numeric(end) +
                     " can be restored.");
    }
    if (h0.last_lsn <= last_have) {
      fail(4326, "The log in this backup set terminates at LSN " + lsn_numeric(h0.last_lsn) +
                     ", which is too early to apply to the database. A more recent log backup that includes LSN " + lsn_numeric(end) +
                     " can be restored.");
    }
    triggers_off(c);
    exec(c, "PRAGMA foreign_keys = OFF");
    exec(c, "BEGIN IMMEDIATE");
    try {
      std::istringstream in(payload);
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        const std::string lsn = j["lsn"];
        if (lsn <= last_have) continue;
        // Redo the row change from its after image.
        if (!j["table_name"].is_null()) {
          std::string table = j["table_name"];
          if (table.rfind("dbo.", 0) == 0) table = table.substr(4);
          const std::string op = j["operation"];
          const std::int64_t k1 = j["row_id"].is_null() ? 0 : j["row_id"].get<std::int64_t>();
          const std::int64_t k2 = j["row_id_after"].is_null() ? k1 : j["row_id_after"].get<std::int64_t>();
          auto bind_json = [](Stmt& s, int i, const nlohmann::json& v) {
            if (v.is_null()) s.bind_null(i);
            else if (v.is_number_integer()) s.bind(i, v.get<std::int64_t>());
            else if (v.is_number()) s.bind(i, v.get<double>());
            else if (v.is_string()) s.bind(i, v.get<std::string>());
            else if (v.is_object() && v.contains("$binary")) {
              std::string hex = v["$binary"].get<std::string>().substr(2), raw;
              for (std::size_t k = 0; k + 1 < hex.size(); k += 2) raw += static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16));
              sqlite3_bind_blob(s.get(), i, raw.data(), static_cast<int>(raw.size()), SQLITE_TRANSIENT);
            } else s.bind(i, v.dump());
          };
          if (op == "LOP_INSERT_ROWS") {
            auto img = nlohmann::json::parse(j["after_json"].get<std::string>());
            std::string cols = "rowid", qs = "?";
            for (auto& [k, v] : img.items()) { cols += ", " + quote_ident(k); qs += ", ?"; }
            Stmt s(c, "INSERT INTO " + quote_ident(table) + "(" + cols + ") VALUES(" + qs + ")");
            s.bind(1, k2);
            int i = 2;
            for (auto& [k, v] : img.items()) bind_json(s, i++, v);
            s.step();
          } else if (op == "LOP_DELETE_ROWS") {
            Stmt s(c, "DELETE FROM " + quote_ident(table) + " WHERE rowid = ?");
            s.bind(1, k1);
            s.step();
          } else if (op == "LOP_MODIFY_ROW") {
            auto img = nlohmann::json::parse(j["after_json"].get<std::string>());
            std::string sets = "rowid = ?";
            for (auto& [k, v] : img.items()) sets += ", " + quote_ident(k) + " = ?";
            Stmt s(c, "UPDATE " + quote_ident(table) + " SET " + sets + " WHERE rowid = ?");
            s.bind(1, k2);
            int i = 2;
            for (auto& [k, v] : img.items()) bind_json(s, i++, v);
            s.bind(i, k1);
            s.step();
          }
        }
        Stmt ins(c, "INSERT INTO __m2r_log(lsn, operation, context, xact_id, xact_name, begin_time, end_time, prev_lsn, spid,"
                    " table_name, row_id, row_id_after, before_json, after_json, record_length, description, begin_lsn, lock_info)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        static const char* names[] = {"lsn", "operation", "context", "xact_id", "xact_name", "begin_time", "end_time", "prev_lsn",
                                      "spid", "table_name", "row_id", "row_id_after", "before_json", "after_json",
                                      "record_length", "description", "begin_lsn", "lock_info"};
        for (int k = 0; k < 18; ++k) {
          const auto& v = j[names[k]];
          if (v.is_null()) ins.bind_null(k + 1);
          else if (v.is_number_integer()) ins.bind(k + 1, v.get<std::int64_t>());
          else ins.bind(k + 1, v.get<std::string>());
        }
        ins.step();
      }
      db->lsn = LsnState::parse(h0.lsn_state);
      db->persist_lsn(c);
      exec(c, "COMMIT");
    } catch (const SqlError&) {
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      db->lsn = LsnState::parse(db->meta("lsn_state"));
      throw;
    } catch (const std::exception& e) {
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      db->lsn = LsnState::parse(db->meta("lsn_state"));
      fail(3013, std::string("RESTORE LOG failed: ") + e.what());
    }
    if (!o.norecovery) {
      recover(c);
      db->lsn = LsnState::parse(db->meta("lsn_state"));
      db->restoring = false;
    }
  }
  if (percent) percent(100);
}

void InstanceImpl::restore(const RestoreOptions& o, ResultSink& sink) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> files;
  for (auto& f : o.files) {
    try {
      files.push_back(read_file(f));
    } catch (const SqlError& e) {
      sink.message(e.msg);
      raise(3013, 16, std::string(o.log ? "RESTORE LOG" : "RESTORE DATABASE") + " is terminating abnormally.");
    }
  }
  RestoreOptions opts = o;
  opts.source_label = o.files.front();
  restore_from_stripes(opts, files, [&](int pct) { m_requests.set_percent(o.spid, pct); }, &sink);
  std::size_t bytes = 0;
  for (auto& f : files) bytes += f.size();
  const auto pages = static_cast<std::int64_t>(bytes / 8192 + 1);
  Message m;
  m.number = 4035;
  m.text = "Processed " + std::to_string(pages) + " pages for database '" + o.database + "', file '" + o.database + "' on file 1.";
  sink.message(m);
  m.number = 3014;
  m.text = elapsed_text(o.log ? "RESTORE LOG" : "RESTORE DATABASE", pages,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  sink.message(m);
  sink.done(DoneKind::statement, std::nullopt, false);
}

void InstanceImpl::finish_restore(const std::string& name) {
  auto db = find(name);
  if (!db) raise(3701, 16, "Database '" + name + "' does not exist.");
  if (!db->restoring) raise(3117, 16, "The database '" + name + "' is already fully recovered.");
  std::lock_guard<std::mutex> lock(db->write_mutex);
  triggers_off(db->admin);
  exec(db->admin, "PRAGMA foreign_keys = OFF");
  recover(db->admin);
  db->lsn = LsnState::parse(db->meta("lsn_state"));
  db->restoring = false;
}

}  // namespace sandbox::engine
