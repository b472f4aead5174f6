#include "fakes/fake_object_store.hpp"

#include <fmt/format.h>

#include "aws/checksums.hpp"

namespace m2r {

namespace {

Error no_such_upload(const std::string& id) {
  return Error(ErrorKind::not_found, fmt::format("NoSuchUpload: upload '{}' does not exist", id));
}

}  // namespace

Expected<std::string> FakeObjectStore::create_multipart(const std::string& bucket, const std::string& key) {
  std::lock_guard lock(m_mutex);
  std::string id = fmt::format("fake-upload-{}", m_next_id++);
  m_uploads[id] = Upload{bucket, key, {}, std::chrono::system_clock::now()};
  return id;
}

Expected<std::string> FakeObjectStore::upload_part(const std::string& bucket, const std::string& key,
                                                   const std::string& upload_id, int part_number,
                                                   const PartBody& body) {
  int call = 0;
  {
    std::lock_guard lock(m_mutex);
    call = ++m_calls;
  }
  if (before_upload_part) {
    auto injected = before_upload_part(part_number, call);
    if (!injected) return tl::unexpected(injected.error());
  }
  // As the HTTP transport does: a transfer whose `cancelled` says so is abandoned, not stored.
  if (body.cancelled && body.cancelled()) {
    return fail(ErrorKind::interrupted, fmt::format("PUT part {}: cancelled in flight", part_number));
  }
  // A streamed part is read as S3 would receive it: in chunks, through the reader.
  std::string streamed;
  if (body.read) {
    streamed.resize(body.streamed_size);
    for (std::uint64_t got = 0; got < body.streamed_size;) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, body.streamed_size - got));
      const std::size_t n = M2R_TRY(body.read(got, std::span<char>(streamed.data() + got, want)));
      if (n == 0) return fail(ErrorKind::fatal, fmt::format("part {}: the body ended early", part_number));
      got += n;
    }
    std::lock_guard lock(m_mutex);
    ++m_parts_streamed;
  }
  std::string received(body.read ? std::string_view(streamed) : body.bytes);
  if (damage_part) damage_part(part_number, received);  // on the way, or on the store's disks
  const std::string_view bytes = received;
  // S3 checks the digests it is given against the bytes it received (BadDigest / InvalidRequest);
  // it computes the MD5 in any case, for the part's ETag.
  const std::string md5 = aws::md5_raw(bytes);
  if (verifies_digests && !body.content_md5.empty() && aws::base64_encode(md5) != body.content_md5) {
    return fail(ErrorKind::integrity, "BadDigest: the Content-MD5 you specified did not match what we received");
  }
  const std::string crc = aws::crc32c_base64(aws::crc32c(bytes));
  if (verifies_digests && crc != body.checksum_crc32c) {
    return fail(ErrorKind::integrity, "BadDigest: the CRC32C you specified did not match the calculated checksum");
  }
  std::lock_guard lock(m_mutex);
  auto it = m_uploads.find(upload_id);
  if (it == m_uploads.end() || it->second.bucket != bucket || it->second.key != key) {
    return tl::unexpected(no_such_upload(upload_id));
  }
  it->second.parts[part_number] = Part{std::string(bytes), aws::hex_encode(md5), crc};
  m_parts_uploaded.push_back(part_number);
  if (!body.content_md5.empty()) ++m_parts_with_md5;
  return aws::hex_encode(md5);
}

Expected<std::vector<UploadedPart>> FakeObjectStore::list_parts(const std::string& bucket,
                                                                const std::string& key,
                                                                const std::string& upload_id) {
  std::lock_guard lock(m_mutex);
  auto it = m_uploads.find(upload_id);
  if (it == m_uploads.end() || it->second.bucket != bucket || it->second.key != key) {
    return tl::unexpected(no_such_upload(upload_id));
  }
  std::vector<UploadedPart> out;
  for (const auto& [number, part] : it->second.parts) {
    out.push_back(UploadedPart{number, part.bytes.size(), part.etag, part.crc32c});
  }
  return out;
}

Expected<std::string> FakeObjectStore::complete(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id,
                                                const std::vector<CompletedPart>& parts) {
  std::lock_guard lock(m_mutex);
  auto it = m_uploads.find(upload_id);
  if (it == m_uploads.end() || it->second.bucket != bucket || it->second.key != key) {
    return tl::unexpected(no_such_upload(upload_id));
  }
  if (parts.empty()) return fail(ErrorKind::fatal, "MalformedXML: no parts");
  Object object;
  std::vector<std::string> md5s;
  std::vector<std::string> crcs;
  int previous = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.part_number <= previous) return fail(ErrorKind::fatal, "InvalidPartOrder");
    previous = p.part_number;
    auto stored = it->second.parts.find(p.part_number);
    if (stored == it->second.parts.end() || stored->second.etag != p.etag) {
      return fail(ErrorKind::fatal, fmt::format("InvalidPart: part {} not found or ETag differs", p.part_number));
    }
    if (stored->second.crc32c != p.checksum_crc32c) {
      return fail(ErrorKind::integrity, fmt::format("InvalidPart: part {} checksum differs", p.part_number));
    }
    if (i + 1 < parts.size() && stored->second.bytes.size() < 5 * 1024 * 1024) {
      return fail(ErrorKind::fatal, fmt::format("EntityTooSmall: part {}", p.part_number));
    }
    object.bytes += stored->second.bytes;
    md5s.push_back(stored->second.etag);
    crcs.push_back(stored->second.crc32c);
  }
  object.etag = aws::multipart_etag(md5s);
  object.crc32c = aws::composite_crc32c(crcs);
  const std::string etag = object.etag;
  m_objects[bucket + "/" + key] = std::move(object);
  m_uploads.erase(it);
  ++m_completes;
  return etag;
}

Expected<void> FakeObjectStore::abort(const std::string&, const std::string&, const std::string& upload_id) {
  std::lock_guard lock(m_mutex);
  if (m_uploads.erase(upload_id) == 0) return tl::unexpected(no_such_upload(upload_id));
  return {};
}

Expected<std::vector<MultipartUploadInfo>> FakeObjectStore::list_multipart_uploads(const std::string& bucket,
                                                                                   const std::string& prefix) {
  std::lock_guard lock(m_mutex);
  std::vector<MultipartUploadInfo> out;
  for (const auto& [id, upload] : m_uploads) {
    if (upload.bucket == bucket && upload.key.starts_with(prefix)) {
      out.push_back(MultipartUploadInfo{upload.key, id, upload.initiated});
    }
  }
  return out;
}

Expected<ObjectInfo> FakeObjectStore::head_object(const std::string& bucket, const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_objects.find(bucket + "/" + key);
  if (it == m_objects.end()) return fail(ErrorKind::not_found, fmt::format("NoSuchKey: {}/{}", bucket, key));
  ObjectInfo info{it->second.bytes.size(), it->second.etag, it->second.crc32c};
  if (tamper_head) tamper_head(info);
  return info;
}

void FakeObjectStore::forget_upload(const std::string& upload_id) {
  std::lock_guard lock(m_mutex);
  m_uploads.erase(upload_id);
}

std::vector<int> FakeObjectStore::parts_uploaded() {
  std::lock_guard lock(m_mutex);
  return m_parts_uploaded;
}

int FakeObjectStore::upload_part_calls() {
  std::lock_guard lock(m_mutex);
  return m_calls;
}

int FakeObjectStore::parts_streamed() {
  std::lock_guard lock(m_mutex);
  return m_parts_streamed;
}

int FakeObjectStore::parts_with_content_md5() {
  std::lock_guard lock(m_mutex);
  return m_parts_with_md5;
}

std::optional<std::string> FakeObjectStore::object(const std::string& bucket, const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_objects.find(bucket + "/" + key);
  if (it == m_objects.end()) return std::nullopt;
  return it->second.bytes;
}

std::vector<std::string> FakeObjectStore::upload_ids() {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& [id, upload] : m_uploads) out.push_back(id);
  return out;
}

int FakeObjectStore::completes() {
  std::lock_guard lock(m_mutex);
  return m_completes;
}

}  // namespace m2r
