#include "demo/demo.hpp"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "core/plan.hpp"
#include "migrate/config_file.hpp"
#include "demo/rehearsal_world.hpp"
#include "demo/sample_logins.hpp"
#include "migrate/logins.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/validate.hpp"
#include "mssql/connection_string.hpp"
#include "mssql/odbc_session.hpp"
#include "mssql/secret.hpp"

namespace m2r {

namespace {

constexpr const char* k_database = "sales";
constexpr const char* k_source_password_env = "MSSQL2RDS_SOURCE_PASSWORD";
constexpr const char* k_target_password_env = "MSSQL2RDS_TARGET_PASSWORD";
// The source's DBA (sa): what a migration login must not need (docs/facts.md §13: the
// Distributor and the publication need sysadmin; reading password hashes CONTROL SERVER).
constexpr const char* k_dba_password_env = "MSSQL2RDS_SOURCE_DBA_PASSWORD";
constexpr const char* k_migration_login = "m2r_migrator";

void say(EventSink& events, const std::string& message, nlohmann::json data = nlohmann::json::object()) {
  events.emit(Event{.kind = EventKind::info, .step = "demo", .message = message, .data = std::move(data)});
}

// The configuration a user would write for this world (mssql2rds init, filled in).
// `least_privilege`: the source login is the world's migration login and the target login RDS's
// master user; otherwise both are sa (`demo --setup-only`, the world the CLI tests build on).
std::string demo_config(const nlohmann::json& w, const std::string& dir, bool least_privilege) {
  const std::string backups = dir + "/backups";
  return fmt::format(
      "# Written by `mssql2rds demo` for the rehearsal world in {dir}.\n"
      "[migration]\nname = \"demo\"\n\n"
      "[source]\nserver = \"{sh}\"\nport = {sp}\ndatabase = \"{db}\"\nlogin = \"{sl}\"\npassword_env = \"{spe}\"\n"
      "driver = \"FreeTDS\"\nencrypt = true\ntrust_server_certificate = false\n"
      "ca_file = \"{ca}\"  # the world's CA (as RDS's global-bundle.pem)\n"
      "backup_dir_server = \"{bk}\"\nbackup_dir_local = \"{bk}\"\n\n"
      "[s3]\nbucket = \"{bucket}\"\nprefix = \"demo/\"\nregion = \"{region}\"\n\n"
      "[target]\nrds_instance = \"{rds}\"\nhost_override = \"{th}:{tp}\"  # the sandbox's RDS instance on loopback\n"
      "login = \"{tl}\"\npassword_env = \"{tpe}\"\ndriver = \"FreeTDS\"\nencrypt = true  # the instance has rds.force_ssl = 1\n"
      "trust_server_certificate = false\nca_file = \"{ca}\"\n\n"
      "[dms]\nreplication_instance = \"{ri}\"\nsource_endpoint = \"{se}\"\ntarget_endpoint = \"{te}\"\n"
      "table_mappings = \"include-all\"\n\n"
      "[upload]\nconnections = 4\n",
      fmt::arg("dir", dir), fmt::arg("ca", w.value("tls", nlohmann::json::object()).value("ca_file", "")),
      fmt::arg("sh", w["source"].value("host", "127.0.0.1")),
      fmt::arg("sp", w["source"].value("port", 0)), fmt::arg("db", k_database),
      fmt::arg("sl", least_privilege ? w["source"].value("migration_login", "sa") : w["source"].value("login", "sa")),
      fmt::arg("spe", k_source_password_env),
      fmt::arg("bk", backups), fmt::arg("bucket", w.value("bucket", "")), fmt::arg("region", w.value("region", "")),
      fmt::arg("rds", w.value("rds_instance", "")), fmt::arg("th", w["target"].value("host", "127.0.0.1")),
      fmt::arg("tp", w["target"].value("port", 0)), fmt::arg("tl", least_privilege ? w["target"].value("master_user", "sa") : w["target"].value("login", "sa")),
      fmt::arg("tpe", k_target_password_env), fmt::arg("ri", w.value("replication_instance_arn", "")),
      fmt::arg("se", w.value("source_endpoint_arn", "")), fmt::arg("te", w.value("target_endpoint_arn", "")));
}

// Passes every event on; when the backup has finished, commits the transaction the workload
// held open across its end (so it is in the log after the backup, not in the backup).
class LongTransactionCloser final : public EventSink {
 public:
  LongTransactionCloser(EventSink& inner, DemoWorkload& workload) : m_inner(inner), m_workload(workload) {}
  void emit(const Event& event) override {
    m_inner.emit(event);
    if (event.step == steps::backup && (event.kind == EventKind::step_finished || event.kind == EventKind::step_skipped)) {
      std::lock_guard lock(m_mutex);
      if (m_committed) return;
      m_committed = true;
      auto done = m_workload.commit_long();
      m_inner.emit(Event{.kind = done ? EventKind::info : EventKind::warning, .step = "demo",
                         .message = done ? "committed the transaction held open across the end of the backup"
                                         : "could not commit the long transaction: " + done.error().message});
    }
  }
  bool committed() const {
    std::lock_guard lock(m_mutex);
    return m_committed;
  }

 private:
  EventSink& m_inner;
  DemoWorkload& m_workload;
  mutable std::mutex m_mutex;
  bool m_committed = false;
};

// Ctrl-C (or SIGTERM) during the demo stops the world before the process ends: no moto or
// sandbox process is left behind. SIGINT and SIGTERM are blocked in every thread while the
// guard lives (threads started later inherit the mask) and a thread of its own waits for them.
class StopWorldOnSignal {
 public:
  StopWorldOnSignal(std::string sandbox_exe, std::string dir, EventSink& events)
      : m_exe(std::move(sandbox_exe)), m_dir(std::move(dir)), m_events(events) {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGINT);
    sigaddset(&m_set, SIGTERM);
    sigaddset(&m_set, SIGUSR2);  // the guard's own "stop waiting"
    // A shell starts background commands with SIGINT ignored; an ignored signal is discarded
    // rather than left for sigwait.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_BLOCK, &m_set, &m_previous);
    m_thread = std::thread([this] {
      int signal_number = 0;
      if (sigwait(&m_set, &signal_number) != 0 || signal_number == SIGUSR2) return;
      m_events.emit(Event{.kind = EventKind::warning, .step = "demo",
                          .message = fmt::format("interrupted (signal {}): stopping the rehearsal world in {}",
                                                 signal_number, m_dir)});
      (void)run_logged(m_exe, {"world", "down", "--dir", m_dir}, m_dir + "/world.log");
      std::_Exit(128 + signal_number);
    });
  }
  ~StopWorldOnSignal() {
    pthread_kill(m_thread.native_handle(), SIGUSR2);
    m_thread.join();
    pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
  }
  StopWorldOnSignal(const StopWorldOnSignal&) = delete;
  StopWorldOnSignal& operator=(const StopWorldOnSignal&) = delete;

 private:
  std::string m_exe, m_dir;
  EventSink& m_events;
  sigset_t m_set{}, m_previous{};
  std::thread m_thread;
};

Expected<std::unique_ptr<mssql::SqlSession>> connect_master(const MigrationConfig& config) {
  auto settings = mssql::settings_for(config.source);
  settings.database = "master";
  auto s = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::system_password_sources()));
  return std::unique_ptr<mssql::SqlSession>(std::move(s));
}

std::string workload_summary(const WorkloadCounts& c) {
  return fmt::format("{} transactions: {} orders placed, {} shipped, {} cancelled, {} customers added, {} LOB values "
                     "rewritten (the largest {:.2f} MiB), {} price changes, {} retried after a lock error",
                     c.transactions, c.orders_placed, c.orders_shipped, c.orders_cancelled, c.customers_added,
                     c.lob_updates, static_cast<double>(c.largest_lob_written) / (1 << 20), c.price_changes,
                     c.lock_retries);
}

}  // namespace

Expected<DemoReport> run_demo(const DemoOptions& options, EventSink& events) {
  const auto started = std::chrono::steady_clock::now();
  DemoReport report;
  report.dir = options.dir;
  const std::string exe = M2R_TRY(find_sandbox_executable(options.sandbox_exe));
  std::error_code ec;
  std::filesystem::create_directories(options.dir + "/backups", ec);
  if (ec) return fail(ErrorKind::invalid_input, fmt::format("cannot create {}: {}", options.dir, ec.message()));

  StopWorldOnSignal stop_on_signal(exe, options.dir, events);
  say(events, fmt::format("starting the rehearsal world in {} (moto, SQL Server, RDS for SQL Server, DMS)", options.dir));
  // The product runs as the least-privilege login docs/facts.md §3 lists (the world creates it
  // as the DBA would) and as RDS's master user; sa is the DBA's, for what needs sysadmin.
  // `--setup-only` keeps sa on both sides (the world the CLI tests drive as sa).
  const bool least_privilege = !options.setup_only;
  auto world = M2R_TRY(RehearsalWorld::up(exe, options.dir, k_database, least_privilege ? k_migration_login : ""));
  M2R_TRY(world.apply_environment());
  {
    // The passwords reach the product the way a user's do: through the variables the config
    // names, in this process's environment only. The master user's password is sa's (world.cpp).
    const std::string sa = M2R_TRY(world.sa_password());
    std::string migration = sa;
    if (least_privilege) migration = M2R_TRY(world.migration_password());
    ::setenv(k_source_password_env, migration.c_str(), 1);
    ::setenv(k_target_password_env, sa.c_str(), 1);
    ::setenv(k_dba_password_env, sa.c_str(), 1);
  }
  const auto& w = world.description();
  say(events, fmt::format("world ready: source SQL Server on port {}, RDS instance {} on port {}, moto on {}, DMS on {}",
                          w["source"].value("port", 0), w.value("rds_instance", ""), w["target"].value("port", 0),
                          w["moto"].value("endpoint", ""), w["dms"].value("endpoint", "")));

  report.config_path = options.dir + "/mssql2rds.toml";
  {
    std::ofstream out(report.config_path);
    out << demo_config(w, options.dir, least_privilege);
    if (!out) return fail(ErrorKind::prerequisite, "cannot write " + report.config_path, "choose a writable --dir");
  }
  const MigrationConfig config = M2R_TRY(load_config_file(report.config_path));
  Connections connections = M2R_TRY(default_connections(config));
  // The DBA's view of the same migration: sa on the source.
  MigrationConfig dba = config;
  dba.source.login = "sa";
  dba.source.password_env = k_dba_password_env;
  Connections dba_connections = M2R_TRY(default_connections(dba));
  say(events, "wrote " + report.config_path);

  const SampleShape shape = SampleShape::for_size(options.size_mib, options.customers);
  {
    auto master = M2R_TRY(connect_master(dba));
    M2R_TRY(create_sample_database(*master, k_database, shape));
    if (least_privilege) M2R_TRY(grant_migration_database(*master, config.source.login, k_database));
  }
  say(events, fmt::format("created the source database [{}] (about {} MiB): {} customers, {} orders, {} products with "
                          "descriptions and photos up to {:.1f} MiB, a heap with a unique "
                          "index, triggers and foreign keys",
                          k_database, shape.size_mib, shape.customers, shape.customers * 3, shape.products,
                          static_cast<double>(shape.largest_lob_bytes) / (1 << 20)));

  if (options.setup_only) {
    world.keep_running();
    report.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

  say(events, fmt::format("the source's DBA gave [{}] exactly what docs/facts.md §3 lists: db_owner on [{}], VIEW SERVER "
                          "STATE, users in master and msdb, SELECT on sys.fn_dblog and on msdb's backupset, "
                          "backupmediafamily and backupfile; it is not sysadmin",
                          config.source.login, k_database));

  AppLogin app;
  {
    auto master = M2R_TRY(connect_master(dba));
    app = M2R_TRY(create_app_login(*master, k_database));
  }
  say(events, fmt::format("created the application's own login [{}] (a generated password, kept in memory only) and its "
                          "user in [{}], in db_datareader and db_datawriter",
                          app.name, k_database));

  DemoWorkload workload(dba_connections.source, options.transactions_per_second, shape);
  M2R_TRY(workload.start());
  M2R_TRY(workload.begin_long());
  say(events, fmt::format("the application is writing: {:g} transactions/s; one transaction stays open across the "
                          "end of the backup", options.transactions_per_second));

  // A real DBA sets up what needs sysadmin (the Distributor and the publication, docs/facts.md
  // §13) before handing the migration to a login that is not: `check --fix` runs as sa, then
  // `check` as the migration login verifies each permission it needs.
  events.emit(Event{.kind = EventKind::step_started, .step = "check",
                    .message = "mssql2rds check --fix (as the source's DBA, sa: publishing needs sysadmin)"});
  M2R_TRY(check_migration(dba, dba_connections, CheckOptions{.fix_source = true, .test_connections = false}, events));
  events.emit(Event{.kind = EventKind::step_started, .step = "check",
                    .message = fmt::format("mssql2rds check (as {} on the source, {} on RDS)", config.source.login,
                                           config.target.login)});
  const auto checks = M2R_TRY(check_migration(config, connections, CheckOptions{}, events));
  for (const auto& c : checks) {
    if (c.status != CheckStatus::pass) {
      events.emit(Event{.kind = c.status == CheckStatus::fail ? EventKind::warning : EventKind::info, .step = "check",
                        .message = fmt::format("{}: {} ({})", c.title, c.detail, c.fix)});
    }
  }
  if (any_failed(checks)) return fail(ErrorKind::prerequisite, "the rehearsal world failed a prerequisite check");
  events.emit(Event{.kind = EventKind::step_finished, .step = "check",
                    .message = fmt::format("{} checks passed", checks.size())});

  auto journal = M2R_TRY(SqliteJournal::open(config.journal));
  LongTransactionCloser closer(events, workload);
  RunOptions run;
  run.restore_poll = std::chrono::milliseconds(1000);
  M2R_TRY(run_migration(config, connections, *journal, closer, run));
  if (!closer.committed()) M2R_TRY(workload.commit_long());

  auto& clock = *connections.clock;
  const auto replicate_until = clock.now() + options.replicate_for;
  while (clock.now() < replicate_until) {
    clock.sleep_for(std::chrono::seconds(2));
    auto status = migration_status(config, *journal, connections.aws);
    if (!status) continue;
    std::int64_t inserts = 0, updates = 0, deletes = 0;
    for (const auto& t : status->tables) {
      inserts += t.value("inserts", std::int64_t{0});
      updates += t.value("updates", std::int64_t{0});
      deletes += t.value("deletes", std::int64_t{0});
    }
    say(events, fmt::format("CDC: task {}, latency {:.0f} s; applied {} inserts, {} updates, {} deletes; workload: {}",
                            status->task.value("status", std::string("?")), status->latency_target_s.value_or(0),
                            inserts, updates, deletes, workload_summary(workload.counts())));
  }

  // validate while the application still writes, as the README recommends: each table's
  // result is journaled with the source's log position, and the cutover compares again only the
  // tables the log shows changed since, so the full comparison is not part of the downtime.
  events.emit(Event{.kind = EventKind::step_started, .step = "validate",
                    .message = "mssql2rds validate (while the application writes and CDC replicates)"});
  if (auto v = validate_and_record(connections, config, validation_options(config.validate), *journal); v) {
    const auto equal = v->tables.size() - static_cast<std::size_t>(v->mismatches);
    events.emit(Event{.kind = EventKind::step_finished, .step = "validate",
                      .message = fmt::format("{} of {} tables equal now; the cutover compares again those that differ "
                                             "(CDC still catching up) or that the source's log shows changed since",
                                             equal, v->tables.size())});
  } else {
    // A lock timeout against the live workload, say: nothing is reused, the cutover compares all.
    events.emit(Event{.kind = EventKind::warning, .step = "validate",
                      .message = "the validation during CDC stopped (" + v.error().message +
                                 "); the cutover compares every table"});
  }

  workload.stop();
  report.workload = workload.counts();
  if (report.workload.errors > 0) {
    return fail(ErrorKind::fatal, fmt::format("the workload had {} failed transaction(s); the first: {}",
                                              report.workload.errors, workload.first_error()));
  }
  say(events, "the application stopped writing: " + workload_summary(report.workload));

  const auto writes_stopped_at = clock.now();

  events.emit(Event{.kind = EventKind::step_started, .step = "cutover", .message = "mssql2rds cutover --yes"});
  CutoverOptions cutover;
  cutover.writes_stopped_at = writes_stopped_at;
  cutover.drain_timeout = std::chrono::seconds(180);
  report.cutover = M2R_TRY(cutover_migration(config, connections, *journal, events, cutover));

  {
    auto target = M2R_TRY(connections.target(k_database));
    auto rows = M2R_TRY(target->query("SELECT COUNT_BIG(*) AS n FROM dbo.Customers WHERE Name = ?",
                                      {mssql::SqlParam::nvarchar(k_long_transaction_customer)}));
    const auto n = M2R_TRY(rows.first().value(0, "n"));
    report.long_transaction_rows_on_target = M2R_TRY(n.as_int64());
  }

  // The restore brought the application's user, not its login: carry it, then log in as the
  // application does, with its own password.
  events.emit(Event{.kind = EventKind::step_started, .step = "logins", .message = "mssql2rds logins --yes"});
  // Carrying a login's hash needs CONTROL SERVER on the source (docs/facts.md §15): the DBA's.
  const auto carried = M2R_TRY(transfer_logins(dba, dba_connections, journal.get(), events, {.apply = true}));
  {
    auto settings = mssql::settings_for(config.target, w["target"].value("host", std::string("127.0.0.1")),
                                        static_cast<std::uint16_t>(w["target"].value("port", 0)));
    settings.database = k_database;
    auto source = M2R_TRY(connections.source());
    const auto check = M2R_TRY(check_app_login(settings, app, *source));
    report.app_login_rows_equal = check.rows_equal;
    report.app_login_detail = check.first_difference;
    events.emit(Event{.kind = check.rows_equal ? EventKind::step_finished : EventKind::warning, .step = "logins",
                      .message = check.rows_equal
                                     ? fmt::format("{} statement(s) run on RDS; [{}] logged in to RDS with its own password "
                                                   "and counted the rows of all {} tables equal to the source's",
                                                   carried.applied.size(), app.name, check.tables)
                                     : fmt::format("[{}] on RDS: {}", app.name, check.first_difference)});
  }
  if (options.keep_world) world.keep_running();
  else M2R_TRY(world.down());
  report.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace m2r
