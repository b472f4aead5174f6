#pragma once
// The cutover report as one self-contained HTML page: inline CSS and an inline SVG chart, no
// script, font or image from anywhere, so it opens in a browser without a network and can be
// attached to a change ticket. Every string from the journal is HTML-escaped (a table may be
// named `a<b>`). Pure.
#include <string>
#include <string_view>
#include <vector>

#include "core/migration_report.hpp"

namespace m2r {

// & < > " ' as entities: safe in text and in quoted attribute values.
std::string html_escape(std::string_view text);

// The CDC latency over time as an <svg> (class "lag-chart"): one polyline and one <circle> per
// known target-latency sample (class "lag-point"), the source latency dashed; samples without a
// datapoint are counted in the caption, never drawn as 0 s. With no known sample: a <p> saying so.
std::string lag_chart_svg(const std::vector<ReportLagSample>& samples);

std::string render_report_html(const MigrationReport& report);

}  // namespace m2r
