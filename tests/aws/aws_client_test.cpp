// The generic client and the typed clients against recorded fixtures (one per API call and
// failure mode, tests/aws/fixtures/<Operation>/<case>): signing, retries, error mapping.
#include "aws/aws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aws/cloudwatch_client.hpp"
#include "aws/dms_client.hpp"
#include "aws/rds_client.hpp"
#include "aws/s3_client.hpp"
#include "aws/sts_client.hpp"
#include "support/fake_aws.hpp"

namespace m2r::aws {
namespace {

using m2r::test::fixture;
using m2r::test::FakeAws;

std::string canned(const std::string& relative) {
  auto r = load_response_fixture(fixture(relative));
  EXPECT_TRUE(r) << relative;
  return r ? r->body : std::string{};
}

TEST(AwsClientTest, EveryRequestIsSignedAndVerifiable) {
  // Given a fake server that checks SigV4 with the secret, a query, a JSON and an S3 call should all verify.
  FakeAws fake;
  int verified = 0;
  fake.http->set_handler([&](const RecordedRequest& r) -> Expected<HttpResponse> {
    auto parts = parse_url(r.url);
    SignableRequest received{r.method, parts->authority, parts->target, r.headers,
                             r.header("x-amz-content-sha256").value_or(sha256_hex(r.body))};
    auto auth = parse_authorization(r.header("Authorization").value_or(""));
    if (!auth) return HttpResponse{403, {}, "<Error><Code>IncompleteSignature</Code></Error>"};
    const bool s3 = auth->service == "s3";
    if (!s3) {
      EXPECT_EQ(received.payload_hash, sha256_hex(r.body));
    }
    if (!verify(received, *auth, "fake/secret+key", s3))
      return HttpResponse{403, {}, "<Error><Code>SignatureDoesNotMatch</Code></Error>"};
    ++verified;
    if (auth->service == "sts") return HttpResponse{200, {}, canned("GetCallerIdentity/ok.xml")};
    if (auth->service == "dms") return HttpResponse{200, {}, canned("DescribeReplicationTasks/running.json")};
    return HttpResponse{200, {{"ETag", "\"abc\""}}, ""};
  });
  auto id = StsClient(fake.context).get_caller_identity();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->arn, "arn:aws:iam::123456789012:user/migrator");
  auto tasks = DmsClient(fake.context).describe_replication_tasks({{"replication-task-id", {"m2r sales"}}});
  ASSERT_TRUE(tasks) << tasks.error().message;
  std::string body(100'000, 'x');
  auto part = S3Client(fake.context).upload_part({"bucket", "dir/a b+c.bak", "up/load=", 7, body, "", ""});
  ASSERT_TRUE(part) << part.error().message;
  EXPECT_EQ(verified, 3);

  auto requests = fake.http->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("X-Amz-Date"), "20261125T100000Z");
  EXPECT_EQ(requests[1].header("X-Amz-Target"), "AmazonDMSv20160101.DescribeReplicationTasks");
  EXPECT_EQ(requests[1].header("Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(requests[2].target(), "/bucket/dir/a%20b%2Bc.bak?partNumber=7&uploadId=up%2Fload%3D");
  EXPECT_EQ(requests[2].body.size(), body.size());
}

TEST(AwsClientTest, ThrottlingIsRetriedWithEventsThenSucceeds) {
  // Given two SlowDown answers then success, UploadPart should succeed on attempt 3 and report two retries.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("UploadPart/slow_down.xml")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("UploadPart/internal_error.xml")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("UploadPart/ok.xml")));
  std::vector<RetryEvent> events;
  fake.context.on_retry = [&](const RetryEvent& e) { events.push_back(e); };
  std::string body(10, 'x');
  auto part = S3Client(fake.context).upload_part({"b", "k", "u", 1, body, "", ""});
  ASSERT_TRUE(part) << part.error().message;
  EXPECT_EQ(part->etag, "\"b54357faf0632cce46e942fa68356b38\"");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].reason, RetryReason::throttling);
  EXPECT_EQ(events[0].detail, "SlowDown");
  EXPECT_EQ(events[0].failed_attempt, 1);
  EXPECT_EQ(events[1].reason, RetryReason::transient);
  EXPECT_EQ(events[1].operation, "UploadPart");
  EXPECT_EQ(fake.clock->total_slept(), events[0].delay + events[1].delay);
  // Each attempt is signed afresh: the date moves with the clock.
  auto requests = fake.http->requests();
  ASSERT_EQ(requests.size(), 3u);
}

TEST(AwsClientTest, ThrottlingThatPersistsBecomesARetryableError) {
  // Given Throttling on every attempt, DescribeDBInstances should give up after 3 attempts with a retryable error.
  FakeAws fake;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeDBInstances/throttling.xml")));
  auto r = RdsClient(fake.context).describe_db_instances();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::retryable);
  EXPECT_NE(r.error().message.find("Throttling: Rate exceeded"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("throttling"), std::string::npos);
  EXPECT_EQ(fake.http->request_count(), 3u);
}

TEST(AwsClientTest, ServerErrorOnNonIdempotentCreateIsNotRetried) {
  // Given a 500 on CreateReplicationTask (not idempotent), we should not repeat it.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("CreateReplicationTask/internal_error.json")));
  CreateReplicationTaskRequest req{"m2r-sales", "arn:src", "arn:tgt", "arn:ri", "cdc", R"({"rules":[]})", "",
                                   "00000025:00000b8f:0004", std::nullopt, std::nullopt};
  auto r = DmsClient(fake.context).create_replication_task(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::retryable);
  EXPECT_NE(r.error().message.find("InternalFailure"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("1c3f0a5e-aaaa-bbbb-cccc-000000000002"), std::string::npos);
  EXPECT_EQ(fake.http->request_count(), 1u);
}

TEST(AwsClientTest, InvalidStartPositionIsInvalidInput) {
  // Given DMS's InvalidParameterValueException, the error should be invalid_input with DMS's text.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("CreateReplicationTask/invalid_start_position.json")));
  CreateReplicationTaskRequest req{"m2r-sales", "arn:src", "arn:tgt", "arn:ri", "cdc", "{}", "", "25:b8f:4", {}, {}};
  auto r = DmsClient(fake.context).create_replication_task(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(r.error().message.find("Invalid CdcStartPosition format"), std::string::npos);
}

TEST(AwsClientTest, SignatureDoesNotMatchNamesProfileAndFix) {
  // Given SignatureDoesNotMatch, the error should be auth and the hint should name the credentials' source and the secret key.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("GetCallerIdentity/signature_does_not_match.xml")));
  auto r = StsClient(fake.context).get_caller_identity();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_NE(r.error().message.find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(r.error().message.find("c6104cbe-af31-11e0-8154-cbc7ccf896c7"), std::string::npos);
  EXPECT_NE(r.error().hint.find("secret access key of profile 'unit' (/home/u/.aws/credentials)"), std::string::npos)
      << r.error().hint;
  EXPECT_EQ(r.error().hint.find("fake/secret+key"), std::string::npos);
  EXPECT_EQ(fake.http->request_count(), 1u);  // auth failures are not retried
}

TEST(AwsClientTest, UnknownAccessKeyNamesTheEndpoint) {
  // Given InvalidClientTokenId, the hint should say the key id is unknown to the endpoint.
  FakeAws fake("https://sts.eu-west-3.amazonaws.com", "eu-west-3");
  ASSERT_TRUE(fake.http->push_fixture(fixture("GetCallerIdentity/invalid_client_token_id.xml")));
  auto r = StsClient(fake.context).get_caller_identity();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_NE(r.error().hint.find("access key id of profile 'unit'"), std::string::npos) << r.error().hint;
  EXPECT_NE(r.error().hint.find("https://sts.eu-west-3.amazonaws.com"), std::string::npos) << r.error().hint;
}

TEST(AwsClientTest, ExpiredTokenInJsonAndQueryForms) {
  // Given ExpiredTokenException (JSON) and ExpiredToken (query), both should be auth errors telling to refresh.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeReplicationTasks/expired_token.json")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("PutMetricData/expired_token.xml")));
  auto a = DmsClient(fake.context).describe_replication_tasks({});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::auth);
  EXPECT_NE(a.error().message.find("ExpiredTokenException"), std::string::npos);
  EXPECT_NE(a.error().hint.find("expired"), std::string::npos);
  auto b = CloudWatchClient(fake.context).put_metric_data("m2r", {{"Lag", 1, "Seconds", {}, {}}});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::auth);
  EXPECT_NE(b.error().message.find("ExpiredToken:"), std::string::npos) << b.error().message;
}

TEST(AwsClientTest, NotFoundFormsMapToNotFound) {
  // Given DBInstanceNotFound (query), ResourceNotFoundFault with a type prefix (JSON) and a body-less 404 (S3 HEAD),
  // each should be not_found, with the JSON prefix stripped.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeDBInstances/not_found.xml")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeReplicationTasks/resource_not_found.json")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("HeadBucket/not_found.xml")));
  auto a = RdsClient(fake.context).describe_db_instance("target-db");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::not_found);
  EXPECT_NE(a.error().message.find("DBInstanceNotFound: DBInstance target-db not found."), std::string::npos);
  auto b = DmsClient(fake.context).describe_replication_task("arn:aws:dms:us-east-1:123456789012:task:ABC");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::not_found);
  EXPECT_NE(b.error().message.find("failed: ResourceNotFoundFault: Replication task not found"), std::string::npos)
      << b.error().message;
  auto c = S3Client(fake.context).head_bucket("missing");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::not_found);
  EXPECT_NE(c.error().message.find("NotFound"), std::string::npos);
  EXPECT_NE(c.error().message.find("0A49CE4060975EAC"), std::string::npos);
  EXPECT_NE(c.error().message.find("bucket 'missing'"), std::string::npos);
}

TEST(AwsClientTest, CompleteMultipartUploadErrorInside200IsRetried) {
  // Given S3's 200-with-<Error> answer to CompleteMultipartUpload, we should treat it as InternalError and retry.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("CompleteMultipartUpload/error_in_200.xml")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("CompleteMultipartUpload/ok.xml")));
  auto done = S3Client(fake.context).complete_multipart_upload(
      "bucket", "key", "u1", {{2, "\"e2\"", "AAAAAg==", 0}, {1, "\"e1\"", "AAAAAQ==", 0}});
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->etag, "\"3858f62230ac3c915f300c664312c11f-2\"");
  auto requests = fake.http->requests();
  ASSERT_EQ(requests.size(), 2u);
  // Parts go in ascending order, each with its CRC32C.
  const std::string& body = requests[0].body;
  EXPECT_LT(body.find("<PartNumber>1</PartNumber>"), body.find("<PartNumber>2</PartNumber>"));
  EXPECT_NE(body.find("<ChecksumCRC32C>AAAAAQ==</ChecksumCRC32C>"), std::string::npos) << body;
}

TEST(AwsClientTest, WrongRegionIsAPrerequisiteWithRegionHint) {
  // Given AuthorizationHeaderMalformed (bucket in another region), the hint should name the configured region and AWS_REGION.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("GetObject/wrong_region.xml")));
  auto r = S3Client(fake.context).get_object("bucket", "key");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("expecting 'eu-west-1'"), std::string::npos);
  EXPECT_NE(r.error().hint.find("AWS_REGION"), std::string::npos);
  EXPECT_NE(r.error().hint.find("'us-east-1'"), std::string::npos);
}

TEST(AwsClientTest, AccessDeniedNamesTheOperation) {
  // Given AccessDenied on GetObject, the hint should name s3:GetObject and the object.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("GetObject/access_denied.xml")));
  auto r = S3Client(fake.context).get_object("bucket", "key");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_NE(r.error().hint.find("s3:GetObject on s3://bucket/key"), std::string::npos) << r.error().hint;
}

TEST(AwsClientTest, UnreachableEndpointNamesTheEndpointVariables) {
  // Given an endpoint that refuses connections on every attempt, the error should be retryable and name the endpoint settings.
  FakeAws fake("http://127.0.0.1:1");
  for (int i = 0; i < 3; ++i)
    fake.http->push(fail(ErrorKind::retryable, std::string(k_request_not_sent) + "could not connect to http://127.0.0.1:1/"));
  auto r = RdsClient(fake.context).describe_db_instances();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::retryable);
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("AWS_ENDPOINT_URL_RDS"), std::string::npos) << r.error().hint;
  EXPECT_NE(r.error().hint.find("http://127.0.0.1:1"), std::string::npos);
}

TEST(AwsClientTest, RdsDescribeFollowsMarkers) {
  // Given two pages, describe_db_instances should send the Marker and return both instances with their fields.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeDBInstances/page1.xml")));
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeDBInstances/page2.xml")));
  auto list = RdsClient(fake.context).describe_db_instances();
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  const DbInstance& a = (*list)[0];
  EXPECT_EQ(a.identifier, "target-db");
  EXPECT_EQ(a.endpoint_address, "target-db.abc.us-east-1.rds.amazonaws.com");
  EXPECT_EQ(a.endpoint_port, 1433);
  EXPECT_EQ(a.allocated_storage, 500);
  ASSERT_EQ(a.option_groups.size(), 1u);
  EXPECT_EQ(a.option_groups[0].status, "in-sync");
  EXPECT_EQ((*list)[1].identifier, "second-db");
  auto requests = fake.http->requests();
  EXPECT_NE(requests[1].body.find("Marker=page-2"), std::string::npos) << requests[1].body;
  EXPECT_EQ(requests[0].body, "Action=DescribeDBInstances&Version=2014-10-31");
}

TEST(AwsClientTest, DmsTaskFieldsAreParsed) {
  // Given a running task, the typed fields (status, start position, checkpoint, stats) should be filled.
  FakeAws fake;
  ASSERT_TRUE(fake.http->push_fixture(fixture("DescribeReplicationTasks/running.json")));
  auto t = DmsClient(fake.context).describe_replication_task("arn:aws:dms:us-east-1:123456789012:task:ABCDEF");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->status, "running");
  EXPECT_EQ(t->cdc_start_position, "00000025:00000b8f:0004");
  EXPECT_TRUE(t->recovery_checkpoint.starts_with("checkpoint:V1#"));
  ASSERT_TRUE(t->stats);
  EXPECT_EQ(t->stats->elapsed_time_millis, 120000);
  auto body = nlohmann::json::parse(fake.http->requests()[0].body);
  EXPECT_EQ(body["Filters"][0]["Name"], "replication-task-arn");
  EXPECT_EQ(body["WithoutSettings"], true);
}

TEST(AwsClientTest, DmsRejectsBothStartPositionAndTimeBeforeSending) {
  // Given CdcStartPosition and CdcStartTime together (docs/facts.md §4: an error), nothing should be sent.
  FakeAws fake;
  CreateReplicationTaskRequest req{"m2r-sales", "a", "b", "c", "cdc", "{}", "", "00000025:00000b8f:0004",
                                   std::chrono::system_clock::now(), std::nullopt};
  auto r = DmsClient(fake.context).create_replication_task(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  req.cdc_start_time.reset();
  req.identifier = "1-starts-with-digit";
  EXPECT_FALSE(DmsClient(fake.context).create_replication_task(req));
  req.identifier = "double--hyphen";
  EXPECT_FALSE(DmsClient(fake.context).create_replication_task(req));
  EXPECT_EQ(fake.http->request_count(), 0u);
}

TEST(AwsClientTest, S3AddressingIsPathStyleForCustomEndpointsAndVirtualHostedOnAws) {
  // Given a custom endpoint, S3 should use path style; given AWS's endpoint, virtual-hosted style for DNS-safe names.
  FakeAws custom;
  EXPECT_EQ(S3Client(custom.context).address("bkt", "a/b c").path, "/bkt/a/b%20c");
  EXPECT_FALSE(S3Client(custom.context).address("bkt", "k").endpoint);
  AwsContext real = custom.context;
  real.endpoints = EndpointResolver(map_environment({}), "eu-west-1");
  auto a = S3Client(real).address("my-bucket", "k/x");
  EXPECT_EQ(a.endpoint, "https://my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.path, "/k/x");
  EXPECT_FALSE(S3Client(real).address("my.dotted.bucket", "k").endpoint);  // dots break TLS: path style
  EXPECT_EQ(s3_arn("b", "dir/f.bak"), "arn:aws:s3:::b/dir/f.bak");
}

TEST(AwsClientTest, LargeS3BodiesOverHttpsAreUnsignedPayload) {
  // Given a 1 MiB part over HTTPS, the payload should be UNSIGNED-PAYLOAD (no second pass over the bytes);
  // over HTTP it should be the body's SHA-256.
  FakeAws https("https://s3.us-east-1.amazonaws.com");
  FakeAws http;
  std::string body(1 << 20, 'z');
  for (FakeAws* f : {&https, &http}) {
    f->http->push(200, "", {{"ETag", "\"e\""}});
    ASSERT_TRUE(S3Client(f->context).upload_part({"bucket", "k", "u", 1, body, "", ""}));
  }
  EXPECT_EQ(https.http->requests()[0].header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(http.http->requests()[0].header("x-amz-content-sha256"), sha256_hex(body));
}

TEST(AwsClientTest, ResponseFixtureParserRejectsNonHttp) {
  // Given a fixture without a status line, loading should fail rather than invent a status.
  EXPECT_FALSE(parse_raw_response("<Error/>"));
  auto ok = parse_raw_response("HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(ok->header("x-a"), "b");
}

}  // namespace
}  // namespace m2r::aws
