// What a native restore leaves at the server level, end to end: on the world's source a job on
// the database, a linked server, a credential, a server trigger and a changed sp_configure value;
// `check` lists each with its fix, `check --script-jobs` writes the job as T-SQL, and that script,
// run on the world's RDS instance as its master user, creates the job in the target's msdb.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using ServerObjectsTest = CliWorldTest;

TEST_F(ServerObjectsTest, CheckListsServerObjectsAndTheJobScriptRecreatesTheJobOnRds) {
  ASSERT_TRUE(set_up_world());
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  for (const char* sql : {
           "EXEC msdb.dbo.sp_add_job @job_name = N'Nightly ''sales'' purge', @description = N'purges old orders'",
           "EXEC msdb.dbo.sp_add_jobstep @job_name = N'Nightly ''sales'' purge', @step_name = N'purge', @subsystem = N'TSQL', "
           "@command = N'DELETE FROM dbo.Orders WHERE 1 = 0', @database_name = N'sales'",
           "EXEC msdb.dbo.sp_add_jobschedule @job_name = N'Nightly ''sales'' purge', @name = N'nightly', @freq_type = 4, "
           "@freq_interval = 1, @active_start_time = 23000",
           "EXEC msdb.dbo.sp_add_jobserver @job_name = N'Nightly ''sales'' purge'",
           "EXEC msdb.dbo.sp_add_job @job_name = N'unrelated'",
           "EXEC msdb.dbo.sp_add_jobstep @job_name = N'unrelated', @step_name = N's', @command = N'SELECT 1', @database_name = N'master'",
           "EXEC sp_addlinkedserver @server = N'REPORTING', @srvproduct = N'', @provider = N'SQLNCLI', @datasrc = N'rpt01'",
           "CREATE CREDENTIAL ftp_upload WITH IDENTITY = 'svc_ftp', SECRET = 'do-not-print-me'",
           "CREATE TRIGGER audit_logins ON ALL SERVER FOR CREATE_LOGIN AS PRINT 'login created'",
           "EXEC sp_configure 'show advanced options', 1; RECONFIGURE; EXEC sp_configure 'max degree of parallelism', 4; RECONFIGURE;",
       }) {
    auto done = (*source)->execute(sql);
    ASSERT_TRUE(done) << sql << ": " << done.error().message;
  }

  const std::string script_path = world_dir() + "/jobs.sql";
  const auto check = run_shell(with_world("check --no-test-connection --script-jobs " + script_path + " -c " + config()));
  for (const char* expected : {
           "SQL Server Agent jobs that touch the database are recreated on RDS: 1 job(s) name [sales]",
           "'Nightly 'sales' purge' (1 step(s))", "--script-jobs FILE", "REPORTING (SQLNCLI at rpt01)",
           "ftp_upload (identity svc_ftp)", "audit_logins (FOR CREATE_LOGIN)", "RDS does not support server-level triggers",
           "'max degree of parallelism': source 4, RDS 0", "DB parameter group", "wrote the Agent jobs script to"}) {
    EXPECT_NE(check.text.find(expected), std::string::npos) << expected << "\n" << check.text;
  }
  EXPECT_EQ(check.text.find("do-not-print-me"), std::string::npos);
  EXPECT_EQ(check.text.find("unrelated"), std::string::npos) << check.text;

  const std::string script = read_text(script_path);
  EXPECT_NE(script.find("@job_name = N'Nightly ''sales'' purge'"), std::string::npos) << script;
  EXPECT_EQ(script.find("unrelated"), std::string::npos);
  EXPECT_EQ(script.find("do-not-print-me"), std::string::npos);

  // The job's step runs in [sales]: on RDS the database is there once restored (created here).
  auto master = target_session("master");
  ASSERT_TRUE(master) << master.error().message;
  ASSERT_TRUE((*master)->execute("CREATE DATABASE sales"));
  auto ran = (*master)->execute(script);
  ASSERT_TRUE(ran) << ran.error().message << "\n" << script;
  auto jobs = (*master)->query("SELECT j.name, s.step_name, s.database_name, s.command FROM msdb.dbo.sysjobs AS j "
                               "JOIN msdb.dbo.sysjobsteps AS s ON s.job_id = j.job_id");
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->rows().size(), 1u);
  EXPECT_EQ(jobs->rows()[0].at(0).to_text(), "Nightly 'sales' purge");
  EXPECT_EQ(jobs->rows()[0].at(2).to_text(), "sales");
  EXPECT_EQ(jobs->rows()[0].at(3).to_text(), "DELETE FROM dbo.Orders WHERE 1 = 0");
  EXPECT_EQ(count_rows(**master, "SELECT COUNT(*) FROM msdb.dbo.sysjobschedules"), 1);
  EXPECT_EQ(count_rows(**master, "SELECT COUNT(*) FROM msdb.dbo.sysjobservers"), 1);
  // And RDS refuses what the check said to do elsewhere: sp_configure is for the parameter group.
  EXPECT_FALSE((*master)->execute("EXEC sp_configure 'max degree of parallelism', 4"));
}

}  // namespace
}  // namespace m2r::testing
