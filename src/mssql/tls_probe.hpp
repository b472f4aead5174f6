#pragma once
// Why a TLS connection to SQL Server fails, told precisely. The ODBC drivers report a failed
// certificate check as a generic connection failure (FreeTDS: "Adaptive Server connection
// failed"), so after such a failure the product repeats the TLS part itself: PRELOGIN with
// ENCRYPT_ON, the handshake inside PRELOGIN packets ([MS-TDS] 2.2.6.5) with OpenSSL, then the
// certificate checked against the CA bundle and the expected host name. No login is sent.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace m2r::mssql {

enum class TlsFailure {
  none,                   // the server's certificate verifies: the failure lies elsewhere
  no_tls,                 // the server answered ENCRYPT_NOT_SUP
  untrusted_certificate,  // not signed by a CA in the bundle
  expired_certificate,
  not_yet_valid_certificate,
  name_mismatch,          // the certificate does not name the host
  handshake_failed,       // no TLS 1.2+ handshake was possible
  unreachable,            // no answer to PRELOGIN
};

struct TlsProbeResult {
  TlsFailure failure = TlsFailure::unreachable;
  bool server_requires_tls = false;  // PRELOGIN ENCRYPT_REQ (rds.force_ssl = 1, Force Encryption)
  std::string detail;                // OpenSSL's words
  std::vector<std::string> certificate_names;  // subjectAltName entries (or the CN)
  std::string not_after;                       // the certificate's expiry, as OpenSSL prints it
};

struct TlsProbeRequest {
  std::string host;
  std::uint16_t port = 1433;
  std::string ca_file;        // empty: the system's trust store
  std::string expected_name;  // the name the certificate must carry (default: host)
  std::chrono::seconds timeout{10};
};

TlsProbeResult probe_tls(const TlsProbeRequest& request);

const char* to_string(TlsFailure failure);

}  // namespace m2r::mssql
