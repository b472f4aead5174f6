#include "migrate/backup_directory_probe.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "mssql/quote.hpp"

namespace m2r {
namespace {

// The probe's name only has to be unique in the directory: std::random_device reads the
// kernel's generator (and throws rather than answering a guessable sequence).
std::string random_hex(std::size_t bytes) {
  std::random_device device;
  std::string hex;
  for (std::size_t i = 0; i < bytes; ++i) hex += fmt::format("{:02x}", device() & 0xffu);
  return hex;
}

// Writes `content` to `path` and reads it back; empty on success, else what failed.
std::string write_and_read_back(const std::filesystem::path& path, const std::string& content) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path.parent_path(), ec)) return "it is not a directory (or does not exist)";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return fmt::format("cannot write {} ({})", path.filename().string(), std::strerror(errno));
  }
  std::ifstream in(path, std::ios::binary);
  const std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fmt::format("cannot read back {} ({})", path.filename().string(), std::strerror(errno));
  if (back != content) return fmt::format("{} read back differs from what was written", path.filename().string());
  return {};
}

// xp_fileexist's row for `path`: (file exists, is a directory, parent exists).
Expected<std::array<bool, 3>> file_exists_on_server(mssql::SqlSession& source, const std::string& path) {
  const auto r = M2R_TRY(source.query("EXEC master.dbo.xp_fileexist " + mssql::quote_string_literal(path), {},
                                      {.idempotent = mssql::Idempotent::yes}));
  if (r.rows().empty() || r.rows()[0].size() < 3) return fail(ErrorKind::fatal, "xp_fileexist answered no row");
  std::array<bool, 3> out{};
  for (std::size_t i = 0; i < 3; ++i) out[i] = r.rows()[0][i].to_text() == "1";
  return out;
}

}  // namespace

BackupDirectoryFacts probe_backup_directory(mssql::SqlSession& source, const SourceConfig& config, bool sysadmin) {
  BackupDirectoryFacts f;
  f.local_dir = config.backup_dir_local;
  f.server_dir = config.backup_dir_server;
  f.probe_name = ".mssql2rds-probe-" + random_hex(8);
  const std::filesystem::path local = std::filesystem::path(config.backup_dir_local) / f.probe_name;
  f.local_problem = write_and_read_back(local, "mssql2rds backup directory probe " + f.probe_name + "\n");
  if (f.local_problem.empty()) {
    if (!sysadmin) {
      f.unknown_because = "the source login is not sysadmin, and xp_fileexist answers other logins 0 for every path";
    } else if (auto seen = file_exists_on_server(source, join_backup_path(config.backup_dir_server, f.probe_name)); !seen) {
      f.unknown_because = "xp_fileexist failed: " + seen.error().message;
    } else if ((*seen)[0]) {
      f.server = ServerSeesProbe::yes;
    } else {
      f.server = ServerSeesProbe::no;
      auto dir = file_exists_on_server(source, config.backup_dir_server);
      f.server_dir_exists = dir && (*dir)[1];
    }
  }
  std::error_code ec;
  std::filesystem::remove(local, ec);  // the probe never stays, whatever happened
  return f;
}

}  // namespace m2r
