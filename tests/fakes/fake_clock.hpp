#pragma once
// A Clock for tests: time moves only when sleep_for() or advance() is called, and the time
// slept is recorded (total_slept) so that tests assert on backoff without waiting for it.
#include <chrono>
#include <mutex>

#include "aws/clock.hpp"

namespace m2r::aws {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start) : m_now(start) {}
  std::chrono::system_clock::time_point now() override {
    std::lock_guard lock(m_mutex);
    return m_now;
  }
  void sleep_for(std::chrono::milliseconds duration) override {
    std::lock_guard lock(m_mutex);
    m_now += duration;
    m_slept += duration;
  }
  void advance(std::chrono::system_clock::duration duration) {
    std::lock_guard lock(m_mutex);
    m_now += duration;
  }
  std::chrono::milliseconds total_slept() {
    std::lock_guard lock(m_mutex);
    return m_slept;
  }

 private:
  std::mutex m_mutex;
  std::chrono::system_clock::time_point m_now;
  std::chrono::milliseconds m_slept{0};
};

}  // namespace m2r::aws
