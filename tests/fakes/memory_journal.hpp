#pragma once
// A faithful in-memory Journal for tests of code that uses one: the same transitions
// (check_transition) as the SQLite journal, nothing persisted.
#include <string>
#include <vector>

#include "core/journal.hpp"

namespace m2r {

class MemoryJournal final : public Journal {
 public:
  Expected<std::optional<StepRecord>> step(const std::string& name) override;
  Expected<std::vector<StepRecord>> steps() override;
  Expected<void> begin_step(const std::string& name, const nlohmann::json& inputs) override;
  Expected<void> record_outputs(const std::string& name, const nlohmann::json& outputs) override;
  Expected<void> finish_step(const std::string& name, const nlohmann::json& outputs) override;
  Expected<void> fail_step(const std::string& name, const std::string& error) override;
  Expected<void> reset_step(const std::string& name) override;
  Expected<void> restart_step(const std::string& name) override;
  Expected<std::int64_t> append_event(const std::string& step, const std::string& kind,
                                      const nlohmann::json& data) override;
  Expected<std::vector<JournalEvent>> events(std::int64_t after_id, int limit) override;
  Expected<void> record_part(const UploadPartRecord& part) override;
  Expected<std::vector<UploadPartRecord>> parts(const std::string& upload_id) override;
  Expected<void> forget_parts(const std::string& upload_id) override;

 private:
  StepRecord& slot(const std::string& name);
  std::vector<StepRecord> m_steps;
  std::vector<JournalEvent> m_events;
  std::vector<UploadPartRecord> m_parts;
};

}  // namespace m2r
