#pragma once
// Time behind an interface, so tests can advance it: credential expiry, retry backoff,
// request signing dates.
#include <chrono>
#include <mutex>

namespace m2r::aws {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

// A clock for tests: time moves only when sleep_for() or advance() is called.
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
