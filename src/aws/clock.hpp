#pragma once
// Time behind an interface, so tests can advance it (tests/fakes/fake_clock.hpp): credential
// expiry, retry backoff, request signing dates.
#include <chrono>

#include "core/interrupt.hpp"

namespace m2r::aws {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
  // Sleeps `duration`, or less once `stop` (may be null) is requested; true when it was. Every
  // wait that a Ctrl-C must end goes through this, so that a fake clock still advances at once.
  virtual bool sleep_or_stop(const StopSignal* stop, std::chrono::milliseconds duration) {
    if (stop_requested(stop)) return true;
    sleep_for(duration);
    return stop_requested(stop);
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
  bool sleep_or_stop(const StopSignal* stop, std::chrono::milliseconds duration) override;  // wakes at once
};

}  // namespace m2r::aws
