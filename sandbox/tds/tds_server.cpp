#include "tds/tds_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sandbox::tds {

TdsServer::TdsServer(Instance& instance, std::string host, std::uint16_t port, LogFn log)
    : m_instance(instance), m_host(std::move(host)), m_port(port), m_log(std::move(log)) {
  if (!m_log) m_log = [](const std::string&) {};
}

TdsServer::~TdsServer() { stop(); }

m2r::Expected<void> TdsServer::start() {
  using m2r::ErrorKind;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(m_port);
  const std::string host = m_host == "localhost" ? "127.0.0.1" : m_host;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return m2r::fail(ErrorKind::invalid_input, fmt::format("'{}' is not an IPv4 address", m_host),
                     "listen on 127.0.0.1 (the sandbox is loopback only)");
  }
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) return m2r::fail(ErrorKind::fatal, fmt::format("socket(): {}", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(m_listen_fd);
    m_listen_fd = -1;
    return m2r::fail(ErrorKind::conflict, fmt::format("cannot listen on {}:{}: {}", m_host, m_port, std::strerror(err)),
                     "choose another port, or port 0 for a free one");
  }
  socklen_t len = sizeof addr;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  if (::listen(m_listen_fd, 64) != 0 || ::pipe2(m_wake_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(m_listen_fd);
    m_listen_fd = -1;
    return m2r::fail(ErrorKind::fatal, fmt::format("listen(): {}", std::strerror(err)));
  }
  m_stopping = false;
  m_accept_thread = std::thread([this] { accept_loop(); });
  return {};
}

void TdsServer::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_wake_pipe[0], POLLIN, 0}};
    const int n = ::poll(fds, 2, 1000);
    if (m_stopping.load()) return;
    reap_finished();
    if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // INFO messages must not wait for Nagle
    std::lock_guard lock(m_mutex);
    auto worker = std::make_unique<Worker>();
    Worker* w = worker.get();
    w->fd = fd;
    const std::uint16_t spid = m_next_spid++;
    if (m_next_spid == 0) m_next_spid = 51;
    w->thread = std::thread([this, w, spid, timeout = m_read_timeout, tls = m_tls] {
      Connection conn(w->fd, m_instance, spid, m_stopping, m_log, timeout, tls);
      conn.run();
      w->finished = true;
    });
    m_workers.push_back(std::move(worker));
  }
}

void TdsServer::reap_finished() {
  std::lock_guard lock(m_mutex);
  for (auto it = m_workers.begin(); it != m_workers.end();) {
    if ((*it)->finished.load()) {
      (*it)->thread.join();
      ::close((*it)->fd);
      it = m_workers.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t TdsServer::active_connections() {
  reap_finished();
  std::lock_guard lock(m_mutex);
  return m_workers.size();
}

void TdsServer::stop() {
  if (m_listen_fd < 0) return;
  m_stopping = true;
  const char byte = 1;
  [[maybe_unused]] const auto ignored = ::write(m_wake_pipe[1], &byte, 1);
  if (m_accept_thread.joinable()) m_accept_thread.join();
  {
    std::lock_guard lock(m_mutex);
    for (auto& w : m_workers) ::shutdown(w->fd, SHUT_RDWR);  // wakes threads blocked in recv()
  }
  std::list<std::unique_ptr<Worker>> workers;
  {
    std::lock_guard lock(m_mutex);
    workers.swap(m_workers);
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
    ::close(w->fd);
  }
  ::close(m_listen_fd);
  ::close(m_wake_pipe[0]);
  ::close(m_wake_pipe[1]);
  m_listen_fd = -1;
  m_wake_pipe[0] = m_wake_pipe[1] = -1;
}

}  // namespace sandbox::tds
