#pragma once
// Gathers core/backup_directory's facts: a probe file written, read back and removed in
// backup_dir_local, and looked for by SQL Server (xp_fileexist) at backup_dir_server while it
// is there. The only trace it leaves is nothing: the probe is removed on every path.
#include "core/backup_directory.hpp"
#include "core/config.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

// `sysadmin`: whether the source login is one (xp_fileexist answers others 0 for everything).
BackupDirectoryFacts probe_backup_directory(mssql::SqlSession& source, const SourceConfig& config, bool sysadmin);

}  // namespace m2r
