// `mssql2rds validate` through the binary against the rehearsal world: after a finished
// cutover, a change made on the target only is named by table and key, in the text report and
// in --json, and the report says the task is stopped so the difference is not lag.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using ValidateCliTest = CliWorldTest;

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

}  // namespace
}  // namespace m2r::testing
