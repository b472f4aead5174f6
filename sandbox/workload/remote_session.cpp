#include "workload/remote_session.hpp"

#include "mssql/odbc_session.hpp"

namespace sandbox::workload {

namespace {

Message to_message(const m2r::mssql::SqlMessage& m) {
  Message out;
  out.number = m.number;
  out.severity = m.severity;
  out.state = m.state;
  out.text = m.text;
  out.line = m.line;
  return out;
}

}  // namespace

void RemoteSession::execute_batch(const std::string& sql, ResultSink& sink) {
  bool error_seen = false;
  auto result = m_session->run(m2r::mssql::Statement{sql, {}, {}}, [&](const m2r::mssql::SqlMessage& m) {
    error_seen = error_seen || m.is_error();
    sink.message(to_message(m));
  });
  if (!result) {
    if (!error_seen) {
      Message m;
      m.number = 50000;
      m.severity = 16;
      m.text = result.error().message;
      sink.message(m);
    }
    sink.done(DoneKind::statement, std::nullopt, true);
    return;
  }
  for (const auto& set : result->result_sets) {
    std::vector<Column> columns;
    for (const auto& c : set.columns) columns.push_back(Column{c.name, ColumnType{SqlType::nvarchar, k_max_length, 0, 0}, true});
    sink.columns(columns);
    for (const auto& row : set.rows) {
      std::vector<Value> values;
      for (const auto& v : row) values.push_back(v.is_null() ? Value{} : Value{v.to_text()});
      sink.row(values);
    }
    sink.done(DoneKind::statement, static_cast<std::int64_t>(set.rows.size()), false);
  }
  sink.done(DoneKind::statement,
            result->rows_affected >= 0 ? std::optional<std::int64_t>(result->rows_affected) : std::nullopt, false);
}

void RemoteSession::execute_rpc(const std::string& procedure, const std::vector<RpcParam>&, ResultSink& sink) {
  Message m;
  m.number = 50000;
  m.severity = 16;
  m.text = "The workload client does not send RPC requests ('" + procedure + "'); send the call as a batch.";
  sink.message(m);
  sink.done(DoneKind::proc, std::nullopt, true);
}

LoginResult remote_login(const RemoteLogin& login) {
  m2r::mssql::ConnectionSettings settings;
  settings.server = login.server;
  settings.port = login.port;
  settings.database = login.database;
  settings.login = login.user;
  settings.encrypt = false;
  settings.application_name = "mssql2rds-sandbox workload";
  LoginResult out;
  auto session = m2r::mssql::OdbcSession::connect(settings, m2r::mssql::Secret(login.password));
  if (!session) {
    out.failure.number = session.error().kind == m2r::ErrorKind::auth ? 18456 : 0;
    out.failure.severity = 14;
    out.failure.text = session.error().message;
    return out;
  }
  out.session = std::make_unique<RemoteSession>(std::move(*session), login.database);
  return out;
}

}  // namespace sandbox::workload
