// The backup directory check's judgement: both sides must be one directory.
#include "core/backup_directory.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

BackupDirectoryFacts shared() {
  BackupDirectoryFacts f;
  f.local_dir = "/mnt/backup";
  f.server_dir = "D:\\Backup";
  f.probe_name = ".mssql2rds-probe-0123";
  f.server = ServerSeesProbe::yes;
  return f;
}

}  // namespace

TEST(BackupDirectoryTest, TheProbeSeenBySqlServerPasses) {
  const auto r = evaluate_backup_directory(shared());
  EXPECT_EQ(r.id, "source.backup_dir");
  EXPECT_EQ(r.status, CheckStatus::pass);
  EXPECT_NE(r.detail.find("D:\\Backup"), std::string::npos) << r.detail;
}

TEST(BackupDirectoryTest, ADirectoryThisHostCannotWriteFailsNamingItAndTheKey) {
  auto f = shared();
  f.local_problem = "cannot write .mssql2rds-probe-0123 (Permission denied)";
  const auto r = evaluate_backup_directory(f);
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("/mnt/backup"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("Permission denied"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("backup_dir_local"), std::string::npos) << r.fix;
}

TEST(BackupDirectoryTest, TwoDifferentDirectoriesFailWithTheWayToShareThem) {
  auto f = shared();
  f.server = ServerSeesProbe::no;
  f.server_dir_exists = true;
  auto r = evaluate_backup_directory(f);
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("is not this host's '/mnt/backup'"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("share 'D:\\Backup'"), std::string::npos) << r.fix;

  f.server_dir_exists = false;
  r = evaluate_backup_directory(f);
  EXPECT_EQ(r.status, CheckStatus::fail);
  EXPECT_NE(r.detail.find("SQL Server has no directory 'D:\\Backup'"), std::string::npos) << r.detail;
}

TEST(BackupDirectoryTest, ASideThatCannotBeAskedWarnsAndSaysWhy) {
  auto f = shared();
  f.server = ServerSeesProbe::unknown;
  f.unknown_because = "the source login is not sysadmin";
  const auto r = evaluate_backup_directory(f);
  EXPECT_EQ(r.status, CheckStatus::warn);
  EXPECT_NE(r.detail.find("not sysadmin"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("3201"), std::string::npos) << r.fix;
}

TEST(BackupDirectoryTest, TheProbePathUsesTheDirectorysOwnSeparator) {
  EXPECT_EQ(join_backup_path("D:\\Backup", "p"), "D:\\Backup\\p");
  EXPECT_EQ(join_backup_path("D:\\Backup\\", "p"), "D:\\Backup\\p");
  EXPECT_EQ(join_backup_path("/var/opt/mssql/backup", "p"), "/var/opt/mssql/backup/p");
  EXPECT_EQ(join_backup_path("/var/opt/mssql/backup/", "p"), "/var/opt/mssql/backup/p");
}
