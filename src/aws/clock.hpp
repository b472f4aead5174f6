#pragma once
// Time behind an interface, so tests can advance it (tests/fakes/fake_clock.hpp): credential
// expiry, retry backoff, request signing dates.
#include <chrono>

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

}  // namespace m2r::aws
