#pragma once
// An honest in-memory ObjectStore for tests: it checks CRC32C and, when sent, Content-MD5 as S3 does,
// keeps parts and objects, computes multipart ETags and composite checksums the S3 way
// (aws/checksums: multipart_etag, composite_crc32c), and records what was uploaded
// (`parts_uploaded`) so tests assert on state.
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "migrate/object_store.hpp"

namespace m2r {

class FakeObjectStore final : public ObjectStore {
 public:
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

  // ---- for tests ----
  // Called before each UploadPart is applied; an error returned is what the caller gets.
  std::function<Expected<void>(int part_number, int call)> before_upload_part;
  void forget_upload(const std::string& upload_id);  // as a lifecycle rule would
  std::vector<int> parts_uploaded();                 // part numbers of accepted UploadParts, in order
  int upload_part_calls();
  int parts_streamed();  // UploadParts whose body came through PartBody::read
  int parts_with_content_md5();  // accepted UploadParts that carried a Content-MD5
  std::optional<std::string> object(const std::string& bucket, const std::string& key);
  std::vector<std::string> upload_ids();
  int completes();
  // Replace what HeadObject reports (to test that a bad answer is caught).
  std::function<void(ObjectInfo&)> tamper_head;
  // Damages a part's bytes before the store checks and keeps them; with verifies_digests off
  // (an S3-compatible store that ignores Content-MD5 and x-amz-checksum-*), the damage is kept
  // and the part's ETag and CRC32C are those of the damaged bytes.
  std::function<void(int part_number, std::string& bytes)> damage_part;
  bool verifies_digests = true;

 private:
  struct Part {
    std::string bytes;
    std::string etag;
    std::string crc32c;
  };
  struct Upload {
    std::string bucket;
    std::string key;
    std::map<int, Part> parts;
    std::chrono::system_clock::time_point initiated;
  };
  struct Object {
    std::string bytes;
    std::string etag;
    std::string crc32c;
  };
  std::mutex m_mutex;
  std::map<std::string, Upload> m_uploads;
  std::map<std::string, Object> m_objects;  // "bucket/key"
  std::vector<int> m_parts_uploaded;
  int m_calls = 0;
  int m_parts_streamed = 0;
  int m_parts_with_md5 = 0;
  int m_next_id = 1;
  int m_completes = 0;
};

}  // namespace m2r
