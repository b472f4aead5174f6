#pragma once
// LOGIN7 ([MS-TDS] 2.2.6.4): a 94-byte fixed part (lengths, version, flags, then
// offset/length pairs) and a variable part with UCS-2 strings.
#include <cstdint>
#include <string>
#include <vector>

namespace sandbox::tds {

struct Login7 {
  std::uint32_t tds_version = 0;
  std::uint32_t packet_size = 0;  // 0: the server's default
  std::uint32_t client_pid = 0;
  std::string host_name, user_name, password, app_name, server_name, library_name, language,
      database;
  bool integrated_security = false;  // fIntSecurity: SSPI, which the sandbox does not do
  bool requested_features = false;   // fExtension: a FeatureExt block follows
  std::vector<std::uint8_t> feature_ids;
};

Login7 parse_login7(const std::vector<std::uint8_t>& payload);  // throws ProtocolError

// The LOGIN7 password is obfuscated, not encrypted ([MS-TDS] 2.2.6.4): every byte
// had its nibbles swapped and was XORed with 0xA5. These undo and redo that.
std::vector<std::uint8_t> deobfuscate_password(const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> obfuscate_password(const std::vector<std::uint8_t>& bytes);

}  // namespace sandbox::tds
