// Validation that proves equality, end to end below the CLI: two sandbox instances served over
// TDS in-process, the product's OdbcSession (FreeTDS) on each, and validate_databases. A change
// anywhere in any column of one row on the target only is named by table and key, for every
// column type the sandbox stores (issue 13; docs/architecture.md "Validation").
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "engine_test_support.hpp"
#include "migrate/table_validation.hpp"
#include "mssql/odbc_session.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

using m2r::DifferenceKind;
using m2r::ValidationReport;

struct Served {
  std::unique_ptr<Instance> instance;
  std::unique_ptr<tds::TdsServer> server;
  std::unique_ptr<Session> admin;  // sa in shop, for setting up
};

class ValidateRowHashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = test::temp_dir("validate-row-hash");
    m_source = serve("src", source_version());
    m_target = serve("dst", 2019);
  }
  void TearDown() override {
    for (Served* s : {&m_source, &m_target}) {
      s->admin.reset();
      if (s->server) s->server->stop();
      s->server.reset();
      s->instance.reset();
    }
    std::filesystem::remove_all(m_dir);
  }
  virtual int source_version() const { return 2019; }

  Served serve(const std::string& name, int version) {
    Served s;
    InstanceConfig cfg;
    cfg.name = name;
    cfg.version = version;
    cfg.data_dir = m_dir + "/" + name;
    cfg.sa_password = test::k_sa_password;
    s.instance = open_instance(cfg);
    auto admin = test::login(*s.instance);
    test::must(*admin, "CREATE DATABASE shop");
    s.admin = test::login(*s.instance, "shop");
    s.server = std::make_unique<tds::TdsServer>(*s.instance, "127.0.0.1", 0);
    auto started = s.server->start();
    EXPECT_TRUE(started) << started.error().message;
    return s;
  }

  std::unique_ptr<m2r::mssql::SqlSession> connect(Served& s) {
    m2r::mssql::ConnectionSettings c;
    c.server = "127.0.0.1";
    c.port = s.server->port();
    c.database = "shop";
    c.login = "sa";
    c.driver = "FreeTDS";
    c.encrypt = false;  // this in-process server has no certificate: Encryption=request logs in without TLS
    c.login_timeout = std::chrono::seconds(10);
    auto session = m2r::mssql::OdbcSession::connect(c, m2r::mssql::Secret(test::k_sa_password));
    EXPECT_TRUE(session) << (session ? "" : session.error().message);
    return session ? std::move(*session) : nullptr;
  }

  // The same statements on both sides.
  void both(const std::string& sql) {
    test::must(*m_source.admin, sql);
    test::must(*m_target.admin, sql);
  }
  void on_target(const std::string& sql) { test::must(*m_target.admin, sql); }

  ValidationReport validate(m2r::ValidationOptions options = {}) {
    auto src = connect(m_source);
    auto tgt = connect(m_target);
    if (!src || !tgt) return {};
    auto r = m2r::validate_databases(*src, *tgt, options);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : ValidationReport{};
  }

  static const m2r::TableComparison* table(const ValidationReport& r, const std::string& name) {
    for (const auto& t : r.tables)
      if (t.table == name) return &t;
    ADD_FAILURE() << "no table " << name << " in the report";
    return nullptr;
  }

  std::string m_dir;
  Served m_source, m_target;
};

// ---- one test per column type ----------------------------------------------------------

struct TypeCase {
  const char* name;   // test name
  const char* type;   // the column's declaration
  const char* value;  // the literal on both sides (rows 1..3 take it)
  const char* changed;  // row 2's value on the target only
};

class ValidateColumnTypeTest : public ValidateRowHashTest, public ::testing::WithParamInterface<TypeCase> {};

TEST_P(ValidateColumnTypeTest, AChangeInOneRowOnTheTargetIsNamedByTableAndKey) {
  // Given three equal rows of (id, v <type>) on both sides, and row 2's v changed on the
  // target only, validation should name dbo.T, key id = 2, as a differing row, and nothing else.
  const auto& c = GetParam();
  both(std::string("CREATE TABLE dbo.T (id int NOT NULL PRIMARY KEY, v ") + c.type + " NULL, tail int NULL)");
  for (int id = 1; id <= 3; ++id) both("INSERT INTO dbo.T (id, v, tail) VALUES (" + std::to_string(id) + ", " + c.value + ", 7)");
  auto equal = validate();
  const auto* before = table(equal, "dbo.T");
  ASSERT_NE(before, nullptr);
  EXPECT_TRUE(before->matches) << before->problem;

  on_target(std::string("UPDATE dbo.T SET v = ") + c.changed + " WHERE id = 2");
  auto r = validate();
  const auto* t = table(r, "dbo.T");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->matches);
  EXPECT_EQ(t->method, "primary key (id)");
  ASSERT_EQ(t->differences.named.size(), 1u) << t->problem;
  EXPECT_EQ(t->differences.named[0].kind, DifferenceKind::differs);
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"2"}));
  EXPECT_EQ(t->key_columns, (std::vector<std::string>{"id"}));
  EXPECT_EQ(t->problem, "rows: 1 differ");
}

const TypeCase k_types[] = {
    {"int", "int", "123456", "123457"},
    {"bigint", "bigint", "9000000000123", "9000000000124"},
    {"smallint", "smallint", "-300", "-301"},
    {"tinyint", "tinyint", "200", "201"},
    {"bit", "bit", "0", "1"},
    {"decimal", "decimal(18,4)", "12345.6789", "12345.6788"},
    {"decimal_wide", "decimal(38,10)", "1234567890123456789012345678.0123456789", "1234567890123456789012345678.0123456788"},
    {"money", "money", "922337203685.4577", "922337203685.4578"},
    {"smallmoney", "smallmoney", "12.3456", "12.3457"},
    // 0.1 and the next double: equal to 15 digits, different at 17.
    {"float", "float", "CAST(0.1 AS float)", "CAST(0.10000000000000002 AS float)"},
    {"real", "real", "CAST(1.25 AS real)", "CAST(1.2500001 AS real)"},
    {"char", "char(10)", "'abc'", "'abd'"},
    {"varchar", "varchar(50)", "'hello world'", "'hello World'"},
    {"varchar_max", "varchar(max)", "'long text'", "'long text.'"},
    {"nchar", "nchar(10)", "N'\xC3\xA9t\xC3\xA9'", "N'\xC3\xA9t\xC3\xA8'"},
    {"nvarchar", "nvarchar(50)", "N'\xE2\x82\xAC 10'", "N'\xE2\x82\xAC 11'"},
    {"nvarchar_max", "nvarchar(max)", "N'some text'", "N'some text '"},
    {"binary", "binary(8)", "0x0102030405060708", "0x0102030405060709"},
    {"varbinary", "varbinary(50)", "0x00FF", "0x00FE"},
    {"varbinary_max", "varbinary(max)", "0xDEADBEEF", "0xDEADBEEF00"},
    {"date", "date", "'2026-12-02'", "'2026-12-03'"},
    {"datetime", "datetime", "'2026-12-02 10:11:12.003'", "'2026-12-02 10:11:12.007'"},
    {"smalldatetime", "smalldatetime", "'2026-12-02 10:11'", "'2026-12-02 10:12'"},
    {"datetime2", "datetime2(7)", "'2026-12-02 10:11:12.1234567'", "'2026-12-02 10:11:12.1234568'"},
    {"datetimeoffset", "datetimeoffset(7)", "'2026-12-02 10:11:12.1234567 +01:00'", "'2026-12-02 10:11:12.1234567 +02:00'"},
    {"time", "time(7)", "'10:11:12.1234567'", "'10:11:12.1234568'"},
    {"uniqueidentifier", "uniqueidentifier", "'6F9619FF-8B86-D011-B42D-00C04FC964FF'", "'6F9619FF-8B86-D011-B42D-00C04FC964FE'"},
    {"text", "text", "'old notes'", "'new notes'"},
    {"ntext", "ntext", "N'old notes'", "N'old notez'"},
    {"image", "image", "0x0102", "0x0103"},
    {"xml", "xml", "N'<spec><w>12</w></spec>'", "N'<spec><w>13</w></spec>'"},
};

INSTANTIATE_TEST_SUITE_P(EveryType, ValidateColumnTypeTest, ::testing::ValuesIn(k_types),
                         [](const ::testing::TestParamInfo<TypeCase>& type_case) { return std::string(type_case.param.name); });

TEST_F(ValidateRowHashTest, AComputedColumnIsComparedAndFollowsItsBaseColumn) {
  // Given a computed column on both sides and row 2's base column changed on the target only,
  // validation should name key 2 (the computed value differs with it) and compare the column.
  both("CREATE TABLE dbo.C (id int NOT NULL PRIMARY KEY, price decimal(10,2) NOT NULL, with_tax AS (price * 1.2))");
  both("INSERT INTO dbo.C (id, price) VALUES (1, 10), (2, 20), (3, 30)");
  EXPECT_TRUE(table(validate(), "dbo.C")->matches);
  on_target("UPDATE dbo.C SET price = 21 WHERE id = 2");
  auto r = validate();
  const auto* t = table(r, "dbo.C");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->differences.named.size(), 1u) << t->problem;
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"2"}));
  EXPECT_TRUE(t->left_out_columns.empty());
}

TEST_F(ValidateRowHashTest, ARowversionIsLeftOutAndSaidSo) {
  // Given rows equal but for their rowversion (the target rewrote row 2, as DMS's apply does),
  // validation should find the table equal and report the rowversion column as not compared.
  both("CREATE TABLE dbo.R (id int NOT NULL PRIMARY KEY, v nvarchar(10) NULL, rv rowversion)");
  both("INSERT INTO dbo.R (id, v) VALUES (1, N'a'), (2, N'b')");
  on_target("UPDATE dbo.R SET v = v WHERE id = 2");
  auto r = validate();
  const auto* t = table(r, "dbo.R");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->matches) << t->problem;
  EXPECT_EQ(t->left_out_columns, (std::vector<std::string>{"rv (rowversion: the target generates its own values)"}));
}

// ---- what CHECKSUM_AGG(BINARY_CHECKSUM(*)) missed ---------------------------------------

TEST_F(ValidateRowHashTest, AChangeAtCharacter10000OfAnNvarcharMaxIsNamed) {
  both("CREATE TABLE dbo.Docs (id int NOT NULL PRIMARY KEY, body nvarchar(max) NULL)");
  const std::string body(20000, 'x');
  both("INSERT INTO dbo.Docs VALUES (1, N'" + body + "'), (2, N'" + body + "')");
  std::string changed = body;
  changed[9999] = 'y';
  on_target("UPDATE dbo.Docs SET body = N'" + changed + "' WHERE id = 1");
  // The weak check is blind to it, as documented (the sandbox models the 255-character limit).
  const auto weak = [](Served& s) {
    return test::as_int(test::must(*s.admin, "SELECT CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM dbo.Docs").sets.at(0).rows.at(0).at(0));
  };
  EXPECT_EQ(weak(m_source), weak(m_target));
  auto r = validate();
  const auto* t = table(r, "dbo.Docs");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->differences.named.size(), 1u);
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"1"}));
}

TEST_F(ValidateRowHashTest, NullAgainstEmptyIsNamed) {
  both("CREATE TABLE dbo.N (id int NOT NULL PRIMARY KEY, a nvarchar(10) NULL, b nvarchar(10) NULL)");
  both("INSERT INTO dbo.N VALUES (1, N'', N'x'), (2, N'x', N'')");
  // Row 1: '' becomes NULL; row 2: the value moves between the columns ('x','' -> '','x').
  on_target("UPDATE dbo.N SET a = NULL WHERE id = 1");
  on_target("UPDATE dbo.N SET a = N'', b = N'x' WHERE id = 2");
  auto r = validate();
  const auto* t = table(r, "dbo.N");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->differences.named.size(), 2u) << t->problem;
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"1"}));
  EXPECT_EQ(t->differences.named[1].key, (m2r::KeyValues{"2"}));
}

TEST_F(ValidateRowHashTest, ValuesSwappedBetweenTwoRowsAreNamed) {
  // CHECKSUM_AGG XORs the row checksums: two rows trading values cancel out. The ordered row
  // hashes per key do not.
  both("CREATE TABLE dbo.S (id int NOT NULL PRIMARY KEY, qty int NOT NULL)");
  both("INSERT INTO dbo.S VALUES (1, 10), (2, 20), (3, 30)");
  on_target("UPDATE dbo.S SET qty = 20 WHERE id = 1");
  on_target("UPDATE dbo.S SET qty = 10 WHERE id = 2");
  auto r = validate();
  const auto* t = table(r, "dbo.S");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->matches);
  EXPECT_EQ(t->differences.differing, 2);
  ASSERT_EQ(t->differences.named.size(), 2u);
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"1"}));
  EXPECT_EQ(t->differences.named[1].key, (m2r::KeyValues{"2"}));
}

TEST_F(ValidateRowHashTest, AMissingAndAnExtraRowOnAHeapAreNamedByTheirValues) {
  both("CREATE TABLE dbo.Log (at datetime2(3) NOT NULL, line nvarchar(100) NULL)");
  both("INSERT INTO dbo.Log VALUES ('2026-12-02 10:00:00.000', N'start'), ('2026-12-02 10:00:01.000', N'same'),"
       " ('2026-12-02 10:00:01.000', N'same')");
  on_target("DELETE FROM dbo.Log WHERE line = N'start'");
  on_target("INSERT INTO dbo.Log VALUES ('2026-12-02 10:00:02.000', N'only here')");
  auto r = validate();
  const auto* t = table(r, "dbo.Log");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->method, "row multiset (no primary key or NOT NULL unique index)");
  EXPECT_EQ(t->differences.missing_on_target, 1);
  EXPECT_EQ(t->differences.extra_on_target, 1);
  ASSERT_EQ(t->differences.named.size(), 2u);
  std::map<DifferenceKind, m2r::KeyValues> by_kind;
  for (const auto& d : t->differences.named) by_kind[d.kind] = d.key;
  EXPECT_EQ(by_kind[DifferenceKind::missing_on_target], (m2r::KeyValues{"2026-12-02 10:00:00.000", "start"}));
  EXPECT_EQ(by_kind[DifferenceKind::extra_on_target], (m2r::KeyValues{"2026-12-02 10:00:02.000", "only here"}));
  EXPECT_EQ(t->key_columns, (std::vector<std::string>{"at", "line"}));
}

TEST_F(ValidateRowHashTest, CompositeKeysAreWalkedInChunksAndBisectedThroughKeysetPredicates) {
  // Given 600 rows under a (region, id) key, chunks of 50 and leaves of 4, a missing row, an
  // extra row and a changed row should each be named with both key values.
  both("CREATE TABLE dbo.Orders (region varchar(10) NOT NULL, id int NOT NULL, amount decimal(10,2) NOT NULL,"
       " PRIMARY KEY (region, id))");
  std::string values;
  for (int i = 0; i < 600; ++i) {
    values += (values.empty() ? "" : ", ") + std::string("('") + (i % 3 == 0 ? "eu" : i % 3 == 1 ? "us" : "ap") + "', " +
              std::to_string(i) + ", " + std::to_string(i) + ".25)";
  }
  both("INSERT INTO dbo.Orders VALUES " + values);
  on_target("DELETE FROM dbo.Orders WHERE region = 'us' AND id = 100");
  on_target("INSERT INTO dbo.Orders VALUES ('eu', 100000, 1.00)");
  on_target("UPDATE dbo.Orders SET amount = 0.01 WHERE region = 'ap' AND id = 299");
  m2r::ValidationOptions options;
  options.limits.chunk_rows = 50;
  options.limits.leaf_rows = 4;
  auto r = validate(options);
  const auto* t = table(r, "dbo.Orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->method, "primary key (region, id)");
  EXPECT_EQ(t->source->rows, 600);
  EXPECT_EQ(t->target->rows, 600);
  std::map<DifferenceKind, m2r::KeyValues> by_kind;
  for (const auto& d : t->differences.named) by_kind[d.kind] = d.key;
  ASSERT_EQ(t->differences.named.size(), 3u) << t->problem;
  EXPECT_EQ(by_kind[DifferenceKind::missing_on_target], (m2r::KeyValues{"us", "100"}));
  EXPECT_EQ(by_kind[DifferenceKind::extra_on_target], (m2r::KeyValues{"eu", "100000"}));
  EXPECT_EQ(by_kind[DifferenceKind::differs], (m2r::KeyValues{"ap", "299"}));
}

TEST_F(ValidateRowHashTest, EqualDatabasesPassAndEveryChunkReportsProgress) {
  both("CREATE TABLE dbo.A (id bigint NOT NULL PRIMARY KEY, f float NULL, d datetime NULL)");
  std::string values;
  for (int i = 1; i <= 120; ++i) values += (values.empty() ? "" : ", ") + ("(" + std::to_string(i) + ", " + std::to_string(i) + ".1, '2026-12-02')");
  both("INSERT INTO dbo.A VALUES " + values);
  both("CREATE TABLE dbo.Empty (id int NOT NULL PRIMARY KEY)");
  struct Events : m2r::EventSink {
    std::vector<m2r::Event> seen;
    void emit(const m2r::Event& e) override { seen.push_back(e); }
  } events;
  m2r::ValidationOptions options;
  options.limits.chunk_rows = 25;
  options.events = &events;
  auto r = validate(options);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.tables.size(), 2u);
  EXPECT_EQ(r.tables[0].source->rows, 120);
  // dbo.A: five chunks of 25 (the last holds 20) and the open end; dbo.Empty: the open end.
  int progress_a = 0;
  for (const auto& e : events.seen)
    if (e.kind == m2r::EventKind::progress && e.data["table"] == "dbo.A") ++progress_a;
  EXPECT_EQ(progress_a, 6);
}

TEST_F(ValidateRowHashTest, AReadBlockedPastTheLockTimeoutStopsNamingTheTable) {
  both("CREATE TABLE dbo.Busy (id int NOT NULL PRIMARY KEY, qty int NOT NULL)");
  both("INSERT INTO dbo.Busy VALUES (1, 1), (2, 2)");
  // A writer on the target holds an X lock on row 2 in an open transaction.
  test::must(*m_target.admin, "BEGIN TRAN; UPDATE dbo.Busy SET qty = 3 WHERE id = 2");
  auto src = connect(m_source);
  auto tgt = connect(m_target);
  ASSERT_TRUE(src && tgt);
  m2r::ValidationOptions options;
  options.lock_timeout = std::chrono::milliseconds(200);
  auto r = m2r::validate_databases(*src, *tgt, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, m2r::ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("dbo.Busy"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("1222"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos);
  test::must(*m_target.admin, "ROLLBACK");
  // The next validation starts again and passes.
  auto again = m2r::validate_databases(*src, *tgt, options);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->ok());
}

// SQL Server 2016 has no STRING_AGG: its chunks' row hashes are streamed and hashed by the
// client exactly as HASHBYTES over STRING_AGG on the 2019 target, so the digests compare.
class ValidateFrom2016Test : public ValidateRowHashTest {
 protected:
  int source_version() const override { return 2016; }
};

TEST_F(ValidateFrom2016Test, AStreamedDigestEqualsTheServersAndDifferencesAreNamed) {
  both("CREATE TABLE dbo.T (id int NOT NULL PRIMARY KEY, v nvarchar(max) NULL)");
  std::string values;
  for (int i = 1; i <= 40; ++i) values += (values.empty() ? "" : ", ") + ("(" + std::to_string(i) + ", N'v" + std::to_string(i) + "')");
  both("INSERT INTO dbo.T VALUES " + values);
  m2r::ValidationOptions options;
  options.limits.chunk_rows = 16;
  auto equal = validate(options);
  EXPECT_TRUE(equal.ok()) << (equal.tables.empty() ? "" : equal.tables[0].problem);
  on_target("UPDATE dbo.T SET v = N'changed' WHERE id = 33");
  auto r = validate(options);
  const auto* t = table(r, "dbo.T");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->differences.named.size(), 1u);
  EXPECT_EQ(t->differences.named[0].key, (m2r::KeyValues{"33"}));
}

}  // namespace
}  // namespace sandbox::testing
