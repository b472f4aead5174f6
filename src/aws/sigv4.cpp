#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws/checksums.hpp"
#include "core/ascii_case.hpp"

namespace m2r::aws {
namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view k_empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string to_hex(const unsigned char* data, size_t size) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(data), size));
}

std::string to_lower(std::string_view text) { return ascii_lower(text); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// SigV4 step 1: trim, and collapse runs of spaces inside the value to one space.
std::string trim_all(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim_view(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string canonical_header_value(const std::vector<Header>& headers, std::string_view name,
                                   const std::string& host) {
  std::string joined;
  bool found = false;
  for (const auto& [key, value] : headers) {
    if (to_lower(key) != name) continue;
    if (found) joined.push_back(',');
    joined += trim_all(value);
    found = true;
  }
  if (!found && name == "host") return host;
  return joined;
}

void erase_header(std::vector<Header>& headers, std::string_view name) {
  std::erase_if(headers, [&](const Header& h) { return to_lower(h.first) == name; });
}

std::string signing_key(const std::string& secret, const SigningScope& scope) {
  std::string key = hmac_sha256("AWS4" + secret, amz_day(scope.time));
  key = hmac_sha256(key, scope.region);
  key = hmac_sha256(key, scope.service);
  key = hmac_sha256(key, "aws4_request");
  return key;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return to_hex(digest.data(), digest.size());
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return std::string(reinterpret_cast<const char*>(out.data()), length);
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char k_digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(k_digits[c >> 4]);
      out.push_back(k_digits[c & 0x0f]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string canonical_query_string(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  for (std::string_view part : split(raw_query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    params.emplace_back(uri_encode(uri_decode(name)), uri_encode(uri_decode(value)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path, bool s3_path_rules) {
  if (raw_path.empty()) return "/";
  if (s3_path_rules) return std::string(raw_path);
  // Other services: normalise (RFC 3986 remove_dot_segments, no empty segments),
  // then encode each segment; the path as sent is already encoded once, so this
  // is the "double encoding" the SigV4 documentation describes.
  std::vector<std::string_view> segments;
  for (std::string_view segment : split(raw_path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string out;
  for (std::string_view segment : segments) {
    out.push_back('/');
    out += uri_encode(segment);
  }
  if (out.empty() || raw_path.back() == '/') out.push_back('/');
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string amz_day(std::chrono::system_clock::time_point time) { return amz_date(time).substr(0, 8); }

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::optional<std::string> find_header(const std::vector<Header>& headers, std::string_view name) {
  std::string lower = to_lower(name);
  for (const auto& [key, value] : headers)
    if (to_lower(key) == lower) return value;
  return std::nullopt;
}

std::string canonical_request(const SignableRequest& req,
                              const std::vector<std::string>& signed_header_names,
                              bool s3_path_rules) {
  std::string_view target = req.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::vector<std::string> names;
  names.reserve(signed_header_names.size());
  for (const auto& n : signed_header_names) names.push_back(to_lower(n));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::string out;
  out += req.method;
  out.push_back('\n');
  out += canonical_uri(path, s3_path_rules);
  out.push_back('\n');
  out += canonical_query_string(query);
  out.push_back('\n');
  for (const auto& name : names) {
    out += name;
    out.push_back(':');
    out += canonical_header_value(req.headers, name, req.host);
    out.push_back('\n');
  }
  out.push_back('\n');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out.push_back(';');
    out += names[i];
  }
  out.push_back('\n');
  out += req.payload_hash.empty() ? std::string(k_empty_sha256) : req.payload_hash;
  return out;
}

std::string string_to_sign(const std::string& canonical_request, const SigningScope& scope) {
  return fmt::format("{}\n{}\n{}/{}/{}/aws4_request\n{}", k_algorithm, amz_date(scope.time),
                     amz_day(scope.time), scope.region, scope.service, sha256_hex(canonical_request));
}

std::string signature(const std::string& string_to_sign, const std::string& secret_access_key,
                      const SigningScope& scope) {
  std::string key = signing_key(secret_access_key, scope);
  std::string mac = hmac_sha256(key, string_to_sign);
  OPENSSL_cleanse(key.data(), key.size());
  return to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::vector<std::string> default_signed_header_names(const SignableRequest& req) {
  // Headers the HTTP layer or a proxy may add, drop or rewrite are not signed
  // (botocore's SIGNED_HEADERS_BLACKLIST plus the framing headers).
  static constexpr std::array<std::string_view, 8> k_unsigned = {
      "authorization", "user-agent", "expect", "x-amzn-trace-id", "content-length",
      "transfer-encoding", "connection", "accept-encoding"};
  std::vector<std::string> names{"host"};
  for (const auto& [key, value] : req.headers) {
    std::string lower = to_lower(key);
    if (std::find(k_unsigned.begin(), k_unsigned.end(), lower) != k_unsigned.end()) continue;
    names.push_back(std::move(lower));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string authorization_value(std::string_view access_key_id, const SigningScope& scope,
                                const std::vector<std::string>& signed_header_names,
                                std::string_view signature_hex) {
  std::vector<std::string> names;
  for (const auto& n : signed_header_names) names.push_back(to_lower(n));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string joined;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) joined.push_back(';');
    joined += names[i];
  }
  return fmt::format("{} Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}",
                     k_algorithm, access_key_id, amz_day(scope.time), scope.region, scope.service,
                     joined, signature_hex);
}

void sign(SignableRequest& req, const Credentials& creds, const SigningScope& scope) {
  const bool s3 = scope.service == "s3";
  erase_header(req.headers, "authorization");
  erase_header(req.headers, "x-amz-date");
  erase_header(req.headers, "x-amz-security-token");
  if (req.payload_hash.empty()) req.payload_hash = std::string(k_empty_sha256);
  if (!find_header(req.headers, "host")) req.headers.emplace_back("Host", req.host);
  req.headers.emplace_back("X-Amz-Date", amz_date(scope.time));
  if (s3) {
    erase_header(req.headers, "x-amz-content-sha256");
    req.headers.emplace_back("x-amz-content-sha256", req.payload_hash);
  }
  if (!creds.session_token.empty()) req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  std::vector<std::string> names = default_signed_header_names(req);
  std::string creq = canonical_request(req, names, s3);
  std::string sig = signature(string_to_sign(creq, scope), creds.secret_access_key, scope);
  req.headers.emplace_back("Authorization", authorization_value(creds.access_key_id, scope, names, sig));
}

Expected<AuthorizationHeader> parse_authorization(std::string_view value) {
  value = trim_view(value);
  if (!value.starts_with(k_algorithm) || value.size() <= k_algorithm.size() ||
      !is_space(value[k_algorithm.size()]))
    return fail(ErrorKind::auth, "IncompleteSignature: the Authorization header is not AWS4-HMAC-SHA256",
                "sign the request with AWS Signature Version 4");
  value.remove_prefix(k_algorithm.size());
  AuthorizationHeader out;
  bool have_credential = false, have_signed = false, have_signature = false;
  for (std::string_view component : split(value, ',')) {
    component = trim_view(component);
    size_t eq = component.find('=');
    if (eq == std::string_view::npos)
      return fail(ErrorKind::auth, fmt::format("IncompleteSignature: malformed Authorization component '{}'",
                                               component));
    std::string_view key = component.substr(0, eq);
    std::string_view val = component.substr(eq + 1);
    if (key == "Credential") {
      auto parts = split(val, '/');
      if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[1].size() != 8)
        return fail(ErrorKind::auth,
                    "IncompleteSignature: Credential must be <key id>/<yyyymmdd>/<region>/<service>/aws4_request");
      out.access_key_id = std::string(parts[0]);
      out.date = std::string(parts[1]);
      out.region = std::string(parts[2]);
      out.service = std::string(parts[3]);
      have_credential = true;
    } else if (key == "SignedHeaders") {
      for (std::string_view name : split(val, ';'))
        if (!name.empty()) out.signed_headers.emplace_back(name);
      have_signed = !out.signed_headers.empty();
    } else if (key == "Signature") {
      out.signature = std::string(val);
      have_signature = out.signature.size() == 64 &&
                       std::all_of(out.signature.begin(), out.signature.end(),
                                   [](char c) { return hex_value(c) >= 0; });
    }
  }
  if (!have_credential || !have_signed || !have_signature)
    return fail(ErrorKind::auth,
                "IncompleteSignature: the Authorization header needs Credential, SignedHeaders and a hex Signature");
  return out;
}

Expected<void> verify(const SignableRequest& received, const AuthorizationHeader& auth,
                      const std::string& secret_access_key, bool s3_path_rules) {
  auto date = find_header(received.headers, "x-amz-date");
  if (!date)
    return fail(ErrorKind::auth, "IncompleteSignature: the request has no X-Amz-Date header");
  auto when = parse_amz_date(trim_view(*date));
  if (!when)
    return fail(ErrorKind::auth, "IncompleteSignature: X-Amz-Date is not in the form yyyymmddThhmmssZ");
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") == auth.signed_headers.end())
    return fail(ErrorKind::auth, "IncompleteSignature: the Host header must be signed");
  if (amz_day(*when) != auth.date)
    return fail(ErrorKind::auth,
                "SignatureDoesNotMatch: the credential scope's date does not match X-Amz-Date");
  SigningScope scope{auth.region, auth.service, *when};
  std::string creq = canonical_request(received, auth.signed_headers, s3_path_rules);
  std::string expected = signature(string_to_sign(creq, scope), secret_access_key, scope);
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0)
    return fail(ErrorKind::auth,
                "SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.");
  return {};
}

}  // namespace m2r::aws
