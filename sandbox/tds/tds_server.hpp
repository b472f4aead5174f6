#pragma once
// A TDS 7.4 listener for one sandbox SQL Server instance: one thread per
// connection, any number of concurrent sessions, clean shutdown.
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "engine/api.hpp"
#include "tds/connection.hpp"

namespace sandbox::tds {

class TdsServer {
 public:
  // port 0 picks a free port; port() tells which after start().
  TdsServer(Instance& instance, std::string host, std::uint16_t port, LogFn log = {});
  ~TdsServer();
  TdsServer(const TdsServer&) = delete;
  TdsServer& operator=(const TdsServer&) = delete;

  m2r::Expected<void> start();
  // Stops accepting, cancels running statements (ResultSink::cancelled() turns
  // true), closes every connection and joins all threads. Idempotent.
  void stop();
  // How long a client may stall in the middle of a packet before its connection is dropped
  // (k_default_read_timeout); applies to connections accepted afterwards.
  void set_read_timeout(std::chrono::milliseconds timeout) { m_read_timeout = timeout; }
  // TLS for connections accepted afterwards: offered with a certificate, required when
  // tls.required (rds.force_ssl = 1).
  void set_tls(TlsPolicy tls) { m_tls = std::move(tls); }
  std::uint16_t port() const { return m_port; }
  const std::string& host() const { return m_host; }
  std::size_t active_connections();

 private:
  struct Worker {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  void accept_loop();
  void reap_finished();

  Instance& m_instance;
  std::string m_host;
  std::uint16_t m_port;
  LogFn m_log;
  std::chrono::milliseconds m_read_timeout = k_default_read_timeout;
  TlsPolicy m_tls;
  int m_listen_fd = -1;
  int m_wake_pipe[2] = {-1, -1};
  std::thread m_accept_thread;
  std::atomic<bool> m_stopping{false};
  std::mutex m_mutex;
  std::list<std::unique_ptr<Worker>> m_workers;
  std::uint16_t m_next_spid = 51;  // SQL Server's user sessions start at 51
};

}  // namespace sandbox::tds
