#pragma once
// A database's user access mode (README.md "User access modes"): MULTI_USER, SINGLE_USER or
// RESTRICTED_USER as ALTER DATABASE ... SET documents them, who each admits, who must leave
// when one is set, and the termination clause that says how long they are given. The rules
// here are pure; the ALTER DATABASE that applies them and the admission of a session to a
// database are SessionImpl's (user_access.cpp), over the instance's SessionRegistry.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace sandbox::engine {

// sys.databases.user_access values.
enum class UserAccess : int { multi_user = 0, single_user = 1, restricted_user = 2 };

const char* user_access_desc(UserAccess mode);                       // "MULTI_USER", ... (user_access_desc)
std::optional<UserAccess> user_access_from_name(const std::string& name);  // case-insensitive

// Whether `mode` lets a session in: RESTRICTED_USER only a qualified one (sysadmin, dbcreator,
// or db_owner of the database), SINGLE_USER only while no other session is in the database.
bool admits(UserAccess mode, bool qualified, std::size_t others_in_database);
// Whether a session already in the database has to leave for `target` to be set.
bool must_leave(UserAccess target, bool qualified);

// WITH ROLLBACK AFTER n [SECONDS] | ROLLBACK IMMEDIATE | NO_WAIT, or none (wait).
struct Termination {
  enum class Kind { wait, no_wait, rollback_immediate, rollback_after };
  Kind kind = Kind::wait;
  std::chrono::seconds after{0};  // rollback_after
};

}  // namespace sandbox::engine
