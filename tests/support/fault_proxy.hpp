#pragma once
// A loopback HTTP proxy that stands between the product and an AWS endpoint of the rehearsal
// world (moto for S3, the sandbox's DMS) and injects the faults the real network and services
// produce at the worst moments: the product killed right after the service did the work but
// before the answer arrived (CompleteMultipartUpload, CreateReplicationTask), an answer lost on
// the way back, or an error answer such as RequestTimeTooSkewed instead of the service's.
//
// The product reaches it through AWS_ENDPOINT_URL_<SERVICE>, as any endpoint; requests are
// forwarded byte for byte (the Host header included, so SigV4 signatures stay valid). One
// upstream connection per request; Content-Length bodies (the product never sends chunked ones).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace m2r::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;                          // "/bucket/key?uploadId=..."
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // The API operation: X-Amz-Target's for JSON services ("CreateReplicationTask"), else the S3
  // operation the method and query name ("CompleteMultipartUpload", "UploadPart", ...).
  std::string operation() const;
};

enum class ProxyAction {
  forward_then_call,  // forward, read the whole answer, call `then` (e.g. SIGKILL the client), close without answering
  drop_answer,        // forward, read the whole answer, close without answering (the answer is lost)
  answer,             // answer with `status` / `content_type` / `body` without forwarding
};

struct ProxyRule {
  std::string operation;  // ProxiedRequest::operation()
  ProxyAction action = ProxyAction::drop_answer;
  int times = 1;          // requests it applies to
  std::function<void()> then;
  int status = 500;
  std::string content_type = "application/xml";
  std::function<std::string()> body;  // called when the answer is sent (a ServerTime of that moment)
  std::chrono::seconds server_clock_ahead{0};  // the answer's Date header: now + this (services always send one)
};

class FaultProxy {
 public:
  FaultProxy(std::string upstream_host, int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  Expected<void> start();  // listens on 127.0.0.1, a free port
  void stop();
  std::string url() const;  // http://127.0.0.1:port

  void add_rule(ProxyRule rule);
  void clear_rules();
  // The operations of the requests received, in order, and how many of one.
  std::vector<std::string> operations() const;
  int count(const std::string& operation) const;
  int faults_injected() const { return m_faults; }

 private:
  void accept_loop();
  void serve(int client);
  // The rule that takes this request (consuming one of its `times`), or none.
  std::optional<ProxyRule> take_rule(const std::string& operation);

  std::string m_upstream_host;
  int m_upstream_port;
  int m_listener = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::thread m_acceptor;
  mutable std::mutex m_mutex;
  std::vector<std::thread> m_workers;
  std::vector<int> m_clients;
  std::vector<ProxyRule> m_rules;
  std::vector<std::string> m_operations;
  std::atomic<int> m_faults{0};
};

// "http://127.0.0.1:5000" -> host and port; false when it is not such a URL.
bool split_http_url(const std::string& url, std::string& host, int& port);

}  // namespace m2r::testing
