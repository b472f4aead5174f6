#pragma once
// Starts `mssql2rds-sandbox serve` (the rehearsal world's SQL Server) on a free loopback port
// in a temporary data directory, waits for its "ready name=... port=..." line, and stops it
// with SIGTERM. The sa password reaches it through its environment, never its argv.
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "sys/process.hpp"

namespace m2r::mssql::testing {

struct SandboxOptions {
  std::string name = "src";
  std::string sa_password;
  double backup_throughput = 0;  // bytes per second BACKUP copies at (0 = unthrottled)
  std::uint16_t port = 0;        // 0 = a free port
  std::string data_dir;          // empty = a new temporary directory
};

class SandboxProcess {
 public:
  SandboxProcess() = default;
  ~SandboxProcess();
  SandboxProcess(const SandboxProcess&) = delete;
  SandboxProcess& operator=(const SandboxProcess&) = delete;

  // Fails (with the binary's path or its stderr) when it does not start within 30 s.
  Expected<void> start(SandboxOptions options);
  void stop();  // SIGTERM, then wait; idempotent

  std::uint16_t port() const { return m_port; }
  const std::string& data_dir() const { return m_options.data_dir; }
  const SandboxOptions& options() const { return m_options; }
  static std::string binary_path();

 private:
  SandboxOptions m_options;
  std::optional<sys::Process> m_process;  // its stdout pipe stays open until stop()
  std::uint16_t m_port = 0;
  std::string m_stderr_path;
  std::string m_created_dir;  // removed by the destructor
};

}  // namespace m2r::mssql::testing
