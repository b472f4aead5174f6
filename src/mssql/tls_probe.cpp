#include "mssql/tls_probe.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace m2r::mssql {
namespace {

constexpr std::uint8_t k_prelogin = 0x12;
constexpr std::uint8_t k_reply = 0x04;
constexpr std::uint8_t k_eom = 0x01;
constexpr std::size_t k_header = 8;
constexpr std::size_t k_packet_size = 4096;  // until LOGIN7 sets another
constexpr std::uint8_t k_encrypt_not_sup = 2;
constexpr std::uint8_t k_encrypt_req = 3;

class Socket {
 public:
  explicit Socket(int fd) : m_fd(fd) {}
  ~Socket() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return m_fd; }

 private:
  int m_fd;
};

int connect_to(const std::string& host, std::uint16_t port, std::chrono::seconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

bool send_all(int fd, const std::vector<std::uint8_t>& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool recv_exact(int fd, std::uint8_t* p, std::size_t n) {
  std::size_t off = 0;
  while (off < n) {
    const ssize_t r = ::recv(fd, p + off, n - off, 0);
    if (r <= 0) return false;
    off += static_cast<std::size_t>(r);
  }
  return true;
}

std::vector<std::uint8_t> frame(std::uint8_t type, const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  std::size_t off = 0;
  std::uint8_t id = 1;
  do {
    const std::size_t n = std::min(k_packet_size - k_header, payload.size() - off);
    const bool last = off + n == payload.size();
    const std::size_t len = n + k_header;
    const std::uint8_t header[k_header] = {type, static_cast<std::uint8_t>(last ? k_eom : 0),
                                           static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len & 0xFF),
                                           0, 0, id++, 0};
    out.insert(out.end(), header, header + k_header);
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
               payload.begin() + static_cast<std::ptrdiff_t>(off + n));
    off += n;
  } while (off < payload.size());
  return out;
}

// One message: packets until EOM; false when the server closed the connection.
bool read_message(int fd, std::vector<std::uint8_t>* payload) {
  payload->clear();
  for (;;) {
    std::uint8_t h[k_header];
    if (!recv_exact(fd, h, k_header)) return false;
    const std::size_t len = (static_cast<std::size_t>(h[2]) << 8) | h[3];
    if (len < k_header) return false;
    const std::size_t at = payload->size();
    payload->resize(at + len - k_header);
    if (!recv_exact(fd, payload->data() + at, len - k_header)) return false;
    if (h[1] & k_eom) return true;
  }
}

// PRELOGIN with VERSION and ENCRYPTION = ENCRYPT_ON; the server's ENCRYPTION byte back.
std::optional<std::uint8_t> prelogin(int fd) {
  const std::vector<std::uint8_t> request = {0, 0, 11, 0, 6, 1, 0, 17, 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 1};
  if (!send_all(fd, frame(k_prelogin, request))) return std::nullopt;
  std::vector<std::uint8_t> reply;
  if (!read_message(fd, &reply)) return std::nullopt;
  for (std::size_t i = 0; i + 5 <= reply.size() && reply[i] != 0xFF; i += 5) {
    const std::size_t offset = (static_cast<std::size_t>(reply[i + 1]) << 8) | reply[i + 2];
    const std::size_t length = (static_cast<std::size_t>(reply[i + 3]) << 8) | reply[i + 4];
    if (reply[i] == 1 && length >= 1 && offset < reply.size()) return reply[offset];
  }
  return std::nullopt;
}

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? buf : std::string("; ") + buf;
  }
  return out;
}

void describe_certificate(X509* cert, TlsProbeResult* out) {
  if (cert == nullptr) return;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out->certificate_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                          static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == 4) {
      const unsigned char* ip = ASN1_STRING_get0_data(n->d.iPAddress);
      out->certificate_names.push_back(fmt::format("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]));
    }
  }
  GENERAL_NAMES_free(names);
  if (out->certificate_names.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      out->certificate_names.emplace_back(cn);
    }
  }
  BIO* b = BIO_new(BIO_s_mem());
  ASN1_TIME_print(b, X509_get0_notAfter(cert));
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  out->not_after.assign(data, static_cast<std::size_t>(n));
  BIO_free(b);
}

}  // namespace

const char* to_string(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::none: return "none";
    case TlsFailure::no_tls: return "no TLS";
    case TlsFailure::untrusted_certificate: return "untrusted certificate";
    case TlsFailure::expired_certificate: return "expired certificate";
    case TlsFailure::not_yet_valid_certificate: return "certificate not yet valid";
    case TlsFailure::name_mismatch: return "host name mismatch";
    case TlsFailure::handshake_failed: return "handshake failed";
    case TlsFailure::unreachable: return "unreachable";
  }
  return "unknown";
}

TlsProbeResult probe_tls(const TlsProbeRequest& request) {
  TlsProbeResult result;
  Socket socket(connect_to(request.host, request.port, request.timeout));
  if (socket.fd() < 0) {
    result.detail = fmt::format("cannot connect to {}:{}", request.host, request.port);
    return result;
  }
  const auto encryption = prelogin(socket.fd());
  if (!encryption) {
    result.detail = "no PRELOGIN answer";
    return result;
  }
  result.server_requires_tls = *encryption == k_encrypt_req;
  if (*encryption == k_encrypt_not_sup) {
    result.failure = TlsFailure::no_tls;
    return result;
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  const bool loaded = request.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                              : SSL_CTX_load_verify_locations(ctx.get(), request.ca_file.c_str(), nullptr) == 1;
  if (!loaded) {
    result.failure = TlsFailure::untrusted_certificate;
    result.detail = fmt::format("cannot read the CA bundle {}: {}", request.ca_file, openssl_errors());
    return result;
  }
  // The handshake completes whatever the certificate; the verdict is read afterwards.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  const std::string name = request.expected_name.empty() ? request.host : request.expected_name;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  unsigned char ip[16];
  if (inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  }
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl.get());
  for (;;) {
    const int r = SSL_do_handshake(ssl.get());
    BIO* out = SSL_get_wbio(ssl.get());
    std::vector<std::uint8_t> records(static_cast<std::size_t>(BIO_ctrl_pending(out)));
    if (!records.empty()) {
      BIO_read(out, records.data(), static_cast<int>(records.size()));
      if (!send_all(socket.fd(), frame(k_prelogin, records))) break;
    }
    if (r == 1) break;
    if (SSL_get_error(ssl.get(), r) != SSL_ERROR_WANT_READ) {
      result.failure = TlsFailure::handshake_failed;
      result.detail = openssl_errors();
      return result;
    }
    std::vector<std::uint8_t> payload;
    if (!read_message(socket.fd(), &payload)) {
      result.failure = TlsFailure::handshake_failed;
      result.detail = "the server closed the connection during the TLS handshake";
      return result;
    }
    BIO_write(SSL_get_rbio(ssl.get()), payload.data(), static_cast<int>(payload.size()));
  }
  X509* cert = SSL_get1_peer_certificate(ssl.get());
  describe_certificate(cert, &result);
  X509_free(cert);
  const long verdict = SSL_get_verify_result(ssl.get());
  result.detail = X509_verify_cert_error_string(verdict);
  switch (verdict) {
    case X509_V_OK: result.failure = TlsFailure::none; break;
    case X509_V_ERR_CERT_HAS_EXPIRED: result.failure = TlsFailure::expired_certificate; break;
    case X509_V_ERR_CERT_NOT_YET_VALID: result.failure = TlsFailure::not_yet_valid_certificate; break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: result.failure = TlsFailure::name_mismatch; break;
    default: result.failure = TlsFailure::untrusted_certificate; break;
  }
  return result;
}

}  // namespace m2r::mssql
