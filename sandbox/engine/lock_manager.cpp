#include "engine/lock_manager.hpp"

#include <limits>

namespace sandbox::engine {

namespace {

bool compatible(LockMode held, LockMode wanted) { return held == LockMode::shared && wanted == LockMode::shared; }

// How often a waiter re-checks its cancel test. Not a synchronisation: grants and releases
// wake waiters through the condition variable at once.
constexpr std::chrono::milliseconds k_cancel_poll{50};

}  // namespace

std::set<int> LockManager::blockers_locked(int owner, const LockResource& r, LockMode mode) const {
  std::set<int> out;
  auto it = m_locks.find(r);
  if (it == m_locks.end()) return out;
  for (const auto& [holder, held] : it->second) {
    if (holder != owner && !compatible(held, mode)) out.insert(holder);
  }
  return out;
}

// Whether `from` waits, directly or through other waiters, on `target` (the wait-for graph:
// an edge from each waiter to each holder of an incompatible lock on what it waits for).
bool LockManager::reaches_locked(int from, int target, std::set<int>& seen) const {
  if (from == target) return true;
  if (!seen.insert(from).second) return false;
  auto w = m_waiting.find(from);
  if (w == m_waiting.end()) return false;
  for (int next : blockers_locked(from, w->second.resource, w->second.mode)) {
    if (reaches_locked(next, target, seen)) return true;
  }
  return false;
}

std::optional<int> LockManager::try_acquire(int owner, const LockResource& r, LockMode mode) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto blockers = blockers_locked(owner, r, mode);
  if (!blockers.empty()) return *blockers.begin();
  auto& held = m_locks[r][owner];
  if (mode == LockMode::exclusive) held = LockMode::exclusive;  // an S lock of the owner is upgraded
  m_owned[owner].insert(r);
  return std::nullopt;
}

LockWait LockManager::acquire(int owner, const LockResource& r, LockMode mode, std::chrono::milliseconds timeout, bool hold,
                              const std::function<void(int)>& observe, const std::function<bool()>& cancelled) {
  const auto start = Clock::now();
  const bool forever = timeout.count() < 0;
  const auto deadline = start + (forever ? std::chrono::milliseconds(0) : timeout);
  int observed = 0;
  auto tell = [&](int blocker) {
    if (observe && blocker != observed) observe(blocker);
    observed = blocker;
  };
  LockWait outcome = LockWait::granted;
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      auto blockers = blockers_locked(owner, r, mode);
      if (blockers.empty()) {
        if (hold) {
          auto& held = m_locks[r][owner];
          if (mode == LockMode::exclusive) held = LockMode::exclusive;
          m_owned[owner].insert(r);
        }
        outcome = LockWait::granted;
        break;
      }
      // Deadlock: does any owner in the way wait, through others, on us?
      bool cycle = false;
      for (int b : blockers) {
        std::set<int> seen;
        if (reaches_locked(b, owner, seen)) { cycle = true; break; }
      }
      if (cycle) { outcome = LockWait::deadlock; break; }
      if (!forever && Clock::now() >= deadline) { outcome = LockWait::timeout; break; }
      if (cancelled && cancelled()) { outcome = LockWait::cancelled; break; }
      m_waiting[owner] = Waiter{r, mode, blockers, start};
      lock.unlock();
      m_changed.notify_all();
      tell(*blockers.begin());
      lock.lock();
      auto until = Clock::now() + k_cancel_poll;
      if (!forever && deadline < until) until = deadline;
      m_changed.wait_until(lock, until);
    }
    m_waiting.erase(owner);
  }
  m_changed.notify_all();  // the graph changed (tests and other waiters' cycle checks)
  tell(0);
  return outcome;
}

void LockManager::release_all(int owner) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_owned.find(owner);
    if (it == m_owned.end()) return;
    for (const auto& r : it->second) {
      auto l = m_locks.find(r);
      if (l == m_locks.end()) continue;
      l->second.erase(owner);
      if (l->second.empty()) m_locks.erase(l);
    }
    m_owned.erase(it);
  }
  m_changed.notify_all();
}

std::map<std::string, std::map<std::int64_t, int>> LockManager::exclusive_by_others(int owner, int database_id) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::map<std::string, std::map<std::int64_t, int>> out;
  for (auto it = m_locks.lower_bound(LockResource{database_id, {}, std::numeric_limits<std::int64_t>::min()});
       it != m_locks.end() && it->first.database_id == database_id; ++it) {
    for (const auto& [holder, mode] : it->second) {
      if (holder != owner && mode == LockMode::exclusive) out[it->first.table][it->first.key] = holder;
    }
  }
  return out;
}

std::vector<std::pair<LockResource, LockMode>> LockManager::held_locked(int owner) const {
  std::vector<std::pair<LockResource, LockMode>> out;
  auto it = m_owned.find(owner);
  if (it == m_owned.end()) return out;
  for (const auto& r : it->second) out.emplace_back(r, m_locks.at(r).at(owner));
  return out;
}

std::vector<std::pair<LockResource, LockMode>> LockManager::held(int owner) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return held_locked(owner);
}

std::optional<LockWaitState> LockManager::waiting(int owner) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_waiting.find(owner);
  if (it == m_waiting.end()) return std::nullopt;
  auto blockers = blockers_locked(owner, it->second.resource, it->second.mode);
  return LockWaitState{it->second.resource, it->second.mode, blockers.empty() ? 0 : *blockers.begin(), it->second.since};
}

bool LockManager::wait_until(const std::function<bool(const LockManager&)>& pred, Clock::time_point deadline) const {
  // pred calls the public accessors, which lock: evaluate it unlocked, wait on the change
  // signal (bounded, since a change may land between the test and the wait).
  for (;;) {
    if (pred(*this)) return true;
    if (Clock::now() >= deadline) return false;
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait_until(lock, std::min(deadline, Clock::now() + k_cancel_poll));
  }
}

}  // namespace sandbox::engine
