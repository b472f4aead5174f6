// Unit tests of the TDS details issue 11 found wrong or missing: transaction manager requests
// and the transaction descriptor, RESETCONNECTION, the read timeout for half-sent packets, and
// RETURNVALUE tokens. A hand-built client over a socketpair against the fake instance.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "sandbox/support/fake_instance.hpp"
#include "sandbox/support/tds_client.hpp"
#include "tds/connection.hpp"
#include "tds/requests.hpp"

namespace sandbox::tds {
namespace {

using testing::build_login7;
using testing::build_prelogin;
using testing::build_sql_batch;
using testing::build_tm_request;
using testing::find_bytes;
using testing::RawPacket;
using testing::RawTdsClient;
using testing::utf16le;
using B = std::vector<std::uint8_t>;

constexpr std::uint16_t k_tm_begin = 5, k_tm_commit = 7, k_tm_rollback = 8;

B all_headers_zero() {
  return {22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
}

// An RPC request's payload up to its parameters: ALL_HEADERS, the procedure's name (USHORT
// length in characters, UCS-2) and no option flags.
B rpc_of(const std::string& procedure) {
  B payload = all_headers_zero();
  const B name = utf16le(procedure);
  payload.insert(payload.end(), {static_cast<std::uint8_t>(procedure.size()), 0});
  payload.insert(payload.end(), name.begin(), name.end());
  payload.insert(payload.end(), {0, 0});  // option flags
  return payload;
}

// BYTELEN then UCS-2, as tedious writes a transaction name.
B tm_name(const std::string& name) {
  B b = {static_cast<std::uint8_t>(name.size() * 2)};
  const B text = utf16le(name);
  b.insert(b.end(), text.begin(), text.end());
  return b;
}

B with(B a, const B& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::uint64_t le64(const B& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b.at(at + static_cast<std::size_t>(i));
  return v;
}

TEST(TdsTmRequestTest, ReadsABeginWithIsolationLevelAndANameLengthInBytes) {
  // Given TM_BEGIN_XACT as tedious sends beginTransaction(cb, 'order_batch') (isolation READ COMMITTED,
  // the name's length in bytes), the parser should recover both instead of reading twice the name.
  B payload = with(all_headers_zero(), {k_tm_begin, 0, 2});
  payload = with(payload, tm_name("order_batch"));
  const TmRequest tm = parse_tm_request(payload);
  EXPECT_EQ(tm.type, TmRequestType::begin);
  EXPECT_EQ(tm.isolation, TmIsolation::read_committed);
  EXPECT_EQ(tm.name, "order_batch");
  EXPECT_EQ(isolation_sql(tm.isolation), "READ COMMITTED");
}

TEST(TdsTmRequestTest, ReadsACommitThatBeginsTheNextTransaction) {
  // Given TM_COMMIT_XACT with a name, fBeginXact, SNAPSHOT and a new name, every field should be read.
  B payload = with(all_headers_zero(), {k_tm_commit, 0});
  payload = with(payload, tm_name("t1"));
  payload = with(payload, {0x01, 5});
  payload = with(payload, tm_name("t2"));
  const TmRequest tm = parse_tm_request(payload);
  EXPECT_EQ(tm.type, TmRequestType::commit);
  EXPECT_EQ(tm.name, "t1");
  EXPECT_TRUE(tm.begin_after);
  EXPECT_EQ(tm.new_isolation, TmIsolation::snapshot);
  EXPECT_EQ(tm.new_name, "t2");
}

TEST(TdsTmRequestTest, RefusesAnIsolationLevelOutsideTheSpec) {
  // Given isolation level byte 9, parsing should fail as a protocol error.
  B payload = with(all_headers_zero(), {k_tm_begin, 0, 9, 0});
  EXPECT_THROW(parse_tm_request(payload), ProtocolError);
}

// One connection served on a thread (with a short read timeout), the test being the client.
class TdsProtocolTest : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds read_timeout = k_default_read_timeout) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    m_server_fd = fds[0];
    m_client_fd = fds[1];
    m_client = RawTdsClient(m_client_fd);
    m_thread = std::thread([this, read_timeout] {
      Connection c(m_server_fd, m_instance, 77, m_stopping, [](const std::string&) {}, read_timeout);
      c.run();
      m_server_done = true;
      ::shutdown(m_server_fd, SHUT_RDWR);
    });
    m_client.send(18, build_prelogin(0));
    m_client.read_message();
    m_client.send(16, build_login7(testing::k_fake_user, testing::k_fake_password, ""));
    m_client.read_message();
  }
  void TearDown() override {
    if (!m_thread.joinable()) return;
    ::shutdown(m_client_fd, SHUT_RDWR);
    m_thread.join();
    ::close(m_client_fd);
    ::close(m_server_fd);
  }
  B request(std::uint8_t type, const B& payload, std::uint8_t status = 0) {
    m_client.send(type, payload, 4096, status);
    return RawTdsClient::join(m_client.read_message());
  }
  // The descriptor in the first ENVCHANGE of `type` (new value for begin, old value otherwise).
  static std::optional<std::uint64_t> descriptor(const B& bytes, std::uint8_t type) {
    const std::size_t at = type == 8 ? find_bytes(bytes, {0xE3, 11, 0, 8, 8}) : find_bytes(bytes, {0xE3, 11, 0, type, 0, 8});
    if (at == std::string::npos) return std::nullopt;
    return le64(bytes, at + (type == 8 ? 5 : 6));
  }

  testing::FakeInstance m_instance;
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_server_done{false};
  int m_server_fd = -1, m_client_fd = -1;
  std::thread m_thread;
  RawTdsClient m_client{-1};
};

TEST_F(TdsProtocolTest, ANamedTransactionBeginsAndCommitsWithItsDescriptor) {
  // Given TM begin with a name (tedious's beginTransaction(cb, name)), the connection should stay up,
  // the session should see BEGIN TRANSACTION [name], and the answer carry ENVCHANGE 8 with an
  // 8-byte descriptor; TM commit naming that descriptor should end it with ENVCHANGE 9 (old value).
  start();
  const B begin = request(14, with(with(all_headers_zero(), {k_tm_begin, 0, 2}), tm_name("order_batch")));
  const auto d = descriptor(begin, 8);
  ASSERT_TRUE(d) << "no ENVCHANGE begin transaction";
  EXPECT_NE(*d, 0u);
  EXPECT_THAT(m_instance.batches(), ::testing::Contains("BEGIN TRANSACTION [order_batch]"));
  EXPECT_THAT(m_instance.batches(), ::testing::Contains("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"));
  const B commit = request(14, build_tm_request(k_tm_commit, with(tm_name("order_batch"), {0}), *d));
  EXPECT_EQ(descriptor(commit, 9), d);
  EXPECT_EQ(find_bytes(commit, {0xAA}), std::string::npos) << "an error came back";
}

TEST_F(TdsProtocolTest, TheClosingDoneOfABatchDoesNotRepeatAnErrorADoneInProcReported) {
  // Given EXEC of a procedure whose statement failed (8134 on its DONEINPROC), the batch's
  // closing DONE should not carry DONE_ERROR again: FreeTDS's ODBC driver would report the
  // error on a second SQLMoreResults (its transaction test). A batch's own error still does.
  start();
  const B failed_proc = request(1, build_sql_batch("EXEC failing_proc"));
  EXPECT_NE(find_bytes(failed_proc, {0xFF, 0x03, 0x00}), std::string::npos) << "DONEINPROC with DONE_MORE|DONE_ERROR";
  // The closing DONE is the response's last 13 bytes (token, status, curcmd, 8-byte count).
  ASSERT_GE(failed_proc.size(), 13u);
  ASSERT_EQ(failed_proc[failed_proc.size() - 13], 0xFD);
  EXPECT_EQ(failed_proc[failed_proc.size() - 12] & 0x02, 0) << "the closing DONE repeats the error";
  const B failed_batch = request(1, build_sql_batch("RAISERROR('x', 16, 1)"));
  ASSERT_GE(failed_batch.size(), 13u);
  ASSERT_EQ(failed_batch[failed_batch.size() - 13], 0xFD);
  EXPECT_EQ(failed_batch[failed_batch.size() - 12] & 0x02, 0x02);
}

TEST_F(TdsProtocolTest, ABatchBeginTransactionIsAnnouncedAndItsDescriptorChecked) {
  // Given BEGIN TRANSACTION in a batch, the answer should carry ENVCHANGE 8; a later batch naming
  // another descriptor should get Msg 3971 and not run; one naming the right one runs, and its
  // ROLLBACK answers ENVCHANGE 10 with the descriptor.
  start();
  const B begin = request(1, build_sql_batch("BEGIN TRANSACTION"));
  const auto d = descriptor(begin, 8);
  ASSERT_TRUE(d);
  const B stale = request(1, build_sql_batch("PRINT 'stale'", *d + 1));
  EXPECT_NE(find_bytes(stale, {0xAA}), std::string::npos);
  EXPECT_NE(find_bytes(stale, {0x83, 0x0F, 0, 0}), std::string::npos);  // 3971
  EXPECT_NE(find_bytes(stale, utf16le("The server failed to resume the transaction. Desc:")), std::string::npos);
  EXPECT_THAT(m_instance.batches(), ::testing::Not(::testing::Contains("PRINT 'stale'")));
  const B rollback = request(1, build_sql_batch("ROLLBACK TRANSACTION", *d));
  EXPECT_EQ(descriptor(rollback, 10), d);
  // After the rollback the old descriptor is stale too.
  const B after = request(1, build_sql_batch("PRINT 'x'", *d));
  EXPECT_NE(find_bytes(after, {0x83, 0x0F, 0, 0}), std::string::npos);
}

TEST_F(TdsProtocolTest, TmRollbackWithBeginXactStartsANewTransaction) {
  // Given TM rollback with fBeginXact, the answer should carry ENVCHANGE 10 for the old descriptor and
  // ENVCHANGE 8 with a new one.
  start();
  const auto d = descriptor(request(14, with(with(all_headers_zero(), {k_tm_begin, 0, 0}), tm_name(""))), 8);
  ASSERT_TRUE(d);
  const B both = request(14, build_tm_request(k_tm_rollback, with(with(tm_name(""), {0x01, 0}), tm_name("")), *d));
  EXPECT_EQ(descriptor(both, 10), d);
  const auto next = descriptor(both, 8);
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *d);
}

TEST_F(TdsProtocolTest, ResetConnectionResetsTheSessionAndIsAcknowledgedFirst) {
  // Given a batch whose first packet has RESETCONNECTION (0x08), the session should be reset (its
  // transaction rolled back) before the batch runs, and the answer should begin with ENVCHANGE 18;
  // RESETCONNECTIONSKIPTRAN (0x10) keeps the transaction.
  start();
  const auto d = descriptor(request(1, build_sql_batch("BEGIN TRANSACTION")), 8);
  ASSERT_TRUE(d);
  const B kept = request(1, build_sql_batch("PRINT 'pooled'", *d), 0x10);
  EXPECT_EQ(B(kept.begin(), kept.begin() + 6), (B{0xE3, 0x03, 0x00, 18, 0, 0}));
  EXPECT_NE(find_bytes(kept, utf16le("pooled")), std::string::npos);
  const B reset = request(1, build_sql_batch("PRINT 'fresh'", *d), 0x08);
  EXPECT_EQ(B(reset.begin(), reset.begin() + 6), (B{0xE3, 0x03, 0x00, 18, 0, 0}));
  EXPECT_EQ(descriptor(reset, 10), d) << "the rolled-back transaction should be announced";
  EXPECT_NE(find_bytes(reset, utf16le("fresh")), std::string::npos) << "the request named the transaction it reset";
  EXPECT_EQ(m_instance.resets(), (std::vector<bool>{true, false}));
  // The transaction went with the reset: its descriptor is no longer accepted.
  const B stale = request(1, build_sql_batch("PRINT 'x'", *d));
  EXPECT_NE(find_bytes(stale, {0x83, 0x0F, 0, 0}), std::string::npos);
}

TEST_F(TdsProtocolTest, SpResetConnectionByRpcResetsTheSession) {
  // Given an open transaction and an RPC of sp_reset_connection (what older drivers send), the session
  // should be reset, the rollback announced (ENVCHANGE 10 with the descriptor) and status 0 returned.
  start();
  const auto d = descriptor(request(1, build_sql_batch("BEGIN TRANSACTION")), 8);
  ASSERT_TRUE(d);
  B payload = testing::build_sql_batch("", *d);  // ALL_HEADERS naming the transaction
  const B name = utf16le("sp_reset_connection");
  payload.insert(payload.end(), {19, 0});
  payload.insert(payload.end(), name.begin(), name.end());
  payload.insert(payload.end(), {0, 0});
  const B r = request(3, payload);
  EXPECT_EQ(descriptor(r, 10), d);
  EXPECT_NE(find_bytes(r, {0x79, 0, 0, 0, 0}), std::string::npos);
  EXPECT_EQ(m_instance.resets(), (std::vector<bool>{false}));
}

TEST_F(TdsProtocolTest, AClientStalledInTheMiddleOfAPacketIsDisconnected) {
  // Given a read timeout of 200 ms and a client that sends the header of a 100-byte packet and 10
  // bytes of it, the server should drop the connection (EOF) instead of waiting forever.
  start(std::chrono::milliseconds(200));
  B partial = {1, 1, 0, 100, 0, 0, 1, 0};
  partial.insert(partial.end(), 10, 0x41);
  ASSERT_EQ(::send(m_client_fd, partial.data(), partial.size(), MSG_NOSIGNAL), static_cast<ssize_t>(partial.size()));
  pollfd p{m_client_fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1) << "the server still waits for the rest of the packet";
  RawPacket packet;
  EXPECT_FALSE(m_client.read_packet(&packet));
  for (int i = 0; i < 100 && !m_server_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(m_server_done);
}

TEST_F(TdsProtocolTest, AnIdleConnectionIsNotDisconnected) {
  // Given the same 200 ms timeout, a client idle for 500 ms between requests should still be served.
  start(std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_NE(find_bytes(request(1, build_sql_batch("PRINT 'awake'")), utf16le("awake")), std::string::npos);
}

TEST_F(TdsProtocolTest, OutputParametersComeBackAsReturnValuesAfterTheStatus) {
  // Given an RPC of a procedure with an int OUTPUT parameter (ordinal 1) after an input one, the answer
  // should be RETURNSTATUS, then RETURNVALUE with ordinal 1, the name and the value, then DONEPROC.
  start();
  B payload = rpc_of("p");
  payload.insert(payload.end(), {0, 0, 0x26, 4, 4, 5, 0, 0, 0});                 // (unnamed) int 5
  payload.insert(payload.end(), {2, '@', 0, 'n', 0, 0x01, 0x26, 4, 4, 21, 0, 0, 0});  // @n int OUTPUT = 21
  const B r = request(3, payload);
  const std::size_t status = find_bytes(r, {0x79, 7, 0, 0, 0});
  const std::size_t value = find_bytes(r, {0xAC, 1, 0, 2, '@', 0, 'n', 0, 0x01});
  const std::size_t doneproc = find_bytes(r, {0xFE});
  ASSERT_NE(status, std::string::npos);
  ASSERT_NE(value, std::string::npos);
  ASSERT_NE(doneproc, std::string::npos);
  EXPECT_LT(status, value);
  EXPECT_LT(value, doneproc);
  EXPECT_NE(find_bytes(r, {0x26, 4, 4, 42, 0, 0, 0}), std::string::npos);  // INTN(4) 42
}

TEST_F(TdsProtocolTest, AReturnValueCarriesTheParameterNameAsTheClientSpeltIt) {
  // Given an OUTPUT parameter sent as @paramOut (the engine folds names to lower case), its
  // RETURNVALUE should be named @paramOut, as tedious matches output parameters by name.
  start();
  B payload = rpc_of("p");
  const B param = utf16le("@paramOut");
  payload.push_back(9);
  payload.insert(payload.end(), param.begin(), param.end());
  payload.insert(payload.end(), {0x01, 0x26, 4, 4, 21, 0, 0, 0});  // int OUTPUT = 21
  const B r = request(3, payload);
  B expected = {0xAC, 0, 0, 9};
  expected.insert(expected.end(), param.begin(), param.end());
  EXPECT_NE(find_bytes(r, expected), std::string::npos) << "no RETURNVALUE named @paramOut";
  EXPECT_EQ(find_bytes(r, utf16le("@paramout")), std::string::npos);
}

}  // namespace
}  // namespace sandbox::tds
