// Unit tests for LOGIN7/PRELOGIN parsing and for one connection's conversation, driven by
// a hand-built client over a socketpair against the fake instance (no network).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "sandbox/support/fake_instance.hpp"
#include "sandbox/support/tds_client.hpp"
#include "tds/connection.hpp"
#include "tds/login7.hpp"
#include "tds/prelogin.hpp"
#include "tds/requests.hpp"

namespace sandbox::tds {
namespace {

using testing::build_login7;
using testing::build_prelogin;
using testing::build_sql_batch;
using testing::find_bytes;
using testing::RawPacket;
using testing::RawTdsClient;
using testing::utf16le;
using B = std::vector<std::uint8_t>;

TEST(TdsLogin7Test, PasswordObfuscationIsNibbleSwapThenXorA5) {
  // Given "a" in UCS-2 (61 00), the spec's obfuscation gives B3 A5, and de-obfuscation undoes it.
  EXPECT_EQ(obfuscate_password({0x61, 0x00}), (B{0xB3, 0xA5}));
  EXPECT_EQ(deobfuscate_password({0xB3, 0xA5}), (B{0x61, 0x00}));
}

TEST(TdsLogin7Test, ParsesUserPasswordDatabaseAndPacketSize) {
  // Given a LOGIN7 built by hand, the parser should recover every field and the clear password.
  const Login7 l = parse_login7(build_login7("sa", "Sandbox!Passw0rd", "salesdb", 0x74000004, 8192));
  EXPECT_EQ(l.tds_version, 0x74000004u);
  EXPECT_EQ(l.packet_size, 8192u);
  EXPECT_EQ(l.client_pid, 4242u);
  EXPECT_EQ(l.host_name, "testhost");
  EXPECT_EQ(l.user_name, "sa");
  EXPECT_EQ(l.password, "Sandbox!Passw0rd");
  EXPECT_EQ(l.app_name, "tds_test");
  EXPECT_EQ(l.database, "salesdb");
  EXPECT_FALSE(l.integrated_security);
  EXPECT_FALSE(l.requested_features);
}

TEST(TdsLogin7Test, RejectsTruncatedOrOutOfRangeOffsets) {
  // Given a LOGIN7 cut short or with a string beyond its end, parsing should throw, not read past the buffer.
  B login = build_login7("sa", "x", "db");
  EXPECT_THROW(parse_login7(B(login.begin(), login.begin() + 60)), ProtocolError);
  login[40] = 0xFF;  // UserName offset
  login[41] = 0x7F;
  EXPECT_THROW(parse_login7(login), ProtocolError);
}

TEST(TdsPreloginTest, ReadsEncryptionAndAnswersNotSupported) {
  // Given a PRELOGIN asking for ENCRYPT_ON, the request should say so, and our answer should carry
  // version 15.0.4355 and ENCRYPT_NOT_SUP.
  const PreloginRequest req = parse_prelogin(build_prelogin(1));
  EXPECT_TRUE(client_requires_encryption(req));
  EXPECT_FALSE(client_requires_encryption(parse_prelogin(build_prelogin(0))));
  const B resp = build_prelogin_response("15.0.4355.3", Encryption::not_supported);
  const PreloginRequest back = parse_prelogin(resp);
  EXPECT_EQ(back.encryption, Encryption::not_supported);
  EXPECT_NE(find_bytes(resp, {0x0F, 0x00, 0x11, 0x03, 0x00, 0x00}), std::string::npos);
}

TEST(TdsPreloginTest, NegotiatesEncryptionAsMsTdsTabulates) {
  // Given each client ENCRYPTION value against a server without a certificate, with one, and one requiring TLS,
  // the answer and the outcome should be [MS-TDS] 2.2.6.5's: login-only for OFF/OFF, full for ON or REQ, none for
  // NOT_SUP (and no option), the client refused when it needs TLS the server cannot give, dropped when it cannot
  // do TLS the server requires.
  using E = Encryption;
  using M = EncryptionMode;
  struct Case {
    std::optional<E> client;
    bool cert, required;
    E answer;
    M mode;
  };
  const Case cases[] = {
      {E::off, false, false, E::not_supported, M::none},
      {E::on, false, false, E::not_supported, M::client_needs_tls},
      {E::required, false, false, E::not_supported, M::client_needs_tls},
      {E::off, true, false, E::off, M::login_only},
      {E::on, true, false, E::on, M::full},
      {E::required, true, false, E::on, M::full},
      {E::not_supported, true, false, E::not_supported, M::none},
      {std::nullopt, true, false, E::not_supported, M::none},
      {E::off, true, true, E::required, M::full},
      {E::on, true, true, E::required, M::full},
      {E::not_supported, true, true, E::required, M::server_needs_tls},
      {std::nullopt, true, true, E::required, M::server_needs_tls},
  };
  for (const auto& c : cases) {
    const auto o = negotiate_encryption(c.client, c.cert, c.required);
    EXPECT_EQ(o.answer, c.answer) << static_cast<int>(c.client.value_or(E{9})) << c.cert << c.required;
    EXPECT_EQ(o.mode, c.mode) << static_cast<int>(c.client.value_or(E{9})) << c.cert << c.required;
  }
  EXPECT_EQ(parse_prelogin(build_prelogin_response("15.0.4355.3", Encryption::required)).encryption, Encryption::required);
}

TEST(TdsRequestsTest, ParsesAnRpcByProcIdWithParameters) {
  // Given sp_executesql by ProcID 10 with @stmt, @params and an int, the call should be decoded.
  B b = {22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  const B head = {0xFF, 0xFF, 10, 0, 0, 0};
  b.insert(b.end(), head.begin(), head.end());
  auto nvarchar_param = [&](const std::string& name, const std::string& text) {
    b.push_back(static_cast<std::uint8_t>(name.size()));
    const B n = utf16le(name), t = utf16le(text);
    b.insert(b.end(), n.begin(), n.end());
    b.push_back(0);  // status
    const B ti = {0xE7, 0x40, 0x1F, 0x09, 0x04, 0xD0, 0x00, 0x34};
    b.insert(b.end(), ti.begin(), ti.end());
    b.push_back(static_cast<std::uint8_t>(t.size()));
    b.push_back(0);
    b.insert(b.end(), t.begin(), t.end());
  };
  nvarchar_param("", "SELECT @x");
  nvarchar_param("", "@x int");
  const B x = {2, '@', 0, 'x', 0, 0x01, 0x26, 4, 4, 42, 0, 0, 0};  // @x OUTPUT int 42
  b.insert(b.end(), x.begin(), x.end());
  const RpcRequest req = parse_rpc(b);
  ASSERT_EQ(req.calls.size(), 1u);
  EXPECT_EQ(req.calls[0].procedure, "sp_executesql");
  EXPECT_TRUE(req.calls[0].by_id);
  ASSERT_EQ(req.calls[0].params.size(), 3u);
  EXPECT_EQ(req.calls[0].params[0].value, Value{std::string("SELECT @x")});
  EXPECT_EQ(req.calls[0].params[2].name, "@x");
  EXPECT_TRUE(req.calls[0].params[2].output);
  EXPECT_EQ(req.calls[0].params[2].value, Value{std::int64_t{42}});
}

// One connection served on a thread, the test being the client.
class TdsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    m_server_fd = fds[0];
    m_client_fd = fds[1];
    m_thread = std::thread([this] {
      Connection c(m_server_fd, m_instance, 77, m_stopping, [](const std::string&) {});
      c.run();
      ::shutdown(m_server_fd, SHUT_RDWR);
    });
  }
  void TearDown() override {
    ::shutdown(m_client_fd, SHUT_RDWR);
    m_thread.join();
    ::close(m_client_fd);
    ::close(m_server_fd);
  }
  std::vector<RawPacket> login(const std::string& password = testing::k_fake_password, std::uint32_t packet_size = 4096) {
    m_client.send(18, build_prelogin(0));
    const auto pre = m_client.read_message();
    EXPECT_EQ(pre.size(), 1u);
    m_client.send(16, build_login7(testing::k_fake_user, password, "", 0x74000004, packet_size));
    return m_client.read_message();
  }

  testing::FakeInstance m_instance;
  std::atomic<bool> m_stopping{false};
  int m_server_fd = -1, m_client_fd = -1;
  std::thread m_thread;
  RawTdsClient m_client{-1};
};

TEST_F(TdsSessionTest, LoginAnswersWithEnvchangesLoginackAndDone) {
  // Given a good login, the response should hold ENVCHANGE database, INFO 5701, the collation,
  // LOGINACK (TDS 7.4, "Microsoft SQL Server", 15.0.4355) and the packet size, ending with DONE.
  m_client = RawTdsClient(m_client_fd);
  const auto resp = login();
  ASSERT_FALSE(resp.empty());
  const B bytes = RawTdsClient::join(resp);
  EXPECT_EQ(resp.back().status & 1, 1);
  EXPECT_EQ(bytes.front(), 0xE3);
  EXPECT_NE(find_bytes(bytes, {0x07, 0x05, 0x09, 0x04, 0xD0, 0x00, 0x34, 0x00}), std::string::npos);  // collation
  const std::size_t ack = find_bytes(bytes, {0xAD});
  ASSERT_NE(ack, std::string::npos);
  EXPECT_EQ(B(bytes.begin() + static_cast<long>(ack) + 3, bytes.begin() + static_cast<long>(ack) + 8),
            (B{0x01, 0x74, 0x00, 0x00, 0x04}));
  EXPECT_NE(find_bytes(bytes, utf16le("Microsoft SQL Server")), std::string::npos);
  EXPECT_NE(find_bytes(bytes, {0x0F, 0x00, 0x11, 0x03}), std::string::npos);
  EXPECT_NE(find_bytes(bytes, utf16le("Changed language setting to us_english.")), std::string::npos);
  EXPECT_EQ(B(bytes.end() - 13, bytes.end()), (B{0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(TdsSessionTest, AWrongPasswordGetsError18456ThenTheConnectionCloses) {
  // Given a wrong password, the response should be ERROR 18456 class 14 state 1 and DONE_ERROR; then EOF.
  m_client = RawTdsClient(m_client_fd);
  const B bytes = RawTdsClient::join(login("wrong"));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes[0], 0xAA);
  EXPECT_EQ(B(bytes.begin() + 3, bytes.begin() + 9), (B{0x18, 0x48, 0, 0, 1, 14}));  // 18456, state, class
  EXPECT_NE(find_bytes(bytes, utf16le("Login failed for user 'sa'.")), std::string::npos);
  EXPECT_EQ(B(bytes.end() - 13, bytes.end() - 10), (B{0xFD, 0x02, 0x00}));
  RawPacket p;
  EXPECT_FALSE(m_client.read_packet(&p));
}

TEST_F(TdsSessionTest, InfoMessagesLeaveInTheirOwnPacketsWhileTheStatementRuns) {
  // Given the slow statement, each INFO should arrive in a packet without EOM, k_slow_step apart,
  // before the final packet with the DONE.
  m_client = RawTdsClient(m_client_fd);
  login();
  m_client.send(1, build_sql_batch("EXEC slow"));
  const auto packets = m_client.read_message();
  ASSERT_EQ(packets.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(packets[static_cast<std::size_t>(i)].status, 0);
    EXPECT_EQ(packets[static_cast<std::size_t>(i)].payload.at(0), 0xAB);
    EXPECT_EQ(packets[static_cast<std::size_t>(i)].packet_id, i + 1);
  }
  EXPECT_EQ(packets[3].status, 1);
  EXPECT_EQ(packets[3].payload.at(0), 0xFD);
  EXPECT_GE(packets[1].arrived - packets[0].arrived, testing::k_slow_step / 2);
  EXPECT_GE(packets[2].arrived - packets[1].arrived, testing::k_slow_step / 2);
}

TEST_F(TdsSessionTest, NegotiatedPacketSizeSplitsBigResponses) {
  // Given packet size 512, the 3000-row response should come in packets of at most 512 bytes,
  // ids counting on modulo 256, EOM only on the last.
  m_client = RawTdsClient(m_client_fd);
  const B login_bytes = RawTdsClient::join(login(testing::k_fake_password, 512));
  EXPECT_NE(find_bytes(login_bytes, utf16le("512")), std::string::npos);
  m_client.send(1, build_sql_batch("SELECT big"), 512);
  const auto packets = m_client.read_message();
  ASSERT_GT(packets.size(), 256u);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    EXPECT_LE(packets[i].length, 512);
    EXPECT_EQ(packets[i].packet_id, static_cast<std::uint8_t>(i + 1));
    EXPECT_EQ(packets[i].status & 1, i + 1 == packets.size() ? 1 : 0);
  }
  const B bytes = RawTdsClient::join(packets);
  // DONE with DONE_COUNT and 3000 rows, final.
  EXPECT_EQ(B(bytes.end() - 13, bytes.end()), (B{0xFD, 0x10, 0x00, 0xC1, 0x00, 0xB8, 0x0B, 0, 0, 0, 0, 0, 0}));
}

TEST_F(TdsSessionTest, AttentionStopsTheStatementAndIsAcknowledgedInItsOwnMessage) {
  // Given a statement that runs until cancelled, an attention should end it: the response ends
  // (EOM), then a separate message carries DONE with DONE_ATTN.
  m_client = RawTdsClient(m_client_fd);
  login();
  m_client.send(1, build_sql_batch("WAITFOR DELAY '00:00:10'"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  m_client.send(6, {});
  const B response = RawTdsClient::join(m_client.read_message());
  const B ack = RawTdsClient::join(m_client.read_message());
  EXPECT_EQ(response.at(0), 0xFD);
  EXPECT_EQ(ack, (B{0xFD, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(m_instance.cancelled_statements(), 1);
  m_client.send(1, build_sql_batch("PRINT 'after'"));
  EXPECT_NE(find_bytes(RawTdsClient::join(m_client.read_message()), utf16le("after")), std::string::npos);
}

TEST_F(TdsSessionTest, GarbageAfterLoginGetsAProtocolErrorAndClose) {
  // Given a LOGIN7 that is too short, the server should answer error 4002 and close.
  m_client = RawTdsClient(m_client_fd);
  m_client.send(18, build_prelogin(0));
  m_client.read_message();
  m_client.send(16, B(20, 0));
  const B bytes = RawTdsClient::join(m_client.read_message());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes[0], 0xAA);
  EXPECT_EQ(B(bytes.begin() + 3, bytes.begin() + 5), (B{0xA2, 0x0F}));  // 4002
  RawPacket p;
  EXPECT_FALSE(m_client.read_packet(&p));
}

}  // namespace
}  // namespace sandbox::tds
