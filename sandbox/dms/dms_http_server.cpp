#include "dms/dms_http_server.hpp"

#include <httplib.h>

#include <chrono>

#include "aws/sigv4.hpp"

namespace sandbox::dms {

namespace {
constexpr const char* k_target_prefix = "AmazonDMSv20160101.";
}

std::optional<DmsReply> authenticate(const ReceivedRequest& request, const DmsServerConfig& config) {
  namespace aws = m2r::aws;
  std::vector<aws::Header> headers(request.headers.begin(), request.headers.end());
  auto auth_value = aws::find_header(headers, "authorization");
  if (!auth_value) return dms_error("MissingAuthenticationTokenException", "Missing Authentication Token", 400);
  auto auth = aws::parse_authorization(*auth_value);
  if (!auth)
    return dms_error("IncompleteSignatureException",
                     "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. "
                     "Authorization=" + auth_value->substr(0, auth_value->find(' ')));
  if (auth->access_key_id != config.access_key_id)
    return dms_error("UnrecognizedClientException", "The security token included in the request is invalid.");
  if (auth->service != "dms")
    return dms_error("InvalidSignatureException", "Credential should be scoped to correct service: 'dms'. ");
  if (auth->region != config.region)
    return dms_error("InvalidSignatureException", "Credential should be scoped to a valid region. ");
  auto date = aws::find_header(headers, "x-amz-date");
  if (date) {
    auto when = aws::parse_amz_date(*date);
    if (when) {
      auto skew = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *when).count();
      if (skew > config.max_clock_skew_seconds || -skew > config.max_clock_skew_seconds)
        return dms_error("InvalidSignatureException", "Signature expired: " + *date +
                                                          " is now earlier or later than the allowed clock skew of 15 minutes.");
    }
  }
  aws::SignableRequest signable{request.method, aws::find_header(headers, "host").value_or(""), request.target,
                                headers, aws::sha256_hex(request.body)};
  auto ok = aws::verify(signable, *auth, config.secret_access_key, false);
  if (!ok) {
    if (ok.error().message.rfind("IncompleteSignature", 0) == 0)
      return dms_error("IncompleteSignatureException", ok.error().message.substr(ok.error().message.find(':') + 2));
    return dms_error("InvalidSignatureException",
                     "The request signature we calculated does not match the signature you provided. Check your AWS "
                     "Secret Access Key and signing method. Consult the service documentation for details.");
  }
  return std::nullopt;
}

DmsHttpServer::DmsHttpServer(DmsService& service, DmsServerConfig config)
    : m_service(service), m_config(std::move(config)), m_server(std::make_unique<httplib::Server>()) {}

DmsHttpServer::~DmsHttpServer() { stop(); }

m2r::Expected<int> DmsHttpServer::start() {
  auto reply = [](httplib::Response& res, const DmsReply& r) {
    res.status = r.status;
    res.set_header("x-amzn-RequestId", new_resource_id());
    res.set_content(r.body.dump(), "application/x-amz-json-1.1");
  };
  m_server->Post("/", [this, reply](const httplib::Request& req, httplib::Response& res) {
    ReceivedRequest received{req.method, req.target.empty() ? std::string("/") : req.target, {}, req.body};
    for (const auto& [name, value] : req.headers) {
      // httplib adds these for its own bookkeeping; they were not on the wire.
      if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT") continue;
      received.headers.emplace_back(name, value);
    }
    if (auto denied = authenticate(received, m_config)) return reply(res, *denied);
    const std::string target = req.get_header_value("X-Amz-Target");
    if (target.rfind(k_target_prefix, 0) != 0)
      return reply(res, dms_error("UnknownOperationException", "Missing or unknown X-Amz-Target: " + target));
    nlohmann::json input = nlohmann::json::object();
    if (!req.body.empty()) {
      try {
        input = nlohmann::json::parse(req.body);
      } catch (const nlohmann::json::exception&) {
        return reply(res, dms_error("SerializationException", "The request body is not valid JSON"));
      }
    }
    reply(res, m_service.handle(target.substr(std::string(k_target_prefix).size()), input));
  });
  m_server->set_error_handler([reply](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 || res.status == 405)
      reply(res, dms_error("UnknownOperationException", "The DMS API takes POST / only", 404));
  });
  int port = m_config.port == 0 ? m_server->bind_to_any_port(m_config.host)
                                 : (m_server->bind_to_port(m_config.host, m_config.port) ? m_config.port : -1);
  if (port <= 0)
    return m2r::fail(m2r::ErrorKind::prerequisite, "the DMS API could not bind " + m_config.host + ":" +
                                                       std::to_string(m_config.port));
  m_port = port;
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  return port;
}

void DmsHttpServer::stop() {
  if (m_thread.joinable()) {
    m_server->stop();
    m_thread.join();
  }
}

}  // namespace sandbox::dms
