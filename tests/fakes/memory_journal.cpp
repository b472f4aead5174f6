#include "fakes/memory_journal.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

StepRecord& MemoryJournal::slot(const std::string& name) {
  auto it = std::find_if(m_steps.begin(), m_steps.end(), [&](const StepRecord& s) { return s.name == name; });
  if (it != m_steps.end()) return *it;
  m_steps.push_back(blank_step(name));
  return m_steps.back();
}

Expected<std::optional<StepRecord>> MemoryJournal::step(const std::string& name) {
  auto it = std::find_if(m_steps.begin(), m_steps.end(), [&](const StepRecord& s) { return s.name == name; });
  if (it == m_steps.end()) return std::optional<StepRecord>{};
  return std::optional<StepRecord>{*it};
}

Expected<std::vector<StepRecord>> MemoryJournal::steps() { return m_steps; }

Expected<void> MemoryJournal::begin_step(const std::string& name, const nlohmann::json& inputs) {
  auto& s = slot(name);
  M2R_TRY(check_transition(name, s.status, StepStatus::running));
  s.status = StepStatus::running;
  s.started_at = std::chrono::system_clock::now();
  s.finished_at.reset();
  s.attempts += 1;
  s.inputs = inputs;
  s.error.clear();
  return {};
}

Expected<void> MemoryJournal::record_outputs(const std::string& name, const nlohmann::json& outputs) {
  auto& s = slot(name);
  if (s.status != StepStatus::running) {
    return fail(ErrorKind::fatal, fmt::format("journal: step '{}' is not running", name));
  }
  s.outputs.merge_patch(outputs);
  return {};
}

Expected<void> MemoryJournal::finish_step(const std::string& name, const nlohmann::json& outputs) {
  auto& s = slot(name);
  M2R_TRY(check_transition(name, s.status, StepStatus::done));
  s.outputs.merge_patch(outputs);
  s.status = StepStatus::done;
  s.finished_at = std::chrono::system_clock::now();
  return {};
}

Expected<void> MemoryJournal::fail_step(const std::string& name, const std::string& error) {
  auto& s = slot(name);
  M2R_TRY(check_transition(name, s.status, StepStatus::failed));
  s.status = StepStatus::failed;
  s.error = error;
  s.finished_at = std::chrono::system_clock::now();
  return {};
}

Expected<void> MemoryJournal::reset_step(const std::string& name) {
  slot(name).status = StepStatus::pending;
  return {};
}

Expected<void> MemoryJournal::restart_step(const std::string& name) {
  auto& s = slot(name);
  M2R_TRY(check_transition(name, s.status, StepStatus::pending));
  s.status = StepStatus::pending;
  s.inputs = nlohmann::json::object();
  s.outputs = nlohmann::json::object();
  s.error.clear();
  s.started_at.reset();
  s.finished_at.reset();
  return {};
}

Expected<std::int64_t> MemoryJournal::append_event(const std::string& step, const std::string& kind,
                                                   const nlohmann::json& data) {
  const auto id = static_cast<std::int64_t>(m_events.size()) + 1;
  m_events.push_back(JournalEvent{id, std::chrono::system_clock::now(), step, kind, data});
  return id;
}

Expected<std::vector<JournalEvent>> MemoryJournal::events(std::int64_t after_id, int limit) {
  std::vector<JournalEvent> out;
  for (const auto& e : m_events) {
    if (e.id > after_id && static_cast<int>(out.size()) < limit) out.push_back(e);
  }
  return out;
}

Expected<void> MemoryJournal::record_part(const UploadPartRecord& part) {
  auto it = std::find_if(m_parts.begin(), m_parts.end(), [&](const UploadPartRecord& p) {
    return p.upload_id == part.upload_id && p.part_number == part.part_number;
  });
  if (it != m_parts.end()) {
    *it = part;
  } else {
    m_parts.push_back(part);
  }
  return {};
}

Expected<std::vector<UploadPartRecord>> MemoryJournal::parts(const std::string& upload_id) {
  std::vector<UploadPartRecord> out;
  for (const auto& p : m_parts) {
    if (p.upload_id == upload_id) out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
  return out;
}

Expected<void> MemoryJournal::forget_parts(const std::string& upload_id) {
  std::erase_if(m_parts, [&](const UploadPartRecord& p) { return p.upload_id == upload_id; });
  return {};
}

}  // namespace m2r
