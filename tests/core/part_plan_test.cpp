#include "core/part_plan.hpp"

#include <gtest/gtest.h>

namespace m2r {
namespace {

TEST(PartPlanTest, MinimumIsFiveMibForSmallFiles) {
  // Given files up to 5 MiB x 10,000, should never go below S3's 5 MiB minimum.
  EXPECT_EQ(minimum_part_size(0), 5 * k_mib);
  EXPECT_EQ(minimum_part_size(1), 5 * k_mib);
  EXPECT_EQ(minimum_part_size(5 * k_mib * 10'000), 5 * k_mib);
}

TEST(PartPlanTest, MinimumGrowsWithTheFile) {
  // Given a file just over 50,000 MiB, should need parts of 6 MiB (ceil(size / 10000), whole MiB).
  const std::uint64_t size = 5 * k_mib * 10'000 + 1;
  EXPECT_EQ(minimum_part_size(size), 6 * k_mib);
  // Given 1 TiB, should need ceil(1 TiB / 10000) rounded up to a MiB = 105 MiB.
  EXPECT_EQ(minimum_part_size(1024 * k_gib), 105 * k_mib);
  EXPECT_LE((1024 * k_gib + minimum_part_size(1024 * k_gib) - 1) / minimum_part_size(1024 * k_gib),
            k_max_parts);
}

TEST(PartPlanTest, AutoUsesTheDefaultWhenItFits) {
  // Given a 1 GiB file and 8 connections, should choose the default parts and keep 8 connections.
  auto plan = plan_parts({.file_size = k_gib, .requested_part_size = 0, .connections = 8});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->part_size, k_default_part_size);
  EXPECT_EQ(plan->connections, 8);
  EXPECT_LE(plan->buffer_bytes(), k_default_buffer_budget);
}

TEST(PartPlanTest, BigFilesStreamTheirPartsAndKeepEveryConnection) {
  // Given a 1 TiB file (105 MiB parts), 8 connections and a 256 MiB budget, whole parts would
  // not fit: parts should be streamed from the file, all 8 connections kept, within budget.
  auto plan = plan_parts({.file_size = 1024 * k_gib, .requested_part_size = 0, .connections = 8,
                          .buffer_budget = 256 * k_mib});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->part_size, 105 * k_mib);
  EXPECT_EQ(plan->connections, 8);
  EXPECT_EQ(plan->buffering, PartBuffering::streamed);
  EXPECT_EQ(plan->buffer_bytes(), 8 * k_stream_chunk);
}

TEST(PartPlanTest, TheLargestFilesStillUploadWithinTheDefaultBudget) {
  // Given 40 TiB (parts of ~4.1 GiB, each larger than the whole budget), the plan should
  // stream them within the default budget rather than refuse.
  auto plan = plan_parts({.file_size = 40 * 1024 * k_gib, .requested_part_size = 0, .connections = 8});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_GT(plan->part_size, k_default_buffer_budget);
  EXPECT_EQ(plan->buffering, PartBuffering::streamed);
  EXPECT_LE(plan->buffer_bytes(), k_default_buffer_budget);
}

TEST(PartPlanTest, WholePartsUpToTheBudgetThenStreamed) {
  // Given 16 MiB parts and a 192 MiB budget, 12 connections hold whole parts; 13 do not.
  EXPECT_EQ(buffering_for(16 * k_mib, 12, 192 * k_mib), PartBuffering::whole_part);
  EXPECT_EQ(buffering_for(16 * k_mib, 13, 192 * k_mib), PartBuffering::streamed);
}

TEST(PartPlanTest, RefusesABudgetBelowOneReadBuffer) {
  // Given a budget smaller than one stream chunk, should refuse with a hint naming the minimum.
  auto plan = plan_parts({.file_size = k_gib, .requested_part_size = 0, .connections = 4,
                          .buffer_budget = 512 * 1024});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(plan.error().hint.find("budget"), std::string::npos);
}

TEST(PartPlanTest, RefusesRequestedSizesOutsideS3Rules) {
  // Given 4 MiB, 6 GiB, or too small for the file, should be invalid_input naming the minimum.
  EXPECT_FALSE(plan_parts({.file_size = k_gib, .requested_part_size = 4 * k_mib, .connections = 1}));
  EXPECT_FALSE(plan_parts({.file_size = k_gib, .requested_part_size = 6 * k_gib, .connections = 1}));
  auto too_small = plan_parts({.file_size = 100 * k_gib, .requested_part_size = 8 * k_mib,
                               .connections = 1, .buffer_budget = 64 * k_gib});
  ASSERT_FALSE(too_small);
  EXPECT_NE(too_small.error().hint.find("11 MiB"), std::string::npos) << too_small.error().hint;
  auto ok = plan_parts({.file_size = k_gib, .requested_part_size = 8 * k_mib, .connections = 3});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->part_size, 8 * k_mib);
}

TEST(PartPlanTest, RefusesFilesBeyondS3Limits) {
  // Given more than 5 GiB x 10,000 bytes, should refuse: no part size can hold it.
  auto plan = plan_parts({.file_size = 5 * k_gib * 10'000 + 1, .requested_part_size = 0,
                          .connections = 1, .buffer_budget = 1024 * k_gib});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::invalid_input);
}

TEST(PartPlanTest, RangesCoverTheFileExactly) {
  // Given 20 MiB + 3 bytes in 8 MiB parts, should be 8, 8, 4 MiB + 3 with contiguous offsets.
  auto parts = part_ranges(20 * k_mib + 3, 8 * k_mib);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3U);
  EXPECT_EQ((*parts)[0], (PartRange{1, 0, 8 * k_mib}));
  EXPECT_EQ((*parts)[1], (PartRange{2, 8 * k_mib, 8 * k_mib}));
  EXPECT_EQ((*parts)[2], (PartRange{3, 16 * k_mib, 4 * k_mib + 3}));
}

TEST(PartPlanTest, ExactMultipleHasNoEmptyTail) {
  // Given exactly 2 parts' worth, should be 2 parts, not 3.
  auto parts = part_ranges(16 * k_mib, 8 * k_mib);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->size(), 2U);
}

TEST(PartPlanTest, EmptyFileIsOneEmptyPart) {
  // Given an empty file, should be a single empty part (S3 needs at least one).
  auto parts = part_ranges(0, 8 * k_mib);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1U);
  EXPECT_EQ((*parts)[0].size, 0U);
}

TEST(PartPlanTest, RefusesMoreThanTenThousandParts) {
  // Given a part size that would make 10,001 parts, should refuse.
  EXPECT_TRUE(part_ranges(5 * k_mib * 10'000, 5 * k_mib));
  EXPECT_FALSE(part_ranges(5 * k_mib * 10'000 + 1, 5 * k_mib));
}

}  // namespace
}  // namespace m2r
