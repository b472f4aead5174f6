#include "engine/requests.hpp"

#include <algorithm>

#include "engine/engine_internal.hpp"

namespace sandbox::engine {

void RequestRegistry::begin(int session_id, int database_id) {
  Active a;
  a.row.session_id = session_id;
  a.row.start_time = now_datetime();
  a.row.database_id = database_id;
  a.started = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(m_mutex);
  m_active[session_id] = std::move(a);
}

void RequestRegistry::end(int session_id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_active.erase(session_id);
}

void RequestRegistry::set_command(int session_id, const std::string& command, int database_id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_active.find(session_id);
  if (it == m_active.end()) return;
  if (it->second.row.command != command) it->second.row.percent_complete = 0;
  it->second.row.command = command;
  it->second.row.database_id = database_id;
}

void RequestRegistry::set_percent(int session_id, double percent) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_active.find(session_id);
  if (it == m_active.end()) return;
  it->second.row.percent_complete = std::max(it->second.row.percent_complete, std::clamp(percent, 0.0, 100.0));
}

void RequestRegistry::set_wait(int session_id, int blocking_session_id, const std::string& wait_type) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_active.find(session_id);
  if (it == m_active.end()) return;
  RequestRow& r = it->second.row;
  if (blocking_session_id == 0) {
    r.status = "running";
    r.blocking_session_id = 0;
    r.wait_type.clear();
    return;
  }
  if (r.blocking_session_id == 0) it->second.wait_started = std::chrono::steady_clock::now();
  r.status = "suspended";
  r.blocking_session_id = blocking_session_id;
  r.wait_type = wait_type;
}

std::vector<RequestRow> RequestRegistry::snapshot() const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<RequestRow> out;
  out.reserve(m_active.size());
  for (const auto& [id, a] : m_active) {
    RequestRow r = a.row;
    r.total_elapsed_time = std::chrono::duration_cast<std::chrono::milliseconds>(now - a.started).count();
    if (r.blocking_session_id) r.wait_time = std::chrono::duration_cast<std::chrono::milliseconds>(now - a.wait_started).count();
    // SQL Server estimates from the rate so far; so does the sandbox.
    if (r.percent_complete > 0 && r.percent_complete < 100) {
      r.estimated_completion_time =
          static_cast<std::int64_t>(static_cast<double>(r.total_elapsed_time) * (100.0 - r.percent_complete) / r.percent_complete);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sandbox::engine
