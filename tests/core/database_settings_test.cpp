// The database's settings, source against target: what a restore on RDS loses (TRUSTWORTHY,
// DB_CHAINING: CONTROL SERVER is nobody's on RDS), what it changes for every migration (the
// owner), and each difference's fix.
#include "core/database_settings.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

DatabaseSettings sales() {
  DatabaseSettings s;
  s.owner = "sa";
  s.compatibility_level = 150;
  s.collation = "SQL_Latin1_General_CP1_CI_AS";
  s.snapshot_isolation = "OFF";
  s.scoped_configurations = {{"MAXDOP", "0"}, {"LEGACY_CARDINALITY_ESTIMATION", "0"}};
  return s;
}

const SettingDifference* find(const std::vector<SettingDifference>& all, const std::string& setting) {
  for (const auto& d : all)
    if (d.setting == setting) return &d;
  return nullptr;
}

}  // namespace

TEST(DatabaseSettingsTest, EqualSettingsHaveNoDifference) {
  EXPECT_TRUE(compare_database_settings(sales(), sales(), "Sales").empty());
}

TEST(DatabaseSettingsTest, TrustworthyLostByTheRestoreSaysRdsCannotSetItAndWhatInstead) {
  auto source = sales();
  source.trustworthy = true;
  const auto diffs = compare_database_settings(source, sales(), "Sales");
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].setting, "TRUSTWORTHY");
  EXPECT_EQ(diffs[0].source, "ON");
  EXPECT_EQ(diffs[0].target, "OFF");
  EXPECT_FALSE(diffs[0].expected);
  EXPECT_NE(diffs[0].fix.find("CONTROL SERVER"), std::string::npos) << diffs[0].fix;
  EXPECT_NE(diffs[0].fix.find("certificate"), std::string::npos) << diffs[0].fix;
}

TEST(DatabaseSettingsTest, EachSettableDifferenceNamesItsStatement) {
  auto source = sales(), target = sales();
  source.broker_enabled = true;
  source.compatibility_level = 140;
  source.read_committed_snapshot = true;
  source.snapshot_isolation = "ON";
  source.scoped_configurations["MAXDOP"] = "4";
  const auto diffs = compare_database_settings(source, target, "Sales");
  ASSERT_EQ(diffs.size(), 5u);
  EXPECT_EQ(find(diffs, "Service Broker")->fix, "ALTER DATABASE [Sales] SET ENABLE_BROKER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(find(diffs, "compatibility level")->fix, "ALTER DATABASE [Sales] SET COMPATIBILITY_LEVEL = 140");
  EXPECT_EQ(find(diffs, "READ_COMMITTED_SNAPSHOT")->fix,
            "ALTER DATABASE [Sales] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(find(diffs, "ALLOW_SNAPSHOT_ISOLATION")->fix, "ALTER DATABASE [Sales] SET ALLOW_SNAPSHOT_ISOLATION ON");
  const auto* maxdop = find(diffs, "MAXDOP (database scoped)");
  ASSERT_TRUE(maxdop);
  EXPECT_EQ(maxdop->source, "4");
  EXPECT_EQ(maxdop->target, "0");
  EXPECT_EQ(maxdop->fix, "USE [Sales]; ALTER DATABASE SCOPED CONFIGURATION SET MAXDOP = 4");
}

TEST(DatabaseSettingsTest, TheOwnerChangedByTheRestoreIsExpectedWithTheStatementIfItMatters) {
  auto target = sales();
  target.owner = "admin";  // the RDS master user restored it
  const auto diffs = compare_database_settings(sales(), target, "Sales");
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].setting, "owner");
  EXPECT_TRUE(diffs[0].expected);
  EXPECT_NE(diffs[0].fix.find("ALTER AUTHORIZATION ON DATABASE::[Sales] TO [sa]"), std::string::npos) << diffs[0].fix;
}

TEST(DatabaseSettingsTest, AScopedSettingTheTargetVersionLacksIsSaidSo) {
  auto source = sales();
  source.scoped_configurations["OPTIMIZED_PLAN_FORCING"] = "1";
  const auto diffs = compare_database_settings(source, sales(), "Sales");
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].target, "(not on the target)");
  // A target that shows no scoped configurations at all (before 2016) is not a difference per name.
  auto old = sales();
  old.scoped_configurations.clear();
  EXPECT_TRUE(compare_database_settings(sales(), old, "Sales").empty());
}

TEST(DatabaseSettingsTest, CheckWarnsBeforeTheMigrationAboutWhatTheRestoreLoses) {
  EXPECT_EQ(evaluate_database_settings(sales(), "Sales").status, CheckStatus::pass);
  auto s = sales();
  s.trustworthy = true;
  s.db_chaining = true;
  const auto r = evaluate_database_settings(s, "Sales");
  EXPECT_EQ(r.id, "database.settings");
  EXPECT_EQ(r.status, CheckStatus::warn);
  EXPECT_NE(r.detail.find("TRUSTWORTHY ON, DB_CHAINING ON"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("certificate"), std::string::npos) << r.fix;
  EXPECT_NE(r.fix.find("cross-database permissions"), std::string::npos) << r.fix;
}
