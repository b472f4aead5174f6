#include "engine/cdc.hpp"

#include "engine/engine_internal.hpp"

namespace sandbox::engine {

namespace {

std::string job_name(const Database& db, const char* kind) { return "cdc." + db.name + "_" + kind; }

void drop_jobs(InstanceImpl& instance, const Database& db) {
  std::lock_guard<std::mutex> lock(instance.msdb_mutex());
  for (const char* kind : {"capture", "cleanup"}) {
    const std::string name = quote_literal(job_name(db, kind));
    exec(instance.msdb(), "DELETE FROM sysjobsteps WHERE job_id IN (SELECT job_id FROM sysjobs WHERE name = " + name +
                              ");DELETE FROM sysjobs WHERE name = " + name + ";");
  }
}

}  // namespace

void cdc_enable_db(InstanceImpl& instance, Database& db) {
  const Edition edition = edition_of(instance.config());
  if (!editions::has_cdc(edition)) {
    // The text users report from SQL Server for Express; Microsoft's error list gives 22988
    // without an example, so the edition is named as SERVERPROPERTY('Edition') names it.
    raise(22988, 16, "This instance of SQL Server is the " + editions::property_text(edition) +
                         ". Change data capture is only available in the Enterprise, Developer, Enterprise Evaluation, "
                         "and Standard editions.");
  }
  db.set_meta(db.admin, "is_cdc_enabled", "1");
  // "Once successful, you should see a schema with name cdc" (and the cdc user, not modelled).
  if (!query_int(db.admin, "SELECT COUNT(*) FROM __m2r_schemas WHERE name = 'cdc'")) {
    exec(db.admin, "INSERT INTO __m2r_schemas(schema_id, name, principal_id) SELECT MAX(schema_id) + 1, 'cdc', 1"
                   " FROM __m2r_schemas WHERE schema_id < 16384");
  }
  // The log is held until the capture (or a log reader) has read it.
  if (db.meta("repl_done_lsn").empty()) db.set_meta(db.admin, "repl_done_lsn", db.lsn.peek().to_hex());
}

void cdc_disable_db(InstanceImpl& instance, Database& db) {
  db.set_meta(db.admin, "is_cdc_enabled", "0");
  db.set_meta(db.admin, "cdc_capture_job", "0");
  exec(db.admin, "DELETE FROM __m2r_schemas WHERE name = 'cdc'");
  drop_jobs(instance, db);
}

void cdc_table_enabled(InstanceImpl& instance, Database& db) {
  // sys.sp_cdc_enable_table "also creates the capture and cleanup jobs for the database if the
  // source table is the first table in the database to be enabled for change data capture and
  // no transactional publications exist for the database".
  if (db.meta("cdc_capture_job") == "1" || db.meta("is_published") == "1") return;
  {
    std::lock_guard<std::mutex> lock(instance.msdb_mutex());
    for (const char* kind : {"capture", "cleanup"}) {
      Stmt s(instance.msdb(),
             "INSERT OR IGNORE INTO sysjobs(job_id, name, enabled, description, start_step_id, category_id, owner_sid,"
             " date_created, date_modified) VALUES(upper(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' ||"
             " hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6))), ?, 1, ?, 1, ?, X'01', ?, ?)");
      const std::string now = now_datetime();
      const bool capture = std::string(kind) == "capture";
      // Categories as msdb.dbo.syscategories numbers them: 13 REPL-LogReader, 16 REPL-Checkup.
      s.bind(1, job_name(db, kind))
          .bind(2, std::string(capture ? "CDC Log Scan Job" : "CDC Cleanup Job"))
          .bind(3, static_cast<std::int64_t>(capture ? 13 : 16)).bind(4, now).bind(5, now);
      s.step();
    }
  }
  db.set_meta(db.admin, "cdc_capture_job", "1");
}

bool cdc_capture_running(const InstanceImpl& instance, Database& db) {
  return agent_running(instance.config()) && db.meta("is_cdc_enabled") == "1" && db.meta("is_published") != "1" &&
         db.meta("cdc_capture_job") == "1";
}

}  // namespace sandbox::engine
