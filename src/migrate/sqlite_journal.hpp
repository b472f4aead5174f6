#pragma once
// The journal on disk: one SQLite file per migration, WAL, schema versioned with
// PRAGMA user_version and a migration ladder (ninja's versioned log, conventions.md).
// One process at a time: a second one is refused while the first holds the lock.
#include <memory>
#include <mutex>
#include <string>

#include "core/journal.hpp"

struct sqlite3;

namespace m2r {

class SqliteJournal final : public Journal {
 public:
  // Opens (creating when absent) and locks the journal. Errors: conflict when another
  // process holds it, fatal when the file is newer than this program or unreadable.
  static Expected<std::unique_ptr<SqliteJournal>> open(const std::string& path);
  ~SqliteJournal() override;
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  static constexpr int k_schema_version = 1;

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

  const std::string& path() const { return m_path; }

 private:
  friend Expected<std::unique_ptr<Journal>> open_journal_for_reading(const std::string& path);
  SqliteJournal(std::string path, sqlite3* db, int lock_fd);
  static Expected<std::unique_ptr<SqliteJournal>> open_impl(const std::string& path, bool writable);
  Expected<void> exec(const char* sql);
  Expected<std::optional<StepRecord>> load_step(const std::string& name);
  Expected<void> store_step(const StepRecord& step);
  template <typename F>
  Expected<void> in_transaction(F&& body);

  std::string m_path;
  sqlite3* m_db;
  int m_lock_fd;
  std::mutex m_mutex;  // one connection, many threads (upload workers record parts)
};

// Opens a journal for reading, for `status` and `report` while `run` holds the lock: no lock
// taken, steps and parts cannot change; only events can be appended (what `status` observed,
// such as the CDC lag it read), each in a transaction of its own.
Expected<std::unique_ptr<Journal>> open_journal_for_reading(const std::string& path);

}  // namespace m2r
