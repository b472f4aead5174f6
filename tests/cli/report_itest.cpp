// The cutover report as a DBA opens it: a whole migration in the rehearsal world to its cutover,
// then the HTML the cutover wrote, opened in a real headless browser (Debian's chromium), and
// what the browser built checked: every step's row in the timeline, the CDC latency chart with
// a point per sample that status and the drain recorded, each table's validation row, the
// downtime's parts. Before the cutover `report` says it is not cut over yet.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using ReportTest = CliWorldTest;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The table row (<tr ...>...</tr>) of the DOM whose opening tag holds `attribute`; "" when absent.
std::string row_with(const std::string& dom, const std::string& attribute) {
  const auto at = dom.find(attribute);
  if (at == std::string::npos) return "";
  const auto begin = dom.rfind("<tr", at);
  const auto end = dom.find("</tr>", at);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return dom.substr(begin, end + 5 - begin);
}

// The page as headless chromium renders it (--dump-dom: the DOM after parsing, not the file).
std::string rendered_dom(const std::string& html_path, const std::string& profile_dir) {
  const auto found = run_shell("command -v chromium");
  if (found.exit_code != 0) {
    ADD_FAILURE() << "chromium is not installed: the report's end-to-end test opens the HTML in headless Debian "
                     "chromium; run scripts/install-deps.sh (it installs the chromium package)";
    return "";
  }
  std::filesystem::create_directories(profile_dir);
  const auto dom = run_shell("timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                             "--disable-background-networking --disable-component-update --disable-sync "
                             "--user-data-dir=" + profile_dir + " --dump-dom file://" + html_path + " 2>/dev/null");
  EXPECT_EQ(dom.exit_code, 0) << dom.text;
  return dom.text;
}

TEST_F(ReportTest, TheCutoverReportOpensInABrowserWithTheTimelineTheChartAndTheTables) {
  ASSERT_TRUE(set_up_world());
  // Nothing has run: no journal to report from (exit 5, naming the command to start with).
  const auto nothing = run_shell(with_world("report -c " + config()));
  EXPECT_EQ(nothing.exit_code, 5) << nothing.text;
  EXPECT_NE(nothing.text.find("start with `mssql2rds run`"), std::string::npos) << nothing.text;
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);
  {
    // The application's own SQL login, which the logins step carries after the restore.
    auto app = source_session();
    ASSERT_TRUE(app) << app.error().message;
    ASSERT_TRUE((*app)->execute("CREATE LOGIN report_app WITH PASSWORD = N'Rep0rt-app-pw!', CHECK_POLICY = OFF", {},
                                {.carries_secret = true}));
    ASSERT_TRUE((*app)->execute("CREATE USER report_app FOR LOGIN report_app"));
  }
  const auto run = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const auto logins = run_shell(with_world("logins --yes -c " + config()));
  ASSERT_EQ(logins.exit_code, 0) << logins.text;

  // Before the cutover: the report says so and shows what has happened so far.
  const std::string early_dir = m_dir + "/early";
  const auto early = run_shell(with_world("--json report --out " + early_dir + " -c " + config()));
  ASSERT_EQ(early.exit_code, 0) << early.text;
  const auto early_result = nlohmann::json::parse(last_line(early.text), nullptr, false);
  ASSERT_FALSE(early_result.is_discarded()) << early.text;
  EXPECT_EQ(early_result.value("cut_over", true), false);
  EXPECT_EQ(early_result.value("state", ""), "not cut over yet: CDC replication is running");
  const auto early_json = nlohmann::json::parse(read_text(early_result.value("json", "")), nullptr, false);
  ASSERT_FALSE(early_json.is_discarded());
  EXPECT_EQ(early_json["downtime"].value("known", true), false);
  EXPECT_NE(read_text(early_result.value("html", "")).find("not cut over yet"), std::string::npos);
  // A directory that cannot be made: a prerequisite (exit 3) naming it and the option.
  std::ofstream(m_dir + "/a-file").put('\n');
  const auto blocked = run_shell(with_world("report --out " + m_dir + "/a-file/reports -c " + config()));
  EXPECT_EQ(blocked.exit_code, 3) << blocked.text;
  EXPECT_NE(blocked.text.find("cannot create the report directory " + m_dir + "/a-file/reports"), std::string::npos)
      << blocked.text;
  EXPECT_NE(blocked.text.find("--out DIR"), std::string::npos) << blocked.text;

  // Two looks at the lag, new rows the change stream carries, then the cutover.
  for (int i = 0; i < 2; ++i) ASSERT_EQ(run_shell(with_world("status -c " + config())).exit_code, 0);
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*source)->execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                                   {mssql::SqlParam::nvarchar("<late> customer " + std::to_string(i))}));
  }
  const auto cutover = run_shell(with_world("--json cutover --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text;
  const auto done = nlohmann::json::parse(last_line(cutover.text), nullptr, false);
  ASSERT_FALSE(done.is_discarded()) << cutover.text;
  const std::string html_path = done.value("report_html", "");
  ASSERT_FALSE(html_path.empty()) << cutover.text;
  // Next to the journal (the config's directory here).
  EXPECT_EQ(std::filesystem::path(html_path).parent_path(), std::filesystem::path(config()).parent_path());
  const auto report = nlohmann::json::parse(read_text(done.value("report_json", "")), nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report.value("cut_over", false), true);

  const std::string dom = rendered_dom(html_path, m_dir + "/chromium-profile");
  ASSERT_FALSE(dom.empty());
  // The browser built this: its parser adds the <tbody> the file does not have.
  EXPECT_EQ(read_text(html_path).find("<tbody>"), std::string::npos);
  EXPECT_NE(dom.find("<tbody>"), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("cut over: the target is ready and the DMS task is stopped"), std::string::npos);

  // The timeline: every step, and the cutover's parts, done with a duration.
  for (const std::string step : {"backup", "capture_lsn", "upload", "upload/1", "restore", "prepare_target", "replicate",
                                 "cutover", "cutover: drain", "cutover: task stop", "cutover: validation",
                                 "cutover: re-enabling"}) {
    const auto row = row_with(dom, "data-step=\"" + step + "\"");
    ASSERT_FALSE(row.empty()) << "no timeline row for " << step;
    EXPECT_NE(row.find(">done</td>"), std::string::npos) << row;
    EXPECT_TRUE(row.find(" ms</td>") != std::string::npos || row.find(" s</td>") != std::string::npos) << row;
  }

  // The chart: one point per recorded target latency (the two status runs at least).
  std::size_t known = 0;
  for (const auto& s : report["cdc_lag"]) known += s["target_s"].is_number() ? 1 : 0;
  EXPECT_GE(known, 2u) << report["cdc_lag"].dump();
  EXPECT_NE(dom.find("<svg class=\"lag-chart\""), std::string::npos);
  EXPECT_EQ(count(dom, "<circle class=\"lag-point\""), known);

  // Each table the cutover validated, with its row counts on both sides.
  const auto& tables = done["validation"]["tables"];
  ASSERT_GE(tables.size(), 3u) << cutover.text;
  for (const auto& t : tables) {
    const auto row = row_with(dom, "data-table=\"" + t.value("table", "") + "\"");
    ASSERT_FALSE(row.empty()) << "no validation row for " << t.dump();
    EXPECT_NE(row.find(">equal</td>"), std::string::npos) << row;
    EXPECT_NE(row.find(">" + std::to_string(t.value("source_rows", -1)) + "</td>"), std::string::npos) << row;
  }

  // The downtime, in its parts.
  for (const std::string part : {"drain", "task stop", "validation", "re-enabling"}) {
    EXPECT_FALSE(row_with(dom, "data-part=\"" + part + "\"").empty()) << part;
  }
  // Logins and server objects: the login the logins step carried, and what stays behind.
  const auto carried = row_with(dom, ">report_app</td>");
  EXPECT_NE(carried.find(">create_login</td>"), std::string::npos) << carried;
  EXPECT_NE(dom.find("Left at the server level by the restore:"), std::string::npos);
  EXPECT_NE(dom.find("check --script-jobs FILE"), std::string::npos);

  // `report` writes it again from the journal, the same content.
  const auto again = run_shell(with_world("--json report --out " + m_dir + "/again -c " + config()));
  ASSERT_EQ(again.exit_code, 0) << again.text;
  const auto again_result = nlohmann::json::parse(last_line(again.text), nullptr, false);
  EXPECT_EQ(again_result.value("cut_over", false), true) << again.text;
  const auto rewritten = nlohmann::json::parse(read_text(again_result.value("json", "")), nullptr, false);
  ASSERT_FALSE(rewritten.is_discarded());
  EXPECT_EQ(rewritten["timeline"], report["timeline"]);
  EXPECT_EQ(rewritten["validations"], report["validations"]);
}

}  // namespace
}  // namespace m2r::testing
