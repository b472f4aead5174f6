// The sample database's shape and seed (src/demo/sample_database): what the demo, the
// end-to-end tests and the benchmarks rely on — LOB values from NULL and empty up to the
// largest, within the size asked for, the same rows every time.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "demo/sample_database.hpp"
#include "fakes/fake_sql_session.hpp"

namespace m2r {
namespace {

constexpr std::size_t k_mib = 1u << 20;

TEST(SampleShapeTest, TheDefaultHoldsLobValuesOfSeveralMiBAndScalesInProportion) {
  // Given the default size and ten times it, the shape should grow customers, products and LOB
  // bytes tenfold, with the largest LOB value 3 MiB at the default and capped at 4 MiB.
  const auto small = SampleShape::for_size(8);
  const auto big = SampleShape::for_size(80);
  EXPECT_EQ(small.largest_lob_bytes, 3 * k_mib);
  EXPECT_EQ(big.largest_lob_bytes, 4 * k_mib);
  EXPECT_EQ(big.customers, 10 * small.customers);
  EXPECT_EQ(big.products, 10 * small.products);
  EXPECT_EQ(big.lob_budget_bytes, 10 * small.lob_budget_bytes);
  EXPECT_EQ(SampleShape::for_size(8, 30).customers, 30);
  EXPECT_EQ(SampleShape::for_size(0).size_mib, 1) << "a size below 1 MiB is 1 MiB";
}

struct Seed {
  std::vector<mssql::Statement> statements;
  std::vector<std::vector<mssql::SqlParam>> products;  // the product INSERTs' parameters, in order
};

Seed seed(const SampleShape& shape) {
  mssql::FakeSqlSession db;
  db.on_count("", 1);
  auto created = create_sample_database(db, "sales", shape);
  EXPECT_TRUE(created) << created.error().message;
  Seed s;
  s.statements = db.executed();
  for (const auto& st : s.statements)
    if (st.sql.find("INSERT INTO inventory.Products") != std::string::npos) s.products.push_back(st.params);
  return s;
}

std::size_t lob_bytes(const mssql::SqlParam& p) {
  if (p.value.is_null()) return 0;
  if (p.type == mssql::ParamType::varbinary) return p.value.as_bytes()->data.size();
  return 2 * p.value.as_string()->size();  // nvarchar: two bytes a character (ASCII text)
}

TEST(SampleDatabaseTest, ProductsRangeFromNullAndEmptyToTheLargestWithinTheBudget) {
  // Given the default shape, the seed should insert one row per product whose Description
  // (param 4) and Photo (param 5) are NULL for the first, empty for the second, the largest
  // text and binary values for the third and fourth, and no more LOB bytes than the budget.
  const auto shape = SampleShape::for_size(8);
  const auto s = seed(shape);
  ASSERT_EQ(s.products.size(), static_cast<std::size_t>(shape.products));
  EXPECT_TRUE(s.products[0][4].value.is_null());
  EXPECT_TRUE(s.products[0][5].value.is_null());
  EXPECT_TRUE(s.products[0][6].value.is_null()) << "product 1's xml is NULL";
  EXPECT_EQ(*s.products[1][4].value.as_string(), "");
  EXPECT_TRUE(s.products[1][5].value.as_bytes()->data.empty());
  EXPECT_EQ(lob_bytes(s.products[2][4]), shape.largest_lob_bytes);
  EXPECT_EQ(lob_bytes(s.products[3][5]), shape.largest_lob_bytes);
  std::size_t total = 0, largest = 0;
  for (const auto& p : s.products) {
    total += lob_bytes(p[4]) + lob_bytes(p[5]);
    largest = std::max({largest, lob_bytes(p[4]), lob_bytes(p[5])});
    if (!p[6].value.is_null()) {
      EXPECT_EQ(p[6].value.as_string()->rfind("<spec product=", 0), 0u);
    }
  }
  EXPECT_LE(total, shape.lob_budget_bytes);
  EXPECT_GT(total, shape.lob_budget_bytes * 3 / 4) << "the budget should be mostly spent";
  EXPECT_EQ(largest, shape.largest_lob_bytes);
}

TEST(SampleDatabaseTest, TheSchemaHasASecondSchemaACompositeKeyAHeapAndEveryHardColumnType) {
  // Given the seed's statements, the DDL should create the inventory schema, a composite
  // primary key, a heap with a unique index, and the money, datetimeoffset, xml, rowversion and computed columns; the
  // customers, orders and lines in multi-row INSERTs.
  const auto shape = SampleShape::for_size(1, 250);
  const auto s = seed(shape);
  std::string all;
  for (const auto& st : s.statements) all += st.sql + "\n";
  for (const char* wanted :
       {"CREATE SCHEMA inventory", "PRIMARY KEY (OrderId, LineNumber)", "CREATE TABLE inventory.PriceHistory (ProductId int NOT NULL",
        "CREATE UNIQUE INDEX UX_PriceHistory_Product_ChangedAt", "Price money", "datetimeoffset(7)", "Description nvarchar(max)", "Photo varbinary(max)", "Spec xml NULL", "RowVer rowversion",
        "PriceWithTax AS (Price * 1.2)", "ALTER DATABASE [sales] SET RECOVERY FULL"}) {
    EXPECT_NE(all.find(wanted), std::string::npos) << wanted;
  }
  const auto count = [&](const std::string& head) {
    return std::count_if(s.statements.begin(), s.statements.end(),
                         [&](const auto& st) { return st.sql.rfind(head, 0) == 0; });
  };
  EXPECT_EQ(count("INSERT INTO dbo.Customers"), 3) << "250 customers, 100 a statement";
  EXPECT_EQ(count("INSERT INTO dbo.Orders"), 8) << "750 orders, 100 a statement";
  EXPECT_GE(count("INSERT INTO dbo.OrderLines"), 8);
}

TEST(SampleDatabaseTest, TheSameShapeGivesTheSameRows) {
  const auto shape = SampleShape::for_size(2);
  const auto a = seed(shape);
  const auto b = seed(shape);
  ASSERT_EQ(a.statements.size(), b.statements.size());
  for (std::size_t i = 0; i < a.statements.size(); ++i) {
    EXPECT_EQ(a.statements[i].sql, b.statements[i].sql);
    ASSERT_EQ(a.statements[i].params.size(), b.statements[i].params.size());
    for (std::size_t p = 0; p < a.statements[i].params.size(); ++p)
      EXPECT_EQ(a.statements[i].params[p].value, b.statements[i].params[p].value) << i << "/" << p;
  }
}

TEST(SampleDatabaseTest, LobSizesAreLogUniformWithinTheLargest) {
  // Mostly small values, now and then a large one, never above the largest.
  std::mt19937 random(7);
  int small = 0, large = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto n = sample_lob_size(random, 4 * k_mib);
    ASSERT_LE(n, 4 * k_mib);
    small += n < 64 * 1024;
    large += n >= k_mib;
  }
  EXPECT_GT(small, 1000);
  EXPECT_GT(large, 100);
}

}  // namespace
}  // namespace m2r
