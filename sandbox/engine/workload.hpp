#pragma once
// The rehearsal world's workload generator: creates a sample database (tables with and without
// primary keys, an identity column, a foreign key, a trigger, a view, a procedure, a function)
// through a Session, then drives inserts, updates and deletes at a chosen rate, including long
// transactions that span a backup. `mssql2rds-sandbox workload ...` runs it against a served
// instance over TDS.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/api.hpp"

namespace sandbox {

struct WorkloadOptions {
  std::string database = "m2r_sample";
  std::string user = "sa";
  std::string password;
  double statements_per_second = 20;  // the short-transaction rate
  // A long transaction starts every long_every and stays open long_duration (0 = none).
  std::chrono::milliseconds long_every{10000};
  std::chrono::milliseconds long_duration{5000};
};

struct WorkloadCounters {
  std::atomic<std::int64_t> inserts{0}, updates{0}, deletes{0}, transactions{0}, long_transactions{0}, errors{0};
  // Statements chosen as a deadlock victim (1205) or timed out waiting for a lock (1222) and
  // run again, as an application retries them (not errors).
  std::atomic<std::int64_t> lock_retries{0};
};

// Creates the sample database and its objects (fails with the SQL Server message if it exists).
// Returns an empty string on success, else the first error's text.
std::string create_sample_database(Session& session, const std::string& database);

// Opens one session of the workload (its own connection): in-process on an Instance, or over
// TDS to a running instance (sandbox/workload/remote_session.hpp).
using WorkloadLogin = std::function<LoginResult()>;

class Workload {
 public:
  Workload(Instance& instance, WorkloadOptions options);
  Workload(WorkloadLogin login, WorkloadOptions options);
  ~Workload();  // stops
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  void start();
  void stop();
  const WorkloadCounters& counters() const { return m_counters; }
  std::string last_error() const;

 private:
  void short_loop();
  void long_loop();

  WorkloadLogin m_login;
  WorkloadOptions m_options;
  WorkloadCounters m_counters;
  std::atomic<bool> m_stop{false};
  std::thread m_short, m_long;
  mutable std::mutex m_error_mutex;
  std::string m_last_error;
};

}  // namespace sandbox
