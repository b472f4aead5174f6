#pragma once
// What long work reports while it runs. Core and migrate code emit events; only src/cli
// renders them (a bar on a terminal, plain lines otherwise, JSON lines with --json).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace m2r {

enum class EventKind {
  step_started,
  step_finished,
  step_skipped,  // already done in the journal
  step_failed,
  progress,      // fraction / bytes of the current step
  info,          // a line worth showing (e.g. the chosen start point and why)
  warning,
  retry,
};
const char* to_string(EventKind kind);

struct Event {
  EventKind kind = EventKind::info;
  std::string step;
  std::string message;
  std::optional<double> fraction;         // 0..1
  std::optional<std::uint64_t> done_bytes;
  std::optional<std::uint64_t> total_bytes;
  std::optional<double> rate_bytes_per_s;
  std::optional<double> eta_seconds;
  nlohmann::json data = nlohmann::json::object();  // structured details for --json
};

nlohmann::json to_json(const Event& event);

// A line for the user from `step`: info_event("cutover", "stopping the DMS task").
Event info_event(std::string step, std::string message);
Event warning_event(std::string step, std::string message);

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& event) = 0;  // may be called from several threads
};

}  // namespace m2r
