#pragma once
// The demo's application: a small order-entry schema on the source (tables, a foreign key, a
// trigger, a view, a function, a procedure) and a live workload of
// short transactions (orders placed, shipped and cancelled, balances updated, customers
// added) through the product's own SQL session, plus one long transaction that the demo
// holds open across the end of the backup (docs/facts.md §2: it must reach the target exactly
// once). The workload stops when the application would: before cutover.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

using SessionFactory = std::function<Expected<std::unique_ptr<mssql::SqlSession>>()>;

// Creates `database` (recovery FULL) with the demo schema and `customers` customers, each
// with a few orders. `master` is a session on the master database.
Expected<void> create_demo_database(mssql::SqlSession& master, const std::string& database, int customers);

// The row the long transaction inserts: the demo checks it reached the target exactly once.
inline constexpr const char* k_long_transaction_customer = "Held open across the backup";

struct WorkloadCounts {
  std::int64_t transactions = 0;  // committed short transactions
  std::int64_t orders_placed = 0;
  std::int64_t orders_shipped = 0;
  std::int64_t orders_cancelled = 0;
  std::int64_t customers_added = 0;
  std::int64_t errors = 0;
  std::int64_t lock_retries = 0;  // deadlock victims (1205) and lock timeouts (1222) run again
};

class DemoWorkload {
 public:
  // `connect` opens a session on the demo database; `per_second` short transactions.
  DemoWorkload(SessionFactory connect, double per_second);
  ~DemoWorkload();
  DemoWorkload(const DemoWorkload&) = delete;
  DemoWorkload& operator=(const DemoWorkload&) = delete;

  Expected<void> start();
  void stop();  // waits for the transaction in flight; no transaction is left open

  // BEGIN TRANSACTION and one insert on a session of its own, left open until commit_long().
  Expected<void> begin_long();
  Expected<void> commit_long();

  WorkloadCounts counts() const;
  std::string first_error() const;

 private:
  void loop(std::unique_ptr<mssql::SqlSession> session);
  Expected<void> one_transaction(mssql::SqlSession& session, std::uint32_t dice);

  SessionFactory m_connect;
  std::chrono::microseconds m_interval;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  WorkloadCounts m_counts;
  std::string m_first_error;
  std::unique_ptr<mssql::SqlSession> m_long;
};

}  // namespace m2r
