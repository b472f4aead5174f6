// `validate` against the fakes: the catalog read on the source and on the target database
// (not master), the keyed walk's statements, rowversion left out, differences named, and the
// errors that stop it (a lock timeout, an unreachable source).
#include "migrate/validate.hpp"

#include <gtest/gtest.h>

#include "aws/support/temp_dir.hpp"
#include "core/lob_mode.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/support/fake_aws_world.hpp"
#include "fakes/fake_sql_session.hpp"

using namespace m2r;
using m2r::test::Migration;

namespace {

mssql::Bytes hash_of(std::uint8_t seed) { return mssql::Bytes{std::vector<std::uint8_t>(32, seed)}; }

mssql::FakeResponse rows(std::vector<std::string> columns, std::vector<mssql::SqlRow> values) {
  mssql::FakeResponse r;
  mssql::ResultSet set;
  for (auto& c : columns) set.columns.push_back({.name = c});
  set.rows = std::move(values);
  r.result.result_sets.push_back(std::move(set));
  return r;
}

// dbo.Orders (id int primary key, rv rowversion, note nvarchar(max)) holding keys 1..3 whose
// chunk digest is `digest`; row 2's row hash is `row2`.
void script_orders(mssql::FakeSqlSession& db, std::uint8_t digest, std::uint8_t row2 = 7) {
  db.on_count("SET LOCK_TIMEOUT", 0);
  db.on_rows("ProductMajorVersion", {"major"}, {{15}});
  db.on_rows("AS has_pk", {"schema_name", "table_name", "object_id", "has_pk", "has_identity"}, {{"dbo", "Orders", 1, 1, 1}});
  db.on_rows("FROM sys.columns AS c LEFT JOIN sys.types", {"name", "type_name", "max_length", "precision", "scale", "is_nullable", "is_computed"},
             {{"id", "int", 4, 10, 0, 0, 0}, {"rv", "timestamp", 8, 0, 0, 0, 0}, {"note", "nvarchar", -1, 0, 0, 1, 0}});
  db.on_rows("FROM sys.indexes", {"index_id", "is_primary_key", "name", "is_nullable"}, {{1, 1, "id", 0}});
  // The walk: the chunk's last key, then nothing past it.
  db.on("SELECT TOP (1)", rows({"k1"}, {{"3"}}));
  db.on("SELECT TOP (1)", rows({"k1"}, {}));
  db.on("AS range_hash", rows({"row_count", "range_hash"}, {{3, hash_of(digest)}}));
  db.on("AS range_hash", rows({"row_count", "range_hash"}, {{0, mssql::SqlValue()}}));
  db.on_rows("AS rh FROM", {"k1", "rh"}, {{"1", hash_of(1)}, {"2", hash_of(row2)}, {"3", hash_of(3)}});
}

}  // namespace

TEST(ValidateTest, EqualTablesPassWithRowversionLeftOut) {
  // Given equal digests on both sides, the table matches; the rowversion column is named as
  // left out and appears in no row hash; the target is read in its database (Sales).
  Migration m;
  script_orders(*m.source, 9);
  script_orders(*m.target, 9);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok());
  ASSERT_EQ(r->tables.size(), 1u);
  EXPECT_EQ(r->tables[0].table, "dbo.Orders");
  EXPECT_EQ(r->tables[0].source->rows, 3);
  EXPECT_EQ(r->tables[0].method, "primary key (id)");
  EXPECT_EQ(r->tables[0].left_out_columns, (std::vector<std::string>{"rv (rowversion: the target generates its own values)"}));
  EXPECT_EQ(m.target_databases_opened, (std::vector<std::string>{"Sales"}));
  const auto digests = m.target_ran("AS range_hash");
  ASSERT_EQ(digests.size(), 2u);
  EXPECT_EQ(digests[0].find("[rv]"), std::string::npos);
  EXPECT_NE(digests[0].find("[note]"), std::string::npos);
}

TEST(ValidateTest, ADifferingChunkIsDrilledDownToTheKey) {
  Migration m;
  script_orders(*m.source, 9, 2);
  script_orders(*m.target, 8, 42);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mismatches, 1);
  const auto& t = r->tables[0];
  ASSERT_EQ(t.differences.named.size(), 1u);
  EXPECT_EQ(t.differences.named[0].kind, DifferenceKind::differs);
  EXPECT_EQ(t.differences.named[0].key, (KeyValues{"2"}));
  EXPECT_EQ(t.problem, "rows: 1 differ");
  // The key went back as a parameter, never as text in the SQL.
  for (const auto& s : m.source->executed()) {
    if (s.sql.find("SELECT TOP (1)") != std::string::npos && !s.params.empty()) {
      EXPECT_EQ(s.params[0].value, mssql::SqlValue("3"));
      EXPECT_EQ(s.sql.find("'3'"), std::string::npos);
    }
  }
}

TEST(ValidateTest, ALockTimeoutStopsTheValidationNamingTheTable) {
  Migration m;
  script_orders(*m.source, 9);
  m.target->on_error("AS range_hash", Error(ErrorKind::fatal, "SQL Server error 1222 (severity 16, state 51): Lock request time out period exceeded."));
  script_orders(*m.target, 9);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("dbo.Orders"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos);
}

TEST(ValidateTest, ATableMissingOnTheTargetIsAMismatch) {
  Migration m;
  script_orders(*m.source, 1);
  m.target->on_count("SET LOCK_TIMEOUT", 0);
  m.target->on_rows("ProductMajorVersion", {"major"}, {{15}});
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

TEST(ValidateTest, TheThrottleSleepsOnTheMigrationsClock) {
  // Given 3 source rows and at most 1 row per second, the walk should wait 3 s after the
  // chunk that read them, on the migration's clock (a FakeClock: no real waiting).
  Migration m;
  script_orders(*m.source, 9);
  script_orders(*m.target, 9);
  MigrationConfig config = m.config;
  config.validate.max_rows_per_second = 1;
  auto r = validate_migration(m.connections, config, static_cast<const StopSignal*>(nullptr));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(m.clock->total_slept(), std::chrono::milliseconds(3000));
}

TEST(ValidateTest, AStopEndsItNamingTheTableAndTheNextRunStartsAgain) {
  Migration m;
  script_orders(*m.source, 9);
  script_orders(*m.target, 9);
  StopSignal stop;
  struct StopOnProgress : EventSink {
    StopSignal* stop = nullptr;
    int progress = 0;
    void emit(const Event& e) override {
      if (e.kind == EventKind::progress && ++progress == 1) stop->request();
    }
  } events;
  events.stop = &stop;
  ValidationOptions options = validation_options(m.config.validate);
  options.stop = &stop;
  options.events = &events;
  auto r = validate_migration(m.connections, m.config, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::interrupted);
  EXPECT_NE(r.error().message.find("dbo.Orders"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos);
  EXPECT_EQ(events.progress, 1);
}

TEST(ValidateTest, AStatementOverTheChunkTimeoutStopsNamingTheTable) {
  Migration m;
  m.source->on_error("AS range_hash", Error(ErrorKind::timeout, "a statement on fake:1433 did not finish in time"));
  script_orders(*m.source, 9);
  script_orders(*m.target, 9);
  auto r = validate_migration(m.connections, m.config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("validation stopped at dbo.Orders: one chunk took longer than 300 s"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().hint.find("--chunk-rows"), std::string::npos);
}

TEST(ValidateTest, WithoutAPrimaryKeyANotNullUniqueIndexIsTheKeyAndANullableOneIsNot) {
  // Given unique indexes 2 (code, nullable) and 3 (id, NOT NULL), the walk should use index 3.
  const auto script = [](mssql::FakeSqlSession& db, bool id_nullable) {
    db.on("FROM sys.indexes", rows({"index_id", "is_primary_key", "name", "is_nullable"},
                                   {{2, 0, "note", 1}, {3, 0, "id", id_nullable ? 1 : 0}}));
    db.on_rows("FROM sys.columns AS c LEFT JOIN sys.types", {"name", "type_name", "max_length", "precision", "scale", "is_nullable", "is_computed"},
               {{"id", "int", 4, 10, 0, id_nullable ? 1 : 0, 0}, {"note", "nvarchar", -1, 0, 0, 1, 0}});
    db.on_rows("AS copies", {"rh", "copies"}, {{hash_of(4), 3}});
    script_orders(db, 9);
  };
  Migration keyed;
  script(*keyed.source, false);
  script(*keyed.target, false);
  auto k = validate_migration(keyed.connections, keyed.config);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->tables[0].method, "unique index (id)");
  EXPECT_TRUE(k->ok());

  Migration heap;
  script(*heap.source, true);
  script(*heap.target, true);
  auto h = validate_migration(heap.connections, heap.config);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->tables[0].method, "row multiset (no primary key or NOT NULL unique index)");
  EXPECT_EQ(h->tables[0].source->rows, 3);
  EXPECT_TRUE(h->ok());
}

TEST(ValidateTest, ADifferingTableWithALobOverLobMaxSizeGetsTheLobNote) {
  // Given a migration whose replicate step chose limited mode at 32 KB for dbo.Orders.note, and
  // that column now holding 98 KB on the source, a differing dbo.Orders should carry the note
  // that DMS truncates such values, after the differing keys.
  Migration m;
  test::TempDir dir;
  m.config.journal = dir.str() + "/sales.journal";
  {
    auto journal = SqliteJournal::open(m.config.journal);
    ASSERT_TRUE(journal) << journal.error().message;
    ASSERT_TRUE((*journal)->begin_step("replicate", {}));
    const auto lobs = decide_lob_mode({{{{"dbo", "Orders"}, "note", "nvarchar"}, 400}});
    ASSERT_TRUE((*journal)->finish_step("replicate", {{"lobs", to_json(lobs)}}));
  }
  script_orders(*m.source, 9, 2);
  script_orders(*m.target, 8, 42);
  m.source->on_rows("MAX(CONVERT(bigint, DATALENGTH", {"note"}, {{100000}});
  auto r = validate_migration(m.connections, m.config);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->mismatches, 1);
  EXPECT_EQ(r->tables[0].problem.rfind("rows: 1 differ; LOB note: dbo.Orders.note: 98 KB on the source, over LobMaxSize "
                                       "32 KB: values over it are truncated on the target; fix: ", 0),
            0u)
      << r->tables[0].problem;

  // Equal tables: nothing re-measured.
  Migration equal;
  equal.config.journal = m.config.journal;
  script_orders(*equal.source, 9);
  script_orders(*equal.target, 9);
  ASSERT_TRUE(validate_migration(equal.connections, equal.config));
  EXPECT_TRUE(equal.source_ran("MAX(CONVERT(bigint, DATALENGTH").empty());
}
