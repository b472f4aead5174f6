#pragma once
// Renders core events: on a terminal, a progress bar redrawn in place (only when the
// per-mille value changes, as ccache does); otherwise plain lines, at most one progress
// line per 10 % or 5 s; with --json, one JSON object per line.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "cli/terminal.hpp"
#include "core/events.hpp"

namespace m2r::cli {

class EventRenderer final : public EventSink {
 public:
  EventRenderer(OutputStyle style, std::FILE* out);
  ~EventRenderer() override;
  void emit(const Event& event) override;
  void finish_line();  // ends a bar in progress

 private:
  void draw_bar(const Event& e);
  OutputStyle m_style;
  std::FILE* m_out;
  std::mutex m_mutex;
  bool m_bar_open = false;
  int m_last_permille = -1;
  std::string m_bar_step;
  int m_last_plain_decile = -1;
  std::chrono::steady_clock::time_point m_last_plain_at{};
};

std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace m2r::cli
