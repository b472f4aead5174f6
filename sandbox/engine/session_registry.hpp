#pragma once
// The instance's live sessions (README.md "User access modes"): who is connected, as which
// login, in which database, and the means for one session to end another (ALTER DATABASE ...
// WITH ROLLBACK IMMEDIATE). Shared by every session of the instance; knows nothing of SQL:
// what ending a session's work means (rolling its transaction back) is a callback the session
// registers, and closing its connection is one the TDS layer registers (api.hpp).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sandbox::engine {

// One session's entry, shared by the session and the registry (a killer keeps it alive while
// the session may be going away).
// The SET options sys.dm_exec_sessions shows for a session; the session publishes them after
// each SET and at a reset (defaults: what a driver's login leaves).
struct SessionSettings {
  std::int64_t text_size = 2147483647;
  std::string language = "us_english";
  std::string date_format = "mdy";
  int date_first = 7;
  bool quoted_identifier = true, arithabort = false, ansi_null_dflt_on = true, ansi_warnings = true;
  bool ansi_padding = true, ansi_nulls = true, concat_null_yields_null = true;
  bool ansi_defaults = false;  // every option SET ANSI_DEFAULTS ON sets is on
  int transaction_isolation_level = 2;  // 1 READ UNCOMMITTED, 2 READ COMMITTED, 5 SNAPSHOT
  int lock_timeout = -1;
};

class SessionEntry {
 public:
  SessionEntry(int spid, std::string login, std::string login_time)
      : m_spid(spid), m_login(std::move(login)), m_login_time(std::move(login_time)) {}
  int spid() const { return m_spid; }
  const std::string& login() const { return m_login; }
  const std::string& login_time() const { return m_login_time; }
  // Empty until the login has been admitted to its first database.
  std::string database() const;
  bool killed() const { return m_killed.load(); }
  bool running() const { return m_running.load(); }

  // Held by the session's own thread while it runs a request (a batch, an RPC, a reset), and by
  // a killer while it ends the session's work: the two never touch the session at once.
  std::recursive_timed_mutex& activity() { return m_activity; }
  void set_running(bool running) { m_running = running; }
  void set_settings(const SessionSettings& settings);
  SessionSettings settings() const;

  // The session's side. `end_work` runs under activity() on the killer's thread: it must leave
  // nothing of the session's transaction (undo it, release its locks). `disconnect` closes the
  // connection (the TDS layer's); it may run on any thread, before the session has noticed.
  void set_end_work(std::function<void()> end_work);
  void set_disconnect(std::function<void()> disconnect);
  // The session is going away: neither callback may run after this returns.
  void detach();

 private:
  friend class SessionRegistry;
  const int m_spid;
  const std::string m_login;
  const std::string m_login_time;
  std::string m_database;  // guarded by the registry's mutex (written) and m_mutex (read)
  std::atomic<bool> m_killed{false};
  std::atomic<bool> m_running{false};
  std::recursive_timed_mutex m_activity;
  mutable std::mutex m_mutex;  // the callbacks, m_database and m_settings
  SessionSettings m_settings;
  std::function<void()> m_end_work;
  std::function<void()> m_disconnect;
};

// A row as sys.dm_exec_sessions shows it (the columns the sandbox fills).
struct SessionRow {
  int session_id = 0;
  std::string login_name;
  std::string database;  // empty before the first database
  std::string login_time;
  bool running = false;  // sys.dm_exec_sessions.status: running / sleeping
  SessionSettings settings;
};

class SessionRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  using Others = std::vector<std::shared_ptr<SessionEntry>>;

  std::shared_ptr<SessionEntry> add(int spid, const std::string& login, const std::string& login_time);
  void remove(int spid);

  // Moves `spid` into `database` (case-insensitive) when `admit(others)` says so; `others` are
  // the sessions in that database other than `spid` and not killed. Atomic with respect to
  // other moves and to with_sessions_in(), so that a mode change and the sessions it lets in
  // are judged together. False (and nothing changed) when refused.
  bool move(int spid, const std::string& database, const std::function<bool(const Others& others)>& admit);
  // Runs `f` under the registry's lock with the sessions in `database` other than
  // `except_spid` and not killed (an ALTER DATABASE deciding who must leave, and switching the
  // mode when none must, without a session slipping in between).
  void with_sessions_in(const std::string& database, int except_spid, const std::function<void(const Others&)>& f);

  // Ends `victim`: marks it killed (its running request stops at its next cancel test, and it
  // runs no other), closes its connection, then waits until it is not running a request and
  // runs its end_work there. `give_up` is polled while waiting; false when it said so first.
  bool kill(SessionEntry& victim, const std::function<bool()>& give_up);

  // Blocks until a session leaves, moves or is killed, or `until` passes.
  void wait_for_change(Clock::time_point until);
  std::vector<SessionRow> snapshot() const;

 private:
  Others others_in_locked(const std::string& database, int except_spid) const;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<int, std::shared_ptr<SessionEntry>> m_sessions;  // by spid
};

}  // namespace sandbox::engine
