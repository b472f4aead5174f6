// `mssql2rds validate` through the binary against the rehearsal world: after a finished
// cutover, a change made on the target only is named by table and key, in the text report and
// in --json, and the report says the task is stopped so the difference is not lag.
#include <signal.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

class ValidateCliTest : public CliWorldTest {
 protected:
  // `mssql2rds <args>` in the background (its own pid gets the signal) with stdout, stderr and
  // its exit code in files, as tests/cli/interrupt_itest.cpp does.
  pid_t start(const std::string& args, const std::string& name) {
    const std::string secret = world_dir() + "/secrets/sa_password";
    const std::string dir = m_dir + "/" + name;
    const std::string cmd = "bash -c '(. " + world_dir() + "/env && export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat " + secret +
                            ")\" MSSQL2RDS_TARGET_PASSWORD=\"$(cat " + secret + ")\" && (" + mssql2rds() + " " + args +
                            " > " + dir + ".out 2> " + dir + ".err < /dev/null & echo $! > " + dir +
                            ".pid; wait $!; echo $? > " + dir + ".rc)) > /dev/null 2>&1 &'";
    if (run_shell(cmd).exit_code != 0) return 0;
    pid_t pid = 0;
    for (int i = 0; i < 500 && pid <= 0; ++i) {  // deadline 10 s
      pid = static_cast<pid_t>(std::atoi(read_text(dir + ".pid").c_str()));
      if (pid <= 0) ::usleep(20'000);
    }
    return pid;
  }
  int exit_code_of(const std::string& name) {  // deadline 120 s
    for (int i = 0; i < 6000; ++i) {
      const std::string rc = read_text(m_dir + "/" + name + ".rc");
      if (!rc.empty() && rc.back() == '\n') return std::atoi(rc.c_str());
      ::usleep(20'000);
    }
    return -1;
  }
  std::string out(const std::string& name) { return read_text(m_dir + "/" + name + ".out"); }
};

TEST_F(ValidateCliTest, AChangeOnTheTargetAfterCutoverIsNamedByKeyInTextAndJson) {
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text;

  const auto equal = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(equal.exit_code, 0) << equal.text;

  // One customer's name changed on the target only, deep in the value's last character.
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  auto first = (*source)->query("SELECT TOP (1) CustomerId, Name FROM dbo.Customers ORDER BY CustomerId");
  ASSERT_TRUE(first && !first->rows().empty());
  const std::string id = first->rows()[0][0].to_text();
  auto database = (*source)->query("SELECT DB_NAME()");
  ASSERT_TRUE(database);
  auto target = target_session(database->rows()[0][0].to_text());
  ASSERT_TRUE(target) << target.error().message;
  auto changed = (*target)->execute("UPDATE dbo.Customers SET Name = Name + N'.' WHERE CustomerId = ?",
                                    {mssql::SqlParam::int64(std::stoll(id))});
  ASSERT_TRUE(changed) << changed.error().message;

  const auto text = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(text.exit_code, 1) << text.text;
  EXPECT_NE(text.text.find("DIFF dbo.Customers"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("differs: CustomerId = " + id), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("a difference is not CDC lag"), std::string::npos) << text.text;

  const auto json = run_shell(with_world("--json validate -c " + config()));
  EXPECT_EQ(json.exit_code, 1) << json.text;
  const auto result = nlohmann::json::parse(last_line(json.text), nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << json.text;
  EXPECT_EQ(result["result"], "validate");
  EXPECT_EQ(result["mismatches"], 1);
  EXPECT_NE(result.value("note", "").find("not CDC lag"), std::string::npos);
  bool named = false;
  for (const auto& t : result["tables"]) {
    if (t["table"] != "dbo.Customers") {
      EXPECT_TRUE(t["matches"].get<bool>()) << t.dump();
      continue;
    }
    ASSERT_EQ(t["differences"].size(), 1u) << t.dump();
    EXPECT_EQ(t["differences"][0]["kind"], "differs");
    EXPECT_EQ(t["differences"][0]["key"]["CustomerId"], id);
    EXPECT_EQ(t["method"], "primary key (CustomerId)");
    named = true;
  }
  EXPECT_TRUE(named) << json.text;
}

TEST_F(ValidateCliTest, CtrlCStopsAThrottledValidationNamingTheTableAndTheNextOneStartsAgain) {
  // Given a validation throttled to 5 rows/s in chunks of 100 rows, a SIGINT after its first
  // progress event should end it with exit 130 naming the table it was comparing; validation
  // only reads, so the next one simply runs to its end.
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;

  const pid_t pid = start("--json validate --max-rows-per-second 5 --chunk-rows 100 -c " + config(), "validate");
  ASSERT_GT(pid, 0);
  bool sent = false;
  for (int i = 0; i < 3000 && !sent; ++i) {  // deadline 60 s
    if (out("validate").find("\"progress\"") != std::string::npos) sent = ::kill(pid, SIGINT) == 0;
    else ::usleep(20'000);
  }
  ASSERT_TRUE(sent) << out("validate");
  EXPECT_EQ(exit_code_of("validate"), 130) << out("validate");
  const auto error = nlohmann::json::parse(last_line(out("validate")), nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << out("validate");
  EXPECT_EQ(error["error"].value("kind", ""), "interrupted") << out("validate");
  const std::string message = error["error"].value("message", "");
  EXPECT_NE(message.find("validation stopped while comparing dbo."), std::string::npos) << message;
  EXPECT_NE(message.find("nothing was changed"), std::string::npos) << message;

  const auto again = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(again.exit_code, 0) << again.text;
}

}  // namespace
}  // namespace m2r::testing
