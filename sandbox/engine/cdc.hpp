#pragma once
// MS-CDC's database switches and its SQL Server Agent jobs (docs/facts.md §13): which editions
// have it, the `cdc` schema sys.sp_cdc_enable_db creates, the capture and cleanup jobs the first
// sys.sp_cdc_enable_table creates when no transactional publication exists, and the capture job
// releasing the log only while Agent runs. See README.md "Editions, versions and SQL Server Agent".
namespace sandbox::engine {

class InstanceImpl;
struct Database;

// sys.sp_cdc_enable_db: 22988 on an edition without change data capture; sets is_cdc_enabled,
// creates the cdc schema and holds the log for the capture. Caller holds db.write_mutex.
void cdc_enable_db(InstanceImpl& instance, Database& db);
// sys.sp_cdc_disable_db: the schema and the database's capture and cleanup jobs go.
void cdc_disable_db(InstanceImpl& instance, Database& db);
// After sys.sp_cdc_enable_table: the first table of a database without a transactional
// publication gets the capture and cleanup jobs (msdb.dbo.sysjobs cdc.<db>_capture, _cleanup).
void cdc_table_enabled(InstanceImpl& instance, Database& db);
// Whether the database's capture job reads the log now: it has one, it is not published (the
// log reader does the capture then) and SQL Server Agent runs.
bool cdc_capture_running(const InstanceImpl& instance, Database& db);

}  // namespace sandbox::engine
