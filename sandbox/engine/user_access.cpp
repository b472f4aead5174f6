// User access modes (README.md "User access modes"): ALTER DATABASE ... SET SINGLE_USER |
// RESTRICTED_USER | MULTI_USER with its termination clause, the admission of a session to a
// database (login, USE, sp_reset_connection), and the end of a session killed by such an ALTER.
#include "engine/user_access.hpp"

#include <strings.h>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

const char* user_access_desc(UserAccess mode) {
  switch (mode) {
    case UserAccess::single_user: return "SINGLE_USER";
    case UserAccess::restricted_user: return "RESTRICTED_USER";
    case UserAccess::multi_user: break;
  }
  return "MULTI_USER";
}

std::optional<UserAccess> user_access_from_name(const std::string& name) {
  for (auto mode : {UserAccess::multi_user, UserAccess::single_user, UserAccess::restricted_user}) {
    if (::strcasecmp(name.c_str(), user_access_desc(mode)) == 0) return mode;
  }
  return std::nullopt;
}

bool admits(UserAccess mode, bool qualified, std::size_t others_in_database) {
  switch (mode) {
    case UserAccess::restricted_user: return qualified;
    case UserAccess::single_user: return others_in_database == 0;
    case UserAccess::multi_user: break;
  }
  return true;
}

bool must_leave(UserAccess target, bool qualified) {
  switch (target) {
    case UserAccess::restricted_user: return !qualified;
    case UserAccess::single_user: return true;
    case UserAccess::multi_user: break;
  }
  return false;
}

namespace {

// How often a waiting ALTER DATABASE looks again (besides being woken by the registry), so that
// an attention, LOCK_TIMEOUT and ROLLBACK AFTER are honoured promptly.
constexpr std::chrono::milliseconds k_wait_poll{50};

// RESTRICTED_USER's "qualified" principal, and ALTER permission on the database: a member of
// sysadmin or dbcreator, or a user of the database in db_owner (dbo included: the owner's login
// and every sysadmin are dbo; so is RDS's master user where no user maps to it).
bool may_own(InstanceImpl& inst, Database& db, const std::string& login) {
  PrincipalStore& store = inst.principals();
  auto who = store.by_name(login);
  if (!who) return false;
  if (store.is_member("sysadmin", login) || store.is_member("dbcreator", login)) return true;
  std::lock_guard<std::mutex> lock(db.flags_mutex);  // db.admin is shared; flags_mutex serializes its readers
  auto user = database_user_of(db.admin, store, *who);
  return user && (user->id == 1 || database_role_member(db.admin, user->id, "db_owner"));
}

Message error(int number, int severity, std::string text, int state = 1) {
  Message m;
  m.number = number;
  m.severity = severity;
  m.state = state;
  m.text = std::move(text);
  return m;
}

Message rollback_progress(int percent) {
  Message m;
  m.number = 5060;
  m.severity = 10;
  m.text = "Nonqualified transactions are being rolled back. Estimated rollback completion: " + std::to_string(percent) + "%.";
  return m;
}

}  // namespace

void SessionImpl::check_alter_database_permission(Database& db) {
  if (!may_own(m_inst, db, m_user)) {
    raise(5011, 14, "User does not have permission to alter database '" + db.name +
                        "', the database does not exist, or the database is not in a state that allows access checks.");
  }
}

std::optional<Message> SessionImpl::enter_database(Database& db, Entry how) {
  std::optional<UserAccess> refused_by;
  std::optional<bool> qualified;
  const bool admitted = m_inst.sessions().move(m_spid, db.name, [&](const SessionRegistry::Others& others) {
    // Under the registry's lock: the mode and the sessions in the database are judged together
    // with any ALTER DATABASE switching it.
    for (UserAccess mode : {db.user_access.load(), db.pending_access.load()}) {
      if (mode == UserAccess::restricted_user && !qualified) qualified = may_own(m_inst, db, m_user);
      if (!admits(mode, qualified.value_or(false), others.size())) {
        refused_by = mode;
        return false;
      }
    }
    return true;
  });
  if (admitted) return std::nullopt;
  const bool login = how != Entry::use;
  if (how == Entry::login_default) return error(4064, 11, "Cannot open user default database. Login failed.");
  if (login && refused_by == UserAccess::restricted_user) {
    return error(4060, 11, "Cannot open database \"" + db.name + "\" requested by the login. The login failed.");
  }
  if (refused_by == UserAccess::restricted_user) {
    return error(923, 14, "Database '" + db.name +
                              "' is in restricted mode. Only the database owner and members of the dbcreator and sysadmin roles can access it.");
  }
  return error(924, 14, "Database '" + db.name + "' is already open and can only have one user at a time.");
}

void SessionImpl::alter_user_access(const std::shared_ptr<Database>& db, UserAccess target, const Termination& termination,
                                    ResultSink& sink) {
  auto failed = [&](const Message& first) {
    sink.message(first);
    raise(5069, 16, "ALTER DATABASE statement failed.");
  };
  if (target != UserAccess::multi_user && (iequals(db->name, "master") || iequals(db->name, "msdb"))) {
    raise(5058, 16, std::string("Option '") + user_access_desc(target) + "' cannot be set in database '" + db->name + "'.");
  }
  SessionRegistry& registry = m_inst.sessions();
  using Clock = SessionRegistry::Clock;
  const auto started = Clock::now();
  const auto kill_at = started + termination.after;
  // SET LOCK_TIMEOUT bounds the wait (SQL Server's ALTER waits for a database lock); -1: no bound.
  const bool bounded = m_lock_timeout >= 0;
  const auto lock_deadline = started + std::chrono::milliseconds(bounded ? m_lock_timeout : 0);
  // While waiting, new sessions are already judged by the target mode (they would queue behind
  // the ALTER's database lock in SQL Server); a failed or cancelled ALTER lifts that.
  struct PendingGuard {
    Database& db;
    bool armed = true;
    ~PendingGuard() {
      if (armed) db.pending_access = UserAccess::multi_user;
    }
  } pending{*db};

  SessionRegistry::Others victims;
  for (;;) {
    bool switched = false, single_user_occupied = false;
    registry.with_sessions_in(db->name, m_spid, [&](const SessionRegistry::Others& others) {
      SessionRegistry::Others leaving;
      // A SINGLE_USER database's one other session blocks any change (5064) unless it is rolled back.
      single_user_occupied = db->user_access == UserAccess::single_user && !others.empty();
      for (const auto& e : others) {
        if (single_user_occupied || must_leave(target, may_own(m_inst, *db, e->login()))) leaving.push_back(e);
      }
      const bool kill_now = termination.kind == Termination::Kind::rollback_immediate ||
                            (termination.kind == Termination::Kind::rollback_after && Clock::now() >= kill_at);
      if (leaving.empty() || kill_now) {
        db->user_access = target;
        db->pending_access = UserAccess::multi_user;
        switched = true;
        victims = std::move(leaving);
      } else if (termination.kind != Termination::Kind::no_wait && !single_user_occupied) {
        db->pending_access = target;
      }
    });
    if (switched) break;
    if (single_user_occupied && termination.kind != Termination::Kind::rollback_after) {
      failed(error(5064, 16, "Changes to the state or options of database '" + db->name +
                                 "' cannot be made at this time. The database is in single-user mode, and a user is currently connected to it."));
    }
    if (termination.kind == Termination::Kind::no_wait) {
      failed(error(5070, 16, "Database state cannot be changed while other users are using the database '" + db->name + "'", 2));
    }
    if (bounded && Clock::now() >= lock_deadline) failed(error(1222, 16, "Lock request time out period exceeded."));
    if (request_cancelled()) throw BatchAborted{};
    auto until = Clock::now() + k_wait_poll;
    if (bounded) until = std::min(until, lock_deadline);
    if (termination.kind == Termination::Kind::rollback_after) until = std::min(until, kill_at);
    registry.wait_for_change(until);
  }
  pending.armed = false;
  {
    std::lock_guard<std::mutex> lock(db->write_mutex);
    db->set_meta(db->admin, "user_access", user_access_desc(target));
  }
  if (!victims.empty()) {
    // Their connections are broken; the ALTER returns once each one's transaction has been
    // rolled back (its compensation records and LOP_ABORT_XACT logged, its locks released).
    sink.message(rollback_progress(0));
    for (const auto& victim : victims) {
      if (!registry.kill(*victim, [this] { return request_cancelled(); })) throw BatchAborted{};
    }
    sink.message(rollback_progress(100));
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::end_killed_work() {
  rollback_transaction();
  m_inst.locks().release_all(m_spid);
}

bool SessionImpl::report_if_killed(ResultSink& sink) {
  if (!m_entry->killed()) return false;
  // Its own thread: the transaction is undone here if the killer has not done it yet (the
  // client then also hears of the rollback).
  try {
    end_killed_work();
  } catch (const SqlError&) {
  }
  // What SQL Server sends a request on a killed session (sys.messages has 596 at severity 16;
  // servers send it at 21, which also tells clients the connection is gone).
  sink.message(error(596, 21, "Cannot continue the execution because the session is in the kill state."));
  sink.done(DoneKind::statement, std::nullopt, true);
  return true;
}

}  // namespace sandbox::engine
