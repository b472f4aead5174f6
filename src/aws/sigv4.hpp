#pragma once
// AWS Signature Version 4: signing (the product) and verification (the rehearsal
// world's servers and tests) share one canonicalisation, checked against AWS's
// published test suite (tests/aws/fixtures/sigv4-test-suite).
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

// ---- Building blocks, exposed for the clients and the rehearsal world's servers ----

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// stay, everything else becomes %XX with upper-case hex; '/' stays when keep_slash.
std::string uri_encode(std::string_view text, bool keep_slash = false);

// Decodes %XX escapes ('+' stays '+'). Invalid escapes are kept as they are.
std::string uri_decode(std::string_view text);

// The canonical query string of a raw query ("b=2&a=1&uploads" -> "a=1&b=2&uploads="):
// each name and value decoded then re-encoded, sorted by name then value.
std::string canonical_query_string(std::string_view raw_query);

// The canonical URI: S3 uses the (already encoded) path as sent; other services
// remove dot segments and empty segments and encode every segment once more.
std::string canonical_uri(std::string_view raw_path, bool s3_path_rules);

// "20150830T123600Z" and "20150830".
std::string amz_date(std::chrono::system_clock::time_point time);
std::string amz_day(std::chrono::system_clock::time_point time);
// Parses "20150830T123600Z".
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

// Raw (binary) HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);

// The header names sign() signs for a request (lower case, sorted): every header except
// those that proxies or the HTTP layer may change (user-agent, expect, content-length, ...).
std::vector<std::string> default_signed_header_names(const SignableRequest& req);

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=..., Signature=..."
std::string authorization_value(std::string_view access_key_id, const SigningScope& scope,
                                const std::vector<std::string>& signed_header_names,
                                std::string_view signature_hex);

// First value of a header (case-insensitive name), or nullopt.
std::optional<std::string> find_header(const std::vector<Header>& headers, std::string_view name);

}  // namespace m2r::aws
