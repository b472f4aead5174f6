#pragma once
// A hand-written fake HttpTransport for tests: records every request (body included) and
// answers from a queue of canned responses, a handler, or fixture files.
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>

#include "aws/http_transport.hpp"

namespace m2r::aws {

struct RecordedRequest {
  std::string method;
  std::string url;
  std::vector<Header> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const;
  std::string target() const;  // path + query of url
};

// A fixture is a raw HTTP response as `curl -i` prints it:
//   HTTP/1.1 503 Slow Down
//   Content-Type: application/xml
//
//   <Error><Code>SlowDown</Code>...</Error>
Expected<HttpResponse> load_response_fixture(const std::filesystem::path& path);
Expected<HttpResponse> parse_raw_response(std::string_view text);

class FakeHttpTransport final : public HttpTransport {
 public:
  using Handler = std::function<Expected<HttpResponse>(const RecordedRequest&)>;

  // Responses are played in order; once the queue is empty the handler answers (if set),
  // else the fake fails the test-visible way: a fatal error naming the request.
  void push(Expected<HttpResponse> response);
  void push(int status, std::string body, std::vector<Header> headers = {});
  Expected<void> push_fixture(const std::filesystem::path& path);
  void set_handler(Handler handler);

  Expected<HttpResponse> send(const HttpRequest& request) override;

  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;

 private:
  mutable std::mutex m_mutex;
  std::deque<Expected<HttpResponse>> m_queue;
  Handler m_handler;
  std::vector<RecordedRequest> m_requests;
};

}  // namespace m2r::aws
