#include "core/interrupt.hpp"

#include <thread>

namespace m2r {

void StopSignal::request() {
  std::lock_guard lock(m_mutex);
  if (m_requested.exchange(true, std::memory_order_acq_rel)) return;
  for (auto& [id, callback] : m_callbacks) callback();
  m_cv.notify_all();
}

bool StopSignal::wait_for(std::chrono::milliseconds duration) const {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_for(lock, duration, [this] { return requested(); });
}

StopSignal::Registration StopSignal::on_stop(std::function<void()> callback) const {
  std::lock_guard lock(m_mutex);
  if (requested()) {
    callback();
    return {};
  }
  const std::uint64_t id = m_next_id++;
  m_callbacks.emplace(id, std::move(callback));
  return Registration(this, id);
}

StopSignal::Registration& StopSignal::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    m_signal = other.m_signal;
    m_id = other.m_id;
    other.m_signal = nullptr;
  }
  return *this;
}

void StopSignal::Registration::reset() {
  if (m_signal == nullptr) return;
  std::lock_guard lock(m_signal->m_mutex);
  m_signal->m_callbacks.erase(m_id);
  m_signal = nullptr;
}

bool sleep_or_stop(const StopSignal* stop, std::chrono::milliseconds duration) {
  if (stop != nullptr) return stop->wait_for(duration);
  std::this_thread::sleep_for(duration);
  return false;
}

Error interrupted_error(const std::string& what, const std::string& resume) {
  return Error(ErrorKind::interrupted, "interrupted: " + what, resume);
}

}  // namespace m2r
