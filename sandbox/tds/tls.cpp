#include "tds/tls.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tds/packet.hpp"

namespace sandbox::tds {
namespace {

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

}  // namespace

m2r::Expected<std::shared_ptr<TlsServerContext>> TlsServerContext::load(const std::string& certificate_file,
                                                                       const std::string& key_file) {
  using m2r::ErrorKind;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return m2r::fail(ErrorKind::fatal, "SSL_CTX_new failed: " + openssl_errors());
  auto context = std::shared_ptr<TlsServerContext>(new TlsServerContext(ctx));
  // TLS 1.2 exactly: SQL Server offers TLS 1.3 only with TDS 8.0 (Encrypt=strict, TLS before
  // PRELOGIN). Inside PRELOGIN packets TLS 1.3 does not work: its client finishes the
  // handshake with a flight the server must still read wrapped, and FreeTDS 1.3 sends that
  // flight bare (observed).
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);  // nothing in TDS resumes sessions
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file.c_str()) != 1) {
    return m2r::fail(ErrorKind::invalid_input,
                     fmt::format("cannot load the TLS certificate {}: {}", certificate_file, openssl_errors()),
                     "tls_cert must name a PEM file with the server's certificate (the world writes DIR/tls/)");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return m2r::fail(ErrorKind::invalid_input, fmt::format("cannot load the TLS key {}: {}", key_file, openssl_errors()),
                     "tls_key must name the PEM private key of the certificate in tls_cert");
  }
  return context;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(m_ctx); }

TlsStream::TlsStream(const TlsServerContext& context, int fd, std::chrono::milliseconds read_timeout)
    : m_ssl(SSL_new(context.native())), m_fd(fd), m_read_timeout(read_timeout) {
  SSL_set_bio(m_ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_accept_state(m_ssl);
}

TlsStream::~TlsStream() { SSL_free(m_ssl); }

bool TlsStream::send_raw(const std::uint8_t* p, std::size_t n) {
  std::size_t off = 0;
  while (off < n) {
    const ssize_t r = ::send(m_fd, p + off, n - off, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    off += static_cast<std::size_t>(r);
  }
  return true;
}

bool TlsStream::flush_records() {
  BIO* out = SSL_get_wbio(m_ssl);
  std::uint8_t buf[16384];
  for (int n; (n = BIO_read(out, buf, sizeof buf)) > 0;) {
    if (!send_raw(buf, static_cast<std::size_t>(n))) return false;
  }
  return true;
}

bool TlsStream::recv_records() {
  std::uint8_t buf[16384];
  for (;;) {
    const ssize_t r = ::recv(m_fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    BIO_write(SSL_get_rbio(m_ssl), buf, static_cast<int>(r));
    return true;
  }
}

bool TlsStream::read_prelogin_message(std::vector<std::uint8_t>* payload, std::string* why) {
  payload->clear();
  auto recv_exact = [&](std::uint8_t* p, std::size_t n) {
    std::size_t off = 0;
    while (off < n) {
      pollfd pfd{m_fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(m_read_timeout.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        *why = fmt::format("the client sent nothing for {} ms during the TLS handshake", m_read_timeout.count());
        return false;
      }
      const ssize_t r = ::recv(m_fd, p + off, n - off, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        *why = "the client closed the connection during the TLS handshake (it may not trust the certificate)";
        return false;
      }
      off += static_cast<std::size_t>(r);
    }
    return true;
  };
  for (;;) {
    std::uint8_t raw[k_header_size];
    if (!recv_exact(raw, k_header_size)) return false;
    const PacketHeader h = parse_header(raw);
    if (h.type != PacketType::prelogin) {
      *why = fmt::format("the client sent a packet of type {} during the TLS handshake, not PRELOGIN (0x12)",
                         static_cast<int>(h.type));
      return false;
    }
    const std::size_t at = payload->size();
    payload->resize(at + h.length - k_header_size);
    if (!recv_exact(payload->data() + at, h.length - k_header_size)) return false;
    if (h.status & k_status_eom) return true;
  }
}

bool TlsStream::handshake(std::string* why) {
  std::uint8_t packet_id = 1;
  auto send_wrapped = [&] {
    BIO* out = SSL_get_wbio(m_ssl);
    std::vector<std::uint8_t> records(static_cast<std::size_t>(BIO_ctrl_pending(out)));
    if (records.empty()) return true;
    BIO_read(out, records.data(), static_cast<int>(records.size()));
    const auto packets = frame_packets(PacketType::prelogin, records, k_default_packet_size, 0, true, &packet_id);
    return send_raw(packets.data(), packets.size());
  };
  for (;;) {
    const int r = SSL_do_handshake(m_ssl);
    if (r == 1) return send_wrapped();  // TLS 1.2 ends with the server's Finished, still wrapped
    if (SSL_get_error(m_ssl, r) != SSL_ERROR_WANT_READ) {
      *why = "TLS handshake failed: " + openssl_errors();
      send_wrapped();  // the alert, so that the client learns why
      return false;
    }
    if (!send_wrapped()) {
      *why = "the client closed the connection during the TLS handshake";
      return false;
    }
    std::vector<std::uint8_t> payload;
    if (!read_prelogin_message(&payload, why)) return false;
    BIO_write(SSL_get_rbio(m_ssl), payload.data(), static_cast<int>(payload.size()));
  }
}

std::size_t TlsStream::read(std::uint8_t* p, std::size_t n) {
  for (;;) {
    const int r = SSL_read(m_ssl, p, static_cast<int>(n));
    if (r > 0) return static_cast<std::size_t>(r);
    if (SSL_get_error(m_ssl, r) != SSL_ERROR_WANT_READ) return 0;  // close_notify, or a broken record
    if (!recv_records()) return 0;
  }
}

bool TlsStream::write(const std::uint8_t* p, std::size_t n) {
  // Into the memory BIO (it grows, so the write is whole), then onto the socket.
  if (n > 0 && SSL_write(m_ssl, p, static_cast<int>(n)) <= 0) return false;
  return flush_records();
}

bool TlsStream::pending() const {
  // Plain text of a record read in part, or records already taken off the socket: one recv()
  // may bring several, and OpenSSL decrypts one per SSL_read.
  return SSL_pending(m_ssl) > 0 || SSL_has_pending(m_ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(m_ssl)) > 0;
}

}  // namespace sandbox::tds
