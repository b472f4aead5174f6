#pragma once
// Live progress of a long statement (BACKUP, RESTORE) whatever the driver.
//
// SQL Server sends WITH STATS progress (3211 "n percent processed.") as messages while the
// statement runs (docs/facts.md §8), but FreeTDS's ODBC driver keeps reading past them and hands
// them over only when the statement ends. So, as DBAs follow a running backup, a second
// session polls sys.dm_exec_requests for the running session's percent_complete; the 3211
// messages still count when they arrive (Microsoft's driver delivers them live).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r::mssql {

// Opens another session with the same settings (a second connection to the same server).
using SessionOpener = std::function<Expected<std::unique_ptr<SqlSession>>()>;

// "37 percent processed." (message 3211, docs/facts.md §10) -> 0.37; nothing for other messages.
std::optional<double> percent_processed(const SqlMessage& message);

// One sys.dm_exec_requests row of the watched session.
struct RequestProgress {
  double percent_complete = 0;               // 0..100
  std::int64_t estimated_completion_ms = 0;  // SQL Server's estimate of the time left
  std::int64_t elapsed_ms = 0;
  std::string command;                       // "BACKUP DATABASE", "RESTORE DATABASE", ...
};

// Polls sys.dm_exec_requests for one session id on its own thread, first after one
// interval. A failed poll (VIEW SERVER STATE denied, the link broke) is reported once and
// ends the polling. stop() (and the destructor) returns promptly: it wakes the wait and
// cancels a poll in flight.
class RequestPoller {
 public:
  using ProgressFn = std::function<void(const RequestProgress&)>;
  using FailureFn = std::function<void(const Error&)>;

  RequestPoller(std::unique_ptr<SqlSession> monitor, std::int64_t session_id, std::chrono::milliseconds interval,
                ProgressFn on_progress, FailureFn on_failure);
  ~RequestPoller();
  RequestPoller(const RequestPoller&) = delete;
  RequestPoller& operator=(const RequestPoller&) = delete;

  void stop();

 private:
  void loop();

  std::unique_ptr<SqlSession> m_monitor;
  std::int64_t m_session_id;
  std::chrono::milliseconds m_interval;
  ProgressFn m_on_progress;
  FailureFn m_on_failure;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  bool m_polling = false;  // a poll is in flight on m_monitor
  std::thread m_thread;
};

struct LiveProgressOptions {
  // How often the second session asks. Once a second is what DBAs' scripts do and costs the
  // server one tiny DMV read a second.
  std::chrono::milliseconds poll_interval{1000};
};

// What run_with_live_progress reports. The handlers are called one at a time (never
// concurrently), from the caller's thread or the poller's.
struct LiveProgressHandlers {
  MessageHandler on_message;  // every message of the statement, in order, as the driver delivers it
  // 0..1, never going backwards; text says where it came from ("37 percent processed.").
  std::function<void(double fraction, const std::string& text)> on_progress;
  // Polling is unavailable (no second session, no VIEW SERVER STATE, ...): called at most
  // once; progress then comes from the 3211 messages alone.
  std::function<void(const std::string& why)> on_polling_unavailable;
};

// Runs `statement` on `session` while a second session from `open_monitor` polls
// sys.dm_exec_requests for it (the session learns its id from @@SPID first). Progress comes
// from both the polls and the 3211 messages. The poller stops when the statement ends,
// fails or is cancelled; a polling problem never fails the statement. An empty
// `open_monitor` means messages only.
Expected<QueryResult> run_with_live_progress(SqlSession& session, const SessionOpener& open_monitor,
                                             const Statement& statement, const LiveProgressHandlers& handlers,
                                             const LiveProgressOptions& options = {});

}  // namespace m2r::mssql
