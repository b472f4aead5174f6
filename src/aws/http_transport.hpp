#pragma once
// HTTP behind a narrow interface: the AWS clients build requests, a transport sends them.
// CurlTransport is the real one; FakeHttpTransport (tests/fakes/fake_http_transport.hpp) records and replays.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"  // Header
#include "core/error.hpp"

namespace m2r::aws {

// Fills `buffer` with up to `size` bytes of the body; returns the count (0 = end), or
// k_body_read_failed to abandon the request (send() then fails with ErrorKind::fatal).
using BodyReader = std::function<size_t(char* buffer, size_t size)>;
inline constexpr size_t k_body_read_failed = static_cast<size_t>(-1);
// Receives the response body in chunks; return false to abort the transfer.
using BodySink = std::function<bool(std::string_view chunk)>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // "https://host[:port]/path?query", path and query already encoded
  std::vector<Header> headers;

  // The body, one of (in this order of precedence):
  BodyReader body_reader;            // streamed; body_size bytes must be produced
  std::optional<std::string_view> body_view;  // borrowed: must stay valid during send()
  std::string body;                  // owned
  std::uint64_t body_size = 0;       // for body_reader only

  BodySink response_sink;  // when set, the response body goes here, not to HttpResponse::body
  // Polled while the request is in flight (at least once a second, and as data moves); true
  // aborts the transfer and send() fails with ErrorKind::interrupted (a stop the user asked for).
  std::function<bool()> cancelled;

  std::uint64_t content_length() const;
  // The body as one view (body_view or body); empty for a body_reader.
  std::string_view payload() const;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};

struct TransportOptions {
  // Named defaults (botocore uses 60 s connect and read timeouts; connects on loopback
  // and in-region are fast, so fail sooner).
  std::chrono::milliseconds connect_timeout{10'000};
  // Abort a transfer slower than low_speed_bytes per second for low_speed_time (a stalled
  // connection), rather than capping total time: a 64 MiB part on a slow link is legitimate.
  std::chrono::seconds low_speed_time{60};
  long low_speed_bytes = 1;
  std::chrono::milliseconds total_timeout{0};  // 0 = none
  bool verify_tls = true;
  std::string ca_bundle;  // PEM file; empty = the system store
  std::size_t max_idle_connections = 16;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Errors: ErrorKind::timeout for timeouts, ErrorKind::retryable for connection
  // failures (messages from request_not_sent_prefix() mean nothing reached the server).
  virtual Expected<HttpResponse> send(const HttpRequest& request) = 0;
};

// The prefix of a transport error message when the request never left (DNS, connect, TLS
// handshake): such a request is safe to retry even when it is not idempotent.
constexpr std::string_view k_request_not_sent = "request not sent: ";
bool request_not_sent(const Error& error);

// libcurl; thread-safe. Keeps a pool of easy handles so connections are reused (keep-alive).
class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Expected<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Pool;
  TransportOptions m_options;
  std::unique_ptr<Pool> m_pool;
};

// Splits "https://host:port/path?q" into its parts; nullopt when it is not http(s).
struct UrlParts {
  std::string scheme;
  std::string host;       // without the port
  std::string authority;  // "host[:port]" as it goes into the Host header (default ports dropped)
  std::string target;     // "/path?query" ("/" when empty)
};
std::optional<UrlParts> parse_url(std::string_view url);

}  // namespace m2r::aws
