#pragma once
// TLS as TDS 7.x carries it ([MS-TDS] 2.2.6.5, 3.3.5.2): after PRELOGIN, the TLS handshake
// records travel as the payload of PRELOGIN (0x12) packets; once the handshake is done the
// TLS records travel directly on the TCP stream and the TDS packets are inside them. OpenSSL
// runs on memory BIOs, so the same SSL object serves both phases and this class alone
// touches the socket while TLS is on.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace sandbox::tds {

// The server's certificate and key, loaded once per listener (TLS 1.2 and newer).
class TlsServerContext {
 public:
  static m2r::Expected<std::shared_ptr<TlsServerContext>> load(const std::string& certificate_file,
                                                               const std::string& key_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;
  ssl_ctx_st* native() const { return m_ctx; }

 private:
  explicit TlsServerContext(ssl_ctx_st* ctx) : m_ctx(ctx) {}
  ssl_ctx_st* m_ctx;
};

// One connection's TLS session on the socket fd (which it does not own).
class TlsStream {
 public:
  TlsStream(const TlsServerContext& context, int fd, std::chrono::milliseconds read_timeout);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // The server side of the handshake inside PRELOGIN packets. On failure *why says what
  // went wrong (the client's alert, a timeout, a closed connection).
  bool handshake(std::string* why);
  // Up to n bytes of plain text; 0 when the client closed the connection or TLS failed.
  std::size_t read(std::uint8_t* p, std::size_t n);
  bool write(const std::uint8_t* p, std::size_t n);
  // Plain text is waiting inside TLS: a poll() on the socket would not show it.
  bool pending() const;

 private:
  bool read_prelogin_message(std::vector<std::uint8_t>* payload, std::string* why);
  bool send_raw(const std::uint8_t* p, std::size_t n);
  bool flush_records();  // what OpenSSL wrote, straight onto the socket
  bool recv_records();   // more records from the socket into OpenSSL

  ssl_st* m_ssl;
  int m_fd;
  std::chrono::milliseconds m_read_timeout;
};

}  // namespace sandbox::tds
