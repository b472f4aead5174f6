// API server cursors (sandbox/engine/cursors.cpp, README.md "Server cursors"): what an ODBC
// driver relies on when it calls sp_cursoropen, sp_cursorfetch, sp_cursor, sp_cursoroption and
// sp_cursorclose by RPC, with the values and errors Microsoft documents.
#include <gtest/gtest.h>

#include "engine_test_support.hpp"

using namespace sandbox;
using namespace sandbox::test;

namespace {

constexpr int k_keyset = 0x1, k_dynamic = 0x2, k_forward_only = 0x4, k_static = 0x8;
constexpr int k_read_only = 0x1, k_optimistic = 0x4, k_allow_direct = 0x2000;
constexpr int k_first = 0x1, k_next = 0x2, k_prev = 0x4, k_last = 0x8, k_absolute = 0x10, k_relative = 0x20,
              k_info = 0x100;
constexpr int k_update = 0x1, k_delete = 0x2, k_setposition = 0x20;

const ColumnType k_int{SqlType::int_, 0, 0, 0};
const ColumnType k_text{SqlType::nvarchar, k_max_length, 0, 0};

RpcParam param(ColumnType type, Value v, bool output = false, std::string name = "") {
  RpcParam p;
  p.name = std::move(name);
  p.type = type;
  p.value = std::move(v);
  p.output = output;
  return p;
}
RpcParam int_in(std::int64_t v) { return param(k_int, Value{v}); }
RpcParam int_out(std::int64_t v = 0) { return param(k_int, Value{v}, true); }
RpcParam text_in(const std::string& s) { return param(k_text, Value{s}); }

class EngineCursorsTest : public ShopInstanceTest {
 protected:
  EngineCursorsTest() : ShopInstanceTest("cursors") {}
  void SetUp() override {
    ShopInstanceTest::SetUp();
    must(*m_s, "CREATE TABLE Items (id int PRIMARY KEY, name nvarchar(20))");
    must(*m_s, "INSERT INTO Items VALUES (1, N'one'), (2, N'two'), (3, N'three'), (4, N'four'), (5, N'five')");
  }
  Collected rpc(const std::string& proc, const std::vector<RpcParam>& params, Session* s = nullptr) {
    CollectSink sink;
    (s ? *s : *m_s).execute_rpc(proc, params, sink);
    return sink.c;
  }
  // sp_cursoropen as FreeTDS sends it: every parameter positional, the four OUTPUTs.
  Collected open(const std::string& sql, int scrollopt, int ccopt, Session* s = nullptr) {
    return rpc("sp_cursoropen", {int_out(), text_in(sql), int_out(scrollopt), int_out(ccopt), int_out()}, s);
  }
  std::int32_t open_handle(const std::string& sql, int scrollopt, int ccopt) {
    const auto r = open(sql, scrollopt, ccopt);
    EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
    if (r.return_values.empty()) return 0;
    return static_cast<std::int32_t>(as_int(r.return_values[0].value));
  }
  Collected fetch(std::int32_t cursor, int type, std::int64_t rownum, std::int64_t nrows, Session* s = nullptr) {
    return rpc("sp_cursorfetch", {int_in(cursor), int_in(type), int_in(rownum), int_in(nrows)}, s);
  }
  // The ids a fetch returned.
  static std::vector<std::int64_t> ids(const Collected& r) {
    std::vector<std::int64_t> out;
    if (r.sets.empty()) return out;
    for (const auto& row : r.sets.back().rows) {
      out.push_back(std::holds_alternative<std::int64_t>(row[0]) ? as_int(row[0]) : -1);
    }
    return out;
  }
  std::vector<std::int64_t> fetch_ids(std::int32_t cursor, int type, std::int64_t rownum, std::int64_t nrows) {
    const auto r = fetch(cursor, type, rownum, nrows);
    EXPECT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
    return ids(r);
  }
  static const char* const k_select;
};
const char* const EngineCursorsTest::k_select = "SELECT id, name FROM Items ORDER BY id";

using Ids = std::vector<std::int64_t>;

TEST_F(EngineCursorsTest, OpenSendsTheColumnsWithoutRowsThenStatusHandleOptionsAndRowCount) {
  // Given a keyset cursor asked for OPTIMISTIC with ALLOW_DIRECT over a single table, sp_cursoropen
  // should send the result set's metadata with no row, RETURNSTATUS 0, then the four OUTPUT
  // parameters in order: a handle, the scroll and concurrency options chosen, and the row count.
  const auto r = open(k_select, k_keyset, k_optimistic | k_allow_direct);
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.sets.size(), 1u);
  // The statement's columns with their base table (COLINFO), then the hidden ROWSTAT; no key column.
  ASSERT_EQ(r.sets[0].columns.size(), 3u);
  EXPECT_EQ(r.sets[0].columns[0].name, "id");
  EXPECT_EQ(r.sets[0].columns[0].base_table, "Items");
  EXPECT_FALSE(r.sets[0].columns[0].hidden);
  EXPECT_EQ(r.sets[0].columns[1].name, "name");
  EXPECT_EQ(r.sets[0].columns[2].name, "ROWSTAT");
  EXPECT_TRUE(r.sets[0].columns[2].hidden);
  EXPECT_TRUE(r.sets[0].rows.empty());
  EXPECT_EQ(r.statuses, std::vector<int>{0});
  ASSERT_EQ(r.return_values.size(), 4u);
  EXPECT_NE(as_int(r.return_values[0].value), 0);
  EXPECT_EQ(as_int(r.return_values[1].value), k_keyset);
  EXPECT_EQ(as_int(r.return_values[2].value), k_optimistic | k_allow_direct);
  EXPECT_EQ(as_int(r.return_values[3].value), 5);
  EXPECT_EQ(r.order, (std::vector<std::string>{"status", "value", "value", "value", "value", "done_proc"}));
}

TEST_F(EngineCursorsTest, StaticAndGroupedCursorsAreReadOnlyAndSpCursorRefusesThemWith16929) {
  // Given a STATIC cursor asked for OPTIMISTIC, the server should answer READ_ONLY (static cursors
  // are), and a positioned UPDATE through it should fail with 16929 "The cursor is READ ONLY.";
  // so should one over a grouped SELECT.
  const auto r = open(k_select, k_static, k_optimistic);
  ASSERT_EQ(r.return_values.size(), 4u);
  EXPECT_EQ(as_int(r.return_values[1].value), k_static);
  EXPECT_EQ(as_int(r.return_values[2].value), k_read_only);
  EXPECT_EQ(as_int(r.return_values[3].value), 5);
  const auto cursor = static_cast<std::int32_t>(as_int(r.return_values[0].value));
  ASSERT_EQ(fetch_ids(cursor, k_first, 0, 1), Ids{1});
  auto u = rpc("sp_cursor", {int_in(cursor), int_in(k_update | k_setposition), int_in(1), text_in(""),
                             param(k_text, std::string("x"), false, "@name")});
  ASSERT_NE(u.error(), nullptr);
  EXPECT_EQ(u.error()->number, 16929);
  EXPECT_EQ(u.error()->text, "The cursor is READ ONLY.");

  const auto g = open("SELECT COUNT(*) AS n FROM Items GROUP BY name", k_keyset, k_optimistic);
  ASSERT_EQ(g.return_values.size(), 4u);
  EXPECT_EQ(as_int(g.return_values[2].value), k_read_only);
  const auto grouped = static_cast<std::int32_t>(as_int(g.return_values[0].value));
  ASSERT_EQ(fetch(grouped, k_first, 0, 1).errors, 0);
  auto d = rpc("sp_cursor", {int_in(grouped), int_in(k_delete | k_setposition), int_in(1), text_in("")});
  ASSERT_NE(d.error(), nullptr);
  EXPECT_EQ(d.error()->number, 16929);
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{5}});
}

TEST_F(EngineCursorsTest, ACursorOverAJoinChangesTheTableTheColumnsComeFrom) {
  // Given a keyset cursor over `Items, Tags`, sp_cursor without a table name should change the
  // first table of FROM (sp_cursor's documented default); @table names another one, and a value
  // named by a column's alias in the select list sets the table's column.
  must(*m_s, "CREATE TABLE Tags (item int, tag nvarchar(10))");
  must(*m_s, "INSERT INTO Tags VALUES (1, N'a'), (2, N'b')");
  const auto j = open("SELECT i.id, t.tag AS label FROM Items i, Tags t WHERE t.item = i.id ORDER BY i.id", k_keyset,
                      k_optimistic);
  ASSERT_EQ(j.errors, 0) << (j.error() ? j.error()->text : "");
  ASSERT_EQ(j.return_values.size(), 4u);
  EXPECT_EQ(as_int(j.return_values[2].value), k_optimistic);
  ASSERT_EQ(j.sets.size(), 1u);
  ASSERT_EQ(j.sets[0].columns.size(), 3u);
  EXPECT_EQ(j.sets[0].columns[0].base_table, "Items");
  EXPECT_EQ(j.sets[0].columns[1].base_table, "Tags");  // t.tag AS label
  EXPECT_EQ(j.sets[0].columns[1].base_column, "tag");
  const auto c = static_cast<std::int32_t>(as_int(j.return_values[0].value));
  ASSERT_EQ(fetch_ids(c, k_first, 0, 2), (Ids{1, 2}));
  auto u = rpc("sp_cursor", {int_in(c), int_in(k_update | k_setposition), int_in(2), text_in("Tags"),
                             param(k_text, std::string("bee"), false, "@label")});
  ASSERT_EQ(u.errors, 0) << (u.error() ? u.error()->text : "");
  EXPECT_EQ(scalar_of(*m_s, "SELECT tag FROM Tags WHERE item = 2"), Value{std::string("bee")});
  auto first = rpc("sp_cursor", {int_in(c), int_in(k_update | k_setposition), int_in(2), text_in(""),
                                 param(k_text, std::string("x"), false, "@label")});
  ASSERT_NE(first.error(), nullptr);  // Items has no column tag
  EXPECT_EQ(first.error()->text, "Invalid column name 'tag'.");
  auto d = rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(1), text_in("")});
  ASSERT_EQ(d.errors, 0) << (d.error() ? d.error()->text : "");
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{4}});
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Tags"), Value{std::int64_t{2}});
  auto t = rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(2), text_in("Tags")});
  ASSERT_EQ(t.errors, 0) << (t.error() ? t.error()->text : "");
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Tags"), Value{std::int64_t{1}});
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{4}});
  auto other = rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(2), text_in("Nowhere")});
  ASSERT_NE(other.error(), nullptr);
  EXPECT_EQ(other.error()->number, 16933);
}

TEST_F(EngineCursorsTest, CheckAcceptedOptionsRefusesAnUnacceptableConcurrencyWith16955) {
  // Given a STATIC cursor asked for OPTIMISTIC with CHECK_ACCEPTED_OPTS (0x8000), READ_ONLY is what
  // the server can give: 16955 unless READ_ONLY_ACCEPTABLE (0x10000) is set too.
  const auto refused = open(k_select, k_static, k_optimistic | 0x8000);
  ASSERT_NE(refused.error(), nullptr);
  EXPECT_EQ(refused.error()->number, 16955);
  EXPECT_EQ(refused.error()->text, "Could not create an acceptable cursor.");
  const auto accepted = open(k_select, k_static, k_optimistic | 0x8000 | 0x10000);
  ASSERT_EQ(accepted.errors, 0) << (accepted.error() ? accepted.error()->text : "");
  ASSERT_EQ(accepted.return_values.size(), 4u);
  EXPECT_EQ(as_int(accepted.return_values[2].value), k_read_only);
}

TEST_F(EngineCursorsTest, FetchMovesInEveryDirectionByOdbcsRules) {
  // Given a keyset cursor over five rows, each fetch type should return the buffer SQLFetchScroll
  // documents: FIRST, NEXT, NEXT (the short last buffer), NEXT (nothing: after the end), PRIOR from
  // after the end, LAST, ABSOLUTE, RELATIVE, RELATIVE before the start; INFO reports the position.
  const auto c = open_handle(k_select, k_keyset, k_read_only);
  EXPECT_EQ(fetch_ids(c, k_first, 0, 2), (Ids{1, 2}));
  EXPECT_EQ(fetch_ids(c, k_next, 0, 2), (Ids{3, 4}));
  EXPECT_EQ(fetch_ids(c, k_next, 0, 2), (Ids{5}));
  EXPECT_EQ(fetch_ids(c, k_next, 0, 2), Ids{});
  EXPECT_EQ(fetch_ids(c, k_prev, 0, 2), (Ids{4, 5}));
  EXPECT_EQ(fetch_ids(c, k_prev, 0, 3), (Ids{1, 2, 3}));  // fewer than 3 rows before: the first buffer
  EXPECT_EQ(fetch_ids(c, k_last, 0, 3), (Ids{3, 4, 5}));
  EXPECT_EQ(fetch_ids(c, k_absolute, 2, 2), (Ids{2, 3}));
  EXPECT_EQ(fetch_ids(c, k_absolute, -1, 2), (Ids{5}));
  EXPECT_EQ(fetch_ids(c, k_relative, -3, 2), (Ids{2, 3}));

  const auto info = rpc("sp_cursorfetch", {int_in(c), int_in(k_info), int_out(), int_out()});
  ASSERT_EQ(info.errors, 0);
  EXPECT_TRUE(info.sets.empty());
  ASSERT_EQ(info.return_values.size(), 2u);
  EXPECT_EQ(as_int(info.return_values[0].value), 2);  // the buffer starts at row 2
  EXPECT_EQ(as_int(info.return_values[1].value), 5);

  EXPECT_EQ(fetch_ids(c, k_relative, -10, 2), Ids{});  // before the first row
  EXPECT_EQ(fetch_ids(c, k_next, 0, 1), Ids{1});
}

TEST_F(EngineCursorsTest, PositionedUpdateAndDeleteChangeTheTableAndTheKeysetShowsTheHole) {
  // Given a keyset OPTIMISTIC cursor and a fetched buffer of rows 1-3, sp_cursor UPDATE of buffer
  // row 2 and DELETE of buffer row 1 should change the table; fetching the buffer again should show
  // the new value and, for the deleted row, a hole (its key is in the keyset, its values NULL).
  const auto c = open_handle(k_select, k_keyset, k_optimistic);
  ASSERT_EQ(fetch_ids(c, k_first, 0, 3), (Ids{1, 2, 3}));
  auto u = rpc("sp_cursor", {int_in(c), int_in(k_update | k_setposition), int_in(2), text_in(""),
                             param(k_text, std::string("deux"), false, "@name")});
  ASSERT_EQ(u.errors, 0) << (u.error() ? u.error()->text : "");
  EXPECT_EQ(u.statuses.back(), 0);
  EXPECT_EQ(scalar_of(*m_s, "SELECT name FROM Items WHERE id = 2"), Value{std::string("deux")});
  auto d = rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(1), text_in("")});
  ASSERT_EQ(d.errors, 0) << (d.error() ? d.error()->text : "");
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{4}});

  const auto again = fetch(c, k_first, 0, 3);
  ASSERT_EQ(again.sets.size(), 1u);
  const auto& rows = again.sets[0].rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(rows[0][0]));
  EXPECT_EQ(rows[0][2], Value{std::int64_t{2}});  // ROWSTAT: FETCH_MISSING
  EXPECT_EQ(rows[1][1], Value{std::string("deux")});
  EXPECT_EQ(rows[1][2], Value{std::int64_t{1}});  // FETCH_SUCCEEDED
  EXPECT_EQ(rows[2][0], Value{std::int64_t{3}});
}

TEST_F(EngineCursorsTest, KeysetRowsCarryChangesOtherStatementsMade) {
  // Given a keyset cursor, a row another statement updates should show its new value at the next
  // fetch (the keyset is fixed, the values are current).
  const auto c = open_handle(k_select, k_keyset, k_optimistic);
  must(*m_s, "UPDATE Items SET name = N'changed' WHERE id = 1");
  const auto r = fetch(c, k_first, 0, 1);
  ASSERT_EQ(r.sets.size(), 1u);
  ASSERT_EQ(r.sets[0].rows.size(), 1u);
  EXPECT_EQ(r.sets[0].rows[0][1], Value{std::string("changed")});
}

TEST_F(EngineCursorsTest, DynamicCursorsSkipDeletedRowsAndRefuseAbsoluteWith16925) {
  // Given a dynamic cursor, a deleted row should no longer be fetched, and FETCH ABSOLUTE should
  // fail with 16925 (FreeTDS fetches FIRST and RELATIVE instead).
  const auto c = open_handle(k_select, k_dynamic, k_optimistic);
  ASSERT_EQ(fetch_ids(c, k_first, 0, 2), (Ids{1, 2}));
  ASSERT_EQ(rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(2), text_in("")}).errors, 0);
  EXPECT_EQ(fetch_ids(c, k_first, 0, 2), (Ids{1, 3}));
  const auto r = fetch(c, k_absolute, 2, 1);
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 16925);
  EXPECT_EQ(fetch_ids(c, k_first, 0, 0), Ids{});
  EXPECT_EQ(fetch_ids(c, k_relative, 3, 2), (Ids{4, 5}));  // ABSOLUTE 3, as FreeTDS emulates it
}

TEST_F(EngineCursorsTest, ForwardOnlyCursorsRefuseScrollingWith16911) {
  const auto c = open_handle(k_select, k_forward_only, k_read_only);
  EXPECT_EQ(fetch_ids(c, k_next, 0, 2), (Ids{1, 2}));
  const auto r = fetch(c, k_prev, 0, 2);
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 16911);
  EXPECT_EQ(r.error()->text, "sp_cursorfetch: The fetch type PREV cannot be used with forward only cursors.");
}

TEST_F(EngineCursorsTest, PositionedWritesGoThroughTheSessionsTransaction) {
  // Given an open transaction, a positioned DELETE should be part of it: ROLLBACK brings the row back.
  const auto c = open_handle(k_select, k_keyset, k_optimistic);
  ASSERT_EQ(fetch_ids(c, k_first, 0, 1), Ids{1});
  must(*m_s, "BEGIN TRANSACTION");
  ASSERT_EQ(rpc("sp_cursor", {int_in(c), int_in(k_delete | k_setposition), int_in(1), text_in("")}).errors, 0);
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{4}});
  must(*m_s, "ROLLBACK");
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{5}});
}

TEST_F(EngineCursorsTest, AnUnknownOrClosedHandleIs16909) {
  // Given a handle no cursor has, sp_cursorfetch should fail with 16909 naming it in hex; after
  // sp_cursorclose the handle is gone too.
  const auto bad = fetch(0x3039, k_next, 0, 1);
  ASSERT_NE(bad.error(), nullptr);
  EXPECT_EQ(bad.error()->number, 16909);
  EXPECT_EQ(bad.error()->text, "sp_cursorfetch: The cursor identifier value provided (3039) is not valid.");
  const auto c = open_handle(k_select, k_keyset, k_read_only);
  const auto closed = rpc("sp_cursorclose", {int_in(c)});
  ASSERT_EQ(closed.errors, 0);
  EXPECT_EQ(closed.statuses, std::vector<int>{0});
  const auto after = fetch(c, k_next, 0, 1);
  ASSERT_NE(after.error(), nullptr);
  EXPECT_EQ(after.error()->number, 16909);
}

TEST_F(EngineCursorsTest, CursorsBelongToTheirSessionAndGoWithAReset) {
  // Given a cursor of one session, another session should not find its handle, and
  // sp_reset_connection should close it.
  const auto c = open_handle(k_select, k_keyset, k_read_only);
  auto other = login(*m_inst, "shop");
  const auto elsewhere = fetch(c, k_next, 0, 1, other.get());
  ASSERT_NE(elsewhere.error(), nullptr);
  EXPECT_EQ(elsewhere.error()->number, 16909);
  EXPECT_EQ(fetch_ids(c, k_next, 0, 1), Ids{1});
  m_s->reset(false);
  must(*m_s, "USE shop");
  const auto after = fetch(c, k_next, 0, 1);
  ASSERT_NE(after.error(), nullptr);
  EXPECT_EQ(after.error()->number, 16909);
}

TEST_F(EngineCursorsTest, AStatementThatIsNotASelectRunsDirectlyWith16954AndNoCursor) {
  // Given DDL as a cursor's statement, SQL Server runs it, says "Executing SQL directly; no
  // cursor." (16954, informational) and answers handle 0.
  const auto r = open("CREATE TABLE Direct (a int)", k_dynamic, k_read_only);
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_TRUE(r.has_message(16954));
  ASSERT_FALSE(r.return_values.empty());
  EXPECT_EQ(as_int(r.return_values[0].value), 0);
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Direct"), Value{std::int64_t{0}});
}

TEST_F(EngineCursorsTest, AParameterizedStatementTakesItsValues) {
  // Given PARAMETERIZED_STMT, the parameter definitions and the values follow @rowcount.
  const auto r = rpc("sp_cursoropen", {int_out(), text_in("SELECT id, name FROM Items WHERE id > @P1 ORDER BY id"),
                                       int_out(k_static | 0x1000), int_out(k_read_only), int_out(),
                                       text_in("@P1 int"), int_in(3)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 4u);
  EXPECT_EQ(as_int(r.return_values[3].value), 2);
  EXPECT_EQ(fetch_ids(static_cast<std::int32_t>(as_int(r.return_values[0].value)), k_first, 0, 5), (Ids{4, 5}));
}

TEST_F(EngineCursorsTest, ForUpdateAndForReadOnlyEndACursorStatement) {
  // FOR READ ONLY makes the cursor READ_ONLY (a static one too, whose statement runs without the
  // clause); FOR UPDATE on a cursor asked to be READ_ONLY is 16957.
  const auto r = open("SELECT id FROM Items ORDER BY id FOR READ ONLY", k_static, k_read_only);
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  ASSERT_EQ(r.return_values.size(), 4u);
  EXPECT_EQ(as_int(r.return_values[3].value), 5);
  const auto k = open("SELECT id FROM Items FOR READ ONLY", k_keyset, k_optimistic);
  ASSERT_EQ(k.return_values.size(), 4u);
  EXPECT_EQ(as_int(k.return_values[2].value), k_read_only);
  const auto u = open("SELECT id FROM Items FOR UPDATE", k_keyset, k_read_only);
  ASSERT_NE(u.error(), nullptr);
  EXPECT_EQ(u.error()->number, 16957);
}

TEST_F(EngineCursorsTest, ACursorNameIsUniqueInTheSession) {
  // sp_cursoroption 2 names a cursor; a second cursor of the same name is 16915.
  const auto a = open_handle(k_select, k_keyset, k_read_only);
  const auto b = open_handle(k_select, k_keyset, k_read_only);
  ASSERT_EQ(rpc("sp_cursoroption", {int_in(a), int_in(2), text_in("c1")}).errors, 0);
  const auto r = rpc("sp_cursoroption", {int_in(b), int_in(2), text_in("C1")});
  ASSERT_NE(r.error(), nullptr);
  EXPECT_EQ(r.error()->number, 16915);
}

TEST_F(EngineCursorsTest, WhereCurrentOfChangesTheCursorsCurrentRow) {
  // Given a named updatable cursor with a fetched buffer, UPDATE ... WHERE CURRENT OF should change
  // the buffer's first row; after sp_cursor SETPOSITION on buffer row 2, DELETE ... WHERE CURRENT OF
  // should delete that row. An unknown name is 16916; another table is 16933.
  const auto c = open_handle(k_select, k_keyset, k_optimistic);
  ASSERT_EQ(rpc("sp_cursoroption", {int_in(c), int_in(2), text_in("c1")}).errors, 0);
  ASSERT_EQ(fetch_ids(c, k_first, 0, 2), (Ids{1, 2}));
  must(*m_s, "UPDATE Items SET name = N'current' WHERE CURRENT OF c1");
  EXPECT_EQ(scalar_of(*m_s, "SELECT name FROM Items WHERE id = 1"), Value{std::string("current")});
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items WHERE name = N'current'"), Value{std::int64_t{1}});
  ASSERT_EQ(rpc("sp_cursor", {int_in(c), int_in(k_setposition), int_in(2), text_in("")}).errors, 0);
  must(*m_s, "DELETE FROM Items WHERE CURRENT OF c1");
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items WHERE id = 2"), Value{std::int64_t{0}});
  EXPECT_EQ(scalar_of(*m_s, "SELECT COUNT(*) FROM Items"), Value{std::int64_t{4}});

  EXPECT_EQ(error_of(*m_s, "DELETE FROM Items WHERE CURRENT OF nosuch").number, 16916);
  must(*m_s, "CREATE TABLE Other (id int)");
  EXPECT_EQ(error_of(*m_s, "DELETE FROM Other WHERE CURRENT OF c1").number, 16933);
}

TEST_F(EngineCursorsTest, AutoFetchSendsTheFirstBufferWithTheOpen) {
  // Given AUTO_FETCH (0x2000) and @rowcount 2, sp_cursoropen should send the first two rows with
  // the metadata and answer @rowcount 2 (the rows sent); the next fetch goes on from there.
  const auto r = rpc("sp_cursoropen", {int_out(), text_in(k_select), int_out(k_keyset | 0x2000), int_out(k_read_only),
                                       int_out(2)});
  ASSERT_EQ(r.errors, 0) << (r.error() ? r.error()->text : "");
  EXPECT_EQ(ids(r), (Ids{1, 2}));
  ASSERT_EQ(r.return_values.size(), 4u);
  EXPECT_EQ(as_int(r.return_values[1].value), k_keyset | 0x2000);
  EXPECT_EQ(as_int(r.return_values[3].value), 2);
  EXPECT_EQ(fetch_ids(static_cast<std::int32_t>(as_int(r.return_values[0].value)), k_next, 0, 2), (Ids{3, 4}));
}

TEST_F(EngineCursorsTest, PreparedCursorsOpenByHandle) {
  // sp_cursorprepare keeps the statement and answers a handle; sp_cursorexecute opens a cursor on it
  // (with its parameter values); sp_cursorunprepare drops it, after which the handle is 16902.
  const auto p = rpc("sp_cursorprepare", {int_out(), text_in("@P1 int"), text_in("SELECT id FROM Items WHERE id >= @P1 ORDER BY id"),
                                          int_in(0), int_out(k_static), int_out(k_read_only)});
  ASSERT_EQ(p.errors, 0) << (p.error() ? p.error()->text : "");
  ASSERT_FALSE(p.return_values.empty());
  const auto prepared = as_int(p.return_values[0].value);
  const auto e = rpc("sp_cursorexecute", {int_in(prepared), int_out(), int_out(k_static), int_out(k_read_only), int_out(),
                                          int_in(4)});
  ASSERT_EQ(e.errors, 0) << (e.error() ? e.error()->text : "");
  ASSERT_EQ(e.return_values.size(), 4u);
  EXPECT_EQ(as_int(e.return_values[3].value), 2);
  EXPECT_EQ(fetch_ids(static_cast<std::int32_t>(as_int(e.return_values[0].value)), k_first, 0, 5), (Ids{4, 5}));
  ASSERT_EQ(rpc("sp_cursorunprepare", {int_in(prepared)}).errors, 0);
  const auto gone = rpc("sp_cursorexecute", {int_in(prepared), int_out()});
  ASSERT_NE(gone.error(), nullptr);
  EXPECT_EQ(gone.error()->number, 16902);
}

TEST_F(EngineCursorsTest, ExecInABatchSetsTheOutputVariables) {
  // EXEC sp_cursoropen @c OUTPUT, ... in T-SQL should assign the handle and the row count to the
  // caller's variables; sp_cursorfetch with them returns the rows.
  const auto r = must(*m_s,
                      "DECLARE @c int, @scroll int = 8, @cc int = 1, @n int;\n"
                      "EXEC sp_cursoropen @c OUTPUT, N'SELECT id FROM Items ORDER BY id', @scroll OUTPUT, @cc OUTPUT, @n OUTPUT;\n"
                      "SELECT @n AS n;\n"
                      "EXEC sp_cursorfetch @c, 1, 0, 2;\n"
                      "EXEC sp_cursorclose @c;");
  ASSERT_EQ(r.sets.size(), 3u);  // the open's metadata, SELECT @n, the fetch
  EXPECT_EQ(r.sets[1].rows[0][0], Value{std::int64_t{5}});
  ASSERT_EQ(r.sets[2].rows.size(), 2u);
  EXPECT_EQ(r.sets[2].rows[1][0], Value{std::int64_t{2}});
}

}  // namespace
