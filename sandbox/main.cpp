// mssql2rds-sandbox: the rehearsal world's SQL Server instances, served over TDS on
// loopback. `serve` opens each instance, listens, prints "ready name=... port=..."
// per instance (scripts wait for these lines), and stops cleanly on SIGTERM/SIGINT.
#include "workload/workload_cli.hpp"
#include "world/world_cli.hpp"
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tds/serve_config.hpp"
#include "tds/tds_server.hpp"

namespace {

constexpr int k_exit_usage = 2;

// A crash of a serving process says so in its log (the world's logs/<instance>.log) before it
// dies, so `world status` and whoever reads the log learn which instance went and why.
char g_fatal_note[256] = "mssql2rds-sandbox: fatal signal; the instance stops\n";

void on_fatal_signal(int sig) {
  const char* name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGABRT ? "SIGABRT" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "SIGILL";
  (void)!write(STDERR_FILENO, name, std::strlen(name));
  (void)!write(STDERR_FILENO, ": ", 2);
  (void)!write(STDERR_FILENO, g_fatal_note, std::strlen(g_fatal_note));
  signal(sig, SIG_DFL);
  raise(sig);
}

void note_fatal_signals(const std::string& instances) {
  std::snprintf(g_fatal_note, sizeof g_fatal_note, "mssql2rds-sandbox: fatal signal in the process serving %s; it stops\n",
                instances.c_str());
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) signal(sig, on_fatal_signal);
}

int serve(const sandbox::tds::ServeConfig& cfg) {
  // Block the stop signals before any thread starts so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto log = [](const std::string& line) { fmt::print(stderr, "mssql2rds-sandbox: {}\n", line); };
  {
    std::string names;
    for (const auto& served : cfg.instances) names += (names.empty() ? "" : ", ") + served.config.name;
    note_fatal_signals(names);
  }
  std::vector<std::unique_ptr<sandbox::Instance>> instances;
  std::vector<std::unique_ptr<sandbox::tds::TdsServer>> servers;
  for (const auto& served : cfg.instances) {
    std::unique_ptr<sandbox::Instance> instance;
    try {
      instance = sandbox::open_instance(served.config);
    } catch (const std::exception& e) {
      fmt::print(stderr, "mssql2rds-sandbox: error: cannot open instance '{}': {}\n", served.config.name, e.what());
      return 1;
    }
    if (!instance) {
      fmt::print(stderr, "mssql2rds-sandbox: error: cannot open instance '{}'\n", served.config.name);
      return 1;
    }
    auto server = std::make_unique<sandbox::tds::TdsServer>(*instance, cfg.host, served.port, log);
    server->set_read_timeout(served.read_timeout);
    if (!served.tls_cert.empty()) {
      auto tls = sandbox::tds::TlsServerContext::load(served.tls_cert, served.tls_key);
      if (!tls) {
        fmt::print(stderr, "mssql2rds-sandbox: error: {}\n  hint: {}\n", tls.error().message, tls.error().hint);
        return 1;
      }
      server->set_tls({*tls, served.force_ssl});
    }
    if (auto started = server->start(); !started) {
      fmt::print(stderr, "mssql2rds-sandbox: error: {}\n  hint: {}\n", started.error().message, started.error().hint);
      return 1;
    }
    fmt::print("ready name={} port={}\n", served.config.name, server->port());
    std::fflush(stdout);
    instances.push_back(std::move(instance));
    servers.push_back(std::move(server));
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log(fmt::format("signal {}: stopping", signal_number));
  for (auto& s : servers) s->stop();
  servers.clear();
  instances.clear();
  fmt::print("stopped\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // `world ...` is the rehearsal world's one command (sandbox/world); it parses its own words.
  if (argc >= 2 && std::string(argv[1]) == "world") {
    return sandbox::world::run_world_command(std::vector<std::string>(argv + 2, argv + argc));
  }
  CLI::App app{"mssql2rds-sandbox: SQL Server and RDS for SQL Server instances for the rehearsal world"};
  app.require_subcommand(1);
  auto* serve_cmd = app.add_subcommand("serve", "serve one or more instances over TDS on loopback");
  std::string config_path;
  std::vector<std::string> specs;
  std::string host = "127.0.0.1";
  serve_cmd->add_option("--config", config_path, "a TOML file with [[instance]] tables")->check(CLI::ExistingFile);
  serve_cmd->add_option("--instance", specs,
                        "name=src,port=14331,kind=sqlserver|rds,version=2019,data=DIR (repeatable); the sa "
                        "password comes from $" + std::string(sandbox::tds::k_sa_password_env));
  serve_cmd->add_option("--host", host, "address to listen on (loopback)");

  sandbox::workload::WorkloadCommand workload;
  auto* workload_cmd = app.add_subcommand(
      "workload", "drive inserts, updates, deletes and long transactions against a served instance over TDS");
  workload_cmd->add_option("--server", workload.server, "the instance's address")->capture_default_str();
  workload_cmd->add_option("--port", workload.port, "the instance's port")->required();
  workload_cmd->add_option("--database", workload.database, "the sample database")->capture_default_str();
  workload_cmd->add_flag("--create", workload.create, "create the sample database first (recovery FULL)");
  workload_cmd->add_option("--rate", workload.rate, "short transactions per second")->capture_default_str()
      ->check(CLI::Range(0.1, 1000.0));
  workload_cmd->add_option("--long-every-ms", workload.long_every_ms, "start a long transaction this often (0: none)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  workload_cmd->add_option("--long-duration-ms", workload.long_duration_ms, "how long each stays open")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  workload_cmd->add_option("--seconds", workload.seconds, "stop after this long (0: at SIGINT/SIGTERM)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  if (workload_cmd->parsed()) return sandbox::workload::run_workload(workload);

  sandbox::tds::ServeConfig cfg;
  if (!config_path.empty()) {
    auto parsed = sandbox::tds::parse_serve_toml(config_path);
    if (!parsed) {
      fmt::print(stderr, "mssql2rds-sandbox: error: {}\n", parsed.error().message);
      if (!parsed.error().hint.empty()) fmt::print(stderr, "  hint: {}\n", parsed.error().hint);
      return k_exit_usage;
    }
    cfg = std::move(*parsed);
  }
  if (serve_cmd->count("--host") > 0 || config_path.empty()) cfg.host = host;
  for (const auto& spec : specs) {
    auto parsed = sandbox::tds::parse_instance_spec(spec);
    if (!parsed) {
      fmt::print(stderr, "mssql2rds-sandbox: error: {}\n", parsed.error().message);
      if (!parsed.error().hint.empty()) fmt::print(stderr, "  hint: {}\n", parsed.error().hint);
      return k_exit_usage;
    }
    cfg.instances.push_back(std::move(*parsed));
  }
  if (cfg.instances.empty()) {
    fmt::print(stderr, "mssql2rds-sandbox: error: no instance to serve\n  hint: pass --instance or --config\n");
    return k_exit_usage;
  }
  return serve(cfg);
}
