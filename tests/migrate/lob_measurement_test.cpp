// The LOB measurement on a scripted source: the mapped tables' LOB columns, one bounded query
// per table, and the errors that name the table (a lock timeout, a stop).
#include "migrate/lob_measurement.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "fakes/fake_sql_session.hpp"

using namespace m2r;
using mssql::FakeSqlSession;
using mssql::SqlValue;

namespace {

const char* k_columns[] = {"schema_name", "table_name", "column_name", "type_name", "max_length"};

std::shared_ptr<FakeSqlSession> catalog() {
  auto s = std::make_shared<FakeSqlSession>();
  s->on_rows("AS column_name", {std::begin(k_columns), std::end(k_columns)},
             {{"dbo", "Docs", "body", "nvarchar", -1},
              {"dbo", "Docs", "scan", "varbinary", -1},
              {"dbo", "AuditLog", "detail", "xml", -1},
              {"sales", "Notes", "text", "ntext", 16}});
  s->on_count("SET LOCK_TIMEOUT", 0);
  return s;
}

const std::string k_no_audit = R"({"rules":[
  {"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"},
  {"rule-type":"selection","rule-id":"2","rule-name":"2","object-locator":{"schema-name":"dbo","table-name":"AuditLog"},"rule-action":"exclude"}]})";

}  // namespace

TEST(LobMeasurementTest, ListsTheLobColumnsOfTheTablesTheMappingsSelect) {
  // Given four LOB columns and mappings that exclude dbo.AuditLog, three columns should be listed.
  auto s = catalog();
  const auto columns = list_lob_columns(*s, k_no_audit, {});
  ASSERT_TRUE(columns) << columns.error().message;
  ASSERT_EQ(columns->size(), 3u);
  EXPECT_EQ((*columns)[0].display(), "dbo.Docs.body");
  EXPECT_EQ((*columns)[1].display(), "dbo.Docs.scan");
  EXPECT_EQ((*columns)[2].display(), "sales.Notes.text");
  EXPECT_EQ((*columns)[2].type, "ntext");
}

TEST(LobMeasurementTest, OneBoundedQueryPerTableUnderTheLockTimeout) {
  // Given two tables, the measurement should set the lock timeout, send one MAX(DATALENGTH) query
  // per table bounded by the statement timeout, read NULL as "no value", and reset the timeout.
  auto s = catalog();
  s->on_rows("FROM [dbo].[Docs]", {"body", "scan"}, {{421888, SqlValue()}});
  s->on_rows("FROM [sales].[Notes]", {"text"}, {{12}});
  const auto columns = list_lob_columns(*s, k_no_audit, {}).value();
  LobMeasureOptions options;
  options.lock_timeout = std::chrono::milliseconds(5000);
  options.statement_timeout = std::chrono::seconds(42);
  const auto sizes = measure_lob_columns(*s, columns, options);
  ASSERT_TRUE(sizes) << sizes.error().message;
  ASSERT_EQ(sizes->size(), 3u);
  EXPECT_EQ((*sizes)[0].max_bytes, 421888);
  EXPECT_EQ((*sizes)[1].max_bytes, std::nullopt);
  EXPECT_EQ((*sizes)[2].max_bytes, 12);
  const auto ran = s->executed();
  std::vector<std::string> sql;
  for (const auto& st : ran) sql.push_back(st.sql);
  ASSERT_EQ(sql.size(), 5u) << ::testing::PrintToString(sql);
  EXPECT_EQ(sql[1], "SET LOCK_TIMEOUT 5000");
  EXPECT_EQ(sql[2], "SELECT MAX(CONVERT(bigint, DATALENGTH([body]))) AS [body], MAX(CONVERT(bigint, DATALENGTH([scan]))) "
                    "AS [scan] FROM [dbo].[Docs]");
  EXPECT_EQ(ran[2].options.timeout, std::chrono::seconds(42));
  EXPECT_NE(sql[3].find("FROM [sales].[Notes]"), std::string::npos);
  EXPECT_EQ(sql[4], "SET LOCK_TIMEOUT -1");
}

TEST(LobMeasurementTest, ALockTimeoutNamesTheTableAndTheFix) {
  auto s = catalog();
  s->on_error("DATALENGTH", Error(ErrorKind::fatal, "SQL Server error 1222 (severity 16, state 51): Lock request time "
                                                    "out period exceeded."));
  const auto columns = list_lob_columns(*s, k_no_audit, {}).value();
  const auto sizes = measure_lob_columns(*s, columns, {});
  ASSERT_FALSE(sizes);
  EXPECT_EQ(sizes.error().kind, ErrorKind::timeout);
  EXPECT_NE(sizes.error().message.find("the LOB measurement of dbo.Docs waited longer than the lock timeout (10000 ms)"),
            std::string::npos)
      << sizes.error().message;
  EXPECT_NE(sizes.error().hint.find("lock_timeout_ms"), std::string::npos);
  EXPECT_EQ(s->executed_sql().back(), "SET LOCK_TIMEOUT -1");
}

TEST(LobMeasurementTest, AStopCancelsTheQueryInFlightAndNamesTheTable) {
  // Given a table scan that would run for a minute, a stop requested while it runs should cancel
  // it and end the measurement as interrupted, naming the table.
  auto s = catalog();
  mssql::FakeResponse slow;
  slow.delay_before_messages = std::chrono::seconds(60);
  s->on("DATALENGTH", slow);
  const auto columns = list_lob_columns(*s, k_no_audit, {}).value();
  StopSignal stop;
  std::thread stopper([&] {
    for (;;) {  // as soon as the scan is in flight
      const auto sql = s->executed_sql();
      if (std::any_of(sql.begin(), sql.end(), [](const std::string& q) { return q.find("DATALENGTH") != std::string::npos; }))
        break;
      std::this_thread::yield();
    }
    stop.request();
  });
  LobMeasureOptions options;
  options.stop = &stop;
  const auto sizes = measure_lob_columns(*s, columns, options);
  stopper.join();
  ASSERT_FALSE(sizes);
  EXPECT_EQ(sizes.error().kind, ErrorKind::interrupted);
  EXPECT_NE(sizes.error().message.find("stopped at dbo.Docs"), std::string::npos) << sizes.error().message;
  EXPECT_GE(s->cancel_calls(), 1);
}
