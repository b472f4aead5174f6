#pragma once
// Uploads every backup file (one per stripe) with the upload engine. Each file is its own
// journal sub-step ("upload/1", "upload/2", ...), so a resumed run continues the file it was
// on under the same upload id and skips the files already complete.
#include "core/config.hpp"
#include "migrate/object_store.hpp"
#include "migrate/step_runner.hpp"

namespace m2r {

// Outputs: objects [{key, etag, checksum_crc32c, size, parts, ...}].
Expected<nlohmann::json> run_upload_step(StepContext& ctx, ObjectStore& store, const MigrationConfig& config,
                                         const std::vector<std::string>& local_files,
                                         const std::vector<std::string>& s3_keys);

}  // namespace m2r
