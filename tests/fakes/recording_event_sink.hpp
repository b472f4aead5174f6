#pragma once
// An EventSink for tests: collects what was emitted, from any thread.
#include <mutex>
#include <vector>

#include "core/events.hpp"

namespace m2r {

class RecordingEventSink final : public EventSink {
 public:
  void emit(const Event& event) override {
    std::lock_guard lock(m_mutex);
    m_events.push_back(event);
  }
  std::vector<Event> events() const {
    std::lock_guard lock(m_mutex);
    return m_events;
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<Event> m_events;
};

}  // namespace m2r
