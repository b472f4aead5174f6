#include "aws/s3_client.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace m2r::aws {
namespace {

constexpr const char* k_s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Virtual-hosted style needs a DNS label: lower case letters, digits, hyphens; no dots
// (a dot breaks the TLS wildcard certificate).
bool dns_compatible(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

std::uint64_t to_u64(const std::optional<std::string>& text) {
  return text ? std::strtoull(text->c_str(), nullptr, 10) : 0;
}

}  // namespace

std::string s3_arn(const std::string& bucket, const std::string& key) { return fmt::format("arn:aws:s3:::{}/{}", bucket, key); }

bool S3Client::path_style(const std::string& bucket) const {
  if (m_options.force_path_style) return *m_options.force_path_style;
  return m_client.context().endpoints.is_custom(Service::s3) || !dns_compatible(bucket);
}

S3Client::Address S3Client::address(const std::string& bucket, const std::string& key) const {
  const std::string encoded_key = key.empty() ? std::string{} : uri_encode(key, /*keep_slash=*/true);
  if (path_style(bucket)) return {std::nullopt, "/" + uri_encode(bucket) + (key.empty() ? "" : "/" + encoded_key)};
  const std::string endpoint = m_client.endpoint();
  auto scheme_end = endpoint.find("://");
  std::string host_endpoint = endpoint.substr(0, scheme_end + 3) + bucket + "." + endpoint.substr(scheme_end + 3);
  return {host_endpoint, "/" + encoded_key};
}

Expected<HttpResponse> S3Client::send(AwsRequest request, const std::string& bucket, const std::string& key) {
  Address a = address(bucket, key);
  request.endpoint = a.endpoint;
  request.path = a.path;
  if (request.resource.empty())
    request.resource = key.empty() ? fmt::format("bucket '{}'", bucket) : fmt::format("s3://{}/{}", bucket, key);
  const std::string endpoint = request.endpoint.value_or(m_client.endpoint());
  const bool https = endpoint.starts_with("https://");
  const size_t body_size = request.body_view ? request.body_view->size() : request.body.size();
  // Small bodies are always signed; large ones over HTTPS use UNSIGNED-PAYLOAD.
  if (m_options.unsigned_payload_over_https && https && body_size > 64 * 1024) request.unsigned_payload = true;
  return m_client.send(request);
}

Expected<void> S3Client::head_bucket(const std::string& bucket) {
  AwsRequest r;
  r.operation = "HeadBucket";
  r.method = "HEAD";
  M2R_TRY(send(r, bucket, {}));
  return {};
}

Expected<void> S3Client::create_bucket(const std::string& bucket) {
  AwsRequest r;
  r.operation = "CreateBucket";
  r.method = "PUT";
  const std::string& region = m_client.context().region;
  if (region != "us-east-1") {
    r.headers.emplace_back("Content-Type", "application/xml");
    r.body = fmt::format("<CreateBucketConfiguration xmlns=\"{}\"><LocationConstraint>{}</LocationConstraint>"
                         "</CreateBucketConfiguration>",
                         k_s3_namespace, region);
  }
  M2R_TRY(send(r, bucket, {}));
  return {};
}

Expected<void> S3Client::delete_object(const std::string& bucket, const std::string& key) {
  AwsRequest r;
  r.operation = "DeleteObject";
  r.method = "DELETE";
  M2R_TRY(send(r, bucket, key));
  return {};
}

Expected<std::string> S3Client::get_bucket_location(const std::string& bucket) {
  AwsRequest r;
  r.operation = "GetBucketLocation";
  r.method = "GET";
  r.query = "location";
  auto response = M2R_TRY(send(r, bucket, {}));
  auto doc = M2R_TRY(parse_xml(response.body, "GetBucketLocation"));
  std::string region = doc->child("LocationConstraint").child_value();
  if (region.empty()) return std::string("us-east-1");  // S3's documented null constraint
  if (region == "EU") return std::string("eu-west-1");
  return region;
}

Expected<S3ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key, bool with_checksum) {
  AwsRequest r;
  r.operation = "HeadObject";
  r.method = "HEAD";
  if (with_checksum) r.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  auto response = M2R_TRY(send(r, bucket, key));
  S3ObjectInfo info;
  info.size = to_u64(response.header("Content-Length"));
  info.etag = response.header("ETag").value_or("");
  info.last_modified = response.header("Last-Modified").value_or("");
  info.checksum_crc32c = response.header("x-amz-checksum-crc32c").value_or("");
  info.content_type = response.header("Content-Type").value_or("");
  return info;
}

Expected<std::string> S3Client::put_object(const std::string& bucket, const std::string& key, std::string_view body,
                                           const PutObjectOptions& options) {
  AwsRequest r;
  r.operation = "PutObject";
  r.method = "PUT";
  r.body_view = body;
  if (!options.content_type.empty()) r.headers.emplace_back("Content-Type", options.content_type);
  if (!options.content_md5.empty()) r.headers.emplace_back("Content-MD5", options.content_md5);
  if (!options.checksum_crc32c.empty()) r.headers.emplace_back("x-amz-checksum-crc32c", options.checksum_crc32c);
  auto response = M2R_TRY(send(r, bucket, key));
  return response.header("ETag").value_or("");
}

Expected<GetObjectResult> S3Client::get_object(const std::string& bucket, const std::string& key,
                                               const std::optional<ByteRange>& range, BodySink sink) {
  AwsRequest r;
  r.operation = "GetObject";
  r.method = "GET";
  if (range) r.headers.emplace_back("Range", fmt::format("bytes={}-{}", range->first, range->last));
  r.response_sink = std::move(sink);
  auto response = M2R_TRY(send(r, bucket, key));
  GetObjectResult out;
  out.status = response.status;
  out.etag = response.header("ETag").value_or("");
  out.content_range = response.header("Content-Range").value_or("");
  out.content_length = to_u64(response.header("Content-Length"));
  out.body = std::move(response.body);
  return out;
}

Expected<std::string> S3Client::create_multipart_upload(const std::string& bucket, const std::string& key,
                                                        const std::string& checksum_algorithm,
                                                        const std::string& content_type) {
  AwsRequest r;
  r.operation = "CreateMultipartUpload";
  r.method = "POST";
  r.query = "uploads";
  // Retried like every other request: a create repeated after a lost answer leaves an orphan
  // upload, which the upload engine aborts right after (src/migrate/upload_engine.cpp).
  r.idempotent = Idempotent::yes;
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  if (!checksum_algorithm.empty()) r.headers.emplace_back("x-amz-checksum-algorithm", checksum_algorithm);
  auto response = M2R_TRY(send(r, bucket, key));
  auto doc = M2R_TRY(parse_xml(response.body, "CreateMultipartUpload"));
  std::string upload_id = doc->document_element().child_value("UploadId");
  if (upload_id.empty()) return fail(ErrorKind::fatal, "s3 CreateMultipartUpload: the response has no UploadId");
  return upload_id;
}

Expected<UploadedPart> S3Client::upload_part(const UploadPartInput& in) {
  if (in.part_number < 1 || in.part_number > 10'000)
    return fail(ErrorKind::invalid_input, fmt::format("S3 part number {} is outside 1..10000", in.part_number),
                "use a larger part size so the file fits in 10,000 parts (docs/facts.md §7)");
  AwsRequest r;
  r.operation = "UploadPart";
  r.method = "PUT";
  r.query = fmt::format("partNumber={}&uploadId={}", in.part_number, uri_encode(in.upload_id));
  r.body_view = in.body;
  if (!in.content_md5.empty()) r.headers.emplace_back("Content-MD5", in.content_md5);
  if (!in.checksum_crc32c.empty()) r.headers.emplace_back("x-amz-checksum-crc32c", in.checksum_crc32c);
  r.resource = fmt::format("part {} of s3://{}/{}", in.part_number, in.bucket, in.key);
  auto response = M2R_TRY(send(r, in.bucket, in.key));
  UploadedPart part;
  part.part_number = in.part_number;
  part.etag = response.header("ETag").value_or("");
  part.checksum_crc32c = response.header("x-amz-checksum-crc32c").value_or(in.checksum_crc32c);
  part.size = in.body.size();
  if (part.etag.empty()) return fail(ErrorKind::fatal, "s3 UploadPart: the response has no ETag");
  return part;
}

Expected<std::vector<UploadedPart>> S3Client::list_parts(const std::string& bucket, const std::string& key,
                                                         const std::string& upload_id) {
  std::vector<UploadedPart> parts;
  std::string marker;
  for (int page = 0; page < 10'001; ++page) {
    AwsRequest r;
    r.operation = "ListParts";
    r.method = "GET";
    r.query = "uploadId=" + uri_encode(upload_id);
    if (!marker.empty()) r.query += "&part-number-marker=" + uri_encode(marker);
    auto response = M2R_TRY(send(r, bucket, key));
    auto doc = M2R_TRY(parse_xml(response.body, "ListParts"));
    // The root element's name is not checked: S3 says ListPartsResult, moto ListPartsResponse.
    pugi::xml_node result = doc->document_element();
    for (pugi::xml_node p : result.children("Part")) {
      UploadedPart part;
      part.part_number = std::atoi(p.child_value("PartNumber"));
      part.etag = p.child_value("ETag");
      part.checksum_crc32c = p.child_value("ChecksumCRC32C");
      part.size = std::strtoull(p.child_value("Size"), nullptr, 10);
      parts.push_back(std::move(part));
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") return parts;
    std::string next = result.child_value("NextPartNumberMarker");
    if (next.empty() || next == marker) return fail(ErrorKind::fatal, "s3 ListParts: a truncated page without a new marker");
    marker = next;
  }
  return fail(ErrorKind::fatal, "s3 ListParts: pagination did not end");
}

std::string S3Client::complete_multipart_upload_body(const std::vector<UploadedPart>& parts) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = k_s3_namespace;
  for (const auto& p : parts) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(p.part_number);
    part.append_child("ETag").text().set(p.etag.c_str());
    if (!p.checksum_crc32c.empty()) part.append_child("ChecksumCRC32C").text().set(p.checksum_crc32c.c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

Expected<CompletedUpload> S3Client::complete_multipart_upload(const std::string& bucket, const std::string& key,
                                                              const std::string& upload_id,
                                                              const std::vector<UploadedPart>& parts) {
  if (parts.empty()) return fail(ErrorKind::invalid_input, "a multipart upload needs at least one part");
  std::vector<UploadedPart> sorted = parts;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
  AwsRequest r;
  r.operation = "CompleteMultipartUpload";
  r.method = "POST";
  r.query = "uploadId=" + uri_encode(upload_id);
  r.headers.emplace_back("Content-Type", "application/xml");
  r.body = complete_multipart_upload_body(sorted);
  r.error_in_2xx = true;  // S3 may answer 200 and then an <Error> body
  auto response = M2R_TRY(send(r, bucket, key));
  auto doc = M2R_TRY(parse_xml(response.body, "CompleteMultipartUpload"));
  pugi::xml_node result = doc->document_element();
  CompletedUpload out{result.child_value("Location"), result.child_value("Bucket"), result.child_value("Key"),
                      result.child_value("ETag"), result.child_value("ChecksumCRC32C")};
  if (out.etag.empty()) return fail(ErrorKind::fatal, "s3 CompleteMultipartUpload: the response has no ETag");
  return out;
}

Expected<void> S3Client::abort_multipart_upload(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id) {
  AwsRequest r;
  r.operation = "AbortMultipartUpload";
  r.method = "DELETE";
  r.query = "uploadId=" + uri_encode(upload_id);
  M2R_TRY(send(r, bucket, key));
  return {};
}

Expected<std::vector<MultipartUploadInfo>> S3Client::list_multipart_uploads(const std::string& bucket,
                                                                            const std::string& prefix) {
  std::vector<MultipartUploadInfo> uploads;
  std::string key_marker, upload_marker;
  for (int page = 0; page < 100'000; ++page) {
    AwsRequest r;
    r.operation = "ListMultipartUploads";
    r.method = "GET";
    QueryParams q{{"uploads", ""}};
    if (!prefix.empty()) q.emplace_back("prefix", prefix);
    if (!key_marker.empty()) q.emplace_back("key-marker", key_marker);
    if (!upload_marker.empty()) q.emplace_back("upload-id-marker", upload_marker);
    r.query = encode_query(q);
    auto response = M2R_TRY(send(r, bucket, {}));
    auto doc = M2R_TRY(parse_xml(response.body, "ListMultipartUploads"));
    pugi::xml_node result = doc->document_element();
    for (pugi::xml_node u : result.children("Upload"))
      uploads.push_back({u.child_value("Key"), u.child_value("UploadId"), u.child_value("Initiated")});
    if (std::string_view(result.child_value("IsTruncated")) != "true") return uploads;
    key_marker = result.child_value("NextKeyMarker");
    upload_marker = result.child_value("NextUploadIdMarker");
    if (key_marker.empty()) return fail(ErrorKind::fatal, "s3 ListMultipartUploads: a truncated page without a marker");
  }
  return fail(ErrorKind::fatal, "s3 ListMultipartUploads: pagination did not end");
}

}  // namespace m2r::aws
