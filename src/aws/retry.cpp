#include "aws/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace m2r::aws {

bool RetryQuota::acquire(int amount) {
  std::lock_guard lock(m_mutex);
  if (amount > m_available) return false;
  m_available -= amount;
  return true;
}

void RetryQuota::release(int amount) {
  std::lock_guard lock(m_mutex);
  m_available = std::min(m_capacity, m_available + amount);
}

int RetryQuota::available() const {
  std::lock_guard lock(m_mutex);
  return m_available;
}

const char* to_string(RetryReason reason) {
  switch (reason) {
    case RetryReason::throttling: return "throttling";
    case RetryReason::transient: return "transient error";
    case RetryReason::server_error: return "server error";
    case RetryReason::timeout: return "timeout";
    case RetryReason::connection: return "connection error";
  }
  return "error";
}

std::optional<RetryReason> retry_reason(const AttemptOutcome& outcome, Idempotent idempotent) {
  if (outcome.ok()) return std::nullopt;
  if (outcome.service_error) {
    const AwsErrorInfo& e = *outcome.service_error;
    // A throttled request was refused before it did anything: safe to repeat even when
    // the operation is not idempotent.
    if (is_throttling_code(e.code)) return RetryReason::throttling;
    if (idempotent == Idempotent::no) return std::nullopt;
    if (is_transient_code(e.code)) return RetryReason::transient;
    if (e.http_status == 500 || e.http_status == 502 || e.http_status == 503 || e.http_status == 504)
      return RetryReason::server_error;
    return std::nullopt;
  }
  if (outcome.transport_error) {
    const Error& e = *outcome.transport_error;
    if (request_not_sent(e)) return RetryReason::connection;
    if (idempotent == Idempotent::no) return std::nullopt;
    if (e.kind == ErrorKind::timeout) return RetryReason::timeout;
    if (e.kind == ErrorKind::retryable) return RetryReason::connection;
  }
  return std::nullopt;
}

RetryPolicy::RetryPolicy(RetryOptions options, std::shared_ptr<RetryQuota> quota, std::shared_ptr<Clock> clock,
                         std::function<double()> random)
    : m_options(options), m_quota(std::move(quota)), m_clock(std::move(clock)), m_random(std::move(random)) {
  if (!m_quota) m_quota = std::make_shared<RetryQuota>(m_options.quota_capacity);
  if (!m_clock) m_clock = std::make_shared<SystemClock>();
  if (!m_random) {
    m_random = [] {
      thread_local std::mt19937_64 engine{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

std::chrono::milliseconds RetryPolicy::backoff(int failed_attempt) {
  const double exponent = std::pow(2.0, std::max(0, failed_attempt - 1));
  const double ms = m_random() * static_cast<double>(m_options.base_delay.count()) * exponent;
  const double capped = std::min(ms, static_cast<double>(m_options.max_backoff.count()));
  return std::chrono::milliseconds(static_cast<long long>(capped));
}

AttemptOutcome RetryPolicy::run(const std::string& service, const std::string& operation, Idempotent idempotent,
                                const std::function<AttemptOutcome()>& attempt, const RetryListener& listener,
                                int* attempts_made) {
  int last_cost = 0;  // quota taken by the latest retry, given back on success
  for (int n = 1;; ++n) {
    AttemptOutcome outcome = attempt();
    if (attempts_made) *attempts_made = n;
    if (outcome.ok()) {
      m_quota->release(last_cost > 0 ? last_cost : m_options.no_retry_increment);
      return outcome;
    }
    auto reason = retry_reason(outcome, idempotent);
    if (!reason || n >= m_options.max_attempts) return outcome;
    const int cost = *reason == RetryReason::timeout ? m_options.timeout_retry_cost : m_options.retry_cost;
    if (!m_quota->acquire(cost)) return outcome;  // retry quota exhausted: fail fast
    last_cost = cost;
    const auto delay = backoff(n);
    if (listener) {
      RetryEvent event{service, operation, n, m_options.max_attempts, delay, *reason, {}};
      event.detail = outcome.service_error ? outcome.service_error->code : outcome.transport_error->message;
      listener(event);
    }
    m_clock->sleep_for(delay);
  }
}

}  // namespace m2r::aws
