#include "world/certificates.hpp"

#include <arpa/inet.h>

#include <memory>
#include <random>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sandbox::world {
namespace {

using m2r::ErrorKind;
using m2r::fail;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

m2r::Error openssl_error(const std::string& what) {
  std::string detail;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += detail.empty() ? buf : std::string("; ") + buf;
  }
  return m2r::Error(ErrorKind::fatal, what + (detail.empty() ? "" : ": " + detail));
}

// P-256 keys: quick to make at every `world up`, and every client under test takes them.
Owned<EVP_PKEY> new_key() { return Owned<EVP_PKEY>(EVP_EC_gen("P-256")); }

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// A certificate with a random serial, the validity, subject CN = common_name, the key's
// public half; not yet signed.
Owned<X509> new_certificate(const std::string& common_name, EVP_PKEY* key, const Validity& validity) {
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3
  std::random_device rd;
  ASN1_INTEGER_set_int64(X509_get_serialNumber(cert.get()),
                         static_cast<std::int64_t>((static_cast<std::uint64_t>(rd()) << 31) ^ rd()) & 0x7FFFFFFFFFFFFFFF);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(validity.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(validity.not_after));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mssql2rds rehearsal world"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_pubkey(cert.get(), key);
  return cert;
}

m2r::Expected<PemPair> to_pem(X509* cert, EVP_PKEY* key) {
  Owned<BIO> c(BIO_new(BIO_s_mem())), k(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(c.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(k.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return tl::unexpected(openssl_error("writing a certificate as PEM failed"));
  }
  auto text = [](BIO* b) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  return PemPair{text(c.get()), text(k.get())};
}

}  // namespace

Validity Validity::from_now(int days) {
  const auto now = std::chrono::system_clock::now();
  return {now - std::chrono::hours(1), now + std::chrono::hours(24) * days};
}

m2r::Expected<PemPair> create_certificate_authority(const std::string& common_name, const Validity& validity) {
  auto key = new_key();
  if (!key) return tl::unexpected(openssl_error("creating the CA key failed"));
  auto cert = new_certificate(common_name, key.get(), validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return tl::unexpected(openssl_error("signing the CA certificate failed"));
  }
  return to_pem(cert.get(), key.get());
}

m2r::Expected<PemPair> issue_server_certificate(const PemPair& ca, const std::vector<std::string>& names,
                                                const Validity& validity) {
  if (names.empty()) return fail(ErrorKind::invalid_input, "a server certificate needs at least one host name");
  Owned<BIO> ca_cert_bio(BIO_new_mem_buf(ca.certificate.data(), static_cast<int>(ca.certificate.size())));
  Owned<BIO> ca_key_bio(BIO_new_mem_buf(ca.private_key.data(), static_cast<int>(ca.private_key.size())));
  Owned<X509> ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  Owned<EVP_PKEY> ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return tl::unexpected(openssl_error("reading the CA failed"));

  auto key = new_key();
  if (!key) return tl::unexpected(openssl_error("creating a server key failed"));
  auto cert = new_certificate(names.front(), key.get(), validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "" : ",") + std::string(is_ip_address(n) ? "IP:" : "DNS:") + n;
  if (!add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, san) ||
      !add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return tl::unexpected(openssl_error("signing the server certificate failed"));
  }
  return to_pem(cert.get(), key.get());
}

}  // namespace sandbox::world
