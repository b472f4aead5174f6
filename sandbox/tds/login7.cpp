#include "tds/login7.hpp"

#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {
constexpr std::size_t k_fixed_size = 94;
constexpr std::uint8_t k_flag3_extension = 0x10;
constexpr std::uint8_t k_flag2_int_security = 0x80;
constexpr std::uint8_t k_feature_terminator = 0xFF;

std::uint8_t swap_nibbles(std::uint8_t b) {
  return static_cast<std::uint8_t>(((b & 0x0F) << 4) | ((b & 0xF0) >> 4));
}
}  // namespace

std::vector<std::uint8_t> deobfuscate_password(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::uint8_t> out;
  out.reserve(bytes.size());
  for (std::uint8_t b : bytes) out.push_back(swap_nibbles(static_cast<std::uint8_t>(b ^ 0xA5)));
  return out;
}

std::vector<std::uint8_t> obfuscate_password(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::uint8_t> out;
  out.reserve(bytes.size());
  for (std::uint8_t b : bytes) out.push_back(static_cast<std::uint8_t>(swap_nibbles(b) ^ 0xA5));
  return out;
}

Login7 parse_login7(const std::vector<std::uint8_t>& payload) {
  if (payload.size() < k_fixed_size) throw ProtocolError("LOGIN7 shorter than its fixed part");
  ByteReader r(payload);
  Login7 l;
  const std::uint32_t length = r.u32();
  if (length > payload.size()) throw ProtocolError("LOGIN7 length larger than the message");
  l.tds_version = r.u32();
  l.packet_size = r.u32();
  r.skip(4);  // ClientProgVer
  l.client_pid = r.u32();
  r.skip(4);  // ConnectionID
  r.skip(1);  // OptionFlags1
  const std::uint8_t flags2 = r.u8();
  r.skip(1);  // TypeFlags
  const std::uint8_t flags3 = r.u8();
  r.skip(8);  // ClientTimeZone, ClientLCID
  l.integrated_security = (flags2 & k_flag2_int_security) != 0;
  l.requested_features = (flags3 & k_flag3_extension) != 0;

  auto str = [&](std::string* out) {
    const std::uint16_t off = r.u16();
    const std::uint16_t chars = r.u16();
    if (static_cast<std::size_t>(off) + chars * 2u > length) throw ProtocolError("LOGIN7 string beyond the message");
    if (out) *out = utf16le_to_utf8(payload.data() + off, chars * 2u);
    return std::pair{off, chars};
  };
  str(&l.host_name);
  str(&l.user_name);
  const auto [pw_off, pw_chars] = str(nullptr);
  const auto pw_begin = payload.begin() + pw_off;
  const std::vector<std::uint8_t> pw = deobfuscate_password({pw_begin, pw_begin + pw_chars * 2});
  l.password = utf16le_to_utf8(pw.data(), pw.size());
  str(&l.app_name);
  str(&l.server_name);
  const std::uint16_t ext_off = r.u16();  // ibExtension / cbExtension
  const std::uint16_t ext_len = r.u16();
  str(&l.library_name);
  str(&l.language);
  str(&l.database);

  if (l.requested_features && ext_len >= 4 && static_cast<std::size_t>(ext_off) + 4 <= length) {
    ByteReader er(payload.data() + ext_off, 4);
    const std::uint32_t feat_off = er.u32();
    if (feat_off < length) {
      ByteReader fr(payload.data() + feat_off, length - feat_off);
      while (!fr.at_end()) {
        const std::uint8_t id = fr.u8();
        if (id == k_feature_terminator) break;
        const std::uint32_t n = fr.u32();
        fr.skip(n);
        l.feature_ids.push_back(id);
      }
    }
  }
  return l;
}

}  // namespace sandbox::tds
