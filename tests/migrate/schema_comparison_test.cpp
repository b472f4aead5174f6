#include "migrate/schema_comparison.hpp"

#include <gtest/gtest.h>

#include "fakes/fake_sql_session.hpp"

using namespace m2r;
using mssql::FakeSqlSession;
using mssql::SqlRow;

namespace {

void script(FakeSqlSession& db, std::vector<SqlRow> objects, std::vector<SqlRow> disabled_triggers,
            std::vector<SqlRow> untrusted_keys) {
  db.on_rows("FROM sys.objects", {"name", "type"}, std::move(objects));
  db.on_rows("FROM sys.triggers", {"name"}, std::move(disabled_triggers));
  db.on_rows("FROM sys.foreign_keys", {"name"}, std::move(untrusted_keys));
}

std::vector<SqlRow> sales_objects() {
  return {{"dbo.Orders", "U"}, {"dbo.Customers", "U"}, {"dbo.OpenOrders", "V"}, {"dbo.ShipOldestOrder", "P"},
          {"dbo.OrderTax", "FN"}, {"dbo.trg_Orders_Events", "TR"}, {"dbo.FK__Orders__Customers", "F"}};
}

}  // namespace

TEST(SchemaComparisonTest, IdenticalSchemasAreOk) {
  // Given the same objects on both sides and nothing disabled, the comparison should be ok and
  // say how many objects it compared.
  FakeSqlSession source, target;
  script(source, sales_objects(), {}, {});
  script(target, sales_objects(), {}, {});
  auto c = compare_schemas(source, target);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->ok());
  EXPECT_EQ(c->source_objects, 7);
  EXPECT_NE(c->summary().find("all 7 schema objects present"), std::string::npos) << c->summary();
}

TEST(SchemaComparisonTest, ObjectsMissingAfterRestoreAreNamedWithTheirType) {
  // Given a target that lacks the view and the procedure (the wrong backup restored, or
  // dropped by hand), the comparison should name both, with their types.
  FakeSqlSession source, target;
  script(source, sales_objects(), {}, {});
  auto fewer = sales_objects();
  fewer.erase(fewer.begin() + 2, fewer.begin() + 4);
  script(target, fewer, {}, {});
  auto c = compare_schemas(source, target);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->ok());
  EXPECT_EQ(c->missing_on_target, (std::vector<std::string>{"dbo.OpenOrders (V)", "dbo.ShipOldestOrder (P)"}));
  EXPECT_NE(c->summary().find("missing on the target: dbo.OpenOrders (V), dbo.ShipOldestOrder (P)"), std::string::npos)
      << c->summary();
}

TEST(SchemaComparisonTest, TriggersAndKeysLeftOffOnlyOnTheTargetAreReported) {
  // Given a trigger still disabled and a foreign key not trusted on the target (cutover did
  // not finish re-enabling them), while the source has a trigger disabled on purpose, only
  // the target's differences should be reported.
  FakeSqlSession source, target;
  script(source, sales_objects(), {{"dbo.trg_Legacy"}}, {});
  script(target, sales_objects(), {{"dbo.trg_Legacy"}, {"dbo.trg_Orders_Events"}}, {{"dbo.FK__Orders__Customers"}});
  auto c = compare_schemas(source, target);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->ok());
  EXPECT_TRUE(c->missing_on_target.empty());
  EXPECT_EQ(c->disabled_on_target, std::vector<std::string>{"dbo.trg_Orders_Events"});
  EXPECT_EQ(c->untrusted_on_target, std::vector<std::string>{"dbo.FK__Orders__Customers"});
}

TEST(SchemaComparisonTest, AFailingQueryIsAnError) {
  // Given a target where sys.objects cannot be read, the comparison should fail with that error.
  FakeSqlSession source, target;
  script(source, sales_objects(), {}, {});
  target.on_error("FROM sys.objects", Error(ErrorKind::auth, "SQL Server error 229: SELECT permission denied"));
  auto c = compare_schemas(source, target);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::auth);
}
