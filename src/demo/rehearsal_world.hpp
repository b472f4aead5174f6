#pragma once
// The rehearsal world seen from the product: `mssql2rds-sandbox world up|down` run as a
// child process, its world.json read back, and its environment (AWS endpoints, profile,
// region) applied to this process, so that every AWS call and SQL session goes to loopback
// through the ordinary settings. Used by `mssql2rds demo`.
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace m2r {

// The sandbox executable: `explicit_path` if given, else beside this executable in the
// build tree (../sandbox/mssql2rds-sandbox) or installed next to it, else on PATH.
Expected<std::string> find_sandbox_executable(const std::string& explicit_path);

class RehearsalWorld {
 public:
  // Starts the world in `dir` (created); output of the sandbox goes to dir/world.log. With a
  // `migration_login`, the world creates that least-privilege source login (world.hpp).
  static Expected<RehearsalWorld> up(const std::string& sandbox_exe, const std::string& dir,
                                     const std::string& database, const std::string& migration_login = "");
  RehearsalWorld(RehearsalWorld&& other) noexcept;
  RehearsalWorld& operator=(RehearsalWorld&&) = delete;
  ~RehearsalWorld();  // down(), if not done

  Expected<void> down();
  void keep_running() { m_running = false; }  // the destructor leaves the world up

  // Exports of dir/env set in this process ("unset" lines unset); no secret is among them.
  Expected<void> apply_environment() const;
  // The sa password of the world's instances (dir/secrets/sa_password).
  Expected<std::string> sa_password() const;
  // The migration login's password (dir/secrets/migration_password).
  Expected<std::string> migration_password() const;
  const nlohmann::json& description() const { return m_world; }
  const std::string& dir() const { return m_dir; }

 private:
  RehearsalWorld(std::string exe, std::string dir, nlohmann::json world)
      : m_exe(std::move(exe)), m_dir(std::move(dir)), m_world(std::move(world)) {}
  std::string m_exe, m_dir;
  nlohmann::json m_world;
  bool m_running = true;
};

// Runs `exe args...` to its end with stdout and stderr appended to `log_path`; the exit code.
Expected<int> run_logged(const std::string& exe, const std::vector<std::string>& args, const std::string& log_path);

}  // namespace m2r
