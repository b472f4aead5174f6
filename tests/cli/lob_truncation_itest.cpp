// LOBs through the binary against the rehearsal world: with `[dms] lob_max_size_kb = 1` the task
// is created in limited LOB mode at 1 KB (run says so), and a value of 6000 bytes written during
// CDC arrives truncated, as DMS truncates (a warning in the task's log): `validate` names the
// row by key and says the column is over LobMaxSize, `status` names the column.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"
#include "support/wait_until.hpp"

namespace m2r::testing {
namespace {

using LobTruncationTest = CliWorldTest;

TEST_F(LobTruncationTest, AValueOverLobMaxSizeWrittenDuringCdcIsNamedByValidateAndStatus) {
  ASSERT_TRUE(set_up_world());
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->execute("CREATE TABLE dbo.Docs (DocId int NOT NULL PRIMARY KEY, Body nvarchar(max) NULL)"));
  ASSERT_TRUE((*source)->execute("INSERT INTO dbo.Docs (DocId, Body) VALUES (1, N'a short body')"));
  std::string text = read_text(config());
  const auto dms = text.find("[dms]\n");
  ASSERT_NE(dms, std::string::npos) << text;
  text.insert(dms + 6, "lob_max_size_kb = 1\n");
  std::ofstream(config()) << text;

  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;
  // The sample's rowversion and computed column, which DMS leaves to the target, are warned about.
  EXPECT_NE(check.text.find("inventory.Products RowVer (timestamp)"), std::string::npos) << check.text;
  EXPECT_NE(check.text.find("inventory.Products PriceWithTax ("), std::string::npos) << check.text;
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  // The sample's product descriptions and photos (hundreds of KB) are already over the limit the
  // user forced, and run says so before anything is created.
  EXPECT_NE(run.text.find("LOBs: limited mode, LobMaxSize 1 KB: set by [dms] lob_max_size_kb; the largest value, "),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("in inventory.Products."), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("is already over it and will be truncated on the target"), std::string::npos) << run.text;

  // During CDC: 3000 characters, 6000 bytes as nvarchar.
  ASSERT_TRUE((*source)->execute("INSERT INTO dbo.Docs (DocId, Body) VALUES (2, ?)",
                                 {mssql::SqlParam::nvarchar(std::string(3000, 'x'))}));
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  ASSERT_TRUE(m2r::test::wait_until(
      [&] {
        auto r = (*target)->query("SELECT DATALENGTH(Body) FROM dbo.Docs WHERE DocId = 2");
        return r && !r->rows().empty();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  auto arrived = (*target)->query("SELECT DATALENGTH(Body) FROM dbo.Docs WHERE DocId = 2");
  ASSERT_TRUE(arrived);
  EXPECT_EQ(arrived->rows()[0][0].as_int64().value_or(-1), 1024);  // truncated to LobMaxSize, as DMS does
  std::string task_log;  // logs/dms-task-<task identifier>.log
  for (const auto& f : std::filesystem::directory_iterator(world_dir() + "/logs")) {
    if (f.path().filename().string().rfind("dms-task-", 0) == 0) task_log += read_text(f.path().string());
  }
  EXPECT_NE(task_log.find("column 'Body' of table 'dbo.Docs' (6000 bytes) exceeds LobMaxSize (1 KB)"),
            std::string::npos)
      << task_log;

  const auto validate = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(validate.exit_code, 1) << validate.text;
  EXPECT_NE(validate.text.find("DIFF dbo.Docs"), std::string::npos) << validate.text;
  EXPECT_NE(validate.text.find("differs: DocId = 2"), std::string::npos) << validate.text;
  EXPECT_NE(validate.text.find("LOB note: dbo.Docs.Body: 6 KB on the source, over LobMaxSize 1 KB"), std::string::npos)
      << validate.text;

  const auto status = run_shell(with_world("status -c " + config()));
  EXPECT_EQ(status.exit_code, 0) << status.text;
  EXPECT_NE(status.text.find("dbo.Docs.Body: 6 KB on the source, over LobMaxSize 1 KB: values over it are truncated on "
                             "the target; fix: "),
            std::string::npos)
      << status.text;
  const auto json = run_shell(with_world("--json status -c " + config()));
  const auto report = nlohmann::json::parse(last_line(json.text), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.text;
  // One note per column over the limit: dbo.Docs.Body and the sample's two product LOB columns.
  ASSERT_EQ(report["lob_notes"].size(), 3u) << json.text;
  const std::string notes = report["lob_notes"].dump();
  for (const char* column : {"dbo.Docs.Body", "inventory.Products.Description", "inventory.Products.Photo"}) {
    EXPECT_NE(notes.find(column), std::string::npos) << column << " " << notes;
  }
  EXPECT_EQ(report["lobs"].value("lob_max_size_kb", 0), 1);
}

TEST_F(LobTruncationTest, TheMeasuredLimitCarriesAValueThatGrewWithinItsHeadroom) {
  // Given a 1000 KB varbinary(max) value before the backup (larger than any of the sample's) and
  // no [dms] lob_max_size_kb, the task should get LobMaxSize 2000 KB; the value grown to 1800 KB
  // during CDC should arrive whole, and validate should find every table equal.
  ASSERT_TRUE(set_up_world());
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->execute("CREATE TABLE dbo.Scans (ScanId int NOT NULL PRIMARY KEY, Image varbinary(max) NULL)"));
  mssql::Bytes scan{std::vector<std::uint8_t>(1000 * 1024, 0x5A)};
  ASSERT_TRUE((*source)->execute("INSERT INTO dbo.Scans (ScanId, Image) VALUES (1, ?)", {mssql::SqlParam::varbinary(scan)}));

  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("LOBs: limited mode, LobMaxSize 2000 KB: largest value 1000 KB in dbo.Scans.Image (x2 headroom)"),
            std::string::npos)
      << run.text;

  scan.data.assign(1800 * 1024, 0x33);
  ASSERT_TRUE((*source)->execute("UPDATE dbo.Scans SET Image = ? WHERE ScanId = 1", {mssql::SqlParam::varbinary(scan)}));
  auto target = target_session("sales");
  ASSERT_TRUE(target) << target.error().message;
  ASSERT_TRUE(m2r::test::wait_until(
      [&] {
        auto r = (*target)->query("SELECT DATALENGTH(Image) FROM dbo.Scans WHERE ScanId = 1");
        return r && !r->rows().empty() && r->rows()[0][0].as_int64().value_or(0) == 1800 * 1024;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  const auto validate = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(validate.exit_code, 0) << validate.text;
}

}  // namespace
}  // namespace m2r::testing
