#include "core/checks.hpp"

#include <algorithm>

#include <gtest/gtest.h>

using namespace m2r;

namespace {

SourceFacts healthy_source() {
  SourceFacts f;
  f.reachable = true;
  f.database_exists = true;
  f.database = "Sales";
  f.major_version = 15;
  f.product_version = "15.0.4355.3";
  f.recovery_model = "FULL";
  f.log_reuse_wait = "NOTHING";
  f.is_published = true;
  f.is_cdc_enabled = true;
  f.is_sysadmin = true;
  f.tables = {{"dbo.Orders", true, true, false, false, false}, {"dbo.Audit", false, false, true, false, false}};
  return f;
}

RdsFacts healthy_rds() {
  RdsFacts f;
  f.reachable = true;
  f.instance_exists = true;
  f.instance_id = "sales-rds";
  f.engine = "sqlserver-se";
  f.engine_version = "15.00.4345.5.v1";
  f.major_version = 15;
  f.status = "available";
  f.region = "us-east-1";
  f.allocated_storage_gb = 100;
  f.endpoint = "sales-rds.x.rds.amazonaws.com:1433";
  f.option_group_has_backup_restore = true;
  f.option_group_name = "og";
  f.option_group_status = "in-sync";
  f.iam_role_arn = "arn:aws:iam::123456789012:role/rds-restore";
  f.target_database_exists = false;
  return f;
}

CheckResult find(const std::vector<CheckResult>& rs, const std::string& id) {
  const auto it = std::find_if(rs.begin(), rs.end(), [&](const CheckResult& c) { return c.id == id; });
  if (it == rs.end()) throw std::runtime_error("no check " + id);
  return *it;
}

}  // namespace

TEST(ChecksTest, HealthySetupPassesEverything) {
  const auto src = evaluate_source(healthy_source());
  const auto rds = evaluate_rds(healthy_rds(), healthy_source());
  EXPECT_FALSE(any_failed(src));
  EXPECT_FALSE(any_failed(rds));
}

TEST(ChecksTest, ConnectionsInClearOrUnverifiedAreWarned) {
  // Given the defaults, the connection check should pass; encrypt = false, trust_server_certificate = true or a
  // connection string with Encryption=off should each warn, naming the setting and the fix.
  EXPECT_EQ(evaluate_connection_security({"source", true, false, false, false}).status, CheckStatus::pass);
  const auto clear = evaluate_connection_security({"source", false, false, false, false});
  EXPECT_EQ(clear.status, CheckStatus::warn);
  EXPECT_EQ(clear.id, "source.tls");
  EXPECT_NE(clear.detail.find("encrypt = false"), std::string::npos);
  EXPECT_NE(clear.fix.find("[source] encrypt = true"), std::string::npos);
  const auto trusting = evaluate_connection_security({"target", true, true, false, false});
  EXPECT_EQ(trusting.status, CheckStatus::warn);
  EXPECT_EQ(trusting.id, "rds.tls");
  EXPECT_NE(trusting.detail.find("trust_server_certificate = true"), std::string::npos);
  const auto off = evaluate_connection_security({"source", true, false, true, true});
  EXPECT_EQ(off.status, CheckStatus::warn);
  EXPECT_NE(off.detail.find("Encryption=off"), std::string::npos);
}

TEST(ChecksTest, SimpleRecoveryFailsWithTheFix) {
  auto f = healthy_source();
  f.recovery_model = "SIMPLE";
  const auto c = find(evaluate_source(f), "source.recovery_model");
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.fix.find("SET RECOVERY FULL"), std::string::npos);
}

TEST(ChecksTest, PkLessTableNeedsMsCdc) {
  // Given a table without a primary key and without MS-CDC, capture fails and names it.
  auto f = healthy_source();
  f.tables[1].cdc_enabled = false;
  const auto c = find(evaluate_source(f), "source.capture");
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.detail.find("dbo.Audit"), std::string::npos);
}

TEST(ChecksTest, MissingOptionGroupRoleFails) {
  auto r = healthy_rds();
  r.iam_role_arn.clear();
  EXPECT_EQ(find(evaluate_rds(r, healthy_source()), "rds.option_group").status, CheckStatus::fail);
}

TEST(ChecksTest, NewerSourceThanTargetFails) {
  auto s = healthy_source();
  s.major_version = 16;
  EXPECT_EQ(find(evaluate_rds(healthy_rds(), s), "versions").status, CheckStatus::fail);
}

TEST(ChecksTest, TakenTargetNameFails) {
  auto r = healthy_rds();
  r.target_database_exists = true;
  EXPECT_EQ(find(evaluate_rds(r, healthy_source()), "rds.target_name").status, CheckStatus::fail);
}

TEST(ChecksTest, BucketInAnotherRegionFails) {
  S3Facts s{true, "", "b", "eu-west-1"};
  const auto c = find(evaluate_s3(s, healthy_rds()), "s3.region");
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.detail.find("eu-west-1"), std::string::npos);
}

TEST(ChecksTest, EndpointPointingElsewhereFails) {
  DmsFacts d;
  d.reachable = true;
  d.instance_exists = true;
  d.instance_status = "available";
  d.source = {true, "src", "sqlserver", "otherhost", 1433, "Sales", "successful", ""};
  d.target = {true, "tgt", "sqlserver", "sales-rds.x.rds.amazonaws.com", 1433, "Sales", "failed", "login failed"};
  const auto rs = evaluate_dms(d, {"db01", 1433, "Sales", "Sales", "us-east-1"}, healthy_rds());
  EXPECT_EQ(find(rs, "dms.source_endpoint").status, CheckStatus::fail);
  EXPECT_EQ(find(rs, "dms.target_endpoint").status, CheckStatus::pass);
  EXPECT_EQ(find(rs, "dms.target_connection").status, CheckStatus::fail);
}

TEST(ChecksTest, TargetEndpointMayNameTheHostOverrideInsteadOfTheRdsEndpoint) {
  // Given [target] host_override = "10.0.0.5:1433" and a target endpoint naming that address,
  // the endpoint check should pass; an endpoint naming a third address still fails.
  DmsFacts d;
  d.reachable = true;
  d.instance_exists = true;
  d.instance_status = "available";
  d.source = {true, "src", "sqlserver", "db01", 1433, "Sales", "successful", ""};
  d.target = {true, "tgt", "sqlserver", "10.0.0.5", 1433, "Sales", "successful", ""};
  ExpectedTopology topo{"db01", 1433, "Sales", "Sales", "us-east-1", "10.0.0.5:1433"};
  EXPECT_EQ(find(evaluate_dms(d, topo, healthy_rds()), "dms.target_endpoint").status, CheckStatus::pass);
  d.target.server = "10.0.0.6";
  EXPECT_EQ(find(evaluate_dms(d, topo, healthy_rds()), "dms.target_endpoint").status, CheckStatus::fail);
  topo.target_host_override.clear();
  d.target.server = "10.0.0.5";
  EXPECT_EQ(find(evaluate_dms(d, topo, healthy_rds()), "dms.target_endpoint").status, CheckStatus::fail);
}

TEST(ChecksTest, WhatDmsCannotCarryIsNamedTableByTableWithWhatToDo) {
  // Given the columns DMS loses or changes (docs/facts.md §12), each is a warning naming the
  // table and column, never a failure that blocks the migration: validation still sees them.
  auto f = healthy_source();
  f.tables[0].rowversion_columns = {"rv (timestamp)"};
  f.tables[0].computed_columns = {"Total (decimal)"};
  f.tables[0].lob_columns = {"Notes (nvarchar(max))"};  // has a key: fine
  f.tables[1].lob_columns = {"Payload (varbinary(max))"};
  f.tables[1].sparse_columns = {"Extra (xml)"};
  f.tables[1].clr_columns = {"Shape (geography)"};
  const auto src = evaluate_source(f);
  EXPECT_FALSE(any_failed(src));
  const auto lob = find(src, "source.lob_without_key");
  EXPECT_EQ(lob.status, CheckStatus::warn);
  EXPECT_EQ(lob.detail, "dbo.Audit Payload (varbinary(max))");
  EXPECT_NE(lob.fix.find("add a primary key BEFORE the backup"), std::string::npos);
  EXPECT_EQ(find(src, "source.rowversion").detail, "dbo.Orders rv (timestamp)");
  EXPECT_NE(find(src, "source.rowversion").fix.find("validation leaves these columns out"), std::string::npos);
  EXPECT_EQ(find(src, "source.computed").status, CheckStatus::warn);
  EXPECT_EQ(find(src, "source.sparse").detail, "dbo.Audit Extra (xml)");
  EXPECT_NE(find(src, "source.clr_types").fix.find("CLR user-defined types"), std::string::npos);
  EXPECT_EQ(find(src, "source.keyless").detail, "dbo.Audit");
  EXPECT_EQ(find(src, "source.uncaptured").status, CheckStatus::pass);
  EXPECT_NE(find(src, "source.uncaptured").detail.find("Msg 4711"), std::string::npos);
}

TEST(ChecksTest, AUniqueIndexIsAKeyAndCleanTablesPass) {
  auto f = healthy_source();
  f.tables[1].has_unique_index = true;
  const auto src = evaluate_source(f);
  for (const char* id : {"source.lob_without_key", "source.keyless", "source.rowversion", "source.computed",
                         "source.sparse", "source.clr_types"}) {
    EXPECT_EQ(find(src, id).status, CheckStatus::pass) << id << ": " << find(src, id).detail;
  }
}

namespace {
DmsFacts tested_dms(const std::string& target_status, const std::string& target_message) {
  DmsFacts d;
  d.reachable = true;
  d.instance_exists = true;
  d.instance_status = "available";
  d.source = {true, "src", "sqlserver", "db01", 1433, "Sales", "successful", ""};
  d.target = {true, "tgt", "sqlserver", "sales-rds.x.rds.amazonaws.com", 1433, "Sales", target_status, target_message};
  return d;
}
constexpr const char* k_cannot_open_sales =
    "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to ODBC provider ODBC "
    "general error., Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 42000 NativeError: 4060 Message: "
    "[unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot open database \"Sales\" requested by the "
    "login. The login failed.";
constexpr const char* k_login_failed =
    "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to SQL Server "
    "Authentication failed, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 28000 NativeError: 18456 "
    "Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user 'dms'.";
}  // namespace

TEST(ChecksTest, BeforeTheRestoreCannotOpenTheTargetDatabaseIsExpected) {
  // Given a target database that does not exist yet, a TestConnection that logged in and could
  // not open exactly that database should pass, saying why.
  auto rds = healthy_rds();
  rds.target_database_exists = false;
  const auto c = find(evaluate_dms(tested_dms("failed", k_cannot_open_sales), {"db01", 1433, "Sales", "Sales", "us-east-1"}, rds),
                      "dms.target_connection");
  EXPECT_EQ(c.status, CheckStatus::pass);
  EXPECT_NE(c.detail.find("logs in; the database Sales does not exist until the restore"), std::string::npos) << c.detail;
}

TEST(ChecksTest, CannotOpenDatabaseFailsWhenTheDatabaseExistsOrIsAnother) {
  // Given the target database already there (the endpoint's user cannot open it), or a 4060 for
  // a database other than the target's, the connection check should fail with the fix.
  auto rds = healthy_rds();
  rds.target_database_exists = true;
  ExpectedTopology topo{"db01", 1433, "Sales", "Sales", "us-east-1"};
  auto c = find(evaluate_dms(tested_dms("failed", k_cannot_open_sales), topo, rds), "dms.target_connection");
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.fix.find("DatabaseName"), std::string::npos) << c.fix;
  rds.target_database_exists = false;
  topo.target_database = "Orders";
  auto d = tested_dms("failed", k_cannot_open_sales);
  d.target.database = "Orders";
  c = find(evaluate_dms(d, topo, rds), "dms.target_connection");
  EXPECT_EQ(c.status, CheckStatus::fail);
}

TEST(ChecksTest, BeforeTheRestoreALoginFailureStillFailsWithTheFix) {
  // Given the target database not created yet, a refused login is still a failure, and the fix
  // names the endpoint's user name and password.
  auto rds = healthy_rds();
  rds.target_database_exists = false;
  const auto c = find(evaluate_dms(tested_dms("failed", k_login_failed), {"db01", 1433, "Sales", "Sales", "us-east-1"}, rds),
                      "dms.target_connection");
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.detail.find("Login failed for user 'dms'"), std::string::npos) << c.detail;
  EXPECT_NE(c.fix.find("--password"), std::string::npos) << c.fix;
}

TEST(ChecksTest, DmsConnectionFixNamesTheCause) {
  // Given each kind of TestConnection failure, the fix should name what to change.
  EXPECT_NE(dms_connection_fix(k_login_failed, "source").find("Username or Password"), std::string::npos);
  EXPECT_NE(dms_connection_fix(k_cannot_open_sales, "target").find("--database-name"), std::string::npos);
  EXPECT_NE(dms_connection_fix("Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect "
                               "to ODBC provider Network error has occurred, Application-Detailed-Message: RetCode: "
                               "SQL_ERROR SqlState: 08001 NativeError: 0 Message: [unixODBC]timeout expired",
                               "source")
                .find("security groups"),
            std::string::npos);
  EXPECT_TRUE(dms_connection_cannot_open_database(k_cannot_open_sales, "sales"));  // names compare case-insensitively
  EXPECT_FALSE(dms_connection_cannot_open_database(k_cannot_open_sales, "Sale"));
}
