#pragma once
// One client connection: PRELOGIN, LOGIN7, then requests until the client leaves.
// Runs on its own thread; the engine's Session is called synchronously from it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "tds/packet.hpp"
#include "tds/prelogin.hpp"
#include "tds/requests.hpp"
#include "tds/tls.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {

using LogFn = std::function<void(const std::string&)>;

// How long a client may take to finish a packet (or a message) it has started sending; a
// connection that stalls mid-packet longer is dropped, as SQL Server drops it, so that it
// cannot hold its thread forever. Idle connections between requests have no limit.
inline constexpr std::chrono::milliseconds k_default_read_timeout{30000};

// Whether the listener offers TLS (a certificate) and whether it requires it (SQL Server's
// Force Encryption, RDS's rds.force_ssl = 1).
struct TlsPolicy {
  std::shared_ptr<const TlsServerContext> context;  // null: no certificate, ENCRYPT_NOT_SUP
  bool required = false;
};

// Buffers response tokens and sends them as tabular-result packets: full packets
// as soon as there are enough bytes, a partial packet on flush() (so that INFO
// messages reach the client while a statement still runs), EOM on end_message().
class ResponseWriter {
 public:
  ResponseWriter(int fd, std::uint16_t spid) : m_fd(fd), m_spid(spid) {}
  ByteWriter& tokens() { return m_buffer; }
  void set_packet_size(std::uint32_t size) { m_packet_size = size; }
  std::uint32_t packet_size() const { return m_packet_size; }
  void send_full_packets();  // keeps the remainder buffered
  void flush();              // everything buffered, without EOM
  void end_message();        // everything buffered, the last packet with EOM
  void send_raw_message(PacketType type, const std::vector<std::uint8_t>& payload);
  bool broken() const { return m_broken; }
  void set_tls(TlsStream* tls) { m_tls = tls; }  // null: clear text on the socket

 private:
  void send(const std::vector<std::uint8_t>& bytes);
  void emit(std::size_t n, bool eom);
  int m_fd;
  TlsStream* m_tls = nullptr;
  std::uint16_t m_spid;
  std::uint32_t m_packet_size = k_default_packet_size;
  ByteWriter m_buffer;
  std::uint8_t m_packet_id = 1;
  bool m_broken = false;
};

class Connection {
 public:
  Connection(int fd, Instance& instance, std::uint16_t spid, const std::atomic<bool>& stopping, LogFn log,
             std::chrono::milliseconds read_timeout = k_default_read_timeout, TlsPolicy tls = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void run();  // returns when the client leaves, breaks the protocol, or the server stops

  // Used by the result sink while a statement runs.
  bool check_attention();
  ResponseWriter& out() { return m_out; }
  const std::string& server_name() const { return m_server_name; }
  // The TDS version the client asked for in LOGIN7 (0x74000004 for 7.4).
  std::uint32_t tds_version() const { return m_tds_version; }
  // The session's transaction began / ended: the descriptor its ENVCHANGE carries.
  std::uint64_t transaction_began();
  std::uint64_t transaction_ended();

 private:
  struct ClientMessage {
    PacketType type = PacketType::sql_batch;
    std::uint8_t status = 0;
    std::vector<std::uint8_t> payload;
  };
  struct Prepared {
    std::string params;
    std::string stmt;
  };
  std::optional<ClientMessage> read_message();
  // started: part of the message has arrived, so the read timeout applies from the first byte.
  bool read_packet(PacketHeader* header, std::vector<std::uint8_t>* body, bool started = false);
  bool recv_exact(std::uint8_t* p, std::size_t n, bool started);
  // Msg 3971 when ALL_HEADERS names a transaction that is not the session's; true when it does not.
  bool transaction_descriptor_ok(std::uint64_t descriptor);
  bool reset_session(std::uint8_t status);  // false (and the error sent) when it failed
  bool handshake();
  // PRELOGIN's ENCRYPTION answered; TLS started when negotiated. False: the connection ends.
  bool negotiate_encryption(const std::optional<Encryption>& client_encryption, const InstanceInfo& info);
  void refuse(const Message& m);
  void serve_requests();
  void on_sql_batch(const std::vector<std::uint8_t>& payload);
  void on_rpc(const std::vector<std::uint8_t>& payload);
  void on_transaction_manager(const std::vector<std::uint8_t>& payload);
  void on_bulk_load(const ClientMessage& msg);  // packet type 7: the rows of an INSERT BULK
  void on_attention();
  void acknowledge_attention_if_any();
  void send_error_response(const Message& m);

  int m_fd;
  Instance& m_instance;
  std::uint16_t m_spid;
  const std::atomic<bool>& m_stopping;
  LogFn m_log;
  std::chrono::milliseconds m_read_timeout;
  TlsPolicy m_tls_policy;
  std::unique_ptr<TlsStream> m_tls;  // while TLS is on
  bool m_login_only_tls = false;     // both sides ENCRYPT_OFF: TLS ends after LOGIN7
  ResponseWriter m_out;
  std::string m_server_name;
  std::unique_ptr<Session> m_session;
  std::optional<std::pair<PacketHeader, std::vector<std::uint8_t>>> m_pushed_back;
  bool m_attention = false;
  bool m_closed = false;
  std::uint32_t m_tds_version = 0;
  std::uint64_t m_transaction = 0;  // current transaction descriptor, 0 when none
  std::uint64_t m_next_transaction = 1;
  std::uint64_t m_reset_descriptor = 0;  // the transaction this request's RESETCONNECTION rolled back
  std::map<std::int32_t, Prepared> m_prepared;
  std::int32_t m_next_handle = 1;
};

}  // namespace sandbox::tds
