#pragma once
// Where credentials, region and endpoints come from, in the AWS SDKs' standard order
// (AWS SDKs and Tools reference, "Standardized credential providers"):
//   1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
//   2. the profile (AWS_PROFILE, else "default") of ~/.aws/credentials and ~/.aws/config
//      (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): static keys, credential_process,
//      role_arn + source_profile (STS AssumeRole)
//   3. EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true
// An explicitly chosen profile (--profile) skips step 1, as the SDKs do.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "aws/http_transport.hpp"
#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace m2r::aws {

// Environment lookup, injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();
EnvLookup map_environment(std::map<std::string, std::string> values);

// ---- shared config files ----
using IniSection = std::map<std::string, std::string>;
struct IniFile {
  std::map<std::string, IniSection> sections;  // section name as written between [ ]
};
IniFile parse_ini(std::string_view text);

struct SharedConfig {
  std::string credentials_path;  // resolved paths, for messages
  std::string config_path;
  IniFile credentials;
  IniFile config;

  static SharedConfig load(const EnvLookup& env);
  // The merged settings of a profile ([name] in credentials wins over [profile name] /
  // [default] in config); nullopt when neither file has it.
  std::optional<IniSection> profile(const std::string& name) const;
};

std::string home_directory(const EnvLookup& env);

// ---- providers ----
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials, refreshed when temporary ones are about to expire.
  virtual Expected<Credentials> credentials() = 0;
  // For messages: "environment variables", "profile 'prod' (/home/u/.aws/credentials)", ...
  virtual std::string source() const = 0;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials creds) : m_creds(std::move(creds)) {}
  Expected<Credentials> credentials() override { return m_creds; }
  std::string source() const override { return m_creds.source; }

 private:
  Credentials m_creds;
};

// Caches temporary credentials and fetches new ones `refresh_before` their expiry
// (aws-sdk-cpp refreshes STS credentials 5 minutes early). If a refresh fails while the
// cached credentials are still valid, they stay in use.
class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  using Fetch = std::function<Expected<Credentials>()>;
  static constexpr std::chrono::minutes k_default_refresh_before{5};

  RefreshingCredentialsProvider(Fetch fetch, std::shared_ptr<Clock> clock, std::string source,
                                std::chrono::seconds refresh_before = k_default_refresh_before);
  Expected<Credentials> credentials() override;
  std::string source() const override { return m_source; }
  int fetch_count() const;

 private:
  Fetch m_fetch;
  std::shared_ptr<Clock> m_clock;
  std::string m_source;
  std::chrono::seconds m_refresh_before;
  mutable std::mutex m_mutex;
  std::optional<Credentials> m_cached;
  int m_fetches = 0;
};

// Runs a program without a shell and returns its standard output. argv[0] is looked up
// on PATH. Injectable for tests.
using ProcessRunner = std::function<Expected<std::string>(const std::vector<std::string>& argv)>;
ProcessRunner default_process_runner(std::chrono::seconds timeout = std::chrono::seconds(60));

// Splits a credential_process command line like a POSIX shell's word splitting with quotes
// and backslashes, but without any expansion: no variables, globs, pipes or redirections.
Expected<std::vector<std::string>> split_command_line(std::string_view command);

// Parses credential_process output (JSON, "Version": 1).
Expected<Credentials> parse_process_credentials(std::string_view output, const std::string& source);

// STS AssumeRole with the given source credentials; wired to StsClient by AwsContext.
using AssumeRoleFn = std::function<Expected<Credentials>(std::shared_ptr<CredentialsProvider> source,
                                                         const std::string& role_arn,
                                                         const std::string& session_name,
                                                         const std::string& external_id)>;

struct CredentialsDeps {
  EnvLookup env;
  std::shared_ptr<Clock> clock;
  ProcessRunner run_process;               // default_process_runner() when empty
  AssumeRoleFn assume_role;                // required for role_arn profiles
  std::shared_ptr<HttpTransport> imds_transport;  // a CurlTransport with 1 s timeouts when empty
};

// The first source of the standard order that is configured. Errors name the profile,
// the files looked at and the fix.
Expected<std::shared_ptr<CredentialsProvider>> resolve_credentials(const CredentialsDeps& deps,
                                                                   const std::optional<std::string>& explicit_profile = {});

// The profile in effect: explicit, else AWS_PROFILE, else "default".
std::string active_profile(const EnvLookup& env, const std::optional<std::string>& explicit_profile = {});

// IMDSv2: PUT /latest/api/token, then GET the role's credentials.
// Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254.
Expected<Credentials> fetch_imds_credentials(HttpTransport& transport, const std::string& endpoint);

// ---- region and endpoints ----
// AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`.
Expected<std::string> resolve_region(const EnvLookup& env, const SharedConfig& config, const std::string& profile);

enum class Service { s3, rds, dms, sts, cloudwatch, iam };

struct ServiceInfo {
  Service id;
  const char* signing_name;     // SigV4 service: "s3", "rds", "dms", "sts", "monitoring", "iam"
  const char* endpoint_prefix;  // host prefix of the AWS endpoint
  const char* env_suffix;       // AWS_ENDPOINT_URL_<suffix>: the model's serviceId, upper case, spaces -> _
  const char* config_key;       // key in a config file `services` section
};
const ServiceInfo& service_info(Service service);

// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the profile's endpoint_url,
// then https://<prefix>.<region>.amazonaws.com (IAM: the global https://iam.amazonaws.com).
class EndpointResolver {
 public:
  EndpointResolver() = default;
  EndpointResolver(EnvLookup env, std::string region, std::optional<std::string> profile_endpoint = {});
  std::string endpoint(Service service) const;
  // True when the endpoint was configured (not AWS's): S3 then uses path-style addressing.
  bool is_custom(Service service) const;
  // The region to sign with (IAM is signed for us-east-1).
  std::string signing_region(Service service) const;
  const std::string& region() const { return m_region; }

 private:
  std::optional<std::string> configured(Service service) const;
  EnvLookup m_env;
  std::string m_region;
  std::optional<std::string> m_profile_endpoint;
};

// "2026-11-25T10:00:00Z" (fractions and +hh:mm offsets accepted).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace m2r::aws
