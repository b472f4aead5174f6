#include "support/moto_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "sys/moto_locator.hpp"

extern char** environ;

namespace m2r::test {
namespace {

std::string form_encode(const std::string& text) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  auto a = text.find(open);
  if (a == std::string::npos) return {};
  a += open.size();
  auto b = text.find(close, a);
  return b == std::string::npos ? std::string{} : text.substr(a, b - a);
}

bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

Expected<RawResponse> raw_http(int port, const std::string& method, const std::string& target,
                               const std::string& extra_headers, const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorKind::fatal, "socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return fail(ErrorKind::retryable, "could not connect to 127.0.0.1:" + std::to_string(port));
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                        extra_headers + "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return fail(ErrorKind::retryable, "send() to moto failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  close(fd);
  RawResponse out;
  if (response.size() < 12) return fail(ErrorKind::fatal, "moto sent no HTTP response");
  out.status = std::atoi(response.c_str() + 9);
  auto head_end = response.find("\r\n\r\n");
  std::string head = response.substr(0, head_end);
  out.body = head_end == std::string::npos ? std::string{} : response.substr(head_end + 4);
  // Werkzeug may answer chunked; undo it.
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string plain;
    size_t pos = 0;
    while (pos < out.body.size()) {
      size_t eol = out.body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t size = std::strtoul(out.body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (size == 0) break;
      plain += out.body.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    out.body = plain;
  }
  return out;
}

Expected<std::unique_ptr<MotoServer>> MotoServer::start(MotoOptions options) {
  if (options.command.empty()) options.command = M2R_TRY(locate_moto()).argv;

  std::unique_ptr<MotoServer> moto(new MotoServer());
  char dir_template[] = "/tmp/m2r-moto-XXXXXX";
  if (!mkdtemp(dir_template)) return fail(ErrorKind::fatal, "mkdtemp failed");
  moto->m_dir = dir_template;
  moto->m_log_path = moto->m_dir + "/moto.log";
  moto->m_command = options.command;
  moto->m_port = free_loopback_port();
  if (moto->m_port == 0) return fail(ErrorKind::fatal, "no free loopback port");

  const char* pythonpath_now = std::getenv("PYTHONPATH");
  const auto pythonpath =
      M2R_TRY(prepare_moto_pythonpath(moto->m_dir + "/python", pythonpath_now ? pythonpath_now : ""));
  moto->m_crc32c_module = pythonpath.crc32c_module;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "INITIAL_NO_AUTH_ACTION_COUNT=", 29) != 0 && std::strncmp(*e, "PYTHONPATH=", 11) != 0)
      env_strings.emplace_back(*e);
  // Three unauthenticated calls seed the IAM user; then every request must be signed.
  if (options.enforce_auth) env_strings.emplace_back("INITIAL_NO_AUTH_ACTION_COUNT=3");
  if (!pythonpath.pythonpath.empty()) env_strings.emplace_back("PYTHONPATH=" + pythonpath.pythonpath);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const std::string port = std::to_string(moto->m_port);
  std::vector<std::string> args = options.command;
  for (const char* a : {"-H", "127.0.0.1", "-p"}) args.emplace_back(a);
  args.push_back(port);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, moto->m_log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args.front().c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(ErrorKind::prerequisite, "could not start " + args.front() + ": " + std::strerror(rc));
  moto->m_pid = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.ready_timeout_seconds);
  while (!port_open(moto->m_port)) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      moto->m_pid = -1;
      return fail(ErrorKind::prerequisite, "moto (" + args.front() + ") exited during start-up: " + moto->log_tail(1500));
    }
    if (std::chrono::steady_clock::now() > deadline)
      return fail(ErrorKind::timeout, "moto did not listen on port " + port + " within " +
                                          std::to_string(options.ready_timeout_seconds) + " s: " + moto->log_tail(1500));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  if (!options.enforce_auth) {
    moto->m_access_key_id = "AKIAIOSFODNN7EXAMPLE";
    moto->m_secret_access_key = "moto-accepts-any-secret-without-auth";
    return moto;
  }
  const std::string user = options.user_name;
  auto created = moto->raw_post("iam", "Action=CreateUser&Version=2010-05-08&UserName=" + form_encode(user));
  if (!created) return tl::unexpected(created.error());
  moto->m_user_arn = between(*created, "<Arn>", "</Arn>");
  const std::string policy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  auto put = moto->raw_post("iam", "Action=PutUserPolicy&Version=2010-05-08&UserName=" + form_encode(user) +
                                       "&PolicyName=allow-all&PolicyDocument=" + form_encode(policy));
  if (!put) return tl::unexpected(put.error());
  auto key = moto->raw_post("iam", "Action=CreateAccessKey&Version=2010-05-08&UserName=" + form_encode(user));
  if (!key) return tl::unexpected(key.error());
  moto->m_access_key_id = between(*key, "<AccessKeyId>", "</AccessKeyId>");
  moto->m_secret_access_key = between(*key, "<SecretAccessKey>", "</SecretAccessKey>");
  if (moto->m_access_key_id.empty() || moto->m_secret_access_key.empty() || moto->m_user_arn.empty())
    return fail(ErrorKind::fatal, "seeding moto's IAM user failed: " + key->substr(0, 500));
  return moto;
}

Expected<std::string> MotoServer::raw_post(const std::string& service, const std::string& form_body) const {
  // moto routes a request by the service in the Authorization header's credential scope;
  // while auth is off the signature itself is not checked.
  const std::string auth = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSEED/20260101/us-east-1/" + service +
                           "/aws4_request, SignedHeaders=host, Signature=" + std::string(64, '0') +
                           "\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n";
  auto r = raw_http(m_port, "POST", "/", auth, form_body);
  if (!r) return tl::unexpected(r.error());
  if (r->status != 200)
    return fail(ErrorKind::fatal, "moto answered HTTP " + std::to_string(r->status) + " to a seeding call: " +
                                      r->body.substr(0, 500));
  return r->body;
}

std::string MotoServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }

std::string MotoServer::log_tail(std::size_t bytes) const {
  std::ifstream in(m_log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

MotoServer::~MotoServer() {
  if (m_pid > 0) {
    kill(m_pid, SIGTERM);
    for (int i = 0; i < 30; ++i) {
      int status = 0;
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
  }
  if (!m_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
}

}  // namespace m2r::test
