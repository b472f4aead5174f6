#include "aws/clock.hpp"

#include <thread>

namespace m2r::aws {

std::chrono::system_clock::time_point SystemClock::now() { return std::chrono::system_clock::now(); }

void SystemClock::sleep_for(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

bool SystemClock::sleep_or_stop(const StopSignal* stop, std::chrono::milliseconds duration) {
  return m2r::sleep_or_stop(stop, duration);
}

}  // namespace m2r::aws
