#include "fakes/fake_http_transport.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace m2r::aws {

std::optional<std::string> RecordedRequest::header(std::string_view name) const { return find_header(headers, name); }

std::string RecordedRequest::target() const {
  auto parts = parse_url(url);
  return parts ? parts->target : std::string{};
}

Expected<HttpResponse> parse_raw_response(std::string_view text) {
  HttpResponse response;
  std::string normalized;
  normalized.reserve(text.size());
  // Fixtures are edited by hand: accept LF or CRLF line ends in the head.
  size_t head_end = text.find("\n\n");
  size_t crlf_end = text.find("\r\n\r\n");
  size_t body_start;
  std::string_view head;
  if (crlf_end != std::string_view::npos && (head_end == std::string_view::npos || crlf_end < head_end)) {
    head = text.substr(0, crlf_end);
    body_start = crlf_end + 4;
  } else if (head_end != std::string_view::npos) {
    head = text.substr(0, head_end);
    body_start = head_end + 2;
  } else {
    head = text;
    body_start = text.size();
  }
  std::istringstream lines{std::string(head)};
  std::string line;
  if (!std::getline(lines, line) || !line.starts_with("HTTP/"))
    return fail(ErrorKind::invalid_input, "response fixture must start with a status line such as 'HTTP/1.1 200 OK'");
  auto space = line.find(' ');
  response.status = std::atoi(line.c_str() + space + 1);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    response.headers.emplace_back(line.substr(0, colon), value);
  }
  response.body = std::string(text.substr(body_start));
  return response;
}

Expected<HttpResponse> load_response_fixture(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::not_found, fmt::format("response fixture {} not found", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_raw_response(ss.str());
}

void FakeHttpTransport::push(Expected<HttpResponse> response) {
  std::lock_guard lock(m_mutex);
  m_queue.push_back(std::move(response));
}

void FakeHttpTransport::push(int status, std::string body, std::vector<Header> headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  push(Expected<HttpResponse>(std::move(r)));
}

Expected<void> FakeHttpTransport::push_fixture(const std::filesystem::path& path) {
  auto r = load_response_fixture(path);
  if (!r) return tl::unexpected(r.error());
  push(std::move(r));
  return {};
}

void FakeHttpTransport::set_handler(Handler handler) {
  std::lock_guard lock(m_mutex);
  m_handler = std::move(handler);
}

Expected<HttpResponse> FakeHttpTransport::send(const HttpRequest& request) {
  RecordedRequest recorded{request.method, request.url, request.headers, {}};
  if (request.body_reader) {
    recorded.body.resize(request.body_size);
    size_t got = 0;
    while (got < request.body_size) {
      size_t n = request.body_reader(recorded.body.data() + got, request.body_size - got);
      if (n == k_body_read_failed) return fail(ErrorKind::fatal, "the request body could not be read");
      if (n == 0) break;
      got += n;
    }
    recorded.body.resize(got);
  } else {
    recorded.body = std::string(request.payload());
  }
  Handler handler;
  std::optional<Expected<HttpResponse>> answer;
  {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(recorded);
    if (!m_queue.empty()) {
      answer = std::move(m_queue.front());
      m_queue.pop_front();
    } else {
      handler = m_handler;
    }
  }
  if (!answer) {
    if (!handler)
      return fail(ErrorKind::fatal, fmt::format("FakeHttpTransport has no response for {} {}", request.method, request.url));
    answer = handler(recorded);
  }
  if (*answer && request.response_sink && (*answer)->status / 100 == 2) {
    if (!request.response_sink((*answer)->body))
      return fail(ErrorKind::fatal, "the response consumer stopped the transfer");
    (*answer)->body.clear();
  }
  return std::move(*answer);
}

std::vector<RecordedRequest> FakeHttpTransport::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::size_t FakeHttpTransport::request_count() const {
  std::lock_guard lock(m_mutex);
  return m_requests.size();
}

}  // namespace m2r::aws
