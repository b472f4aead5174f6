#include "demo/rehearsal_world.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "sys/process.hpp"

namespace m2r {

namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p); }

Expected<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(ErrorKind::not_found, "cannot read " + p.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail_of(const std::string& path, std::size_t bytes) {
  auto text = read_file(path);
  if (!text) return "";
  return text->size() > bytes ? text->substr(text->size() - bytes) : *text;
}

}  // namespace

Expected<std::string> find_sandbox_executable(const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (executable(explicit_path)) return explicit_path;
    return fail(ErrorKind::invalid_input, "no executable sandbox at " + explicit_path,
                "give the path of mssql2rds-sandbox (built as build/sandbox/mssql2rds-sandbox)");
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path().parent_path() / "sandbox" / "mssql2rds-sandbox",
                                  self.parent_path() / "mssql2rds-sandbox"}) {
      if (executable(candidate)) return candidate.string();
    }
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (!dir.empty() && executable(fs::path(dir) / "mssql2rds-sandbox")) return (fs::path(dir) / "mssql2rds-sandbox").string();
    }
  }
  return fail(ErrorKind::prerequisite, "the rehearsal world's program mssql2rds-sandbox was not found",
              "build it (cmake --build build --target mssql2rds-sandbox) or pass --sandbox PATH");
}

Expected<int> run_logged(const std::string& exe, const std::vector<std::string>& args, const std::string& log_path) {
  sys::SpawnOptions options;
  options.argv = {exe};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  // The child gets this process's environment minus the password variables the demo sets.
  options.env = sys::Environment::inherited().unset_if([](std::string_view name) { return name.ends_with("_PASSWORD"); });
  options.out = sys::Stream::file(log_path, sys::FileMode::append, 0600);
  options.err = sys::Stream::same_as_stdout();
  auto child = sys::Process::spawn(options);
  if (!child) return fail(ErrorKind::prerequisite, child.error().message, child.error().hint);
  const sys::ExitStatus status = M2R_TRY(child->wait());
  return status.shell_code();
}

Expected<RehearsalWorld> RehearsalWorld::up(const std::string& sandbox_exe, const std::string& dir,
                                            const std::string& database, const std::string& migration_login) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::invalid_input, fmt::format("cannot create {}: {}", dir, ec.message()));
  const std::string log = (fs::path(dir) / "world.log").string();
  std::vector<std::string> args = {"world", "up", "--dir", dir, "--database", database};
  if (!migration_login.empty()) args.insert(args.end(), {"--migration-login", migration_login});
  const int code = M2R_TRY(run_logged(sandbox_exe, args, log));
  if (code != 0) {
    return fail(ErrorKind::prerequisite, fmt::format("the rehearsal world did not start (exit code {})", code),
                "see " + log + ":\n" + tail_of(log, 1500));
  }
  const std::string text = M2R_TRY(read_file(fs::path(dir) / "world.json"));
  auto world = nlohmann::json::parse(text, nullptr, false);
  if (world.is_discarded()) return fail(ErrorKind::fatal, "world.json in " + dir + " is not JSON");
  return RehearsalWorld(sandbox_exe, dir, std::move(world));
}

RehearsalWorld::RehearsalWorld(RehearsalWorld&& other) noexcept
    : m_exe(std::move(other.m_exe)), m_dir(std::move(other.m_dir)), m_world(std::move(other.m_world)),
      m_running(other.m_running) {
  other.m_running = false;
}

RehearsalWorld::~RehearsalWorld() {
  if (m_running) (void)down();
}

Expected<void> RehearsalWorld::down() {
  if (!m_running) return {};
  m_running = false;
  const std::string log = (fs::path(m_dir) / "world.log").string();
  const int code = M2R_TRY(run_logged(m_exe, {"world", "down", "--dir", m_dir}, log));
  if (code != 0) {
    return fail(ErrorKind::fatal, fmt::format("the rehearsal world did not stop cleanly (exit code {})", code),
                "see " + log + " and the process ids in " + m_dir + "/pids");
  }
  return {};
}

Expected<void> RehearsalWorld::apply_environment() const {
  const std::string text = M2R_TRY(read_file(fs::path(m_dir) / "env"));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("export ", 0) == 0) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      ::setenv(line.substr(7, eq - 7).c_str(), line.substr(eq + 1).c_str(), 1);
    } else if (line.rfind("unset ", 0) == 0) {
      std::istringstream names(line.substr(6));
      std::string name;
      while (names >> name) ::unsetenv(name.c_str());
    }
  }
  return {};
}

namespace {
Expected<std::string> read_secret(const fs::path& path) {
  std::string password = M2R_TRY(read_file(path));
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  return password;
}
}  // namespace

Expected<std::string> RehearsalWorld::sa_password() const { return read_secret(fs::path(m_dir) / "secrets" / "sa_password"); }

Expected<std::string> RehearsalWorld::migration_password() const {
  return read_secret(fs::path(m_dir) / "secrets" / "migration_password");
}

}  // namespace m2r
