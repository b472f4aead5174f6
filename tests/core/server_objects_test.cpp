// core/server_objects: what a restore leaves at the server level, judged into check items with
// what to do on RDS, and the Agent jobs scripted for RDS.
#include "core/server_objects.hpp"

#include <gtest/gtest.h>

namespace m2r {
namespace {

const CheckResult* find(const std::vector<CheckResult>& results, const std::string& id) {
  for (const auto& r : results) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

AgentJob purge_job() {
  AgentJob j;
  j.name = "nightly purge";
  j.description = "purges old orders";
  AgentJobStep s;
  s.step_id = 1;
  s.name = "purge";
  s.command = "DELETE FROM dbo.orders WHERE created < DATEADD(day, -90, GETDATE())";
  s.database_name = "shop";
  s.on_success_action = 3;
  j.steps.push_back(s);
  AgentJobStep e;
  e.step_id = 2;
  e.name = "export";
  e.subsystem = "CmdExec";
  e.command = "bcp shop.dbo.orders out c:\\it's.dat";
  j.steps.push_back(e);
  return j;
}

AgentJob other_job() {
  AgentJob j;
  j.name = "backup master";
  AgentJobStep s;
  s.name = "b";
  s.command = "BACKUP DATABASE master TO DISK = N'x'";
  s.database_name = "master";
  j.steps.push_back(s);
  return j;
}

TargetConfiguration rds_defaults() {
  return {std::nullopt, {{"max degree of parallelism", 0}, {"cost threshold for parallelism", 5}, {"show advanced options", 0}}};
}

TEST(ServerObjectsTest, JobTouchesDatabaseByStepDatabaseOrCommandIdentifier) {
  // Given steps naming the database by database_name, [name] or name.schema, we should see the job as touching it, not a longer name.
  AgentJob j;
  AgentJobStep s;
  s.database_name = "master";
  s.command = "EXEC [shop].dbo.p";
  j.steps = {s};
  EXPECT_TRUE(job_touches_database(j, "SHOP"));
  j.steps[0].command = "SELECT * FROM shop.dbo.t";
  EXPECT_TRUE(job_touches_database(j, "shop"));
  j.steps[0].command = "SELECT * FROM shopping.dbo.t";
  EXPECT_FALSE(job_touches_database(j, "shop"));
  EXPECT_FALSE(job_touches_database(other_job(), "shop"));
}

TEST(ServerObjectsTest, JobsThatTouchTheDatabaseWarnAndOsStepsFail) {
  // Given a job on the database with a CmdExec step and an unrelated job, we should warn with the script offered and fail the step.
  ServerObjectFacts f;
  f.jobs = {purge_job(), other_job()};
  const auto r = evaluate_server_objects(f, rds_defaults(), "shop");
  const auto* jobs = find(r, "server.agent_jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_EQ(jobs->status, CheckStatus::warn);
  EXPECT_NE(jobs->detail.find("'nightly purge'"), std::string::npos);
  EXPECT_EQ(jobs->detail.find("backup master"), std::string::npos);
  EXPECT_NE(jobs->fix.find("--script-jobs"), std::string::npos);
  const auto* steps = find(r, "server.agent_job_steps");
  ASSERT_NE(steps, nullptr);
  EXPECT_EQ(steps->status, CheckStatus::fail);
  EXPECT_NE(steps->detail.find("step 2 'export' (CmdExec)"), std::string::npos);
  EXPECT_NE(steps->detail.find("xp_cmdshell"), std::string::npos);
}

TEST(ServerObjectsTest, NothingAtTheServerLevelPasses) {
  // Given no jobs, linked servers, credentials or triggers and equal configuration, every item should pass.
  ServerObjectFacts f;
  f.configuration = {{"max degree of parallelism", 0}};
  for (const auto& r : evaluate_server_objects(f, rds_defaults(), "shop")) EXPECT_EQ(r.status, CheckStatus::pass) << r.id;
}

TEST(ServerObjectsTest, LinkedServersCredentialsAndTriggersWarnWithTheirRdsFix) {
  // Given one of each, we should warn: linked servers with RDS's limits, credentials by hand, triggers unsupported.
  ServerObjectFacts f;
  f.linked_servers = {{"REPORTING", "", "SQLNCLI", "rpt01,1433"}};
  f.credentials = {{"ftp_upload", "svc_ftp"}};
  f.triggers = {{"audit_logins", false, {"CREATE_LOGIN"}}};
  const auto r = evaluate_server_objects(f, rds_defaults(), "shop");
  const auto* linked = find(r, "server.linked_servers");
  ASSERT_NE(linked, nullptr);
  EXPECT_EQ(linked->status, CheckStatus::warn);
  EXPECT_NE(linked->detail.find("REPORTING (SQLNCLI at rpt01,1433)"), std::string::npos);
  EXPECT_NE(linked->fix.find("sp_addlinkedserver"), std::string::npos);
  const auto* credentials = find(r, "server.credentials");
  ASSERT_NE(credentials, nullptr);
  EXPECT_EQ(credentials->status, CheckStatus::warn);
  EXPECT_NE(credentials->fix.find("by hand"), std::string::npos);
  const auto* triggers = find(r, "server.triggers");
  ASSERT_NE(triggers, nullptr);
  EXPECT_EQ(triggers->status, CheckStatus::warn);
  EXPECT_NE(triggers->detail.find("audit_logins (FOR CREATE_LOGIN)"), std::string::npos);
  EXPECT_NE(triggers->fix.find("does not support"), std::string::npos);
}

TEST(ServerObjectsTest, ConfigurationDifferencesNameBothValuesAndTheParameterGroup) {
  // Given MAXDOP 4 on the source and 0 on RDS, we should warn naming the option, both values and the DB parameter group.
  ServerObjectFacts f;
  f.configuration = {{"max degree of parallelism", 4}, {"cost threshold for parallelism", 5}, {"show advanced options", 1}};
  const auto r = evaluate_server_objects(f, rds_defaults(), "shop");
  const auto* c = find(r, "server.configuration");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CheckStatus::warn);
  EXPECT_NE(c->detail.find("'max degree of parallelism': source 4, RDS 0"), std::string::npos);
  EXPECT_EQ(c->detail.find("show advanced options"), std::string::npos);
  EXPECT_NE(c->fix.find("DB parameter group"), std::string::npos);
}

TEST(ServerObjectsTest, UnreadableCatalogsWarnNamingTheGrant) {
  // Given msdb unreadable and an unreachable target, we should warn with the GRANT and the reason, never fail.
  ServerObjectFacts f;
  f.agent_unreadable = Unreadable{"The SELECT permission was denied on the object 'sysjobs'", "in msdb: GRANT SELECT ON dbo.sysjobs TO [m2r]"};
  TargetConfiguration t;
  t.unknown_because = "Login failed";
  const auto r = evaluate_server_objects(f, t, "shop");
  const auto* jobs = find(r, "server.agent_jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_EQ(jobs->status, CheckStatus::warn);
  EXPECT_NE(jobs->fix.find("GRANT SELECT ON dbo.sysjobs"), std::string::npos);
  EXPECT_EQ(find(r, "server.agent_job_steps"), nullptr);
  const auto* c = find(r, "server.configuration");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CheckStatus::warn);
  EXPECT_NE(c->detail.find("Login failed"), std::string::npos);
}

TEST(ServerObjectsTest, ScriptEscapesLiteralsAndReplacesOsSteps) {
  // Given a job with quotes in names and a CmdExec step, the script should escape N'' literals and keep step numbers.
  AgentJob j = purge_job();
  j.name = "O'Brien's purge";
  const std::string script = script_agent_jobs({j}, "shop", "shop");
  EXPECT_NE(script.find("@job_name = N'O''Brien''s purge'"), std::string::npos) << script;
  EXPECT_NE(script.find("@step_id = 1, @step_name = N'purge', @subsystem = N'TSQL'"), std::string::npos);
  EXPECT_NE(script.find("@database_name = N'shop'"), std::string::npos);
  EXPECT_NE(script.find("@step_id = 2, @step_name = N'export', @subsystem = N'TSQL', @command = N'RAISERROR(N''Step 2 was a CmdExec"),
            std::string::npos) << script;
  EXPECT_NE(script.find("--   bcp shop.dbo.orders out c:\\it's.dat"), std::string::npos);
  EXPECT_NE(script.find("sp_add_jobserver @job_name = N'O''Brien''s purge', @server_name = N'(LOCAL)'"), std::string::npos);
  EXPECT_EQ(script.find("\nGO"), std::string::npos);
}

TEST(ServerObjectsTest, ScriptMapsTheDatabaseAndKeepsGoLinesOutOfTheBatch) {
  // Given a renamed target and a command with a GO line, steps should run in the target and the GO be joined by NCHAR.
  AgentJob j;
  j.name = "two batches";
  AgentJobStep s;
  s.name = "s";
  s.database_name = "shop";
  s.command = "UPDATE t SET x = 1\nGO\nUPDATE t SET y = 2";
  j.steps = {s};
  const std::string script = script_agent_jobs({j}, "shop", "shop_rds");
  EXPECT_NE(script.find("@database_name = N'shop_rds'"), std::string::npos);
  EXPECT_NE(script.find("DECLARE @command_1 nvarchar(max) = CAST(N'UPDATE t SET x = 1' AS nvarchar(max)) + NCHAR(10) + N'GO'"),
            std::string::npos) << script;
  EXPECT_NE(script.find("@command = @command_1"), std::string::npos);
}

}  // namespace
}  // namespace m2r
