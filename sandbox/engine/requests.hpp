#pragma once
// The instance's running requests, for sys.dm_exec_requests: one row per session that is
// executing a batch or an RPC now, with the current statement's command and, for BACKUP and
// RESTORE, the live percent_complete the copy loop reports. Shared by every session of the
// instance (guarded by its own mutex); each session reads a snapshot (session.cpp).
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sandbox::engine {

// A row as sys.dm_exec_requests shows it (Microsoft's column names and types:
// session_id smallint, request_id int, start_time datetime, status nvarchar(30),
// command nvarchar(32), database_id smallint, percent_complete real,
// estimated_completion_time bigint (ms), total_elapsed_time int (ms)).
struct RequestRow {
  int session_id = 0;
  int request_id = 0;  // 0: the session's only request (no MARS in the sandbox)
  std::string start_time;  // "YYYY-MM-DD HH:MM:SS.mmm", local time, when the request arrived
  std::string status = "running";
  std::string command;
  int database_id = 0;
  double percent_complete = 0;  // 0..100; only BACKUP/RESTORE report it (0 otherwise, as SQL Server)
  std::int64_t estimated_completion_time = 0;  // ms left, from the rate so far; 0 without progress
  std::int64_t total_elapsed_time = 0;         // ms since start_time
  // A request waiting for a lock: status "suspended", the session holding it, LCK_M_S or
  // LCK_M_X, and ms waited so far (0 / NULL wait_type when not waiting).
  int blocking_session_id = 0;
  std::string wait_type;
  std::int64_t wait_time = 0;
};

class RequestRegistry {
 public:
  // A request arrives on / leaves a session.
  void begin(int session_id, int database_id);
  void end(int session_id);
  // The session's current statement (SELECT, INSERT, BACKUP DATABASE, RESTORE LOG, ...).
  void set_command(int session_id, const std::string& command, int database_id);
  // Work done by the running BACKUP/RESTORE, 0..100 (only moves forward). No-op for a
  // session without a request (an RDS task's worker thread).
  void set_percent(int session_id, double percent);
  // The session's request waits for a lock held by `blocking_session_id` (0: no longer waits).
  void set_wait(int session_id, int blocking_session_id, const std::string& wait_type);
  std::vector<RequestRow> snapshot() const;

 private:
  struct Active {
    RequestRow row;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point wait_started;
  };
  mutable std::mutex m_mutex;
  std::map<int, Active> m_active;  // by session_id
};

}  // namespace sandbox::engine
