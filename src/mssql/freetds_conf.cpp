#include "mssql/freetds_conf.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

namespace m2r::mssql {
namespace {

namespace fs = std::filesystem;

struct ConfFile {
  std::mutex mutex;
  std::once_flag prepared;
  Error prepare_error;
  bool ready = false;
  fs::path dir;
  fs::path path;
  std::string user_conf;  // the text of the freetds.conf FREETDSCONF named before
  std::map<std::string, std::string> sections;
};

ConfFile& conf() {
  static ConfFile* f = new ConfFile;  // outlives static destructors: connections may close late
  return *f;
}

void remove_conf_dir() {
  std::error_code ec;
  if (!conf().dir.empty()) fs::remove_all(conf().dir, ec);
}

void prepare(ConfFile& f) {
  if (const char* before = std::getenv("FREETDSCONF"); before != nullptr && *before != '\0') {
    std::ifstream in(before);
    std::ostringstream text;
    text << in.rdbuf();
    f.user_conf = text.str();
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/mssql2rds-freetds-XXXXXX", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) {
    f.prepare_error = Error(ErrorKind::prerequisite,
                            fmt::format("cannot create a directory for FreeTDS's configuration ({}): {}", pattern,
                                        std::strerror(errno)),
                            "set TMPDIR to a writable directory");
    return;
  }
  f.dir = pattern;
  f.path = f.dir / "freetds.conf";
  std::ofstream(f.path) << f.user_conf;
  ::setenv("FREETDSCONF", f.path.c_str(), 1);
  std::atexit(remove_conf_dir);
  f.ready = true;
}

}  // namespace

Expected<void> prepare_freetds_conf() {
  ConfFile& f = conf();
  std::call_once(f.prepared, [&f] { prepare(f); });
  if (!f.ready) return tl::unexpected(f.prepare_error);
  return {};
}

Expected<void> install_freetds_section(const FreeTdsSection& section) {
  M2R_TRY(prepare_freetds_conf());
  ConfFile& f = conf();
  std::lock_guard lock(f.mutex);
  if (f.sections.count(section.name) != 0) return {};
  f.sections[section.name] = section.text;
  // A connection reading the file meanwhile sees the old text or the new, never half of it.
  const fs::path next = f.dir / "freetds.conf.next";
  {
    std::ofstream out(next, std::ios::trunc);
    for (const auto& [name, text] : f.sections) out << text << "\n";
    out << f.user_conf;
    if (!out) {
      return fail(ErrorKind::prerequisite, fmt::format("cannot write FreeTDS's configuration {}", next.string()),
                  "check the space and permissions of TMPDIR");
    }
  }
  std::error_code ec;
  fs::rename(next, f.path, ec);
  if (ec) return fail(ErrorKind::prerequisite, fmt::format("cannot replace {}: {}", f.path.string(), ec.message()));
  return {};
}

}  // namespace m2r::mssql
