#pragma once
// `cutover --lock-source` and `unlock-source`: the source database set to RESTRICTED_USER WITH
// ROLLBACK IMMEDIATE before the cutover marker is written, and set back to what it was.
// The decision and the statements are core/source_lock; this reads the facts (the source's
// user access, who the tool and DMS's source user are), runs the statement, and journals it.
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/journal.hpp"
#include "core/source_lock.hpp"
#include "migrate/connections.hpp"

namespace m2r {

struct SourceLockOutcome {
  source_lock::LockRecord record;
  bool ran = false;      // false: it was already RESTRICTED_USER (an earlier attempt, or by hand)
  double seconds = 0;    // the ALTER's time: the rollback of what it ended
};

// Locks the source for the cutover; the caller asked the user's consent. `dms_source_endpoint_arn`
// is the task's source endpoint: its user must keep its access, or the change stream stops
// before the marker. Changes nothing when core/source_lock::decide refuses.
Expected<SourceLockOutcome> lock_source(const MigrationConfig& config, Connections& connections, Journal& journal,
                                        EventSink& events, const std::string& dms_source_endpoint_arn);

struct SourceUnlockOutcome {
  source_lock::LockRecord lock;  // the lock undone
  std::string statement;         // what ran ("" when the database was no longer restricted)
  std::string access_before;     // user_access_desc found just before
};

// Sets the source back to the user access recorded before the journal's lock. Fails with
// ErrorKind::conflict when the journal records no lock in force.
Expected<SourceUnlockOutcome> unlock_source(const MigrationConfig& config, Connections& connections, Journal& journal,
                                            EventSink& events);

}  // namespace m2r
