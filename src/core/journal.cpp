#include "core/journal.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

const char* to_string(StepStatus status) {
  switch (status) {
    case StepStatus::pending: return "pending";
    case StepStatus::running: return "running";
    case StepStatus::done: return "done";
    case StepStatus::failed: return "failed";
  }
  return "pending";
}

std::optional<StepStatus> step_status_from_string(const std::string& text) {
  for (auto s : {StepStatus::pending, StepStatus::running, StepStatus::done, StepStatus::failed}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

Expected<void> check_transition(const std::string& step, StepStatus from, StepStatus to) {
  const bool ok = (to == StepStatus::running && from != StepStatus::done) ||
                  (to == StepStatus::done && from == StepStatus::running) ||
                  (to == StepStatus::failed && from == StepStatus::running) || (to == StepStatus::pending);
  if (ok) return {};
  return fail(ErrorKind::fatal,
              fmt::format("journal: step '{}' cannot go from {} to {}", step, to_string(from), to_string(to)),
              "this is a bug in mssql2rds; the journal was not changed");
}

Expected<std::vector<JournalEvent>> all_events(Journal& journal, const std::vector<std::string>& kinds) {
  constexpr int k_page = 1000;
  std::vector<JournalEvent> out;
  for (std::int64_t after = 0;;) {
    auto page = M2R_TRY(journal.events(after, k_page));
    if (page.empty()) break;
    after = page.back().id;
    for (auto& e : page) {
      if (kinds.empty() || std::find(kinds.begin(), kinds.end(), e.kind) != kinds.end()) out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace m2r
