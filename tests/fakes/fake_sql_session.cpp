#include "fakes/fake_sql_session.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include <fmt/format.h>

namespace m2r::mssql {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

FakeSqlSession& FakeSqlSession::on(std::string sql_fragment, FakeResponse response) {
  std::lock_guard lock(m_mutex);
  auto key = lower(std::move(sql_fragment));
  for (auto& rule : m_rules) {
    if (rule.fragment == key) {
      rule.responses.push_back(std::move(response));
      return *this;
    }
  }
  m_rules.push_back(Rule{std::move(key), {std::move(response)}});
  return *this;
}

FakeSqlSession& FakeSqlSession::on_rows(std::string sql_fragment, std::vector<std::string> columns,
                                        std::vector<SqlRow> rows) {
  FakeResponse r;
  ResultSet set;
  for (auto& c : columns) set.columns.push_back(SqlColumn{std::move(c), SqlType::nvarchar, "nvarchar", 0, 0, 0, true});
  set.rows = std::move(rows);
  r.result.result_sets.push_back(std::move(set));
  r.result.rows_affected = static_cast<std::int64_t>(r.result.result_sets.back().rows.size());
  return on(std::move(sql_fragment), std::move(r));
}

FakeSqlSession& FakeSqlSession::on_count(std::string sql_fragment, std::int64_t rows_affected) {
  FakeResponse r;
  r.result.rows_affected = rows_affected;
  return on(std::move(sql_fragment), std::move(r));
}

FakeSqlSession& FakeSqlSession::on_error(std::string sql_fragment, Error error) {
  FakeResponse r;
  r.error = std::move(error);
  return on(std::move(sql_fragment), std::move(r));
}

Expected<QueryResult> FakeSqlSession::run(const Statement& statement, const MessageHandler& on_message) {
  FakeResponse response;
  {
    std::lock_guard lock(m_mutex);
    m_executed.push_back(statement);
    m_cancelled = false;
    const auto sql = lower(statement.sql);
    Rule* found = nullptr;
    for (auto& rule : m_rules) {
      if (sql.find(rule.fragment) != std::string::npos) {
        found = &rule;
        break;
      }
    }
    if (found == nullptr) {
      return fail(ErrorKind::fatal, fmt::format("FakeSqlSession: no answer scripted for: {}", statement.sql));
    }
    response = found->responses.front();
    if (found->responses.size() > 1) found->responses.pop_front();
  }
  QueryResult result = std::move(response.result);
  const auto until = std::chrono::steady_clock::now() + response.delay_before_messages;
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(m_mutex);
      if (m_cancelled) return fail(ErrorKind::fatal, fmt::format("the statement on {} was cancelled", describe()));
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(5),
                                                                              until - std::chrono::steady_clock::now()));
  }
  for (std::size_t i = 0; i < response.messages.size(); ++i) {
    if (i > 0 && response.delay_between_messages.count() > 0) std::this_thread::sleep_for(response.delay_between_messages);
    {
      std::lock_guard lock(m_mutex);
      if (m_cancelled) return fail(ErrorKind::fatal, fmt::format("the statement on {} was cancelled", describe()));
    }
    SqlMessage m = response.messages[i];
    m.received_at = std::chrono::steady_clock::now();
    if (on_message) on_message(m);
    if (!m.is_error()) result.messages.push_back(std::move(m));
  }
  if (response.error) return tl::unexpected(*response.error);
  return result;
}

void FakeSqlSession::cancel() {
  std::lock_guard lock(m_mutex);
  ++m_cancel_calls;
  m_cancelled = true;
}

std::vector<Statement> FakeSqlSession::executed() const {
  std::lock_guard lock(m_mutex);
  return m_executed;
}

std::vector<std::string> FakeSqlSession::executed_sql() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& s : m_executed) out.push_back(s.sql);
  return out;
}

int FakeSqlSession::cancel_calls() const {
  std::lock_guard lock(m_mutex);
  return m_cancel_calls;
}

SqlMessage info_message(int number, std::string text) {
  SqlMessage m;
  m.number = number;
  m.severity = 10;
  m.state = 1;
  m.text = std::move(text);
  m.sqlstate = "01000";
  return m;
}

std::vector<SqlMessage> backup_progress_messages(int step, const std::string& database) {
  std::vector<SqlMessage> out;
  for (int pct = step; pct <= 100; pct += step) {
    out.push_back(info_message(3211, fmt::format("{} percent processed.", pct)));
  }
  out.push_back(info_message(4035, fmt::format("Processed 296 pages for database '{}', file '{}' on file 1.", database,
                                               database)));
  out.push_back(info_message(3014, "BACKUP DATABASE successfully processed 298 pages in 0.064 seconds (36.376 MB/sec)."));
  return out;
}

}  // namespace m2r::mssql
