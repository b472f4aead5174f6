#pragma once
// AWS error responses -> m2r::Error. Three wire forms:
//   REST-XML (S3):   <Error><Code>NoSuchBucket</Code><Message>...</Message><RequestId>..</RequestId></Error>
//   query (RDS, STS, CloudWatch, IAM): <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
//   JSON 1.1 (DMS):  {"__type":"com.amazonaws.dms#ResourceNotFoundFault","message":"..."}
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
};

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
};

ErrorKind error_kind_for(const AwsErrorInfo& info);
// "s3 UploadPart failed: SlowDown: Please reduce your request rate. (HTTP 503, request id X)", hint names the fix.
Error to_error(const AwsErrorInfo& info, const ErrorContext& context);

// Extracts the request id of a response for logs (x-amzn-RequestId, x-amz-request-id).
std::string request_id_of(const HttpResponse& response);

}  // namespace m2r::aws
