#pragma once
// AWS Signature Version 4: signing (the product) and verification (the rehearsal
// world's servers and tests) share one canonicalisation, checked against AWS's
// published test suite (shared/reference/sigv4-test-suite).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace m2r::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged, never in an error message
  std::string session_token;      // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string source;  // where they came from, for messages: "environment", "profile 'prod'", ...
};

using Header = std::pair<std::string, std::string>;

// A request as it will go on the wire. `target` is the path plus the raw query string
// ("/bucket/key?partNumber=1&uploadId=abc"), exactly as sent.
struct SignableRequest {
  std::string method;
  std::string host;    // "host[:port]" as sent in the Host header
  std::string target;
  std::vector<Header> headers;  // Host is added by sign() if absent
  std::string payload_hash;     // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "dms", "rds", "sts", "monitoring", "iam"
  std::chrono::system_clock::time_point time;
};

// Hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view data);

// The canonical request of SigV4 step 1 for the given signed header names (lower case).
// S3 does not double-encode the path; every other service does (normalize_path).
std::string canonical_request(const SignableRequest& req,
                              const std::vector<std::string>& signed_header_names,
                              bool s3_path_rules);

std::string string_to_sign(const std::string& canonical_request, const SigningScope& scope);

// Hex signature for a string to sign.
std::string signature(const std::string& string_to_sign, const std::string& secret_access_key,
                      const SigningScope& scope);

// Adds X-Amz-Date, X-Amz-Security-Token (when present), x-amz-content-sha256 (S3) and
// Authorization to req.headers.
void sign(SignableRequest& req, const Credentials& creds, const SigningScope& scope);

// Parsed Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=5d67..."
struct AuthorizationHeader {
  std::string access_key_id;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Expected<AuthorizationHeader> parse_authorization(std::string_view value);

// Server side: recomputes the signature of a received request with the secret the
// server holds for auth.access_key_id and compares in constant time.
// Errors: ErrorKind::auth with "SignatureDoesNotMatch" / "IncompleteSignature" in the message.
Expected<void> verify(const SignableRequest& received, const AuthorizationHeader& auth,
                      const std::string& secret_access_key, bool s3_path_rules);

}  // namespace m2r::aws
