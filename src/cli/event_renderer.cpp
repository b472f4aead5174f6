#include "cli/event_renderer.hpp"

#include <cmath>

#include <fmt/format.h>

namespace m2r::cli {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", b, units[u]) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string human_duration(double s) {
  if (s < 0 || !std::isfinite(s)) return "?";
  const auto total = static_cast<long long>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

EventRenderer::EventRenderer(OutputStyle style, std::FILE* out) : m_style(style), m_out(out) {}

EventRenderer::~EventRenderer() { finish_line(); }

void EventRenderer::finish_line() {
  if (m_bar_open) {
    std::fputs("\n", m_out);
    std::fflush(m_out);
    m_bar_open = false;
  }
}

namespace {
std::string progress_suffix(const Event& e) {
  std::string s;
  if (e.done_bytes && e.total_bytes) s += fmt::format(" {}/{}", human_bytes(static_cast<double>(*e.done_bytes)),
                                                      human_bytes(static_cast<double>(*e.total_bytes)));
  if (e.rate_bytes_per_s) s += fmt::format(" {}/s", human_bytes(*e.rate_bytes_per_s));
  if (e.eta_seconds) s += " ETA " + human_duration(*e.eta_seconds);
  if (!e.message.empty()) s += " " + e.message;
  return s;
}
}  // namespace

void EventRenderer::draw_bar(const Event& e) {
  const double f = std::clamp(e.fraction.value_or(0.0), 0.0, 1.0);
  const int permille = static_cast<int>(f * 1000);
  if (m_bar_open && permille == m_last_permille && e.step == m_bar_step) return;
  m_last_permille = permille;
  m_bar_step = e.step;
  constexpr int width = 30;
  const int filled = static_cast<int>(f * width);
  std::fputs(fmt::format("\r\x1b[K  {:<14} {:5.1f}% [{:=<{}}{: <{}}]{}", e.step, f * 100, "", filled, "",
                         width - filled, progress_suffix(e))
                 .c_str(),
             m_out);
  std::fflush(m_out);
  m_bar_open = true;
}

void EventRenderer::emit(const Event& e) {
  std::lock_guard lock(m_mutex);
  if (m_style.json) {
    std::fputs((to_json(e).dump() + "\n").c_str(), m_out);
    std::fflush(m_out);
    return;
  }
  if (e.kind == EventKind::progress) {
    if (m_style.interactive) {
      draw_bar(e);
      return;
    }
    const int decile = static_cast<int>(e.fraction.value_or(0) * 10);
    const auto now = std::chrono::steady_clock::now();
    if (decile == m_last_plain_decile && now - m_last_plain_at < std::chrono::seconds(5)) return;
    m_last_plain_decile = decile;
    m_last_plain_at = now;
    std::fputs(fmt::format("  {} {:.0f}%{}\n", e.step, e.fraction.value_or(0) * 100, progress_suffix(e)).c_str(), m_out);
    std::fflush(m_out);
    return;
  }
  if (m_bar_open) {
    std::fputs("\n", m_out);
    m_bar_open = false;
  }
  m_last_plain_decile = -1;
  std::string line;
  switch (e.kind) {
    case EventKind::step_started: line = bold(m_style, "==> " + e.step) + (e.message.empty() ? "" : ": " + e.message); break;
    case EventKind::step_finished: line = green(m_style, "  done") + (e.message.empty() ? "" : ": " + e.message); break;
    case EventKind::step_skipped: line = fmt::format("==> {}: already done ({})", e.step, e.message); break;
    case EventKind::step_failed: line = red(m_style, "  failed: ") + e.message; break;
    case EventKind::warning: line = yellow(m_style, "  warning: ") + e.message; break;
    case EventKind::retry: line = yellow(m_style, "  retry: ") + e.message; break;
    case EventKind::info:
    case EventKind::progress: line = "  " + e.message; break;
  }
  std::fputs((line + "\n").c_str(), m_out);
  std::fflush(m_out);
}

}  // namespace m2r::cli
