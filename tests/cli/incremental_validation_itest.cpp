// Cutover's validation does not grow with the database: `validate` while CDC replicates
// journals every table's result with the source's log position, and the cutover compares again
// only the rows the source's log shows changed since (here one row of dbo.Customers, updated
// after the validation, and the marker's row, written by the cutover itself); the other tables
// are reported as equal at that validation, with when, in text and --json. A changed row that
// does not arrive as the source has it is named by its key.
#include <chrono>
#include <string>
#include <thread>

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
  EXPECT_NE(cutover.text.find("validation: 0 table(s) compared whole now, 2 at the 2 row(s) the source's log shows "
                              "changed since their validation, 5 equal at an earlier validation"),
            std::string::npos)
      << cutover.text;
  const auto report = nlohmann::json::parse(last_line(cutover.text), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << cutover.text;
  const auto& tables = report["validation"]["tables"];
  for (const char* now : {"dbo.Customers", "dbo.mssql2rds_cutover_marker"}) {
    const auto* t = table(tables, now);
    ASSERT_NE(t, nullptr) << now << " " << tables.dump();
    EXPECT_EQ(t->value("compared", "").rfind("1 row(s) the source's log shows changed since ", 0), 0u) << t->dump();
    EXPECT_TRUE(t->value("matches", false)) << now;
    EXPECT_EQ(t->value("source_rows", -1), t->value("target_rows", -2)) << t->dump();
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

TEST_F(IncrementalValidationTest, AChangedRowThatArrivesWrongIsNamedByItsKeyAndTheCutoverRefused) {
  // Given a validation while CDC runs, then a source update DMS applies, then that target row
  // altered behind DMS's back (as a lost or mangled change would leave it), the cutover's
  // comparison of the changed rows should name dbo.Customers' CustomerId 2 and refuse.
  ASSERT_TRUE(set_up_world());
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  ASSERT_EQ(run_shell(with_world("run -c " + config())).exit_code, 0);
  ASSERT_EQ(run_shell(with_world("validate -c " + config())).exit_code, 0);
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->execute("UPDATE dbo.Customers SET Name = N'from the source' WHERE CustomerId = 2"));
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  bool arrived = false;
  for (int i = 0; i < 300 && !arrived; ++i) {
    auto name = (*target)->query("SELECT Name FROM dbo.Customers WHERE CustomerId = 2");
    arrived = name && !name->rows().empty() && name->rows().front().at(0).to_text() == "from the source";
    if (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(arrived) << "CDC did not apply the update";
  ASSERT_TRUE((*target)->execute("UPDATE dbo.Customers SET Name = N'mangled on the way' WHERE CustomerId = 2"));

  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 7) << cutover.text;
  EXPECT_NE(cutover.text.find("validation failed, cutover refused: dbo.Customers"), std::string::npos) << cutover.text;
  EXPECT_NE(cutover.text.find("dbo.Customers: rows: 1 differ (differs: CustomerId = 2)"), std::string::npos) << cutover.text;
}

}  // namespace
}  // namespace m2r::testing
