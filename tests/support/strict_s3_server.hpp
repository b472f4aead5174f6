#pragma once
// A fast, strict S3 server for tests and benchmarks (issue 6). moto stays the reference for
// API conformance; this one is for speed and strictness: every request's SigV4 is verified
// (with the real payload hash when one is sent), Content-MD5 and x-amz-checksum-crc32c /
// -crc32 are checked against the bytes received, CompleteMultipartUpload checks each part's
// ETag and checksum, and bodies are hashed as they stream in, then stored or discarded.
// Faults can be injected per operation and part: 500, 503 SlowDown, a reset connection, a
// truncated response, a delay.
//
// Raw sockets, one thread per connection, HTTP/1.1 keep-alive and 100-continue; path-style
// addressing only ("http://127.0.0.1:port/bucket/key"). Buckets exist on first use.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace m2r::testing {

struct StrictS3Options {
  std::string access_key_id = "AKIDSTRICTS3TEST";
  std::string secret_access_key = "strict-s3-test-secret";  // a test key, not a secret
  std::string bind_address = "127.0.0.1";
  int port = 0;               // 0 = a free port
  bool store_bodies = true;   // false: hash and discard (benchmarks); GetObject then fails
  std::chrono::minutes max_clock_skew{15};
};

enum class FaultAction {
  internal_error,  // 500 InternalError after reading the body
  slow_down,       // 503 SlowDown after reading the body
  reset,           // close with RST right after the headers, without reading the body
  truncate,        // process the request, then send half a response and close
  delay,           // wait `delay`, then answer normally
};

struct FaultRule {
  std::string operation = "UploadPart";  // S3 operation name, or "*"
  int part_number = 0;                   // UploadPart only; 0 = any part
  FaultAction action = FaultAction::internal_error;
  int times = 1;                         // requests it applies to
  std::chrono::milliseconds delay{0};
};

struct StrictS3Stats {
  int connections = 0;  // TCP connections accepted (keep-alive reuse keeps this low)
  int requests = 0;
  int upload_part_requests = 0;
  int parts_accepted = 0;
  int rejected = 0;         // 4xx answers (auth, checksums, ...), not injected faults
  int faults_injected = 0;
  std::uint64_t body_bytes = 0;
  std::map<int, int> part_accepted_count;  // part number -> accepted UploadParts
  std::vector<std::string> rejections;     // "<operation>: <code>: <message>"
};

class StrictS3Server {
 public:
  explicit StrictS3Server(StrictS3Options options = {});
  ~StrictS3Server();
  StrictS3Server(const StrictS3Server&) = delete;
  StrictS3Server& operator=(const StrictS3Server&) = delete;

  Expected<void> start();
  void stop();
  int port() const { return m_port; }
  std::string endpoint() const;  // "http://127.0.0.1:port"
  const StrictS3Options& options() const { return m_options; }

  void inject(FaultRule rule);
  void clear_faults();
  StrictS3Stats stats();
  std::optional<std::string> object(const std::string& bucket, const std::string& key);
  std::vector<std::string> upload_ids();
  void forget_upload(const std::string& upload_id);  // as a lifecycle rule expiring it would

  struct State;  // shared with the connection threads

 private:
  void accept_loop();

  StrictS3Options m_options;
  int m_listen_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::thread m_acceptor;
  std::shared_ptr<State> m_state;
};

}  // namespace m2r::testing
