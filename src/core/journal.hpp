#pragma once
// The journal model: every step of a migration with its status, times, inputs and
// outputs, the parts of an upload, and an append-only event log. A killed run resumes
// from what the journal says. The model and its rules live here; persistence is behind
// the Journal interface (SQLite in src/migrate/sqlite_journal; in memory for tests,
// tests/fakes/memory_journal).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace m2r {

enum class StepStatus { pending, running, done, failed };
const char* to_string(StepStatus status);
std::optional<StepStatus> step_status_from_string(const std::string& text);

using TimePoint = std::chrono::system_clock::time_point;

struct StepRecord {
  std::string name;
  StepStatus status = StepStatus::pending;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  int attempts = 0;
  nlohmann::json inputs = nlohmann::json::object();
  nlohmann::json outputs = nlohmann::json::object();
  std::string error;  // last failure message
};

inline StepRecord blank_step(const std::string& name) {
  StepRecord s;
  s.name = name;
  return s;
}

struct JournalEvent {
  std::int64_t id = 0;
  TimePoint at;
  std::string step;  // may be empty for migration-wide events
  std::string kind;  // "step_started", "progress", "retry", "warning", ...
  nlohmann::json data = nlohmann::json::object();
};

struct UploadPartRecord {
  std::string upload_id;
  int part_number = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string etag;
  std::string checksum_crc32c;  // base64, as S3 reports it
  std::string content_md5;      // base64
};

// Which transitions the journal allows (pure; both implementations enforce it).
//   begin:  pending | failed | running (a killed attempt) -> running
//   finish: running -> done      fail: running -> failed
Expected<void> check_transition(const std::string& step, StepStatus from, StepStatus to);

class Journal {
 public:
  virtual ~Journal() = default;

  virtual Expected<std::optional<StepRecord>> step(const std::string& name) = 0;
  virtual Expected<std::vector<StepRecord>> steps() = 0;

  // Marks the step running (attempts + 1), recording its inputs.
  virtual Expected<void> begin_step(const std::string& name, const nlohmann::json& inputs) = 0;
  // Merges keys into the outputs of a running step, durably (e.g. the backup file list
  // before the upload starts), so a resumed attempt finds them.
  virtual Expected<void> record_outputs(const std::string& name, const nlohmann::json& outputs) = 0;
  // Merges the final outputs and marks the step done, in one transaction: a step is
  // never done without its outputs.
  virtual Expected<void> finish_step(const std::string& name, const nlohmann::json& outputs) = 0;
  virtual Expected<void> fail_step(const std::string& name, const std::string& error) = 0;
  // Back to pending, outputs kept (used by an explicit re-run of a step).
  virtual Expected<void> reset_step(const std::string& name) = 0;
  // Back to pending with no inputs or outputs: the step runs again from nothing (`run
  // --redo-from`). The caller records the old outputs in an event first, so no attempt is lost.
  virtual Expected<void> restart_step(const std::string& name) = 0;

  virtual Expected<std::int64_t> append_event(const std::string& step, const std::string& kind,
                                              const nlohmann::json& data) = 0;
  virtual Expected<std::vector<JournalEvent>> events(std::int64_t after_id, int limit) = 0;

  virtual Expected<void> record_part(const UploadPartRecord& part) = 0;
  virtual Expected<std::vector<UploadPartRecord>> parts(const std::string& upload_id) = 0;
  virtual Expected<void> forget_parts(const std::string& upload_id) = 0;
};

// Every event, oldest first, read page by page; with `kinds`, only events of those kinds.
Expected<std::vector<JournalEvent>> all_events(Journal& journal, const std::vector<std::string>& kinds = {});

}  // namespace m2r
