// The source's Distributor, judged from sp_get_distributor (core/distributor.hpp, docs/facts.md
// §13), and check's source.distributor item: what it says, and the fix it names.
#include "core/distributor.hpp"

#include <algorithm>

#include <gtest/gtest.h>

using namespace m2r;

namespace {

// An unpublished source on server SRC1, sysadmin, whose Distributor is `d`.
SourceFacts unpublished(DistributorFacts d) {
  SourceFacts f;
  f.reachable = true;
  f.database_exists = true;
  f.database = "Sales";
  f.recovery_model = "FULL";
  f.is_sysadmin = true;
  f.server_name = "SRC1";
  f.distributor = std::move(d);
  f.tables = {{.name = "dbo.Orders", .has_pk = true}};
  return f;
}
const DistributorFacts k_none{.known = true};
const DistributorFacts k_local{.known = true, .installed = true, .server = "src1", .database_installed = true, .is_publisher = true};

CheckResult distributor_check(const SourceFacts& f) {
  const auto rs = evaluate_source(f);
  const auto it = std::find_if(rs.begin(), rs.end(), [](const CheckResult& c) { return c.id == "source.distributor"; });
  if (it == rs.end()) throw std::runtime_error("no source.distributor check");
  return *it;
}

}  // namespace

TEST(DistributorTest, StatesFollowWhatSpGetDistributorSays) {
  EXPECT_EQ(distributor_state(unpublished({})), DistributorState::unknown);
  EXPECT_EQ(distributor_state(unpublished(k_none)), DistributorState::missing);
  // The distribution server is compared with @@SERVERNAME ignoring case.
  EXPECT_EQ(distributor_state(unpublished(k_local)), DistributorState::local_ready);
  auto remote = k_local;
  remote.server = "DIST9";
  EXPECT_EQ(distributor_state(unpublished(remote)), DistributorState::remote);
  auto no_publisher = k_local;
  no_publisher.is_publisher = false;
  EXPECT_EQ(distributor_state(unpublished(no_publisher)), DistributorState::local_incomplete);
}

TEST(DistributorTest, TheLocalStepsAreTheDocumentedThreeWithThePasswordBoundNeverWritten) {
  // Given no Distributor, the steps should be sp_adddistributor (password as a parameter, shown
  // redacted), sp_adddistributiondb and sp_adddistpublisher, in that order, for @@SERVERNAME.
  const auto steps = local_distributor_steps(unpublished(k_none));
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].sql, "EXEC sp_adddistributor @distributor = N'SRC1', @password = ?");
  EXPECT_TRUE(steps[0].takes_password);
  EXPECT_EQ(steps[0].shown, "EXEC sp_adddistributor @distributor = N'SRC1', @password = N'<password, not shown>'");
  EXPECT_EQ(steps[1].sql, "EXEC sp_adddistributiondb @database = N'distribution'");
  EXPECT_EQ(steps[2].sql, "EXEC sp_adddistpublisher @publisher = N'SRC1', @distribution_db = N'distribution'");
  EXPECT_FALSE(steps[1].takes_password || steps[2].takes_password);
  // A local Distributor with its database but this server not registered: only the last step.
  auto no_publisher = k_local;
  no_publisher.is_publisher = false;
  const auto rest = local_distributor_steps(unpublished(no_publisher));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].sql, steps[2].sql);
  // Nothing for a ready local one or a remote one.
  EXPECT_TRUE(local_distributor_steps(unpublished(k_local)).empty());
  auto remote = k_local;
  remote.server = "DIST9";
  EXPECT_TRUE(local_distributor_steps(unpublished(remote)).empty());
}

TEST(DistributorTest, NoDistributorFailsWithTheStepsAndCheckFix) {
  // Given an unpublished database on a server without a Distributor, the check should fail,
  // say why publishing would fail (20028), and name both fixes: check --fix, or the T-SQL.
  const auto r = distributor_check(unpublished(k_none));
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("no Distributor"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("20028"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("mssql2rds check --fix"), std::string::npos) << r.fix;
  EXPECT_NE(r.fix.find("EXEC sp_adddistributor @distributor = N'SRC1', @password = N'<a strong password>'; EXEC "
                       "sp_adddistributiondb @database = N'distribution'; EXEC sp_adddistpublisher @publisher = N'SRC1', "
                       "@distribution_db = N'distribution'"),
            std::string::npos)
      << r.fix;
}

TEST(DistributorTest, ALoginThatIsNotSysadminIsToldWhoMustRunTheSteps) {
  // Given no Distributor seen by a login that is not sysadmin, the fix should say a sysadmin
  // runs the steps, and not offer check --fix (it would refuse).
  auto f = unpublished(k_none);
  f.is_sysadmin = false;
  const auto r = distributor_check(f);
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("not sysadmin"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("a sysadmin runs EXEC sp_adddistributor"), std::string::npos) << r.fix;
  EXPECT_NE(r.fix.find("cannot"), std::string::npos) << r.fix;
}

TEST(DistributorTest, ARemoteOrReadyDistributorOrAPublishedDatabasePasses) {
  auto remote = k_local;
  remote.server = "DIST9";
  const auto r = distributor_check(unpublished(remote));
  EXPECT_EQ(r.status, CheckStatus::pass);
  EXPECT_NE(r.detail.find("remote Distributor DIST9"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("leaves it as it is"), std::string::npos) << r.detail;
  EXPECT_EQ(distributor_check(unpublished(k_local)).status, CheckStatus::pass);
  // A published database has a Distributor, whatever this login may see of it.
  auto published = unpublished({});
  published.is_published = true;
  EXPECT_EQ(distributor_check(published).status, CheckStatus::pass);
}

TEST(DistributorTest, AnIncompleteOrUnreadableConfigurationFailsWithWhatIsMissing) {
  auto no_database = k_local;
  no_database.database_installed = false;
  no_database.is_publisher = false;
  auto r = distributor_check(unpublished(no_database));
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("without a distribution database"), std::string::npos) << r.detail;
  EXPECT_EQ(r.fix.find("sp_adddistributor"), std::string::npos) << "the Distributor exists: " << r.fix;
  EXPECT_NE(r.fix.find("sp_adddistributiondb"), std::string::npos) << r.fix;
  r = distributor_check(unpublished({.error = "Could not find stored procedure 'sp_get_distributor'."}));
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("sp_get_distributor failed: Could not find"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("sp_adddistributor"), std::string::npos) << r.fix;
}
