#include "mssql/request_progress.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r::mssql {

std::optional<double> percent_processed(const SqlMessage& m) {
  if (m.number != 3211) return std::nullopt;
  const int percent = std::atoi(m.text.c_str());
  if (percent < 0 || percent > 100) return std::nullopt;
  return percent / 100.0;
}

RequestPoller::RequestPoller(std::unique_ptr<SqlSession> monitor, std::int64_t session_id,
                             std::chrono::milliseconds interval, ProgressFn on_progress, FailureFn on_failure)
    : m_monitor(std::move(monitor)),
      m_session_id(session_id),
      m_interval(interval),
      m_on_progress(std::move(on_progress)),
      m_on_failure(std::move(on_failure)) {
  // Nothing leaves the thread as an exception (std::terminate): it ends the polling as a failure.
  m_thread = std::thread([this] {
    try {
      loop();
    } catch (const std::exception& e) {
      try {
        if (m_on_failure) m_on_failure(Error(ErrorKind::fatal, std::string("live progress polling failed: ") + e.what()));
      } catch (...) {
      }
    }
  });
}

RequestPoller::~RequestPoller() { stop(); }

void RequestPoller::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    // A poll in flight ends now instead of at its timeout. (A cancel that lands just before
    // the driver starts the statement does nothing; the poll is one tiny read.)
    if (m_polling) m_monitor->cancel();
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void RequestPoller::loop() {
  // A poll that takes longer than this is not worth waiting for.
  constexpr std::chrono::seconds k_poll_timeout{10};
  const Statement poll{tsql::request_progress(),
                       {SqlParam::int32(static_cast<std::int32_t>(m_session_id))},
                       {.timeout = k_poll_timeout, .idempotent = Idempotent::yes}};
  std::unique_lock lock(m_mutex);
  while (true) {
    m_wake.wait_for(lock, m_interval, [this] { return m_stopping; });
    if (m_stopping) return;
    m_polling = true;
    lock.unlock();
    auto result = m_monitor->run(poll, {});
    lock.lock();
    m_polling = false;
    if (m_stopping) return;  // a cancelled poll is not a failure
    if (!result) {
      lock.unlock();
      if (m_on_failure) m_on_failure(result.error());
      return;
    }
    // No row: the request has not started yet or has just ended.
    for (const auto& row : result->rows()) {
      RequestProgress p;
      const auto percent = row.size() > 0 ? row[0].as_double() : Expected<double>(0.0);
      if (!percent) continue;
      p.percent_complete = *percent;
      if (row.size() > 1 && !row[1].is_null()) p.estimated_completion_ms = row[1].as_int64().value_or(0);
      if (row.size() > 2 && !row[2].is_null()) p.elapsed_ms = row[2].as_int64().value_or(0);
      if (row.size() > 3 && !row[3].is_null()) p.command = row[3].as_string().value_or("");
      lock.unlock();
      if (m_on_progress) m_on_progress(p);
      lock.lock();
      if (m_stopping) return;
    }
  }
}

namespace {

// Serialises the handlers and keeps the reported fraction from going backwards.
class Reporter {
 public:
  explicit Reporter(const LiveProgressHandlers& h) : m_h(h) {}

  void message(const SqlMessage& m) {
    std::lock_guard lock(m_mutex);
    if (m_h.on_message) m_h.on_message(m);
    if (const auto f = percent_processed(m)) offer(*f, m.text);
  }
  void polled(const RequestProgress& p) {
    std::lock_guard lock(m_mutex);
    std::string text = fmt::format("{:.1f} percent complete", p.percent_complete);
    if (p.estimated_completion_ms > 0) text += fmt::format(", about {} s left", (p.estimated_completion_ms + 999) / 1000);
    offer(p.percent_complete / 100.0, text);
  }
  void unavailable(const std::string& why) {
    std::lock_guard lock(m_mutex);
    if (m_unavailable_said) return;
    m_unavailable_said = true;
    if (m_h.on_polling_unavailable) m_h.on_polling_unavailable(why);
  }

 private:
  void offer(double fraction, const std::string& text) {
    if (fraction <= m_last) return;
    m_last = fraction;
    if (m_h.on_progress) m_h.on_progress(fraction, text);
  }

  const LiveProgressHandlers& m_h;
  std::mutex m_mutex;
  double m_last = 0;
  bool m_unavailable_said = false;
};

Expected<std::int64_t> own_session_id(SqlSession& session) {
  const auto r = M2R_TRY(session.query(tsql::own_session_id(), {}, {.idempotent = Idempotent::yes}));
  if (r.rows().empty() || r.rows()[0].empty()) return fail(ErrorKind::fatal, "SELECT @@SPID returned no row");
  return r.rows()[0][0].as_int64();
}

}  // namespace

Expected<QueryResult> run_with_live_progress(SqlSession& session, const SessionOpener& open_monitor,
                                             const Statement& statement, const LiveProgressHandlers& handlers,
                                             const LiveProgressOptions& options) {
  Reporter reporter(handlers);
  std::unique_ptr<RequestPoller> poller;
  if (open_monitor) {
    const auto id = own_session_id(session);
    auto monitor = id ? open_monitor() : Expected<std::unique_ptr<SqlSession>>(tl::unexpected(id.error()));
    if (monitor) {
      poller = std::make_unique<RequestPoller>(
          std::move(*monitor), *id, options.poll_interval, [&](const RequestProgress& p) { reporter.polled(p); },
          [&](const Error& e) { reporter.unavailable("reading sys.dm_exec_requests failed: " + e.message); });
    } else {
      reporter.unavailable("no second session to read sys.dm_exec_requests: " + monitor.error().message);
    }
  }
  auto result = session.run(statement, [&](const SqlMessage& m) { reporter.message(m); });
  if (poller) poller->stop();
  return result;
}

}  // namespace m2r::mssql
