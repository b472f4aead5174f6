// The LOB mode chosen from the source's largest values (docs/facts.md §12).
#include "core/lob_mode.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

LobColumnSize col(const std::string& table, const std::string& column, std::optional<std::int64_t> bytes,
                  const std::string& type = "nvarchar") {
  return {{{"dbo", table}, column, type}, bytes};
}

}  // namespace

TEST(LobModeTest, LobTypesAreTheMaxTypesXmlAndTheLegacyAndSpatialTypes) {
  EXPECT_TRUE(is_lob_type("nvarchar", -1));
  EXPECT_TRUE(is_lob_type("varchar", -1));
  EXPECT_TRUE(is_lob_type("varbinary", -1));
  EXPECT_FALSE(is_lob_type("nvarchar", 200));
  EXPECT_FALSE(is_lob_type("varbinary", 8000));
  for (const char* t : {"xml", "text", "ntext", "image", "geometry", "geography"}) EXPECT_TRUE(is_lob_type(t, 16)) << t;
  EXPECT_FALSE(is_lob_type("int", 4));
  EXPECT_FALSE(is_lob_type("hierarchyid", 892));
}

TEST(LobModeTest, NoLobColumnKeepsAnExplicitDefault) {
  // Given no LOB column, the decision should be limited mode at DMS's 32 KB, said so.
  const auto d = decide_lob_mode({});
  EXPECT_EQ(d.mode, LobMode::limited);
  EXPECT_TRUE(d.support_lobs);
  EXPECT_EQ(d.lob_max_size_kb, 32);
  EXPECT_NE(d.reason.find("no LOB column"), std::string::npos) << d.reason;
  const auto tm = target_metadata(d);
  EXPECT_EQ(tm["LimitedSizeLobMode"], true);
  EXPECT_EQ(tm["LobMaxSize"], 32);
}

TEST(LobModeTest, LimitedModeHasTwiceTheLargestValueRoundedUpToAWholeKb) {
  // Given a largest value of 412 KB (and a smaller one elsewhere), LobMaxSize should be 824 KB
  // and the line should name the column.
  const auto d = decide_lob_mode({col("Notes", "text", 1000), col("Docs", "body", 412 * 1024), col("Docs", "x", std::nullopt)});
  EXPECT_EQ(d.mode, LobMode::limited);
  EXPECT_EQ(d.lob_max_size_kb, 824);
  EXPECT_EQ(describe(d), "LOBs: limited mode, LobMaxSize 824 KB: largest value 412 KB in dbo.Docs.body (x2 headroom)");
  // Headroom rounds up to a whole KB; small values keep at least DMS's 32 KB.
  EXPECT_EQ(decide_lob_mode({col("Docs", "body", 513 * 1024 + 1)}).lob_max_size_kb, 1027);
  EXPECT_EQ(decide_lob_mode({col("Docs", "body", 3)}).lob_max_size_kb, 32);
  EXPECT_EQ(decide_lob_mode({col("Docs", "body", 0)}).lob_max_size_kb, 32);
}

TEST(LobModeTest, ValuesTooLargeForALimitedModeChooseFullMode) {
  // Given a value of 50 MiB the limit with headroom is exactly DMS's maximum (102400 KB): limited;
  // one byte more: full mode with 64 KB chunks, the reason naming the column.
  const std::int64_t fifty = std::int64_t{50} * 1024 * 1024;
  const auto at = decide_lob_mode({col("Docs", "body", fifty, "varbinary")});
  EXPECT_EQ(at.mode, LobMode::limited);
  EXPECT_EQ(at.lob_max_size_kb, 102400);
  const auto over = decide_lob_mode({col("Docs", "body", fifty + 1, "varbinary")});
  EXPECT_EQ(over.mode, LobMode::full);
  EXPECT_EQ(target_metadata(over)["FullLobMode"], true);
  EXPECT_EQ(target_metadata(over)["LimitedSizeLobMode"], false);
  EXPECT_NE(describe(over).find("LOBs: full mode, LobChunkSize 64 KB: largest value 50.0 MB in dbo.Docs.body"),
            std::string::npos)
      << describe(over);
}

TEST(LobModeTest, AForcedSizeSaysWhenAValueIsAlreadyOverIt) {
  const auto d = decide_lob_mode({col("Docs", "body", 5000)}, 1);
  EXPECT_TRUE(d.forced);
  EXPECT_EQ(d.mode, LobMode::limited);
  EXPECT_EQ(d.lob_max_size_kb, 1);
  EXPECT_NE(d.reason.find("already over it"), std::string::npos) << d.reason;
  EXPECT_EQ(decide_lob_mode({col("Docs", "body", 500)}, 1).reason.find("already over"), std::string::npos);
}

TEST(LobModeTest, TheJournalFormRoundTripsAndADamagedOneIsNamed) {
  const auto d = decide_lob_mode({col("Docs", "body", 412 * 1024), col("Docs", "x", std::nullopt, "xml")});
  const auto back = lob_decision_from_json(to_json(d));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, d);
  auto damaged = to_json(d);
  damaged["mode"] = "huge";
  const auto bad = lob_decision_from_json(damaged);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::journal_damaged);
  EXPECT_NE(bad.error().hint.find("--redo-from replicate"), std::string::npos);
}

TEST(LobModeTest, MeasureQueryIsOneStatementPerTableQuotingNames) {
  const auto q = lob_measure_query({"dbo", "Do]cs"}, {"body", "x"});
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, "SELECT MAX(CONVERT(bigint, DATALENGTH([body]))) AS [body], MAX(CONVERT(bigint, DATALENGTH([x]))) AS [x] "
                "FROM [dbo].[Do]]cs]");
  EXPECT_FALSE(lob_measure_query({"dbo", std::string(129, 'a')}, {"body"}));
}

TEST(LobModeTest, OverLimitNamesColumnsPastLobMaxSizeInLimitedModeOnly) {
  const auto d = decide_lob_mode({col("Docs", "body", 400 * 1024)});  // 800 KB
  const auto now = std::vector<LobColumnSize>{col("Docs", "body", std::int64_t{2200} * 1024), col("Docs", "x", 10)};
  const auto over = over_limit(d, now);
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].column.display(), "dbo.Docs.body");
  const auto note = over_limit_note(over[0], d.lob_max_size_kb);
  EXPECT_NE(note.find("dbo.Docs.body: 2.1 MB on the source, over LobMaxSize 800 KB: values over it are truncated on the "
                      "target; fix: "),
            std::string::npos)
      << note;
  EXPECT_TRUE(over_limit(decide_lob_mode({col("Docs", "body", std::int64_t{60} * 1024 * 1024)}), now).empty());
}

TEST(LobModeTest, SizesReadInBinaryUnits) {
  EXPECT_EQ(format_bytes(412), "412 bytes");
  EXPECT_EQ(format_bytes(412 * 1024), "412 KB");
  EXPECT_EQ(format_bytes(2202010), "2.1 MB");
}
