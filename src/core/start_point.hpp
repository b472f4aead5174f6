#pragma once
// Which LSN a DMS CDC task must start from so that, between the restored backup and the
// change stream, nothing is lost and nothing is duplicated (docs/facts.md §2). Pure logic:
// the caller reads msdb.dbo.backupset and fn_dblog; this decides and explains.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/lsn.hpp"

namespace m2r {

// msdb.dbo.backupset for the full backup just taken (docs/facts.md §2: last_lsn is exclusive).
struct BackupSetLsns {
  Lsn first_lsn;
  Lsn last_lsn;  // E: the backup holds every transaction committed before it
  Lsn checkpoint_lsn;
  Lsn database_backup_lsn;
  bool is_copy_only = false;
};

enum class LogOperation { begin_xact, commit_xact, abort_xact, other };

// One fn_dblog row, reduced to what the decision needs.
struct LogRecord {
  Lsn lsn;
  LogOperation operation = LogOperation::other;
  std::string transaction_id;    // "0000:000004d2"
  std::string transaction_name;  // filled on LOP_BEGIN_XACT only
  std::string table;             // AllocUnitName's table for data records ("dbo.Orders"), else empty
};

struct TransactionSpan {
  std::string transaction_id;
  std::string name;
  Lsn begin;
  std::optional<Lsn> end;  // commit or abort
  bool committed = false;
  std::set<std::string> tables;
};

struct StartPointDecision {
  Lsn start;                  // S: a LOP_BEGIN_XACT LSN
  std::string rule;           // which rule chose it, in one sentence
  std::vector<TransactionSpan> open_at_backup_end;  // begin < E, no end before E
  std::vector<TransactionSpan> replayed;            // begin >= S, committed before E: in the restore AND replayed
  std::set<std::string> replayed_tables_without_pk; // duplicates risk (warning)
  std::optional<Lsn> differential_base;             // 'Backup:CommitDifferentialBase' begin record
  std::vector<TransactionSpan> lost_by_common_recipe; // what starting at the differential base would lose
  std::vector<std::string> warnings;
};

// Decides S from the backup's LSNs and the log as fn_dblog shows it right after the
// backup. `tables_without_pk` are schema-qualified names ("dbo.AuditLog").
// Errors (ErrorKind::prerequisite) when the log cannot support a safe start:
// no record at or before E, or an open transaction whose begin is no longer in the log.
Expected<StartPointDecision> choose_start_point(const BackupSetLsns& backup, const std::vector<LogRecord>& log,
                                                const std::set<std::string>& tables_without_pk);

// The transactions in a log, by transaction id, in begin order.
std::vector<TransactionSpan> transactions_of(const std::vector<LogRecord>& log);

}  // namespace m2r
