#include "demo/demo_workload.hpp"

#include <chrono>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "mssql/error_mapping.hpp"

namespace m2r {

namespace {

constexpr int k_lock_attempts = 5;

bool is_lock_failure(const Error& e) { return mssql::is_deadlock_victim(e) || mssql::is_lock_timeout(e); }

}  // namespace

DemoWorkload::DemoWorkload(SessionFactory connect, double per_second, SampleShape shape)
    : m_connect(std::move(connect)),
      m_interval(static_cast<std::int64_t>(1'000'000 / std::max(per_second, 0.1))),
      m_shape(shape) {}

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
    auto done = one_transaction(*session, dice, random);
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
      done = one_transaction(*session, dice, random);
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

std::size_t DemoWorkload::next_lob_size(std::mt19937& random) {
  if (m_lob_rewrites.fetch_add(1) % k_largest_lob_every == 0) return m_shape.largest_lob_bytes;
  return sample_lob_size(random, m_shape.largest_lob_bytes);
}

// One short transaction, chosen by `dice`. Multi-statement ones run as one batch in an
// explicit transaction, as an application's stored procedure would.
Expected<void> DemoWorkload::one_transaction(mssql::SqlSession& s, std::uint32_t dice, std::mt19937& random) {
  const int customer_pick = static_cast<int>(dice % 1000);
  const std::string pick_customer =
      fmt::format("(SELECT MIN(CustomerId) FROM dbo.Customers WHERE CustomerId >= "
                  "(SELECT MIN(CustomerId) + {} % (MAX(CustomerId) - MIN(CustomerId) + 1) FROM dbo.Customers))",
                  customer_pick);
  const int product = 1 + static_cast<int>((dice >> 16) % static_cast<std::uint32_t>(std::max(1, m_shape.products)));
  WorkloadCounts delta;
  switch ((dice >> 10) % 20) {
    case 0: case 1:
      M2R_TRY(s.execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                        {mssql::SqlParam::nvarchar(fmt::format("New customer {}", dice % 100000))}));
      delta.customers_added = 1;
      break;
    case 2: case 3: case 4: case 5: case 6: case 7: {
      // An order of one or two lines at the products' current prices, its total, the balance.
      const int second = 1 + (product % std::max(1, m_shape.products));
      const int quantity = 1 + static_cast<int>(dice % 5);
      M2R_TRY(s.execute(fmt::format(
          "BEGIN TRANSACTION;\n"
          "DECLARE @c int = {0};\n"
          "DECLARE @total decimal(12,2) = (SELECT SUM(Price) FROM inventory.Products WHERE ProductId IN ({1}, {2})) * {3};\n"
          "INSERT INTO dbo.Orders (CustomerId, Status, Total) VALUES (@c, N'new', @total);\n"
          "DECLARE @o int = (SELECT MAX(OrderId) FROM dbo.Orders WHERE CustomerId = @c);\n"
          "INSERT INTO dbo.OrderLines (OrderId, LineNumber, ProductId, Quantity, UnitPrice) "
          "SELECT @o, 1, ProductId, {3}, Price FROM inventory.Products WHERE ProductId = {1};\n"
          "INSERT INTO dbo.OrderLines (OrderId, LineNumber, ProductId, Quantity, UnitPrice) "
          "SELECT @o, 2, ProductId, {3}, Price FROM inventory.Products WHERE ProductId = {2} AND {2} <> {1};\n"
          "UPDATE dbo.Customers SET Balance = Balance + @total WHERE CustomerId = @c;\n"
          "COMMIT TRANSACTION;",
          pick_customer, product, second, quantity)));
      delta.orders_placed = 1;
      break;
    }
    case 8: case 9: case 10: case 11:
      M2R_TRY(s.execute("EXEC dbo.ShipOldestOrder"));
      delta.orders_shipped = 1;
      break;
    case 12: case 13:
      M2R_TRY(s.execute(
          "BEGIN TRANSACTION;\n"
          "DECLARE @o int = (SELECT MAX(OrderId) FROM dbo.Orders WHERE Status = N'new');\n"
          "DELETE FROM dbo.OrderLines WHERE OrderId = @o;\n"
          "DELETE FROM dbo.Orders WHERE OrderId = @o;\n"
          "COMMIT TRANSACTION;"));
      delta.orders_cancelled = 1;
      break;
    case 14: case 15: {
      // A description rewritten: empty to the sample's largest, mostly small.
      const std::size_t bytes = next_lob_size(random) & ~std::size_t{1};
      M2R_TRY(s.execute("UPDATE inventory.Products SET Description = ? WHERE ProductId = ?",
                        {mssql::SqlParam::nvarchar(sample_text(random, bytes / 2)), mssql::SqlParam::int32(product)}));
      delta.lob_updates = 1;
      delta.largest_lob_written = static_cast<std::int64_t>(bytes);
      break;
    }
    case 16: {
      const std::size_t bytes = next_lob_size(random);
      M2R_TRY(s.execute("UPDATE inventory.Products SET Photo = ? WHERE ProductId = ?",
                        {mssql::SqlParam::varbinary(sample_bytes(random, bytes)), mssql::SqlParam::int32(product)}));
      delta.lob_updates = 1;
      delta.largest_lob_written = static_cast<std::int64_t>(bytes);
      break;
    }
    case 17:
      M2R_TRY(s.execute("UPDATE inventory.Products SET Spec = ? WHERE ProductId = ?",
                        {mssql::SqlParam::nvarchar(sample_spec_xml(random, product)), mssql::SqlParam::int32(product)}));
      delta.lob_updates = 1;
      break;
    default: {
      // A price change and its history row, at a time of the application's clock with its
      // offset (datetimeoffset); the unique index holds one change per product and instant.
      const auto now = std::chrono::system_clock::now();
      const auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() / 100;
      const std::time_t seconds = static_cast<std::time_t>(ticks / 10'000'000);
      std::tm tm{};
      gmtime_r(&seconds, &tm);
      const std::string changed_at = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:07} +00:00", tm.tm_year + 1900,
                                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                                 ticks % 10'000'000);
      const std::string price = fmt::format("{}.{:02}", 5 + dice % 500, dice % 100);
      M2R_TRY(s.execute(fmt::format(
          "BEGIN TRANSACTION;\n"
          "INSERT INTO inventory.PriceHistory (ProductId, ChangedAt, OldPrice, NewPrice) "
          "SELECT ProductId, '{0}', Price, {1} FROM inventory.Products WHERE ProductId = {2};\n"
          "UPDATE inventory.Products SET Price = {1} WHERE ProductId = {2};\n"
          "COMMIT TRANSACTION;",
          changed_at, price, product)));
      delta.price_changes = 1;
      break;
    }
  }
  std::lock_guard lock(m_mutex);
  ++m_counts.transactions;
  m_counts.customers_added += delta.customers_added;
  m_counts.orders_placed += delta.orders_placed;
  m_counts.orders_shipped += delta.orders_shipped;
  m_counts.orders_cancelled += delta.orders_cancelled;
  m_counts.lob_updates += delta.lob_updates;
  m_counts.price_changes += delta.price_changes;
  m_counts.largest_lob_written = std::max(m_counts.largest_lob_written, delta.largest_lob_written);
  return {};
}

}  // namespace m2r
