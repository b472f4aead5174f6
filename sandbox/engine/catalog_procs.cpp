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

}  // namespace

bool SessionImpl::catalog_procedure(const std::string& proc, const std::map<std::string, Value>& args,
                                    const std::vector<Value>& positional, ResultSink& sink) {
  if (proc == "xp_fileexist") {
    file_exists_procedure(args, positional, sink);
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
