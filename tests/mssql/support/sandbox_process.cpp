#include "mssql/support/sandbox_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace m2r::mssql::testing {

std::string SandboxProcess::binary_path() {
  // MSSQL2RDS_SANDBOX_BINARY lets a run use a sandbox built elsewhere.
  if (const char* b = std::getenv("MSSQL2RDS_SANDBOX_BINARY"); b != nullptr && *b != '\0') return b;
  return std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox";
}

SandboxProcess::~SandboxProcess() {
  stop();
  std::error_code ignored;
  if (!m_created_dir.empty()) std::filesystem::remove_all(m_created_dir, ignored);
}

Expected<void> SandboxProcess::start(SandboxOptions options) {
  stop();
  m_options = std::move(options);
  const std::string bin = binary_path();
  if (access(bin.c_str(), X_OK) != 0) {
    return fail(ErrorKind::prerequisite, fmt::format("{} is not built", bin), "build the mssql2rds-sandbox target");
  }
  if (m_options.data_dir.empty()) {
    std::string tmpl = "/tmp/mssql-itest-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return fail(ErrorKind::fatal, "mkdtemp failed");
    m_options.data_dir = tmpl;
    m_created_dir = tmpl;
  }
  m_stderr_path = m_options.data_dir + "/sandbox.stderr";
  std::string spec = fmt::format("name={},port={},kind=sqlserver,version=2019,data={}", m_options.name, m_options.port,
                                 m_options.data_dir + "/" + m_options.name);
  if (m_options.backup_throughput > 0) spec += fmt::format(",backup_throughput={}", m_options.backup_throughput);
  mkdir((m_options.data_dir + "/" + m_options.name).c_str(), 0700);

  int out_pipe[2];
  if (pipe(out_pipe) != 0) return fail(ErrorKind::fatal, "pipe failed");
  // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("MSSQL2RDS_SANDBOX_SA_PASSWORD=", 0) != 0) env_storage.emplace_back(*e);
  }
  env_storage.push_back("MSSQL2RDS_SANDBOX_SA_PASSWORD=" + m_options.sa_password);
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {bin, "serve", "--instance", spec};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int err_fd = open(m_stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

  m_pid = fork();
  if (m_pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // a crashed test leaves no server behind
    dup2(out_pipe[1], STDOUT_FILENO);
    if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
    close(out_pipe[0]);
    execve(bin.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  if (err_fd >= 0) close(err_fd);
  if (m_pid < 0) {
    close(out_pipe[0]);
    return fail(ErrorKind::fatal, "fork failed");
  }

  // Wait for "ready name=<name> port=<port>".
  std::string buffer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_pipe[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char chunk[512];
    const ssize_t n = read(out_pipe[0], chunk, sizeof(chunk));
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      const std::string prefix = fmt::format("ready name={} port=", m_options.name);
      if (line.rfind(prefix, 0) == 0) {
        m_port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
        ready = true;
      }
    }
  }
  m_stdout_fd = out_pipe[0];
  if (!ready) {
    stop();
    std::ifstream err(m_stderr_path);
    std::stringstream ss;
    ss << err.rdbuf();
    return fail(ErrorKind::fatal, fmt::format("mssql2rds-sandbox did not become ready: {}", ss.str()));
  }
  return {};
}

void SandboxProcess::stop() {
  if (m_pid <= 0) {
    if (m_stdout_fd >= 0) close(m_stdout_fd);
    m_stdout_fd = -1;
    return;
  }
  kill(m_pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      stop();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(m_pid, SIGKILL);
  waitpid(m_pid, &status, 0);
  m_pid = -1;
  stop();
}

}  // namespace m2r::mssql::testing
