// The AWS adapters against moto with SigV4 enforced (docs/facts.md "Checked recipe").
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "aws/aws_client.hpp"
#include "aws/aws_context.hpp"
#include "aws/checksums.hpp"
#include "aws/cloudwatch_client.hpp"
#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "aws/s3_client.hpp"
#include "aws/sts_client.hpp"
#include "support/moto_server.hpp"
#include "support/temp_dir.hpp"

namespace m2r::aws {
namespace {

using m2r::test::MotoServer;
using m2r::test::TempDir;

class AwsAgainstMotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto moto = MotoServer::start();
    if (!moto) {
      s_start_error = moto.error().message + " — " + moto.error().hint;
      return;
    }
    s_moto = std::move(*moto);
  }
  static void TearDownTestSuite() { s_moto.reset(); }

  void SetUp() override { ASSERT_TRUE(s_moto) << "moto could not start: " << s_start_error; }

  MotoServer& moto() { return *s_moto; }

  // The environment of a user whose ~/.aws is `home`, pointed at moto.
  std::map<std::string, std::string> env_for(const TempDir& home, const std::string& profile = {}) {
    std::map<std::string, std::string> env{{"HOME", home.str()},
                                           {"AWS_ENDPOINT_URL", moto().endpoint()},
                                           {"AWS_EC2_METADATA_DISABLED", "true"}};
    if (!profile.empty()) env["AWS_PROFILE"] = profile;
    return env;
  }

  Expected<AwsContext> context_for(std::map<std::string, std::string> env, LogListener on_log = {}) {
    AwsContextOptions options;
    options.env = map_environment(std::move(env));
    options.on_log = std::move(on_log);
    return AwsContext::from_environment(options);
  }

  AwsContext admin_context() {
    return AwsContext::for_endpoint(
        Credentials{moto().access_key_id(), moto().secret_access_key(), "", std::nullopt, "moto admin"},
        MotoServer::k_region, moto().endpoint());
  }

  std::string static_profile(const std::string& name, const std::string& secret) {
    return fmt::format("[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n", name, moto().access_key_id(), secret);
  }

  static inline std::unique_ptr<MotoServer> s_moto;
  static inline std::string s_start_error;
};

TEST_F(AwsAgainstMotoTest, ProfileFromAwsDirectoryAuthenticates) {
  // Given keys in ~/.aws/credentials under a named profile and its region in ~/.aws/config,
  // GetCallerIdentity should succeed as the seeded user.
  TempDir home;
  home.write(".aws/credentials", static_profile("itest", moto().secret_access_key()));
  home.write(".aws/config", "[profile itest]\nregion = us-east-1\n");
  auto ctx = context_for(env_for(home, "itest"));
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(ctx->region, "us-east-1");
  auto id = StsClient(*ctx).get_caller_identity();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->arn, moto().user_arn());
  EXPECT_EQ(id->account, MotoServer::k_account_id);
}

TEST_F(AwsAgainstMotoTest, CredentialProcessAuthenticates) {
  // Given a profile whose credential_process prints Version 1 JSON, GetCallerIdentity should succeed.
  TempDir home;
  const std::string script = home.write(
      "bin/print creds.sh",
      fmt::format("#!/bin/sh\n[ \"$1\" = \"--flag with space\" ] || exit 3\nprintf '%s' '{{\"Version\": 1, \"AccessKeyId\": "
                  "\"{}\", \"SecretAccessKey\": \"{}\"}}'\n",
                  moto().access_key_id(), moto().secret_access_key()),
      true);
  home.write(".aws/config", fmt::format("[profile proc]\nregion = us-east-1\ncredential_process = \"{}\" \"--flag with space\"\n",
                                        script));
  auto ctx = context_for(env_for(home, "proc"));
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_NE(ctx->credentials->source().find("credential_process"), std::string::npos);
  auto id = StsClient(*ctx).get_caller_identity();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->arn, moto().user_arn());
}

TEST_F(AwsAgainstMotoTest, AssumeRoleThroughSourceProfile) {
  // Given a profile with role_arn and source_profile, we should call STS AssumeRole with the
  // source keys and then act as the assumed role.
  AwsClient iam(admin_context(), Service::iam);
  // (moto matches the trust policy's principal exactly, so it names the user, not the account root)
  const std::string trust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":")" +
                            moto().user_arn() + R"("},"Action":"sts:AssumeRole"}]})";
  auto role = iam.call_query("CreateRole", {{"RoleName", "m2r-itest-role"}, {"AssumeRolePolicyDocument", trust}},
                             Idempotent::no);
  ASSERT_TRUE(role) << role.error().message;
  auto doc = parse_xml(role->body, "CreateRole");
  ASSERT_TRUE(doc);
  const std::string role_arn = (*doc)->child("CreateRoleResponse").child("CreateRoleResult").child("Role").child_value("Arn");
  ASSERT_FALSE(role_arn.empty()) << role->body;
  auto policy = iam.call_query("PutRolePolicy",
                               {{"RoleName", "m2r-itest-role"},
                                {"PolicyName", "allow-all"},
                                {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}},
                               Idempotent::yes);
  ASSERT_TRUE(policy) << policy.error().message;

  TempDir home;
  home.write(".aws/credentials", static_profile("base", moto().secret_access_key()));
  home.write(".aws/config", fmt::format("[profile deploy]\nregion = us-east-1\nrole_arn = {}\nsource_profile = base\n"
                                        "role_session_name = m2r-itest\n",
                                        role_arn));
  auto ctx = context_for(env_for(home, "deploy"));
  ASSERT_TRUE(ctx) << ctx.error().message;
  auto creds = ctx->credentials->credentials();
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_NE(creds->access_key_id, moto().access_key_id());
  EXPECT_FALSE(creds->session_token.empty());
  EXPECT_TRUE(creds->expiration.has_value());
  auto id = StsClient(*ctx).get_caller_identity();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_NE(id->arn.find("assumed-role/m2r-itest-role/m2r-itest"), std::string::npos) << id->arn;
}

TEST_F(AwsAgainstMotoTest, WrongSecretNamesTheProfileAndTheFix) {
  // Given a profile with the right key id but a wrong secret, the error should be an auth error
  // that names SignatureDoesNotMatch, the profile and the fix, and never the secret.
  TempDir home;
  const std::string wrong_secret = "wrongSecretwrongSecretwrongSecret0123456";
  home.write(".aws/credentials", static_profile("typo", wrong_secret));
  auto env = env_for(home, "typo");
  env["AWS_REGION"] = "us-east-1";
  auto ctx = context_for(env);
  ASSERT_TRUE(ctx) << ctx.error().message;
  auto id = StsClient(*ctx).get_caller_identity();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().kind, ErrorKind::auth);
  EXPECT_NE(id.error().message.find("SignatureDoesNotMatch"), std::string::npos) << id.error().message;
  EXPECT_NE(id.error().hint.find("profile 'typo'"), std::string::npos) << id.error().hint;
  EXPECT_NE(id.error().hint.find("secret access key"), std::string::npos) << id.error().hint;
  EXPECT_NE(id.error().hint.find(home.str() + "/.aws/credentials"), std::string::npos) << id.error().hint;
  EXPECT_EQ(id.error().message.find(wrong_secret), std::string::npos);
  EXPECT_EQ(id.error().hint.find(wrong_secret), std::string::npos);

  // The same wrong secret against S3 and RDS.
  auto s3 = S3Client(*ctx).head_bucket("no-such-bucket-for-auth");
  ASSERT_FALSE(s3);
  EXPECT_EQ(s3.error().kind, ErrorKind::auth) << s3.error().message;
  auto rds = RdsClient(*ctx).describe_db_instances();
  ASSERT_FALSE(rds);
  EXPECT_EQ(rds.error().kind, ErrorKind::auth) << rds.error().message;
}

TEST_F(AwsAgainstMotoTest, MissingProfileIsNamedWithTheFix) {
  // Given AWS_PROFILE naming a profile that does not exist, building the context should fail naming it.
  TempDir home;
  home.write(".aws/credentials", static_profile("other", "x"));
  auto env = env_for(home, "absent");
  env["AWS_REGION"] = "us-east-1";
  auto ctx = context_for(env);
  ASSERT_FALSE(ctx);
  EXPECT_EQ(ctx.error().kind, ErrorKind::auth);
  EXPECT_NE(ctx.error().message.find("'absent'"), std::string::npos) << ctx.error().message;
  EXPECT_NE(ctx.error().hint.find("[absent]"), std::string::npos) << ctx.error().hint;
}

std::string pattern(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + (i * 31 + i / 4096) % 61);
  return s;
}

TEST_F(AwsAgainstMotoTest, S3MultipartUploadListCompleteAndAbort) {
  // Given a bucket, a two-part upload with CRC32C checksums should list both parts, complete into
  // an object of the summed size, and an aborted upload should disappear from the upload list.
  S3Client s3(admin_context());
  const std::string bucket = "m2r-itest-multipart";
  ASSERT_TRUE(s3.create_bucket(bucket));
  ASSERT_TRUE(s3.head_bucket(bucket));
  auto location = s3.get_bucket_location(bucket);
  ASSERT_TRUE(location) << location.error().message;
  EXPECT_EQ(*location, "us-east-1");

  const std::string key = "backups/db one/full.bak";
  auto upload_id = s3.create_multipart_upload(bucket, key, "CRC32C");
  ASSERT_TRUE(upload_id) << upload_id.error().message;

  const std::string part1 = pattern(5 * 1024 * 1024, 'A');  // the 5 MiB minimum (docs/facts.md §7)
  const std::string part2 = pattern(123'457, 'a');
  std::vector<UploadedPart> uploaded;
  int number = 1;
  for (const std::string* body : {&part1, &part2}) {
    UploadPartInput in{bucket, key, *upload_id, number++, *body, md5_base64(*body), crc32c_base64(crc32c(*body))};
    auto part = s3.upload_part(in);
    ASSERT_TRUE(part) << part.error().message;
    std::string md5_hex;
    for (unsigned char c : md5_raw(*body)) md5_hex += fmt::format("{:02x}", c);
    EXPECT_EQ(part->etag, "\"" + md5_hex + "\"");
    uploaded.push_back(*part);
  }

  auto listed = s3.list_parts(bucket, key, *upload_id);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].part_number, 1);
  EXPECT_EQ((*listed)[0].size, part1.size());
  EXPECT_EQ((*listed)[1].size, part2.size());
  EXPECT_EQ((*listed)[1].etag, uploaded[1].etag);

  auto uploads = s3.list_multipart_uploads(bucket);
  ASSERT_TRUE(uploads) << uploads.error().message;
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_EQ((*uploads)[0].key, key);

  auto done = s3.complete_multipart_upload(bucket, key, *upload_id, uploaded);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_FALSE(done->etag.empty());

  auto head = s3.head_object(bucket, key);
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->size, part1.size() + part2.size());
  // moto computes the object's CRC32C itself from the parts, with Debian's crc32c module the
  // fixture gives it: the composite (CRC32C of the parts' CRC32Cs), reported without "-2"
  // (docs/facts.md §9). Without the module it would be a CRC32 under that name.
  ASSERT_FALSE(moto().crc32c_module().empty()) << "python3-crc32c is not installed: run scripts/install-deps.sh";
  const std::string part_crcs = base64_decode(crc32c_base64(crc32c(part1))).value() +
                                base64_decode(crc32c_base64(crc32c(part2))).value();
  EXPECT_EQ(head->checksum_crc32c, crc32c_base64(crc32c(part_crcs)));

  auto tail = s3.get_object(bucket, key, ByteRange{part1.size() - 3, part1.size() + 2});
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, part1.substr(part1.size() - 3) + part2.substr(0, 3));

  auto doomed = s3.create_multipart_upload(bucket, "backups/doomed.bak", "CRC32C");
  ASSERT_TRUE(doomed) << doomed.error().message;
  ASSERT_TRUE(s3.abort_multipart_upload(bucket, "backups/doomed.bak", *doomed));
  auto after = s3.list_multipart_uploads(bucket);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(after->empty());
  auto gone = s3.list_parts(bucket, "backups/doomed.bak", *doomed);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found) << gone.error().message;
}

TEST_F(AwsAgainstMotoTest, S3TooSmallPartIsRejectedAtComplete) {
  // Given a first part below 5 MiB, CompleteMultipartUpload should fail with EntityTooSmall as invalid input.
  S3Client s3(admin_context());
  const std::string bucket = "m2r-itest-small";
  ASSERT_TRUE(s3.create_bucket(bucket));
  auto id = s3.create_multipart_upload(bucket, "k", "");
  ASSERT_TRUE(id);
  std::vector<UploadedPart> parts;
  for (int n = 1; n <= 2; ++n) {
    std::string body(1000, 'x');
    auto p = s3.upload_part({bucket, "k", *id, n, body, {}, {}});
    ASSERT_TRUE(p) << p.error().message;
    parts.push_back(*p);
  }
  auto done = s3.complete_multipart_upload(bucket, "k", *id, parts);
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("EntityTooSmall"), std::string::npos) << done.error().message;
  EXPECT_EQ(done.error().kind, ErrorKind::invalid_input);
}

TEST_F(AwsAgainstMotoTest, RdsDescribesInstanceAndOptionGroup) {
  // Given an option group with SQLSERVER_BACKUP_RESTORE and an instance using it (seeded through
  // the query API), the describe calls should return both with their settings (docs/facts.md §5, §6).
  AwsContext admin = admin_context();
  AwsClient rds_raw(admin, Service::rds);
  auto og = rds_raw.call_query("CreateOptionGroup", {{"OptionGroupName", "m2r-backup"},
                                                     {"EngineName", "sqlserver-se"},
                                                     {"MajorEngineVersion", "15.00"},
                                                     {"OptionGroupDescription", "native backup"}},
                               Idempotent::no);
  ASSERT_TRUE(og) << og.error().message;
  const std::string role = "arn:aws:iam::123456789012:role/rds-s3-restore";
  auto add = rds_raw.call_query("ModifyOptionGroup", {{"OptionGroupName", "m2r-backup"},
                                                      {"OptionsToInclude.OptionConfiguration.1.OptionName", "SQLSERVER_BACKUP_RESTORE"},
                                                      {"OptionsToInclude.OptionConfiguration.1.OptionSettings.OptionSetting.1.Name", "IAM_ROLE_ARN"},
                                                      {"OptionsToInclude.OptionConfiguration.1.OptionSettings.OptionSetting.1.Value", role},
                                                      {"ApplyImmediately", "true"}},
                                Idempotent::yes);
  ASSERT_TRUE(add) << add.error().message;
  auto db = rds_raw.call_query("CreateDBInstance", {{"DBInstanceIdentifier", "m2r-target"},
                                                    {"DBInstanceClass", "db.m5.large"},
                                                    {"Engine", "sqlserver-se"},
                                                    {"AllocatedStorage", "100"},
                                                    {"MasterUsername", "admin"},
                                                    {"MasterUserPassword", "Sup3r-secret-pw"},
                                                    {"OptionGroupName", "m2r-backup"},
                                                    {"LicenseModel", "license-included"}},
                               Idempotent::no);
  ASSERT_TRUE(db) << db.error().message;

  RdsClient rds(admin);
  auto instance = rds.describe_db_instance("m2r-target");
  ASSERT_TRUE(instance) << instance.error().message;
  EXPECT_EQ(instance->engine, "sqlserver-se");
  EXPECT_EQ(instance->allocated_storage, 100);
  EXPECT_FALSE(instance->endpoint_address.empty());
  ASSERT_EQ(instance->option_groups.size(), 1u);
  EXPECT_EQ(instance->option_groups[0].name, "m2r-backup");

  auto groups = rds.describe_option_groups("m2r-backup");
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  const DbOption* backup = (*groups)[0].option("SQLSERVER_BACKUP_RESTORE");
  ASSERT_NE(backup, nullptr);
  EXPECT_EQ(backup->setting("IAM_ROLE_ARN"), role);

  auto missing = rds.describe_db_instance("no-such-instance");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found) << missing.error().message;
}

TEST_F(AwsAgainstMotoTest, CloudWatchPutThenGetStatistics) {
  // Given a datapoint put into AWS/DMS, GetMetricStatistics over its minute should return it.
  CloudWatchClient cw(admin_context());
  const auto now = std::chrono::system_clock::now();
  const std::vector<MetricDimension> dims{{"ReplicationInstanceIdentifier", "ri"}, {"ReplicationTaskIdentifier", "TASKRESID"}};
  ASSERT_TRUE(cw.put_metric_data("AWS/DMS", {{"CDCLatencySource", 7.5, "Seconds", dims, now}}));
  MetricStatisticsRequest req{"AWS/DMS", "CDCLatencySource", dims, now - std::chrono::minutes(5), now + std::chrono::minutes(5), 60,
                              {"Maximum"}};
  auto points = cw.get_metric_statistics(req);
  ASSERT_TRUE(points) << points.error().message;
  ASSERT_FALSE(points->empty());
  EXPECT_DOUBLE_EQ(points->back().maximum.value_or(-1), 7.5);
}

TEST_F(AwsAgainstMotoTest, DmsCreatesAndDescribesInstanceEndpointsAndTask) {
  // Given moto's DMS, our JSON 1.1 client should create a replication instance, two endpoints and a CDC task
  // from an LSN, then find them again through filtered describe calls.
  DmsClient dms(admin_context());
  auto ri = dms.create_replication_instance({"m2r-ri", "dms.t3.medium", 50, "", false, false});
  ASSERT_TRUE(ri) << ri.error().message;
  EXPECT_FALSE(ri->arn.empty());
  auto source = dms.create_endpoint({"m2r-src", "source", "sqlserver", "src.example", 1433, "sales", "dms", "pw", "", "", {}});
  ASSERT_TRUE(source) << source.error().message;
  auto target = dms.create_endpoint({"m2r-tgt", "target", "sqlserver", "tgt.example", 1433, "sales", "admin", "pw", "", "", {}});
  ASSERT_TRUE(target) << target.error().message;
  const std::string mappings =
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})";
  auto task = dms.create_replication_task({"m2r-sales-cdc", source->arn, target->arn, ri->arn, "cdc", mappings,
                                           R"({"TargetMetadata":{"TargetTablePrepMode":"DO_NOTHING"}})",
                                           "00000025:00000b8f:0004", {}, {}});
  ASSERT_TRUE(task) << task.error().message;
  EXPECT_EQ(task->identifier, "m2r-sales-cdc");
  EXPECT_FALSE(task->status.empty());

  auto found = dms.describe_replication_tasks({{"replication-task-arn", {task->arn}}});
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].migration_type, "cdc");
  auto endpoints = dms.describe_endpoints({{"endpoint-arn", {source->arn}}});
  ASSERT_TRUE(endpoints) << endpoints.error().message;
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ((*endpoints)[0].identifier, "m2r-src");
  auto instances = dms.describe_replication_instances({{"replication-instance-id", {"m2r-ri"}}});
  ASSERT_TRUE(instances) << instances.error().message;
  EXPECT_EQ(instances->size(), 1u);
}

TEST_F(AwsAgainstMotoTest, SecretsNeverAppearInLogsEventsOrErrors) {
  // Given a run with successes and failures (wrong secret, missing bucket), every log line, retry
  // event and error text should be free of the secret keys and session tokens involved.
  TempDir home;
  const std::string wrong_secret = "zzWRONGzzWRONGzzWRONGzzWRONGzzWRONGzz0000";
  home.write(".aws/credentials",
             static_profile("good", moto().secret_access_key()) + "\n" + static_profile("bad", wrong_secret));
  home.write(".aws/config", "[profile good]\nregion = us-east-1\n[profile bad]\nregion = us-east-1\n");
  std::vector<std::string> output;
  std::mutex mutex;
  auto capture = [&](std::string_view line) {
    std::lock_guard lock(mutex);
    output.emplace_back(line);
  };
  auto record = [&](const Error& e) { output.push_back(e.message + " | " + e.hint); };

  for (const char* profile : {"good", "bad"}) {
    AwsContextOptions options;
    options.env = map_environment(env_for(home, profile));
    options.on_log = capture;
    options.on_retry = [&](const RetryEvent& e) {
      capture(fmt::format("retry {} {} {} {}", e.operation, e.failed_attempt, to_string(e.reason), e.detail));
    };
    auto ctx = AwsContext::from_environment(options);
    ASSERT_TRUE(ctx) << ctx.error().message;
    if (auto id = StsClient(*ctx).get_caller_identity(); !id) record(id.error());
    if (auto r = S3Client(*ctx).head_object("m2r-no-such-bucket", "k"); !r) record(r.error());
    if (auto r = RdsClient(*ctx).describe_db_instance("absent"); !r) record(r.error());
    if (auto r = StsClient(*ctx).assume_role({"arn:aws:iam::123456789012:role/nope", "s", "", 0}); !r) record(r.error());
    else output.push_back("assumed: " + r->source);
  }
  ASSERT_GE(output.size(), 8u);
  bool saw_signature_error = false;
  for (const auto& line : output) {
    EXPECT_EQ(line.find(moto().secret_access_key()), std::string::npos) << line;
    EXPECT_EQ(line.find(wrong_secret), std::string::npos) << line;
    saw_signature_error = saw_signature_error || line.find("SignatureDoesNotMatch") != std::string::npos;
  }
  EXPECT_TRUE(saw_signature_error) << "the run should have included a rejected signature";
}

}  // namespace
}  // namespace m2r::aws
