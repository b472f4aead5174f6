#pragma once
// The narrow interface the migration uses to talk to SQL Server. The ODBC implementation
// is odbc_session.hpp; tests of code above this layer use tests/fakes/fake_sql_session.hpp.
//
// Statements are parameterised with positional `?` markers and typed SqlParam values: no
// SQL is ever built from user input. Identifiers that cannot be parameters are quoted by
// quote.hpp exactly as QUOTENAME does.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace m2r::mssql {

struct Bytes {
  std::vector<std::uint8_t> data;
  bool operator==(const Bytes&) const = default;
};

// One cell or one parameter value. Representation per SQL Server type:
//   bit, tinyint, smallint, int, bigint -> int64
//   real, float                          -> double
//   decimal, numeric, money              -> exact text ("-123.4500"): numeric(25,0) LSNs keep
//                                           every digit (docs/facts.md §1: up to 25 digits, > int64)
//   char, varchar, nchar, nvarchar, xml  -> UTF-8 text
//   date, time, datetime, datetime2      -> text "YYYY-MM-DD HH:MM:SS[.fffffff]" as the driver renders it
//   uniqueidentifier                     -> text "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"
//   binary, varbinary                    -> Bytes
class SqlValue {
 public:
  using Storage = std::variant<std::monostate, std::int64_t, double, std::string, Bytes>;

  SqlValue() = default;
  SqlValue(std::int64_t v) : m_value(v) {}  // NOLINT: implicit on purpose, values read naturally in tests
  SqlValue(int v) : m_value(std::int64_t{v}) {}
  SqlValue(double v) : m_value(v) {}
  SqlValue(std::string v) : m_value(std::move(v)) {}
  SqlValue(const char* v) : m_value(std::string(v)) {}
  SqlValue(Bytes v) : m_value(std::move(v)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(m_value); }
  const Storage& storage() const { return m_value; }

  // Typed accessors. Each fails (fatal: the server answered something the caller did not
  // expect) when the value is NULL or of another kind, except that as_int64 accepts exact
  // integer text (a numeric(p,0) that fits) and as_double accepts integers and exact text.
  Expected<std::int64_t> as_int64() const;
  Expected<double> as_double() const;
  Expected<bool> as_bool() const;            // bit: 0 or 1
  Expected<std::string> as_string() const;   // text kinds only (includes decimals, dates, GUIDs)
  Expected<Bytes> as_bytes() const;
  // Any non-NULL value rendered as text (integers in decimal, bytes as 0x.. hex); "NULL" for NULL.
  std::string to_text() const;

  bool operator==(const SqlValue&) const = default;

 private:
  Storage m_value;
};

using SqlRow = std::vector<SqlValue>;

// The SQL Server type of a result column (as the driver describes it).
enum class SqlType {
  unknown,
  bit, tinyint, smallint, int_, bigint,
  decimal,  // decimal and numeric
  real, float_,
  char_, varchar, nchar, nvarchar,
  binary, varbinary,
  date, time, datetime, datetime2, datetimeoffset,
  uniqueidentifier,
};
const char* to_string(SqlType type);

struct SqlColumn {
  std::string name;
  SqlType type = SqlType::unknown;
  std::string type_name;  // the driver's name for it ("int", "numeric", "nvarchar", ...)
  std::int64_t size = 0;  // characters or bytes; 0 = (max) or not applicable
  int precision = 0;      // decimal
  int scale = 0;          // decimal; fractional-second digits of datetime2
  bool nullable = true;
};

struct ResultSet {
  std::vector<SqlColumn> columns;
  std::vector<SqlRow> rows;

  std::optional<std::size_t> column_index(std::string_view name) const;  // case-insensitive, as SQL Server
  // The value in row `row` of column `name`; fails when the row or the column does not exist.
  Expected<SqlValue> value(std::size_t row, std::string_view name) const;
};

// An informational message or an error as SQL Server raised it (docs/facts.md §10).
struct SqlMessage {
  int number = 0;      // SQL Server's message number (3211, 18456, ...); 0 for PRINT or driver messages
  int severity = 0;    // SQL Server's severity (class); <= 10 informational. Exact with
                       // Microsoft's driver; approximated with FreeTDS (see odbc_session.cpp)
  int state = 0;       // 0 when the driver does not report it (FreeTDS)
  std::string text;    // without the driver's "[FreeTDS][SQL Server]" prefixes
  int line = 0;        // line in the batch; 0 when unknown (FreeTDS)
  std::string sqlstate;  // ODBC SQLSTATE ("01000" for INFO, "42000", "08001", ...)
  std::chrono::steady_clock::time_point received_at{};  // when this client saw it

  bool is_error() const { return severity > 10; }
};

// What one statement (or batch) produced.
struct QueryResult {
  std::vector<ResultSet> result_sets;  // in order; empty for statements without rows
  std::vector<SqlMessage> messages;    // every informational message, in order
  std::int64_t rows_affected = -1;     // of the last statement that reported a count; -1 = none

  // The first result set (an empty one when there is none).
  const ResultSet& first() const;
  const std::vector<SqlRow>& rows() const { return first().rows; }
};

// Typed bind values. The type decides the parameter's SQL Server type on the wire, so a
// value compares and converts as it would in T-SQL.
enum class ParamType {
  bit, int32, int64, float64,
  decimal,    // exact text with precision and scale: numeric(25,0) LSNs as text
  nvarchar,   // UTF-8 in, nvarchar(n) or nvarchar(max) on the wire
  varchar,
  varbinary,
  datetime2,  // text "YYYY-MM-DD HH:MM:SS[.fffffff]"
  uniqueidentifier,
};

struct SqlParam {
  ParamType type = ParamType::nvarchar;
  SqlValue value;     // NULL for a typed NULL
  int precision = 0;  // decimal
  int scale = 0;      // decimal; datetime2 fractional digits

  static SqlParam bit(bool v) { return {ParamType::bit, SqlValue(std::int64_t{v ? 1 : 0})}; }
  static SqlParam int32(std::int32_t v) { return {ParamType::int32, SqlValue(std::int64_t{v})}; }
  static SqlParam int64(std::int64_t v) { return {ParamType::int64, SqlValue(v)}; }
  static SqlParam float64(double v) { return {ParamType::float64, SqlValue(v)}; }
  static SqlParam decimal(std::string text, int precision, int scale) {
    return {ParamType::decimal, SqlValue(std::move(text)), precision, scale};
  }
  static SqlParam nvarchar(std::string text) { return {ParamType::nvarchar, SqlValue(std::move(text))}; }
  static SqlParam varchar(std::string text) { return {ParamType::varchar, SqlValue(std::move(text))}; }
  static SqlParam varbinary(Bytes bytes) { return {ParamType::varbinary, SqlValue(std::move(bytes))}; }
  static SqlParam datetime2(std::string text, int fraction_digits = 7) {
    return {ParamType::datetime2, SqlValue(std::move(text)), 27, fraction_digits};
  }
  static SqlParam uniqueidentifier(std::string text) {
    return {ParamType::uniqueidentifier, SqlValue(std::move(text))};
  }
  static SqlParam null(ParamType type) { return {type, SqlValue()}; }
};

// Whether a statement may be sent again after the connection broke under it.
enum class Idempotent { no, yes };

struct StatementOptions {
  std::chrono::seconds timeout{0};  // 0 = wait as long as it takes (BACKUP of a large database)
  // yes: on a connection-level failure (the link broke, not an error SQL Server raised) the
  // session reconnects once and sends the statement again. Only for reads.
  Idempotent idempotent = Idempotent::no;
  // true: the text carries a secret (a password hash): logs show that it ran, never the text.
  bool carries_secret = false;
};

struct Statement {
  std::string sql;
  std::vector<SqlParam> params;
  StatementOptions options;
};

// Called on the thread that runs the statement, once per message, as it arrives.
using MessageHandler = std::function<void(const SqlMessage&)>;

class SqlSession {
 public:
  virtual ~SqlSession() = default;

  // Runs one statement or batch to its end. Informational messages go to `on_message` (may
  // be empty) as they arrive and are also collected in the result. An error SQL Server raises
  // (severity > 10) ends the statement: its messages, the error included, go to `on_message`
  // first, then the call returns the mapped Error (error_mapping.hpp), whose message carries
  // "SQL Server error <number> (severity <s>, state <t>)".
  virtual Expected<QueryResult> run(const Statement& statement, const MessageHandler& on_message) = 0;

  // Asks the running statement to stop; callable from any thread. The running call then
  // returns an error saying it was cancelled. Does nothing when no statement runs.
  virtual void cancel() = 0;

  // "server:port/database" for messages and logs; never the password.
  virtual std::string describe() const = 0;

  // Conveniences over run().
  Expected<QueryResult> query(std::string sql, std::vector<SqlParam> params = {}, StatementOptions options = {}) {
    return run(Statement{std::move(sql), std::move(params), options}, {});
  }
  // Rows affected by the last statement that reported a count (-1 when none did).
  Expected<std::int64_t> execute(std::string sql, std::vector<SqlParam> params = {}, StatementOptions options = {});
  Expected<QueryResult> execute_with_messages(std::string sql, std::vector<SqlParam> params,
                                              const MessageHandler& on_message, StatementOptions options = {}) {
    return run(Statement{std::move(sql), std::move(params), options}, on_message);
  }
};

}  // namespace m2r::mssql
