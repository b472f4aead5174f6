#include "core/events.hpp"

namespace m2r {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::step_started: return "step_started";
    case EventKind::step_finished: return "step_finished";
    case EventKind::step_skipped: return "step_skipped";
    case EventKind::step_failed: return "step_failed";
    case EventKind::progress: return "progress";
    case EventKind::info: return "info";
    case EventKind::warning: return "warning";
    case EventKind::retry: return "retry";
  }
  return "info";
}

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = {{"event", to_string(e.kind)}, {"step", e.step}};
  if (!e.message.empty()) j["message"] = e.message;
  if (e.fraction) j["fraction"] = *e.fraction;
  if (e.done_bytes) j["done_bytes"] = *e.done_bytes;
  if (e.total_bytes) j["total_bytes"] = *e.total_bytes;
  if (e.rate_bytes_per_s) j["rate_bytes_per_s"] = *e.rate_bytes_per_s;
  if (e.eta_seconds) j["eta_seconds"] = *e.eta_seconds;
  if (!e.data.empty()) j["data"] = e.data;
  return j;
}

Event info_event(std::string step, std::string message) {
  return Event{.kind = EventKind::info, .step = std::move(step), .message = std::move(message)};
}

Event warning_event(std::string step, std::string message) {
  return Event{.kind = EventKind::warning, .step = std::move(step), .message = std::move(message)};
}

}  // namespace m2r
