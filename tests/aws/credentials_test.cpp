// The credentials chain, region and endpoint resolution with a temporary HOME.
#include "aws/credentials.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "aws/aws_context.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_transport.hpp"
#include "support/temp_dir.hpp"

namespace m2r::aws {
namespace {

using m2r::test::TempDir;
using namespace std::chrono_literals;

struct Chain {
  TempDir home;
  std::map<std::string, std::string> env;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>(*parse_amz_date("20261125T100000Z"));
  std::vector<std::vector<std::string>> process_calls;
  std::string process_output;
  std::shared_ptr<FakeHttpTransport> imds = std::make_shared<FakeHttpTransport>();

  Chain() { env = {{"HOME", home.str()}}; }

  CredentialsDeps deps() {
    CredentialsDeps d;
    d.env = map_environment(env);
    d.clock = clock;
    d.run_process = [this](const std::vector<std::string>& argv) -> Expected<std::string> {
      process_calls.push_back(argv);
      return process_output;
    };
    d.assume_role = [](std::shared_ptr<CredentialsProvider> source, const std::string& role, const std::string& session,
                       const std::string& external_id) -> Expected<Credentials> {
      auto base = source->credentials();
      if (!base) return tl::unexpected(base.error());
      return Credentials{"ASIA" + base->access_key_id, "assumed-secret", "token-for-" + role + "/" + session + "/" + external_id,
                         std::chrono::system_clock::time_point{} + 1h, ""};
    };
    d.imds_transport = imds;
    return d;
  }

  Expected<Credentials> resolve(const std::optional<std::string>& profile = {}) {
    auto provider = resolve_credentials(deps(), profile);
    if (!provider) return tl::unexpected(provider.error());
    return (*provider)->credentials();
  }
};

TEST(CredentialsTest, EnvironmentWinsOverProfile) {
  // Given keys in the environment and a default profile, the environment's keys should be used.
  Chain c;
  c.home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s1\n");
  c.env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  c.env["AWS_SECRET_ACCESS_KEY"] = "s2";
  c.env["AWS_SESSION_TOKEN"] = "tok";
  auto creds = c.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDENV");
  EXPECT_EQ(creds->session_token, "tok");
  EXPECT_NE(creds->source.find("environment"), std::string::npos);
}

TEST(CredentialsTest, ExplicitProfileSkipsEnvironment) {
  // Given keys in the environment and --profile, the profile's keys should be used (as the SDKs do).
  Chain c;
  c.home.write(".aws/credentials", "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s1\n");
  c.env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  c.env["AWS_SECRET_ACCESS_KEY"] = "s2";
  auto creds = c.resolve("prod");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDPROD");
  EXPECT_EQ(creds->source, fmt::format("profile 'prod' ({}/.aws/credentials)", c.home.str()));
}

TEST(CredentialsTest, AwsProfileSelectsAndConfigSectionsUseProfilePrefix) {
  // Given AWS_PROFILE=dev with keys in [profile dev] of the config file, those keys should be used.
  Chain c;
  c.home.write(".aws/config", "[default]\nregion = eu-west-1\n\n[profile dev]\naws_access_key_id = AKIDDEV\n"
                              "aws_secret_access_key = s3  # inline comment\nregion = eu-central-1\n");
  c.env["AWS_PROFILE"] = "dev";
  auto creds = c.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDDEV");
  EXPECT_EQ(creds->secret_access_key, "s3");
}

TEST(CredentialsTest, FileLocationsFollowEnvironmentVariables) {
  // Given AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, those files should be read instead of ~/.aws.
  Chain c;
  c.home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = x\n");
  const std::string creds_file = c.home.write("elsewhere/creds", "[default]\naws_access_key_id = AKIDELSEWHERE\naws_secret_access_key = y\n");
  c.env["AWS_SHARED_CREDENTIALS_FILE"] = creds_file;
  c.env["AWS_CONFIG_FILE"] = c.home.write("elsewhere/config", "[default]\nregion = ap-south-1\n");
  auto creds = c.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDELSEWHERE");
  auto region = resolve_region(map_environment(c.env), SharedConfig::load(map_environment(c.env)), "default");
  EXPECT_EQ(region, "ap-south-1");
}

TEST(CredentialsTest, MissingNamedProfileNamesItAndTheFix) {
  // Given AWS_PROFILE naming an absent profile, the error should name it, both files, and how to add it.
  Chain c;
  c.env["AWS_PROFILE"] = "ghost";
  auto creds = c.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().kind, ErrorKind::auth);
  EXPECT_NE(creds.error().message.find("'ghost'"), std::string::npos);
  EXPECT_NE(creds.error().message.find(c.home.str() + "/.aws/credentials"), std::string::npos);
  EXPECT_NE(creds.error().hint.find("[ghost]"), std::string::npos);
}

TEST(CredentialsTest, ProfileWithHalfAKeyIsRefusedWithoutTheSecret) {
  // Given a profile with a secret but no key id, the error should say what is missing and never print the secret.
  Chain c;
  c.home.write(".aws/credentials", "[half]\naws_secret_access_key = TOPSECRETVALUE\n");
  auto creds = c.resolve("half");
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().message.find("aws_access_key_id"), std::string::npos) << creds.error().message;
  EXPECT_EQ(creds.error().message.find("TOPSECRETVALUE"), std::string::npos);
  EXPECT_EQ(creds.error().hint.find("TOPSECRETVALUE"), std::string::npos);
}

TEST(CredentialsTest, OnlyOneEnvironmentKeyIsAnError) {
  // Given AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY, we should refuse rather than silently fall through.
  Chain c;
  c.env["AWS_ACCESS_KEY_ID"] = "AKID";
  auto creds = c.resolve();
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().message.find("only one of"), std::string::npos);
}

TEST(CredentialsTest, CredentialProcessIsSplitWithoutAShell) {
  // Given credential_process with quotes, the runner should get literal argv words (no shell), and its JSON parsed.
  Chain c;
  c.home.write(".aws/config",
               "[profile proc]\ncredential_process = /opt/bin/get-creds --role \"my role\" '$(rm -rf /)' a\\ b\n");
  c.process_output = R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "sp", "SessionToken": "st",
                         "Expiration": "2026-11-25T11:00:00Z"})";
  auto creds = c.resolve("proc");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKIDPROC");
  EXPECT_EQ(creds->expiration, parse_iso8601("2026-11-25T11:00:00Z"));
  ASSERT_EQ(c.process_calls.size(), 1u);
  EXPECT_EQ(c.process_calls[0],
            (std::vector<std::string>{"/opt/bin/get-creds", "--role", "my role", "$(rm -rf /)", "a b"}));
}

TEST(CredentialsTest, RealProcessRunnerPassesArgumentsLiterally) {
  // Given a script run by the default runner with a would-be injection argument, no shell should interpret it.
  TempDir dir;
  const std::string marker = dir.str() + "/pwned";
  const std::string script = dir.write("echo-args.sh", "#!/bin/sh\nprintf '%s|' \"$@\"\n", true);
  auto run = default_process_runner(10s);
  auto out = run({script, "$(touch " + marker + ")", "a;b"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "$(touch " + marker + ")|a;b|");
  EXPECT_FALSE(std::filesystem::exists(marker));
  auto failing = run({"/bin/sh", "-c", "echo oops >&2; exit 4"});
  ASSERT_FALSE(failing);
  EXPECT_NE(failing.error().message.find("exit status 4"), std::string::npos);
  EXPECT_NE(failing.error().message.find("oops"), std::string::npos);
  auto missing = run({dir.str() + "/no-such-program"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::prerequisite);
}

TEST(CredentialsTest, ProcessOutputIsValidated) {
  // Given malformed credential_process output, parsing should fail with a hint on the expected JSON.
  EXPECT_FALSE(parse_process_credentials("not json", "p"));
  EXPECT_FALSE(parse_process_credentials(R"({"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "b"})", "p"));
  EXPECT_FALSE(parse_process_credentials(R"({"Version": 1, "AccessKeyId": "a"})", "p"));
  EXPECT_FALSE(parse_process_credentials(R"({"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "Expiration": "soon"})", "p"));
  auto ok = parse_process_credentials(R"({"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b"})", "p");
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->expiration);
  EXPECT_FALSE(split_command_line("unterminated 'quote"));
  EXPECT_FALSE(split_command_line("   "));
}

TEST(CredentialsTest, TemporaryCredentialsRefreshBeforeExpiry) {
  // Given credential_process credentials valid for an hour, they should be reused until 5 minutes before
  // expiry and fetched again after that.
  Chain c;
  c.home.write(".aws/config", "[profile proc]\ncredential_process = get-creds\n");
  c.process_output = R"({"Version": 1, "AccessKeyId": "AKID1", "SecretAccessKey": "s", "Expiration": "2026-11-25T11:00:00Z"})";
  auto provider = resolve_credentials(c.deps(), std::string("proc"));
  ASSERT_TRUE(provider);
  ASSERT_TRUE((*provider)->credentials());
  c.clock->advance(50min);  // 10:50, 10 minutes left
  ASSERT_TRUE((*provider)->credentials());
  EXPECT_EQ(c.process_calls.size(), 1u);
  c.process_output = R"({"Version": 1, "AccessKeyId": "AKID2", "SecretAccessKey": "s", "Expiration": "2026-11-25T12:00:00Z"})";
  c.clock->advance(6min);  // 10:56, inside the 5 minute window
  auto refreshed = (*provider)->credentials();
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(refreshed->access_key_id, "AKID2");
  EXPECT_EQ(c.process_calls.size(), 2u);
}

TEST(CredentialsTest, FailedRefreshKeepsStillValidCredentials) {
  // Given a refresh that fails while the cached credentials have not yet expired, the cached ones should be used;
  // once they have expired, the failure should surface.
  auto clock = std::make_shared<FakeClock>(*parse_amz_date("20261125T100000Z"));
  int calls = 0;
  RefreshingCredentialsProvider provider(
      [&]() -> Expected<Credentials> {
        if (++calls > 1) return fail(ErrorKind::auth, "sts down");
        return Credentials{"A", "s", "t", clock->now() + 10min, ""};
      },
      clock, "test");
  ASSERT_TRUE(provider.credentials());
  clock->advance(7min);
  auto still = provider.credentials();
  ASSERT_TRUE(still);
  EXPECT_EQ(still->access_key_id, "A");
  clock->advance(5min);
  EXPECT_FALSE(provider.credentials());
  EXPECT_EQ(provider.fetch_count(), 3);
}

TEST(CredentialsTest, RoleArnWithSourceProfileAssumesTheRole) {
  // Given role_arn + source_profile, the assume-role function should get the source keys, role, session and external id.
  Chain c;
  c.home.write(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = sb\n");
  c.home.write(".aws/config", "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nsource_profile = base\n"
                              "role_session_name = m2r\nexternal_id = ext-1\n");
  auto creds = c.resolve("deploy");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAAKIDBASE");
  EXPECT_EQ(creds->session_token, "token-for-arn:aws:iam::123456789012:role/Deploy/m2r/ext-1");
  EXPECT_NE(creds->source.find("role arn:aws:iam::123456789012:role/Deploy"), std::string::npos) << creds->source;
}

TEST(CredentialsTest, RoleArnWithoutSourceIsExplained) {
  // Given role_arn without source_profile or credential_source, the error should tell what to add, and where.
  Chain c;
  c.home.write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/x\n");
  auto creds = c.resolve("r");
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(creds.error().hint.find("source_profile"), std::string::npos);
  c.home.write(".aws/config", "[profile loop]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = loop2\n"
                              "[profile loop2]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = loop\n");
  auto looped = c.resolve("loop");
  ASSERT_FALSE(looped);
  EXPECT_NE(looped.error().message.find("circular"), std::string::npos);
}

TEST(CredentialsTest, InstanceMetadataUsesImdsV2Token) {
  // Given no env and no profile, the chain should PUT for a token, then GET the role and its credentials with it,
  // at the endpoint from AWS_EC2_METADATA_SERVICE_ENDPOINT.
  Chain c;
  c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:8111/";
  c.imds->push(200, "TOKEN123");
  c.imds->push(200, "migration-role\n");
  c.imds->push(200, R"({"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"si","Token":"ti",
                        "Expiration":"2026-11-25T16:00:00Z"})");
  auto creds = c.resolve();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAIMDS");
  EXPECT_EQ(creds->session_token, "ti");
  auto requests = c.imds->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://127.0.0.1:8111/latest/api/token");
  EXPECT_EQ(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[2].url, "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/migration-role");
  EXPECT_EQ(requests[2].header("X-aws-ec2-metadata-token"), "TOKEN123");
}

TEST(CredentialsTest, NoCredentialsAnywhereListsWhereItLooked) {
  // Given nothing configured and instance metadata disabled, the error should list the places and the fixes.
  Chain c;
  c.env["AWS_EC2_METADATA_DISABLED"] = "true";
  auto creds = c.resolve();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().kind, ErrorKind::auth);
  EXPECT_NE(creds.error().message.find("no AWS credentials found"), std::string::npos);
  EXPECT_NE(creds.error().hint.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(c.imds->request_count(), 0u);
  // And with metadata enabled but unreachable, the metadata failure is part of the message.
  Chain d;
  d.imds->push(fail(ErrorKind::retryable, std::string(k_request_not_sent) + "could not connect"));
  auto again = d.resolve();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("instance metadata"), std::string::npos) << again.error().message;
}

TEST(CredentialsTest, RegionResolutionOrder) {
  // Given AWS_REGION, AWS_DEFAULT_REGION and a profile region, they should win in that order; none is an error.
  TempDir home;
  home.write(".aws/config", "[profile p]\nregion = eu-north-1\n");
  std::map<std::string, std::string> env{{"HOME", home.str()}};
  auto config = SharedConfig::load(map_environment(env));
  EXPECT_EQ(resolve_region(map_environment(env), config, "p"), "eu-north-1");
  env["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(resolve_region(map_environment(env), config, "p"), "us-west-2");
  env["AWS_REGION"] = "ca-central-1";
  EXPECT_EQ(resolve_region(map_environment(env), config, "p"), "ca-central-1");
  auto none = resolve_region(map_environment({{"HOME", home.str()}}), config, "other");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().hint.find("AWS_REGION"), std::string::npos);
}

TEST(CredentialsTest, EndpointsFromServiceVariablesThenGlobalThenAws) {
  // Given AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL, the service variable should win, then the global one,
  // and without either the AWS endpoint of the region (IAM global, signed for us-east-1).
  EndpointResolver aws_only(map_environment({}), "eu-west-1");
  EXPECT_EQ(aws_only.endpoint(Service::s3), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws_only.endpoint(Service::dms), "https://dms.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws_only.endpoint(Service::cloudwatch), "https://monitoring.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws_only.endpoint(Service::iam), "https://iam.amazonaws.com");
  EXPECT_EQ(aws_only.signing_region(Service::iam), "us-east-1");
  EXPECT_FALSE(aws_only.is_custom(Service::s3));

  EndpointResolver custom(map_environment({{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000/"},
                                           {"AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE", "http://127.0.0.1:7000"},
                                           {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"}}),
                          "us-east-1");
  EXPECT_EQ(custom.endpoint(Service::dms), "http://127.0.0.1:7000");
  EXPECT_EQ(custom.endpoint(Service::s3), "http://127.0.0.1:9000");
  EXPECT_EQ(custom.endpoint(Service::rds), "http://127.0.0.1:5000");
  EXPECT_TRUE(custom.is_custom(Service::sts));
  EXPECT_STREQ(service_info(Service::cloudwatch).signing_name, "monitoring");
}

TEST(CredentialsTest, ContextFromEnvironmentCombinesEverything) {
  // Given a profile with region and endpoint_url, and AWS_MAX_ATTEMPTS, the context should carry all of them.
  TempDir home;
  home.write(".aws/credentials", "[m]\naws_access_key_id = AKIDM\naws_secret_access_key = sm\n");
  home.write(".aws/config", "[profile m]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:4566\n");
  AwsContextOptions options;
  options.env = map_environment({{"HOME", home.str()}, {"AWS_PROFILE", "m"}, {"AWS_MAX_ATTEMPTS", "5"}});
  options.http = std::make_shared<FakeHttpTransport>();
  auto ctx = AwsContext::from_environment(options);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(ctx->region, "eu-west-3");
  EXPECT_EQ(ctx->profile, "m");
  EXPECT_EQ(ctx->endpoints.endpoint(Service::rds), "http://127.0.0.1:4566");
  EXPECT_EQ(ctx->retry->options().max_attempts, 5);
  EXPECT_EQ(ctx->credentials->credentials()->access_key_id, "AKIDM");
  EXPECT_EQ(ctx->describe(), fmt::format("profile 'm' ({}/.aws/credentials), region eu-west-3, endpoints: s3 "
                                         "http://127.0.0.1:4566, rds http://127.0.0.1:4566, dms http://127.0.0.1:4566",
                                         home.str()));
  options.env = map_environment({{"HOME", home.str()}, {"AWS_PROFILE", "m"}, {"AWS_MAX_ATTEMPTS", "many"}});
  EXPECT_FALSE(AwsContext::from_environment(options));
}

TEST(CredentialsTest, Iso8601Parsing) {
  // Given the timestamp forms AWS uses, parsing should agree on the instant.
  auto z = parse_iso8601("2026-11-25T10:00:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(parse_iso8601("2026-11-25T10:00:00.123Z"), z);
  EXPECT_EQ(parse_iso8601("2026-11-25T11:00:00+01:00"), z);
  EXPECT_EQ(*z, *parse_amz_date("20261125T100000Z"));
  EXPECT_FALSE(parse_iso8601("2026-11-25"));
  EXPECT_FALSE(parse_iso8601("2026-11-25T10:00:00Zjunk"));
}

}  // namespace
}  // namespace m2r::aws
