// The source's edition, version and SQL Server Agent, judged (core/server_edition, docs/facts.md
// §13): Express and Web fail with the fix, Agent stopped fails only where MS-CDC is needed, an
// unreadable sys.dm_server_services warns naming VIEW SERVER STATE, versions outside 2016-2022
// warn, and the backup leaves COMPRESSION out where the edition lacks it.
#include "core/server_edition.hpp"

#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace m2r;

namespace {

SourceFacts source(const std::string& edition, int engine_edition, const std::string& agent = "Running") {
  SourceFacts f;
  f.reachable = true;
  f.database_exists = true;
  f.database = "Sales";
  f.major_version = 15;
  f.product_version = "15.0.4355.3";
  f.edition = edition;
  f.engine_edition = engine_edition;
  f.agent_status = agent;
  f.tables = {{"dbo.Orders", true, true, false, false, false}};
  return f;
}

CheckResult find(const std::vector<CheckResult>& results, const std::string& id) {
  for (const auto& r : results)
    if (r.id == id) return r;
  ADD_FAILURE() << "no check " << id;
  return {};
}

std::vector<CheckResult> judged(const SourceFacts& f) {
  std::vector<CheckResult> out;
  evaluate_server_edition(f, out);
  return out;
}

TEST(ServerEditionTest, EditionsAreReadFromTheTextThenTheEngineEdition) {
  // Given SERVERPROPERTY's answers, the kind should follow the Edition text, and EngineEdition 4
  // alone should still say Express.
  EXPECT_EQ(edition_kind("Express Edition (64-bit)", 4), EditionKind::express);
  EXPECT_EQ(edition_kind("Express Edition with Advanced Services (64-bit)", 4), EditionKind::express);
  EXPECT_EQ(edition_kind("Web Edition (64-bit)", 2), EditionKind::web);
  EXPECT_EQ(edition_kind("Standard Edition (64-bit)", 2), EditionKind::standard);
  EXPECT_EQ(edition_kind("Enterprise Edition: Core-based Licensing (64-bit)", 3), EditionKind::enterprise);
  EXPECT_EQ(edition_kind("Developer Edition (64-bit)", 3), EditionKind::developer);
  EXPECT_EQ(edition_kind("", 4), EditionKind::express);
  EXPECT_EQ(edition_kind("", 0), EditionKind::unknown);
  EXPECT_EQ(edition_kind("SQL Azure", 5), EditionKind::other);
}

TEST(ServerEditionTest, ExpressFailsForEditionAndAgentNamingTheFix) {
  // Given an Express source, source.edition should fail naming 21106 and the edition upgrade, and
  // source.agent should fail because Express has no Agent.
  const auto r = judged(source("Express Edition (64-bit)", 4, "Stopped"));
  const auto edition = find(r, "source.edition");
  EXPECT_EQ(edition.status, CheckStatus::fail);
  EXPECT_NE(edition.detail.find("Msg 21106"), std::string::npos) << edition.detail;
  EXPECT_NE(edition.fix.find("Edition Upgrade"), std::string::npos) << edition.fix;
  const auto agent = find(r, "source.agent");
  EXPECT_EQ(agent.status, CheckStatus::fail);
  EXPECT_NE(agent.detail.find("no SQL Server Agent"), std::string::npos);
  EXPECT_TRUE(any_failed(evaluate_source(source("Express Edition (64-bit)", 4, "Stopped"))));
}

TEST(ServerEditionTest, WebFailsBecauseItCannotPublish) {
  // Given Web (EngineEdition 2, as Standard), source.edition should fail: it cannot publish.
  const auto edition = find(judged(source("Web Edition (64-bit)", 2)), "source.edition");
  EXPECT_EQ(edition.status, CheckStatus::fail);
  EXPECT_NE(edition.detail.find("cannot publish"), std::string::npos);
}

TEST(ServerEditionTest, StandardEnterpriseAndDeveloperPass) {
  for (const auto& [text, engine] : {std::pair{"Standard Edition (64-bit)", 2}, {"Enterprise Edition (64-bit)", 3},
                                     {"Developer Edition (64-bit)", 3}}) {
    const auto r = judged(source(text, engine));
    EXPECT_EQ(find(r, "source.edition").status, CheckStatus::pass) << text;
    EXPECT_EQ(find(r, "source.agent").status, CheckStatus::pass) << text;
  }
}

TEST(ServerEditionTest, AgentStoppedFailsWhenATableNeedsMsCdcAndOnlyWarnsOtherwise) {
  // Given SQL Server Agent stopped, a table without a primary key (MS-CDC) should make
  // source.agent fail with "start SQL Server Agent"; with every table keyed it should warn.
  auto keyless = source("Standard Edition (64-bit)", 2, "Stopped");
  keyless.tables.push_back({"dbo.Audit", false, false, true, false, false});
  const auto fail = find(judged(keyless), "source.agent");
  EXPECT_EQ(fail.status, CheckStatus::fail);
  EXPECT_NE(fail.fix.find("start SQL Server Agent"), std::string::npos) << fail.fix;
  EXPECT_NE(fail.fix.find("REPLICATION"), std::string::npos) << fail.fix;
  EXPECT_EQ(find(judged(source("Standard Edition (64-bit)", 2, "Stopped")), "source.agent").status, CheckStatus::warn);
}

TEST(ServerEditionTest, AnUnreadableServicesViewWarnsNamingViewServerState) {
  // Given sys.dm_server_services refused (no VIEW SERVER STATE), source.agent should warn and
  // say so, not guess.
  auto f = source("Standard Edition (64-bit)", 2, "");
  f.agent_error = "SQL Server error 300: VIEW SERVER STATE permission was denied on object 'server', database 'master'.";
  const auto agent = find(judged(f), "source.agent");
  EXPECT_EQ(agent.status, CheckStatus::warn);
  EXPECT_NE(agent.detail.find("VIEW SERVER STATE"), std::string::npos) << agent.detail;
  EXPECT_NE(agent.fix.find("GRANT VIEW SERVER STATE"), std::string::npos) << agent.fix;
}

TEST(ServerEditionTest, VersionsOutside2016To2022Warn) {
  // Given SQL Server 2014 (12.x) or a future 17.x, source.version should warn; 2016 and 2022 pass;
  // an unread version warns.
  for (int major : {12, 17, 0}) {
    auto f = source("Standard Edition (64-bit)", 2);
    f.major_version = major;
    EXPECT_EQ(find(judged(f), "source.version").status, CheckStatus::warn) << major;
  }
  for (int major : {13, 16}) {
    auto f = source("Standard Edition (64-bit)", 2);
    f.major_version = major;
    EXPECT_EQ(find(judged(f), "source.version").status, CheckStatus::pass) << major;
  }
}

TEST(ServerEditionTest, ThePlannedBackupOmitsCompressionOnExpressAndWeb) {
  // Given compression = true in the config, plan's BACKUP should say COMPRESSION on Standard and
  // on an unknown edition (as configured), and leave it out on Express and Web.
  PlanInputs in;
  in.config.source.database = "Sales";
  in.config.source.backup_dir_server = "/var/opt/mssql/backup";
  in.config.source.backup_dir_local = "/mnt/b";
  in.config.s3.bucket = "bkt";
  in.stamp = "20261203T101500";
  auto backup_sql = [&](EditionKind kind) {
    in.source_edition = kind;
    return build_plan(in).at(0).actions.at(0).what;
  };
  EXPECT_NE(backup_sql(EditionKind::standard).find("COMPRESSION"), std::string::npos);
  EXPECT_NE(backup_sql(EditionKind::unknown).find("COMPRESSION"), std::string::npos);
  EXPECT_EQ(backup_sql(EditionKind::express).find("COMPRESSION"), std::string::npos) << backup_sql(EditionKind::express);
  EXPECT_EQ(backup_sql(EditionKind::web).find("COMPRESSION"), std::string::npos);
  in.config.source.compression = false;
  EXPECT_EQ(backup_sql(EditionKind::standard).find("COMPRESSION"), std::string::npos);
}

}  // namespace
