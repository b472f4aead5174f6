#pragma once
// The part of S3 the upload engine needs, behind a narrow interface (conventions.md):
// S3ObjectStore (object_store_s3.hpp) speaks to S3 or the rehearsal world's servers,
// FakeObjectStore (tests/fakes/fake_object_store.hpp) keeps objects in memory for tests.
// Every call may come from many threads at once.
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace m2r {

struct UploadedPart {
  int part_number = 0;
  std::uint64_t size = 0;
  std::string etag;             // as S3 returns it, quotes removed: hex MD5 of the part
  std::string checksum_crc32c;  // base64; empty when the upload was created without it
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;
  std::string checksum_crc32c;
};

struct ObjectInfo {
  std::uint64_t size = 0;
  std::string etag;             // quotes removed; "<hex>-<parts>" for a multipart object
  std::string checksum_crc32c;  // "<base64>-<parts>" for a multipart object; empty if not reported
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
  std::chrono::system_clock::time_point initiated;
};

// A part's bytes: in memory (`bytes`), or, for parts larger than the upload's buffers, read
// from the file while they are sent: `streamed_size` bytes through `read`, at offsets from the
// part's start. `read` may be called again from offset 0 when the request is re-sent.
using PartReader = std::function<Expected<std::size_t>(std::uint64_t offset, std::span<char> into)>;

struct PartBody {
  std::string_view bytes;
  std::string content_md5;      // base64 of the MD5 (Content-MD5)
  std::string checksum_crc32c;  // base64 (x-amz-checksum-crc32c)
  std::uint64_t streamed_size = 0;
  PartReader read;
  // Polled while the part is sent; true cancels the transfer (ErrorKind::interrupted).
  std::function<bool()> cancelled;

  std::uint64_t size() const { return read ? streamed_size : bytes.size(); }
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // CreateMultipartUpload with x-amz-checksum-algorithm: CRC32C (docs/facts.md §7). Returns the upload id.
  virtual Expected<std::string> create_multipart(const std::string& bucket, const std::string& key) = 0;
  // UploadPart; the store checks Content-MD5 and the CRC32C (a mismatch is ErrorKind::integrity).
  // Returns the part's ETag. Transient faults are ErrorKind::retryable / timeout.
  virtual Expected<std::string> upload_part(const std::string& bucket, const std::string& key,
                                            const std::string& upload_id, int part_number,
                                            const PartBody& body) = 0;
  // ListParts, every page. ErrorKind::not_found when the upload id is unknown (NoSuchUpload):
  // aborted, completed, or expired by a lifecycle rule.
  virtual Expected<std::vector<UploadedPart>> list_parts(const std::string& bucket, const std::string& key,
                                                         const std::string& upload_id) = 0;
  // CompleteMultipartUpload with each part's ETag and ChecksumCRC32C. Returns the object's ETag.
  virtual Expected<std::string> complete(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts) = 0;
  virtual Expected<void> abort(const std::string& bucket, const std::string& key,
                               const std::string& upload_id) = 0;
  // ListMultipartUploads under a prefix, every page.
  virtual Expected<std::vector<MultipartUploadInfo>> list_multipart_uploads(const std::string& bucket,
                                                                            const std::string& prefix) = 0;
  // HeadObject with x-amz-checksum-mode: ENABLED. ErrorKind::not_found when absent.
  virtual Expected<ObjectInfo> head_object(const std::string& bucket, const std::string& key) = 0;
};

}  // namespace m2r
