#pragma once
// AWS error responses -> m2r::Error. Three wire forms:
//   REST-XML (S3):   <Error><Code>NoSuchBucket</Code><Message>...</Message><RequestId>..</RequestId></Error>
//   query (RDS, STS, CloudWatch, IAM): <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
//   JSON 1.1 (DMS):  {"__type":"com.amazonaws.dms#ResourceNotFoundFault","message":"..."}
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http_transport.hpp"
#include "core/error.hpp"

namespace m2r::aws {

struct AwsErrorInfo {
  int http_status = 0;
  std::string code;        // "SignatureDoesNotMatch"; for a body-less response a name for the status ("NotFound")
  std::string message;
  std::string request_id;
  // The server's clock: S3's <ServerTime> in a RequestTimeTooSkewed body, else the response's
  // Date header; tells how far off the local clock is when a signature is refused for its time.
  std::optional<std::chrono::system_clock::time_point> server_time;
};

// "Wed, 02 Dec 2026 04:12:49 GMT" (HTTP-date, RFC 9110) or "2026-12-02T04:12:49Z" (ISO 8601).
std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view text);

// True when AWS refused the request because of its time: RequestTimeTooSkewed, or a
// signature "expired" / "not yet current" (the form DMS, RDS, STS and CloudWatch answer).
bool is_clock_skew(const AwsErrorInfo& info);

// Parses any of the three forms (and body-less HEAD answers). Never fails: unknown bodies
// give a code derived from the status.
AwsErrorInfo parse_aws_error(const HttpResponse& response);
// True when a 2xx body is nevertheless an error (S3 CompleteMultipartUpload, CopyObject).
bool is_error_document(std::string_view body);

bool is_throttling_code(std::string_view code);
bool is_transient_code(std::string_view code);
bool is_auth_code(std::string_view code);
bool is_not_found_code(std::string_view code);

// What the error message and hint may mention. Never the secret.
struct ErrorContext {
  std::string service;             // "s3"
  std::string operation;           // "UploadPart"
  std::string credentials_source;  // "profile 'prod' (/home/u/.aws/credentials)"
  std::string region;
  std::string endpoint;            // "https://s3.eu-west-1.amazonaws.com"
  std::string resource;            // "bucket 'b'", when known
  int attempts = 1;
  // The local clock when the request was signed (for the skew, with the server's time).
  std::optional<std::chrono::system_clock::time_point> signed_at;
  // Temporary credentials (a session token: SSO, an assumed role, credential_process): a
  // refused token is then an expired or revoked session, not a wrong access key.
  bool temporary_credentials = false;
};

ErrorKind error_kind_for(const AwsErrorInfo& info);
// "s3 UploadPart failed: SlowDown: Please reduce your request rate. (HTTP 503, request id X)", hint names the fix.
Error to_error(const AwsErrorInfo& info, const ErrorContext& context);

// Extracts the request id of a response for logs (x-amzn-RequestId, x-amz-request-id).
std::string request_id_of(const HttpResponse& response);

}  // namespace m2r::aws
