#include "core/cutover_marker.hpp"

#include <random>

#include <fmt/format.h>

namespace m2r::cutover_marker {

tsql::TableName table() { return {"dbo", "mssql2rds_cutover_marker"}; }

std::string create_table() {
  return "IF OBJECT_ID(N'dbo.mssql2rds_cutover_marker', N'U') IS NULL "
         "CREATE TABLE dbo.mssql2rds_cutover_marker (token varchar(32) NOT NULL PRIMARY KEY, "
         "written_at datetime2(7) NOT NULL)";
}

std::string table_exists() {
  return "SELECT CASE WHEN OBJECT_ID(N'dbo.mssql2rds_cutover_marker', N'U') IS NULL THEN 0 ELSE 1 END AS [exists]";
}

std::string write() {
  return "INSERT INTO dbo.mssql2rds_cutover_marker (token, written_at) VALUES (?, SYSUTCDATETIME())";
}

std::string arrived() {
  return "SELECT COUNT(*) AS arrived FROM dbo.mssql2rds_cutover_marker WHERE token = ?";
}

std::string new_token() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string token;
  for (int i = 0; i < 32; ++i) token += fmt::format("{:x}", nibble(rd));
  return token;
}

}  // namespace m2r::cutover_marker
