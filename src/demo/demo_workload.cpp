#include "demo/demo_workload.hpp"

#include <random>

#include <fmt/format.h>

namespace m2r {

namespace {

// Order entry: an identity key everywhere, a foreign key, a trigger that writes the audit
// table (off on the target during CDC, so audit rows arrive once, from the source's log).
const char* const k_schema[] = {
    "CREATE TABLE dbo.Customers (CustomerId int IDENTITY(1,1) NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL, "
    "Balance decimal(12,2) NOT NULL DEFAULT 0)",
    "CREATE TABLE dbo.Orders (OrderId int IDENTITY(1,1) NOT NULL PRIMARY KEY, CustomerId int NOT NULL "
    "REFERENCES dbo.Customers(CustomerId), Status nvarchar(20) NOT NULL, Total decimal(12,2) NOT NULL, "
    "PlacedAt datetime2(7) NOT NULL DEFAULT SYSUTCDATETIME())",
    "CREATE TABLE dbo.OrderEvents (EventId bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, OrderId int NOT NULL, "
    "Event nvarchar(20) NOT NULL)",
    "CREATE TRIGGER dbo.trg_Orders_Events ON dbo.Orders AFTER INSERT AS\nBEGIN\n SET NOCOUNT ON;\n"
    " INSERT INTO dbo.OrderEvents (OrderId, Event) SELECT i.OrderId, N'placed' FROM inserted i;\nEND",
    "CREATE VIEW dbo.OpenOrders AS SELECT o.OrderId, c.Name, o.Total FROM dbo.Orders o "
    "JOIN dbo.Customers c ON c.CustomerId = o.CustomerId WHERE o.Status = N'new'",
    "CREATE FUNCTION dbo.OrderTax (@Total decimal(12,2)) RETURNS decimal(12,2) AS BEGIN RETURN @Total * 0.2 END",
    "CREATE PROCEDURE dbo.ShipOldestOrder AS\nBEGIN\n SET NOCOUNT ON;\n"
    " UPDATE dbo.Orders SET Status = N'shipped' WHERE OrderId = (SELECT MIN(OrderId) FROM dbo.Orders WHERE Status = N'new');\nEND",
};

constexpr int k_lock_attempts = 5;

bool is_lock_failure(const Error& e) {
  return e.message.find("SQL Server error 1205 ") != std::string::npos ||
         e.message.find("SQL Server error 1222 ") != std::string::npos;
}

}  // namespace

Expected<void> create_demo_database(mssql::SqlSession& master, const std::string& database, int customers) {
  M2R_TRY(master.execute(fmt::format("CREATE DATABASE [{}]", database)));
  M2R_TRY(master.execute(fmt::format("ALTER DATABASE [{}] SET RECOVERY FULL", database)));
  M2R_TRY(master.execute(fmt::format("USE [{}]", database)));
  for (const char* ddl : k_schema) M2R_TRY(master.execute(ddl));
  for (int c = 1; c <= customers; ++c) {
    M2R_TRY(master.execute("INSERT INTO dbo.Customers (Name, Balance) VALUES (?, ?)",
                           {mssql::SqlParam::nvarchar(fmt::format("Customer {}", c)),
                            mssql::SqlParam::decimal(fmt::format("{}.50", c * 10), 12, 2)}));
    for (int o = 1; o <= 3; ++o) {
      M2R_TRY(master.execute("INSERT INTO dbo.Orders (CustomerId, Status, Total) VALUES (?, N'shipped', ?)",
                             {mssql::SqlParam::int32(c), mssql::SqlParam::decimal(fmt::format("{}.25", o * 7), 12, 2)}));
    }
  }
  M2R_TRY(master.execute("USE [master]"));
  return {};
}

DemoWorkload::DemoWorkload(SessionFactory connect, double per_second)
    : m_connect(std::move(connect)),
      m_interval(static_cast<std::int64_t>(1'000'000 / std::max(per_second, 0.1))) {}

DemoWorkload::~DemoWorkload() {
  stop();
  if (m_long) (void)m_long->execute("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION");
}

Expected<void> DemoWorkload::start() {
  auto session = M2R_TRY(m_connect());
  m_stop = false;
  m_thread = std::thread([this, s = std::move(session)]() mutable { loop(std::move(s)); });
  return {};
}

void DemoWorkload::stop() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

Expected<void> DemoWorkload::begin_long() {
  m_long = M2R_TRY(m_connect());
  M2R_TRY(m_long->execute("BEGIN TRANSACTION"));
  M2R_TRY(m_long->execute("INSERT INTO dbo.Customers (Name, Balance) VALUES (?, 0)",
                          {mssql::SqlParam::nvarchar(k_long_transaction_customer)}));
  return {};
}

Expected<void> DemoWorkload::commit_long() {
  if (!m_long) return fail(ErrorKind::fatal, "no long transaction is open");
  M2R_TRY(m_long->execute("COMMIT TRANSACTION"));
  m_long.reset();
  return {};
}

WorkloadCounts DemoWorkload::counts() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
}

std::string DemoWorkload::first_error() const {
  std::lock_guard lock(m_mutex);
  return m_first_error;
}

void DemoWorkload::loop(std::unique_ptr<mssql::SqlSession> session) {
  std::mt19937 random(std::random_device{}());
  auto next = std::chrono::steady_clock::now();
  while (!m_stop) {
    const std::uint32_t dice = random();
    auto done = one_transaction(*session, dice);
    // The long transaction's rows block the transactions that touch them until it commits
    // (SQL Server's locks; nothing here times out). A deadlock victim (1205: its transaction
    // was rolled back) or a lock timeout (1222) is run again, as an application would.
    for (int attempt = 1; !done && attempt < k_lock_attempts && is_lock_failure(done.error()); ++attempt) {
      {
        std::lock_guard lock(m_mutex);
        ++m_counts.lock_retries;
      }
      if (auto open = session->query("SELECT @@TRANCOUNT AS n")) {
        auto n = open->first().value(0, "n");
        if (n && n->as_int64().value_or(0) > 0) (void)session->execute("ROLLBACK TRANSACTION");
      }
      done = one_transaction(*session, dice);
    }
    if (!done) {
      std::lock_guard lock(m_mutex);
      ++m_counts.errors;
      if (m_first_error.empty()) m_first_error = done.error().message;
    }
    next += m_interval;
    std::this_thread::sleep_until(next);
  }
}

// One short transaction, chosen by `dice`. Multi-statement ones run as one batch in an
// explicit transaction, as an application's stored procedure would.
Expected<void> DemoWorkload::one_transaction(mssql::SqlSession& s, std::uint32_t dice) {
  const int customer_pick = static_cast<int>(dice % 1000);
  const std::string pick_customer =
      fmt::format("(SELECT MIN(CustomerId) FROM dbo.Customers WHERE CustomerId >= "
                  "(SELECT MIN(CustomerId) + {} % (MAX(CustomerId) - MIN(CustomerId) + 1) FROM dbo.Customers))",
                  customer_pick);
  WorkloadCounts delta;
  switch ((dice >> 10) % 10) {
    case 0:
      M2R_TRY(s.execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                        {mssql::SqlParam::nvarchar(fmt::format("New customer {}", dice % 100000))}));
      delta.customers_added = 1;
      break;
    case 1: case 2: case 3: case 4: {
      const std::string total = fmt::format("{}.{:02}", 5 + dice % 200, dice % 100);
      M2R_TRY(s.execute(fmt::format("BEGIN TRANSACTION;\n"
                                    "DECLARE @c int = {0};\n"
                                    "INSERT INTO dbo.Orders (CustomerId, Status, Total) VALUES (@c, N'new', {1});\n"
                                    "UPDATE dbo.Customers SET Balance = Balance + {1} WHERE CustomerId = @c;\n"
                                    "COMMIT TRANSACTION;",
                                    pick_customer, total)));
      delta.orders_placed = 1;
      break;
    }
    case 5: case 6: case 7:
      M2R_TRY(s.execute("EXEC dbo.ShipOldestOrder"));
      delta.orders_shipped = 1;
      break;
    default:
      M2R_TRY(s.execute("DELETE FROM dbo.Orders WHERE OrderId = (SELECT MAX(OrderId) FROM dbo.Orders WHERE Status = N'new')"));
      delta.orders_cancelled = 1;
      break;
  }
  std::lock_guard lock(m_mutex);
  ++m_counts.transactions;
  m_counts.customers_added += delta.customers_added;
  m_counts.orders_placed += delta.orders_placed;
  m_counts.orders_shipped += delta.orders_shipped;
  m_counts.orders_cancelled += delta.orders_cancelled;
  return {};
}

}  // namespace m2r
