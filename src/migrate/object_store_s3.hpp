#pragma once
// ObjectStore over the S3 client (src/aws/s3_client.hpp): S3 itself, moto, or the strict
// test server (tests/support/strict_s3_server.hpp). Thread-safe: the client shares one
// CurlTransport whose pool keeps a connection per worker alive between parts.
#include "aws/aws_context.hpp"
#include "aws/s3_client.hpp"
#include "migrate/object_store.hpp"

namespace m2r {

class S3ObjectStore final : public ObjectStore {
 public:
  // UploadPart goes through a client that does not retry by itself: the upload engine retries
  // each part, reporting every retry as an event. Every other call keeps the context's policy.
  // Parts are sent with x-amz-content-sha256: UNSIGNED-PAYLOAD, over HTTP too: the body is
  // protected by the signed Content-MD5 and x-amz-checksum-crc32c headers, which S3 checks, so a
  // SHA-256 of every byte on both ends would add CPU and no safety (bench/README.md).
  explicit S3ObjectStore(const aws::AwsContext& context);

  Expected<std::string> create_multipart(const std::string& bucket, const std::string& key) override;
  Expected<std::string> upload_part(const std::string& bucket, const std::string& key,
                                    const std::string& upload_id, int part_number,
                                    const PartBody& body) override;
  Expected<std::vector<UploadedPart>> list_parts(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id) override;
  Expected<std::string> complete(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts) override;
  Expected<void> abort(const std::string& bucket, const std::string& key,
                       const std::string& upload_id) override;
  Expected<std::vector<MultipartUploadInfo>> list_multipart_uploads(const std::string& bucket,
                                                                    const std::string& prefix) override;
  Expected<ObjectInfo> head_object(const std::string& bucket, const std::string& key) override;

 private:
  aws::S3Client m_client;
  aws::AwsClient m_parts;  // UploadPart, without retries
};

// "\"abc\"" -> "abc".
std::string strip_etag_quotes(std::string_view etag);

}  // namespace m2r
