#include "tds/prelogin.hpp"

#include <sstream>

#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {
enum : std::uint8_t {
  k_opt_version = 0,
  k_opt_encryption = 1,
  k_opt_instopt = 2,
  k_opt_threadid = 3,
  k_opt_mars = 4,
  k_opt_terminator = 0xFF,
};
}  // namespace

PreloginRequest parse_prelogin(const std::vector<std::uint8_t>& payload) {
  PreloginRequest req;
  ByteReader r(payload);
  for (;;) {
    const std::uint8_t token = r.u8();
    if (token == k_opt_terminator) break;
    const std::uint16_t offset = r.u16_be();
    const std::uint16_t length = r.u16_be();
    if (static_cast<std::size_t>(offset) + length > payload.size()) {
      throw ProtocolError("PRELOGIN option points beyond the message");
    }
    const std::uint8_t* data = payload.data() + offset;
    switch (token) {
      case k_opt_encryption:
        if (length >= 1) req.encryption = static_cast<Encryption>(data[0]);
        break;
      case k_opt_mars:
        if (length >= 1) req.mars = data[0] != 0;
        break;
      case k_opt_instopt:
        for (std::uint16_t i = 0; i < length && data[i] != 0; ++i) req.instance += static_cast<char>(data[i]);
        break;
      default:
        break;  // VERSION, THREADID, TRACEID, FEDAUTHREQUIRED, NONCEOPT: nothing to act on
    }
  }
  return req;
}

bool client_requires_encryption(const PreloginRequest& req) {
  return req.encryption == Encryption::on || req.encryption == Encryption::required;
}

ProductVersion parse_product_version(const std::string& text) {
  ProductVersion v;
  int* parts[] = {&v.major, &v.minor, &v.build, &v.revision};
  std::istringstream in(text);
  std::string part;
  for (int* p : parts) {
    if (!std::getline(in, part, '.')) break;
    try {
      *p = std::stoi(part);
    } catch (const std::exception&) {
      *p = 0;
    }
  }
  return v;
}

EncryptionOutcome negotiate_encryption(std::optional<Encryption> client, bool has_certificate, bool required) {
  const Encryption c = client.value_or(Encryption::not_supported);
  const bool client_wants_tls = c == Encryption::on || c == Encryption::required;
  if (!has_certificate) {
    return {Encryption::not_supported, client_wants_tls ? EncryptionMode::client_needs_tls : EncryptionMode::none};
  }
  if (required) {
    return {Encryption::required, c == Encryption::not_supported ? EncryptionMode::server_needs_tls : EncryptionMode::full};
  }
  if (client_wants_tls) return {Encryption::on, EncryptionMode::full};
  if (c == Encryption::off) return {Encryption::off, EncryptionMode::login_only};
  return {Encryption::not_supported, EncryptionMode::none};
}

std::vector<std::uint8_t> build_prelogin_response(const std::string& product_version, Encryption encryption) {
  const ProductVersion v = parse_product_version(product_version);
  // Option data, in the order of the table below.
  std::vector<std::uint8_t> version = {
      static_cast<std::uint8_t>(v.major), static_cast<std::uint8_t>(v.minor),
      static_cast<std::uint8_t>((v.build >> 8) & 0xFF), static_cast<std::uint8_t>(v.build & 0xFF),
      0, 0};  // sub-build
  struct Opt {
    std::uint8_t token;
    std::vector<std::uint8_t> data;
  };
  const std::vector<Opt> opts = {
      {k_opt_version, version},
      {k_opt_encryption, {static_cast<std::uint8_t>(encryption)}},
      {k_opt_instopt, {0}},
      {k_opt_threadid, {}},
      {k_opt_mars, {0}},
  };
  ByteWriter w;
  std::uint16_t offset = static_cast<std::uint16_t>(opts.size() * 5 + 1);
  for (const auto& o : opts) {
    w.u8(o.token);
    w.u16_be(offset);
    w.u16_be(static_cast<std::uint16_t>(o.data.size()));
    offset = static_cast<std::uint16_t>(offset + o.data.size());
  }
  w.u8(k_opt_terminator);
  for (const auto& o : opts) w.bytes(o.data);
  return w.data();
}

}  // namespace sandbox::tds
