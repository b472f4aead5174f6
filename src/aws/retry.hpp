#pragma once
// The SDKs' "standard" retry mode (AWS SDKs and Tools reference, "Retry behavior";
// botocore retries/standard.py): at most 3 attempts, truncated binary exponential
// backoff with full jitter (rand(0,1) * 2^(attempt-1) seconds, at most 20 s), and a
// shared retry quota (500 tokens; a retry costs 5, a retry after a timeout 10; a success
// gives back what its retry took, or 1 when it needed none).
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/aws_error.hpp"
#include "aws/clock.hpp"
#include "aws/http_transport.hpp"

namespace m2r::aws {

struct RetryOptions {
  int max_attempts = 3;                              // standard mode default
  std::chrono::milliseconds base_delay{1000};        // rand(0,1) * base * 2^(attempt-1)
  std::chrono::milliseconds max_backoff{20'000};     // botocore ExponentialBackoff max_backoff=20
  int quota_capacity = 500;                          // botocore RetryQuota INITIAL_CAPACITY
  int retry_cost = 5;                                // RetryQuotaChecker._RETRY_COST
  int timeout_retry_cost = 10;                       // _TIMEOUT_RETRY_REQUEST
  int no_retry_increment = 1;                        // _NO_RETRY_INCREMENT
};

// Token bucket shared by every client of one AwsContext; thread-safe.
class RetryQuota {
 public:
  explicit RetryQuota(int capacity) : m_capacity(capacity), m_available(capacity) {}
  bool acquire(int amount);
  void release(int amount);
  int available() const;

 private:
  mutable std::mutex m_mutex;
  int m_capacity;
  int m_available;
};

enum class Idempotent { no, yes };

enum class RetryReason { throttling, transient, server_error, timeout, connection };
const char* to_string(RetryReason reason);

struct RetryEvent {
  std::string service;
  std::string operation;
  int failed_attempt = 0;  // 1-based number of the attempt that failed
  int max_attempts = 0;
  std::chrono::milliseconds delay{0};
  RetryReason reason = RetryReason::transient;
  std::string detail;  // the error code or transport message (never a secret)
};
using RetryListener = std::function<void(const RetryEvent&)>;

// What one attempt produced: a response (2xx), a service error, or a transport error.
struct AttemptOutcome {
  std::optional<HttpResponse> response;
  std::optional<AwsErrorInfo> service_error;
  std::optional<Error> transport_error;
  bool ok() const { return response.has_value(); }
};

// nullopt when the failure is not worth retrying at all.
std::optional<RetryReason> retry_reason(const AttemptOutcome& outcome, Idempotent idempotent);

class RetryPolicy {
 public:
  RetryPolicy(RetryOptions options, std::shared_ptr<RetryQuota> quota, std::shared_ptr<Clock> clock,
              std::function<double()> random = {});

  // Runs attempt() until it succeeds, the failure is not retryable, attempts run out or the
  // quota is empty. Sleeps on the clock between attempts and reports each retry. Returns the
  // last outcome and, through attempts_made, how many attempts ran.
  AttemptOutcome run(const std::string& service, const std::string& operation, Idempotent idempotent,
                     const std::function<AttemptOutcome()>& attempt, const RetryListener& listener,
                     int* attempts_made = nullptr);

  // The backoff before retrying after failed attempt n (1-based); exposed for tests.
  std::chrono::milliseconds backoff(int failed_attempt);

  const RetryOptions& options() const { return m_options; }
  RetryQuota& quota() { return *m_quota; }

 private:
  RetryOptions m_options;
  std::shared_ptr<RetryQuota> m_quota;
  std::shared_ptr<Clock> m_clock;
  std::function<double()> m_random;
};

}  // namespace m2r::aws
