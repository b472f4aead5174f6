// RDS for SQL Server native restore procedures (docs/facts.md §5): msdb.dbo.rds_restore_database,
// rds_restore_log, rds_finish_restore, rds_cancel_task, rds_drop_database, rds_task_status.
// Tasks live in msdb.rds_tasks and run on background threads at the configured pace.
#include <chrono>
#include <thread>

#include "aws/aws_context.hpp"
#include "aws/s3_client.hpp"
#include "engine/backup_file.hpp"
#include "engine/engine_internal.hpp"

namespace sandbox::engine {

namespace {

std::string str(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return {};
}

std::int64_t num(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* s = std::get_if<std::string>(&v)) return std::atoll(s->c_str());
  return 0;
}

[[noreturn]] void rds_error(const std::string& text) { raise(50000, 16, text); }

ColumnType ty(SqlType t, int len = 0) {
  ColumnType c;
  c.type = t;
  c.length = len;
  return c;
}

}  // namespace

// Exactly the columns of docs/facts.md §5.
static void task_rows(sqlite3* m, const std::string& where, std::int64_t bind_id, const std::string& bind_name, ResultSink& sink) {
  std::vector<Column> cols = {
      {"task_id", ty(SqlType::int_), false},
      {"task_type", ty(SqlType::nvarchar, 50), true},
      {"database_name", ty(SqlType::nvarchar, 128), true},
      {"% complete", ty(SqlType::int_), true},
      {"duration (mins)", ty(SqlType::int_), true},
      {"lifecycle", ty(SqlType::nvarchar, 20), true},
      {"task_info", ty(SqlType::nvarchar, k_max_length), true},
      {"last_updated", ty(SqlType::datetime), true},
      {"created_at", ty(SqlType::datetime), true},
      {"S3_object_arn", ty(SqlType::nvarchar, 1000), true},
      {"overwrite_s3_backup_file", ty(SqlType::tinyint), true},
      {"KMS_master_key_arn", ty(SqlType::nvarchar, 1000), true},
      {"filepath", ty(SqlType::nvarchar, 1000), true},
      {"overwrite_file", ty(SqlType::tinyint), true},
  };
  sink.columns(cols);
  Stmt s(m, "SELECT task_id, task_type, database_name, percent_complete,"
            " CAST((julianday(last_updated) - julianday(created_at)) * 1440 AS INTEGER), lifecycle, task_info, last_updated,"
            " created_at, s3_object_arn, overwrite_s3_backup_file, kms_master_key_arn, filepath, overwrite_file FROM rds_tasks " +
                where + " ORDER BY task_id");
  if (where.find("?1") != std::string::npos) {
    if (!bind_name.empty()) s.bind(1, bind_name);
    else s.bind(1, bind_id);
  }
  std::int64_t n = 0;
  while (s.step()) {
    std::vector<Value> row;
    for (int i = 0; i < 14; ++i) {
      if (s.null(i)) row.emplace_back(std::monostate{});
      else if (i == 0 || i == 3 || i == 4 || i == 10 || i == 13) row.emplace_back(s.i64(i));
      else row.emplace_back(s.str(i));
    }
    sink.row(row);
    ++n;
  }
  sink.done(DoneKind::in_proc, n, false);
}

void InstanceImpl::rds_procedure(const std::string& proc, const std::map<std::string, Value>& args, ResultSink& sink) {
  auto arg = [&](const char* name) -> std::string {
    auto it = args.find(name);
    return it == args.end() ? std::string() : str(it->second);
  };
  if (proc == "rds_task_status") {
    std::lock_guard<std::mutex> lock(m_msdb_mutex);
    if (args.count("@task_id")) task_rows(m_msdb, "WHERE task_id = ?1", num(args.at("@task_id")), "", sink);
    else if (!arg("@db_name").empty()) task_rows(m_msdb, "WHERE database_name = ?1 COLLATE NOCASE", 0, arg("@db_name"), sink);
    else task_rows(m_msdb, "", 0, "", sink);
    return;
  }
  if (proc == "rds_restore_database" || proc == "rds_restore_log") {
    const bool log = proc == "rds_restore_log";
    const std::string db = arg("@restore_db_name");
    const std::string arn = arg("@s3_arn_to_restore_from");
    if (db.empty()) rds_error("Please specify a database name (@restore_db_name) to restore.");
    if (arn.empty()) rds_error("S3 ARN prefix cannot be empty");
    const bool norecovery = args.count("@with_norecovery") ? num(args.at("@with_norecovery")) != 0 : log;
    std::string type = upper(arg("@type"));
    if (type.empty()) type = "FULL";
    if (type == "DIFFERENTIAL") rds_error("The sandbox does not support differential restores (@type='DIFFERENTIAL').");
    if (type != "FULL") rds_error("Invalid @type '" + type + "'. Valid values are FULL and DIFFERENTIAL.");
    if (!arg("@stopat").empty()) rds_error("The sandbox does not support @stopat.");
    if (!log && find(db)) {
      rds_error("Database '" + db + "' already exists. Two databases that differ only by case or accent are not allowed. Choose a different database name.");
    }
    std::int64_t task_id = 0;
    {
      std::lock_guard<std::mutex> lock(m_msdb_mutex);
      // At most two backup/restore tasks at a time per instance (docs/facts.md §5).
      const std::int64_t active = query_int(m_msdb, "SELECT COUNT(*) FROM rds_tasks WHERE lifecycle IN ('CREATED','IN_PROGRESS','CANCEL_REQUESTED')");
      if (active >= 2) {
        rds_error("Cannot start the task: there are already 2 backup or restore tasks in progress on this DB instance, the maximum allowed. Wait for a task to finish and try again.");
      }
      const std::string now = now_datetime();
      Stmt s(m_msdb, "INSERT INTO rds_tasks(task_type, database_name, percent_complete, lifecycle, task_info, last_updated, created_at,"
                     " s3_object_arn, overwrite_s3_backup_file, kms_master_key_arn, filepath, overwrite_file, with_norecovery,"
                     " restore_type) VALUES(?,?,0,'CREATED',NULL,?,?,?,0,?,NULL,0,?,?)");
      const std::string task_type = std::string(log ? "RESTORE_DB_LOG" : "RESTORE_DB") + (norecovery && !log ? "_NORECOVERY" : log && norecovery ? "_NORECOVERY" : "");
      s.bind(1, task_type).bind(2, db).bind(3, now).bind(4, now).bind(5, arn);
      if (arg("@kms_master_key_arn").empty()) s.bind_null(6);
      else s.bind(6, arg("@kms_master_key_arn"));
      s.bind(7, static_cast<std::int64_t>(norecovery)).bind(8, type);
      s.step();
      task_id = sqlite3_last_insert_rowid(m_msdb);
      task_rows(m_msdb, "WHERE task_id = ?1", task_id, "", sink);
    }
    std::lock_guard<std::mutex> lock(m_tasks_mutex);
    m_task_threads.emplace_back([this, task_id] { rds_worker(task_id); });
    return;
  }
  if (proc == "rds_finish_restore") {
    const std::string db = arg("@db_name");
    auto d = find(db);
    if (!d) rds_error("Database '" + db + "' does not exist.");
    if (!d->restoring) rds_error("Database '" + db + "' is not in a restoring state.");
    finish_restore(db);
    std::lock_guard<std::mutex> lock(m_msdb_mutex);
    const std::string now = now_datetime();
    Stmt s(m_msdb, "INSERT INTO rds_tasks(task_type, database_name, percent_complete, lifecycle, task_info, last_updated, created_at,"
                   " overwrite_s3_backup_file, overwrite_file) VALUES('FINISH_RESTORE', ?, 100, 'SUCCESS', ?, ?, ?, 0, 0)");
    s.bind(1, db).bind(2, "[" + now + "] Task execution has started.\n[" + now + "] Task has been completed successfully.").bind(3, now).bind(4, now);
    s.step();
    return;
  }
  if (proc == "rds_cancel_task") {
    const std::int64_t id = num(args.count("@task_id") ? args.at("@task_id") : Value());
    std::lock_guard<std::mutex> lock(m_msdb_mutex);
    const std::string lc = query_str(m_msdb, "SELECT lifecycle FROM rds_tasks WHERE task_id = " + std::to_string(id));
    if (lc.empty()) rds_error("Task " + std::to_string(id) + " does not exist.");
    if (lc != "CREATED" && lc != "IN_PROGRESS") rds_error("Task " + std::to_string(id) + " cannot be cancelled: it is " + lc + ".");
    exec(m_msdb, "UPDATE rds_tasks SET lifecycle = 'CANCEL_REQUESTED', last_updated = " + quote_literal(now_datetime()) +
                     " WHERE task_id = " + std::to_string(id));
    return;
  }
  if (proc == "rds_drop_database") {
    const std::string db = arg("@db_name");
    if (!find(db)) rds_error("Database '" + db + "' does not exist.");
    drop_database(db);
    return;
  }
  if (proc == "rds_backup_database") raise(40517, 16, "Keyword or statement option 'rds_backup_database' is not supported in this version of SQL Server.");
  raise(2812, 16, "Could not find stored procedure 'msdb.dbo." + proc + "'.");
}

void InstanceImpl::rds_worker(std::int64_t task_id) {
  auto update = [&](const std::string& sets) {
    std::lock_guard<std::mutex> lock(m_msdb_mutex);
    exec(m_msdb, "UPDATE rds_tasks SET " + sets + ", last_updated = " + quote_literal(now_datetime()) + " WHERE task_id = " + std::to_string(task_id));
  };
  auto field = [&](const char* col) {
    std::lock_guard<std::mutex> lock(m_msdb_mutex);
    return query_str(m_msdb, std::string("SELECT ") + col + " FROM rds_tasks WHERE task_id = " + std::to_string(task_id));
  };
  std::string log_text;
  auto note = [&](const std::string& line) {
    log_text += "[" + now_datetime() + "] " + line + "\n";
    update("task_info = " + quote_literal(log_text));
  };
  auto cancelled = [&] { return field("lifecycle") == "CANCEL_REQUESTED" || m_stopping; };
  auto sleep_paced = [&](double seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds * m_config.rds_task_pace);
    while (std::chrono::steady_clock::now() < until) {
      if (cancelled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !cancelled();
  };
  auto error = [&](const std::string& message) {
    note(message);
    update("lifecycle = 'ERROR'");
  };
  const std::string dbname = field("database_name");
  const std::string arn = field("s3_object_arn");
  const bool norecovery = field("with_norecovery") == "1";
  const bool log = field("task_type").rfind("RESTORE_DB_LOG", 0) == 0;
  try {
    if (!sleep_paced(5)) { update("lifecycle = 'CANCELLED'"); return; }
    update("lifecycle = 'IN_PROGRESS'");
    note("Task execution has started.");
    // The option group: SQLSERVER_BACKUP_RESTORE with an IAM role (docs/facts.md §5).
    if (m_config.rds_option_group_role_arn.empty()) {
      return error("Database backup/restore option is not enabled yet or is in the process of being enabled. Please try again later.");
    }
    const std::string prefix = "arn:aws:s3:::";
    if (arn.rfind(prefix, 0) != 0 || arn.size() <= prefix.size()) return error("S3 ARN prefix cannot be empty");
    const std::string rest = arn.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 >= rest.size()) return error("Key " + arn + " does not exist");
    const std::string bucket = rest.substr(0, slash);
    const std::string key = rest.substr(slash + 1);
    if (key.find('*') != std::string::npos) return error("The sandbox does not support multi-file (wildcard) restores; list each file's ARN.");
    if (m_config.rds_s3_endpoint.empty()) return error("Access Denied");
    m2r::aws::Credentials creds;
    creds.access_key_id = m_config.rds_access_key_id;
    creds.secret_access_key = m_config.rds_secret_access_key;
    const std::string region = m_config.rds_region.empty() ? "us-east-1" : m_config.rds_region;
    auto ctx = m2r::aws::AwsContext::for_endpoint(creds, region, m_config.rds_s3_endpoint);
    m2r::aws::S3Client s3(ctx);
    auto loc = s3.get_bucket_location(bucket);
    if (!loc) {
      const std::string m = loc.error().message;
      if (m.find("NoSuchBucket") != std::string::npos || loc.error().kind == m2r::ErrorKind::not_found)
        return error("The specified bucket does not exist");
      return error("Access Denied");
    }
    if (*loc != region) return error("Please specify a bucket that is in the same region as RDS instance");
    update("percent_complete = 5");
    auto obj = s3.get_object(bucket, key);
    if (!obj) {
      if (obj.error().kind == m2r::ErrorKind::not_found) return error("Key " + arn + " does not exist");
      return error("Access Denied");
    }
    // A Multi-AZ instance restores natively only backups taken in FULL recovery (docs/facts.md
    // §13). RDS's task_info wording for it was not found in its documentation: the sandbox's.
    if (m_config.rds_multi_az) {
      BackupHeader header;
      std::string payload, why;
      if (decode_stripe(obj->body, header, payload, why) && header.recovery_model != "FULL") {
        return error("This backup was taken in the " + header.recovery_model + " recovery model. A Multi-AZ DB instance "
                     "restores only backups taken in the FULL recovery model: set the source database to FULL, take a "
                     "new full backup and restore that.");
      }
    }
    for (int pct = 10; pct <= 90; pct += 5) {
      if (!sleep_paced(1)) { note("Task has been cancelled."); update("lifecycle = 'CANCELLED'"); return; }
      update("percent_complete = " + std::to_string(pct));
    }
    RestoreOptions o;
    o.database = dbname;
    o.log = log;
    o.norecovery = norecovery;
    o.source_label = arn;
    try {
      restore_from_stripes(o, {obj->body}, {}, nullptr);
    } catch (const SqlError& e) {
      return error(e.msg.text);
    }
    update("percent_complete = 100");
    note("Task has been completed successfully.");
    update("lifecycle = 'SUCCESS'");
  } catch (const SqlError& e) {
    error(e.msg.text);
  } catch (const std::exception& e) {
    error(std::string("Internal error: ") + e.what());
  }
}

}  // namespace sandbox::engine
