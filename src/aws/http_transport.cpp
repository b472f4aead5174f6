#include "aws/http_transport.hpp"
#include "core/ascii_case.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include <curl/curl.h>
#include <fmt/format.h>

namespace m2r::aws {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request = nullptr;
  std::string_view body;  // when not streaming
  std::uint64_t sent = 0;
  HttpResponse response;
  bool sink_aborted = false;
  bool body_failed = false;
  bool cancelled = false;
};

int on_transfer_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->cancelled && t->request->cancelled()) {
    t->cancelled = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t room = size * count;
  if (t->request->body_reader) {
    const std::uint64_t left = t->request->body_size - t->sent;
    size_t n = t->request->body_reader(buffer, static_cast<size_t>(std::min<std::uint64_t>(room, left)));
    if (n == k_body_read_failed) {
      t->body_failed = true;
      return CURL_READFUNC_ABORT;
    }
    t->sent += n;
    return n;
  }
  const size_t n = static_cast<size_t>(std::min<std::uint64_t>(room, t->body.size() - t->sent));
  std::memcpy(buffer, t->body.data() + t->sent, n);
  t->sent += n;
  return n;
}

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->request->response_sink && t->response.status / 100 == 2) {
    if (!t->request->response_sink(std::string_view(data, n))) {
      t->sink_aborted = true;
      return 0;
    }
    return n;
  }
  t->response.body.append(data, n);
  return n;
}

size_t write_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new response (after "100 Continue" or a redirect): start over.
    t->response.headers.clear();
    auto space = line.find(' ');
    if (space != std::string_view::npos) t->response.status = std::atoi(std::string(line.substr(space + 1, 3)).c_str());
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  t->response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return n;
}

}  // namespace

std::uint64_t HttpRequest::content_length() const {
  if (body_reader) return body_size;
  return payload().size();
}

std::string_view HttpRequest::payload() const {
  if (body_reader) return {};
  if (body_view) return *body_view;
  return body;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

bool request_not_sent(const Error& error) { return error.message.starts_with(k_request_not_sent); }

std::optional<UrlParts> parse_url(std::string_view url) {
  UrlParts parts;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  parts.scheme = ascii_lower(url.substr(0, scheme_end));
  if (parts.scheme != "http" && parts.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view target = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  parts.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
  std::string_view host = authority;
  std::string_view port;
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  parts.host = std::string(host);
  const bool default_port = port.empty() || (parts.scheme == "http" && port == "80") ||
                            (parts.scheme == "https" && port == "443");
  parts.authority = default_port ? parts.host : parts.host + ":" + std::string(port);
  return parts;
}

struct CurlTransport::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;

  ~Pool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
  CURL* acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* handle, std::size_t max_idle) {
    // curl_easy_reset keeps the handle's live connections, so the next request reuses them.
    curl_easy_reset(handle);
    std::lock_guard lock(mutex);
    if (idle.size() < max_idle) {
      idle.push_back(handle);
      return;
    }
    curl_easy_cleanup(handle);
  }
};

CurlTransport::CurlTransport(TransportOptions options) : m_options(std::move(options)), m_pool(std::make_unique<Pool>()) {
  global_init();
}

CurlTransport::~CurlTransport() = default;

Expected<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  CURL* curl = m_pool->acquire();
  if (!curl) return fail(ErrorKind::fatal, "libcurl could not create a handle");
  struct Release {
    CurlTransport* self;
    CURL* handle;
    ~Release() { self->m_pool->release(handle, self->m_options.max_idle_connections); }
  } release{this, curl};

  Transfer transfer;
  transfer.request = &request;
  transfer.body = request.payload();

  curl_slist* header_list = nullptr;
  bool has_content_type = false;
  for (const auto& [k, v] : request.headers) {
    if (iequals(k, "content-length")) continue;  // curl sets it from the body size
    if (iequals(k, "content-type")) has_content_type = true;
    header_list = curl_slist_append(header_list, fmt::format("{}: {}", k, v).c_str());
  }
  // No "Expect: 100-continue" round trip, and no content type curl would invent.
  header_list = curl_slist_append(header_list, "Expect:");
  if (!has_content_type) header_list = curl_slist_append(header_list, "Content-Type:");
  struct FreeList {
    curl_slist* list;
    ~FreeList() { curl_slist_free_all(list); }
  } free_list{header_list};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, m_options.low_speed_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_options.low_speed_time.count()));
  if (m_options.total_timeout.count() > 0)
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, m_options.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, m_options.verify_tls ? 2L : 0L);
  if (!m_options.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, m_options.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);

  const bool has_body = request.body_reader || !request.payload().empty() || request.method == "PUT" ||
                        request.method == "POST";
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.content_length()));
    if (request.method != "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_transfer_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  }

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) return std::move(transfer.response);
  if (transfer.cancelled) {
    return fail(ErrorKind::interrupted, fmt::format("{} {}: cancelled in flight", request.method,
                                                    request.url.substr(0, request.url.find('?'))));
  }
  if (transfer.body_failed) {
    return fail(ErrorKind::fatal, fmt::format("{} {}: the request body could not be read",
                                              request.method, request.url.substr(0, request.url.find('?'))));
  }

  std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  // The URL without its query string: enough to locate the fault.
  std::string where = request.url.substr(0, request.url.find('?'));
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return fail(ErrorKind::retryable, fmt::format("{}could not connect to {}: {}", k_request_not_sent, where, detail),
                  "check the endpoint URL and that the service is reachable");
    case CURLE_OPERATION_TIMEDOUT:
      return fail(ErrorKind::timeout, fmt::format("{} {} timed out: {}", request.method, where, detail),
                  "check the network; a stalled transfer is aborted after the low-speed time");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return fail(ErrorKind::prerequisite, fmt::format("TLS verification of {} failed: {}", where, detail),
                  "point the CA bundle option at the certificate authority of this endpoint");
    case CURLE_SSL_CONNECT_ERROR:
      return fail(ErrorKind::retryable, fmt::format("{}TLS handshake with {} failed: {}", k_request_not_sent, where, detail));
    case CURLE_WRITE_ERROR:
      if (transfer.sink_aborted)
        return fail(ErrorKind::fatal, fmt::format("{} {}: the response consumer stopped the transfer", request.method, where));
      [[fallthrough]];
    default:
      return fail(ErrorKind::retryable, fmt::format("{} {} failed: {}", request.method, where, detail));
  }
}

}  // namespace m2r::aws
