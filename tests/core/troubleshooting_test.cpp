#include "core/troubleshooting.hpp"

#include <gtest/gtest.h>

using namespace m2r;

TEST(TroubleshootingTest, RecognisesTheDmsFailuresUsersReport) {
  // Given the messages of docs/facts.md §10, each should map to a cause and a fix.
  const char* messages[] = {
      "SOURCE_CAPTURE E: No FULL database backup found (under the 'FULL' recovery model). To enable all changes to be "
      "captured, you must perform a full database backup. 120438 Changes may be missed.",
      "[SOURCE_CAPTURE ]E: Failed to access LSN '0000dbd9:0006f9ad:0003' in the backup log sets since BACKUP/LOG-s are "
      "not available. [1020465]",
      "CDC task failed with a Bad Envelope, invalid data context/LCX code while processing a transaction",
      "InvalidParameterValueException: Invalid CdcStartPosition format",
      "[TARGET_APPLY ]E: Failed to build 'where' statement",
  };
  for (const char* m : messages) {
    const auto d = diagnose_dms_failure(m);
    ASSERT_TRUE(d) << m;
    EXPECT_FALSE(d->cause.empty());
    EXPECT_FALSE(d->fix.empty());
  }
  EXPECT_NE(diagnose_dms_failure("Failed to access LSN 'x'")->cause.find("no longer in the active log"), std::string::npos);
  EXPECT_FALSE(diagnose_dms_failure("something else entirely"));
}

TEST(TroubleshootingTest, RecognisesRdsRestoreFailures) {
  EXPECT_NE(diagnose_rds_task("Database backup/restore option is not enabled yet or is in the process of being "
                              "enabled. Please try again later.")->fix.find("SQLSERVER_BACKUP_RESTORE"),
            std::string::npos);
  EXPECT_NE(diagnose_rds_task("Access Denied")->fix.find("s3:GetObject"), std::string::npos);
  EXPECT_TRUE(diagnose_rds_task("Database 'Sales' already exists. Two databases that differ only by case or accent "
                                "are not allowed. Choose a different database name."));
  EXPECT_TRUE(diagnose_rds_task("Please specify a bucket that is in the same region as RDS instance"));
}
