// `cutover --lock-source`'s decision: what RESTRICTED_USER would lock out (the cutover's own
// login, DMS's source user), the states it refuses, the statements, and the lock in force as
// the journal's events tell it.
#include "core/source_lock.hpp"

#include <gtest/gtest.h>

using namespace m2r;
using namespace m2r::source_lock;

namespace {

Qualification login(std::string name, bool sysadmin, bool dbcreator, bool db_owner) {
  Qualification q;
  q.login = std::move(name);
  q.sysadmin = sysadmin;
  q.dbcreator = dbcreator;
  q.db_owner = db_owner;
  return q;
}

LockFacts facts(std::string access = "MULTI_USER") {
  LockFacts f;
  f.database = "Sales";
  f.user_access = std::move(access);
  f.tool = login("sa", true, false, false);
  f.dms = login("dms_user", false, false, true);
  return f;
}

JournalEvent event(std::string kind, nlohmann::json data) {
  JournalEvent e;
  e.kind = std::move(kind);
  e.step = "cutover";
  e.data = std::move(data);
  return e;
}

}  // namespace

TEST(SourceLockTest, TheStatementsQuoteTheDatabaseAsQuotename) {
  EXPECT_EQ(lock_statement("Sales").value(), "ALTER DATABASE [Sales] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(lock_statement("odd]name").value(), "ALTER DATABASE [odd]]name] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE");
  EXPECT_EQ(restore_statement("Sales", "MULTI_USER").value(), "ALTER DATABASE [Sales] SET MULTI_USER");
  EXPECT_EQ(restore_statement("Sales", "restricted_user").value(), "ALTER DATABASE [Sales] SET RESTRICTED_USER");
  // A journal naming anything else is not turned into a statement.
  const auto bad = restore_statement("Sales", "SINGLE_USER; DROP DATABASE x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::journal_damaged);
}

TEST(SourceLockTest, AMultiUserDatabaseWithEveryoneQualifiedIsLocked) {
  EXPECT_EQ(decide(facts()).value(), LockAction::lock);
  auto f = facts();
  f.tool = login("migrator", false, false, true);  // db_owner is enough
  f.dms = login("dms_admin", false, true, false);  // so is dbcreator
  EXPECT_EQ(decide(f).value(), LockAction::lock);
  f.dms.reset();  // the endpoint names no user: the caller warns, the lock goes ahead
  EXPECT_EQ(decide(f).value(), LockAction::lock);
}

TEST(SourceLockTest, AnAlreadyRestrictedDatabaseNeedsNothingRun) {
  EXPECT_EQ(decide(facts("RESTRICTED_USER")).value(), LockAction::already_locked);
}

TEST(SourceLockTest, TheCutoversOwnLoginLockedOutIsRefusedWithTheFix) {
  auto f = facts();
  f.tool = login("app_migrator", false, false, false);
  const auto r = decide(f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("would disconnect the cutover itself"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("app_migrator (not sysadmin, dbcreator or db_owner)"), std::string::npos);
  EXPECT_NE(r.error().message.find("nothing was changed"), std::string::npos);
  EXPECT_NE(r.error().hint.find("leave out --lock-source"), std::string::npos) << r.error().hint;
}

TEST(SourceLockTest, DmsLockedOutIsRefusedNamingItsUserAndTheGrant) {
  auto f = facts();
  f.dms = login("dms_reader", false, false, false);
  const auto r = decide(f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(r.error().message.find("would disconnect DMS"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("dms_reader"), std::string::npos);
  EXPECT_NE(r.error().hint.find("ALTER ROLE db_owner ADD MEMBER"), std::string::npos) << r.error().hint;
  // A login that is not on the server at all is said so.
  f.dms->exists = false;
  f.dms->db_owner = true;
  const auto missing = decide(f);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("dms_reader (no such login on the source server)"), std::string::npos)
      << missing.error().message;
}

TEST(SourceLockTest, SingleUserAndUnknownModesAreRefused) {
  const auto single = decide(facts("SINGLE_USER"));
  ASSERT_FALSE(single);
  EXPECT_EQ(single.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(single.error().hint.find("ALTER DATABASE [Sales] SET MULTI_USER"), std::string::npos);
  EXPECT_FALSE(decide(facts("")));
}

TEST(SourceLockTest, TheLockInForceIsTheLastOneNotUndone) {
  LockRecord r;
  r.database = "Sales";
  r.previous_access = "MULTI_USER";
  r.statement = lock_statement("Sales").value();
  r.login = "sa";
  const auto locked = event(k_locked_event, to_json(r));
  EXPECT_FALSE(current_lock({}).value());
  const auto one = current_lock({locked}).value();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->previous_access, "MULTI_USER");
  EXPECT_EQ(one->statement, r.statement);
  EXPECT_EQ(one->login, "sa");
  EXPECT_FALSE(current_lock({locked, event(k_unlocked_event, {{"database", "Sales"}})}).value());
  EXPECT_TRUE(current_lock({locked, event(k_unlocked_event, {}), locked}).value());
  // A damaged record is a named journal error, not an exception.
  const auto damaged = current_lock({event(k_locked_event, {{"database", 5}})});
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().kind, ErrorKind::journal_damaged);
}
