#include "core/checks.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/cutover_marker.hpp"
#include "core/distributor.hpp"
#include "core/server_edition.hpp"
#include "core/ascii_case.hpp"

namespace m2r {

const char* to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::pass: return "PASS";
    case CheckStatus::warn: return "WARN";
    case CheckStatus::fail: return "FAIL";
  }
  return "FAIL";
}

namespace {

CheckResult pass(std::string id, std::string title, std::string detail) {
  return {std::move(id), std::move(title), CheckStatus::pass, std::move(detail), ""};
}
CheckResult warn(std::string id, std::string title, std::string detail, std::string fix) {
  return {std::move(id), std::move(title), CheckStatus::warn, std::move(detail), std::move(fix)};
}
CheckResult failed(std::string id, std::string title, std::string detail, std::string fix) {
  return {std::move(id), std::move(title), CheckStatus::fail, std::move(detail), std::move(fix)};
}

std::string join_names(const std::vector<std::string>& names, std::size_t most = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > most) out += fmt::format(" and {} more", names.size() - most);
  return out;
}

std::string lower(std::string s) { return ascii_lower(s); }



// What DMS does not carry faithfully, table by table (docs/facts.md §12): each a warning naming
// the columns and what to do. Validation still compares every column (rowversion excepted), so
// a value lost this way is named by key, never passed.
void check_fidelity(const SourceFacts& f, std::vector<CheckResult>& r) {
  auto each = [&](auto pick) {
    std::vector<std::string> out;
    for (const auto& t : f.tables) {
      const std::vector<std::string> cols = pick(t);
      if (!cols.empty()) out.push_back(t.name + " " + join_names(cols, 4));
    }
    return out;
  };
  auto add = [&](const char* id, const char* title, const std::vector<std::string>& found, const std::string& fix,
                 const std::string& none) {
    if (found.empty()) r.push_back(pass(id, title, none));
    else r.push_back(warn(id, title, join_names(found, 6), fix));
  };
  add("source.lob_without_key", "LOB columns are in tables with a primary key",
      each([](const SourceTableFacts& t) { return t.has_pk ? std::vector<std::string>{} : t.lob_columns; }),
      "during CDC DMS replicates no LOB column of a table without a primary key (inserts arrive with NULL, updates "
      "leave the old value): add a primary key BEFORE the backup, or keep those values unchanged until the cutover; "
      "validate names any row that differs",
      "none in a table without a primary key");
  std::vector<std::string> keyless;
  for (const auto& t : f.tables)
    if (!t.has_pk && !t.has_unique_index) keyless.push_back(t.name);
  add("source.keyless", "every table has a primary key or a unique index", keyless,
      "updates and deletes of these tables reach the target only through MS-CDC (`check --fix` enables it); rows "
      "replayed from the overlap after the backup arrive twice (no key to replace them); validation compares them "
      "as multisets of row hashes and names duplicates: add a primary key before the backup",
      "yes");
  add("source.rowversion", "no rowversion (timestamp) columns",
      each([](const SourceTableFacts& t) { return t.rowversion_columns; }),
      "the target generates its own values: they always differ from the source's; validation leaves these columns "
      "out and says so; an application that keeps rowversion values across the cutover sees new ones",
      "none");
  add("source.computed", "no computed columns", each([](const SourceTableFacts& t) { return t.computed_columns; }),
      "DMS does not carry computed values; the target computes them from its own columns (validation compares them, "
      "so a non-deterministic or persisted expression that differs is named)",
      "none");
  add("source.sparse", "no sparse columns or column sets", each([](const SourceTableFacts& t) { return t.sparse_columns; }),
      "DMS does not support sparse column sets: replace the column set before the migration or move those tables "
      "another way; validate names what differs",
      "none");
  add("source.clr_types", "no CLR, spatial or hierarchyid columns", each([](const SourceTableFacts& t) { return t.clr_columns; }),
      "DMS carries geography and geometry as LOBs (the LOB mode applies) and hierarchyid as text, and does not "
      "support CLR user-defined types: check these columns with validate before the cutover",
      "none");
  // Not a setting to check: what DMS never captures, and how it would show.
  r.push_back(pass("source.uncaptured", "TRUNCATE TABLE and sp_rename during CDC",
                   "not captured by DMS: SQL Server refuses TRUNCATE on a published or MS-CDC table (Msg 4711); a "
                   "rename or other DDL during CDC is not carried; validate and the cutover compare every table by row "
                   "hashes, so a table emptied or renamed on one side shows as differing or present on one side only"));
}

// The Distributor a publication needs (docs/facts.md §13): a published database has one; an
// unpublished one needs a local or remote Distributor before `check --fix` can publish it.
void check_distributor(const SourceFacts& f, std::vector<CheckResult>& r) {
  const char* id = "source.distributor";
  const char* title = "a Distributor is configured (publishing needs one)";
  const auto state = distributor_state(f);
  if (f.is_published) {
    r.push_back(pass(id, title, "the database is published" +
                                    (f.distributor.server.empty() ? std::string() : ", Distributor " + f.distributor.server)));
    return;
  }
  if (state == DistributorState::local_ready) {
    r.push_back(pass(id, title, fmt::format("local Distributor {} with a distribution database; {} is its Publisher",
                                            f.distributor.server, f.server_name)));
    return;
  }
  if (state == DistributorState::remote) {
    r.push_back(pass(id, title, fmt::format("remote Distributor {}: publishing uses it (`check --fix` leaves it as it is; "
                                            "{} must be registered as its Publisher there)",
                                            f.distributor.server, f.server_name)));
    return;
  }
  std::string detail;
  switch (state) {
    case DistributorState::unknown: detail = "sp_get_distributor failed: " + f.distributor.error; break;
    case DistributorState::local_incomplete:
      detail = fmt::format("local Distributor {} without {}", f.distributor.server,
                           !f.distributor.database_installed ? "a distribution database" : "this server registered as its Publisher");
      break;
    default:
      detail = "no Distributor: sp_get_distributor reports no distribution server, so sp_replicationdboption would fail "
               "with Msg 20028";
  }
  if (!f.is_sysadmin) detail += " (the login is not sysadmin: it sees a Distributor only once it is db_owner of a published database)";
  SourceFacts assumed_missing = f;  // unknown: the full set-up is what to check for and run
  if (state == DistributorState::unknown) assumed_missing.distributor = DistributorFacts{.known = true};
  const auto script = local_distributor_script(assumed_missing);
  const std::string steps = fmt::format("{} (then `mssql2rds check --fix` publishes the database)", script);
  r.push_back(failed(id, title, detail,
                     f.is_sysadmin
                         ? "`mssql2rds check --fix` configures a local Distributor with your consent, as the DMS guide has a "
                           "self-managed source do first; or run as sysadmin: " + steps
                         : "publishing needs a sysadmin (`check --fix` cannot do it with this login): a sysadmin runs " + steps +
                               ", or uses a remote Distributor it already has"));
}

}  // namespace

std::vector<CheckResult> evaluate_source(const SourceFacts& f) {
  std::vector<CheckResult> r;
  if (!f.reachable) {
    r.push_back(failed("source.reachable", "source SQL Server is reachable", f.connect_error,
                       "check [source] server, port and login in the config, the password variable it names, and "
                       "that this machine can reach the server (firewall, TLS settings)"));
    return r;
  }
  r.push_back(pass("source.reachable", "source SQL Server is reachable", "SQL Server " + f.product_version));
  if (!f.database_exists) {
    r.push_back(failed("source.database", "source database exists", fmt::format("no database '{}'", f.database),
                       "check [source] database in the config"));
    return r;
  }
  // source.permissions: core/source_permissions, from facts of their own (check.cpp).

  if (f.recovery_model == "FULL" || f.recovery_model == "BULK_LOGGED") {
    r.push_back(pass("source.recovery_model", "recovery model is FULL or BULK_LOGGED", f.recovery_model));
  } else {
    r.push_back(failed("source.recovery_model", "recovery model is FULL or BULK_LOGGED", f.recovery_model,
                       fmt::format("ALTER DATABASE [{}] SET RECOVERY FULL; DMS CDC reads the log, which SIMPLE "
                                   "truncates at every checkpoint",
                                   f.database)));
  }

  std::vector<std::string> uncovered_pk, uncovered_nopk, unsupported;
  for (const auto& t : f.tables) {
    if (t.memory_optimized || t.columnstore) unsupported.push_back(t.name);
    if (t.cdc_enabled) continue;
    if (t.has_pk && !t.published) uncovered_pk.push_back(t.name);
    if (!t.has_pk) uncovered_nopk.push_back(t.name);
  }
  if (uncovered_pk.empty() && uncovered_nopk.empty()) {
    r.push_back(pass("source.capture", "a publication or MS-CDC covers every table",
                     fmt::format("{} table(s); published: {}, MS-CDC: {}", f.tables.size(), f.is_published ? "yes" : "no",
                                 f.is_cdc_enabled ? "yes" : "no")));
  } else {
    std::string detail;
    if (!uncovered_pk.empty()) detail += "not published: " + join_names(uncovered_pk);
    if (!uncovered_nopk.empty()) {
      detail += (detail.empty() ? "" : "; ") + std::string("without a primary key and without MS-CDC: ") +
                join_names(uncovered_nopk);
    }
    r.push_back(failed("source.capture", "a publication or MS-CDC covers every table", detail,
                       "create the publication (tables with a primary key) and enable MS-CDC (tables without one) "
                       "BEFORE the backup: `mssql2rds check --fix` does it with your consent (facts: a native start "
                       "point needs a publication you create yourself)"));
  }

  check_distributor(f, r);
  evaluate_server_edition(f, r);  // source.edition, source.version, source.agent

  const auto marker = cutover_marker::table().display();
  if (std::any_of(f.tables.begin(), f.tables.end(), [&](const SourceTableFacts& t) { return t.name == marker; })) {
    r.push_back(pass("source.cutover_marker", "the cutover marker's table exists", marker));
  } else {
    r.push_back(warn("source.cutover_marker", "the cutover marker's table exists", "no table " + marker,
                     "`mssql2rds check --fix` creates it (two columns) and publishes it, BEFORE the backup: cutover "
                     "then proves the drain by a row the change stream must carry; without it cutover falls back "
                     "to CloudWatch latency and table statistics, and validation alone decides"));
  }

  check_fidelity(f, r);

  if (f.log_reuse_wait == "NOTHING" || f.log_reuse_wait == "REPLICATION" || f.log_reuse_wait == "LOG_BACKUP" ||
      f.log_reuse_wait == "CHECKPOINT" || f.log_reuse_wait.empty()) {
    r.push_back(pass("source.log_reuse_wait", "nothing unusual holds the log", f.log_reuse_wait));
  } else {
    r.push_back(warn("source.log_reuse_wait", "nothing unusual holds the log", f.log_reuse_wait,
                     "the log is held by " + f.log_reuse_wait + "; watch its growth during the migration"));
  }
  if (f.is_encrypted) {
    r.push_back(failed("source.tde", "database is not encrypted with TDE", "TDE is on",
                       "restore the TDE certificate on RDS first (rds_restore_tde_certificate, option "
                       "TRANSPARENT_DATA_ENCRYPTION) or decrypt the database before the backup"));
  } else {
    r.push_back(pass("source.tde", "database is not encrypted with TDE", "not encrypted"));
  }
  if (!unsupported.empty()) {
    r.push_back(warn("source.unsupported_tables", "no memory-optimized or columnstore tables",
                     join_names(unsupported),
                     "DMS does not capture changes to these tables; migrate them separately at cutover"));
  }
  if (f.accelerated_database_recovery) {
    r.push_back(warn("source.adr", "accelerated database recovery is off", "ADR is on",
                     "DMS does not support ADR: ALTER DATABASE ... SET ACCELERATED_DATABASE_RECOVERY = OFF"));
  }
  if (!f.delayed_durability.empty() && f.delayed_durability != "DISABLED") {
    r.push_back(warn("source.delayed_durability", "delayed durability is off", f.delayed_durability,
                     "DMS does not support delayed durability: ALTER DATABASE ... SET DELAYED_DURABILITY = DISABLED"));
  }
  return r;
}

std::vector<CheckResult> evaluate_rds(const RdsFacts& f, const SourceFacts& source) {
  std::vector<CheckResult> r;
  if (!f.reachable) {
    r.push_back(failed("rds.reachable", "RDS API is reachable", f.error,
                       "check AWS credentials (AWS_PROFILE) and region; `aws sts get-caller-identity` should work"));
    return r;
  }
  if (!f.instance_exists) {
    r.push_back(failed("rds.instance", "target RDS instance exists", fmt::format("no DB instance '{}'", f.instance_id),
                       "check [target] rds_instance and the region"));
    return r;
  }
  if (f.engine.rfind("sqlserver-", 0) == 0) {
    r.push_back(pass("rds.engine", "target is RDS for SQL Server", f.engine + " " + f.engine_version));
  } else {
    r.push_back(failed("rds.engine", "target is RDS for SQL Server", f.engine,
                       "point [target] rds_instance at an RDS for SQL Server instance"));
  }
  if (f.status == "available") {
    r.push_back(pass("rds.status", "target instance is available", f.status));
  } else {
    r.push_back(failed("rds.status", "target instance is available", f.status, "wait until the instance is available"));
  }
  if (source.major_version > 0 && f.major_version > 0) {
    if (source.major_version <= f.major_version) {
      r.push_back(pass("versions", "source version is not newer than the target",
                       fmt::format("source {} <= target {}", source.major_version, f.major_version)));
    } else {
      r.push_back(failed("versions", "source version is not newer than the target",
                         fmt::format("source {} > target {}", source.major_version, f.major_version),
                         "a backup cannot be restored on an older SQL Server: upgrade the RDS engine version"));
    }
  }
  if (!f.option_group_has_backup_restore || f.iam_role_arn.empty()) {
    r.push_back(failed("rds.option_group", "option group has SQLSERVER_BACKUP_RESTORE with IAM_ROLE_ARN",
                       f.option_group_name.empty() ? "no option group" : "option group " + f.option_group_name +
                           (f.option_group_has_backup_restore ? " has no IAM_ROLE_ARN" : " lacks SQLSERVER_BACKUP_RESTORE"),
                       "add the option SQLSERVER_BACKUP_RESTORE with IAM_ROLE_ARN (a role trusted by rds.amazonaws.com "
                       "that may s3:ListBucket, s3:GetBucketLocation, s3:GetObject on the bucket) to the instance's "
                       "option group"));
  } else if (f.option_group_status != "in-sync") {
    r.push_back(failed("rds.option_group", "option group has SQLSERVER_BACKUP_RESTORE with IAM_ROLE_ARN",
                       "option group " + f.option_group_name + " is " + f.option_group_status,
                       "wait until the option group is in-sync (apply it to the instance if pending)"));
  } else {
    r.push_back(pass("rds.option_group", "option group has SQLSERVER_BACKUP_RESTORE with IAM_ROLE_ARN",
                     f.option_group_name + ", role " + f.iam_role_arn));
  }
  if (source.size_gb > 0 && f.allocated_storage_gb > 0) {
    if (source.size_gb * 1.2 <= f.allocated_storage_gb) {
      r.push_back(pass("rds.storage", "instance storage fits the database",
                       fmt::format("{:.1f} GB database, {:.0f} GB allocated", source.size_gb, f.allocated_storage_gb)));
    } else {
      r.push_back(failed("rds.storage", "instance storage fits the database",
                         fmt::format("{:.1f} GB database, {:.0f} GB allocated", source.size_gb, f.allocated_storage_gb),
                         "increase the instance's allocated storage to at least 1.2x the database size"));
    }
  }
  // The restore, the target's preparation and the cutover all log in with [target]: a login
  // that fails now fails them later, after a full backup and upload.
  if (!f.target_connect_error.empty()) {
    r.push_back(failed("rds.target_login", "the target SQL Server accepts the configured login",
                       f.target_connect_error,
                       "check [target] login and the password variable it names (the RDS master user), and "
                       "host_override when the instance is reached through a tunnel"));
  } else if (f.target_database_exists.has_value()) {
    r.push_back(pass("rds.target_login", "the target SQL Server accepts the configured login", "logged in"));
  }
  if (!f.target_database_exists.has_value()) {
    r.push_back(warn("rds.target_name", "target database name is free", "could not connect: " + f.target_connect_error,
                     "check [target] login, password variable and host_override; the restore will fail if the name "
                     "is taken"));
  } else if (*f.target_database_exists) {
    r.push_back(failed("rds.target_name", "target database name is free", "a database with that name exists on RDS",
                       "choose another [target] database, or drop it with msdb.dbo.rds_drop_database if it is a "
                       "leftover"));
  } else {
    r.push_back(pass("rds.target_name", "target database name is free", "free"));
  }
  return r;
}

std::vector<CheckResult> evaluate_s3(const S3Facts& f, const RdsFacts& rds) {
  std::vector<CheckResult> r;
  if (!f.reachable) {
    r.push_back(failed("s3.bucket", "S3 bucket is reachable", f.error,
                       f.error_fix.empty() ? "check [s3] bucket and your credentials' s3:ListBucket / s3:PutObject permissions"
                                           : f.error_fix));
    return r;
  }
  r.push_back(pass("s3.bucket", "S3 bucket is reachable", f.bucket));
  if (!rds.region.empty() && f.region != rds.region) {
    r.push_back(failed("s3.region", "bucket is in the instance's region",
                       fmt::format("bucket in {}, instance in {}", f.region, rds.region),
                       "use a bucket in the same region as the RDS instance (RDS: 'Please specify a bucket that is in "
                       "the same region as RDS instance')"));
  } else {
    r.push_back(pass("s3.region", "bucket is in the instance's region", f.region));
  }
  return r;
}

namespace {
// not_yet_created: the target database, when it does not exist until the restore creates it.
void check_endpoint(std::vector<CheckResult>& r, const char* which, const DmsEndpointFacts& e,
                    const std::string& want_server, int want_port, const std::string& want_db,
                    const std::optional<std::string>& not_yet_created = std::nullopt) {
  const std::string id = fmt::format("dms.{}_endpoint", which);
  const std::string title = fmt::format("DMS {} endpoint points at the {}", which, which);
  if (!e.exists) {
    r.push_back(failed(id, title, fmt::format("no endpoint '{}'", e.identifier),
                       fmt::format("create a sqlserver {} endpoint in DMS and name it in [dms] {}_endpoint", which, which)));
    return;
  }
  if (e.engine != "sqlserver") {
    r.push_back(failed(id, title, "engine " + e.engine, "the endpoint's engine must be sqlserver"));
    return;
  }
  const bool server_ok = want_server.empty() || lower(e.server) == lower(want_server);
  const bool port_ok = want_port == 0 || e.port == want_port;
  const bool db_ok = want_db.empty() || e.database == want_db;
  if (!server_ok || !port_ok || !db_ok) {
    r.push_back(failed(id, title,
                       fmt::format("endpoint has {}:{} database {}; expected {}:{} database {}", e.server, e.port,
                                   e.database, want_server, want_port, want_db),
                       "modify the endpoint (aws dms modify-endpoint) or fix the config"));
    return;
  }
  r.push_back(pass(id, title, fmt::format("{}:{} / {}", e.server, e.port, e.database)));
  const std::string cid = fmt::format("dms.{}_connection", which);
  const std::string ctitle = fmt::format("DMS can connect to the {}", which);
  if (e.connection_status == "successful") {
    r.push_back(pass(cid, ctitle, "TestConnection successful"));
  } else if (e.connection_status == "failed" && not_yet_created &&
             dms_connection_cannot_open_database(e.connection_message, *not_yet_created)) {
    // Before the restore the target database does not exist: DMS's real login reaches the
    // server and is accepted, then cannot open the database (4060). That is the expected state.
    r.push_back(pass(cid, ctitle,
                     fmt::format("the endpoint reaches the server and logs in; the database {} does not exist until "
                                 "the restore creates it (TestConnection: cannot open database)",
                                 *not_yet_created)));
  } else if (e.connection_status.empty() || e.connection_status == "testing") {
    r.push_back(failed(cid, ctitle, e.connection_status.empty() ? "not tested" : "testing: TestConnection did not end in time",
                       "run `mssql2rds check` again; `aws dms describe-connections` shows the test's result"));
  } else {
    r.push_back(failed(cid, ctitle, e.connection_status + ": " + e.connection_message,
                       dms_connection_fix(e.connection_message, which)));
  }
}
}  // namespace

std::vector<CheckResult> evaluate_dms(const DmsFacts& f, const ExpectedTopology& expected, const RdsFacts& rds) {
  std::vector<CheckResult> r;
  if (!f.reachable) {
    r.push_back(failed("dms.reachable", "DMS API is reachable", f.error, "check AWS credentials and region"));
    return r;
  }
  if (!f.instance_exists) {
    r.push_back(failed("dms.instance", "DMS replication instance is available", "not found",
                       "create a replication instance and name it in [dms] replication_instance"));
  } else if (f.instance_status != "available") {
    r.push_back(failed("dms.instance", "DMS replication instance is available", f.instance_status,
                       "wait until the replication instance is available"));
  } else {
    r.push_back(pass("dms.instance", "DMS replication instance is available", f.instance_status));
  }
  check_endpoint(r, "source", f.source, expected.source_server, expected.source_port, expected.source_database);
  std::string rds_host;
  int rds_port = 0;
  if (const auto colon = rds.endpoint.rfind(':'); colon != std::string::npos) {
    rds_host = rds.endpoint.substr(0, colon);
    rds_port = std::atoi(rds.endpoint.c_str() + colon + 1);
  }
  // With a host override (a tunnel or private address), an endpoint naming that address is
  // as right as one naming the RDS endpoint.
  if (const auto colon = expected.target_host_override.rfind(':'); colon != std::string::npos &&
      lower(f.target.server) == lower(expected.target_host_override.substr(0, colon)) &&
      f.target.port == std::atoi(expected.target_host_override.c_str() + colon + 1)) {
    rds_host = f.target.server;
    rds_port = f.target.port;
  }
  std::optional<std::string> not_yet_created;
  if (rds.target_database_exists == false) not_yet_created = expected.target_database;
  check_endpoint(r, "target", f.target, rds_host, rds_port, expected.target_database, not_yet_created);
  if (f.task_exists) {
    r.push_back(warn("dms.task", "no DMS task with this identifier exists yet", "status " + f.task_status,
                     "`mssql2rds run` will reuse it only if its journal created it; otherwise pick another [dms] "
                     "task_id or delete the old task"));
  }
  return r;
}

std::string dms_connection_fix(const std::string& m, const std::string& which) {
  const std::string text = lower(m);
  auto has = [&](const char* fragment) { return text.find(fragment) != std::string::npos; };
  // 4060 first: its text ends "The login failed." although the login was accepted.
  if (has("nativeerror: 4060") || has("cannot open database")) {
    return fmt::format("the {} endpoint's DatabaseName does not exist on that server, or its user may not open "
                       "it: fix it with `aws dms modify-endpoint --database-name ...`, or map the login to a user "
                       "in the database",
                       which);
  }
  if (has("nativeerror: 18456") || has("login failed for user") || has("authentication failed")) {
    return fmt::format("the {} endpoint's Username or Password is not accepted by the server: set the login's "
                       "name and password with `aws dms modify-endpoint --username ... --password ...`",
                       which);
  }
  if (has("ssl") || has("tls") || has("certificate") || has("encrypt")) {
    return fmt::format("the server's encryption does not match the {} endpoint's SslMode: use require (or "
                       "verify-full with the server's CA imported as the endpoint's certificate)",
                       which);
  }
  if (has("network error") || has("08001") || has("timeout") || has("unable to connect")) {
    return fmt::format("the replication instance cannot reach the {} endpoint's ServerName and Port: check them "
                       "(`aws dms describe-endpoints`) and the security groups and routes between the replication "
                       "instance and the server",
                       which);
  }
  return "check the endpoint's server, port, credentials and database, and that the replication instance can reach "
         "the server (security groups, routes)";
}

bool dms_connection_cannot_open_database(const std::string& m, const std::string& database) {
  // SQL Server's 4060: Cannot open database "x" requested by the login. The login failed.
  return lower(m).find(lower(fmt::format("Cannot open database \"{}\" requested by the login", database))) !=
         std::string::npos;
}

CheckResult evaluate_connection_security(const ConnectionSecurity& c) {
  const std::string id = c.section == "source" ? "source.tls" : "rds.tls";
  const std::string title = fmt::format("the {} connection is encrypted and its certificate verified", c.section);
  if (c.custom_turns_encryption_off) {
    return warn(id, title, "odbc_connection_string says Encryption=off: the password crosses the network merely obfuscated",
                fmt::format("remove Encryption=off from [{}] odbc_connection_string", c.section));
  }
  if (c.custom_connection_string) {
    return pass(id, title, "as [" + c.section + "] odbc_connection_string says");
  }
  std::vector<std::string> weak;
  if (!c.encrypt) weak.push_back("encrypt = false: only the login is encrypted, queries and data travel in clear");
  if (c.trust_server_certificate) {
    weak.push_back("trust_server_certificate = true: any certificate is accepted, an impostor's too");
  }
  if (weak.empty()) return pass(id, title, "encrypted, certificate verified");
  return warn(id, title, join_names(weak, 2),
              fmt::format("set [{}] encrypt = true and trust_server_certificate = false, with ca_file naming the CA "
                          "bundle that signed the server's certificate (RDS: global-bundle.pem)",
                          c.section));
}

bool any_failed(const std::vector<CheckResult>& results) {
  return std::any_of(results.begin(), results.end(), [](const auto& c) { return c.status == CheckStatus::fail; });
}

}  // namespace m2r
