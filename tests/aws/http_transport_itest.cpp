// CurlTransport against a small loopback HTTP/1.1 server that counts connections:
// keep-alive reuse, streamed bodies, response sinks, error classification.
#include "aws/http_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "support/moto_server.hpp"  // free_loopback_port
#include "support/temp_dir.hpp"
#include "sys/process.hpp"
#include "support/wait_until.hpp"

namespace m2r::aws {
namespace {

struct ServerRequest {
  std::string method, target, head, body;
};

// One thread, one connection at a time, keep-alive until the client closes.
class LoopbackServer {
 public:
  using Handler = std::function<std::string(const ServerRequest&)>;  // returns the raw response

  explicit LoopbackServer(Handler handler) : m_handler(std::move(handler)) {
    m_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    listen(m_fd, 8);
    m_thread = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    m_stop = true;
    shutdown(m_fd, SHUT_RDWR);
    close(m_fd);
    m_thread.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
  int connections() const { return m_connections; }
  std::vector<ServerRequest> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

 private:
  void serve() {
    while (!m_stop) {
      pollfd p{m_fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int client = accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++m_connections;
      std::string buffer;
      while (!m_stop) {
        if (!buffer.empty() && !(buffer[0] >= 'A' && buffer[0] <= 'Z')) break;  // not HTTP (a TLS hello): hang up
        auto head_end = buffer.find("\r\n\r\n");
        if (head_end == std::string::npos) {
          if (!read_more(client, buffer)) break;
          continue;
        }
        ServerRequest r;
        r.head = buffer.substr(0, head_end);
        std::string lower = r.head;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t length = 0;
        if (auto cl = lower.find("content-length:"); cl != std::string::npos) length = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
        while (buffer.size() < head_end + 4 + length)
          if (!read_more(client, buffer)) break;
        r.method = r.head.substr(0, r.head.find(' '));
        r.target = r.head.substr(r.method.size() + 1, r.head.find(' ', r.method.size() + 1) - r.method.size() - 1);
        r.body = buffer.substr(head_end + 4, length);
        buffer.erase(0, head_end + 4 + length);
        {
          std::lock_guard lock(m_mutex);
          m_requests.push_back(r);
        }
        std::string response = m_handler(r);
        if (response.empty()) break;  // drop the connection without answering
        send(client, response.data(), response.size(), MSG_NOSIGNAL);
      }
      close(client);
    }
  }
  bool read_more(int fd, std::string& buffer) {
    pollfd p{fd, POLLIN, 0};
    while (!m_stop) {
      int n = poll(&p, 1, 100);
      if (n < 0) return false;
      if (n == 0) continue;
      char chunk[65536];
      ssize_t got = recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
      return true;
    }
    return false;
  }

  Handler m_handler;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::mutex m_mutex;
  std::vector<ServerRequest> m_requests;
  std::thread m_thread;
};

std::string respond(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
         "\r\n" + body;
}

TEST(CurlTransportTest, ReusesOneConnectionForSequentialRequests) {
  // Given five sequential requests through one transport, the server should see one TCP connection.
  LoopbackServer server([](const ServerRequest& r) { return respond(200, "ok:" + r.target, "x-amz-request-id: R1\r\n"); });
  CurlTransport transport;
  for (int i = 0; i < 5; ++i) {
    HttpRequest req;
    req.url = server.url("/item/" + std::to_string(i) + "?a=b");
    auto r = transport.send(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok:/item/" + std::to_string(i) + "?a=b");
    EXPECT_EQ(r->header("X-Amz-Request-Id"), "R1");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(CurlTransportTest, SendsBorrowedAndStreamedBodiesWithHeaders) {
  // Given a borrowed 3 MiB body and a streamed body, the server should receive them byte for byte, with our headers,
  // and without an Expect: 100-continue or an invented Content-Type.
  LoopbackServer server([](const ServerRequest& r) { return respond(200, std::to_string(r.body.size())); });
  CurlTransport transport;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  HttpRequest put;
  put.method = "PUT";
  put.url = server.url("/bucket/key?partNumber=1");
  put.headers = {{"x-amz-checksum-crc32c", "AAAAAA=="}};
  put.body_view = big;
  auto r1 = transport.send(put);
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(r1->body, std::to_string(big.size()));

  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/");
  post.body_size = 100'000;
  size_t produced = 0;
  post.body_reader = [&](char* buffer, size_t size) {
    size_t n = std::min<size_t>(size, post.body_size - produced);
    std::memset(buffer, 'q', n);
    produced += n;
    return n;
  };
  auto r2 = transport.send(post);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->body, "100000");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].body, big);
  EXPECT_NE(requests[0].head.find("x-amz-checksum-crc32c: AAAAAA=="), std::string::npos);
  EXPECT_EQ(requests[0].head.find("Expect:"), std::string::npos);
  EXPECT_EQ(requests[0].head.find("Content-Type:"), std::string::npos);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].body, std::string(100'000, 'q'));
}

TEST(CurlTransportTest, HeadAndDeleteAndSinks) {
  // Given HEAD, DELETE and a GET into a sink, each should use its verb and the sink should get the body.
  LoopbackServer server([](const ServerRequest& r) {
    if (r.method == "HEAD") return std::string("HTTP/1.1 200 X\r\nContent-Length: 12345\r\n\r\n");
    if (r.method == "DELETE") return respond(204, "");
    return respond(200, std::string(70'000, 'g'));
  });
  CurlTransport transport;
  HttpRequest head;
  head.method = "HEAD";
  head.url = server.url("/o");
  auto h = transport.send(head);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->header("content-length"), "12345");
  HttpRequest del;
  del.method = "DELETE";
  del.url = server.url("/o?uploadId=1");
  auto d = transport.send(del);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 204);
  std::string sunk;
  HttpRequest get;
  get.url = server.url("/o");
  get.response_sink = [&](std::string_view chunk) {
    sunk.append(chunk);
    return true;
  };
  auto g = transport.send(get);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->body.empty());
  EXPECT_EQ(sunk, std::string(70'000, 'g'));
  auto requests = server.requests();
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[1].method, "DELETE");
}

TEST(CurlTransportTest, ClassifiesConnectionFailuresAndTimeouts) {
  // Given a closed port, the error should be "request not sent" (retryable); given a server that stalls past the
  // timeout, a timeout; given a server that drops the connection, a retryable error that was possibly sent.
  const int closed_port = m2r::test::free_loopback_port();
  CurlTransport transport;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
  auto refused = transport.send(req);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::retryable);
  EXPECT_TRUE(request_not_sent(refused.error())) << refused.error().message;

  LoopbackServer slow([](const ServerRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return respond(200, "late");
  });
  TransportOptions o;
  o.total_timeout = std::chrono::milliseconds(300);
  CurlTransport impatient(o);
  HttpRequest slow_req;
  slow_req.url = slow.url("/");
  auto timed_out = impatient.send(slow_req);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().kind, ErrorKind::timeout) << timed_out.error().message;

  LoopbackServer rude([](const ServerRequest&) { return std::string(); });
  HttpRequest rude_req;
  rude_req.url = rude.url("/");
  auto dropped = transport.send(rude_req);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().kind, ErrorKind::retryable);
  EXPECT_FALSE(request_not_sent(dropped.error())) << dropped.error().message;
}

TEST(CurlTransportTest, ARequestCancelledInFlightEndsAsInterruptedWithoutWaitingForTheAnswer) {
  // Given a server that holds its answer until the test lets it go, a request whose `cancelled`
  // turns true once the server has it should end as ErrorKind::interrupted before the answer.
  std::atomic<bool> received{false};
  std::atomic<bool> released{false};
  LoopbackServer server([&](const ServerRequest&) {
    received = true;
    for (int i = 0; i < 3000 && !released; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return respond(200, "late");
  });
  CurlTransport transport;
  HttpRequest put;
  put.method = "PUT";
  put.url = server.url("/bucket/key?partNumber=3");
  const std::string body(1 << 20, 'p');
  put.body_view = body;
  put.cancelled = [&] { return received.load(); };
  auto r = transport.send(put);
  const bool answered_first = released.load();
  released = true;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::interrupted) << r.error().message;
  EXPECT_NE(r.error().message.find("cancelled in flight"), std::string::npos) << r.error().message;
  EXPECT_FALSE(answered_first);
}

TEST(CurlTransportTest, HttpsToAPlainServerFailsRatherThanDowngrading) {
  // Given an https URL to a plain-HTTP server, the handshake should fail (we never silently downgrade);
  // the option structure should default to verifying.
  TransportOptions defaults;
  EXPECT_TRUE(defaults.verify_tls);
  LoopbackServer plain([](const ServerRequest&) { return respond(200, "plain"); });
  CurlTransport transport;
  HttpRequest req;
  req.url = "https" + plain.url("/").substr(4);
  auto r = transport.send(req);
  EXPECT_FALSE(r);
}

bool port_accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(CurlTransportTest, VerifiesTlsAndAcceptsAConfiguredCaBundle) {
  // Given an HTTPS server with a self-signed certificate, the default transport should refuse it (prerequisite,
  // naming the CA bundle option), and a transport pointed at that certificate as CA bundle should accept it.
  m2r::test::TempDir dir;
  const std::string cert = dir.str() + "/cert.pem", key = dir.str() + "/key.pem";
  m2r::sys::SpawnOptions make_cert;
  make_cert.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert};
  make_cert.search_path = m2r::sys::SearchPath::yes;
  make_cert.out = m2r::sys::Stream::pipe();
  make_cert.err = m2r::sys::Stream::same_as_stdout();
  auto made = m2r::sys::run(make_cert);
  ASSERT_TRUE(made) << made.error().message << " (openssl is needed for this test: apt-get install openssl)";
  ASSERT_TRUE(made->status.success()) << made->out;
  const int port = m2r::test::free_loopback_port();
  m2r::sys::SpawnOptions server;
  server.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", cert,
                 "-key", key, "-www", "-quiet"};
  server.search_path = m2r::sys::SearchPath::yes;
  server.out = m2r::sys::Stream::null();
  server.err = m2r::sys::Stream::null();
  auto openssl = m2r::sys::Process::spawn(server);  // killed and reaped when it goes out of scope
  ASSERT_TRUE(openssl) << openssl.error().message;
  ASSERT_TRUE(test::wait_until([&] { return port_accepts(port); }, std::chrono::seconds(5), std::chrono::milliseconds(50)))
      << "openssl s_server did not start";

  HttpRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(port) + "/";
  CurlTransport strict;
  auto refused = strict.send(req);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::prerequisite) << refused.error().message;
  EXPECT_NE(refused.error().hint.find("CA bundle"), std::string::npos);

  TransportOptions o;
  o.ca_bundle = cert;
  CurlTransport trusting(o);
  auto ok = trusting.send(req);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

TEST(UrlTest, ParsesAuthorityAndTarget) {
  // Given endpoint URLs, parse_url should split host, Host header authority (default ports dropped) and target.
  auto a = parse_url("https://s3.eu-west-1.amazonaws.com:443/b/k?x=1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->authority, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a->target, "/b/k?x=1");
  auto b = parse_url("http://127.0.0.1:5000");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->authority, "127.0.0.1:5000");
  EXPECT_EQ(b->target, "/");
  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://user@host/"));
}

}  // namespace
}  // namespace m2r::aws
