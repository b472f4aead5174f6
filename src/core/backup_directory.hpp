#pragma once
// The backup directory seen from both sides: SQL Server writes the .bak to backup_dir_server,
// this host reads it from backup_dir_local, and the two must be the same directory (a share,
// a mount, or the same disk). `check` and `run`'s preflight prove it before the backup with a
// probe file written here and looked for by SQL Server. Pure: gathering is
// migrate/backup_directory_probe.
#include <string>

#include "core/checks.hpp"

namespace m2r {

enum class ServerSeesProbe {
  yes,      // xp_fileexist found the probe at backup_dir_server
  no,       // it did not (and the directory's parent was answered for)
  unknown,  // the login cannot ask (not sysadmin), or the procedure failed
};

struct BackupDirectoryFacts {
  std::string local_dir;   // [source] backup_dir_local
  std::string server_dir;  // [source] backup_dir_server
  std::string probe_name;  // the probe's file name in both directories
  // Empty when the probe was written, read back equal and removed here; else what failed.
  std::string local_problem;
  ServerSeesProbe server = ServerSeesProbe::unknown;
  bool server_dir_exists = false;  // xp_fileexist's [File is a Directory] for backup_dir_server itself
  std::string unknown_because;     // why `server` is unknown
};

// "source.backup_dir": FAIL when this host cannot write and read the directory or SQL Server
// does not see the probe there; WARN when SQL Server's side could not be asked.
CheckResult evaluate_backup_directory(const BackupDirectoryFacts& facts);

// The probe's path in `dir`, with the separator the directory uses (a server path may be a
// Windows one: D:\backups).
std::string join_backup_path(const std::string& dir, const std::string& file);

}  // namespace m2r
