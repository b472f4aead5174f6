#include "core/interrupt.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

using namespace m2r;
using namespace std::chrono_literals;

TEST(StopSignalTest, StartsUnrequestedAndStaysRequested) {
  // Given a new signal, nothing should be requested until request(), and then for good.
  StopSignal stop;
  EXPECT_FALSE(stop.requested());
  stop.request();
  stop.request();
  EXPECT_TRUE(stop.requested());
  EXPECT_TRUE(stop_requested(&stop));
  EXPECT_FALSE(stop_requested(nullptr));
}

TEST(StopSignalTest, WaitReturnsFalseWhenNothingIsRequested) {
  // Given no request, a wait should run its whole duration and say it was not stopped.
  StopSignal stop;
  EXPECT_FALSE(stop.wait_for(1ms));
  EXPECT_FALSE(sleep_or_stop(nullptr, 1ms));
}

TEST(StopSignalTest, RequestWakesAWaiterEarly) {
  // Given a thread waiting an hour, a request from another thread should wake it with "stopped".
  StopSignal stop;
  std::atomic<int> woke{-1};
  std::thread waiter([&] { woke = stop.wait_for(std::chrono::hours(1)) ? 1 : 0; });
  stop.request();
  waiter.join();  // would hang for an hour if the request did not wake it
  EXPECT_EQ(woke.load(), 1);
  EXPECT_TRUE(sleep_or_stop(&stop, std::chrono::hours(1)));
}

TEST(StopSignalTest, CallbacksRunOnceAndNotAfterTheirRegistrationEnds) {
  // Given two callbacks, one unregistered, a request should run the registered one exactly once.
  StopSignal stop;
  int kept = 0;
  int dropped = 0;
  auto keep = stop.on_stop([&] { ++kept; });
  {
    auto drop = stop.on_stop([&] { ++dropped; });
  }
  stop.request();
  stop.request();
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(dropped, 0);
}

TEST(StopSignalTest, ACallbackRegisteredAfterTheRequestRunsAtOnce) {
  // Given a stop already requested, registering should cancel the new work straight away.
  StopSignal stop;
  stop.request();
  int calls = 0;
  auto reg = stop.on_stop([&] { ++calls; });
  EXPECT_EQ(calls, 1);
  auto none = on_stop(nullptr, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(StopSignalTest, AMovedRegistrationStillUnregisters) {
  // Given a registration moved into another, only the new owner should keep the callback alive.
  StopSignal stop;
  int calls = 0;
  StopSignal::Registration outer;
  {
    auto inner = stop.on_stop([&] { ++calls; });
    outer = std::move(inner);
  }
  outer.reset();
  stop.request();
  EXPECT_EQ(calls, 0);
}

TEST(StopSignalTest, InterruptedErrorNamesWhereAndHowToContinue) {
  const Error e = interrupted_error("the upload stopped after 3 of 4 parts", "`mssql2rds run -c x.toml` continues");
  EXPECT_EQ(e.kind, ErrorKind::interrupted);
  EXPECT_EQ(e.message, "interrupted: the upload stopped after 3 of 4 parts");
  EXPECT_EQ(e.hint, "`mssql2rds run -c x.toml` continues");
}
