// `validate` against the fakes: every table's row count and checksum, read on the source and
// on the target database (not master), equal and differing.
#include "migrate/validate.hpp"

#include <gtest/gtest.h>

#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_sql_session.hpp"

using namespace m2r;
using m2r::test::Migration;

namespace {

void script_orders(mssql::FakeSqlSession& db, std::int64_t rows, std::int64_t checksum) {
  db.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"}, {{"dbo", "Orders", 1, 1, 1}});
  db.on_rows("COUNT_BIG(*) AS row_count", {"row_count", "checksum"}, {{rows, checksum}});
}

}  // namespace

TEST(ValidateTest, EqualTablesPass) {
  Migration m;
  script_orders(*m.source, 500, 123456);
  script_orders(*m.target, 500, 123456);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok());
  ASSERT_EQ(r->tables.size(), 1u);
  EXPECT_EQ(r->tables[0].table, "dbo.Orders");
  EXPECT_EQ(m.target_databases_opened, (std::vector<std::string>{"Sales"}));
  EXPECT_EQ(m.target_ran("FROM [dbo].[Orders]").size(), 1u);
}

TEST(ValidateTest, ADifferentCountOrChecksumIsNamed) {
  Migration m;
  script_orders(*m.source, 500, 123456);
  script_orders(*m.target, 499, 123456);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mismatches, 1);
  EXPECT_EQ(r->tables[0].problem, "row counts differ: source 500, target 499");

  Migration same_count;
  script_orders(*same_count.source, 500, 123456);
  script_orders(*same_count.target, 500, 654321);
  auto c = validate_migration(same_count.connections, same_count.config);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mismatches, 1);
  EXPECT_NE(c->tables[0].problem.find("checksums differ"), std::string::npos) << c->tables[0].problem;
}

TEST(ValidateTest, ATableMissingOnTheTargetIsAMismatch) {
  Migration m;
  script_orders(*m.source, 500, 1);
  m.target->on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"}, {});
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mismatches, 1);
  EXPECT_EQ(r->tables[0].problem, "missing on the target");
}

TEST(ValidateTest, AnUnreachableSourceIsTheError) {
  Migration m;
  m.source_unreachable = Error(ErrorKind::retryable, "cannot connect to src.example:1433");
  auto r = validate_migration(m.connections, m.config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot connect to src.example:1433");
  EXPECT_TRUE(m.target_databases_opened.empty());
}
