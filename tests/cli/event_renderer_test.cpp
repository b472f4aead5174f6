#include "cli/event_renderer.hpp"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace m2r;
using namespace m2r::cli;

namespace {
std::string render(OutputStyle style, const std::vector<Event>& events) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  {
    EventRenderer r(style, out);
    for (const auto& e : events) r.emit(e);
  }
  std::fclose(out);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

Event progress(double f) {
  Event e;
  e.kind = EventKind::progress;
  e.step = "upload";
  e.fraction = f;
  e.done_bytes = static_cast<std::uint64_t>(f * 1024 * 1024 * 100);
  e.total_bytes = 100ull * 1024 * 1024;
  return e;
}
}  // namespace

TEST(EventRendererTest, JsonModeWritesOneObjectPerLine) {
  OutputStyle style;
  style.json = true;
  const auto out = render(style, {progress(0.5), Event{EventKind::info, "lsn", "start 00000025:00000b8f:0004", {}, {}, {}, {}, {}, {}}});
  const auto nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const auto first = nlohmann::json::parse(out.substr(0, nl));
  EXPECT_EQ(first["event"], "progress");
  EXPECT_DOUBLE_EQ(first["fraction"].get<double>(), 0.5);
  const auto second = nlohmann::json::parse(out.substr(nl + 1));
  EXPECT_EQ(second["message"], "start 00000025:00000b8f:0004");
}

TEST(EventRendererTest, PlainModeThrottlesProgressAndNeverUsesEscapes) {
  // Given 100 progress events when not on a terminal, we should print about one line per 10 %.
  OutputStyle style;
  std::vector<Event> events;
  for (int i = 0; i <= 100; ++i) events.push_back(progress(i / 100.0));
  const auto out = render(style, events);
  const auto lines = std::count(out.begin(), out.end(), '\n');
  EXPECT_LE(lines, 11);
  EXPECT_GE(lines, 10);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(EventRendererTest, TerminalModeRedrawsInPlace) {
  OutputStyle style;
  style.interactive = true;
  const auto out = render(style, {progress(0.1), progress(0.1), progress(0.2)});
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 2) << "an unchanged value is not redrawn";
  EXPECT_NE(out.find("20.0%"), std::string::npos);
}
