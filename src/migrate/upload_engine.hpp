#pragma once
// The upload engine (issue 6): a backup file to S3 as a parallel multipart upload, every
// part checksummed (CRC32C, and Content-MD5 when asked for) and journaled as it completes, resumable under the
// same upload id after a crash, in bounded memory (one part buffer per connection), and able
// to follow a file that is still being written (streaming) and re-check it when the writer
// is done. Parts too large for a buffer each (multi-terabyte files) are read from the file
// as they are sent (core/part_plan.hpp, PartBuffering). It emits events; it never prints (the CLI renders them).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"
#include "core/part_plan.hpp"
#include "migrate/file_reader.hpp"
#include "migrate/object_store.hpp"

namespace m2r {

// AWS guidance is one connection per 85-90 MB/s wanted (docs/facts.md §7): 16 cover a 10 Gbit/s
// instance link. On loopback (bench/README.md, "connections and part size") 16 x 8 MiB was
// the fastest setting in the same memory. The configuration file's default is the same.
constexpr int k_default_connections = 16;

// What the HeadObject check after completion compares (besides the size).
enum class ObjectCheck {
  checksum,  // the CRC32C S3 reports (composite or full-object); the ETag when none is reported
  etag,      // the multipart ETag only: for stores whose reported CRC32C is wrong (moto without
             // its optional crc32c module reports a CRC32 under that name, moto/s3/utils.py)
};

struct UploadRequest {
  std::string bucket;
  std::string key;
  std::string step = "upload";  // journal step (must be running) whose outputs hold the upload id
  int connections = k_default_connections;
  std::uint64_t part_size = 0;  // 0 = choose (core/part_plan.hpp)
  std::uint64_t buffer_budget = k_default_buffer_budget;
  ObjectCheck object_check = ObjectCheck::checksum;
  // Also send each part's Content-MD5. S3 verifies the x-amz-checksum-crc32c every part carries
  // (BadDigest when the bytes differ) and the object's composite CRC32C is checked after
  // completion, so the MD5 adds no protection; it costs client CPU (bench/README.md, "Content-MD5
  // beside CRC32C"). ObjectCheck::etag computes and sends it whatever this says: it is what ties
  // the parts' ETags to the local bytes.
  bool content_md5 = false;

  // Per-part retries of transient faults, with exponential backoff and full jitter.
  int max_attempts = 6;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{5'000};

  // Streaming: the file is still being written. Parts go out as it grows; once
  // writer_finished() returns true, every part sent before is checked against the final
  // file and re-sent if it changed, then the upload is completed.
  bool streaming = false;
  std::function<bool()> writer_finished;
  // Streaming, optional: true once the writer has failed (a BACKUP that ended in an error).
  // The upload then stops without completing the object: a partial file must never become
  // an object. It is left for a resume or `abort`.
  std::function<bool()> writer_failed;
  // Streaming only: the size the file is expected to reach, to choose the part size before
  // the final size is known (the file may grow to 10,000 parts of it). 0 = 8 MiB parts.
  std::uint64_t expected_size = 0;
  std::chrono::milliseconds poll_interval{50};
  std::shared_ptr<aws::Clock> clock = std::make_shared<aws::SystemClock>();  // streaming: the wait between looks at the file

  // A stop request ends the upload at a safe point: no new part starts, parts in flight are
  // cancelled at the HTTP level (their bytes are discarded by S3), and upload_file returns
  // ErrorKind::interrupted. The multipart upload stays open with every acknowledged part
  // journaled, so the next attempt continues the same upload id.
  const StopSignal* stop = nullptr;
};

struct UploadResult {
  std::string upload_id;
  std::string etag;             // the object's
  std::string checksum_crc32c;  // composite "<base64>-<parts>"
  std::uint64_t size = 0;
  std::uint64_t part_size = 0;
  int connections = 0;
  PartBuffering buffering = PartBuffering::whole_part;
  int parts = 0;
  int parts_sent = 0;      // UploadPart calls that succeeded (re-sends included)
  int parts_reused = 0;    // verified with ListParts + local checksums after a resume, not sent
  int parts_resent = 0;    // streaming: sent, then changed by the writer, sent again
  int retries = 0;
  std::uint64_t bytes_sent = 0;
  double seconds = 0;
  bool resumed = false;
};

struct UploadEvent {
  enum class Kind { started, part_done, progress, retry, verifying, completed };
  Kind kind = Kind::progress;
  int part_number = 0;          // part_done, retry
  bool reused = false;          // part_done: verified, not sent
  int attempt = 0;              // retry: the attempt that failed (1-based)
  std::string reason;           // retry: the error message; started: "new" / "resumed"
  std::uint64_t bytes_done = 0; // bytes in parts done (sent or reused)
  std::uint64_t total = 0;      // file size (streaming: the size so far)
  double rate = 0;              // bytes/s sent, over the last few seconds
  std::optional<std::chrono::seconds> eta;
  int retries = 0;              // so far
};

class UploadObserver {
 public:
  virtual ~UploadObserver() = default;
  // Called from worker threads, one call at a time.
  virtual void on_event(const UploadEvent& event) = 0;
};

class NullUploadObserver final : public UploadObserver {
 public:
  void on_event(const UploadEvent&) override {}
};

// Uploads the file behind `reader` to bucket/key. Resumes the upload recorded in the journal
// step's outputs ("upload": {bucket, key, upload_id, part_size}) when ListParts still knows it;
// starts over cleanly when it does not. A checksum mismatch anywhere is ErrorKind::integrity.
// On failure the multipart upload is left in place for a resume (abort_abandoned_uploads
// removes it).
Expected<UploadResult> upload_file(const UploadRequest& request, ObjectStore& store, FileReader& reader,
                                   Journal& journal, UploadObserver& observer);

struct AbortRequest {
  std::string bucket;
  std::string prefix;
  std::chrono::system_clock::duration older_than{0};  // 0 = any age
  std::vector<std::string> keep;                        // upload ids still in use
};

// Aborts multipart uploads under a prefix that nothing will complete (their parts cost
// storage until then). Returns the upload ids aborted.
Expected<std::vector<std::string>> abort_abandoned_uploads(ObjectStore& store, const AbortRequest& request);

}  // namespace m2r
