// Server-level facts read through SqlSession (src/migrate/server_object_facts) and judged by
// `check`, against FakeSqlSession: a job, a linked server, a credential, a server trigger and a
// changed sp_configure value become check items; a login that may not read msdb gets a warning
// naming the GRANT, never a crash; `check --script-jobs` scripts only the jobs on the database.
#include "migrate/server_object_facts.hpp"

#include <gtest/gtest.h>

#include "fakes/fake_sql_session.hpp"
#include "migrate/check.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "migrate/support/scripted_source.hpp"

using namespace m2r;
using m2r::test::Migration;
using m2r::test::script_source;
using mssql::SqlRow;
using mssql::SqlValue;

namespace {

void script_server_objects(mssql::FakeSqlSession& s, const std::string& database) {
  s.on_rows("FROM msdb.dbo.sysjobs ORDER BY name", {"job_id", "name", "enabled", "description", "start_step_id"},
            {SqlRow{SqlValue("A1"), SqlValue("nightly purge"), SqlValue(1), SqlValue("purges"), SqlValue(1)},
             SqlRow{SqlValue("B2"), SqlValue("backup master"), SqlValue(1), SqlValue(""), SqlValue(1)}});
  s.on_rows("FROM msdb.dbo.sysjobsteps",
            {"job_id", "step_id", "step_name", "subsystem", "command", "database_name", "on_success_action",
             "on_success_step_id", "on_fail_action", "on_fail_step_id", "retry_attempts", "retry_interval"},
            {SqlRow{SqlValue("A1"), SqlValue(1), SqlValue("purge"), SqlValue("TSQL"), SqlValue("DELETE FROM dbo.orders"),
                    SqlValue(database), SqlValue(3), SqlValue(0), SqlValue(2), SqlValue(0), SqlValue(0), SqlValue(0)},
             SqlRow{SqlValue("A1"), SqlValue(2), SqlValue("export"), SqlValue("CmdExec"), SqlValue("bcp " + database + ".dbo.orders out x"),
                    SqlValue(), SqlValue(1), SqlValue(0), SqlValue(2), SqlValue(0), SqlValue(0), SqlValue(0)},
             SqlRow{SqlValue("B2"), SqlValue(1), SqlValue("b"), SqlValue("TSQL"), SqlValue("BACKUP DATABASE master TO DISK = N'x'"),
                    SqlValue("master"), SqlValue(1), SqlValue(0), SqlValue(2), SqlValue(0), SqlValue(0), SqlValue(0)}});
  s.on_rows("FROM msdb.dbo.sysjobschedules", {"job_id", "name", "enabled", "freq_type"},
            {SqlRow{SqlValue("A1"), SqlValue("nightly"), SqlValue(1), SqlValue(4)}});
  s.on_rows("FROM sys.servers WHERE is_linked = 1", {"name", "product", "provider", "data_source"},
            {SqlRow{SqlValue("REPORTING"), SqlValue(""), SqlValue("SQLNCLI"), SqlValue("rpt01")}});
  s.on_rows("FROM sys.credentials", {"name", "credential_identity"}, {SqlRow{SqlValue("ftp_upload"), SqlValue("svc_ftp")}});
  s.on_rows("FROM sys.server_triggers", {"object_id", "name", "is_disabled"},
            {SqlRow{SqlValue(7), SqlValue("audit_logins"), SqlValue(0)}});
  s.on_rows("FROM sys.server_trigger_events", {"object_id", "type_desc"}, {SqlRow{SqlValue(7), SqlValue("CREATE_LOGIN")}});
  s.on_rows("FROM sys.configurations", {"name", "value_in_use"},
            {SqlRow{SqlValue("max degree of parallelism"), SqlValue(4)}, SqlRow{SqlValue("cost threshold for parallelism"), SqlValue(5)}});
}

class ServerObjectFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_server_objects(*m.source, m.config.source.database);
    script_source(*m.source, {});
    m.target->on_rows("FROM sys.configurations", {"name", "value_in_use"},
                      {SqlRow{SqlValue("max degree of parallelism"), SqlValue(0)},
                       SqlRow{SqlValue("cost threshold for parallelism"), SqlValue(5)}});
    m.target->on_rows("SELECT name FROM sys.databases", {"name"}, {});
  }
  const CheckResult* find(const std::vector<CheckResult>& results, const std::string& id) {
    for (const auto& r : results) {
      if (r.id == id) return &r;
    }
    ADD_FAILURE() << "no check result " << id;
    return nullptr;
  }
  Migration m;
};

TEST_F(ServerObjectFactsTest, CheckListsEachServerObjectWithItsFix) {
  // Given a job on the database with a CmdExec step, a linked server, a credential, a server trigger and MAXDOP 4 vs 0,
  // check should list each with its RDS fix.
  auto results = check_migration(m.config, m.connections, {}, m.events);
  ASSERT_TRUE(results) << results.error().message;
  const auto* jobs = find(*results, "server.agent_jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_EQ(jobs->status, CheckStatus::warn);
  EXPECT_NE(jobs->detail.find("'nightly purge' (2 step(s))"), std::string::npos) << jobs->detail;
  EXPECT_EQ(jobs->detail.find("backup master"), std::string::npos);
  EXPECT_EQ(find(*results, "server.agent_job_steps")->status, CheckStatus::fail);
  EXPECT_EQ(find(*results, "server.linked_servers")->status, CheckStatus::warn);
  EXPECT_EQ(find(*results, "server.credentials")->status, CheckStatus::warn);
  EXPECT_NE(find(*results, "server.triggers")->detail.find("audit_logins (FOR CREATE_LOGIN)"), std::string::npos);
  const auto* config = find(*results, "server.configuration");
  ASSERT_NE(config, nullptr);
  EXPECT_NE(config->detail.find("'max degree of parallelism': source 4, RDS 0"), std::string::npos) << config->detail;
  EXPECT_TRUE(m.source_procedures_run().empty());  // check changes nothing
}

TEST_F(ServerObjectFactsTest, TheRunPreflightIsNotStoppedByServerObjects) {
  // Given a CmdExec step (a FAIL of check), run's preflight should still pass: the data can move.
  auto r = preflight_run(m.config, m.connections, {}, m.events);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
}

TEST(ServerObjectFactsDeniedTest, AnUnreadableMsdbIsAWarningNamingTheGrant) {
  // Given a login without SELECT on msdb.dbo.sysjobs, the facts should say so with the GRANT, the rest still read.
  mssql::FakeSqlSession s;
  s.on_error("msdb.dbo.sysjobs", Error(ErrorKind::fatal, "SQL Server error 229 (severity 14, state 5): The SELECT permission "
                                                         "was denied on the object 'sysjobs', database 'msdb', schema 'dbo'."));
  script_server_objects(s, "shop");
  const auto facts = gather_server_object_facts(s, "m2r_check");
  ASSERT_TRUE(facts.agent_unreadable.has_value());
  EXPECT_NE(facts.agent_unreadable->error.find("229"), std::string::npos);
  EXPECT_NE(facts.agent_unreadable->grant.find("GRANT SELECT ON dbo.sysjobs TO [m2r_check]"), std::string::npos);
  EXPECT_EQ(facts.linked_servers.size(), 1u);
  const auto results = evaluate_server_objects(facts, {}, "shop");
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].id, "server.agent_jobs");
  EXPECT_EQ(results[0].status, CheckStatus::warn);
}

TEST_F(ServerObjectFactsTest, ScriptJobsHoldsOnlyTheJobsOnTheDatabase) {
  // Given two jobs, one on the database, the script should recreate that one, its schedule and its server, not the other.
  auto script = agent_jobs_script(m.config, m.connections);
  ASSERT_TRUE(script) << script.error().message;
  EXPECT_NE(script->find("sp_add_job @job_name = N'nightly purge'"), std::string::npos) << *script;
  EXPECT_NE(script->find("sp_add_jobschedule @job_name = N'nightly purge', @name = N'nightly'"), std::string::npos);
  EXPECT_NE(script->find("sp_add_jobserver @job_name = N'nightly purge'"), std::string::npos);
  EXPECT_EQ(script->find("backup master"), std::string::npos);
}

}  // namespace
