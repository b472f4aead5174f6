#include "support/strict_s3_server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <pugixml.hpp>
#include <zlib.h>

#include "aws/checksums.hpp"
#include "aws/sigv4.hpp"

namespace m2r::testing {

namespace {

constexpr std::size_t k_chunk = 1 << 20;  // body read size
constexpr std::uint64_t k_min_part = 5ULL << 20;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string iso_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

class Digest {
 public:
  explicit Digest(const EVP_MD* md) : m_ctx(EVP_MD_CTX_new()) { EVP_DigestInit_ex(m_ctx, md, nullptr); }
  ~Digest() { EVP_MD_CTX_free(m_ctx); }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void update(std::string_view d) { EVP_DigestUpdate(m_ctx, d.data(), d.size()); }
  std::string finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(m_ctx, out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  EVP_MD_CTX* m_ctx;
};

struct Part {
  std::uint64_t size = 0;
  std::string etag;      // hex md5
  std::string checksum;  // base64, of the upload's algorithm
  std::string data;
  std::chrono::system_clock::time_point at;
};

struct Upload {
  std::string bucket;
  std::string key;
  std::string algorithm;  // "", "CRC32C", "CRC32"
  std::map<int, Part> parts;
  std::chrono::system_clock::time_point initiated;
};

struct Object {
  std::uint64_t size = 0;
  std::string etag;
  std::string algorithm;
  std::string checksum;
  std::string data;
  std::chrono::system_clock::time_point at;
};

struct Request {
  std::string method;
  std::string target;
  std::string path;
  std::string raw_query;
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::vector<aws::Header> headers;
  std::string bucket;
  std::string key;
  std::string operation;
  int part_number = 0;

  std::optional<std::string> header(std::string_view name) const { return aws::find_header(headers, name); }
  bool has_query(std::string_view name) const {
    return std::any_of(query.begin(), query.end(), [&](const auto& q) { return q.first == name; });
  }
  std::string query_value(std::string_view name) const {
    for (const auto& q : query) if (q.first == name) return q.second;
    return {};
  }
};

struct Response {
  int status = 200;
  std::vector<aws::Header> headers;
  std::string body;
  bool close = false;
};

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 411: return "Length Required";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

Response error_response(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/xml");
  r.body = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>"
                       "<RequestId>strict-s3</RequestId></Error>",
                       code, xml_escape(message));
  return r;
}

Response xml_response(std::string body) {
  Response r;
  r.headers.emplace_back("Content-Type", "application/xml");
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body;
  return r;
}

}  // namespace

struct StrictS3Server::State {
  StrictS3Options options;
  std::mutex mutex;
  std::map<std::string, Upload> uploads;
  std::map<std::string, Object> objects;  // "bucket/key"
  std::vector<FaultRule> faults;
  StrictS3Stats stats;
  std::uint64_t next_id = 1;

  struct Connection {
    int fd = -1;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex connections_mutex;
  std::list<Connection> connections;

  std::optional<FaultRule> take_fault(const Request& req) {
    std::lock_guard lock(mutex);
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if ((it->operation == "*" || it->operation == req.operation) &&
          (it->part_number == 0 || it->part_number == req.part_number)) {
        FaultRule rule = *it;
        if (--it->times <= 0) faults.erase(it);
        ++stats.faults_injected;
        return rule;
      }
    }
    return std::nullopt;
  }

  Response reject(const Request& req, int status, const std::string& code, const std::string& message) {
    std::lock_guard lock(mutex);
    ++stats.rejected;
    stats.rejections.push_back(fmt::format("{}: {}: {}", req.operation, code, message));
    return error_response(status, code, message);
  }

  void serve(int fd);
};

namespace {

// Reads from a socket with a small carry-over buffer (bytes after the headers).
class Conn {
 public:
  explicit Conn(int fd) : m_fd(fd) {}

  // One request head: "METHOD target HTTP/1.1\r\nName: value\r\n...\r\n\r\n". false on EOF/error.
  bool read_head(std::string& head) {
    for (;;) {
      auto end = m_pending.find("\r\n\r\n");
      if (end != std::string::npos) {
        head = m_pending.substr(0, end);
        m_pending.erase(0, end + 4);
        return true;
      }
      if (m_pending.size() > 64 * 1024) return false;
      char buf[16 * 1024];
      const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      m_pending.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Up to `max` body bytes into `out` (pending bytes first). 0 on EOF/error.
  std::size_t read_some(char* out, std::size_t max) {
    if (!m_pending.empty()) {
      const std::size_t n = std::min(max, m_pending.size());
      std::memcpy(out, m_pending.data(), n);
      m_pending.erase(0, n);
      return n;
    }
    for (;;) {
      const ssize_t n = ::recv(m_fd, out, max, 0);
      if (n < 0 && errno == EINTR) continue;
      return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
  }

  bool write_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void reset() {
    linger l{1, 0};  // close with RST, as a crashed peer or a middlebox would
    ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::shutdown(m_fd, SHUT_RDWR);
  }

 private:
  int m_fd;
  std::string m_pending;
};

std::string serialize(const Request& req, const Response& r, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason_phrase(r.status));
  bool has_length = false;
  for (const auto& [name, value] : r.headers) {
    out += name + ": " + value + "\r\n";
    if (lower(name) == "content-length") has_length = true;
  }
  if (!has_length) out += fmt::format("Content-Length: {}\r\n", r.body.size());
  out += "x-amz-request-id: strict-s3\r\nServer: StrictS3\r\n";
  if (r.close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only && req.method != "HEAD") out += r.body;
  return out;
}

// Names the S3 operation of a request (path-style addressing).
void classify(Request& req) {
  const std::string_view path = std::string_view(req.path).substr(1);
  const auto slash = path.find('/');
  req.bucket = aws::uri_decode(path.substr(0, slash));
  if (slash != std::string_view::npos) req.key = aws::uri_decode(path.substr(slash + 1));
  const bool object = !req.key.empty();
  const std::string& m = req.method;
  if (req.bucket.empty()) req.operation = "ListBuckets";
  else if (!object) {
    if (m == "GET" && req.has_query("uploads")) req.operation = "ListMultipartUploads";
    else if (m == "PUT") req.operation = "CreateBucket";
    else if (m == "HEAD") req.operation = "HeadBucket";
    else req.operation = "Unsupported";
  } else if (m == "POST" && req.has_query("uploads")) req.operation = "CreateMultipartUpload";
  else if (m == "PUT" && req.has_query("uploadId")) req.operation = "UploadPart";
  else if (m == "GET" && req.has_query("uploadId")) req.operation = "ListParts";
  else if (m == "POST" && req.has_query("uploadId")) req.operation = "CompleteMultipartUpload";
  else if (m == "DELETE" && req.has_query("uploadId")) req.operation = "AbortMultipartUpload";
  else if (m == "PUT") req.operation = "PutObject";
  else if (m == "GET") req.operation = "GetObject";
  else if (m == "HEAD") req.operation = "HeadObject";
  else if (m == "DELETE") req.operation = "DeleteObject";
  else req.operation = "Unsupported";
  if (req.operation == "UploadPart") req.part_number = std::atoi(req.query_value("partNumber").c_str());
}

bool parse_head(const std::string& head, Request& req) {
  std::istringstream in(head);
  std::string line;
  if (!std::getline(in, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::istringstream first(line);
  std::string version;
  first >> req.method >> req.target >> version;
  if (req.method.empty() || req.target.empty() || req.target[0] != '/' || !version.starts_with("HTTP/1.")) return false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) return false;
    std::string value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    const auto e = value.find_last_not_of(" \t");
    value = b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
    req.headers.emplace_back(line.substr(0, colon), value);
  }
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) {
    req.raw_query = req.target.substr(q + 1);
    std::string_view rest = req.raw_query;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      std::string_view item = rest.substr(0, amp);
      const auto eq = item.find('=');
      req.query.emplace_back(aws::uri_decode(item.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : aws::uri_decode(item.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  classify(req);
  return true;
}

}  // namespace

void StrictS3Server::State::serve(int fd) {
  Conn conn(fd);
  std::unique_ptr<char[]> buffer(new char[k_chunk]);
  for (;;) {
    std::string head;
    if (!conn.read_head(head)) return;
    Request req;
    if (!parse_head(head, req)) {
      conn.write_all(serialize(req, error_response(400, "BadRequest", "malformed HTTP request"), false));
      return;
    }
    {
      std::lock_guard lock(mutex);
      ++stats.requests;
      if (req.operation == "UploadPart") ++stats.upload_part_requests;
    }
    const auto fault = take_fault(req);
    if (fault && fault->action == FaultAction::reset) {
      conn.reset();
      return;
    }

    // Body framing: Content-Length only (S3 refuses chunked bodies without aws-chunked).
    std::uint64_t length = 0;
    if (auto cl = req.header("Content-Length")) {
      length = std::strtoull(cl->c_str(), nullptr, 10);
    } else if (req.header("Transfer-Encoding")) {
      conn.write_all(serialize(req, reject(req, 411, "MissingContentLength", "You must provide the Content-Length HTTP header."), false));
      return;
    }

    // ---- authentication (before the body, as S3 does; then 100-continue) ----
    std::optional<Response> early;
    const std::string payload_hash = req.header("x-amz-content-sha256").value_or("");
    auto authz = req.header("Authorization");
    if (!authz) {
      early = reject(req, 403, "AccessDenied", "Anonymous access is not allowed (no Authorization header)");
    } else if (payload_hash.empty()) {
      early = reject(req, 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    } else if (payload_hash != "UNSIGNED-PAYLOAD" &&
               (payload_hash.size() != 64 || payload_hash.find_first_not_of("0123456789abcdef") != std::string::npos)) {
      early = reject(req, 400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256");
    } else {
      auto parsed = aws::parse_authorization(*authz);
      if (!parsed) {
        early = reject(req, 400, "AuthorizationHeaderMalformed", parsed.error().message);
      } else if (parsed->access_key_id != options.access_key_id) {
        early = reject(req, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
      } else if (parsed->service != "s3") {
        early = reject(req, 400, "AuthorizationHeaderMalformed", "the credential scope's service must be s3");
      } else {
        aws::SignableRequest signable{req.method, req.header("Host").value_or(""), req.target, req.headers, payload_hash};
        auto verified = aws::verify(signable, *parsed, options.secret_access_key, true);
        if (!verified) {
          early = reject(req, 403, "SignatureDoesNotMatch", verified.error().message);
        } else {
          auto when = aws::parse_amz_date(req.header("x-amz-date").value_or(""));
          const auto skew = when ? std::chrono::abs(std::chrono::system_clock::now() - *when)
                                 : std::chrono::system_clock::duration::max();
          if (skew > options.max_clock_skew) {
            early = reject(req, 403, "RequestTimeTooSkewed",
                           "The difference between the request time and the current time is too large.");
          }
        }
      }
    }
    if (early) {
      early->close = length > 0;  // the body was not read: the connection cannot be reused
      conn.write_all(serialize(req, *early, false));
      if (early->close) return;
      continue;
    }
    if (auto expect = req.header("Expect"); expect && lower(*expect) == "100-continue") {
      if (!conn.write_all("HTTP/1.1 100 Continue\r\n\r\n")) return;
    }

    // ---- the body, hashed as it streams in ----
    std::string expected_crc32c = req.header("x-amz-checksum-crc32c").value_or("");
    std::string expected_crc32 = req.header("x-amz-checksum-crc32").value_or("");
    std::string algorithm;
    bool keep_body = options.store_bodies || req.method == "POST";
    if (req.operation == "UploadPart") {
      std::lock_guard lock(mutex);
      auto it = uploads.find(req.query_value("uploadId"));
      if (it != uploads.end()) algorithm = it->second.algorithm;
    }
    Digest md5(EVP_md5());
    std::optional<Digest> sha;
    if (payload_hash != "UNSIGNED-PAYLOAD") sha.emplace(EVP_sha256());
    std::uint32_t crc32c = 0;
    uLong crc32 = ::crc32(0L, Z_NULL, 0);
    const bool want_crc32c = !expected_crc32c.empty() || algorithm == "CRC32C";
    const bool want_crc32 = !expected_crc32.empty() || algorithm == "CRC32";
    std::string body;
    if (keep_body) body.reserve(length);
    std::uint64_t got = 0;
    while (got < length) {
      const std::size_t n = conn.read_some(buffer.get(), static_cast<std::size_t>(std::min<std::uint64_t>(k_chunk, length - got)));
      if (n == 0) return;  // the client went away mid-body
      const std::string_view chunk(buffer.get(), n);
      md5.update(chunk);
      if (sha) sha->update(chunk);
      if (want_crc32c) crc32c = aws::crc32c(chunk, crc32c);
      if (want_crc32) crc32 = ::crc32(crc32, reinterpret_cast<const Bytef*>(chunk.data()), static_cast<uInt>(n));
      if (keep_body) body.append(chunk);
      got += n;
    }
    {
      std::lock_guard lock(mutex);
      stats.body_bytes += got;
    }
    const std::string md5_raw = md5.finish();

    if (fault && (fault->action == FaultAction::internal_error || fault->action == FaultAction::slow_down)) {
      Response r = fault->action == FaultAction::slow_down
                       ? error_response(503, "SlowDown", "Please reduce your request rate.")
                       : error_response(500, "InternalError", "We encountered an internal error. Please try again.");
      if (!conn.write_all(serialize(req, r, false))) return;
      continue;
    }
    if (fault && fault->action == FaultAction::delay) std::this_thread::sleep_for(fault->delay);

    // ---- integrity of the body ----
    std::optional<Response> bad;
    if (sha && aws::hex_encode(sha->finish()) != payload_hash) {
      bad = reject(req, 400, "XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
    } else if (auto content_md5 = req.header("Content-MD5")) {
      auto decoded = aws::base64_decode(*content_md5);
      if (!decoded || decoded->size() != 16) {
        bad = reject(req, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
      } else if (*decoded != md5_raw) {
        bad = reject(req, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
      }
    }
    const std::string got_crc32c = aws::crc32c_base64(crc32c);
    std::string got_crc32;
    {
      const auto c = static_cast<std::uint32_t>(crc32);
      const char be[4] = {static_cast<char>(c >> 24), static_cast<char>(c >> 16), static_cast<char>(c >> 8), static_cast<char>(c)};
      got_crc32 = aws::base64_encode(std::string_view(be, 4));
    }
    if (!bad && !expected_crc32c.empty() && expected_crc32c != got_crc32c) {
      bad = reject(req, 400, "BadDigest", "The CRC32C you specified did not match the calculated checksum.");
    }
    if (!bad && !expected_crc32.empty() && expected_crc32 != got_crc32) {
      bad = reject(req, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.");
    }
    if (!bad && req.operation == "UploadPart" && !algorithm.empty() &&
        (algorithm == "CRC32C" ? expected_crc32c.empty() : expected_crc32.empty())) {
      bad = reject(req, 400, "InvalidRequest",
                   fmt::format("Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: null",
                               lower(algorithm)));
    }

    Response response;
    if (bad) {
      response = *bad;
    } else {
      const std::string etag = aws::hex_encode(md5_raw);
      const std::string checksum = algorithm == "CRC32" ? got_crc32 : got_crc32c;
      std::lock_guard lock(mutex);
      const auto now = std::chrono::system_clock::now();
      const std::string object_key = req.bucket + "/" + req.key;
      if (req.operation == "CreateBucket" || req.operation == "HeadBucket") {
        response = Response{};
      } else if (req.operation == "CreateMultipartUpload") {
        std::string algo = req.header("x-amz-checksum-algorithm").value_or("");
        std::transform(algo.begin(), algo.end(), algo.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (!algo.empty() && algo != "CRC32C" && algo != "CRC32") {
          response = error_response(400, "InvalidRequest", "this test server supports the CRC32C and CRC32 checksums only");
        } else {
          const std::string id = fmt::format("strict-{:08x}-{}", static_cast<unsigned>(now.time_since_epoch().count() & 0xffffffff), next_id++);
          uploads[id] = Upload{req.bucket, req.key, algo, {}, now};
          response = xml_response(fmt::format(
              "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{}</Bucket>"
              "<Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
              xml_escape(req.bucket), xml_escape(req.key), id));
          if (!algo.empty()) response.headers.emplace_back("x-amz-checksum-algorithm", algo);
        }
      } else if (req.operation == "UploadPart") {
        auto it = uploads.find(req.query_value("uploadId"));
        if (it == uploads.end() || it->second.bucket != req.bucket || it->second.key != req.key) {
          response = error_response(404, "NoSuchUpload", "The specified upload does not exist.");
        } else if (req.part_number < 1 || req.part_number > 10000) {
          response = error_response(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
        } else {
          it->second.parts[req.part_number] = Part{got, etag, algorithm.empty() ? std::string() : checksum, std::move(body), now};
          ++stats.parts_accepted;
          ++stats.part_accepted_count[req.part_number];
          response.headers.emplace_back("ETag", "\"" + etag + "\"");
          if (algorithm == "CRC32C" || !expected_crc32c.empty()) response.headers.emplace_back("x-amz-checksum-crc32c", got_crc32c);
          if (algorithm == "CRC32" || !expected_crc32.empty()) response.headers.emplace_back("x-amz-checksum-crc32", got_crc32);
        }
      } else if (req.operation == "ListParts") {
        auto it = uploads.find(req.query_value("uploadId"));
        if (it == uploads.end() || it->second.bucket != req.bucket || it->second.key != req.key) {
          response = error_response(404, "NoSuchUpload", "The specified upload does not exist.");
        } else {
          int max_parts = req.has_query("max-parts") ? std::atoi(req.query_value("max-parts").c_str()) : 1000;
          if (max_parts <= 0 || max_parts > 1000) max_parts = 1000;
          const int marker = std::atoi(req.query_value("part-number-marker").c_str());
          std::string parts;
          int count = 0;
          int last = marker;
          bool truncated = false;
          for (auto p = it->second.parts.upper_bound(marker); p != it->second.parts.end(); ++p) {
            if (count == max_parts) {
              truncated = true;
              break;
            }
            std::string checksum_xml;
            if (it->second.algorithm == "CRC32C") checksum_xml = "<ChecksumCRC32C>" + p->second.checksum + "</ChecksumCRC32C>";
            if (it->second.algorithm == "CRC32") checksum_xml = "<ChecksumCRC32>" + p->second.checksum + "</ChecksumCRC32>";
            parts += fmt::format("<Part><PartNumber>{}</PartNumber><LastModified>{}</LastModified><ETag>&quot;{}&quot;</ETag>"
                                 "<Size>{}</Size>{}</Part>",
                                 p->first, iso_date(p->second.at), p->second.etag, p->second.size, checksum_xml);
            last = p->first;
            ++count;
          }
          response = xml_response(fmt::format(
              "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{}</Bucket><Key>{}</Key>"
              "<UploadId>{}</UploadId><PartNumberMarker>{}</PartNumberMarker><NextPartNumberMarker>{}</NextPartNumberMarker>"
              "<MaxParts>{}</MaxParts><IsTruncated>{}</IsTruncated>{}{}</ListPartsResult>",
              xml_escape(req.bucket), xml_escape(req.key), it->first, marker, last, max_parts, truncated ? "true" : "false",
              it->second.algorithm.empty() ? "" : "<ChecksumAlgorithm>" + it->second.algorithm + "</ChecksumAlgorithm>",
              parts));
        }
      } else if (req.operation == "CompleteMultipartUpload") {
        auto it = uploads.find(req.query_value("uploadId"));
        pugi::xml_document doc;
        if (it == uploads.end() || it->second.bucket != req.bucket || it->second.key != req.key) {
          response = error_response(404, "NoSuchUpload", "The specified upload does not exist.");
        } else if (!doc.load_buffer(body.data(), body.size()) || !doc.child("CompleteMultipartUpload")) {
          response = error_response(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
        } else {
          Upload& up = it->second;
          std::vector<const Part*> chosen;
          int previous = 0;
          std::optional<Response> problem;
          const char* checksum_element = up.algorithm == "CRC32C" ? "ChecksumCRC32C" : "ChecksumCRC32";
          auto items = doc.child("CompleteMultipartUpload").children("Part");
          const auto total = static_cast<std::size_t>(std::distance(items.begin(), items.end()));
          for (pugi::xml_node p : items) {
            const int number = p.child("PartNumber").text().as_int();
            std::string given = p.child_value("ETag");
            if (given.size() >= 2 && given.front() == '"' && given.back() == '"') given = given.substr(1, given.size() - 2);
            auto stored = up.parts.find(number);
            if (number <= previous) {
              problem = error_response(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
            } else if (stored == up.parts.end() || stored->second.etag != given) {
              problem = error_response(400, "InvalidPart", fmt::format("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag. (part {})", number));
            } else if (!up.algorithm.empty() && p.child_value(checksum_element) != stored->second.checksum) {
              problem = error_response(400, "InvalidPart", fmt::format("The {} of part {} does not match the part's checksum.", checksum_element, number));
            } else if (chosen.size() + 1 < total && stored->second.size < k_min_part) {
              problem = error_response(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
            }
            if (problem) break;
            previous = number;
            chosen.push_back(&stored->second);
          }
          if (!problem && chosen.empty()) problem = error_response(400, "MalformedXML", "no parts");
          if (problem) {
            ++stats.rejected;
            stats.rejections.push_back(fmt::format("{}: {}", req.operation, problem->body));
            response = *problem;
          } else {
            Object obj;
            std::string md5s;
            std::string crcs;
            for (const Part* p : chosen) {
              obj.size += p->size;
              std::string raw;
              for (std::size_t i = 0; i + 1 < p->etag.size(); i += 2) raw += static_cast<char>(std::stoi(p->etag.substr(i, 2), nullptr, 16));
              md5s += raw;
              crcs += aws::base64_decode(p->checksum).value_or("");
              if (options.store_bodies) obj.data += p->data;
            }
            obj.etag = fmt::format("{}-{}", aws::hex_encode(aws::md5_raw(md5s)), chosen.size());
            obj.algorithm = up.algorithm;
            if (up.algorithm == "CRC32C") obj.checksum = fmt::format("{}-{}", aws::crc32c_base64(aws::crc32c(crcs)), chosen.size());
            if (up.algorithm == "CRC32") {
              const auto c = static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(crcs.data()), static_cast<uInt>(crcs.size())));
              const char be[4] = {static_cast<char>(c >> 24), static_cast<char>(c >> 16), static_cast<char>(c >> 8), static_cast<char>(c)};
              obj.checksum = fmt::format("{}-{}", aws::base64_encode(std::string_view(be, 4)), chosen.size());
            }
            obj.at = now;
            std::string checksum_xml;
            if (!obj.algorithm.empty()) checksum_xml = fmt::format("<{0}>{1}</{0}>", checksum_element, obj.checksum);
            response = xml_response(fmt::format(
                "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>/{}/{}</Location>"
                "<Bucket>{}</Bucket><Key>{}</Key><ETag>&quot;{}&quot;</ETag>{}</CompleteMultipartUploadResult>",
                xml_escape(req.bucket), xml_escape(req.key), xml_escape(req.bucket), xml_escape(req.key), obj.etag, checksum_xml));
            objects[object_key] = std::move(obj);
            uploads.erase(it);
          }
        }
      } else if (req.operation == "AbortMultipartUpload") {
        auto it = uploads.find(req.query_value("uploadId"));
        if (it == uploads.end()) {
          response = error_response(404, "NoSuchUpload", "The specified upload does not exist.");
        } else {
          uploads.erase(it);
          response.status = 204;
        }
      } else if (req.operation == "ListMultipartUploads") {
        const std::string prefix = req.query_value("prefix");
        std::string items;
        for (const auto& [id, up] : uploads) {
          if (up.bucket != req.bucket || !up.key.starts_with(prefix)) continue;
          items += fmt::format("<Upload><Key>{}</Key><UploadId>{}</UploadId><Initiated>{}</Initiated>{}</Upload>",
                               xml_escape(up.key), id, iso_date(up.initiated),
                               up.algorithm.empty() ? "" : "<ChecksumAlgorithm>" + up.algorithm + "</ChecksumAlgorithm>");
        }
        response = xml_response(fmt::format(
            "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{}</Bucket>"
            "<Prefix>{}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>{}</ListMultipartUploadsResult>",
            xml_escape(req.bucket), xml_escape(prefix), items));
      } else if (req.operation == "PutObject") {
        Object obj;
        obj.size = got;
        obj.etag = etag;
        if (!expected_crc32c.empty()) {
          obj.algorithm = "CRC32C";
          obj.checksum = got_crc32c;
        }
        obj.data = std::move(body);
        obj.at = now;
        objects[object_key] = std::move(obj);
        response.headers.emplace_back("ETag", "\"" + etag + "\"");
        if (!expected_crc32c.empty()) response.headers.emplace_back("x-amz-checksum-crc32c", got_crc32c);
      } else if (req.operation == "HeadObject" || req.operation == "GetObject") {
        auto it = objects.find(object_key);
        if (it == objects.end()) {
          response = error_response(404, "NoSuchKey", "The specified key does not exist.");
        } else if (req.operation == "GetObject" && !options.store_bodies) {
          response = error_response(501, "NotImplemented", "this server discards bodies (started without store)");
        } else {
          const Object& obj = it->second;
          response.headers.emplace_back("ETag", "\"" + obj.etag + "\"");
          response.headers.emplace_back("Last-Modified", http_date(obj.at));
          response.headers.emplace_back("Content-Type", "application/octet-stream");
          response.headers.emplace_back("Content-Length", std::to_string(obj.size));
          if (lower(req.header("x-amz-checksum-mode").value_or("")) == "enabled") {
            if (obj.algorithm == "CRC32C") response.headers.emplace_back("x-amz-checksum-crc32c", obj.checksum);
            if (obj.algorithm == "CRC32") response.headers.emplace_back("x-amz-checksum-crc32", obj.checksum);
          }
          if (req.operation == "GetObject") response.body = obj.data;
        }
      } else if (req.operation == "DeleteObject") {
        objects.erase(object_key);
        response.status = 204;
      } else {
        response = error_response(501, "NotImplemented", fmt::format("{} {} is not implemented by this test server", req.method, req.path));
      }
    }

    const std::string wire = serialize(req, response, false);
    if (fault && fault->action == FaultAction::truncate) {
      // The request took effect, but the answer stops short of what its headers promise.
      conn.write_all("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nContent-Type: application/xml\r\n\r\n<?xml vers");
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    if (!conn.write_all(wire)) return;
  }
}

StrictS3Server::StrictS3Server(StrictS3Options options)
    : m_options(std::move(options)), m_state(std::make_shared<State>()) {
  m_state->options = m_options;
}

StrictS3Server::~StrictS3Server() { stop(); }

Expected<void> StrictS3Server::start() {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) return fail(ErrorKind::fatal, fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(m_options.port));
  ::inet_pton(AF_INET, m_options.bind_address.c_str(), &addr.sin_addr);
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listen_fd, 256) != 0) {
    const std::string why = std::strerror(errno);
    ::close(m_listen_fd);
    m_listen_fd = -1;
    return fail(ErrorKind::fatal, fmt::format("strict S3 server: cannot listen on {}:{}: {}", m_options.bind_address, m_options.port, why));
  }
  socklen_t len = sizeof addr;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
  return {};
}

void StrictS3Server::accept_loop() {
  for (;;) {
    const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (m_stopping) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
      std::lock_guard stats_lock(m_state->mutex);
      ++m_state->stats.connections;
    }
    std::lock_guard lock(m_state->connections_mutex);
    // Reap connections that ended, so a long benchmark does not pile up threads.
    for (auto it = m_state->connections.begin(); it != m_state->connections.end();) {
      if (it->done->load()) {
        it->thread.join();
        ::close(it->fd);
        it = m_state->connections.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto state = m_state;
    m_state->connections.push_back(State::Connection{fd, std::thread([state, fd, done] {
                                                       state->serve(fd);
                                                       ::shutdown(fd, SHUT_RDWR);
                                                       done->store(true);
                                                     }),
                                                     done});
  }
}

void StrictS3Server::stop() {
  if (m_listen_fd < 0) return;
  m_stopping = true;
  ::shutdown(m_listen_fd, SHUT_RDWR);
  if (m_acceptor.joinable()) m_acceptor.join();
  ::close(m_listen_fd);
  m_listen_fd = -1;
  std::lock_guard lock(m_state->connections_mutex);
  for (auto& c : m_state->connections) ::shutdown(c.fd, SHUT_RDWR);
  for (auto& c : m_state->connections) {
    c.thread.join();
    ::close(c.fd);
  }
  m_state->connections.clear();
}

std::string StrictS3Server::endpoint() const { return fmt::format("http://{}:{}", m_options.bind_address, m_port); }

void StrictS3Server::inject(FaultRule rule) {
  std::lock_guard lock(m_state->mutex);
  m_state->faults.push_back(std::move(rule));
}

void StrictS3Server::clear_faults() {
  std::lock_guard lock(m_state->mutex);
  m_state->faults.clear();
}

StrictS3Stats StrictS3Server::stats() {
  std::lock_guard lock(m_state->mutex);
  return m_state->stats;
}

std::optional<std::string> StrictS3Server::object(const std::string& bucket, const std::string& key) {
  std::lock_guard lock(m_state->mutex);
  auto it = m_state->objects.find(bucket + "/" + key);
  if (it == m_state->objects.end()) return std::nullopt;
  return it->second.data;
}

std::vector<std::string> StrictS3Server::upload_ids() {
  std::lock_guard lock(m_state->mutex);
  std::vector<std::string> out;
  for (const auto& [id, up] : m_state->uploads) out.push_back(id);
  return out;
}

void StrictS3Server::forget_upload(const std::string& upload_id) {
  std::lock_guard lock(m_state->mutex);
  m_state->uploads.erase(upload_id);
}

}  // namespace m2r::testing
