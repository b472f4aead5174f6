// Unit tests of the bulk load message (sandbox/tds/bulk_load.hpp, [MS-TDS] 2.2.6.1) and of a
// connection answering it: the rows a client sends after INSERT BULK reach the engine with
// their values; DONE counts them; a message ended with the ignore bit, or an attention instead
// of the rows, inserts nothing. A hand-built client over a socketpair against a real engine.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "engine_test_support.hpp"
#include "sandbox/support/tds_client.hpp"
#include "tds/bulk_load.hpp"
#include "tds/connection.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {

using testing::build_login7;
using testing::build_prelogin;
using testing::build_sql_batch;
using testing::find_bytes;
using testing::RawTdsClient;
using testing::utf16le;
using B = std::vector<std::uint8_t>;

void put(B& b, std::initializer_list<std::uint8_t> bytes) { b.insert(b.end(), bytes); }
void put(B& b, const B& bytes) { b.insert(b.end(), bytes.begin(), bytes.end()); }
void u16(B& b, std::uint32_t v) { put(b, {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)}); }
void u32(B& b, std::uint32_t v) { u16(b, v & 0xFFFF); u16(b, v >> 16); }
void u64(B& b, std::uint64_t v) { u32(b, static_cast<std::uint32_t>(v)); u32(b, static_cast<std::uint32_t>(v >> 32)); }
const B k_collation = {0x09, 0x04, 0xD0, 0x00, 0x34};

// COLMETADATA's column head as tedious writes it (UserType 0, nullable | updateable).
void column_head(B& b) {
  u32(b, 0);
  u16(b, 0x0009);
}
void column_name(B& b, const std::string& name) {
  put(b, {static_cast<std::uint8_t>(name.size())});
  put(b, utf16le(name));
}

// COLMETADATA for (id int, name nvarchar(50), notes nvarchar(max), memo ntext) of table #t.
B colmetadata() {
  B b = {0x81};
  u16(b, 4);
  column_head(b);
  put(b, {0x26, 4});
  column_name(b, "id");
  column_head(b);
  put(b, {0xE7});
  u16(b, 100);
  put(b, k_collation);
  column_name(b, "name");
  column_head(b);
  put(b, {0xE7, 0xFF, 0xFF});
  put(b, k_collation);
  column_name(b, "notes");
  column_head(b);
  put(b, {0x63});
  u32(b, 0x7FFFFFFF);
  put(b, k_collation);
  u16(b, 2);  // the table's name, one US_VARCHAR
  put(b, utf16le("#t"));
  column_name(b, "memo");
  return b;
}

B row(std::int32_t id, const std::string& name, const std::optional<std::string>& notes, const std::optional<std::string>& memo) {
  B b = {0xD1, 4};
  u32(b, static_cast<std::uint32_t>(id));
  const B n = utf16le(name);
  u16(b, static_cast<std::uint32_t>(n.size()));
  put(b, n);
  if (notes) {
    const B text = utf16le(*notes);
    u64(b, ~0ULL - 1);  // UNKNOWN_PLP_LEN, in two chunks
    const std::size_t half = text.size() / 2 & ~std::size_t{1};
    u32(b, static_cast<std::uint32_t>(half));
    b.insert(b.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(half));
    u32(b, static_cast<std::uint32_t>(text.size() - half));
    b.insert(b.end(), text.begin() + static_cast<std::ptrdiff_t>(half), text.end());
    u32(b, 0);
  } else {
    u64(b, ~0ULL);  // PLP_NULL
  }
  if (memo) {
    put(b, {16});
    b.insert(b.end(), 16 + 8, 0);  // text pointer and timestamp
    const B text = utf16le(*memo);
    u32(b, static_cast<std::uint32_t>(text.size()));
    put(b, text);
  } else {
    put(b, {0});
  }
  return b;
}

B done_token() {
  B b = {0xFD};
  u16(b, 0);
  u16(b, 0);
  u64(b, 0);
  return b;
}

B bulk_message() {
  B b = colmetadata();
  put(b, row(1, "one", std::string(5000, 'n'), std::string("memo")));
  put(b, row(2, "two", std::nullopt, std::nullopt));
  put(b, done_token());
  return b;
}

TEST(TdsBulkLoadParseTest, ReadsColumnsAndRowsAsTediousSendsThem) {
  const BulkLoadMessage m = parse_bulk_load(bulk_message(), 0x74000004);
  ASSERT_EQ(m.columns.size(), 4u);
  EXPECT_EQ(m.columns[0].name, "id");
  EXPECT_EQ(m.columns[0].type.type, SqlType::int_);
  EXPECT_EQ(m.columns[1].type.type, SqlType::nvarchar);
  EXPECT_EQ(m.columns[1].type.length, 50);
  EXPECT_EQ(m.columns[2].type.length, k_max_length);
  EXPECT_EQ(m.columns[3].type.type, SqlType::ntext);
  EXPECT_TRUE(m.columns[0].nullable);
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(m.rows[0][0]), 1);
  EXPECT_EQ(std::get<std::string>(m.rows[0][1]), "one");
  EXPECT_EQ(std::get<std::string>(m.rows[0][2]), std::string(5000, 'n'));
  EXPECT_EQ(std::get<std::string>(m.rows[0][3]), "memo");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(m.rows[1][2]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(m.rows[1][3]));
}

TEST(TdsBulkLoadParseTest, RefusesRowsWithoutMetadataAndTruncatedMessages) {
  B rows_only = row(1, "x", std::nullopt, std::nullopt);
  EXPECT_THROW(parse_bulk_load(rows_only, 0x74000004), ProtocolError);
  B truncated = bulk_message();
  truncated.resize(truncated.size() - 20);
  EXPECT_THROW(parse_bulk_load(truncated, 0x74000004), ProtocolError);
}

class TdsBulkLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = sandbox::test::temp_dir("tds-bulk");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = sandbox::test::k_sa_password;
    m_inst = open_instance(cfg);
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    m_server_fd = fds[0];
    m_client_fd = fds[1];
    m_client = RawTdsClient(m_client_fd);
    m_thread = std::thread([this] {
      Connection c(m_server_fd, *m_inst, 61, m_stopping, [](const std::string&) {});
      c.run();
    });
    m_client.send(18, build_prelogin(0));
    m_client.read_message();
    m_client.send(16, build_login7("sa", sandbox::test::k_sa_password, ""));
    m_client.read_message();
    const B created = batch("CREATE TABLE #t (id int NOT NULL, name nvarchar(50) NULL, notes nvarchar(max) NULL, memo ntext NULL)");
    ASSERT_EQ(find_bytes(created, {0xAA}), std::string::npos);
  }
  void TearDown() override {
    ::shutdown(m_client_fd, SHUT_RDWR);
    if (m_thread.joinable()) m_thread.join();
    ::close(m_client_fd);
    ::close(m_server_fd);
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  B request(std::uint8_t type, const B& payload, std::uint8_t status = 0) {
    m_client.send(type, payload, 4096, status);
    return RawTdsClient::join(m_client.read_message());
  }
  B batch(const std::string& sql) { return request(1, build_sql_batch(sql)); }
  // The int the single-row, single-int SELECT `sql` answers (its ROW token's INTN value).
  std::int32_t select_int(const std::string& sql) {
    const B r = batch(sql);
    const std::size_t at = find_bytes(r, {0xD1, 0x04});
    if (at == std::string::npos) {
      ADD_FAILURE() << sql << ": no row";
      return -1;
    }
    return static_cast<std::int32_t>(r[at + 2] | r[at + 3] << 8 | r[at + 4] << 16 | r[at + 5] << 24);
  }

  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::atomic<bool> m_stopping{false};
  int m_server_fd = -1, m_client_fd = -1;
  std::thread m_thread;
  RawTdsClient m_client{-1};
};

TEST_F(TdsBulkLoadTest, TheRowsAreInsertedAndDoneCountsThem) {
  const B announced = batch("insert bulk #t([id] int, [name] nvarchar(50), [notes] nvarchar(max), [memo] ntext)");
  EXPECT_EQ(find_bytes(announced, {0xAA}), std::string::npos);
  const B answer = request(7, bulk_message());
  EXPECT_EQ(find_bytes(answer, {0xAA}), std::string::npos) << "an error came back";
  // DONE, DONE_COUNT, CurCmd 0, 2 rows.
  EXPECT_NE(find_bytes(answer, {0xFD, 0x10, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0}), std::string::npos);
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #t"), 2);
  EXPECT_EQ(select_int("SELECT LEN(notes) FROM #t WHERE id = 1"), 5000);
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #t WHERE memo IS NULL AND notes IS NULL AND name = N'two'"), 1);
}

TEST_F(TdsBulkLoadTest, AMessageEndedWithTheIgnoreBitInsertsNothing) {
  // Given the rows' message ended with the ignore bit (tedious's cancel while streaming), the
  // answer should be a plain DONE and the table stay empty; the connection goes on.
  batch("insert bulk #t([id] int, [name] nvarchar(50), [notes] nvarchar(max), [memo] ntext)");
  const B answer = request(7, bulk_message(), 0x02);
  EXPECT_EQ(answer, (B{0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #t"), 0);
}

TEST_F(TdsBulkLoadTest, TheIgnoreBitOnTheLastOfSeveralPacketsInsertsNothing) {
  // Given the rows sent over several packets, only the last (EOM) one carrying the ignore bit,
  // as tedious ends a message it gave up on, nothing should be inserted.
  batch("insert bulk #t([id] int, [name] nvarchar(50), [notes] nvarchar(max), [memo] ntext)");
  const B payload = bulk_message();
  constexpr std::size_t k_room = 512 - 8;
  std::uint8_t id = 1;
  for (std::size_t off = 0; off < payload.size(); off += k_room) {
    const std::size_t n = std::min(k_room, payload.size() - off);
    const bool last = off + n == payload.size();
    B packet = {7, static_cast<std::uint8_t>(last ? 0x03 : 0x00), static_cast<std::uint8_t>((n + 8) >> 8),
                static_cast<std::uint8_t>((n + 8) & 0xFF), 0, 0, id++, 0};
    packet.insert(packet.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
                  payload.begin() + static_cast<std::ptrdiff_t>(off + n));
    ASSERT_EQ(::send(m_client_fd, packet.data(), packet.size(), MSG_NOSIGNAL), static_cast<ssize_t>(packet.size()));
  }
  const B answer = RawTdsClient::join(m_client.read_message());
  EXPECT_EQ(answer, (B{0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #t"), 0);
}

TEST_F(TdsBulkLoadTest, AnAttentionInsteadOfTheRowsEndsTheBulkLoad) {
  batch("insert bulk #t([id] int, [name] nvarchar(50), [notes] nvarchar(max), [memo] ntext)");
  const B ack = request(6, {});
  EXPECT_NE(find_bytes(ack, {0xFD, 0x20, 0x00}), std::string::npos) << "DONE_ATTN";
  const B late = request(7, bulk_message());
  EXPECT_NE(find_bytes(late, {0xAA}), std::string::npos) << "rows without INSERT BULK should be refused";
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #t"), 0);
}

TEST_F(TdsBulkLoadTest, AConstraintViolationIsAnErrorAndNothingIsInserted) {
  batch("CREATE TABLE #c (id int NOT NULL)");
  batch("insert bulk #c([id] int)");
  B msg = {0x81};
  u16(msg, 1);
  column_head(msg);
  put(msg, {0x26, 4});
  column_name(msg, "id");
  put(msg, {0xD1, 4, 1, 0, 0, 0});
  put(msg, {0xD1, 0});  // NULL
  put(msg, done_token());
  const B answer = request(7, msg);
  EXPECT_NE(find_bytes(answer, {0xAA}), std::string::npos);
  EXPECT_NE(find_bytes(answer, {0x03, 0x02, 0x00, 0x00}), std::string::npos) << "Msg 515";
  EXPECT_EQ(select_int("SELECT COUNT(*) FROM #c"), 0);
}

}  // namespace
}  // namespace sandbox::tds
