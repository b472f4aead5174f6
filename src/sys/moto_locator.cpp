#include "sys/moto_locator.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "sys/process.hpp"


namespace m2r {

namespace {

namespace fs = std::filesystem;

constexpr const char* k_install_fix =
    "run `bash scripts/install-deps.sh`; where it cannot install moto (no PyPI), on a machine that reaches "
    "PyPI: `apt-get install python3-venv && python3 -m venv /opt/moto-5.2.1 && "
    "/opt/moto-5.2.1/bin/pip install 'moto[server]==5.2.1' && "
    "ln -s /opt/moto-5.2.1/bin/moto_server /usr/local/bin/moto_server`"
    " (or set MOTO_SERVER to a moto_server executable, or to a command such as `python3.11 -m moto.server`)";

bool is_executable(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> path_dirs(const std::string& path_env) {
  std::vector<std::string> dirs;
  std::stringstream in(path_env);
  for (std::string dir; std::getline(in, dir, ':');)
    if (!dir.empty()) dirs.push_back(dir);  // an empty entry (the current directory) is not searched
  return dirs;
}

std::optional<std::string> on_path(const std::string& name, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    const std::string candidate = (fs::path(dir) / name).string();
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

// True when `python` exits 0 on "can import moto.server" (stdout and stderr discarded).
bool python_has_moto(const std::string& python) {
  static const char* k_probe =
      "import sys, importlib.util as u\n"
      "try:\n    ok = u.find_spec('moto.server') is not None\n"
      "except ImportError:\n    ok = False\n"
      "sys.exit(0 if ok else 1)\n";
  sys::SpawnOptions options;
  options.argv = {python, "-c", k_probe};
  options.out = sys::Stream::null();
  options.err = sys::Stream::null();
  const auto done = sys::run(options, {}, std::chrono::seconds(30));
  return done && !done->timed_out && done->status.success();
}

Expected<MotoCommand> from_moto_server_env(const std::string& value, const std::vector<std::string>& dirs) {
  std::vector<std::string> words;
  std::stringstream in(value);
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) return fail(ErrorKind::prerequisite, "MOTO_SERVER is blank", k_install_fix);
  std::string& program = words.front();
  if (program.find('/') != std::string::npos) {
    if (!is_executable(program))
      return fail(ErrorKind::prerequisite,
                  fmt::format("MOTO_SERVER names {}, which is not an executable file", program),
                  "set MOTO_SERVER to moto_server's path (or a command such as `python3.11 -m moto.server`), "
                  "or unset it to search PATH; " + std::string(k_install_fix));
  } else if (auto found = on_path(program, dirs)) {
    program = *found;
  } else {
    return fail(ErrorKind::prerequisite,
                fmt::format("MOTO_SERVER's program {} is in no PATH directory ({})", program, join(dirs, ":")),
                "give its full path in MOTO_SERVER, or unset MOTO_SERVER to search PATH; " + std::string(k_install_fix));
  }
  return MotoCommand{std::move(words), "MOTO_SERVER"};
}

}  // namespace

Expected<MotoCommand> locate_moto(const MotoSearch& search) {
  const std::vector<std::string> dirs = path_dirs(search.path_env);
  if (search.moto_server_env && !search.moto_server_env->empty())
    return from_moto_server_env(*search.moto_server_env, dirs);
  if (auto found = on_path("moto_server", dirs)) return MotoCommand{{*found}, "moto_server on PATH"};
  std::vector<std::string> pythons_tried;
  for (const auto& dir : dirs) {
    const std::string python = (fs::path(dir) / "python3").string();
    if (!is_executable(python)) continue;
    if (python_has_moto(python)) return MotoCommand{{python, "-m", "moto.server"}, "python3 -m moto.server"};
    pythons_tried.push_back(python);
  }
  return fail(ErrorKind::prerequisite,
              fmt::format("moto {} (the rehearsal world's AWS emulator) was not found; tried: MOTO_SERVER (not set); "
                          "moto_server in each PATH directory ({}); python3 -m moto.server with {}",
                          k_moto_version, dirs.empty() ? "PATH is empty" : join(dirs, ":"),
                          pythons_tried.empty() ? "no python3 on PATH"
                                                : "each python3 on PATH (" + join(pythons_tried, ", ") +
                                                      ": none can import moto.server)"),
              k_install_fix);
}

Expected<MotoCommand> locate_moto() {
  MotoSearch search;
  if (const char* m = std::getenv("MOTO_SERVER")) search.moto_server_env = m;
  if (const char* p = std::getenv("PATH")) search.path_env = p;
  return locate_moto(search);
}

Expected<MotoPythonPath> prepare_moto_pythonpath(const std::string& dir, const std::string& existing_pythonpath,
                                                 const std::string& dist_packages) {
  MotoPythonPath out{existing_pythonpath, {}};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dist_packages, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("crc32c.", 0) == 0 && name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) {
      out.crc32c_module = entry.path().string();
      break;
    }
  }
  if (out.crc32c_module.empty()) return out;  // python3-crc32c is not installed: nothing to add
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::fatal, fmt::format("cannot create {}: {}", dir, ec.message()));
  const fs::path link = fs::path(dir) / fs::path(out.crc32c_module).filename();
  fs::remove(link, ec);
  fs::create_symlink(out.crc32c_module, link, ec);
  if (ec) return fail(ErrorKind::fatal, fmt::format("cannot link {} to {}: {}", link.string(), out.crc32c_module, ec.message()));
  out.pythonpath = existing_pythonpath.empty() ? dir : dir + ":" + existing_pythonpath;
  return out;
}

}  // namespace m2r
