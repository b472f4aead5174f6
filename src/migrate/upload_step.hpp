#pragma once
// Uploads every backup file (one per stripe) with the upload engine. Each file is its own
// journal sub-step ("upload/1", "upload/2", ...), so a resumed run continues the file it was
// on under the same upload id and skips the files already complete.
#include <functional>
#include <memory>
#include <optional>

#include "aws/clock.hpp"
#include "core/config.hpp"
#include "migrate/object_store.hpp"
#include "migrate/step_runner.hpp"

namespace m2r {

// Streaming ([upload] streaming = true): the files are uploaded while BACKUP writes them.
struct BackupWriterState {
  std::function<bool()> finished;  // BACKUP has ended (successfully or not)
  std::function<bool()> failed;    // BACKUP has ended in an error: no object may be completed
  std::uint64_t expected_size = 0; // per file, to choose the part size; 0 = unknown
  std::shared_ptr<aws::Clock> clock = std::make_shared<aws::SystemClock>();  // waits for the file to appear and grow
};

// Outputs: objects [{key, etag, checksum_crc32c, size, parts, ...}]. With `writer`, each file
// is followed as it grows (waiting for it to appear) and completed once BACKUP has finished.
Expected<nlohmann::json> run_upload_step(StepContext& ctx, ObjectStore& store, const MigrationConfig& config,
                                         const std::vector<std::string>& local_files,
                                         const std::vector<std::string>& s3_keys,
                                         const std::optional<BackupWriterState>& writer = std::nullopt);

}  // namespace m2r
