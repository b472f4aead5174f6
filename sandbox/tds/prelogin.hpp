#pragma once
// PRELOGIN ([MS-TDS] 2.2.6.5): a table of (token, offset, length) options ended
// by 0xFF, then the option data. The server answers with its own table in a
// tabular-result packet.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sandbox::tds {

enum class Encryption : std::uint8_t { off = 0, on = 1, not_supported = 2, required = 3 };

struct PreloginRequest {
  std::optional<Encryption> encryption;  // absent when the client sent no ENCRYPTION option
  bool mars = false;
  std::string instance;  // INSTOPT, without its terminating NUL
};

PreloginRequest parse_prelogin(const std::vector<std::uint8_t>& payload);

// The server's answer: VERSION (product version), ENCRYPTION, INSTOPT = 0 (instance
// matched), THREADID (empty), MARS = 0.
std::vector<std::uint8_t> build_prelogin_response(const std::string& product_version, Encryption encryption);

// True when the client insists on TLS (ENCRYPT_ON or ENCRYPT_REQ).
bool client_requires_encryption(const PreloginRequest& req);

// What the two ENCRYPTION values make of the connection ([MS-TDS] 2.2.6.5, docs/facts.md §14).
enum class EncryptionMode {
  none,               // no TLS at all: the LOGIN7 password travels merely obfuscated
  login_only,         // client and server ENCRYPT_OFF: TLS for the LOGIN7 packet, then clear text
  full,               // TLS for the whole connection
  client_needs_tls,   // the client insists on TLS and the server has no certificate: refuse
  server_needs_tls,   // the server requires TLS (rds.force_ssl) and the client cannot: drop it
};
struct EncryptionOutcome {
  Encryption answer = Encryption::not_supported;  // the server's ENCRYPTION option
  EncryptionMode mode = EncryptionMode::none;
};
// has_certificate: the server can do TLS; required: it accepts no client without it
// (SQL Server's "Force Encryption", RDS's rds.force_ssl = 1), answering ENCRYPT_REQ.
// A client that sent no ENCRYPTION option counts as ENCRYPT_NOT_SUP.
EncryptionOutcome negotiate_encryption(std::optional<Encryption> client, bool has_certificate, bool required);

// "15.0.4355.3" -> {15, 0, 4355, 3}; missing parts are 0.
struct ProductVersion {
  int major = 0, minor = 0, build = 0, revision = 0;
};
ProductVersion parse_product_version(const std::string& text);

}  // namespace sandbox::tds
