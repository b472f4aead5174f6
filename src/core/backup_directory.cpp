#include "core/backup_directory.hpp"

#include <fmt/format.h>

namespace m2r {

std::string join_backup_path(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  const char separator = dir.find('\\') != std::string::npos && dir.find('/') == std::string::npos ? '\\' : '/';
  return dir.back() == separator ? dir + file : dir + separator + file;
}

CheckResult evaluate_backup_directory(const BackupDirectoryFacts& f) {
  CheckResult r{"source.backup_dir", "the backup directory is shared by SQL Server and this host", CheckStatus::pass, "",
                ""};
  if (!f.local_problem.empty()) {
    r.status = CheckStatus::fail;
    r.detail = fmt::format("this host cannot use backup_dir_local '{}': {}", f.local_dir, f.local_problem);
    r.fix = fmt::format("create '{}' (or mount the share SQL Server writes to there) so that this user may write and "
                        "read it, or set [source] backup_dir_local to the directory that is",
                        f.local_dir);
    return r;
  }
  switch (f.server) {
    case ServerSeesProbe::yes:
      r.detail = fmt::format("SQL Server found the probe {} written here in '{}' at '{}'", f.probe_name, f.local_dir,
                             f.server_dir);
      return r;
    case ServerSeesProbe::no:
      r.status = CheckStatus::fail;
      r.detail = f.server_dir_exists
                     ? fmt::format("SQL Server's '{}' exists but is not this host's '{}': the probe {} written here is "
                                   "not there",
                                   f.server_dir, f.local_dir, f.probe_name)
                     : fmt::format("SQL Server has no directory '{}' (backup_dir_server)", f.server_dir);
      r.fix = fmt::format("backup_dir_server and backup_dir_local must name one directory: share '{}' with this host "
                          "(SMB/NFS) and set backup_dir_local to where it is mounted, or set backup_dir_server to the "
                          "path SQL Server has for '{}'",
                          f.server_dir, f.local_dir);
      return r;
    case ServerSeesProbe::unknown:
      break;
  }
  r.status = CheckStatus::warn;
  r.detail = fmt::format("this host writes and reads '{}'; whether SQL Server sees it as '{}' could not be asked: {}",
                         f.local_dir, f.server_dir, f.unknown_because);
  r.fix = "make sure backup_dir_server and backup_dir_local are one directory; the backup fails with Msg 3201 if SQL "
          "Server cannot write there, and the upload stops if the file is not found here";
  return r;
}

}  // namespace m2r
