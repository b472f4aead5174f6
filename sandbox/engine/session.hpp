#pragma once
// A connection's session: its current database, variables, open transaction, and the
// T-SQL executor that translates statements to SQLite and logs every change.
#include "engine/batch_parser.hpp"
#include "engine/cursors.hpp"
#include "engine/engine_internal.hpp"

namespace sandbox::engine {

class SessionImpl;
struct BulkLoadPlan;  // bulk_load.hpp

// A cell as SQLite holds it (row images, variables).
struct Cell {
  int type = SQLITE_NULL;
  std::int64_t i = 0;
  double d = 0;
  std::string s;  // text or blob bytes
};

// `v` of type `from` (nullopt: a literal's, by its storage) as type `to`, by CAST's rules
// (SQL Server's errors when it cannot be).
Cell convert_cell(sqlite3* c, const Cell& v, const std::optional<ColumnType>& from, const ColumnType& to);

struct Variable {
  ColumnType type;
  Cell value;
};

struct Change {
  int op = 0;  // SQLITE_INSERT / SQLITE_UPDATE / SQLITE_DELETE
  std::string table;
  std::int64_t key_before = 0, key_after = 0;
  std::vector<Cell> before, after;
};

// The transaction isolation levels the sandbox models (README.md "Transactions and locking"). REPEATABLE READ
// and SERIALIZABLE (range locks) are refused rather than silently run as READ COMMITTED.
enum class Isolation { read_uncommitted, read_committed, snapshot };

// Where a SNAPSHOT transaction's view stands: the log's last record when it began and the
// transactions open then. The view is the committed state as of that moment (plus its own
// changes): every change of those transactions, and of any other after that record, is undone
// for its reads.
struct SnapshotPoint {
  std::int64_t last_seq = 0;
  std::set<std::string> open;  // xact ids
};

struct OpenXact {
  std::string db;
  std::string name = "user_transaction";
  std::string begin_time;
  std::int64_t id = 0;
  bool logged = false;  // LOP_BEGIN_XACT written (at the first change, as SQL Server does)
  std::string begin_lsn;
  int trancount = 1;
  std::optional<SnapshotPoint> snapshot;  // SNAPSHOT isolation, from the first data access
  // Uncommittable (XACT_STATE() = -1): an error under XACT_ABORT ON inside TRY dooms it; only
  // ROLLBACK may follow (3930 for a write or COMMIT).
  bool doomed = false;
  // SAVE TRANSACTION name: where ROLLBACK TRANSACTION name returns to (the log records of the
  // transaction after log_seq, the temporary tables' changes after temp_undo), newest last.
  struct Savepoint {
    std::string name;
    std::int64_t log_seq = 0;
    std::size_t temp_undo = 0;
  };
  std::vector<Savepoint> savepoints;
};

// The SET options in force (README.md "SET options"). The sandbox's semantics are those of
// the ANSI settings every modern driver connects with; the options whose other value would
// change results are refused rather than recorded (statements.cpp, do_set), the others are
// recorded so that @@OPTIONS, SESSIONPROPERTY and friends answer as SQL Server does.
struct SessionOptions {
  bool ansi_warnings = true, ansi_padding = true, ansi_nulls = true, quoted_identifier = true;
  bool ansi_null_dflt_on = true, ansi_null_dflt_off = false, concat_null_yields_null = true;
  bool implicit_transactions = false, xact_abort = false;
  bool arithabort = false, arithignore = false, cursor_close_on_commit = false;
  std::int64_t textsize = 2147483647;  // what ODBC and tedious set at connect; SET TEXTSIZE 0 -> 4096
  int datefirst = 7;                   // us_english
  std::string dateformat = "mdy";      // us_english
  // A column declared without NULL / NOT NULL: ANSI_NULL_DFLT_ON, else not ANSI_NULL_DFLT_OFF
  // and the database's ANSI_NULL_DEFAULT (OFF, as model's, in every sandbox database).
  bool columns_nullable_by_default() const { return ansi_null_dflt_on; }
  bool fmtonly = false;                // SET FMTONLY ON: a SELECT answers its columns, no rows
  // @@OPTIONS' bits for these (and NOCOUNT, kept by the session).
  std::int64_t bits(bool nocount) const;
};

// What the caller of a procedure (or of sp_executesql) asked back as OUTPUT: by formal name
// (lower case) or by position, and the caller's variable to assign (EXEC in a batch) or
// nothing (an RPC: the values go to ResultSink::return_value).
struct CallOutputs {
  std::map<std::string, std::string> named;       // formal name -> caller variable ("" for an RPC)
  std::map<std::size_t, std::string> positional;  // argument position -> caller variable
  bool to_sink = false;                           // RPC: report the values as RETURNVALUE
  // RPC: the types the client sent the OUTPUT parameters as; SQL Server answers each
  // RETURNVALUE in that type (FreeTDS binds a smalldatetime parameter as datetime).
  std::map<std::string, ColumnType> named_types;
  std::map<std::size_t, ColumnType> positional_types;
  std::optional<ColumnType> client_type(const std::string& formal, std::size_t position) const {
    if (auto it = named_types.find(formal); it != named_types.end()) return it->second;
    if (auto it = positional_types.find(position); it != positional_types.end()) return it->second;
    return std::nullopt;
  }
  bool requested(const std::string& formal, std::size_t position) const {
    return named.count(formal) > 0 || positional.count(position) > 0;
  }
  std::string target(const std::string& formal, std::size_t position) const {
    if (auto it = named.find(formal); it != named.end()) return it->second;
    if (auto it = positional.find(position); it != positional.end()) return it->second;
    return {};
  }
};

// Held by a session's own thread while it runs a request (a killer waits for it to be free:
// session_registry.hpp); nests (sp_executesql from a batch).
class ActivityScope {
 public:
  explicit ActivityScope(SessionEntry& entry) : m_entry(entry) {
    m_entry.activity().lock();
    m_was_running = m_entry.running();
    m_entry.set_running(true);
  }
  ~ActivityScope() {
    m_entry.set_running(m_was_running);
    m_entry.activity().unlock();
  }
  ActivityScope(const ActivityScope&) = delete;
  ActivityScope& operator=(const ActivityScope&) = delete;

 private:
  SessionEntry& m_entry;
  bool m_was_running = false;
};

// Passes every callback on to `inner`; a sink that changes some of them derives from it and
// overrides those.
class ForwardingSink : public ResultSink {
 public:
  explicit ForwardingSink(ResultSink& inner) : m_inner(inner) {}
  void columns(const std::vector<Column>& c) override { m_inner.columns(c); }
  void row(const std::vector<Value>& v) override { m_inner.row(v); }
  void done(DoneKind k, std::optional<std::int64_t> n, bool e) override { m_inner.done(k, n, e); }
  void message(const Message& m) override { m_inner.message(m); }
  void database_changed(const std::string& a, const std::string& b) override { m_inner.database_changed(a, b); }
  void return_status(int s) override { m_inner.return_status(s); }
  void return_value(const std::string& n, const ColumnType& t, const Value& v) override { m_inner.return_value(n, t, v); }
  void transaction_changed(Transaction e) override { m_inner.transaction_changed(e); }
  bool cancelled() override { return m_inner.cancelled(); }

 protected:
  ResultSink& m_inner;
};

// Makes `next` the request's sink (SessionImpl::m_request_sink) until the scope ends.
class RequestSinkScope {
 public:
  RequestSinkScope(ResultSink*& slot, ResultSink* next) : m_slot(slot), m_prev(slot) { m_slot = next; }
  ~RequestSinkScope() { m_slot = m_prev; }
  RequestSinkScope(const RequestSinkScope&) = delete;
  RequestSinkScope& operator=(const RequestSinkScope&) = delete;

 private:
  ResultSink*& m_slot;
  ResultSink* m_prev;
};

// The client's sink, whose cancel test also says yes once the session has been killed: every
// place that stops on an attention (statement boundaries, lock waits, WAITFOR, BACKUP's copy,
// long reads) stops for a kill too.
class KillAwareSink : public ForwardingSink {
 public:
  KillAwareSink(ResultSink& inner, const SessionEntry& entry) : ForwardingSink(inner), m_entry(entry) {}
  bool cancelled() override { return m_entry.killed() || m_inner.cancelled(); }

 private:
  const SessionEntry& m_entry;
};

class SessionImpl : public Session {
  friend class CursorProcedures;  // API server cursors (cursors.cpp)

 public:
  SessionImpl(InstanceImpl& inst, std::string database, std::string user);
  ~SessionImpl() override;
  void execute_batch(const std::string& sql, ResultSink& sink) override;
  void execute_rpc(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& sink) override;
  std::string current_database() const override { return m_db; }
  void reset(bool keep_transaction) override;  // sp_reset_connection (session_options.cpp)
  void on_killed(std::function<void()> disconnect) override { m_entry->set_disconnect(std::move(disconnect)); }
  void set_client(const std::string& host_name, const std::string& program_name) override {
    m_host_name = host_name;
    m_program_name = program_name;
  }
  // Bulk load (bulk_load.cpp; README.md "Bulk load").
  bool bulk_load_pending() const override { return m_bulk != nullptr; }
  void bulk_load_rows(const std::vector<Column>& columns, const std::vector<std::vector<Value>>& rows,
                      ResultSink& sink) override;
  void abandon_bulk_load() override { m_bulk.reset(); }
  const std::string& host_name() const { return m_host_name; }        // HOST_NAME()
  const std::string& program_name() const { return m_program_name; }  // APP_NAME()

  // User access modes (user_access.cpp; README.md "User access modes"). How a session comes
  // into a database: the login's named or default database, USE, sp_reset_connection.
  enum class Entry { login_named, login_default, use, reset };
  // Moves the session into `db` when the database's user access mode admits it (atomically with
  // respect to ALTER DATABASE ... SET of the mode); otherwise the refusal (4060, 4064, 923, 924).
  std::optional<Message> enter_database(Database& db, Entry how);

  // @@OPTIONS, @@TEXTSIZE, @@DATEFIRST (name upper case, without @@); nullopt for others.
  std::optional<std::int64_t> option_global(const std::string& name) const;
  // SESSIONPROPERTY('ANSI_NULLS') etc.: 1/0, NULL (nullopt) for an unknown option.
  std::optional<std::int64_t> session_property(const std::string& option) const;
  std::int64_t textsize() const { return m_options.textsize; }

  // Used by the SQL functions registered on each connection.
  InstanceImpl& instance() { return m_inst; }
  const std::string& login_name() const { return m_user; }  // the session's login (principals.hpp)
  bool sees_server_state();  // VIEW SERVER STATE, granted or implied (permission_statements.cpp)
  sqlite3* connection_for(const std::string& db);  // the session's connection on `db` (HAS_PERMS_BY_NAME)
  const Variable* variable(const std::string& name) const;
  int spid() const { return m_spid; }
  int trancount() const { return m_xact ? m_xact->trancount : 0; }
  int xact_state() const { return !m_xact ? 0 : m_xact->doomed ? -1 : 1; }  // XACT_STATE()
  std::int64_t last_identity() const { return m_last_identity; }
  bool triggers_suppressed() const { return m_suppress_triggers; }
  void capture(Change&& change);
  void capture_temp(Change&& change) { m_temp_changes.push_back(std::move(change)); }
  bool capturing() const { return m_capturing; }
  int lock_timeout() const { return m_lock_timeout; }
  // m2r_lock_probe(table, rowid) in a locking READ COMMITTED read: false (and the resource
  // noted) when another transaction held an X lock on the row when the read began.
  bool lock_probe(const std::string& table, std::int64_t rowid);
  // Control flow (control_flow.cpp): the error the innermost running CATCH block handles
  // (null outside CATCH), @@ERROR and @@ROWCOUNT.
  const Message* caught_error() const;
  int last_error() const { return m_error; }
  std::int64_t last_rowcount() const { return m_rowcount; }

 private:
  struct ProcFrame;
  void execute_statement(const Statement& st, ResultSink& sink, bool in_proc);

  // The statement-tree executor (control_flow.cpp; README.md "Batches and control flow").
  struct Scope {  // one batch, procedure body or sp_executesql run
    bool in_proc = false;
    std::string procedure;  // its name in messages and ERROR_PROCEDURE(); empty for batches
    std::optional<int> return_status;
    bool failed = false;
    int last_error_severity = 0;
  };
  enum class Flow { next, break_loop, continue_loop, return_ };
  struct BodyResult {
    bool failed = false;
    int status = 0;  // RETURN's value; 0 without RETURN, 10 - severity after an error
  };
  BodyResult run_body(const std::vector<Node>& nodes, ResultSink& sink, const std::string& procedure, bool in_proc);
  // A procedure body or sp_executesql text, one nesting level down (its compile errors go to
  // the caller's CATCH).
  void open_transaction(const std::string& name);
  void publish_settings();  // the SET options, for sys.dm_exec_sessions (session_registry.hpp)
  void do_save(const Statement& st, ResultSink& sink);           // SAVE TRANSACTION
  void rollback_to_savepoint(const OpenXact::Savepoint& point);  // ROLLBACK TRANSACTION savepoint  // @@TRANCOUNT 0 -> 1 (BEGIN TRAN, IMPLICIT_TRANSACTIONS)
  [[noreturn]] static void raise_uncommittable();  // 3930
  void exec_string(const Statement& st, std::size_t open_paren, ResultSink& sink);  // EXEC ('...')
  BodyResult run_nested(const std::string& text, const ParseOptions& options, ResultSink& sink, const std::string& procedure);
  Flow run_nodes(const std::vector<Node>& nodes, ResultSink& sink, Scope& scope);
  Flow run_node(const Node& n, ResultSink& sink, Scope& scope);
  void run_simple(const Statement& st, ResultSink& sink, Scope& scope);
  std::optional<bool> condition(const Statement& cond, ResultSink& sink, Scope& scope);  // nullopt: it failed
  void statement_failed(Message m, const Statement& st, ResultSink& sink, Scope& scope, bool from_throw);
  void do_raiserror(const Statement& st, ResultSink& sink);
  [[noreturn]] void do_throw(const Statement& st);
  sqlite3* conn(const std::string& db);
  sqlite3* cur() { return conn(m_db); }
  std::shared_ptr<Database> cur_db();

  // Statement handlers.
  void do_select(const Statement& st, ResultSink& sink, bool in_proc);
  void do_dml(const Statement& st, ResultSink& sink, bool in_proc, const std::string& kind);
  void do_use(const Statement& st, ResultSink& sink);
  // INSERT BULK (bulk_load.cpp): checks the table and columns and leaves the bulk load pending.
  void do_insert_bulk(const Statement& st, ResultSink& sink);
  std::int64_t insert_bulk_rows(const BulkLoadPlan& plan, const std::vector<Column>& columns,
                                const std::vector<std::vector<Value>>& rows);
  void do_begin(const Statement& st, ResultSink& sink);
  void do_commit(const Statement& st, ResultSink& sink);
  void do_rollback(const Statement& st, ResultSink& sink);
  void do_set(const Statement& st, ResultSink& sink, bool in_proc);
  void do_declare(const Statement& st, ResultSink& sink);
  void do_create(const Statement& st, ResultSink& sink);
  void do_create_table(const Statement& st, std::size_t i, ResultSink& sink);
  void do_create_module(const Statement& st, std::size_t i, const std::string& what, bool alter, ResultSink& sink);
  void do_drop(const Statement& st, ResultSink& sink);
  void do_alter(const Statement& st, ResultSink& sink);
  // ALTER DATABASE db SET SINGLE_USER | RESTRICTED_USER | MULTI_USER [WITH termination] (user_access.cpp).
  void alter_user_access(const std::shared_ptr<Database>& db, UserAccess target, const Termination& termination,
                         ResultSink& sink);
  // 5011 unless the session's login may alter `db` (ALTER on the database: sysadmin, dbcreator,
  // db_owner; RDS's master user on user databases is dbo).
  void check_alter_database_permission(Database& db);
  // The running request's cancel test: an attention, or this session killed.
  bool request_cancelled() const { return m_entry->killed() || (m_request_sink && m_request_sink->cancelled()); }
  // A killed session's end (on the killer's thread, or its own): its transaction rolled back as
  // ROLLBACK does (compensation records, LOP_ABORT_XACT), its locks released.
  void end_killed_work();
  // Msg 596 to a request that arrives on (or was running in) a killed session; true when killed.
  bool report_if_killed(ResultSink& sink);
  void run_batch(const std::string& sql, ResultSink& sink);
  void do_exec(const Statement& st, ResultSink& sink);
  void do_backup(const Statement& st, ResultSink& sink);
  void do_restore(const Statement& st, ResultSink& sink);
  void do_dbcc(const Statement& st, ResultSink& sink);
  void do_truncate(const Statement& st, ResultSink& sink);
  // Logins, users and roles (principal_statements.cpp): CREATE/ALTER/DROP LOGIN and USER, ALTER
  // SERVER ROLE, ALTER ROLE; false when the statement is none of them.
  bool do_principal_statement(const Statement& st, ResultSink& sink);
  // sp_addsrvrolemember, sp_dropsrvrolemember, sp_addrolemember, sp_droprolemember; false for others.
  bool principal_procedure(const std::string& name, const std::map<std::string, Value>& args,
                           const std::vector<Value>& positional, ResultSink& sink);
  // GRANT, DENY, REVOKE (permission_statements.cpp; permissions.hpp); false for other statements.
  bool do_permission_statement(const Statement& st, ResultSink& sink);
  // Msg 229 unless the login holds the permission each table or view a SELECT/INSERT/UPDATE/
  // DELETE names needs (and SELECT on fn_dblog when it reads the log); no checks inside modules.
  void check_object_permissions(const Statement& st, const std::string& kind);
  // Msg 229 unless the login holds `permission` on the object (a user one, or a system one the
  // sandbox knows: permissions.hpp); objects it does not know are not checked.
  void require_object_permission(const std::string& db, const std::string& schema, const std::string& name,
                                 const std::string& permission);
  // Msg 262 and 3013 unless the login may back up `database` (sysadmin, db_owner, db_backupoperator).
  void check_backup_permission(const std::string& database, bool log, ResultSink& sink);
  // VIEW SERVER STATE: without it sys.dm_exec_requests and sys.dm_exec_sessions show the
  // caller's own session only.
  // Msg 916 unless the session's login may open `db` (a user mapped by SID, sysadmin, guest).
  void check_database_access(const std::string& db);
  // Temporary tables (tempdb.hpp): INSERT into #t, SELECT ... INTO #t.
  void insert_temp(const Statement& st, std::size_t name_end, const std::string& name, ResultSink& sink, bool in_proc);
  void select_into_temp(const Statement& st, std::size_t into_at, ResultSink& sink, bool in_proc);
  void call_procedure(const std::string& name, std::map<std::string, Value> args, ResultSink& sink, bool positional_only,
                      const std::vector<Value>& positional, const CallOutputs* outputs = nullptr);
  // sp_executesql (an RPC, or EXEC sp_executesql in a batch with `outputs` naming the caller's variables).
  void run_sp_executesql(const std::vector<RpcParam>& params, ResultSink& sink, const CallOutputs* outputs);
  void execute_rpc_call(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& sink,
                        const CallOutputs* outputs);
  // SET options other than variables (session_options.cpp); false when `opt` is not one of them.
  bool set_session_option(const Statement& st, const std::string& opt);
  // Tells the running request's sink that the transaction began or ended (ENVCHANGE over TDS).
  void notify_transaction(ResultSink::Transaction event);
  // The system procedures of master (sp_*, xp_*); false when there is none by that name.
  bool system_procedure(const std::string& name, const std::map<std::string, Value>& args,
                        const std::vector<Value>& positional, ResultSink& sink);
  // Distribution and publishing (replication.cpp): the Distributor's procedures and
  // sp_replicationdboption, sp_addpublication, sp_addarticle and their drops; false for others.
  bool replication_procedure(const std::string& name, const std::map<std::string, Value>& args,
                             const std::vector<Value>& positional, ResultSink& sink);
  // API server cursors (cursors.cpp): sp_cursoropen, sp_cursorfetch, sp_cursor, sp_cursorclose,
  // sp_cursoroption, sp_cursorprepare/execute/prepexec/unprepare; false for other names.
  bool cursor_procedure(const std::string& name, const std::map<std::string, Value>& args,
                        const std::vector<Value>& positional, const CallOutputs* outputs, ResultSink& sink);
  // UPDATE/DELETE ... WHERE CURRENT OF cursor (cursors.cpp): the statement on the cursor's current
  // row, or nullopt when the statement has no such clause.
  std::optional<Statement> positioned_statement(const Statement& st);
  // Catalog procedures drivers call (catalog_procs.cpp: sp_tables); false when `name` is not one.
  bool catalog_procedure(const std::string& name, const std::map<std::string, Value>& args,
                         const std::vector<Value>& positional, ResultSink& sink);
  void datatype_info_procedure(const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                               ResultSink& sink);  // sp_datatype_info (catalog_procs.cpp)
  void file_exists_procedure(const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                             ResultSink& sink);  // xp_fileexist (catalog_procs.cpp)
  // Server-level objects (server_objects.cpp): the Agent's msdb procedures, linked servers and
  // sp_configure; CREATE/DROP CREDENTIAL, triggers ON ALL SERVER, RECONFIGURE. False: not one.
  bool server_object_procedure(const std::string& name, const std::string& database_part,
                               const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                               const CallOutputs* outputs, ResultSink& sink);
  bool server_object_statement(const Statement& st, ResultSink& sink, DoneKind done_kind);

  // Writes: runs `body` in one short SQLite transaction with row capture on, then logs the
  // captured changes under the session's transaction (or an implicit one named `name`).
  std::int64_t write(const std::string& implicit_name, const std::function<std::int64_t(sqlite3*)>& body);
  void undo_xact(Database& db, sqlite3* c, const std::string& xact_id, bool compensate);
  // Rolls the open transaction back (undo, compensation, LOP_ABORT_XACT) and releases its locks.
  void rollback_transaction();
  void undo_temp_changes(std::size_t from = 0);  // the open transaction's changes to temporary tables (tempdb.hpp)
  // Reads (SELECT, the expressions of SET/DECLARE/PRINT) under the session's isolation level:
  // READ UNCOMMITTED (or a NOLOCK hint) reads as is; locking READ COMMITTED waits for rows
  // other transactions hold X locks on; RCSI and SNAPSHOT read committed versions. `body` runs
  // the translated `sql`, perhaps several times (after each wait); `buffered` tells it that
  // the read may still be retried, so it must not send rows before it returns.
  void read(const std::string& sql, bool nolock, const std::function<void(sqlite3*, bool buffered)>& body);
  // Waits for a lock (LOCK_TIMEOUT, deadlock detection, sys.dm_exec_requests wait state);
  // raises 1222 on timeout and, as the deadlock victim, rolls back and raises 1205.
  void wait_for_lock(const LockResource& r, LockMode mode, bool hold);
  // Shadows, for one read, each table `first` names by a TEMP view (SQLite resolves temp
  // first) of its rows as of the read's snapshot; user views are shadowed too when read.
  bool shadow_versions(sqlite3* c, const std::string& sql,
                       const std::map<std::string, std::map<std::int64_t, std::optional<std::string>>>& first);
  bool shadow_lock_probes(sqlite3* c, const std::string& sql, const std::map<std::string, std::map<std::int64_t, int>>& locked);
  SnapshotPoint snapshot_point(Database& db);  // under write_mutex
  void ensure_not_restoring(const std::string& db);
  // Fills the instance-wide views (sys.databases, sys.master_files, sys.dm_exec_requests) that
  // the translated `sql` reads, from the instance's state at this moment.
  void refresh_instance_views(sqlite3* c, const std::string& sql);
  // Registers the session's request in sys.dm_exec_requests while a batch or RPC runs
  // (nested calls, e.g. sp_executesql from EXEC, keep the outer request).
  class RequestScope {
   public:
    explicit RequestScope(SessionImpl& s);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

   private:
    SessionImpl& m_s;
  };

 public:
  // Translation (translate.cpp).
  std::string translate(const std::vector<Token>& t, std::size_t begin, std::size_t end, bool* needs_instance_views);
  std::string resolve_table(const std::vector<Token>& t, std::size_t& i, std::size_t end, bool* is_table);
  std::string sqlite_table_name(const std::string& schema, const std::string& table);
  std::vector<std::optional<ColumnType>> infer_select_types(const std::vector<Token>& t);
  // Static typing of expressions (translate.cpp, README.md "Types and values").
  std::optional<ColumnType> expr_type(const std::vector<Token>& t, std::size_t b, std::size_t e);
  std::optional<ColumnType> operand_type(const std::vector<Token>& t, std::size_t b, std::size_t e);
  void build_column_scope(const std::vector<Token>& t, std::map<std::string, ColumnType>& scope);
  bool translate_typed_expression(const std::vector<Token>& t, std::size_t& i, std::size_t end, bool* needs_iv,
                                  std::string& out, bool allow_compare);
  // A computed column's expression over `columns` (lower-case name -> type) of the table being
  // created: SQLite SQL for GENERATED ALWAYS AS, and the expression's type.
  std::string translate_computed(const std::vector<Token>& t, std::size_t b, std::size_t e,
                                 const std::map<std::string, ColumnType>& columns, std::optional<ColumnType>* type);
  // An expression assigned to a variable of `target` type (SET/DECLARE): converted as SQL Server does.
  std::string translate_assignment(const std::vector<Token>& t, std::size_t b, std::size_t e, const ColumnType& target,
                                   bool* needs_iv);
  // The source of INSERT ... VALUES with each value converted to its column's type (m2r_assign).
  std::string translate_insert_source(const std::vector<Token>& t, std::size_t rest, const std::string& table,
                                      const std::vector<std::string>& cols, bool explicit_columns, bool* needs_iv,
                                      const std::string& sqlite_schema = "main", const std::string& display_name = "");
  std::vector<std::string> table_columns(const std::string& sqlite_name);
  // %%lockres%% of the statement's table (the first FROM or UPDATE): its clustered key's
  // values through m2r_lockres, or a heap's RID (lock_resource.hpp).
  std::string lockres_expression(const std::vector<Token>& t);
  // The columns a row image (the log's before/after JSON) holds, in the order of the values the
  // pre-update hook reports: every column SQLite stores (a PERSISTED computed column's too),
  // the names of computed ones empty, as an image leaves them out (the target recomputes them).
  std::vector<std::string> image_columns(const std::string& sqlite_name);
  // The database rowversion values come from (@@DBTS, m2r_next_rowversion).
  std::shared_ptr<Database> rowversion_database() { return cur_db(); }
  // HASHBYTES, STRING_AGG [WITHIN GROUP (ORDER BY ...)], CONCAT, DATALENGTH (translate_hash.cpp): the call
  // at t[i] whose argument list ends at `close`; `close` moves past a WITHIN GROUP clause.
  std::string translate_hash_call(const std::vector<Token>& t, std::size_t i, std::size_t& close, std::size_t end,
                                  bool* needs_iv);
  std::optional<ColumnType> hash_call_type(const std::vector<Token>& t, std::size_t i, std::size_t close);
  std::string translate_trigger_statement(const std::vector<Token>& t, std::size_t b, std::size_t e,
                                          const std::string& table, const std::string& pseudo_table, bool is_update);

 private:
  InstanceImpl& m_inst;
  std::shared_ptr<SessionEntry> m_entry;  // in the instance's SessionRegistry (kills, sys.dm_exec_sessions)
  std::string m_db;
  std::string m_login_db;  // the database the login opened (sp_reset_connection returns to it)
  std::string m_user;
  std::string m_host_name, m_program_name;  // LOGIN7 HostName and AppName (set_client)
  SessionOptions m_options;
  int m_spid = 0;
  std::map<std::string, sqlite3*> m_conns;  // by lower-case database name
  std::map<std::string, std::uint64_t> m_conn_gen;  // Database::generation each connection was opened for
  std::map<std::string, Variable> m_vars;   // lower-case "@name"
  std::optional<OpenXact> m_xact;
  std::set<std::string> m_identity_insert;  // sqlite table names
  bool m_nocount = false;
  bool m_capturing = false;
  bool m_suppress_triggers = false;
  bool m_skip_foreign_keys = false;  // write(): a bulk load without CHECK_CONSTRAINTS
  std::shared_ptr<BulkLoadPlan> m_bulk;  // an INSERT BULK waiting for its rows
  std::vector<Change> m_changes;
  std::vector<Change> m_temp_changes;  // this statement's changes to temporary tables
  std::vector<Change> m_temp_undo;     // the open transaction's, undone by ROLLBACK
  std::int64_t m_last_identity = 0;
  int m_proc_depth = 0;
  int m_request_depth = 0;
  ResultSink* m_request_sink = nullptr;  // the running batch's sink (its cancel test)
  // A SELECT's long SQLite step (an aggregate over a large join) is cut short by an attention:
  // SQLite's progress handler asks the sink while a SELECT runs, and only then (an interrupted
  // write would leave its captured log records behind).
  bool m_select_interruptible = false;
  bool m_select_interrupted = false;
  static int interrupt_if_cancelled(void* session);
  int m_lock_timeout = -1;               // SET LOCK_TIMEOUT, ms; -1 waits forever (the default)
  Isolation m_isolation = Isolation::read_committed;
  std::map<std::string, std::map<std::int64_t, int>> m_read_locked;  // the running read's X-locked rows of others
  std::optional<LockResource> m_read_conflict;
  // Control flow (control_flow.cpp).
  int m_level = 0;                   // nesting: 0 for the batch, +1 per procedure / sp_executesql
  std::vector<int> m_try_levels;     // the level of each TRY block being run, innermost last
  std::vector<Message> m_catch_stack;  // the errors of the CATCH blocks being run
  int m_error = 0;                   // @@ERROR
  std::int64_t m_rowcount = 0;       // @@ROWCOUNT
  std::optional<std::int64_t> m_statement_rows;  // rows the running statement read or changed
  std::optional<int> m_error_override;  // RAISERROR ... WITH SETERROR
  ServerCursors m_cursors;  // sp_cursoropen's (cursors.hpp)
};

Value cell_to_value(const Cell& c, const ColumnType& t);
// A NOLOCK / READUNCOMMITTED table hint in the statement (the sandbox applies it to the whole
// statement's reads, not to the one table).
bool has_nolock_hint(const std::vector<Token>& t);
Cell value_to_cell(const Value& v);
std::string cell_json(const Cell& c);
void register_functions(sqlite3* db, SessionImpl* session);
// The session-independent deterministic functions (computed columns and CHECKs call them), for
// the engine's own connections (open_connection).
void register_schema_functions(sqlite3* db);
void register_session_option_functions(sqlite3* db, SessionImpl* session);  // SESSIONPROPERTY
// A SELECT's value as SET TEXTSIZE lets it through (large types only).
Value limit_to_textsize(const Value& v, const ColumnType& type, std::int64_t textsize);
// ERROR_NUMBER() ... ERROR_PROCEDURE(), XACT_STATE() (control_flow.cpp).
void register_control_flow_functions(sqlite3* db, SessionImpl* session);
// Parses a CREATE/ALTER PROCEDURE statement's body (syntax errors are reported at CREATE, as
// SQL Server does); other statements pass.
void check_procedure_body(const Statement& st);
// Whether a statement opens a transaction under SET IMPLICIT_TRANSACTIONS ON (statements.cpp).
class Tokens;
bool starts_implicit_transaction(const Tokens& t, const std::string& head);
// The SQLite function behind a control-flow built-in (ERROR_NUMBER, ...), or null.
const char* control_flow_function(const std::string& upper_name);
void create_catalog_views(sqlite3* db, bool attached_msdb);
// CREATE TEMP VIEW `view` as sys.sysobjects over the catalog in SQLite schema `schema` (functions.cpp).
std::string sysobjects_view(const std::string& view, const std::string& schema);

}  // namespace sandbox::engine
