// AWS errors that tell the truth: a skewed clock is not a wrong secret key (DMS words it as an
// InvalidSignatureException), by how much the clock is off comes from the server's time, and a
// refused session token of temporary credentials says to refresh the session.
#include "aws/aws_error.hpp"

#include <gtest/gtest.h>

using namespace m2r;
using namespace m2r::aws;

namespace {

HttpResponse response(int status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

ErrorContext context(std::chrono::system_clock::time_point signed_at, bool temporary = false) {
  ErrorContext c;
  c.service = "dms";
  c.operation = "DescribeReplicationTasks";
  c.credentials_source = "profile 'prod'";
  c.region = "eu-west-1";
  c.signed_at = signed_at;
  c.temporary_credentials = temporary;
  return c;
}

}  // namespace

TEST(AwsErrorTest, ParsesBothServerTimeForms) {
  const auto http = parse_server_time("Wed, 02 Dec 2026 04:12:49 GMT");
  const auto iso = parse_server_time("2026-12-02T04:12:49Z");
  ASSERT_TRUE(http);
  ASSERT_TRUE(iso);
  EXPECT_EQ(*http, *iso);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*http), 1796184769);
  EXPECT_FALSE(parse_server_time("yesterday"));
}

TEST(AwsErrorTest, ASignatureExpiredFromDmsIsTheClockByHowMuchNotTheSecretKey) {
  // Given DMS's answer to a request signed 20 minutes late, the hint should say the clock is
  // 1200 s behind and to synchronise it, and not suggest the secret key.
  const auto info = parse_aws_error(response(
      400,
      R"json({"__type":"InvalidSignatureException","message":"Signature expired: 20261202T035249Z is now earlier than 20261202T040749Z (20261202T041249Z - 5 min.)"})json",
      {{"Date", "Wed, 02 Dec 2026 04:12:49 GMT"}}));
  EXPECT_TRUE(is_clock_skew(info));
  ASSERT_TRUE(info.server_time);
  const auto e = to_error(info, context(*info.server_time - std::chrono::minutes(20)));
  EXPECT_NE(e.hint.find("1200 s (behind"), std::string::npos) << e.hint;
  EXPECT_NE(e.hint.find("NTP"), std::string::npos) << e.hint;
  EXPECT_EQ(e.hint.find("secret access key"), std::string::npos) << e.hint;
}

TEST(AwsErrorTest, S3sRequestTimeTooSkewedUsesItsServerTime) {
  const auto info = parse_aws_error(response(
      403,
      "<?xml version=\"1.0\"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request "
      "time and the current time is too large.</Message><RequestTime>20261202T043249Z</RequestTime>"
      "<ServerTime>2026-12-02T04:12:49Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"
      "</Error>"));
  ASSERT_TRUE(info.server_time);
  const auto e = to_error(info, context(*info.server_time + std::chrono::minutes(20)));
  EXPECT_NE(e.hint.find("1200 s (ahead of"), std::string::npos) << e.hint;
}

TEST(AwsErrorTest, ARefusedTokenOfTemporaryCredentialsSaysRefreshTheSessionNotCreateAKey) {
  const auto info = parse_aws_error(response(
      403, R"json({"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."})json"));
  const auto temporary = to_error(info, context(std::chrono::system_clock::now(), true));
  EXPECT_NE(temporary.hint.find("aws sso login"), std::string::npos) << temporary.hint;
  EXPECT_EQ(temporary.hint.find("create a new access key"), std::string::npos) << temporary.hint;
  const auto long_term = to_error(info, context(std::chrono::system_clock::now(), false));
  EXPECT_NE(long_term.hint.find("access key id"), std::string::npos) << long_term.hint;
}

TEST(AwsErrorTest, ABareForbiddenToAHeadWhoseDateIsMinutesAwayIsTheClockNotAPermission) {
  // Given S3's answer to a HEAD signed 20 minutes late (no body: only the status and Date), the
  // hint should name the clock and by how much, not a missing IAM permission.
  const auto info = parse_aws_error(response(403, "", {{"Date", "Wed, 02 Dec 2026 04:12:49 GMT"}}));
  ASSERT_TRUE(info.server_time);
  const auto skewed = to_error(info, context(*info.server_time - std::chrono::minutes(20)));
  EXPECT_NE(skewed.hint.find("clock differs"), std::string::npos) << skewed.hint;
  EXPECT_NE(skewed.hint.find("1200 s (behind"), std::string::npos) << skewed.hint;
  // A clock within seconds of the server's: a real refusal, named as one.
  const auto denied = to_error(info, context(*info.server_time + std::chrono::seconds(3)));
  EXPECT_EQ(denied.hint.find("clock"), std::string::npos) << denied.hint;
}
