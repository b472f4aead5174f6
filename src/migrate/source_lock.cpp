#include "migrate/source_lock.hpp"

#include <chrono>

#include <fmt/format.h>

#include "aws/dms_client.hpp"
#include "core/ascii_case.hpp"

namespace m2r {

namespace {

constexpr const char* k_step = "cutover";
const mssql::StatementOptions k_read{.idempotent = mssql::Idempotent::yes};

Expected<std::string> user_access(mssql::SqlSession& source, const std::string& database) {
  const auto r = M2R_TRY(source.query(source_lock::user_access_query(), {mssql::SqlParam::nvarchar(database)}, k_read));
  if (r.first().rows.empty()) {
    return fail(ErrorKind::not_found, fmt::format("the source has no database [{}]", database),
                "check [source] database in the configuration");
  }
  return M2R_TRY(M2R_TRY(r.first().value(0, "user_access_desc")).as_string());
}

Expected<source_lock::Qualification> qualification(mssql::SqlSession& source, const std::string& login) {
  const auto p = mssql::SqlParam::nvarchar(login);
  const auto r = M2R_TRY(source.query(source_lock::qualification_query(), {p, p, p}, k_read));
  source_lock::Qualification q;
  q.login = login;
  const auto sysadmin = M2R_TRY(r.first().value(0, "sysadmin"));
  if (sysadmin.is_null()) {
    q.exists = false;
    return q;
  }
  q.sysadmin = M2R_TRY(sysadmin.as_int64()) == 1;
  const auto dbcreator = M2R_TRY(r.first().value(0, "dbcreator"));
  q.dbcreator = !dbcreator.is_null() && M2R_TRY(dbcreator.as_int64()) == 1;
  q.db_owner = M2R_TRY(M2R_TRY(r.first().value(0, "db_owner")).as_int64()) > 0;
  return q;
}

// The user DMS logs in to the source as: the endpoint's Username, or its MicrosoftSQLServerSettings'
// (empty when the endpoint takes its credentials from Secrets Manager).
Expected<std::string> dms_source_user(const aws::AwsContext& aws, const std::string& endpoint_arn) {
  aws::DmsClient dms(aws);
  const auto found = M2R_TRY(dms.describe_endpoints({{"endpoint-arn", {endpoint_arn}}}));
  if (found.empty()) {
    return fail(ErrorKind::not_found, "the DMS task's source endpoint " + endpoint_arn + " no longer exists",
                "`mssql2rds status` shows the task; recreate the endpoint or abort the migration");
  }
  if (!found.front().username.empty()) return found.front().username;
  const auto& raw = found.front().raw;
  if (raw.contains("MicrosoftSQLServerSettings") && raw["MicrosoftSQLServerSettings"].is_object()) {
    return raw["MicrosoftSQLServerSettings"].value("Username", std::string());
  }
  return std::string();
}

// The journal's lock not yet undone (its lock and unlock events, core/source_lock).
Expected<std::optional<source_lock::LockRecord>> lock_in_force(Journal& journal) {
  return source_lock::current_lock(
      M2R_TRY(all_events(journal, {source_lock::k_locked_event, source_lock::k_unlocked_event})));
}

}  // namespace

Expected<SourceLockOutcome> lock_source(const MigrationConfig& config, Connections& conn, Journal& journal,
                                        EventSink& events, const std::string& dms_source_endpoint_arn) {
  const auto* aws = M2R_TRY(need_aws(conn));
  auto source = M2R_TRY(conn.source());
  source_lock::LockFacts facts;
  facts.database = config.source.database;
  facts.user_access = M2R_TRY(user_access(*source, facts.database));
  const auto me = M2R_TRY(source->query("SELECT SUSER_SNAME() AS login", {}, k_read));
  facts.tool = M2R_TRY(qualification(*source, M2R_TRY(M2R_TRY(me.first().value(0, "login")).as_string())));
  if (const auto dms_user = M2R_TRY(dms_source_user(*aws, dms_source_endpoint_arn)); !dms_user.empty()) {
    facts.dms = M2R_TRY(qualification(*source, dms_user));
  } else {
    events.emit(warning_event(k_step, "the DMS source endpoint names no user (Secrets Manager?): if that login is not "
                                      "sysadmin or db_owner, RESTRICTED_USER disconnects DMS and the drain times out; "
                                      "`mssql2rds unlock-source` undoes the lock"));
  }
  const auto action = M2R_TRY(source_lock::decide(facts));
  const auto previous = M2R_TRY(lock_in_force(journal));
  SourceLockOutcome out;
  out.record.database = facts.database;
  out.record.login = facts.tool.login;
  if (action == source_lock::LockAction::already_locked) {
    if (previous) {
      out.record = *previous;  // our own lock, from an earlier attempt: nothing new to record
      events.emit(info_event(k_step, fmt::format("the source database [{}] is still RESTRICTED_USER from the earlier "
                                                 "cutover attempt", facts.database)));
      return out;
    }
    out.record.previous_access = "RESTRICTED_USER";  // set before us: unlock-source leaves it so
  } else {
    out.record.previous_access = facts.user_access;
    out.record.statement = M2R_TRY(source_lock::lock_statement(facts.database));
    events.emit(info_event(k_step, "locking the source: " + out.record.statement + " (sessions of logins that are not "
                                   "sysadmin, dbcreator or db_owner end; their open transactions roll back)"));
    const auto started = conn.clock->now();
    M2R_TRY(source->execute(out.record.statement, {}, {}));
    out.seconds = std::chrono::duration<double>(conn.clock->now() - started).count();
    out.ran = true;
  }
  M2R_TRY(journal.append_event(k_step, source_lock::k_locked_event, source_lock::to_json(out.record)));
  events.emit(info_event(k_step, fmt::format("the source database [{}] is RESTRICTED_USER{}; `mssql2rds unlock-source` "
                                             "sets it back to {}",
                                             facts.database,
                                             out.ran ? fmt::format(" (in {:.1f}s)", out.seconds) : " already",
                                             out.record.previous_access)));
  return out;
}

Expected<SourceUnlockOutcome> unlock_source(const MigrationConfig& config, Connections& conn, Journal& journal,
                                            EventSink& events) {
  const auto lock = M2R_TRY(lock_in_force(journal));
  if (!lock) {
    return fail(ErrorKind::conflict,
                fmt::format("the journal records no source lock in force for [{}]: nothing to undo; nothing was changed",
                            config.source.database),
                fmt::format("if the database was restricted by hand: ALTER DATABASE [{}] SET MULTI_USER",
                            config.source.database));
  }
  auto source = M2R_TRY(conn.source());
  SourceUnlockOutcome out;
  out.lock = *lock;
  out.access_before = M2R_TRY(user_access(*source, lock->database));
  if (iequals(out.access_before, "RESTRICTED_USER") && !iequals(lock->previous_access, "RESTRICTED_USER")) {
    out.statement = M2R_TRY(source_lock::restore_statement(lock->database, lock->previous_access));
    M2R_TRY(source->execute(out.statement, {}, {}));
  }
  M2R_TRY(journal.append_event(k_step, source_lock::k_unlocked_event,
                               {{"database", lock->database}, {"statement", out.statement},
                                {"access_before", out.access_before}}));
  events.emit(info_event(k_step, out.statement.empty()
                                     ? fmt::format("the source database [{}] is {}: nothing to run; the journal's lock "
                                                   "is closed",
                                                   lock->database, out.access_before)
                                     : fmt::format("{}: the source database [{}] is {} again", out.statement,
                                                   lock->database, lock->previous_access)));
  return out;
}

}  // namespace m2r
