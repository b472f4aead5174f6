#pragma once
// Internals shared by the engine's translation units (instance, session, backup, RDS).
// Not part of the seam: sandbox/tds sees only api.hpp and instance_factory.hpp.
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1  // Debian's libsqlite3 has it compiled in
#endif
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/api.hpp"
#include "engine/instance_factory.hpp"
#include "engine/lock_manager.hpp"
#include "engine/principals.hpp"
#include "engine/requests.hpp"
#include "engine/session_registry.hpp"
#include "engine/sqlite_util.hpp"
#include "engine/tsql_lexer.hpp"
#include "engine/txlog.hpp"
#include "engine/user_access.hpp"

namespace sandbox::engine {

class InstanceImpl;

// One database's shared state. Writers serialize on write_mutex (facts: SQLite locks the
// file; the sandbox applies each statement in its own short SQLite transaction).
struct Database {
  std::string name;
  int id = 0;
  std::string path;
  std::mutex write_mutex;
  LsnState lsn;            // guarded by write_mutex
  std::int64_t next_xact = 0x4d0;  // guarded by write_mutex
  // @@DBTS: the last rowversion value the database gave a row (kept in __m2r_meta 'dbts' by
  // persist_lsn, so a backup carries it). A new database starts at 0x7D0, as SQL Server's do.
  std::atomic<std::uint64_t> dbts{k_first_dbts};
  static constexpr std::uint64_t k_first_dbts = 2000;
  sqlite3* admin = nullptr;         // engine-internal connection, used under write_mutex
  std::uint64_t generation = 0;  // changes when a restore replaces the database
  std::atomic<bool> restoring{false};
  std::atomic<bool> dropped{false};
  std::mutex flags_mutex;
  std::set<std::string> triggers_disabled;  // sqlite table names (ALTER TABLE ... DISABLE TRIGGER ALL)
  std::set<std::string> fk_nocheck;         // sqlite table names (NOCHECK CONSTRAINT ALL)
  // Row versioning options (ALTER DATABASE ... SET; kept in __m2r_meta so they travel with a
  // backup, as SQL Server's database options do).
  std::atomic<bool> read_committed_snapshot{false};
  std::atomic<bool> allow_snapshot_isolation{false};
  // ALTER DATABASE ... SET SINGLE_USER | RESTRICTED_USER | MULTI_USER (user_access.hpp; kept in
  // __m2r_meta 'user_access', so it survives a restart and travels with a backup). While such an
  // ALTER waits for sessions to leave, pending_access is the mode it is setting: new sessions
  // are judged by it already (multi_user: none pending). Both change under the SessionRegistry's
  // lock, which admission to a database holds too.
  std::atomic<UserAccess> user_access{UserAccess::multi_user};
  std::atomic<UserAccess> pending_access{UserAccess::multi_user};
  // Explicit transactions that have logged LOP_BEGIN_XACT and not yet ended: xact id -> spid.
  // Guarded by write_mutex (autocommit transactions begin and end under one hold of it, so
  // they never show here). Readers under row versioning undo these transactions' changes.
  std::map<std::string, int> open_xacts;

  ~Database();
  std::string meta(const std::string& key, const std::string& def = {});
  // Writers (under write_mutex) pass the connection that holds the SQLite transaction.
  void set_meta(sqlite3* c, const std::string& key, const std::string& value);
  void persist_lsn(sqlite3* c);
  std::string append(sqlite3* c, const LogRecord& rec);
};

// Opens a connection for the engine's use: WAL, busy timeout, and the SQL functions a table's
// schema may call (CHECK of xml, computed columns; value_ops.hpp).
sqlite3* open_connection(const std::string& path);
// The highest rowversion value stored in any table of the database (0 without any): what
// @@DBTS must be at least after rows arrived by log redo.
std::uint64_t max_stored_rowversion(sqlite3* c);
void create_internal_schema(sqlite3* db);

struct BackupOptions {
  std::string database;
  bool log = false;
  std::vector<std::string> files;
  bool copy_only = false;
  bool compression = false;
  bool checksum = false;
  int stats = 0;
  bool init = false;
  int spid = 0;  // the session running it: its sys.dm_exec_requests row shows percent_complete
};

struct RestoreOptions {
  std::string database;
  bool log = false;
  std::vector<std::string> files;
  bool norecovery = false;
  bool replace = false;
  std::string source_label;  // for messages
  int spid = 0;  // the session running it (0: an RDS task's worker)
};

class InstanceImpl : public Instance {
 public:
  explicit InstanceImpl(const InstanceConfig& config);
  ~InstanceImpl() override;
  InstanceInfo info() const override { return m_info; }
  LoginResult login(const std::string& user, const std::string& password, const std::string& database) override;

  const InstanceConfig& config() const { return m_config; }
  std::shared_ptr<Database> find(const std::string& name);  // null when absent
  std::vector<std::shared_ptr<Database>> databases();
  std::shared_ptr<Database> create_database(const std::string& name);  // raises 1801
  void drop_database(const std::string& name);
  std::string msdb_path() const { return m_config.data_dir + "/msdb.sqlite"; }
  int next_spid() { return ++m_spid; }
  int major_version() const { return m_config.version; }
  std::mutex& msdb_mutex() { return m_msdb_mutex; }
  RequestRegistry& requests() { return m_requests; }  // sys.dm_exec_requests
  LockManager& locks() { return m_locks; }            // row locks of every session (README.md "Transactions and locking")
  PrincipalStore& principals() { return *m_principals; }  // logins and server roles (principals.hpp)
  SessionRegistry& sessions() { return m_sessions; }       // live sessions (sys.dm_exec_sessions, kills)
  sqlite3* msdb() { return m_msdb; }  // under msdb_mutex

  // Backup and restore (backup.cpp). Messages go to `progress`.
  void backup(const BackupOptions& opts, ResultSink& sink);
  // Restores from already-read stripe contents (disk or S3). percent: progress callback.
  void restore_from_stripes(const RestoreOptions& opts, const std::vector<std::string>& stripes,
                            const std::function<void(int)>& percent, ResultSink* sink);
  void restore(const RestoreOptions& opts, ResultSink& sink);  // RESTORE ... FROM DISK
  void finish_restore(const std::string& name);               // RESTORE DATABASE x WITH RECOVERY
  // Installs a database file image under `name` (a new database_id), ONLINE or RESTORING.
  std::shared_ptr<Database> install_database(const std::string& name, const std::string& image_path);
  // Log truncation: called after checkpoints and log backups.
  void truncate_log(Database& db);
  std::string log_reuse_wait(Database& db);
  void checkpoint(Database& db);

  // RDS (rds.cpp).
  void rds_procedure(const std::string& proc, const std::map<std::string, Value>& args, ResultSink& sink);

 private:
  std::shared_ptr<Database> open_db(const std::string& name, int id, const std::string& path);
  void rds_worker(std::int64_t task_id);

  InstanceConfig m_config;
  InstanceInfo m_info;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<Database>> m_dbs;  // key: lower-case name
  sqlite3* m_master = nullptr;
  std::unique_ptr<PrincipalStore> m_principals;
  sqlite3* m_msdb = nullptr;
  std::mutex m_msdb_mutex;
  std::atomic<int> m_spid{50};
  RequestRegistry m_requests;
  SessionRegistry m_sessions;
  LockManager m_locks;
  std::mutex m_tasks_mutex;
  std::vector<std::thread> m_task_threads;
  std::atomic<bool> m_stopping{false};
};

// Thrown after a statement's error that ends the whole batch (a deadlock victim's 1205, an
// attention): the message has been sent; the batch stops without another one.
struct BatchAborted {};

// Numeric(25,0) form of an LSN given in hex (docs/facts.md §1).
std::string lsn_numeric(const std::string& hex);
std::string now_datetime();
// Undoes a transaction's row changes from its log records (ROLLBACK, restore recovery);
// with `compensate`, logs compensation records and LOP_ABORT_XACT using `lsn`.
// after_seq > 0: only the records after that log position (ROLLBACK to a savepoint: the
// transaction goes on, no LOP_ABORT_XACT).
void undo_records(sqlite3* c, const std::string& xid, LsnState* lsn, int spid, bool compensate, std::int64_t after_seq = 0);  // "YYYY-MM-DD HH:MM:SS.mmm" local time

}  // namespace sandbox::engine
