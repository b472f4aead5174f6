// Distribution and publishing in the sandbox engine (sandbox/engine/replication.hpp): the
// Distributor configured as Microsoft's "Configure publishing and distribution" does it, and
// each refusal SQL Server documents for the distribution and publishing procedures, with its
// number and text. In-process, no TDS.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = temp_dir("repl");
    open();
    ok("CREATE DATABASE shop; ALTER DATABASE shop SET RECOVERY FULL; USE shop;"
       " CREATE TABLE dbo.orders (id int NOT NULL PRIMARY KEY, qty int); CREATE TABLE dbo.audit (at datetime2, what nvarchar(50));");
  }
  void TearDown() override {
    m_s.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  void open() {
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = "Secret#1";
    m_inst = open_instance(cfg);
    auto login = m_inst->login("sa", "Secret#1", "");
    ASSERT_TRUE(login.session) << login.failure.text;
    m_s = std::move(login.session);
  }
  Collected ok(const std::string& sql) {
    auto r = run(*m_s, sql);
    EXPECT_EQ(r.errors, 0) << sql << " -> " << (r.error() ? r.error()->text : "");
    return r;
  }
  // The error `sql` raises: its number, severity and text are checked by the caller.
  Message refused(const std::string& sql, Session* s = nullptr) {
    auto r = run(s ? *s : *m_s, sql);
    if (!r.error()) {
      ADD_FAILURE() << sql << " was accepted";
      return {};
    }
    return *r.error();
  }
  // sp_get_distributor's one row: installed, distribution server, distribution db installed,
  // is distribution publisher, has remote distribution publisher.
  std::vector<Value> distributor(Session* s = nullptr) {
    auto r = run(s ? *s : *m_s, "EXEC sp_get_distributor");
    EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
    if (r.sets.size() != 1 || r.sets[0].rows.size() != 1) {
      ADD_FAILURE() << "sp_get_distributor should answer one row";
      return std::vector<Value>(5);
    }
    return r.sets[0].rows[0];
  }
  bool published() {
    return as_int(ok("SELECT is_published FROM sys.databases WHERE name = N'shop'").sets[0].rows[0][0]) == 1;
  }
  std::unique_ptr<Session> app_login() {
    ok("CREATE LOGIN app WITH PASSWORD = N'Str0ng#Secret'; USE shop; CREATE USER app FOR LOGIN app;"
       " ALTER ROLE db_owner ADD MEMBER app;");
    auto login = m_inst->login("app", "Str0ng#Secret", "shop");
    EXPECT_TRUE(login.session) << login.failure.text;
    return std::move(login.session);
  }
  static constexpr const char* k_publish = "EXEC sp_replicationdboption @dbname = N'shop', @optname = N'publish', @value = N'true'";
  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_s;
};

bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace

TEST_F(ReplicationTest, AFreshServerHasNoDistributorAndRefusesToPublishWith20028) {
  // Given a new instance, sp_get_distributor should say nothing is installed (distribution
  // server NULL), and enabling a database for publishing should fail with Msg 20028, leaving it
  // unpublished.
  const auto row = distributor();
  EXPECT_EQ(as_int(row[0]), 0);
  EXPECT_TRUE(is_null(row[1]));
  EXPECT_EQ(as_int(row[2]), 0);
  EXPECT_EQ(as_int(row[3]), 0);
  EXPECT_EQ(as_int(row[4]), 0);
  const auto e = refused(k_publish);
  EXPECT_EQ(e.number, 20028);
  EXPECT_EQ(e.severity, 16);
  EXPECT_EQ(e.text, "The Distributor has not been installed correctly. Could not enable database for publishing.");
  EXPECT_FALSE(published());
}

TEST_F(ReplicationTest, TheDocumentedStepsConfigureALocalDistributorAndThenTheDatabasePublishes) {
  // Given sp_adddistributor, sp_adddistributiondb and sp_adddistpublisher run as sa, the
  // distribution database should exist (is_distributor = 1), sp_get_distributor should report
  // the local Distributor, and publishing should then succeed.
  ok(local_distributor_sql("src"));
  const auto row = distributor();
  EXPECT_EQ(as_int(row[0]), 1);
  EXPECT_EQ(as_str(row[1]), "src");
  EXPECT_EQ(as_int(row[2]), 1);
  EXPECT_EQ(as_int(row[3]), 1);
  EXPECT_EQ(as_int(row[4]), 0);
  auto dist = ok("SELECT is_distributor FROM sys.databases WHERE name = N'distribution'");
  ASSERT_EQ(dist.sets[0].rows.size(), 1u);
  EXPECT_EQ(as_int(dist.sets[0].rows[0][0]), 1);
  EXPECT_EQ(as_int(ok("SELECT is_distributor FROM sys.databases WHERE name = N'shop'").sets[0].rows[0][0]), 0);
  ok(k_publish);
  EXPECT_TRUE(published());
}

TEST_F(ReplicationTest, EachStepOutOfOrderOrTwiceIsRefusedAsDocumented) {
  // Given the steps out of order, a distribution database or a Publisher before the Distributor
  // is 14114; a second Distributor 14099; a second distribution database of the same name 14119;
  // a Publisher on a database that is not a distribution database 14117; a Publisher twice 14074.
  auto e = refused("EXEC sp_adddistributiondb @database = N'distribution'");
  EXPECT_EQ(e.number, 14114);
  EXPECT_EQ(e.text, "The server 'src' is not configured as a Distributor.");
  EXPECT_EQ(refused("EXEC sp_adddistpublisher @publisher = N'src', @distribution_db = N'distribution'").number, 14114);
  ok("EXEC sp_adddistributor @distributor = N'src', @password = N'Dist#Pass1'");
  e = refused("EXEC sp_adddistributor @distributor = N'src', @password = N'Dist#Pass1'");
  EXPECT_EQ(e.number, 14099);
  EXPECT_EQ(e.severity, 16);
  EXPECT_EQ(e.text.rfind("The server 'src' is already defined as a Distributor.", 0), 0u) << e.text;
  e = refused("EXEC sp_adddistpublisher @publisher = N'src', @distribution_db = N'shop'");
  EXPECT_EQ(e.number, 14117);
  EXPECT_EQ(e.text, "'shop' is not configured as a distribution database.");
  ok("EXEC sp_adddistributiondb @database = N'distribution'");
  e = refused("EXEC sp_adddistributiondb @database = N'distribution'");
  EXPECT_EQ(e.number, 14119);
  EXPECT_EQ(e.text, "Could not add the distribution database 'distribution'. This distribution database already exists.");
  // A Distributor and its database but no Publisher registered: still "not installed correctly".
  EXPECT_EQ(refused(k_publish).number, 20028);
  ok("EXEC sp_adddistpublisher @publisher = N'src', @distribution_db = N'distribution'");
  e = refused("EXEC sp_adddistpublisher @publisher = N'src', @distribution_db = N'distribution'");
  EXPECT_EQ(e.number, 14074);
  EXPECT_EQ(e.text, "The server 'src' is already listed as a Publisher.");
}

TEST_F(ReplicationTest, DropsGoInReverseOrderAndAreRefusedWhileDependentsExist) {
  // Given a configured Distributor, sp_dropdistributor is 14121 while a distribution database
  // exists and sp_dropdistributiondb 14120 while a Publisher uses it; dropping the Publisher,
  // the database and the Distributor in that order undoes everything, and a further
  // sp_dropdistributor is 21043.
  ok(local_distributor_sql("src"));
  auto e = refused("EXEC sp_dropdistributor");
  EXPECT_EQ(e.number, 14121);
  EXPECT_EQ(e.text, "Could not drop the Distributor 'src'. This Distributor has associated distribution databases.");
  e = refused("EXEC sp_dropdistributiondb @database = N'distribution'");
  EXPECT_EQ(e.number, 14120);
  EXPECT_EQ(e.text, "Could not drop the distribution database 'distribution'. This distributor database is associated with a Publisher.");
  ok("EXEC sp_dropdistpublisher @publisher = N'src'");
  ok("EXEC sp_dropdistributiondb @database = N'distribution'");
  EXPECT_TRUE(ok("SELECT name FROM sys.databases WHERE name = N'distribution'").sets[0].rows.empty());
  ok("EXEC sp_dropdistributor");
  EXPECT_EQ(as_int(distributor()[0]), 0);
  e = refused("EXEC sp_dropdistributor");
  EXPECT_EQ(e.number, 21043);
  EXPECT_EQ(e.text, "The Distributor is not installed.");
  EXPECT_EQ(refused("EXEC sp_dropdistpublisher @publisher = N'src'").number, 14080);
}

TEST_F(ReplicationTest, DropDistributorWithNoChecksRemovesEverythingAndUnpublishes) {
  // Given a published database, sp_dropdistributor @no_checks = 1 "drops all the publishing and
  // distribution objects before uninstalling the distributor".
  ok(local_distributor_sql("src"));
  ok(k_publish);
  ok("EXEC sp_dropdistributor @no_checks = 1");
  EXPECT_EQ(as_int(distributor()[0]), 0);
  EXPECT_FALSE(published());
  EXPECT_TRUE(ok("SELECT name FROM sys.databases WHERE name = N'distribution'").sets[0].rows.empty());
}

TEST_F(ReplicationTest, OnlyASysadminConfiguresDistributionOrPublishesAndNothingChangesOtherwise) {
  // Given a login that is db_owner of shop but not sysadmin, every distribution procedure and
  // sp_replicationdboption should fail with 21089, and sp_get_distributor should answer it
  // with NULLs (it is db_owner of no published or distribution database).
  auto app = app_login();
  ASSERT_TRUE(app);
  for (const char* sql : {"EXEC sp_adddistributor @distributor = N'src', @password = N'Dist#Pass1'",
                                "EXEC sp_adddistributiondb @database = N'distribution'",
                                "EXEC sp_adddistpublisher @publisher = N'src', @distribution_db = N'distribution'",
                                "EXEC sp_dropdistributor", k_publish}) {
    const auto e = refused(sql, app.get());
    EXPECT_EQ(e.number, 21089) << sql;
    EXPECT_EQ(e.text, "Only members of the sysadmin fixed server role can perform this operation.") << sql;
  }
  EXPECT_EQ(as_int(distributor()[0]), 0);
  EXPECT_TRUE(ok("SELECT name FROM sys.databases WHERE name = N'distribution'").sets[0].rows.empty());
  ok(local_distributor_sql("src"));
  const auto row = distributor(app.get());
  for (const auto& v : row) EXPECT_TRUE(is_null(v));
  // Once shop is published, its db_owner sees the configuration.
  ok(k_publish);
  EXPECT_EQ(as_str(distributor(app.get())[1]), "src");
}

TEST_F(ReplicationTest, TheDistributorSurvivesARestart) {
  // Given a configured Distributor, reopening the instance on the same files should keep it.
  ok(local_distributor_sql("src"));
  m_s.reset();
  m_inst.reset();
  open();
  const auto row = distributor();
  EXPECT_EQ(as_int(row[0]), 1);
  EXPECT_EQ(as_str(row[1]), "src");
  EXPECT_EQ(as_int(row[3]), 1);
  ok(k_publish);
}

TEST_F(ReplicationTest, AddPublicationValidatesItsArgumentsAsSqlServerDoes) {
  // Given a published database, sp_addpublication refuses a bad @sync_method (14014), @repl_freq
  // (14015), @status (14012), a missing name (14003) and a name taken (14016); in a database
  // not enabled for publishing it is 14013.
  EXPECT_EQ(refused("EXEC sp_addpublication @publication = N'p', @repl_freq = N'continuous'").number, 14013);
  ok(local_distributor_sql("src"));
  ok(k_publish);
  auto e = refused("EXEC sp_addpublication @publication = N'p', @sync_method = N'fast'");
  EXPECT_EQ(e.number, 14014);
  EXPECT_EQ(e.text, "The synchronization method (@sync_method) must be '[bcp] native', '[bcp] character', 'concurrent', "
                    "'concurrent_c', 'database snapshot', or 'database snapshot character'.");
  e = refused("EXEC sp_addpublication @publication = N'p', @repl_freq = N'hourly'");
  EXPECT_EQ(e.number, 14015);
  EXPECT_EQ(e.text, "The replication frequency (@repl_freq) must be either 'continuous' or 'snapshot'.");
  e = refused("EXEC sp_addpublication @publication = N'p', @status = N'on'");
  EXPECT_EQ(e.number, 14012);
  EXPECT_EQ(e.text, "The @status parameter value must be either 'active' or 'inactive'.");
  EXPECT_EQ(refused("EXEC sp_addpublication @publication = N''").number, 14003);
  const std::string add = "EXEC sp_addpublication @publication = N'AR_PUBLICATION_00005', @sync_method = N'native',"
                          " @repl_freq = N'continuous', @status = N'active', @replicate_ddl = 1";
  ok(add);
  e = refused(add);
  EXPECT_EQ(e.number, 14016);
  EXPECT_EQ(e.text, "The publication 'AR_PUBLICATION_00005' already exists.");
}

TEST_F(ReplicationTest, AddArticleValidatesThePublicationTypeAndTable) {
  // Given a publication, sp_addarticle refuses a publication that does not exist (20026), a
  // bad @type (14023), a table that does not exist (14027, severity 11), a table without a
  // primary key in a log-based article (14088) and the same article twice (14030).
  ok(local_distributor_sql("src"));
  ok(k_publish);
  ok("EXEC sp_addpublication @publication = N'pub', @sync_method = N'native', @repl_freq = N'continuous', @status = N'active'");
  auto e = refused("EXEC sp_addarticle @publication = N'nope', @article = N'orders', @source_object = N'orders'");
  EXPECT_EQ(e.number, 20026);
  EXPECT_EQ(e.text, "The publication 'nope' does not exist.");
  e = refused("EXEC sp_addarticle @publication = N'pub', @article = N'orders', @source_object = N'orders', @type = N'rowbased'");
  EXPECT_EQ(e.number, 14023);
  e = refused("EXEC sp_addarticle @publication = N'pub', @article = N'ghost', @source_owner = N'dbo', @source_object = N'ghost'");
  EXPECT_EQ(e.number, 14027);
  EXPECT_EQ(e.severity, 11);
  EXPECT_EQ(e.text, "ghost does not exist in the current database.");
  e = refused("EXEC sp_addarticle @publication = N'pub', @article = N'audit', @source_owner = N'dbo', @source_object = N'audit',"
              " @type = N'logbased'");
  EXPECT_EQ(e.number, 14088);
  EXPECT_EQ(e.text, "The table '[dbo].[audit]' must have a primary key to be published using the transaction-based method.");
  const std::string add = "EXEC sp_addarticle @publication = N'pub', @article = N'orders', @source_owner = N'dbo',"
                          " @source_object = N'orders', @type = N'logbased'";
  ok(add);
  e = refused(add);
  EXPECT_EQ(e.number, 14030);
  EXPECT_EQ(e.text, "The article 'orders' exists in publication 'pub'.");
  EXPECT_EQ(as_int(ok("SELECT is_replicated FROM sys.tables WHERE name = N'orders'").sets[0].rows[0][0]), 1);
}
