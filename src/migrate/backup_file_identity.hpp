#pragma once
// What identifies the backup file the upload must carry: its size and modification time,
// recorded when the backup ends. Before every upload attempt (a first one or a resume) the
// file is compared with the record: one that changed, shrank or vanished after the backup is
// never uploaded as the backup. (A change that keeps size and time is caught part by part: a
// resumed upload recomputes each part it reuses and compares it with the CRC32C the journal
// holds, src/migrate/upload_engine.cpp.)
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace m2r {

struct BackupFileIdentity {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // st_mtim, nanoseconds since the epoch
};

Expected<BackupFileIdentity> identify_backup_file(const std::string& path);
nlohmann::json to_json(const BackupFileIdentity& identity);

// Compares each recorded identity (the backup step's "file_identity" array) with the file on
// disk. Errors: integrity when a file changed or shrank, not_found when it vanished; both name
// the file, what changed, and `<command> --redo-from backup` (a new backup) as the fix.
Expected<void> check_backup_files_unchanged(const nlohmann::json& recorded, const std::string& command);

}  // namespace m2r
