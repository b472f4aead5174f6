#include "core/plan.hpp"

#include <fmt/format.h>

#include "core/cutover_marker.hpp"
#include "core/dms_task_spec.hpp"
#include "core/lob_mode.hpp"
#include "core/row_hash.hpp"
#include "core/tsql.hpp"

namespace m2r {

namespace {

// Validation as it runs (docs/architecture.md "Validation"), shown for a table keyed by an int
// <key> with one nvarchar(max) <column>: each table is walked in key order in chunks and each
// chunk's row count and hash of its ordered row hashes compared on both sides.
}  // namespace

std::string validation_plan_text() {
  const ColumnInfo key{"<key>", "int", 4, 10, 0, false, false};
  const ColumnInfo column{"<column>", "nvarchar", -1, 0, 0, true, false};
  const KeysetQueries q({"<schema>", "<table>"}, {key}, row_hash_plan({key, column}));
  return "SET LOCK_TIMEOUT <ms>; per chunk of <chunk_rows> rows (each table, keys bound as parameters): " +
         q.key_at(KeyRange{KeyValues{"?"}, std::nullopt}, 5000).sql + "; " + q.digest(KeyRange{KeyValues{"?"}, KeyValues{"?"}}).sql +
         "; a differing chunk is bisected down to its rows: " + q.row_hashes(KeyRange{KeyValues{"?"}, KeyValues{"?"}}).sql;
}

const std::vector<std::string>& run_step_order() {
  static const std::vector<std::string> order = {steps::backup,  steps::capture_lsn,    steps::upload,
                                                 steps::restore, steps::prepare_target, steps::replicate};
  return order;
}

namespace {
std::string join_dir(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  const char sep = dir.find('\\') != std::string::npos ? '\\' : '/';
  return dir.back() == sep ? dir + file : dir + sep + file;
}
}  // namespace

BackupLayout backup_layout(const MigrationConfig& c, const std::string& stamp) {
  BackupLayout layout;
  const int n = c.source.backup_stripes;
  const std::string base = fmt::format("{}_{}", c.source.database, stamp);
  std::string prefix = c.s3.prefix;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  for (int i = 1; i <= n; ++i) {
    const std::string file = n == 1 ? base + ".bak" : fmt::format("{}_{}of{}.bak", base, i, n);
    layout.server_files.push_back(join_dir(c.source.backup_dir_server, file));
    layout.local_files.push_back(join_dir(c.source.backup_dir_local, file));
    layout.s3_keys.push_back(prefix + file);
  }
  layout.restore_arn = n == 1 ? fmt::format("arn:aws:s3:::{}/{}", c.s3.bucket, layout.s3_keys[0])
                              : fmt::format("arn:aws:s3:::{}/{}{}_*", c.s3.bucket, prefix, base);
  return layout;
}

std::vector<std::string> s3_keys_for(const MigrationConfig& c, const std::vector<std::string>& local_files) {
  std::string prefix = c.s3.prefix;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  std::vector<std::string> keys;
  for (const auto& file : local_files) {
    const auto slash = file.find_last_of("/\\");
    keys.push_back(prefix + (slash == std::string::npos ? file : file.substr(slash + 1)));
  }
  return keys;
}

std::string restore_arn_for(const std::string& bucket, const std::vector<std::string>& keys) {
  if (keys.empty()) return {};
  if (keys.size() == 1) return fmt::format("arn:aws:s3:::{}/{}", bucket, keys.front());
  std::string common = keys.front();
  for (const auto& k : keys) {
    std::size_t n = 0;
    while (n < common.size() && n < k.size() && common[n] == k[n]) ++n;
    common.resize(n);
  }
  const auto underscore = common.find_last_of('_');
  if (underscore != std::string::npos) common.resize(underscore + 1);
  return fmt::format("arn:aws:s3:::{}/{}*", bucket, common);
}

std::vector<PlannedStep> build_plan(const PlanInputs& in) {
  const auto& c = in.config;
  const auto layout = backup_layout(c, in.stamp);
  const std::string lsn_text = in.start ? in.start->to_hex() : "<LSN chosen after the backup>";
  std::vector<PlannedStep> plan;

  plan.push_back({steps::backup, "native full backup on the source, with progress",
                  {{"source", tsql::backup_database({c.source.database, layout.server_files,
                                                     backup_compression(c.source.compression, in.source_edition), 5})}}});

  plan.push_back({steps::capture_lsn, "find the CDC start point from the backup's LSNs and the log (docs/facts.md §2)",
                  {{"source", tsql::backupset_for_file(c.source.database, layout.server_files[0])},
                   {"source", "USE " + tsql::quote_name(c.source.database).value_or("") + "; " +
                                  tsql::fn_dblog_transactions("<backupset.first_lsn as hex>")},
                   {"local", "start = begin LSN of the oldest transaction open at backupset.last_lsn, else the last "
                             "transaction begin before it"}}});

  PlannedStep upload{steps::upload, "upload the backup to S3: parallel multipart, CRC32C + Content-MD5 per part", {}};
  for (std::size_t i = 0; i < layout.local_files.size(); ++i) {
    upload.actions.push_back({"S3", fmt::format("CreateMultipartUpload Bucket={} Key={} ChecksumAlgorithm=CRC32C",
                                                c.s3.bucket, layout.s3_keys[i])});
    // The part size depends on the backup's size, unknown before it runs (core/part_plan).
    upload.actions.push_back({"S3", fmt::format("UploadPart x N from {} ({} connections, part size from the "
                                                "backup's size)", layout.local_files[i], c.upload.connections)});
    upload.actions.push_back({"S3", "ListParts (verify every part's CRC32C) + CompleteMultipartUpload + HeadObject"});
  }
  plan.push_back(upload);

  plan.push_back({steps::restore, "restore on RDS and follow the task",
                  {{"RDS", fmt::format("DescribeDBInstances DBInstanceIdentifier={}", c.target.rds_instance)},
                   {"target", tsql::rds_restore_database(c.target.database, layout.restore_arn)},
                   {"target", "exec msdb.dbo.rds_task_status @task_id = <task id>  (until SUCCESS)"}}});

  plan.push_back({steps::prepare_target, "turn off triggers and foreign keys on the target, recording which",
                  {{"target", "USE " + tsql::quote_name(c.target.database).value_or("") + "; " +
                                  tsql::list_enabled_triggers()},
                   {"target", tsql::list_enabled_foreign_keys()},
                   {"target", "ALTER TABLE [schema].[table] DISABLE TRIGGER [name]  (each enabled trigger)"},
                   {"target", "ALTER TABLE [schema].[table] NOCHECK CONSTRAINT [name]  (each enabled foreign key)"}}});

  ReplicationTaskRequest task{c.dms.task_id, in.source_endpoint_arn, in.target_endpoint_arn,
                              in.replication_instance_arn, in.table_mappings, in.start.value_or(Lsn{}), {}};
  if (c.dms.lob_max_size_kb > 0) task.lobs = decide_lob_mode({}, c.dms.lob_max_size_kb);
  auto body = create_replication_task_body(task);
  body["CdcStartPosition"] = lsn_text;
  // The LOB mode is chosen from the source's data when the step runs (core/lob_mode.hpp).
  const std::string lob_choice =
      c.dms.lob_max_size_kb > 0
          ? fmt::format("TargetMetadata: limited LOB mode at LobMaxSize {} KB, set by [dms] lob_max_size_kb (the "
                        "measurement still says when a value is already over it)",
                        c.dms.lob_max_size_kb)
          : fmt::format("TargetMetadata from the largest value: none or all NULL -> limited mode, LobMaxSize {} KB "
                        "(DMS's default, explicit); up to {} -> limited mode, LobMaxSize = x{} the largest value in "
                        "whole KB (at least {}); larger -> FullLobMode, LobChunkSize {} KB. The TargetMetadata below "
                        "is a placeholder for that choice; the measurement is journaled, and a task created again after it vanished reuses it",
                        k_dms_default_lob_max_size_kb, format_bytes(k_limited_mode_largest_bytes),
                        k_lob_headroom_factor, k_dms_default_lob_max_size_kb, k_dms_default_lob_chunk_size_kb);
  plan.push_back({steps::replicate, "measure the LOB columns, then create and start the DMS CDC task from the start point",
                  {{"source", lob_columns_query() + "  (the LOB columns of the tables the table mappings select)"},
                   {"source", "SET LOCK_TIMEOUT <[validate] lock_timeout_ms>; per table, bounded by [validate] "
                              "chunk_timeout_s: " +
                                  lob_measure_query({"<schema>", "<table>"}, {"<column1>", "<column2>"}).value_or("")},
                   {"local", lob_choice},
                   {"DMS", fmt::format("DescribeReplicationTasks Filters=[replication-task-id={}]  (reuse, never a "
                                       "second task)",
                                       c.dms.task_id)},
                   {"DMS", "CreateReplicationTask " + body.dump()},
                   {"DMS", "StartReplicationTask StartReplicationTaskType=start-replication"}}});

  plan.push_back({steps::cutover, "`mssql2rds cutover`, after the application stops writing",
                  {{"source", cutover_marker::write() + "  (a fresh token; the change stream must carry it)"},
                   {"target", cutover_marker::arrived() + "  (every 0.5 s until the marker arrived: drained)"},
                   {"DMS", "DescribeTableStatistics + CloudWatch CDCLatencySource/CDCLatencyTarget  (progress; the "
                           "drain itself when the marker's table is missing)"},
                   {"DMS", "StopReplicationTask"},
                   {"source+target", validation_plan_text()},
                   {"target", "ALTER TABLE ... ENABLE TRIGGER ...; ALTER TABLE ... WITH CHECK CHECK CONSTRAINT ..."},
                   {"target", "DBCC CHECKIDENT (N'<table>', RESEED)  (each table with an identity column)"}}});
  return plan;
}

}  // namespace m2r
