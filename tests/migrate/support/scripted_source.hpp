#pragma once
// A source SQL Server as `check` (and `run`'s preflight) reads it, scripted on a
// FakeSqlSession: SQL Server 2019 named SRC1, sysadmin, its own Distributor, database Sales with two tables (dbo.Orders with a
// primary key, dbo.AuditLog without one), published and MS-CDC-enabled unless told otherwise.
#include <string>

#include "fakes/fake_sql_session.hpp"

namespace m2r::test {

// What sp_get_distributor answers on the source server SRC1 (docs/facts.md §13).
enum class DistributorShape { local, none, remote };

struct SourceShape {
  std::string recovery = "FULL";
  bool published = true;  // the database is published and the PK table an article
  bool cdc = true;        // MS-CDC on, and the table without a PK tracked
  bool marker = true;     // dbo.mssql2rds_cutover_marker exists (check --fix made it), an article when published
  DistributorShape distributor = DistributorShape::local;  // remote: REMOTE-DIST distributes
  bool sysadmin = true;
};

void script_distributor(mssql::FakeSqlSession& s, DistributorShape shape);

void script_database_state(mssql::FakeSqlSession& s, const SourceShape& shape);
void script_table_flags(mssql::FakeSqlSession& s, const SourceShape& shape);
void script_source(mssql::FakeSqlSession& s, const SourceShape& shape);

}  // namespace m2r::test
