#include "demo/sample_database.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace m2r {

namespace {

constexpr std::size_t k_mib = 1u << 20;
constexpr std::size_t k_largest_lob_cap = 4 * k_mib;
// Rows per multi-row INSERT while seeding: one round trip for many rows.
constexpr int k_rows_per_insert = 100;

// Order entry in dbo: an identity key everywhere, foreign keys, a trigger that writes the
// audit table (off on the target during CDC, so audit rows arrive once, from the source's log),
// a composite key (OrderLines). The catalogue in `inventory`: every kind of value DMS and
// validation treat specially (LOBs, xml, money, datetimeoffset, a rowversion the target
// regenerates, a computed column the target recomputes), and a
// heap with a unique index (PriceHistory, append-only, as history tables are).
const char* const k_schema[] = {
    "CREATE SCHEMA inventory",
    "CREATE TABLE dbo.Customers (CustomerId int IDENTITY(1,1) NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL, "
    "Balance decimal(12,2) NOT NULL DEFAULT 0)",
    "CREATE TABLE inventory.Products (ProductId int IDENTITY(1,1) NOT NULL PRIMARY KEY, Sku varchar(20) NOT NULL UNIQUE, "
    "Name nvarchar(200) NOT NULL, Price money NOT NULL, "
    "ListedAt datetimeoffset(7) NOT NULL, Description nvarchar(max) NULL, Photo varbinary(max) NULL, Spec xml NULL, "
    "RowVer rowversion, PriceWithTax AS (Price * 1.2))",
    "CREATE TABLE dbo.Orders (OrderId int IDENTITY(1,1) NOT NULL PRIMARY KEY, CustomerId int NOT NULL "
    "REFERENCES dbo.Customers(CustomerId), Status nvarchar(20) NOT NULL, Total decimal(12,2) NOT NULL, "
    "PlacedAt datetime2(7) NOT NULL DEFAULT SYSUTCDATETIME())",
    "CREATE TABLE dbo.OrderLines (OrderId int NOT NULL REFERENCES dbo.Orders(OrderId), LineNumber smallint NOT NULL, "
    "ProductId int NOT NULL REFERENCES inventory.Products(ProductId), Quantity int NOT NULL, UnitPrice money NOT NULL, "
    "PRIMARY KEY (OrderId, LineNumber))",
    "CREATE TABLE dbo.OrderEvents (EventId bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, OrderId int NOT NULL, "
    "Event nvarchar(20) NOT NULL)",
    "CREATE TABLE inventory.PriceHistory (ProductId int NOT NULL, ChangedAt datetimeoffset(7) NOT NULL, "
    "OldPrice money NOT NULL, NewPrice money NOT NULL)",
    "CREATE UNIQUE INDEX UX_PriceHistory_Product_ChangedAt ON inventory.PriceHistory (ProductId, ChangedAt)",
    "CREATE TRIGGER dbo.trg_Orders_Events ON dbo.Orders AFTER INSERT AS\nBEGIN\n SET NOCOUNT ON;\n"
    " INSERT INTO dbo.OrderEvents (OrderId, Event) SELECT i.OrderId, N'placed' FROM inserted i;\nEND",
    "CREATE VIEW dbo.OpenOrders AS SELECT o.OrderId, c.Name, o.Total FROM dbo.Orders o "
    "JOIN dbo.Customers c ON c.CustomerId = o.CustomerId WHERE o.Status = N'new'",
    "CREATE FUNCTION dbo.OrderTax (@Total decimal(12,2)) RETURNS decimal(12,2) AS BEGIN RETURN @Total * 0.2 END",
    "CREATE PROCEDURE dbo.ShipOldestOrder AS\nBEGIN\n SET NOCOUNT ON;\n"
    " UPDATE dbo.Orders SET Status = N'shipped' WHERE OrderId = (SELECT MIN(OrderId) FROM dbo.Orders WHERE Status = N'new');\nEND",
};

// Product k's price, as money text: 5.99 to 504.99.
std::string product_price(int product) { return fmt::format("{}.99", 5 + (product * 37) % 500); }

// Runs the rows as multi-row INSERTs of `k_rows_per_insert` rows each.
Expected<void> insert_rows(mssql::SqlSession& db, const std::string& head, const std::vector<std::string>& rows) {
  for (std::size_t i = 0; i < rows.size(); i += k_rows_per_insert) {
    std::string sql = head + " VALUES ";
    for (std::size_t r = i; r < std::min(rows.size(), i + k_rows_per_insert); ++r) sql += (r == i ? "" : ", ") + rows[r];
    M2R_TRY(db.execute(sql));
  }
  return {};
}

Expected<void> insert_products(mssql::SqlSession& db, const SampleShape& shape, std::mt19937& random) {
  std::size_t budget = shape.lob_budget_bytes;
  auto take = [&](std::size_t wanted) {
    const std::size_t n = std::min(wanted, budget);
    budget -= n;
    return n;
  };
  for (int p = 1; p <= shape.products; ++p) {
    // Product 1: every LOB NULL; 2: empty values (NULL and empty must stay distinct); 3 and 4:
    // the largest text and the largest binary value; then sizes drawn until the budget is spent.
    std::optional<std::size_t> description_bytes, photo_bytes;
    if (p == 2) {
      description_bytes = 0;
      photo_bytes = 0;
    } else if (p == 3) {
      description_bytes = take(shape.largest_lob_bytes);
      photo_bytes = take(1024);
    } else if (p == 4) {
      description_bytes = take(2048);
      photo_bytes = take(shape.largest_lob_bytes);
    } else if (p > 4) {
      description_bytes = take(sample_lob_size(random, shape.largest_lob_bytes / 4));
      photo_bytes = take(sample_lob_size(random, shape.largest_lob_bytes / 4));
    }
    const auto description = description_bytes ? mssql::SqlParam::nvarchar(sample_text(random, *description_bytes / 2))
                                               : mssql::SqlParam::null(mssql::ParamType::nvarchar);
    const auto photo = photo_bytes ? mssql::SqlParam::varbinary(sample_bytes(random, *photo_bytes))
                                   : mssql::SqlParam::null(mssql::ParamType::varbinary);
    const auto spec = p == 1 ? mssql::SqlParam::null(mssql::ParamType::nvarchar)
                             : mssql::SqlParam::nvarchar(sample_spec_xml(random, p));
    const std::string listed_at =
        fmt::format("2026-{:02}-{:02} {:02}:{:02}:{:02}.{:07} {}{:02}:{:02}", 1 + p % 12, 1 + p % 28, p % 24, p % 60,
                    (p * 7) % 60, (p * 7919) % 10'000'000, p % 2 ? '+' : '-', p % 14, (p % 4) * 15);
    M2R_TRY(db.execute(
        "INSERT INTO inventory.Products (Sku, Name, Price, ListedAt, Description, Photo, Spec) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {mssql::SqlParam::varchar(fmt::format("SKU-{:05}", p)), mssql::SqlParam::nvarchar(fmt::format("Product {}", p)),
         mssql::SqlParam::decimal(product_price(p), 19, 4), mssql::SqlParam::nvarchar(listed_at), description, photo,
         spec}));
  }
  return {};
}

}  // namespace

SampleShape SampleShape::for_size(int size_mib, std::optional<int> customers) {
  SampleShape s;
  s.size_mib = std::max(1, size_mib);
  s.customers = customers.value_or(25 * s.size_mib);
  s.products = std::max(8, 5 * s.size_mib);
  s.lob_budget_bytes = static_cast<std::size_t>(s.size_mib) * k_mib;
  s.largest_lob_bytes = std::min(k_largest_lob_cap, s.lob_budget_bytes * 3 / 8);
  return s;
}

std::string sample_text(std::mt19937& random, std::size_t characters) {
  static const char* const words[] = {"stock", "shelf", "crate", "order", "brass", "amber", "linen", "maple",
                                      "cedar", "delta", "ember", "frost", "gleam", "haven", "ivory", "jolly"};
  std::string out;
  out.reserve(characters);
  while (out.size() < characters) {
    if (!out.empty()) out += random() % 11 == 0 ? ". " : " ";
    out += words[random() % 16];
  }
  out.resize(characters);
  return out;
}

mssql::Bytes sample_bytes(std::mt19937& random, std::size_t bytes) {
  mssql::Bytes out;
  out.data.resize(bytes);
  for (auto& b : out.data) b = static_cast<std::uint8_t>(random() >> 24);
  return out;
}

std::string sample_spec_xml(std::mt19937& random, int product) {
  static const char* const colors[] = {"red", "green", "blue", "black", "white"};
  return fmt::format("<spec product=\"{}\"><weight unit=\"g\">{}</weight><color>{}</color><notes>{}</notes></spec>", product,
                     10 + random() % 5000, colors[random() % 5], sample_text(random, random() % 400));
}

std::size_t sample_lob_size(std::mt19937& random, std::size_t largest) {
  const double u = std::uniform_real_distribution<double>(0, 1)(random);
  const double size = std::exp(u * std::log(static_cast<double>(largest) + 1)) - 1;
  return std::min(largest, static_cast<std::size_t>(size));
}

Expected<void> create_sample_database(mssql::SqlSession& master, const std::string& database, const SampleShape& shape) {
  M2R_TRY(master.execute(fmt::format("CREATE DATABASE [{}]", database)));
  M2R_TRY(master.execute(fmt::format("ALTER DATABASE [{}] SET RECOVERY FULL", database)));
  M2R_TRY(master.execute(fmt::format("USE [{}]", database)));
  for (const char* ddl : k_schema) M2R_TRY(master.execute(ddl));
  std::mt19937 random(20261202);
  M2R_TRY(insert_products(master, shape, random));

  // A fresh database numbers its identities from 1 in insertion order: customer c's orders are
  // 3c-2 .. 3c, which the lines refer to (a wrong number is refused by the foreign key).
  std::vector<std::string> customers, orders, lines;
  for (int c = 1; c <= shape.customers; ++c) {
    customers.push_back(fmt::format("(N'Customer {}', {}.50)", c, c * 10));
    for (int o = 1; o <= 3; ++o) {
      const int order = 3 * (c - 1) + o;
      const int line_count = 1 + (c + o) % 3;
      long long total_cents = 0;
      for (int l = 1; l <= line_count; ++l) {
        const int product = 1 + (order * 7 + l) % shape.products;
        const int quantity = 1 + (c + l) % 4;
        total_cents += quantity * (static_cast<long long>(5 + (product * 37) % 500) * 100 + 99);
        lines.push_back(fmt::format("({}, {}, {}, {}, {})", order, l, product, quantity, product_price(product)));
      }
      orders.push_back(fmt::format("({}, N'shipped', {}.{:02})", c, total_cents / 100, total_cents % 100));
    }
  }
  M2R_TRY(insert_rows(master, "INSERT INTO dbo.Customers (Name, Balance)", customers));
  M2R_TRY(insert_rows(master, "INSERT INTO dbo.Orders (CustomerId, Status, Total)", orders));
  M2R_TRY(insert_rows(master, "INSERT INTO dbo.OrderLines (OrderId, LineNumber, ProductId, Quantity, UnitPrice)", lines));
  M2R_TRY(master.execute("USE [master]"));
  return {};
}

}  // namespace m2r
