// The lock manager alone (no SQL): compatibility, waits until release, timeouts, the
// wait-for graph's deadlock detection, and the wait state sys.dm_exec_requests reports.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "engine/lock_manager.hpp"

using namespace sandbox::engine;
using namespace std::chrono_literals;

namespace {

const LockResource k_row1{5, "Customers", 1};
const LockResource k_row2{5, "Customers", 2};

std::chrono::steady_clock::time_point deadline() { return std::chrono::steady_clock::now() + 10s; }

bool waits(const LockManager& m, int owner) {
  return m.wait_until([owner](const LockManager& lm) { return lm.waiting(owner).has_value(); }, deadline());
}

}  // namespace

TEST(LockManagerTest, SharedLocksAreCompatibleExclusiveLocksAreNot) {
  // Given an S lock held by one owner, another owner should get S but not X; an owner's own
  // lock never blocks it, and its S lock is upgraded to X when nobody else holds one.
  LockManager m;
  EXPECT_FALSE(m.try_acquire(1, k_row1, LockMode::shared));
  EXPECT_FALSE(m.try_acquire(2, k_row1, LockMode::shared));
  EXPECT_EQ(m.try_acquire(3, k_row1, LockMode::exclusive), 1);
  m.release_all(2);
  EXPECT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  ASSERT_EQ(m.held(1).size(), 1u);
  EXPECT_EQ(m.held(1)[0].second, LockMode::exclusive);
  EXPECT_EQ(m.try_acquire(2, k_row1, LockMode::shared), 1);
  EXPECT_TRUE(m.try_acquire(2, k_row2, LockMode::exclusive) == std::nullopt);
}

TEST(LockManagerTest, AWaiterIsGrantedWhenTheHolderReleases) {
  // Given owner 1 holding X, owner 2's X request should wait (visible as its wait state,
  // blocked by 1) and be granted once 1 releases.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  std::atomic<int> observed{-1};
  auto waiter = std::async(std::launch::async, [&] {
    return m.acquire(2, k_row1, LockMode::exclusive, LockManager::k_wait_forever, true,
                     [&](int b) { if (b) observed = b; });
  });
  ASSERT_TRUE(waits(m, 2));
  auto state = m.waiting(2);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->blocking_owner, 1);
  EXPECT_EQ(state->mode, LockMode::exclusive);
  EXPECT_EQ(state->resource, k_row1);
  m.release_all(1);
  EXPECT_EQ(waiter.get(), LockWait::granted);
  EXPECT_EQ(observed.load(), 1);
  EXPECT_FALSE(m.waiting(2));
  ASSERT_EQ(m.held(2).size(), 1u);
}

TEST(LockManagerTest, AWaitWithoutHoldingLeavesNoLock) {
  // Given a READ COMMITTED reader waiting for a row, it should return when the row is free
  // and hold nothing afterwards.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  auto reader = std::async(std::launch::async, [&] {
    return m.acquire(2, k_row1, LockMode::shared, LockManager::k_wait_forever, false);
  });
  ASSERT_TRUE(waits(m, 2));
  m.release_all(1);
  EXPECT_EQ(reader.get(), LockWait::granted);
  EXPECT_TRUE(m.held(2).empty());
}

TEST(LockManagerTest, ZeroTimeoutDoesNotWaitAndAPositiveOneExpires) {
  // Given a held X lock, a request with timeout 0 should fail at once, and one with a short
  // timeout should fail after waiting, the holder's lock untouched.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  EXPECT_EQ(m.acquire(2, k_row1, LockMode::exclusive, 0ms, true), LockWait::timeout);
  EXPECT_EQ(m.acquire(2, k_row1, LockMode::shared, 30ms, false), LockWait::timeout);
  EXPECT_TRUE(m.held(2).empty());
  EXPECT_EQ(m.held(1).size(), 1u);
  EXPECT_FALSE(m.waiting(2));
}

TEST(LockManagerTest, TheRequestThatClosesACycleIsTheDeadlockVictim) {
  // Given 1 holding row1 and 2 holding row2, 1 waiting for row2: 2's request for row1 closes
  // the cycle and should be refused as a deadlock; once 2 releases, 1 gets row2.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(2, k_row2, LockMode::exclusive));
  auto first = std::async(std::launch::async, [&] {
    return m.acquire(1, k_row2, LockMode::exclusive, LockManager::k_wait_forever, true);
  });
  ASSERT_TRUE(waits(m, 1));
  EXPECT_EQ(m.acquire(2, k_row1, LockMode::exclusive, LockManager::k_wait_forever, true), LockWait::deadlock);
  m.release_all(2);
  EXPECT_EQ(first.get(), LockWait::granted);
}

TEST(LockManagerTest, ACycleThroughThreeOwnersIsFound) {
  // Given 1 -> 2 -> 3 waiting in a chain, 3 asking for 1's row should be the victim.
  LockManager m;
  const LockResource row3{5, "Orders", 3};
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(2, k_row2, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(3, row3, LockMode::exclusive));
  auto a = std::async(std::launch::async, [&] { return m.acquire(1, k_row2, LockMode::exclusive, 10s, true); });
  ASSERT_TRUE(waits(m, 1));
  auto b = std::async(std::launch::async, [&] { return m.acquire(2, row3, LockMode::shared, 10s, false); });
  ASSERT_TRUE(waits(m, 2));
  EXPECT_EQ(m.acquire(3, k_row1, LockMode::shared, 10s, false), LockWait::deadlock);
  m.release_all(3);
  EXPECT_EQ(b.get(), LockWait::granted);
  m.release_all(2);
  EXPECT_EQ(a.get(), LockWait::granted);
}

TEST(LockManagerTest, ACancelledWaitEnds) {
  // Given a waiter whose cancel test turns true, the wait should end as cancelled.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  std::atomic<bool> cancel{false};
  auto waiter = std::async(std::launch::async, [&] {
    return m.acquire(2, k_row1, LockMode::exclusive, LockManager::k_wait_forever, true, {}, [&] { return cancel.load(); });
  });
  ASSERT_TRUE(waits(m, 2));
  cancel = true;
  EXPECT_EQ(waiter.get(), LockWait::cancelled);
  EXPECT_TRUE(m.held(2).empty());
}

TEST(LockManagerTest, ExclusiveLocksOfOthersArePerDatabase) {
  // Given X locks of two owners in two databases, a reader's view should list only the other
  // owner's X locks of its database.
  LockManager m;
  ASSERT_FALSE(m.try_acquire(1, k_row1, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(2, k_row2, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(2, LockResource{6, "Customers", 9}, LockMode::exclusive));
  ASSERT_FALSE(m.try_acquire(3, LockResource{5, "Notes", 4}, LockMode::shared));
  auto x = m.exclusive_by_others(1, 5);
  ASSERT_EQ(x.size(), 1u);
  ASSERT_EQ(x["Customers"].size(), 1u);
  EXPECT_EQ(x["Customers"][2], 2);
}
