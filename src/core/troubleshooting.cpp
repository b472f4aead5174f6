#include "core/troubleshooting.hpp"
#include "core/ascii_case.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace m2r {

namespace {
bool contains(const std::string& haystack, std::string_view needle) { return icontains(haystack, needle); }
}  // namespace

std::optional<Diagnosis> diagnose_dms_failure(const std::string& m) {
  if (contains(m, "Invalid CdcStartPosition")) {
    return Diagnosis{"DMS refused the start position's format",
                     "DMS takes the zero-padded hex form 00000025:00000b8f:0004; convert with `mssql2rds lsn <value>`"};
  }
  if (contains(m, "Failed to access LSN") || contains(m, "BACKUP/LOG-s are not available")) {
    return Diagnosis{"the start LSN is no longer in the active log and no readable log backup holds it (the log was "
                     "truncated: a log backup ran, or the database was not held by a publication/MS-CDC)",
                     "keep the log: no log backups between the full backup and the task start, publication or MS-CDC "
                     "enabled before the backup; then `mssql2rds abort` and run again from a new backup"};
  }
  if (contains(m, "Bad Envelope") || contains(m, "invalid data context")) {
    return Diagnosis{"the start position is not a transaction boundary (not a LOP_BEGIN_XACT record)",
                     "start from a begin record: `mssql2rds run` chooses one from fn_dblog; never hand-edit the LSN"};
  }
  if (contains(m, "No FULL database backup found")) {
    return Diagnosis{"the source is in SIMPLE recovery or has no full backup under FULL recovery",
                     "ALTER DATABASE ... SET RECOVERY FULL, then take the full backup (`mssql2rds run` does)"};
  }
  if (contains(m, "Failed to build 'where' statement")) {
    return Diagnosis{"an UPDATE or DELETE reached a target table without a primary key",
                     "enable MS-CDC on that source table (sys.sp_cdc_enable_table) or add a primary key"};
  }
  if (contains(m, "IDENTITY_INSERT")) {
    return Diagnosis{"an insert with an explicit identity value was refused on the target",
                     "the target endpoint's user must be able to SET IDENTITY_INSERT (db_owner)"};
  }
  if (contains(m, "publication") || contains(m, "not enabled for replication") || contains(m, "MS-CDC")) {
    return Diagnosis{"neither a publication nor MS-CDC covers the tables",
                     "create the publication / enable MS-CDC before the backup (`mssql2rds check --fix`), then run "
                     "again from a new backup"};
  }
  return std::nullopt;
}

std::optional<Diagnosis> diagnose_rds_task(const std::string& m) {
  if (contains(m, "backup/restore option is not enabled")) {
    return Diagnosis{"the instance's option group lacks SQLSERVER_BACKUP_RESTORE (or it is still being applied)",
                     "add SQLSERVER_BACKUP_RESTORE with IAM_ROLE_ARN to the option group, wait until in-sync"};
  }
  if (contains(m, "Access Denied")) {
    return Diagnosis{"the IAM role of SQLSERVER_BACKUP_RESTORE cannot read the backup in S3",
                     "let the role s3:ListBucket and s3:GetBucketLocation on the bucket and s3:GetObject on the "
                     "objects (and kms:Decrypt when encrypted); the role must trust rds.amazonaws.com"};
  }
  if (contains(m, "same region")) {
    return Diagnosis{"the bucket is in another region than the instance", "use a bucket in the instance's region"};
  }
  if (contains(m, "bucket does not exist")) {
    return Diagnosis{"the bucket in the ARN does not exist", "check [s3] bucket"};
  }
  if (contains(m, "does not exist")) {
    return Diagnosis{"the backup object is not in S3 under that key", "let the upload finish (`mssql2rds run`)"};
  }
  if (contains(m, "already exists")) {
    return Diagnosis{"a database with the target name already exists on the instance",
                     "choose another [target] database or drop the leftover with msdb.dbo.rds_drop_database"};
  }
  if (contains(m, "incompatible with this server") || contains(m, "3169")) {
    return Diagnosis{"the backup comes from a newer SQL Server than the instance runs",
                     "upgrade the RDS engine to at least the source's major version"};
  }
  if (contains(m, "incorrectly formed") || contains(m, "Damage to the backup set") ||
      contains(m, "is terminating abnormally") || contains(m, "RESTORE detected an error")) {
    return Diagnosis{"the backup in S3 is damaged or is not a SQL Server backup (the media cannot be read)",
                     "upload it again with `mssql2rds run --redo-from upload` (the upload verifies every part "
                     "against the local file), or take a new backup with `mssql2rds run --redo-from backup`"};
  }
  if (contains(m, "more than 10 backup file")) {
    return Diagnosis{"more than 10 files match the ARN", "stripe the backup over at most 10 files"};
  }
  return std::nullopt;
}

}  // namespace m2r
