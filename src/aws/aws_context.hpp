#pragma once
// Everything a client of an AWS service needs, resolved once from the environment:
// credentials provider, region, endpoints, HTTP transport, retry policy, clock and the
// event sinks. Build it with AwsContext::from_environment(); tests assemble one from fakes.
//
//   auto aws = M2R_TRY(m2r::aws::AwsContext::from_environment({.profile = cli.profile}));
//   m2r::aws::S3Client s3(aws);
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"
#include "aws/http_transport.hpp"
#include "aws/retry.hpp"

namespace m2r::aws {

// One line per request ("s3 UploadPart -> HTTP 200 in 12 ms (attempt 1)"); never a secret.
using LogListener = std::function<void(std::string_view line)>;

struct AwsContextOptions {
  std::optional<std::string> profile;  // --profile; skips the environment keys as the SDKs do
  std::optional<std::string> region;   // --region; wins over AWS_REGION and the profile
  TransportOptions transport;
  RetryOptions retry;                  // max_attempts also from AWS_MAX_ATTEMPTS
  EnvLookup env;                       // process environment when empty
  std::shared_ptr<Clock> clock;        // SystemClock when empty
  std::shared_ptr<HttpTransport> http;           // CurlTransport(transport) when empty
  std::shared_ptr<HttpTransport> imds_transport;  // see CredentialsDeps
  ProcessRunner run_process;           // see CredentialsDeps
  RetryListener on_retry;
  LogListener on_log;
};

// Copyable (shared pieces); every part is thread-safe, so one context and the clients built
// from it may serve all upload threads at once.
struct AwsContext {
  std::shared_ptr<CredentialsProvider> credentials;
  std::string region;
  std::string profile;  // the profile in effect, for messages
  EndpointResolver endpoints;
  std::shared_ptr<HttpTransport> http;
  std::shared_ptr<RetryPolicy> retry;
  std::shared_ptr<Clock> clock;
  RetryListener on_retry;
  LogListener on_log;

  static Expected<AwsContext> from_environment(AwsContextOptions options = {});

  // "profile 'prod' (/home/u/.aws/credentials), region eu-west-1, endpoints: AWS" — for a
  // status line or a log; never contains a secret.
  std::string describe() const;

  // A context for tests and tools: static credentials, the given endpoint for every
  // service, the given transport (CurlTransport when null).
  static AwsContext for_endpoint(Credentials credentials, std::string region, std::string endpoint_url,
                                 std::shared_ptr<HttpTransport> http = nullptr, std::shared_ptr<Clock> clock = nullptr,
                                 RetryOptions retry = {});
};

}  // namespace m2r::aws
