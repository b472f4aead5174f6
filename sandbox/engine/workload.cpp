#include "engine/workload.hpp"

#include <mutex>
#include <optional>
#include <random>

namespace sandbox {

namespace {

// Records the first error of each statement; ignores results.
class CountingSink : public ResultSink {
 public:
  std::string error;
  int error_number = 0;
  std::optional<std::int64_t> last_count;
  void columns(const std::vector<Column>&) override {}
  void row(const std::vector<Value>&) override {}
  void done(DoneKind, std::optional<std::int64_t> n, bool) override { last_count = n; }
  void message(const Message& m) override {
    if (m.is_error() && error.empty()) {
      error = "Msg " + std::to_string(m.number) + ": " + m.text;
      error_number = m.number;
    }
  }
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  bool cancelled() override { return false; }
};

std::string run(Session& s, const std::string& sql) {
  CountingSink sink;
  s.execute_batch(sql, sink);
  return sink.error;
}

// As an application runs a transaction: a deadlock victim (1205, its transaction rolled back)
// or a lock timeout (1222) runs the batch again, a few times, counted in `retries`.
constexpr int k_lock_attempts = 5;
std::string run_retrying(Session& s, const std::string& sql, std::atomic<std::int64_t>& retries) {
  for (int attempt = 1;; ++attempt) {
    CountingSink sink;
    s.execute_batch(sql, sink);
    // The short transactions are single autocommit statements: after a 1222 nothing is open.
    if ((sink.error_number != 1205 && sink.error_number != 1222) || attempt == k_lock_attempts) return sink.error;
    ++retries;
  }
}

const char* const k_schema[] = {
    "CREATE TABLE dbo.Customers (CustomerId int IDENTITY(1,1) NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL,"
    " Email varchar(200) NULL, CreatedAt datetime2(7) NOT NULL DEFAULT SYSUTCDATETIME(), Balance decimal(12,2) NOT NULL DEFAULT 0)",
    "CREATE TABLE dbo.Orders (OrderId int IDENTITY(1,1) NOT NULL PRIMARY KEY, CustomerId int NOT NULL"
    " REFERENCES dbo.Customers(CustomerId), Status nvarchar(20) NOT NULL, Total decimal(12,2) NOT NULL, OrderedAt datetime NOT NULL)",
    "CREATE TABLE dbo.OrderAudit (OrderId int NOT NULL, Action char(1) NOT NULL, At datetime NOT NULL)",  // no primary key
    "CREATE TABLE dbo.Notes (Body nvarchar(400) NULL, Score float NULL)",                                // no primary key
    "CREATE VIEW dbo.CustomerTotals AS SELECT c.CustomerId, c.Name, COUNT(o.OrderId) AS Orders, SUM(o.Total) AS Total"
    " FROM dbo.Customers c LEFT JOIN dbo.Orders o ON o.CustomerId = c.CustomerId GROUP BY c.CustomerId, c.Name",
    "CREATE PROCEDURE dbo.PlaceOrder @CustomerId int, @Total decimal(12,2) AS\nBEGIN\n SET NOCOUNT ON;\n"
    " INSERT INTO dbo.Orders (CustomerId, Status, Total, OrderedAt) VALUES (@CustomerId, N'new', @Total, GETDATE());\n"
    " UPDATE dbo.Customers SET Balance = Balance + @Total WHERE CustomerId = @CustomerId;\nEND",
    "CREATE FUNCTION dbo.OrderTax (@Total decimal(12,2)) RETURNS decimal(12,2) AS BEGIN RETURN @Total * 0.2 END",
    "CREATE TRIGGER dbo.trg_Orders_Audit ON dbo.Orders AFTER INSERT AS\nBEGIN\n SET NOCOUNT ON;\n"
    " INSERT INTO dbo.OrderAudit (OrderId, Action, At) SELECT i.OrderId, 'I', GETDATE() FROM inserted i;\nEND",
};

}  // namespace

std::string create_sample_database(Session& s, const std::string& database) {
  if (auto e = run(s, "CREATE DATABASE [" + database + "]"); !e.empty()) return e;
  if (auto e = run(s, "USE [" + database + "]"); !e.empty()) return e;
  for (const char* ddl : k_schema) {
    if (auto e = run(s, ddl); !e.empty()) return e;
  }
  for (int i = 1; i <= 20; ++i) {
    const std::string n = std::to_string(i);
    if (auto e = run(s, "INSERT INTO dbo.Customers (Name, Email) VALUES (N'Customer " + n + "', 'c" + n + "@example.com')"); !e.empty()) return e;
  }
  return {};
}

Workload::Workload(Instance& instance, WorkloadOptions options)
    : m_login([&instance, user = options.user, password = options.password, database = options.database] {
        return instance.login(user, password, database);
      }),
      m_options(std::move(options)) {}

Workload::Workload(WorkloadLogin login, WorkloadOptions options)
    : m_login(std::move(login)), m_options(std::move(options)) {}

Workload::~Workload() { stop(); }

void Workload::start() {
  m_stop = false;
  m_short = std::thread([this] { short_loop(); });
  if (m_options.long_duration.count() > 0) m_long = std::thread([this] { long_loop(); });
}

void Workload::stop() {
  m_stop = true;
  if (m_short.joinable()) m_short.join();
  if (m_long.joinable()) m_long.join();
}

std::string Workload::last_error() const {
  std::lock_guard<std::mutex> lock(m_error_mutex);
  return m_last_error;
}

void Workload::short_loop() {
  auto login = m_login();
  if (!login.session) {
    std::lock_guard<std::mutex> lock(m_error_mutex);
    m_last_error = login.failure.text;
    ++m_counters.errors;
    return;
  }
  Session& s = *login.session;
  std::mt19937 rng(12345);
  const auto period = std::chrono::duration<double>(1.0 / std::max(0.1, m_options.statements_per_second));
  auto next = std::chrono::steady_clock::now();
  while (!m_stop) {
    const int pick = static_cast<int>(rng() % 100);
    const int customer = 1 + static_cast<int>(rng() % 20);
    std::string sql;
    std::atomic<std::int64_t>* counter = &m_counters.inserts;
    if (pick < 40) {
      sql = "EXEC dbo.PlaceOrder @CustomerId = " + std::to_string(customer) + ", @Total = " + std::to_string(1 + rng() % 500) + ".25";
    } else if (pick < 55) {
      sql = "INSERT INTO dbo.Notes (Body, Score) VALUES (N'note " + std::to_string(rng() % 100000) + "', " + std::to_string(rng() % 100) + ".5)";
    } else if (pick < 80) {
      sql = "UPDATE TOP (1) dbo.Orders SET Status = N'shipped' WHERE Status = N'new'";
      counter = &m_counters.updates;
    } else if (pick < 90) {
      sql = "UPDATE dbo.Customers SET Email = 'c" + std::to_string(customer) + "+" + std::to_string(rng() % 1000) +
            "@example.com' WHERE CustomerId = " + std::to_string(customer);
      counter = &m_counters.updates;
    } else {
      sql = "DELETE TOP (1) FROM dbo.Notes WHERE Score < 50";
      counter = &m_counters.deletes;
    }
    if (auto e = run_retrying(s, sql, m_counters.lock_retries); !e.empty()) {
      ++m_counters.errors;
      std::lock_guard<std::mutex> lock(m_error_mutex);
      m_last_error = e;
    } else {
      ++*counter;
      ++m_counters.transactions;
    }
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    while (!m_stop && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Workload::long_loop() {
  auto login = m_login();
  if (!login.session) return;
  Session& s = *login.session;
  auto wait = [&](std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!m_stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  int n = 0;
  while (!m_stop) {
    wait(m_options.long_every);
    if (m_stop) break;
    ++n;
    std::string e = run(s, "BEGIN TRANSACTION long_" + std::to_string(n) + "; INSERT INTO dbo.Notes (Body, Score) VALUES (N'long " +
                               std::to_string(n) + "', 99.5);");
    wait(m_options.long_duration);  // stays open across whatever happens meanwhile (a backup)
    int number = 0;
    if (e.empty()) {
      CountingSink sink;
      s.execute_batch("UPDATE dbo.Customers SET Balance = Balance + 1 WHERE CustomerId = 1; COMMIT TRANSACTION;", sink);
      e = sink.error;
      number = sink.error_number;
    }
    if (number == 1205) {
      ++m_counters.lock_retries;  // the victim's transaction is rolled back: the next one starts afresh
    } else if (!e.empty()) {
      ++m_counters.errors;
      std::lock_guard<std::mutex> lock(m_error_mutex);
      m_last_error = e;
      run(s, "ROLLBACK TRANSACTION");
    } else {
      ++m_counters.long_transactions;
      ++m_counters.transactions;
    }
  }
}

}  // namespace sandbox
