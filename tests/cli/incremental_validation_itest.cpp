// Cutover's validation does not grow with the database: `validate` while CDC replicates
// journals every table's result with the source's log position, and the cutover compares again
// only the tables the source's log shows changed since (here dbo.Customers, updated after the
// validation, and the marker's table, written by the cutover itself); the others are reported
// as equal at that validation, with when, in text and --json.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using IncrementalValidationTest = CliWorldTest;

const nlohmann::json* table(const nlohmann::json& tables, const std::string& name) {
  for (const auto& t : tables)
    if (t.value("table", "") == name) return &t;
  return nullptr;
}

TEST_F(IncrementalValidationTest, TheCutoverComparesAgainOnlyTheTablesChangedSinceTheLastValidation) {
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const auto validate = run_shell(with_world("validate -c " + config()));
  ASSERT_EQ(validate.exit_code, 0) << validate.text;

  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->execute("UPDATE dbo.Customers SET Name = N'changed after the validation' WHERE CustomerId = 1"));

  const auto cutover = run_shell(with_world("--json cutover --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("validation: 2 table(s) compared now, 5 equal at an earlier validation"), std::string::npos)
      << cutover.text;
  const auto report = nlohmann::json::parse(last_line(cutover.text), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << cutover.text;
  const auto& tables = report["validation"]["tables"];
  for (const char* now : {"dbo.Customers", "dbo.mssql2rds_cutover_marker"}) {
    const auto* t = table(tables, now);
    ASSERT_NE(t, nullptr) << now << " " << tables.dump();
    EXPECT_EQ(t->value("compared", ""), "now") << now;
    EXPECT_TRUE(t->value("matches", false)) << now;
  }
  // The sample's other five tables, unchanged since the validation (PriceHistory empty).
  for (const char* reused : {"dbo.Orders", "dbo.OrderEvents", "dbo.OrderLines", "inventory.Products"}) {
    const auto* t = table(tables, reused);
    ASSERT_NE(t, nullptr) << reused << " " << tables.dump();
    EXPECT_EQ(t->value("compared", "").rfind("equal by the validation of ", 0), 0u) << t->dump();
    EXPECT_GT(t->value("source_rows", 0), 0) << t->dump();
  }
  const auto* history = table(tables, "inventory.PriceHistory");
  ASSERT_NE(history, nullptr) << tables.dump();
  EXPECT_EQ(history->value("compared", "").rfind("equal by the validation of ", 0), 0u) << history->dump();
  // What was compared at the cutover is what the target now holds.
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  auto name = (*target)->query("SELECT Name FROM dbo.Customers WHERE CustomerId = 1");
  ASSERT_TRUE(name && !name->rows().empty());
  EXPECT_EQ(name->rows().front().at(0).to_text(), "changed after the validation");
}

}  // namespace
}  // namespace m2r::testing
