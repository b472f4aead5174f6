// Which configuration values each run step depends on, and how a change is judged.
#include "core/step_inputs.hpp"

#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace m2r;

namespace {

MigrationConfig config() {
  MigrationConfig c;
  c.source.database = "Sales";
  c.s3.bucket = "bkt";
  c.s3.prefix = "sales";
  c.target.rds_instance = "rds1";
  c.target.database = "Sales";
  c.dms.task_id = "sales-cdc";
  return c;
}

}  // namespace

TEST(StepInputsTest, EachStepDependsOnWhatItActsOnAndNeverOnASecret) {
  auto c = config();
  c.source.password_env = "SRC_PW";
  EXPECT_EQ(step_config_inputs(c, steps::upload)["[s3] bucket"], "bkt");
  EXPECT_EQ(step_config_inputs(c, steps::restore)["[target] database"], "Sales");
  EXPECT_FALSE(step_config_inputs(c, steps::backup).contains("[s3] bucket"));  // the backup never touches S3
  for (const auto& step : run_step_order()) {
    EXPECT_EQ(step_config_inputs(c, step).dump().find("SRC_PW"), std::string::npos) << step;
  }
  EXPECT_EQ(step_config_inputs(c, steps::replicate, "abc")["[dms] table_mappings (file content sha256)"], "abc");
  // A forced LOB size is part of the task's settings: changed after the task exists, it is refused.
  c.dms.lob_max_size_kb = 2048;
  EXPECT_EQ(step_config_inputs(c, steps::replicate)["[dms] lob_max_size_kb"], 2048);
}

TEST(StepInputsTest, OnlyDoneStepsWithRecordedInputsAreJudged) {
  const auto now = std::vector<std::pair<std::string, nlohmann::json>>{
      {"upload", {{"[s3] bucket", "b2"}, {"[s3] prefix", "p"}}}, {"restore", {{"[target] database", "T2"}}}};
  const std::vector<RecordedStep> recorded = {
      {"upload", true, {{"[s3] bucket", "b1"}, {"[s3] prefix", "p"}}},
      {"restore", false, {{"[target] database", "T1"}}}};  // running, not done: it runs with today's values
  const auto changes = config_changes(recorded, now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "[s3] bucket");
  EXPECT_EQ(changes[0].step, "upload");
  EXPECT_EQ(describe_changes(changes), "[s3] bucket: \"b1\" -> \"b2\" (step upload)");
}

TEST(PlanKeysTest, KeysFollowThePrefixAndTheStripeArnIsTheirCommonStemWithAStar) {
  auto c = config();
  c.s3.prefix = "new/";
  EXPECT_EQ(s3_keys_for(c, {"/var/opt/backup/Sales_20261202T040000.bak"}),
            (std::vector<std::string>{"new/Sales_20261202T040000.bak"}));
  EXPECT_EQ(restore_arn_for("b", {"new/Sales_x.bak"}), "arn:aws:s3:::b/new/Sales_x.bak");
  EXPECT_EQ(restore_arn_for("b", {"p/Sales_T_1of10.bak", "p/Sales_T_2of10.bak", "p/Sales_T_10of10.bak"}),
            "arn:aws:s3:::b/p/Sales_T_*");
  // The same as the plan's layout for a stripe set.
  c.source.backup_stripes = 3;
  const auto layout = backup_layout(c, "20261202T040000");
  EXPECT_EQ(restore_arn_for(c.s3.bucket, layout.s3_keys), layout.restore_arn);
  EXPECT_EQ(s3_keys_for(c, layout.local_files), layout.s3_keys);
}
