#include "mssql/sql_session.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fakes/fake_sql_session.hpp"
#include "mssql/text_encoding.hpp"
#include "support/wait_until.hpp"

namespace m2r::mssql {
namespace {

TEST(SqlValueTest, NumericLsnKeepsEveryDigit) {
  // Given a numeric(25,0) LSN larger than int64 as exact text, should keep it as text and refuse as_int64.
  const SqlValue lsn(std::string("9999999999999999999999999"));
  EXPECT_EQ(lsn.as_string().value(), "9999999999999999999999999");
  EXPECT_FALSE(lsn.as_int64());
  // One that fits (docs/facts.md §1 vector) converts exactly.
  EXPECT_EQ(SqlValue(std::string("37000000295900004")).as_int64().value(), 37000000295900004);
  EXPECT_EQ(SqlValue(std::string("42.000")).as_int64().value(), 42);
  EXPECT_FALSE(SqlValue(std::string("42.5")).as_int64());
}

TEST(SqlValueTest, AccessorsRefuseNullAndOtherKinds) {
  // Given NULL or a value of another kind, typed accessors should fail, not invent a value.
  EXPECT_FALSE(SqlValue().as_int64());
  EXPECT_FALSE(SqlValue().as_string());
  EXPECT_FALSE(SqlValue(std::int64_t{1}).as_string());
  EXPECT_FALSE(SqlValue(std::int64_t{2}).as_bool());
  EXPECT_TRUE(SqlValue(std::int64_t{1}).as_bool().value());
  EXPECT_DOUBLE_EQ(SqlValue(std::int64_t{3}).as_double().value(), 3.0);
  EXPECT_EQ(SqlValue(Bytes{{0xDE, 0xAD}}).to_text(), "0xDEAD");
  EXPECT_EQ(SqlValue().to_text(), "NULL");
  EXPECT_TRUE(SqlValue().is_null());
}

TEST(ResultSetTest, ValueByColumnNameIsCaseInsensitive) {
  // Given a result set, should find columns by name as SQL Server does (case-insensitively).
  ResultSet set;
  set.columns = {{"first_lsn", SqlType::decimal, "numeric", 25, 25, 0, true}};
  set.rows = {{SqlValue(std::string("37000000295900004"))}};
  EXPECT_EQ(set.value(0, "FIRST_LSN").value().as_string().value(), "37000000295900004");
  EXPECT_FALSE(set.value(0, "last_lsn"));
  EXPECT_FALSE(set.value(1, "first_lsn"));
}

TEST(FakeSqlSessionTest, AnswersByFragmentAndRecordsStatementsWithParameters) {
  // Given scripted answers, should answer the matching statement and record it with its parameters.
  FakeSqlSession fake;
  fake.on_rows("from msdb.dbo.backupset", {"first_lsn"}, {{SqlValue(std::string("37000000295900004"))}});
  SqlSession& session = fake;
  const auto r = session.query("SELECT first_lsn FROM msdb.dbo.backupset WHERE database_name = ?",
                               {SqlParam::nvarchar("Sales")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows().at(0).at(0).as_string().value(), "37000000295900004");
  ASSERT_EQ(fake.executed().size(), 1u);
  EXPECT_EQ(fake.executed()[0].params.at(0).value.as_string().value(), "Sales");
}

TEST(FakeSqlSessionTest, UnscriptedStatementsFailAndAreStillRecorded) {
  // Given no script for a statement, should fail (fatal) and still record it.
  FakeSqlSession fake;
  const auto r = fake.execute("DROP DATABASE Sales");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::fatal);
  EXPECT_EQ(fake.executed_sql(), std::vector<std::string>{"DROP DATABASE Sales"});
}

TEST(FakeSqlSessionTest, SequencesOfAnswersThenTheLastRepeats) {
  // Given two answers for one fragment, should use them in order and then repeat the last.
  FakeSqlSession fake;
  fake.on_count("UPDATE", 1).on_count("UPDATE", 5);
  EXPECT_EQ(fake.execute("UPDATE t SET x = 1").value(), 1);
  EXPECT_EQ(fake.execute("UPDATE t SET x = 2").value(), 5);
  EXPECT_EQ(fake.execute("UPDATE t SET x = 3").value(), 5);
}

TEST(FakeSqlSessionTest, DeliversBackupProgressThroughTheHandlerInOrder) {
  // Given a scripted BACKUP with STATS = 25, should hand each message to the handler in order and collect them.
  FakeSqlSession fake;
  FakeResponse backup;
  backup.messages = backup_progress_messages(25, "Sales");
  fake.on("BACKUP DATABASE", backup);
  std::vector<std::string> seen;
  const auto r = fake.execute_with_messages("BACKUP DATABASE @db TO DISK = @path WITH STATS = 25", {},
                                            [&](const SqlMessage& m) { seen.push_back(m.text); });
  ASSERT_TRUE(r);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0], "25 percent processed.");
  EXPECT_EQ(seen[3], "100 percent processed.");
  EXPECT_EQ(r->messages.back().number, 3014);
}

TEST(FakeSqlSessionTest, ScriptedErrorsComeAfterTheirMessages) {
  // Given an error scripted after messages, should deliver the messages, then fail with the error.
  FakeSqlSession fake;
  FakeResponse r;
  r.messages = {info_message(3211, "10 percent processed.")};
  r.error = Error(ErrorKind::prerequisite, "SQL Server error 3201 (severity 16, state 1): Cannot open backup device");
  fake.on("BACKUP", r);
  int delivered = 0;
  const auto out = fake.execute_with_messages("BACKUP DATABASE x", {}, [&](const SqlMessage&) { ++delivered; });
  EXPECT_EQ(delivered, 1);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, ErrorKind::prerequisite);
}

TEST(FakeSqlSessionTest, CancelFromAnotherThreadStopsTheMessages) {
  // Given slow progress and a cancel from another thread, should stop early with a cancelled error.
  FakeSqlSession fake;
  FakeResponse slow;
  slow.messages = backup_progress_messages(10, "Sales");
  slow.delay_between_messages = std::chrono::milliseconds(50);
  fake.on("BACKUP", slow);
  std::atomic<int> delivered{0};
  std::thread canceller([&] {
    // Cancel once the statement is under way: two messages delivered.
    EXPECT_TRUE(m2r::test::wait_until([&] { return delivered.load() >= 2; }));
    fake.cancel();
  });
  const auto out = fake.execute_with_messages("BACKUP DATABASE x", {}, [&](const SqlMessage&) { ++delivered; });
  canceller.join();
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("cancelled"), std::string::npos);
  EXPECT_LT(delivered, 12);
  EXPECT_EQ(fake.cancel_calls(), 1);
}

TEST(TextEncodingTest, RoundTripsBmpAndSupplementaryCharacters) {
  // Given UTF-8 with accents, a BMP symbol and an emoji, should survive UTF-16 and back.
  const std::string text = "caf\xC3\xA9 \xE2\x98\x83 \xF0\x9F\x98\x80";
  const auto wide = utf8_to_utf16(text);
  EXPECT_EQ(wide.size(), 9u);  // c a f é ␠ ☃ ␠ + a surrogate pair
  EXPECT_EQ(utf16_to_utf8(wide), text);
}

TEST(TextEncodingTest, InvalidInputBecomesReplacementCharacters) {
  // Given a stray continuation byte or an unpaired surrogate, should substitute U+FFFD.
  EXPECT_EQ(utf8_to_utf16("a\x80"), (std::u16string{u'a', 0xFFFD}));
  EXPECT_EQ(utf16_to_utf8(std::u16string{0xD800}), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace m2r::mssql
