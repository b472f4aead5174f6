#include "core/plan.hpp"

#include "core/lob_mode.hpp"

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
  EXPECT_NE(replicate.actions[4].what.find("<LSN chosen after the backup>"), std::string::npos);
  EXPECT_NE(replicate.actions[4].what.find("arn:src"), std::string::npos);
  in.start = Lsn(0x25, 0xb8f, 4);
  EXPECT_NE(build_plan(in)[5].actions[4].what.find("00000025:00000b8f:0004"), std::string::npos);
}

TEST(PlanTest, ReplicateShowsTheLobMeasurementAndHowTheModeIsChosenFromIt) {
  // Given no [dms] lob_max_size_kb, the replicate step should first show the catalog query and
  // the per-table MAX(DATALENGTH) query, then say how the mode follows from the largest value;
  // with lob_max_size_kb = 2048, the task's TargetMetadata should carry it.
  PlanInputs in{sample(), "20261125T101500", "arn:ri", "arn:src", "arn:tgt", "{\"rules\":[]}", std::nullopt};
  const auto plan = build_plan(in);
  const auto& replicate = plan[5];
  ASSERT_GE(replicate.actions.size(), 5u);
  EXPECT_EQ(replicate.actions[0].what.rfind(lob_columns_query(), 0), 0u);
  EXPECT_NE(replicate.actions[1].what.find("SET LOCK_TIMEOUT"), std::string::npos);
  EXPECT_NE(replicate.actions[1].what.find("MAX(CONVERT(bigint, DATALENGTH([<column1>]))) AS [<column1>]"),
            std::string::npos);
  EXPECT_NE(replicate.actions[2].what.find("larger -> FullLobMode"), std::string::npos) << replicate.actions[2].what;
  EXPECT_NE(replicate.actions[2].what.find("up to 50.0 MB -> limited mode, LobMaxSize = x2 the largest value"),
            std::string::npos)
      << replicate.actions[2].what;

  in.config.dms.lob_max_size_kb = 2048;
  const auto forced = build_plan(in)[5];
  EXPECT_NE(forced.actions[2].what.find("set by [dms] lob_max_size_kb"), std::string::npos);
  EXPECT_NE(forced.actions[4].what.find(R"(\"LobMaxSize\":2048)"), std::string::npos) << forced.actions[4].what;
}
