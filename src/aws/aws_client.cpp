#include "aws/aws_client.hpp"

#include <chrono>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace m2r::aws {

const char* api_version(Service service) {
  switch (service) {
    case Service::rds: return "2014-10-31";
    case Service::sts: return "2011-06-15";
    case Service::cloudwatch: return "2010-08-01";
    case Service::iam: return "2010-05-08";
    case Service::dms: return "2016-01-01";
    case Service::s3: return "2006-03-01";
  }
  return "";
}

const char* json_target_prefix(Service service) {
  return service == Service::dms ? "AmazonDMSv20160101" : "";
}

std::string encode_query(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(k);
    out += '=';
    out += uri_encode(v);
  }
  return out;
}

std::string form_encode(const QueryParams& params) {
  std::string out;
  auto encode = [](const std::string& text) {
    std::string e = uri_encode(text);
    std::string plus;
    for (size_t i = 0; i < e.size(); ++i) {
      if (e.compare(i, 3, "%20") == 0) {
        plus += '+';
        i += 2;
      } else {
        plus += e[i];
      }
    }
    return plus;
  };
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += encode(k);
    out += '=';
    out += encode(v);
  }
  return out;
}

Expected<std::shared_ptr<pugi::xml_document>> parse_xml(const std::string& body, const std::string& operation) {
  auto doc = std::make_shared<pugi::xml_document>();
  auto result = doc->load_buffer(body.data(), body.size());
  if (!result)
    return fail(ErrorKind::fatal, fmt::format("{}: the response is not XML ({})", operation, result.description()),
                "check that the endpoint URL points at the AWS service");
  return doc;
}

AwsClient::AwsClient(const AwsContext& context, Service service) : m_context(context), m_service(service) {}

Expected<HttpResponse> AwsClient::send(const AwsRequest& request) {
  const ServiceInfo& info = service_info(m_service);
  const std::string base = request.endpoint.value_or(m_context.endpoints.endpoint(m_service));
  std::string url = base + request.path;
  if (!request.query.empty()) url += "?" + request.query;
  auto parts = parse_url(url);
  if (!parts)
    return fail(ErrorKind::invalid_input, fmt::format("'{}' is not an http(s) endpoint URL for {}", base, info.signing_name),
                fmt::format("set AWS_ENDPOINT_URL_{} to a URL such as https://host:port", info.env_suffix));

  if (request.body_at && !request.unsigned_payload) {
    return fail(ErrorKind::fatal, fmt::format("{}: a streamed body must be sent with UNSIGNED-PAYLOAD", request.operation));
  }
  const std::string_view payload = request.body_view ? *request.body_view : std::string_view(request.body);
  const std::string payload_hash = request.unsigned_payload ? std::string("UNSIGNED-PAYLOAD") : sha256_hex(payload);
  const std::string signing_region = m_context.endpoints.signing_region(m_service);
  std::string credentials_source = m_context.credentials ? m_context.credentials->source() : std::string{};
  std::optional<Error> credentials_error;
  std::optional<std::chrono::system_clock::time_point> signed_at;
  bool temporary_credentials = false;

  auto attempt_once = [&]() -> AttemptOutcome {
    AttemptOutcome outcome;
    if (!m_context.credentials) {
      credentials_error = Error(ErrorKind::auth, "no AWS credentials configured");
      outcome.transport_error = credentials_error;
      return outcome;
    }
    auto creds = m_context.credentials->credentials();
    if (!creds) {
      credentials_error = creds.error();
      outcome.transport_error = creds.error();
      return outcome;
    }
    if (!creds->source.empty()) credentials_source = creds->source;
    temporary_credentials = !creds->session_token.empty();
    SignableRequest signable{request.method, parts->authority, parts->target, request.headers, payload_hash};
    signed_at = m_context.clock->now();
    sign(signable, *creds, SigningScope{signing_region, info.signing_name, *signed_at});

    HttpRequest http;
    http.method = request.method;
    http.url = url;
    http.headers = std::move(signable.headers);
    std::uint64_t body_offset = 0;  // each attempt reads the streamed body from its start
    if (request.body_at) {
      http.body_size = request.body_size;
      http.body_reader = [&](char* into, size_t size) {
        const size_t n = request.body_at(body_offset, into, size);
        if (n != k_body_read_failed) body_offset += n;
        return n;
      };
    } else if (request.body_view) {
      http.body_view = request.body_view;
    } else {
      http.body = request.body;
    }
    http.response_sink = request.response_sink;
    http.cancelled = request.cancelled;

    const auto started = std::chrono::steady_clock::now();
    auto result = m_context.http->send(http);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (!result) {
      if (m_context.on_log)
        m_context.on_log(fmt::format("{} {} -> {} ({} ms)", info.signing_name, request.operation, result.error().message,
                                     ms.count()));
      outcome.transport_error = result.error();
      return outcome;
    }
    if (m_context.on_log)
      m_context.on_log(fmt::format("{} {} -> HTTP {} ({} ms){}", info.signing_name, request.operation, result->status,
                                   ms.count(), request.resource.empty() ? "" : " " + request.resource));
    if (result->status >= 300 || (request.error_in_2xx && is_error_document(result->body))) {
      outcome.service_error = parse_aws_error(*result);
      return outcome;
    }
    outcome.response = std::move(*result);
    return outcome;
  };

  int attempts = 1;
  AttemptOutcome outcome = m_context.retry->run(info.signing_name, request.operation, request.idempotent, attempt_once,
                                                m_context.on_retry, &attempts);
  if (outcome.ok()) return std::move(*outcome.response);
  if (credentials_error) return tl::unexpected(*credentials_error);
  if (outcome.service_error) {
    ErrorContext ctx{info.signing_name, request.operation, credentials_source, m_context.region, base, request.resource,
                     attempts, signed_at, temporary_credentials};
    return tl::unexpected(to_error(*outcome.service_error, ctx));
  }
  Error e = *outcome.transport_error;
  e.message = fmt::format("{} {} failed{}: {}", info.signing_name, request.operation,
                          attempts > 1 ? fmt::format(" after {} attempts", attempts) : "", e.message);
  if (e.hint.empty() && request.idempotent == Idempotent::no) {
    // Not repeated blindly: the service may have done it before the answer was lost.
    e.hint = fmt::format("{} may have been carried out before its answer was lost, so it was not repeated: run the "
                         "command again, it looks for what the request made before making it again (and check that "
                         "{} is reachable)",
                         request.operation, base);
  } else if (e.hint.empty()) {
    e.hint = fmt::format("check that {} is reachable (AWS_ENDPOINT_URL_{} / AWS_ENDPOINT_URL / region '{}')", base,
                         info.env_suffix, m_context.region);
  }
  return tl::unexpected(e);
}

Expected<HttpResponse> AwsClient::call_query(const std::string& action, const QueryParams& params, Idempotent idempotent,
                                             const std::string& resource) {
  QueryParams all{{"Action", action}, {"Version", api_version(m_service)}};
  all.insert(all.end(), params.begin(), params.end());
  AwsRequest req;
  req.operation = action;
  req.method = "POST";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  req.body = form_encode(all);
  req.idempotent = idempotent;
  req.resource = resource;
  return send(req);
}

Expected<nlohmann::json> AwsClient::call_json(const std::string& operation, const nlohmann::json& input,
                                              Idempotent idempotent, const std::string& resource) {
  AwsRequest req;
  req.operation = operation;
  req.method = "POST";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", fmt::format("{}.{}", json_target_prefix(m_service), operation)}};
  req.body = input.is_null() ? std::string("{}") : input.dump();
  req.idempotent = idempotent;
  req.resource = resource;
  auto response = M2R_TRY(send(req));
  if (response.body.empty()) return nlohmann::json::object();
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded())
    return fail(ErrorKind::fatal, fmt::format("{}: the response is not JSON", operation),
                "check that the endpoint URL points at the AWS service");
  return json;
}

}  // namespace m2r::aws
