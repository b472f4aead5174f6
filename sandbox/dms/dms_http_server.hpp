#pragma once
// The sandbox's DMS on the wire (docs/facts.md §4): POST / with Content-Type
// application/x-amz-json-1.1 and X-Amz-Target AmazonDMSv20160101.<Operation>, SigV4
// (service "dms") verified against the one key pair the world hands out. Authentication
// failures answer as AWS JSON services do: MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException.
#include <memory>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "dms/dms_service.hpp"

namespace httplib {
class Server;
}

namespace sandbox::dms {

struct DmsServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = a free port
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  int max_clock_skew_seconds = 900;  // AWS refuses requests signed more than 15 minutes off
};

// Checks the request's signature; returns an error reply or nullopt. Exposed for tests.
struct ReceivedRequest {
  std::string method;
  std::string target;  // raw path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
std::optional<DmsReply> authenticate(const ReceivedRequest& request, const DmsServerConfig& config);

class DmsHttpServer {
 public:
  DmsHttpServer(DmsService& service, DmsServerConfig config);
  ~DmsHttpServer();
  DmsHttpServer(const DmsHttpServer&) = delete;
  DmsHttpServer& operator=(const DmsHttpServer&) = delete;

  // Binds and serves on a thread; returns the port.
  m2r::Expected<int> start();
  void stop();
  int port() const { return m_port; }
  std::string endpoint_url() const { return "http://" + m_config.host + ":" + std::to_string(m_port); }

 private:
  DmsService& m_service;
  DmsServerConfig m_config;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace sandbox::dms
