// sql_variant (learn.microsoft.com "sql_variant (Transact-SQL)", "SQL_VARIANT_PROPERTY"):
// values keep their base type through CAST, columns, #temp tables and variables; the
// properties; the types a sql_variant cannot hold (206); converting back. In-process, no TDS.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/sql_variant.hpp"
#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

class EngineSqlVariantTest : public ValueQueryTest {
 protected:
  EngineSqlVariantTest() : ValueQueryTest("variant", "vars") {}
  // The base type and value of a one-value SELECT of a sql_variant.
  engine::VariantValue variant(const std::string& sql) {
    const Value v = scalar(sql);
    auto d = engine::decode_variant(as_str(v));
    if (!d) {
      ADD_FAILURE() << sql << " did not return a sql_variant: " << as_str(v);
      return {};
    }
    return *d;
  }
  // SQL_VARIANT_PROPERTY's answer (itself a sql_variant) as text.
  std::string property(const std::string& expr, const std::string& prop) {
    const Value v = scalar("SELECT SQL_VARIANT_PROPERTY(" + expr + ", '" + prop + "')");
    if (std::holds_alternative<std::monostate>(v)) return "NULL";
    auto d = engine::decode_variant(as_str(v));
    if (!d) return "not a variant: " + as_str(v);
    if (auto i = std::get_if<std::int64_t>(&d->value)) return std::to_string(*i);
    return as_str(d->value);
  }
};

TEST_F(EngineSqlVariantTest, CastKeepsTheBaseTypeAndValue) {
  EXPECT_EQ(type_of("SELECT CAST(11 AS sql_variant)").type, SqlType::sql_variant);
  auto i = variant("SELECT CAST(11 AS sql_variant)");
  EXPECT_EQ(i.base.type, SqlType::int_);
  EXPECT_EQ(std::get<std::int64_t>(i.value), 11);

  auto n = variant("SELECT CAST(11.16 AS sql_variant)");
  EXPECT_EQ(n.base.type, SqlType::decimal);
  EXPECT_EQ(n.base.precision, 4);
  EXPECT_EQ(n.base.scale, 2);
  EXPECT_EQ(as_str(n.value), "11.16");

  auto s = variant("SELECT CAST('abc' AS sql_variant)");
  EXPECT_EQ(s.base.type, SqlType::varchar);
  EXPECT_EQ(s.base.length, 3);
  EXPECT_EQ(as_str(s.value), "abc");

  auto b = variant("SELECT CAST(CAST(0x1234 AS varbinary(16)) AS sql_variant)");
  EXPECT_EQ(b.base.type, SqlType::varbinary);
  EXPECT_EQ(b.base.length, 16);
  EXPECT_EQ(std::get<Bytes>(b.value).data, (std::vector<std::uint8_t>{0x12, 0x34}));

  auto d = variant("SELECT CAST(CAST('2014-02-14 22:59:59.9999999 +05:00' AS datetimeoffset) AS sql_variant)");
  EXPECT_EQ(d.base.type, SqlType::datetimeoffset);
  EXPECT_EQ(d.base.scale, 7);
  EXPECT_EQ(as_str(d.value), "2014-02-14 22:59:59.9999999 +05:00");

  auto g = variant("SELECT CAST(CAST('01234567-89ab-CDEF-0123-456789ABCDEF' AS uniqueidentifier) AS sql_variant)");
  EXPECT_EQ(g.base.type, SqlType::uniqueidentifier);
  EXPECT_EQ(as_str(g.value), "01234567-89AB-CDEF-0123-456789ABCDEF");

  auto f = variant("SELECT CONVERT(sql_variant, CAST(1.5 AS float))");
  EXPECT_EQ(f.base.type, SqlType::float_);
  EXPECT_DOUBLE_EQ(std::get<double>(f.value), 1.5);
}

TEST_F(EngineSqlVariantTest, NullIsANullSqlVariant) {
  EXPECT_EQ(type_of("SELECT CAST(NULL AS sql_variant)").type, SqlType::sql_variant);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(scalar("SELECT CAST(NULL AS sql_variant)")));
}

TEST_F(EngineSqlVariantTest, ColumnsTempTablesAndVariablesKeepEachRowsBaseType) {
  must(*m_s, "CREATE TABLE t (id int PRIMARY KEY, v sql_variant NULL)");
  must(*m_s, "INSERT INTO t (id, v) VALUES (1, 42), (2, N'héllo'), (3, CAST(3148.29 AS decimal(20,8))), (4, NULL),"
             " (5, CAST('2011-12-04 10:04:23' AS datetime))");
  auto r = must(*m_s, "SELECT v FROM t ORDER BY id");
  ASSERT_EQ(r.sets.back().rows.size(), 5u);
  EXPECT_EQ(r.sets.back().columns[0].type.type, SqlType::sql_variant);
  auto row = [&](std::size_t k) { return *engine::decode_variant(as_str(r.sets.back().rows[k][0])); };
  EXPECT_EQ(row(0).base.type, SqlType::int_);
  EXPECT_EQ(row(1).base.type, SqlType::nvarchar);
  EXPECT_EQ(as_str(row(1).value), "héllo");
  EXPECT_EQ(row(2).base.precision, 20);
  EXPECT_EQ(as_str(row(2).value), "3148.29000000");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.sets.back().rows[3][0]));
  EXPECT_EQ(row(4).base.type, SqlType::datetime);
  EXPECT_EQ(as_str(row(4).value), "2011-12-04 10:04:23.000");

  must(*m_s, "CREATE TABLE #tv (v sql_variant)");
  must(*m_s, "INSERT INTO #tv (v) SELECT v FROM t WHERE id = 3");
  EXPECT_EQ(variant("SELECT v FROM #tv").base.type, SqlType::decimal);

  EXPECT_EQ(variant("DECLARE @v sql_variant = CAST(7 AS smallint); SELECT @v").base.type, SqlType::smallint);
  EXPECT_EQ(as_str(variant("DECLARE @v sql_variant; SET @v = 'x'; SELECT @v").value), "x");
  EXPECT_EQ(type_of("SELECT * FROM t").type, SqlType::int_);
}

TEST_F(EngineSqlVariantTest, ConvertingBackConvertsFromTheBaseType) {
  must(*m_s, "CREATE TABLE t (id int PRIMARY KEY, v sql_variant)");
  must(*m_s, "INSERT INTO t (id, v) VALUES (1, CAST(11.16 AS numeric(4,2))), (2, '42'), (3, 'abc')");
  EXPECT_EQ(as_int(scalar("SELECT CAST(v AS int) FROM t WHERE id = 1")), 11);
  EXPECT_EQ(as_str(scalar("SELECT CAST(v AS decimal(5,1)) FROM t WHERE id = 1")), "11.2");
  EXPECT_EQ(as_int(scalar("SELECT CAST(v AS int) FROM t WHERE id = 2")), 42);
  EXPECT_EQ(as_str(scalar("SELECT CONVERT(varchar(10), v) FROM t WHERE id = 1")), "11.16");
  // The base type's own conversion error: varchar 'abc' to int.
  const Message m = error_of("SELECT CAST(v AS int) FROM t WHERE id = 3");
  EXPECT_EQ(m.number, 245);
  EXPECT_EQ(m.text, "Conversion failed when converting the varchar value 'abc' to data type int.");
  EXPECT_EQ(as_int(scalar("DECLARE @v sql_variant = 5; SELECT CAST(@v AS bigint) * 2")), 10);
}

TEST_F(EngineSqlVariantTest, StoringASqlVariantIntoAnotherTypeIsAnImplicitConversion) {
  must(*m_s, "CREATE TABLE t (i int)");
  const Message m = error_of("INSERT INTO t (i) VALUES (CAST(1 AS sql_variant))");
  EXPECT_EQ(m.number, 257);
  EXPECT_EQ(m.text, "Implicit conversion from data type sql_variant to int is not allowed. Use the CONVERT function to run this query.");
}

TEST_F(EngineSqlVariantTest, SqlVariantPropertyAnswersAsDocumented) {
  EXPECT_EQ(type_of("SELECT SQL_VARIANT_PROPERTY(CAST(1 AS sql_variant), 'BaseType')").type, SqlType::sql_variant);
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "BaseType"), "int");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "Precision"), "10");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "Scale"), "0");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "TotalBytes"), "6");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "MaxLength"), "4");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "Collation"), "NULL");
  EXPECT_EQ(property("CAST(CAST(11.16 AS numeric(4,2)) AS sql_variant)", "Precision"), "4");
  EXPECT_EQ(property("CAST(CAST(11.16 AS numeric(4,2)) AS sql_variant)", "Scale"), "2");
  EXPECT_EQ(property("CAST(CAST(11.16 AS numeric(4,2)) AS sql_variant)", "MaxLength"), "5");
  EXPECT_EQ(property("CAST(CAST('abc' AS varchar(10)) AS sql_variant)", "BaseType"), "varchar");
  EXPECT_EQ(property("CAST(CAST('abc' AS varchar(10)) AS sql_variant)", "MaxLength"), "10");
  EXPECT_EQ(property("CAST(CAST('abc' AS varchar(10)) AS sql_variant)", "Collation"), "SQL_Latin1_General_CP1_CI_AS");
  EXPECT_EQ(property("CAST(N'ab' AS nvarchar(5))", "MaxLength"), "10");  // converted to sql_variant first
  EXPECT_EQ(property("CAST(GETDATE() AS sql_variant)", "BaseType"), "datetime");
  EXPECT_EQ(property("CAST(GETDATE() AS sql_variant)", "Scale"), "3");
  EXPECT_EQ(property("CAST(CAST(1 AS money) AS sql_variant)", "Precision"), "19");
  EXPECT_EQ(property("CAST(11 AS sql_variant)", "NoSuchProperty"), "NULL");
  EXPECT_EQ(property("CAST(NULL AS sql_variant)", "BaseType"), "NULL");
}

TEST_F(EngineSqlVariantTest, TypesASqlVariantCannotHoldAreRefused) {
  const Message m = error_of("SELECT CAST(CAST(N'x' AS nvarchar(max)) AS sql_variant)");
  EXPECT_EQ(m.number, 206);
  EXPECT_EQ(m.severity, 16);
  EXPECT_EQ(m.text, "Operand type clash: nvarchar(max) is incompatible with sql_variant");
  EXPECT_EQ(error_of("SELECT CAST(CAST('x' AS varchar(max)) AS sql_variant)").text,
            "Operand type clash: varchar(max) is incompatible with sql_variant");
  EXPECT_EQ(error_of("SELECT CAST(CAST(0x01 AS varbinary(max)) AS sql_variant)").number, 206);
  EXPECT_EQ(error_of("SELECT CAST(CAST('<a/>' AS xml) AS sql_variant)").text, "Operand type clash: xml is incompatible with sql_variant");
  must(*m_s, "CREATE TABLE big (t text, v sql_variant)");
  must(*m_s, "INSERT INTO big (t) VALUES ('long')");
  EXPECT_EQ(error_of("SELECT CAST(t AS sql_variant) FROM big").text, "Operand type clash: text is incompatible with sql_variant");
  EXPECT_EQ(error_of("INSERT INTO big (v) VALUES (CAST('x' AS ntext))").number, 206);
}

// UPDATE ... SET does not convert its values (README.md "Types and values"): a value stored
// that way reads back with the base type of its storage class.
TEST_F(EngineSqlVariantTest, AValueStoredWithoutConversionReadsBackByItsStorageClass) {
  must(*m_s, "CREATE TABLE t (id int PRIMARY KEY, v sql_variant)");
  must(*m_s, "INSERT INTO t (id, v) VALUES (1, NULL)");
  must(*m_s, "UPDATE t SET v = 5 WHERE id = 1");
  auto i = variant("SELECT v FROM t");
  EXPECT_EQ(i.base.type, SqlType::int_);
  EXPECT_EQ(std::get<std::int64_t>(i.value), 5);
  must(*m_s, "UPDATE t SET v = CAST(2.5 AS sql_variant) WHERE id = 1");
  EXPECT_EQ(variant("SELECT v FROM t").base.type, SqlType::decimal);
}

// "Comparing sql_variant values": by data type family first (date and time > approximate
// numeric > exact numeric > character > binary > uniqueidentifier), then by value.
TEST_F(EngineSqlVariantTest, ComparisonsGoByBaseTypeFamilyThenValue) {
  must(*m_s, "CREATE TABLE t (id int PRIMARY KEY, v sql_variant)");
  must(*m_s, "INSERT INTO t (id, v) VALUES (1, 5), (2, CAST(5.00 AS decimal(5,2))), (3, 'ABC '), (4, CAST(1.0 AS float)),"
             " (5, CAST('2020-01-01' AS date)), (6, 0x05)");
  auto ids = [&](const std::string& where) {
    auto r = must(*m_s, "SELECT id FROM t WHERE " + where + " ORDER BY id");
    std::string out;
    for (auto& row : r.sets.back().rows) out += (out.empty() ? "" : ",") + std::to_string(as_int(row[0]));
    return out;
  };
  EXPECT_EQ(ids("v = 5"), "1,2");            // int and decimal: one family, equal values
  EXPECT_EQ(ids("v = 'abc'"), "3");          // the default collation: case and trailing blanks ignored
  EXPECT_EQ(ids("v > 'zzz'"), "1,2,4,5");    // every numeric and date/time value is above any string
  EXPECT_EQ(ids("v < CAST(1000 AS int)"), "1,2,3,6");  // strings and binary are below exact numerics
  EXPECT_EQ(ids("v = CAST(5 AS sql_variant)"), "1,2");
  EXPECT_EQ(as_int(scalar("DECLARE @a sql_variant = 1, @b sql_variant = 'x'; SELECT CASE WHEN @a > @b THEN 1 ELSE 0 END")), 1);
}

// A client's sql_variant RPC parameter (the TDS layer decodes SSVARIANT_INSTANCE to the stored
// form) and a sql_variant OUTPUT parameter, answered with its base type.
TEST_F(EngineSqlVariantTest, RpcParametersAndOutputParametersKeepTheBaseType) {
  std::vector<RpcParam> params(4);
  params[0].name = "@stmt";
  params[0].type = {SqlType::nvarchar, 200, 0, 0};
  params[0].value = std::string("SET @out = @in; SET @kind = CAST(SQL_VARIANT_PROPERTY(@in, 'BaseType') AS nvarchar(20))");
  params[1].name = "@params";
  params[1].type = {SqlType::nvarchar, 200, 0, 0};
  params[1].value = std::string("@in sql_variant, @out sql_variant OUTPUT, @kind nvarchar(20) OUTPUT");
  params[2].name = "@in";
  params[2].type = {SqlType::sql_variant, 0, 0, 0};
  params[2].value = std::string("decimal(4,2):11.16");
  params[3].name = "@out";
  params[3].type = {SqlType::sql_variant, 0, 0, 0};
  params[3].output = true;
  params.push_back(params[3]);
  params[4].name = "@kind";
  params[4].type = {SqlType::nvarchar, 20, 0, 0};
  CollectSink sink;
  m_s->execute_rpc("sp_executesql", params, sink);
  ASSERT_EQ(sink.c.errors, 0) << (sink.c.error() ? sink.c.error()->text : "");
  ASSERT_EQ(sink.c.return_values.size(), 2u);
  EXPECT_EQ(sink.c.return_values[0].type.type, SqlType::sql_variant);
  EXPECT_EQ(as_str(sink.c.return_values[0].value), "decimal(4,2):11.16");
  EXPECT_EQ(as_str(sink.c.return_values[1].value), "decimal");
}

// sys.database_scoped_configurations.value is sql_variant, as in SQL Server; the product reads
// it as CAST(value AS nvarchar(4000)) (core/database_settings.cpp).
TEST_F(EngineSqlVariantTest, DatabaseScopedConfigurationValuesAreSqlVariants) {
  auto r = must(*m_s, "SELECT name, value, CAST(value AS nvarchar(4000)) FROM sys.database_scoped_configurations"
                      " WHERE name = 'MAXDOP'");
  ASSERT_EQ(r.sets.back().rows.size(), 1u);
  EXPECT_EQ(r.sets.back().columns[1].type.type, SqlType::sql_variant);
  auto v = engine::decode_variant(as_str(r.sets.back().rows[0][1]));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->base.type, SqlType::int_);
  EXPECT_EQ(as_str(r.sets.back().rows[0][2]), "0");
}

TEST(SqlVariantStoredForm, RoundTripsEveryBaseTypeRepresentation) {
  ColumnType dec{SqlType::decimal, 0, 4, 2};
  EXPECT_EQ(engine::encode_variant(dec, Value{std::string("11.16")}), "decimal(4,2):11.16");
  auto d = engine::decode_variant("decimal(4,2):11.16");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->base.precision, 4);
  ColumnType bin{SqlType::varbinary, 16, 0, 0};
  const std::string stored = engine::encode_variant(bin, Value{Bytes{{0x00, 0xAB}}});
  EXPECT_EQ(stored, "varbinary(16):00ab");
  EXPECT_EQ(std::get<Bytes>(engine::decode_variant(stored)->value).data, (std::vector<std::uint8_t>{0x00, 0xAB}));
  EXPECT_EQ(std::get<double>(engine::decode_variant(engine::encode_variant({SqlType::float_, 0, 0, 0}, Value{0.1}))->value), 0.1);
  EXPECT_FALSE(engine::decode_variant("no colon"));
  EXPECT_FALSE(engine::decode_variant("nvarchar(max):x"));
}

}  // namespace
