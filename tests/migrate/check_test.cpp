// `check` against the fakes: every failing prerequisite a user meets is reported with its fix,
// the AWS side is read even when the source is down, and `check --fix` runs exactly the
// publication / MS-CDC statements the facts call for (docs/facts.md §3), and nothing when
// nothing is missing.
#include "migrate/check.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_sql_session.hpp"
#include "migrate/support/scripted_source.hpp"

using namespace m2r;
using m2r::test::FakeAwsWorld;
using m2r::test::Migration;
using m2r::test::script_source;
using m2r::test::script_database_state;
using m2r::test::script_table_flags;
using m2r::test::script_distributor;
using m2r::test::SourceShape;
using mssql::SqlRow;
using mssql::SqlValue;

namespace {

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_source(*m.source, {});
    m.target->on_rows("SELECT name FROM sys.databases", {"name"}, {});
  }
  std::vector<CheckResult> check(CheckOptions options = {}) {
    auto r = check_migration(m.config, m.connections, options, m.events);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<CheckResult>{};
  }
  static const CheckResult& result(const std::vector<CheckResult>& results, const std::string& id) {
    for (const auto& r : results)
      if (r.id == id) return r;
    static const CheckResult missing{"(missing)", "", CheckStatus::fail, "no result with this id", ""};
    ADD_FAILURE() << "no check result " << id;
    return missing;
  }
  static std::vector<std::string> failures(const std::vector<CheckResult>& results) {
    std::vector<std::string> out;
    for (const auto& r : results)
      if (r.status == CheckStatus::fail) out.push_back(r.id + ": " + r.detail);
    return out;
  }
  Migration m;
};

}  // namespace

TEST_F(CheckTest, AHealthyWorldPassesEveryCheckAndTestsBothEndpoints) {
  // Given every prerequisite in place, nothing should fail, and DMS TestConnection should have
  // been run (and waited for, on the clock) for both endpoints.
  const auto results = check();
  EXPECT_TRUE(failures(results).empty()) << ::testing::PrintToString(failures(results));
  EXPECT_EQ(m.aws_world.count("dms:TestConnection"), 2);
  EXPECT_EQ(result(results, "dms.source_connection").status, CheckStatus::pass);
  EXPECT_EQ(result(results, "dms.target_connection").status, CheckStatus::pass);
  EXPECT_GT(m.clock->total_slept().count(), 0);  // the 'testing' answer was waited out on the fake clock
  EXPECT_TRUE(m.source_procedures_run().empty());     // check changes nothing
}

TEST_F(CheckTest, AnUnreachableSourceIsReportedWithItsFixAndAwsIsStillRead) {
  m.source_unreachable = Error(ErrorKind::retryable, "cannot connect to src.example:1433: Connection refused");
  const auto results = check();
  const auto& r = result(results, "source.reachable");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("Connection refused"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("[source] server"), std::string::npos) << r.fix;
  EXPECT_EQ(result(results, "rds.option_group").status, CheckStatus::pass);
  EXPECT_GT(m.aws_world.count("dms:DescribeEndpoints"), 0);
}

TEST_F(CheckTest, SimpleRecoveryFailsWithTheAlterDatabaseFix) {
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_source(*m.source, {.recovery = "SIMPLE"});
  const auto results = check();
  const auto& r = result(results, "source.recovery_model");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail, "SIMPLE");
  EXPECT_NE(r.fix.find("ALTER DATABASE [Sales] SET RECOVERY FULL"), std::string::npos) << r.fix;
}

TEST_F(CheckTest, AMissingPublicationFailsNamingTheTablesAndCheckFix) {
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_source(*m.source, {.published = false});
  const auto results = check();
  const auto& r = result(results, "source.capture");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("not published: dbo.Orders"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("mssql2rds check --fix"), std::string::npos) << r.fix;
}

TEST_F(CheckTest, AnOptionGroupWithoutBackupRestoreFailsNamingTheOption) {
  m.aws_world.option_groups.front().backup_restore = false;
  const auto results = check();
  const auto& r = result(results, "rds.option_group");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("lacks SQLSERVER_BACKUP_RESTORE"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("IAM_ROLE_ARN"), std::string::npos) << r.fix;
}

TEST_F(CheckTest, ABucketInAnotherRegionFails) {
  m.aws_world.bucket_region = "eu-west-1";
  const auto results = check();
  const auto& r = result(results, "s3.region");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail, "bucket in eu-west-1, instance in us-east-1");
  EXPECT_NE(r.fix.find("same region"), std::string::npos) << r.fix;
}

TEST_F(CheckTest, AMissingBucketFails) {
  m.aws_world.bucket = "someone-elses";
  const auto results = check();
  const auto& r = result(results, "s3.bucket");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.fix.find("[s3] bucket"), std::string::npos) << r.fix;
}

TEST_F(CheckTest, AMissingDmsEndpointFailsWithHowToCreateIt) {
  m.aws_world.endpoints.pop_back();  // no target endpoint
  const auto results = check();
  const auto& r = result(results, "dms.target_endpoint");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail, "no endpoint 'tgt-ep'");
  EXPECT_NE(r.fix.find("[dms] target_endpoint"), std::string::npos) << r.fix;
  EXPECT_EQ(m.aws_world.count("dms:TestConnection"), 1);  // only the endpoint that exists
}

TEST_F(CheckTest, AFailedTestConnectionCarriesDmsMessage) {
  m.aws_world.connection_result[FakeAwsWorld::k_source_arn] = "failed";
  const auto results = check();
  const auto& r = result(results, "dms.source_connection");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail, "failed: Login failed for user 'dms'");
}

TEST_F(CheckTest, BeforeTheRestoreTheTargetsCannotOpenDatabaseIsExpectedButALoginFailureIsNot) {
  // Given the target database not there yet (the restore creates it), DMS's real TestConnection
  // of the target logs in and cannot open it (4060): check should pass that with the reason.
  // The same target refusing the login still fails, with the fix naming the password.
  m.aws_world.connection_result[FakeAwsWorld::k_target_arn] = "failed";
  m.aws_world.connection_failure =
      "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to ODBC provider ODBC "
      "general error., Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 42000 NativeError: 4060 Message: "
      "[unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot open database \"Sales\" requested by "
      "the login. The login failed.";
  auto results = check();
  const auto& expected = result(results, "dms.target_connection");
  EXPECT_EQ(expected.status, CheckStatus::pass) << expected.detail;
  EXPECT_NE(expected.detail.find("does not exist until the restore"), std::string::npos) << expected.detail;

  m.aws_world.connection_failure =
      "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot connect to SQL Server "
      "Authentication failed, Application-Detailed-Message: RetCode: SQL_ERROR SqlState: 28000 NativeError: 18456 "
      "Message: [unixODBC][Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user 'dms'.";
  results = check();
  const auto& refused = result(results, "dms.target_connection");
  EXPECT_EQ(refused.status, CheckStatus::fail);
  EXPECT_NE(refused.detail.find("Login failed for user 'dms'"), std::string::npos) << refused.detail;
  EXPECT_NE(refused.fix.find("--password"), std::string::npos) << refused.fix;
}

TEST_F(CheckTest, ATakenTargetNameFailsWithTheDropFix) {
  m.target = std::make_shared<mssql::FakeSqlSession>();
  m.target->on_rows("SELECT name FROM sys.databases", {"name"}, {{"Sales"}});
  const auto results = check();
  const auto& r = result(results, "rds.target_name");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.fix.find("rds_drop_database"), std::string::npos) << r.fix;
  EXPECT_EQ(m.target_databases_opened, (std::vector<std::string>{"master"}));
}

TEST_F(CheckTest, AMissingRdsInstanceFails) {
  m.aws_world.rds_instances.clear();
  const auto results = check();
  const auto& r = result(results, "rds.instance");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail, "no DB instance 'rds1'");
}

TEST_F(CheckTest, WithoutCredentialsEveryAwsCheckFailsSayingSo) {
  m.connections.aws.reset();
  const auto results = check();
  EXPECT_EQ(result(results, "rds.reachable").status, CheckStatus::fail);
  EXPECT_NE(result(results, "rds.reachable").detail.find("no AWS credentials"), std::string::npos);
  EXPECT_EQ(result(results, "dms.reachable").status, CheckStatus::fail);
  EXPECT_EQ(m.http->request_count(), 0u);
}

TEST_F(CheckTest, FixRunsExactlyThePublicationAndCdcStatementsNeeded) {
  // Given a database neither published nor CDC-enabled, `check --fix` should publish the
  // database, add the publication named after DB_ID with dbo.Orders and the cutover marker's
  // table as its articles, enable MS-CDC and track dbo.AuditLog (no primary key), in that
  // order, announcing each, and the re-read facts should then pass.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_database_state(*m.source, {.published = false, .cdc = false});
  script_database_state(*m.source, {});
  script_table_flags(*m.source, {.published = false, .cdc = false});
  script_table_flags(*m.source, {});
  script_source(*m.source, {});
  for (const char* proc : {"sp_replicationdboption", "sp_addpublication", "sp_addarticle", "sp_cdc_enable_db",
                           "sp_cdc_enable_table"}) {
    m.source->on_count(proc, 0);
  }
  const auto results = check({.fix_source = true});
  const auto ran = m.source_procedures_run();
  ASSERT_EQ(ran.size(), 6u) << ::testing::PrintToString(ran);
  EXPECT_NE(ran[0].find("sp_replicationdboption @dbname = N'Sales', @optname = N'publish'"), std::string::npos) << ran[0];
  EXPECT_NE(ran[1].find("sp_addpublication @publication = N'AR_PUBLICATION_00005'"), std::string::npos) << ran[1];
  EXPECT_NE(ran[2].find("@article = N'Orders', @source_owner = N'dbo'"), std::string::npos) << ran[2];
  EXPECT_NE(ran[3].find("@article = N'mssql2rds_cutover_marker', @source_owner = N'dbo'"), std::string::npos) << ran[3];
  EXPECT_NE(ran[4].find("sys.sp_cdc_enable_db"), std::string::npos) << ran[4];
  EXPECT_NE(ran[5].find("@source_schema = N'dbo', @source_name = N'AuditLog'"), std::string::npos) << ran[5];
  for (const auto& sql : ran) EXPECT_TRUE(m.said("fix: " + sql)) << sql;
  EXPECT_TRUE(m.source_ran("CREATE TABLE").empty()) << "the marker's table existed already";
  EXPECT_EQ(result(results, "source.capture").status, CheckStatus::pass);
}

TEST_F(CheckTest, FixCreatesTheCutoverMarkersTableAndPublishesIt) {
  // Given a healthy published source that lacks only the marker's table, check warns about it,
  // and --fix creates it (guarded, so a rerun is harmless) and adds it as an article before any
  // backup, so the restore carries it to the target.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_table_flags(*m.source, {.marker = false});
  script_table_flags(*m.source, {});
  m.source->on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"},
                    {{"dbo", "Orders", 101, 1, 1}, {"dbo", "AuditLog", 102, 0, 0}});
  script_source(*m.source, {});
  m.source->on_count("CREATE TABLE dbo.mssql2rds_cutover_marker", 0);
  m.source->on_count("sp_addarticle", 0);
  const auto results = check({.fix_source = true});
  const auto created = m.source_ran("IF OBJECT_ID(N'dbo.mssql2rds_cutover_marker'");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_NE(created[0].find("CREATE TABLE dbo.mssql2rds_cutover_marker (token varchar(32) NOT NULL PRIMARY KEY"),
            std::string::npos);
  const auto ran = m.source_procedures_run();
  ASSERT_EQ(ran.size(), 1u) << ::testing::PrintToString(ran);
  EXPECT_NE(ran[0].find("@article = N'mssql2rds_cutover_marker'"), std::string::npos) << ran[0];
  EXPECT_EQ(result(results, "source.cutover_marker").status, CheckStatus::pass);
}

TEST_F(CheckTest, AMissingCutoverMarkerTableIsAWarningNamingTheFix) {
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_table_flags(*m.source, {.marker = false});
  m.source->on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"},
                    {{"dbo", "Orders", 101, 1, 1}, {"dbo", "AuditLog", 102, 0, 0}});
  script_source(*m.source, {});
  const auto results = check();
  const auto& r = result(results, "source.cutover_marker");
  EXPECT_EQ(r.status, CheckStatus::warn);
  EXPECT_NE(r.fix.find("check --fix"), std::string::npos) << r.fix;
  EXPECT_TRUE(m.source_ran("CREATE TABLE").empty());
}

TEST_F(CheckTest, FixRunsNothingWhenNothingIsMissing) {
  const auto results = check({.fix_source = true});
  EXPECT_TRUE(m.source_procedures_run().empty()) << ::testing::PrintToString(m.source_procedures_run());
  EXPECT_FALSE(m.said("fix: "));
  EXPECT_EQ(result(results, "source.capture").status, CheckStatus::pass);
}

TEST_F(CheckTest, FixOnlyAddsTheMissingArticleToAnExistingPublication) {
  // Given a published database whose dbo.Orders and marker table are not articles yet (CDC
  // already fine), --fix should add those two articles and not publish the database again.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_table_flags(*m.source, {.published = false});
  script_table_flags(*m.source, {});
  script_source(*m.source, {});
  m.source->on_count("sp_addarticle", 0);
  (void)check({.fix_source = true});
  const auto ran = m.source_procedures_run();
  ASSERT_EQ(ran.size(), 2u) << ::testing::PrintToString(ran);
  EXPECT_NE(ran[0].find("sp_addarticle @publication = N'AR_PUBLICATION_00005', @article = N'Orders'"), std::string::npos) << ran[0];
  EXPECT_NE(ran[1].find("@article = N'mssql2rds_cutover_marker'"), std::string::npos) << ran[1];
}

TEST_F(CheckTest, ATestConnectionThatNeverEndsGivesUpAfterItsTimeoutOnTheClock) {
  // Given DMS answering "testing" for ever, the check should stop waiting after 60 s per
  // endpoint (on the fake clock: no real time) and report the endpoint as not connected.
  m.aws_world.connection_tests_pending_polls = 1'000'000;
  const auto results = check();
  const auto& r = result(results, "dms.source_connection");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_EQ(r.detail.rfind("testing", 0), 0u) << r.detail;
  EXPECT_GE(m.clock->total_slept(), std::chrono::seconds(120));
  EXPECT_LE(m.clock->total_slept(), std::chrono::seconds(122));
}

TEST_F(CheckTest, TheColumnsDmsCannotCarryAreReadFromTheCatalogAndNamed) {
  // Given dbo.Orders with a rowversion and dbo.AuditLog (no key) with an nvarchar(max), the
  // check reads sys.columns and sys.indexes and warns about both, naming table and column.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  m.source->on_rows("c.is_sparse", {"schema_name", "table_name", "column_name", "type_name", "max_length", "is_computed",
                                    "is_sparse", "is_column_set", "is_assembly_type"},
                    {{"dbo", "Orders", "rv", "timestamp", 8, 0, 0, 0, 0},
                     {"dbo", "AuditLog", "Body", "nvarchar", -1, 0, 0, 0, 0},
                     {"dbo", "AuditLog", "At", "datetime2", 8, 0, 0, 0, 0}});
  m.source->on_rows("i.is_unique = 1", {"schema_name", "table_name"}, {});
  script_source(*m.source, {});
  const auto results = check();
  EXPECT_EQ(result(results, "source.rowversion").status, CheckStatus::warn);
  EXPECT_EQ(result(results, "source.rowversion").detail, "dbo.Orders rv (timestamp)");
  EXPECT_EQ(result(results, "source.lob_without_key").detail, "dbo.AuditLog Body (nvarchar(max))");
  EXPECT_EQ(result(results, "source.keyless").detail, "dbo.AuditLog");
  EXPECT_EQ(result(results, "source.computed").status, CheckStatus::pass);
}

TEST_F(CheckTest, ASourceWithoutADistributorFailsNamingTheFixAndCheckChangesNothing) {
  // Given an unpublished database on a server without a Distributor, check should fail
  // source.distributor with check --fix and the three documented statements, and run nothing.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_source(*m.source, {.published = false, .distributor = m2r::test::DistributorShape::none});
  const auto results = check();
  const auto& r = result(results, "source.distributor");
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.fix.find("check --fix"), std::string::npos) << r.fix;
  EXPECT_NE(r.fix.find("sp_adddistributor @distributor = N'SRC1'"), std::string::npos) << r.fix;
  EXPECT_TRUE(m.source_procedures_run().empty()) << ::testing::PrintToString(m.source_procedures_run());
}

TEST_F(CheckTest, FixConfiguresALocalDistributorBeforePublishingWithARandomPasswordNeverShown) {
  // Given no Distributor and a sysadmin login, --fix should run sp_adddistributor (the password
  // a random parameter of the statement, marked secret), sp_adddistributiondb and
  // sp_adddistpublisher for @@SERVERNAME, then publish; the events show the password redacted.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_distributor(*m.source, m2r::test::DistributorShape::none);
  script_database_state(*m.source, {.published = false});
  script_database_state(*m.source, {});
  script_table_flags(*m.source, {.published = false});
  script_table_flags(*m.source, {});
  script_source(*m.source, {});
  for (const char* proc : {"sp_adddistributor", "sp_adddistributiondb", "sp_adddistpublisher", "sp_replicationdboption",
                           "sp_addpublication", "sp_addarticle"}) {
    m.source->on_count(proc, 0);
  }
  const auto results = check({.fix_source = true});
  const auto ran = m.source_procedures_run();
  ASSERT_EQ(ran.size(), 7u) << ::testing::PrintToString(ran);
  EXPECT_EQ(ran[0], "EXEC sp_adddistributor @distributor = N'SRC1', @password = ?");
  EXPECT_EQ(ran[1], "EXEC sp_adddistributiondb @database = N'distribution'");
  EXPECT_EQ(ran[2], "EXEC sp_adddistpublisher @publisher = N'SRC1', @distribution_db = N'distribution'");
  EXPECT_NE(ran[3].find("sp_replicationdboption"), std::string::npos) << ran[3];
  std::string password;
  for (const auto& st : m.source->executed()) {
    if (st.sql.find("sp_adddistributor") == std::string::npos) continue;
    ASSERT_EQ(st.params.size(), 1u);
    EXPECT_TRUE(st.options.carries_secret);
    password = st.params[0].value.to_text();
  }
  EXPECT_GE(password.size(), 24u);
  for (const auto& message : m.messages()) EXPECT_EQ(message.find(password), std::string::npos) << message;
  EXPECT_TRUE(m.said("fix: EXEC sp_adddistributor @distributor = N'SRC1', @password = N'<password, not shown>'"));
  EXPECT_EQ(result(results, "source.distributor").status, CheckStatus::pass);
}

TEST_F(CheckTest, FixLeavesARemoteDistributorAsItIsAndPublishes) {
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_distributor(*m.source, m2r::test::DistributorShape::remote);
  script_database_state(*m.source, {.published = false});
  script_database_state(*m.source, {});
  script_table_flags(*m.source, {.published = false});
  script_table_flags(*m.source, {});
  script_source(*m.source, {});
  for (const char* proc : {"sp_replicationdboption", "sp_addpublication", "sp_addarticle"}) m.source->on_count(proc, 0);
  (void)check({.fix_source = true});
  const auto ran = m.source_procedures_run();
  ASSERT_FALSE(ran.empty());
  EXPECT_NE(ran[0].find("sp_replicationdboption"), std::string::npos) << ran[0];
  for (const auto& sql : ran) EXPECT_EQ(sql.find("sp_adddist"), std::string::npos) << sql;
}

TEST_F(CheckTest, FixRefusesBeforeChangingAnythingWhenTheLoginIsNotSysadmin) {
  // Given an unpublished database, no Distributor and a login that is not sysadmin, --fix should
  // stop with a prerequisite error naming who must run what, having run nothing (not even the
  // marker's table).
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_source(*m.source, {.published = false, .marker = false, .distributor = m2r::test::DistributorShape::none,
                            .sysadmin = false});
  auto r = check_migration(m.config, m.connections, {.fix_source = true}, m.events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("not sysadmin"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("a sysadmin runs EXEC sp_adddistributor"), std::string::npos) << r.error().hint;
  EXPECT_TRUE(m.source_procedures_run().empty()) << ::testing::PrintToString(m.source_procedures_run());
  EXPECT_TRUE(m.source_ran("CREATE TABLE").empty());
}

TEST_F(CheckTest, TheBackupDirectoryIsProvenSharedWithAProbeThatIsNeverLeftBehind) {
  const auto results = check();
  const auto& dir = result(results, "source.backup_dir");
  EXPECT_EQ(dir.status, CheckStatus::pass) << dir.detail;
  // SQL Server was asked about the probe at backup_dir_server, under the probe's own name.
  const auto asked = m.source_ran("xp_fileexist");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(asked[0].find("N'/var/opt/mssql/backup/.mssql2rds-probe-"), std::string::npos) << asked[0];
  EXPECT_TRUE(std::filesystem::is_empty(m.backup_dir.path()));
}

TEST_F(CheckTest, ABackupDirectorySqlServerDoesNotSeeFailsWithHowToShareIt) {
  // The first answer is for the probe, the second for the directory itself (a fragment's
  // answers are used in order): the directory exists, the probe is not there.
  m.source = std::make_shared<mssql::FakeSqlSession>();
  const std::vector<std::string> columns = {"File Exists", "File is a Directory", "Parent Directory Exists"};
  m.source->on_rows("xp_fileexist", columns, {{0, 0, 1}}).on_rows("xp_fileexist", columns, {{0, 1, 1}});
  script_source(*m.source, {});
  const auto results = check();
  const auto& dir = result(results, "source.backup_dir");
  EXPECT_EQ(dir.status, CheckStatus::fail);
  EXPECT_NE(dir.detail.find("is not this host's"), std::string::npos) << dir.detail;
  EXPECT_NE(dir.fix.find("backup_dir_local"), std::string::npos) << dir.fix;
  EXPECT_TRUE(std::filesystem::is_empty(m.backup_dir.path()));
}

TEST_F(CheckTest, ABackupDirectoryMissingHereFailsBeforeSqlServerIsAsked) {
  m.config.source.backup_dir_local = m.backup_dir.str() + "/not-mounted";
  const auto results = check();
  const auto& dir = result(results, "source.backup_dir");
  EXPECT_EQ(dir.status, CheckStatus::fail);
  EXPECT_NE(dir.detail.find("not-mounted"), std::string::npos) << dir.detail;
  EXPECT_TRUE(m.source_ran("xp_fileexist").empty());
}

TEST_F(CheckTest, ALoginThatIsNotSysadminCannotAskSqlServerAndIsWarnedNotFailed) {
  m.source = std::make_shared<mssql::FakeSqlSession>();
  script_source(*m.source, {.sysadmin = false});
  const auto results = check();
  const auto& dir = result(results, "source.backup_dir");
  EXPECT_EQ(dir.status, CheckStatus::warn) << dir.detail;
  EXPECT_NE(dir.detail.find("not sysadmin"), std::string::npos) << dir.detail;
  EXPECT_TRUE(m.source_ran("xp_fileexist").empty());
}
