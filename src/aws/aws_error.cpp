#include "aws/aws_error.hpp"

#include <ctime>

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace m2r::aws {
namespace {

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

// botocore retries/standard.py ThrottledRetryableChecker (the union of throttling codes).
constexpr std::array<std::string_view, 14> k_throttling = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"};
// botocore TransientRetryableChecker, plus S3's InternalError / ServiceUnavailable codes.
constexpr std::array<std::string_view, 6> k_transient = {"RequestTimeout", "RequestTimeoutException",
                                                         "PriorRequestNotComplete", "InternalError",
                                                         "ServiceUnavailable", "InternalFailure"};
constexpr std::array<std::string_view, 18> k_auth = {
    "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "AccessDenied",
    "AccessDeniedException", "UnrecognizedClientException", "InvalidAccessKeyId", "IncompleteSignature",
    "MissingAuthenticationToken", "AuthFailure", "InvalidToken", "RequestExpired", "RequestTimeTooSkewed",
    "Forbidden", "InvalidSignatureException", "AuthorizationHeaderMalformed", "NotAuthorized"};
constexpr std::array<std::string_view, 16> k_not_found = {
    "NoSuchBucket", "NoSuchKey", "NoSuchUpload", "ResourceNotFoundFault", "DBInstanceNotFound",
    "DBInstanceNotFoundFault", "OptionGroupNotFoundFault", "NotFound", "NoSuchEntity", "ResourceNotFoundException",
    "DBSnapshotNotFound", "ReplicationTaskNotFound", "NoSuchVersion", "OptionGroupNotFound", "NoSuchLifecycleConfiguration",
    "DBSubnetGroupNotFoundFault"};
constexpr std::array<std::string_view, 8> k_conflict = {
    "ResourceAlreadyExistsFault", "InvalidResourceStateFault", "DBInstanceAlreadyExists", "OptionGroupAlreadyExistsFault",
    "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "EntityAlreadyExists", "OperationAborted"};
constexpr std::array<std::string_view, 16> k_invalid_input = {
    "InvalidParameterValueException", "InvalidParameterValue", "InvalidParameterCombination", "ValidationError",
    "ValidationException", "MalformedXML", "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "EntityTooLarge",
    "InvalidRequest", "InvalidArgument", "InvalidDigest", "BadDigest", "InvalidBucketName", "MissingParameter"};

std::string status_code_name(int status) {
  switch (status) {
    case 301: return "PermanentRedirect";
    case 304: return "NotModified";
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequestsException";
    case 500: return "InternalError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return fmt::format("HTTP{}", status);
  }
}

std::string strip_json_type(std::string type) {
  // "com.amazonaws.dms#ResourceNotFoundFault" and "ResourceNotFoundFault:http://..." (restJson)
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  if (auto colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
  return type;
}

std::string first_line(std::string_view text, size_t max = 300) {
  std::string out(text.substr(0, std::min(text.find('\n'), max)));
  return out;
}

}  // namespace

bool is_throttling_code(std::string_view code) { return contains(k_throttling, code); }
bool is_transient_code(std::string_view code) { return contains(k_transient, code); }
bool is_auth_code(std::string_view code) { return contains(k_auth, code); }
bool is_not_found_code(std::string_view code) { return contains(k_not_found, code); }

std::string request_id_of(const HttpResponse& response) {
  for (const char* name : {"x-amzn-RequestId", "x-amz-request-id", "x-amzn-requestid"})
    if (auto v = response.header(name)) return *v;
  return {};
}

bool is_error_document(std::string_view body) {
  size_t start = body.find('<');
  if (start == std::string_view::npos) return false;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return false;
  std::string_view root = doc.document_element().name();
  return root == "Error" || root == "ErrorResponse";
}

std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) {
    tm = {};
    end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (end == nullptr) return std::nullopt;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

bool is_clock_skew(const AwsErrorInfo& info) {
  if (info.code == "RequestTimeTooSkewed") return true;
  const bool signature_code = info.code == "InvalidSignatureException" || info.code == "SignatureDoesNotMatch" ||
                              info.code == "AuthFailure" || info.code == "RequestExpired";
  return signature_code && (info.message.find("Signature expired") != std::string::npos ||
                            info.message.find("Signature not yet current") != std::string::npos);
}

AwsErrorInfo parse_aws_error(const HttpResponse& response) {
  AwsErrorInfo info;
  info.http_status = response.status;
  info.request_id = request_id_of(response);
  if (auto date = response.header("Date")) info.server_time = parse_server_time(*date);
  std::string_view body = response.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object()) {
      for (const char* key : {"__type", "code", "Code"})
        if (json.contains(key) && json[key].is_string()) {
          info.code = strip_json_type(json[key].get<std::string>());
          break;
        }
      for (const char* key : {"message", "Message", "errorMessage"})
        if (json.contains(key) && json[key].is_string()) {
          info.message = json[key].get<std::string>();
          break;
        }
    }
  } else if (first != std::string_view::npos && body[first] == '<') {
    pugi::xml_document doc;
    if (doc.load_buffer(body.data(), body.size())) {
      pugi::xml_node root = doc.document_element();
      pugi::xml_node error = std::string_view(root.name()) == "Error" ? root : root.child("Error");
      if (!error) error = root.child("Errors").child("Error");  // EC2 style
      if (error) {
        info.code = error.child_value("Code");
        info.message = error.child_value("Message");
        if (auto t = parse_server_time(error.child_value("ServerTime"))) info.server_time = t;
      }
      std::string rid = root.child_value("RequestId");
      if (rid.empty()) rid = error.child_value("RequestId");
      if (rid.empty()) rid = root.child_value("RequestID");
      if (!rid.empty()) info.request_id = rid;
    }
  }
  if (info.code.empty())
    if (auto header = response.header("x-amzn-ErrorType")) info.code = strip_json_type(*header);
  if (info.code.empty()) info.code = status_code_name(response.status);
  if (info.message.empty() && first != std::string_view::npos && body[first] != '<' && body[first] != '{')
    info.message = first_line(body.substr(first));
  return info;
}

ErrorKind error_kind_for(const AwsErrorInfo& info) {
  if (is_throttling_code(info.code) || is_transient_code(info.code)) return ErrorKind::retryable;
  if (info.code == "PermanentRedirect" || info.code == "AuthorizationHeaderMalformed") return ErrorKind::prerequisite;
  if (is_auth_code(info.code)) return ErrorKind::auth;
  if (is_not_found_code(info.code)) return ErrorKind::not_found;
  if (contains(k_conflict, info.code)) return ErrorKind::conflict;
  if (contains(k_invalid_input, info.code)) return ErrorKind::invalid_input;
  if (info.http_status >= 500) return ErrorKind::retryable;
  if (info.http_status == 401 || info.http_status == 403) return ErrorKind::auth;
  if (info.http_status == 404) return ErrorKind::not_found;
  if (info.http_status == 409) return ErrorKind::conflict;
  return ErrorKind::refused;  // AWS's own code and message are quoted
}

Error to_error(const AwsErrorInfo& info, const ErrorContext& ctx) {
  std::string message = fmt::format("{} {} failed: {}", ctx.service, ctx.operation, info.code);
  if (!info.message.empty()) message += ": " + info.message;
  message += fmt::format(" (HTTP {}", info.http_status);
  if (!info.request_id.empty()) message += ", request id " + info.request_id;
  if (ctx.attempts > 1) message += fmt::format(", after {} attempts", ctx.attempts);
  message += ")";
  if (!ctx.resource.empty()) message += " for " + ctx.resource;

  const std::string source = ctx.credentials_source.empty() ? "the configured credentials" : ctx.credentials_source;
  const std::string& c = info.code;
  std::string hint;
  // A HEAD request's refusal has no body to say RequestTimeTooSkewed; its Date header still
  // shows a clock minutes away from ours (S3 allows 15 minutes, some services 5).
  const bool head_skew = info.http_status == 403 && info.message.empty() && info.server_time && ctx.signed_at &&
                         std::chrono::abs(*ctx.signed_at - *info.server_time) >= std::chrono::minutes(5);
  if (is_clock_skew(info) || head_skew) {
    // Checked first: DMS words a skewed clock as an InvalidSignatureException, which is not a
    // wrong secret key.
    std::string by = "by more than AWS allows (15 minutes for most services, 5 for some)";
    if (info.server_time && ctx.signed_at) {
      const auto skew = std::chrono::duration_cast<std::chrono::seconds>(*ctx.signed_at - *info.server_time).count();
      by = fmt::format("by {} s ({} {})", skew < 0 ? -skew : skew, skew < 0 ? "behind" : "ahead of",
                       ctx.endpoint.empty() ? "AWS" : ctx.endpoint);
    }
    hint = fmt::format("this machine's clock differs from AWS's {}: synchronise it (NTP: `timedatectl set-ntp true`, "
                       "chrony or ntpd) and run again; the credentials are not the problem",
                       by);
  } else if (c == "SignatureDoesNotMatch" || c == "InvalidSignatureException") {
    hint = fmt::format("check the secret access key of {}; it does not match the access key id", source);
  } else if (ctx.temporary_credentials &&
             (c == "InvalidClientTokenId" || c == "UnrecognizedClientException" || c == "InvalidToken" ||
              c == "ExpiredToken" || c == "ExpiredTokenException" || c == "RequestExpired")) {
    hint = fmt::format("the session of {} (temporary credentials with a session token) has expired or was revoked: "
                       "refresh it (`aws sso login --profile ...`, assume the role again, or re-run the "
                       "credential_process) and run again",
                       source);
  } else if (c == "InvalidClientTokenId" || c == "InvalidAccessKeyId" || c == "UnrecognizedClientException" ||
             c == "AuthFailure") {
    hint = fmt::format("the access key id of {} is not known to {}: check it, or create a new access key in IAM", source,
                       ctx.endpoint.empty() ? "AWS" : ctx.endpoint);
  } else if (c == "ExpiredToken" || c == "ExpiredTokenException" || c == "RequestExpired" || c == "InvalidToken") {
    hint = fmt::format("the session token of {} has expired or is invalid: obtain fresh credentials (e.g. re-run "
                       "`aws sso login` or the credential_process) and retry",
                       source);
  } else if (c == "AccessDenied" || c == "AccessDeniedException" || c == "Forbidden" || c == "NotAuthorized") {
    hint = fmt::format("the identity of {} is not allowed to call {}:{}{}: grant it in IAM", source, ctx.service,
                       ctx.operation, ctx.resource.empty() ? "" : " on " + ctx.resource);
  } else if (c == "IncompleteSignature" || c == "MissingAuthenticationToken") {
    hint = "the request was not signed completely; check that credentials are configured";
  } else if (c == "AuthorizationHeaderMalformed" || c == "PermanentRedirect") {
    hint = fmt::format("the resource is in a region other than '{}': set AWS_REGION (or the profile's region) to the "
                       "region the message names",
                       ctx.region);
  } else if (is_throttling_code(c)) {
    hint = "AWS is throttling these requests: retry later, or lower the concurrency";
  } else if (is_transient_code(c) || info.http_status >= 500) {
    hint = "AWS answered with a server-side error: retry later";
  } else if (c == "NoSuchBucket") {
    hint = fmt::format("check the bucket name, and that it exists in region '{}'", ctx.region);
  } else if (c == "NoSuchUpload") {
    hint = "the multipart upload was completed or aborted; start a new upload";
  } else if (c == "DBInstanceNotFound" || c == "DBInstanceNotFoundFault") {
    hint = fmt::format("check the DB instance identifier and the region ('{}')", ctx.region);
  } else if (c == "ResourceNotFoundFault" || c == "ResourceNotFoundException") {
    hint = fmt::format("check the ARN or identifier and the region ('{}')", ctx.region);
  }
  return Error(error_kind_for(info), std::move(message), std::move(hint));
}

}  // namespace m2r::aws
