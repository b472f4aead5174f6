#include "aws/aws_context.hpp"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "aws/sts_client.hpp"

namespace m2r::aws {

Expected<AwsContext> AwsContext::from_environment(AwsContextOptions options) {
  AwsContext ctx;
  EnvLookup env = options.env ? options.env : process_environment();
  ctx.clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  ctx.on_retry = options.on_retry;
  ctx.on_log = options.on_log;
  ctx.profile = active_profile(env, options.profile);
  SharedConfig config = SharedConfig::load(env);
  if (!options.http) {
    // The CA bundle for HTTPS, as the AWS CLI and SDKs take it: AWS_CA_BUNDLE, then the
    // profile's ca_bundle; otherwise the system store. Verification stays on either way.
    TransportOptions transport = options.transport;
    std::string from;
    if (auto v = env("AWS_CA_BUNDLE"); v && !v->empty()) {
      transport.ca_bundle = *v;
      from = "AWS_CA_BUNDLE";
    } else if (auto p = config.profile(ctx.profile)) {
      if (auto it = p->find("ca_bundle"); it != p->end() && !it->second.empty()) {
        transport.ca_bundle = it->second;
        from = fmt::format("ca_bundle of profile '{}'", ctx.profile);
      }
    }
    if (!transport.ca_bundle.empty()) {
      std::FILE* f = std::fopen(transport.ca_bundle.c_str(), "r");
      if (f == nullptr) {
        return fail(ErrorKind::invalid_input,
                    fmt::format("the CA bundle {} ({}) cannot be read", transport.ca_bundle, from),
                    "point it at a readable PEM file of CA certificates, or unset it to use the system's store");
      }
      std::fclose(f);
    }
    ctx.http = std::make_shared<CurlTransport>(transport);
  } else {
    ctx.http = options.http;
  }

  if (auto attempts = env("AWS_MAX_ATTEMPTS"); attempts && !attempts->empty()) {
    char* end = nullptr;
    long n = std::strtol(attempts->c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 100)
      return fail(ErrorKind::invalid_input, fmt::format("AWS_MAX_ATTEMPTS '{}' is not a number from 1 to 100", *attempts),
                  "set AWS_MAX_ATTEMPTS to a small positive number, e.g. 3");
    options.retry.max_attempts = static_cast<int>(n);
  }
  ctx.retry = std::make_shared<RetryPolicy>(options.retry, std::make_shared<RetryQuota>(options.retry.quota_capacity),
                                            ctx.clock);

  if (options.region && !options.region->empty()) {
    ctx.region = *options.region;
  } else {
    ctx.region = M2R_TRY(resolve_region(env, config, ctx.profile));
  }
  std::optional<std::string> profile_endpoint;
  if (auto p = config.profile(ctx.profile))
    if (auto it = p->find("endpoint_url"); it != p->end() && !it->second.empty()) profile_endpoint = it->second;
  ctx.endpoints = EndpointResolver(env, ctx.region, profile_endpoint);

  CredentialsDeps deps;
  deps.env = env;
  deps.clock = ctx.clock;
  deps.run_process = options.run_process;
  deps.imds_transport = options.imds_transport;
  // AssumeRole goes through our own STS client, with the source profile's credentials and
  // this context's region, endpoints, transport and retry policy.
  AwsContext base = ctx;
  deps.assume_role = [base](std::shared_ptr<CredentialsProvider> source, const std::string& role_arn,
                            const std::string& session_name, const std::string& external_id) -> Expected<Credentials> {
    AwsContext sts_ctx = base;
    sts_ctx.credentials = std::move(source);
    return StsClient(sts_ctx).assume_role({role_arn, session_name, external_id, 0});
  };
  ctx.credentials = M2R_TRY(resolve_credentials(deps, options.profile));
  return ctx;
}

std::string AwsContext::describe() const {
  std::string endpoints_text = "AWS";
  if (endpoints.is_custom(Service::s3) || endpoints.is_custom(Service::dms) || endpoints.is_custom(Service::rds))
    endpoints_text = fmt::format("s3 {}, rds {}, dms {}", endpoints.endpoint(Service::s3), endpoints.endpoint(Service::rds),
                                 endpoints.endpoint(Service::dms));
  return fmt::format("{}, region {}, endpoints: {}", credentials ? credentials->source() : std::string("no credentials"),
                     region, endpoints_text);
}

AwsContext AwsContext::for_endpoint(Credentials credentials, std::string region, std::string endpoint_url,
                                    std::shared_ptr<HttpTransport> http, std::shared_ptr<Clock> clock, RetryOptions retry) {
  AwsContext ctx;
  ctx.clock = clock ? std::move(clock) : std::make_shared<SystemClock>();
  ctx.http = http ? std::move(http) : std::make_shared<CurlTransport>();
  ctx.retry = std::make_shared<RetryPolicy>(retry, std::make_shared<RetryQuota>(retry.quota_capacity), ctx.clock);
  ctx.credentials = std::make_shared<StaticCredentialsProvider>(std::move(credentials));
  ctx.region = region;
  ctx.endpoints = EndpointResolver(map_environment({{"AWS_ENDPOINT_URL", endpoint_url}}), std::move(region));
  ctx.profile = "(explicit)";
  return ctx;
}

}  // namespace m2r::aws
