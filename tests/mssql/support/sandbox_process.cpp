#include "mssql/support/sandbox_process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

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

  // The sa password reaches it through its environment, never its argv.
  sys::SpawnOptions spawn;
  spawn.argv = {bin, "serve", "--instance", spec};
  spawn.env = sys::Environment::inherited().set("MSSQL2RDS_SANDBOX_SA_PASSWORD", m_options.sa_password);
  spawn.out = sys::Stream::pipe();
  spawn.err = sys::Stream::file(m_stderr_path, sys::FileMode::truncate, 0600);
  spawn.parent_death_signal = SIGTERM;  // a crashed test leaves no server behind
  auto child = sys::Process::spawn(spawn);
  if (!child) return tl::unexpected(child.error());
  m_process = std::move(*child);
  const int out_fd = m_process->stdout_fd();

  // Wait for "ready name=<name> port=<port>".
  std::string buffer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char chunk[512];
    const ssize_t n = read(out_fd, chunk, sizeof(chunk));
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
  // SIGTERM, up to 5 s for a clean stop, then SIGKILL; the stdout pipe is closed only then,
  // so that the server's last lines do not hit a closed pipe.
  if (m_process) (void)m_process->terminate(std::chrono::seconds(5));
  m_process.reset();
}

}  // namespace m2r::mssql::testing
