#pragma once
// Waiting on state with a deadline, instead of a fixed sleep: a test that waits for what it
// needs to see is as fast as the code under test allows, and fails (rather than hangs or
// flakes) when the state never comes.
//
//   ASSERT_TRUE(m2r::test::wait_until([&] { return store.parts_uploaded().size() >= 2; }));
#include <chrono>
#include <thread>

namespace m2r::test {

template <class Predicate>
bool wait_until(Predicate&& ready, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace m2r::test
