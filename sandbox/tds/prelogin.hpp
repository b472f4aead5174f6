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

// The server's answer: VERSION (product version), ENCRYPTION = NOT_SUP (the sandbox
// has no TLS), INSTOPT = 0 (instance matched), THREADID (empty), MARS = 0.
std::vector<std::uint8_t> build_prelogin_response(const std::string& product_version);

// True when the client insists on TLS (ENCRYPT_ON or ENCRYPT_REQ), which the
// sandbox cannot provide.
bool client_requires_encryption(const PreloginRequest& req);

// "15.0.4355.3" -> {15, 0, 4355, 3}; missing parts are 0.
struct ProductVersion {
  int major = 0, minor = 0, build = 0, revision = 0;
};
ProductVersion parse_product_version(const std::string& text);

}  // namespace sandbox::tds
