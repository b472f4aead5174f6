#include "engine/session_registry.hpp"

#include <strings.h>

namespace sandbox::engine {

namespace {

// How often a killer waiting for its victim's request to stop asks whether to give up.
constexpr std::chrono::milliseconds k_kill_poll{20};

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

}  // namespace

std::string SessionEntry::database() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_database;
}

void SessionEntry::set_settings(const SessionSettings& settings) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_settings = settings;
}

SessionSettings SessionEntry::settings() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_settings;
}

void SessionEntry::set_end_work(std::function<void()> end_work) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_end_work = std::move(end_work);
}

void SessionEntry::set_disconnect(std::function<void()> disconnect) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_disconnect = std::move(disconnect);
}

void SessionEntry::detach() {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_end_work = nullptr;
  m_disconnect = nullptr;
}

std::shared_ptr<SessionEntry> SessionRegistry::add(int spid, const std::string& login, const std::string& login_time) {
  auto entry = std::make_shared<SessionEntry>(spid, login, login_time);
  std::lock_guard<std::mutex> lock(m_mutex);
  m_sessions[spid] = entry;
  return entry;
}

void SessionRegistry::remove(int spid) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_sessions.erase(spid);
  }
  m_changed.notify_all();
}

SessionRegistry::Others SessionRegistry::others_in_locked(const std::string& database, int except_spid) const {
  Others out;
  for (const auto& [spid, e] : m_sessions) {
    if (spid != except_spid && !e->killed() && same_name(e->m_database, database)) out.push_back(e);
  }
  return out;
}

bool SessionRegistry::move(int spid, const std::string& database, const std::function<bool(const Others&)>& admit) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_sessions.find(spid);
    if (it == m_sessions.end()) return false;
    if (!admit(others_in_locked(database, spid))) return false;
    std::lock_guard<std::mutex> entry_lock(it->second->m_mutex);
    it->second->m_database = database;
  }
  m_changed.notify_all();
  return true;
}

void SessionRegistry::with_sessions_in(const std::string& database, int except_spid, const std::function<void(const Others&)>& f) {
  std::lock_guard<std::mutex> lock(m_mutex);
  f(others_in_locked(database, except_spid));
}

bool SessionRegistry::kill(SessionEntry& victim, const std::function<bool()>& give_up) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    victim.m_killed = true;
  }
  m_changed.notify_all();
  {
    std::lock_guard<std::mutex> lock(victim.m_mutex);
    if (victim.m_disconnect) victim.m_disconnect();  // wakes a connection blocked reading the next request
  }
  // The victim's running request sees the kill at its next cancel test (lock waits poll it too)
  // and ends; then its activity is free.
  while (!victim.m_activity.try_lock_for(k_kill_poll)) {
    if (give_up && give_up()) return false;
  }
  std::function<void()> end_work;
  {
    std::lock_guard<std::mutex> lock(victim.m_mutex);
    end_work = victim.m_end_work;  // empty once the session went away (it ended its work itself)
  }
  try {
    if (end_work) end_work();
  } catch (...) {
    victim.m_activity.unlock();
    throw;
  }
  victim.m_activity.unlock();
  m_changed.notify_all();
  return true;
}

void SessionRegistry::wait_for_change(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_changed.wait_until(lock, until);
}

std::vector<SessionRow> SessionRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<SessionRow> out;
  for (const auto& [spid, e] : m_sessions) {
    if (e->killed()) continue;
    out.push_back(SessionRow{spid, e->login(), e->m_database, e->login_time(), e->running(), e->settings()});
  }
  return out;
}

}  // namespace sandbox::engine
