#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace m2r::testing {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads into `buffer` until it holds "\r\n\r\n"; the head is returned and removed from it.
bool read_head(int fd, std::string& buffer, std::string& head) {
  char chunk[65536];
  while (true) {
    const auto end = buffer.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = buffer.substr(0, end + 4);
      buffer.erase(0, end + 4);
      return true;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

bool read_exactly(int fd, std::string& buffer, std::size_t length, std::string& out) {
  char chunk[65536];
  while (buffer.size() < length) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  out = buffer.substr(0, length);
  buffer.erase(0, length);
  return true;
}

std::map<std::string, std::string> parse_headers(const std::string& head, std::string& first_line) {
  std::map<std::string, std::string> headers;
  std::size_t pos = head.find("\r\n");
  first_line = head.substr(0, pos);
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next - pos - 2);
    pos = next;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    headers[lower(line.substr(0, colon))] = value;
  }
  return headers;
}

std::size_t content_length(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("content-length");
  return it == headers.end() ? 0 : static_cast<std::size_t>(std::stoull(it->second));
}

int connect_to(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

// The upstream's whole answer to `request` (head and body), over a connection of its own.
bool forward(const std::string& host, int port, const std::string& method, const std::string& request,
             std::string& answer) {
  const int fd = connect_to(host, port);
  if (fd < 0) return false;
  bool ok = send_all(fd, request);
  std::string buffer, head, body;
  ok = ok && read_head(fd, buffer, head);
  if (ok) {
    std::string status_line;
    const auto headers = parse_headers(head, status_line);
    const bool bodiless = method == "HEAD" || status_line.find(" 204 ") != std::string::npos ||
                          status_line.find(" 304 ") != std::string::npos;
    if (!bodiless && headers.count("content-length")) {
      ok = read_exactly(fd, buffer, content_length(headers), body);
    } else if (!bodiless) {
      // No length: the answer ends when the upstream closes (we asked for Connection: close).
      char chunk[65536];
      ssize_t n;
      while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0) buffer.append(chunk, static_cast<std::size_t>(n));
      body = buffer;
    }
    answer = head + body;
  }
  ::close(fd);
  return ok;
}

std::string query_of(const std::string& target) {
  const auto q = target.find('?');
  return q == std::string::npos ? std::string{} : target.substr(q + 1);
}

bool has_query_key(const std::string& query, const std::string& key) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto end = std::min(query.find('&', pos), query.size());
    const std::string item = query.substr(pos, end - pos);
    if (item == key || item.rfind(key + "=", 0) == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::string ProxiedRequest::operation() const {
  if (auto it = headers.find("x-amz-target"); it != headers.end()) {
    const auto dot = it->second.rfind('.');
    return dot == std::string::npos ? it->second : it->second.substr(dot + 1);
  }
  const std::string query = query_of(target);
  const bool upload_id = has_query_key(query, "uploadId");
  if (method == "POST" && has_query_key(query, "uploads")) return "CreateMultipartUpload";
  if (method == "POST" && upload_id) return "CompleteMultipartUpload";
  if (method == "PUT" && upload_id) return "UploadPart";
  if (method == "DELETE" && upload_id) return "AbortMultipartUpload";
  if (method == "GET" && upload_id) return "ListParts";
  if (method == "GET" && has_query_key(query, "uploads")) return "ListMultipartUploads";
  if (method == "GET" && has_query_key(query, "location")) return "GetBucketLocation";
  if (method == "GET" && has_query_key(query, "list-type")) return "ListObjectsV2";
  const std::string path = target.substr(0, target.find('?'));
  const bool bucket_only = path.find('/', 1) == std::string::npos || path.find('/', 1) == path.size() - 1;
  if (method == "HEAD") return bucket_only ? "HeadBucket" : "HeadObject";
  if (method == "PUT") return bucket_only ? "CreateBucket" : "PutObject";
  if (method == "GET") return bucket_only ? "ListObjects" : "GetObject";
  if (method == "DELETE") return bucket_only ? "DeleteBucket" : "DeleteObject";
  return method;
}

bool split_http_url(const std::string& url, std::string& host, int& port) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  host = rest.substr(0, colon);
  port = std::atoi(rest.substr(colon + 1).c_str());
  return !host.empty() && port > 0;
}

FaultProxy::FaultProxy(std::string upstream_host, int upstream_port)
    : m_upstream_host(std::move(upstream_host)), m_upstream_port(upstream_port) {}

FaultProxy::~FaultProxy() { stop(); }

Expected<void> FaultProxy::start() {
  m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listener < 0) return fail(ErrorKind::fatal, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listener, 64) != 0)
    return fail(ErrorKind::fatal, std::string("bind/listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
  return {};
}

void FaultProxy::stop() {
  if (m_stopping.exchange(true)) return;
  if (m_listener >= 0) ::shutdown(m_listener, SHUT_RDWR);
  if (m_acceptor.joinable()) m_acceptor.join();
  if (m_listener >= 0) ::close(m_listener);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);
    for (int fd : m_clients) ::shutdown(fd, SHUT_RDWR);
    workers.swap(m_workers);
  }
  for (auto& t : workers) t.join();
}

std::string FaultProxy::url() const { return fmt::format("http://127.0.0.1:{}", m_port); }

void FaultProxy::add_rule(ProxyRule rule) {
  std::lock_guard lock(m_mutex);
  m_rules.push_back(std::move(rule));
}

void FaultProxy::clear_rules() {
  std::lock_guard lock(m_mutex);
  m_rules.clear();
}

std::vector<std::string> FaultProxy::operations() const {
  std::lock_guard lock(m_mutex);
  return m_operations;
}

int FaultProxy::count(const std::string& operation) const {
  std::lock_guard lock(m_mutex);
  return static_cast<int>(std::count(m_operations.begin(), m_operations.end(), operation));
}

std::optional<ProxyRule> FaultProxy::take_rule(const std::string& operation) {
  std::lock_guard lock(m_mutex);
  m_operations.push_back(operation);
  for (auto& rule : m_rules) {
    if (rule.operation != operation || rule.times <= 0) continue;
    --rule.times;
    return rule;
  }
  return std::nullopt;
}

void FaultProxy::accept_loop() {
  while (!m_stopping) {
    const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return;
    }
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(m_mutex);
    m_clients.push_back(client);
    m_workers.emplace_back([this, client] { serve(client); });
  }
}

void FaultProxy::serve(int client) {
  std::string buffer;
  while (!m_stopping) {
    std::string head;
    if (!read_head(client, buffer, head)) break;
    ProxiedRequest request;
    std::string request_line;
    request.headers = parse_headers(head, request_line);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.find(' ', sp1 + 1);
    request.method = request_line.substr(0, sp1);
    request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!read_exactly(client, buffer, content_length(request.headers), request.body)) break;
    const auto rule = take_rule(request.operation());

    if (rule && rule->action == ProxyAction::answer) {
      ++m_faults;
      // A HEAD answer carries no body, as S3's own do.
      const std::string body = rule->body && request.method != "HEAD" ? rule->body() : std::string{};
      const auto date = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + rule->server_clock_ahead);
      char stamp[64];
      std::tm tm{};
      std::strftime(stamp, sizeof stamp, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&date, &tm));
      const std::string answer = fmt::format(
          "HTTP/1.1 {} Injected\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nx-amzn-RequestId: "
          "fault-proxy\r\n\r\n{}",
          rule->status, stamp, rule->content_type, body.size(), body);
      if (!send_all(client, answer)) break;
      continue;
    }
    // The request as received, but on a connection of its own that the upstream closes.
    std::string upstream_head = request_line + "\r\n";
    for (const auto& [name, value] : request.headers)
      if (name != "connection") upstream_head += name + ": " + value + "\r\n";
    upstream_head += "connection: close\r\n\r\n";
    std::string answer;
    if (!forward(m_upstream_host, m_upstream_port, request.method, upstream_head + request.body, answer)) break;
    if (rule) {
      ++m_faults;
      if (rule->then) rule->then();
      break;  // the answer never reaches the client
    }
    // The upstream closes after each answer; the client may keep its connection to us.
    if (!send_all(client, answer)) break;
  }
  {
    std::lock_guard lock(m_mutex);
    m_clients.erase(std::remove(m_clients.begin(), m_clients.end(), client), m_clients.end());
  }
  ::shutdown(client, SHUT_RDWR);
  ::close(client);
}

}  // namespace m2r::testing
