#pragma once
// The demo's application on the sample database (demo/sample_database.hpp): a live workload of
// short transactions through the product's own SQL session (orders placed with their lines,
// shipped and cancelled, balances updated, customers added, product descriptions, photos and
// specifications rewritten with values up to the sample's largest LOB, prices changed with a
// history row), plus one long transaction that the demo holds open across the end of the
// backup (docs/facts.md §2: it must reach the target exactly once). The workload stops when
// the application would: before cutover.
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
#include "demo/sample_database.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

using SessionFactory = std::function<Expected<std::unique_ptr<mssql::SqlSession>>()>;

// The row the long transaction inserts: the demo checks it reached the target exactly once.
inline constexpr const char* k_long_transaction_customer = "Held open across the backup";

struct WorkloadCounts {
  std::int64_t transactions = 0;  // committed short transactions
  std::int64_t orders_placed = 0;
  std::int64_t orders_shipped = 0;
  std::int64_t orders_cancelled = 0;
  std::int64_t customers_added = 0;
  std::int64_t lob_updates = 0;     // Description, Photo or Spec of a product rewritten
  std::int64_t largest_lob_written = 0;  // bytes
  std::int64_t price_changes = 0;   // a price and its history row
  std::int64_t errors = 0;
  std::int64_t lock_retries = 0;  // deadlock victims (1205) and lock timeouts (1222) run again
};

class DemoWorkload {
 public:
  // `connect` opens a session on the demo database; `per_second` short transactions on a
  // database of `shape`.
  DemoWorkload(SessionFactory connect, double per_second, SampleShape shape);
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
  Expected<void> one_transaction(mssql::SqlSession& session, std::uint32_t dice, std::mt19937& random);
  // The size of the next LOB value written: the sample's largest first and every
  // k_largest_lob_every-th time, else drawn as the sample's sizes are.
  std::size_t next_lob_size(std::mt19937& random);
  static constexpr int k_largest_lob_every = 8;

  SessionFactory m_connect;
  std::chrono::microseconds m_interval;
  SampleShape m_shape;
  // Every k_largest_lob_every-th rewrite of a LOB column writes the sample's largest value, so
  // every run carries values of several MiB through CDC, not only through the backup.
  std::atomic<int> m_lob_rewrites{0};
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  WorkloadCounts m_counts;
  std::string m_first_error;
  std::unique_ptr<mssql::SqlSession> m_long;
};

}  // namespace m2r
