#pragma once
// Row locks as SQL Server takes them under its default isolation level, READ COMMITTED with
// locks (README.md "Transactions and locking"): a writer holds an exclusive (X) lock on every row it changed
// until its transaction ends; a reader asks for a shared (S) lock on a row another
// transaction holds X on and waits for it, but keeps no S lock after the read. Waits honour a
// timeout (SET LOCK_TIMEOUT) and a wait that would close a cycle in the wait-for graph is a
// deadlock. The lock manager knows nothing of SQL: owners are session ids (a session has at
// most one transaction), resources are (database, table, row key).
#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sandbox::engine {

enum class LockMode { shared, exclusive };

// A row: SQL Server locks index keys (KEY) or heap rows (RID); the sandbox locks the SQLite
// rowid of the row in its table, which is the key of an IDENTITY primary key.
struct LockResource {
  int database_id = 0;
  std::string table;  // the SQLite table name, case as created
  std::int64_t key = 0;
  auto operator<=>(const LockResource&) const = default;
};

enum class LockWait {
  granted,   // acquired (or, for a wait without holding, compatible now)
  timeout,   // the timeout passed first: Msg 1222
  deadlock,  // waiting would close a cycle of waits: this requester is the victim (Msg 1205)
  cancelled  // the caller's cancel test said so (an attention from the client)
};

// What a blocked owner waits for (sys.dm_exec_requests.blocking_session_id / wait_type).
struct LockWaitState {
  LockResource resource;
  LockMode mode = LockMode::shared;
  int blocking_owner = 0;
  std::chrono::steady_clock::time_point since;
};

class LockManager {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds k_wait_forever{-1};  // LOCK_TIMEOUT -1 (the default)

  // Grants `mode` on `r` to `owner` when no other owner holds an incompatible lock (S is
  // compatible with S; X with nothing; an owner's own locks never block it). Returns the
  // owner in the way otherwise, and grants nothing.
  std::optional<int> try_acquire(int owner, const LockResource& r, LockMode mode);

  // Waits until `r` is compatible with `mode` for `owner`, then acquires it (`hold`) or only
  // returns (a READ COMMITTED reader, which keeps no S lock after its read). `timeout` < 0
  // waits forever; 0 does not wait. `observe` is told the owner it waits on whenever that
  // changes (and 0 when the wait ends). `cancelled` is polled while waiting.
  LockWait acquire(int owner, const LockResource& r, LockMode mode, std::chrono::milliseconds timeout, bool hold,
                   const std::function<void(int blocking_owner)>& observe = {},
                   const std::function<bool()>& cancelled = {});

  // Ends `owner`'s transaction: every lock it holds is released and waiters re-check.
  void release_all(int owner);

  // Exclusive locks in `database_id` held by owners other than `owner`: table -> key -> holder.
  std::map<std::string, std::map<std::int64_t, int>> exclusive_by_others(int owner, int database_id) const;

  // The locks `owner` holds, and whether it waits now (tests, sys.dm_exec_requests).
  std::vector<std::pair<LockResource, LockMode>> held(int owner) const;
  std::optional<LockWaitState> waiting(int owner) const;

  // Blocks until `pred(*this)` holds or `deadline` passes (tests wait on lock state, not time).
  bool wait_until(const std::function<bool(const LockManager&)>& pred, Clock::time_point deadline) const;

 private:
  struct Waiter {
    LockResource resource;
    LockMode mode;
    std::set<int> blockers;
    Clock::time_point since;
  };
  std::set<int> blockers_locked(int owner, const LockResource& r, LockMode mode) const;
  bool reaches_locked(int from, int target, std::set<int>& seen) const;
  std::vector<std::pair<LockResource, LockMode>> held_locked(int owner) const;

  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;
  std::map<LockResource, std::map<int, LockMode>> m_locks;  // resource -> holder -> mode
  std::map<int, std::set<LockResource>> m_owned;
  std::map<int, Waiter> m_waiting;
};

}  // namespace sandbox::engine
