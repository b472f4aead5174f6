#include "migrate/backup_file_identity.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/json_fields.hpp"
#include "core/plan.hpp"

namespace m2r {

Expected<BackupFileIdentity> identify_backup_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::prerequisite,
                fmt::format("cannot read the backup file {}: {}", path, std::strerror(err)),
                "check [source] backup_dir_local points at the directory SQL Server wrote to (backup_dir_server)");
  }
  return BackupFileIdentity{path, static_cast<std::uint64_t>(st.st_size),
                            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

nlohmann::json to_json(const BackupFileIdentity& id) {
  return {{"path", id.path}, {"size", id.size}, {"mtime_ns", id.mtime_ns}};
}

Expected<void> check_backup_files_unchanged(const nlohmann::json& recorded, const std::string& command) {
  if (!recorded.is_array()) return {};  // a journal from before identities were recorded
  const JsonSource source = journal_outputs(steps::backup);
  const std::string redo = fmt::format("take a new backup and upload that: `{} --redo-from backup` (the changed file "
                                       "is not uploaded; what was uploaded of it is replaced)",
                                       command);
  for (const auto& item : recorded) {
    const std::string path = M2R_TRY(string_field(item, "path", source));
    const auto size = static_cast<std::uint64_t>(M2R_TRY(int_field(item, "size", source)));
    const auto mtime = M2R_TRY(int_field(item, "mtime_ns", source));
    auto now = identify_backup_file(path);
    if (!now) {
      if (now.error().kind == ErrorKind::not_found) {
        return fail(ErrorKind::not_found, fmt::format("the backup file {} is gone since the backup ended", path), redo);
      }
      return tl::unexpected(now.error());
    }
    if (now->size != size || now->mtime_ns != mtime) {
      return fail(ErrorKind::integrity,
                  fmt::format("the backup file {} changed since the backup ended: size {} -> {} bytes{}", path, size,
                              now->size, now->mtime_ns != mtime ? ", modified again after the backup" : ""),
                  redo);
    }
  }
  return {};
}

}  // namespace m2r
