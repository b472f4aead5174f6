// `cutover --dry-run`'s plan: the exact statements per part, from the journal's objects, with
// what an interrupted cutover already finished marked as skipped (by the same keys the cutover
// journals, so the plan and the cutover agree on what is left).
#include "core/cutover_plan.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

const PlannedStep& part(const std::vector<PlannedStep>& plan, const std::string& name) {
  for (const auto& s : plan)
    if (s.name == name) return s;
  static const PlannedStep none{"(none)", "", {}};
  ADD_FAILURE() << "no part " << name;
  return none;
}

std::string all_text(const PlannedStep& s) {
  std::string out;
  for (const auto& a : s.actions) out += "[" + a.where + "] " + a.what + "\n";
  return out;
}

CutoverPlanInputs orders() {
  CutoverPlanInputs in;
  in.task_arn = "arn:aws:dms:us-east-1:123456789012:task:T1";
  in.triggers = {{{"dbo", "Orders"}, "trg_audit"}};
  in.foreign_keys = {{{"dbo", "Orders"}, "FK_Orders_Customers"}};
  in.identity_tables = {{{"dbo", "Orders"}, ""}};
  in.schema_queries = {"SELECT 1 AS schema_query"};
  return in;
}

}  // namespace

TEST(CutoverPlanTest, AFreshCutoverShowsTheMarkerTheStopTheValidationAndEachObjectInOrder) {
  const auto plan = cutover_plan(orders());
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[0].name, "drain");
  EXPECT_EQ(plan[1].name, "stop");
  EXPECT_EQ(plan[2].name, "validate");
  EXPECT_EQ(plan[3].name, "re-enable");
  EXPECT_EQ(plan[4].name, "schema");
  const auto drain = all_text(part(plan, "drain"));
  EXPECT_NE(drain.find("INSERT INTO dbo.mssql2rds_cutover_marker"), std::string::npos) << drain;
  EXPECT_NE(drain.find("at most 600 s: --drain-timeout"), std::string::npos) << drain;
  EXPECT_NE(all_text(part(plan, "stop")).find("StopReplicationTask ReplicationTaskArn=arn:aws:dms:us-east-1:123456789012:task:T1"),
            std::string::npos);
  const auto& reenable = part(plan, "re-enable");
  ASSERT_EQ(reenable.actions.size(), 3u);
  EXPECT_EQ(reenable.actions[0].what, "ALTER TABLE [dbo].[Orders] ENABLE TRIGGER [trg_audit]");
  EXPECT_EQ(reenable.actions[1].what, "ALTER TABLE [dbo].[Orders] WITH CHECK CHECK CONSTRAINT [FK_Orders_Customers]");
  EXPECT_EQ(reenable.actions[2].what, "DBCC CHECKIDENT (N'[dbo].[Orders]', RESEED)");
  EXPECT_EQ(all_text(part(plan, "schema")), "[source+target] SELECT 1 AS schema_query\n");
  EXPECT_EQ(all_text(plan[0]).find("skipped"), std::string::npos);
}

TEST(CutoverPlanTest, AnInterruptedCutoverShowsWhatItFinishedAsSkipped) {
  auto in = orders();
  in.task_stopped_before = true;
  in.validation_passed_before = true;
  in.reenabled = {reenable_keys::trigger(in.triggers[0])};
  const auto plan = cutover_plan(in);
  EXPECT_EQ(all_text(part(plan, "drain")).find("INSERT INTO"), std::string::npos) << "a stopped task is not drained again";
  EXPECT_NE(all_text(part(plan, "stop")).find("skipped"), std::string::npos);
  EXPECT_NE(all_text(part(plan, "validate")).find("skipped"), std::string::npos);
  const auto& reenable = part(plan, "re-enable");
  ASSERT_EQ(reenable.actions.size(), 3u);
  EXPECT_NE(reenable.actions[0].what.find("(done by the interrupted cutover: skipped)"), std::string::npos);
  EXPECT_EQ(reenable.actions[1].what.find("skipped"), std::string::npos);
  EXPECT_EQ(reenable.actions[2].what.find("skipped"), std::string::npos);
}

TEST(CutoverPlanTest, TheKeysNameTheObjectSoTwoObjectsNeverShareOne) {
  const TargetObject a{{"dbo", "Orders.x"}, "trg"}, b{{"dbo", "Orders"}, "x.trg"}, c{{"dbo", "O]"}, "t"};
  EXPECT_EQ(reenable_keys::trigger(a), "trigger [dbo].[Orders.x].[trg]");
  EXPECT_NE(reenable_keys::trigger(a), reenable_keys::trigger(b));
  EXPECT_NE(reenable_keys::trigger(a), reenable_keys::foreign_key(a));
  EXPECT_EQ(reenable_keys::identity(c), "identity of [dbo].[O]]] reseeded");
}

TEST(CutoverPlanTest, LockSourceComesFirstWithItsChecksAndTheStatement) {
  auto in = orders();
  in.lock_statement = "ALTER DATABASE [Sales] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE";
  const auto plan = cutover_plan(in);
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].name, "lock-source");
  EXPECT_EQ(plan[1].name, "drain");
  const auto lock = all_text(plan[0]);
  EXPECT_NE(lock.find("user_access_desc FROM sys.databases"), std::string::npos) << lock;
  EXPECT_NE(lock.find("IS_SRVROLEMEMBER(N'sysadmin', ?)"), std::string::npos) << lock;
  EXPECT_NE(lock.find("DescribeEndpoints"), std::string::npos) << lock;
  EXPECT_NE(lock.find("[source] ALTER DATABASE [Sales] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE"), std::string::npos)
      << lock;
  EXPECT_NE(lock.find("unlock-source"), std::string::npos) << lock;
  // Without --lock-source the plan has no such part.
  EXPECT_EQ(cutover_plan(orders())[0].name, "drain");
}
