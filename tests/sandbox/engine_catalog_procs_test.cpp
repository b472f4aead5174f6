// Catalog procedures drivers call for their metadata functions (sandbox/engine/catalog_procs.cpp):
// the result sets Microsoft documents, column for column.
#include <gtest/gtest.h>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

std::unique_ptr<Instance> instance(const std::string& tag) {
  InstanceConfig cfg;
  cfg.name = "src";
  cfg.data_dir = temp_dir(tag);
  cfg.sa_password = k_sa_password;
  return open_instance(cfg);
}

// A database `shop` with a table and a view in dbo and a table in schema `sales`.
std::unique_ptr<Session> shop(Instance& inst) {
  auto s = login(inst);
  must(*s, "CREATE DATABASE shop");
  must(*s, "USE shop");
  must(*s, "CREATE TABLE Customers (id int PRIMARY KEY, name nvarchar(50))");
  must(*s, "CREATE VIEW CustomerNames AS SELECT name FROM Customers");
  must(*s, "CREATE SCHEMA sales");
  must(*s, "CREATE TABLE sales.Orders (id int PRIMARY KEY, customer int)");
  return s;
}

std::vector<std::string> column_names(const Collected::ResultSet& set) {
  std::vector<std::string> names;
  for (const auto& c : set.columns) names.push_back(c.name);
  return names;
}

TEST(EngineCatalogProcsTest, SpTablesListsTablesAndViewsWithTheDocumentedColumnsInTheDocumentedOrder) {
  // Given tables and a view, sp_tables without arguments should return one row each, ordered
  // by TABLE_TYPE, TABLE_QUALIFIER, TABLE_OWNER, TABLE_NAME, with REMARKS NULL.
  auto inst = instance("sp-tables-all");
  auto s = shop(*inst);
  auto r = must(*s, "EXEC sp_tables");
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(column_names(r.sets[0]),
            (std::vector<std::string>{"TABLE_QUALIFIER", "TABLE_OWNER", "TABLE_NAME", "TABLE_TYPE", "REMARKS"}));
  EXPECT_EQ(r.sets[0].columns[3].type.type, SqlType::varchar);
  EXPECT_EQ(r.sets[0].columns[3].type.length, 32);
  EXPECT_EQ(r.sets[0].columns[4].type.type, SqlType::varchar);
  EXPECT_EQ(r.sets[0].columns[4].type.length, 254);
  ASSERT_EQ(r.sets[0].rows.size(), 3u);
  const auto& rows = r.sets[0].rows;
  EXPECT_EQ(as_str(rows[0][0]), "shop");
  EXPECT_EQ(as_str(rows[0][1]), "dbo");
  EXPECT_EQ(as_str(rows[0][2]), "Customers");
  EXPECT_EQ(as_str(rows[0][3]), "TABLE");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(rows[0][4]));
  EXPECT_EQ(as_str(rows[1][1]), "sales");
  EXPECT_EQ(as_str(rows[1][2]), "Orders");
  EXPECT_EQ(as_str(rows[2][2]), "CustomerNames");
  EXPECT_EQ(as_str(rows[2][3]), "VIEW");
  ASSERT_FALSE(r.statuses.empty());
  EXPECT_EQ(r.statuses.back(), 0);
}

TEST(EngineCatalogProcsTest, SpTablesFiltersByNamePatternOwnerAndQuotedTypeList) {
  auto inst = instance("sp-tables-filter");
  auto s = shop(*inst);
  auto by_pattern = must(*s, "EXEC sp_tables @table_name = 'Cust%'");
  ASSERT_EQ(by_pattern.sets.at(0).rows.size(), 2u);
  auto by_owner = must(*s, "EXEC sp_tables @table_name = '%', @table_owner = 'sales'");
  ASSERT_EQ(by_owner.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(as_str(by_owner.sets[0].rows[0][2]), "Orders");
  auto views = must(*s, "EXEC sp_tables @table_type = \"'VIEW'\"");
  ASSERT_EQ(views.sets.at(0).rows.size(), 1u);
  EXPECT_EQ(as_str(views.sets[0].rows[0][2]), "CustomerNames");
  // Types must be quoted; an unquoted one names no type.
  auto unquoted = must(*s, "EXEC sp_tables @table_type = 'TABLE'");
  EXPECT_EQ(unquoted.sets.at(0).rows.size(), 0u);
  // @fUsePattern = 0: '%' is an ordinary character.
  auto literal = must(*s, "EXEC sp_tables @table_name = 'Cust%', @fUsePattern = 0");
  EXPECT_EQ(literal.sets.at(0).rows.size(), 0u);
}

TEST(EngineCatalogProcsTest, SpTablesRefusesAQualifierOtherThanTheCurrentDatabase) {
  auto inst = instance("sp-tables-qualifier");
  auto s = shop(*inst);
  auto r = run(*s, "EXEC sp_tables @table_name = 'Customers', @table_qualifier = 'master'");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->number, 15250);
  auto same = must(*s, "EXEC sp_tables @table_name = 'Customers', @table_qualifier = 'shop'");
  EXPECT_EQ(same.sets.at(0).rows.size(), 1u);
}

TEST(EngineCatalogProcsTest, SpTablesEnumeratesDatabasesAsOdbcSqlAllCatalogsAsksForThem) {
  // SQLTables(SQL_ALL_CATALOGS, "", "") is sp_tables '', '', '%': one row per database.
  auto inst = instance("sp-tables-catalogs");
  auto s = shop(*inst);
  auto r = must(*s, "EXEC sp_tables @table_name = '', @table_owner = '', @table_qualifier = '%'");
  std::vector<std::string> names;
  for (const auto& row : r.sets.at(0).rows) {
    names.push_back(as_str(row[0]));
    EXPECT_TRUE(std::holds_alternative<std::monostate>(row[2]));
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "shop"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "master"), names.end());
}

}  // namespace

TEST(EngineCatalogProcsTest, TheCompatibilityViewsSysobjectsAndSystypesAnswerToEveryNameSqlServerAccepts) {
  // Given a table and a procedure, sysobjects (and dbo.sysobjects, sys.sysobjects, db..sysobjects)
  // should list them with xtype 'U' / 'P', and list the system view sysobjects itself
  // (FreeTDS's print and moreresults tests look it up by name).
  const std::string dir = temp_dir("sysobjects");
  {
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = dir;
    cfg.sa_password = k_sa_password;
    auto inst = open_instance(cfg);
    auto s = login(*inst);
    must(*s, "CREATE DATABASE app");
    s = login(*inst, "app");
    must(*s, "CREATE TABLE dbo.Items(id int PRIMARY KEY)");
    must(*s, "CREATE PROCEDURE dbo.ListItems AS SELECT id FROM dbo.Items");
    EXPECT_EQ(scalar_of(*s, "SELECT xtype FROM sysobjects WHERE name = 'Items'"), Value{std::string("U")});
    EXPECT_EQ(scalar_of(*s, "SELECT type FROM dbo.sysobjects WHERE name = 'ListItems'"), Value{std::string("P")});
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM sys.sysobjects WHERE name = 'sysobjects' AND xtype = 'V'")), 1);
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM app..sysobjects a, sysobjects b WHERE a.name = 'Items'")),
              as_int(scalar_of(*s, "SELECT count(*) FROM sysobjects")));
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM sysobjects WHERE id = OBJECT_ID('dbo.Items')")), 1);
    // master..sysobjects from app reads master's catalog: its system views, not app's tables.
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM master..sysobjects WHERE name = 'sysobjects'")), 1);
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM master..sysobjects WHERE name = 'Items'")), 0);
    auto m = login(*inst, "master");
    must(*m, "CREATE TABLE dbo.InMaster(id int)");
    EXPECT_EQ(scalar_of(*s, "SELECT master..sysobjects.xtype FROM master..sysobjects WHERE name = 'InMaster'"), Value{std::string("U")});
    // systypes, the other compatibility view FreeTDS reads: one row per type.
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT count(*) FROM systypes WHERE name IN ('int', 'char', 'text')")), 3);
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT length FROM dbo.systypes WHERE name = 'int'")), 4);
    EXPECT_EQ(as_int(scalar_of(*s, "SELECT xtype FROM master..systypes WHERE name = 'nvarchar'")), 231);
  }
  std::filesystem::remove_all(dir);
}

TEST(EngineCatalogProcsTest, SpDatatypeInfoAnswersSqlGetTypeInfosColumnsForOneOrEveryType) {
  // sp_datatype_info_100 (what FreeTDS's SQLGetTypeInfo calls on TDS 7.3+): the documented 20
  // columns; @data_type 0 lists every type ordered by DATA_TYPE, another code only its types
  // (-9: nvarchar, then sysname); @ODBCVer 3 numbers dates 91 / 93, ODBC 2's 9 / 11.
  {
    auto inst = instance("typeinfo");
    auto s = login(*inst);
    auto all = must(*s, "EXEC sp_datatype_info_100 0, 3");
    ASSERT_EQ(all.sets.size(), 1u);
    const auto& cols = all.sets[0].columns;
    ASSERT_EQ(cols.size(), 20u);
    EXPECT_EQ(cols[0].name, "TYPE_NAME");
    EXPECT_EQ(cols[2].name, "PRECISION");
    EXPECT_EQ(cols[19].name, "USERTYPE");
    EXPECT_EQ(cols[1].type.type, SqlType::smallint);
    std::int64_t previous = -1000;
    for (const auto& row : all.sets[0].rows) {
      EXPECT_LE(previous, as_int(row[1])) << as_str(row[0]);
      previous = as_int(row[1]);
    }
    auto wide = must(*s, "EXEC sp_datatype_info_100 -9, 3");
    ASSERT_EQ(wide.sets.at(0).rows.size(), 2u);
    EXPECT_EQ(as_str(wide.sets[0].rows[0][0]), "nvarchar");
    EXPECT_EQ(as_str(wide.sets[0].rows[0][3]), "N'");
    EXPECT_EQ(as_str(wide.sets[0].rows[1][0]), "sysname");
    EXPECT_EQ(as_str(must(*s, "EXEC sp_datatype_info 91, @ODBCVer = 3").sets.at(0).rows.at(0)[0]), "date");
    EXPECT_EQ(as_str(must(*s, "EXEC sp_datatype_info 9").sets.at(0).rows.at(0)[0]), "date");  // ODBC 2
    EXPECT_EQ(must(*s, "EXEC sp_datatype_info 91").sets.at(0).rows.size(), 0u);             // no 91 in ODBC 2
    auto stamp = must(*s, "EXEC sp_datatype_info_100 @data_type = 11");
    ASSERT_EQ(stamp.sets.at(0).rows.size(), 3u);  // datetime2, datetime, smalldatetime
  }
}
