#include "migrate/upload_step.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "core/json_fields.hpp"
#include "migrate/file_reader.hpp"
#include "migrate/upload_engine.hpp"

namespace m2r {

namespace {

// Turns the engine's events into the product's, for the CLI to render.
class UploadEventBridge final : public UploadObserver {
 public:
  UploadEventBridge(StepContext& ctx, std::string label) : m_ctx(ctx), m_label(std::move(label)) {}
  void on_event(const UploadEvent& u) override {
    Event e;
    e.step = m_ctx.step();
    switch (u.kind) {
      case UploadEvent::Kind::retry:
        e.kind = EventKind::retry;
        e.message = fmt::format("{} part {} attempt {}: {}", m_label, u.part_number, u.attempt, u.reason);
        m_ctx.events().emit(e);
        (void)m_ctx.journal().append_event(m_ctx.step(), "retry", {{"part", u.part_number}, {"reason", u.reason}});
        return;
      case UploadEvent::Kind::started:
        e.kind = EventKind::info;
        e.message = fmt::format("{}: {} upload", m_label, u.reason);
        m_ctx.events().emit(e);
        return;
      case UploadEvent::Kind::verifying:
        e.kind = EventKind::info;
        e.message = m_label + ": verifying every part's checksum";
        m_ctx.events().emit(e);
        return;
      default:
        break;
    }
    e.kind = EventKind::progress;
    e.message = m_label;
    e.done_bytes = u.bytes_done;
    e.total_bytes = u.total;
    e.fraction = u.total ? static_cast<double>(u.bytes_done) / static_cast<double>(u.total) : 0.0;
    if (u.rate > 0) e.rate_bytes_per_s = u.rate;
    if (u.eta) e.eta_seconds = static_cast<double>(u.eta->count());
    m_ctx.events().emit(e);
  }

 private:
  StepContext& m_ctx;
  std::string m_label;
};

}  // namespace

Expected<nlohmann::json> run_upload_step(StepContext& ctx, ObjectStore& store, const MigrationConfig& config,
                                         const std::vector<std::string>& local_files,
                                         const std::vector<std::string>& s3_keys,
                                         const std::optional<BackupWriterState>& writer) {
  auto objects = nlohmann::json::array();
  auto& journal = ctx.journal();
  for (std::size_t i = 0; i < local_files.size(); ++i) {
    const std::string sub = fmt::format("{}/{}", ctx.step(), i + 1);
    const auto record = M2R_TRY(journal.step(sub));
    if (record && record->status == StepStatus::done) {
      objects.push_back(M2R_TRY(object_field(record->outputs, "object", journal_outputs(sub))));
      continue;
    }
    M2R_TRY(journal.begin_step(sub, {{"file", local_files[i]}, {"key", s3_keys[i]}}));
    if (writer) {
      // SQL Server creates the file when BACKUP starts writing it.
      // (error_code overload: this runs on the streaming upload's thread, where a throw is terminate)
      std::error_code ec;
      while (!std::filesystem::exists(local_files[i], ec) && !writer->finished()) {
        if (writer->clock->sleep_or_stop(ctx.stop(), std::chrono::milliseconds(50))) break;
      }
    }
    auto reader = PosixFileReader::open(local_files[i]);
    if (!reader) {
      (void)journal.fail_step(sub, reader.error().message);
      return fail(reader.error().kind, reader.error().message,
                  "the backup file must be readable here: check [source] backup_dir_local points at the directory "
                  "SQL Server wrote to (backup_dir_server)");
    }
    UploadRequest req;
    req.bucket = config.s3.bucket;
    req.key = s3_keys[i];
    req.step = sub;
    req.connections = config.upload.connections;
    req.part_size = config.upload.part_size_mib * 1024 * 1024;
    req.object_check = config.upload.verify_object == "etag" ? ObjectCheck::etag : ObjectCheck::checksum;
    req.content_md5 = config.upload.content_md5;
    req.stop = ctx.stop();
    if (writer) {
      req.streaming = true;
      req.writer_finished = writer->finished;
      req.writer_failed = writer->failed;
      req.expected_size = writer->expected_size;
      req.clock = writer->clock;
    }
    UploadEventBridge bridge(ctx, fmt::format("{} ({}/{})", s3_keys[i], i + 1, local_files.size()));
    auto result = upload_file(req, store, **reader, journal, bridge);
    if (!result) {
      (void)journal.fail_step(sub, result.error().message);
      return tl::unexpected(result.error());
    }
    const nlohmann::json object = {{"bucket", config.s3.bucket},   {"key", s3_keys[i]},
                                   {"etag", result->etag},         {"checksum_crc32c", result->checksum_crc32c},
                                   {"size", result->size},         {"parts", result->parts},
                                   {"part_size", result->part_size}, {"parts_reused", result->parts_reused},
                                   {"retries", result->retries},   {"seconds", result->seconds}};
    M2R_TRY(journal.finish_step(sub, {{"object", object}}));
    ctx.info(fmt::format("uploaded s3://{}/{}: {} bytes in {} parts, {:.1f}s{}", config.s3.bucket, s3_keys[i],
                         result->size, result->parts, result->seconds,
                         result->resumed ? fmt::format(" (resumed, {} parts reused)", result->parts_reused) : ""));
    objects.push_back(object);
  }
  return nlohmann::json{{"objects", objects}};
}

}  // namespace m2r
