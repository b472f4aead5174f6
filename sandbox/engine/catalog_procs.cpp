// Catalog stored procedures that drivers call for their metadata functions (ODBC SQLTables
// is `sp_tables`): each answers with the result set its Microsoft documentation gives, column
// for column, computed by a SELECT over the sandbox's INFORMATION_SCHEMA / sys views run as a
// statement of the procedure.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// sp_tables @table_type: "a list of values, separated by commas, ... Each value must be enclosed
// in single quotation marks" (TABLE, VIEW, SYSTEM TABLE). Returns the quoted values, upper-case;
// an unquoted value names no type.
std::vector<std::string> quoted_table_types(const std::string& list) {
  std::vector<std::string> types;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string item = trim(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.size() >= 2 && item.front() == '\'' && item.back() == '\'') types.push_back(upper(item.substr(1, item.size() - 2)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return types;
}


// One row of sp_datatype_info (https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/
// sp-datatype-info-transact-sql): the types the sandbox stores, in ODBC 3 codes. An empty
// string is NULL.
struct TypeInfoRow {
  const char* type_name;
  int data_type;
  long long precision;
  const char *prefix, *suffix, *create_params;
  int nullable, case_sensitive, searchable;
  const char *unsigned_attribute, *money, *auto_increment, *minimum_scale, *maximum_scale;
  int sql_data_type;
  const char *datetime_sub, *radix;
  int usertype;
};

// Ordered as SQL Server answers: by DATA_TYPE, then by how closely the type maps to it.
const TypeInfoRow k_type_info[] = {
    {"datetimeoffset", -155, 34, "'", "'", "scale", 1, 0, 3, "", "0", "", "0", "7", -155, "0", "", 0},
    {"time", -154, 16, "'", "'", "scale", 1, 0, 3, "", "0", "", "0", "7", -154, "0", "", 0},
    {"xml", -152, 0, "N'", "'", "", 1, 1, 0, "", "0", "", "", "", -152, "", "", 0},
    {"uniqueidentifier", -11, 36, "'", "'", "", 1, 0, 2, "", "0", "", "", "", -11, "", "", 0},
    {"ntext", -10, 1073741823, "N'", "'", "", 1, 0, 1, "", "0", "", "", "", -10, "", "", 0},
    {"nvarchar", -9, 4000, "N'", "'", "max length", 1, 0, 3, "", "0", "", "", "", -9, "", "", 0},
    {"sysname", -9, 128, "N'", "'", "", 0, 0, 3, "", "0", "", "", "", -9, "", "", 18},
    {"nchar", -8, 4000, "N'", "'", "length", 1, 0, 3, "", "0", "", "", "", -8, "", "", 0},
    {"bit", -7, 1, "", "", "", 1, 0, 2, "", "0", "", "0", "0", -7, "", "", 16},
    {"tinyint", -6, 3, "", "", "", 1, 0, 2, "1", "0", "0", "0", "0", -6, "", "10", 5},
    {"tinyint identity", -6, 3, "", "", "", 0, 0, 2, "1", "0", "1", "0", "0", -6, "", "10", 5},
    {"bigint", -5, 19, "", "", "", 1, 0, 2, "0", "0", "0", "0", "0", -5, "", "10", 0},
    {"bigint identity", -5, 19, "", "", "", 0, 0, 2, "0", "0", "1", "0", "0", -5, "", "10", 0},
    {"image", -4, 2147483647, "0x", "", "", 1, 0, 0, "", "0", "", "", "", -4, "", "", 20},
    {"varbinary", -3, 8000, "0x", "", "max length", 1, 0, 2, "", "0", "", "", "", -3, "", "", 4},
    {"binary", -2, 8000, "0x", "", "length", 1, 0, 2, "", "0", "", "", "", -2, "", "", 3},
    {"timestamp", -2, 8, "0x", "", "", 0, 0, 2, "", "0", "", "", "", -2, "", "", 80},
    {"text", -1, 2147483647, "'", "'", "", 1, 0, 1, "", "0", "", "", "", -1, "", "", 19},
    {"char", 1, 8000, "'", "'", "length", 1, 0, 3, "", "0", "", "", "", 1, "", "", 1},
    {"numeric", 2, 38, "", "", "precision,scale", 1, 0, 2, "0", "0", "0", "0", "38", 2, "", "10", 10},
    {"numeric() identity", 2, 38, "", "", "precision", 0, 0, 2, "0", "0", "1", "0", "0", 2, "", "10", 10},
    {"decimal", 3, 38, "", "", "precision,scale", 1, 0, 2, "0", "0", "0", "0", "38", 3, "", "10", 24},
    {"money", 3, 19, "$", "", "", 1, 0, 2, "0", "1", "0", "4", "4", 3, "", "10", 11},
    {"smallmoney", 3, 10, "$", "", "", 1, 0, 2, "0", "1", "0", "4", "4", 3, "", "10", 21},
    {"decimal() identity", 3, 38, "", "", "precision", 0, 0, 2, "0", "0", "1", "0", "0", 3, "", "10", 24},
    {"int", 4, 10, "", "", "", 1, 0, 2, "0", "0", "0", "0", "0", 4, "", "10", 7},
    {"int identity", 4, 10, "", "", "", 0, 0, 2, "0", "0", "1", "0", "0", 4, "", "10", 7},
    {"smallint", 5, 5, "", "", "", 1, 0, 2, "0", "0", "0", "0", "0", 5, "", "10", 6},
    {"smallint identity", 5, 5, "", "", "", 0, 0, 2, "0", "0", "1", "0", "0", 5, "", "10", 6},
    {"float", 6, 53, "", "", "", 1, 0, 2, "0", "0", "0", "", "", 6, "", "2", 8},
    {"real", 7, 24, "", "", "", 1, 0, 2, "0", "0", "0", "", "", 7, "", "2", 23},
    {"varchar", 12, 8000, "'", "'", "max length", 1, 0, 3, "", "0", "", "", "", 12, "", "", 2},
    {"date", 91, 10, "'", "'", "", 1, 0, 3, "", "0", "", "", "", 9, "1", "", 0},
    {"datetime2", 93, 27, "'", "'", "scale", 1, 0, 3, "", "0", "", "0", "7", 9, "3", "", 0},
    {"datetime", 93, 23, "'", "'", "", 1, 0, 3, "", "0", "", "3", "3", 9, "3", "", 12},
    {"smalldatetime", 93, 16, "'", "'", "", 1, 0, 3, "", "0", "", "0", "0", 9, "3", "", 22},
};

// ODBC 2 numbers the date and time types 9 / 10 / 11 where ODBC 3 has 91 / 92 / 93.
int odbc2_type(int t) { return t == 91 ? 9 : t == 92 ? 10 : t == 93 ? 11 : t; }

std::string sql_text_or_null(const char* v) { return *v ? quote_literal(v) : std::string("NULL"); }
std::string sql_number_or_null(const char* v) { return *v ? std::string(v) : std::string("NULL"); }

}  // namespace

bool SessionImpl::catalog_procedure(const std::string& proc, const std::map<std::string, Value>& args,
                                    const std::vector<Value>& positional, ResultSink& sink) {
  if (proc == "xp_fileexist") {
    file_exists_procedure(args, positional, sink);
    return true;
  }
  if (proc == "sp_datatype_info" || proc == "sp_datatype_info_90" || proc == "sp_datatype_info_100") {
    datatype_info_procedure(args, positional, sink);
    return true;
  }
  if (proc != "sp_tables") return false;
  // The parameters in their documented order; `nullopt` when not supplied or NULL.
  auto param = [&](const char* name, std::size_t pos) -> std::optional<std::string> {
    const Value* v = nullptr;
    if (auto it = args.find(name); it != args.end()) v = &it->second;
    else if (pos < positional.size()) v = &positional[pos];
    if (!v || std::holds_alternative<std::monostate>(*v)) return std::nullopt;
    return value_str(*v);
  };
  const auto name = param("@table_name", 0);
  const auto owner = param("@table_owner", 1);
  const auto qualifier = param("@table_qualifier", 2);
  const auto type_list = param("@table_type", 3);
  const auto use_pattern = param("@fusepattern", 4);
  const bool pattern = !use_pattern || trim(*use_pattern) != "0";

  const std::string columns_null_but_qualifier =
      "CAST(NULL AS sysname) AS TABLE_OWNER, CAST(NULL AS sysname) AS TABLE_NAME, "
      "CAST(NULL AS varchar(32)) AS TABLE_TYPE, CAST(NULL AS varchar(254)) AS REMARKS";
  std::string sql;
  // The enumerations ODBC's SQLTables asks for with SQL_ALL_CATALOGS, SQL_ALL_SCHEMAS and
  // SQL_ALL_TABLE_TYPES: '%' in one argument, empty strings in the other two.
  const bool empty_name = name && name->empty(), empty_owner = owner && owner->empty();
  const bool empty_qualifier = qualifier && qualifier->empty();
  if (qualifier && *qualifier == "%" && empty_owner && empty_name) {
    sql = "SELECT CAST(name AS sysname) AS TABLE_QUALIFIER, " + columns_null_but_qualifier +
          " FROM sys.databases ORDER BY name";
  } else if (owner && *owner == "%" && empty_qualifier && empty_name) {
    sql = "SELECT CAST(NULL AS sysname) AS TABLE_QUALIFIER, CAST(name AS sysname) AS TABLE_OWNER, "
          "CAST(NULL AS sysname) AS TABLE_NAME, CAST(NULL AS varchar(32)) AS TABLE_TYPE, "
          "CAST(NULL AS varchar(254)) AS REMARKS FROM sys.schemas ORDER BY name";
  } else if (type_list && trim(*type_list) == "%" && empty_qualifier && empty_owner && empty_name) {
    sql = "SELECT CAST(NULL AS sysname) AS TABLE_QUALIFIER, CAST(NULL AS sysname) AS TABLE_OWNER, "
          "CAST(NULL AS sysname) AS TABLE_NAME, CAST(t AS varchar(32)) AS TABLE_TYPE, "
          "CAST(NULL AS varchar(254)) AS REMARKS FROM (SELECT 'SYSTEM TABLE' AS t UNION ALL SELECT 'TABLE' "
          "UNION ALL SELECT 'VIEW') AS types ORDER BY t";
  } else {
    // "the database name component of the object qualifier must be the name of the current database"
    if (qualifier && !qualifier->empty() && !iequals(*qualifier, m_db))
      raise(15250, 16, "The database name component of the object qualifier must be the name of the current database.");
    std::string where = "1 = 1";
    auto match = [&](const char* column, const std::optional<std::string>& value) {
      if (!value) return;
      where += std::string(" AND ") + column + (pattern ? " LIKE " : " = ") + nliteral(*value);
    };
    match("TABLE_NAME", name);
    match("TABLE_SCHEMA", owner);
    if (type_list) {
      // The sandbox has user tables (TABLE) and views (VIEW); its system tables are not
      // listed (SYSTEM TABLE selects nothing).
      const auto types = quoted_table_types(*type_list);
      const bool tables = std::find(types.begin(), types.end(), "TABLE") != types.end();
      const bool views = std::find(types.begin(), types.end(), "VIEW") != types.end();
      where += tables && views ? "" : tables ? " AND TABLE_TYPE = 'BASE TABLE'" : views ? " AND TABLE_TYPE = 'VIEW'" : " AND 1 = 0";
    }
    sql = "SELECT CAST(DB_NAME() AS sysname) AS TABLE_QUALIFIER, CAST(TABLE_SCHEMA AS sysname) AS TABLE_OWNER, "
          "CAST(TABLE_NAME AS sysname) AS TABLE_NAME, "
          "CAST(CASE TABLE_TYPE WHEN 'BASE TABLE' THEN 'TABLE' ELSE 'VIEW' END AS varchar(32)) AS TABLE_TYPE, "
          "CAST(NULL AS varchar(254)) AS REMARKS FROM INFORMATION_SCHEMA.TABLES WHERE " + where +
          " ORDER BY 4, 1, 2, 3";
  }
  for (const auto& st : split_statements(sql)) execute_statement(st, sink, true);
  sink.return_status(0);
  sink.done(DoneKind::proc, std::nullopt, false);
  return true;
}

// sp_datatype_info [[@data_type =] type] [, [@ODBCVer =] 2 | 3] (and the _90 / _100 forms
// drivers call on newer servers, which answer the same columns here): SQLGetTypeInfo's result
// set, every type or those of one ODBC type code.
void SessionImpl::datatype_info_procedure(const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                                          ResultSink& sink) {
  auto number = [&](const char* name, std::size_t pos, long long fallback) {
    const Value* v = nullptr;
    if (auto it = args.find(name); it != args.end()) v = &it->second;
    else if (pos < positional.size()) v = &positional[pos];
    if (!v || std::holds_alternative<std::monostate>(*v)) return fallback;
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<long long>(*i);
    const std::string text = value_str(*v);
    char* end = nullptr;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end) raise(8114, 16, "Error converting data type varchar to int.");
    return n;
  };
  const long long wanted = number("@data_type", 0, 0);
  const bool odbc3 = number("@odbcver", 1, 2) >= 3;
  std::string sql;
  auto row_sql = [&](const TypeInfoRow& r) {
    const int code = odbc3 ? r.data_type : odbc2_type(r.data_type);
    return "SELECT CAST('" + std::string(r.type_name) + "' AS sysname) AS TYPE_NAME, CAST(" + std::to_string(code) +
           " AS smallint) AS DATA_TYPE, CAST(" + std::to_string(r.precision) + " AS int) AS PRECISION, CAST(" +
           sql_text_or_null(r.prefix) + " AS varchar(32)) AS LITERAL_PREFIX, CAST(" + sql_text_or_null(r.suffix) +
           " AS varchar(32)) AS LITERAL_SUFFIX, CAST(" + sql_text_or_null(r.create_params) +
           " AS varchar(32)) AS CREATE_PARAMS, CAST(" + std::to_string(r.nullable) + " AS smallint) AS NULLABLE, CAST(" +
           std::to_string(r.case_sensitive) + " AS smallint) AS CASE_SENSITIVE, CAST(" + std::to_string(r.searchable) +
           " AS smallint) AS SEARCHABLE, CAST(" + sql_number_or_null(r.unsigned_attribute) +
           " AS smallint) AS UNSIGNED_ATTRIBUTE, CAST(" + sql_number_or_null(r.money) + " AS smallint) AS MONEY, CAST(" +
           sql_number_or_null(r.auto_increment) + " AS smallint) AS AUTO_INCREMENT, CAST('" + std::string(r.type_name) +
           "' AS sysname) AS LOCAL_TYPE_NAME, CAST(" + sql_number_or_null(r.minimum_scale) +
           " AS smallint) AS MINIMUM_SCALE, CAST(" + sql_number_or_null(r.maximum_scale) +
           " AS smallint) AS MAXIMUM_SCALE, CAST(" + std::to_string(r.sql_data_type) + " AS smallint) AS SQL_DATA_TYPE, CAST(" +
           sql_number_or_null(r.datetime_sub) + " AS smallint) AS SQL_DATETIME_SUB, CAST(" + sql_number_or_null(r.radix) +
           " AS int) AS NUM_PREC_RADIX, CAST(NULL AS smallint) AS INTERVAL_PRECISION, CAST(" + std::to_string(r.usertype) +
           " AS smallint) AS USERTYPE";
  };
  for (const auto& r : k_type_info) {
    const int code = odbc3 ? r.data_type : odbc2_type(r.data_type);
    if (wanted != 0 && code != wanted) continue;
    sql += (sql.empty() ? "" : " UNION ALL ") + row_sql(r);
  }
  if (sql.empty()) sql = row_sql(k_type_info[0]) + " WHERE 1 = 0";  // the columns, no row
  for (const auto& st : split_statements(sql)) execute_statement(st, sink, true);
  sink.return_status(0);
  sink.done(DoneKind::proc, std::nullopt, false);
}

// xp_fileexist 'path': one row, [File Exists], [File is a Directory], [Parent Directory Exists],
// as the SQL Server service sees the path (the check dbatools' Test-DbaPath makes of a backup
// directory). It answers with the service's rights to a sysadmin only: for any other login it
// runs without them and answers 0 in every column, so the caller cannot tell; the sandbox does
// the same. The form with an OUTPUT parameter is not supported.
void SessionImpl::file_exists_procedure(const std::map<std::string, Value>& args, const std::vector<Value>& positional,
                                        ResultSink& sink) {
  if (args.size() + positional.size() != 1) {
    raise(40517, 16, "Keyword or statement option 'xp_fileexist with other than one parameter' is not supported in this "
                     "version of SQL Server.");
  }
  const Value& v = positional.empty() ? args.begin()->second : positional.front();
  const std::string path = std::holds_alternative<std::monostate>(v) ? std::string{} : value_str(v);
  int exists = 0, is_directory = 0, parent_exists = 0;
  if (m_inst.principals().is_sysadmin(m_user) && !path.empty()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      exists = S_ISDIR(st.st_mode) ? 0 : 1;
      is_directory = S_ISDIR(st.st_mode) ? 1 : 0;
    }
    const auto slash = path.find_last_of('/');
    const std::string parent = slash == std::string::npos ? std::string(".") : slash == 0 ? std::string("/") : path.substr(0, slash);
    struct stat pst {};
    parent_exists = ::stat(parent.c_str(), &pst) == 0 && S_ISDIR(pst.st_mode) ? 1 : 0;
  }
  const std::string sql = "SELECT CAST(" + std::to_string(exists) + " AS int) AS [File Exists], CAST(" +
                          std::to_string(is_directory) + " AS int) AS [File is a Directory], CAST(" +
                          std::to_string(parent_exists) + " AS int) AS [Parent Directory Exists]";
  for (const auto& st : split_statements(sql)) execute_statement(st, sink, true);
  sink.return_status(0);
  sink.done(DoneKind::proc, std::nullopt, false);
}

}  // namespace sandbox::engine
