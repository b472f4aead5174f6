// The backup statement fits the source's edition (docs/facts.md §13): Express and Web refuse
// WITH COMPRESSION (Msg 1844), so run_backup_step asks the server and leaves it out there; it
// keeps it on Standard, and as configured when the edition cannot be read.
#include "migrate/backup_step.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/fake_sql_session.hpp"
#include "fakes/memory_journal.hpp"
#include "fakes/recording_event_sink.hpp"

using namespace m2r;

namespace {

MigrationConfig sample() {
  MigrationConfig c;
  c.name = "m";
  c.source.database = "Sales";
  c.source.backup_dir_server = "/var/opt/mssql/backup";
  c.source.backup_dir_local = "/mnt/b";
  c.s3.bucket = "bkt";
  c.target.database = "Sales";
  c.target.rds_instance = "rds1";
  c.dms.task_id = "m-cdc";
  return c;
}

// The BACKUP statement the step ran against a source whose SERVERPROPERTY answers `edition`
// (empty: the query fails).
std::string backup_statement_on(const std::string& edition, int engine_edition, std::vector<Event>* events = nullptr) {
  MemoryJournal journal;
  EXPECT_TRUE(journal.begin_step("backup", {}));
  RecordingEventSink sink;
  StepContext ctx(journal, sink, "backup", nlohmann::json::object(), nlohmann::json::object());
  mssql::FakeSqlSession source;
  source.on_rows("@@SPID", {"session_id"}, {{mssql::SqlValue(57)}});
  source.on_rows("msdb.dbo.backupset", {"backup_set_id"}, {});
  if (edition.empty()) {
    source.on_error("SERVERPROPERTY('Edition')", Error(ErrorKind::fatal, "SQL Server error 229: permission denied"));
  } else {
    source.on_rows("SERVERPROPERTY('Edition')", {"edition", "engine_edition"},
                   {{mssql::SqlValue(edition), mssql::SqlValue(static_cast<std::int64_t>(engine_edition))}});
  }
  mssql::FakeResponse backup;
  backup.messages = mssql::backup_progress_messages(5, "Sales");
  source.on("BACKUP DATABASE", backup);
  auto r = run_backup_step(ctx, source, sample(), "20261203T101500");
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (events) *events = sink.events();
  for (const auto& sql : source.executed_sql()) {
    if (sql.rfind("BACKUP DATABASE", 0) == 0) return sql;
  }
  ADD_FAILURE() << "no BACKUP DATABASE ran";
  return {};
}

TEST(BackupCompressionTest, ExpressAndWebGetTheBackupWithoutCompression) {
  // Given compression = true and an Express or Web source, the step should run BACKUP without
  // COMPRESSION (which they refuse with 1844) and say why.
  std::vector<Event> events;
  const auto express = backup_statement_on("Express Edition (64-bit)", 4, &events);
  EXPECT_EQ(express.find("COMPRESSION"), std::string::npos) << express;
  EXPECT_NE(express.find("WITH CHECKSUM"), std::string::npos) << express;
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const Event& e) {
    return e.message.find("without COMPRESSION: Express Edition (64-bit)") != std::string::npos;
  }));
  const auto web = backup_statement_on("Web Edition (64-bit)", 2);
  EXPECT_EQ(web.find("COMPRESSION"), std::string::npos) << web;
}

TEST(BackupCompressionTest, StandardAndAnUnreadableEditionKeepCompression) {
  // Given Standard, or an edition query that fails, the configured COMPRESSION should stay.
  EXPECT_NE(backup_statement_on("Standard Edition (64-bit)", 2).find(" COMPRESSION,"), std::string::npos);
  EXPECT_NE(backup_statement_on("", 0).find(" COMPRESSION,"), std::string::npos);
}

}  // namespace
