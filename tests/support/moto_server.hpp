#pragma once
// A moto server on a free loopback port, with SigV4 enforced (docs/facts.md "Checked recipe"):
// started with INITIAL_NO_AUTH_ACTION_COUNT=3, the first three (unauthenticated) calls
// create an IAM user with an allow-all inline policy and an access key; every later
// request must be signed with that key. Killed when the object is destroyed.
//
// moto is found as the rehearsal world finds it (sys/moto_locator.hpp: MOTO_SERVER, then
// moto_server on PATH, then python3 -m moto.server) and runs with Debian's python3-crc32c
// module on its PYTHONPATH, so that the CRC32C checksums it computes are real.
//
// This file depends on nothing but POSIX and m2r_core, so every test executable can link it.
//
//   auto moto = m2r::test::MotoServer::start();
//   ASSERT_TRUE(moto) << moto.error().message;
//   (*moto)->endpoint();        // "http://127.0.0.1:PORT"
//   (*moto)->access_key_id();   // the seeded user's key
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace m2r::test {

struct MotoOptions {
  // How to run moto; empty = sys/moto_locator.hpp's search over this process's environment.
  std::vector<std::string> command;
  bool enforce_auth = true;  // false: no IAM auth at all (any signature accepted)
  std::string user_name = "mssql2rds-test";
  int ready_timeout_seconds = 30;
};

class MotoServer {
 public:
  // Fails (never skips) with a message naming the missing tool and the fix.
  static Expected<std::unique_ptr<MotoServer>> start(MotoOptions options = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  int port() const { return m_port; }
  std::string endpoint() const;  // "http://127.0.0.1:PORT"
  const std::string& access_key_id() const { return m_access_key_id; }
  const std::string& secret_access_key() const { return m_secret_access_key; }
  const std::string& user_arn() const { return m_user_arn; }
  static constexpr const char* k_account_id = "123456789012";  // moto's default account
  static constexpr const char* k_region = "us-east-1";
  const std::string& log_path() const { return m_log_path; }
  // The command that runs it (the program's absolute path first) and how it was found.
  const std::vector<std::string>& command() const { return m_command; }
  // Debian's crc32c module given to moto; empty when python3-crc32c is not installed (then
  // moto reports a CRC32 under the name CRC32C).
  const std::string& crc32c_module() const { return m_crc32c_module; }
  std::string log_tail(std::size_t bytes = 4000) const;

  // An unsigned-but-routable raw HTTP POST of a form body to moto (for seeding only; once
  // auth is on, moto rejects it). Returns the response body.
  Expected<std::string> raw_post(const std::string& service, const std::string& form_body) const;

 private:
  MotoServer() = default;
  int m_pid = -1;
  int m_port = 0;
  std::string m_dir;
  std::string m_log_path;
  std::string m_access_key_id;
  std::string m_secret_access_key;
  std::string m_user_arn;
  std::vector<std::string> m_command;
  std::string m_crc32c_module;
};

// A free TCP port on 127.0.0.1 (bound and released; a small race is accepted).
int free_loopback_port();

// A raw HTTP/1.1 exchange on 127.0.0.1:port (Connection: close). Returns status + body.
struct RawResponse {
  int status = 0;
  std::string body;
};
Expected<RawResponse> raw_http(int port, const std::string& method, const std::string& target,
                               const std::string& extra_headers, const std::string& body);

}  // namespace m2r::test
