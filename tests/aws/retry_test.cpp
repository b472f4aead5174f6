// The standard retry mode with a fake clock and a fixed "random" number.
#include "aws/retry.hpp"

#include <gtest/gtest.h>

#include "fakes/fake_clock.hpp"

namespace m2r::aws {
namespace {

using namespace std::chrono_literals;

AttemptOutcome ok() { return AttemptOutcome{HttpResponse{200, {}, ""}, std::nullopt, std::nullopt}; }
AttemptOutcome service_error(int status, std::string code) {
  return AttemptOutcome{std::nullopt, AwsErrorInfo{status, std::move(code), "", ""}, std::nullopt};
}
AttemptOutcome transport_error(ErrorKind kind, std::string message) {
  return AttemptOutcome{std::nullopt, std::nullopt, Error(kind, std::move(message))};
}

struct Harness {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>(std::chrono::system_clock::time_point{});
  std::shared_ptr<RetryQuota> quota;
  RetryPolicy policy;
  std::vector<RetryEvent> events;

  explicit Harness(RetryOptions options = {}, double random = 1.0)
      : quota(std::make_shared<RetryQuota>(options.quota_capacity)),
        policy(options, quota, clock, [random] { return random; }) {}

  AttemptOutcome run(std::vector<AttemptOutcome> script, Idempotent idempotent = Idempotent::yes, int* calls = nullptr) {
    size_t next = 0;
    auto attempt = [&] { return script.at(std::min(next++, script.size() - 1)); };
    auto out = policy.run("s3", "UploadPart", idempotent, attempt, [&](const RetryEvent& e) { events.push_back(e); });
    if (calls) *calls = static_cast<int>(next);
    return out;
  }
};

TEST(RetryTest, BackoffIsExponentialWithFullJitterAndCapped) {
  // Given rand()=1, delays should be 1 s, 2 s, 4 s ... capped at 20 s; given rand()=0.25, a quarter of that.
  Harness full;
  EXPECT_EQ(full.policy.backoff(1), 1000ms);
  EXPECT_EQ(full.policy.backoff(2), 2000ms);
  EXPECT_EQ(full.policy.backoff(3), 4000ms);
  EXPECT_EQ(full.policy.backoff(5), 16000ms);
  EXPECT_EQ(full.policy.backoff(6), 20000ms);
  EXPECT_EQ(full.policy.backoff(30), 20000ms);
  Harness quarter({}, 0.25);
  EXPECT_EQ(quarter.policy.backoff(3), 1000ms);
}

TEST(RetryTest, ThrottlingIsRetriedUpToMaxAttemptsWithEvents) {
  // Given SlowDown three times, we should make exactly 3 attempts, sleep 1 s + 2 s, and report two retries.
  Harness h;
  int calls = 0;
  auto out = h.run({service_error(503, "SlowDown")}, Idempotent::yes, &calls);
  EXPECT_FALSE(out.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(h.clock->total_slept(), 3000ms);
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].failed_attempt, 1);
  EXPECT_EQ(h.events[0].delay, 1000ms);
  EXPECT_EQ(h.events[1].delay, 2000ms);
  EXPECT_EQ(h.events[1].reason, RetryReason::throttling);
  EXPECT_EQ(h.events[1].detail, "SlowDown");
  EXPECT_EQ(h.events[1].max_attempts, 3);
}

TEST(RetryTest, MaxAttemptsIsConfigurable) {
  // Given max_attempts 5 and a 500 four times then success, we should succeed on attempt 5.
  RetryOptions o;
  o.max_attempts = 5;
  Harness h(o);
  int calls = 0;
  auto out = h.run({service_error(500, "InternalError"), service_error(502, "BadGateway"), service_error(503, "X"),
                    service_error(504, "GatewayTimeout"), ok()},
                   Idempotent::yes, &calls);
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(calls, 5);
}

TEST(RetryTest, ClientErrorsAreNotRetried) {
  // Given AccessDenied or NoSuchBucket, there should be one attempt and no event.
  for (const char* code : {"AccessDenied", "NoSuchBucket", "SignatureDoesNotMatch"}) {
    Harness h;
    int calls = 0;
    h.run({service_error(403, code)}, Idempotent::yes, &calls);
    EXPECT_EQ(calls, 1) << code;
    EXPECT_TRUE(h.events.empty());
  }
}

TEST(RetryTest, NonIdempotentRequestsRetryOnlyWhenSurelyNotExecuted) {
  // Given a non-idempotent request, a 500 or a lost connection should not be retried; throttling and
  // a connection that never opened should.
  {
    Harness h;
    int calls = 0;
    h.run({service_error(500, "InternalError")}, Idempotent::no, &calls);
    EXPECT_EQ(calls, 1);
  }
  {
    Harness h;
    int calls = 0;
    h.run({transport_error(ErrorKind::retryable, "POST http://x/ failed: Connection reset by peer")}, Idempotent::no, &calls);
    EXPECT_EQ(calls, 1);
  }
  {
    Harness h;
    int calls = 0;
    h.run({service_error(400, "ThrottlingException"), ok()}, Idempotent::no, &calls);
    EXPECT_EQ(calls, 2);
  }
  {
    Harness h;
    int calls = 0;
    h.run({transport_error(ErrorKind::retryable, std::string(k_request_not_sent) + "could not connect"), ok()},
          Idempotent::no, &calls);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(h.events.at(0).reason, RetryReason::connection);
  }
}

TEST(RetryTest, QuotaChargesRetriesAndTimeoutsAndRefundsOnSuccess) {
  // Given a 500 token bucket: a retry costs 5, a timeout retry 10; a success after a retry gives its cost back,
  // a success without retry gives 1 back (up to the capacity).
  Harness h;
  h.run({service_error(500, "InternalError"), service_error(500, "InternalError")});
  EXPECT_EQ(h.quota->available(), 490);  // two retries, never refunded (the call failed)
  h.run({transport_error(ErrorKind::timeout, "timed out"), ok()});
  EXPECT_EQ(h.quota->available(), 490);  // charged 10, refunded 10
  EXPECT_EQ(h.events.back().reason, RetryReason::timeout);
  h.run({ok()});
  EXPECT_EQ(h.quota->available(), 491);
}

TEST(RetryTest, EmptyQuotaStopsRetrying) {
  // Given a quota with room for one retry, the second failure should not be retried.
  RetryOptions o;
  o.quota_capacity = 7;
  Harness h(o);
  int calls = 0;
  auto out = h.run({service_error(503, "SlowDown")}, Idempotent::yes, &calls);
  EXPECT_FALSE(out.ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(h.quota->available(), 2);
}

TEST(RetryTest, ReasonClassification) {
  // Given the documented transient and throttling codes, retry_reason should classify them.
  EXPECT_EQ(retry_reason(service_error(400, "RequestLimitExceeded"), Idempotent::yes), RetryReason::throttling);
  EXPECT_EQ(retry_reason(service_error(429, "TooManyRequestsException"), Idempotent::yes), RetryReason::throttling);
  EXPECT_EQ(retry_reason(service_error(400, "RequestTimeout"), Idempotent::yes), RetryReason::transient);
  EXPECT_EQ(retry_reason(service_error(503, "Unknown"), Idempotent::yes), RetryReason::server_error);
  EXPECT_EQ(retry_reason(service_error(501, "NotImplemented"), Idempotent::yes), std::nullopt);
  EXPECT_EQ(retry_reason(transport_error(ErrorKind::auth, "no credentials"), Idempotent::yes), std::nullopt);
  EXPECT_EQ(retry_reason(ok(), Idempotent::yes), std::nullopt);
}

}  // namespace
}  // namespace m2r::aws
