#pragma once
// A sandbox Session over TDS: the engine's Session interface, answered by a running SQL Server
// instance (the sandbox's own, served by `mssql2rds-sandbox serve`) through ODBC. Lets the
// workload generator drive a served instance exactly as an application would.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/api.hpp"
#include "mssql/sql_session.hpp"

namespace sandbox::workload {

struct RemoteLogin {
  std::string server = "127.0.0.1";
  std::uint16_t port = 1433;
  std::string database;
  std::string user = "sa";
  std::string password;
};

class RemoteSession final : public Session {
 public:
  RemoteSession(std::unique_ptr<m2r::mssql::SqlSession> session, std::string database)
      : m_session(std::move(session)), m_database(std::move(database)) {}
  // Runs the batch; every message SQL Server sent (errors included) goes to the sink, result
  // sets as text, then one DONE (with the error flag when the batch failed).
  void execute_batch(const std::string& sql, ResultSink& sink) override;
  // RPCs are not forwarded by this client: the sink gets an error naming the procedure.
  void execute_rpc(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& sink) override;
  std::string current_database() const override { return m_database; }  // as of the login

 private:
  std::unique_ptr<m2r::mssql::SqlSession> m_session;
  std::string m_database;
};

// Connects (FreeTDS over ODBC, no encryption: loopback). A failure is a LoginResult without a
// session whose message carries the driver's or the server's text (18456, unreachable, ...).
LoginResult remote_login(const RemoteLogin& login);

}  // namespace sandbox::workload
