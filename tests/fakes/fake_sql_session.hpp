#pragma once
// A hand-written SqlSession for tests of code above src/mssql (the migration steps): answers
// are scripted by a fragment of the SQL, and every statement run is recorded with its
// parameters. Honest about surprises: a statement nobody scripted fails (fatal) and is
// still recorded, so a test sees what it did not expect.
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mssql/sql_session.hpp"

namespace m2r::mssql {

struct FakeResponse {
  std::vector<SqlMessage> messages;  // delivered to the MessageHandler in order, before the end
  // How long the statement runs before its first message (FreeTDS delivers BACKUP's messages
  // only at the end); cancel() ends the wait with the cancelled error.
  std::chrono::milliseconds delay_before_messages{0};
  std::chrono::milliseconds delay_between_messages{0};
  QueryResult result;                // result_sets and rows_affected (messages are filled in)
  std::optional<Error> error;        // returned after the messages when set
};

class FakeSqlSession final : public SqlSession {
 public:
  // Scripts an answer for statements whose SQL contains `sql_fragment` (case-insensitive).
  // Several answers for one fragment are used in order; the last one repeats. The first
  // fragment (in the order scripted) that matches answers.
  FakeSqlSession& on(std::string sql_fragment, FakeResponse response);
  // Shorthands: one result set with nvarchar-typed columns; rows affected; an error.
  FakeSqlSession& on_rows(std::string sql_fragment, std::vector<std::string> columns, std::vector<SqlRow> rows);
  FakeSqlSession& on_count(std::string sql_fragment, std::int64_t rows_affected);
  FakeSqlSession& on_error(std::string sql_fragment, Error error);

  Expected<QueryResult> run(const Statement& statement, const MessageHandler& on_message) override;
  void cancel() override;
  std::string describe() const override { return "fake:1433/fakedb"; }

  // What happened, for assertions.
  std::vector<Statement> executed() const;
  std::vector<std::string> executed_sql() const;
  int cancel_calls() const;

 private:
  struct Rule {
    std::string fragment;
    std::deque<FakeResponse> responses;
  };
  mutable std::mutex m_mutex;
  std::vector<Rule> m_rules;
  std::vector<Statement> m_executed;
  int m_cancel_calls = 0;
  bool m_cancelled = false;
};

// A session that forwards to a FakeSqlSession the test keeps: hand it to code that takes
// ownership of its sessions (an opener, Connections), and what that code ran stays readable
// after it dropped the session.
class SharedFakeSession final : public SqlSession {
 public:
  explicit SharedFakeSession(std::shared_ptr<FakeSqlSession> fake) : m_fake(std::move(fake)) {}
  Expected<QueryResult> run(const Statement& statement, const MessageHandler& on_message) override {
    return m_fake->run(statement, on_message);
  }
  void cancel() override { m_fake->cancel(); }
  std::string describe() const override { return m_fake->describe(); }

 private:
  std::shared_ptr<FakeSqlSession> m_fake;
};

// An informational message as SQL Server sends it (severity 10, SQLSTATE 01000).
SqlMessage info_message(int number, std::string text);
// BACKUP ... WITH STATS = `step` messages (docs/facts.md §10): "n percent processed." up to 100,
// then 3014 "BACKUP DATABASE successfully processed ...".
std::vector<SqlMessage> backup_progress_messages(int step, const std::string& database);

}  // namespace m2r::mssql
