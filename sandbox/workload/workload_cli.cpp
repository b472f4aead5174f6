#include "workload/workload_cli.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "engine/workload.hpp"
#include "tds/serve_config.hpp"
#include "workload/remote_session.hpp"

namespace sandbox::workload {

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) { g_interrupted = true; }

void print_counters(const WorkloadCounters& c, const char* when) {
  fmt::print("{} transactions={} inserts={} updates={} deletes={} long_transactions={} errors={} lock_retries={}\n", when,
             c.transactions.load(), c.inserts.load(), c.updates.load(), c.deletes.load(), c.long_transactions.load(),
             c.errors.load(), c.lock_retries.load());
  std::fflush(stdout);
}

// Collects the first error of a batch.
class FirstErrorSink final : public ResultSink {
 public:
  std::string error;
  void columns(const std::vector<Column>&) override {}
  void row(const std::vector<Value>&) override {}
  void done(DoneKind, std::optional<std::int64_t>, bool) override {}
  void message(const Message& m) override {
    if (m.is_error() && error.empty()) error = fmt::format("Msg {}: {}", m.number, m.text);
  }
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  bool cancelled() override { return false; }
};

}  // namespace

int run_workload(const WorkloadCommand& command) {
  const char* password = std::getenv(tds::k_sa_password_env);
  if (password == nullptr || *password == '\0') {
    fmt::print(stderr, "mssql2rds-sandbox: error: no password: set ${} (the world's is in DIR/secrets/sa_password)\n",
               tds::k_sa_password_env);
    return 2;
  }
  if (command.port == 0) {
    fmt::print(stderr, "mssql2rds-sandbox: error: --port is required (the instance's port, from `world env` or "
                       "DIR/world.json)\n");
    return 2;
  }
  RemoteLogin login{command.server, command.port, "master", "sa", password};
  if (command.create) {
    auto master = remote_login(login);
    if (!master.session) {
      fmt::print(stderr, "mssql2rds-sandbox: error: {}\n", master.failure.text);
      return 3;
    }
    if (auto e = create_sample_database(*master.session, command.database); !e.empty()) {
      fmt::print(stderr, "mssql2rds-sandbox: error: creating [{}]: {}\n", command.database, e);
      return 3;
    }
    FirstErrorSink sink;
    master.session->execute_batch("ALTER DATABASE [" + command.database + "] SET RECOVERY FULL", sink);
    if (!sink.error.empty()) {
      fmt::print(stderr, "mssql2rds-sandbox: error: {}\n", sink.error);
      return 3;
    }
    fmt::print("created [{}] (recovery FULL)\n", command.database);
  }
  login.database = command.database;
  WorkloadOptions options;
  options.database = command.database;
  options.statements_per_second = command.rate;
  options.long_every = std::chrono::milliseconds(command.long_every_ms);
  options.long_duration = std::chrono::milliseconds(command.long_every_ms > 0 ? command.long_duration_ms : 0);
  Workload workload([login] { return remote_login(login); }, options);
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  workload.start();
  fmt::print("workload on {}:{}/{}: {:g} transactions/s{}\n", command.server, command.port, command.database,
             command.rate,
             command.long_every_ms > 0
                 ? fmt::format(", a long transaction every {} ms held {} ms", command.long_every_ms, command.long_duration_ms)
                 : "");
  std::fflush(stdout);
  const auto started = std::chrono::steady_clock::now();
  auto next_report = started + std::chrono::seconds(5);
  while (!g_interrupted &&
         (command.seconds == 0 || std::chrono::steady_clock::now() - started < std::chrono::seconds(command.seconds))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() >= next_report) {
      print_counters(workload.counters(), "running:");
      next_report += std::chrono::seconds(5);
    }
  }
  workload.stop();
  print_counters(workload.counters(), "stopped:");
  if (workload.counters().errors > 0) {
    fmt::print(stderr, "mssql2rds-sandbox: {} transaction(s) failed; the last: {}\n", workload.counters().errors.load(),
               workload.last_error());
    return 1;
  }
  return 0;
}

}  // namespace sandbox::workload
