#pragma once
// A request to stop, shared by everything a command runs: the CLI's SIGINT/SIGTERM handler
// sets it (through a self-pipe: a signal handler may not lock or allocate, so it only writes a
// byte, and a watcher thread calls request()), long work checks it at safe points, waits wake
// early on it, and work that blocks elsewhere (an HTTP transfer, a SQL statement) registers a
// callback that cancels it. Pure: no signals here, so tests request a stop directly.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace m2r {

class StopSignal {
 public:
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool requested() const { return m_requested.load(std::memory_order_acquire); }
  // Idempotent; wakes every wait_for and runs every registered callback once.
  void request();
  // Sleeps up to `duration`; returns true (early) when a stop is or gets requested.
  bool wait_for(std::chrono::milliseconds duration) const;

  // Runs `on_stop` once when a stop is requested (at once, on this thread, when it already
  // was), until the returned registration is destroyed. Callbacks run on the thread that calls
  // request(), under this object's lock: they must be short (set a flag, cancel a transfer) and
  // must not register or unregister.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept : m_signal(other.m_signal), m_id(other.m_id) { other.m_signal = nullptr; }
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }
    void reset();

   private:
    friend class StopSignal;
    Registration(const StopSignal* signal, std::uint64_t id) : m_signal(signal), m_id(id) {}
    const StopSignal* m_signal = nullptr;
    std::uint64_t m_id = 0;
  };
  [[nodiscard]] Registration on_stop(std::function<void()> callback) const;

 private:
  std::atomic<bool> m_requested{false};
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_cv;
  mutable std::uint64_t m_next_id = 1;
  mutable std::map<std::uint64_t, std::function<void()>> m_callbacks;
};

// Null-safe helpers for code that takes an optional `const StopSignal*`.
inline bool stop_requested(const StopSignal* stop) { return stop != nullptr && stop->requested(); }
// Sleeps `duration` (interruptibly when there is a signal); true when a stop was requested.
bool sleep_or_stop(const StopSignal* stop, std::chrono::milliseconds duration);
inline StopSignal::Registration on_stop(const StopSignal* stop, std::function<void()> callback) {
  return stop ? stop->on_stop(std::move(callback)) : StopSignal::Registration{};
}

// The error a command returns when it stopped because it was asked to: `what` says where it
// stopped and what is left as it was, `resume` the command that continues.
Error interrupted_error(const std::string& what, const std::string& resume);

}  // namespace m2r
