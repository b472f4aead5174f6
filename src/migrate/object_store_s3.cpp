#include "migrate/object_store_s3.hpp"

#include <ctime>

namespace m2r {

namespace {

aws::AwsContext without_retries(const aws::AwsContext& context) {
  aws::AwsContext copy = context;
  aws::RetryOptions once;
  once.max_attempts = 1;
  copy.retry = std::make_shared<aws::RetryPolicy>(once, std::make_shared<aws::RetryQuota>(once.quota_capacity),
                                                  context.clock);
  return copy;
}

// "2026-11-25T10:00:00.000Z" (ListMultipartUploads' Initiated); epoch when unreadable.
std::chrono::system_clock::time_point parse_iso8601(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string strip_etag_quotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

S3ObjectStore::S3ObjectStore(const aws::AwsContext& context)
    : m_client(context), m_part_client(without_retries(context)) {}

Expected<std::string> S3ObjectStore::create_multipart(const std::string& bucket, const std::string& key) {
  return m_client.create_multipart_upload(bucket, key, "CRC32C");
}

Expected<std::string> S3ObjectStore::upload_part(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id, int part_number,
                                                 const PartBody& body) {
  aws::UploadPartInput in;
  in.bucket = bucket;
  in.key = key;
  in.upload_id = upload_id;
  in.part_number = part_number;
  in.body = body.bytes;
  in.content_md5 = body.content_md5;
  in.checksum_crc32c = body.checksum_crc32c;
  const auto part = M2R_TRY(m_part_client.upload_part(in));
  if (part.checksum_crc32c != body.checksum_crc32c) {
    return fail(ErrorKind::integrity,
                "S3 acknowledged part " + std::to_string(part_number) + " with CRC32C " + part.checksum_crc32c +
                    ", not the " + body.checksum_crc32c + " sent");
  }
  return strip_etag_quotes(part.etag);
}

Expected<std::vector<UploadedPart>> S3ObjectStore::list_parts(const std::string& bucket, const std::string& key,
                                                              const std::string& upload_id) {
  std::vector<UploadedPart> out;
  for (const auto& p : M2R_TRY(m_client.list_parts(bucket, key, upload_id))) {
    out.push_back(UploadedPart{p.part_number, p.size, strip_etag_quotes(p.etag), p.checksum_crc32c});
  }
  return out;
}

Expected<std::string> S3ObjectStore::complete(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id,
                                              const std::vector<CompletedPart>& parts) {
  std::vector<aws::UploadedPart> in;
  in.reserve(parts.size());
  for (const auto& p : parts) {
    aws::UploadedPart u;
    u.part_number = p.part_number;
    u.etag = "\"" + p.etag + "\"";
    u.checksum_crc32c = p.checksum_crc32c;
    in.push_back(std::move(u));
  }
  const auto done = M2R_TRY(m_client.complete_multipart_upload(bucket, key, upload_id, in));
  return strip_etag_quotes(done.etag);
}

Expected<void> S3ObjectStore::abort(const std::string& bucket, const std::string& key, const std::string& upload_id) {
  return m_client.abort_multipart_upload(bucket, key, upload_id);
}

Expected<std::vector<MultipartUploadInfo>> S3ObjectStore::list_multipart_uploads(const std::string& bucket,
                                                                                 const std::string& prefix) {
  std::vector<MultipartUploadInfo> out;
  for (const auto& u : M2R_TRY(m_client.list_multipart_uploads(bucket, prefix))) {
    out.push_back(MultipartUploadInfo{u.key, u.upload_id, parse_iso8601(u.initiated)});
  }
  return out;
}

Expected<ObjectInfo> S3ObjectStore::head_object(const std::string& bucket, const std::string& key) {
  const auto info = M2R_TRY(m_client.head_object(bucket, key, true));
  return ObjectInfo{info.size, strip_etag_quotes(info.etag), info.checksum_crc32c};
}

}  // namespace m2r
