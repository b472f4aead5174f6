#include "migrate/streaming_backup.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/json_fields.hpp"
#include "core/plan.hpp"
#include "migrate/backup_step.hpp"
#include "migrate/upload_step.hpp"

namespace m2r {

namespace {

// The database's allocated size split over the stripes: an upper bound of each backup file,
// so the streaming upload picks parts large enough before the final size is known.
std::uint64_t expected_backup_file_size(mssql::SqlSession& source, int stripes) {
  auto r = source.query("SELECT SUM(CAST(size AS bigint)) * 8192 AS bytes FROM sys.database_files", {},
                        {.idempotent = mssql::Idempotent::yes});
  if (!r) return 0;
  auto v = r->first().value(0, "bytes");
  if (!v || v->is_null()) return 0;
  const auto bytes = v->as_int64();
  return bytes && *bytes > 0 ? static_cast<std::uint64_t>(*bytes) / static_cast<std::uint64_t>(std::max(stripes, 1)) : 0;
}

}  // namespace

Expected<nlohmann::json> run_backup_with_streaming_upload(StepContext& ctx, mssql::SqlSession& source,
                                                          Connections& connections, const MigrationConfig& config,
                                                          const std::string& new_stamp) {
  const auto store = M2R_TRY(object_store_of(connections));
  const auto stamp = M2R_TRY(string_field_or(ctx.partial(), "stamp", new_stamp, journal_outputs(ctx.step())));
  const auto layout = backup_layout(config, stamp);
  enum : int { writing, finished, failed };
  std::atomic<int> backup_state{writing};
  BackupWriterState writer{[&] { return backup_state.load() != writing; }, [&] { return backup_state.load() == failed; },
                           expected_backup_file_size(source, config.source.backup_stripes), connections.clock};
  Expected<nlohmann::json> uploaded = fail(ErrorKind::fatal, "the streaming upload did not run");
  std::thread uploader([&] {
    StepContext upload_ctx(ctx.journal(), ctx.events(), steps::upload, nlohmann::json::object(), nlohmann::json::object());
    upload_ctx.set_stop(ctx.stop());
    // Nothing may leave a thread as an exception (std::terminate): it becomes the upload's error.
    try {
      uploaded = run_upload_step(upload_ctx, *store, config, layout.local_files, layout.s3_keys, writer);
    } catch (const std::exception& e) {
      uploaded = fail(ErrorKind::fatal, std::string("the streaming upload failed unexpectedly: ") + e.what(),
                      "the upload step continues it from the journal; if it repeats, please report it");
    }
  });
  auto backup = run_backup_step(ctx, source, config, new_stamp, connections.source);
  backup_state = backup ? finished : failed;
  uploader.join();
  if (backup && !uploaded) {
    ctx.warning("the upload beside the backup stopped (" + uploaded.error().message +
                "); the upload step continues it from the journal");
  }
  return backup;
}

}  // namespace m2r
