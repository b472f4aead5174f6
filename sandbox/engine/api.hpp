#pragma once
// The seam between the sandbox's TDS front end (sandbox/tds) and its SQL engine
// (sandbox/engine). The TDS server turns packets into calls on Session and turns the
// ResultSink callbacks back into tokens; the engine never sees TDS, the TDS layer never
// sees SQLite.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace sandbox {

// SQL Server types the sandbox speaks on the wire (issue 3's list, issue 11's additions;
// sandbox/engine/README.md "Types and values").
enum class SqlType {
  int_, bigint, smallint, tinyint, bit,
  decimal,           // decimal/numeric(precision, scale), exact up to precision 38
  float_,            // float(53)
  varchar, nvarchar, // length in characters; length == k_max_length means (max)
  datetime, datetime2,
  uniqueidentifier,
  varbinary,         // length in bytes; k_max_length means (max)
  money, smallmoney, // exact, 4 decimal places (precision 19 / 10 as SQL Server reports them)
  real,              // float(24), 4 bytes
  date,
  time,              // time(n): scale = fractional-second digits
  datetimeoffset,    // datetimeoffset(n): scale = fractional-second digits
  smalldatetime,
  char_, nchar,      // fixed length, padded with spaces
  binary,            // fixed length, padded with zeros
  text, ntext, image, // the legacy large types
  xml,               // untyped xml: well-formed text (stored as UTF-8, sent as UTF-16)
  sql_variant        // a value that keeps its base type (engine/sql_variant.hpp)
};
inline constexpr int k_max_length = -1;

struct ColumnType {
  SqlType type = SqlType::int_;
  int length = 0;     // (n)varchar/(n)char/(var)binary
  int precision = 0;  // decimal; datetime2/time/datetimeoffset use scale as fractional-second digits
  int scale = 0;
};

struct Column {
  std::string name;
  ColumnType type;
  bool nullable = true;
  // Browse information, which server cursors' result sets carry (TABNAME and COLINFO after the
  // COLMETADATA, [MS-TDS] 2.2.7.5 / 2.2.7.22); other result sets leave these empty.
  std::string base_table;   // the table the column comes from; empty: an expression
  std::string base_column;  // its name in that table, when it differs from `name`
  bool hidden = false;      // a column the client does not show (a cursor's ROWSTAT)
};

struct Bytes {
  std::vector<std::uint8_t> data;
  bool operator==(const Bytes&) const = default;
};

// A cell. Representation per type:
//   integers, bit      -> int64_t
//   float, real        -> double
//   decimal, money     -> std::string, canonical text ("-123.4500", scale digits after the point)
//   (n)(var)char, (n)text, xml -> std::string (UTF-8); char(n)/nchar(n) already padded to n
//   datetime/datetime2/smalldatetime -> std::string "YYYY-MM-DD HH:MM:SS[.fffffff]"
//   date               -> std::string "YYYY-MM-DD"
//   time               -> std::string "HH:MM:SS[.fffffff]"
//   datetimeoffset     -> std::string "YYYY-MM-DD HH:MM:SS[.fffffff] +hh:mm" (local time and offset)
//   uniqueidentifier   -> std::string "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" (upper case)
//   (var)binary, image -> Bytes; binary(n) already padded to n
//   sql_variant        -> std::string, the stored form "<base type>:<value>" that
//                         engine/sql_variant.hpp encodes and decodes ("int:11")
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Bytes>;

// An INFO (severity <= 10) or ERROR (severity >= 11) as SQL Server words it (docs/facts.md §10).
struct Message {
  int number = 0;
  int state = 1;
  int severity = 0;
  std::string text;
  std::string procedure;  // empty for batches
  int line = 1;
  bool is_error() const { return severity > 10; }
};

enum class DoneKind {
  statement,   // DONE (end of a statement in a batch)
  in_proc,     // DONEINPROC (a statement inside a procedure)
  proc,        // DONEPROC (end of an RPC / EXEC)
};

// Receives what a statement produces, in order. The TDS layer flushes message()
// immediately so that BACKUP ... WITH STATS progress reaches the client while the
// statement is still running.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void columns(const std::vector<Column>& cols) = 0;  // starts a result set
  virtual void row(const std::vector<Value>& values) = 0;
  // Ends a statement. row_count is set for DML and SELECT ("(n rows affected)").
  virtual void done(DoneKind kind, std::optional<std::int64_t> row_count, bool error) = 0;
  virtual void message(const Message& msg) = 0;
  virtual void database_changed(const std::string& old_db, const std::string& new_db) = 0;
  virtual void return_status(int status) = 0;  // RETURNSTATUS of an RPC / EXEC
  // The value an OUTPUT parameter of an RPC call (a procedure's, or one declared OUTPUT in
  // sp_executesql's @params) holds when the call ends, reported after return_status and
  // before the call's done(proc), in the order of the call's parameters. `name` is the
  // parameter's formal name ("@total"). Sinks that do not answer RPCs ignore it.
  virtual void return_value(const std::string& name, const ColumnType& type, const Value& value) {
    (void)name, (void)type, (void)value;
  }
  // The session's transaction began (@@TRANCOUNT 0 -> 1) or ended; the TDS layer answers
  // with ENVCHANGE begin/commit/rollback transaction at this point of the stream.
  enum class Transaction { began, committed, rolled_back };
  virtual void transaction_changed(Transaction event) { (void)event; }
  // True once the client sent an attention (cancel); long statements poll it and stop.
  virtual bool cancelled() = 0;
};

struct RpcParam {
  std::string name;  // "@stmt"; may be empty for positional parameters
  ColumnType type;
  Value value;
  bool output = false;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual void execute_batch(const std::string& sql, ResultSink& sink) = 0;
  // sp_executesql, sp_prepare/sp_execute (if supported), or any procedure called by RPC.
  virtual void execute_rpc(const std::string& procedure, const std::vector<RpcParam>& params,
                           ResultSink& sink) = 0;
  virtual std::string current_database() const = 0;
  // sp_reset_connection, as a pooled client's RESETCONNECTION / RESETCONNECTIONSKIPTRAN
  // request asks for it ([MS-TDS] 2.2.3.1.2): temporary objects and variables go, SET
  // options and the database return to the login's, and the open transaction is rolled
  // back unless keep_transaction. A session that cannot be reset (one forwarding to another
  // server) throws, and the client gets the reason as an error.
  virtual void reset(bool keep_transaction) {
    (void)keep_transaction;
    throw std::runtime_error("this session cannot be reset (sp_reset_connection)");
  }
  // How to close this session's connection when the server ends the session from another one
  // (ALTER DATABASE ... SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE). The engine calls it at
  // most once, from the killer's thread, maybe while the connection's thread is blocked reading
  // the next request: it must only wake that thread (the session refuses any further request
  // with Msg 596, and the connection then closes). Sessions without a connection ignore it.
  virtual void on_killed(std::function<void()> disconnect) { (void)disconnect; }
  // The client's workstation and program names from LOGIN7 (HostName, AppName): what
  // HOST_NAME() and APP_NAME() answer. Empty until the connection tells.
  virtual void set_client(const std::string& host_name, const std::string& program_name) {
    (void)host_name;
    (void)program_name;
  }
  // Bulk load ([MS-TDS] 2.2.6.1; sandbox/engine/README.md "Bulk load"). A batch's INSERT BULK
  // that succeeded leaves the session waiting for the rows: bulk_load_pending() is true until
  // the next request. The TDS layer then hands over the bulk load message decoded: `columns`
  // as the client's COLMETADATA describes them (the types it sends the values in), `rows` in
  // those types; the engine inserts them as the INSERT BULK said and reports them on `sink`
  // (DONE with the row count, or the error). abandon_bulk_load() drops a pending one (the
  // client ended its message with the ignore bit, or sent an attention instead).
  virtual bool bulk_load_pending() const { return false; }
  virtual void bulk_load_rows(const std::vector<Column>& columns, const std::vector<std::vector<Value>>& rows,
                              ResultSink& sink) {
    (void)columns, (void)rows, (void)sink;
    throw std::runtime_error("this session does not take bulk loads");
  }
  virtual void abandon_bulk_load() {}
};

struct InstanceInfo {
  std::string server_name;      // @@SERVERNAME
  std::string product_version;  // SERVERPROPERTY('ProductVersion'), e.g. "15.0.4355.3"
  std::string version_banner;   // @@VERSION
  std::string edition;          // SERVERPROPERTY('Edition')
  int engine_edition = 3;       // SERVERPROPERTY('EngineEdition'): 2 Standard/Web, 3 Enterprise/Developer, 4 Express
  bool is_rds = false;          // an RDS for SQL Server instance (the target)
};

struct LoginResult {
  std::unique_ptr<Session> session;  // null when the login failed
  Message failure;                   // 18456 etc. when session is null
};

// One SQL Server instance (its databases, logins, log, msdb). Thread-safe: the TDS
// server calls login() and the sessions from one thread per connection.
class Instance {
 public:
  virtual ~Instance() = default;
  virtual InstanceInfo info() const = 0;
  virtual LoginResult login(const std::string& user, const std::string& password,
                            const std::string& database) = 0;
};

}  // namespace sandbox
