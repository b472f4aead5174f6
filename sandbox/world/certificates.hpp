#pragma once
// The rehearsal world's private CA and its server certificates (OpenSSL, no `openssl`
// command): `world up` makes a CA, gives each instance a certificate naming the host names
// clients use for it (DNS names and IP addresses in subjectAltName, the first as CN), and
// publishes the CA as DIR/tls/ca.pem, as RDS publishes its global-bundle.pem.
#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace sandbox::world {

struct PemPair {
  std::string certificate;  // PEM
  std::string private_key;  // PEM (unencrypted: loopback test material, written 0600)
};

struct Validity {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  // From an hour ago (clock skew) for `days` days.
  static Validity from_now(int days);
};

m2r::Expected<PemPair> create_certificate_authority(const std::string& common_name, const Validity& validity);

// A TLS server certificate signed by ca for names ("localhost", "127.0.0.1", an RDS-like
// endpoint): an IP address becomes an IP SAN, anything else a DNS SAN.
m2r::Expected<PemPair> issue_server_certificate(const PemPair& ca, const std::vector<std::string>& names,
                                                const Validity& validity);

}  // namespace sandbox::world
