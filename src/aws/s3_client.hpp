#pragma once
// Amazon S3 (REST-XML, SigV4 service "s3"; docs/facts.md §7). Path-style addressing for custom
// endpoints (moto, the sandbox), virtual-hosted style on AWS. Part bodies are borrowed
// (string_view), never copied. Checksums (Content-MD5, x-amz-checksum-crc32c) are computed
// by the caller (aws/checksums.hpp), who already reads every byte once.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_client.hpp"

namespace m2r::aws {

struct S3ObjectInfo {
  std::uint64_t size = 0;
  std::string etag;  // with its quotes, as S3 sends it
  std::string last_modified;
  std::string checksum_crc32c;  // when stored and asked for
  std::string content_type;
};

struct PutObjectOptions {
  std::string content_type;
  std::string content_md5;      // base64, optional
  std::string checksum_crc32c;  // base64, optional
};

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive, as in "bytes=first-last"
};

struct GetObjectResult {
  int status = 0;  // 200, or 206 for a range
  std::string etag;
  std::string content_range;
  std::uint64_t content_length = 0;
  std::string body;  // empty when a sink consumed it
};

struct UploadPartInput {
  std::string bucket;
  std::string key;
  std::string upload_id;
  int part_number = 0;         // 1..10000
  std::string_view body;       // borrowed; must stay valid during the call
  std::string content_md5;     // base64 MD5 of body, optional
  std::string checksum_crc32c; // base64 CRC32C of body, optional
};

struct UploadedPart {
  int part_number = 0;
  std::string etag;
  std::string checksum_crc32c;
  std::uint64_t size = 0;  // from ListParts
};

struct CompletedUpload {
  std::string location;
  std::string bucket;
  std::string key;
  std::string etag;
  std::string checksum_crc32c;
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
  std::string initiated;
};

struct S3ClientOptions {
  // Over HTTPS, skip hashing large bodies (x-amz-content-sha256: UNSIGNED-PAYLOAD) as the
  // SDKs do when a checksum protects the body; over plain HTTP always sign the payload.
  bool unsigned_payload_over_https = true;
  std::optional<bool> force_path_style;  // default: path style for custom endpoints only
};

class S3Client {
 public:
  explicit S3Client(const AwsContext& context, S3ClientOptions options = {})
      : m_client(context, Service::s3), m_options(options) {}

  Expected<void> head_bucket(const std::string& bucket);
  // In the context's region (no LocationConstraint for us-east-1). For tests and tools.
  Expected<void> create_bucket(const std::string& bucket);
  Expected<void> delete_object(const std::string& bucket, const std::string& key);
  Expected<std::string> get_bucket_location(const std::string& bucket);  // "us-east-1" for the empty constraint
  Expected<S3ObjectInfo> head_object(const std::string& bucket, const std::string& key, bool with_checksum = true);
  Expected<std::string> put_object(const std::string& bucket, const std::string& key, std::string_view body,
                                   const PutObjectOptions& options = {});  // returns the ETag
  Expected<GetObjectResult> get_object(const std::string& bucket, const std::string& key,
                                       const std::optional<ByteRange>& range = {}, BodySink sink = {});

  // checksum_algorithm: "CRC32C" (asks S3 to keep per-part checksums), or empty.
  Expected<std::string> create_multipart_upload(const std::string& bucket, const std::string& key,
                                                const std::string& checksum_algorithm = "CRC32C",
                                                const std::string& content_type = "application/octet-stream");
  Expected<UploadedPart> upload_part(const UploadPartInput& input);
  Expected<std::vector<UploadedPart>> list_parts(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id);  // every page
  Expected<CompletedUpload> complete_multipart_upload(const std::string& bucket, const std::string& key,
                                                      const std::string& upload_id, const std::vector<UploadedPart>& parts);
  Expected<void> abort_multipart_upload(const std::string& bucket, const std::string& key, const std::string& upload_id);
  Expected<std::vector<MultipartUploadInfo>> list_multipart_uploads(const std::string& bucket,
                                                                    const std::string& prefix = {});

  // Exposed for tests against the model.
  static std::string complete_multipart_upload_body(const std::vector<UploadedPart>& parts);
  // Where a request goes: {endpoint override or none, path} for a bucket and key.
  struct Address {
    std::optional<std::string> endpoint;
    std::string path;
  };
  Address address(const std::string& bucket, const std::string& key = {}) const;

 private:
  Expected<HttpResponse> send(AwsRequest request, const std::string& bucket, const std::string& key);
  bool path_style(const std::string& bucket) const;

  AwsClient m_client;
  S3ClientOptions m_options;
};

// "arn:aws:s3:::bucket/key" (docs/facts.md §7: the form rds_restore_database takes).
std::string s3_arn(const std::string& bucket, const std::string& key);

}  // namespace m2r::aws
