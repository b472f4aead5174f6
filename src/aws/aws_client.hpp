#pragma once
// The generic signed client: builds the URL from the context's endpoint, signs each attempt
// (SigV4, fresh date and credentials), sends it through the transport under the retry
// policy, and turns AWS error responses into m2r::Error. The typed clients (sts_client,
// rds_client, dms_client, cloudwatch_client, s3_client) are thin layers over it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_context.hpp"
#include "aws/aws_error.hpp"

namespace pugi {
class xml_document;
}

namespace m2r::aws {

struct AwsRequest {
  std::string operation;  // "UploadPart": for errors, events and logs
  std::string method = "POST";
  std::string path = "/";  // encoded
  std::string query;       // encoded, without '?'
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string_view> body_view;  // borrowed large body (S3 parts); wins over body
  // A body read as it is sent (S3 parts larger than the upload's buffers), from offset 0 on
  // each attempt: fills `into` from `offset` and returns the count, or k_body_read_failed.
  // Only with unsigned_payload (the body is never hashed here). Wins over body_view.
  std::function<std::size_t(std::uint64_t offset, char* into, std::size_t size)> body_at;
  std::uint64_t body_size = 0;
  bool unsigned_payload = false;              // S3: x-amz-content-sha256: UNSIGNED-PAYLOAD
  Idempotent idempotent = Idempotent::yes;
  std::string resource;                 // "bucket 'b'", for messages
  std::optional<std::string> endpoint;  // overrides the context's endpoint (S3 virtual hosts)
  BodySink response_sink;               // stream a 2xx body (GetObject)
  bool error_in_2xx = false;            // S3 CompleteMultipartUpload may answer 200 with <Error>
  std::function<bool()> cancelled;      // polled during the transfer: true aborts it (ErrorKind::interrupted)
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class AwsClient {
 public:
  AwsClient(const AwsContext& context, Service service);

  Expected<HttpResponse> send(const AwsRequest& request);

  // Query protocol (RDS, STS, CloudWatch, IAM): POST form Action=..&Version=..&params.
  Expected<HttpResponse> call_query(const std::string& action, const QueryParams& params, Idempotent idempotent,
                                    const std::string& resource = {});
  // JSON 1.1 (DMS): X-Amz-Target: <prefix>.<operation>.
  Expected<nlohmann::json> call_json(const std::string& operation, const nlohmann::json& input, Idempotent idempotent,
                                     const std::string& resource = {});

  const AwsContext& context() const { return m_context; }
  Service service() const { return m_service; }
  std::string endpoint() const { return m_context.endpoints.endpoint(m_service); }

 private:
  AwsContext m_context;
  Service m_service;
};

// Parses an XML response body; errors name the operation.
Expected<std::shared_ptr<pugi::xml_document>> parse_xml(const std::string& body, const std::string& operation);

// "a=1&b=x%20y": form/query encoding with SigV4's encoder (never '+').
std::string encode_query(const QueryParams& params);

// application/x-www-form-urlencoded as botocore writes it (space as '+'): the query
// protocol's body. Servers that re-encode the parsed form to check the signature (moto)
// agree with it byte for byte.
std::string form_encode(const QueryParams& params);

// The API version of each query-protocol service, the target prefix of JSON ones.
const char* api_version(Service service);
const char* json_target_prefix(Service service);

}  // namespace m2r::aws
