#include "core/plan.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {
MigrationConfig sample() {
  MigrationConfig c;
  c.name = "m";
  c.source.database = "Sales";
  c.source.backup_dir_server = "D:\\Backups";
  c.source.backup_dir_local = "/mnt/b";
  c.s3.bucket = "bkt";
  c.s3.prefix = "mig";
  c.target.database = "Sales";
  c.target.rds_instance = "rds1";
  c.dms.task_id = "m-cdc";
  return c;
}
}  // namespace

TEST(PlanTest, LayoutNamesFilesForEachStage) {
  auto c = sample();
  auto one = backup_layout(c, "20261125T101500");
  EXPECT_EQ(one.server_files[0], "D:\\Backups\\Sales_20261125T101500.bak");
  EXPECT_EQ(one.local_files[0], "/mnt/b/Sales_20261125T101500.bak");
  EXPECT_EQ(one.s3_keys[0], "mig/Sales_20261125T101500.bak");
  EXPECT_EQ(one.restore_arn, "arn:aws:s3:::bkt/mig/Sales_20261125T101500.bak");
  c.source.backup_stripes = 3;
  auto three = backup_layout(c, "20261125T101500");
  ASSERT_EQ(three.s3_keys.size(), 3u);
  EXPECT_EQ(three.s3_keys[2], "mig/Sales_20261125T101500_3of3.bak");
  EXPECT_EQ(three.restore_arn, "arn:aws:s3:::bkt/mig/Sales_20261125T101500_*");
}

TEST(PlanTest, PlanShowsRealStatementsAndLsnPlaceholder) {
  PlanInputs in{sample(), "20261125T101500", "arn:ri", "arn:src", "arn:tgt", "{\"rules\":[]}", std::nullopt};
  const auto plan = build_plan(in);
  ASSERT_EQ(plan.size(), 7u);
  EXPECT_EQ(plan[0].name, "backup");
  EXPECT_NE(plan[0].actions[0].what.find("BACKUP DATABASE [Sales] TO DISK = N'D:\\Backups\\Sales_20261125T101500.bak'"),
            std::string::npos);
  const auto& replicate = plan[5];
  EXPECT_NE(replicate.actions[1].what.find("<LSN chosen after the backup>"), std::string::npos);
  EXPECT_NE(replicate.actions[1].what.find("arn:src"), std::string::npos);
  in.start = Lsn(0x25, 0xb8f, 4);
  EXPECT_NE(build_plan(in)[5].actions[1].what.find("00000025:00000b8f:0004"), std::string::npos);
}
