#include "core/report_html.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace m2r {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// The chart's geometry (SVG user units; the page scales it to its width).
constexpr double k_width = 640, k_height = 220;
constexpr double k_left = 52, k_right = 16, k_top = 16, k_bottom = 40;
// More points than the plot is wide say nothing more and make the page heavy (`status --watch`
// journals one sample per refresh): beyond this, each of this many equal intervals of time
// shows its highest latencies, so a peak is never smoothed away.
constexpr std::size_t k_max_chart_points = 400;

// The samples to draw: all of them, or per interval the highest source and target latency (at
// the time of the interval's highest target latency, or of its first sample).
std::vector<ReportLagSample> chart_points(const std::vector<ReportLagSample>& known, TimePoint first, TimePoint last) {
  if (known.size() <= k_max_chart_points) return known;
  std::vector<std::optional<ReportLagSample>> buckets(k_max_chart_points);
  const double span = std::chrono::duration<double>(last - first).count();
  for (const auto& s : known) {
    const double offset = std::chrono::duration<double>(s.at - first).count();
    const auto i = span <= 0 ? std::size_t{0}
                             : std::min(k_max_chart_points - 1,
                                        static_cast<std::size_t>(offset / span * static_cast<double>(k_max_chart_points)));
    auto& b = buckets[i];
    if (!b) {
      b = s;
      continue;
    }
    if (s.source_s && (!b->source_s || *s.source_s > *b->source_s)) b->source_s = s.source_s;
    if (s.target_s && (!b->target_s || *s.target_s > *b->target_s)) {
      b->target_s = s.target_s;
      b->at = s.at;
      b->read_by = s.read_by;
    }
  }
  std::vector<ReportLagSample> out;
  for (auto& b : buckets) {
    if (b) out.push_back(std::move(*b));
  }
  return out;
}

// The smallest of 1, 2, 5 x 10^n at or above v (the y axis ends on a round value).
double round_up(double v) {
  if (v <= 1) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string clock_text(TimePoint t) { return report_time(t).substr(11, 8); }

std::string seconds_text(const std::optional<double>& s) { return s ? html_escape(report_duration(*s)) : "-"; }

std::string latency_text(const std::optional<double>& s) { return s ? fmt::format("{:.0f} s", *s) : "unknown"; }

constexpr const char* k_style = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733; margin: 2em auto;
       max-width: 70em; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ccd4dd; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
th { background: #f3f6f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.part td:first-child { padding-left: 2em; color: #4a5663; }
code, .lsn { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.state { font-size: 1.1em; padding: .5em .8em; border-radius: 4px; background: #fff6e0; border: 1px solid #f0d9a0; }
.state.cut-over { background: #e7f6ea; border-color: #a8d8b2; }
.ok { color: #1e7b34; font-weight: 600; } .diff, .failed { color: #b3261e; font-weight: 600; }
.muted { color: #67727e; }
svg.lag-chart { width: 100%; max-width: 640px; height: auto; background: #fbfcfd; border: 1px solid #e3e8ee; }
svg.lag-chart .axis { stroke: #8a96a3; stroke-width: 1; }
svg.lag-chart .grid { stroke: #e3e8ee; stroke-width: 1; }
svg.lag-chart text { font-size: 11px; fill: #4a5663; }
svg.lag-chart .lag-line-target { fill: none; stroke: #1f6feb; stroke-width: 2; }
svg.lag-chart .lag-line-source { fill: none; stroke: #8957e5; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg.lag-chart .lag-point { fill: #1f6feb; } svg.lag-chart .lag-point-source { fill: #8957e5; }
@media print { body { margin: 0; max-width: none; } }
)";

void section(std::string& out, const char* id, const char* title) {
  out += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", id, title);
}

void timeline_html(std::string& out, const MigrationReport& r) {
  section(out, "timeline", "Timeline");
  out += "<table>\n<tr><th>step</th><th>what</th><th>status</th><th>started (UTC)</th><th>finished (UTC)</th>"
         "<th>duration</th><th>attempts</th><th>error</th></tr>\n";
  for (const auto& s : r.timeline) {
    out += fmt::format(
        "<tr class=\"{}\" data-step=\"{}\"><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
        s.part ? "part" : "step", html_escape(s.name), html_escape(s.name), html_escape(s.title),
        s.status == "failed" ? "failed" : "", html_escape(s.status),
        s.started_at ? report_time(*s.started_at) : "-", s.finished_at ? report_time(*s.finished_at) : "-",
        seconds_text(s.seconds), s.part ? std::string() : std::to_string(s.attempts), html_escape(s.error));
  }
  out += "</table>\n";
  if (std::any_of(r.timeline.begin(), r.timeline.end(), [](const ReportStep& s) { return s.name.rfind("cutover: ", 0) == 0; })) {
    out += "<p class=\"muted\">The cutover's parts follow one another from the cutover's start, as it measured "
           "them.</p>\n";
  }
  out += "</section>\n";
}

void throughput_html(std::string& out, const MigrationReport& r) {
  section(out, "throughput", "Throughput");
  if (r.throughput.empty()) {
    out += "<p>No backup, upload or restore has finished yet.</p>\n</section>\n";
    return;
  }
  out += "<table>\n<tr><th>step</th><th>bytes</th><th>duration</th><th>MB/s</th><th>detail</th></tr>\n";
  for (const auto& t : r.throughput) {
    out += fmt::format(
        "<tr data-throughput=\"{}\"><td>{}</td><td class=\"num\">{} ({} bytes)</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{}</td></tr>\n",
        html_escape(t.what), html_escape(t.what), html_escape(report_bytes(t.bytes)), t.bytes, seconds_text(t.seconds),
        !t.mb_per_s         ? std::string("-")
        : *t.mb_per_s < 10  ? fmt::format("{:.2f}", *t.mb_per_s)
                            : fmt::format("{:.1f}", *t.mb_per_s),
        html_escape(t.detail));
  }
  out += "</table>\n<p class=\"muted\">MB = 10<sup>6</sup> bytes. The restore reads the uploaded backup: its rate "
         "is those bytes over the restore task's duration.</p>\n</section>\n";
}

void transactions_html(std::string& out, const char* caption, const std::vector<ReportTransaction>& list) {
  if (list.empty()) return;
  out += fmt::format("<h3>{}</h3>\n<table>\n<tr><th>transaction</th><th>name</th><th>begin LSN</th><th>end LSN</th>"
                     "<th>tables</th></tr>\n",
                     caption);
  for (const auto& t : list) {
    std::string tables;
    for (const auto& name : t.tables) tables += (tables.empty() ? "" : ", ") + html_escape(name);
    out += fmt::format("<tr><td class=\"lsn\">{}</td><td>{}</td><td class=\"lsn\">{}</td><td class=\"lsn\">{}</td>"
                       "<td>{}</td></tr>\n",
                       html_escape(t.transaction_id), html_escape(t.name), html_escape(t.begin),
                       t.end.empty() ? "open" : html_escape(t.end), tables);
  }
  out += "</table>\n";
}

void start_lsn_html(std::string& out, const MigrationReport& r) {
  const auto& l = r.start_lsn;
  section(out, "start-lsn", "Start LSN of the change stream");
  if (!l.known) {
    out += "<p>Not captured yet: the LSN capture step has not finished.</p>\n</section>\n";
    return;
  }
  out += "<table>\n";
  const std::pair<const char*, const std::string*> forms[] = {
      {"hex (fn_dblog; AWS DMS CdcStartPosition)", &l.hex},
      {"numeric(25,0) (msdb.dbo.backupset; STOPATMARK = 'lsn:...')", &l.numeric},
      {"decimal triplet (DBCC output; display only)", &l.decimal_triplet},
      {"binary(10) (cdc.* and sys.fn_cdc_* functions)", &l.binary},
  };
  for (const auto& [label, value] : forms) {
    out += fmt::format("<tr><th>{}</th><td class=\"lsn\">{}</td></tr>\n", html_escape(label), html_escape(*value));
  }
  out += fmt::format("<tr><th>given to DMS</th><td class=\"lsn\">{}</td></tr>\n",
                     l.dms_cdc_start_position.empty() ? "not yet (the replicate step has not run)"
                                                      : html_escape(l.dms_cdc_start_position));
  out += "</table>\n";
  out += fmt::format("<p><strong>Why this LSN:</strong> {}</p>\n", html_escape(l.rule));
  out += fmt::format("<p>The backup (msdb.dbo.backupset): first_lsn <span class=\"lsn\">{}</span>, last_lsn "
                     "<span class=\"lsn\">{}</span>, checkpoint_lsn <span class=\"lsn\">{}</span>{}.</p>\n",
                     html_escape(l.backup_first_lsn), html_escape(l.backup_last_lsn),
                     html_escape(l.backup_checkpoint_lsn),
                     l.differential_base.empty()
                         ? std::string()
                         : "; Backup:CommitDifferentialBase at <span class=\"lsn\">" + html_escape(l.differential_base) +
                               "</span>");
  out += fmt::format("<p>{} transaction(s) open at the backup's end (their changes come through the change stream); "
                     "{} committed transaction(s) in the backup replayed by DMS.</p>\n",
                     l.open_at_backup_end.size(), l.replayed.size());
  transactions_html(out, "Open at the backup's end", l.open_at_backup_end);
  transactions_html(out, "What starting at Backup:CommitDifferentialBase would have lost", l.lost_by_common_recipe);
  out += "</section>\n";
}

void lag_html(std::string& out, const MigrationReport& r) {
  section(out, "cdc-lag", "CDC latency over time");
  out += lag_chart_svg(r.lag);
  out += "<p class=\"muted\">Read from CloudWatch (CDCLatencySource, CDCLatencyTarget) whenever <code>status</code> "
         "or <code>validate</code> read it and while the cutover drained; a read without a datapoint is unknown, not 0 s.</p>\n</section>\n";
}

void validation_html(std::string& out, const MigrationReport& r) {
  section(out, "validation", "Validation");
  if (r.validations.empty()) {
    out += "<p>No validation has run yet (<code>mssql2rds validate</code>; the cutover validates before it turns "
           "anything back on).</p>\n</section>\n";
    return;
  }
  const auto& v = r.validations.back();
  out += fmt::format("<p>Latest: by <code>{}</code> at {}: <span class=\"{}\">{}</span>. Every row's "
                     "HASHBYTES('SHA2_256') over every column's full value, compared per key range.</p>\n",
                     html_escape(v.run_by), report_time(v.at), v.ok ? "ok" : "diff",
                     v.ok ? "every table equal" : fmt::format("{} table(s) differ", v.mismatches));
  out += "<table>\n<tr><th>table</th><th>result</th><th>compared</th><th>source rows</th><th>target rows</th>"
         "<th>not compared</th><th>differences</th></tr>\n";
  for (const auto& t : v.tables) {
    std::string left_out;
    for (const auto& c : t.left_out_columns) left_out += (left_out.empty() ? "" : "; ") + html_escape(c);
    const auto rows = [](const std::optional<std::int64_t>& n) { return n ? std::to_string(*n) : std::string("-"); };
    std::string diff = html_escape(t.problem);
    if (t.missing_on_target + t.extra_on_target + t.differing > 0) {
      diff += fmt::format(" ({} missing on the target, {} extra, {} differ)", t.missing_on_target, t.extra_on_target,
                          t.differing);
    }
    out += fmt::format("<tr class=\"validated\" data-table=\"{}\"><td>{}</td><td class=\"{}\">{}</td><td>{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
                       html_escape(t.table), html_escape(t.table), t.matches ? "ok" : "diff",
                       t.matches ? "equal" : "differs",
                       html_escape(t.method) + (t.compared.empty() ? "" : "; " + html_escape(t.compared)),
                       rows(t.source_rows),
                       rows(t.target_rows), left_out, diff);
  }
  out += "</table>\n";
  if (r.validations.size() > 1) {
    out += "<p>Earlier validations:</p>\n<ul>\n";
    for (std::size_t i = 0; i + 1 < r.validations.size(); ++i) {
      const auto& e = r.validations[i];
      out += fmt::format("<li>{} by <code>{}</code>: {}</li>\n", report_time(e.at), html_escape(e.run_by),
                         e.ok ? "every table equal" : fmt::format("{} table(s) differed", e.mismatches));
    }
    out += "</ul>\n";
  }
  out += "</section>\n";
}

void downtime_html(std::string& out, const MigrationReport& r) {
  const auto& d = r.downtime;
  section(out, "downtime", "Downtime");
  if (!d.known) {
    out += "<p>Not cut over yet: the downtime is known once the cutover has finished.</p>\n</section>\n";
    return;
  }
  out += fmt::format("<p>From the moment the writes stopped to the target ready: <strong>{}</strong>.</p>\n",
                     seconds_text(d.total_s));
  out += "<table>\n<tr><th>part</th><th>duration</th></tr>\n";
  const std::pair<const char*, const std::optional<double>*> parts[] = {
      {"source lock", &d.lock_s}, {"drain", &d.drain_s},           {"task stop", &d.stop_s},
      {"validation", &d.validation_s}, {"re-enabling", &d.reenable_s}};
  for (const auto& [name, value] : parts) {
    if (value == &d.lock_s && !d.lock_s) continue;  // only with --lock-source
    out += fmt::format("<tr data-part=\"{}\"><td>{}</td><td class=\"num\">{}</td></tr>\n", name, name,
                       seconds_text(*value));
  }
  out += "</table>\n";
  out += fmt::format("<p>{}</p>\n", d.drain_proven_by_marker
                                        ? "The drain was proven by the cutover marker: a row written on the source "
                                          "after the writes stopped reached the target, so every earlier change had."
                                        : "The drain was judged from CloudWatch latency and table statistics (no "
                                          "marker table on both sides); validation decided.");
  out += "</section>\n";
}

void notes_html(std::string& out, const char* empty, const std::vector<ReportNote>& notes) {
  if (notes.empty()) {
    out += fmt::format("<p>{}</p>\n", empty);
    return;
  }
  out += "<table>\n<tr><th>when (UTC)</th><th>step</th><th>message</th></tr>\n";
  for (const auto& n : notes) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", report_time(n.at), html_escape(n.step),
                       html_escape(n.message));
  }
  out += "</table>\n";
}

}  // namespace

std::string lag_chart_svg(const std::vector<ReportLagSample>& samples) {
  std::size_t unknown = 0;
  double top = 0;
  std::optional<TimePoint> first, last;
  std::vector<ReportLagSample> with_datapoint;
  for (const auto& s : samples) {
    if (!s.source_s && !s.target_s) {
      ++unknown;
      continue;
    }
    with_datapoint.push_back(s);
    top = std::max({top, s.source_s.value_or(0), s.target_s.value_or(0)});
    if (!first || s.at < *first) first = s.at;
    if (!last || s.at > *last) last = s.at;
  }
  const std::size_t known = with_datapoint.size();
  const std::string unknown_note =
      unknown == 0 ? std::string() : fmt::format(" {} read(s) found no CloudWatch datapoint (unknown).", unknown);
  if (known == 0) {
    return fmt::format("<p class=\"lag-empty\">No CDC latency was read yet.{}</p>\n", unknown_note);
  }
  const auto drawn = chart_points(with_datapoint, *first, *last);
  const double y_max = round_up(top);
  const double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  const double span = std::chrono::duration<double>(*last - *first).count();
  auto x_of = [&](TimePoint t) {
    if (span <= 0) return k_left + plot_w / 2;  // one moment: the middle
    return k_left + plot_w * std::chrono::duration<double>(t - *first).count() / span;
  };
  auto y_of = [&](double v) { return k_top + plot_h * (1 - v / y_max); };

  std::string svg = fmt::format(
      "<svg class=\"lag-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"CDC latency in seconds over time\">\n",
      k_width, k_height);
  for (const double frac : {0.0, 0.5, 1.0}) {
    const double y = y_of(y_max * frac);
    svg += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>\n", k_left, y,
                       k_width - k_right, y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g} s</text>\n", k_left - 6, y + 4,
                       y_max * frac);
  }
  svg += fmt::format("<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", k_left,
                     k_top, k_top + plot_h);
  svg += fmt::format("<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\"/>\n", k_left,
                     k_width - k_right, k_top + plot_h);
  const double label_y = k_height - k_bottom + 16;
  // One moment: its time under its point, in the middle.
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\">{}</text>\n", x_of(*first), label_y,
                     span > 0 ? "start" : "middle", clock_text(*first));
  if (span > 0) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", k_width - k_right, label_y,
                       clock_text(*last));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">UTC; solid: target latency, dashed: "
                     "source latency</text>\n",
                     k_left + plot_w / 2, k_height - 6);

  struct Series {
    const char* line_class;
    const char* point_class;
    const char* name;
    std::optional<double> ReportLagSample::*value;
  };
  for (const Series& series : {Series{"lag-line-source", "lag-point-source", "source", &ReportLagSample::source_s},
                               Series{"lag-line-target", "lag-point", "target", &ReportLagSample::target_s}}) {
    std::string points, dots;
    for (const auto& s : drawn) {
      const auto& v = s.*series.value;
      if (!v) continue;
      const double x = x_of(s.at), y = y_of(*v);
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x, y);
      dots += fmt::format("<circle class=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" data-latency-s=\"{:g}\">"
                          "<title>{} {} latency {} (read by {})</title></circle>\n",
                          series.point_class, x, y, *v, report_time(s.at), series.name, latency_text(v),
                          html_escape(s.read_by));
    }
    if (points.empty()) continue;
    svg += fmt::format("<polyline class=\"{}\" points=\"{}\"/>\n", series.line_class, points);
    svg += dots;
  }
  svg += "</svg>\n";
  const std::string grouped =
      drawn.size() == known ? std::string()
                            : fmt::format(" Shown as {} points, each the highest of its interval.", drawn.size());
  svg += fmt::format("<p class=\"lag-caption\">{} sample(s) with a datapoint, the highest {:g} s.{}{}</p>\n", known,
                     top, grouped, unknown_note);
  return svg;
}

std::string render_report_html(const MigrationReport& r) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // No network: nothing may load from elsewhere (inline styles only, no script at all).
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  out += fmt::format("<title>mssql2rds report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                     html_escape(r.meta.migration), k_style);
  out += fmt::format("<h1>Migration <code>{}</code> to Amazon RDS for SQL Server</h1>\n", html_escape(r.meta.migration));
  out += fmt::format("<p id=\"state\" class=\"state{}\">{}</p>\n", r.cut_over ? " cut-over" : "", html_escape(r.state));
  out += fmt::format("<p class=\"muted\">Written by mssql2rds at {} from the journal <code>{}</code>; "
                     "<code>mssql2rds report</code> writes it again at any time.</p>\n",
                     report_time(r.meta.generated_at), html_escape(r.meta.journal));
  downtime_html(out, r);
  timeline_html(out, r);
  throughput_html(out, r);
  start_lsn_html(out, r);
  lag_html(out, r);
  validation_html(out, r);

  section(out, "not-carried", "Logins and server objects");
  if (r.logins_carried.empty()) {
    out += "<p id=\"logins-carried\">No login was carried to RDS (<code>mssql2rds logins --yes</code> does it after "
           "the restore).</p>\n";
  } else {
    out += "<p>Carried to RDS by <code>mssql2rds logins</code>:</p>\n<table id=\"logins-carried\">\n"
           "<tr><th>when (UTC)</th><th>action</th><th>login</th><th>user / role</th></tr>\n";
    for (const auto& l : r.logins_carried) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", report_time(l.at),
                         html_escape(l.action), html_escape(l.login), html_escape(l.user.empty() ? l.role : l.user));
    }
    out += "</table>\n";
  }
  if (!r.source_locks.empty()) {
    const auto& last = r.source_locks.back();
    out += fmt::format("<p id=\"source-lock\">The source database [{}] {}.</p>\n", html_escape(last.database),
                       last.locked ? "was set to RESTRICTED_USER by <code>cutover --lock-source</code> at " +
                                         report_time(last.at) + " and is still so (<code>mssql2rds unlock-source"
                                         "</code> sets it back to " + html_escape(last.previous_access) + ")"
                                   : "was set back by <code>mssql2rds unlock-source</code> at " + report_time(last.at));
  }
  out += "<p>Left at the server level by the restore:</p>\n<ul>\n";
  for (const auto& n : r.not_carried) out += "<li>" + html_escape(n) + "</li>\n";
  out += "</ul>\n</section>\n";

  section(out, "warnings", "Warnings");
  notes_html(out, "No warning was recorded.", r.warnings);
  if (!r.failures.empty()) {
    out += "<h3>Failed attempts (each resumed by running the command again)</h3>\n";
    notes_html(out, "", r.failures);
  }
  out += "</section>\n</body>\n</html>\n";
  return out;
}

}  // namespace m2r
