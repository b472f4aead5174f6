#include "core/report_html.hpp"

#include <algorithm>
#include <regex>

#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace m2r;

namespace {

TimePoint at(double seconds) {
  const TimePoint base{std::chrono::seconds(1796223600)};  // 2026-12-02 15:00:00Z
  return base + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds));
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The circles' centres, in document order: {cx, cy} per point of the class.
std::vector<std::pair<double, double>> points(const std::string& svg, const std::string& point_class) {
  std::vector<std::pair<double, double>> out;
  const std::regex circle("<circle class=\"" + point_class + "\" cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), circle), end; it != end; ++it) {
    out.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  }
  return out;
}

ReportLagSample sample(double when, std::optional<double> source, std::optional<double> target) {
  return {at(when), source, target, "status"};
}

}  // namespace

TEST(ReportHtmlTest, EscapesEveryCharacterThatCouldOpenMarkup) {
  EXPECT_EQ(html_escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(html_escape("dbo.Orders"), "dbo.Orders");
}

TEST(ReportHtmlTest, ChartWithNoSampleSaysSoWithoutAnSvg) {
  const auto html = lag_chart_svg({});
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("No CDC latency was read yet."), std::string::npos);
}

TEST(ReportHtmlTest, ChartWithOnlyMissingDatapointsCountsThemAndDrawsNoZero) {
  const auto html = lag_chart_svg({sample(0, std::nullopt, std::nullopt), sample(5, std::nullopt, std::nullopt)});
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("2 read(s) found no CloudWatch datapoint (unknown)"), std::string::npos);
}

TEST(ReportHtmlTest, ChartWithOneSamplePutsItsPointInTheMiddle) {
  const auto svg = lag_chart_svg({sample(0, 1.0, 3.0)});
  ASSERT_NE(svg.find("<svg class=\"lag-chart\""), std::string::npos);
  const auto target = points(svg, "lag-point");
  ASSERT_EQ(target.size(), 1u);
  // x: the plot's middle (52 + 572 / 2); y: 3 s on an axis up to 5 s, 164 units tall from y 16.
  EXPECT_DOUBLE_EQ(target[0].first, 338.0);
  EXPECT_DOUBLE_EQ(target[0].second, 81.6);
  EXPECT_EQ(points(svg, "lag-point-source").size(), 1u);
  EXPECT_NE(svg.find(">5 s</text>"), std::string::npos);
  EXPECT_NE(svg.find("1 sample(s) with a datapoint, the highest 3 s."), std::string::npos);
  EXPECT_NE(svg.find("<text x=\"338.0\" y=\"196.0\" text-anchor=\"middle\">15:00:00</text>"), std::string::npos) << svg;
}

TEST(ReportHtmlTest, ChartWithManySamplesSpansTheAxisAndSkipsTheUnknown) {
  // Given five reads over 40 s, one without a datapoint, the target line should have four points
  // from the left edge to the right one, the highest at the top of a 10 s axis.
  const auto svg = lag_chart_svg({sample(0, 2.0, 4.0), sample(10, 5.0, 10.0), sample(20, std::nullopt, std::nullopt),
                                  sample(30, 1.0, 2.0), sample(40, 0.0, 0.0)});
  const auto target = points(svg, "lag-point");
  ASSERT_EQ(target.size(), 4u);
  EXPECT_DOUBLE_EQ(target.front().first, 52.0);
  EXPECT_DOUBLE_EQ(target.back().first, 624.0);
  EXPECT_DOUBLE_EQ(target[1].second, 16.0);   // 10 s: the top
  EXPECT_DOUBLE_EQ(target[3].second, 180.0);  // 0 s: the bottom
  EXPECT_DOUBLE_EQ(target[2].first, 52.0 + 572.0 * 30 / 40);
  EXPECT_EQ(points(svg, "lag-point-source").size(), 4u);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find(">15:00:00</text>"), std::string::npos);
  EXPECT_NE(svg.find(">15:00:40</text>"), std::string::npos);
  EXPECT_NE(svg.find("1 read(s) found no CloudWatch datapoint (unknown)"), std::string::npos);
}

TEST(ReportHtmlTest, EveryStringFromTheJournalIsEscaped) {
  // Given a table, an error and a warning carrying markup, the page should show them as text.
  MigrationReport r;
  r.meta = {"sales<1>", "/j/sales.journal", at(0)};
  r.state = "not cut over yet";
  ReportStep failed{.name = "upload", .title = "upload", .status = "failed", .error = "<script>alert(1)</script>"};
  r.timeline.push_back(failed);
  ReportValidation v{.at = at(1), .run_by = "validate", .ok = false, .mismatches = 1};
  v.tables.push_back({.table = "dbo.a<b>", .matches = false, .method = "key (\"id\")", .compared = "at <then>",
                      .problem = "x & y"});
  r.validations.push_back(v);
  r.warnings.push_back({at(2), "backup", "<img src=x onerror=alert(1)>"});
  r.lag.push_back({at(3), 1.0, 2.0, "<b>status</b>"});
  const auto html = render_report_html(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>status"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("data-table=\"dbo.a&lt;b&gt;\"><td>dbo.a&lt;b&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("key (&quot;id&quot;); at &lt;then&gt;"), std::string::npos);
  EXPECT_NE(html.find("x &amp; y"), std::string::npos);
  EXPECT_NE(html.find("<title>mssql2rds report: sales&lt;1&gt;</title>"), std::string::npos);
}

TEST(ReportHtmlTest, ThePageLoadsNothingFromAnywhere) {
  // Readable without a network: no script, stylesheet, image, font or frame from elsewhere.
  MigrationReport r;
  r.meta = {"sales", "/j/sales.journal", at(0)};
  r.lag.push_back({at(0), 1.0, 2.0, "status"});
  const auto html = render_report_html(r);
  for (const char* forbidden : {"<script", "<link", "<img", "<iframe", "@import", "url(", " src=", " href="}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST(ReportHtmlTest, BeforeTheCutoverEachSectionSaysWhatIsNotKnownYet) {
  MigrationReport r;
  r.meta = {"sales", "/j/sales.journal", at(0)};
  r.state = "not cut over yet: CDC replication is running";
  const auto html = render_report_html(r);
  EXPECT_NE(html.find("<p id=\"state\" class=\"state\">not cut over yet: CDC replication is running</p>"),
            std::string::npos);
  EXPECT_NE(html.find("Not cut over yet: the downtime is known once the cutover has finished."), std::string::npos);
  EXPECT_NE(html.find("No validation has run yet"), std::string::npos);
  EXPECT_NE(html.find("Not captured yet"), std::string::npos);
  EXPECT_NE(html.find("No CDC latency was read yet."), std::string::npos);
  EXPECT_NE(html.find("No login was carried to RDS"), std::string::npos);
  EXPECT_EQ(html.find("id=\"source-lock\""), std::string::npos);  // never locked: nothing said
}

TEST(ReportHtmlTest, TheDowntimeSplitAndTimelineShowTheirDurations) {
  MigrationReport r;
  r.meta = {"sales", "/j/sales.journal", at(0)};
  r.cut_over = true;
  r.downtime = {.known = true, .total_s = 19.5, .drain_s = 8, .stop_s = 4, .validation_s = 6, .reenable_s = 1.5,
                .drain_proven_by_marker = true};
  r.timeline.push_back({.name = steps::restore, .title = "restore", .status = "done", .started_at = at(15),
                        .finished_at = at(65), .seconds = 50, .attempts = 1});
  r.throughput.push_back({.what = "upload", .bytes = 200000000, .seconds = 4, .mb_per_s = 50, .detail = "2 object(s)"});
  r.throughput.push_back({.what = "restore", .bytes = 111223, .seconds = 5, .mb_per_s = 0.0222, .detail = "RDS task 1"});
  const auto html = render_report_html(r);
  EXPECT_NE(html.find("<tr data-throughput=\"upload\"><td>upload</td><td class=\"num\">200.0 MB (200000000 bytes)</td>"
                      "<td class=\"num\">4.0 s</td><td class=\"num\">50.0</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">5.0 s</td><td class=\"num\">0.02</td>"), std::string::npos);
  EXPECT_NE(html.find("<strong>19.5 s</strong>"), std::string::npos);
  EXPECT_NE(html.find("<tr data-part=\"drain\"><td>drain</td><td class=\"num\">8.0 s</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr data-part=\"re-enabling\"><td>re-enabling</td><td class=\"num\">1.5 s</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>2026-12-02 15:00:15.000Z</td><td>2026-12-02 15:01:05.000Z</td><td class=\"num\">50.0 s</td>"),
            std::string::npos);
  EXPECT_NE(html.find("proven by the cutover marker"), std::string::npos);
}

TEST(ReportHtmlTest, AWeekOfWatchingIsDrawnAsAtMostFourHundredPointsKeepingThePeak) {
  // Given 10,000 reads (status --watch) with one peak of 90 s among 1 s, the chart should stay
  // light and still show the peak, on an axis up to 100 s.
  std::vector<ReportLagSample> samples;
  for (int i = 0; i < 10000; ++i) samples.push_back(sample(i * 5.0, 1.0, i == 6543 ? 90.0 : 1.0));
  const auto svg = lag_chart_svg(samples);
  const auto target = points(svg, "lag-point");
  ASSERT_LE(target.size(), 400u);
  EXPECT_GE(target.size(), 390u);
  const auto top = std::min_element(target.begin(), target.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_DOUBLE_EQ(top->second, 16.0 + 164.0 * (1 - 90.0 / 100));  // 90 s on a 100 s axis
  EXPECT_NE(svg.find("10000 sample(s) with a datapoint, the highest 90 s. Shown as"), std::string::npos);
}
